"""The host side of the JAX front end: what ``jax.pure_callback`` runs.

The arguments were checked at trace time; these functions only call the NumPy API.
Under ``jax.vmap`` (``vmap_method="expand_dims"``) every operand comes with the same
number of leading mapped axes (of size 1 where it is not mapped); the B calls of the
mapped axes become one call with B times the groups: the images keep their axis, the
mapped index joins the channel axis in front of the group index.
"""
import math

import numpy as np

from .. import api

__all__ = ["forward_host", "backward_host"]


def _mapped(pairs):
    """(array, nominal shape) pairs -> the mapped axes' shape and each array broadcast
    over them and flattened to (B, *nominal) (None stays None)."""
    lead = np.broadcast_shapes(*[a.shape[:a.ndim - len(n)] for a, n in pairs
                                 if a is not None])
    size = math.prod(lead)
    return lead, [None if a is None else
                  np.broadcast_to(a, lead + tuple(n)).reshape((size,) + tuple(n))
                  for a, n in pairs]


def _to_groups(a, batched):
    """(B, N, C, *sp) (or (B, C, *sp) unbatched) -> (N, B*C, *sp)."""
    if not batched:
        a = a[:, None]
    b, n, c = a.shape[:3]
    return np.ascontiguousarray(np.swapaxes(a, 0, 1)).reshape((n, b * c) + a.shape[3:])


def _from_groups(a, size, batched):
    """(N, B*C, *sp) -> (B, N, C, *sp) (or (B, C, *sp) unbatched)."""
    n = a.shape[0]
    a = np.swapaxes(a.reshape((n, size, a.shape[1] // size) + a.shape[2:]), 0, 1)
    return np.ascontiguousarray(a if batched else a[:, 0])


def _is_mapped(spec, *pairs):
    return any(a is not None and a.ndim > len(n) for a, n in pairs)


def forward_host(spec, x, w, b):
    fn = getattr(api, spec.fname)
    kw = dict(spec.kwargs)
    c_out = spec.out_shape[-spec.nd - 1]
    pairs = [(np.asarray(x), spec.x_shape), (np.asarray(w), spec.w_shape),
             (None if b is None else np.asarray(b), (c_out,))]
    if not _is_mapped(spec, *pairs):
        return fn(*(a for a, _ in pairs), **kw, num_threads=spec.num_threads)
    lead, (xs, ws, bs) = _mapped(pairs)
    size = math.prod(lead)
    batched = len(spec.x_shape) == spec.nd + 2
    kw["groups"] *= size
    y = fn(_to_groups(xs, batched), ws.reshape((-1,) + ws.shape[2:]),
           None if bs is None else bs.reshape(-1), **kw, num_threads=spec.num_threads)
    return _from_groups(y, size, batched).reshape(lead + spec.out_shape)


def backward_host(spec, grad_output, x, w):
    fn = getattr(api, spec.fname + "_backward")
    kw = dict(spec.kwargs)
    mask = (True, True, spec.has_bias)
    pairs = [(np.asarray(grad_output), spec.out_shape), (np.asarray(x), spec.x_shape),
             (np.asarray(w), spec.w_shape)]
    if not _is_mapped(spec, *pairs):
        gi, gw, gb = fn(*(a for a, _ in pairs), **kw, output_mask=mask,
                        num_threads=spec.num_threads)
        return (gi, gw, gb) if spec.has_bias else (gi, gw)
    lead, (gys, xs, ws) = _mapped(pairs)
    size = math.prod(lead)
    batched = len(spec.x_shape) == spec.nd + 2
    kw["groups"] *= size
    gi, gw, gb = fn(_to_groups(gys, batched), _to_groups(xs, batched),
                    ws.reshape((-1,) + ws.shape[2:]), **kw, output_mask=mask,
                    num_threads=spec.num_threads)
    grads = (_from_groups(gi, size, batched).reshape(lead + spec.x_shape),
             gw.reshape(lead + spec.w_shape))
    return grads + ((gb.reshape(lead + (-1,)),) if spec.has_bias else ())
