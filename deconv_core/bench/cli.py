"""``python -m deconv_core bench``: arguments, the run over the workloads, the exit status."""
import argparse
import contextlib
import datetime
import importlib
import math
import os
import platform
import sys
import time

import numpy as np

from .. import _backend
from .._version import __version__
from ..workloads import load_workloads, workload_flops
from .contenders import (ALL_PEERS, CONTENDERS, DC, DC_GW, DC_NUMPY, EXTRA_CONTENDERS, ONE,
                         OPS, PEERS_BY_OP, SCALED, TOL_FACTOR, Unsupported, conv_kwargs,
                         first_line, to_numpy)
from .report import geomean, write_outputs
from .timing import best_gemm, measure_gemm, time_interleaved


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
    return {"cpu_model": cpu, "cpu_count": os.cpu_count(), "cpus_usable": usable,
            "platform": platform.platform(), "python": sys.version.split()[0],
            "numpy": np.__version__, "deconv_core": __version__,
            "deconv_core_backend": _backend.backend(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "loadavg_start": os.getloadavg()}


def _parse(argv):
    p = argparse.ArgumentParser(prog="python -m deconv_core bench",
                                description=importlib.import_module(__package__).__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", help="comma-separated workload names (default: all)")
    p.add_argument("--op", default="transposed", choices=OPS,
                   help="what to time: the transposed convolution, the forward one on its "
                        "adjoint shape, or all three gradients of the transposed one "
                        "(default %(default)s)")
    p.add_argument("--peers", default=None,
                   help="comma-separated peers to try (default: every peer of the op: "
                        f"{', '.join(ALL_PEERS)} for transposed and conv, "
                        f"{', '.join(PEERS_BY_OP['backward'])} for backward; 'none': no peer)")
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
    if args.peers is None:
        args.peers = ",".join(PEERS_BY_OP[args.op])
    args.peer_list = [] if args.peers.strip() == "none" else \
        [s.strip() for s in args.peers.split(",") if s.strip()]
    bad = sorted(set(args.peer_list) - set(ALL_PEERS))
    if bad:
        p.error(f"--peers: unknown {', '.join(bad)} (choose from {', '.join(ALL_PEERS)})")
    return args


def _load_contenders(args):
    """``{name: info}`` of every contender, and ``{name: (setup, ctx, status)}`` (``ctx``
    makes the context each timed sample runs in)."""
    infos, table = {}, {}
    mine = (DC, DC_NUMPY, DC_GW) if args.op == "backward" else (DC, DC_NUMPY)
    for name in (*mine, *ALL_PEERS):
        load, setup, backend_name = CONTENDERS[name]
        if name in ALL_PEERS and name not in args.peer_list:
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
                table[name + ONE] = (setup, lambda c=ctx, n=name: one_thread(c(), n), None)
    for name, setup in EXTRA_CONTENDERS.items():
        infos[name] = {"status": "ok", "note": "injected test contender"}
        table[name] = (setup, contextlib.nullcontext, None)
    return infos, table


@contextlib.contextmanager
def one_thread(ctx, name):
    """``ctx`` with BLAS / OpenMP pools (and PyTorch's intra-op pool) at one thread."""
    limits, _ = threadpool_limits(1)
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


def threadpool_limits(threads):
    """A context limiting BLAS / OpenMP pools to ``threads``, and a function describing them."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return (contextlib.nullcontext(),
                lambda: "threadpoolctl is not installed: BLAS threads not limited")
    return threadpool_limits(limits=threads), threadpool_info


def _output_shape(spec):
    k, s, p, d, op = (spec[key] for key in ("kernel", "stride", "padding", "dilation",
                                          "output_padding"))
    return (spec["N"], spec["Cout"]) + tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                                             for n in spec["size"])


def inputs(spec, op, seed):
    """The op's arrays: ``x`` and ``w`` of the workload (transposed); for conv an ``x`` of
    the transposed op's output shape with the same ``w``; for backward ``gy`` of that
    shape besides ``x`` and ``w``."""
    rng = np.random.default_rng(seed)
    nd = len(spec["size"])
    x = rng.standard_normal((spec["N"], spec["Cin"], *spec["size"])).astype(spec["dtype"])
    w = rng.standard_normal((spec["Cin"], spec["Cout"] // spec["groups"]) + (spec["kernel"],) * nd
                            ).astype(spec["dtype"])
    if op == "transposed":
        return {"x": x, "w": w}
    y = rng.standard_normal(_output_shape(spec)).astype(spec["dtype"])
    if op == "conv":
        return {"x": y, "w": w}
    return {"gy": y, "x": x, "w": w}


def reference(spec, op, arrays):
    """The op's result in float64 from the NumPy backend (a tuple for backward)."""
    from .contenders import deconv_call
    a64 = {k: v.astype(np.float64) for k, v in arrays.items()}
    with _backend.using("numpy"):
        result = deconv_call(spec, op, a64, 1)()
    return tuple(result) if op == "backward" else result


def reductions(spec, op):
    """Terms summed into one element of each result (the check's tolerances grow with
    their square root)."""
    nd = len(spec["size"])
    taps = spec["kernel"] ** nd
    if op == "transposed":
        return (spec["Cin"] // spec["groups"] * taps,)
    if op == "conv":
        return (spec["Cout"] // spec["groups"] * taps,)
    positions = spec["N"] * math.prod(spec["size"])
    return (spec["Cout"] // spec["groups"] * taps, positions,
            spec["N"] * math.prod(_output_shape(spec)[2:]))


def op_flops(spec, op):
    """FLOPs of one call: 2 * MACs per convolution; backward counts grad_input and
    grad_weight (the bias sum is negligible)."""
    return workload_flops(spec) * (2 if op == "backward" else 1)


def _check(got, ref, tols):
    """Max abs error over the results and whether each is within its tolerance."""
    got = got if isinstance(got, tuple) else (got,)
    ref = ref if isinstance(ref, tuple) else (ref,)
    errs, ok = [], True
    for g, r, tol in zip(got, ref, tols):
        if g.shape != r.shape:
            return math.inf, False
        e = float(np.max(np.abs(g.astype(np.float64) - r))) if r.size else 0.0
        scale = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
        errs.append(e)
        ok &= e <= tol * scale
    return max(errs), ok


def run_workload(name, spec, contenders, args):
    """Check and time every available contender on one workload; a result dict."""
    arrays = inputs(spec, args.op, args.seed)
    ref = reference(spec, args.op, arrays)
    eps = float(np.finfo(spec["dtype"]).eps)
    reds = reductions(spec, args.op)
    tols = [TOL_FACTOR * eps * math.sqrt(r) for r in reds]
    flops = op_flops(spec, args.op)
    res = {"name": name, "spec": spec, "op": args.op, "flops": flops,
           "reduction_size": reds[0], "tolerance": tols[0], "tolerances": tols,
           "contenders": {}}
    calls = {}
    for cname, (setup, ctx, status) in contenders.items():
        if status is not None:
            res["contenders"][cname] = status
            continue
        entry = res["contenders"][cname] = {"status": "ok"}
        try:
            call = setup(spec, args.op, arrays, 1 if cname.endswith(ONE) else args.threads)
            with ctx():
                got = to_numpy(call, call())
        except Exception as exc:
            is_dc = cname.split("@")[0] in (DC, DC_NUMPY, DC_GW)
            unsupported = isinstance(exc, Unsupported)
            entry.update(status="unsupported" if unsupported or not is_dc else "error",
                         reason=exc.args[0] if unsupported
                         else f"{type(exc).__name__}: {first_line(exc)}")
            continue
        index = getattr(call, "reference_index", None)   # one result of several
        err, ok = _check(got, ref[index] if index is not None else ref,
                         [tols[index]] if index is not None else tols)
        entry.update(max_abs_err=err, check="ok" if ok else "FAIL")
        calls[cname] = (call, ctx)
    timed = time_interleaved(calls, args.repeat, args.warmup, args.min_sample_ms / 1e3,
                             args.settle_ms / 1e3, args.rewarm_ms / 1e3)
    for cname, t in timed.items():
        part = workload_flops(spec) if cname == DC_GW else flops
        res["contenders"][cname].update(t, gflops=part / t["median_s"] / 1e9)
    summarise(res, args)
    return res


def summarise(res, args):
    cs = res["contenders"]
    ok = {n: c for n, c in cs.items() if "median_s" in c}
    peers = {n: c["median_s"] for n, c in ok.items() if n in PEERS_BY_OP[args.op]}
    mine = DC if DC in ok else (DC_NUMPY if DC_NUMPY in ok else None)
    res["deconv_core_backend"] = None if mine is None else ("compiled" if mine == DC else "numpy")
    res["fastest_peer"] = min(peers, key=peers.get) if peers else None
    res["fastest_peer_s"] = peers.get(res["fastest_peer"])
    res["ratio"] = (res["fastest_peer_s"] / ok[mine]["median_s"]
                    if peers and mine else None)
    res["ratio_by_peer"] = {p: t / ok[mine]["median_s"] for p, t in peers.items()} if mine else {}
    gemm = args.gemm.get(res["spec"]["dtype"])
    res["peak_fraction"] = (ok[mine]["gflops"] / gemm["gflops"]) if mine and gemm else None
    res["gw_peak_fraction"] = (ok[DC_GW]["gflops"] / gemm["gflops"]) if DC_GW in ok and gemm \
        else None
    errs = [c["max_abs_err"] for c in cs.values() if "max_abs_err" in c]
    res["max_abs_err"] = max(errs) if errs else None
    res["failures"] = sorted(n for n, c in cs.items() if c.get("check") == "FAIL")
    res["errors"] = sorted(n for n, c in cs.items() if c.get("status") == "error")


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
    limits, pool_info = threadpool_limits(args.threads)
    grad = contextlib.nullcontext()
    if infos["torch"]["status"] == "ok" and args.op != "backward":
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
        args.gemm = best_gemm(args.gemm, measure_gemm(*gemm_args))
        for res in results:  # the peak fractions use the final peak
            summarise(res, args)
        scaling = _scaling(results, args) if args.scaling and args.threads != 1 else None
    ratios = [r["ratio"] for r in results if r["ratio"]]
    by_peer = {p: geomean([r["ratio_by_peer"].get(p) for r in results])
               for p in PEERS_BY_OP[args.op] if infos[p]["status"] == "ok"}
    machine["loadavg_end"] = os.getloadavg()
    settings = {k: v for k, v in vars(args).items() if k not in ("gemm", "peer_list")}
    settings["extra"] = list(EXTRA_CONTENDERS)
    settings["tolerance"] = (f"{TOL_FACTOR} * eps(dtype) * sqrt(terms summed into an element) "
                             f"* max(1, max |reference|), per result")
    doc = {"machine": machine, "settings": settings, "contenders": infos,
           "threadpools": pools, "gemm": args.gemm, "workloads": results,
           "geomean_ratio": geomean(ratios), "ratio_count": len(ratios),
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
    limits, _ = threadpool_limits(1)
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
