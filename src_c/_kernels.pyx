"""Compiled kernels of deconv_core: the driver of the C kernel registry.

The package wrapper validates every argument; these functions trust their inputs:
C-contiguous float32/float64 arrays of matching dtype, ``out`` of the exact output
shape (its contents are overwritten), ``pads`` as ``(before, after)`` pairs.

A call becomes one problem descriptor (``dc_problem``, src_c/problem/dc_problem.h:
1-D and 2-D problems are 3-D ones with leading singleton dims) and its tap lists;
the planner (registry/dc_planner.h) picks a kernel of the registry
(registry/dc_kernels.def), or the caller forces one by name (``_kernel="chlast"``),
and the kernel runs with the GIL released.  ``KERNELS`` lists what the registry holds.
Each output element is computed by one thread in a fixed order, so results are
bit-identical for any ``num_threads``.
"""
# Compiler directives come from setup.py (one set; DECONV_CORE_DEBUG_CHECKS=1 turns
# boundscheck/wraparound/initializedcheck on); they are recorded in the .pxi below.
include "_build_config.pxi"

import threading
from collections import namedtuple

import numpy as np

cimport numpy as cnp

from _openmp_helpers cimport DECONV_CORE_OPENMP, omp_get_max_threads
from dc_registry cimport (
    DC_F32, DC_F64, DC_IMPL_BLAS, DC_NISA, DC_NKERNEL, DC_OP_CONV, DC_OP_TCONV, DC_OP_WGRAD,
    DC_TUNE_cols_max_bytes, DC_TUNE_frames_batch_bytes, DC_TUNE_frames_max_bytes, dc_idx,
    dc_isa_label, dc_isa_name, dc_kernel_built,
    dc_kernel_family, dc_kernel_find, dc_kernel_fn, dc_kernel_get, dc_kernel_impl,
    dc_kernel_op, dc_kernel_op_name, dc_kernel_resolve, dc_kernel_serves, dc_kernel_tiles,
    dc_blocks_shape, dc_ola_shape, dc_planner_pick, dc_planner_threads, dc_problem, dc_problem_derive,
    dc_registry_init, dc_registry_isa, dc_registry_isa_cpu, dc_registry_set_isa,
    dc_f32_bias_grad_sum__portable, dc_f64_bias_grad_sum__portable,
    dc_rows_clones, dc_rows_isa, dc_taps, dc_taps_build, dc_taps_free, dc_tuning_count,
    dc_tuning_name, dc_tuning_value,
)

cnp.import_array()
dc_registry_init()      # the ISA row of the kernel table, chosen once per process

_OPS = {"tconv": DC_OP_TCONV, "conv": DC_OP_CONV, "wgrad": DC_OP_WGRAD}

Kernel = namedtuple("Kernel", "name op family dtype isa tiles impl serves available")
Kernel.__doc__ = """One compiled kernel of the registry (src_c/registry/dc_kernels.def).

``name`` states its contract, as ``f32_tconv_chlast__avx512``: dtype, op, family, ISA;
``tiles`` are its micro-kernels' register tiles (``12x2``: its own meaning per family,
see src_c/kernels/<family>/tiles.h), named ``f32_tconv_chlast_12x2__avx512``;
``available``: this CPU can run it."""


def _registry():
    """KERNELS: every kernel of the C table, per ISA row it is built for and dtype."""
    cdef int kid, isa
    kernels = []
    cpu = dc_registry_isa_cpu()
    for kid in range(DC_NKERNEL):
        op, family = dc_kernel_op_name(kid).decode(), dc_kernel_family(kid).decode()
        # a PORTABLE kernel fills every row with one build: listed once
        rows = [0] if dc_kernel_built(kid, 0) else [i for i in range(DC_NISA)
                                                    if dc_kernel_built(kid, i)]
        for isa in rows:
            isa_name = dc_isa_name(isa).decode()
            tiles = tuple(dc_kernel_tiles(kid, isa).decode().split())
            for dt in ("f32", "f64"):
                kernels.append(Kernel(
                    f"{dt}_{op}_{family}__{isa_name}", op, family,
                    "float32" if dt == "f32" else "float64", isa_name, tiles,
                    "blas" if dc_kernel_impl(kid) == DC_IMPL_BLAS else "c",
                    dc_kernel_serves(kid).decode(), isa <= cpu))
    return tuple(kernels)


KERNELS = _registry()
# every family of the C table, built on this CPU or not: what _kernel= accepts (a family
# this build or CPU lacks runs the op's portable direct kernel, dc_kernel_resolve)
FAMILIES = {op: tuple(dict.fromkeys(dc_kernel_family(kid).decode() for kid in range(DC_NKERNEL)
                                    if dc_kernel_op_name(kid).decode() == op))
            for op in _OPS}

# Per-Python-thread GEMM column buffer, reused across calls (no page faults on every
# call); at most cols_max_bytes is kept per thread.
_tls = threading.local()


def conv_transpose(x, w, bias, out, stride, pads, dilation, groups, num_threads, *,
                   _kernel=None):
    """Transposed convolution into ``out`` (weight layout (C_in, C_out/groups, *k)).

    ``_kernel`` is private (tests, benchmarks): a family of ``FAMILIES["tconv"]`` to
    force instead of the planner's choice; one this CPU or this shape cannot run falls
    back as ``dc_kernel_resolve`` says (the direct kernel, or channels-last for a fold
    that does not fold).
    """
    _call(DC_OP_TCONV, x, w, bias, out, x, w, out, stride, pads, dilation, groups,
          num_threads, _kernel_id(DC_OP_TCONV, _kernel))


def conv(x, w, bias, out, stride, pads, dilation, groups, num_threads, *, _kernel=None):
    """Forward convolution (cross-correlation, weight layout (C_out, C_in/groups, *k))
    into ``out``.  ``_kernel``: a family of ``FAMILIES["conv"]``, as for
    :func:`conv_transpose`."""
    _call(DC_OP_CONV, x, w, bias, out, x, w, out, stride, pads, dilation, groups,
          num_threads, _kernel_id(DC_OP_CONV, _kernel))


def weight_grad(u, v, out, stride, pads, dilation, groups, num_threads, *, _kernel=None):
    """The weight gradient of either op into ``out``: per group, ``out[c1, c2, t]`` = the
    sum over images and positions p of ``u[c1, p] * v[c2, p*stride - pad + t*dilation]``
    (u (N, G*C1g, *P), v (N, G*C2g, *L), out (G*C1g, C2g, *k); only the ``before`` of
    ``pads`` matters).  ``_kernel``: a family of ``FAMILIES["wgrad"]``."""
    # the forward map p -> l: "input" v (dims n, C2g channels per group), "output" u
    # (dims no, C1g channels per group), "weights" out (its dims the taps)
    _call(DC_OP_WGRAD, v, u, None, out, v, out, u, stride, pads, dilation, groups,
          num_threads, _kernel_id(DC_OP_WGRAD, _kernel))


def bias_grad(gy, out, num_threads):
    """The bias gradient of either op into ``out``: ``gy`` (N, C, *spatial) summed over
    images and positions (C-contiguous, ``out`` (C,) of its dtype: the wrapper checked)."""
    cdef dc_idx n = gy.shape[0], c = gy.shape[1], p = gy.size // max(n * c, 1)
    cdef int nt = num_threads
    cdef const float[::1] gf
    cdef const double[::1] gd
    cdef float[::1] of
    cdef double[::1] od
    if gy.dtype == np.float32:
        gf, of = gy.reshape(-1), out
        with nogil:
            dc_f32_bias_grad_sum__portable(&gf[0] if gf.shape[0] else NULL, &of[0] if c else NULL,
                                           n, c, p, nt)
    else:
        gd, od = gy.reshape(-1), out
        with nogil:
            dc_f64_bias_grad_sum__portable(&gd[0] if gd.shape[0] else NULL, &od[0] if c else NULL,
                                           n, c, p, nt)


def openmp_enabled():
    """True iff the extension was compiled with OpenMP."""
    return bool(DECONV_CORE_OPENMP)


def max_threads():
    """omp_get_max_threads(): follows OMP_NUM_THREADS and threadpoolctl (1 if serial)."""
    return omp_get_max_threads()


def kernels_in_use():
    """``{op: (family, ...)}``: the registry's kernels this process runs, on the ISA
    row in use (the others fall back to a portable kernel)."""
    row = dc_registry_isa()
    return {op: tuple(dict.fromkeys(
        k.family for k in KERNELS
        if k.op == op and k.isa in ("portable", dc_isa_name(row).decode())))
        for op in _OPS}


def _isa_names():
    return [dc_isa_name(i).decode() for i in range(DC_NISA)]


def _set_isa(name):
    """Private (tests): run the kernel table's row ``name`` ("portable", "avx2",
    "avx512"), capped at what the CPU has; returns the name of the row now in use.
    Call it while no kernel runs."""
    return dc_isa_name(dc_registry_set_isa(_isa_names().index(name))).decode()


def _isa():
    """Private: the name of the kernel table's row in use."""
    return dc_isa_name(dc_registry_isa()).decode()


def build_info():
    """How this extension was built and what it runs: flags, Cython directives, OpenMP,
    checks, the kernel ISA and the planner's thresholds."""
    cdef int i
    return {
        "openmp": bool(DECONV_CORE_OPENMP),
        "openmp_probe": BUILD_OPENMP_PROBE,
        "compiler_flags": list(BUILD_COMPILE_ARGS),
        "link_flags": list(BUILD_LINK_ARGS),
        "cython_directives": dict(BUILD_CYTHON_DIRECTIVES),
        "bounds_checks": BUILD_BOUNDS_CHECKS,
        "march_native": BUILD_MARCH_NATIVE,
        "target_clones": bool(dc_rows_clones()),
        "isa": dc_rows_isa().decode(),
        "kernel_isa": dc_isa_label(dc_registry_isa()).decode(),
        "cython_version": BUILD_CYTHON_VERSION,
        "planner": {dc_tuning_name(i).decode(): dc_tuning_value(i)
                    for i in range(dc_tuning_count())},
    }


cdef int _kernel_id(int op, object name) except -2:
    """-1 for the planner, else the id of the op's kernel family ``name``."""
    if name is None:
        return -1
    cdef int kid = dc_kernel_find(op, name.encode()) if isinstance(name, str) else -1
    if kid < 0:
        opname = {DC_OP_TCONV: "tconv", DC_OP_CONV: "conv", DC_OP_WGRAD: "wgrad"}[op]
        raise ValueError(f"_kernel={name!r} is not a {opname} kernel; the registry has "
                         f"{', '.join(FAMILIES[opname])}")
    return kid


cdef int _problem(dc_problem *p, int op, int nd, const cnp.npy_intp *xs,
                  const cnp.npy_intp *ws, const cnp.npy_intp *os, object stride,
                  object pads, object dilation, dc_idx groups, int typenum) except -1:
    """The canonical call as a 3-D problem, from the batched shapes (N, C, *spatial) of
    x and out and the weight's shape."""
    cdef int off = 3 - nd
    cdef int j
    for j in range(3):
        p.n[j] = p.k[j] = p.s[j] = p.d[j] = p.no[j] = 1
        p.pb[j] = 0
    for j in range(nd):
        p.n[off + j] = xs[2 + j]
        p.k[off + j] = ws[2 + j]
        p.no[off + j] = os[2 + j]
        p.s[off + j] = stride[j]
        p.d[off + j] = dilation[j]
        p.pb[off + j] = pads[j][0]
    p.op = op
    p.dtype = DC_F32 if typenum == cnp.NPY_FLOAT32 else DC_F64
    p.nt = 1
    p.N = xs[0]
    p.groups = groups
    p.cin_g = xs[1] // groups
    p.cout_g = os[1] // groups
    p.taps = NULL
    dc_problem_derive(p)
    return 0


cdef int _build_taps(dc_taps *taps, dc_problem *p) except -1:
    if dc_taps_build(taps, p) != 0:
        raise MemoryError(f"deconv_core: out of memory building the tap lists (input "
                          f"size {(p.n[0], p.n[1], p.n[2])}, output size "
                          f"{(p.no[0], p.no[1], p.no[2])})")
    p.taps = taps
    return 0


cdef int _call(int op, cnp.ndarray a, cnp.ndarray b, object bias, cnp.ndarray out,
               cnp.ndarray xs, cnp.ndarray ws, cnp.ndarray os, object stride, object pads,
               object dilation, dc_idx groups, int num_threads, int kid) except -1:
    """One kernel call on operands a, b (and bias) into out; the problem's geometry from
    the shapes of xs (its input), ws (its weights) and os (its output)."""
    cdef dc_problem p
    cdef dc_taps taps
    _problem(&p, op, cnp.PyArray_NDIM(xs) - 2, cnp.PyArray_DIMS(xs), cnp.PyArray_DIMS(ws),
             cnp.PyArray_DIMS(os), stride, pads, dilation, groups, cnp.PyArray_TYPE(a))
    if op != DC_OP_WGRAD and (p.N == 0 or p.cout_g == 0):
        return 0     # an empty output (the weight gradient of no images is zeros)
    _build_taps(&taps, &p)
    try:
        if kid < 0:
            kid = dc_planner_pick(&p)
        _run(&p, dc_kernel_resolve(kid, &p), num_threads, a, b, bias, out)
    finally:
        dc_taps_free(&taps)
    return 0


cdef int _run(dc_problem *p, int kid, int num_threads, cnp.ndarray x, cnp.ndarray w,
              object bias, cnp.ndarray out) except -1:
    """Kernel kid (resolved) on problem p (taps built): x, w, bias C-contiguous of out's
    dtype; out of p's shape (x and out may be unbatched: only their data are read)."""
    cdef const void *bp = NULL
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *wp = cnp.PyArray_DATA(w)
    cdef void *op = cnp.PyArray_DATA(out)
    cdef dc_kernel_fn fn = dc_kernel_get(kid, p.dtype)
    cdef int rc
    p.nt = dc_planner_threads(p, kid, num_threads)
    if bias is not None:
        bp = cnp.PyArray_DATA(<cnp.ndarray> bias)
    if dc_kernel_impl(kid) == DC_IMPL_BLAS and p.op == DC_OP_TCONV:
        rc = _run_blas(p, fn, x, w, bp, out)
    elif dc_kernel_impl(kid) == DC_IMPL_BLAS and p.op == DC_OP_CONV:
        rc = _run_frames_conv(p, fn, x, w, bias, out)
    elif dc_kernel_impl(kid) == DC_IMPL_BLAS:
        rc = _run_frames_wgrad(p, fn, x, w, out)
    else:
        with nogil:
            rc = fn(p, xp, wp, bp, op)
    if rc != 0:
        raise MemoryError(f"deconv_core: out of memory in the "
                          f"{dc_kernel_family(kid).decode()} kernel's buffers (weight shape "
                          f"{(<object> w).shape}, input shape {(<object> x).shape})")
    return 0


cdef int _run_blas(dc_problem *p, dc_kernel_fn fn, cnp.ndarray x, cnp.ndarray w,
                   const void *bp, cnp.ndarray out) except -2:
    """A BLAS kernel: per batch chunk the channel reduction as one matmul (GIL held),
    then the kernel's C part (the phase-major gather, or the overlap-add for
    dc_ola_shape) on the columns.  Returns the C part's status."""
    cdef dc_idx N = p.N, G = p.groups, cin_g = p.cin_g, pin = p.pin, K = p.K
    cdef dc_idx cout = G * p.cout_g, cok = p.cout_g * K
    cdef dc_idx itemsize = cnp.PyArray_ITEMSIZE(x)
    cdef dc_idx per_n = cout * K * pin * itemsize
    cdef dc_idx nb_max = max(1, min(N, DC_TUNE_cols_max_bytes // max(per_n, 1)))
    cdef dc_idx n0, nb
    cdef dc_problem chunk = p[0]
    cdef const void *cp
    cdef char *op
    cdef int rc
    cdef bint ola = dc_ola_shape(p)
    x4 = x.reshape(N, G, cin_g, pin)
    w3 = w.reshape(G, cin_g, cok)
    wt = w3.transpose(0, 2, 1)                           # (G, C_out_g*K, C_in_g)
    colsbuf = _cols_buffer(cout * K * nb_max * pin, x.dtype)
    for n0 in range(0, N, nb_max):
        nb = min(nb_max, N - n0)
        cols = colsbuf[:cout * K * nb * pin]
        if ola:      # taps last: (nb, G, pin, C_out_g*K)
            if nb == 1 and G == 1:
                np.matmul(x4[n0, 0].T, w3[0], out=cols.reshape(pin, cok))
            else:
                np.matmul(x4[n0:n0 + nb].transpose(0, 1, 3, 2), w3,
                          out=cols.reshape(nb, G, pin, cok))
        else:        # (G*C_out_g*K, nb*pin): per (c_out, tap) the chunk's images
            if nb == 1:
                xg = x4[n0]
            else:
                xg = np.ascontiguousarray(x4[n0:n0 + nb].transpose(1, 2, 0, 3))
                xg = xg.reshape(G, cin_g, nb * pin)
            if G == 1:
                np.matmul(wt[0], xg[0], out=cols.reshape(cok, nb * pin))
            else:
                np.matmul(wt, xg, out=cols.reshape(G, cok, nb * pin))
        chunk.N = nb
        cp = cnp.PyArray_DATA(<cnp.ndarray> cols)
        op = <char *> cnp.PyArray_DATA(out) + n0 * cout * p.pout * itemsize
        with nogil:
            rc = fn(&chunk, cp, NULL, bp, op)
        if rc != 0:
            return rc
    return 0


cdef int _outermost(const dc_idx *dims) noexcept:
    """The outermost of the three dims longer than 1 (the last one if none is)."""
    cdef int j
    for j in range(2):
        if dims[j] > 1:
            return j
    return 2


cdef int _run_frames_conv(dc_problem *p, dc_kernel_fn fn, cnp.ndarray x, cnp.ndarray w,
                          object bias, cnp.ndarray out) except -2:
    """conv gemm: per image, group and slab of output positions (along the outermost
    output dim, at most frames_max_bytes of columns), the kernel's columns, then
    out = W . cols^T written in place; the bias after.  When two or more whole images'
    columns fit in frames_batch_bytes, they go into one matmul instead: a product with
    few columns streams the whole weight for them, at the memory's speed, not the FMA
    units' (a 4x4 output map of 512 channels: 16 columns per image)."""
    if dc_blocks_shape(p):
        return _blocks_conv(p, x, w, bias, out)
    cdef dc_idx N = p.N, G = p.groups, cin_g = p.cin_g, cout_g = p.cout_g
    cdef dc_idx pout = p.pout, ck = cin_g * p.K
    cdef dc_idx itemsize = cnp.PyArray_ITEMSIZE(x)
    cdef int j = _outermost(p.no)
    cdef dc_idx inner = pout // max(p.no[j], 1)
    cdef dc_idx slab = max(1, min(p.no[j], DC_TUNE_frames_max_bytes // max(inner * ck * itemsize, 1)))
    cdef dc_idx nb = 1
    cdef dc_idx n, g, a, ln
    cdef dc_problem sub = p[0]
    cdef const char *xp
    cdef char *cp
    cdef int rc = 0
    if pout * ck * itemsize <= DC_TUNE_frames_batch_bytes:
        nb = min(N, DC_TUNE_frames_batch_bytes // max(pout * ck * itemsize, 1))
    w3 = w.reshape(G, cout_g, ck)
    o4 = out.reshape(N, G, cout_g, pout)
    colsbuf = np.empty((nb * pout if nb > 1 else slab * inner) * ck, dtype=x.dtype)
    cp = <char *> cnp.PyArray_DATA(colsbuf)
    sub.N = 1
    sub.groups = 1
    sub.nt = 1      # BLAS threads still spin between the matmuls (gather_parallel_min_work)
    if nb > 1:
        dc_problem_derive(&sub)
        rc = _frames_conv_images(p, &sub, fn, x, w3, o4, colsbuf, nb)
        if rc != 0:
            return rc
    else:
        for n in range(N):
            for g in range(G):
                xp = <const char *> cnp.PyArray_DATA(x) + (n * G + g) * cin_g * p.pin * itemsize
                for a in range(0, p.no[j], slab):
                    ln = min(slab, p.no[j] - a)
                    sub.no[j] = ln
                    sub.pb[j] = p.pb[j] - a * p.s[j]
                    dc_problem_derive(&sub)
                    with nogil:
                        rc = fn(&sub, xp, NULL, NULL, cp)
                    if rc != 0:
                        return rc
                    cols = colsbuf[:ln * inner * ck].reshape(ln * inner, ck)
                    np.matmul(w3[g], cols.T, out=o4[n, g, :, a * inner:(a + ln) * inner])
    if bias is not None:
        o3 = out.reshape(N, G * cout_g, pout)
        o3 += (<cnp.ndarray> bias)[:, None]
    return 0


class _StrideBlocks:
    """The stride-long blocks of one image and group of the input of a dc_blocks_shape
    problem (1-D): block j holds positions [j*s - pad, (j+1)*s - pad) of every
    channel, zero outside the input, as row j of a (no + Q - 1, C x s) matrix (each
    channel's s values in turn).  The buffers are reused from one image to the next."""

    def __init__(self, c, n, s, nb, pb, dtype):
        """c channels of n positions, nb blocks of s, pb positions of padding before."""
        self.c, self.s, self.nb = c, s, nb
        self.dst0, self.src0 = max(pb, 0), max(-pb, 0)
        self.ln = min(n - self.src0, self.nb * s - self.dst0)
        self.pad = np.zeros((c, self.nb * s), dtype=dtype)   # its margins stay zero
        self.xb = np.empty((self.nb, c, s), dtype=dtype) if c > 1 else None

    def of(self, src):
        """src (C, n): its blocks (a view of the padded copy for one channel)."""
        if self.ln > 0:
            self.pad[:, self.dst0:self.dst0 + self.ln] = src[:, self.src0:self.src0 + self.ln]
        if self.c == 1:
            return self.pad.reshape(self.nb, self.s)
        np.copyto(self.xb, self.pad.reshape(self.c, self.nb, self.s).transpose(1, 0, 2))
        return self.xb.reshape(self.nb, self.c * self.s)


cdef int _blocks_conv(dc_problem *p, cnp.ndarray x, cnp.ndarray w, object bias,
                      cnp.ndarray out) except -2:
    """conv gemm of a 1-D layer whose kernel is Q >= 2 whole strides (an inverse-STFT
    shape; problem/dc_shapes.h dc_blocks_shape).  Cut the padded input into blocks of
    one stride, xb[j] = x[:, j*s - pad : (j+1)*s - pad]: output o reads blocks o to
    o + Q - 1, so per image and group the result is the sum over q of the weights'
    q-th stride-long slice times blocks q to q + no - 1, Q matmuls on the blocks where
    they lie (the columns would be Q copies of the input), summed in q order.  (One
    matmul of all Q slices, its products added shifted, was no faster.)"""
    cdef dc_idx N = p.N, G = p.groups, cin_g = p.cin_g, cout_g = p.cout_g
    cdef dc_idx s = p.s[2], n = p.n[2], no = p.no[2], Q = p.k[2] // s
    cdef dc_idx nn, g, q
    # weights [group][q][C_out][C_in x stride]
    wq = np.ascontiguousarray(w.reshape(G, cout_g, cin_g, Q, s).transpose(0, 3, 1, 2, 4))
    wq = wq.reshape(G, Q, cout_g, cin_g * s)
    x4 = x.reshape(N, G, cin_g, n)
    o4 = out.reshape(N, G, cout_g, no)
    xb = _StrideBlocks(cin_g, n, s, no + Q - 1, p.pb[2], x.dtype)
    tmp = np.empty((cout_g, no), dtype=x.dtype)
    for nn in range(N):
        for g in range(G):
            blocks = xb.of(x4[nn, g])
            og = o4[nn, g]
            np.matmul(wq[g, 0], blocks[0:no].T, out=og)
            for q in range(1, Q):
                np.matmul(wq[g, q], blocks[q:q + no].T, out=tmp)
                np.add(og, tmp, out=og)
    if bias is not None:
        o3 = out.reshape(N, G * cout_g, no)
        o3 += (<cnp.ndarray> bias)[:, None]
    return 0


cdef int _frames_conv_images(dc_problem *p, dc_problem *sub, dc_kernel_fn fn, cnp.ndarray x,
                             object w3, object o4, cnp.ndarray colsbuf, dc_idx nb) except -2:
    """conv gemm over batches of nb whole images: their columns side by side (sub: one
    image and group of p, as _run_frames_conv prepares it), one matmul per group and
    batch into a (C_out_g, images x positions) product, then copied to the images'
    planes."""
    cdef dc_idx N = p.N, G = p.groups, cin_g = p.cin_g, cout_g = p.cout_g
    cdef dc_idx pout = p.pout, ck = cin_g * p.K
    cdef dc_idx itemsize = cnp.PyArray_ITEMSIZE(x)
    cdef dc_idx n0, m, i, g
    cdef const char *xp
    cdef char *cp = <char *> cnp.PyArray_DATA(colsbuf)
    cdef int rc = 0
    prod = np.empty((cout_g, nb * pout), dtype=x.dtype)
    for g in range(G):
        for n0 in range(0, N, nb):
            m = min(nb, N - n0)
            for i in range(m):
                xp = (<const char *> cnp.PyArray_DATA(x)
                      + ((n0 + i) * G + g) * cin_g * p.pin * itemsize)
                with nogil:
                    rc = fn(sub, xp, NULL, NULL, cp + i * pout * ck * itemsize)
                if rc != 0:
                    return rc
            cols = colsbuf[:m * pout * ck].reshape(m * pout, ck)
            part = prod[:, :m * pout]
            np.matmul(w3[g], cols.T, out=part)
            np.copyto(o4[n0:n0 + m, g], part.reshape(cout_g, m, pout).transpose(1, 0, 2))
    return 0


cdef int _run_frames_wgrad(dc_problem *p, dc_kernel_fn fn, cnp.ndarray v, cnp.ndarray u,
                           cnp.ndarray out) except -2:
    """wgrad gemm: per group, channel of v and slab of taps (along the outermost kernel
    dim, at most frames_max_bytes of columns), the sum over images of U . cols, in
    image order, written into the (u channels x taps) block of out."""
    if dc_blocks_shape(p) and p.N > 0:
        return _blocks_wgrad(p, v, u, out)
    cdef dc_idx N = p.N, G = p.groups, vg = p.cin_g, ug = p.cout_g
    cdef dc_idx pout = p.pout, K = p.K
    cdef dc_idx itemsize = cnp.PyArray_ITEMSIZE(v)
    cdef int j = _outermost(p.k)
    cdef dc_idx inner = K // max(p.k[j], 1)
    cdef dc_idx slab = max(1, min(p.k[j], DC_TUNE_frames_max_bytes // max(inner * pout * itemsize, 1)))
    cdef dc_idx n, g, c, a, ln
    cdef dc_problem sub = p[0]
    cdef const char *vp
    cdef void *cp
    cdef int rc = 0
    if N == 0:
        out[...] = 0
        return 0
    u4 = u.reshape(N, G, ug, pout)
    o4 = out.reshape(G, ug, vg, K)
    colsbuf = np.empty(slab * inner * pout, dtype=v.dtype)
    prod = np.empty((ug, slab * inner), dtype=v.dtype)   # one image's product, reused
    cp = cnp.PyArray_DATA(colsbuf)
    sub.N = 1
    sub.groups = 1
    sub.cin_g = 1
    sub.nt = 1      # BLAS threads still spin between the matmuls (gather_parallel_min_work)
    for g in range(G):
        for c in range(vg):
            for a in range(0, p.k[j], slab):
                ln = min(slab, p.k[j] - a)
                sub.k[j] = ln
                sub.pb[j] = p.pb[j] - a * p.d[j]
                dc_problem_derive(&sub)
                block = o4[g, :, c, a * inner:(a + ln) * inner]
                for n in range(N):
                    vp = (<const char *> cnp.PyArray_DATA(v)
                          + ((n * G + g) * vg + c) * p.pin * itemsize)
                    with nogil:
                        rc = fn(&sub, vp, NULL, NULL, cp)
                    if rc != 0:
                        return rc
                    cols = colsbuf[:ln * inner * pout].reshape(pout, ln * inner)
                    if n == 0:
                        np.matmul(u4[n, g], cols, out=block)
                    else:
                        part = prod[:, :ln * inner]
                        np.matmul(u4[n, g], cols, out=part)
                        block += part
    return 0


cdef int _blocks_wgrad(dc_problem *p, cnp.ndarray v, cnp.ndarray u,
                       cnp.ndarray out) except -2:
    """wgrad gemm of a 1-D layer whose kernel is Q >= 2 whole strides (the conv gemm's
    blocks, _blocks_conv): tap q*s + r of position o reads block o + q of the padded v,
    so per group the taps of kernel block q are the sum over images, in image order, of
    U times blocks q to q + no - 1, one matmul each, on the blocks where they lie."""
    cdef dc_idx N = p.N, G = p.groups, vg = p.cin_g, ug = p.cout_g
    cdef dc_idx s = p.s[2], n = p.n[2], no = p.no[2], Q = p.k[2] // s
    cdef dc_idx nn, g, q
    u4 = u.reshape(N, G, ug, no)
    v4 = v.reshape(N, G, vg, n)
    o5 = out.reshape(G, ug, vg, Q, s)
    vb = _StrideBlocks(vg, n, s, no + Q - 1, p.pb[2], v.dtype)
    acc = np.empty((Q, ug, vg * s), dtype=v.dtype)    # the sums of a group, [q][u][v x r]
    part = np.empty((ug, vg * s), dtype=v.dtype)
    for g in range(G):
        for nn in range(N):
            blocks = vb.of(v4[nn, g])
            for q in range(Q):
                if nn == 0:
                    np.matmul(u4[nn, g], blocks[q:q + no], out=acc[q])
                else:
                    np.matmul(u4[nn, g], blocks[q:q + no], out=part)
                    np.add(acc[q], part, out=acc[q])
        np.copyto(o5[g], acc.reshape(Q, ug, vg, s).transpose(1, 2, 0, 3))
    return 0


cdef object _cols_buffer(dc_idx size, object dtype):
    buf = getattr(_tls, "cols", None)
    if buf is None or buf.dtype != dtype or buf.shape[0] < size:
        buf = np.empty(size, dtype=dtype)
        if buf.nbytes <= DC_TUNE_cols_max_bytes:
            _tls.cols = buf
    return buf


cdef inline bint _runnable(object a, int typenum) noexcept:
    """An array the kernels can read in place (what the wrapper would not copy)."""
    return (type(a) is np.ndarray
            and cnp.PyArray_TYPE(<cnp.ndarray> a) == typenum
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> a)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray> a)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray> a))


cdef class Runner:
    """A validated call, its problem and tap lists prepared once, for repeated
    calls with the same shapes, dtypes and arguments (made by :func:`make_runner` from
    the canonical call; the package's call cache keeps it).

    Calling it with arrays the kernels can read in place (C-contiguous, aligned, native
    byte order, of the compute dtype) allocates the result and runs the kernel with no
    Python-level work; for anything else it returns None and the caller takes the
    general path (which converts, or raises).
    """
    cdef dc_problem p
    cdef dc_taps taps
    cdef bint has_taps, empty
    cdef int typenum, max_threads, out_nd
    cdef cnp.npy_intp out_dims[5]

    def __cinit__(self):
        self.has_taps = False

    def __dealloc__(self):
        if self.has_taps:
            dc_taps_free(&self.taps)

    def __call__(self, x, w, bias, num_threads):
        cdef int nt
        if num_threads is None:
            nt = omp_get_max_threads()
        elif type(num_threads) is int and 1 <= num_threads <= self.max_threads:
            nt = num_threads
        else:
            return None
        if not (_runnable(x, self.typenum) and _runnable(w, self.typenum)
                and (bias is None or _runnable(bias, self.typenum))):
            return None
        result = cnp.PyArray_EMPTY(self.out_nd, self.out_dims, self.typenum, 0)
        if not self.empty:
            _run(&self.p, dc_kernel_resolve(dc_planner_pick(&self.p), &self.p), nt, x, w,
                 bias, result)
        return result


def make_runner(bint transposed, dtype, x_shape, w_shape, out_shape, stride, pads,
                dilation, dc_idx groups, bint unbatched, int max_threads):
    """A :class:`Runner` for a canonical call.

    ``dtype`` is the compute dtype; the shapes are the batched ``(N, C, *spatial)``
    ones of x and out (a leading 1 for an unbatched call) and the weight's;
    ``max_threads`` bounds ``num_threads``.
    """
    cdef Runner r = Runner.__new__(Runner)
    cdef cnp.npy_intp xs[5]
    cdef cnp.npy_intp ws[5]
    cdef int j, nd = len(out_shape) - 2
    for j in range(nd + 2):
        xs[j] = x_shape[j]
        ws[j] = w_shape[j]
        r.out_dims[j] = out_shape[j]
    r.typenum = np.dtype(dtype).num
    _problem(&r.p, DC_OP_TCONV if transposed else DC_OP_CONV, nd, xs, ws, r.out_dims,
             stride, pads, dilation, groups, r.typenum)
    r.max_threads = max_threads
    r.empty = r.p.N == 0 or r.p.cout_g == 0
    r.out_nd = nd + 2 - unbatched
    if unbatched:
        for j in range(r.out_nd):
            r.out_dims[j] = r.out_dims[j + 1]
    if not r.empty:
        _build_taps(&r.taps, &r.p)
        r.has_taps = True
    return r
