"""The one validation path: every public function turns its arguments into a
canonical :class:`Call` here, before any work or allocation of the result.

Canonical form (what both backends receive):

* ``x``, ``w``: C-contiguous float32/float64 arrays, batched ``(N, C, *spatial)``;
* ``bias``: C-contiguous ``(C_out,)`` or None;
* ``stride``, ``dilation``: tuples of positive ints, one per spatial dim;
* ``pads``: one ``(before, after)`` pair per spatial dim. For transposed
  convolution ``after`` already has ``output_padding`` subtracted, so it may be
  negative (extra output positions at the end that no tap reaches);
* ``out``: a C-contiguous batched array the backend writes completely;
* ``num_threads``: a concrete positive int.
"""
import numbers
import os
from collections import namedtuple

import numpy as np

from . import _call_cache

__all__ = ["Call", "prepare", "BackwardCall", "prepare_backward", "per_dim", "canonical_padding", "output_sizes",
           "output_padding_per_dim", "check_allocatable", "padding_pairs", "result_shape"]

Call = namedtuple(
    "Call",
    "x w bias out stride pads dilation groups num_threads result",
)
Call.__doc__ = """Canonical arguments of one call; ``result`` is what the API returns
(``out`` itself, or its unbatched view)."""

# More threads than this is a mistake, not a request: OpenMP would try to start them
# all (and abort the process if it cannot).
MAX_THREADS = max(256, 4 * (os.cpu_count() or 1))

_PAD_FORMS = ("an int >= 0, one int per spatial dim, one (before, after) pair per "
              "spatial dim, 'valid' or 'same'")


def _is_int(v):
    if type(v) is int:  # the common case, without the ABC check
        return True
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def per_dim(fname, name, value, nd, minimum):
    """An int or a sequence of ``nd`` ints, each ``>= minimum``, as a tuple."""
    if type(value) is int:
        vals = (value,) * nd
    elif _is_int(value):
        vals = (int(value),) * nd
    else:
        try:
            vals = tuple(value)
        except TypeError:
            vals = None
        if vals is None or len(vals) != nd or not all(_is_int(v) for v in vals):
            raise TypeError(
                f"{fname}: {name}={value!r} must be an int or a sequence of {nd} ints "
                f"(one per spatial dim)")
        vals = tuple(int(v) for v in vals)
    if any(v < minimum for v in vals):
        raise ValueError(f"{fname}: {name}={value!r} must be >= {minimum} in every dimension")
    return vals


def _padding_pairs(fname, padding, nd):
    """Explicit padding (no strings) as ``nd`` ``(before, after)`` pairs."""
    bad = TypeError(f"{fname}: padding={padding!r} must be {_PAD_FORMS}")
    if _is_int(padding):
        pairs = ((int(padding),) * 2,) * nd
    else:
        try:
            items = tuple(padding)
        except TypeError:
            raise bad from None
        if len(items) != nd:
            raise bad
        pairs = []
        for item in items:
            if _is_int(item):
                pairs.append((int(item), int(item)))
                continue
            try:
                pair = tuple(item)
            except TypeError:
                raise bad from None
            if len(pair) != 2 or not all(_is_int(p) for p in pair):
                raise bad
            pairs.append((int(pair[0]), int(pair[1])))
        pairs = tuple(pairs)
    if any(p < 0 for pair in pairs for p in pair):
        raise ValueError(f"{fname}: padding={padding!r} must be >= 0 in every dimension")
    return pairs


padding_pairs = _padding_pairs


def result_shape(fname, nd, transposed, x_shape, w_shape, b_shape, dtype, stride, padding,
                 dilation, groups, output_padding=0, output_size=None):
    """Check a call from its operands' shapes and dtype alone (the framework bridges,
    before an array exists: a jax tracer, a torch fake tensor) exactly as the call
    itself checks them, and return the result's shape."""
    def stand_in(shape):  # zero strides: no memory behind the shape
        return None if shape is None else np.broadcast_to(np.zeros((), dtype), tuple(shape))
    *_, geometry = _geometry(fname, nd, transposed, stand_in(x_shape), stand_in(w_shape),
                             stand_in(b_shape), stride, padding, dilation, groups,
                             output_padding, output_size)
    shape, unbatched = geometry[5], geometry[6]
    return shape[1:] if unbatched else shape


def output_padding_per_dim(fname, output_padding, nd, stride, dilation):
    """``output_padding`` as a tuple; each must be smaller than stride or dilation."""
    op = per_dim(fname, "output_padding", output_padding, nd, 0)
    if any(o >= max(s, d) for o, s, d in zip(op, stride, dilation)):
        raise ValueError(f"{fname}: output_padding={output_padding!r} must be smaller than "
                         f"stride={stride} or dilation={dilation} in every dimension")
    return op


def _split_total(total):
    """ONNX SAME_UPPER / TensorFlow: the odd pixel goes at the end."""
    return (total // 2, total - total // 2)


def canonical_padding(fname, padding, nd, sizes, kernel, stride, dilation, transposed,
                      output_padding=None):
    """Padding as ``nd`` ``(before, after)`` pairs, with ``'same'`` resolved.

    The pairs are what is removed from the full result; ``output_padding`` is
    appended after them in every form (as ONNX does), so the output size is
    ``(in - 1)*stride - before - after + dilation*(k - 1) + 1 + output_padding``.

    For ``'same'`` in transposed mode the total is
    ``dilation*(k-1) + 1 + output_padding - stride`` (ONNX ``SAME_UPPER``: the
    output is exactly ``in*stride``, and ``output_padding`` shifts the kept window
    by moving padding from the start to the end). A negative total (stride wider
    than the kernel's span plus ``output_padding``) leaves the missing pixels at
    the end, where no tap reaches, as TensorFlow does (ONNX's reference evaluator
    and ONNX Runtime disagree with each other there).
    """
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * nd
        if mode != "same":
            raise ValueError(f"{fname}: padding={padding!r} must be {_PAD_FORMS}")
        pairs = []
        for n, k, s, d, op in zip(sizes, kernel, stride, dilation,
                                  output_padding or (0,) * nd):
            span = d * (k - 1) + 1
            if transposed:
                total = span + op - s
                pairs.append(_split_total(total) if total >= 0 else (0, total))
            else:
                out = -(-n // s)
                pairs.append(_split_total(max((out - 1) * s + span - n, 0)))
        return tuple(pairs)
    return _padding_pairs(fname, padding, nd)


def output_sizes(sizes, kernel, stride, pads, dilation, transposed):
    """Spatial output sizes for canonical arguments (may be <= 0: caller checks)."""
    res = []
    for n, k, s, (pb, pa), d in zip(sizes, kernel, stride, pads, dilation):
        span = d * (k - 1) + 1
        if transposed:
            res.append((n - 1) * s - pb - pa + span)
        else:
            res.append((n + pb + pa - span) // s + 1)
    return tuple(res)


def _as_array(fname, name, value):
    if isinstance(value, np.ndarray):
        arr = value
    elif hasattr(value, "__dlpack__") and not hasattr(value, "__array__"):
        try:
            arr = np.from_dlpack(value)
        except (TypeError, ValueError, RuntimeError, BufferError) as exc:
            raise TypeError(f"{fname}: {name} could not be read through DLPack "
                            f"({exc})") from None
    else:
        arr = np.asarray(value)
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{fname}: {name} has complex dtype {arr.dtype}; only real dtypes "
                        f"are supported (computed in float32 or float64)")
    if kind not in "biuf":
        raise TypeError(f"{fname}: {name} has dtype {arr.dtype}; expected a real numeric "
                        f"dtype (float32 and float64 are computed natively)")
    return arr


def result_dtype(*arrays):
    """NumPy promotion, landed on float32 or float64.

    float16 computes in float32; integers and bool in float64 (as NumPy's true
    division does); longdouble in float64.
    """
    dt = np.result_type(*arrays)
    # By kind and size, so byte-swapped floats ('>f4') keep their precision.
    if dt.kind == "f" and dt.itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _num_threads(fname, num_threads, default):
    if num_threads is None:
        return max(1, int(default()))
    if not _is_int(num_threads):
        raise TypeError(f"{fname}: num_threads={num_threads!r} must be None or a positive int")
    if not 1 <= num_threads <= MAX_THREADS:
        raise ValueError(f"{fname}: num_threads={num_threads!r} must be None or an int from 1 "
                         f"to {MAX_THREADS}")
    return int(num_threads)


def _physical_memory():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 46


_MEMORY_LIMIT = min(_physical_memory(), np.iinfo(np.intp).max)
_LARGE_REQUEST = 1 << 30


def _available():
    """MemAvailable (Linux); elsewhere the physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - non-Linux
        pass
    return _MEMORY_LIMIT


def _nbytes(shape, dtype):
    count = 1
    for s in shape:
        count *= s
    return count * dtype.itemsize


def check_allocatable(fname, what, shape, dtype):
    # NumPy refuses any shape whose non-zero dims multiply past intp, even an empty one.
    if _nbytes([s for s in shape if s], dtype) > np.iinfo(np.intp).max:
        raise ValueError(f"{fname}: {what} of shape {tuple(shape)} is larger than the "
                         f"largest array NumPy can describe")
    nbytes = _nbytes(shape, dtype)
    # Linux overcommits: np.empty of more than is free "succeeds" and the writes then
    # get the process killed. Large requests are checked against what is available now.
    limit = _MEMORY_LIMIT if nbytes < _LARGE_REQUEST else min(_MEMORY_LIMIT, _available())
    if nbytes > limit:
        raise MemoryError(
            f"{fname}: {what} of shape {tuple(shape)} and dtype {dtype} needs "
            f"{nbytes / 2**30:.3g} GiB, more than this machine's available memory "
            f"({limit / 2**30:.3g} GiB)")


def _needs_copy(arr, dtype):
    return arr.dtype != dtype or not arr.flags.c_contiguous or not arr.flags.aligned


def _compute_array(arr, dtype):
    """``arr`` as a C-contiguous, aligned array of ``dtype`` (itself when it is one).
    np.ascontiguousarray keeps a misaligned buffer, which the kernels must not read."""
    arr = np.ascontiguousarray(arr, dtype=dtype)
    return arr if arr.flags.aligned else arr.copy()


def _output_size_padding(fname, output_size, nd, base, stride, dilation):
    """The output_padding that reaches ``output_size`` (PyTorch's ``output_size=``)."""
    spatial = output_size
    if isinstance(output_size, (tuple, list, np.ndarray)) and len(output_size) > nd:
        spatial = tuple(output_size)[-nd:]  # a full shape: keep the spatial dims
    try:
        wanted = per_dim(fname, "output_size", spatial, nd, 0)
    except TypeError:
        raise TypeError(f"{fname}: output_size={output_size!r} must be a sequence of {nd} "
                        f"ints (or a full shape whose last {nd} dims are spatial)") from None
    ops = []
    for w_, b, s, d in zip(wanted, base, stride, dilation):
        hi = b + max(s, d) - 1
        if not b <= w_ <= hi:
            ranges = ", ".join(f"{b_}..{b_ + max(s_, d_) - 1}"
                               for b_, s_, d_ in zip(base, stride, dilation))
            raise ValueError(f"{fname}: output_size={output_size!r} is unreachable; with these "
                             f"arguments each spatial size must lie in ({ranges})")
        ops.append(w_ - b)
    return tuple(ops)


def _geometry(fname, nd, transposed, input, weight, bias, stride, padding, dilation, groups,
              output_padding=0, output_size=None):
    """Check every argument but ``out`` and ``num_threads``; the arrays (not yet of the
    compute dtype) and the canonical geometry ``(dtype, stride, pads, dilation, groups,
    shape, unbatched)``, ``shape`` being the batched result's."""
    if not _is_int(groups) or groups < 1:
        raise (TypeError if not _is_int(groups) else ValueError)(
            f"{fname}: groups={groups!r} must be a positive int")
    groups = int(groups)

    x = _as_array(fname, "input", input)
    w = _as_array(fname, "weight", weight)
    b = None if bias is None else _as_array(fname, "bias", bias)
    if x.ndim not in (nd + 1, nd + 2):
        raise ValueError(f"{fname}: input has shape {x.shape} (ndim {x.ndim}); expected "
                         f"(N, C_in, *{nd} spatial) or unbatched (C_in, *{nd} spatial), "
                         f"ndim {nd + 2} or {nd + 1}")
    unbatched = x.ndim == nd + 1
    if w.ndim != nd + 2:
        layout = "(C_in, C_out // groups" if transposed else "(C_out, C_in // groups"
        raise ValueError(f"{fname}: weight has shape {w.shape}; expected {layout}, "
                         f"*kernel) with ndim {nd + 2}")
    dtype = result_dtype(*[a for a in (x, w, b) if a is not None])

    stride = per_dim(fname, "stride", stride, nd, 1)
    dilation = per_dim(fname, "dilation", dilation, nd, 1)
    kernel = tuple(int(k) for k in w.shape[2:])
    sizes = tuple(int(n) for n in x.shape[-nd:])
    c_in = int(x.shape[-nd - 1])
    batch = 1 if unbatched else int(x.shape[0])
    if any(k < 1 for k in kernel):
        raise ValueError(f"{fname}: weight has shape {w.shape}; kernel sizes must be >= 1")
    if any(n < 1 for n in sizes):
        raise ValueError(f"{fname}: input has shape {x.shape}; spatial sizes must be >= 1")

    if transposed:
        if w.shape[0] != c_in:
            raise ValueError(f"{fname}: weight has shape {w.shape} but input has C_in={c_in} "
                             f"channels; weight must be (C_in, C_out // groups, *kernel)")
        if c_in % groups:
            raise ValueError(f"{fname}: groups={groups} must divide C_in={c_in}")
        c_out = int(w.shape[1]) * groups
    else:
        if w.shape[1] * groups != c_in:
            raise ValueError(f"{fname}: weight has shape {w.shape} but input has C_in={c_in} "
                             f"channels and groups={groups}; weight must be "
                             f"(C_out, C_in // groups, *kernel) with C_in divisible by groups")
        c_out = int(w.shape[0])
        if c_out % groups:
            raise ValueError(f"{fname}: groups={groups} must divide C_out={c_out} "
                             f"(weight.shape[0])")
    if b is not None and b.shape != (c_out,):
        raise ValueError(f"{fname}: bias has shape {b.shape}; expected ({c_out},) (C_out)")

    if transposed:
        op = output_padding_per_dim(fname, output_padding, nd, stride, dilation)
        if output_size is not None:
            if isinstance(padding, str) and padding.lower() == "same":
                raise ValueError(f"{fname}: output_size={output_size!r} cannot be combined "
                                 f"with padding='same' (which fixes output = input*stride)")
            if any(op):
                raise ValueError(f"{fname}: pass output_size={output_size!r} or "
                                 f"output_padding={output_padding!r}, not both")
        pads = canonical_padding(fname, padding, nd, sizes, kernel, stride, dilation, True, op)
        if output_size is not None:
            base = output_sizes(sizes, kernel, stride, pads, dilation, True)
            op = _output_size_padding(fname, output_size, nd, base, stride, dilation)
        pads = tuple((pb, pa - o) for (pb, pa), o in zip(pads, op))
        spatial = output_sizes(sizes, kernel, stride, pads, dilation, True)
        if any(o < 0 for o in spatial):  # 0 is an empty result, as in PyTorch
            raise ValueError(f"{fname}: padding={padding!r} is too large: the output would have "
                             f"spatial size {spatial}; every size must be >= 0")
    else:
        pads = canonical_padding(fname, padding, nd, sizes, kernel, stride, dilation, False)
        spatial = output_sizes(sizes, kernel, stride, pads, dilation, False)
        if any(o < 1 for o in spatial):
            span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
            padded = tuple(n + pb + pa for n, (pb, pa) in zip(sizes, pads))
            raise ValueError(f"{fname}: kernel of size {kernel} with dilation={dilation} "
                             f"(span {span}) is larger than the padded input {padded} "
                             f"(input {sizes}, padding={padding!r})")

    shape = (batch, c_out) + spatial
    return x, w, b, (dtype, stride, pads, dilation, groups, shape, unbatched)


def prepare(fname, nd, transposed, input, weight, bias, stride, padding, dilation, groups,
            output_padding=0, output_size=None, out=None, num_threads=None,
            default_threads=lambda: 1):
    """Validate every argument and return the canonical :class:`Call`.

    Nothing is allocated for the result before every check has passed; the
    only copies made are dtype/layout conversions of the inputs themselves.

    A call that repeats the shapes, dtypes and (plain int/str/tuple) arguments of
    an earlier valid call reuses that call's canonical geometry (``_call_cache``):
    what decided the geometry is the cache key, so the outcome is the same as
    validating anew.
    """
    key = None
    if out is None and output_size is None:
        key = _call_cache.key(fname, input, weight, bias, stride, padding, dilation, groups,
                              output_padding)
        entry = _call_cache.get(key)
        if entry is not None:
            return _materialize(input, weight, bias, None,
                                _num_threads(fname, num_threads, default_threads),
                                entry.geometry)
    num_threads = _num_threads(fname, num_threads, default_threads)
    x, w, b, g = _geometry(fname, nd, transposed, input, weight, bias, stride, padding,
                           dilation, groups, output_padding, output_size)
    dtype, stride, pads, dilation, groups, shape, unbatched = g
    result_shape = shape[1:] if unbatched else shape
    if out is not None:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"{fname}: out must be a numpy.ndarray, got {type(out).__name__}")
        if out.shape != result_shape:
            raise ValueError(f"{fname}: out has shape {out.shape}; expected {result_shape}")
        if out.dtype != dtype:
            raise ValueError(f"{fname}: out has dtype {out.dtype}; expected {dtype}")
        if not out.flags.c_contiguous:
            raise ValueError(f"{fname}: out must be C-contiguous")
        if not out.flags.writeable:
            raise ValueError(f"{fname}: out is read-only")
        for name, arr in (("input", x), ("weight", w), ("bias", b)):
            if arr is not None and np.may_share_memory(out, arr):
                raise ValueError(f"{fname}: out shares memory with {name}; "
                                 f"pass a separate array")
    else:
        check_allocatable(fname, "the result", shape, dtype)
    # Inputs are converted to contiguous arrays of the compute dtype; a broadcast
    # (zero-stride) view can be far larger than the memory behind it.
    for name, arr in (("input", x), ("weight", w), ("bias", b)):
        if arr is not None and _needs_copy(arr, dtype):
            check_allocatable(fname, f"a contiguous {dtype} copy of {name}", arr.shape, dtype)

    # small results only: large ones are checked against the memory available at each call
    if key is not None and max(_nbytes(shape, dtype), x.nbytes, w.nbytes) < _LARGE_REQUEST:
        _call_cache.put(key, transposed, g, (shape[0],) + tuple(x.shape[-nd - 1:]), w.shape,
                        MAX_THREADS)
    return _materialize(x, w, b, out, num_threads, g)


BackwardCall = namedtuple(
    "BackwardCall",
    "grad_output x w stride pads input_pads dilation groups num_threads "
    "grad_input grad_weight grad_bias results",
)
BackwardCall.__doc__ = """Canonical arguments of one gradient call: ``grad_output``, ``x`` and the
results batched and C-contiguous in the compute dtype, ``w`` C-contiguous; ``pads``
the forward's; ``input_pads`` those of the op that computes ``grad_input`` (the
forward convolution of ``grad_output`` for a transposed op, the transposed one for a
forward op: only the ``before`` part and the output size matter to the kernels);
``grad_*`` None where ``output_mask`` is False; ``results`` what the API returns."""


def _output_mask(fname, output_mask):
    try:
        mask = tuple(output_mask)
    except TypeError:
        mask = None
    if mask is None or len(mask) != 3 or not all(isinstance(m, (bool, np.bool_)) for m in mask):
        raise TypeError(f"{fname}: output_mask={output_mask!r} must be a sequence of 3 bools "
                        f"(grad_input, grad_weight, grad_bias)")
    return tuple(bool(m) for m in mask)


def prepare_backward(fname, nd, transposed, grad_output, input, weight, stride, padding,
                     dilation, groups, output_padding=0, output_mask=(True, True, True),
                     num_threads=None, default_threads=lambda: 1):
    """Validate a gradient call and return the canonical :class:`BackwardCall`.

    The forward's arguments are checked as the forward checks them; ``grad_output``
    must have the forward output's shape (batched or unbatched like ``input``). The
    results have the shapes of ``input``, ``weight`` and ``(C_out,)`` in the forward's
    compute dtype (``grad_output`` is converted to it), and nothing is allocated before
    every check has passed.
    """
    key = _call_cache.backward_key(fname, grad_output, input, weight, stride, padding,
                                   dilation, groups, output_padding, output_mask)
    plan = _call_cache.get(key) if key is not None else None
    if plan is not None:
        return _materialize_backward(grad_output, input, weight,
                                     _num_threads(fname, num_threads, default_threads), plan)
    num_threads = _num_threads(fname, num_threads, default_threads)
    mask = _output_mask(fname, output_mask)
    x, w, _, geometry = _geometry(fname, nd, transposed, input, weight, None, stride, padding,
                                  dilation, groups, output_padding)
    dtype, stride, pads, dilation, groups, shape, unbatched = geometry
    gy = _as_array(fname, "grad_output", grad_output)
    expected = shape[1:] if unbatched else shape
    if gy.shape != expected:
        raise ValueError(f"{fname}: grad_output has shape {gy.shape}; the forward's output has "
                         f"shape {expected} (input {x.shape}, weight {w.shape})")
    result_shapes = tuple(shp if m else None
                          for shp, m in zip((x.shape, w.shape, (shape[1],)), mask))
    for name, shp in zip(("grad_input", "grad_weight", "grad_bias"), result_shapes):
        if shp is not None:
            check_allocatable(fname, name, shp, dtype)
    for name, arr in (("input", x), ("weight", w), ("grad_output", gy)):
        if _needs_copy(arr, dtype):
            check_allocatable(fname, f"a contiguous {dtype} copy of {name}", arr.shape, dtype)
    sizes = x.shape[-nd:]
    spans = [d * (k - 1) + 1 for k, d in zip(w.shape[2:], dilation)]
    if transposed:   # grad_input = conv(grad_output): after-pads that cover every tap
        input_pads = tuple((pb, max(0, (n - 1) * s + sp - no - pb))
                           for n, no, s, sp, (pb, _) in zip(sizes, shape[2:], stride, spans, pads))
    else:            # grad_input = conv_transpose(grad_output) of the input's size
        input_pads = tuple((pb, (no - 1) * s + sp - pb - n)
                           for n, no, s, sp, (pb, _) in zip(sizes, shape[2:], stride, spans, pads))
    plan = BackwardPlan(dtype, stride, pads, input_pads, dilation, groups, unbatched,
                        result_shapes)
    # small calls only: large ones are checked against the memory available at each call
    if key is not None and max(_nbytes(x.shape, dtype), _nbytes(w.shape, dtype),
                               _nbytes(gy.shape, dtype)) < _LARGE_REQUEST:
        _call_cache.put_plan(key, plan)
    return _materialize_backward(gy, x, w, num_threads, plan)


BackwardPlan = namedtuple(
    "BackwardPlan", "dtype stride pads input_pads dilation groups unbatched result_shapes")
BackwardPlan.__doc__ = """What a checked gradient call resolved to, apart from its arrays:
``result_shapes`` of grad_input, grad_weight and grad_bias, None where not wanted."""


def _materialize_backward(gy, x, w, num_threads, plan):
    """Contiguous compute-dtype operands and the gradient arrays, for a checked call."""
    dtype, unbatched = plan.dtype, plan.unbatched
    x = _compute_array(x, dtype)
    gy = _compute_array(gy, dtype)
    if unbatched:
        x, gy = x[None], gy[None]
    w = _compute_array(w, dtype)
    gi_shape, gw_shape, gb_shape = plan.result_shapes
    gi = None if gi_shape is None else np.empty(gi_shape, dtype)
    gw = None if gw_shape is None else np.empty(gw_shape, dtype)
    gb = None if gb_shape is None else np.empty(gb_shape, dtype)
    results = (gi, gw, gb)
    if gi is not None and unbatched:
        gi = gi[None]
    return BackwardCall(gy, x, w, plan.stride, plan.pads, plan.input_pads, plan.dilation,
                        plan.groups, num_threads, gi, gw, gb, results)


def _materialize(x, w, b, out, num_threads, geometry):
    """Contiguous compute-dtype inputs and the output array, for a checked geometry."""
    dtype, stride, pads, dilation, groups, shape, unbatched = geometry
    x = _compute_array(x, dtype)
    if unbatched:
        x = x[None]
    w = _compute_array(w, dtype)
    if b is not None:
        b = _compute_array(b, dtype)
    if out is None:
        out = np.empty(shape, dtype=dtype)
        result = out[0] if unbatched else out
    else:
        result = out
        out = out[None] if unbatched else out
    return Call(x, w, b, out, stride, pads, dilation, groups, num_threads, result)
