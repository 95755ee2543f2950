"""Gradients of both ops against torch autograd, finite differences and the adjoint.

The reference is torch autograd of the same forward built from padding-free torch ops
(the full transposed convolution then a crop / zero extension; zero padding then the
convolution), so asymmetric and 'same' padding and output_padding are covered; the
padding forms are resolved here independently of the package.
"""
import itertools

import numpy as np
import pytest

import deconv_core as dc
from torch_reference import backward_of, forward_of, torch_forward, valid_case

torch = pytest.importorskip("torch")
F = torch.nn.functional

MASKS = list(itertools.product((True, False), repeat=3))
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-4)}


def torch_grads(transposed, x, w, gy, stride, pairs, dilation, groups, unbatched):
    xt = torch.tensor(x[None] if unbatched else x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    c_out = w.shape[1] * groups if transposed else w.shape[0]
    bt = torch.zeros(c_out, dtype=xt.dtype, requires_grad=True)
    y = torch_forward(transposed, xt, wt, bt, stride, pairs, dilation, groups)
    y.backward(torch.tensor(gy[None] if unbatched else gy))
    gi = xt.grad.numpy()
    return (gi[0] if unbatched else gi), wt.grad.numpy(), bt.grad.numpy()


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_gradients_match_torch_autograd(backend, transposed, nd, dtype):
    rng = np.random.default_rng(100 * nd + 10 * transposed + (dtype == np.float32))
    for it in range(12 if nd < 3 else 6):
        c, y = valid_case(rng, transposed, nd, dtype, unbatched=it % 5 == 4)
        gy = rng.standard_normal(y.shape).astype(dtype)
        ref = torch_grads(transposed, c["x"].astype(np.float64), c["w"].astype(np.float64),
                          gy.astype(np.float64), c["stride"], c["pairs"], c["dilation"],
                          c["groups"], c["unbatched"])
        got = backward_of(c, transposed, gy)
        what = {k: v for k, v in c.items() if k not in ("x", "w")}
        for name, g, r in zip(("grad_input", "grad_weight", "grad_bias"), got, ref):
            assert g.dtype == dtype and g.shape == r.shape, (name, what)
            scale = max(1.0, float(np.abs(r).max(initial=0)))
            np.testing.assert_allclose(g, r, rtol=TOL[dtype]["rtol"],
                                       atol=TOL[dtype]["atol"] * scale, err_msg=f"{name} {what}")


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
@pytest.mark.parametrize("mask", MASKS, ids=lambda m: "".join("1" if v else "0" for v in m))
def test_output_mask_skips_and_returns_none(backend, transposed, mask):
    rng = np.random.default_rng(7)
    c, y = valid_case(rng, transposed, 2, np.float64)
    gy = rng.standard_normal(y.shape)
    full = backward_of(c, transposed, gy)
    got = backward_of(c, transposed, gy, output_mask=mask)
    for want, g, f in zip(mask, got, full):
        if want:
            np.testing.assert_array_equal(g, f)
        else:
            assert g is None


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
def test_finite_differences(backend, transposed):
    """float64 central differences of a random linear functional of the output."""
    rng = np.random.default_rng(11)
    for nd in (1, 2):
        c, y = valid_case(rng, transposed, nd, np.float64)
        gy = rng.standard_normal(y.shape)
        gi, gw, _ = backward_of(c, transposed, gy)
        eps = 1e-6
        for name, arr, grad in (("x", c["x"], gi), ("w", c["w"], gw)):
            for idx in [tuple(rng.integers(0, n) for n in arr.shape) for _ in range(4)]:
                plus, minus = dict(c), dict(c)
                plus[name], minus[name] = arr.copy(), arr.copy()
                plus[name][idx] += eps
                minus[name][idx] -= eps
                fd = (np.sum(forward_of(plus, transposed) * gy)
                      - np.sum(forward_of(minus, transposed) * gy)) / (2 * eps)
                assert abs(fd - grad[idx]) <= 1e-6 * max(1.0, abs(fd)), (name, idx, fd, grad[idx])


def test_identities(backend):
    """grad_input of the transposed op is the forward conv of grad_output, and the
    adjoint pairing <conv_transpose(x), gy> == <x, grad_input> holds (both ops)."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 4, 5, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    y = dc.conv_transpose2d(x, w, stride=(2, 1), padding=((1, 0), (0, 1)), output_padding=(1, 0),
                            dilation=(1, 2))
    gy = rng.standard_normal(y.shape)
    gi, _, _ = dc.conv_transpose2d_backward(gy, x, w, stride=(2, 1), padding=((1, 0), (0, 1)),
                                            output_padding=(1, 0), dilation=(1, 2))
    conv = dc.conv2d(gy, w, stride=(2, 1), padding=((1, 0), (0, 1)), dilation=(1, 2))
    np.testing.assert_allclose(gi, conv[:, :, :5, :6], rtol=1e-12, atol=1e-12)
    assert np.isclose(np.sum(y * gy), np.sum(x * gi), rtol=1e-12)
    wf = rng.standard_normal((3, 4, 3, 3))
    yf = dc.conv2d(x, wf, stride=2, padding=1)
    gyf = rng.standard_normal(yf.shape)
    gif, _, _ = dc.conv2d_backward(gyf, x, wf, stride=2, padding=1)
    assert np.isclose(np.sum(yf * gyf), np.sum(x * gif), rtol=1e-12)


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("groups, thin", [(1, 1), (2, 2)], ids=["g1", "g2"])
def test_gradients_of_an_inverse_stft_layer(backend, transposed, dtype, groups, thin):
    """A 1-D layer whose kernel is several whole strides (the shape both backends'
    weight gradients, and the compiled conv, run on stride-long blocks), 40 channels on
    one side and ``thin`` per group on the other, asymmetric padding: every gradient
    against torch autograd."""
    rng = np.random.default_rng(17 + transposed + 2 * groups)
    c_many, s, k, pairs = 40, 64, 256, ((80, 48),)
    w = rng.standard_normal((c_many, thin, k)).astype(dtype)
    if transposed:   # x (N, 40, L) -> y (N, groups * thin, ...)
        x = rng.standard_normal((2, c_many, 30)).astype(dtype)
    else:            # x (N, groups * thin, L) -> y (N, 40, ...)
        x = rng.standard_normal((2, groups * thin, 30 * s)).astype(dtype)
    f = dc.conv_transpose1d if transposed else dc.conv1d
    b = dc.conv_transpose1d_backward if transposed else dc.conv1d_backward
    y = f(x, w, stride=s, padding=pairs, groups=groups)
    gy = rng.standard_normal(y.shape).astype(dtype)
    ref = torch_grads(transposed, x.astype(np.float64), w.astype(np.float64),
                      gy.astype(np.float64), (s,), pairs, (1,), groups, False)
    for name, g, r in zip(("grad_input", "grad_weight", "grad_bias"),
                          b(gy, x, w, stride=s, padding=pairs, groups=groups), ref):
        assert g.dtype == dtype and g.shape == r.shape, name
        scale = max(1.0, float(np.abs(r).max(initial=0)))
        np.testing.assert_allclose(g, r, rtol=TOL[dtype]["rtol"],
                                   atol=TOL[dtype]["atol"] * scale, err_msg=name)


def test_grad_bias_is_the_sum_and_dtype_follows_the_forward(backend):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    w = rng.standard_normal((2, 5, 2, 2)).astype(np.float32)
    gy = rng.standard_normal((3, 5, 5, 5))          # float64: converted to float32
    gi, gw, gb = dc.conv_transpose2d_backward(gy, x, w)
    assert gi.dtype == gw.dtype == gb.dtype == np.float32
    np.testing.assert_allclose(gb, gy.sum(axis=(0, 2, 3)), rtol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_bias_of_large_maps_any_thread_count(backend, dtype):
    """grad_bias over many positions (the compiled backend sums planes on the threads in
    a fixed order): the float64 sum to the dtype's rounding, the same bits for 1, 2 and
    3 threads, 1-D to 3-D, odd plane sizes."""
    rng = np.random.default_rng(18)
    for shape in ((8, 6, 61, 67), (3, 4, 5001), (2, 3, 9, 17, 23)):
        nd = len(shape) - 2
        gy = rng.standard_normal(shape).astype(dtype)
        x = rng.standard_normal(shape[:2] + tuple(n - 1 for n in shape[2:])).astype(dtype)
        w = rng.standard_normal((shape[1], 1) + (2,) * nd).astype(dtype)
        backward = getattr(dc, f"conv_transpose{nd}d_backward")
        got = [backward(gy, x, w, groups=shape[1], output_mask=(False, False, True),
                        num_threads=nt)[2] for nt in (1, 2, 3)]
        ref = gy.astype(np.float64).sum(axis=(0,) + tuple(range(2, gy.ndim)))
        np.testing.assert_allclose(got[0], ref, rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-3 if dtype == np.float32 else 1e-10)
        assert got[0].dtype == dtype
        for g in got[1:]:
            assert np.array_equal(g, got[0])


def test_bad_arguments_are_named(backend):
    x, w = np.ones((1, 2, 4, 4)), np.ones((2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"grad_output has shape \(1, 3, 4, 4\); the forward's "
                                         r"output has shape \(1, 3, 5, 5\)"):
        dc.conv_transpose2d_backward(np.ones((1, 3, 4, 4)), x, w)
    with pytest.raises(TypeError, match="output_mask=.* must be a sequence of 3 bools"):
        dc.conv_transpose2d_backward(np.ones((1, 3, 5, 5)), x, w, output_mask=(1, 1, 1))
    with pytest.raises(TypeError, match="output_mask"):
        dc.conv2d_backward(np.ones((1, 3, 3, 3)), x, np.ones((3, 2, 2, 2)), output_mask=True)
    with pytest.raises(ValueError, match="output_padding"):
        dc.conv_transpose2d_backward(np.ones((1, 3, 5, 5)), x, w, output_padding=2)
    with pytest.raises(ValueError, match="num_threads"):
        dc.conv2d_backward(np.ones((1, 3, 3, 3)), x, np.ones((3, 2, 2, 2)), num_threads=0)


def test_empty_batch_gives_zero_weight_and_bias_gradients(backend):
    x, w = np.ones((0, 2, 4, 4)), np.ones((2, 3, 2, 2))
    gi, gw, gb = dc.conv_transpose2d_backward(np.ones((0, 3, 5, 5)), x, w)
    assert gi.shape == (0, 2, 4, 4)
    np.testing.assert_array_equal(gw, np.zeros_like(w))
    np.testing.assert_array_equal(gb, np.zeros(3))
