"""The public convolution functions and their gradients: validate once, dispatch to the
active backend."""
import numpy as np

from . import _backend
from ._call_cache import cached_runner
from ._validation import prepare, prepare_backward

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv1d", "conv2d", "conv3d",
           "conv_transpose1d_backward", "conv_transpose2d_backward",
           "conv_transpose3d_backward", "conv1d_backward", "conv2d_backward",
           "conv3d_backward"]

_SHAPES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

_COMMON_PARAMS = """\
stride : int or tuple of {nd} ints, default 1
padding : int, tuple of {nd} ints, tuple of {nd} (before, after) pairs, 'valid' or 'same'
    Implicit zero padding{padnote}. Pairs give asymmetric padding (ONNX ``pads``);
    ``'same'`` puts an odd extra pixel at the end (ONNX ``SAME_UPPER``, TensorFlow).{samenote}
dilation : int or tuple of {nd} ints, default 1
    Spacing between kernel taps.
groups : int, default 1
    Split channels into this many independent groups (``groups == C_in`` is depthwise).
out : ndarray, optional
    C-contiguous array of the result's shape and dtype, written and returned.
num_threads : int, optional
    Threads for this call. None: the OpenMP default (``OMP_NUM_THREADS``,
    threadpoolctl limits).
"""

_SAME_TRANSPOSED = """
    ``'same'`` gives ``output = input*stride`` with a total padding of
    ``dilation*(k - 1) + 1 + output_padding - stride`` per dim; ``output_padding``
    is appended after the padding in every form, ``'valid'`` included (as ONNX).
    A negative total leaves the missing pixels at the end, as TensorFlow does."""
_SAME_FORWARD = """
    ``'same'`` gives ``output = ceil(input / stride)``."""

_TRANSPOSED_DOC = """\
{nd}-D transposed convolution ("deconvolution"), the adjoint of :func:`conv{nd}d`.

Computed as the lesson describes, with the four steps fused: (1) insert
``stride - 1`` zeros between pixels, (2) surround with ``dilation*(k - 1)``
zeros, (3) remove ``padding`` from the borders (and add ``output_padding`` at
the end), (4) a stride-1 convolution with the kernel rotated by 180 degrees.
Matches ``torch.nn.functional.conv_transpose{nd}d`` and ONNX ``ConvTranspose``.

Parameters
----------
input : array_like
    ``(N, C_in, {sp})`` or unbatched ``(C_in, {sp})``.
weight : array_like
    ``(C_in, C_out // groups, {ks})`` (PyTorch / ONNX layout).
bias : array_like, optional
    ``(C_out,)``.
{common}output_padding : int or tuple of {nd} ints, default 0
    Extra size added at the end of each spatial dim; must be smaller than
    ``stride`` or ``dilation``.
output_size : tuple of ints, optional
    Wanted spatial output size (or a full shape whose last {nd} dims are
    spatial); picks ``output_padding``.

Returns
-------
ndarray
    ``(N, C_out, {sp_out})``, float32 or float64 (NumPy promotion of the
    inputs: float16 computes in float32, integers in float64), where
    ``out = (in - 1)*stride - pad_before - pad_after + dilation*(k - 1) + output_padding + 1``.

{tail}"""

_FORWARD_DOC = """\
{nd}-D convolution (cross-correlation, as ``torch.nn.functional.conv{nd}d``).

Parameters
----------
input : array_like
    ``(N, C_in, {sp})`` or unbatched ``(C_in, {sp})``.
weight : array_like
    ``(C_out, C_in // groups, {ks})``.
bias : array_like, optional
    ``(C_out,)``.
{common}
Returns
-------
ndarray
    ``(N, C_out, {sp_out})`` with
    ``out = floor((in + pad_before + pad_after - dilation*(k - 1) - 1) / stride) + 1``.

{tail}"""

_EXAMPLE_HEAD = """\
Examples
--------
>>> import numpy as np
>>> from deconv_core import {name}
>>> x = np.ones({ex_in}, dtype=np.float32)
>>> w = np.ones({ex_w}, dtype=np.float32)
"""

_TAIL = """\
Raises
------
ValueError, TypeError
    For an invalid argument, before any work; the message names it.

""" + _EXAMPLE_HEAD + """\
>>> {name}(x, w, {ex_args}).shape
{ex_out}
"""

# Example shapes: the lesson's 3x3 input with a 2x2 kernel (transposed) and its
# 5x5 input, 3x3 kernel, stride 3, padding 2 (forward), per dimensionality.
_EXAMPLES = {
    (True, 1): ((1, 1, 3), (1, 1, 2), (1, 1, 4)),
    (True, 2): ((1, 1, 3, 3), (1, 1, 2, 2), (1, 1, 4, 4)),
    (True, 3): ((1, 1, 3, 3, 3), (1, 1, 2, 2, 2), (1, 1, 4, 4, 4)),
    (False, 1): ((1, 1, 5), (1, 1, 3), (1, 1, 3)),
    (False, 2): ((1, 1, 5, 5), (1, 1, 3, 3), (1, 1, 3, 3)),
    (False, 3): ((1, 1, 5, 5, 5), (1, 1, 3, 3, 3), (1, 1, 3, 3, 3)),
}


def _doc(transposed, nd):
    sp = ", ".join(_SHAPES[nd])
    ex_in, ex_w, ex_out = _EXAMPLES[(transposed, nd)]
    fields = dict(
        nd=nd, sp=sp, sp_out=", ".join(s + "_out" for s in _SHAPES[nd]),
        ks=", ".join("k" + s for s in _SHAPES[nd]),
        ex_in=ex_in, ex_w=ex_w, ex_out=ex_out)
    common = _COMMON_PARAMS.format(
        nd=nd, padnote=" removed from the output (as in PyTorch)" if transposed else "",
        samenote=_SAME_TRANSPOSED if transposed else _SAME_FORWARD)
    tail = _TAIL.format(name=f"conv_transpose{nd}d" if transposed else f"conv{nd}d",
                        ex_args="stride=2, padding=1" if transposed else "stride=3, padding=2",
                        **fields)
    return (_TRANSPOSED_DOC if transposed else _FORWARD_DOC).format(common=common, tail=tail,
                                                                    **fields)


def _call(fname, nd, transposed, input, weight, bias, stride, padding, dilation, groups,
          output_padding, output_size, out, num_threads):
    """One call of either op: the backend's cached runner when the call repeats an
    earlier valid one, else validation, then the backend's kernel."""
    impl = _backend.active()
    if out is None and output_size is None:
        run = cached_runner(fname, impl, input, weight, bias, stride, padding, dilation, groups,
                            output_padding)
        if run is not None:
            result = run(input, weight, bias, num_threads)
            if result is not None:
                return result
    c = prepare(fname, nd, transposed, input, weight, bias, stride, padding, dilation, groups,
                output_padding, output_size, out, num_threads, impl.max_threads)
    kernel = impl.conv_transpose if transposed else impl.conv
    kernel(c.x, c.w, c.bias, c.out, c.stride, c.pads, c.dilation, c.groups, c.num_threads)
    return c.result


def _make_transposed(nd):
    fname = f"conv_transpose{nd}d"

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1, *, output_size=None, out=None, num_threads=None):
        return _call(fname, nd, True, input, weight, bias, stride, padding, dilation, groups,
                     output_padding, output_size, out, num_threads)

    conv_transpose.__name__ = conv_transpose.__qualname__ = fname
    conv_transpose.__doc__ = _doc(True, nd)
    return conv_transpose


def _make_forward(nd):
    fname = f"conv{nd}d"

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
             out=None, num_threads=None):
        return _call(fname, nd, False, input, weight, bias, stride, padding, dilation, groups,
                     0, None, out, num_threads)

    conv.__name__ = conv.__qualname__ = fname
    conv.__doc__ = _doc(False, nd)
    return conv


_BACKWARD_DOC = """\
Gradients of :func:`{forward}` (as ``torch.ops.aten.convolution_backward``).

Parameters
----------
grad_output : array_like
    The gradient of the loss with respect to the forward's output: its shape,
    batched or unbatched like ``input``.
input, weight : array_like
    The forward's input and weight.
{args}output_mask : sequence of 3 bools, default (True, True, True)
    Which of ``(grad_input, grad_weight, grad_bias)`` to compute; the work of the
    others is skipped and they are returned as None.
num_threads : int, optional
    Threads for this call. None: the OpenMP default.

Returns
-------
grad_input : ndarray or None
    The shape of ``input``. {gi}
grad_weight : ndarray or None
    The shape of ``weight``: ``grad_weight[{gw_index}] = sum over images and positions
    of {gw_sum}`` (zero where a tap misses the input).
grad_bias : ndarray or None
    ``(C_out,)``: ``grad_output`` summed over images and positions.

All three in the forward's compute dtype (``grad_output`` is converted to it).

Raises
------
ValueError, TypeError
    For an invalid argument (a ``grad_output`` of the wrong shape names both shapes),
    before any work.

""" + _EXAMPLE_HEAD + """\
>>> gy = np.ones({ex_out}, dtype=np.float32)
>>> gi, gw, gb = {name}(gy, x, w, {ex_args})
>>> gi.shape, gw.shape, gb.shape
({ex_in}, {ex_w}, ({ex_cout},))
"""

_BACKWARD_ARGS = {
    True: """\
stride, padding, output_padding, groups, dilation
    The forward's, in every form it accepts (``'same'``, ``(before, after)`` pairs, ...).
""",
    False: """\
stride, padding, dilation, groups
    The forward's, in every form it accepts (``'same'``, ``(before, after)`` pairs, ...).
""",
}


def _backward_doc(transposed, nd):
    ex_in, ex_w, ex_out = _EXAMPLES[(transposed, nd)]
    name = f"conv_transpose{nd}d_backward" if transposed else f"conv{nd}d_backward"
    return _BACKWARD_DOC.format(
        forward=name[:-len("_backward")], name=name, args=_BACKWARD_ARGS[transposed],
        gi=("The forward convolution of ``grad_output`` with the same weight, stride, "
            "padding, dilation and groups (cropped to the input's size)." if transposed else
            "The transposed convolution of ``grad_output`` with the same weight and "
            "arguments, of the input's size."),
        gw_index="c_in, c_out, t" if transposed else "c_out, c_in, t",
        gw_sum=("input[c_in, i] * grad_output[c_out, i*stride - pad + t*dilation]"
                if transposed else
                "grad_output[c_out, o] * input[c_in, o*stride - pad + t*dilation]"),
        ex_in=ex_in, ex_w=ex_w, ex_out=ex_out, ex_cout=ex_w[1] if transposed else ex_w[0],
        ex_args="stride=2, padding=1" if transposed else "stride=3, padding=2")


def _backward(fname, nd, transposed, grad_output, input, weight, stride, padding, dilation,
              groups, output_padding, output_mask, num_threads):
    impl = _backend.active()
    c = prepare_backward(fname, nd, transposed, grad_output, input, weight, stride, padding,
                         dilation, groups, output_padding, output_mask, num_threads,
                         impl.max_threads)
    gy, x, w, nt = c.grad_output, c.x, c.w, c.num_threads
    if c.grad_input is not None:   # the adjoint op of the forward, on grad_output
        adjoint = impl.conv if transposed else impl.conv_transpose
        adjoint(gy, w, None, c.grad_input, c.stride, c.input_pads, c.dilation, c.groups, nt)
    if c.grad_weight is not None:  # sum of u[c1, p] * v[c2, p*stride - pad + t*dilation]
        u, v = (x, gy) if transposed else (gy, x)
        impl.weight_grad(u, v, c.grad_weight, c.stride, c.pads, c.dilation, c.groups, nt)
    if c.grad_bias is not None:
        impl.bias_grad(gy, c.grad_bias, nt)
    return c.results


def _make_backward(nd, transposed):
    fname = f"conv_transpose{nd}d_backward" if transposed else f"conv{nd}d_backward"
    if transposed:
        def backward(grad_output, input, weight, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1, *, output_mask=(True, True, True),
                     num_threads=None):
            return _backward(fname, nd, True, grad_output, input, weight, stride, padding,
                             dilation, groups, output_padding, output_mask, num_threads)
    else:
        def backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1, *,
                     output_mask=(True, True, True), num_threads=None):
            return _backward(fname, nd, False, grad_output, input, weight, stride, padding,
                             dilation, groups, 0, output_mask, num_threads)
    backward.__name__ = backward.__qualname__ = fname
    backward.__doc__ = _backward_doc(transposed, nd)
    backward.__module__ = "deconv_core"
    return backward


conv_transpose1d = _make_transposed(1)
conv_transpose2d = _make_transposed(2)
conv_transpose3d = _make_transposed(3)
conv1d = _make_forward(1)
conv2d = _make_forward(2)
conv3d = _make_forward(3)
conv_transpose1d_backward = _make_backward(1, True)
conv_transpose2d_backward = _make_backward(2, True)
conv_transpose3d_backward = _make_backward(3, True)
conv1d_backward = _make_backward(1, False)
conv2d_backward = _make_backward(2, False)
conv3d_backward = _make_backward(3, False)
for _f in (conv_transpose1d, conv_transpose2d, conv_transpose3d, conv1d, conv2d, conv3d):
    _f.__module__ = "deconv_core"
