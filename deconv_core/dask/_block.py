"""What the tasks run: assemble an input slice from its pieces, one kernel call per
channel piece, sums over channel chunks, the bias.

The arguments were validated when the graph was built; these functions trust them
and call the backend's kernel directly with canonical arguments (a chunk's local
``pad_after`` may be more negative than any public padding form can say).
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from .. import _backend
from .._validation import _compute_array
from ._threads import task_threads

__all__ = ["Weights", "Spec", "Job", "run_block", "add_parts", "finish", "bias_block"]


@dataclass(frozen=True)
class Weights:
    """The weight and bias in the compute dtype: the value of the graph's one weight key."""
    w: np.ndarray
    b: Optional[np.ndarray]


@dataclass(frozen=True)
class Spec:
    """What every task of one graph shares."""
    transposed: bool
    backend: str
    dtype: str
    stride: Tuple[int, ...]
    dilation: Tuple[int, ...]
    num_threads: Optional[int]


@dataclass(frozen=True)
class Job:
    """One kernel task: the assembled input's shape and where each piece goes in it,
    the local pads, the channel pieces (``_channels.Piece``), the output's shape, and
    ``bias_lo`` (the bias index of output channel 0) when this task's result is final,
    else ``offset`` (where it adds into its segment)."""
    in_shape: Tuple[int, ...]
    dests: tuple
    pads: Tuple[Tuple[int, int], ...]
    pieces: tuple
    out_shape: Tuple[int, ...]
    bias_lo: Optional[int]
    offset: int


def _assemble(job, parts, dtype):
    if len(parts) == 1 and parts[0].shape == job.in_shape:
        return _compute_array(parts[0], dtype)
    x = np.empty(job.in_shape, dtype)
    for dest, part in zip(job.dests, parts):
        x[dest] = part
    return x


def run_block(job, spec, weights, parts):
    """The kernel calls of one task; the array if final, else ``(offset, array)``."""
    dtype = np.dtype(spec.dtype)
    out = np.empty(job.out_shape, dtype)
    if out.size:
        impl = _backend.load(spec.backend)
        kernel = impl.conv_transpose if spec.transposed else impl.conv
        nt = task_threads(spec.num_threads, impl)
        x = _assemble(job, parts, dtype)
        for p in job.pieces:
            xi = x if (p.in_lo, p.in_hi) == (0, x.shape[1]) else _compute_array(
                x[:, p.in_lo:p.in_hi], dtype)
            wi = _compute_array(weights.w[p.w_rows, p.w_cols], dtype)
            bi = None
            if job.bias_lo is not None and weights.b is not None:
                bi = weights.b[job.bias_lo + p.out_lo:job.bias_lo + p.out_hi]
            dst = out[:, p.out_lo:p.out_hi]
            direct = dst.flags.c_contiguous
            target = dst if direct else np.empty(dst.shape, dtype)
            kernel(xi, wi, bi, target, spec.stride, job.pads, spec.dilation, p.groups, nt)
            if not direct:
                dst[...] = target
    return out if job.bias_lo is not None else (job.offset, out)


def add_parts(*parts):
    """``(offset, array)`` parts summed, in their order, into one ``(offset, array)``
    covering them all (channel axis 1)."""
    lo = min(off for off, _ in parts)
    hi = max(off + a.shape[1] for off, a in parts)
    first = parts[0][1]
    acc = np.zeros((first.shape[0], hi - lo) + first.shape[2:], first.dtype)
    for off, a in parts:
        acc[:, off - lo:off - lo + a.shape[1]] += a
    return lo, acc


def finish(bias_lo, weights, *parts):
    """The sum of a segment's parts plus its bias: a final block."""
    _, acc = add_parts(*parts)
    if weights.b is not None:
        b = weights.b[bias_lo:bias_lo + acc.shape[1]]
        acc += b.reshape((1, -1) + (1,) * (acc.ndim - 2))
    return acc


def bias_block(shape, dtype, bias_lo, weights):
    """A block no input reaches: the bias (zero without one)."""
    out = np.zeros(shape, np.dtype(dtype))
    if weights.b is not None:
        out += weights.b[bias_lo:bias_lo + shape[1]].reshape((1, -1) + (1,) * (len(shape) - 2))
    return out
