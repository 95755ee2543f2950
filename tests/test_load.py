"""Load: concurrent Python threads, long loops (no leak), more threads than cores."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import deconv_core as dc
from conftest import subprocess_env


def _cases(rng, n):
    cases = []
    for i in range(n):
        nd = 1 + i % 3
        sizes = tuple(int(v) for v in rng.integers(3, {1: 200, 2: 24, 3: 8}[nd], nd))
        x = rng.standard_normal((2, 4) + sizes).astype(np.float32)
        w = rng.standard_normal((4, 3) + (3,) * nd).astype(np.float32)
        cases.append((getattr(dc, f"conv_transpose{nd}d"), x, w,
                      dict(stride=1 + i % 3, padding=i % 2)))
    return cases


def test_concurrent_threads_match_serial(backend, rng):
    cases = _cases(rng, 48)
    serial = [fn(x, w, **kw) for fn, x, w, kw in cases]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            results = list(pool.map(lambda c: c[0](c[1], c[2], **c[3]), cases))
            for a, b in zip(results, serial):
                np.testing.assert_array_equal(a, b)


def test_more_threads_than_cores(backend, rng):
    x = rng.standard_normal((3, 8, 33, 17))
    w = rng.standard_normal((8, 4, 4, 4))
    ref = dc.conv_transpose2d(x, w, stride=2, padding=1, num_threads=1)
    for n in (2, 4, 16, 4 * (os.cpu_count() or 1) + 1):
        np.testing.assert_array_equal(dc.conv_transpose2d(x, w, stride=2, padding=1,
                                                          num_threads=n), ref)


_LEAK_SCRIPT = r"""
import numpy as np, deconv_core as dc
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
x = np.random.default_rng(0).standard_normal((2, 8, 32, 32)).astype(np.float32)
w = np.random.default_rng(1).standard_normal((8, 8, 4, 4)).astype(np.float32)
def loop(n):
    for i in range(n):
        dc.conv_transpose2d(x, w, stride=2, padding=1)            # 256 KiB result each
        dc.conv2d(x, w, padding="same")
        try:
            dc.conv_transpose2d(x, w, stride=0)                   # the error path too
        except ValueError:
            pass
loop(300)
before = rss()
loop(3000)
print("growth", (rss() - before) / 2**20)
"""


def test_long_loop_does_not_grow_memory(backend):
    """3000 calls allocating 256 KiB each would grow ~750 MiB if results leaked."""
    proc = subprocess.run([sys.executable, "-c", _LEAK_SCRIPT], capture_output=True, text=True,
                          env=subprocess_env(DECONV_CORE_BACKEND=backend), timeout=600)
    assert proc.returncode == 0, proc.stderr
    growth = float(proc.stdout.split()[-1])
    assert growth < 32, f"resident memory grew by {growth:.1f} MiB over 3000 calls"


def test_depthwise_chunks_any_thread_count(backend, rng):
    """One input channel per group: the NumPy backend splits such calls into chunks of
    images (small maps) or of groups (large maps) run on several threads; every thread
    count, and calls from several Python threads at once, give identical results."""
    cases = [((6, 16, 70, 70), (16, 1, 4, 4), dict(stride=2, padding=1, groups=16)),
             ((5, 24, 96, 96), (24, 2, 3, 3), dict(stride=2, padding=(0, 1), groups=24)),
             ((9, 32, 40, 40), (32, 1, 4, 4), dict(stride=2, padding=1, groups=32))]
    for xs, ws, kw in cases:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32)
        b = rng.standard_normal(ws[1] * xs[1]).astype(np.float32)
        ref = dc.conv_transpose2d(x, w, b, num_threads=1, **kw)
        for n in (2, 3, 7):
            np.testing.assert_array_equal(dc.conv_transpose2d(x, w, b, num_threads=n, **kw), ref)
        with ThreadPoolExecutor(max_workers=4) as pool:
            for got in pool.map(lambda _: dc.conv_transpose2d(x, w, b, num_threads=2, **kw),
                                range(8)):
                np.testing.assert_array_equal(got, ref)
