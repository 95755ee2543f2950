"""The torch.library operators of deconv_core: ``torch.ops.deconv_core.<name>``.

Per dimensionality and op, three operators: the forward (``conv_transpose2d``,
``conv2d``, ...) and its two gradients (``conv_transpose2d_input_grad``,
``conv_transpose2d_weight_grad``); the bias gradient is a sum, left to torch. Each
has a fake kernel (shapes from deconv_core's own validation, so ``torch.compile`` and
``opcheck`` see the real output) and the forward has its autograd formula built from
the gradient operators, so that a compiled backward traces them too.

Every operator takes the arguments in one canonical form, the same for both ops:
``(stride, padding_mode, padding, output_padding, dilation, groups)``, lists of ints
per spatial dim, padding as ``padding_mode`` (``""``, ``"same"`` or ``"valid"``) plus
``padding``, the flattened ``(before, after)`` pairs when ``padding_mode`` is ``""``;
``output_padding`` is zeros for the forward convolution.
"""
from typing import List, Optional

import numpy as np
import torch
from torch import Tensor

from .. import api
from .._validation import result_shape

__all__ = ["OPS"]


def _array(t):
    """The tensor's memory as an array (no copy; torch refuses .numpy() on a tensor that
    requires grad, even where no graph is recorded)."""
    return (t.detach() if t.requires_grad else t).numpy()


def _ints(v):
    # a fake tensor's sizes may be symbolic: the kernels need them concrete
    return tuple(int(n) for n in v)


class _Family:
    """One op in one dimensionality: its NumPy functions and canonical arguments."""

    def __init__(self, nd, transposed):
        self.nd, self.transposed = nd, transposed
        self.name = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
        self.forward = getattr(api, self.name)
        self.backward = getattr(api, self.name + "_backward")

    def kwargs(self, stride, padding_mode, padding, output_padding, dilation, groups):
        """The NumPy API's keyword arguments."""
        kw = dict(stride=stride, dilation=dilation, groups=groups,
                  padding=padding_mode or tuple((padding[2 * j], padding[2 * j + 1])
                                                for j in range(len(padding) // 2)))
        if self.transposed:
            kw["output_padding"] = output_padding
        elif any(output_padding):
            raise ValueError(f"{self.name}: output_padding={output_padding!r} must be zeros "
                             f"for a forward convolution")
        return kw

    def out_shape(self, input, weight, bias, *args):
        kw = self.kwargs(*args)
        return result_shape(self.name, self.nd, self.transposed, _ints(input.shape),
                            _ints(weight.shape), None if bias is None else _ints(bias.shape),
                            np.dtype(str(input.dtype).replace("torch.", "")), kw["stride"],
                            kw["padding"], kw["dilation"], kw["groups"],
                            kw.get("output_padding", 0))


def _define(family):
    """The forward operator and its two gradient operators, with fakes and autograd."""
    @torch.library.custom_op(f"deconv_core::{family.name}", mutates_args=())
    def op(input: Tensor, weight: Tensor, bias: Optional[Tensor], stride: List[int],
           padding_mode: str, padding: List[int], output_padding: List[int],
           dilation: List[int], groups: int) -> Tensor:
        return torch.from_numpy(family.forward(
            _array(input), _array(weight), None if bias is None else _array(bias),
            **family.kwargs(stride, padding_mode, padding, output_padding, dilation, groups)))

    @op.register_fake
    def _(input, weight, bias, *args):
        return input.new_empty(family.out_shape(input, weight, bias, *args))

    grads = [_define_grad(family, which) for which in ("input", "weight")]

    def setup_context(ctx, inputs, output):
        input, weight, bias, *args = inputs
        ctx.save_for_backward(input, weight)
        ctx.args = args
        ctx.has_bias = bias is not None

    def backward(ctx, grad):
        input, weight = ctx.saved_tensors
        gi, gw = (g(grad, input, weight, *ctx.args) if ctx.needs_input_grad[i] else None
                  for i, g in enumerate(grads))
        gb = None
        if ctx.has_bias and ctx.needs_input_grad[2]:
            first = 1 if grad.dim() == weight.dim() else 0     # batched: sum over N too
            gb = grad.sum(dim=[0] * first + list(range(1 + first, grad.dim())))
        return (gi, gw, gb) + (None,) * len(ctx.args)

    op.register_autograd(backward, setup_context=setup_context)
    return op


def _define_grad(family, which):
    index = ("input", "weight").index(which)

    @torch.library.custom_op(f"deconv_core::{family.name}_{which}_grad", mutates_args=())
    def grad_op(grad_output: Tensor, input: Tensor, weight: Tensor, stride: List[int],
                padding_mode: str, padding: List[int], output_padding: List[int],
                dilation: List[int], groups: int) -> Tensor:
        grads = family.backward(
            _array(grad_output), _array(input), _array(weight),
            **family.kwargs(stride, padding_mode, padding, output_padding, dilation, groups),
            output_mask=(index == 0, index == 1, False))
        return torch.from_numpy(grads[index])

    @grad_op.register_fake
    def _(grad_output, input, weight, *args):
        like = (input, weight)[index]
        return like.new_empty(like.shape)

    return grad_op


OPS = {f.name: _define(f) for f in (_Family(nd, t) for t in (True, False) for nd in (1, 2, 3))}
