"""deconv_core's convolutions on torch tensors, differentiable, as
``torch.nn.functional`` spells them.

A call whose tensors need no gradient, outside ``torch.compile`` and functorch
transforms, runs the NumPy API on the tensors' memory directly (``.numpy()`` shares
it; a non-contiguous tensor is copied once by deconv_core's own validation) and wraps
the result with ``torch.from_numpy``: no dispatcher in between. Every other call goes
through the registered operators (``torch.ops.deconv_core.conv_transpose2d``, ...,
see :mod:`deconv_core.torch._ops`), which autograd, ``torch.compile`` and
``torch.library.opcheck`` see. Both roads give the same bits.
"""
import torch

from .. import api
import numpy as np

from .._validation import _is_int, padding_pairs, per_dim, result_shape
from ._ops import OPS

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv1d", "conv2d", "conv3d"]

_FLOATS = (torch.float32, torch.float64)
_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def _plain(input, weight, bias):
    """True when the call can skip the dispatcher: plain CPU float tensors of one dtype,
    none of which would record a gradient, and nothing tracing."""
    dtype = input.dtype
    if (type(input) is not torch.Tensor or type(weight) is not torch.Tensor
            or dtype not in _FLOATS or weight.dtype is not dtype
            or input.device.type != "cpu" or weight.device.type != "cpu"):
        return False
    if bias is not None and (type(bias) is not torch.Tensor or bias.dtype is not dtype
                             or bias.device.type != "cpu"):
        return False
    if torch.is_grad_enabled() and (input.requires_grad or weight.requires_grad
                                    or (bias is not None and bias.requires_grad)):
        return False
    if _wrapped(input) or _wrapped(weight) or torch.compiler.is_compiling():
        return False
    return True


def _array(t):
    return (t.detach() if t.requires_grad else t).numpy()


def _check_tensors(fname, input, weight, bias):
    """TypeError for what deconv_core does not take: another device, another dtype."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{fname}: {name} must be a torch.Tensor, got {type(t).__name__}")
        if t.device.type != "cpu":
            raise TypeError(f"{fname}: {name} is on device '{t.device}'; deconv_core runs on "
                            f"the CPU only (torch.nn.functional.{fname} runs there)")
        if t.dtype not in _FLOATS:
            raise TypeError(f"{fname}: {name} has dtype {t.dtype}; deconv_core computes in "
                            f"torch.float32 or torch.float64")
        if t.dtype != input.dtype:
            raise TypeError(f"{fname}: {name} has dtype {t.dtype} but input has "
                            f"{input.dtype}; they must be the same (as in torch)")


def _check_arguments(fname, nd, transposed, input, weight, bias, stride, padding, dilation,
                     groups, output_padding=0):
    """Every argument checked as the NumPy API checks it, in the caller's own terms,
    before the operator sees their canonical form (under torch.compile the operator's
    fake kernel checks them, with the same messages but canonical values)."""
    if torch.compiler.is_compiling():
        return
    result_shape(fname, nd, transposed, tuple(input.shape), tuple(weight.shape),
                 None if bias is None else tuple(bias.shape),
                 np.float32 if input.dtype == torch.float32 else np.float64, stride, padding,
                 dilation, groups, output_padding)


def _groups(fname, groups):
    if not _is_int(groups):
        raise TypeError(f"{fname}: groups={groups!r} must be a positive int")
    return int(groups)


def _schema_padding(fname, padding, nd):
    """``padding`` as the operators take it: (mode, flattened pairs)."""
    if isinstance(padding, str):
        return padding.lower(), []
    return "", [p for pair in padding_pairs(fname, padding, nd) for p in pair]


def _make_transposed(nd):
    fname = f"conv_transpose{nd}d"
    numpy_fn = getattr(api, fname)
    op = OPS[fname]

    def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                       groups=1, dilation=1):
        if _plain(input, weight, bias):
            return torch.from_numpy(numpy_fn(
                _array(input), _array(weight), None if bias is None else _array(bias),
                stride, padding, output_padding, groups, dilation))
        _check_tensors(fname, input, weight, bias)
        _check_arguments(fname, nd, True, input, weight, bias, stride, padding, dilation,
                         groups, output_padding)
        mode, pads = _schema_padding(fname, padding, nd)
        return op(input, weight, bias, list(per_dim(fname, "stride", stride, nd, 1)), mode,
                  pads, list(per_dim(fname, "output_padding", output_padding, nd, 0)),
                  list(per_dim(fname, "dilation", dilation, nd, 1)), _groups(fname, groups))

    conv_transpose.__name__ = conv_transpose.__qualname__ = fname
    conv_transpose.__doc__ = f"""{nd}-D transposed convolution of torch tensors, differentiable.

The arguments of ``torch.nn.functional.{fname}`` and every padding form of
:func:`deconv_core.{fname}` (``'same'``, ``'valid'``, ``(before, after)`` pairs).
CPU tensors of torch.float32 or torch.float64 (one dtype); anything else is a
TypeError. Gradients flow to input, weight and bias.

Examples
--------
>>> import torch
>>> from deconv_core.torch import {fname}
>>> x = torch.ones((1, 1) + (3,) * {nd}, requires_grad=True)
>>> w = torch.ones((1, 1) + (2,) * {nd})
>>> y = {fname}(x, w, stride=2, padding=1)
>>> tuple(y.shape)
{(1, 1) + (4,) * nd}
>>> y.sum().backward(); tuple(x.grad.shape)
{(1, 1) + (3,) * nd}
"""
    return conv_transpose


def _make_forward(nd):
    fname = f"conv{nd}d"
    numpy_fn = getattr(api, fname)
    op = OPS[fname]

    def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
        if _plain(input, weight, bias):
            return torch.from_numpy(numpy_fn(
                _array(input), _array(weight), None if bias is None else _array(bias),
                stride, padding, dilation, groups))
        _check_tensors(fname, input, weight, bias)
        _check_arguments(fname, nd, False, input, weight, bias, stride, padding, dilation,
                         groups)
        mode, pads = _schema_padding(fname, padding, nd)
        return op(input, weight, bias, list(per_dim(fname, "stride", stride, nd, 1)), mode,
                  pads, [0] * nd, list(per_dim(fname, "dilation", dilation, nd, 1)),
                  _groups(fname, groups))

    conv.__name__ = conv.__qualname__ = fname
    conv.__doc__ = f"""{nd}-D convolution (cross-correlation) of torch tensors, differentiable.

The arguments of ``torch.nn.functional.{fname}``, every padding form of
:func:`deconv_core.{fname}` (``'same'`` at any stride, pairs). CPU tensors of
torch.float32 or torch.float64; anything else is a TypeError.

Examples
--------
>>> import torch
>>> from deconv_core.torch import {fname}
>>> x = torch.ones((1, 1) + (5,) * {nd})
>>> w = torch.ones((1, 1) + (3,) * {nd}, requires_grad=True)
>>> tuple({fname}(x, w, stride=3, padding=2).shape)
{(1, 1) + (3,) * nd}
"""
    return conv


conv_transpose1d, conv_transpose2d, conv_transpose3d = (_make_transposed(nd) for nd in (1, 2, 3))
conv1d, conv2d, conv3d = (_make_forward(nd) for nd in (1, 2, 3))
