"""The task graph of one op over a dask array.

One output block per (batch chunk, output-channel segment, spatial chunk of every
dim). Its task reads the pieces of the input chunks its input slice covers (the
chunk itself and a one-sided halo, ``_halo``) and makes one kernel call per channel
piece (``_channels``). A segment fed by several input-channel chunks sums their
results in a tree of at most ``SPLIT_EVERY`` parts per task, so a task holds at most
that many output blocks whatever the number of channel chunks; the last sum adds
the bias. The weight and bias are one key of the graph, which every kernel task
names: sent once, not once per task.
"""
import itertools
import operator

import numpy as np
from dask.array import Array
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from ._block import Job, Spec, Weights, add_parts, bias_block, finish, run_block
from ._channels import Segment, chunk_pieces, segments
from ._halo import (bounds_of_chunks, forward_bounds, forward_span, transposed_bounds,
                    transposed_span)

__all__ = ["build", "SPLIT_EVERY"]

# parts per sum task: its memory is at most SPLIT_EVERY + 1 output blocks
SPLIT_EVERY = 4


def _spans(transposed, in_chunks, out_size, kernel, stride, dilation, pads, out_bounds):
    """Per spatial dim, the output chunk boundaries' spans."""
    in_bounds = bounds_of_chunks(in_chunks)
    size = in_bounds[-1]
    if out_bounds is None:
        pick = transposed_bounds if transposed else forward_bounds
        out_bounds = pick(in_bounds, out_size, stride, pads[0])
    span = transposed_span if transposed else forward_span
    return [span(o0, o1, size, kernel, stride, dilation, pads)
            for o0, o1 in zip(out_bounds[:-1], out_bounds[1:])], in_bounds


def _input_pieces(dsk, name, xname, prefix, idx, in_bounds, spans):
    """The input pieces of one block, as keys (a piece smaller than its chunk becomes a
    task of its own, so that a cluster moves the piece, not the chunk), and where each
    goes in the block's input slice. ``prefix`` is the block's (batch, channel chunk),
    ``idx`` its spatial index, ``spans`` its input slice per dim."""
    per_dim = []
    for bounds, sp in zip(in_bounds, spans):
        dim = []
        for c, (b0, b1) in enumerate(zip(bounds[:-1], bounds[1:])):
            lo, hi = max(sp.in_start, b0), min(sp.in_stop, b1)
            if lo < hi:
                whole = (lo, hi) == (b0, b1)
                dim.append((c, whole, slice(lo - b0, hi - b0),
                            slice(lo - sp.in_start, hi - sp.in_start)))
        per_dim.append(dim)
    keys, dests = [], []
    full = (slice(None), slice(None))
    for p, combo in enumerate(itertools.product(*per_dim)):
        key = (xname,) + prefix + tuple(c for c, *_ in combo)
        if not all(whole for _, whole, _, _ in combo):
            piece = (f"{name}-piece",) + prefix + idx + (p,)
            dsk[piece] = (operator.getitem, key, full + tuple(src for _, _, src, _ in combo))
            key = piece
        keys.append(key)
        dests.append(full + tuple(dst for *_, dst in combo))
    return keys, tuple(dests)


def build(fname, x, weight, bias, transposed, geometry, num_threads, backend, out_bounds=None):
    """The lazy result of one op over the batched dask array ``x``.

    ``geometry`` is ``_validation._geometry``'s canonical geometry; ``out_bounds``
    (per spatial dim, boundaries from 0 to the output size) replaces the output
    chunks that follow the input chunks.
    """
    dtype, stride, pads, dilation, groups, shape, _ = geometry
    nd = len(stride)
    kernel = tuple(int(k) for k in weight.shape[2:])
    weights = Weights(np.ascontiguousarray(weight, dtype=dtype),
                      None if bias is None else np.ascontiguousarray(bias, dtype=dtype))
    token = tokenize(fname, x.name, weights.w, weights.b, geometry, num_threads, backend,
                     out_bounds)
    name = f"{fname}-{token}"
    wkey = f"{fname}-weights-{token}"
    spec = Spec(transposed, backend, np.dtype(dtype).str, stride, dilation, num_threads)

    spans, in_bounds = [], []
    for d in range(nd):
        s, b = _spans(transposed, x.chunks[2 + d], shape[2 + d], kernel[d], stride[d],
                      dilation[d], pads[d], None if out_bounds is None else out_bounds[d])
        spans.append(s)
        in_bounds.append(b)
    c_in, c_out = int(x.shape[1]), shape[1]
    chan_bounds = bounds_of_chunks(x.chunks[1])
    if c_in:
        segs = segments(chan_bounds, groups, c_in, c_out)
        pieces = [chunk_pieces(c0, c1, groups, c_in, c_out, transposed)
                  for c0, c1 in zip(chan_bounds[:-1], chan_bounds[1:])]
    else:   # no input channel: every block is the bias
        segs = [Segment(0, c_out, (), ())]

    dsk = {wkey: weights}
    batch = x.chunks[0]
    for bn, nb in enumerate(batch):
        for si, seg in enumerate(segs):
            width = seg.out_hi - seg.out_lo
            for idx in itertools.product(*[range(len(s)) for s in spans]):
                block = [spans[d][j] for d, j in enumerate(idx)]
                out_sp = tuple(sp.out_stop - sp.out_start for sp in block)
                key = (name, bn, si) + idx
                if not seg.chunks or any(sp.in_start == sp.in_stop for sp in block):
                    dsk[key] = (bias_block, (nb, width) + out_sp, spec.dtype, seg.out_lo, wkey)
                    continue
                pads_local = tuple((sp.pad_before, sp.pad_after) for sp in block)
                in_sp = tuple(sp.in_stop - sp.in_start for sp in block)
                final = len(seg.chunks) == 1
                parts = []
                for qi, (q, offset) in enumerate(zip(seg.chunks, seg.offsets)):
                    tasks, dests = _input_pieces(dsk, name, x.name, (bn, q), idx, in_bounds,
                                                 block)
                    qp = pieces[q]
                    job = Job((nb, chan_bounds[q + 1] - chan_bounds[q]) + in_sp, dests,
                              pads_local, tuple(qp), (nb, qp[-1].out_hi) + out_sp,
                              seg.out_lo if final else None, offset)
                    task = (run_block, job, spec, wkey, tasks)
                    if final:
                        dsk[key] = task
                    else:
                        pkey = (name + "-part", bn, si, qi) + idx
                        dsk[pkey] = task
                        parts.append(pkey)
                if not final:
                    _tree_sum(dsk, name, (bn, si), idx, parts, key, seg.out_lo, wkey)

    chunks = (tuple(batch), tuple(s.out_hi - s.out_lo for s in segs)) + tuple(
        tuple(sp.out_stop - sp.out_start for sp in s) for s in spans)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[x])
    return Array(graph, name, chunks, meta=np.empty((0,) * (nd + 2), dtype))


def _tree_sum(dsk, name, prefix, idx, parts, key, bias_lo, wkey):
    level = 0
    while len(parts) > SPLIT_EVERY:
        nxt = []
        for g in range(0, len(parts), SPLIT_EVERY):
            skey = (f"{name}-sum{level}",) + prefix + (g // SPLIT_EVERY,) + idx
            dsk[skey] = (add_parts,) + tuple(parts[g:g + SPLIT_EVERY])
            nxt.append(skey)
        parts, level = nxt, level + 1
    dsk[key] = (finish, bias_lo, wkey) + tuple(parts)
