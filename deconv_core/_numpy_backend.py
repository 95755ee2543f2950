"""Vectorised NumPy backend (the fallback when ``deconv_core._kernels`` is absent).

Transposed convolution, four formulations chosen per call from the shape:

* col2im (channel-heavy shapes): one BLAS matmul computes every tap's
  contribution ``Y[co, t, i] = sum_ci w[ci, co, t] * x[ci, i]`` (exactly the
  layer's MACs, no multiplication by an inserted zero); the contributions are
  then added into an output-sized buffer with strided slices. Full index
  ``f = i*s + t*d`` is written ``f = (i + q)*s + r`` with ``q = t*d // s``:
  taps sharing ``q`` land in one block column with residues ``r`` spaced ``d``
  apart, so one slice add can serve all of them.
* col2im flat (the usual choice of the above): the matmul runs on the input
  zero-padded after each dim by the taps' reach, and the buffer holds one plane per
  output residue class on that padded grid. A tap then shifts every pixel by one
  flat offset, so its slice add is one contiguous run per (image, channel) however
  short the rows are; the residue classes are copied into ``out`` at the end.
* col2im channels-last (one group, many output channels on small maps): the same
  matmul with the output channels innermost, so each slice add runs along them.
* phases (few channels, dilation 1): the sub-pixel decomposition. For each
  output residue modulo the stride only the taps congruent to it contribute,
  so each residue class of the output is a dense stride-1 correlation of the
  original input with a sub-kernel: ``s**D`` small forward convolutions, each
  writing a disjoint strided slice of ``out`` (no buffer, no adds).
* shifts (one input channel per group: depthwise, channel multipliers): the
  same residue classes, but each is accumulated tap by tap as a shifted view
  of the padded input times that tap's per-channel weight, broadcast over the
  batch. There is no channel reduction, so no GEMM and no im2col copy. With
  stride 2 in the last dim, its two classes are one in complex arithmetic: an
  input times ``w[2q] + 1j*w[2q+1]`` is the pair of outputs it reaches, stored
  side by side as ``out`` wants them.

Forward convolution: im2col through a strided window view, then one matmul.

Weight gradient (both ops): one matmul per tap on a zero-bordered copy of the second
operand (:func:`weight_grad`); the input gradients are the other op.

All functions take the canonical arguments of :mod:`deconv_core._validation`.
"""
import _thread
import functools
import itertools
import math
import os

import numpy as np

__all__ = ["conv_transpose", "conv", "weight_grad", "max_threads", "make_runner"]

# Upper bound for the per-chunk column buffer; batches are split to stay under it.
_CHUNK_BYTES = 64 << 20


_CPU_COUNT = os.cpu_count() or 1  # read once: os.cpu_count() walks sysfs (~20 us)


def _env_threads():
    """``OMP_NUM_THREADS`` (its first entry) if it is a positive int, else the CPU count:
    the same default as the compiled backend's OpenMP runtime."""
    first = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    return int(first) if first.isdigit() and int(first) > 0 else _CPU_COUNT


_DEFAULT_THREADS = _env_threads()


def max_threads():
    """Threads of a call with ``num_threads=None``: ``OMP_NUM_THREADS`` if set, else
    the CPU count (read at import). They run the independent chunks of the
    depthwise path; BLAS decides its own threading."""
    return _DEFAULT_THREADS


def make_runner(transposed, dtype, x_shape, w_shape, out_shape, stride, pads, dilation,
                groups, unbatched, max_threads):
    """A runner for repeated calls of one validated geometry (see
    ``deconv_core._validation.cached_runner``): it skips the wrapper's argument handling and
    returns the result, or None for inputs it cannot read in place or a
    ``num_threads`` it would have to check (the caller then validates)."""
    kernel = conv_transpose if transposed else conv
    dtype = np.dtype(dtype)
    result_shape = out_shape[1:] if unbatched else out_shape

    def readable(a):
        return a.dtype == dtype and a.flags.c_contiguous and a.flags.aligned

    def run(x, w, bias, num_threads):
        if num_threads is not None and not (type(num_threads) is int
                                            and 1 <= num_threads <= max_threads):
            return None
        if not (readable(x) and readable(w) and (bias is None or readable(bias))):
            return None
        result = np.empty(result_shape, dtype)
        kernel(x.reshape(x_shape), w, bias, result.reshape(out_shape), stride, pads, dilation,
               groups, num_threads or _DEFAULT_THREADS)
        return result

    return run


def _batch_chunks(n, per_item_bytes, limit=_CHUNK_BYTES):
    step = max(1, limit // max(1, per_item_bytes))
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


def _block_geometry(sizes, kernel, osz, stride, pads, dilation):
    """The col2im buffer's block layout: per dim, the buffer covers full indices
    ``[lo*s, hi*s)`` as ``(hi - lo, s)`` blocks; returns ``(lo, blocks, flat, crop)``
    (``crop``: the output's slices of the flattened buffer, from the batch axis on)."""
    lo = [min(0, pb // s) for (pb, _), s in zip(pads, stride)]
    hi = [max(n + (d * (k - 1)) // s + 1, -(-(pb + o) // s))
          for n, k, s, d, (pb, _), o in zip(sizes, kernel, stride, dilation, pads, osz)]
    blocks = tuple(v for l, h, s in zip(lo, hi, stride) for v in (h - l, s))
    flat = tuple((h - l) * s for l, h, s in zip(lo, hi, stride))
    crop = (slice(None),) + tuple(
        slice(pb - l * s, pb - l * s + o) for (pb, _), l, s, o in zip(pads, lo, stride, osz))
    return lo, blocks, flat, crop


@functools.lru_cache(maxsize=256)
def _transposed_plan(x_shape, w_shape, out_shape, stride, pads, dilation, groups, itemsize):
    """Everything about a call that depends only on shapes: computed once per shape."""
    n_batch, c_in = x_shape[:2]
    sizes, kernel, osz = x_shape[2:], w_shape[2:], out_shape[2:]
    nd = len(sizes)
    c_out = out_shape[1]
    ktot, npix = math.prod(kernel), math.prod(sizes)
    lo, blocks, flat, crop = _block_geometry(sizes, kernel, osz, stride, pads, dilation)
    tap_groups = _plan_groups(sizes, kernel, stride, dilation, n_batch * c_out * ktot * npix)
    adds = []
    for combo in itertools.product(*tap_groups):
        dst = [slice(None), slice(None)]
        src = [slice(None), slice(None)]
        for (q, taps, res), l, n in zip(combo, lo, sizes):
            dst += [slice(q - l, q - l + n), res]
            src += [slice(None), taps]
        adds.append((tuple(dst), tuple(src)))
    crop = (slice(None),) + crop
    # (C_out, *k, nb, *n) -> (nb, C_out, n1, k1, n2, k2, ...): each input axis beside its taps.
    order = [nd + 1, 0]
    for j in range(nd):
        order += [nd + 2 + j, 1 + j]
    chunks = _batch_chunks(n_batch, c_out * ktot * npix * itemsize)
    return chunks, adds, crop, blocks, flat, tuple(order), ktot, npix


@functools.lru_cache(maxsize=256)
def _chlast_plan(x_shape, w_shape, out_shape, stride, pads, dilation, itemsize):
    """Geometry of :func:`_conv_transpose_chlast`, computed once per shape: the block
    layout of :func:`_block_geometry`, one slice add per tap, and batch chunks."""
    n_batch = x_shape[0]
    sizes, kernel, osz = x_shape[2:], w_shape[2:], out_shape[2:]
    c_out = out_shape[1]
    lo, blocks, flat, crop = _block_geometry(sizes, kernel, osz, stride, pads, dilation)
    adds = []
    for ti, t in enumerate(itertools.product(*(range(k) for k in kernel))):
        dst = [slice(None)]
        for tj, d, s, l, n in zip(t, dilation, stride, lo, sizes):
            q, r = divmod(tj * d, s)
            dst += [slice(q - l, q - l + n), r]
        adds.append((tuple(dst), ti))
    per_item = c_out * (math.prod(sizes) * math.prod(kernel) + math.prod(flat)) * itemsize
    return _batch_chunks(n_batch, per_item), adds, blocks, flat, crop


def _conv_transpose_chlast(x, w, bias, out, stride, pads, dilation):
    """col2im with the output channels innermost (one group, many output channels,
    small maps): ``cols[n, pixel, tap, c_out] = x[n, :, pixel] @ w[:, c_out, tap]`` by
    one BLAS matmul per chunk, then one slice add per tap whose innermost run is all
    the output channels (in NCHW it would be a map row, a few pixels on small maps),
    and one transposing copy into ``out``."""
    chunks, adds, blocks, flat, crop = _chlast_plan(
        x.shape, w.shape, out.shape, stride, pads, dilation, x.itemsize)
    c_in, c_out = w.shape[:2]
    nd = x.ndim - 2
    ktot, npix = math.prod(w.shape[2:]), math.prod(x.shape[2:])
    # (C_in, K*C_out): every tap's weights with the output channels innermost
    w2 = np.ascontiguousarray(w.reshape(c_in, c_out, ktot).transpose(0, 2, 1)).reshape(
        c_in, ktot * c_out)
    every = (slice(None),) * (1 + nd)
    for b0, b1 in chunks:
        nb = b1 - b0
        # one matmul per image on the transposed view (no channels-last copy of x)
        cols = np.matmul(x[b0:b1].reshape(nb, c_in, npix).transpose(0, 2, 1), w2)
        cols = cols.reshape((nb,) + x.shape[2:] + (ktot, c_out))
        buf = np.zeros((nb,) + blocks + (c_out,), dtype=x.dtype)
        for dst, t in adds:
            buf[dst] += cols[every + (t,)]
        res = np.moveaxis(buf.reshape((nb,) + flat + (c_out,))[crop], -1, 1)
        _finish(out[b0:b1], res, bias)


# The flat col2im pays one slice add per tap, and a matmul over the padded grid: it is
# used up to this many taps (istft's 1024 are cheaper as the NCHW path's grouped
# adds) and this much padding (measured 0.43x the NCHW path's time on
# vol_3d_16to8_16px_k4_s2, 0.65x on fcn_64to32_64px_k4_s2, 0.86-0.99x on s1_k7, s3_k3
# and unet).
_FLAT_MAX_TAPS = 64
_FLAT_MAX_PADDED_RATIO = 1.5
# Below this output size the NCHW path's fewer NumPy calls win (the lesson's 3x3
# example: 13 us against 22 us).
_FLAT_MIN_OUTPUT = 4096


@functools.lru_cache(maxsize=256)
def _flat_plan(x_shape, w_shape, out_shape, stride, pads, dilation, itemsize):
    """Geometry of :func:`_conv_transpose_flat` (computed once per shape), or None
    when the shape is outside its limits (``_FLAT_MAX_TAPS``, ``_FLAT_MAX_PADDED_RATIO``).

    Per dim, full index ``f = i*s + t*d = (i + q)*s + r`` (``q, r = divmod(t*d, s)``):
    tap ``t`` adds input row ``i`` to buffer row ``m = i + q`` of residue class ``r``.
    The buffer has ``P`` rows, enough for every shifted input row and every output
    (``o = rho + j*s`` reads class ``(rho + pb) % s``, row ``(rho + pb) // s + j``;
    ``pb >= 0``, validated); the input is padded with zeros to ``P`` rows, so on the
    flattened grid a tap's shift is one offset for every pixel, and the positions a
    shift carries past the end of a row hold products with those zeros.
    Returns ``(P, total, nclass, adds, copies, chunks)``: ``adds`` per tap
    ``(tap, class, flat offset)``, ``copies`` per output class ``(out slices, buffer
    slices)``.
    """
    sizes, kernel, osz = x_shape[2:], w_shape[2:], out_shape[2:]
    ktot = math.prod(kernel)
    if ktot > _FLAT_MAX_TAPS:
        return None
    P, per_dim = [], []
    for n, k, s, d, (pb, _), o in zip(sizes, kernel, stride, dilation, pads, osz):
        classes = [(rho, (rho + pb) % s, (rho + pb) // s, -(-(o - rho) // s))
                   for rho in range(min(s, o))]
        P.append(max([n + d * (k - 1) // s] + [c + m for _, _, c, m in classes]))
        per_dim.append(classes)
    total = math.prod(P)
    if total > _FLAT_MAX_PADDED_RATIO * math.prod(sizes):
        return None
    plane = [math.prod(P[i + 1:]) for i in range(len(P))]
    adds = []
    for ti, t in enumerate(itertools.product(*(range(k) for k in kernel))):
        cls, off = 0, 0
        for tj, d, s, p in zip(t, dilation, stride, plane):
            q, r = divmod(tj * d, s)
            cls, off = cls * s + r, off + q * p
        adds.append((ti, cls, off))
    copies = []
    for combo in itertools.product(*per_dim):
        cls = 0
        for (_, r, _, _), s in zip(combo, stride):
            cls = cls * s + r
        dst = (slice(None), slice(None)) + tuple(
            slice(rho, None, s) for (rho, _, _, _), s in zip(combo, stride))
        src = (slice(None), slice(None), cls) + tuple(
            slice(c, c + m) for _, _, c, m in combo)
        copies.append((dst, src))
    nclass = math.prod(stride)
    # per image: the padded input, the columns and the class buffer
    per_item = (x_shape[1] + out_shape[1] * (ktot + nclass)) * total * itemsize
    return tuple(P), total, nclass, adds, copies, _batch_chunks(x_shape[0], per_item)


def _conv_transpose_flat(x, w, bias, out, groups, plan):
    """col2im on the padded flat grid of :func:`_flat_plan`: one GEMM per group for
    every tap's contribution at every padded input position, one contiguous slice
    add per tap into its residue class, and one strided copy per class into ``out``."""
    P, total, nclass, adds, copies, chunks = plan
    nd = x.ndim - 2
    c_in, c_out_g = w.shape[:2]
    c_in_g, c_out = c_in // groups, out.shape[1]
    ktot = math.prod(w.shape[2:])
    # (G, C_out_g*K, C_in_g): each group's taps stacked as rows of one GEMM operand.
    wt = w.reshape(groups, c_in_g, c_out_g * ktot).transpose(0, 2, 1)
    interior = (slice(None),) * 3 + tuple(slice(0, n) for n in x.shape[2:])
    to_group_major = (1, 2, 0) + tuple(range(3, 3 + nd))
    for b0, b1 in chunks:
        nb = b1 - b0
        xp = np.zeros((groups, c_in_g, nb) + P, dtype=x.dtype)
        xp[interior] = x[b0:b1].reshape((nb, groups, c_in_g) + x.shape[2:]).transpose(
            to_group_major)
        cols = np.matmul(wt, xp.reshape(groups, c_in_g, nb * total))
        cols = cols.reshape(c_out, ktot, nb, total).transpose(2, 0, 1, 3)
        buf = np.zeros((nb, c_out, nclass, total), dtype=x.dtype)
        for tap, cls, off in adds:
            dst = buf[:, :, cls, off:]
            dst += cols[:, :, tap, :total - off]
        buf = buf.reshape((nb, c_out, nclass) + P)
        for dst, src in copies:
            _finish(out[b0:b1][dst], buf[src], bias)


# Output channels innermost (above) when a group's output channels outnumber the input
# map's last dim this many times over: then they make the longer runs (measured: 1.8x
# on dcgan_256to128_8px_b16; slower on unet_128to64_64px_k2_s2, where they are equal).
_CHLAST_MIN_RATIO = 2
_CHLAST_MIN_COUT = 32

# Phases pay off when the per-phase GEMMs are thin (few channels per group)
# and the output is large enough to amortise s**D im2col calls.
_PHASES_MAX_CHANNEL_PRODUCT = 64
_PHASES_MIN_OUTPUT = 4096


def conv_transpose(x, w, bias, out, stride, pads, dilation, groups, num_threads):
    c_in = x.shape[1]
    if out.size == 0:
        return
    if c_in == 0:
        return _fill_bias(out, bias)
    # The shifts, phases and flat paths read a zero-padded input: an inf or NaN
    # weight times a pad is NaN where PyTorch, which scatters real inputs only, has
    # a number. Plain col2im forms products with real inputs only (so does the
    # channels-last col2im; these rare calls all take the plain one).
    if (out.size >= min(_PHASES_MIN_OUTPUT, _FLAT_MIN_OUTPUT)
            and not np.isfinite(w).all()):
        return _conv_transpose_col2im(x, w, bias, out, stride, pads, dilation, groups)
    if c_in == groups and out.size >= _PHASES_MIN_OUTPUT:
        return _conv_transpose_shifts(x, w, bias, out, stride, pads, dilation, num_threads)
    if (all(d == 1 for d in dilation) and out.size >= _PHASES_MIN_OUTPUT
            and (c_in // groups) * w.shape[1] <= _PHASES_MAX_CHANNEL_PRODUCT):
        return _conv_transpose_phases(x, w, bias, out, stride, pads, groups, num_threads)
    if (groups == 1 and w.shape[1] >= _CHLAST_MIN_COUT
            and w.shape[1] >= _CHLAST_MIN_RATIO * x.shape[-1]):
        return _conv_transpose_chlast(x, w, bias, out, stride, pads, dilation)
    flat_plan = None if out.size < _FLAT_MIN_OUTPUT else _flat_plan(
        x.shape, w.shape, out.shape, stride, pads, dilation, x.itemsize)
    if flat_plan is not None:
        return _conv_transpose_flat(x, w, bias, out, groups, flat_plan)
    return _conv_transpose_col2im(x, w, bias, out, stride, pads, dilation, groups)


def _conv_transpose_col2im(x, w, bias, out, stride, pads, dilation, groups):
    """col2im on the unpadded input: one GEMM per group and chunk of images, the
    taps' contributions added into an output-sized buffer by strided slices."""
    c_in = x.shape[1]
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


@functools.lru_cache(maxsize=256)
def _phase_plan(sizes, kernel, osz, stride, pads):
    """Per dim, per output residue ``rho``: (output slice, sub-kernel tap slice,
    input crop, forward pads, tap count) for dilation 1.

    Outputs ``o = rho + m*s`` have full index ``f = o + pad_before``; with
    ``r = f mod s`` the taps are ``r, r + s, ...`` (``j`` of them) and
    ``y[o] = sum_u x[m + c - j + 1 + u] * w[r + (j - 1 - u)*s]``, ``c = f div s``:
    a correlation with the reversed sub-kernel, i.e. a forward convolution.
    """
    per_dim = []
    for n, k, s, (pb, _), o in zip(sizes, kernel, stride, pads, osz):
        phases = []
        for rho in range(min(s, o)):
            m = (o - rho + s - 1) // s
            r, c = (rho + pb) % s, (rho + pb) // s
            j = max(0, (k - r + s - 1) // s)
            taps = slice(r + (j - 1) * s, r - 1 if r else None, -s) if j else None
            before = j - 1 - c
            after = m - 1 + j - n - before
            crop = slice(max(0, -before), n - max(0, -after))
            phases.append((slice(rho, None, s), taps, crop, (max(0, before), max(0, after)), j))
        per_dim.append(phases)
    return list(itertools.product(*per_dim))


def _conv_transpose_phases(x, w, bias, out, stride, pads, groups, num_threads):
    nd = x.ndim - 2
    kernel = w.shape[2:]
    c_in, c_out_g = w.shape[:2]
    c_in_g = c_in // groups
    # Forward-convolution layout (C_out, C_in_g, *k) of the same weights.
    wf = w.reshape((groups, c_in_g, c_out_g) + kernel).swapaxes(1, 2)
    wf = wf.reshape((groups * c_out_g, c_in_g) + kernel)
    every = (slice(None), slice(None))
    for combo in _phase_plan(x.shape[2:], kernel, out.shape[2:], stride, pads):
        dst = out[every + tuple(p[0] for p in combo)]
        if any(p[4] == 0 for p in combo):  # no tap reaches this residue class
            _fill_bias(dst, bias)
            continue
        wsub = np.ascontiguousarray(wf[every + tuple(p[1] for p in combo)])
        conv(x[every + tuple(p[2] for p in combo)], wsub, bias, dst, (1,) * nd,
             tuple(p[3] for p in combo), (1,) * nd, groups, num_threads)


@functools.lru_cache(maxsize=256)
def _shift_plan(sizes, kernel, osz, stride, pads, dilation, paired=False, merge=False):
    """Geometry of :func:`_conv_transpose_shifts`, computed once per shape.

    Per dim, output ``o = rho + m*s`` (full index ``f = o + pad_before``)
    receives tap ``t`` from input ``m + e`` with ``e = (rho + pad_before - t*d) / s``
    whenever that division is exact. Inputs are zero-padded so that every
    ``m + e`` is in range; with the padded planes flattened, ``e`` becomes one
    flat offset ``base`` and a residue class is computed on the flat index
    ``j = sum(m_i * plane_stride_i)`` for ``m_0 < M_0`` (the positions with
    ``m_i >= M_i``, i > 0, are computed too and cropped: they buy long
    contiguous runs). Returns ``(before, padded, slack, run, span, plan, lead)``:
    per-dim padding before the input and padded sizes, the flat overrun of the
    last plane, the longest run of one class and of one plan entry, the entries,
    and ``lead`` (below).

    An entry ``(dim-0 slice, other dims' slices, M, n, taps)`` is one residue
    class (``n = 1``) or, where :func:`_merge_classes` allows, all ``n`` classes
    of dim 0 at once (the slice is then ``slice(None)``, and only if ``merge``):
    fewer, longer NumPy calls. Its taps are ``(tap per class, base of class 0, base step per class)``.

    ``paired`` (last dim: stride 2, dilation 1): that dim has no residue classes.
    Its outputs are taken in pairs of full indices ``f = 2*m, 2*m + 1``: input
    ``m - q`` reaches both through taps ``(2*q, 2*q + 1)``, so one complex weight
    ``w[2q] + 1j*w[2q+1]`` times the (real) input gives the pair, already
    interleaved in memory. Its tap entry is ``q``, ``M`` counts pairs from
    ``m = pad_before // 2``, and the output starts ``lead = pad_before % 2``
    values into the first pair (0 when not paired).
    """
    per_dim, before, padded = [], [], []
    last = len(sizes) - 1
    lead = 0
    for dim, (n, k, s, (pb, _), d, o) in enumerate(zip(sizes, kernel, stride, pads, dilation,
                                                        osz)):
        phases = []
        if paired and dim == last:
            m_lo, lead = divmod(pb, 2)
            taps = [(q, m_lo - q) for q in range(-(-k // 2))]
            phases.append((slice(None), (pb + o - 1) // 2 - m_lo + 1, taps))
        for rho in range(0 if paired and dim == last else min(s, o)):
            taps = [(t, (rho + pb - t * d) // s) for t in range(k)
                    if (rho + pb - t * d) % s == 0]
            phases.append((slice(rho, None, s), -(-(o - rho) // s), taps))
        reads = [(e, e + m) for _, m, taps in phases for _, e in taps]
        b = max([0] + [-lo for lo, _ in reads])
        per_dim.append(phases)
        before.append(b)
        padded.append(b + max([n] + [hi for _, hi in reads]))
    plane = [math.prod(padded[i + 1:]) for i in range(len(padded))]
    plan = []
    for rest in itertools.product(*per_dim[1:]):
        group = [[(tuple(t for t, _ in tc),
                   sum((e + b) * p for (_, e), b, p in zip(tc, before, plane)))
                  for tc in itertools.product(*(c[2] for c in (c0,) + rest))]
                 for c0 in per_dim[0]]
        msz = tuple(c[1] for c in rest)
        if merge and _merge_classes(per_dim[0], group, osz[0]):
            # One entry for all of dim 0's residue classes: tap j of class rho reads
            # from base_j(0) + rho*delta_j, a strided view with a class axis.
            taps = [(tuple(g[j][0] for g in group), group[0][j][1],
                     group[1][j][1] - group[0][j][1]) for j in range(len(group[0]))]
            plan.append((slice(None), tuple(c[0] for c in rest), (per_dim[0][0][1],) + msz,
                         len(group), taps))
            continue
        for c0, taps in zip(per_dim[0], group):
            plan.append((c0[0], tuple(c[0] for c in rest), (c0[1],) + msz, 1,
                         [((tap,), base, 0) for tap, base in taps]))
    run = max(m[0] * plane[0] for _, _, m, _, _ in plan)
    span = max(m[0] * plane[0] * nc for _, _, m, nc, _ in plan)
    slack = max([0] + [base + delta * (nc - 1)
                       for _, _, _, nc, taps in plan for _, base, delta in taps])
    return tuple(before), tuple(padded), slack, run, span, plan, lead


def _merge_classes(phases, group, o):
    """Whether the residue classes of dim 0 (``phases``; per class, its taps with
    their flat bases in ``group``) can be computed as one: at least two, each with
    the same number of rows and of taps, tiling the ``o`` output rows, and each
    tap's base an affine function of the class (always so for two classes)."""
    n = len(phases)
    if n < 2 or any(m != phases[0][1] for _, m, _ in phases) or n * phases[0][1] != o:
        return False
    if not group[0] or any(len(g) != len(group[0]) for g in group):
        return False
    return all(g[j][1] - group[0][j][1] == r * (group[1][j][1] - group[0][j][1])
               for r, g in enumerate(group) for j in range(len(g)))


# Bytes one chunk of the shifts path touches (padded input, two accumulators and
# the part of out it writes). Smaller chunks keep more in cache, but each NumPy call
# then does less work: its fixed cost, and the GIL handoffs between the threads
# that run chunks side by side, outweigh the gain below about this size.
_SHIFTS_CHUNK_BYTES = 2 << 20


def _conv_transpose_shifts(x, w, bias, out, stride, pads, dilation, num_threads):
    """Transposed convolution for one input channel per group (``C_in == groups``).

    In each residue class, ``out[n, g*C_out_g + j]`` is ``sum_t w[g, j, t] *
    x[n, g]`` shifted by tap ``t``'s offset: a broadcast multiply and an add per
    tap over contiguous runs of a zero-padded copy of the input (exactly the
    layer's MACs), then one strided copy of the class into ``out``. Chunks of
    images and groups are independent: they run on up to ``num_threads``
    threads (NumPy releases the GIL inside these loops).

    With stride 2 and dilation 1 in the last dim, that dim's two residue classes
    are computed as one, in complex arithmetic (``paired`` in :func:`_shift_plan`):
    half the NumPy calls, and the class copy into ``out`` is a contiguous one
    instead of a stride-2 scatter. ``x * (w0 + 1j*w1)`` is ``(x*w0, x*w1)`` to the
    bit only if no operand is inf or NaN where a real product would not be, so
    this needs finite weights (:func:`conv_transpose` sends others elsewhere), and
    finite inputs when ``k`` is odd (the missing tap ``k`` is a zero weight).

    Pairs double the buffer memory per plane, and merging multiplies the
    accumulators by dim 0's number of classes; both are for planes small enough
    that one image's group fits a chunk (there they save NumPy calls and copies;
    a large plane has few, long calls anyway).
    """
    n_batch, groups = x.shape[:2]
    c_out_g = w.shape[1]
    k_last = w.shape[-1]
    shape_args = (x.shape[2:], w.shape[2:], out.shape[2:], stride, pads, dilation)
    geom = _shift_plan(*shape_args)
    per_group = _shifts_group_bytes(geom, c_out_g, out, x.dtype)
    if (per_group * 4 <= _SHIFTS_CHUNK_BYTES and stride[-1] == 2 and dilation[-1] == 1
            and (k_last % 2 == 0 or bool(np.isfinite(x).all()))):
        work_dtype = np.result_type(x.dtype, np.complex64)
        geom = _shift_plan(*shape_args, paired=True, merge=True)
    else:
        work_dtype = x.dtype
        geom = _shift_plan(*shape_args, merge=per_group * 2 <= _SHIFTS_CHUNK_BYTES)
    paired = work_dtype != x.dtype
    before, padded, slack, run, span, plan, _ = geom
    per_group = _shifts_group_bytes(geom, c_out_g, out, work_dtype)
    if groups * per_group <= _SHIFTS_CHUNK_BYTES:
        chunks = [(b0, b1, 0, groups) for b0, b1 in
                  _batch_chunks(n_batch, groups * per_group, _SHIFTS_CHUNK_BYTES)]
    else:
        step = max(1, _SHIFTS_CHUNK_BYTES // per_group)
        step = -(-groups // -(-groups // step))  # equal parts: 64 groups by 48 -> 32 + 32
        chunks = [(n, n + 1, g0, min(groups, g0 + step))
                  for n in range(n_batch) for g0 in range(0, groups, step)]
    every = (slice(None), slice(None))
    if paired:
        # Taps (2q, 2q + 1) of the last dim as one complex weight; tap k (odd k) is 0.
        wpad = np.zeros(w.shape[:-1] + (k_last + k_last % 2,), dtype=w.dtype)
        wpad[..., :k_last] = w
        w = wpad[..., 0::2] + 1j * wpad[..., 1::2]
    # (G, C_out_g, n, 1) per tap: the class's weights, broadcast over the batch and
    # along the run.
    weights = [[np.stack([w[every + t] for t in per_class], axis=-1)[..., None]
                for per_class, _, _ in taps] for *_, taps in plan]
    bias_g = None if bias is None else bias.reshape(groups, c_out_g, 1, 1)
    bias_acc = bias_g if bias_g is None or not paired else bias_g + 1j * bias_g

    def work(part):
        _shifts_chunks(x, weights, (bias_acc, bias_g), out, geom, work_dtype, part)

    _run_parts(work, chunks, num_threads)


def _shifts_group_bytes(geom, c_out_g, out, work_dtype):
    """Bytes one (image, group) of the shifts path touches: its padded input, two
    accumulators and its part of ``out``."""
    padded, span = geom[1], geom[4]
    item = np.dtype(work_dtype).itemsize
    return (c_out_g * (2 * span * item + math.prod(out.shape[2:]) * out.itemsize)
            + math.prod(padded) * item)


def _shifts_chunks(x, weights, biases, out, geom, work_dtype, chunks):
    """The chunks ``(b0, b1, g0, g1)`` (images, groups) of
    :func:`_conv_transpose_shifts`, with buffers of their own (one call per thread).
    ``biases``: the bias as added to the accumulator (complex when paired) and as
    written to a residue class no tap reaches (or Nones)."""
    before, padded, slack, run, span, plan, lead = geom
    paired = work_dtype != x.dtype
    c_out_g = out.shape[1] // x.shape[1]
    size = math.prod(padded)
    cap = max((b1 - b0) * (g1 - g0) for b0, b1, g0, g1 in chunks)
    # Zero borders (and tail slack) are written once; each chunk refills the interior.
    flat = np.zeros(cap * size + slack, dtype=work_dtype)
    interior = (slice(None), slice(None)) + tuple(
        slice(b, b + n) for b, n in zip(before, x.shape[2:]))
    acc = np.empty(cap * c_out_g * span, dtype=work_dtype)
    tmp = np.empty_like(acc)
    every = (slice(None), slice(None))
    views, wviews = {}, {}

    def chunk_views(nb, gb):
        """Per residue class, the operand views for a chunk of nb images and gb
        groups (the same for every chunk of that size: built once, so the loop
        below only calls ufuncs)."""
        src_len = nb * gb * size
        fill = flat[:src_len].reshape((nb, gb) + padded)[interior]
        if paired:  # imaginary parts stay 0; a real copy is cheaper than a cast
            fill = fill.real
        classes = []
        it = flat.itemsize
        for dst0, dst_rest, msz, n, taps in plan:
            if not taps:
                classes.append((dst0, dst_rest, n, None, None, None, None))
                continue
            shape = (nb, gb, c_out_g, n, msz[0] * size // padded[0])
            a, t = (buf[:math.prod(shape)].reshape(shape) for buf in (acc, tmp))
            srcs = [np.lib.stride_tricks.as_strided(
                flat[base:], shape, (gb * size * it, size * it, 0, delta * it, it))
                for _, base, delta in taps]
            res = a.reshape((nb, gb * c_out_g, n, msz[0]) + padded[1:])
            res = res[every + (slice(None), slice(None)) + tuple(slice(m) for m in msz[1:])]
            if paired:  # the pairs as values; out's first one is `lead` into them
                res = res.view(x.dtype)[..., lead:lead + out.shape[-1]]
            classes.append((dst0, dst_rest, n, a, t, srcs, res))
        return fill, classes

    # With a broadcast operand, NumPy's buffered iterator copies operands to merge
    # rows shorter than its buffer into longer loops; a buffer no longer than one
    # run keeps the plain strided loop (about 2x faster per op here). The setting
    # is per thread (a context variable), so each worker sets its own.
    old_bufsize = np.setbufsize(max(16, min(8192, run - run % 16)))
    try:
        for b0, b1, g0, g1 in chunks:
            key = (b1 - b0, g1 - g0)
            if key not in views:
                views[key] = chunk_views(*key)
            if (g0, g1) not in wviews:
                wviews[g0, g1] = ([[wt[g0:g1] for wt in wts] for wts in weights],
                                  *(None if b is None else b[g0:g1] for b in biases))
            fill, classes = views[key]
            wts_g, bias_c, bias_fill = wviews[g0, g1]
            fill[...] = x[b0:b1, g0:g1]
            rows = (slice(b0, b1), slice(g0 * c_out_g, g1 * c_out_g))
            for (dst0, dst_rest, n, a, t, srcs, res), wts in zip(classes, wts_g):
                dst = out[rows + (dst0,) + dst_rest]
                if a is None:  # no tap reaches this residue class
                    _fill_bias(dst, None if bias_fill is None else bias_fill.reshape(-1))
                    continue
                np.multiply(srcs[0], wts[0], out=a)
                for src, wt in zip(srcs[1:], wts[1:]):
                    np.multiply(src, wt, out=t)
                    np.add(a, t, out=a)
                if bias_c is not None:  # here, not in the strided copy: contiguous is cheaper
                    np.add(a, bias_c, out=a)
                # dim 0's rows r = rho + m*n as (class rho, m), the order of `res`
                st = dst.strides
                np.copyto(np.lib.stride_tricks.as_strided(
                    dst, dst.shape[:2] + (n, dst.shape[2] // n) + dst.shape[3:],
                    st[:2] + (st[2], n * st[2]) + st[3:]), res)
    finally:
        np.setbufsize(old_bufsize)


_POOL = None
_POOL_LOCK = _thread.allocate_lock()  # not `threading`: it costs ~2 ms at import


def _run_parts(work, chunks, num_threads):
    """``work(part)`` for ``min(num_threads, cores, len(chunks))`` contiguous parts of
    ``chunks``: the first in this thread, the others on a shared thread pool."""
    global _POOL
    nt = max(1, min(num_threads, _CPU_COUNT, len(chunks)))
    parts = [chunks[len(chunks) * i // nt:len(chunks) * (i + 1) // nt] for i in range(nt)]
    if nt == 1:
        return work(parts[0])
    if _POOL is None:
        import concurrent.futures  # here: with logging and threading, ~6 ms at import

        with _POOL_LOCK:
            if _POOL is None:
                _POOL = concurrent.futures.ThreadPoolExecutor(
                    max_workers=_CPU_COUNT, thread_name_prefix="deconv_core")
    futures = [_POOL.submit(work, part) for part in parts[1:]]
    try:
        work(parts[0])
    finally:
        for f in futures:
            f.result()


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


def weight_grad(u, v, out, stride, pads, dilation, groups, num_threads):
    """The weight gradient of either op, one formula: per group,
    ``out[c1, c2, t] = sum over images and positions p of u[c1, p] * v[c2, p*s - pb + t*d]``
    (zero where that index leaves ``v``): ``u`` (N, G*C1g, *P), ``v`` (N, G*C2g, *L),
    ``out`` (G*C1g, C2g, *k). For a transposed convolution ``u`` is its input and ``v``
    the output's gradient; for a forward one the other way round.

    One BLAS matmul per tap over a zero-bordered copy of ``v``: ``(C1g, N*P) @ (N*P,
    C2g)`` per group, batches chunked to bound the per-tap copies.
    """
    n_batch, nd = u.shape[0], u.ndim - 2
    psz, kernel = u.shape[2:], out.shape[2:]
    c1g, c2g = u.shape[1] // groups, out.shape[1]
    ptot = math.prod(psz)
    out.fill(0)
    if out.size == 0 or n_batch == 0 or ptot == 0:
        return
    if (nd == 1 and dilation[0] == 1 and stride[0] >= 2 and kernel[0] % stride[0] == 0
            and kernel[0] // stride[0] >= 2 and c2g * stride[0] >= _BLOCKS_MIN_REDUCTION):
        return _weight_grad_blocks(u, v, out, stride[0], pads[0][0], groups)
    # v index p*s - pb + t*d: a border of pb before and whatever the last tap reaches after
    before = [pb for pb, _ in pads]
    after = [max(0, (p - 1) * s - pb + (k - 1) * d + 1 - n)
             for p, s, (pb, _), k, d, n in zip(psz, stride, pads, kernel, dilation, v.shape[2:])]
    per_item = (u.shape[1] + v.shape[1]) * ptot * u.itemsize
    acc = np.zeros((groups, c1g, c2g) + tuple(kernel), dtype=out.dtype)
    for b0, b1 in _batch_chunks(n_batch, per_item):
        nb = b1 - b0
        vp = np.pad(v[b0:b1], [(0, 0), (0, 0)] + list(zip(before, after)))
        um = u[b0:b1].reshape(nb, groups, c1g, ptot).transpose(1, 2, 0, 3).reshape(
            groups, c1g, nb * ptot)
        for t in itertools.product(*[range(k) for k in kernel]):
            sl = tuple(slice(tj * d, tj * d + (p - 1) * s + 1, s)
                       for tj, d, p, s in zip(t, dilation, psz, stride))
            vt = vp[(slice(None), slice(None)) + sl].reshape(nb, groups, c2g, ptot)
            vm = vt.transpose(1, 2, 0, 3).reshape(groups, c2g, nb * ptot)
            acc[(slice(None),) * 3 + t] += np.matmul(um, vm.transpose(0, 2, 1))
    out[...] = acc.reshape(out.shape)


# a stride's worth of v's channels per group from which a 1-D kernel of whole strides
# takes _weight_grad_blocks (the compiled backend's planner.blocks_min_reduction)
_BLOCKS_MIN_REDUCTION = 64


def _weight_grad_blocks(u, v, out, s, pb, groups):
    """:func:`weight_grad` of a 1-D layer whose kernel is Q >= 2 whole strides (an
    inverse STFT), one matmul per kernel block instead of one per tap: with the padded
    ``v`` cut into stride-long blocks, tap ``q*s + r`` of position ``o`` reads block
    ``o + q``, so the taps of block ``q`` are ``u`` times blocks ``q .. q + P - 1``."""
    n_batch, _, no = u.shape
    n, k = v.shape[2], out.shape[2]
    c1g, c2g = u.shape[1] // groups, out.shape[1]
    q_count = k // s
    nb = no + q_count - 1
    vp = np.zeros((n_batch, groups * c2g, nb * s), dtype=out.dtype)
    dst0, src0 = max(pb, 0), max(-pb, 0)
    ln = min(n - src0, nb * s - dst0)
    if ln > 0:
        vp[:, :, dst0:dst0 + ln] = v[:, :, src0:src0 + ln]
    # blocks (G, N, block, C2g x s) and u as (G, C1g, N x P)
    blocks = vp.reshape(n_batch, groups, c2g, nb, s).transpose(1, 0, 3, 2, 4).reshape(
        groups, n_batch, nb, c2g * s)
    um = u.reshape(n_batch, groups, c1g, no).transpose(1, 2, 0, 3).reshape(
        groups, c1g, n_batch * no)
    acc = np.empty((groups, q_count, c1g, c2g * s), dtype=out.dtype)
    for q in range(q_count):
        bq = blocks[:, :, q:q + no].reshape(groups, n_batch * no, c2g * s)
        np.matmul(um, bq, out=acc[:, q])
    out[...] = acc.reshape(groups, q_count, c1g, c2g, s).transpose(0, 2, 3, 1, 4).reshape(
        out.shape)


def bias_grad(gy, out, num_threads):
    """The bias gradient of either op: ``gy`` (N, C, *spatial) summed over images and
    positions into ``out`` (C,)."""
    np.sum(gy, axis=(0,) + tuple(range(2, gy.ndim)), out=out)


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
