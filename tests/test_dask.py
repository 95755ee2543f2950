"""deconv_core.dask: the ops over dask arrays equal the in-memory ops, lazily, with thin
halos, one weight key, bounded channel sums, no oversubscription, and on a cluster
(a worker killed mid-computation included)."""
import doctest
import itertools
import os
import subprocess
import sys
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array", reason="the dask extra is not installed "
                                              "(pip install 'deconv_core[dask]')")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
zarr = pytest.importorskip("zarr", reason="the dask extra is not installed")
import dask  # noqa: E402

import deconv_core  # noqa: E402
import deconv_core.dask as dd  # noqa: E402
from deconv_core import _backend  # noqa: E402
from deconv_core.dask import _block, _channels, _graph, _halo, _threads  # noqa: E402
from conftest import subprocess_env  # noqa: E402

OPS = {(t, nd): f"conv_transpose{nd}d" if t else f"conv{nd}d"
       for t in (True, False) for nd in (1, 2, 3)}


def _random_chunks(rng, n, small):
    """Irregular chunks of a dim of size ``n``; ``small``: many size-1 and 2 chunks
    (smaller than the kernel's reach)."""
    if n == 1:
        return (1,)
    if small:
        cuts = list(range(1, n, int(rng.integers(1, 3))))
    else:
        cuts = sorted(set(rng.integers(1, n, size=int(rng.integers(1, 4))).tolist()))
    b = [0] + cuts + [n]
    return tuple(hi - lo for lo, hi in zip(b[:-1], b[1:]))


def _padding(rng, form, nd):
    if form == "int":
        return int(rng.integers(0, 3))
    if form == "per-dim":
        return tuple(int(rng.integers(0, 3)) for _ in range(nd))
    if form == "pairs":
        return tuple((int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in range(nd))
    return form


def _case(seed, transposed, nd, form):
    """One seeded call: (name, x, chunks, weight, bias, kwargs), valid in memory."""
    rng = np.random.default_rng(seed)
    while True:
        groups = int(rng.choice([1, 1, 2, 3]))
        c_in, c_out = groups * int(rng.integers(1, 4)), groups * int(rng.integers(1, 3))
        batch = int(rng.integers(1, 3))
        sizes = tuple(int(rng.integers(2, 13 if nd < 3 else 7)) for _ in range(nd))
        kernel = tuple(int(rng.integers(1, 5)) for _ in range(nd))
        stride = tuple(int(rng.integers(1, 4)) for _ in range(nd))
        dilation = tuple(int(rng.integers(1, 3)) for _ in range(nd))
        dtype = np.float32 if rng.integers(2) else np.float64
        kw = dict(stride=stride, padding=_padding(rng, form, nd), dilation=dilation,
                  groups=groups)
        if transposed:
            w_shape = (c_in, c_out // groups) + kernel
            if form == "output_size":
                kw["padding"] = _padding(rng, "pairs", nd)
                base = deconv_core.conv_transpose_output_size(
                    sizes, kernel, stride, kw["padding"], 0, dilation)
                kw["output_size"] = tuple(
                    b_ + int(rng.integers(0, max(s, d)))
                    for b_, s, d in zip(base, stride, dilation))
            elif rng.integers(2):
                kw["output_padding"] = tuple(int(rng.integers(0, max(s, d)))
                                             for s, d in zip(stride, dilation))
        else:
            w_shape = (c_out, c_in // groups) + kernel
        x = rng.standard_normal((batch, c_in) + sizes).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = rng.standard_normal(c_out).astype(dtype) if rng.integers(2) else None
        try:
            getattr(deconv_core, OPS[(transposed, nd)])(x[:, :, ...], w, b, **kw)
        except ValueError:   # e.g. padding larger than the output: draw again
            continue
        small = bool(rng.integers(2))
        chunks = (_random_chunks(rng, batch, False), _random_chunks(rng, c_in, small)) + tuple(
            _random_chunks(rng, n, small) for n in sizes)
        return OPS[(transposed, nd)], x, chunks, w, b, kw


FORMS = ("int", "per-dim", "pairs", "valid", "same")
SWEEP = [(t, nd, form, seed) for t in (True, False) for nd in (1, 2, 3)
         for form in FORMS + (("output_size",) if t else ()) for seed in range(3)]


def _close(got, ref):
    tol = 2e-5 if ref.dtype == np.float32 else 1e-12
    scale = max(1.0, float(np.abs(ref).max(initial=0)))
    assert got.shape == ref.shape and got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * scale)


@pytest.mark.parametrize("transposed,nd,form,seed", SWEEP,
                         ids=[f"{OPS[(t, nd)]}-{f}-{s}" for t, nd, f, s in SWEEP])
def test_sweep_equals_in_memory(backend, transposed, nd, form, seed):
    name, x, chunks, w, b, kw = _case(
        1000 * nd + 100 * transposed + 10 * (FORMS + ("output_size",)).index(form) + seed,
        transposed, nd, form)
    ref = getattr(deconv_core, name)(x, w, b, **kw)
    y = getattr(dd, name)(da.from_array(x, chunks=chunks), w, b, **kw)
    assert y.shape == ref.shape and y.dtype == ref.dtype
    _close(y.compute(scheduler="sync"), ref)


@pytest.mark.parametrize("transposed", [True, False])
def test_channel_chunks_and_groups(backend, transposed, rng):
    """Channel chunks across group borders, inside groups and along them; batch chunks;
    the threaded scheduler; unbatched input."""
    for groups, c_in, channel_chunks in [(1, 9, (2, 3, 1, 1, 2)), (3, 9, (2, 4, 3)),
                                         (3, 9, (3, 3, 3)), (9, 9, (4, 5)), (2, 8, (1,) * 8)]:
        c_out = 2 * groups
        w_shape = (c_in, c_out // groups, 3, 2) if transposed else (c_out, c_in // groups, 3, 2)
        x = rng.standard_normal((3, c_in, 7, 6))
        w = rng.standard_normal(w_shape)
        b = rng.standard_normal(c_out)
        kw = dict(stride=2, padding=1, groups=groups)
        name = OPS[(transposed, 2)]
        ref = getattr(deconv_core, name)(x, w, b, **kw)
        xd = da.from_array(x, chunks=((1, 2), channel_chunks, (3, 4), (6,)))
        _close(getattr(dd, name)(xd, w, b, **kw).compute(scheduler="threads"), ref)
        ref1 = getattr(deconv_core, name)(x[0], w, b, **kw)
        _close(getattr(dd, name)(xd[0], w, b, **kw).compute(scheduler="sync"), ref1)


def test_dtype_promotion_and_mixed(backend, rng):
    """Other dtypes promote as in memory: int32 with float32 to float64, float16 to
    float32, float32 input with a float64 weight to float64."""
    for x_dtype, w_dtype, expected in [(np.int32, np.float32, np.float64),
                                       (np.float16, np.float16, np.float32),
                                       (np.float32, np.float64, np.float64)]:
        x = rng.integers(-3, 4, size=(1, 2, 9, 9)).astype(x_dtype)
        w = rng.standard_normal((2, 3, 3, 3)).astype(w_dtype)
        ref = deconv_core.conv_transpose2d(x, w, stride=2)
        y = dd.conv_transpose2d(da.from_array(x, chunks=(1, 2, 4, 5)), w, stride=2)
        assert y.dtype == ref.dtype == expected
        _close(y.compute(), ref)


def test_bit_for_bit_on_compiled_kernels(backend, rng):
    """Input channels in one chunk and blocks large enough for the whole call's kernel:
    the same bits (the README's claim)."""
    if backend != "compiled":
        pytest.skip("bit-for-bit is claimed for the compiled kernels only")
    cases = [("conv_transpose2d", (1, 8, 128, 128), (1, 8, 64, 48), (8, 8, 4, 4),
              dict(stride=2, padding=1)),
             ("conv_transpose2d", (1, 16, 64, 64), (1, 16, 32, 32), (16, 1, 3, 3),
              dict(stride=2, padding=1, groups=16)),
             ("conv_transpose3d", (1, 4, 16, 16, 16), (1, 4, 8, 8, 8), (4, 4, 4, 4, 4),
              dict(stride=2, padding=1)),
             ("conv2d", (1, 16, 64, 64), (1, 16, 32, 32), (32, 16, 3, 3),
              dict(padding=1, stride=2)),
             ("conv_transpose1d", (1, 4, 2048), (1, 4, 500), (4, 2, 16),
              dict(stride=4, padding=6))]
    for name, shape, chunks, w_shape, kw in cases:
        for dtype in (np.float32, np.float64):
            x = rng.standard_normal(shape).astype(dtype)
            w = rng.standard_normal(w_shape).astype(dtype)
            ref = getattr(deconv_core, name)(x, w, **kw)
            got = getattr(dd, name)(da.from_array(x, chunks=chunks), w, **kw).compute()
            assert np.array_equal(got, ref), (name, dtype)


# -- the index arithmetic -------------------------------------------------------------

def _reaching_inputs(o0, o1, size, k, s, d, before):
    """Brute force: the inputs of a transposed op that reach outputs [o0, o1)."""
    return {i for i in range(size) for t in range(k) if o0 <= i * s + t * d - before < o1}


def test_transposed_halo_is_one_sided_and_minimal(rng):
    for _ in range(300):
        size = int(rng.integers(1, 40))
        k, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
        before, after = int(rng.integers(0, 5)), int(rng.integers(-1, 4))
        out = (size - 1) * s - before - after + d * (k - 1) + 1
        if out < 1:
            continue
        in_b = _halo.bounds_of_chunks(_random_chunks(rng, size, bool(rng.integers(2))))
        out_b = _halo.transposed_bounds(in_b, out, s, before)
        assert out_b[0] == 0 and out_b[-1] == out and all(
            a < b for a, b in zip(out_b[:-1], out_b[1:]))
        for o0, o1 in zip(out_b[:-1], out_b[1:]):
            sp = _halo.transposed_span(o0, o1, size, k, s, d, (before, after))
            need = _reaching_inputs(o0, o1, size, k, s, d, before)
            if not need:
                assert sp.in_start == sp.in_stop
                continue
            assert sp.in_start <= min(need) and sp.in_stop == max(need) + 1
            # widened only to keep pad_before >= 0, never by more than a stride's gap
            assert sp.in_start >= min(min(need), (o0 + before) // s)
            assert sp.pad_before >= 0
            n = sp.in_stop - sp.in_start
            assert (n - 1) * s - sp.pad_before - sp.pad_after + d * (k - 1) + 1 == o1 - o0
            starts = [i * s - before for i in in_b[:-1]]
            if o0 > 0 and o0 in starts and o1 in starts[1:] + [out]:
                # a chunk that is its input chunk [i0, i1) times the stride: its inputs
                # lie in [i0 - floor(D/s), i1 - 1], the one-sided halo
                j = starts.index(o0)
                assert max(0, in_b[j] - d * (k - 1) // s) <= sp.in_start
                assert sp.in_stop <= in_b[j + 1] or o1 == out


def test_forward_halo_is_one_sided_and_minimal(rng):
    for _ in range(300):
        size = int(rng.integers(1, 40))
        k, s, d = int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
        before, after = int(rng.integers(0, 4)), int(rng.integers(0, 4))
        span = d * (k - 1) + 1
        if size + before + after < span:
            continue
        out = (size + before + after - span) // s + 1
        in_b = _halo.bounds_of_chunks(_random_chunks(rng, size, bool(rng.integers(2))))
        out_b = _halo.forward_bounds(in_b, out, s, before)
        for o0, o1 in zip(out_b[:-1], out_b[1:]):
            sp = _halo.forward_span(o0, o1, size, k, s, d, (before, after))
            reads = {o * s - before + t * d for o in range(o0, o1) for t in range(k)}
            reads = {i for i in reads if 0 <= i < size}
            if sp.in_start == sp.in_stop:
                assert not reads
                continue
            assert (sp.in_start, sp.in_stop) == (min(reads), max(reads) + 1)
            assert sp.pad_before >= 0 and sp.pad_after >= 0
            n = sp.in_stop - sp.in_start
            assert (n + sp.pad_before + sp.pad_after - span) // s + 1 == o1 - o0
            # the chunk owning the first tap: reads start in it, end at most D past it
            j = max(c for c in range(len(in_b) - 1) if in_b[c] <= max(o0 * s - before, 0))
            assert sp.in_start >= in_b[j] and sp.in_stop <= in_b[j + 1] + span - 1


def test_round_trip_chunking():
    """A transposed op's output chunks give back its input chunks under the forward op."""
    x = da.zeros((1, 2, 50, 37), chunks=(1, 2, (7, 13, 30), (10, 20, 7)))
    w = np.ones((2, 2, 4, 3))
    y = dd.conv_transpose2d(x, w, stride=(2, 3), padding=1)
    z = dd.conv2d(y, np.ones((2, 2, 4, 3)), stride=(2, 3), padding=1)
    assert z.chunks == x.chunks


# -- the graph ------------------------------------------------------------------------

def _counting(counter):
    def count(block):
        counter.append(1)
        return block
    return count


def test_building_computes_nothing(backend):
    calls = []
    x = da.from_array(np.ones((2, 4, 16, 16)), chunks=(1, 2, 5, 8)).map_blocks(
        _counting(calls), meta=np.empty((0,) * 4))   # a meta: dask need not call it
    w = np.ones((4, 3, 4, 4))
    y = dd.conv_transpose2d(x, w, np.ones(3), stride=2, padding=1)
    z = dd.conv2d(x, np.ones((3, 4, 3, 3)), padding="same")
    assert calls == [] and y.shape == (2, 3, 32, 32) and z.shape == (2, 3, 16, 16)
    y.compute(scheduler="sync")
    assert len(calls) == x.npartitions   # and each input block computed once


def _graph_values(y):
    return dict(y.__dask_graph__())


def test_weights_are_one_key(backend):
    w = np.random.default_rng(0).standard_normal((4, 3, 4, 4))
    x = da.ones((2, 4, 32, 32), chunks=(1, 2, 8, 8))
    y = dd.conv_transpose2d(x, w, np.ones(3), stride=2, padding=1)
    graph = _graph_values(y)
    holders = [k for k, v in graph.items() if isinstance(v, _block.Weights)]
    assert len(holders) == 1

    def arrays(obj):   # every ndarray a task carries in its arguments
        if isinstance(obj, np.ndarray):
            yield obj
        elif isinstance(obj, (tuple, list)):
            for o in obj:
                yield from arrays(o)
    others = [a for k, v in graph.items() if k not in holders for a in arrays(v)]
    assert not any(a.size >= w.size for a in others)


def test_halos_are_pieces_not_chunks():
    """A block depends on its own input chunk and on halo pieces cut where the neighbours
    are (so a cluster moves a few rows, not a neighbour's chunk)."""
    x = da.ones((1, 2, 32, 32), chunks=(1, 2, 8, 8))
    y = dd.conv_transpose2d(x, np.ones((2, 2, 4, 4)), stride=2, padding=1)
    graph = _graph_values(y)
    deps = dask.core.get_dependencies
    for key in graph:
        if isinstance(key, tuple) and key[0] == y.name:
            chunks = [d for d in deps(graph, key) if isinstance(d, tuple) and d[0] == x.name]
            pieces = [d for d in deps(graph, key) if isinstance(d, tuple)
                      and d[0].endswith("-piece")]
            assert len(chunks) == 1
            assert len(pieces) == (key[3] > 0) + (key[4] > 0) + (key[3] > 0 and key[4] > 0)


def test_channel_sum_is_a_bounded_tree(backend, rng):
    x_np = rng.standard_normal((1, 16, 6, 6))
    w = rng.standard_normal((16, 4, 3, 3))
    x = da.from_array(x_np, chunks=(1, 1, 3, 6))     # 16 channel chunks, one group
    y = dd.conv_transpose2d(x, w, stride=2)
    deps = dask.core.get_dependencies
    graph = _graph_values(y)
    sums = [k for k in graph if isinstance(k, tuple) and "-sum" in k[0]]
    assert sums   # 16 parts: a tree, not one 16-way sum
    for key in graph:
        if key in sums or (isinstance(key, tuple) and key[0] == y.name):
            parts = [d for d in deps(graph, key) if not isinstance(graph.get(d), _block.Weights)]
            assert len(parts) <= _graph.SPLIT_EVERY
    _close(y.compute(), deconv_core.conv_transpose2d(x_np, w, stride=2))


def test_segments_follow_groups():
    segs = _channels.segments([0, 3, 6, 9, 12], groups=4, c_in=12, c_out=8)
    assert [(s.out_lo, s.out_hi) for s in segs] == [(0, 2), (2, 4), (4, 6), (6, 8)]
    segs = _channels.segments([0, 2, 7, 12], groups=4, c_in=12, c_out=8)
    assert [(s.out_lo, s.out_hi, s.chunks) for s in segs] == [(0, 8, (0, 1, 2))]


# -- threads ----------------------------------------------------------------------------

def _record_threads(monkeypatch, backend):
    impl = _backend.load(backend)
    seen = []
    for op in ("conv_transpose", "conv"):
        real = getattr(impl, op)

        def spy(*args, _real=real):
            seen.append(args[-1])
            return _real(*args)
        monkeypatch.setattr(impl, op, spy)
    return impl, seen


def test_threads_never_oversubscribe_by_default(backend, monkeypatch):
    impl, seen = _record_threads(monkeypatch, backend)
    cores = int(impl.max_threads())
    x = da.ones((1, 2, 32, 32), chunks=(1, 2, 8, 8))
    w = np.ones((2, 2, 3, 3))
    with dask.config.set(num_workers=2):
        dd.conv_transpose2d(x, w, stride=2).compute(scheduler="threads")
    assert seen and set(seen) == {max(1, cores // 2)}
    seen.clear()
    dd.conv2d(x, w).compute(scheduler="sync")      # one task at a time: every core
    assert set(seen) == {cores}
    seen.clear()
    dd.conv2d(x, w, num_threads=3).compute(scheduler="threads")
    assert set(seen) == {3}


def test_parallel_tasks_per_scheduler():
    x = da.zeros(4, chunks=1)

    def probe(block):
        return np.full(block.shape, _threads.parallel_tasks())
    assert set(x.map_blocks(probe).compute(scheduler="sync")) == {1}
    with dask.config.set(num_workers=3):
        assert set(x.map_blocks(probe).compute(scheduler="threads")) == {3}


# -- errors -----------------------------------------------------------------------------

BAD = [
    (dict(stride=0), ValueError, "stride=0"),
    (dict(stride=(2, 2, 2)), TypeError, "stride=(2, 2, 2)"),
    (dict(padding="full"), ValueError, "padding='full'"),
    (dict(padding=((1, 2),)), TypeError, "padding=((1, 2),)"),
    (dict(output_padding=2, stride=2), ValueError, "output_padding=2"),
    (dict(output_size=(40, 40)), ValueError, "output_size=(40, 40)"),
    (dict(groups=3), ValueError, "groups=3"),
    (dict(dilation=-1), ValueError, "dilation=-1"),
    (dict(num_threads=0), ValueError, "num_threads=0"),
    (dict(num_threads=1.5), TypeError, "num_threads=1.5"),
]


@pytest.mark.parametrize("kwargs,exc,text", BAD, ids=[t for _, _, t in BAD])
def test_bad_arguments_are_the_in_memory_errors(kwargs, exc, text):
    x = np.ones((1, 4, 8, 8))
    w = np.ones((4, 2, 3, 3))
    with pytest.raises(exc) as in_memory:
        deconv_core.conv_transpose2d(x, w, **kwargs)
    with pytest.raises(exc) as lazy:
        dd.conv_transpose2d(da.from_array(x, chunks=4), w, **kwargs)
    assert str(lazy.value) == str(in_memory.value)
    assert str(lazy.value).startswith("conv_transpose2d: ") and text in str(lazy.value)


def test_bad_inputs():
    w = np.ones((4, 2, 3, 3))
    with pytest.raises(TypeError, match=r"conv_transpose2d: input must be a dask.array.Array"
                                        r".*numpy.ndarray"):
        dd.conv_transpose2d(np.ones((1, 4, 8, 8)), w)
    with pytest.raises(ValueError, match="weight has shape .* but input has C_in=3"):
        dd.conv_transpose2d(da.ones((1, 3, 8, 8)), w)
    with pytest.raises(ValueError, match="bias has shape"):
        dd.conv2d(da.ones((1, 2, 8, 8)), w, np.ones(3))
    x = da.ones((1, 4, 8, 8))
    unknown = x[x[:, 0, 0, 0] > 0]
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        dd.conv_transpose2d(unknown, w)
    with pytest.raises(TypeError, match="input has complex dtype"):
        dd.conv2d(da.ones((1, 4, 8, 8), dtype=complex), np.ones((2, 4, 3, 3)))


# -- docs ---------------------------------------------------------------------------------

def test_docstring_examples(backend):
    from deconv_core.dask import apply
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner()
    tests = []
    for module in (dd, _halo, _channels):
        for name in module.__all__:
            tests += finder.find(getattr(module, name), name, globs=dict(vars(module)))
    tests += finder.find(apply.apply_zarr, "apply_zarr", globs={})
    for t in tests:
        runner.run(t)
    assert runner.summarize(verbose=False).failed == 0
    assert sum(bool(t.examples) for t in tests) >= 10


def test_import_deconv_core_imports_no_dask():
    code = ("import sys, deconv_core, deconv_core.api, deconv_core.sizes; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed', 'zarr')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=subprocess_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]", proc.stdout


# -- clusters and zarr ----------------------------------------------------------------------

def _zarr_input(path, rng, shape, chunks):
    z = zarr.create_array(store=str(path), shape=shape, chunks=chunks, dtype="f4")
    z[:] = rng.standard_normal(shape).astype(np.float32)
    return z


def test_local_cluster_threads_zarr_to_zarr(backend, tmp_path, rng):
    from deconv_core.dask.apply import apply_zarr
    src = _zarr_input(tmp_path / "in.zarr", rng, (1, 3, 12, 10, 9), (1, 3, 5, 4, 9))
    w = rng.standard_normal((3, 2, 4, 4, 3)).astype(np.float32)
    b = rng.standard_normal(2).astype(np.float32)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        out = apply_zarr(str(tmp_path / "in.zarr"), str(tmp_path / "out.zarr"), w, b,
                         transposed=True, stride=2, padding=1, scheduler=client,
                         progress=False)
        # and the public function, computed on the cluster
        y = dd.conv_transpose3d(da.from_zarr(src), w, b, stride=2, padding=1)
        lazy = client.compute(y).result()
    ref = deconv_core.conv_transpose3d(src[:], w, b, stride=2, padding=1)
    got = zarr.open_array(out, mode="r")
    assert got.shape == ref.shape and got.chunks == (1, 2, 10, 8, 17)   # 17: one chunk
    _close(got[:], ref)
    _close(lazy, ref)


@pytest.fixture(scope="module")
def process_cluster():
    """Two worker processes (the module's helper functions pickled by value: the
    workers do not have the tests on their path)."""
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, memory_limit="1GiB") as cluster, \
            distributed.Client(cluster) as client:
        yield cluster, client
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_process_cluster_zarr_to_zarr(backend, tmp_path, rng, process_cluster):
    from deconv_core.dask.apply import apply_zarr
    _, client = process_cluster
    src = _zarr_input(tmp_path / "in.zarr", rng, (2, 4, 20, 24), (1, 4, 8, 8))
    w = rng.standard_normal((6, 2, 5, 5)).astype(np.float32)
    out = apply_zarr(str(tmp_path / "in.zarr"), str(tmp_path / "out.zarr"), w,
                     padding="same", groups=2, scheduler=client, progress=False)
    _close(zarr.open_array(out, mode="r")[:],
           deconv_core.conv2d(src[:], w, padding="same", groups=2))
    # in the workers' tasks: the backend under test, one kernel thread per task
    name = _backend.backend()
    probes = client.gather([client.submit(
        lambda i: (_backend.load(name).__name__, _threads.task_threads(
            None, _backend.load(name))), i, pure=False) for i in range(4)])
    assert set(probes) == {(_backend.load(name).__name__, 1)}


def _slow(block):
    time.sleep(0.15)
    return block


def test_worker_killed_mid_computation(backend, rng, process_cluster):
    import signal
    cluster, client = process_cluster
    x_np = rng.standard_normal((1, 2, 48, 32)).astype(np.float32)
    w = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    x = da.from_array(x_np, chunks=(1, 2, 8, 8)).map_blocks(_slow, dtype=np.float32)
    y = dd.conv_transpose2d(x, w, stride=2, padding=1)
    future = client.compute(y)
    deadline = time.monotonic() + 30
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)           # some blocks done, some running
    assert not future.done()
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    got = future.result(timeout=120)
    _close(got, deconv_core.conv_transpose2d(x_np, w, stride=2, padding=1))
    client.wait_for_workers(2, timeout=60)   # the nanny restarted it, for later tests
    assert pids[victim] not in client.run(os.getpid).values()   # it did die
