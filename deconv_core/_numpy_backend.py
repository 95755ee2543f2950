"""Vectorised NumPy backend (the fallback when ``deconv_core._kernels`` is absent).

Transposed convolution: one BLAS matmul computes every tap's contribution
``Y[co, t, i] = sum_ci w[ci, co, t] * x[ci, i]`` (exactly the layer's MACs, no
multiplication by an inserted zero); the contributions are then added into an
output-sized buffer with strided slices. Full index ``f = i*s + t*d`` is
written ``f = (i + q)*s + r`` with ``q = t*d // s``: taps sharing ``q`` land
in one block column with residues ``r`` spaced ``d`` apart, so one slice add
serves all of them (``ceil(((k-1)*d + 1)/s)`` adds per dim instead of ``k``).

Forward convolution: im2col through a strided window view, then one matmul.

Both functions take the canonical arguments of :mod:`deconv_core._validation`.
"""
import functools
import itertools
import math
import os

import numpy as np

__all__ = ["conv_transpose", "conv", "max_threads"]

# Upper bound for the per-chunk column buffer; batches are split to stay under it.
_CHUNK_BYTES = 64 << 20


def max_threads():
    """BLAS decides its own threading; reported for ``num_threads=None``."""
    return os.cpu_count() or 1


def _batch_chunks(n, per_item_bytes):
    step = max(1, _CHUNK_BYTES // max(1, per_item_bytes))
    return [(lo, min(n, lo + step)) for lo in range(0, n, step)]


def _tap_groups(k, s, d, grouped):
    """Per dim: (q, tap slice, residue slice) for the taps added by one slice op.

    Grouped: every tap with block offset ``q = t*d // s`` at once (few ops,
    but the innermost run is only ``~s/d`` long). Ungrouped: one tap per op
    (``k`` ops, each running along the whole input row).
    """
    if not grouped:
        return [((t * d) // s, slice(t, t + 1), slice((t * d) % s, (t * d) % s + 1))
                for t in range(k)]
    groups = []
    for q in range((d * (k - 1)) // s + 1):
        t_lo = -(-q * s // d)
        t_hi = min(k - 1, ((q + 1) * s - 1) // d)
        if t_lo > t_hi:
            continue
        r0 = t_lo * d - q * s
        groups.append((q, slice(t_lo, t_hi + 1), slice(r0, r0 + (t_hi - t_lo) * d + 1, d)))
    return groups


# Rough costs (seconds) of one NumPy slice op and of one inner-loop start.
_OP_COST, _RUN_COST = 4e-6, 8e-9


def _plan_groups(sizes, kernel, stride, dilation, elements):
    """Group taps in every dim but the last; there, pick whichever of grouped /
    per-tap costs less (op count versus length of the innermost run)."""
    plans = [_tap_groups(k, s, d, True) for k, s, d in zip(kernel, stride, dilation)]
    lead_ops = 1
    for p in plans[:-1]:
        lead_ops *= len(p)
    k, s, d, n = kernel[-1], stride[-1], dilation[-1], sizes[-1]
    best = None
    for grouped in (True, False):
        groups = _tap_groups(k, s, d, grouped)
        run = n if not grouped else max(len(range(*g[1].indices(k))) for g in groups)
        cost = lead_ops * len(groups) * _OP_COST + elements / max(run, 1) * _RUN_COST
        if best is None or cost < best[0]:
            best = (cost, groups)
    plans[-1] = best[1]
    return plans


@functools.lru_cache(maxsize=256)
def _transposed_plan(x_shape, w_shape, out_shape, stride, pads, dilation, groups, itemsize):
    """Everything about a call that depends only on shapes: computed once per shape."""
    n_batch, c_in = x_shape[:2]
    sizes, kernel, osz = x_shape[2:], w_shape[2:], out_shape[2:]
    nd = len(sizes)
    c_out = out_shape[1]
    ktot, npix = math.prod(kernel), math.prod(sizes)
    # Block geometry per dim: the buffer covers full indices [lo*s, hi*s).
    lo = [min(0, pb // s) for (pb, _), s in zip(pads, stride)]
    hi = [max(n + (d * (k - 1)) // s + 1, -(-(pb + o) // s))
          for n, k, s, d, (pb, _), o in zip(sizes, kernel, stride, dilation, pads, osz)]
    tap_groups = _plan_groups(sizes, kernel, stride, dilation, n_batch * c_out * ktot * npix)
    adds = []
    for combo in itertools.product(*tap_groups):
        dst = [slice(None), slice(None)]
        src = [slice(None), slice(None)]
        for (q, taps, res), l, n in zip(combo, lo, sizes):
            dst += [slice(q - l, q - l + n), res]
            src += [slice(None), taps]
        adds.append((tuple(dst), tuple(src)))
    crop = (slice(None), slice(None)) + tuple(
        slice(pb - l * s, pb - l * s + o) for (pb, _), l, s, o in zip(pads, lo, stride, osz))
    blocks = tuple(v for l, h, s in zip(lo, hi, stride) for v in (h - l, s))
    flat = tuple((h - l) * s for l, h, s in zip(lo, hi, stride))
    # (C_out, *k, nb, *n) -> (nb, C_out, n1, k1, n2, k2, ...): each input axis beside its taps.
    order = [nd + 1, 0]
    for j in range(nd):
        order += [nd + 2 + j, 1 + j]
    chunks = _batch_chunks(n_batch, c_out * ktot * npix * itemsize)
    return chunks, adds, crop, blocks, flat, tuple(order), ktot, npix


def conv_transpose(x, w, bias, out, stride, pads, dilation, groups, num_threads):
    c_in = x.shape[1]
    if out.size == 0:
        return
    if c_in == 0:
        return _fill_bias(out, bias)
    chunks, adds, crop, blocks, flat, order, ktot, npix = _transposed_plan(
        x.shape, w.shape, out.shape, stride, pads, dilation, groups, x.itemsize)
    c_in_g = c_in // groups
    c_out = out.shape[1]
    c_out_g = w.shape[1]
    # (G, C_out_g*K, C_in_g): each group's taps stacked as rows of one GEMM operand.
    wt = w.reshape(groups, c_in_g, c_out_g * ktot).transpose(0, 2, 1)
    for b0, b1 in chunks:
        nb = b1 - b0
        # One GEMM per group over the whole chunk: (C_out_g*K, C_in_g) @ (C_in_g, nb*P).
        xg = x[b0:b1].reshape(nb, groups, c_in_g, npix).transpose(1, 2, 0, 3)
        cols = np.matmul(wt, xg.reshape(groups, c_in_g, nb * npix))
        cols = cols.reshape((c_out,) + w.shape[2:] + (nb,) + x.shape[2:]).transpose(order)
        buf = np.zeros((nb, c_out) + blocks, dtype=x.dtype)
        for dst, src in adds:
            buf[dst] += cols[src]
        _finish(out[b0:b1], buf.reshape((nb, c_out) + flat)[crop], bias)


def conv(x, w, bias, out, stride, pads, dilation, groups, num_threads):
    n_batch, c_in = x.shape[:2]
    nd = x.ndim - 2
    kernel = w.shape[2:]
    c_out = w.shape[0]
    osz = out.shape[2:]
    if out.size == 0:
        return
    if c_in == 0:
        return _fill_bias(out, bias)
    c_in_g = c_in // groups
    c_out_g = c_out // groups
    ktot = math.prod(kernel)
    opix = math.prod(osz)
    wg = w.reshape(groups, c_out_g, c_in_g * ktot)
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    per_item = c_in * ktot * opix * x.itemsize
    for b0, b1 in _batch_chunks(n_batch, per_item):
        nb = b1 - b0
        xp = np.pad(x[b0:b1], [(0, 0), (0, 0)] + [tuple(p) for p in pads])
        win = np.lib.stride_tricks.sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
        sel = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(osz, stride))
        sel += tuple(slice(None, None, d) for d in dilation)
        win = win[(slice(None), slice(None)) + sel]  # (nb, C_in, *out, *k)
        win = win.reshape((nb, groups, c_in_g) + tuple(osz) + tuple(kernel))
        # -> (G, C_in_g, *k, nb, *out), then one GEMM per group.
        order = [1, 2] + [3 + nd + j for j in range(nd)] + [0] + [3 + j for j in range(nd)]
        colsm = win.transpose(order).reshape(groups, c_in_g * ktot, nb * opix)
        res = np.matmul(wg, colsm).reshape((c_out, nb) + tuple(osz))
        _finish(out[b0:b1], np.moveaxis(res, 0, 1), bias)


def _bias_view(bias, nd):
    return bias.reshape((1, -1) + (1,) * nd)


def _fill_bias(out, bias):
    """The empty reduction (C_in == 0): the output is the bias alone."""
    if bias is None:
        out.fill(0)
    else:
        out[...] = _bias_view(bias, out.ndim - 2)


def _finish(out, acc, bias):
    if bias is None:
        np.copyto(out, acc)
    else:
        np.add(acc, _bias_view(bias, out.ndim - 2), out=out)
