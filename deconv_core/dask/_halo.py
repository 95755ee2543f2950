"""Index arithmetic of one spatial dim: which output chunks there are, and for each the
input slice (chunk plus halo) and the padding that make one kernel call cover exactly it.

Everything here is plain integers: no dask, no arrays of data. Canonical arguments
(:mod:`deconv_core._validation`): ``pads`` are ``(before, after)`` with the transposed
op's ``after`` already less ``output_padding`` (so it may be negative).

Transposed op. In uncropped coordinates input ``i`` reaches outputs ``u = i*s + t*d``
(``t`` a tap); the result keeps ``o = u - before``. An input chunk ``[i0, i1)`` owns the
outputs ``o`` in ``[i0*s - before, i1*s - before)``, clipped to the result; the inputs
that reach them lie in ``[i0 - floor(D/s), i1 - 1]`` (``D = d*(k - 1)``): the halo is
one-sided, on the left.

Forward op. Output ``o`` reads inputs ``o*s - before + t*d``. An output belongs to the
input chunk that holds its first tap: the chunk boundaries, moved to the next input
that is a first tap, are "aligned to the stride". Its reads then run at most ``D``
past the chunk's end: the halo is one-sided, on the right.
"""
from collections import namedtuple

import numpy as np

__all__ = ["Span", "transposed_bounds", "forward_bounds", "transposed_span", "forward_span",
           "bounds_of_chunks"]

Span = namedtuple("Span", "out_start out_stop in_start in_stop pad_before pad_after")
Span.__doc__ = """One output chunk ``[out_start, out_stop)`` of a spatial dim and how to
compute it: the input slice ``[in_start, in_stop)`` and the canonical local padding
``(pad_before, pad_after)`` of one kernel call whose result is exactly that chunk.
``in_start == in_stop`` when no input reaches the chunk (it holds the bias only)."""


def bounds_of_chunks(chunks):
    """``(3, 4, 2)`` -> ``[0, 3, 7, 9]``."""
    bounds = [0]
    for c in chunks:
        bounds.append(bounds[-1] + int(c))
    return bounds


def _clean(bounds, size):
    """Sorted distinct boundaries from 0 to ``size``; ``[0, 0]`` for an empty dim (dask
    describes a dim of size 0 by one chunk of size 0)."""
    out = sorted({0, size, *bounds})
    return out if len(out) > 1 else [0, 0]


def transposed_bounds(in_bounds, out_size, stride, pad_before):
    """Output chunk boundaries of the transposed op: each input chunk's start times the
    stride, less the padding removed before, clipped to the result (chunks that clipping
    empties are dropped).

    >>> transposed_bounds([0, 32, 64], 128, 2, 1)
    [0, 63, 128]
    """
    inner = [min(max(i * stride - pad_before, 0), out_size) for i in in_bounds[1:-1]]
    return _clean(inner, out_size)


def forward_bounds(in_bounds, out_size, stride, pad_before):
    """Output chunk boundaries of the forward op: an output belongs to the input chunk
    holding its first tap ``o*s - before``, so chunk ``j`` starts at the first ``o`` with
    ``o*s - before >= i_j``.

    >>> forward_bounds([0, 5, 10], 5, 2, 1)
    [0, 3, 5]
    """
    inner = [min(max(-(-(i + pad_before) // stride), 0), out_size) for i in in_bounds[1:-1]]
    return _clean(inner, out_size)


def transposed_span(out_start, out_stop, size, kernel, stride, dilation, pads):
    """The :class:`Span` of the transposed op's output chunk ``[out_start, out_stop)``.

    The input slice is the smallest that reaches the chunk, widened by at most the
    inputs whose first tap falls in a gap before it (so the local ``pad_before`` is
    never negative); ``pad_after`` may be negative, as in a canonical call.

    >>> transposed_span(63, 128, 64, 4, 2, 1, (1, 1))
    Span(out_start=63, out_stop=128, in_start=31, in_stop=64, pad_before=2, pad_after=1)
    """
    before = pads[0]
    span = dilation * (kernel - 1)
    if out_stop <= out_start:
        return Span(out_start, out_stop, 0, 0, 0, 0)
    offsets = np.arange(kernel, dtype=np.int64) * dilation
    lo = -(-(out_start + before - offsets) // stride)   # first input of each tap
    hi = (out_stop - 1 + before - offsets) // stride    # last input of each tap
    lo = np.maximum(lo, 0)
    hi = np.minimum(hi, size - 1)
    reach = lo <= hi
    if not reach.any():
        return Span(out_start, out_stop, 0, 0, 0, 0)
    first = min(int(lo[reach].min()), (out_start + before) // stride)
    last = int(hi[reach].max())
    pad_before = out_start + before - first * stride
    n = last + 1 - first
    pad_after = (n - 1) * stride + span + 1 - pad_before - (out_stop - out_start)
    return Span(out_start, out_stop, first, last + 1, pad_before, pad_after)


def forward_span(out_start, out_stop, size, kernel, stride, dilation, pads):
    """The :class:`Span` of the forward op's output chunk ``[out_start, out_stop)``: the
    inputs from the first to the last that one of its taps reads; what its taps reach
    outside them becomes local padding.

    >>> forward_span(3, 5, 10, 3, 2, 1, (1, 1))
    Span(out_start=3, out_stop=5, in_start=5, in_stop=10, pad_before=0, pad_after=0)
    """
    if out_stop <= out_start:
        return Span(out_start, out_stop, 0, 0, 0, 0)
    before = pads[0]
    offsets = np.arange(kernel, dtype=np.int64) * dilation - before
    lo = np.maximum(-(-(-offsets) // stride), out_start)      # first o reading i >= 0
    hi = np.minimum((size - 1 - offsets) // stride, out_stop - 1)   # last reading i < size
    reach = lo <= hi
    if not reach.any():
        return Span(out_start, out_stop, 0, 0, 0, 0)
    in_start = int((lo * stride + offsets)[reach].min())
    in_stop = int((hi * stride + offsets)[reach].max()) + 1
    first = out_start * stride - before
    end = (out_stop - 1) * stride - before + dilation * (kernel - 1) + 1
    return Span(out_start, out_stop, in_start, in_stop, in_start - first, end - in_stop)
