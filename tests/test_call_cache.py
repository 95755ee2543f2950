"""Repeated calls: the call cache's geometry and the backend's runner.

The second call with the same shapes, dtypes and plain arguments skips validation
(the call cache) and runs the backend's runner made at the first call (on the compiled
backend a :class:`_kernels.Runner`, which also keeps the problem and its tap lists).
These tests check that the fast path gives the same
results as the reference, that it is really taken on the compiled backend, and
that whatever it cannot read in place (or any argument it would have to check)
goes back through the general path.
"""
import numpy as np
import pytest

import deconv_core as dc
from deconv_core import _backend, _call_cache, _validation
from reference import naive_conv, naive_conv_transpose

RNG = np.random.default_rng(20261125)

# (transposed, x shape, w shape, stride, padding, dilation, groups, bias, extra)
CASES = [
    (True, (1, 1, 3, 3), (1, 1, 2, 2), 2, 1, 1, 1, False, {}),          # the lesson's seed
    (True, (2, 4, 5), (4, 3, 3), 3, 1, 2, 1, True, {"output_padding": 1}),
    (True, (6, 4, 5), (6, 1, 3, 2), (2, 1), ((1, 0), (0, 2)), 1, 3, True, {}),   # unbatched
    (True, (1, 2, 3, 2, 4), (2, 2, 2, 3, 2), 2, 0, 1, 1, False, {}),
    (True, (0, 2, 4, 4), (2, 2, 3, 3), 2, 1, 1, 1, True, {}),          # empty batch
    (True, (1, 16, 9, 20), (16, 4, 4, 4), 2, 1, 1, 1, True, {}),       # blocked-sized
    (False, (2, 4, 7, 6), (6, 2, 3, 3), 2, 1, 1, 2, True, {}),
    (False, (3, 11), (2, 3, 4), 1, "same", 2, 1, False, {}),            # unbatched
]


def _call(case, x, w, b, **kw):
    tr, _, _, stride, padding, dilation, groups, _, extra = case
    nd = w.ndim - 2
    f = getattr(dc, f"conv_transpose{nd}d" if tr else f"conv{nd}d")
    return f(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups,
             **extra, **kw)


def _arrays(case, dtype=np.float64):
    tr, xs, ws, *_, with_bias, _ = case
    x = RNG.standard_normal(xs).astype(dtype)
    w = RNG.standard_normal(ws).astype(dtype)
    c_out = ws[1] * case[6] if tr else ws[0]
    b = RNG.standard_normal(c_out).astype(dtype) if with_bias else None
    return x, w, b


def _reference(case, x, w, b, result):
    """The naive definition at the result's size (its geometry is tested elsewhere)."""
    tr, _, _, stride, padding, dilation, groups, *_ = case
    nd = w.ndim - 2
    unbatched = x.ndim == nd + 1
    xb = x[None] if unbatched else x
    per = lambda v: v if isinstance(v, tuple) else (v,) * nd
    if tr:
        pads = [p if isinstance(p, tuple) else (p, p) for p in per(padding)]
        size = result.shape[-nd:]
        ref = naive_conv_transpose(xb, w, b, per(stride), pads, per(dilation), groups, size)
    else:
        if padding == "same":
            total = [d * (k - 1) for d, k in zip(per(dilation), w.shape[2:])]
            pads = [(t // 2, t - t // 2) for t in total]
        else:
            pads = [p if isinstance(p, tuple) else (p, p) for p in per(padding)]
        ref = naive_conv(xb, w, b, per(stride), pads, per(dilation), groups)
    return ref[0] if unbatched else ref


def _runner(case, x, w, b):
    tr, *_, stride, padding, dilation, groups, _, extra = case
    nd = w.ndim - 2
    fname = f"conv_transpose{nd}d" if tr else f"conv{nd}d"
    return _call_cache.cached_runner(fname, _backend.active(), x, w, b, stride, padding,
                                     dilation, groups,
                                     *([extra.get("output_padding", 0)] if tr else []))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{'T' if c[0] else 'F'}{c[1]}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_calls_match_the_reference(backend, case, dtype):
    x, w, b = _arrays(case, dtype)
    first = _call(case, x, w, b)
    run = _runner(case, x, w, b)
    if backend == "compiled":   # the fast path must really be taken
        from deconv_core import _kernels
        assert isinstance(run, _kernels.Runner)
    else:
        assert callable(run)
    tol = dict(rtol=2e-4, atol=2e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for _ in range(2):
        again = _call(case, x, w, b)
        assert again.shape == first.shape and again.dtype == first.dtype == dtype
        np.testing.assert_array_equal(again, first)
    np.testing.assert_allclose(again, _reference(case, x, w, b, again), **tol)


@pytest.mark.parametrize("case", [CASES[1], CASES[5], CASES[6]],
                         ids=lambda c: f"{'T' if c[0] else 'F'}{c[1]}")
def test_inputs_the_runner_cannot_read_take_the_general_path(backend, case):
    x, w, b = _arrays(case)
    expected = _call(case, x, w, b)
    nd = w.ndim - 2
    flipped = np.ascontiguousarray(x[..., ::-1])[..., ::-1]          # negative stride
    raw = np.empty(x.nbytes + 1, np.uint8)[1:].view(x.dtype)   # misaligned buffer
    unaligned = raw.reshape(x.shape)
    unaligned[...] = x
    swapped = w.astype(w.dtype.newbyteorder())
    fortran = np.asfortranarray(x) if x.ndim > 1 else x
    for xi, wi, tol in [(flipped, w, 1e-12), (unaligned, w, 1e-12), (x, swapped, 1e-12),
                        (fortran, w, 1e-12), (x.astype(np.float32), w, 2e-4)]:
        np.testing.assert_allclose(_call(case, xi, wi, b), expected, rtol=tol, atol=tol)
    # A read-only input is read in place.
    ro = x.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(_call(case, ro, w, b), expected)
    assert nd >= 1


def test_repeated_calls_still_check_num_threads(backend):
    case = CASES[1]
    x, w, b = _arrays(case)
    expected = _call(case, x, w, b)
    for nt in (1, 2, 7, _validation.MAX_THREADS):
        np.testing.assert_array_equal(_call(case, x, w, b, num_threads=nt), expected)
    for nt, exc in [(0, ValueError), (-1, ValueError), (_validation.MAX_THREADS + 1, ValueError),
                    (True, TypeError), (2.0, TypeError), (np.int64(2), None)]:
        if exc is None:
            np.testing.assert_array_equal(_call(case, x, w, b, num_threads=nt), expected)
            continue
        with pytest.raises(exc, match="num_threads"):
            _call(case, x, w, b, num_threads=nt)


def test_out_and_output_size_bypass_the_runner(backend):
    case = CASES[0]
    x, w, b = _arrays(case, np.float32)
    expected = _call(case, x, w, b)
    out = np.full_like(expected, np.nan)
    assert _call(case, x, w, b, out=out) is out
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(_call(case, x, w, b, output_size=(4, 4)), expected)
    with pytest.raises(ValueError, match="output_size"):
        _call(case, x, w, b, output_size=(9, 9))


# ---- gradient calls: the cache keeps the checked plan (shapes, pads), not the arrays ----

def _backward(case, gy, x, w, **kw):
    tr, _, _, stride, padding, dilation, groups, _, extra = case
    nd = w.ndim - 2
    f = getattr(dc, f"conv_transpose{nd}d_backward" if tr else f"conv{nd}d_backward")
    return f(gy, x, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
             **{k: v for k, v in extra.items() if k == "output_padding"}, **kw)


def _backward_key(case, gy, x, w, mask=(True, True, True)):
    tr, _, _, stride, padding, dilation, groups, _, extra = case
    nd = w.ndim - 2
    fname = f"conv_transpose{nd}d_backward" if tr else f"conv{nd}d_backward"
    return _call_cache.backward_key(fname, gy, x, w, stride, padding, dilation, groups,
                                    extra.get("output_padding", 0), mask)


def _uncached_backward(case, gy, x, w, **kw):
    """The same call through full validation (the cache emptied first)."""
    _call_cache._CACHE.clear()
    return _backward(case, gy, x, w, **kw)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{'T' if c[0] else 'F'}{c[1]}")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_repeated_gradient_calls_reuse_the_plan_and_match(backend, case, dtype):
    x, w, _ = _arrays(case, dtype)
    gy = RNG.standard_normal(_call(case, x, w, None).shape).astype(dtype)
    first = _uncached_backward(case, gy, x, w)
    plan = _call_cache.get(_backward_key(case, gy, x, w))
    assert isinstance(plan, _validation.BackwardPlan)
    for _ in range(2):
        again = _backward(case, gy, x, w)
        for a, b, like in zip(again, first, (x, w, None)):
            assert a.dtype == dtype and a.shape == b.shape
            if like is not None:
                assert a.shape == like.shape
            np.testing.assert_array_equal(a, b)
    # the adjoint identity on the cached path: <grad_input, x> == <gy, forward(x)>
    tol = 2e-3 if dtype == np.float32 else 1e-9
    lhs = float(np.vdot(again[0].astype(np.float64), x))
    rhs = float(np.vdot(gy.astype(np.float64), _call(case, x, w, None)))
    assert abs(lhs - rhs) <= tol * max(1.0, abs(rhs))


def test_gradient_plans_follow_the_mask_and_the_layout(backend):
    case = CASES[1]
    x, w, _ = _arrays(case)
    gy = RNG.standard_normal(_call(case, x, w, None).shape)
    full = _uncached_backward(case, gy, x, w)
    for mask in [(True, False, True), (False, True, False), (False, False, False),
                 (True, True, True)]:
        for _ in range(2):   # the second call of each mask runs on its cached plan
            got = _backward(case, gy, x, w, output_mask=mask)
            for g, want, m in zip(got, full, mask):
                if m:
                    np.testing.assert_array_equal(g, want)
                else:
                    assert g is None
    # numpy bools and lists are not cache keys but give the same results
    got = _backward(case, gy, x, w, output_mask=[np.bool_(True), True, np.True_])
    for g, want in zip(got, full):
        np.testing.assert_array_equal(g, want)
    # operands the kernels cannot read in place are converted on the cached path too
    fortran_x = np.asfortranarray(x)
    flipped_gy = np.ascontiguousarray(gy[..., ::-1])[..., ::-1]
    for _ in range(2):
        got = _backward(case, flipped_gy, fortran_x, w)
        for g, want in zip(got, full):
            np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)
    got = _backward(case, gy.astype(np.float32), x, w)   # grad_output in another dtype
    for g, want in zip(got, full):
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)


def test_repeated_gradient_calls_still_check_their_arguments(backend):
    case = CASES[1]
    x, w, _ = _arrays(case)
    gy = RNG.standard_normal(_call(case, x, w, None).shape)
    expected = _backward(case, gy, x, w)
    _backward(case, gy, x, w)   # cached from here on
    for nt in (1, 2, _validation.MAX_THREADS):
        for g, want in zip(_backward(case, gy, x, w, num_threads=nt), expected):
            np.testing.assert_array_equal(g, want)
    for nt, exc in [(0, ValueError), (_validation.MAX_THREADS + 1, ValueError),
                    (True, TypeError), (2.0, TypeError)]:
        with pytest.raises(exc, match="num_threads"):
            _backward(case, gy, x, w, num_threads=nt)
    with pytest.raises(ValueError, match="grad_output has shape"):
        _backward(case, gy[..., :-1], x, w)
    with pytest.raises(TypeError, match="output_mask"):
        _backward(case, gy, x, w, output_mask=(True, True))
