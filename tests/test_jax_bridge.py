"""deconv_core.jax: forward and gradients against torch autograd, under jit, grad and
vmap (against a loop), and the checks made at trace time."""
import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="the jax extra is not installed")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy
dcj = pytest.importorskip("deconv_core.jax")
torch = pytest.importorskip("torch", reason="torch is the reference")

from torch_reference import torch_forward, valid_case  # noqa: E402

TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-4)}


def _fn(transposed, c):
    nd = c["w"].ndim - 2
    if transposed:
        f = getattr(dcj, f"conv_transpose{nd}d")
        return lambda x, w, b: f(x, w, b, c["stride"], c["padding"], c["output_padding"],
                                 c["groups"], c["dilation"])
    f = getattr(dcj, f"conv{nd}d")
    return lambda x, w, b: f(x, w, b, c["stride"], c["padding"], c["dilation"], c["groups"])


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_jit_grad_matches_torch_autograd(backend, transposed, nd, dtype):
    rng = np.random.default_rng(500 + 10 * nd + transposed + 5 * (dtype == np.float32))
    for it in range(5 if nd < 3 else 3):
        c, _ = valid_case(rng, transposed, nd, dtype, unbatched=it % 3 == 2)
        c_out = c["w"].shape[1] * c["groups"] if transposed else c["w"].shape[0]
        b = rng.standard_normal(c_out).astype(dtype)
        f = _fn(transposed, c)
        y = jax.jit(f)(c["x"], c["w"], b)
        refs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in (c["x"], c["w"], b)]
        xr = refs[0][None] if c["unbatched"] else refs[0]
        yr = torch_forward(transposed, xr, refs[1], refs[2], c["stride"], c["pairs"],
                           c["dilation"], c["groups"])
        yr = yr[0] if c["unbatched"] else yr
        assert y.dtype == dtype and y.shape == tuple(yr.shape)
        np.testing.assert_allclose(np.asarray(y), yr.detach().numpy(), **TOL[dtype])
        gy = rng.standard_normal(y.shape).astype(dtype)
        grads = jax.jit(jax.grad(lambda x, w, b: jnp.sum(f(x, w, b) * gy), argnums=(0, 1, 2)))(
            c["x"], c["w"], b)
        yr.backward(torch.tensor(gy.astype(np.float64)))
        for name, g, r in zip(("input", "weight", "bias"), grads, refs):
            assert g.dtype == dtype
            np.testing.assert_allclose(np.asarray(g), r.grad.numpy(), **TOL[dtype],
                                       err_msg=f"grad of {name}, {c['padding']!r}")


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
@pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])
def test_vmap_is_one_call_equal_to_a_loop(backend, transposed, unbatched, monkeypatch):
    rng = np.random.default_rng(41 + transposed + 2 * unbatched)
    c, _ = valid_case(rng, transposed, 2, np.float64, unbatched=unbatched)
    c_out = c["w"].shape[1] * c["groups"] if transposed else c["w"].shape[0]
    f = _fn(transposed, c)
    xs = rng.standard_normal((3,) + c["x"].shape)
    ws = rng.standard_normal((3,) + c["w"].shape)
    b = rng.standard_normal(c_out)

    def loss(x, w, b):
        return jnp.sum(jnp.sin(f(x, w, b)))
    import deconv_core.api as api
    name = f"conv_transpose2d" if transposed else "conv2d"
    calls = []
    for fn in (name, name + "_backward"):
        real = getattr(api, fn)
        monkeypatch.setattr(api, fn, lambda *a, _real=real, _fn=fn, **k: (calls.append(_fn),
                                                                            _real(*a, **k))[1])
    for in_axes, wb in (((0, None, None), c["w"]), ((0, 0, None), ws)):
        calls.clear()
        mapped = jax.jit(jax.vmap(f, in_axes=in_axes))(xs, wb, b)
        gmapped = jax.jit(jax.vmap(jax.grad(loss, argnums=(0, 1, 2)), in_axes=in_axes))(xs, wb, b)
        jax.block_until_ready(gmapped)
        assert calls == [name, name, name + "_backward"], calls   # one call per vmap
        for i in range(3):
            wi = wb if in_axes[1] is None else wb[i]
            np.testing.assert_allclose(np.asarray(mapped[i]), np.asarray(f(xs[i], wi, b)),
                                       rtol=1e-12, atol=1e-12)
            gi = jax.grad(loss, argnums=(0, 1, 2))(xs[i], wi, b)
            for a, r in zip(gmapped, gi):
                np.testing.assert_allclose(np.asarray(a[i]), np.asarray(r), rtol=1e-12,
                                           atol=1e-12)


def test_output_size_and_no_bias():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2, 5))
    w = rng.standard_normal((2, 3, 4))

    def loss(x, w):
        return jnp.sum(dcj.conv_transpose1d(x, w, stride=3, padding=1, output_size=(16,)) ** 2)
    gx, gw = jax.jit(jax.grad(loss, argnums=(0, 1)))(x, w)
    xt, wt = (torch.tensor(a, requires_grad=True) for a in (x, w))
    (torch.nn.functional.conv_transpose1d(xt, wt, stride=3, padding=1, output_padding=2)
     ** 2).sum().backward()
    np.testing.assert_allclose(np.asarray(gx), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.asarray(gw), wt.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_bad_arguments_are_raised_at_trace_time():
    x = jnp.ones((1, 2, 4, 4))
    w = jnp.ones((2, 3, 2, 2))
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding=2 must be smaller"):
        jax.jit(lambda x: dcj.conv_transpose2d(x, w, stride=2, output_padding=2))(x)
    with pytest.raises(ValueError, match=r"conv2d: weight has shape \(2, 3, 2, 2\) but input "
                                         r"has C_in=2"):
        dcj.conv2d(x, w)
    with pytest.raises(TypeError, match=r"input has dtype int32; deconv_core.jax computes"):
        dcj.conv_transpose2d(jnp.ones((1, 2, 4, 4), jnp.int32), w)
    with pytest.raises(TypeError, match=r"weight has dtype float32 but input has float64"):
        dcj.conv_transpose2d(x.astype(jnp.float64), w.astype(jnp.float32))
    with pytest.raises(ValueError, match=r"num_threads=0 must be None or an int"):
        dcj.conv_transpose2d(x, w, num_threads=0)


def test_docstring_examples():
    import doctest
    import deconv_core.jax.functions as functions
    runner = doctest.DocTestRunner()
    found = 0
    for module in (dcj, functions):
        for t in doctest.DocTestFinder().find(module, module.__name__, globs={}):
            found += len(t.examples)
            runner.run(t)
    assert runner.summarize(verbose=False).failed == 0
    assert found >= 20
