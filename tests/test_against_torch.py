"""A seeded random sweep against PyTorch, conv_transpose and conv, 1/2/3-D."""
import numpy as np
import pytest

import deconv_core as dc

torch = pytest.importorskip("torch")
F = torch.nn.functional

N_CONFIGS = 240  # per (operation, backend); with both ops that is several hundred


def _random_config(rng):
    nd = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in = groups * int(rng.integers(1, 4))
    c_out = groups * int(rng.integers(1, 4))
    max_size = {1: 12, 2: 8, 3: 5}[nd]
    sizes = tuple(int(v) for v in rng.integers(1, max_size, nd))
    kernel = tuple(int(v) for v in rng.integers(1, 5, nd))
    stride = tuple(int(v) for v in rng.integers(1, 5, nd))
    dilation = tuple(int(v) for v in rng.integers(1, 4, nd))
    return dict(nd=nd, groups=groups, c_in=c_in, c_out=c_out, sizes=sizes, kernel=kernel,
                stride=stride, dilation=dilation, batch=int(rng.integers(1, 3)),
                dtype=rng.choice([np.float32, np.float64]), bias=bool(rng.integers(0, 2)),
                unbatched=rng.random() < 0.2, layout=rng.choice(["c", "f", "noncontig", "neg"]))


def _layout(arr, layout, rng):
    """The same values in another memory layout."""
    if layout == "f":
        return np.asfortranarray(arr)
    if layout == "noncontig":
        big = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), arr.dtype)
        big[..., ::2] = arr
        return big[..., ::2]
    if layout == "neg":
        flipped = np.ascontiguousarray(arr[..., ::-1])
        return flipped[..., ::-1]
    return arr


def _tol(dtype):
    return dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)


def _check_case(fn, c, x, w, b, ref, kwargs, rng):
    """Call ``fn`` in the case's layout (and unbatched form), compare with ``ref``, and
    check that no input was modified."""
    xin = _layout(x[0] if c["unbatched"] else x, c["layout"], rng)
    args = (xin, w, b)
    before = [a.copy() for a in args if a is not None]
    got = fn(*args, **kwargs)
    for old, new in zip(before, [a for a in args if a is not None]):
        np.testing.assert_array_equal(new, old, err_msg="an input was modified")
    if c["unbatched"]:
        ref = ref[0]
    assert got.dtype == c["dtype"]
    assert got.shape == ref.shape, (c, kwargs)
    np.testing.assert_allclose(got, ref, **_tol(c["dtype"]), err_msg=str((c, kwargs)))


@pytest.mark.parametrize("seed", range(4))
def test_conv_transpose_sweep(backend, seed):
    rng = np.random.default_rng(1000 + seed)
    checked = 0
    for _ in range(N_CONFIGS // 4):
        c = _random_config(rng)
        nd = c["nd"]
        op = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(c["stride"], c["dilation"]))
        pad = tuple(int(rng.integers(0, d * (k - 1) + 1)) for k, d in zip(c["kernel"], c["dilation"]))
        x = rng.standard_normal((c["batch"], c["c_in"]) + c["sizes"]).astype(c["dtype"])
        w = rng.standard_normal((c["c_in"], c["c_out"] // c["groups"]) + c["kernel"]).astype(c["dtype"])
        b = rng.standard_normal(c["c_out"]).astype(c["dtype"]) if c["bias"] else None
        try:
            ref = getattr(F, f"conv_transpose{nd}d")(
                torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                c["stride"], pad, op, c["groups"], c["dilation"]).numpy()
        except RuntimeError:
            continue  # torch refuses (output too small): covered by the error tests
        _check_case(getattr(dc, f"conv_transpose{nd}d"), c, x, w, b, ref,
                    dict(stride=c["stride"], padding=pad, output_padding=op,
                         groups=c["groups"], dilation=c["dilation"]), rng)
        checked += 1
    assert checked > N_CONFIGS // 8


@pytest.mark.parametrize("seed", range(4))
def test_conv_sweep(backend, seed):
    rng = np.random.default_rng(2000 + seed)
    checked = 0
    for _ in range(N_CONFIGS // 4):
        c = _random_config(rng)
        nd = c["nd"]
        sizes = tuple(s + d * (k - 1) for s, k, d in zip(c["sizes"], c["kernel"], c["dilation"]))
        pad = tuple(int(rng.integers(0, 3)) for _ in range(nd))
        x = rng.standard_normal((c["batch"], c["c_in"]) + sizes).astype(c["dtype"])
        w = rng.standard_normal((c["c_out"], c["c_in"] // c["groups"]) + c["kernel"]).astype(c["dtype"])
        b = rng.standard_normal(c["c_out"]).astype(c["dtype"]) if c["bias"] else None
        ref = getattr(F, f"conv{nd}d")(
            torch.from_numpy(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
            c["stride"], pad, c["dilation"], c["groups"]).numpy()
        _check_case(getattr(dc, f"conv{nd}d"), c, x, w, b, ref,
                    dict(stride=c["stride"], padding=pad, dilation=c["dilation"],
                         groups=c["groups"]), rng)
        checked += 1
    assert checked == N_CONFIGS // 4


def test_workload_shapes_match_torch(backend):
    """Every shared benchmark workload, at full size, agrees with PyTorch."""
    from deconv_core.workloads import load_workloads
    rng = np.random.default_rng(7)
    for name, wl in load_workloads().items():
        nd = len(wl["size"])
        x = rng.standard_normal((wl["N"], wl["Cin"], *wl["size"])).astype(wl["dtype"])
        w = rng.standard_normal((wl["Cin"], wl["Cout"] // wl["groups"]) + (wl["kernel"],) * nd
                                ).astype(wl["dtype"])
        kw = dict(stride=wl["stride"], padding=wl["padding"], output_padding=wl["output_padding"],
                  groups=wl["groups"], dilation=wl["dilation"])
        got = getattr(dc, f"conv_transpose{nd}d")(x, w, **kw)
        ref = getattr(F, f"conv_transpose{nd}d")(torch.from_numpy(x), torch.from_numpy(w), **kw)
        scale = np.sqrt(wl["Cin"] * wl["kernel"] ** nd)
        np.testing.assert_allclose(got, ref.numpy(), rtol=1e-3, atol=1e-4 * scale, err_msg=name)


def test_output_size_matches_torch_module(backend, rng):
    x = rng.standard_normal((1, 2, 5, 6))
    w = rng.standard_normal((2, 3, 3, 3))
    for size in [(11, 13), (12, 14), (1, 3, 12, 13)]:
        m = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, bias=False).double()
        m.weight.data = torch.from_numpy(w)
        ref = m(torch.from_numpy(x), output_size=list(size)).detach().numpy()
        got = dc.conv_transpose2d(x, w, stride=2, output_size=size)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_conv_transpose_larger_few_channel_maps(backend, seed):
    """Outputs large enough for the planners' few-channel paths (NumPy: phases)."""
    rng = np.random.default_rng(3000 + seed)
    for _ in range(12):
        nd = int(rng.integers(1, 4))
        groups = int(rng.choice([1, 2, 4]))
        c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 4))
        sizes = tuple(int(v) for v in rng.integers({1: 2000, 2: 40, 3: 9}[nd],
                                                   {1: 5000, 2: 90, 3: 15}[nd], nd))
        kernel = tuple(int(v) for v in rng.integers(1, 6, nd))
        stride = tuple(int(v) for v in rng.integers(1, 5, nd))
        op = tuple(int(rng.integers(0, s)) for s in stride)
        pad = tuple(int(rng.integers(0, k)) for k in kernel)
        dtype = rng.choice([np.float32, np.float64])
        x = rng.standard_normal((int(rng.integers(1, 3)), c_in) + sizes).astype(dtype)
        w = rng.standard_normal((c_in, c_out // groups) + kernel).astype(dtype)
        b = rng.standard_normal(c_out).astype(dtype)
        kw = dict(stride=stride, padding=pad, output_padding=op, groups=groups)
        ref = getattr(F, f"conv_transpose{nd}d")(torch.from_numpy(x), torch.from_numpy(w),
                                                 torch.from_numpy(b), **kw).numpy()
        got = getattr(dc, f"conv_transpose{nd}d")(x, w, b, **kw)
        np.testing.assert_allclose(got, ref, **_tol(dtype), err_msg=str((sizes, kernel, kw)))


def _count_calls(monkeypatch, name):
    """Wrap ``deconv_core._numpy_backend.<name>`` for this test; returns a list that
    grows by one item per call (which NumPy formulation a sweep really ran)."""
    from deconv_core import _numpy_backend
    calls, fn = [], getattr(_numpy_backend, name)
    monkeypatch.setattr(_numpy_backend, name, lambda *a: calls.append(1) or fn(*a))
    return calls


def _torch_transposed(rng, x, w, b, stride, dilation, groups, pairs):
    """Random padding for a transposed convolution and PyTorch's result for it, as
    ``(ref, kwargs)``; None when the output would be empty.  ``pairs``: (before, after)
    pads, checked against torch's unpadded result cropped; else symmetric pads with a
    random output_padding."""
    nd = x.ndim - 2
    kernel = w.shape[2:]
    tfn = getattr(F, f"conv_transpose{nd}d")
    tw = lambda a: None if a is None else torch.from_numpy(a)  # noqa: E731
    full_size = [(n - 1) * s + d * (k - 1) + 1
                 for n, s, d, k in zip(x.shape[2:], stride, dilation, kernel)]
    if pairs:
        pads = tuple((int(rng.integers(0, d * (k - 1) + 1)), int(rng.integers(0, d * (k - 1) + 1)))
                     for k, d in zip(kernel, dilation))
        if any(f - pb - pa < 1 for f, (pb, pa) in zip(full_size, pads)):
            return None
        full = tfn(tw(x), tw(w), tw(b), stride, 0, 0, groups, dilation).numpy()
        ref = full[(slice(None), slice(None)) + tuple(
            slice(pb, n - pa) for (pb, pa), n in zip(pads, full.shape[2:]))]
        return ref, dict(padding=pads)
    pad = tuple(int(rng.integers(0, d * (k - 1) + 1)) for k, d in zip(kernel, dilation))
    op = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    if any(f - 2 * p + o < 1 for f, p, o in zip(full_size, pad, op)):
        return None
    ref = tfn(tw(x), tw(w), tw(b), stride, pad, op, groups, dilation).numpy()
    return ref, dict(padding=pad, output_padding=op)


@pytest.mark.parametrize("seed", range(3))
def test_conv_transpose_many_output_channels_small_maps(backend, seed, monkeypatch):
    """Many output channels on small maps, one group (NumPy: col2im with the output
    channels innermost): strides, dilations, output_padding, asymmetric padding (torch's
    unpadded result, cropped), bias, 1/2/3-D."""
    calls = _count_calls(monkeypatch, "_conv_transpose_chlast")
    rng = np.random.default_rng(5000 + seed)
    for case in range(10):
        nd = int(rng.integers(1, 4))
        sizes = tuple(int(v) for v in rng.integers(1, {1: 30, 2: 12, 3: 6}[nd], nd))
        c_in, c_out = int(rng.integers(1, 40)), int(rng.choice([32, 48, 64, 97]))
        kernel = tuple(int(v) for v in rng.integers(1, 5, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        dtype = rng.choice([np.float32, np.float64])
        x = rng.standard_normal((int(rng.integers(1, 4)), c_in) + sizes).astype(dtype)
        w = rng.standard_normal((c_in, c_out) + kernel).astype(dtype)
        b = rng.standard_normal(c_out).astype(dtype) if case % 2 else None
        made = _torch_transposed(rng, x, w, b, stride, dilation, 1, pairs=case % 3 == 0)
        if made is None:
            continue
        ref, kw = made
        fn = getattr(dc, f"conv_transpose{nd}d")
        got = fn(x, w, b, stride=stride, dilation=dilation, **kw)
        np.testing.assert_allclose(got, ref, **_tol(dtype), err_msg=str((sizes, kernel, stride, kw)))
    assert backend != "numpy" or len(calls) > 5


@pytest.mark.parametrize("seed", range(3))
def test_conv_transpose_flat_col2im(backend, seed, monkeypatch):
    """Channel products too large for phases, output channels too few for channels
    last, maps large enough for little padding (NumPy: col2im on the padded flat
    grid): groups, strides, dilations, output_padding, asymmetric padding (torch's
    unpadded result, cropped), bias, 1/2/3-D; and taps beyond the flat path's limit
    (NumPy: the NCHW col2im)."""
    flat = _count_calls(monkeypatch, "_conv_transpose_flat")
    nchw = _count_calls(monkeypatch, "_transposed_plan")
    rng = np.random.default_rng(6000 + seed)
    for case in range(14):
        nd = int(rng.integers(1, 4))
        groups = int(rng.choice([1, 2]))
        c_in, c_out = groups * int(rng.integers(9, 14)), groups * int(rng.integers(8, 12))
        sizes = tuple(int(v) for v in rng.integers({1: 200, 2: 14, 3: 8}[nd],
                                                   {1: 400, 2: 26, 3: 12}[nd], nd))
        many_taps = nd == 1 and case % 4 == 3
        kernel = (int(rng.integers(65, 80)),) if many_taps else tuple(
            int(v) for v in rng.integers(1, 5, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = (1,) if many_taps else tuple(int(v) for v in rng.integers(1, 3, nd))
        dtype = rng.choice([np.float32, np.float64])
        x = rng.standard_normal((int(rng.integers(1, 3)), c_in) + sizes).astype(dtype)
        w = rng.standard_normal((c_in, c_out // groups) + kernel).astype(dtype)
        b = rng.standard_normal(c_out).astype(dtype) if case % 2 else None
        made = _torch_transposed(rng, x, w, b, stride, dilation, groups, pairs=case % 3 == 0)
        if made is None:
            continue
        ref, kw = made
        got = getattr(dc, f"conv_transpose{nd}d")(x, w, b, stride=stride, dilation=dilation,
                                                  groups=groups, **kw)
        np.testing.assert_allclose(got, ref, **_tol(dtype), err_msg=str((sizes, kernel, stride, kw)))
    assert backend != "numpy" or (len(flat) > 6 and len(nchw) > 0), (len(flat), len(nchw))


def _spy_shift_plans(monkeypatch):
    """Record every ``_shift_plan`` result of this test as ``(paired, plan)`` (the last
    one of a call is the plan it ran)."""
    from deconv_core import _numpy_backend
    seen, fn = [], _numpy_backend._shift_plan

    def spy(*args, **kwargs):
        geom = fn(*args, **kwargs)
        seen.append((kwargs.get("paired", False), geom[5]))
        return geom

    monkeypatch.setattr(_numpy_backend, "_shift_plan", spy)
    return seen


def test_depthwise_large_plane_plan(backend, monkeypatch):
    """A plane too large for the shifts path's chunks keeps the real, per-class plan:
    complex pairs and merged classes would double and quadruple its buffers (the
    memory a 4096 x 4096 image costs). The result still matches torch."""
    seen = _spy_shift_plans(monkeypatch)
    rng = np.random.default_rng(9)
    x = rng.standard_normal((1, 1, 700, 700)).astype(np.float32)
    w = rng.standard_normal((1, 1, 4, 4)).astype(np.float32)
    ref = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2,
                             padding=1).numpy()
    got = dc.conv_transpose2d(x, w, stride=2, padding=1)
    np.testing.assert_allclose(got, ref, **_tol(np.float32))
    if backend == "numpy":
        paired, plan = seen[-1]
        assert not paired and all(e[3] == 1 for e in plan)


@pytest.mark.parametrize("kernel", [4, 3])
def test_depthwise_stride2_nonfinite_like_torch(backend, kernel, monkeypatch):
    """inf and NaN inputs (one next to a zero weight pair) give torch's inf/NaN pattern.
    The NumPy backend's complex pairs keep it for even kernels; with an odd kernel the
    missing tap would multiply an inf by 0, so it must compute without pairs."""
    seen = _spy_shift_plans(monkeypatch)
    rng = np.random.default_rng(kernel)
    x = rng.standard_normal((2, 3, 20, 24)).astype(np.float32)
    x[0, 0, 5, 7], x[1, 2, 0, 0], x[0, 1, 19, 23] = np.inf, np.nan, -np.inf
    w = rng.standard_normal((3, 2, kernel, kernel)).astype(np.float32)
    w[0, 1, 1, :2] = 0
    ref = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1,
                             groups=3).numpy()
    with np.errstate(invalid="ignore"):
        got = dc.conv_transpose2d(x, w, stride=2, padding=1, groups=3)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], **_tol(np.float32))
    if backend == "numpy":
        assert seen[-1][0] == (kernel % 2 == 0)


@pytest.mark.parametrize("shape", [
    # (N, C_in, C_out, groups, spatial): with finite weights, these take the NumPy
    # backend's shifts, phases, channels-last and flat col2im paths (all but
    # channels-last read a zero-padded input); with an inf weight, plain col2im.
    (2, 3, 6, 3, (20, 24)), (1, 2, 3, 1, (30, 40)), (1, 8, 64, 1, (6, 5)),
    (2, 16, 12, 1, (24, 30))])
def test_nonfinite_weights_only_reach_real_inputs(backend, shape):
    """An inf weight must not meet the padding (0 * inf would be NaN at the border,
    where torch, scattering real inputs only, has a number): torch's inf/NaN pattern."""
    n, c_in, c_out, groups, sizes = shape
    rng = np.random.default_rng(sum(sizes))
    x = rng.standard_normal((n, c_in) + sizes).astype(np.float32)
    w = rng.standard_normal((c_in, c_out // groups, 4, 4)).astype(np.float32)
    w[0, 0, 0, 3], w[-1, -1, 3, 0], w[0, -1, 2, 2] = np.inf, -np.inf, np.nan
    ref = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1,
                             groups=groups).numpy()
    with np.errstate(invalid="ignore"):
        got = dc.conv_transpose2d(x, w, stride=2, padding=1, groups=groups)
    assert not np.isnan(ref).all()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    fin = np.isfinite(ref)
    np.testing.assert_allclose(got[fin], ref[fin], **_tol(np.float32))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("last", ["any", "stride2"])
def test_conv_transpose_one_input_channel_per_group(backend, seed, last, monkeypatch):
    """``C_in == groups`` (depthwise, channel multipliers) on maps large enough for
    the NumPy backend's shifts path: strides, dilations, odd sizes, bias,
    output_padding, asymmetric padding (torch's unpadded result, cropped), N = 0.

    ``stride2``: stride 2 and dilation 1 in the last dim, the NumPy backend's
    complex pairs (each pair of outputs from one input and one complex weight),
    with dim 0's residue classes merged into one pass where they can be: odd and
    even leading pads (the output starting halfway into a pair), odd kernels (a
    zero tap)."""
    calls = _count_calls(monkeypatch, "_conv_transpose_shifts")
    seen = _spy_shift_plans(monkeypatch)
    rng = np.random.default_rng((4000 if last == "any" else 6000) + seed)
    for case in range(16):
        nd = int(rng.integers(1, 4))
        groups, mult = int(rng.choice([1, 3, 8])), int(rng.integers(1, 4))
        sizes = tuple(int(v) for v in rng.integers({1: 301, 2: 17, 3: 9}[nd],
                                                   {1: 700, 2: 40, 3: 13}[nd], nd))
        kernel = tuple(int(v) for v in rng.integers(1, 6, nd))
        stride = tuple(int(v) for v in rng.integers(1, 4, nd))
        dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
        if last == "stride2":
            stride, dilation = stride[:-1] + (2,), dilation[:-1] + (1,)
        dtype = rng.choice([np.float32, np.float64])
        batch = 0 if case == 0 else int(rng.integers(1, 3))
        x = rng.standard_normal((batch, groups) + sizes).astype(dtype)
        w = rng.standard_normal((groups, mult) + kernel).astype(dtype)
        b = rng.standard_normal(groups * mult).astype(dtype) if rng.random() < 0.5 else None
        ref, kw = _torch_transposed(rng, x, w, b, stride, dilation, groups, pairs=case % 2 == 1)
        fn = getattr(dc, f"conv_transpose{nd}d")
        got = fn(x, w, b, stride=stride, dilation=dilation, groups=groups, **kw)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, **_tol(dtype), err_msg=str((sizes, kernel, stride, kw)))
    assert backend != "numpy" or len(calls) > 8
    if last == "stride2":
        # The usual up-sampling layer (k=4, s=2, p=1): both dims' classes in one pass.
        x = rng.standard_normal((2, 5, 9, 13)).astype(np.float32)
        w = rng.standard_normal((5, 2, 4, 4)).astype(np.float32)
        b = rng.standard_normal(10).astype(np.float32)
        ref = F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                                 stride=2, padding=1, groups=5).numpy()
        got = dc.conv_transpose2d(x, w, b, stride=2, padding=1, groups=5)
        np.testing.assert_allclose(got, ref, **_tol(np.float32))
        if backend == "numpy":
            assert sum(paired for paired, _ in seen) >= 8, seen
            assert seen[-1][0] and [e[3] for e in seen[-1][1]] == [2], seen[-1]
