"""Tests of the compiled kernels (deconv_core._kernels), called directly.

They build their own arrays and never go through the public API module.  The
reference is a plain NumPy scatter (one strided slice add per kernel tap, then the
crop) that works for every padding, including negative ones; a subset is also
checked against torch.nn.functional when torch is installed.

If the extension cannot be imported the module FAILS, unless
DECONV_CORE_BACKEND=numpy says the compiled backend is deliberately absent.
"""
import concurrent.futures
import itertools
import os

import numpy as np
import pytest

from conftest import kernel_isa
from reference import naive_weight_grad

if os.environ.get("DECONV_CORE_BACKEND", "").strip().lower() == "numpy":
    _kernels = pytest.importorskip(
        "deconv_core._kernels",
        reason="DECONV_CORE_BACKEND=numpy: the compiled backend is not required")
else:
    from deconv_core import _kernels  # a missing extension is a failure here

# The registry's transposed-convolution kernels (src_c/registry/dc_kernels.def), forced
# by name; None is the planner.  A kernel declared there is swept here at once.  The
# SIMD ones run "direct" on the portable ISA row; "fold" runs "chlast" where the call
# does not fold.
ALL_KERNELS = _kernels.FAMILIES["tconv"]
DIRECT, GEMM, BLOCKED, DEPTHWISE, CHLAST, VCHAN, FOLD = (
    "direct", "gemm", "blocked", "depthwise", "chlast", "vchan", "fold")
assert {DIRECT, GEMM, BLOCKED, DEPTHWISE, CHLAST, VCHAN, FOLD} <= set(ALL_KERNELS)
KERNEL_SEED = {None: 0, **{k: i + 1 for i, k in enumerate(ALL_KERNELS)}}
# the ones built per SIMD ISA (the others are one portable build)
SIMD_KERNELS = tuple(dict.fromkeys(k.family for k in _kernels.KERNELS
                                   if k.op == "tconv" and k.isa != "portable"))
FORWARD_KERNELS = _kernels.FAMILIES["conv"]
BLOCKED_MIN_WORK = _kernels.build_info()["planner"]["blocked_min_work"]
TOL = {np.float32: dict(rtol=2e-4, atol=2e-4), np.float64: dict(rtol=1e-10, atol=1e-10)}

# The ISAs the blocked and depthwise kernels can run with on this CPU, best first;
# every test of this module runs under each of them.
_BEST_ISA = _kernels._isa()
ISAS = [i for i in ("avx512", "avx2", "portable") if _kernels._set_isa(i) == i]
_kernels._set_isa(_BEST_ISA)


@pytest.fixture(autouse=True, params=ISAS)
def isa(request):
    with kernel_isa(request.param):
        yield request.param


# ----------------------------------------------------------------------------------
# references
def _tap_slices(t, i_len, s, d):
    """Full-index slices hit by tap t over inputs 0..i_len-1, one per dim."""
    return tuple(slice(tj * dj, tj * dj + (n - 1) * sj + 1, sj)
                 for tj, n, sj, dj in zip(t, i_len, s, d))


def ref_conv_transpose(x, w, bias, stride, pads, dilation, groups):
    """Zero-free scatter into the full (uncropped) output, then crop/extend."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    n_batch, c_in = x.shape[:2]
    sp, k = x.shape[2:], w.shape[2:]
    c_in_g, c_out_g = c_in // groups, w.shape[1]
    full = [(n - 1) * s + d * (kk - 1) + 1 for n, kk, s, d in zip(sp, k, stride, dilation)]
    # room for negative pads on both ends
    lo = [max(0, -pb) for pb, _ in pads]
    hi = [max(0, -pa) for _, pa in pads]
    buf = np.zeros((n_batch, c_out_g * groups) + tuple(
        f + a + b for f, a, b in zip(full, lo, hi)))
    for g in range(groups):
        xg = x[:, g * c_in_g:(g + 1) * c_in_g]
        wg = w[g * c_in_g:(g + 1) * c_in_g]
        for t in itertools.product(*[range(kk) for kk in k]):
            contrib = np.einsum("nc...,co->no...", xg, wg[(slice(None), slice(None)) + t])
            sl = _tap_slices(t, sp, stride, dilation)
            sl = tuple(slice(a.start + l, a.stop + l, a.step) for a, l in zip(sl, lo))
            buf[(slice(None), slice(g * c_out_g, (g + 1) * c_out_g)) + sl] += contrib
    crop = tuple(slice(l + pb, l + f - pa) for l, f, (pb, pa) in zip(lo, full, pads))
    out = buf[(slice(None), slice(None)) + crop]
    if bias is not None:
        out = out + bias.astype(np.float64).reshape((-1,) + (1,) * len(sp))
    return out


def ref_conv(x, w, bias, stride, pads, dilation, groups):
    """Forward cross-correlation on the zero-padded input, one slice per tap."""
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0)) + tuple(pads))
    w = w.astype(np.float64)
    n_batch, c_in = x.shape[:2]
    sp, k = x.shape[2:], w.shape[2:]
    c_out, c_in_g = w.shape[:2]
    c_out_g = c_out // groups
    osz = [(n - d * (kk - 1) - 1) // s + 1 for n, kk, s, d in zip(sp, k, stride, dilation)]
    out = np.zeros((n_batch, c_out) + tuple(osz))
    for g in range(groups):
        xg = x[:, g * c_in_g:(g + 1) * c_in_g]
        wg = w[g * c_out_g:(g + 1) * c_out_g]
        for t in itertools.product(*[range(kk) for kk in k]):
            sl = _tap_slices(t, osz, stride, dilation)
            out[:, g * c_out_g:(g + 1) * c_out_g] += np.einsum(
                "nc...,oc->no...", xg[(slice(None), slice(None)) + sl],
                wg[(slice(None), slice(None)) + t])
    if bias is not None:
        out += bias.astype(np.float64).reshape((-1,) + (1,) * len(sp))
    return out


# ----------------------------------------------------------------------------------
# random problems
def transposed_case(rng, nd, dtype, *, negative_pads=False, big=False):
    s = tuple(int(v) for v in rng.integers(1, 5, nd))
    d = tuple(int(v) for v in rng.integers(1, 4, nd))
    k = tuple(int(v) for v in rng.integers(1, 5, nd))
    n = tuple(int(v) for v in rng.integers(1, 9 if big else 6, nd))
    groups = int(rng.integers(1, 4))
    c_in_g = int(rng.integers(1, 20 if big else 4))
    c_out_g = int(rng.integers(1, 20 if big else 4))
    pads = []
    for j in range(nd):
        full = (n[j] - 1) * s[j] + d[j] * (k[j] - 1) + 1
        lo = -2 if negative_pads else 0
        pb = int(rng.integers(lo, d[j] * (k[j] - 1) + 1))
        op = int(rng.integers(0, max(s[j], d[j])))       # output_padding
        pa = int(rng.integers(lo, d[j] * (k[j] - 1) + 1)) - op
        if full - pb - pa < 1:
            pb, pa = 0, -op
        pads.append((pb, pa))
    x = rng.standard_normal((int(rng.integers(1, 3)), groups * c_in_g) + n).astype(dtype)
    w = rng.standard_normal((groups * c_in_g, c_out_g) + k).astype(dtype)
    bias = rng.standard_normal(groups * c_out_g).astype(dtype) if rng.random() < 0.7 else None
    return x, w, bias, s, tuple(pads), d, groups


def transposed_out_shape(x, w, stride, pads, dilation, groups):
    return (x.shape[0], w.shape[1] * groups) + tuple(
        (n - 1) * s + d * (k - 1) + 1 - pb - pa
        for n, k, s, d, (pb, pa) in zip(x.shape[2:], w.shape[2:], stride, dilation, pads))


def run_transposed(x, w, bias, stride, pads, dilation, groups, nt=2, kernel=None):
    out = np.full(transposed_out_shape(x, w, stride, pads, dilation, groups), np.nan, x.dtype)
    _kernels.conv_transpose(x, w, bias, out, stride, pads, dilation, groups, nt,
                            _kernel=kernel)
    return out


def fit_pads(pads, sp, s, d, k):
    """Pads cut so that every output dim keeps at least one element."""
    return tuple((a, min(b, (n - 1) * sj + dj * (kj - 1) - a))
                 for (a, b), n, sj, dj, kj in zip(pads, sp, s, d, k))


def check_threads(case, kernel, dtype, threads=(1, 2, 3)):
    """Run ``case`` on ``kernel`` with each thread count: the first result matches the
    reference, the others are bit-identical to it.  Returns the first."""
    outs = [run_transposed(*case, nt=nt, kernel=kernel) for nt in threads]
    np.testing.assert_allclose(outs[0], ref_conv_transpose(*case), **TOL[dtype],
                               err_msg=repr(case[3:]))
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])
    return outs[0]


def forward_case(rng, nd, dtype):
    s = tuple(int(v) for v in rng.integers(1, 5, nd))
    d = tuple(int(v) for v in rng.integers(1, 4, nd))
    k = tuple(int(v) for v in rng.integers(1, 5, nd))
    n = tuple(int(v) + dj * (kj - 1) for v, dj, kj in zip(rng.integers(1, 7, nd), d, k))
    groups = int(rng.integers(1, 4))
    c_in_g, c_out_g = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    pads = tuple((int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in range(nd))
    x = rng.standard_normal((int(rng.integers(1, 3)), groups * c_in_g) + n).astype(dtype)
    w = rng.standard_normal((groups * c_out_g, c_in_g) + k).astype(dtype)
    bias = rng.standard_normal(groups * c_out_g).astype(dtype) if rng.random() < 0.7 else None
    return x, w, bias, s, pads, d, groups


def run_forward(x, w, bias, stride, pads, dilation, groups, nt=2, kernel=None):
    osz = tuple((n + pb + pa - d * (k - 1) - 1) // s + 1 for n, k, s, d, (pb, pa)
                in zip(x.shape[2:], w.shape[2:], stride, dilation, pads))
    out = np.full((x.shape[0], w.shape[0]) + osz, np.nan, x.dtype)
    _kernels.conv(x, w, bias, out, stride, pads, dilation, groups, nt, _kernel=kernel)
    return out


# ----------------------------------------------------------------------------------
# correctness sweeps
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kernel", ALL_KERNELS + (None,))
def test_transposed_matches_reference(nd, dtype, kernel):
    rng = np.random.default_rng(1000 * nd + 10 * KERNEL_SEED[kernel] + (dtype == np.float64))
    for _ in range(25 if nd < 3 else 12):
        case = transposed_case(rng, nd, dtype, negative_pads=rng.random() < 0.3)
        got = run_transposed(*case, kernel=kernel)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, ref_conv_transpose(*case), **TOL[dtype],
                                   err_msg=repr(case[3:]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_1d_kernels(dtype):
    """1-D long kernels (overlap-add GEMM variant on the GEMM path), inverse-STFT-like,
    plus 2-D problems with one singleton spatial dim that must not take that variant."""
    rng = np.random.default_rng(9)
    for it in range(30):
        k = int(rng.integers(16, 70))
        s = int(rng.integers(1, k + 3))
        groups = int(rng.integers(1, 3))
        pb = int(rng.integers(-3, k))
        pa = int(rng.integers(-s + 1, k)) if it % 2 else int(rng.integers(-3, k))
        n = int(rng.integers(1, 30))
        if (n - 1) * s + k - pb - pa < 1:
            pb, pa = 0, 0
        ci, co = groups * int(rng.integers(1, 20)), groups * int(rng.integers(1, 4))
        shape = (n,) if it % 3 else (1, n)
        kern = (k,) if it % 3 else (1, k)
        x = rng.standard_normal((int(rng.integers(1, 4)), ci) + shape).astype(dtype)
        w = rng.standard_normal((ci, co // groups) + kern).astype(dtype)
        bias = rng.standard_normal(co).astype(dtype) if it % 4 else None
        pads = ((pb, pa),) if it % 3 else ((0, 0), (pb, pa))
        case = (x, w, bias, (s,) * len(shape), pads, (1,) * len(shape), groups)
        ref = ref_conv_transpose(*case)
        for kernel in ALL_KERNELS + (None,):
            np.testing.assert_allclose(run_transposed(*case, kernel=kernel), ref, **TOL[dtype])


def fold_case(rng, dtype, *, s=None, m=None):
    """A 1-D problem whose stride divides its kernel (k = m*s), any pads, output
    padding included (negative 'after' pads)."""
    s = int(rng.integers(2, 70)) if s is None else s
    m = int(rng.integers(1, 5)) if m is None else m
    k = m * s
    n = int(rng.integers(1, 30))
    groups = int(rng.integers(1, 3))
    pb = int(rng.integers(-s - 3, k + 2))
    pa = int(rng.integers(-s + 1, k + 2))
    if (n - 1) * s + k - pb - pa < 1:
        pb, pa = 0, 0
    ci, co = groups * int(rng.integers(1, 20)), groups * int(rng.integers(1, 4))
    x = rng.standard_normal((int(rng.integers(1, 4)), ci, n)).astype(dtype)
    w = rng.standard_normal((ci, co // groups, k)).astype(dtype)
    bias = rng.standard_normal(co).astype(dtype) if rng.random() < 0.7 else None
    return x, w, bias, (s,), ((pb, pa),), (1,), groups


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_folded_1d_matches_reference_and_threads(dtype):
    """The folded path (stride dividing the kernel: C_out*stride virtual channels of a
    stride-1 problem for the channels-last kernel, writing the real rows): strides
    2-69 (virtual channel blocks that start mid-channel, remainder blocks), 1-4 taps
    per phase, pads before the first and past the last virtual pixel, output
    padding, groups, bias; 1-3 threads give the same bits."""
    rng = np.random.default_rng(97 + (dtype == np.float64))
    for _ in range(40):
        check_threads(fold_case(rng, dtype), FOLD, dtype)


def test_inverse_stft_shape_is_planned_folded(isa):
    """The inverse-STFT shape takes the folded path (same bits as forcing it, other
    bits than the GEMM overlap-add); a stride that does not divide the kernel keeps
    the GEMM overlap-add."""
    if isa == "portable":
        pytest.skip("the AVX2/AVX-512 kernels are switched off in this run (isa 'portable')")
    rng = np.random.default_rng(98)
    x = rng.standard_normal((1, 66, 40)).astype(np.float32)
    w = rng.standard_normal((66, 1, 256)).astype(np.float32)
    case = (x, w, None, (64,), ((96, 96),), (1,), 1)
    got = run_transposed(*case)
    assert np.array_equal(got, run_transposed(*case, kernel=FOLD))
    assert not np.array_equal(got, run_transposed(*case, kernel=GEMM))
    np.testing.assert_allclose(got, ref_conv_transpose(*case), **TOL[np.float32])
    w = w[:, :, :250]
    case = (x, w, None, (64,), ((96, 96),), (1,), 1)
    assert np.array_equal(run_transposed(*case), run_transposed(*case, kernel=GEMM))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("kernel", FORWARD_KERNELS + (None,))
def test_forward_matches_reference(nd, dtype, kernel):
    rng = np.random.default_rng(77 + nd)
    for _ in range(25 if nd < 3 else 12):
        case = forward_case(rng, nd, dtype)
        outs = [run_forward(*case, nt=nt, kernel=kernel) for nt in (1, 2, 3)]
        np.testing.assert_allclose(outs[0], ref_conv(*case), **TOL[dtype],
                                   err_msg=repr(case[3:]))
        for o in outs[1:]:
            assert np.array_equal(o, outs[0])


def torch_ref(name, x, w, bias, **kwargs):
    torch = pytest.importorskip("torch")
    t = {a: None if v is None else torch.from_numpy(v) for a, v in
         (("input", x), ("weight", w), ("bias", bias))}
    return getattr(torch.nn.functional, name)(**t, **kwargs).numpy()


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_transposed_matches_torch(nd):
    pytest.importorskip("torch")
    rng = np.random.default_rng(5 + nd)
    for it in range(20):
        x, w, bias, s, pads, d, groups = transposed_case(rng, nd, np.float64)
        padding = tuple(int(rng.integers(0, dj * (kj - 1) + 1)) for dj, kj in zip(d, w.shape[2:]))
        op = tuple(int(rng.integers(0, max(sj, dj))) for sj, dj in zip(s, d))
        pads = tuple((p, p - o) for p, o in zip(padding, op))  # output_padding = -after
        try:
            ref = torch_ref(f"conv_transpose{nd}d", x, w, bias, stride=s, padding=padding,
                            output_padding=op, groups=groups, dilation=d)
        except RuntimeError:  # empty output for torch: not a case we can compare
            continue
        for kernel in ALL_KERNELS:
            got = run_transposed(x, w, bias, s, pads, d, groups, kernel=kernel)
            np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_forward_matches_torch(nd):
    rng = np.random.default_rng(50 + nd)
    for _ in range(20):
        x, w, bias, s, pads, d, groups = forward_case(rng, nd, np.float64)
        xp = np.pad(x, ((0, 0), (0, 0)) + pads)
        ref = torch_ref(f"conv{nd}d", xp, w, bias, stride=s, dilation=d, groups=groups)
        np.testing.assert_allclose(run_forward(x, w, bias, s, pads, d, groups), ref,
                                   rtol=1e-10, atol=1e-10)


def test_adjoint():
    """<conv(x), r> == <x, conv_transpose(r)>: same weight array, stride, dilation, groups."""
    rng = np.random.default_rng(3)
    for _ in range(10):
        x, w, bias, s, pads, d, groups = forward_case(rng, 2, np.float64)
        y = run_forward(x, w, None, s, pads, d, groups)
        r = rng.standard_normal(y.shape)
        # the transposed conv of r maps back onto x's (unpadded) grid
        full = [(o - 1) * sj + dj * (kj - 1) + 1 for o, sj, dj, kj in
                zip(y.shape[2:], s, d, w.shape[2:])]
        tpads = tuple((pb, f - pb - n) for f, (pb, _), n in zip(full, pads, x.shape[2:]))
        for kernel in ALL_KERNELS:
            xt = run_transposed(r, w, None, s, tpads, d, groups, kernel=kernel)
            assert xt.shape == x.shape
            assert np.isclose(np.vdot(y, r), np.vdot(x, xt), rtol=1e-10)


# ----------------------------------------------------------------------------------
# determinism, threads, edge cases
THREAD_CASES = [
    # (N, C_in, C_out, groups, spatial, k, s, d, pads)
    (2, 3, 5, 1, (37, 41), (4, 3), (2, 3), (1, 2), ((1, -1), (2, 0))),
    (2, 32, 24, 2, (19, 23), (3, 4), (2, 2), (1, 1), ((1, 1), (0, -1))),
    (1, 6, 6, 6, (9, 10, 11), (3, 3, 2), (2, 1, 3), (1, 2, 1), ((1, 0), (0, 0), (1, 1))),
    (1, 40, 2, 1, (300,), (64,), (16,), (1,), ((24, 24),)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", THREAD_CASES)
def test_bit_identical_across_thread_counts(case, dtype):
    n, ci, co, g, sp, k, s, d, pads = case
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, ci) + sp).astype(dtype)
    w = rng.standard_normal((ci, co // g) + k).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    for kernel in ALL_KERNELS + (None,):
        outs = [run_transposed(x, w, b, s, pads, d, g, nt=nt, kernel=kernel) for nt in (1, 2, 4)]
        for o in outs[1:]:
            assert np.array_equal(o, outs[0])
    wf = rng.standard_normal((co, ci // g) + k).astype(dtype)
    fpads = tuple((abs(a), abs(b_)) for a, b_ in pads)
    outs = [run_forward(x, wf, b, s, fpads, d, g, nt=nt) for nt in (1, 2, 4)]
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])


def test_parallel_gather_bit_identical():
    """A GEMM-path problem big enough for the gather to run on several threads."""
    rng = np.random.default_rng(12)
    x = rng.standard_normal((1, 16, 128, 128)).astype(np.float32)
    w = rng.standard_normal((16, 64, 4, 4)).astype(np.float32)
    args = ((2, 2), ((1, 1), (1, 1)), (1, 1), 1)
    outs = [run_transposed(x, w, None, *args, nt=nt, kernel=GEMM) for nt in (1, 2, 4)]
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])
    np.testing.assert_allclose(outs[0], run_transposed(x, w, None, *args, kernel=DIRECT),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kernel", ALL_KERNELS + (None,))
@pytest.mark.parametrize("shape", [(0, 4, 3), (2, 0, 3), (2, 4, 0), (0, 0, 0)])
def test_zero_sizes(shape, kernel):
    n, ci, co = shape
    x = np.ones((n, ci, 5, 4), np.float32)
    w = np.ones((ci, co, 3, 2), np.float32)
    bias = np.arange(co, dtype=np.float32)
    for b in (bias, None):
        out = np.full((n, co, 9, 7), np.nan, np.float32)
        _kernels.conv_transpose(x, w, b, out, (2, 2), ((1, 1), (0, 0)), (1, 1), 1, 2,
                                _kernel=kernel)
        expect = np.broadcast_to((bias if b is not None else 0 * bias)[:, None, None],
                                 out.shape[1:])
        assert np.array_equal(out, np.broadcast_to(expect, out.shape))
    wf = np.ones((co, ci, 3, 2), np.float32)
    out = np.full((n, co, 3, 3), np.nan, np.float32)
    _kernels.conv(x, wf, bias, out, (1, 1), ((0, 0), (0, 0)), (1, 1), 1, 2)
    assert np.array_equal(out, np.broadcast_to(bias[:, None, None], out.shape))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocked_wide_rows_and_channel_blocks(dtype):
    """Rows wide enough for interior and border chunks, every output-channel block
    width (remainder blocks included), strides 1-3, dilation, 1-3 threads."""
    rng = np.random.default_rng(31)
    for it in range(24):
        nd = 1 + it % 3
        width = int(rng.integers(1, 70 if nd < 3 else 30))
        sp = (int(rng.integers(1, 6)),) * (nd - 1) + (width,)
        k = tuple(int(v) for v in rng.integers(1, 6, nd))
        s = tuple(int(v) for v in rng.integers(1, 4, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        g = int(rng.integers(1, 3))
        ci, co = g * int(rng.integers(1, 6)), g * int(rng.integers(1, 10))
        pads = tuple((int(rng.integers(0, dj * (kj - 1) + 1)),) * 2 for dj, kj in zip(d, k))
        pads = fit_pads(pads, sp, s, d, k)
        x = rng.standard_normal((2, ci) + sp).astype(dtype)
        w = rng.standard_normal((ci, co // g) + k).astype(dtype)
        b = rng.standard_normal(co).astype(dtype)
        check_threads((x, w, b, s, pads, d, g), BLOCKED, dtype)


@pytest.mark.parametrize("case", [
    # (dtype, N, C_in, C_out, groups, spatial, k, s, pads) -- many input channels per
    # group: the blocked path's channel-interleaved input copy
    (np.float32, 2, 200, 6, 2, (5, 19), (3, 4), (2, 2), ((1, 1), (1, 2))),
    (np.float64, 1, 40, 5, 1, (4, 6, 17), (2, 3, 3), (1, 2, 3), ((0, 1), (1, 1), (2, 0))),
    (np.float64, 2, 66, 4, 2, (7, 33), (4, 4), (2, 2), ((1, 1), (1, 1))),
])
def test_blocked_many_input_channels(case):
    dtype, n, ci, co, g, sp, k, s, pads = case
    rng = np.random.default_rng(41)
    x = rng.standard_normal((n, ci) + sp).astype(dtype)
    w = rng.standard_normal((ci, co // g) + k).astype(dtype)
    b = rng.standard_normal(co).astype(dtype)
    args = (x, w, b, s, pads, (1,) * len(sp), g)
    outs = [run_transposed(*args, nt=nt, kernel=BLOCKED) for nt in (1, 2)]
    assert np.array_equal(outs[0], outs[1])
    np.testing.assert_allclose(outs[0], ref_conv_transpose(*args), **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chlast_channel_blocks_and_wide_rows(dtype):
    """The channels-last path with many output channels (every block width: 1 to 4
    vectors, padded last blocks), wide rows (whole and partial register transposes
    of the staged rows), tiles that span rows, boxes no tap reaches (stride wider than
    the kernel), asymmetric and negative padding, dilation, groups; 1-3 threads
    bit-identical, and what the planner picks for such a layer."""
    rng = np.random.default_rng(91 + (dtype == np.float64))
    for it in range(16):
        nd = 1 + it % 3
        sp = tuple(int(v) for v in rng.integers(1, {1: 70, 2: 23, 3: 9}[nd], nd))
        k = tuple(int(v) for v in rng.integers(1, 5, nd))
        s = tuple(int(v) for v in rng.integers(1, 5, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        g = int(rng.choice([1, 1, 2]))
        ci, co = g * int(rng.integers(1, 40)), g * int(rng.choice([8, 16, 17, 33, 48, 70]))
        pads = tuple((int(rng.integers(-1, dj * (kj - 1) + 1)),
                      int(rng.integers(-1, dj * (kj - 1) + 1))) for kj, dj in zip(k, d))
        pads = fit_pads(pads, sp, s, d, k)
        x = rng.standard_normal((int(rng.integers(1, 3)), ci) + sp).astype(dtype)
        w = rng.standard_normal((ci, co // g) + k).astype(dtype)
        b = rng.standard_normal(co).astype(dtype) if it % 3 else None
        case = (x, w, b, s, pads, d, g)
        got = check_threads(case, CHLAST, dtype)
        np.testing.assert_allclose(run_transposed(*case, kernel=None), got, **TOL[dtype])


def test_chlast_is_planned_for_channel_heavy_layers(isa):
    """The planner sends channel-heavy layers to the channels-last kernel (same bits as
    forcing it), and few output channels elsewhere (blocked, virtual channels)."""
    if isa == "portable":
        pytest.skip("the AVX2/AVX-512 kernels are switched off in this run (isa 'portable')")
    rng = np.random.default_rng(93)
    args = ((2, 2), ((1, 1), (1, 1)), (1, 1), 1)
    x = rng.standard_normal((2, 64, 12, 12)).astype(np.float32)
    w = rng.standard_normal((64, 32, 4, 4)).astype(np.float32)
    assert np.array_equal(run_transposed(x, w, None, *args),
                          run_transposed(x, w, None, *args, kernel=CHLAST))
    assert not np.array_equal(run_transposed(x, w, None, *args, kernel=CHLAST),
                              run_transposed(x, w, None, *args, kernel=GEMM))
    # 3 output channels, rows long enough for the width-vectorised kernel, from few
    # input channels: blocked; from many: virtual channels (a GAN's output layer)
    x = rng.standard_normal((2, 8, 20, 40)).astype(np.float32)
    w3 = rng.standard_normal((8, 3, 4, 4)).astype(np.float32)
    assert np.array_equal(run_transposed(x, w3, None, *args),
                          run_transposed(x, w3, None, *args, kernel=BLOCKED))
    assert not np.array_equal(run_transposed(x, w3, None, *args, kernel=BLOCKED),
                              run_transposed(x, w3, None, *args, kernel=VCHAN))
    x = rng.standard_normal((2, 64, 20, 40)).astype(np.float32)
    w3 = rng.standard_normal((64, 3, 4, 4)).astype(np.float32)
    assert np.array_equal(run_transposed(x, w3, None, *args),
                          run_transposed(x, w3, None, *args, kernel=VCHAN))
    assert not np.array_equal(run_transposed(x, w3, None, *args, kernel=BLOCKED),
                              run_transposed(x, w3, None, *args, kernel=VCHAN))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vchan_wide_rows_and_virtual_channel_blocks(dtype, isa):
    """The virtual-channel path: rows of one to several blocks of input vectors (the
    last one part outside the row), more (output channel, width tap) pairs than one
    register block holds, strides 1-4 (up to 4 width taps per phase), dilation,
    asymmetric, negative and output padding, groups, 1-3 threads bit-identical; and,
    on every ISA this CPU has, the same bits (each output adds its taps in tap
    order whatever the block width)."""
    rng = np.random.default_rng(57 + (dtype == np.float64))
    for it in range(18):
        nd = 1 + it % 3
        width = int(rng.integers(1, 140 if nd < 3 else 50))
        sp = tuple(int(v) for v in rng.integers(1, 5, nd - 1)) + (width,)
        k = tuple(int(v) for v in rng.integers(1, 5, nd - 1)) + (int(rng.integers(1, 9)),)
        s = tuple(int(v) for v in rng.integers(1, 5, nd))
        d = tuple(int(v) for v in rng.integers(1, 3, nd))
        g = int(rng.choice([1, 1, 2]))
        ci, co = g * int(rng.integers(1, 24)), g * int(rng.integers(1, 11))
        pads = tuple((int(rng.integers(-1, dj * (kj - 1) + 1)),
                      int(rng.integers(-max(sj, dj) + 1, dj * (kj - 1) + 1)))
                     for kj, sj, dj in zip(k, s, d))
        pads = fit_pads(pads, sp, s, d, k)
        x = rng.standard_normal((int(rng.integers(1, 3)), ci) + sp).astype(dtype)
        w = rng.standard_normal((ci, co // g) + k).astype(dtype)
        b = rng.standard_normal(co).astype(dtype) if it % 3 else None
        case = (x, w, b, s, pads, d, g)
        got = check_threads(case, VCHAN, dtype)
        if isa == "avx512" and "avx2" in ISAS:
            _kernels._set_isa("avx2")
            assert np.array_equal(run_transposed(*case, kernel=VCHAN), got), case[3:]
            _kernels._set_isa(isa)


def test_vchan_gan_output_layer_matches_torch():
    """A GAN's RGB output layer (the dcgan_out workload's shape, fewer images): planned
    on the virtual-channel path, against torch, with bias, 1-2 threads bit-identical."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(59)
    x = rng.standard_normal((4, 64, 32, 32)).astype(np.float32)
    w = rng.standard_normal((64, 3, 4, 4)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    ref = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                               torch.from_numpy(b), stride=2,
                                               padding=1).numpy()
    args = ((2, 2), ((1, 1), (1, 1)), (1, 1), 1)
    outs = [run_transposed(x, w, b, *args, nt=nt, kernel=VCHAN) for nt in (1, 2)]
    np.testing.assert_allclose(outs[0], ref, rtol=1e-4, atol=1e-4)
    assert np.array_equal(outs[0], outs[1])
    np.testing.assert_allclose(run_transposed(x, w, b, *args), ref, rtol=1e-4, atol=1e-4)


def depthwise_case(rng, nd, dtype, *, wide=False):
    """C_in/groups == 1 (the depthwise path's shapes): strides 1-4, dilations 1-3,
    odd sizes, asymmetric pads and output_padding; wide rows get interior chunks."""
    s = tuple(int(v) for v in rng.integers(1, 5, nd))
    d = tuple(int(v) for v in rng.integers(1, 4, nd))
    k = tuple(int(v) for v in rng.integers(1, 6, nd))
    n = tuple(int(v) for v in rng.integers(1, 7, nd - 1)) + (
        int(rng.integers(1, 90 if wide else 12)),)
    groups = int(rng.integers(1, 6))
    c_out_g = int(rng.choice([1, 1, 2, 3]))
    pads = []
    for j in range(nd):
        full = (n[j] - 1) * s[j] + d[j] * (k[j] - 1) + 1
        pb = int(rng.integers(0, d[j] * (k[j] - 1) + 1))
        op = int(rng.integers(0, max(s[j], d[j])))
        pa = int(rng.integers(0, d[j] * (k[j] - 1) + 1)) - op
        if full - pb - pa < 1:
            pb, pa = 0, -op
        pads.append((pb, pa))
    x = rng.standard_normal((int(rng.integers(1, 4)), groups) + n).astype(dtype)
    w = rng.standard_normal((groups, c_out_g) + k).astype(dtype)
    bias = rng.standard_normal(groups * c_out_g).astype(dtype) if rng.random() < 0.7 else None
    return x, w, bias, s, tuple(pads), d, groups


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_depthwise_matches_reference_and_threads(nd, dtype):
    """The depthwise path (forced, and through the planner): reference scatter, and
    bit-identical for 1, 2 and 4 threads and to what the planner picks for it."""
    rng = np.random.default_rng(600 + 10 * nd + (dtype == np.float64))
    for it in range(30 if nd < 3 else 15):
        case = depthwise_case(rng, nd, dtype, wide=it % 2 == 1)
        ref = ref_conv_transpose(*case)
        outs = [run_transposed(*case, nt=nt, kernel=DEPTHWISE) for nt in (1, 2, 4)]
        np.testing.assert_allclose(outs[0], ref, **TOL[dtype], err_msg=repr(case[3:]))
        for o in outs[1:]:
            assert np.array_equal(o, outs[0])
        planned = run_transposed(*case, nt=2, kernel=None)
        # One output channel per group: the planner's choice, unless the call is so
        # small (under build_info()["planner"]["blocked_min_work"]) that it goes direct.
        if case[1].shape[1] == 1 and outs[0].size >= BLOCKED_MIN_WORK:
            assert np.array_equal(planned, outs[0])
        else:
            np.testing.assert_allclose(planned, ref, **TOL[dtype], err_msg=repr(case[3:]))


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_depthwise_matches_torch(nd):
    pytest.importorskip("torch")
    rng = np.random.default_rng(700 + nd)
    for it in range(20):
        x, w, bias, s, _, d, groups = depthwise_case(rng, nd, np.float64, wide=it % 2 == 1)
        padding = tuple(int(rng.integers(0, dj * (kj - 1) + 1)) for dj, kj in zip(d, w.shape[2:]))
        op = tuple(int(rng.integers(0, max(sj, dj))) for sj, dj in zip(s, d))
        pads = tuple((p, p - o) for p, o in zip(padding, op))
        try:
            ref = torch_ref(f"conv_transpose{nd}d", x, w, bias, stride=s, padding=padding,
                            output_padding=op, groups=groups, dilation=d)
        except RuntimeError:  # empty output for torch
            continue
        got = run_transposed(x, w, bias, s, pads, d, groups, kernel=DEPTHWISE)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


def depthwise_forward_case(rng, nd, dtype, *, wide=False):
    """C_in/groups == 1 forward problems (the forward depthwise kernel's shapes): strides
    1-3, dilations 1-2, kernels 1-5, channel multipliers 1-3, pads 0-3 on each side;
    wide rows cross several vector chunks."""
    s = tuple(int(v) for v in rng.integers(1, 4, nd))
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    k = tuple(int(v) for v in rng.integers(1, 6, nd))
    n = tuple(int(v) + dj * (kj - 1) for v, dj, kj in zip(
        tuple(rng.integers(1, 7, nd - 1)) + (rng.integers(1, 90 if wide else 12),), d, k))
    groups, c_out_g = int(rng.integers(1, 6)), int(rng.choice([1, 1, 2, 3]))
    pads = tuple((int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in range(nd))
    x = rng.standard_normal((int(rng.integers(1, 4)), groups) + n).astype(dtype)
    w = rng.standard_normal((groups * c_out_g, 1) + k).astype(dtype)
    bias = rng.standard_normal(groups * c_out_g).astype(dtype) if rng.random() < 0.7 else None
    return x, w, bias, s, pads, d, groups


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_depthwise_forward_matches_reference_threads_and_isas(nd, dtype, isa):
    """The forward depthwise kernel (conv "depthwise", forced): the reference, and the
    same bits for 1, 2 and 4 threads and on AVX2 and AVX-512 (every lane sums the same
    terms in the same order whatever the tile and the vector width)."""
    rng = np.random.default_rng(900 + 10 * nd + (dtype == np.float64))
    other = [i for i in ISAS if i not in (isa, "portable")]
    for it in range(20 if nd < 3 else 10):
        case = depthwise_forward_case(rng, nd, dtype, wide=it % 2 == 1)
        outs = [run_forward(*case, nt=nt, kernel="depthwise") for nt in (1, 2, 4)]
        np.testing.assert_allclose(outs[0], ref_conv(*case), **TOL[dtype],
                                   err_msg=repr(case[3:]))
        for o in outs[1:]:
            assert np.array_equal(o, outs[0])
        if isa != "portable" and other:
            with kernel_isa(other[0]):
                assert np.array_equal(run_forward(*case, kernel="depthwise"), outs[0])


def test_depthwise_forward_is_planned_and_keeps_nonfinite_off_the_border(isa):
    """The planner gives a strided depthwise convolution (the conv form of
    depthwise_64ch_32px_b8) to the forward depthwise kernel; an inf weight at a tap
    that reaches past the row's ends does not turn border outputs into NaN (they are
    summed again over the taps that meet the input only): the direct kernel's pattern."""
    rng = np.random.default_rng(31)
    x = rng.standard_normal((2, 16, 32, 32)).astype(np.float32)
    w = rng.standard_normal((16, 1, 4, 4)).astype(np.float32)
    args = (None, (2, 2), ((1, 1), (1, 1)), (1, 1), 16)
    if isa != "portable":
        assert np.array_equal(run_forward(x, w, *args), run_forward(x, w, *args,
                                                                     kernel="depthwise"))
    w[0, 0, 0, 0] = np.inf      # reaches x[-1] at output column 0
    w[5, 0, 2, 3] = -np.inf     # reaches x[32] at the last output column
    w[9, 0, 1, 1] = np.nan
    with np.errstate(invalid="ignore"):
        got = run_forward(x, w, *args, kernel="depthwise")
        ref = run_forward(x, w, *args, kernel="direct")
    assert np.isinf(ref).any() and not np.isnan(ref[:, :9]).any()
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    assert np.array_equal(np.isinf(got), np.isinf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], **TOL[np.float32])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_weight_gradient(dtype, isa):
    """wgrad "depthwise" (one channel per group on both sides), forced: the naive sum,
    the same bits for 1, 2 and 3 threads (bands and lanes added in a fixed order), and
    the planner's choice for depthwise layers."""
    rng = np.random.default_rng(940 + (dtype == np.float64))
    for it in range(12):
        nd = 1 + it % 3
        x, w, _, s, pads, d, groups = depthwise_forward_case(rng, nd, dtype, wide=it % 2 == 0)
        w = w[:groups]                       # one output channel per group
        osz = tuple((n + pb + pa - dj * (kj - 1) - 1) // sj + 1 for n, kj, sj, dj, (pb, pa)
                    in zip(x.shape[2:], w.shape[2:], s, d, pads))
        u = rng.standard_normal((x.shape[0], groups) + osz).astype(dtype)
        ref = naive_weight_grad(u.astype(np.float64), x.astype(np.float64), s, pads, d,
                                groups, w.shape[2:])
        outs = []
        for nt in (1, 2, 3):
            out = np.full(ref.shape, np.nan, dtype)
            _kernels.weight_grad(u, x, out, s, pads, d, groups, nt, _kernel="depthwise")
            outs.append(out)
        np.testing.assert_allclose(outs[0], ref, **TOL[dtype], err_msg=repr((s, pads, d)))
        for o in outs[1:]:
            assert np.array_equal(o, outs[0])
        planned = np.full(ref.shape, np.nan, dtype)
        _kernels.weight_grad(u, x, planned, s, pads, d, groups, 2)
        if isa != "portable":
            assert np.array_equal(planned, outs[0])
    # few channels on both sides (up to planner.wgrad_depthwise_max_channels) go to it
    # too; from 16 the outer-product tiles take them
    most = _kernels.build_info()["planner"]["wgrad_depthwise_max_channels"]
    for c in (most, 2 * most):
        u = rng.standard_normal((1, c, 20, 30)).astype(dtype)
        v = rng.standard_normal((1, c, 20, 30)).astype(dtype)
        got = {}
        for fam in (None, "depthwise"):
            got[fam] = np.full((c, c, 7, 7), np.nan, dtype)
            _kernels.weight_grad(u, v, got[fam], (1, 1), ((3, 3), (3, 3)), (1, 1), 1, 2,
                                 _kernel=fam)
        np.testing.assert_allclose(got[None], naive_weight_grad(
            u.astype(np.float64), v.astype(np.float64), (1, 1), ((3, 3), (3, 3)), (1, 1), 1,
            (7, 7)), **TOL[dtype])
        if isa != "portable":
            assert np.array_equal(got[None], got["depthwise"]) == (c == most), c


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_benchmark_shape(dtype):
    """depthwise_64ch_32px_b8 (half the batch: an output large enough for non-temporal
    stores): 64 channels, k4 s2 p1, through the planner; and one big plane (1 channel),
    cut into row blocks."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(17)
    for shape, groups in (((4, 64, 32, 32), 64), ((1, 1, 200, 200), 1)):
        x = rng.standard_normal(shape).astype(dtype)
        w = rng.standard_normal((shape[1], 1, 4, 4)).astype(dtype)
        b = rng.standard_normal(shape[1]).astype(dtype)
        ref = torch.nn.functional.conv_transpose2d(
            torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=2,
            padding=1, groups=groups).numpy()
        outs = [run_transposed(x, w, b, (2, 2), ((1, 1), (1, 1)), (1, 1), groups, nt=nt)
                for nt in (1, 2, 4)]
        np.testing.assert_allclose(outs[0], ref, **TOL[dtype])
        for o in outs[1:]:
            assert np.array_equal(o, outs[0])
        assert np.array_equal(outs[0], run_transposed(x, w, b, (2, 2), ((1, 1), (1, 1)),
                                                      (1, 1), groups, kernel=DEPTHWISE))


@pytest.mark.parametrize("groups", [1, 2])   # 2: one input channel per group
@pytest.mark.parametrize("kernel", ALL_KERNELS + (None,))
def test_nonfinite_weights_only_reach_real_pixels(kernel, groups):
    """An inf weight must not turn border outputs into NaN (no product with a pixel
    outside the input is ever formed): same result as the reference scatter."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((1, 2, 5, 40)).astype(np.float32)
    w = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    w[0, 1, 0, 3] = np.inf
    w[1, 2, 3, 0] = -np.inf
    args = ((2, 2), ((1, 1), (1, 1)), (1, 1), groups)
    # and a 1-D call the folded path really folds: 3 output channels x stride 8
    x1 = rng.standard_normal((1, 2, 30)).astype(np.float32)
    w1 = rng.standard_normal((2, 3, 16)).astype(np.float32)
    w1[0, 1, 3] = np.inf
    w1[1, 2, 15] = -np.inf
    for case in ((x, w, None) + args, (x1, w1, None, (8,), ((5, 2),), (1,), groups)):
        got = run_transposed(*case, kernel=kernel)
        with np.errstate(invalid="ignore"):
            ref = ref_conv_transpose(*case)
        assert np.array_equal(np.isnan(got), np.isnan(ref))
        assert np.array_equal(np.isinf(got), np.isinf(ref))
        fin = np.isfinite(ref)
        np.testing.assert_allclose(got[fin], ref[fin], rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_isas_bit_identical(dtype):
    """AVX2 and AVX-512 builds of the blocked and depthwise kernels give the same bits:
    a lane's sum runs over the same terms in the same order whatever the vector width
    (chunks at other positions, border masks of other shapes)."""
    if len(ISAS) < 3:
        pytest.skip(f"this CPU runs the blocked kernels with {ISAS[0]} only")
    rng = np.random.default_rng(77 + (dtype == np.float64))
    cases = [transposed_case(rng, 1 + it % 3, dtype, big=True) for it in range(20)]
    cases += [depthwise_case(rng, 1 + it % 3, dtype, wide=True) for it in range(20)]
    cases += [fold_case(rng, dtype) for it in range(10)]
    for case in cases:
        got = {}
        for name in ISAS[:2]:
            _kernels._set_isa(name)
            got[name] = [run_transposed(*case, kernel=p) for p in SIMD_KERNELS]
        for a, b in zip(*got.values()):
            assert np.array_equal(a, b), repr(case[3:])


def test_untouched_outputs_get_bias():
    """Output positions no tap reaches (s = d = 2, output_padding) hold the bias."""
    x = np.ones((1, 1, 4), np.float64)
    w = np.ones((1, 1, 2), np.float64)
    b = np.array([0.5])
    got = run_transposed(x, w, b, (2,), ((0, -1),), (2,), 1)
    assert np.array_equal(got[0, 0], [1.5, 0.5, 2.5, 0.5, 2.5, 0.5, 2.5, 0.5, 1.5, 0.5])


def test_readonly_inputs():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 5, 5))
    w = rng.standard_normal((2, 3, 3, 3))
    b = rng.standard_normal(3)
    for a in (x, w, b):
        a.flags.writeable = False
    got = run_transposed(x, w, b, (2, 2), ((1, 1), (1, 1)), (1, 1), 1)
    np.testing.assert_allclose(got, ref_conv_transpose(x, w, b, (2, 2), ((1, 1), (1, 1)),
                                                       (1, 1), 1), rtol=1e-12)


def test_concurrent_python_threads_match_serial():
    rng = np.random.default_rng(21)
    cases = [transposed_case(rng, int(rng.integers(1, 4)), np.float32, big=True)
             for _ in range(16)]
    paths = ALL_KERNELS
    serial = [run_transposed(*c, kernel=p) for c in cases for p in paths]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(run_transposed, *c, kernel=p) for c in cases for p in paths]
        for f, expect in zip(futures, serial):
            assert np.array_equal(f.result(), expect)


# ----------------------------------------------------------------------------------
# module introspection
def test_openmp_enabled():
    if os.environ.get("DECONV_CORE_ALLOW_SERIAL") == "1":
        pytest.skip("DECONV_CORE_ALLOW_SERIAL=1: a serial build is allowed")
    assert _kernels.openmp_enabled() is True


def test_max_threads_and_build_info():
    assert isinstance(_kernels.max_threads(), int) and _kernels.max_threads() >= 1
    info = _kernels.build_info()
    assert info["openmp"] == _kernels.openmp_enabled()
    assert isinstance(info["compiler_flags"], list)
    assert "-ffast-math" not in info["compiler_flags"]
    assert {"boundscheck", "wraparound", "initializedcheck", "cdivision"} <= set(
        info["cython_directives"])
    assert info["bounds_checks"] == info["cython_directives"]["boundscheck"]
    assert isinstance(info["isa"], str) and info["isa"]
    assert info["kernel_isa"] in ("portable", "avx2+fma", "avx512f")
    if not info["bounds_checks"]:
        assert not info["cython_directives"]["wraparound"]
