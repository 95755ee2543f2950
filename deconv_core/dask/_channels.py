"""Channel arithmetic: which kernel calls one input-channel chunk makes, and which
output channels the chunks' contributions sum into.

An input-channel chunk may start or end inside a group. It is cut at the group
borders into pieces: a run of whole groups is one grouped call, a part of one group
a call with ``groups=1`` on the matching slice of the weight. A chunk's pieces cover
the output channels of every group it touches.

Chunks that touch a common group add into the same output channels: they form one
*segment*, an output-channel chunk of the result, summed over its chunks. With one
group every chunk is in the one segment (a reduction over the channel chunks); with
chunks along group borders every chunk is its own segment (no reduction).
"""
from collections import namedtuple

__all__ = ["Piece", "Segment", "chunk_pieces", "segments"]

Piece = namedtuple("Piece", "in_lo in_hi out_lo out_hi w_rows w_cols groups")
Piece.__doc__ = """One kernel call of a channel chunk: input channels ``[in_lo, in_hi)``
(relative to the chunk) give output channels ``[out_lo, out_hi)`` (relative to the
chunk's first output channel), with ``weight[w_rows, w_cols]`` (two slices) and
``groups`` groups."""

Segment = namedtuple("Segment", "out_lo out_hi chunks offsets")
Segment.__doc__ = """Output channels ``[out_lo, out_hi)`` and the input-channel chunks
that add into them, each at its ``offsets`` entry (relative to ``out_lo``)."""


def _groups_of(c0, c1, cin_g):
    return c0 // cin_g, (c1 - 1) // cin_g


def chunk_pieces(c0, c1, groups, c_in, c_out, transposed):
    """The :class:`Piece` list of input-channel chunk ``[c0, c1)``.

    >>> [tuple(p[:4]) + (p.groups,) for p in chunk_pieces(2, 9, 4, 12, 8, True)]
    [(0, 1, 0, 2, 1), (1, 7, 2, 6, 2)]
    """
    cin_g, cout_g = c_in // groups, c_out // groups
    g_first = c0 // cin_g
    pieces = []
    c = c0
    while c < c1:
        g = c // cin_g
        g_end = (g + 1) * cin_g
        if c == g * cin_g and c1 >= g_end:             # a run of whole groups
            n = (c1 - c) // cin_g
            hi = c + n * cin_g
            out = (g * cout_g, (g + n) * cout_g)
            rows, cols = ((slice(c, hi), slice(None)) if transposed
                          else (slice(out[0], out[1]), slice(None)))
        else:                                          # part of one group
            n = 1
            hi = min(c1, g_end)
            out = (g * cout_g, (g + 1) * cout_g)
            rows, cols = ((slice(c, hi), slice(None)) if transposed
                          else (slice(out[0], out[1]), slice(c - g * cin_g, hi - g * cin_g)))
        base = g_first * cout_g
        pieces.append(Piece(c - c0, hi - c0, out[0] - base, out[1] - base, rows, cols, n))
        c = hi
    return pieces


def segments(channel_bounds, groups, c_in, c_out):
    """The :class:`Segment` list for input-channel chunk boundaries ``[0, ..., c_in]``.

    >>> segments([0, 3, 8], 1, 8, 5)
    [Segment(out_lo=0, out_hi=5, chunks=(0, 1), offsets=(0, 0))]
    >>> [s[:2] for s in segments([0, 2, 4, 6], 3, 6, 9)]
    [(0, 3), (3, 6), (6, 9)]
    """
    cin_g, cout_g = c_in // groups, c_out // groups
    ranges = []
    for c0, c1 in zip(channel_bounds[:-1], channel_bounds[1:]):
        g0, g1 = _groups_of(c0, c1, cin_g)
        ranges.append((g0 * cout_g, (g1 + 1) * cout_g))
    result = []
    members = []
    for q, (lo, hi) in enumerate(ranges):
        if members and lo < seg_hi:   # shares a group with the segment so far
            members.append(q)
            seg_hi = max(seg_hi, hi)
            continue
        if members:
            result.append(_segment(members, ranges))
        members, seg_hi = [q], hi
    result.append(_segment(members, ranges))
    return result


def _segment(members, ranges):
    lo = ranges[members[0]][0]
    hi = max(ranges[q][1] for q in members)
    return Segment(lo, hi, tuple(members), tuple(ranges[q][0] - lo for q in members))
