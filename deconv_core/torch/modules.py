"""``torch.nn`` convolution modules whose forward runs deconv_core, and :func:`convert`.

Each class subclasses the ``torch.nn`` class of the same name: same constructor,
parameters, ``state_dict`` and ``repr`` (a torch checkpoint loads unchanged). Its
forward goes through :mod:`deconv_core.torch.functional` when deconv_core can take the
call (CPU, float32/float64 tensors of one dtype, ``padding_mode='zeros'``) and through
torch's own forward otherwise, so a converted model still runs everywhere it ran.
"""
import torch
from torch import nn

from . import functional as F

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "Conv1d", "Conv2d", "Conv3d", "convert"]

_FLOATS = (torch.float32, torch.float64)


def _takes(module, input):
    """deconv_core computes this call (else torch's forward does)."""
    if module.padding_mode != "zeros" or not isinstance(input, torch.Tensor):
        return False
    dtype = input.dtype
    for t in (input, module.weight, module.bias):
        if t is not None and (t.device.type != "cpu" or t.dtype not in _FLOATS
                              or t.dtype != dtype):
            return False
    return True


def _doc(base, nd, args, size):
    name = base.__name__
    return (f"``torch.nn.{name}`` computed by deconv_core (falls back to torch's forward "
            f"for other devices, dtypes and padding modes).\n\nExamples\n--------\n"
            f">>> from deconv_core.torch import {name}\n>>> m = {name}({args})\n"
            f">>> import torch; tuple(m(torch.ones((1, 4) + (8,) * {nd})).shape)\n"
            f"{(1, 2) + (size,) * nd}\n")


def _make_transposed(base, nd):
    fn = getattr(F, f"conv_transpose{nd}d")

    class ConvTranspose(base):
        def forward(self, input, output_size=None):
            if not _takes(self, input):
                return super().forward(input, output_size)
            output_padding = self._output_padding(
                input, output_size, self.stride, self.padding, self.kernel_size, nd,
                self.dilation)
            return fn(input, self.weight, self.bias, self.stride, self.padding,
                      output_padding, self.groups, self.dilation)

    ConvTranspose.__name__ = ConvTranspose.__qualname__ = base.__name__
    ConvTranspose.__module__ = __name__
    ConvTranspose.__doc__ = _doc(base, nd, "4, 2, 4, stride=2, padding=1", 16)
    return ConvTranspose


def _make_forward(base, nd):
    fn = getattr(F, f"conv{nd}d")

    class Conv(base):
        def forward(self, input):
            if not _takes(self, input):
                return super().forward(input)
            return fn(input, self.weight, self.bias, self.stride, self.padding,
                      self.dilation, self.groups)

    Conv.__name__ = Conv.__qualname__ = base.__name__
    Conv.__module__ = __name__
    Conv.__doc__ = _doc(base, nd, "4, 2, 3, padding=1", 8)
    return Conv


ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = (
    _make_transposed(base, nd) for nd, base in enumerate(
        (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d), 1))
Conv1d, Conv2d, Conv3d = (_make_forward(base, nd) for nd, base in enumerate(
    (nn.Conv1d, nn.Conv2d, nn.Conv3d), 1))

_CLASSES = {nn.ConvTranspose1d: ConvTranspose1d, nn.ConvTranspose2d: ConvTranspose2d,
            nn.ConvTranspose3d: ConvTranspose3d, nn.Conv1d: Conv1d, nn.Conv2d: Conv2d,
            nn.Conv3d: Conv3d}


def convert(module):
    """Make every ``torch.nn.ConvTranspose{1,2,3}d`` and ``Conv{1,2,3}d`` in a model's
    tree (``module`` included) compute with deconv_core, in place; returns ``module``.

    Each such module becomes an instance of the deconv_core class of the same name: the
    same object, with the same Parameter objects, buffers and hooks, so an optimizer
    built before the conversion still trains it. Subclasses of those torch classes are
    left alone (their forward may do more than a convolution).

    Examples
    --------
    >>> import torch
    >>> from deconv_core.torch import convert
    >>> model = torch.nn.Sequential(torch.nn.ConvTranspose2d(8, 4, 4, 2, 1), torch.nn.ReLU())
    >>> weight = model[0].weight
    >>> convert(model)[0].weight is weight, type(model[0]).__module__
    (True, 'deconv_core.torch.modules')
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"convert: module must be a torch.nn.Module, got "
                        f"{type(module).__name__}")
    for m in module.modules():
        cls = _CLASSES.get(type(m))
        if cls is not None:
            m.__class__ = cls
    return module
