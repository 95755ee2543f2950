"""The call cache: what recent valid calls validated to, and each backend's runner
for them.

A call that repeats the shapes, dtypes and (plain int/str/tuple) arguments of an
earlier valid call has the same canonical geometry; the API asks here first
(:func:`cached_runner`) and runs the backend's prepared runner with no Python-level
work, and :func:`deconv_core._validation.prepare` reuses the geometry.
"""
import numpy as np

__all__ = ["key", "backward_key", "get", "put", "put_plan", "cached_runner"]

# by key(); cleared when full
_CACHE = {}
_CACHE_SIZE = 512


class _CachedCall:
    """A valid call's canonical geometry, its batched input and weight shapes, and
    per backend module the backend's runner of it (or None); a runner accepts
    ``num_threads`` up to ``max_threads``."""
    __slots__ = ("transposed", "geometry", "x_shape", "w_shape", "max_threads", "runners")

    def __init__(self, transposed, geometry, x_shape, w_shape, max_threads):
        self.transposed, self.geometry = transposed, geometry
        self.x_shape, self.w_shape = x_shape, w_shape
        self.max_threads = max_threads
        self.runners = {}

    def runner(self, impl):
        try:
            return self.runners[impl]
        except KeyError:
            pass
        make_runner = getattr(impl, "make_runner", None)
        run = None
        if make_runner is not None:
            dtype, stride, pads, dilation, groups, shape, unbatched = self.geometry
            run = make_runner(self.transposed, dtype, self.x_shape, self.w_shape, shape, stride,
                              pads, dilation, groups, unbatched, self.max_threads)
        self.runners[impl] = run
        return run


def key(fname, input, weight, bias, stride, padding, dilation, groups, output_padding):
    """What decides a call's canonical geometry, or None when an argument is not
    plain (its validation could depend on more than its value)."""
    if (type(input) is np.ndarray and type(weight) is np.ndarray
            and (bias is None or type(bias) is np.ndarray) and type(groups) is int
            and (type(stride) is int or _plain(stride))
            and (type(padding) is int or _plain(padding))
            and (type(dilation) is int or _plain(dilation))
            and (type(output_padding) is int or _plain(output_padding))):
        return (fname, input.shape, input.dtype, weight.shape, weight.dtype,
                None if bias is None else (bias.shape, bias.dtype),
                stride, padding, dilation, groups, output_padding)
    return None


def backward_key(fname, grad_output, input, weight, stride, padding, dilation, groups,
                 output_padding, output_mask):
    """:func:`key` of a gradient call: the forward's arguments, ``grad_output``'s shape
    and dtype and the output mask (a tuple of three bools), or None when not plain."""
    if type(grad_output) is not np.ndarray or type(output_mask) is not tuple:
        return None
    if len(output_mask) != 3:
        return None
    m0, m1, m2 = output_mask
    if type(m0) is not bool or type(m1) is not bool or type(m2) is not bool:
        return None
    k = key(fname, input, weight, None, stride, padding, dilation, groups, output_padding)
    if k is None:
        return None
    return k + (grad_output.shape, grad_output.dtype, output_mask)


def get(k):
    """The cached call of key ``k`` (None: not cached, or not a cacheable call)."""
    return _CACHE.get(k)


def put(k, transposed, geometry, x_shape, w_shape, max_threads):
    """Remember a validated call under key ``k``."""
    put_plan(k, _CachedCall(transposed, geometry, x_shape, w_shape, max_threads))


def put_plan(k, plan):
    """Remember what a validated call of key ``k`` resolved to (the caller's own
    record: a gradient call keeps its :class:`deconv_core._validation.BackwardPlan`)."""
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[k] = plan


def cached_runner(fname, impl, input, weight, bias, stride, padding, dilation, groups,
                  output_padding=0):
    """The runner backend ``impl`` made for an earlier valid call with the same cache
    key, or None (then the caller validates through ``_validation.prepare``).

    A runner returns the result, or None for inputs it cannot read in place.
    """
    entry = _CACHE.get(key(fname, input, weight, bias, stride, padding, dilation, groups,
                           output_padding))
    if entry is None:
        return None
    return entry.runner(impl)


def _plain(v):
    """An int, a str, or a tuple of ints / of int tuples: safe as a cache key part
    (unlike 2.0 or True, which compare equal to 2 and 1 but must be refused)."""
    t = type(v)
    if t is int or t is str:
        return True
    if t is not tuple:
        return False
    for item in v:
        ti = type(item)
        if ti is tuple:
            for p in item:
                if type(p) is not int:
                    return False
        elif ti is not int:
            return False
    return True
