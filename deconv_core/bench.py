"""Benchmark harness: deconv_core against PyTorch, ONNX Runtime and JAX, in one process.

``python -m deconv_core bench [options]`` (or ``python benchmarks/run.py``). For each
workload of ``data/workloads.json`` it

* builds standard-normal inputs once (seeded) and calls every contender once to check it
  against a float64 reference (the NumPy backend on the same values upcast to float64);
  the tolerance is ``1000 * eps(dtype) * sqrt(C_in/groups * k**ndim)``;
* times every contender with warm-up calls excluded, an inner loop auto-scaled so one
  sample lasts at least ``--min-sample-ms``, and rounds interleaved across contenders
  (the order rotates each round) so machine noise hits all alike; before each sample
  it idles ``--settle-ms`` (other libraries' spinning pools stop), then runs the
  contender untimed for ``--rewarm-ms`` (calls are slower for a while after an idle);
  it reports medians;
* measures the machine's GEMM rate (NumPy float32 / float64 matmul) the same way, under
  the same thread count, as the "peak" a workload's GFLOP/s is compared with.

Every contender is called as a user would: deconv_core ``conv_transpose{1,2,3}d(x, w,
...)`` returning a new array (both backends, ``num_threads=--threads``); PyTorch's
``torch.nn.functional.conv_transpose{1,2,3}d`` with gradients disabled on tensors made
once; ONNX Runtime with one ``InferenceSession`` per workload (an opset 17 ConvTranspose
model with the weight as an initializer); JAX with a jitted ``lax.conv_general_dilated``
(``lhs_dilation=stride``, kernel flipped and transposed inside the jitted function) on
device arrays made once, ``block_until_ready()`` inside the timed call.

Threads (``--threads N``, default 2), the same for all: deconv_core ``num_threads=N``;
``torch.set_num_threads(N)`` and ``set_num_interop_threads(1)``; ONNX Runtime
``intra_op_num_threads=N``, ``inter_op_num_threads=1``, sequential execution and no
spinning of idle pool threads (they would steal the CPU from the next contender); JAX:
``NPROC=N PJRT_NPROC=N`` (XLA's CPU thread pool size) and
``--xla_cpu_multi_thread_eigen=<N > 1>`` in ``XLA_FLAGS``, set before jax is imported
(not controllable once jax is imported: then it is said); NumPy's BLAS (the NumPy
backend and the GEMM peak) and every OpenMP runtime under ``threadpool_limits(N)``.
The CPU time / wall time of every contender's samples is recorded (``cpu_util``) as
evidence of how many cores it really used.
``--scaling`` adds a 1-thread twin of deconv_core (both backends), PyTorch and ONNX
Runtime, timed in the same interleaved rounds as the N-thread contenders (so a burst of
outside load hits both alike), and reports each one's speed-up; JAX is left out (XLA's
thread pool is fixed when jax is imported).

Outputs in ``--out`` (default ``bench_results/``): ``results.json`` (everything, with the
raw per-round times and machine info), ``results.md`` (the table) and ``ratios.png``.
The exit status is 1 when a contender disagrees with the reference (unless
``--no-check``) or deconv_core fails on a workload.
"""
import argparse
import contextlib
import datetime
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np

from . import _backend
from .workloads import load_workloads, workload_flops

__all__ = ["main", "run"]

PEERS = ("torch", "onnxruntime", "jax")
DC = "deconv_core"            # the compiled backend: the one the ratios are about
DC_NUMPY = "deconv_core_numpy"
ONE = "@1"                    # suffix of the 1-thread twins of --scaling
SCALED = (DC, DC_NUMPY, "torch", "onnxruntime")
LABELS = {DC: "dc compiled", DC_NUMPY: "dc numpy", "torch": "torch",
          "onnxruntime": "ort", "jax": "jax"}
TOL_FACTOR = 1000
MAX_INNER = 1 << 20
# The JAX thread settings as this process found them.
_JAX_ENV = ("XLA_FLAGS", "NPROC", "PJRT_NPROC")
_ORIGINAL_ENV = {k: os.environ.get(k) for k in _JAX_ENV}

# Private hook for tests: {name: setup(spec, x, w, threads) -> call}; each runs as an
# extra peer-like contender (checked, timed, never "fastest peer").
_EXTRA_CONTENDERS = {}


class Unsupported(Exception):
    """The contender cannot run this workload (said in the table, not a failure)."""


def _first_line(exc):
    return (str(exc).splitlines() or [""])[0][:160]


# ---------------------------------------------------------------------------------------
# contenders: load(threads) -> info dict (ImportError: skipped); setup(...) -> call()

def _conv_kwargs(spec):
    return dict(stride=spec["stride"], padding=spec["padding"],
                output_padding=spec["output_padding"], groups=spec["groups"],
                dilation=spec["dilation"])


def _load_deconv(name):
    def load(threads):
        mod = _backend.load(name)   # ImportError when the compiled kernels are missing
        info = {"backend_module": mod.__name__}
        if hasattr(mod, "build_info"):
            info["build_info"] = mod.build_info()
        return info
    return load


def _setup_deconv(name):
    def setup(spec, x, w, threads):
        from . import api
        fn = getattr(api, f"conv_transpose{len(spec['size'])}d")
        kw = _conv_kwargs(spec)
        return lambda: fn(x, w, num_threads=threads, **kw)
    return setup


def _load_torch(threads):
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:        # only settable before any inter-op work
        pass
    return {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads()}


def _setup_torch(spec, x, w, threads):
    import torch
    fn = getattr(torch.nn.functional, f"conv_transpose{len(spec['size'])}d")
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    kw = _conv_kwargs(spec)
    return lambda: fn(xt, wt, **kw)


def _load_onnxruntime(threads):
    import onnx
    import onnxruntime
    return {"version": onnxruntime.__version__, "onnx_version": onnx.__version__,
            "intra_op_num_threads": threads, "inter_op_num_threads": 1,
            "allow_spinning": 0}


def _onnx_model(spec, x, w):
    import onnx
    from onnx import helper, numpy_helper
    nd = len(spec["size"])
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    node = helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], kernel_shape=[spec["kernel"]] * nd,
        strides=[spec["stride"]] * nd, pads=[spec["padding"]] * (2 * nd),
        dilations=[spec["dilation"]] * nd, group=spec["groups"],
        output_padding=[spec["output_padding"]] * nd)
    k, s, p, d = spec["kernel"], spec["stride"], spec["padding"], spec["dilation"]
    op = spec["output_padding"]
    y_shape = [spec["N"], spec["Cout"]] + [(n - 1) * s - 2 * p + d * (k - 1) + op + 1
                                           for n in spec["size"]]
    graph = helper.make_graph([node], "deconv", [helper.make_tensor_value_info("x", elem, x.shape)],
                              [helper.make_tensor_value_info("y", elem, y_shape)],
                              initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8        # opset 17's IR version: every ORT of that era reads it
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _setup_onnxruntime(spec, x, w, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 4
    try:
        sess = ort.InferenceSession(_onnx_model(spec, x, w), so,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:    # e.g. no float64 ConvTranspose kernel
        raise Unsupported(f"{x.dtype} ConvTranspose: {_first_line(exc)}") from exc
    feed = {"x": x}
    return lambda: sess.run(None, feed)[0]


def _load_jax(threads):
    # XLA's CPU client sizes its thread pool from NPROC / PJRT_NPROC (read once, when the
    # client is made); --xla_cpu_multi_thread_eigen switches Eigen's own threading. The
    # often-quoted "intra_op_parallelism_threads=N" token is silently ignored by this XLA.
    controlled = "jax" not in sys.modules
    if controlled:
        flag = f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
        os.environ["XLA_FLAGS"] = f"{_ORIGINAL_ENV['XLA_FLAGS'] or ''} {flag}".strip()
        os.environ["NPROC"] = os.environ["PJRT_NPROC"] = str(threads)
    import jax
    import jaxlib
    jax.config.update("jax_enable_x64", True)   # float64 workloads; float32 stays float32
    return {"version": jax.__version__, "jaxlib_version": jaxlib.__version__,
            "env": {k: os.environ.get(k) for k in _JAX_ENV}, "threads_controlled": controlled,
            "note": None if controlled else
            "jax was imported before the harness could set XLA_FLAGS: its threads are "
            "whatever that import chose"}


def _setup_jax(spec, x, w, threads):
    import jax
    import jax.numpy as jnp
    nd, k, s, p = len(spec["size"]), spec["kernel"], spec["stride"], spec["padding"]
    d, g, op = spec["dilation"], spec["groups"], spec["output_padding"]
    edge = d * (k - 1) - p
    pads = [(edge, edge + op)] * nd

    def deconv(x, w):
        # (C_in, C_out/g, *k) -> forward-conv (C_out, C_in/g, *k), rotated 180 degrees
        cin, coutg, ks = w.shape[0], w.shape[1], w.shape[2:]
        wf = w.reshape(g, cin // g, coutg, *ks).swapaxes(1, 2).reshape(g * coutg, cin // g, *ks)
        wf = jnp.flip(wf, axis=tuple(range(2, 2 + nd)))
        return jax.lax.conv_general_dilated(
            x, wf, window_strides=(1,) * nd, padding=pads, lhs_dilation=(s,) * nd,
            rhs_dilation=(d,) * nd, feature_group_count=g)

    f = jax.jit(deconv)
    xj, wj = jax.device_put(x), jax.device_put(w)
    return lambda: f(xj, wj).block_until_ready()


CONTENDERS = {
    DC: (_load_deconv("compiled"), _setup_deconv("compiled"), "compiled"),
    DC_NUMPY: (_load_deconv("numpy"), _setup_deconv("numpy"), "numpy"),
    "torch": (_load_torch, _setup_torch, None),
    "onnxruntime": (_load_onnxruntime, _setup_onnxruntime, None),
    "jax": (_load_jax, _setup_jax, None),
}


# ---------------------------------------------------------------------------------------
# timing

def _cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _sample(call, ctx, inner):
    """Seconds per call over ``inner`` back-to-back calls, and the CPU time used."""
    with ctx():
        c0, t0 = _cpu_seconds(), time.perf_counter()
        for _ in range(inner):
            call()
        t1, c1 = time.perf_counter(), _cpu_seconds()
    return (t1 - t0) / inner, c1 - c0, t1 - t0


def _calibrate(call, ctx, min_sample):
    inner = 1
    while inner < MAX_INNER:
        total = _sample(call, ctx, inner)[2]
        if total >= min_sample:
            break
        inner = min(MAX_INNER, max(2 * inner, math.ceil(inner * 1.2 * min_sample
                                                         / max(total, 1e-9))))
    return inner


def _rewarm(call, ctx, seconds):
    """Untimed back-to-back calls for at least ``seconds`` (at least one call)."""
    with ctx():
        end = time.perf_counter() + seconds
        call()
        while time.perf_counter() < end:
            call()


def time_interleaved(calls, repeat, warmup, min_sample, settle=0.0, rewarm=0.0):
    """``{name: (call, ctx)}`` -> ``{name: timing dict}``; rounds interleave the names.

    Before each timed sample the process sleeps ``settle`` seconds, so that worker
    threads the previous contender left spinning (OpenBLAS busy-waits about 0.1 s after
    a call; XLA's and OpenMP's pools spin too) are idle when the next one starts. Then,
    if ``rewarm`` > 0, the contender runs untimed for that long: after the idle, calls
    are slower for a while (the CPUs' clocks and the contender's own pool threads come
    back; a pool thread woken by its caller may share the caller's core until the
    scheduler separates them, ~50 ms on the reference VM: benchmarks/after_idle.py),
    and the timed sample should see what a loop of calls sees.
    """
    names = list(calls)
    inner = {}
    for name, (call, ctx) in calls.items():
        for _ in range(warmup):
            _sample(call, ctx, 1)
        inner[name] = _calibrate(call, ctx, min_sample)
    times = {n: [] for n in names}
    cpu = dict.fromkeys(names, 0.0)
    wall = dict.fromkeys(names, 0.0)
    for r in range(repeat):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            call, ctx = calls[name]
            if settle:
                time.sleep(settle)
            if rewarm:
                _rewarm(call, ctx, rewarm)
            per_call, c, w = _sample(call, ctx, inner[name])
            times[name].append(per_call)
            cpu[name] += c
            wall[name] += w
    return {n: {"median_s": float(np.median(times[n])), "min_s": float(min(times[n])),
                "iqr_s": float(np.subtract(*np.percentile(times[n], [75, 25]))),
                "inner": inner[n], "cpu_util": cpu[n] / wall[n] if wall[n] else None,
                "times_s": times[n]} for n in names}


def measure_gemm(n, repeat, warmup, min_sample, seed=0):
    """NumPy matmul rate (GFLOP/s) of n x n float32 and float64 matrices."""
    rng = np.random.default_rng(seed)
    calls = {}
    for dt in ("float32", "float64"):
        a, b = (rng.standard_normal((n, n)).astype(dt) for _ in range(2))
        out = np.empty((n, n), dt)
        calls[dt] = (lambda a=a, b=b, out=out: np.matmul(a, b, out=out), contextlib.nullcontext)
    timed = time_interleaved(calls, repeat, warmup, min_sample)
    for t in timed.values():
        # A peak is what the machine sustains at best: the fastest sample (each sample
        # lasts >= min_sample), not the median, which noise from other load drags down.
        t["gflops"] = 2 * n ** 3 / t["min_s"] / 1e9
        t["gflops_median"] = 2 * n ** 3 / t["median_s"] / 1e9
        t["n"] = n
    return timed


def _best_gemm(*measurements):
    """Per dtype, the measurement with the highest peak (GEMM is timed before and
    after the workloads, so a burst of load during one of them does not set it)."""
    return {dt: max((m[dt] for m in measurements), key=lambda t: t["gflops"])
            for dt in measurements[0]}


# ---------------------------------------------------------------------------------------
# one workload

def _inputs(spec, seed):
    rng = np.random.default_rng(seed)
    nd = len(spec["size"])
    x = rng.standard_normal((spec["N"], spec["Cin"], *spec["size"])).astype(spec["dtype"])
    w = rng.standard_normal((spec["Cin"], spec["Cout"] // spec["groups"]) + (spec["kernel"],) * nd
                            ).astype(spec["dtype"])
    return x, w


def _reference(spec, x, w):
    from . import api
    fn = getattr(api, f"conv_transpose{len(spec['size'])}d")
    with _backend.using("numpy"):
        return fn(x.astype(np.float64), w.astype(np.float64), **_conv_kwargs(spec))


def run_workload(name, spec, contenders, args):
    """Check and time every available contender on one workload; a result dict."""
    x, w = _inputs(spec, args.seed)
    ref = _reference(spec, x, w)
    nd = len(spec["size"])
    red = spec["Cin"] // spec["groups"] * spec["kernel"] ** nd
    tol = TOL_FACTOR * float(np.finfo(x.dtype).eps) * math.sqrt(red)
    flops = workload_flops(spec)
    res = {"name": name, "spec": spec, "flops": flops, "reduction_size": red,
           "tolerance": tol, "contenders": {}}
    calls = {}
    for cname, (setup, ctx, status) in contenders.items():
        if status is not None:
            res["contenders"][cname] = status
            continue
        entry = res["contenders"][cname] = {"status": "ok"}
        try:
            call = setup(spec, x, w, 1 if cname.endswith(ONE) else args.threads)
            with ctx():
                got = np.asarray(call())
        except Exception as exc:
            is_dc = cname.split("@")[0] in (DC, DC_NUMPY)
            entry.update(status="error" if is_dc else "unsupported",
                         reason=exc.args[0] if isinstance(exc, Unsupported)
                         else f"{type(exc).__name__}: {_first_line(exc)}")
            continue
        if got.shape != ref.shape:
            err = math.inf
        else:
            err = float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0
        entry.update(max_abs_err=err, check="ok" if err <= tol else "FAIL")
        calls[cname] = (call, ctx)
    timed = time_interleaved(calls, args.repeat, args.warmup, args.min_sample_ms / 1e3,
                             args.settle_ms / 1e3, args.rewarm_ms / 1e3)
    for cname, t in timed.items():
        res["contenders"][cname].update(t, gflops=flops / t["median_s"] / 1e9)
    _summarise(res, args)
    return res


def _summarise(res, args):
    cs = res["contenders"]
    ok = {n: c for n, c in cs.items() if "median_s" in c}
    peers = {n: c["median_s"] for n, c in ok.items() if n in PEERS}
    mine = DC if DC in ok else (DC_NUMPY if DC_NUMPY in ok else None)
    res["deconv_core_backend"] = None if mine is None else ("compiled" if mine == DC else "numpy")
    res["fastest_peer"] = min(peers, key=peers.get) if peers else None
    res["fastest_peer_s"] = peers.get(res["fastest_peer"])
    res["ratio"] = (res["fastest_peer_s"] / ok[mine]["median_s"]
                    if peers and mine else None)
    res["ratio_by_peer"] = {p: t / ok[mine]["median_s"] for p, t in peers.items()} if mine else {}
    gemm = args.gemm.get(res["spec"]["dtype"])
    res["peak_fraction"] = (ok[mine]["gflops"] / gemm["gflops"]) if mine and gemm else None
    errs = [c["max_abs_err"] for c in cs.values() if "max_abs_err" in c]
    res["max_abs_err"] = max(errs) if errs else None
    res["failures"] = sorted(n for n, c in cs.items() if c.get("check") == "FAIL")
    res["errors"] = sorted(n for n, c in cs.items() if c.get("status") == "error")


# ---------------------------------------------------------------------------------------
# reporting

def _fmt(v, spec="{:.3g}"):
    return "-" if v is None else spec.format(v)


def _cell(c):
    if "median_s" in c:
        return f"{c['median_s'] * 1e3:.3g}"
    return {"skipped": "-", "unsupported": "n/a", "error": "ERROR"}.get(c["status"], "?")


def _geomean(values):
    values = [v for v in values if v]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def table_rows(results, extra=()):
    head = ["workload", "dc ms", "dc GF/s", "numpy ms", "torch ms", "ort ms", "jax ms",
            *[f"{e} ms" for e in extra], "fastest peer", "ratio", "% peak", "max err", "check"]
    rows = []
    for r in results:
        cs = r["contenders"]
        dc = cs.get(DC, {})
        rows.append([
            r["name"], _cell(dc), _fmt(dc.get("gflops"), "{:.2f}"), _cell(cs[DC_NUMPY]),
            *[_cell(cs[p]) for p in PEERS], *[_cell(cs[e]) for e in extra],
            r["fastest_peer"] or "-", _fmt(r["ratio"], "{:.2f}"),
            _fmt(None if r["peak_fraction"] is None else 100 * r["peak_fraction"], "{:.1f}"),
            _fmt(r["max_abs_err"], "{:.1e}"),
            "FAIL: " + ",".join(r["failures"] + r["errors"])
            if r["failures"] or r["errors"] else "ok"])
    return head, rows


def _plain(head, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _markdown(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---"] + ["--:"] * (len(head) - 1)) + "|"]
    return "\n".join(out + ["| " + " | ".join(map(str, r)) + " |" for r in rows])


def _notes(doc):
    """Lines on skipped / unsupported contenders, failures and the summary numbers."""
    notes = []
    for name, p in doc["contenders"].items():
        if p["status"] != "ok":
            notes.append(f"{name}: skipped ({p['reason']})")
        elif p.get("note"):
            notes.append(f"{name}: {p['note']}")
    for r in doc["workloads"]:
        for cname, c in r["contenders"].items():
            if c["status"] in ("unsupported", "error"):
                notes.append(f"{r['name']}: {cname} {c['status']}: {c['reason']}")
            elif c.get("check") == "FAIL":
                notes.append(f"{r['name']}: {cname} DISAGREES: max abs error "
                             f"{c['max_abs_err']:.3g} > tolerance {r['tolerance']:.3g}")
    g = doc["gemm"]
    notes.append("GEMM peak (NumPy matmul, n=%d): float32 %.1f GFLOP/s, float64 %.1f GFLOP/s"
                 % (g["float32"]["n"], g["float32"]["gflops"], g["float64"]["gflops"]))
    gm = doc["geomean_ratio"]
    notes.append(f"geometric mean of ratios (fastest peer time / deconv_core time, >1: "
                 f"deconv_core faster): {_fmt(gm, '{:.3f}')} over {doc['ratio_count']} workloads")
    for p, v in doc["geomean_ratio_by_peer"].items():
        notes.append(f"  vs {p} alone: {_fmt(v, '{:.3f}')}")
    return notes


def _header(doc):
    m, s = doc["machine"], doc["settings"]
    return (f"deconv_core bench: {m['cpu_model']} ({m['cpus_usable']} usable CPUs), "
            f"threads={s['threads']}, repeat={s['repeat']}, warm-up={s['warmup']}, "
            f"min sample {s['min_sample_ms']} ms, settle {s.get('settle_ms', 0)} ms, "
            f"re-warm {s.get('rewarm_ms', 0)} ms, medians; "
            f"deconv_core backend "
            f"{m['deconv_core_backend']}; times in ms per call")


def _scaling_table(doc):
    sc = doc["scaling"]
    names = [DC, DC_NUMPY, *PEERS]
    head = ["workload"] + [f"{LABELS[n]} x" for n in names]
    rows = [[w] + [_fmt(sc["speedup"][w].get(n), "{:.2f}") for n in names] for w in sc["speedup"]]
    # NumPy's own GEMM speed-up (1 thread timed after the workloads) shows what the
    # cores gave during the run
    rows += [[f"(NumPy GEMM {dt})"] + [_fmt(v, "{:.2f}")] + [""] * (len(names) - 1)
             for dt, v in sc["gemm_speedup"].items()]
    return head, rows


def write_outputs(doc, out_dir, chart=True):
    os.makedirs(out_dir, exist_ok=True)
    head, rows = table_rows(doc["workloads"], doc["settings"]["extra"])
    notes = _notes(doc)
    print(_header(doc))
    print(_plain(head, rows))
    print("\n".join(notes))
    md = [f"# deconv_core benchmark ({doc['machine']['date']})", "", _header(doc) + ".", "",
          _markdown(head, rows), ""] + [f"- {n.strip()}" for n in notes]
    if doc.get("scaling", {}).get("error"):
        print(f"--scaling: {doc['scaling']['error']}")
    elif "scaling" in doc:
        sh, sr = _scaling_table(doc)
        title = (f"speed-up from 1 to {doc['settings']['threads']} threads "
                 f"(time with 1 thread / time with {doc['settings']['threads']})")
        print(f"\n{title}:\n{_plain(sh, sr)}")
        md += ["", f"## {title[0].upper()}{title[1:]}", "", _markdown(sh, sr)]
    with open(os.path.join(out_dir, "results.md"), "w") as fh:
        fh.write("\n".join(md) + "\n")
    with open(os.path.join(out_dir, "results.json"), "w") as fh:
        json.dump(doc, fh, indent=1, default=str)
    written = ["results.json", "results.md"]
    if chart and _chart(doc, os.path.join(out_dir, "ratios.png")):
        written.append("ratios.png")
    print(f"wrote {', '.join(os.path.join(out_dir, f) for f in written)}")


def _chart(doc, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)")
        return False
    pts = [(r["name"], r["ratio"], r["fastest_peer"]) for r in doc["workloads"] if r["ratio"]]
    if not pts:
        print("no ratio to chart (no peer ran): no chart")
        return False
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(pts) + 2), 5.5))
    names, ratios, peers = zip(*pts)
    xs = range(len(pts))
    # bars grow from 1.0 (a tie) up or down, on a log scale symmetric about it
    ax.bar(xs, [v - 1 for v in ratios], bottom=1,
           color=["tab:green" if v >= 1 else "tab:red" for v in ratios])
    ax.axhline(1.0, color="black", lw=1)
    ax.set_yscale("log")
    span = 1.35 * max(abs(math.log10(v)) for v in ratios) or 0.3
    ax.set_ylim(10 ** -span, 10 ** span)
    # labelled ticks at 1-2-5 steps only: labels on every log minor tick overlap
    lo, hi = 10 ** -span, 10 ** span
    ticks = [m * 10 ** e for e in range(math.floor(-span) - 1, math.ceil(span) + 1)
             for m in (1, 2, 5) if lo <= m * 10 ** e <= hi]
    ax.yaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names, rotation=40, ha="right", fontsize=8)
    for i, (v, p) in enumerate(zip(ratios, peers)):
        ax.annotate(f"{v:.2f}\nvs {p}", (i, v), ha="center", fontsize=7,
                    va="bottom" if v >= 1 else "top")
    ax.set_ylabel("time(fastest peer) / time(deconv_core)\n> 1: deconv_core faster")
    ax.set_title(f"deconv_core vs the fastest of PyTorch, ONNX Runtime and JAX\n"
                 f"{doc['settings']['threads']} thread(s), {doc['machine']['cpu_model']}; "
                 f"geometric mean {_fmt(doc['geomean_ratio'], '{:.2f}')}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


# ---------------------------------------------------------------------------------------
# driver

def _machine():
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    from . import __version__
    return {"cpu_model": cpu, "cpu_count": os.cpu_count(), "cpus_usable": usable,
            "platform": platform.platform(), "python": sys.version.split()[0],
            "numpy": np.__version__, "deconv_core": __version__,
            "deconv_core_backend": _backend.backend(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "loadavg_start": os.getloadavg()}


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m deconv_core bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", help="comma-separated workload names (default: all)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help="comma-separated peers to try (default: %(default)s; 'none': no peer)")
    p.add_argument("--threads", type=int, default=2, help="threads for every contender (2)")
    p.add_argument("--repeat", type=int, help="timed rounds per workload (15; --quick 5)")
    p.add_argument("--warmup", type=int, help="untimed warm-up calls per contender (3; quick 1)")
    p.add_argument("--min-sample-ms", type=float,
                   help="inner loop grows until one sample lasts this long (20; quick 5)")
    p.add_argument("--gemm-size", type=int, help="matrix size of the GEMM peak (2048; quick 512)")
    p.add_argument("--quick", action="store_true", help="fewer, shorter samples")
    p.add_argument("--out", default="bench_results", help="output directory (%(default)s)")
    p.add_argument("--no-check", action="store_true",
                   help="exit 0 even if a contender disagrees with the reference")
    p.add_argument("--no-chart", action="store_true", help="skip ratios.png")
    p.add_argument("--scaling", action="store_true",
                   help="also time 1-thread twins in the same rounds and report speed-ups")
    p.add_argument("--seed", type=int, default=0, help="input seed (0)")
    p.add_argument("--settle-ms", type=float,
                   help="idle time before each timed sample, for other pools' spinning "
                        "workers to stop (100; quick 20)")
    p.add_argument("--rewarm-ms", type=float,
                   help="untimed calls of the contender after the settle, before its timed "
                        "sample (80; quick 5; 0: none)")
    args = p.parse_args(argv)
    quick = args.quick
    for key, normal, fast in [("repeat", 15, 5), ("warmup", 3, 1), ("min_sample_ms", 20.0, 5.0),
                              ("gemm_size", 2048, 512), ("settle_ms", 100.0, 20.0),
                              ("rewarm_ms", 80.0, 5.0)]:
        if getattr(args, key) is None:
            setattr(args, key, fast if quick else normal)
    for key in ("threads", "repeat", "gemm_size"):
        if getattr(args, key) < 1:
            p.error(f"--{key.replace('_', '-')}={getattr(args, key)} must be >= 1")
    for key in ("warmup", "min_sample_ms", "settle_ms", "rewarm_ms"):
        if getattr(args, key) < 0:
            p.error(f"--{key.replace('_', '-')}={getattr(args, key)} must be >= 0")
    args.peer_list = [] if args.peers.strip() == "none" else \
        [s.strip() for s in args.peers.split(",") if s.strip()]
    bad = sorted(set(args.peer_list) - set(PEERS))
    if bad:
        p.error(f"--peers: unknown {', '.join(bad)} (choose from {', '.join(PEERS)})")
    return args


def _load_contenders(args):
    """``{name: info}`` of every contender, and ``{name: (setup, ctx, status)}`` (``ctx``
    makes the context each timed sample runs in)."""
    infos, table = {}, {}
    for name in (DC, DC_NUMPY, *PEERS):
        load, setup, backend_name = CONTENDERS[name]
        if name in PEERS and name not in args.peer_list:
            info = {"status": "skipped", "reason": "not requested (--peers)"}
        else:
            try:
                info = {"status": "ok", **load(args.threads)}
            except ImportError as exc:
                info = {"status": "skipped", "reason": f"not installed ({exc})"}
        infos[name] = info
        ctx = (lambda b=backend_name: _backend.using(b)) if backend_name else \
            contextlib.nullcontext
        table[name] = (setup, ctx,
                       None if info["status"] == "ok" else {"status": "skipped",
                                                            "reason": info["reason"]})
    if args.scaling and args.threads != 1:
        for name in SCALED:
            setup, ctx, status = table[name]
            if status is None:
                table[name + ONE] = (setup, lambda c=ctx, n=name: _one_thread(c(), n), None)
    for name, setup in _EXTRA_CONTENDERS.items():
        infos[name] = {"status": "ok", "note": "injected test contender"}
        table[name] = (setup, contextlib.nullcontext, None)
    return infos, table


@contextlib.contextmanager
def _one_thread(ctx, name):
    """``ctx`` with BLAS / OpenMP pools (and PyTorch's intra-op pool) at one thread."""
    limits, _ = _threadpool_limits(1)
    with ctx, limits:
        if name != "torch":
            yield
            return
        import torch
        saved = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(saved)


def _threadpool_limits(threads):
    """A context limiting BLAS / OpenMP pools to ``threads``, and a function describing them."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return (contextlib.nullcontext(),
                lambda: "threadpoolctl is not installed: BLAS threads not limited")
    return threadpool_limits(limits=threads), threadpool_info


def run(argv=None):
    """Run the harness; the result document (also written to ``--out``)."""
    args = _parse(argv)
    t_start = time.perf_counter()
    machine = _machine()
    all_wl = load_workloads()
    names = list(all_wl) if not args.workloads else \
        [s.strip() for s in args.workloads.split(",") if s.strip()]
    unknown = [n for n in names if n not in all_wl]
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(all_wl)}")
    infos, table = _load_contenders(args)
    if infos[DC]["status"] != "ok":
        print(f"WARNING: the compiled backend is missing ({infos[DC]['reason']}); ratios use "
              f"the NumPy backend", file=sys.stderr)
    limits, pool_info = _threadpool_limits(args.threads)
    grad = contextlib.nullcontext()
    if infos["torch"]["status"] == "ok":
        import torch
        grad = torch.no_grad()
    with limits, grad:
        pools = pool_info()
        gemm_args = (args.gemm_size, args.repeat, args.warmup, args.min_sample_ms / 1e3,
                     args.seed)
        args.gemm = measure_gemm(*gemm_args)
        results = []
        for n in names:
            print(f"... {n}", file=sys.stderr, flush=True)
            results.append(run_workload(n, all_wl[n], table, args))
        args.gemm = _best_gemm(args.gemm, measure_gemm(*gemm_args))
        for res in results:  # the peak fractions use the final peak
            _summarise(res, args)
        scaling = _scaling(results, args) if args.scaling and args.threads != 1 else None
    ratios = [r["ratio"] for r in results if r["ratio"]]
    by_peer = {p: _geomean([r["ratio_by_peer"].get(p) for r in results])
               for p in PEERS if infos[p]["status"] == "ok"}
    machine["loadavg_end"] = os.getloadavg()
    settings = {k: v for k, v in vars(args).items() if k not in ("gemm", "peer_list")}
    settings["extra"] = list(_EXTRA_CONTENDERS)
    settings["tolerance"] = f"{TOL_FACTOR} * eps(dtype) * sqrt(Cin/groups * kernel**ndim)"
    doc = {"machine": machine, "settings": settings, "contenders": infos,
           "threadpools": pools, "gemm": args.gemm, "workloads": results,
           "geomean_ratio": _geomean(ratios), "ratio_count": len(ratios),
           "geomean_ratio_by_peer": by_peer,
           "failures": {r["name"]: r["failures"] for r in results if r["failures"]},
           "errors": {r["name"]: r["errors"] for r in results if r["errors"]}}
    if scaling is not None:
        doc["scaling"] = scaling
    doc["elapsed_s"] = time.perf_counter() - t_start
    write_outputs(doc, args.out, chart=not args.no_chart)
    print(f"elapsed: {doc['elapsed_s']:.1f} s")
    return doc


def _scaling(results, args):
    """``t(1 thread) / t(N threads)`` per workload and contender, from the same rounds."""
    speedup = {}
    for r in results:
        cs = r["contenders"]
        speedup[r["name"]] = {n: cs[n + ONE]["median_s"] / cs[n]["median_s"] for n in SCALED
                              if "median_s" in cs.get(n, {}) and "median_s" in cs.get(n + ONE, {})}
    limits, _ = _threadpool_limits(1)
    with limits:
        one = measure_gemm(args.gemm_size, args.repeat, args.warmup, args.min_sample_ms / 1e3,
                           args.seed)
    return {"threads": [1, args.threads], "speedup": speedup,
            "gemm_speedup": {dt: one[dt]["min_s"] / args.gemm[dt]["min_s"] for dt in one},
            "not_measured": {"jax": "XLA's thread pool is fixed when jax is imported"}}


def main(argv=None):
    """Command-line entry point; the exit status."""
    doc = run(sys.argv[1:] if argv is None else list(argv))
    status = 0
    for key, what in (("errors", "deconv_core raised"),
                      ("failures", "disagrees with the reference")):
        if doc[key]:
            print(f"FAIL ({what}): " + "; ".join(f"{w}: {', '.join(f)}"
                                                for w, f in doc[key].items()), file=sys.stderr)
            status = 1 if key == "errors" or not doc["settings"]["no_check"] else status
    return status
