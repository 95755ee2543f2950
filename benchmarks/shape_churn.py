"""Per-shape setup cost: the first call on a new input size against a repeated call on
that size, compared per FLOP (issue target: the same speed).

    python benchmarks/shape_churn.py [--rounds 7] [--threads 2]

Workloads: the fcn decoder stage (64 -> 32 channels, k4 s2 p1) around 64 x 64 and the
grayscale up-sampling (1 -> 1, k4 s2 p1) around 256 x 256. Each round takes 16 new sizes
(base-8 .. base+7, shifted by 16 per round, so no shape repeats across rounds) and
calls each size twice: the first call meets a new shape (validation, planning, any
per-shape setup a library does), the second repeats it. Before every timed call a
64 MiB buffer is rewritten, so both calls find the caches equally cold and only the
per-shape work differs (without that, a repeated call would also be faster because its
data is still in cache). Reported: median over rounds of (sum of first-call times) /
(sum of repeat-call times) for deconv_core (compiled and numpy), deconv_core compiled
writing into a preallocated ``out=`` (no page faults for a fresh result), and PyTorch;
1.00 means no per-shape cost.
"""
import argparse
import os
import statistics
import time

import numpy as np

CASES = {"fcn_64to32_k4_s2": (64, 32, 64), "gray_k4_s2": (1, 1, 256)}


def _contenders(threads):
    import deconv_core as dc
    from deconv_core import _backend
    out = {}
    for name in _backend.loadable():
        def call(x, w, out=None, name=name):
            with _backend.using(name):
                return dc.conv_transpose2d(x, w, stride=2, padding=1, num_threads=threads,
                                           out=out)
        out[f"dc {name}"] = (call, lambda a: a)
        if name == "compiled":
            # The same, writing into a result array allocated (and touched) before the
            # call: what remains is deconv_core's own per-shape work, without the page
            # faults of the fresh memory a new, larger result needs.
            out["dc compiled out="] = (call, lambda a: a)
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


_FLUSH = np.zeros(64 << 18, dtype=np.float32)   # 64 MiB, larger than any cache here


def _cold(call, args):
    """Seconds of one call after the caches were filled with other data."""
    np.add(_FLUSH, 1.0, out=_FLUSH)
    t0 = time.perf_counter()
    call(*args)
    return time.perf_counter() - t0


def _round(call, conv, c_in, c_out, sizes, rng, with_out):
    """(first-call seconds, repeat-call seconds), summed over the sizes."""
    first = repeat = 0.0
    for n in sizes:
        args = (conv(rng.standard_normal((1, c_in, n, n), dtype=np.float32)),
                conv(rng.standard_normal((c_in, c_out, 4, 4), dtype=np.float32)))
        if with_out:
            args += (np.zeros((1, c_out, 2 * n, 2 * n), dtype=np.float32),)
        first += _cold(call, args)
        repeat += _cold(call, args)
    return first, repeat


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    contenders = _contenders(args.threads)
    for case, (c_in, c_out, base) in CASES.items():
        changing = [base - 8 + i for i in range(16)]
        for name, (call, conv) in contenders.items():
            ratios = []
            with_out = name.endswith("out=")
            _round(call, conv, c_in, c_out, [base - 9], rng, with_out)   # warm-up
            for _ in range(args.rounds):
                # New sizes each round: no round reuses another's shapes.
                sizes = [n + len(ratios) * 16 for n in changing]
                first, repeat = _round(call, conv, c_in, c_out, sizes, rng, with_out)
                ratios.append(first / repeat)
            print(f"{case:18s} {name:12s} new-shape/repeated-shape call time: "
                  f"median {statistics.median(ratios):.2f} "
                  f"(min {min(ratios):.2f}, max {max(ratios):.2f}, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
