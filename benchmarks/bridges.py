"""The framework bridges' figures (issue targets in brackets).

    python benchmarks/bridges.py [--part overhead,dcgan,layers,jax] [--repeat 7]

overhead  the seed workload (input 1x1x3x3, weight 1x1x2x2, stride 2, padding 1): the
          NumPy call, deconv_core.torch's function on plain tensors and with a weight
          that requires grad (the registered operator and its autograd), per call
          [torch function <= NumPy call + 20 us].
dcgan     the DCGAN generator of examples/dcgan_torch.py (batch 64, 64x64 RGB):
          inference and a training step (forward, backward, SGD update), the model
          converted with deconv_core.torch.convert against plain PyTorch
          [>= 1.5x inference, >= 1.3x training].
layers    where the generator's time goes: each of its transposed convolutions alone
          (NumPy arrays, float32), the forward, grad_input and grad_weight of
          deconv_core against PyTorch's (torch.nn.functional.conv_transpose2d and
          torch.ops.aten.convolution_backward with one output_mask entry set).
jax       jax.jit(jax.grad(loss)) of a transposed convolution through deconv_core.jax
          against the same loss through jax.lax (conv_general_dilated with lhs
          dilation, as the harness runs JAX), on each shared workload
          [geometric mean >= 5x].

Two threads for everyone (torch.set_num_threads, XLA_FLAGS/NPROC, deconv_core's
OpenMP default on this 2-core machine); medians of interleaved rounds.
"""
import argparse
import contextlib
import copy
import math
import os
import sys
import time

import numpy as np

from deconv_core.bench.contenders import jax_functions, load_jax
from deconv_core.bench.timing import time_interleaved
from deconv_core.workloads import load_workloads

HERE = os.path.dirname(os.path.abspath(__file__))
THREADS = 2


def _ms(t):
    return t["median_s"] * 1e3


def overhead(repeat):
    import torch

    import deconv_core as dc
    import deconv_core.torch as dct
    torch.set_num_threads(THREADS)
    x = np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3)
    w = np.ones((1, 1, 2, 2), np.float32)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    wg = wt.clone().requires_grad_()
    calls = {
        "NumPy call": lambda: dc.conv_transpose2d(x, w, stride=2, padding=1),
        "torch function, plain tensors": lambda: dct.conv_transpose2d(xt, wt, stride=2,
                                                                      padding=1),
        "torch function, weight requires grad": lambda: dct.conv_transpose2d(
            xt, wg, stride=2, padding=1),
        "torch.nn.functional (for scale)": lambda: torch.nn.functional.conv_transpose2d(
            xt, wt, stride=2, padding=1),
    }
    t = time_interleaved({k: (f, contextlib.nullcontext) for k, f in calls.items()},
                         repeat, 3, 0.05)
    base = t["NumPy call"]["median_s"]
    print("## Bridge overhead, seed workload (per call)")
    for name, r in t.items():
        extra = "" if name == "NumPy call" else f"  (+{(r['median_s'] - base) * 1e6:.1f} us)"
        print(f"  {name:40s} {r['median_s'] * 1e6:8.1f} us{extra}")


def dcgan(repeat):
    import torch

    import deconv_core.torch as dct
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "examples"))
    from dcgan_torch import generator, train_step
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    plain = generator()
    converted = dct.convert(copy.deepcopy(plain))
    z = torch.randn(64, 100, 1, 1)
    target = torch.rand(64, 3, 64, 64) * 2 - 1
    opts = {m: torch.optim.SGD(m.parameters(), lr=1e-4) for m in (plain, converted)}

    def infer(m):
        with torch.no_grad():
            m(z)
    calls = {}
    for label, m in (("plain PyTorch", plain), ("converted", converted)):
        calls[f"inference, {label}"] = (lambda m=m: infer(m), contextlib.nullcontext)
        calls[f"training step, {label}"] = (
            lambda m=m: train_step(m, opts[m], z, target), contextlib.nullcontext)
    t = time_interleaved(calls, repeat, 1, 0.3)
    print("## DCGAN generator, batch 64, 64x64 RGB (per call)")
    for what in ("inference", "training step"):
        a, b = t[f"{what}, plain PyTorch"], t[f"{what}, converted"]
        print(f"  {what:14s} plain PyTorch {_ms(a):8.1f} ms, converted {_ms(b):8.1f} ms: "
              f"{a['median_s'] / b['median_s']:.2f}x")


def jax_grads(repeat):
    load_jax(THREADS)
    import jax
    import jax.numpy as jnp

    import deconv_core.jax as dcj
    print("## jax.jit(jax.grad(loss)) of the transposed convolution: deconv_core.jax vs "
          "jax.lax")
    ratios = []
    for name, spec in load_workloads().items():
        nd = len(spec["size"])
        rng = np.random.default_rng(0)
        dt = spec["dtype"]
        x = jnp.asarray(rng.standard_normal((spec["N"], spec["Cin"], *spec["size"])).astype(dt))
        w = jnp.asarray(rng.standard_normal(
            (spec["Cin"], spec["Cout"] // spec["groups"]) + (spec["kernel"],) * nd).astype(dt))
        lax_transposed, _ = jax_functions(spec)
        dc_fn = getattr(dcj, f"conv_transpose{nd}d")
        kw = dict(stride=spec["stride"], padding=spec["padding"], groups=spec["groups"],
                  dilation=spec["dilation"], output_padding=spec["output_padding"])
        gy = jnp.asarray(rng.standard_normal(
            lax_transposed(x, w).shape).astype(dt))
        g_lax = jax.jit(jax.grad(lambda x, w: jnp.sum(lax_transposed(x, w) * gy), (0, 1)))
        g_dc = jax.jit(jax.grad(lambda x, w: jnp.sum(dc_fn(x, w, **kw) * gy), (0, 1)))
        for a, b in zip(g_lax(x, w), g_dc(x, w)):
            scale = float(jnp.max(jnp.abs(a))) or 1.0
            assert float(jnp.max(jnp.abs(a - b))) <= 1e-3 * scale, name
        calls = {k: (lambda f=f: jax.block_until_ready(f(x, w)), contextlib.nullcontext)
                 for k, f in (("lax", g_lax), ("dc", g_dc))}
        t = time_interleaved(calls, repeat, 1, 0.1)
        r = t["lax"]["median_s"] / t["dc"]["median_s"]
        ratios.append(r)
        print(f"  {name:28s} jax.lax {_ms(t['lax']):9.2f} ms  deconv_core.jax "
              f"{_ms(t['dc']):8.2f} ms  {r:7.1f}x", flush=True)
    print(f"  geometric mean {math.exp(np.mean(np.log(ratios))):.1f}x")


# the generator's transposed layers at batch 64: input, weight, stride, padding
DCGAN_LAYERS = (((64, 100, 1, 1), (100, 512, 4, 4), 1, 0),
                ((64, 512, 4, 4), (512, 256, 4, 4), 2, 1),
                ((64, 256, 8, 8), (256, 128, 4, 4), 2, 1),
                ((64, 128, 16, 16), (128, 64, 4, 4), 2, 1),
                ((64, 64, 32, 32), (64, 3, 4, 4), 2, 1))


def layers(repeat):
    import torch

    import deconv_core as dc
    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(0)
    print("## DCGAN generator's transposed layers, batch 64, float32: ms, deconv_core / "
          "PyTorch (ratio = PyTorch's time / deconv_core's)")
    totals = {}
    for xs, ws, s, p in DCGAN_LAYERS:
        x = rng.standard_normal(xs, dtype=np.float32)
        w = rng.standard_normal(ws, dtype=np.float32)
        gy = rng.standard_normal(dc.conv_transpose2d(x, w, stride=s, padding=p).shape,
                                 dtype=np.float32)
        tx, tw, tgy = map(torch.from_numpy, (x, w, gy))

        def ours(mask):
            return lambda: dc.conv_transpose2d_backward(gy, x, w, stride=s, padding=p,
                                                        output_mask=mask, num_threads=THREADS)

        def theirs(mask):
            return lambda: torch.ops.aten.convolution_backward(
                tgy, tx, tw, None, [s, s], [p, p], [1, 1], True, [0, 0], 1, list(mask))

        def forward():
            with torch.no_grad():
                torch.nn.functional.conv_transpose2d(tx, tw, stride=s, padding=p)
        gin, gw = (True, False, False), (False, True, False)
        calls = {"forward dc": lambda: dc.conv_transpose2d(x, w, stride=s, padding=p,
                                                           num_threads=THREADS),
                 "forward torch": forward,
                 "grad_input dc": ours(gin), "grad_input torch": theirs(gin),
                 "grad_weight dc": ours(gw), "grad_weight torch": theirs(gw)}
        t = time_interleaved({k: (f, contextlib.nullcontext) for k, f in calls.items()},
                             repeat, 1, 0.05)
        row = []
        for what in ("forward", "grad_input", "grad_weight"):
            a, b = _ms(t[f"{what} dc"]), _ms(t[f"{what} torch"])
            totals[what] = [u + v for u, v in zip(totals.get(what, (0, 0)), (a, b))]
            row.append(f"{what} {a:6.1f} / {b:6.1f} ({b / a:.2f}x)")
        print(f"  {str(xs):18s} x {str(ws):18s} s{s} p{p}: " + ", ".join(row))
    print("  all layers: " + ", ".join(f"{what} {a:6.1f} / {b:6.1f} ({b / a:.2f}x)"
                                       for what, (a, b) in totals.items()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="overhead,dcgan,layers,jax")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, {THREADS} threads")
    parts = {"overhead": overhead, "dcgan": dcgan, "layers": layers, "jax": jax_grads}
    for part in args.part.split(","):
        parts[part](args.repeat)


if __name__ == "__main__":
    main()
