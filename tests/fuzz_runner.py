"""Hypothesis fuzz of every public function; run by test_fuzz.py in a subprocess.

Usage: python fuzz_runner.py N_EXAMPLES SEED
Prints "fuzz: N cases, E expected errors" and exits 0; any exception other than
ValueError/TypeError/MemoryError naming the argument makes it exit non-zero, and a
crash kills only this process.
"""
import os
import sys
import warnings

import numpy as np
from hypothesis import HealthCheck, given, seed, settings, strategies as st

import deconv_core as dc

ARG_NAMES = ("input", "weight", "bias", "stride", "padding", "output_padding", "groups",
             "dilation", "output_size", "out", "num_threads", "input_size", "kernel_size",
             "shape", "grad_output", "output_mask")
DTYPES = [np.float32, np.float64, np.float16, np.int8, np.int64, np.uint8, np.bool_,
          np.complex64, object, "U1", np.longdouble]
counts = {"cases": 0, "errors": 0}

small = st.integers(0, 4)
huge = st.sampled_from([2**31, 2**40, 2**62, 2**63 - 1])
dim = st.one_of(small, small, small, huge)
scalar_arg = st.one_of(st.integers(-3, 5), huge, st.floats(0.5, 2.5), st.none(), st.booleans(),
                       st.just("2"), st.just("same"), st.just("valid"), st.just("full"))


def seq_arg(n):
    return st.one_of(scalar_arg,
                     st.lists(st.integers(-2, 5), min_size=0, max_size=4).map(tuple),
                     st.lists(st.tuples(st.integers(-1, 4), st.integers(-1, 4)),
                              min_size=n, max_size=n).map(tuple))


@st.composite
def array(draw, ndim_range):
    shape = tuple(draw(st.lists(dim, min_size=ndim_range[0], max_size=ndim_range[1])))
    dtype = draw(st.sampled_from(DTYPES))
    total = 1
    for s in shape:
        total *= s
    if total > 4096 or max(shape, default=0) > 4096 or draw(st.integers(0, 5)) == 0:
        # Huge (or just read-only): a zero-stride view over one element.
        try:
            return np.broadcast_to(np.zeros((), dtype=dtype), shape)
        except ValueError:  # NumPy itself refuses shapes beyond intp
            return np.zeros((1,) * len(shape), dtype=dtype)
    if dtype in (object, "U1"):
        return np.full(shape, "a", dtype=dtype)
    return _fill(draw, shape, dtype)


def check_error(exc):
    msg = str(exc)
    assert any(name in msg for name in ARG_NAMES), f"error does not name an argument: {msg!r}"


def run(fn, *args, **kwargs):
    counts["cases"] += 1
    # Read-only arrays (the huge broadcast views among them) cannot be modified.
    snapshot = [a.copy() if a.flags.writeable else a for a in args if isinstance(a, np.ndarray)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf in NaN tests
            res = fn(*args, **kwargs)
    except (ValueError, TypeError, MemoryError) as exc:
        counts["errors"] += 1
        check_error(exc)
        return None
    for before, after in zip(snapshot, [a for a in args if isinstance(a, np.ndarray)]):
        np.testing.assert_array_equal(after, before)
    return res


def _fill(draw, shape, dtype):
    """Small random data in ``dtype``, with NaN/Inf sometimes, in a random layout."""
    arr = np.array(np.random.default_rng(len(shape)).standard_normal(shape) * 3).astype(dtype)
    if arr.dtype.kind == "f" and arr.size and draw(st.integers(0, 3)) == 0:
        arr.flat[draw(st.integers(0, arr.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf, -np.inf]))
    layout = draw(st.sampled_from(["c", "f", "rev", "ro"]))
    if layout == "f":
        arr = np.asfortranarray(arr)
    elif layout == "rev" and arr.ndim:
        arr = arr[..., ::-1]
    elif layout == "ro":
        arr.flags.writeable = False
    return arr


@st.composite
def conv_case(draw):
    """A valid small call, then (half the time) one argument replaced by junk."""
    nd = draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(0, 2)), groups * draw(st.integers(0, 2))
    batch = draw(st.integers(0, 2))
    k = tuple(draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    dilation = tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd)))
    span = [d * (kk - 1) + 1 for kk, d in zip(k, dilation)]
    sizes = tuple(sp + draw(st.integers(0, 3)) for sp in span)
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float32, np.float64, np.float16,
                                  np.int64, np.bool_]))
    unbatched = draw(st.integers(0, 4)) == 0
    x = _fill(draw, ((c_in,) if unbatched else (batch, c_in)) + sizes, dtype)
    wshape = ((c_in, c_out // groups) if transposed else (c_out, c_in // groups)) + k
    w = _fill(draw, wshape, draw(st.sampled_from([dtype, np.float32, np.float64])))
    bias = _fill(draw, (c_out,), dtype) if draw(st.booleans()) else None
    kwargs = dict(stride=stride, dilation=dilation, groups=groups,
                  padding=draw(st.one_of(st.integers(0, 1), st.sampled_from(["same", "valid"]),
                                         st.just(tuple((0, 1) for _ in range(nd))))),
                  num_threads=draw(st.sampled_from([None, 1, 2, 64])))
    if transposed:
        kwargs["output_padding"] = tuple(draw(st.integers(0, max(s, d) - 1))
                                         for s, d in zip(stride, dilation))
    mutation = draw(st.integers(0, 9))
    if mutation == 0:
        x = draw(array((0, nd + 3)))
    elif mutation == 1:
        w = draw(array((nd, nd + 3)))
    elif mutation == 2:
        bias = draw(array((0, 2)))
    elif mutation == 3:
        key = draw(st.sampled_from(sorted(kwargs)))
        kwargs[key] = draw(seq_arg(nd))
    elif mutation == 4:
        kwargs["out"] = draw(st.one_of(array((nd + 1, nd + 2)), st.just([1.0])))
    elif mutation == 5 and transposed:
        kwargs["output_size"] = draw(seq_arg(nd))
    name = f"conv_transpose{nd}d" if transposed else f"conv{nd}d"
    return getattr(dc, name), x, w, bias, kwargs


@given(conv_case())
def fuzz_conv(case):
    fn, x, w, bias, kwargs = case
    res = run(fn, x, w, bias, **kwargs)
    if res is not None:
        assert res.dtype in (np.float32, np.float64)


@given(conv_case(), st.integers(0, 4), st.data())
def fuzz_backward(case, mutation, data):
    """The gradients of a fuzzed call: grad_output of the forward's shape (or junk), the
    output_mask (or junk)."""
    fn, x, w, _, kwargs = case
    kwargs = {k: v for k, v in kwargs.items() if k not in ("out", "output_size")}
    # every draw up front, whatever the forward does (hypothesis replays the draws)
    junk = data.draw(array((0, 5)))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    mask = data.draw(st.one_of(st.none(), st.just((1, 0, 1)), st.just((True, True)),
                               st.tuples(st.booleans(), st.booleans(), st.booleans())))
    if mutation != 1:
        mask = (True, True, True)
    y = run(fn, x, w, None, **kwargs)
    if y is None or not mutation:
        gy = junk
    elif y.size > 4096:   # huge: a zero-stride view, as array() makes
        gy = np.broadcast_to(np.ones((), dtype), y.shape)
    else:
        gy = np.ones(y.shape, dtype)
    res = run(getattr(dc, fn.__name__ + "_backward"), gy, x, w, output_mask=mask, **kwargs)
    if res is not None:
        for g, m, like in zip(res, mask, (np.asarray(x), np.asarray(w), None)):
            assert (g is None) == (not m)
            if g is not None and like is not None:
                assert g.shape == like.shape and g.dtype in (np.float32, np.float64)


@given(st.one_of(small, huge, st.lists(dim, max_size=4).map(tuple), st.just("x")),
       st.one_of(small, huge, st.lists(dim, max_size=4).map(tuple)),
       seq_arg(2), seq_arg(2), seq_arg(2), st.booleans())
def fuzz_sizes(n, k, stride, padding, dilation, transposed):
    if transposed:
        run(dc.conv_transpose_output_size, n, k, stride, padding, 0, dilation)
    else:
        run(dc.conv_output_size, n, k, stride, padding, dilation)


@given(array((1, 4)), array((1, 5)), seq_arg(2), seq_arg(2))
def fuzz_steps(image, kernel, stride, padding):
    run(dc.steps, image, kernel, stride, padding)


def _limit_address_space(gib=16):
    """Make oversized allocations fail here (MemoryError) instead of overcommitting
    and meeting the OOM killer: the fuzz then checks they surface cleanly."""
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (gib << 30, gib << 30))
    except (ImportError, ValueError, OSError):  # pragma: no cover - non-Linux
        pass


def main(n_examples, seed_value):
    if os.environ.get("DECONV_CORE_FUZZ_NO_RLIMIT") != "1":  # set under AddressSanitizer
        _limit_address_space()
    for fuzz in (fuzz_conv, fuzz_backward, fuzz_sizes, fuzz_steps):
        n = n_examples if fuzz is fuzz_conv else max(1, n_examples // (2 if fuzz is fuzz_backward
                                                                        else 4))
        configured = settings(max_examples=n, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))(fuzz)
        seed(seed_value)(configured)()
    print(f"fuzz: {counts['cases']} cases, {counts['errors']} expected errors, "
          f"backend {dc.backend()}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
