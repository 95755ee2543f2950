"""deconv_core.dask at scale: its overhead against one in-memory call, a zarr-to-zarr
up-sampling larger than the workers' memory, and dask-image's correlate.

    python benchmarks/dask_scale.py                 # all three parts (~3 min, ~10 GiB disk)
    python benchmarks/dask_scale.py --part overhead --size 2048

(a) overhead: a 1 x 8 x S x S float32 input, kernel 4, stride 2, padding 1, 8 -> 8
    channels. One in-memory ``conv_transpose2d`` call (2 threads) against the same op
    chunked, run by dask's threaded scheduler and by a 2-worker
    ``distributed.LocalCluster`` (1 thread each, input generated and kept on the
    workers): streamed (each block reduced to one value as soon as it is made, as a
    writer to disk consumes them), kept in memory (persist), or stored into one array.
    GFLOP/s = 2 * C_in * C_out * S^2 * 16 / time.
(b) scale: a single-channel 3-D volume zarr -> zarr, up-sampled by 2 (kernel 4,
    padding 1, so 8x the voxels), on 2 workers of ``--worker-memory`` each, input plus
    output at least 4x their total memory_limit. Peak RSS per worker (polled), time,
    throughput, and whether a worker paused, spilled or restarted.
(c) dask-image: a single-channel 2-D 'same' correlation (9 x 9) of an S' x S' float32
    image, ``deconv_core.dask.conv2d`` against ``dask_image.ndfilters.correlate(mode=
    'constant')`` on the same chunks, threaded scheduler; results compared.

Times are medians of ``--repeat`` runs. The machine is shared: keep runs short.
"""
import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time

import numpy as np

import deconv_core
import deconv_core.dask as dd


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        del result
    return statistics.median(times)


def _cluster(n_workers, memory_limit):
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           memory_limit=memory_limit, dashboard_address=None)
    return cluster, Client(cluster)


def _corner(block):
    """A block's first value, copied: the block itself is freed as soon as it is made."""
    return block[(slice(0, 1),) * block.ndim].copy()


def _streamed(y):
    """``y`` consumed block by block (each reduced to one value), as a writer to disk
    would: the memory of each block is reused at once."""
    return y.map_blocks(_corner, chunks=tuple((1,) * len(c) for c in y.chunks),
                        dtype=y.dtype)


def overhead(size, repeat, chunk_sizes):
    import dask
    import dask.array as da
    from distributed import wait
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 8, size, size), dtype=np.float32)
    w = rng.standard_normal((8, 8, 4, 4), dtype=np.float32)
    flops = 2 * 8 * 8 * size * size * 16
    kw = dict(stride=2, padding=1)
    rows = []
    t_mem = _median_time(lambda: deconv_core.conv_transpose2d(x, w, **kw), repeat)
    rows.append(("in memory, one call (new array)", None, t_mem))
    out = np.empty((1, 8, 2 * size, 2 * size), np.float32)
    rows.append(("in memory, one call (out=)", None, _median_time(
        lambda: deconv_core.conv_transpose2d(x, w, out=out, **kw), repeat)))
    for c in chunk_sizes:
        y = dd.conv_transpose2d(da.from_array(x, chunks=(1, 8, c, c)), w, **kw)
        rows.append(("threads, streamed", c, _median_time(
            lambda: _streamed(y).compute(scheduler="threads"), repeat)))
        rows.append(("threads, blocks kept in memory", c, _median_time(
            lambda: dask.persist(y, scheduler="threads"), repeat)))
        rows.append(("threads, stored into one array", c, _median_time(
            lambda: da.store(y, out, lock=False, scheduler="threads"), repeat)))
    del x, out
    cluster, client = _cluster(2, "6GiB")
    with cluster, client:
        for c in chunk_sizes:
            xc = da.random.default_rng(0).standard_normal(
                (1, 8, size, size), chunks=(1, 8, c, c), dtype=np.float32).persist()
            wait(xc)
            y = dd.conv_transpose2d(xc, w, **kw)
            rows.append(("LocalCluster 2 workers x 1 thread, streamed", c, _median_time(
                lambda: client.compute(_streamed(y)).result(), repeat)))
            held = _held_keys(client)
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                yp = client.persist(y)
                wait(yp)
                times.append(time.perf_counter() - t0)
                del yp
                _wait_released(client, held)   # or the next persist finds the blocks
            rows.append(("LocalCluster 2 workers x 1 thread, kept", c,
                         statistics.median(times)))
            del xc
    print(f"\n### (a) overhead: 1 x 8 x {size} x {size} float32, kernel 4, stride 2, "
          f"padding 1, 8 -> 8 channels ({flops / 1e9:.1f} GFLOP)\n")
    print("| run | chunks | s | GFLOP/s | x in-memory call |")
    print("|---|--:|--:|--:|--:|")
    for name, c, t in rows:
        chunks = "-" if c is None else f"{c} x {c}"
        print(f"| {name} | {chunks} | {t:.3f} | {flops / t / 1e9:.1f} | {t_mem / t:.2f} |")


def _held_keys(client):
    return {k for keys in client.has_what().values() for k in keys}


def _wait_released(client, held, timeout=30):
    deadline = time.monotonic() + timeout
    while _held_keys(client) - held and time.monotonic() < deadline:
        time.sleep(0.02)


class _Monitor:
    """Polls the workers' RSS, status and spilled bytes while a computation runs."""

    def __init__(self, client, interval=0.25):
        self.client, self.interval = client, interval
        self.peak, self.statuses, self.spilled = {}, set(), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        import psutil
        while not self._stop.is_set():
            try:
                rss = self.client.run(lambda: psutil.Process().memory_info().rss)
                for addr, r in rss.items():
                    self.peak[addr] = max(self.peak.get(addr, 0), r)
                for info in self.client.scheduler_info()["workers"].values():
                    self.statuses.add(info.get("status", "?"))
                    spilled = info.get("metrics", {}).get("spilled_bytes", {})
                    self.spilled = max(self.spilled, sum(spilled.values()) if spilled else 0)
            except Exception:   # a worker restarting: counted by the pids
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def scale(worker_memory, factor, tmp):
    import dask.array as da
    import zarr
    from deconv_core.dask.apply import apply_zarr
    limit = _gib(worker_memory)
    total_limit = 2 * limit
    # input + output = 9 x input (8x voxels out): at least `factor` x the total limit
    in_bytes = factor * total_limit / 9
    edge = 128
    n_chunks = max(1, int(np.ceil(in_bytes / (4 * edge ** 3))))
    z = max(1, round(n_chunks / 16))   # a volume of z x 4 x 4 chunks of 128^3
    shape = (1, 1, z * edge, 4 * edge, 4 * edge)
    in_gib = 4 * np.prod(shape) / 2 ** 30
    need = 9 * in_gib * 1.1
    free = shutil.disk_usage(tmp).free / 2 ** 30
    note = ""
    if free < need:
        scale_down = free / need * 0.8
        shape = (1, 1, max(edge, int(shape[2] * scale_down) // edge * edge)) + shape[3:]
        in_gib = 4 * np.prod(shape) / 2 ** 30
        note = (f" (scaled down: {free:.0f} GiB free under {tmp}, {need:.0f} GiB needed "
                f"for the planned size)")
    src, dst = os.path.join(tmp, "volume.zarr"), os.path.join(tmp, "volume_x2.zarr")
    w = np.random.default_rng(1).standard_normal((1, 1, 4, 4, 4), dtype=np.float32)
    cluster, client = _cluster(2, worker_memory)
    with cluster, client:
        vol = da.random.default_rng(0).standard_normal(shape, chunks=(1, 1) + (edge,) * 3,
                                                       dtype=np.float32)
        t0 = time.perf_counter()
        vol.to_zarr(src, overwrite=True)
        t_write = time.perf_counter() - t0
        pids = client.run(os.getpid)
        with _Monitor(client) as mon:
            t0 = time.perf_counter()
            apply_zarr(src, dst, w, transposed=True, stride=2, padding=1, scheduler=client,
                       progress=False, overwrite=True)
            t = time.perf_counter() - t0
        restarted = client.run(os.getpid) != pids
        logs = client.get_worker_logs() | client.get_worker_logs(nanny=True)
        text = "\n".join(msg for entries in logs.values() for _, msg in entries)
    out = zarr.open_array(dst, mode="r")
    out_gib = 4 * np.prod(out.shape) / 2 ** 30
    disk_out = _du(dst) / 2 ** 30
    flops = 2 * 64 * np.prod(shape)
    print(f"\n### (b) scale: {shape} float32 volume (zarr, chunks 128^3) up-sampled by 2 "
          f"(kernel 4, padding 1) on 2 workers x 1 thread, memory_limit "
          f"{worker_memory} each{note}\n")
    print(f"- input {in_gib:.2f} GiB + output {out_gib:.2f} GiB = "
          f"{(in_gib + out_gib) / (total_limit / 2 ** 30):.1f}x the workers' total "
          f"memory_limit ({total_limit / 2 ** 30:.0f} GiB); output shape {out.shape}, "
          f"chunks {out.chunks}, {disk_out:.2f} GiB on disk (zstd)")
    print(f"- time {t:.1f} s: {out_gib / t * 1024:.0f} MiB/s of output, "
          f"{np.prod(shape) / t / 1e6:.0f} M input voxels/s, {flops / t / 1e9:.1f} GFLOP/s "
          f"(writing the input took {t_write:.1f} s)")
    peaks = ", ".join(f"{p / 2 ** 20:.0f} MiB" for p in sorted(mon.peak.values()))
    print(f"- peak RSS per worker: {peaks} (limit {limit / 2 ** 20:.0f} MiB; pause at 80%)")
    paused = "paused" in mon.statuses or "Pausing worker" in text
    print(f"- paused: {'yes' if paused else 'no'}; spilled: "
          f"{mon.spilled / 2 ** 20:.0f} MiB; restarted: {'yes' if restarted else 'no'}; "
          f"worker statuses seen: {', '.join(sorted(mon.statuses))}")
    shutil.rmtree(src, ignore_errors=True)
    shutil.rmtree(dst, ignore_errors=True)


def versus_dask_image(size, chunk, repeat):
    import dask
    import dask.array as da
    from importlib.metadata import version
    from dask_image.ndfilters import correlate
    rng = np.random.default_rng(0)
    img = rng.standard_normal((size, size), dtype=np.float32)
    k = rng.standard_normal((9, 9), dtype=np.float32)
    x = da.from_array(img, chunks=(chunk, chunk))
    ours = dd.conv2d(x[None, None], k[None, None], padding="same")[0, 0]
    theirs = correlate(x, k, mode="constant", cval=0.0)
    t_ours = _median_time(lambda: dask.persist(ours, scheduler="threads"), repeat)
    t_theirs = _median_time(lambda: dask.persist(theirs, scheduler="threads"), repeat)
    a, b = dask.compute(ours, theirs, scheduler="threads")
    err = float(np.abs(a - b).max())
    scale_ = float(np.abs(b).max())
    flops = 2 * 81 * size * size
    print(f"\n### (c) against dask-image {version('dask-image')}: {size} x {size} float32, "
          f"9 x 9 'same' correlation, chunks {chunk} x {chunk}, threaded scheduler\n")
    print("| run | s | GFLOP/s |")
    print("|---|--:|--:|")
    print(f"| deconv_core.dask.conv2d(padding='same') | {t_ours:.3f} | "
          f"{flops / t_ours / 1e9:.1f} |")
    print(f"| dask_image.ndfilters.correlate(mode='constant') | {t_theirs:.3f} | "
          f"{flops / t_theirs / 1e9:.1f} |")
    print(f"\nspeed-up {t_theirs / t_ours:.1f}x; max |difference| {err:.2e} "
          f"({err / scale_:.1e} of the largest value; dask-image sums in float64)")


def _gib(text):
    units = {"GiB": 2 ** 30, "MiB": 2 ** 20}
    for u, f in units.items():
        if text.endswith(u):
            return int(float(text[:-len(u)]) * f)
    raise ValueError(f"{text!r}: expected a size like 1GiB or 512MiB")


def _du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
               for f in files)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=("all", "overhead", "scale", "dask-image"), default="all")
    p.add_argument("--size", type=int, default=4096, help="(a) spatial size (default 4096)")
    p.add_argument("--chunks", default="1024,2048",
                   help="(a) chunk edges to try (default 1024,2048)")
    p.add_argument("--repeat", type=int, default=3, help="runs per timing (default 3)")
    p.add_argument("--worker-memory", default="1GiB", help="(b) memory_limit per worker")
    p.add_argument("--factor", type=float, default=4.5,
                   help="(b) input + output over the workers' total memory_limit "
                        "(default 4.5)")
    p.add_argument("--tmp", default=tempfile.gettempdir(), help="(b) where the zarr go")
    p.add_argument("--image-size", type=int, default=8192, help="(c) image edge")
    p.add_argument("--image-chunk", type=int, default=1024, help="(c) chunk edge")
    args = p.parse_args(argv)
    import dask
    import distributed
    print(f"deconv_core {deconv_core.__version__} ({deconv_core.backend()} backend), dask "
          f"{dask.__version__}, distributed {distributed.__version__}, numpy "
          f"{np.__version__}, Python {platform.python_version()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}")
    if args.part in ("all", "overhead"):
        overhead(args.size, args.repeat, [int(c) for c in args.chunks.split(",")])
    if args.part in ("all", "scale"):
        scale(args.worker_memory, args.factor, args.tmp)
    if args.part in ("all", "dask-image"):
        versus_dask_image(args.image_size, args.image_chunk, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
