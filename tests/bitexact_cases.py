"""The seeded cases of the bit-for-bit record (tests/data/bitexact.json).

Recorded once, before the kernel-registry move (issue 15), with every kernel of the
compiled backend forced on each ISA, and never regenerated: test_bitexact.py checks
that the code after the move gives the same bits.  Do not change this file: the
record is only meaningful for exactly these cases.
"""
import hashlib

import numpy as np

# Kernel families the compiled backend had at the record, and "auto" (the planner).
TRANSPOSED_FAMILIES = ("auto", "direct", "gemm", "blocked", "depthwise", "chlast", "vchan",
                       "fold")
FORWARD_FAMILIES = ("auto",)
THREADS = (1, 2, 3)


def _pads(rng, n, k, s, d, neg):
    pads = []
    for nj, kj, sj, dj in zip(n, k, s, d):
        full = (nj - 1) * sj + dj * (kj - 1) + 1
        lo = -2 if neg else 0
        pb = int(rng.integers(lo, dj * (kj - 1) + 1))
        op = int(rng.integers(0, max(sj, dj)))
        pa = int(rng.integers(lo, dj * (kj - 1) + 1)) - op
        if full - pb - pa < 1:
            pb, pa = 0, -op
        pads.append((pb, pa))
    return tuple(pads)


def _transposed(rng, nd, dtype, kind):
    k = tuple(int(v) for v in rng.integers(1, 5, nd))
    s = tuple(int(v) for v in rng.integers(1, 5, nd))
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    groups = int(rng.choice([1, 1, 2, 3]))
    if kind == "small":
        n = tuple(int(v) for v in rng.integers(1, 7, nd))
        cin_g, cout_g = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    elif kind == "wide":          # rows with interior and border chunks
        n = tuple(int(v) for v in rng.integers(1, 5, nd - 1)) + (int(rng.integers(20, 90)),)
        cin_g, cout_g = int(rng.integers(1, 24)), int(rng.integers(1, 11))
    elif kind == "heavy":         # channel-heavy: channels-last and GEMM shapes
        n = tuple(int(v) for v in rng.integers(1, {1: 60, 2: 14, 3: 7}[nd], nd))
        cin_g, cout_g = int(rng.integers(8, 40)), int(rng.choice([8, 16, 17, 33, 48, 70]))
    else:                         # depthwise
        n = tuple(int(v) for v in rng.integers(1, 7, nd - 1)) + (int(rng.integers(1, 60)),)
        cin_g, cout_g = 1, int(rng.choice([1, 1, 2]))
        groups = int(rng.integers(1, 6))
    pads = _pads(rng, n, k, s, d, neg=rng.random() < 0.3)
    x = rng.standard_normal((int(rng.integers(1, 3)), groups * cin_g) + n).astype(dtype)
    w = rng.standard_normal((groups * cin_g, cout_g) + k).astype(dtype)
    b = rng.standard_normal(groups * cout_g).astype(dtype) if rng.random() < 0.7 else None
    return x, w, b, s, pads, d, groups


def _fold(rng, dtype):
    s = int(rng.integers(2, 70))
    k = int(rng.integers(1, 5)) * s
    n = int(rng.integers(1, 30))
    groups = int(rng.integers(1, 3))
    pb, pa = int(rng.integers(-s - 3, k + 2)), int(rng.integers(-s + 1, k + 2))
    if (n - 1) * s + k - pb - pa < 1:
        pb, pa = 0, 0
    ci, co = groups * int(rng.integers(1, 20)), groups * int(rng.integers(1, 4))
    x = rng.standard_normal((int(rng.integers(1, 4)), ci, n)).astype(dtype)
    w = rng.standard_normal((ci, co // groups, k)).astype(dtype)
    b = rng.standard_normal(co).astype(dtype) if rng.random() < 0.7 else None
    return x, w, b, (s,), ((pb, pa),), (1,), groups


def _forward(rng, nd, dtype):
    s = tuple(int(v) for v in rng.integers(1, 5, nd))
    d = tuple(int(v) for v in rng.integers(1, 4, nd))
    k = tuple(int(v) for v in rng.integers(1, 5, nd))
    n = tuple(int(v) + dj * (kj - 1) for v, dj, kj in zip(rng.integers(1, 9, nd), d, k))
    groups = int(rng.integers(1, 4))
    cin_g, cout_g = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    pads = tuple((int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in range(nd))
    x = rng.standard_normal((int(rng.integers(1, 3)), groups * cin_g) + n).astype(dtype)
    w = rng.standard_normal((groups * cout_g, cin_g) + k).astype(dtype)
    b = rng.standard_normal(groups * cout_g).astype(dtype) if rng.random() < 0.7 else None
    return x, w, b, s, pads, d, groups


def _workload(name, batch, dtype, rng):
    """A shared workload's shape (fewer images), as (x, w, b, stride, pads, dilation, groups)."""
    shapes = {  # name: (Cin, Cout, size, kernel, stride, padding, groups)
        "fcn": (64, 32, (64, 64), 4, 2, 1, 1),
        "dcgan_256": (256, 128, (8, 8), 4, 2, 1, 1),
        "dcgan_out": (64, 3, (32, 32), 4, 2, 1, 1),
        "unet": (128, 64, (64, 64), 2, 2, 0, 1),
        "s1_k7": (8, 8, (128, 128), 7, 1, 3, 1),
        "s3_k3": (16, 16, (40, 40), 3, 3, 2, 1),
        "depthwise": (64, 64, (32, 32), 4, 2, 1, 64),
        "istft": (258, 1, (400,), 1024, 256, 384, 1),
        "vol": (16, 8, (16, 16, 16), 4, 2, 1, 1),
    }
    cin, cout, size, k, s, p, g = shapes[name]
    nd = len(size)
    x = rng.standard_normal((batch, cin) + size).astype(dtype)
    w = rng.standard_normal((cin, cout // g) + (k,) * nd).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype)
    return x, w, b, (s,) * nd, ((p, p),) * nd, (1,) * nd, g


def cases():
    """[(label, transposed, (x, w, b, stride, pads, dilation, groups))], seeded."""
    out = []
    rng = np.random.default_rng(20261207)
    for i in range(72):
        nd = 1 + i % 3
        dtype = np.float32 if i % 2 == 0 else np.float64
        kind = ("small", "wide", "heavy", "depthwise")[(i // 3) % 4]
        out.append((f"t{i}_{kind}_{nd}d_{np.dtype(dtype).name}", True,
                    _transposed(rng, nd, dtype, kind)))
    for i in range(12):
        dtype = np.float32 if i % 2 == 0 else np.float64
        out.append((f"fold{i}_{np.dtype(dtype).name}", True, _fold(rng, dtype)))
    for i in range(24):
        nd = 1 + i % 3
        dtype = np.float32 if i % 2 == 0 else np.float64
        out.append((f"f{i}_{nd}d_{np.dtype(dtype).name}", False, _forward(rng, nd, dtype)))
    for name, batch, dtype in (("fcn", 1, np.float32), ("dcgan_256", 2, np.float32),
                               ("dcgan_out", 4, np.float32), ("unet", 1, np.float32),
                               ("s1_k7", 1, np.float32), ("s3_k3", 2, np.float32),
                               ("depthwise", 2, np.float32), ("istft", 1, np.float32),
                               ("vol", 1, np.float32), ("fcn", 1, np.float64)):
        out.append((f"w_{name}_{np.dtype(dtype).name}", True, _workload(name, batch, dtype, rng)))
    return out


def out_shape(transposed, x, w, stride, pads, dilation, groups):
    if transposed:
        return (x.shape[0], w.shape[1] * groups) + tuple(
            (n - 1) * s + d * (k - 1) + 1 - pb - pa
            for n, k, s, d, (pb, pa) in zip(x.shape[2:], w.shape[2:], stride, dilation, pads))
    return (x.shape[0], w.shape[0]) + tuple(
        (n + pb + pa - d * (k - 1) - 1) // s + 1
        for n, k, s, d, (pb, pa) in zip(x.shape[2:], w.shape[2:], stride, dilation, pads))


def digest(a):
    """SHA-256 of an array's dtype, shape and bytes (the first 96 bits, in hex)."""
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:24]
