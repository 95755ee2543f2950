"""Compiled kernels of deconv_core: transposed and forward N-d convolution.

The package wrapper validates every argument; these functions trust their inputs:
C-contiguous float32/float64 arrays of matching dtype, ``out`` of the exact output
shape (its contents are overwritten), ``pads`` as ``(before, after)`` pairs.

1-D and 2-D problems are handled as 3-D ones with leading singleton spatial dims.
A small planner picks, per call, one of seven transposed-convolution paths (the
folded one is the channels-last kernel on a transformed problem):

* channels-last (AVX2+FMA or AVX-512, channel-heavy layers): the input copied
  channels-last, a micro-kernel with P pixels x V vectors of output channels in
  registers streaming the input channels and taps of a phase through them, like a GEMM
  micro-kernel, with no column buffer (deconv_chlast.h); 1-D calls whose stride s
  divides the kernel (the inverse-STFT shape) "folded" into a stride-1 problem of
  C_out*s virtual output channels, one per (channel, output phase), written straight
  into the real rows (dc_fold);

* blocked (AVX2+FMA or AVX-512): register-blocked, width-vectorised phase
  decomposition (deconv_blocked.h): a block of output channels x a row segment of
  one phase in vector registers while the reduction over input channels and taps
  streams through; few and medium channel counts;

* virtual channels (AVX2+FMA or AVX-512, few output channels, many input channels,
  strided width): input pixels in the vector lanes, every (output channel, width
  tap) pair accumulated at once over the channel reduction, then added into phase-
  major row buffers at each tap's offset (deconv_vchan.h);

* depthwise (AVX2+FMA or AVX-512, C_in/groups == 1): one output plane per task, the
  same micro-kernels for one channel run over many rows at once, vector phase
  interleave (deconv_depthwise.h);

* direct: output-stationary, phase-decomposed (no inserted zero is ever multiplied),
  parallel over output rows (n, c_out, depth, height); tiny calls and CPUs without
  AVX2+FMA;

* gemm: the channel reduction as one BLAS matmul per batch chunk
  (C_out*K x C_in_g) @ (C_in_g x chunk*P), then a parallel, phase-partitioned col2im
  gather that writes each output element once; the 1-D overlap-add shape (inverse
  STFT) when it does not fold (see _plan_path), and channel-heavy layers on CPUs
  without AVX2+FMA.

Each output element is computed by one thread in a fixed order, so results are
bit-identical for any ``num_threads``.
"""
# Compiler directives come from setup.py (one set; DECONV_CORE_DEBUG_CHECKS=1 turns
# boundscheck/wraparound/initializedcheck on); they are recorded in the .pxi below.
include "_build_config.pxi"

import threading

import numpy as np

cimport numpy as cnp
from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdlib cimport free, malloc

from _openmp_helpers cimport DECONV_CORE_OPENMP, omp_get_max_threads, omp_get_thread_num
from deconv_kernels cimport (
    DC_CLONES_ENABLED, dc_idx, dc_plan, dc_plan_build, dc_plan_free,
    dc_row_direct_f32, dc_row_direct_f64, dc_row_gather_f32, dc_row_gather_f64,
    dc_row_ola_f32, dc_row_ola_f64, dc_blocked_available, dc_isa_name,
    dc_blocked_isa_name, dc_blocked_set_level,
    dc_blocked_tr_f32, dc_blocked_tr_f64, dc_depthwise_tr_f32, dc_depthwise_tr_f64,
    dc_chlast_tr_f32, dc_chlast_tr_f64, dc_vchan_tr_f32, dc_vchan_tr_f64,
    dc_fold, dc_chlast_fold_tr_f32, dc_chlast_fold_tr_f64,
)

cnp.import_array()

# ---------------------------------------------------------------------------------
# Planner constants (calibrated on benchmarks/workloads.json, 2 threads, Zen 4).
# GEMM path when the per-group channel reduction is wide enough for BLAS to win.
cdef dc_idx GEMM_MIN_CIN_G = 16          # C_in per group
cdef dc_idx GEMM_MIN_CHANNEL_PRODUCT = 64  # C_in_g * C_out_g
cdef dc_idx COLS_MAX_BYTES = 64 << 20    # bound of the GEMM column buffer
cdef dc_idx SERIAL_MAX_WORK = 1 << 15    # below this many MACs+outputs: 1 thread
# ... and below this many, the direct path: the blocked path's per-call setup (weight
# packing, chunk tables, buffers: a few microseconds) outweighs its faster loops.
cdef dc_idx BLOCKED_MIN_WORK = 1 << 12
# The gather right after a multithreaded BLAS call competes with BLAS worker threads
# that are still spinning (OpenBLAS yields for ~0.1 s): with as many OpenMP threads
# as cores that costs a scheduler time slice (~5 ms) per call.  So the gather runs
# on one thread unless a chunk has this many tap additions.
cdef dc_idx GATHER_PARALLEL_MIN_WORK = 1 << 24
# 1-D, dilation 1, kernel at least this long: GEMM in the taps-last orientation and an
# overlap-add with contiguous runs instead of the phase-major gather (inverse STFT).
cdef dc_idx OLA_MIN_KERNEL = 16
# Register-blocked AVX2 path (deconv_blocked.h) instead of GEMM for channel-heavy
# problems unless C_out per group reaches this, or the width phase (output width /
# stride) is shorter than this.
cdef dc_idx BLOCKED_MAX_COUT_G = 48
cdef dc_idx BLOCKED_MIN_PHASE_LEN = 16
# Depthwise kernel (deconv_depthwise.h) for C_in/groups == 1 up to this C_out/groups;
# from 2 output channels per group the blocked kernel's shared input loads win.
cdef dc_idx DEPTHWISE_MAX_COUT_G = 1
# Channel-vectorised kernel (deconv_chlast.h) when the output channels of a group fill
# at least this many bytes of vectors (one AVX-512 vector, two AVX2 ones: fewer leave
# its tiles thin) and the reduction behind each output element (input channels per
# group x taps reaching it, on average) is at least CHLAST_MIN_REDUCTION long.
cdef dc_idx CHLAST_MIN_COUT_BYTES = 64
cdef dc_idx CHLAST_MIN_REDUCTION = 16
# Virtual-channel kernel (deconv_vchan.h), width stride >= 2, input rows of at least
# this many bytes: up to VCHAN_MAX_COUT_G_SHALLOW output channels per group from
# VCHAN_MIN_CIN_G input channels per group, up to VCHAN_MAX_COUT_G from twice that
# (measured against the blocked kernel on this machine's AVX-512 and AVX2 paths,
# 2 threads: 0.3-0.9x its time there; shallower reductions or wider output groups
# lost as often as they won).
cdef dc_idx VCHAN_MIN_ROW_BYTES = 128
cdef dc_idx VCHAN_MIN_CIN_G = 16
cdef dc_idx VCHAN_MAX_COUT_G_SHALLOW = 2
cdef dc_idx VCHAN_MAX_COUT_G = 8

# Per-Python-thread GEMM column buffer, reused across calls (no page faults on every
# call); at most COLS_MAX_BYTES is kept per thread.
_tls = threading.local()

cdef enum:
    PATH_AUTO = 0
    PATH_DIRECT = 1
    PATH_GEMM = 2
    PATH_BLOCKED = 3
    PATH_DEPTHWISE = 4
    PATH_CHLAST = 5
    PATH_VCHAN = 6
    PATH_FOLD = 7


cdef struct Geometry:
    dc_idx N, cin, cout, cin_g, cout_g, groups, K, pin, pout
    dc_idx n[3]
    dc_idx k[3]
    dc_idx s[3]
    dc_idx d[3]
    dc_idx pb[3]
    dc_idx no[3]


def conv_transpose(x, w, bias, out, stride, pads, dilation, groups, num_threads, *,
                   _path=0):
    """Transposed convolution into ``out`` (weight layout (C_in, C_out/groups, *k)).

    ``_path`` is private: 0 = planner, 1 = direct, 2 = gemm, 3 = blocked, 4 = depthwise,
    5 = channels-last, 6 = virtual channels, 7 = folded channels-last (1-D, the stride
    dividing the kernel; channels-last otherwise) (3 to 7 need AVX2+FMA: direct on CPUs
    without them); tests force each path.
    """
    _conv(True, x, w, bias, out, stride, pads, dilation, groups, num_threads, _path)


def conv(x, w, bias, out, stride, pads, dilation, groups, num_threads, *, _path=0):
    """Forward convolution (cross-correlation, weight layout (C_out, C_in/groups, *k))
    into ``out``.  ``_path`` is accepted for symmetry; forward conv is direct."""
    _conv(False, x, w, bias, out, stride, pads, dilation, groups, num_threads, _path)


def openmp_enabled():
    """True iff the extension was compiled with OpenMP."""
    return bool(DECONV_CORE_OPENMP)


def max_threads():
    """omp_get_max_threads(): follows OMP_NUM_THREADS and threadpoolctl (1 if serial)."""
    return omp_get_max_threads()


_BLOCKED_LEVELS = {"none": 0, "avx2+fma": 1, "avx512f": 2}


def _set_blocked_isa(name):
    """Private (tests): run the blocked and depthwise kernels with at most the ISA
    ``name`` ("none", "avx2+fma" or "avx512f", capped at what the CPU has); returns
    the name of the ISA now in use.  Call it while no kernel runs."""
    dc_blocked_set_level(_BLOCKED_LEVELS[name])
    return dc_blocked_isa_name().decode()


def build_info():
    """How this extension was built: flags, Cython directives, OpenMP, checks."""
    return {
        "openmp": bool(DECONV_CORE_OPENMP),
        "openmp_probe": BUILD_OPENMP_PROBE,
        "compiler_flags": list(BUILD_COMPILE_ARGS),
        "link_flags": list(BUILD_LINK_ARGS),
        "cython_directives": dict(BUILD_CYTHON_DIRECTIVES),
        "bounds_checks": BUILD_BOUNDS_CHECKS,
        "march_native": BUILD_MARCH_NATIVE,
        "target_clones": bool(DC_CLONES_ENABLED),
        "isa": dc_isa_name().decode(),
        "blocked_kernels": dc_blocked_isa_name().decode() if dc_blocked_available() else None,
        "cython_version": BUILD_CYTHON_VERSION,
        "planner": {
            "gemm_min_cin_per_group": GEMM_MIN_CIN_G,
            "gemm_min_channel_product": GEMM_MIN_CHANNEL_PRODUCT,
            "cols_max_bytes": COLS_MAX_BYTES,
            "serial_max_work": SERIAL_MAX_WORK,
            "blocked_min_work": BLOCKED_MIN_WORK,
            "gather_parallel_min_work": GATHER_PARALLEL_MIN_WORK,
            "ola_min_kernel": OLA_MIN_KERNEL,
            "blocked_max_cout_per_group": BLOCKED_MAX_COUT_G,
            "blocked_min_phase_len": BLOCKED_MIN_PHASE_LEN,
            "depthwise_max_cout_per_group": DEPTHWISE_MAX_COUT_G,
            "chlast_min_cout_bytes": CHLAST_MIN_COUT_BYTES,
            "chlast_min_reduction": CHLAST_MIN_REDUCTION,
            "vchan_min_row_bytes": VCHAN_MIN_ROW_BYTES,
            "vchan_min_cin_per_group": VCHAN_MIN_CIN_G,
            "vchan_max_cout_per_group_shallow": VCHAN_MAX_COUT_G_SHALLOW,
            "vchan_max_cout_per_group": VCHAN_MAX_COUT_G,
        },
    }


cdef int _conv(bint tr, cnp.ndarray x, cnp.ndarray w, object bias, cnp.ndarray out,
               object stride, object pads, object dilation, dc_idx groups,
               int num_threads, int path) except -1:
    cdef Geometry g
    cdef dc_plan plan
    _geometry(&g, cnp.PyArray_NDIM(x) - 2, cnp.PyArray_DIMS(x), cnp.PyArray_DIMS(w),
              cnp.PyArray_DIMS(out), stride, pads, dilation, groups)
    if g.N == 0 or g.cout == 0:
        return 0
    _build_plan(&plan, tr, &g)
    try:
        _execute(tr, x, w, bias, out, &g, &plan, path, num_threads)
    finally:
        dc_plan_free(&plan)
    return 0


cdef int _geometry(Geometry *g, int nd, const cnp.npy_intp *xs, const cnp.npy_intp *ws,
                   const cnp.npy_intp *os, object stride, object pads, object dilation,
                   dc_idx groups) except -1:
    """The canonical call as 3-D geometry, from the batched shapes (N, C, *spatial)
    of x and out and the weight's shape."""
    cdef int off = 3 - nd
    cdef int j
    for j in range(3):
        g.n[j] = g.k[j] = g.s[j] = g.d[j] = g.no[j] = 1
        g.pb[j] = 0
    for j in range(nd):
        g.n[off + j] = xs[2 + j]
        g.k[off + j] = ws[2 + j]
        g.no[off + j] = os[2 + j]
        g.s[off + j] = stride[j]
        g.d[off + j] = dilation[j]
        g.pb[off + j] = pads[j][0]
    g.N = xs[0]
    g.cin = xs[1]
    g.cout = os[1]
    g.groups = groups
    g.cin_g = g.cin // groups
    g.cout_g = g.cout // groups
    g.K = g.k[0] * g.k[1] * g.k[2]
    g.pin = g.n[0] * g.n[1] * g.n[2]
    g.pout = g.no[0] * g.no[1] * g.no[2]
    return 0


cdef int _build_plan(dc_plan *plan, bint tr, Geometry *g) except -1:
    if dc_plan_build(plan, tr, g.n, g.k, g.s, g.d, g.pb, g.no) != 0:
        raise MemoryError(f"deconv_core: out of memory building the kernel plan (input "
                          f"size {(g.n[0], g.n[1], g.n[2])}, output size "
                          f"{(g.no[0], g.no[1], g.no[2])})")
    return 0


cdef int _execute(bint tr, cnp.ndarray x, cnp.ndarray w, object bias, cnp.ndarray out,
                  Geometry *g, dc_plan *plan, int path, int num_threads) except -1:
    """Run a planned call: x, w, bias C-contiguous of out's dtype; out of g's shape
    (x and out may be unbatched: only their data and g are read)."""
    cdef dc_idx rows = g.N * g.cout * g.no[0] * g.no[1]
    cdef dc_idx work = g.N * g.cout * (g.cin_g * plan.taps_total + g.pout)
    cdef int nt = num_threads if num_threads > 0 else 1
    if path == PATH_AUTO:
        path = (PATH_DIRECT if work < BLOCKED_MIN_WORK
                else _plan_path(tr, g, plan, cnp.PyArray_ITEMSIZE(x)))
    if path == PATH_FOLD and not (tr and _foldable(g)):
        path = PATH_CHLAST
    if path == PATH_FOLD:
        rows *= g.s[2]          # the folded problem's output channels
    if work <= SERIAL_MAX_WORK:
        nt = 1
    if rows < nt:
        nt = <int>rows
    if tr and path == PATH_FOLD and dc_blocked_available():
        _fold(x, w, bias, out, g, plan, nt)
    elif tr and path == PATH_BLOCKED and dc_blocked_available():
        _blocked(x, w, bias, out, g, plan, nt, PATH_BLOCKED)
    elif tr and path == PATH_DEPTHWISE and dc_blocked_available():
        _blocked(x, w, bias, out, g, plan, nt, PATH_DEPTHWISE)
    elif tr and path == PATH_CHLAST and dc_blocked_available():
        _blocked(x, w, bias, out, g, plan, nt, PATH_CHLAST)
    elif tr and path == PATH_VCHAN and dc_blocked_available():
        _blocked(x, w, bias, out, g, plan, nt, PATH_VCHAN)
    elif tr and path == PATH_GEMM:
        _gemm_transposed(x, w, bias, out, g, plan, nt)
    elif cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
        _direct[float](tr, x, w, bias, out, g, plan, nt, 0)
    else:
        _direct[double](tr, x, w, bias, out, g, plan, nt, 0)
    return 0


cdef inline bint _runnable(object a, int typenum) noexcept:
    """An array the kernels can read in place (what the wrapper would not copy)."""
    return (type(a) is np.ndarray
            and cnp.PyArray_TYPE(<cnp.ndarray> a) == typenum
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray> a)
            and cnp.PyArray_ISALIGNED(<cnp.ndarray> a)
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray> a))


cdef class Planned:
    """A validated call, planned once, for repeated calls with the same shapes,
    dtypes and arguments (built by :func:`plan_call` from the canonical call).

    Calling it with arrays the kernels can read in place (C-contiguous, aligned,
    native byte order, of the compute dtype) allocates the result and runs the
    kernel with no Python-level work; for anything else it returns None and the
    caller takes the general path (which converts, or raises).
    """
    cdef Geometry g
    cdef dc_plan plan
    cdef bint tr, has_plan, empty
    cdef int path, typenum, max_threads, out_nd
    cdef cnp.npy_intp out_dims[5]

    def __cinit__(self):
        self.has_plan = False

    def __dealloc__(self):
        if self.has_plan:
            dc_plan_free(&self.plan)

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
            _execute(self.tr, x, w, bias, result, &self.g, &self.plan, PATH_AUTO, nt)
        return result


def plan_call(bint transposed, dtype, x_shape, w_shape, out_shape, stride, pads, dilation,
              dc_idx groups, bint unbatched, int max_threads):
    """A :class:`Planned` runner for a canonical call.

    ``dtype`` is the compute dtype; the shapes are the batched ``(N, C, *spatial)``
    ones of x and out (a leading 1 for an unbatched call) and the weight's;
    ``max_threads`` bounds ``num_threads``.
    """
    cdef Planned p = Planned.__new__(Planned)
    cdef cnp.npy_intp xs[5]
    cdef cnp.npy_intp ws[5]
    cdef int j, nd = len(out_shape) - 2
    for j in range(nd + 2):
        xs[j] = x_shape[j]
        ws[j] = w_shape[j]
        p.out_dims[j] = out_shape[j]
    _geometry(&p.g, nd, xs, ws, p.out_dims, stride, pads, dilation, groups)
    p.tr = transposed
    p.typenum = np.dtype(dtype).num
    p.max_threads = max_threads
    p.empty = p.g.N == 0 or p.g.cout == 0
    p.out_nd = nd + 2 - unbatched
    if unbatched:
        for j in range(p.out_nd):
            p.out_dims[j] = p.out_dims[j + 1]
    if not p.empty:
        _build_plan(&p.plan, transposed, &p.g)
        p.has_plan = True
    return p


cdef inline bint _ola_shape(Geometry *g) noexcept:
    """1-D, dilation 1, long kernel: the GEMM path's overlap-add variant."""
    return (g.n[0] * g.n[1] * g.k[0] * g.k[1] * g.no[0] * g.no[1] == 1 and g.d[2] == 1
            and g.k[2] >= OLA_MIN_KERNEL)


cdef inline bint _foldable(Geometry *g) noexcept:
    """1-D, dilation 1, stride >= 2 dividing the kernel: deconv_chlast.h's dc_fold."""
    return (g.n[0] * g.n[1] * g.k[0] * g.k[1] * g.no[0] * g.no[1] == 1 and g.d[2] == 1
            and g.s[2] >= 2 and g.k[2] % g.s[2] == 0)


cdef inline dc_idx _floordiv(dc_idx a, dc_idx b) noexcept:
    """a // b rounded down for b > 0 (the module compiles with C division)."""
    return a // b if a >= 0 else -((-a + b - 1) // b)


cdef int _plan_path(bint tr, Geometry *g, dc_plan *p, int itemsize) noexcept:
    if not tr or g.cin_g == 0:
        return PATH_DIRECT
    cdef bint gemm = (g.cin_g >= GEMM_MIN_CIN_G
                      and g.cin_g * g.cout_g >= GEMM_MIN_CHANNEL_PRODUCT)
    if not dc_blocked_available():
        return PATH_GEMM if gemm else PATH_DIRECT
    # One input channel per group: no channel reduction for the blocked kernel's
    # registers to amortise its per-row set-up over.
    if g.cin_g == 1 and g.cout_g <= DEPTHWISE_MAX_COUT_G:
        return PATH_DEPTHWISE
    # The 1-D overlap-add shape (inverse STFT): a long kernel, few output channels.
    # With the stride dividing the kernel it folds into a channel-heavy stride-1
    # problem of C_out*stride virtual channels for the channels-last kernel
    # (deconv_chlast.h), with the same conditions as that kernel on the folded shape.
    if (_ola_shape(g) and _foldable(g)
            and g.cout_g * g.s[2] * itemsize >= CHLAST_MIN_COUT_BYTES
            and g.cin_g * (g.k[2] // g.s[2]) >= CHLAST_MIN_REDUCTION):
        return PATH_FOLD
    if gemm and _ola_shape(g):
        return PATH_GEMM
    # Channel-heavy: output channels fill the channel-vectorised kernel's vectors and
    # each output has a reduction deep enough for its tiles.
    if (g.cout_g * itemsize >= CHLAST_MIN_COUT_BYTES
            and g.cin_g * p.taps_total >= CHLAST_MIN_REDUCTION * g.pout):
        return PATH_CHLAST
    # Few output channels, a deep channel reduction, strided width, rows of at least
    # two AVX-512 vectors: the virtual-channel kernel's aligned input vectors feed
    # every (output channel, width tap) at once, where the blocked kernel's shifted
    # loads feed only its few channels.
    if (g.s[2] >= 2 and g.n[2] * itemsize >= VCHAN_MIN_ROW_BYTES
            and ((g.cout_g <= VCHAN_MAX_COUT_G_SHALLOW and g.cin_g >= VCHAN_MIN_CIN_G)
                 or (g.cout_g <= VCHAN_MAX_COUT_G and g.cin_g >= 2 * VCHAN_MIN_CIN_G))):
        return PATH_VCHAN
    # The blocked kernel broadcasts one weight per output channel of a block: BLAS
    # wins when output channels are many and when rows are too short to fill vectors.
    if gemm and (g.cout_g >= BLOCKED_MAX_COUT_G
                 or (g.no[2] + g.s[2] - 1) // g.s[2] < BLOCKED_MIN_PHASE_LEN):
        return PATH_GEMM
    return PATH_BLOCKED


ctypedef int (*_tr_f32)(const dc_plan *, const float *, const float *, const float *,
                        float *, dc_idx, dc_idx, dc_idx, dc_idx, const dc_idx *,
                        const dc_idx *, const dc_idx *, const dc_idx *, const dc_idx *,
                        const dc_idx *, int) noexcept nogil
ctypedef int (*_tr_f64)(const dc_plan *, const double *, const double *, const double *,
                        double *, dc_idx, dc_idx, dc_idx, dc_idx, const dc_idx *,
                        const dc_idx *, const dc_idx *, const dc_idx *, const dc_idx *,
                        const dc_idx *, int) noexcept nogil


cdef int _blocked(cnp.ndarray x, cnp.ndarray w, object bias, cnp.ndarray out,
                  Geometry *g, dc_plan *p, int nt, int kind,
                  const dc_fold *fold=NULL) except -1:
    """The AVX2/AVX-512 kernels (arrays C-contiguous): ``kind`` PATH_BLOCKED
    (deconv_blocked.h), PATH_DEPTHWISE (deconv_depthwise.h), PATH_CHLAST
    (deconv_chlast.h) or PATH_VCHAN (deconv_vchan.h); same arguments for all four.
    With ``fold`` (see _fold), the channels-last kernel on g, the folded geometry."""
    cdef void *bp = NULL
    cdef void *xp = cnp.PyArray_DATA(x)
    cdef void *wp = cnp.PyArray_DATA(w)
    cdef void *op = cnp.PyArray_DATA(out)
    cdef _tr_f32 f32 = (dc_depthwise_tr_f32 if kind == PATH_DEPTHWISE else
                        dc_chlast_tr_f32 if kind == PATH_CHLAST else
                        dc_vchan_tr_f32 if kind == PATH_VCHAN else dc_blocked_tr_f32)
    cdef _tr_f64 f64 = (dc_depthwise_tr_f64 if kind == PATH_DEPTHWISE else
                        dc_chlast_tr_f64 if kind == PATH_CHLAST else
                        dc_vchan_tr_f64 if kind == PATH_VCHAN else dc_blocked_tr_f64)
    cdef int rc
    if bias is not None:
        bp = cnp.PyArray_DATA(<cnp.ndarray> bias)
    with nogil:
        if fold != NULL and cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
            rc = dc_chlast_fold_tr_f32(fold, p, <const float *> xp, <const float *> wp,
                                       <const float *> bp, <float *> op, g.N, g.groups,
                                       g.cin_g, g.cout_g, g.n, g.k, g.s, g.d, g.pb, g.no,
                                       nt)
        elif fold != NULL:
            rc = dc_chlast_fold_tr_f64(fold, p, <const double *> xp, <const double *> wp,
                                       <const double *> bp, <double *> op, g.N, g.groups,
                                       g.cin_g, g.cout_g, g.n, g.k, g.s, g.d, g.pb, g.no,
                                       nt)
        elif cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
            rc = f32(p, <const float *> xp, <const float *> wp, <const float *> bp,
                     <float *> op, g.N, g.groups, g.cin_g, g.cout_g, g.n, g.k, g.s, g.d,
                     g.pb, g.no, nt)
        else:
            rc = f64(p, <const double *> xp, <const double *> wp, <const double *> bp,
                     <double *> op, g.N, g.groups, g.cin_g, g.cout_g, g.n, g.k, g.s, g.d,
                     g.pb, g.no, nt)
    if rc != 0:
        raise MemoryError(f"deconv_core: out of memory for the packed weights, input copy "
                          f"or row buffers (weight shape {(<object> w).shape}, input shape "
                          f"{(<object> x).shape})")
    return 0


cdef int _fold(cnp.ndarray x, cnp.ndarray w, object bias, cnp.ndarray out,
               Geometry *g, dc_plan *p, int nt) except -1:
    """A foldable call (_foldable) as the stride-1 problem of deconv_chlast.h's dc_fold:
    virtual pixels q in [q_lo, q_hi), the ones whose outputs q*s + r - pb meet
    [0, nout), and C_out_g*s virtual output channels."""
    cdef dc_idx fs = g.s[2], pb = g.pb[2], nout = g.no[2]
    cdef dc_idx q_lo = _floordiv(pb, fs)
    cdef dc_idx q_hi = -_floordiv(-(nout + pb), fs)
    cdef dc_fold fold
    cdef Geometry v = g[0]
    v.cout_g = g.cout_g * fs
    v.k[2] = g.k[2] // fs
    v.s[2] = 1
    v.pb[2] = q_lo
    v.no[2] = q_hi - q_lo
    fold.s = fs
    fold.off = q_lo * fs - pb
    fold.nout = nout
    return _blocked(x, w, bias, out, &v, p, nt, PATH_CHLAST, &fold)


cdef inline const floating *_cptr(const floating[::1] v) noexcept:
    if v is None or v.shape[0] == 0:
        return NULL
    return &v[0]


cdef int _gemm_transposed(cnp.ndarray x, cnp.ndarray w, object bias, cnp.ndarray out,
                          Geometry *g, dc_plan *p, int nt) except -1:
    """cols = W_g^T @ X_g per group (BLAS, GIL held), then the parallel gather."""
    cdef dc_idx N = g.N, G = g.groups, cin_g = g.cin_g, pin = g.pin
    cdef dc_idx cok = g.cout_g * g.K
    cdef dc_idx per_n = g.cout * g.K * pin * cnp.PyArray_ITEMSIZE(x)
    cdef dc_idx nb_max = max(1, min(N, COLS_MAX_BYTES // max(per_n, 1)))
    cdef dc_idx n0, nb
    cdef int gather_nt
    x4 = x.reshape(N, G, cin_g, pin)
    if _ola_shape(g):
        return _gemm_ola(x, x4, w.reshape(G, cin_g, cok), bias, out, g, nb_max)
    wt = w.reshape(G, cin_g, cok).transpose(0, 2, 1)       # (G, C_out_g*K, C_in_g)
    colsbuf = _cols_buffer(g.cout * g.K * nb_max * pin, x.dtype)
    for n0 in range(0, N, nb_max):
        nb = min(nb_max, N - n0)
        cols = colsbuf[:g.cout * g.K * nb * pin]
        if nb == 1:
            xg = x4[n0]
        else:
            xg = np.ascontiguousarray(x4[n0:n0 + nb].transpose(1, 2, 0, 3))
            xg = xg.reshape(G, cin_g, nb * pin)
        if G == 1:
            np.matmul(wt[0], xg[0], out=cols.reshape(cok, nb * pin))
        else:
            np.matmul(wt, xg, out=cols.reshape(G, cok, nb * pin))
        gather_nt = nt if nb * g.cout * p.taps_total >= GATHER_PARALLEL_MIN_WORK else 1
        if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
            _gather[float](cols, bias, out, g, p, n0, nb, gather_nt)
        else:
            _gather[double](cols, bias, out, g, p, n0, nb, gather_nt)
    return 0


cdef int _gemm_ola(cnp.ndarray x, object x4, object w3, object bias, cnp.ndarray out,
                   Geometry *g, dc_idx nb_max) except -1:
    """1-D long kernels: colsT (nb, G, P, C_out_g*K) = X^T @ W, then overlap-add."""
    cdef dc_idx N = g.N, G = g.groups, pin = g.pin, cok = g.cout_g * g.K, n0, nb
    colsbuf = _cols_buffer(g.cout * g.K * nb_max * pin, x.dtype)
    for n0 in range(0, N, nb_max):
        nb = min(nb_max, N - n0)
        colsT = colsbuf[:nb * G * pin * cok]
        if nb == 1 and G == 1:
            np.matmul(x4[n0, 0].T, w3[0], out=colsT.reshape(pin, cok))
        else:
            np.matmul(x4[n0:n0 + nb].transpose(0, 1, 3, 2), w3,
                      out=colsT.reshape(nb, G, pin, cok))
        if cnp.PyArray_TYPE(x) == cnp.NPY_FLOAT32:
            _ola[float](colsT, bias, out, g, n0, nb)
        else:
            _ola[double](colsT, bias, out, g, n0, nb)
    return 0


cdef int _ola(const floating[::1] cv, const floating[::1] bv, cnp.ndarray out,
              Geometry *g, dc_idx n0, dc_idx nb) except -1:
    """Serial (see GATHER_PARALLEL_MIN_WORK): one overlap-add per (n, c_out) row."""
    cdef const floating *cp = &cv[0]
    cdef const floating *bp = _cptr(bv)
    cdef floating *op = <floating *> cnp.PyArray_DATA(out)
    cdef dc_idx cout = g.cout, cout_g = g.cout_g, G = g.groups, pin = g.pin
    cdef dc_idx k = g.k[2], cok = cout_g * k, nout = g.no[2], r, n, co, grp
    cdef floating bval
    with nogil:
        for r in range(nb * cout):
            n = r // cout
            co = r % cout
            grp = co // cout_g
            bval = bp[co] if bp != NULL else 0
            if floating is float:
                dc_row_ola_f32(cp + (n * G + grp) * pin * cok + (co - grp * cout_g) * k,
                               pin, cok, k, g.s[2], g.pb[2], nout, bval,
                               op + ((n0 + n) * cout + co) * nout)
            else:
                dc_row_ola_f64(cp + (n * G + grp) * pin * cok + (co - grp * cout_g) * k,
                               pin, cok, k, g.s[2], g.pb[2], nout, bval,
                               op + ((n0 + n) * cout + co) * nout)
    return 0


cdef object _cols_buffer(dc_idx size, object dtype):
    buf = getattr(_tls, "cols", None)
    if buf is None or buf.dtype != dtype or buf.shape[0] < size:
        buf = np.empty(size, dtype=dtype)
        if buf.nbytes <= COLS_MAX_BYTES:
            _tls.cols = buf
    return buf


cdef int _direct(bint tr, cnp.ndarray x, cnp.ndarray w, object bias, cnp.ndarray out,
                 Geometry *g, dc_plan *p, int nt, floating dtype_tag) except -1:
    # Raw data pointers of arrays the wrapper made C-contiguous of this dtype: a
    # typed memoryview per operand costs more than a whole seed-sized call.
    cdef const floating *bp = NULL
    if bias is not None:
        bp = <const floating *> cnp.PyArray_DATA(<cnp.ndarray> bias)
    _rows(tr, False, <const floating *> cnp.PyArray_DATA(x),
          <const floating *> cnp.PyArray_DATA(w), bp, <floating *> cnp.PyArray_DATA(out),
          g, p, 0, g.N, nt)
    return 0


cdef int _gather(const floating[::1] cv, const floating[::1] bv, cnp.ndarray out,
                 Geometry *g, dc_plan *p, dc_idx n0, dc_idx nb, int nt) except -1:
    _rows(True, True, &cv[0], NULL, _cptr(bv), <floating *> cnp.PyArray_DATA(out),
          g, p, n0, nb, nt)
    return 0


cdef int _rows(bint tr, bint gather, const floating *src, const floating *wp,
               const floating *bp, floating *op, Geometry *g, dc_plan *p, dc_idx n0,
               dc_idx nb, int nt) except -1:
    """Every output row (n, c_out, depth, height) of samples n0..n0+nb-1, in parallel.

    direct: src is x, wp the weights.  gather: src is the GEMM column block
    (C_out*K, nb*P) of these samples.  One row = one call, so one thread.
    """
    cdef dc_idx rows = nb * g.cout * g.no[0] * g.no[1]
    cdef dc_idx acc_len = p.acc_len
    cdef floating *out0 = op + n0 * g.cout * g.pout
    cdef dc_idx r
    cdef floating *buf = <floating *> malloc(nt * acc_len * sizeof(floating) + 64)
    if buf == NULL:
        raise MemoryError(f"deconv_core: out of memory for {nt} per-thread row buffers of "
                          f"{acc_len} elements (output shape "
                          f"{(nb, g.cout, g.no[0], g.no[1], g.no[2])})")
    if nt == 1:
        # No OpenMP region at all: entering one costs about a microsecond, the
        # whole of a small call.
        with nogil:
            for r in range(rows):
                _row(tr, gather, r, buf, src, wp, bp, out0, g, p, nb)
    else:
        with nogil, parallel(num_threads=nt):
            for r in prange(rows, schedule='static'):
                _row(tr, gather, r, buf + omp_get_thread_num() * acc_len, src, wp, bp,
                     out0, g, p, nb)
    free(buf)
    return 0


cdef inline void _row(bint tr, bint gather, dc_idx r, floating *acc, const floating *src,
                      const floating *wp, const floating *bp, floating *out0,
                      const Geometry *g, const dc_plan *p, dc_idx nb) noexcept nogil:
    """Output row r of _rows."""
    cdef dc_idx no1 = g.no[1], cout = g.cout, K = g.K, pin = g.pin
    cdef dc_idx cin_g = g.cin_g, cout_g = g.cout_g
    cdef dc_idx oh = r % no1
    cdef dc_idx t = r // no1
    cdef dc_idx od = t % g.no[0]
    cdef dc_idx co, n, grp
    cdef const floating *xb
    cdef const floating *wb
    cdef floating bval
    t = t // g.no[0]
    co = t % cout
    n = t // cout
    bval = bp[co] if bp != NULL else 0
    if gather:
        xb = src + (co * K * nb + n) * pin
        if floating is float:
            dc_row_gather_f32(p, acc, out0 + r * g.no[2], bval, xb, nb * pin,
                              g.n[1], g.n[2], g.k[1], g.k[2], od, oh)
        else:
            dc_row_gather_f64(p, acc, out0 + r * g.no[2], bval, xb, nb * pin,
                              g.n[1], g.n[2], g.k[1], g.k[2], od, oh)
        return
    grp = co // cout_g
    xb = src + (n * g.cin + grp * cin_g) * pin
    if tr:
        wb = wp + (grp * cin_g * cout_g + co - grp * cout_g) * K
    else:
        wb = wp + co * cin_g * K
    if floating is float:
        dc_row_direct_f32(p, acc, out0 + r * g.no[2], bval, xb, pin, wb,
                          cout_g * K if tr else K, cin_g, g.n[1], g.n[2], g.k[1], g.k[2],
                          od, oh)
    else:
        dc_row_direct_f64(p, acc, out0 + r * g.no[2], bval, xb, pin, wb,
                          cout_g * K if tr else K, cin_g, g.n[1], g.n[2], g.k[1], g.k[2],
                          od, oh)
