"""deconv_core over Dask arrays: the ops on arrays larger than memory, on one machine or
a cluster (the optional extra ``deconv_core[dask]``).

``conv_transpose{1,2,3}d`` and ``conv{1,2,3}d`` take a dask array ``(N, C_in,
*spatial)`` with any chunks and NumPy weights, and return a lazy dask array equal to
the in-memory call on ``input.compute()``. Each output chunk is one kernel call on
its input chunk plus a one-sided halo; chunked input channels are summed over.
``python -m deconv_core apply`` streams a zarr array through an op into a new one.
"""
try:
    import dask.array as _da
except ImportError as exc:  # pragma: no cover - the extra is not installed
    raise ImportError("deconv_core.dask needs dask: pip install 'deconv_core[dask]' "
                      f"(dask[array], distributed and zarr, pinned) ({exc})") from exc

import math

import numpy as np

from .. import _backend
from .._validation import _geometry, _num_threads
from ._graph import build

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "conv1d", "conv2d", "conv3d"]

_SPATIAL = {1: "L", 2: "H, W", 3: "D, H, W"}

_DOC = """\
{nd}-D {what} of a dask array: lazy, equal to ``deconv_core.{name}`` on the computed input.

Parameters
----------
input : dask.array.Array
    ``(N, C_in, {sp})`` or unbatched ``(C_in, {sp})``, chunked along any dims (batch,
    channels, space), chunks of any size (smaller than the kernel's reach too).
weight, bias : array_like
    NumPy arrays as for ``deconv_core.{name}``: the weight ``{layout}``, the bias
    ``(C_out,)`` or None. They go into the graph once, as one key.
{args}num_threads : int, optional
    Kernel threads per task. None: the cores divided by the tasks the scheduler runs
    at once (1 per task under the threaded scheduler or a ``LocalCluster`` that uses
    every core; all of them under the ``sync`` scheduler), so the machine is never
    oversubscribed.

Returns
-------
dask.array.Array
    The result, not computed. {chunking} Channel chunks: output channels that
    several input-channel chunks feed are one chunk, a sum over those chunks (a tree of
    at most 4 parts per task); input chunks along group borders feed separate output
    chunks. Values: those of the in-memory call to rounding; the same bits when the
    input channels are one chunk and each block's call runs the kernel the whole call
    runs (not guaranteed: the planner picks kernels by shape).

Raises
------
TypeError, ValueError
    Before any graph is built, for an invalid argument (the message names it), for an
    ``input`` that is not a dask array or has unknown chunk sizes.

Examples
--------
>>> import numpy as np, dask.array as da
>>> import deconv_core, deconv_core.dask
>>> x = da.random.default_rng(0).random({ex_shape}, chunks={ex_chunks}).astype(np.float32)
>>> w = np.ones({ex_w}, dtype=np.float32)
>>> y = deconv_core.dask.{name}(x, w, {ex_args})
>>> y.chunks
{ex_out}
>>> np.allclose(y.compute(), deconv_core.{name}(x.compute(), w, {ex_args}), atol=1e-5)
True
"""

_ARGS = {
    True: """\
stride, padding, output_padding, groups, dilation, output_size
    As for ``deconv_core.{name}``: every padding form (ints, ``(before, after)``
    pairs, ``'valid'``, ``'same'``), ``output_size`` picking ``output_padding``.
""",
    False: """\
stride, padding, dilation, groups
    As for ``deconv_core.{name}``: every padding form (ints, ``(before, after)``
    pairs, ``'valid'``, ``'same'``).
""",
}

_CHUNKING = {
    True: "Output chunks follow the input chunks times the stride: input chunk "
          "``[i0, i1)`` gives outputs ``[i0*s - pad_before, i1*s - pad_before)``, clipped "
          "to the result (the first and last absorb the borders).",
    False: "Output chunks follow the input chunks aligned to the stride: output ``o`` "
           "is in the chunk of its first tap ``o*s - pad_before`` (so a transposed op's "
           "output chunks give back its input chunks here).",
}

# the example per (transposed, nd): input shape, chunks, weight, arguments, output chunks
_EXAMPLES = {
    (True, 1): ((1, 2, 64), 16, (2, 3, 4), "stride=2, padding=1",
                "((1,), (3,), (31, 32, 32, 33))"),
    (True, 2): ((1, 2, 32, 32), (1, 2, 16, 16), (2, 3, 4, 4), "stride=2, padding=1",
                "((1,), (3,), (31, 33), (31, 33))"),
    (True, 3): ((1, 2, 8, 8, 8), (1, 2, 4, 8, 8), (2, 3, 2, 2, 2), "stride=2",
                "((1,), (3,), (8, 8), (16,), (16,))"),
    (False, 1): ((1, 2, 64), 16, (3, 2, 3), "stride=2, padding='same'",
                 "((1,), (3,), (8, 8, 8, 8))"),
    (False, 2): ((1, 2, 32, 32), (1, 2, 16, 16), (3, 2, 3, 3), "padding=1",
                 "((1,), (3,), (17, 15), (17, 15))"),
    (False, 3): ((1, 2, 8, 8, 8), (1, 2, 4, 8, 8), (3, 2, 3, 3, 3), "padding='same'",
                 "((1,), (3,), (5, 3), (8,), (8,))"),
}


def _doc(nd, transposed):
    name = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    shape, chunks, w, args, out = _EXAMPLES[(transposed, nd)]
    return _DOC.format(
        nd=nd, name=name, sp=_SPATIAL[nd],
        what="transposed convolution" if transposed else "convolution",
        layout="(C_in, C_out // groups, *k)" if transposed else "(C_out, C_in // groups, *k)",
        args=_ARGS[transposed].format(name=name), chunking=_CHUNKING[transposed],
        ex_shape=shape, ex_chunks=chunks, ex_w=w, ex_args=args, ex_out=out)


def _dask_input(fname, input):
    if not isinstance(input, _da.Array):
        raise TypeError(f"{fname}: input must be a dask.array.Array, got "
                        f"{type(input).__module__}.{type(input).__name__}; wrap an in-memory "
                        f"array with dask.array.from_array(x, chunks=...) or call "
                        f"deconv_core.{fname}")
    if any(math.isnan(c) for dim in input.chunks for c in dim):
        raise ValueError(f"{fname}: input has unknown chunk sizes {input.chunks}; call "
                         f"input.compute_chunk_sizes() first")
    return input


def _op(fname, nd, transposed, input, weight, bias, stride, padding, dilation, groups,
        output_padding, output_size, num_threads, regular=False):
    """The lazy result and its canonical geometry. ``regular``: output chunks on a
    regular grid (each input chunk's size times, or over, the stride, from 0) instead
    of following the input chunks, for zarr's chunk grid."""
    x = _dask_input(fname, input)
    if num_threads is not None:
        num_threads = _num_threads(fname, num_threads, None)
    # validated as the in-memory call would be, on a stand-in of the input's shape and
    # dtype (zero strides: nothing allocated, nothing computed)
    stand_in = np.broadcast_to(np.zeros((), x.dtype), x.shape)
    _, w, b, geometry = _geometry(fname, nd, transposed, stand_in, weight, bias, stride,
                                  padding, dilation, groups, output_padding, output_size)
    unbatched = geometry[-1]
    xb = x[None] if unbatched else x
    out_bounds = None
    if regular:
        out_bounds = []
        for c, s, size in zip(xb.chunks[2:], geometry[1], geometry[5][2:]):
            step = max(1, c[0] * s if transposed else -(-c[0] // s))
            out_bounds.append(list(range(0, size, step)) + [size] if size else [0, 0])
    y = build(fname, xb, w, b, transposed, geometry, num_threads, _backend.backend(),
              out_bounds)
    return (y[0] if unbatched else y), geometry


def _make(nd, transposed):
    fname = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    if transposed:
        def op(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
               dilation=1, *, output_size=None, num_threads=None):
            return _op(fname, nd, True, input, weight, bias, stride, padding, dilation,
                       groups, output_padding, output_size, num_threads)[0]
    else:
        def op(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
               num_threads=None):
            return _op(fname, nd, False, input, weight, bias, stride, padding, dilation,
                       groups, 0, None, num_threads)[0]
    op.__name__ = op.__qualname__ = fname
    op.__doc__ = _doc(nd, transposed)
    op.__module__ = __name__
    return op


conv_transpose1d, conv_transpose2d, conv_transpose3d = (_make(nd, True) for nd in (1, 2, 3))
conv1d, conv2d, conv3d = (_make(nd, False) for nd in (1, 2, 3))
