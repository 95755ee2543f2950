"""Render how deconv_core.dask cuts one dim into tasks, into docs/images/ (needs
matplotlib and dask).

    python tools/render_dask_chunks.py [--out docs/images]

* dask_chunks.png: a 1-D input of 16 in chunks (5, 6, 5), the transposed op (kernel 4,
  stride 2, padding 1) and, below, the forward op taking its output back; per output
  chunk, the input slice its one kernel call reads: the chunk and its one-sided halo.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from deconv_core.dask import _halo  # noqa: E402

COLORS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")


def _row(ax, y, bounds, label, size):
    from matplotlib.patches import Rectangle
    for j, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        for i in range(a, b):
            ax.add_patch(Rectangle((i, y), 0.92, 0.8, color=COLORS[j % len(COLORS)],
                                   alpha=0.75))
    ax.text(-0.6, y + 0.4, label, ha="right", va="center", fontsize=9)
    ax.text(size + 0.3, y + 0.4, f"chunks {tuple(b - a for a, b in zip(bounds, bounds[1:]))}",
            ha="left", va="center", fontsize=8, color="#444")


def _reads(ax, y, spans, in_bounds):
    """Per output chunk, a bar over the input slice it reads; the halo part hatched."""
    from matplotlib.patches import Rectangle
    for j, sp in enumerate(spans):
        if sp.in_start == sp.in_stop:
            continue
        yy = y + 0.25 * j
        own = (in_bounds[j], in_bounds[j + 1]) if j + 1 < len(in_bounds) else None
        for i in range(sp.in_start, sp.in_stop):
            halo = own is not None and not own[0] <= i < own[1]
            ax.add_patch(Rectangle((i, yy), 0.92, 0.18, facecolor=COLORS[j % len(COLORS)],
                                   hatch="////" if halo else None, alpha=0.9,
                                   edgecolor="white" if halo else None))


def render(out_dir):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    size, chunks, k, s, pads = 16, (5, 6, 5), 4, 2, (1, 1)
    in_b = _halo.bounds_of_chunks(chunks)
    n_out = (size - 1) * s - sum(pads) + k
    out_b = _halo.transposed_bounds(in_b, n_out, s, pads[0])
    spans = [_halo.transposed_span(a, b, size, k, s, 1, pads)
             for a, b in zip(out_b[:-1], out_b[1:])]
    back_b = _halo.forward_bounds(out_b, size, s, pads[0])
    back = [_halo.forward_span(a, b, n_out, k, s, 1, pads)
            for a, b in zip(back_b[:-1], back_b[1:])]
    fig, ax = plt.subplots(figsize=(11, 4.6))
    _row(ax, 6.2, in_b, "input x", n_out)
    _reads(ax, 5.3, spans, in_b)
    ax.text(-0.6, 5.55, "read by each\noutput chunk", ha="right", va="center", fontsize=8)
    _row(ax, 3.6, out_b, "conv_transpose1d(x)\nk=4, s=2, p=1", n_out)
    _reads(ax, 2.7, back, out_b)
    ax.text(-0.6, 2.95, "read by each\noutput chunk", ha="right", va="center", fontsize=8)
    _row(ax, 1.0, back_b, "conv1d(that)\nk=4, s=2, p=1", n_out)
    ax.set_xlim(-9, n_out + 6)
    ax.set_ylim(0.6, 7.3)
    ax.axis("off")
    ax.set_title("One task per output chunk: its input chunk and a one-sided halo (hatched); "
                 "the transposed op's halo is on the left, the forward op's on the right",
                 fontsize=9)
    path = os.path.join(out_dir, "dask_chunks.png")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "docs", "images"))
    print("wrote", render(p.parse_args(argv).out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
