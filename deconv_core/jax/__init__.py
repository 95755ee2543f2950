"""deconv_core inside JAX (the ``jax`` extra): the convolutions on jax arrays, under
``jax.jit``, ``jax.grad`` / ``jax.vjp`` and ``jax.vmap``.

Importing this module imports jax; ``import deconv_core`` does not.

Each function has the NumPy API's signature (no ``out=``). Its arguments are checked
when it is traced, from the arrays' shapes and dtypes, by the same code as the NumPy
API (an exception inside a host callback would be undefined behaviour); then the
kernels run on the host through ``jax.pure_callback``, the gradients through
``jax.custom_vjp`` (both gradients of a call in one callback). Under ``jax.vmap`` the
mapped axis folds into the channel groups, so a batch of calls is one kernel call.
float64 needs ``jax.config.update("jax_enable_x64", True)``.

Examples
--------
>>> import jax, jax.numpy as jnp
>>> import deconv_core.jax as dcj
>>> x = jnp.ones((1, 2, 8, 8)); w = jnp.ones((2, 3, 4, 4))
>>> loss = lambda x, w: dcj.conv_transpose2d(x, w, stride=2, padding=1).sum()
>>> gx, gw = jax.jit(jax.grad(loss, argnums=(0, 1)))(x, w)
>>> gx.shape, gw.shape
((1, 2, 8, 8), (2, 3, 4, 4))
"""
from .functions import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,
                        conv_transpose3d)

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv1d", "conv2d", "conv3d"]
