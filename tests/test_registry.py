"""The kernel registry (src_c/registry/dc_kernels.def) as Python sees it, walked whole.

Every kernel the registry declares is forced by name, on every ISA row this CPU has
and in both dtypes, and must match the independent reference and give the same bits
for any thread count: a kernel declared there is tested here the moment it is built.
"""
import os
import re
import zlib

import numpy as np
import pytest

from conftest import kernel_isa
from reference import naive_conv, naive_conv_transpose, naive_weight_grad

if os.environ.get("DECONV_CORE_BACKEND", "").strip().lower() == "numpy":
    _kernels = pytest.importorskip(
        "deconv_core._kernels",
        reason="DECONV_CORE_BACKEND=numpy: the compiled backend is not required")
else:
    from deconv_core import _kernels  # a missing extension is a failure here

KERNELS = _kernels.KERNELS
BEST_ISA = _kernels._isa()
ROWS = [isa for isa in ("portable", "avx2", "avx512")
        if any(k.isa == isa and k.available for k in KERNELS) or isa == "portable"]
# (op, family, isa row) triples: one test each
TRIPLES = sorted({(k.op, k.family, isa) for k in KERNELS for isa in ROWS
                  if k.isa in ("portable", isa)},
                 key=lambda t: (t[0], _kernels.FAMILIES[t[0]].index(t[1]), ROWS.index(t[2])))


@pytest.fixture
def row(request):
    """Run with the kernel table's ISA row ``request.param``."""
    with kernel_isa(request.param):
        yield request.param


def test_kernel_names_state_their_contract():
    assert KERNELS, "the registry is empty"
    for k in KERNELS:
        dt = {"float32": "f32", "float64": "f64"}[k.dtype]
        assert k.name == f"{dt}_{k.op}_{k.family}__{k.isa}", k
        assert k.op in ("tconv", "conv", "wgrad") and k.impl in ("c", "blas") and k.serves
        assert all(re.fullmatch(r"\d+x\d+", t) for t in k.tiles), k
        # SIMD kernels are built from register tiles; the portable row kernels have none
        assert bool(k.tiles) == (k.isa != "portable"), k
    names = [k.name for k in KERNELS]
    assert len(names) == len(set(names))
    # every family comes in both dtypes on each ISA it is built for
    for k in KERNELS:
        twin = k.name.replace("f32_", "f64_", 1) if k.dtype == "float32" else \
            k.name.replace("f64_", "f32_", 1)
        assert twin in names, k.name


def test_families_and_isa_rows():
    x86 = any(k.isa != "portable" for k in KERNELS)
    for op, families in _kernels.FAMILIES.items():
        built = tuple(dict.fromkeys(k.family for k in KERNELS if k.op == op))
        # FAMILIES is the whole table; a CPU family without SIMD rows (aarch64) builds
        # only the portable kernels, x86 builds every one for some row
        assert set(built) <= set(families) and (families == built or not x86)
        assert "direct" in built, "every op needs its portable fallback"
    cpu_rows = [k.isa for k in KERNELS if k.available]
    assert "portable" in cpu_rows
    assert BEST_ISA in ROWS and _kernels.build_info()["kernel_isa"] in (
        "portable", "avx2+fma", "avx512f")


def test_unknown_kernel_name_is_a_value_error():
    x = np.ones((1, 1, 3, 3))
    out = np.empty((1, 1, 4, 4))
    with pytest.raises(ValueError, match="not a tconv kernel; the registry has direct, gemm"):
        _kernels.conv_transpose(x, np.ones((1, 1, 2, 2)), None, out, (1, 1),
                                ((0, 0), (0, 0)), (1, 1), 1, 1, _kernel="nope")
    with pytest.raises(ValueError, match="not a conv kernel"):
        _kernels.conv(x, np.ones((1, 1, 2, 2)), None, np.empty((1, 1, 2, 2)), (1, 1),
                      ((0, 0), (0, 0)), (1, 1), 1, 1, _kernel="vchan")


def _case(rng, op, family, nd, dtype):
    """A random problem of the shapes the family serves (so its own code runs, not a
    fallback), with asymmetric padding, dilation, groups and a bias."""
    heavy = family in ("chlast", "gemm") or (family == "outer" and rng.random() < 0.5)
    depthwise = family == "depthwise"
    k = tuple(int(v) for v in rng.integers(1, 4, nd))
    s = tuple(int(v) for v in rng.integers(1, 4, nd))
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    if family == "fold":       # 1-D, the stride dividing the kernel
        nd, s, d = 1, (int(rng.integers(2, 6)),), (1,)
        k = (s[0] * int(rng.integers(1, 4)),)
    sizes = tuple(int(v) for v in rng.integers(2, {1: 40, 2: 9, 3: 5}[nd], nd))
    groups = int(rng.integers(1, 3))
    cin_g = 1 if depthwise else int(rng.integers(16, 33) if heavy else rng.integers(1, 6))
    cout_g = 1 if depthwise else int(rng.integers(16, 33) if heavy else rng.integers(1, 5))
    x = rng.standard_normal((2, groups * cin_g) + sizes).astype(dtype)
    b = rng.standard_normal(groups * cout_g).astype(dtype)
    if op == "wgrad":   # u on the positions p, v on l = p*s - pb + t*d (either op's)
        psz = tuple(int(v) for v in rng.integers(1, {1: 30, 2: 8, 3: 4}[nd], nd))
        u = rng.standard_normal((2, groups * cout_g) + psz).astype(dtype)
        pads = tuple((int(rng.integers(0, dd * (kk - 1) + 1)), 0) for kk, dd in zip(k, d))
        ref = naive_weight_grad(u.astype(np.float64), x.astype(np.float64), s, pads, d,
                                groups, k)
        return (u, x, None, s, pads, d, groups), ref
    if op == "tconv":
        w = rng.standard_normal((groups * cin_g, cout_g) + k).astype(dtype)
        pads = []
        for n, kk, ss, dd in zip(sizes, k, s, d):
            op_ = int(rng.integers(0, max(ss, dd)))
            pb, pa = int(rng.integers(0, dd * (kk - 1) + 1)), int(rng.integers(0, 2))
            pads.append((pb, pa - op_))
        out = tuple((n - 1) * ss + dd * (kk - 1) + 1 - pb - pa
                    for n, kk, ss, dd, (pb, pa) in zip(sizes, k, s, d, pads))
        if min(out) < 1:
            pads = [(0, 0)] * nd
            out = tuple((n - 1) * ss + dd * (kk - 1) + 1 for n, kk, ss, dd in zip(sizes, k, s, d))
        ref = naive_conv_transpose(x.astype(np.float64), w.astype(np.float64), b, s, pads, d,
                                   groups, out)
    else:
        w = rng.standard_normal((groups * cout_g, cin_g) + k).astype(dtype)
        pads = [(int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd)]
        span = [dd * (kk - 1) + 1 for kk, dd in zip(k, d)]
        pads = [(pb + max(0, sp - n - pb - pa), pa) for (pb, pa), sp, n in zip(pads, span, sizes)]
        ref = naive_conv(x.astype(np.float64), w.astype(np.float64), b, s, pads, d, groups)
    return (x, w, b, s, tuple(pads), d, groups), ref


@pytest.mark.parametrize("op,family,row", TRIPLES, indirect=["row"],
                         ids=["-".join(t) for t in TRIPLES])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_every_kernel_matches_the_reference_on_every_row(op, family, row, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{op} {family} {row} {dtype.__name__}".encode()))
    run = {"tconv": _kernels.conv_transpose, "conv": _kernels.conv,
           "wgrad": lambda u, v, _, out, *rest, **kw: _kernels.weight_grad(u, v, out, *rest,
                                                                         **kw)}[op]
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for nd in (1, 2, 3, 1, 2):
        args, ref = _case(rng, op, family, nd, dtype)
        outs = []
        for nt in (1, 2, 3):
            out = np.full(ref.shape, np.nan, dtype)
            run(*args[:3], out, *args[3:], nt, _kernel=family)
            outs.append(out)
        np.testing.assert_allclose(outs[0], ref, **tol, err_msg=f"{family} {row} {args[3:]}")
        for o in outs[1:]:
            assert np.array_equal(o, outs[0]), f"{family} on {row}: threads change the bits"


@pytest.mark.parametrize("row", ["portable"], indirect=True)
def test_a_kernel_the_row_lacks_falls_back_to_direct(row):
    """On the portable row every SIMD kernel runs the direct kernel: the same bits."""
    rng = np.random.default_rng(5)
    args, ref = _case(rng, "tconv", "blocked", 2, np.float32)
    outs = {}
    for family in _kernels.FAMILIES["tconv"]:
        out = np.full(ref.shape, np.nan, np.float32)
        _kernels.conv_transpose(*args[:3], out, *args[3:], 2, _kernel=family)
        outs[family] = out
    simd = {k.family for k in KERNELS if k.isa != "portable" and k.op == "tconv"}
    for family in simd:
        assert np.array_equal(outs[family], outs["direct"]), family


def test_gemm_slabs_cover_long_problems():
    """conv gemm and wgrad gemm cut a problem whose columns exceed the slab bound
    (planner.frames_max_bytes) into slabs of output positions (of taps): the slabs
    tile the problem exactly (1-D and 2-D, batch and groups), against torch."""
    torch = pytest.importorskip("torch")
    bound = _kernels.build_info()["planner"]["frames_max_bytes"]
    rng = np.random.default_rng(71)
    F = torch.nn.functional
    for nd, size, k, s, p, d in [(1, (3001,), (301,), (7,), 150, 1),
                                 (1, (4000,), (97,), (3,), 20, 2),
                                 (2, (120, 100), (9, 5), (2, 3), 3, 1)]:
        groups, cin_g, cout_g = 2, 3, 17
        x = rng.standard_normal((3, groups * cin_g) + size)
        w = rng.standard_normal((groups * cout_g, cin_g) + k)
        b = rng.standard_normal(groups * cout_g)
        conv = getattr(F, f"conv{nd}d")
        ref = conv(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), s, p, d,
                   groups).numpy()
        cols_bytes = cin_g * int(np.prod(k)) * int(np.prod(ref.shape[2:])) * 8
        assert cols_bytes > 2 * bound, "the case must need several slabs"
        out = np.full(ref.shape, np.nan)
        _kernels.conv(x, w, b, out, s, ((p, p),) * nd, (d,) * nd, groups, 2, _kernel="gemm")
        np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-9)
        # the weight gradient of that conv: u = grad_output on its positions, v = x
        u = rng.standard_normal(ref.shape)
        gw = getattr(torch.nn.grad, f"conv{nd}d_weight")(
            torch.from_numpy(x), w.shape, torch.from_numpy(u), s, p, d, groups).numpy()
        assert int(np.prod(ref.shape[2:])) * int(np.prod(k)) * 8 > 2 * bound
        got = np.full(gw.shape, np.nan)
        _kernels.weight_grad(u, x, got, s, ((p, p),) * nd, (d,) * nd, groups, 2,
                             _kernel="gemm")
        np.testing.assert_allclose(got, gw, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_gemm_batches_whole_images(dtype):
    """conv gemm puts the columns of several whole images into one matmul (at most
    planner.frames_batch_bytes of them): batches of images tile the batch exactly (a
    partial last batch, groups, bias), against torch; the planner gives it a
    channel-heavy layer with 4-pixel output rows (a GAN's 8x8 -> 4x4 gradient), and
    the chosen bits are forced gemm's, 1 and 2 threads alike."""
    torch = pytest.importorskip("torch")
    info = _kernels.build_info()["planner"]
    batch, max_row = info["frames_batch_bytes"], info["conv_gemm_max_row"]
    rng = np.random.default_rng(72)
    itemsize = np.dtype(dtype).itemsize
    groups, cin_g, cout_g, k = 2, 160, 24, (4, 4)
    per_image = 4 * 4 * cin_g * 16 * itemsize      # output positions x reduction
    nb = batch // per_image
    assert nb >= 2 and max_row >= 4, "the case must take the batched path"
    n = 2 * nb + 3                                 # two full batches and a partial one
    x = rng.standard_normal((n, groups * cin_g, 8, 8)).astype(dtype)
    w = rng.standard_normal((groups * cout_g, cin_g) + k).astype(dtype)
    b = rng.standard_normal(groups * cout_g).astype(dtype)
    ref = torch.nn.functional.conv2d(torch.from_numpy(x).double(),
                                     torch.from_numpy(w).double(),
                                     torch.from_numpy(b).double(), 2, 1, 1, groups).numpy()
    tol = dict(rtol=1e-10, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-3)
    got = {}
    for kernel, nt in [("gemm", 1), ("gemm", 2), (None, 2), ("chlast", 2)]:
        out = np.full(ref.shape, np.nan, dtype)
        _kernels.conv(x, w, b, out, (2, 2), ((1, 1), (1, 1)), (1, 1), groups, nt,
                      _kernel=kernel)
        np.testing.assert_allclose(out, ref, **tol)
        got[kernel, nt] = out
    assert np.array_equal(got["gemm", 1], got["gemm", 2])
    if _kernels._isa() != "portable":
        assert np.array_equal(got[None, 2], got["gemm", 2]), "the planner must pick conv gemm"
        assert not np.array_equal(got["chlast", 2], got["gemm", 2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_gemm_multiplies_stride_blocks_in_place(dtype):
    """conv gemm on a 1-D layer whose kernel is two or more whole strides, with a
    stride's worth of input channels at least planner.blocks_min_reduction long (an
    inverse-STFT shape): the input cut into stride-long blocks multiplied in place.
    Pads before and after of any size (asymmetric, past the input), groups, batch,
    bias, an input shorter than one block; against torch (float64), the same bits
    for 1 and 2 threads, and the planner's choice for the inverse-STFT layer."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    least = _kernels.build_info()["planner"]["blocks_min_reduction"]
    rng = np.random.default_rng(73)
    tol = dict(rtol=1e-10, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-3)
    cases = [  # (N, groups, cin_g, cout_g, n, k, s, pad before, pad after)
        (1, 1, 1, 258, 1024, 256, 64, 96, 96),       # a small inverse STFT
        (2, 2, 4, 3, 300, 48, 16, 0, 0),
        (3, 1, 8, 5, 97, 32, 8, 31, 2),
        (1, 3, 32, 2, 40, 8, 2, 7, 0),
        (2, 1, 1, 4, 30, 256, 128, 200, 40),         # input shorter than a block
        (1, 1, 2, 6, 500, 96, 32, 0, 95),
        (1, 1, 1, 258, 20000, 256, 64, 100, 60),     # a long signal
    ]
    for nn, groups, cin_g, cout_g, n, k, s, pb, pa in cases:
        assert cin_g * s >= least and k % s == 0 and k // s >= 2, "must take the blocks path"
        x = rng.standard_normal((nn, groups * cin_g, n)).astype(dtype)
        w = rng.standard_normal((groups * cout_g, cin_g, k)).astype(dtype)
        b = rng.standard_normal(groups * cout_g).astype(dtype) if cin_g % 2 else None
        xt = F.pad(torch.from_numpy(x).double(), (pb, pa))
        ref = F.conv1d(xt, torch.from_numpy(w).double(),
                       None if b is None else torch.from_numpy(b).double(), s, 0, 1,
                       groups).numpy()
        assert ref.shape[-1] >= 1
        got = {}
        for kernel, nt in [("gemm", 1), ("gemm", 2), (None, 2)]:
            out = np.full(ref.shape, np.nan, dtype)
            _kernels.conv(x, w, b, out, (s,), ((pb, pa),), (1,), groups, nt, _kernel=kernel)
            np.testing.assert_allclose(out, ref, **tol, err_msg=repr((n, k, s, pb, pa)))
            got[kernel, nt] = out
        assert np.array_equal(got["gemm", 1], got["gemm", 2])
        # its weight gradient (u = grad_output, v = x) on the same blocks
        gy = rng.standard_normal(ref.shape).astype(dtype)
        gw = torch.nn.grad.conv1d_weight(xt, w.shape, torch.from_numpy(gy).double(), s, 0,
                                         1, groups).numpy()
        grads = []
        for nt in (1, 2):
            gwo = np.full(w.shape, np.nan, dtype)
            _kernels.weight_grad(gy, x, gwo, (s,), ((pb, pa),), (1,), groups, nt,
                                 _kernel="gemm")
            np.testing.assert_allclose(gwo, gw, **tol, err_msg=repr((n, k, s, pb, pa)))
            grads.append(gwo)
        assert np.array_equal(grads[0], grads[1])
    # the inverse-STFT layer of the shared workloads, as the planner runs it
    x = rng.standard_normal((1, 1, 4 * 256 + 768)).astype(dtype)
    w = rng.standard_normal((258, 1, 1024)).astype(dtype)
    ref = F.conv1d(torch.from_numpy(x).double(), torch.from_numpy(w).double(), None, 256,
                   384).numpy()
    outs = []
    for kernel in ("gemm", None):
        out = np.full(ref.shape, np.nan, dtype)
        _kernels.conv(x, w, None, out, (256,), ((384, 384),), (1,), 1, 2, _kernel=kernel)
        outs.append(out)
    np.testing.assert_allclose(outs[0], ref, **tol)
    assert np.array_equal(outs[0], outs[1]), "the planner must pick conv gemm"
    # and its weight gradient (u = grad_output, v = x), the transposed op's backward's too
    u = rng.standard_normal((1, 258, ref.shape[-1])).astype(dtype)
    gw = torch.nn.grad.conv1d_weight(torch.from_numpy(x).double(), (258, 1, 1024),
                                     torch.from_numpy(u).double(), 256, 384).numpy()
    grads = []
    for kernel in ("gemm", None):
        got = np.full((258, 1, 1024), np.nan, dtype)
        _kernels.weight_grad(u, x, got, (256,), ((384, 384),), (1,), 1, 2, _kernel=kernel)
        grads.append(got)
    np.testing.assert_allclose(grads[0], gw, **tol)
    assert np.array_equal(grads[0], grads[1]), "the planner must pick wgrad gemm"
