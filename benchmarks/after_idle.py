"""How long calls stay slow after the process was idle (the harness's settle and re-warm).

    python benchmarks/after_idle.py [--rounds 7] [--idle-ms 100] [--calls 16]

The harness (``python -m deconv_core bench``) sleeps ``--settle-ms`` before each timed
sample, then runs the contender untimed for ``--rewarm-ms``. This shows what the
re-warm is for, and how long it would have to be: for ``depthwise_64ch_32px_b8``
(the layer of ``malloc_state.py``), each contender at 1 and 2 threads sleeps
``--idle-ms``, then makes ``--calls`` calls in a row, each timed; per call index the
median over ``--rounds`` rounds is printed, with the time elapsed since the idle ended
when that call started (median too), and the index from which calls are within 10% of
the median of the last four ("steady from call"). On Linux it also prints, per call
index, in how many rounds the threads that ran during the call ended it on more than
one CPU ("spread"): after an idle the scheduler may put a woken pool thread on its
waker's CPU, and the two then share one core until a load balance separates them.
"""
import argparse
import glob
import os
import statistics
import time

import numpy as np

from malloc_state import _contenders


def _threads_state():
    """{thread id: (ns run so far, CPU it last ran on)} for this process (Linux), or {}."""
    state = {}
    for task in glob.glob(f"/proc/{os.getpid()}/task/*"):
        try:
            with open(f"{task}/schedstat") as f:
                ran = int(f.read().split()[0])
            with open(f"{task}/stat") as f:
                cpu = int(f.read().rsplit(")", 1)[1].split()[36])
        except (OSError, ValueError, IndexError):
            continue
        state[task] = (ran, cpu)
    return state


def _spread(before, after):
    """Whether the threads that ran (0.1 ms or more) between two states ended on more
    than one CPU."""
    cpus = {cpu for t, (ran, cpu) in after.items()
            if ran - before.get(t, (0, cpu))[0] >= 100_000}
    return len(cpus) > 1


def _after_idle(call, threads, idle, calls):
    """Per call after an idle: (seconds it took, seconds since the idle ended at its
    start, whether its threads ran on more than one CPU)."""
    try:   # PyTorch's thread count is global: set it for this contender
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        pass
    time.sleep(idle)
    got = []
    t_start = time.perf_counter()
    for _ in range(calls):
        before = _threads_state()
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
        got.append((t1 - t0, t0 - t_start, _spread(before, _threads_state())))
    return got


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--idle-ms", type=float, default=100.0)
    ap.add_argument("--calls", type=int, default=16)
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.calls < 4 or args.idle_ms < 0:
        ap.error("--rounds must be >= 1, --calls >= 4 and --idle-ms >= 0")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 32, 32)).astype(np.float32)
    w = rng.standard_normal((64, 1, 4, 4)).astype(np.float32)
    calls = {}
    for threads in (1, 2):
        for name, call in _contenders(x, w, threads).items():
            calls[f"{name}, {threads}T"] = (call, threads)
    for call, threads in calls.values():   # warm-up: imports, plans, thread pools
        _after_idle(call, threads, 0, 3)
    names = list(calls)
    threads_seen = bool(_threads_state())
    rows = {name: [] for name in names}
    for r in range(args.rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            rows[name].append(_after_idle(*calls[name], args.idle_ms / 1e3, args.calls))
    print(f"depthwise_64ch_32px_b8, {args.idle_ms:g} ms idle before each run of "
          f"{args.calls} calls; medians over {args.rounds} rounds; ms")
    for name in names:
        took = [statistics.median(rd[i][0] for rd in rows[name]) * 1e3
                for i in range(args.calls)]
        since = [statistics.median(rd[i][1] for rd in rows[name]) * 1e3
                 for i in range(args.calls)]
        tail = statistics.median(took[-4:])
        steady = next((i for i in range(args.calls)
                       if all(t <= 1.1 * tail for t in took[i:])), None)
        spread = [sum(rd[i][2] for rd in rows[name]) for i in range(args.calls)]
        print(f"{name:18s} per call: " + " ".join(f"{t:.2f}" for t in took))
        if threads_seen:
            print(f"{'':18s} spread:   " + " ".join(f"{n:4d}" for n in spread))
        if steady is None:
            print(f"{'':18s} not steady within {args.calls} calls")
        else:
            print(f"{'':18s} steady from call {steady} ({since[steady]:.1f} ms after the "
                  f"idle), first call {took[0] / tail:.2f}x the steady time")


if __name__ == "__main__":
    main()
