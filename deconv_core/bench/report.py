"""The harness's outputs: the table (text and Markdown), notes, the chart and the files."""
import json
import math
import os

from .contenders import DC, DC_GW, DC_NUMPY, LABELS, PEERS_BY_OP


OP_TITLES = {"transposed": "transposed convolution", "conv": "forward convolution",
             "backward": "gradients of the transposed convolution"}


def _fmt(v, spec="{:.3g}"):
    return "-" if v is None else spec.format(v)


def _cell(c):
    if "median_s" in c:
        return f"{c['median_s'] * 1e3:.3g}"
    return {"skipped": "-", "unsupported": "n/a", "error": "ERROR"}.get(c["status"], "?")


def geomean(values):
    values = [v for v in values if v]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def _percent(v):
    return _fmt(None if v is None else 100 * v, "{:.1f}")


def table_rows(results, extra=(), op="transposed"):
    peers = PEERS_BY_OP[op]
    gw = op == "backward"
    head = ["workload", "dc ms", "dc GF/s", "numpy ms", *[f"{LABELS[p]} ms" for p in peers],
            *[f"{e} ms" for e in extra], "fastest peer", "ratio", "% peak",
            *(["gw ms", "gw GF/s", "gw % peak"] if gw else []), "max err", "check"]
    rows = []
    for r in results:
        cs = r["contenders"]
        dc = cs.get(DC, {})
        gwc = cs.get(DC_GW, {})
        rows.append([
            r["name"], _cell(dc), _fmt(dc.get("gflops"), "{:.2f}"), _cell(cs[DC_NUMPY]),
            *[_cell(cs[p]) for p in peers], *[_cell(cs[e]) for e in extra],
            r["fastest_peer"] or "-", _fmt(r["ratio"], "{:.2f}"), _percent(r["peak_fraction"]),
            *([_cell(gwc) if gwc else "-", _fmt(gwc.get("gflops"), "{:.2f}"),
               _percent(r.get("gw_peak_fraction"))] if gw else []),
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
    return (f"deconv_core bench --op {s.get('op', 'transposed')} ({OP_TITLES[s.get('op', 'transposed')]}): "
            f"{m['cpu_model']} ({m['cpus_usable']} usable CPUs), "
            f"threads={s['threads']}, repeat={s['repeat']}, warm-up={s['warmup']}, "
            f"min sample {s['min_sample_ms']} ms, settle {s.get('settle_ms', 0)} ms, "
            f"re-warm {s.get('rewarm_ms', 0)} ms, medians; "
            f"deconv_core backend "
            f"{m['deconv_core_backend']}; times in ms per call")


def _scaling_table(doc):
    sc = doc["scaling"]
    names = [DC, DC_NUMPY, *PEERS_BY_OP[doc["settings"]["op"]]]
    head = ["workload"] + [f"{LABELS[n]} x" for n in names]
    rows = [[w] + [_fmt(sc["speedup"][w].get(n), "{:.2f}") for n in names] for w in sc["speedup"]]
    # NumPy's own GEMM speed-up (1 thread timed after the workloads) shows what the
    # cores gave during the run
    rows += [[f"(NumPy GEMM {dt})"] + [_fmt(v, "{:.2f}")] + [""] * (len(names) - 1)
             for dt, v in sc["gemm_speedup"].items()]
    return head, rows


def write_outputs(doc, out_dir, chart=True):
    os.makedirs(out_dir, exist_ok=True)
    head, rows = table_rows(doc["workloads"], doc["settings"]["extra"], doc["settings"]["op"])
    notes = _notes(doc)
    print(_header(doc))
    print(_plain(head, rows))
    print("\n".join(notes))
    md = [f"# deconv_core benchmark, {OP_TITLES[doc['settings']['op']]} "
          f"({doc['machine']['date']})", "", _header(doc) + ".", "",
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
    op = doc["settings"]["op"]
    ax.set_title(f"{OP_TITLES[op]}: deconv_core vs the fastest of "
                 f"{', '.join(LABELS[p] for p in PEERS_BY_OP[op])}\n"
                 f"{doc['settings']['threads']} thread(s), {doc['machine']['cpu_model']}; "
                 f"geometric mean {_fmt(doc['geomean_ratio'], '{:.2f}')}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
