"""deconv_core: fast transposed convolution ("deconvolution") for NumPy.

Cython + OpenMP kernels fuse the four textbook steps (insert zeros, pad,
crop, stride-1 convolution) without ever multiplying an inserted zero; a
vectorised NumPy backend takes over when the kernels are not compiled.
"""
from ._backend import backend
from ._config import show_config
from .api import (conv1d, conv1d_backward, conv2d, conv2d_backward, conv3d, conv3d_backward,
                  conv_transpose1d, conv_transpose1d_backward, conv_transpose2d,
                  conv_transpose2d_backward, conv_transpose3d, conv_transpose3d_backward)
from .lesson.steps import Steps, steps
from .sizes import conv_output_size, conv_transpose_output_size
from ._version import __version__

__all__ = [
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "conv1d", "conv2d", "conv3d",
    "conv_transpose1d_backward", "conv_transpose2d_backward", "conv_transpose3d_backward",
    "conv1d_backward", "conv2d_backward", "conv3d_backward",
    "conv_transpose_output_size", "conv_output_size",
    "steps", "Steps", "plot_steps", "backend", "show_config", "__version__",
]


def __getattr__(name):
    # matplotlib is an optional extra: import the plotting module only when asked.
    if name == "plot_steps":
        from .lesson.pictures import plot_steps
        return plot_steps
    raise AttributeError(f"module 'deconv_core' has no attribute {name!r}")
