"""Independent references, written from the definitions (not from the package).

``naive_conv_transpose`` scatters every input pixel through every tap, the
textbook definition; ``naive_conv`` gathers. Both loop in Python over input
positions and are meant for small arrays only.
"""
import itertools

import numpy as np


def naive_conv_transpose(x, w, bias, stride, pads, dilation, groups, out_size):
    """x (N, C_in, *n), w (C_in, C_out/g, *k); pads (before, after) per dim;
    out_size: the spatial output size (after may be extended by output padding)."""
    n_b, c_in = x.shape[:2]
    c_out_g = w.shape[1]
    c_in_g = c_in // groups
    y = np.zeros((n_b, c_out_g * groups) + tuple(out_size), dtype=np.float64)
    for i in itertools.product(*[range(n) for n in x.shape[2:]]):
        for t in itertools.product(*[range(k) for k in w.shape[2:]]):
            o = [ii * s + tt * d - pb for ii, tt, s, d, (pb, _) in
                 zip(i, t, stride, dilation, pads)]
            if not all(0 <= oo < size for oo, size in zip(o, out_size)):
                continue
            for g in range(groups):
                xs = x[(slice(None), slice(g * c_in_g, (g + 1) * c_in_g)) + i]  # (N, cin_g)
                ws = w[(slice(g * c_in_g, (g + 1) * c_in_g), slice(None)) + t]  # (cin_g, cout_g)
                y[(slice(None), slice(g * c_out_g, (g + 1) * c_out_g)) + tuple(o)] += xs @ ws
    if bias is not None:
        y += np.asarray(bias).reshape((1, -1) + (1,) * (x.ndim - 2))
    return y


def naive_conv(x, w, bias, stride, pads, dilation, groups):
    nd = x.ndim - 2
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [tuple(p) for p in pads])
    k = w.shape[2:]
    out_size = [(n - d * (kk - 1) - 1) // s + 1
                for n, kk, s, d in zip(xp.shape[2:], k, stride, dilation)]
    c_out = w.shape[0]
    c_out_g, c_in_g = c_out // groups, w.shape[1]
    y = np.zeros((x.shape[0], c_out) + tuple(out_size))
    for o in itertools.product(*[range(v) for v in out_size]):
        for t in itertools.product(*[range(kk) for kk in k]):
            pos = tuple(oo * s + tt * d for oo, tt, s, d in zip(o, t, stride, dilation))
            for g in range(groups):
                xs = xp[(slice(None), slice(g * c_in_g, (g + 1) * c_in_g)) + pos]
                ws = w[(slice(g * c_out_g, (g + 1) * c_out_g), slice(None)) + t]
                y[(slice(None), slice(g * c_out_g, (g + 1) * c_out_g)) + o] += xs @ ws.T
    if bias is not None:
        y += np.asarray(bias).reshape((1, -1) + (1,) * nd)
    return y


def naive_weight_grad(u, v, stride, pads, dilation, groups, kernel):
    """out[c1, c2, t] = sum over n, p of u[n, c1, p] * v[n, c2, p*s - pb + t*d] per group
    (zero where that index leaves v): u (N, G*C1g, *P), v (N, G*C2g, *L)."""
    c1g, c2g = u.shape[1] // groups, v.shape[1] // groups
    out = np.zeros((u.shape[1], c2g) + tuple(kernel))
    for p in itertools.product(*[range(n) for n in u.shape[2:]]):
        for t in itertools.product(*[range(k) for k in kernel]):
            l = [pp * s - pb + tt * d for pp, tt, s, d, (pb, _) in
                 zip(p, t, stride, dilation, pads)]
            if not all(0 <= ll < n for ll, n in zip(l, v.shape[2:])):
                continue
            for g in range(groups):
                us = u[(slice(None), slice(g * c1g, (g + 1) * c1g)) + p]          # (N, c1g)
                vs = v[(slice(None), slice(g * c2g, (g + 1) * c2g)) + tuple(l)]  # (N, c2g)
                out[(slice(g * c1g, (g + 1) * c1g), slice(None)) + t] += us.T @ vs
    return out
