"""Timing: interleaved rounds with settle and re-warm, and the GEMM peak."""
import contextlib
import math
import resource
import time

import numpy as np

MAX_INNER = 1 << 20


def _cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sample(call, ctx, inner):
    """Seconds per call over ``inner`` back-to-back calls, and the CPU time used."""
    with ctx():
        c0, t0 = _cpu_seconds(), time.perf_counter()
        for _ in range(inner):
            call()
        t1, c1 = time.perf_counter(), _cpu_seconds()
    return (t1 - t0) / inner, c1 - c0, t1 - t0


def _calibrate(call, ctx, min_sample):
    inner = 1
    while inner < MAX_INNER:
        total = sample(call, ctx, inner)[2]
        if total >= min_sample:
            break
        inner = min(MAX_INNER, max(2 * inner, math.ceil(inner * 1.2 * min_sample
                                                         / max(total, 1e-9))))
    return inner


def _rewarm(call, ctx, seconds):
    """Untimed back-to-back calls for at least ``seconds`` (at least one call)."""
    with ctx():
        end = time.perf_counter() + seconds
        call()
        while time.perf_counter() < end:
            call()


def time_interleaved(calls, repeat, warmup, min_sample, settle=0.0, rewarm=0.0):
    """``{name: (call, ctx)}`` -> ``{name: timing dict}``; rounds interleave the names.

    Before each timed sample the process sleeps ``settle`` seconds, so that worker
    threads the previous contender left spinning (OpenBLAS busy-waits about 0.1 s after
    a call; XLA's and OpenMP's pools spin too) are idle when the next one starts. Then,
    if ``rewarm`` > 0, the contender runs untimed for that long: after the idle, calls
    are slower for a while (the CPUs' clocks and the contender's own pool threads come
    back; a pool thread woken by its caller may share the caller's core until the
    scheduler separates them, ~50 ms on the reference VM: benchmarks/after_idle.py),
    and the timed sample should see what a loop of calls sees.
    """
    names = list(calls)
    inner = {}
    for name, (call, ctx) in calls.items():
        for _ in range(warmup):
            sample(call, ctx, 1)
        inner[name] = _calibrate(call, ctx, min_sample)
    times = {n: [] for n in names}
    cpu = dict.fromkeys(names, 0.0)
    wall = dict.fromkeys(names, 0.0)
    for r in range(repeat):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            call, ctx = calls[name]
            if settle:
                time.sleep(settle)
            if rewarm:
                _rewarm(call, ctx, rewarm)
            per_call, c, w = sample(call, ctx, inner[name])
            times[name].append(per_call)
            cpu[name] += c
            wall[name] += w
    return {n: {"median_s": float(np.median(times[n])), "min_s": float(min(times[n])),
                "iqr_s": float(np.subtract(*np.percentile(times[n], [75, 25]))),
                "inner": inner[n], "cpu_util": cpu[n] / wall[n] if wall[n] else None,
                "times_s": times[n]} for n in names}


def measure_gemm(n, repeat, warmup, min_sample, seed=0):
    """NumPy matmul rate (GFLOP/s) of n x n float32 and float64 matrices."""
    rng = np.random.default_rng(seed)
    calls = {}
    for dt in ("float32", "float64"):
        a, b = (rng.standard_normal((n, n)).astype(dt) for _ in range(2))
        out = np.empty((n, n), dt)
        calls[dt] = (lambda a=a, b=b, out=out: np.matmul(a, b, out=out), contextlib.nullcontext)
    timed = time_interleaved(calls, repeat, warmup, min_sample)
    for t in timed.values():
        # A peak is what the machine sustains at best: the fastest sample (each sample
        # lasts >= min_sample), not the median, which noise from other load drags down.
        t["gflops"] = 2 * n ** 3 / t["min_s"] / 1e9
        t["gflops_median"] = 2 * n ** 3 / t["median_s"] / 1e9
        t["n"] = n
    return timed


def best_gemm(*measurements):
    """Per dtype, the measurement with the highest peak (GEMM is timed before and
    after the workloads, so a burst of load during one of them does not set it)."""
    return {dt: max((m[dt] for m in measurements), key=lambda t: t["gflops"])
            for dt in measurements[0]}
