"""Torch references for the gradient and bridge tests: the padding forms resolved
independently of the package, the forward built from padding-free torch ops (the full
transposed convolution then a crop / zero extension; zero padding then the
convolution), and random cases of every argument form."""
import numpy as np
import pytest

import deconv_core as dc

torch = pytest.importorskip("torch")
F = torch.nn.functional


def resolve_pads(padding, transposed, sizes, kernel, stride, dilation, output_padding):
    """(before, after) per dim as SPEC.md defines the forms; for the transposed op
    ``after`` has output_padding subtracted (it may be negative)."""
    nd = len(sizes)
    if isinstance(padding, str):
        pairs = []
        for n, k, s, d, op in zip(sizes, kernel, stride, dilation, output_padding):
            span = d * (k - 1) + 1
            if padding == "valid":
                pairs.append((0, 0))
            elif transposed:
                total = span + op - s
                pairs.append((total // 2, total - total // 2) if total >= 0 else (0, total))
            else:
                total = max((-(-n // s) - 1) * s + span - n, 0)
                pairs.append((total // 2, total - total // 2))
    elif isinstance(padding, int):
        pairs = [(padding, padding)] * nd
    else:
        pairs = [(p, p) if isinstance(p, int) else tuple(p) for p in padding]
    if transposed:
        pairs = [(pb, pa - op) for (pb, pa), op in zip(pairs, output_padding)]
    return pairs


def torch_forward(transposed, x, w, b, stride, pairs, dilation, groups):
    nd = x.dim() - 2
    if transposed:
        full = getattr(F, f"conv_transpose{nd}d")(x, w, b, stride=stride, dilation=dilation,
                                                  groups=groups)
        y = full
        for j, (pb, pa) in enumerate(pairs):
            length = full.shape[2 + j]
            keep = length - pb - pa
            y = y.narrow(2 + j, pb, min(keep, length - pb))
            if keep > length - pb:   # output padding past the taps: only the bias
                extra = list(y.shape)
                extra[2 + j] = keep - (length - pb)
                fill = torch.zeros(extra, dtype=y.dtype)
                if b is not None:
                    fill = fill + b.reshape((1, -1) + (1,) * nd)
                y = torch.cat([y, fill], dim=2 + j)
        return y
    pad = []
    for pb, pa in reversed(pairs):
        pad += [pb, pa]
    return getattr(F, f"conv{nd}d")(F.pad(x, pad), w, b, stride=stride, dilation=dilation,
                                    groups=groups)


def make_case(rng, transposed, nd, dtype, *, unbatched=False):
    groups = int(rng.choice([1, 1, 2, 3]))
    depthwise = rng.random() < 0.2
    cin_g, cout_g = (1, 1) if depthwise else (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    k = tuple(int(v) for v in rng.integers(1, 4, nd))
    s = tuple(int(v) for v in rng.integers(1, 4, nd))
    d = tuple(int(v) for v in rng.integers(1, 3, nd))
    sizes = tuple(int(v) for v in rng.integers(2, {1: 9, 2: 6, 3: 4}[nd], nd))
    form = rng.choice(["int", "dims", "pairs", "same", "valid"])
    if form == "int":
        padding = int(rng.integers(0, 3))
    elif form == "dims":
        padding = tuple(int(rng.integers(0, 3)) for _ in range(nd))
    elif form == "pairs":
        padding = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd))
    else:
        padding = str(form)
    op = tuple(int(rng.integers(0, max(ss, dd))) if transposed and rng.random() < 0.4 else 0
               for ss, dd in zip(s, d))
    x = rng.standard_normal((2, groups * cin_g) + sizes).astype(dtype)
    if unbatched:
        x = x[0]
    if transposed:
        w = rng.standard_normal((groups * cin_g, cout_g) + k).astype(dtype)
    else:
        w = rng.standard_normal((groups * cout_g, cin_g) + k).astype(dtype)
    pairs = resolve_pads(padding, transposed, sizes, k, s, d, op)
    return dict(x=x, w=w, stride=s, padding=padding, dilation=d, groups=groups,
                output_padding=op, pairs=pairs, unbatched=unbatched)


def forward_of(c, transposed):
    nd = c["w"].ndim - 2
    if transposed:
        return getattr(dc, f"conv_transpose{nd}d")(
            c["x"], c["w"], stride=c["stride"], padding=c["padding"],
            output_padding=c["output_padding"], groups=c["groups"], dilation=c["dilation"])
    return getattr(dc, f"conv{nd}d")(c["x"], c["w"], stride=c["stride"], padding=c["padding"],
                                     dilation=c["dilation"], groups=c["groups"])


def backward_of(c, transposed, gy, **kw):
    nd = c["w"].ndim - 2
    if transposed:
        return getattr(dc, f"conv_transpose{nd}d_backward")(
            gy, c["x"], c["w"], stride=c["stride"], padding=c["padding"],
            output_padding=c["output_padding"], groups=c["groups"], dilation=c["dilation"], **kw)
    return getattr(dc, f"conv{nd}d_backward")(
        gy, c["x"], c["w"], stride=c["stride"], padding=c["padding"], dilation=c["dilation"],
        groups=c["groups"], **kw)


def valid_case(rng, transposed, nd, dtype, **kw):
    while True:
        c = make_case(rng, transposed, nd, dtype, **kw)
        try:
            y = forward_of(c, transposed)
        except ValueError:      # padding too large for this draw
            continue
        if y.size:
            return c, y
