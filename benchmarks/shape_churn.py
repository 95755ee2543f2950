"""Per-shape setup cost: a loop whose input size changes every call against a loop on one
size, compared per FLOP (issue target: the same speed).

    python benchmarks/shape_churn.py [--rounds 7] [--threads 2]

Workloads: the fcn decoder stage (64 -> 32 channels, k4 s2 p1) around 64 x 64 and the
grayscale up-sampling (1 -> 1, k4 s2 p1) around 256 x 256. The changing loop cycles
through 16 sizes (base-8 .. base+7); the fixed loop repeats the base size. Reported:
median over rounds of (time per FLOP, changing) / (time per FLOP, fixed) for
deconv_core (compiled and numpy) and PyTorch; 1.00 means no per-shape cost.
"""
import argparse
import os
import statistics
import time

import numpy as np

CASES = {"fcn_64to32_k4_s2": (64, 32, 64), "gray_k4_s2": (1, 1, 256)}


def _flops(c_in, c_out, n):
    return 2 * c_in * c_out * 16 * n * n


def _contenders(threads):
    import deconv_core as dc
    from deconv_core import _backend
    out = {}
    for name in ("compiled", "numpy"):
        try:
            _backend.load(name)
        except ImportError:
            continue

        def call(x, w, name=name):
            with _backend.using(name):
                return dc.conv_transpose2d(x, w, stride=2, padding=1, num_threads=threads)
        out[f"dc {name}"] = (call, lambda a: a)
    try:
        import torch
        torch.set_num_threads(threads)

        def tcall(x, w):
            with torch.no_grad():
                return torch.nn.functional.conv_transpose2d(x, w, stride=2, padding=1)
        out["torch"] = (tcall, torch.from_numpy)
    except ImportError:
        print("torch not installed: skipped")
    return out


def _loop(call, conv, c_in, c_out, sizes, rng):
    data = [(conv(rng.standard_normal((1, c_in, n, n), dtype=np.float32)),
             conv(rng.standard_normal((c_in, c_out, 4, 4), dtype=np.float32)), n) for n in sizes]
    call(*data[0][:2])
    t0 = time.perf_counter()
    flops = 0
    for x, w, n in data:
        call(x, w)
        flops += _flops(c_in, c_out, n)
    return (time.perf_counter() - t0) / flops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    contenders = _contenders(args.threads)
    for case, (c_in, c_out, base) in CASES.items():
        changing = [base - 8 + i for i in range(16)]
        fixed = [base] * 16
        for name, (call, conv) in contenders.items():
            ratios = []
            for _ in range(args.rounds):
                # A new size set each round, so no round reuses another's shapes.
                shift = len(ratios) * 16
                sizes = [n + shift for n in changing]
                t_fixed = _loop(call, conv, c_in, c_out, [base + shift] * 16, rng)
                t_change = _loop(call, conv, c_in, c_out, sizes, rng)
                ratios.append(t_change / t_fixed)
            print(f"{case:18s} {name:12s} changing/fixed time per FLOP: "
                  f"median {statistics.median(ratios):.2f} "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f}, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
