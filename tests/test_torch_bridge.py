"""deconv_core.torch: the functions, the registered operators, the modules and convert()
against torch itself (forward and autograd), opcheck, torch.compile and the fallbacks."""
import copy
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch extra is not installed")
dct = pytest.importorskip("deconv_core.torch")

from conftest import subprocess_env  # noqa: E402
from torch_reference import torch_forward, valid_case  # noqa: E402

F = torch.nn.functional
TOL = {np.float64: dict(rtol=1e-10, atol=1e-10), np.float32: dict(rtol=2e-4, atol=2e-4)}


def _call(transposed, c, x, w, b):
    nd = w.dim() - 2
    if transposed:
        return getattr(dct, f"conv_transpose{nd}d")(
            x, w, b, c["stride"], c["padding"], c["output_padding"], c["groups"], c["dilation"])
    return getattr(dct, f"conv{nd}d")(x, w, b, c["stride"], c["padding"], c["dilation"],
                                      c["groups"])


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_forward_and_gradients_match_torch_autograd(backend, transposed, nd, dtype):
    """Every padding form ('same', pairs, output_padding), groups, dilation, unbatched:
    the output and the gradients of input, weight and bias against torch autograd of
    the same forward built from torch's own ops."""
    rng = np.random.default_rng(300 + 10 * nd + transposed + 5 * (dtype == np.float32))
    for it in range(8 if nd < 3 else 4):
        c, _ = valid_case(rng, transposed, nd, dtype, unbatched=it % 4 == 3)
        c_out = c["w"].shape[1] * c["groups"] if transposed else c["w"].shape[0]
        b = rng.standard_normal(c_out).astype(dtype)
        leaves = [torch.tensor(a, requires_grad=True) for a in (c["x"], c["w"], b)]
        refs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in (c["x"], c["w"], b)]
        y = _call(transposed, c, *leaves)
        assert "deconv_core" in y.grad_fn.name(), "a call that records a gradient runs the op"
        xr = refs[0][None] if c["unbatched"] else refs[0]
        yr = torch_forward(transposed, xr, refs[1], refs[2], c["stride"], c["pairs"],
                           c["dilation"], c["groups"])
        yr = yr[0] if c["unbatched"] else yr
        assert y.dtype == leaves[0].dtype and y.shape == yr.shape
        np.testing.assert_allclose(y.detach().numpy(), yr.detach().numpy(), **TOL[dtype])
        gy = rng.standard_normal(tuple(y.shape)).astype(dtype)
        y.backward(torch.tensor(gy))
        yr.backward(torch.tensor(gy.astype(np.float64)))
        for name, got, ref in zip(("input", "weight", "bias"), leaves, refs):
            np.testing.assert_allclose(got.grad.numpy(), ref.grad.numpy(), **TOL[dtype],
                                       err_msg=f"grad of {name}, {c['padding']!r}")


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
def test_plain_call_and_op_give_the_same_bits(backend, transposed):
    """No tensor needs a gradient: the call skips the dispatcher; it must equal the
    operator's result bit for bit (and the NumPy API's)."""
    import deconv_core as dc
    rng = np.random.default_rng(7)
    c, y_np = valid_case(rng, transposed, 2, np.float32)
    x, w = torch.tensor(c["x"]), torch.tensor(c["w"])
    plain = _call(transposed, c, x, w, None)
    assert plain.grad_fn is None
    op = _call(transposed, c, x, w.clone().requires_grad_(), None)
    assert torch.equal(plain, op.detach())
    assert np.array_equal(plain.numpy(), y_np)
    with torch.no_grad():   # requires_grad but no graph: the plain road, same bits
        assert torch.equal(_call(transposed, c, x, w.clone().requires_grad_(), None), plain)
    assert dc.backend() == backend


def _op_cases():
    rng = np.random.default_rng(11)
    f64 = dict(dtype=torch.float64)
    for nd in (1, 2, 3):
        sp = (5, 4, 3)[:nd]
        x = torch.tensor(rng.standard_normal((2, 4) + sp), requires_grad=True)
        wt = torch.tensor(rng.standard_normal((4, 3) + (3,) * nd), requires_grad=True)
        wc = torch.tensor(rng.standard_normal((6, 2) + (2,) * nd), requires_grad=True)
        b3 = torch.randn(6, **f64, requires_grad=True)
        pads = [1, 0] * nd
        # conv_transpose: groups 2, stride 2, pairs, output_padding 1
        args_t = [[2] * nd, "", pads, [1] * nd, [1] * nd, 2]
        yt = dct.__dict__[f"conv_transpose{nd}d"](x, wt, b3, 2, tuple((1, 0) for _ in range(nd)),
                                                  1, 2)
        yield f"conv_transpose{nd}d", (x, wt, b3, *args_t)
        gy = torch.randn(yt.shape, **f64)
        for g in ("input_grad", "weight_grad"):
            yield f"conv_transpose{nd}d_{g}", (gy, x.detach(), wt.detach(), *args_t)
        # conv: groups 2, stride 2, 'same'
        args_c = [[2] * nd, "same", [], [0] * nd, [1] * nd, 2]
        yc = dct.__dict__[f"conv{nd}d"](x, wc, b3, 2, "same", 1, 2)
        yield f"conv{nd}d", (x, wc, b3, *args_c)
        gy = torch.randn(yc.shape, **f64)
        for g in ("input_grad", "weight_grad"):
            yield f"conv{nd}d_{g}", (gy, x.detach(), wc.detach(), *args_c)


@pytest.mark.parametrize("name,args", list(_op_cases()), ids=[n for n, _ in _op_cases()])
def test_opcheck_every_registered_operator(backend, name, args):
    result = torch.library.opcheck(getattr(torch.ops.deconv_core, name), args)
    assert set(result.values()) == {"SUCCESS"}, result


def test_every_operator_is_checked():
    names = {n for n, _ in _op_cases()}
    assert len(names) == 18
    for name in names:
        assert hasattr(torch.ops.deconv_core, name)


@pytest.mark.parametrize("transposed", [True, False], ids=["tconv", "conv"])
def test_torch_compile_fullgraph_matches_eager(backend, transposed):
    torch._dynamo.reset()
    rng = np.random.default_rng(21)
    x = torch.tensor(rng.standard_normal((2, 4, 6, 5)), requires_grad=True)
    if transposed:
        w = torch.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)

        def loss(x, w):
            y = dct.conv_transpose2d(x, w, None, 2, ((1, 0), (0, 1)), (1, 0))
            return (y.sin() * y).sum()
    else:
        w = torch.tensor(rng.standard_normal((3, 4, 3, 2)), requires_grad=True)

        def loss(x, w):
            y = dct.conv2d(x, w, None, (2, 1), "same", (1, 2))
            return (y.sin() * y).sum()
    eager = loss(x, w)
    ge = torch.autograd.grad(eager, (x, w))
    compiled = torch.compile(loss, fullgraph=True, backend="aot_eager")(x, w)
    gc = torch.autograd.grad(compiled, (x, w))
    assert torch.allclose(eager, compiled, rtol=1e-12, atol=1e-12)
    for a, b in zip(ge, gc):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_unsupported_tensors_are_type_errors():
    x = torch.ones(1, 1, 3, 3)
    w = torch.ones(1, 1, 2, 2)
    with pytest.raises(TypeError, match=r"input has dtype torch.float16; deconv_core computes"):
        dct.conv_transpose2d(x.half(), w.half())
    with pytest.raises(TypeError, match=r"input is on device 'meta'; deconv_core runs on the CPU"):
        dct.conv2d(x.to("meta"), w.to("meta"))
    with pytest.raises(TypeError, match=r"weight has dtype torch.float64 but input has "
                                        r"torch.float32"):
        dct.conv2d(x, w.double())
    with pytest.raises(TypeError, match="weight must be a torch.Tensor, got ndarray"):
        dct.conv2d(x, np.ones((1, 1, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"conv_transpose2d: output_padding=3 must be smaller"):
        dct.conv_transpose2d(x.requires_grad_(), w, stride=2, output_padding=3)
    with pytest.raises(TypeError, match=r"conv2d: padding=\[\['bad'\]\] must be an int >= 0"):
        dct.conv2d(x, w, padding=[["bad"]])
    with pytest.raises(ValueError, match=r"padding='full'"):
        dct.conv2d(x, w, padding="full")


def _module_pairs():
    nn = torch.nn
    yield nn.ConvTranspose1d(4, 6, 5, stride=3, padding=1, output_padding=2, groups=2), 1
    yield nn.ConvTranspose2d(4, 3, (3, 4), stride=2, padding=(1, 2), dilation=(2, 1)), 2
    yield nn.ConvTranspose3d(2, 2, 2, stride=2, bias=False), 3
    yield nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), 1
    yield nn.Conv2d(3, 4, 3, padding="same", dilation=2), 2
    yield nn.Conv3d(2, 4, 2, stride=(1, 2, 2)), 3


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_modules_are_the_torch_classes_computed_by_deconv_core(backend, dtype):
    torch.manual_seed(0)
    for ref, nd in _module_pairs():
        ref = ref.to(dtype)
        cls = getattr(dct, type(ref).__name__)
        ours = cls.__new__(cls)
        ours.__dict__ = copy.deepcopy(ref).__dict__
        assert isinstance(ours, type(ref))
        fresh = cls(*[getattr(ref, a) for a in ("in_channels", "out_channels",
                                                 "kernel_size")])
        assert fresh.state_dict().keys() - {"bias"} <= ref.state_dict().keys()
        x = torch.randn((2, ref.in_channels) + (7,) * nd, dtype=dtype)
        y = ours(x)
        assert "deconv_core" in y.grad_fn.name()
        tol = 1e-10 if dtype == torch.float64 else 2e-4
        assert torch.allclose(y, ref(x), rtol=tol, atol=tol)
        if "Transpose" in cls.__name__:   # output_size picks output_padding, as torch does
            size = [s + 1 for s in ref(x).shape[2:]]
            if all(o < max(s, d) for o, s, d in zip(
                    [1] * nd, ref.stride, ref.dilation)) and not any(ref.output_padding):
                assert torch.allclose(ours(x, output_size=size), ref(x, output_size=size),
                                      rtol=tol, atol=tol)


def test_modules_fall_back_to_torch():
    torch.manual_seed(1)
    circular = dct.Conv2d(2, 2, 3, padding=1, padding_mode="circular")
    x = torch.randn(1, 2, 6, 6)
    y = circular(x)
    assert y.grad_fn.name() == "ConvolutionBackward0", "padding_mode != 'zeros': torch's forward"
    layer = dct.ConvTranspose2d(2, 2, 4, stride=2, padding=1).to(torch.bfloat16)
    yb = layer(x.to(torch.bfloat16))
    assert yb.dtype == torch.bfloat16 and yb.grad_fn.name() != "" and \
        "deconv_core" not in yb.grad_fn.name()


class _Widened(torch.nn.Conv2d):
    """A user's subclass: its forward is its own, convert() leaves it alone."""
    def forward(self, x):
        return super().forward(x) * 2


def _model():
    nn = torch.nn
    return nn.Sequential(
        nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1), nn.ReLU(),
        nn.Sequential(nn.Conv2d(6, 6, 3, padding=1, padding_mode="reflect"), nn.Tanh()),
        nn.ConvTranspose2d(6, 4, 3, stride=1, padding=1, groups=2), nn.ReLU(),
        _Widened(4, 3, 3, padding=1), nn.Conv2d(3, 2, 1))


def test_convert_keeps_parameters_and_trains_the_same():
    torch.manual_seed(2)
    model = _model().double()
    reference = copy.deepcopy(model)
    params = list(model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.05)   # built before the conversion
    assert dct.convert(model) is model
    assert all(a is b for a, b in zip(model.parameters(), params))
    kinds = [type(m) for m in model.modules()]
    assert dct.ConvTranspose2d in kinds and dct.Conv2d in kinds and _Widened in kinds
    assert torch.nn.Conv2d not in kinds and torch.nn.ConvTranspose2d not in kinds
    assert model.state_dict().keys() == reference.state_dict().keys()
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.05)
    x = torch.randn(4, 8, 5, 5, dtype=torch.float64)
    target = torch.randn(4, 2, 10, 10, dtype=torch.float64)
    for _ in range(3):
        losses = []
        for m, o in ((model, opt), (reference, ref_opt)):
            o.zero_grad()
            loss = ((m(x) - target) ** 2).mean()
            loss.backward()
            o.step()
            losses.append(loss.item())
        assert losses[0] == pytest.approx(losses[1], rel=1e-12, abs=1e-12)
    y = model[0](x)
    assert "deconv_core" in y.grad_fn.name()
    assert model[2][0](model[1](y)).grad_fn.name() == "ConvolutionBackward0"   # reflect


def test_convert_a_single_layer_and_errors():
    layer = torch.nn.Conv1d(2, 2, 3)
    assert type(dct.convert(layer)) is dct.Conv1d
    with pytest.raises(TypeError, match="convert: module must be a torch.nn.Module"):
        dct.convert("model")


def test_torch_and_deconv_core_threads_side_by_side():
    """torch's OpenMP runtime and deconv_core's in one process: interleaved calls from
    several Python threads finish with the right results (no crash, no deadlock)."""
    code = r"""
import threading, torch, numpy as np, deconv_core, deconv_core.torch as dct
torch.set_num_threads(2)
x = torch.randn(4, 16, 16, 16); w = torch.randn(16, 8, 4, 4)
ref = torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)
errs = []
def work():
    for _ in range(20):
        a = dct.conv_transpose2d(x, w, stride=2, padding=1)
        b = torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)
        if not (torch.allclose(a, ref, atol=1e-4) and torch.allclose(b, ref, atol=1e-4)):
            errs.append(1)
ts = [threading.Thread(target=work) for _ in range(3)]
[t.start() for t in ts]; [t.join() for t in ts]
assert not errs
print(deconv_core.backend())
"""
    out = subprocess.run([sys.executable, "-c", code], env=subprocess_env(),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]


def test_docstring_examples():
    import doctest
    import deconv_core.torch.functional as functional
    import deconv_core.torch.modules as modules
    runner = doctest.DocTestRunner()
    found = 0
    for module in (dct, functional, modules):
        for t in doctest.DocTestFinder().find(module, module.__name__, globs={}):
            found += len(t.examples)
            runner.run(t)
    assert runner.summarize(verbose=False).failed == 0
    assert found >= 50
