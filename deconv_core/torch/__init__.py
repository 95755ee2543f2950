"""deconv_core inside PyTorch models (the ``torch`` extra): differentiable functions
registered as ``torch.ops.deconv_core.*`` operators, ``torch.nn`` module subclasses
and :func:`convert`.

Importing this module imports torch; ``import deconv_core`` does not.

Examples
--------
>>> import torch
>>> import deconv_core.torch as dct
>>> x = torch.randn(2, 8, 16, 16, requires_grad=True)
>>> layer = dct.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
>>> layer(x).sum().backward()
>>> tuple(x.grad.shape), tuple(layer.weight.grad.shape)
((2, 8, 16, 16), (8, 4, 4, 4))
"""
from .functional import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                         conv_transpose3d)
from .modules import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                      ConvTranspose3d, convert)

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv1d", "conv2d", "conv3d",
           "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "Conv1d", "Conv2d", "Conv3d", "convert"]
