"""<conv(x), y> == <x, conv_transpose(y)>: the transpose is the adjoint."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import deconv_core as dc


def _adjoint_gap(nd, x, w, y_shape_from, stride, padding, dilation, groups, rng):
    conv = getattr(dc, f"conv{nd}d")
    convt = getattr(dc, f"conv_transpose{nd}d")
    cx = conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = rng.standard_normal(cx.shape)
    # The transpose must map y back to x's size: output_padding recovers the remainder.
    ty = convt(y, w, stride=stride, padding=padding, dilation=dilation, groups=groups,
               output_size=x.shape[2:])
    assert ty.shape == x.shape
    lhs, rhs = np.vdot(cx, y), np.vdot(x, ty)
    return lhs, rhs


@pytest.mark.parametrize("seed", range(25))
def test_adjoint_random(backend, seed):
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 4))
    groups = int(rng.integers(1, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, nd))
    stride = tuple(int(v) for v in rng.integers(1, 4, nd))
    dilation = tuple(int(v) for v in rng.integers(1, 3, nd))
    padding = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd))
    sizes = tuple(int(d * (kk - 1) + 1 + rng.integers(0, 6)) for kk, d in zip(k, dilation))
    x = rng.standard_normal((2, 2 * groups) + sizes)
    w = rng.standard_normal((3 * groups, 2) + k)
    lhs, rhs = _adjoint_gap(nd, x, w, None, stride, padding, dilation, groups, rng)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_adjoint_property(backend, data):
    nd = data.draw(st.integers(1, 3))
    groups = data.draw(st.integers(1, 2))
    k = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    stride = tuple(data.draw(st.lists(st.integers(1, 4), min_size=nd, max_size=nd)))
    dilation = tuple(data.draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    padding = data.draw(st.integers(0, 2))
    sizes = tuple(data.draw(st.integers(d * (kk - 1) + 1, d * (kk - 1) + 6))
                  for kk, d in zip(k, dilation))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((1, groups) + sizes)
    w = rng.standard_normal((2 * groups, 1) + k)
    lhs, rhs = _adjoint_gap(nd, x, w, None, stride, padding, dilation, groups, rng)
    assert lhs == pytest.approx(rhs, rel=1e-10, abs=1e-10)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3),
       p=st.integers(0, 4), op=st.integers(0, 3))
def test_output_size_formula_property(backend, n, k, s, d, p, op):
    """The size function, the array the API returns and the SPEC formula agree."""
    if op >= max(s, d):
        with pytest.raises(ValueError, match="output_padding"):
            dc.conv_transpose_output_size(n, k, s, p, op, d)
        return
    expected = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if expected < 0:
        with pytest.raises(ValueError, match="padding"):
            dc.conv_transpose1d(np.ones((1, 1, n)), np.ones((1, 1, k)), stride=s, padding=p,
                                output_padding=op, dilation=d)
        return
    assert dc.conv_transpose_output_size(n, k, s, p, op, d) == expected
    got = dc.conv_transpose1d(np.ones((1, 1, n)), np.ones((1, 1, k)), stride=s, padding=p,
                              output_padding=op, dilation=d)
    assert got.shape == (1, 1, expected)
    # Every output is the count of (input, tap) pairs landing there: all-ones data.
    counts = np.zeros(expected)
    for i in range(n):
        for t in range(k):
            o = i * s + t * d - p
            if 0 <= o < expected:
                counts[o] += 1
    np.testing.assert_array_equal(got[0, 0], counts)
