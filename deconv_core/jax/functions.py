"""The JAX front end: validation at trace time, ``custom_vjp`` over host callbacks."""
import functools
from collections import namedtuple

import jax
import numpy as np

from .._validation import _num_threads, result_shape
from ._host import backward_host, forward_host

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv1d", "conv2d", "conv3d"]

# Everything about a call but its arrays: hashable, the custom_vjp's static argument.
Spec = namedtuple("Spec", "fname nd transposed kwargs out_shape x_shape w_shape dtype "
                          "has_bias num_threads")

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _frozen(v):
    """Lists (at any depth) as tuples, so that the arguments can be a static key."""
    if isinstance(v, (list, tuple)):
        return tuple(_frozen(i) for i in v)
    return v


def _spec(fname, nd, transposed, input, weight, bias, kwargs, num_threads):
    arrays = (("input", input), ("weight", weight), ("bias", bias))
    for name, a in arrays:
        if a is None:
            continue
        if not hasattr(a, "shape") or not hasattr(a, "dtype"):
            raise TypeError(f"{fname}: {name} must be a jax or NumPy array, got "
                            f"{type(a).__name__}")
        if np.dtype(a.dtype) not in _FLOATS:
            raise TypeError(f"{fname}: {name} has dtype {a.dtype}; deconv_core.jax computes "
                            f"in float32 or float64 (float64 needs jax_enable_x64)")
        if np.dtype(a.dtype) != np.dtype(input.dtype):
            raise TypeError(f"{fname}: {name} has dtype {a.dtype} but input has "
                            f"{input.dtype}; they must be the same")
    dtype = np.dtype(input.dtype)
    kwargs = {k: _frozen(v) for k, v in kwargs.items()}
    out_shape = result_shape(
        fname, nd, transposed, tuple(input.shape), tuple(weight.shape),
        None if bias is None else tuple(bias.shape), dtype, kwargs["stride"],
        kwargs["padding"], kwargs["dilation"], kwargs["groups"],
        kwargs.get("output_padding", 0), kwargs.get("output_size"))
    _num_threads(fname, num_threads, lambda: 1)
    if kwargs.get("output_size") is not None:
        # the output_padding it picks: what the gradient functions take
        base = result_shape(fname, nd, True, tuple(input.shape), tuple(weight.shape), None,
                            dtype, kwargs["stride"], kwargs["padding"], kwargs["dilation"],
                            kwargs["groups"], 0)
        kwargs["output_padding"] = tuple(o - b for o, b in zip(out_shape[-nd:], base[-nd:]))
    kwargs.pop("output_size", None)
    return Spec(fname, nd, transposed, tuple(sorted(kwargs.items())), tuple(out_shape),
                tuple(input.shape), tuple(weight.shape), dtype.str, bias is not None,
                num_threads)


def _struct(shape, spec):
    return jax.ShapeDtypeStruct(shape, np.dtype(spec.dtype))


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _conv(spec, x, w, b):
    return jax.pure_callback(functools.partial(forward_host, spec),
                             _struct(spec.out_shape, spec), x, w, b,
                             vmap_method="expand_dims")


def _conv_fwd(spec, x, w, b):
    return _conv(spec, x, w, b), (x, w)


def _conv_bwd(spec, residuals, grad_output):
    x, w = residuals
    structs = (_struct(spec.x_shape, spec), _struct(spec.w_shape, spec))
    if spec.has_bias:
        structs += (_struct((spec.out_shape[-spec.nd - 1],), spec),)
    grads = jax.pure_callback(functools.partial(backward_host, spec), structs, grad_output,
                              x, w, vmap_method="expand_dims")
    return (grads[0], grads[1], grads[2] if spec.has_bias else None)


_conv.defvjp(_conv_fwd, _conv_bwd)


def _doc(fname, nd, what, sizes, padding):
    n, k, out = sizes
    stride = 2 if fname.startswith("conv_transpose") else 3
    return f"""{nd}-D {what} of jax arrays (see :func:`deconv_core.{fname}` for the
arguments): jit-able, differentiable in input, weight and bias, vmap-able.

Examples
--------
>>> import jax.numpy as jnp
>>> from deconv_core.jax import {fname}
>>> {fname}(jnp.ones((1, 1) + ({n},) * {nd}), jnp.ones((1, 1) + ({k},) * {nd}),
...         stride={stride}, padding={padding}).shape
{(1, 1) + (out,) * nd}
"""


def _make_transposed(nd):
    fname = f"conv_transpose{nd}d"

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1, *, output_size=None, num_threads=None):
        kwargs = dict(stride=stride, padding=padding, output_padding=output_padding,
                      groups=groups, dilation=dilation, output_size=output_size)
        spec = _spec(fname, nd, True, input, weight, bias, kwargs, num_threads)
        return _conv(spec, input, weight, bias)

    conv_transpose.__name__ = conv_transpose.__qualname__ = fname
    conv_transpose.__doc__ = _doc(fname, nd, "transposed convolution", (3, 2, 4), 1)
    return conv_transpose


def _make_forward(nd):
    fname = f"conv{nd}d"

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
             num_threads=None):
        kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
        spec = _spec(fname, nd, False, input, weight, bias, kwargs, num_threads)
        return _conv(spec, input, weight, bias)

    conv.__name__ = conv.__qualname__ = fname
    conv.__doc__ = _doc(fname, nd, "convolution (cross-correlation)", (5, 3, 3), 2)
    return conv


conv_transpose1d, conv_transpose2d, conv_transpose3d = (_make_transposed(nd) for nd in (1, 2, 3))
conv1d, conv2d, conv3d = (_make_forward(nd) for nd in (1, 2, 3))
