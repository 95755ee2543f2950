"""How much a process's malloc state moves the depthwise timings (run it in a fresh process).

    python benchmarks/malloc_state.py [--rounds 5] [--threads 2]

glibc serves a large request (128 KiB and up, at first) with a fresh ``mmap``: new
pages, faulted in and zeroed on first touch, and given back on ``free``. When such a
block is freed, glibc raises that threshold to the block's size (up to 32 MiB), so
later requests below it reuse heap memory instead. A program that has freed one
16 MiB array therefore runs allocation-heavy code faster than a fresh one. The
harness is in that second state: its GEMM peak (two 2048 x 2048 float32 matrices) is
measured before the workloads.

This times ``depthwise_64ch_32px_b8`` (N=8, 64 channels, groups=64, 32x32, k4 s2 p1)
with PyTorch and both deconv_core backends, every contender returning a new array, in
interleaved rounds (median of 20 calls per round, then the median over rounds): first
as the process starts, then again after one 16 MiB array was allocated and freed.
"As the process starts" is after each contender's warm-up calls: each freed an 8 MiB
result, so the threshold is already 8 MiB there, the state any loop of these calls
reaches after its first call. What the 16 MiB array changes is how blocks between 8
and 16 MiB are served: PyTorch's temporaries for this layer, not deconv_core's buffers
(none larger than the result).
"""
import argparse
import statistics
import time

import numpy as np


def _contenders(x, w, threads):
    import deconv_core as dc
    from deconv_core import _backend
    calls = {}
    for name in _backend.loadable():
        def call(name=name):
            with _backend.using(name):
                return dc.conv_transpose2d(x, w, stride=2, padding=1, groups=64,
                                           num_threads=threads)
        calls[f"dc {name}"] = call
    try:
        import torch
    except ImportError:
        print("torch not installed: skipped")
        return calls
    torch.set_num_threads(threads)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)

    def tcall():
        with torch.no_grad():
            return torch.nn.functional.conv_transpose2d(xt, wt, stride=2, padding=1, groups=64)
    calls["torch"] = tcall
    return calls


def _median_call(call, n=20):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _measure(calls, rounds):
    """{name: median seconds per call}, rounds interleaved (order rotating)."""
    names = list(calls)
    for name in names:       # warm-up: imports, plans, thread pools
        for _ in range(3):
            calls[name]()
    got = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            got[name].append(_median_call(calls[name]))
    return {name: statistics.median(v) for name, v in got.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 32, 32), dtype=np.float32)
    w = rng.standard_normal((64, 1, 4, 4), dtype=np.float32)
    calls = _contenders(x, w, args.threads)
    fresh = _measure(calls, args.rounds)
    big = np.ones((2048, 2048), dtype=np.float32)   # 16 MiB, from mmap
    del big                                        # freed: the threshold rises to 16 MiB
    after = _measure(calls, args.rounds)
    print(f"depthwise_64ch_32px_b8, {args.threads} threads, ms per call "
          f"(median of {args.rounds} rounds):")
    print(f"{'contender':12s} {'start':>8s} {'after':>8s} {'start/after':>12s}")
    for name in calls:
        print(f"{name:12s} {fresh[name] * 1e3:8.2f} {after[name] * 1e3:8.2f} "
              f"{fresh[name] / after[name]:12.2f}")
    if "torch" in calls and "dc numpy" in calls:
        print(f"dc numpy / torch: start {fresh['dc numpy'] / fresh['torch']:.2f}, "
              f"after {after['dc numpy'] / after['torch']:.2f}")


if __name__ == "__main__":
    main()
