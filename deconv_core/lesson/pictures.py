"""Figures of the lesson's steps (matplotlib, the optional ``plot`` extra).

matplotlib is imported inside the functions only, and this module is imported
only by :func:`deconv_core.plot_steps` and ``python -m deconv_core explain
--plot/--animate`` (:mod:`deconv_core.lesson.cli`), so ``import deconv_core`` never
pulls matplotlib in.  The
figures are drawn on the Agg canvas (no display needed) and pyplot is not used.
"""
import numpy as np

from .text import BORDER, EXTRA, INSERTED, REAL, explanation, fmt_value

__all__ = ["plot_steps", "plot_conv", "require_matplotlib"]

INSTALL_HINT = "matplotlib is not installed: pip install deconv_core[plot]"

CELL = 0.36        # inches per pixel of a grid
GAP = 1.3          # cells between the columns of panels
ROW_GAP = 1.0      # cells between rows of panels
TITLE = 1.5        # cells above a panel for its title
MARGIN = 0.5       # cells around the figure
DPI = 100

SHADE = {REAL: "#ffffff", INSERTED: "#fdd9a8", BORDER: "#d4d4d4", EXTRA: "#c6e8bf"}
SHADE_NAMES = {REAL: "real value", INSERTED: "zero inserted (Step 1)",
               BORDER: "border zero (Step 2)", EXTRA: "zero appended (output_padding)"}
WINDOW = "#1f5fa8"
PICK = "#9cc6ee"
CROP = "#c0392b"


def require_matplotlib():
    """Import matplotlib's object-oriented pieces (Agg); ImportError with the install hint."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib import patches
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return Figure, FigureCanvasAgg, patches


# -- layout: panels in a table of rows and columns, sized in grid cells ----------------
class _Table:
    """Axes laid out in rows and columns; every grid pixel is ``CELL`` inches square."""

    def __init__(self, panels, header=1.4, footer=0.0, texts=(), titles=None):
        # panels: {(row, col): (n_rows, n_cols)} of the grid drawn there; a column is
        # also wide enough for its panels' ``titles`` ({(row, col): title}).
        Figure, FigureCanvasAgg, self.patches = require_matplotlib()
        nrow = 1 + max(r for r, _ in panels)
        ncol = 1 + max(c for _, c in panels)
        tw = {key: max(_text_cells(line, 9.5) for line in title.split("\n"))
              for key, title in (titles or {}).items()}
        self.col_w = [max([max(s[1], tw.get((r, c), 0) - 0.6) for (r, c), s in panels.items()
                           if c == j] + [0]) for j in range(ncol)]
        self.row_h = [max([s[0] for (r, _), s in panels.items() if r == i] + [0])
                      for i in range(nrow)]
        content = sum(self.col_w) + GAP * (ncol - 1)
        # Wide enough for the longest line of text (``texts``: (string, fontsize) pairs).
        self.width = max([content + 2 * MARGIN] + [_text_cells(*t) + 2 * MARGIN for t in texts])
        self.x0 = (self.width - content) / 2
        self.height = (header + footer + MARGIN + sum(h + TITLE for h in self.row_h)
                       + ROW_GAP * (nrow - 1))
        self.header, self.footer = header, footer
        self.fig = Figure(figsize=(self.width * CELL, self.height * CELL), dpi=DPI)
        FigureCanvasAgg(self.fig)
        self.axes = {}
        for (r, c), (h, w) in panels.items():
            x = self.col_x(c) + (self.col_w[c] - w) / 2
            y = self.row_top(r) + TITLE + (self.row_h[r] - h) / 2
            ax = self.fig.add_axes([x / self.width, 1 - (y + h) / self.height,
                                    max(w, 1e-3) / self.width, max(h, 1e-3) / self.height])
            ax.set_xlim(0, max(w, 1e-3))
            ax.set_ylim(max(h, 1e-3), 0)
            ax.set_axis_off()
            self.axes[r, c] = ax

    def col_x(self, c):
        return self.x0 + sum(self.col_w[:c]) + GAP * c

    def row_top(self, r):
        return self.header + sum(h + TITLE + ROW_GAP for h in self.row_h[:r])

    def text(self, x, y, s, **kw):
        """Text at ``(x, y)`` cells from the figure's top-left corner."""
        kw = {"ha": "center", "va": "center", **kw}
        return self.fig.text(x / self.width, 1 - y / self.height, s, **kw)

    def between(self, r, c, s, size=18):
        """A symbol (an arrow, '=') in the gap after column ``c``, level with row ``r``."""
        x = self.col_x(c + 1) - GAP / 2
        self.text(x, self.row_top(r) + TITLE + self.row_h[r] / 2, s, fontsize=size,
                  color="#444444")

    def below(self, r, c, s, size=16):
        """A symbol in the gap under the panel at ``(r, c)``."""
        x = self.col_x(c) + self.col_w[c] / 2
        self.text(x, self.row_top(r) + TITLE + self.row_h[r] + ROW_GAP / 2 + 0.35, s,
                  fontsize=size, color="#444444")

    def legend(self, kinds, extra=()):
        P = self.patches
        handles = [P.Patch(facecolor=SHADE[k], edgecolor="#555555", label=SHADE_NAMES[k])
                   for k in kinds]
        handles += list(extra)
        self.fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 4),
                        fontsize=8.5, frameon=False, handlelength=1.4,
                        bbox_to_anchor=(0.5, 0.2 * MARGIN / self.height))


def _text_cells(s, size):
    """About how many grid cells wide a line of text is (DejaVu Sans, ~0.6 em a char)."""
    return len(s) * size * 0.6 / 72 / CELL


def _fontsize(labels):
    n = max([len(s) for s in labels] + [1])
    return {1: 10.5, 2: 10.5, 3: 9}.get(n, max(5.0, 9 - 1.1 * (n - 3)))


def _grid(ax, values, kinds=None, blank=None, title=None):
    """Draw ``values`` as pixels with their values; ``kinds`` picks each cell's shade.

    ``blank`` (bool array) leaves those cells empty (not yet computed).  Returns the texts.
    """
    from matplotlib.patches import Rectangle
    values = np.asarray(values)
    rows, cols = values.shape
    labels = [fmt_value(v) for v in values.ravel()]
    size = _fontsize(labels)
    texts = {}
    for r in range(rows):
        for c in range(cols):
            kind = REAL if kinds is None else int(kinds[r, c])
            ax.add_patch(Rectangle((c, r), 1, 1, facecolor=SHADE[kind], edgecolor="#555555",
                                   lw=0.8, clip_on=False, zorder=1))
            shown = "" if blank is not None and blank[r, c] else labels[r * cols + c]
            texts[r, c] = ax.text(c + 0.5, r + 0.53, shown, ha="center", va="center",
                                  fontsize=size, zorder=4,
                                  color="#000000" if kind == REAL else "#8a8a8a")
    if title:
        ax.set_title(title, fontsize=9.5, pad=4, linespacing=1.25)
    return texts


def _window(ax, ex, position, c_in=0, c_out=None):
    """The kernel's window at one output ``position`` on a Step 3 panel (artists)."""
    from matplotlib.patches import Rectangle
    (kh, kw), (dh, dw) = ex.kernel_size, ex.dilation
    r, q = position
    arts = [ax.add_patch(Rectangle((q, r), dw * (kw - 1) + 1, dh * (kh - 1) + 1, fill=False,
                                   edgecolor=WINDOW, lw=2.6, zorder=6, clip_on=False))]
    for a, b, i, j in ex.taps(position):
        arts.append(ax.add_patch(Rectangle((b, a), 1, 1, facecolor=WINDOW, alpha=0.22,
                                           lw=0, zorder=2)))
        if c_out is not None:
            arts.append(ax.text(b + 0.95, a + 0.93, "\u00d7" + fmt_value(ex.rotated[c_in, c_out,
                                                                                i, j]),
                                ha="right", va="bottom", fontsize=6.5, color=WINDOW,
                                zorder=5, fontweight="bold"))
    return arts


def _pick(ax, position):
    """Highlight one output pixel."""
    from matplotlib.patches import Rectangle
    r, q = position
    return [ax.add_patch(Rectangle((q, r), 1, 1, facecolor=PICK, edgecolor=WINDOW, lw=2.6,
                                   zorder=3, clip_on=False))]


def _crop_marks(ax, ex):
    """Step 2: hatch the border that Step 3 removes and frame what stays."""
    from matplotlib.patches import Rectangle
    rows, cols = ex.kinds_padded.shape
    r0, r1, c0, c1 = ex.keep
    for r in range(rows):
        for c in range(cols):
            if not (r0 <= r < r1 and c0 <= c < c1):
                ax.add_patch(Rectangle((c, r), 1, 1, fill=False, hatch="////", lw=0,
                                       edgecolor=CROP, alpha=0.55, zorder=2))
    if r1 > r0 and c1 > c0 and (r1 - r0, c1 - c0) != (rows, cols):
        ax.add_patch(Rectangle((c0, r0), c1 - c0, r1 - r0, fill=False, edgecolor=CROP, lw=2,
                               ls=(0, (4, 2)), zorder=6, clip_on=False))


def _dims(shape):
    return "\u00d7".join(str(n) for n in shape)


def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _arg(v):
    return v[0] if len(set(v)) == 1 else v


def _step_titles(ex):
    (bh, bw), pads = ex.border, ex.pads
    s1 = _arg(tuple(s - 1 for s in ex.stride))
    pad = pads[0][0] if len({p for pair in pads for p in pair}) == 1 else pads
    crop = f"crop padding {pad}"
    if any(ex.output_padding):
        crop += f", add {_arg(ex.output_padding)}"
    return (f"Step 1 ({_dims(ex.dilated.shape[1:])})\ninsert stride\u22121 = {s1} "
            + ("zero" if s1 == 1 else "zeros"),
            f"Step 2 ({_dims(ex.padded.shape[1:])})\nborder of "
            + ("dilation\u00b7" if max(ex.dilation) > 1 else "")
            + f"(kernel\u22121) = {_arg((bh, bw))}",
            f"Step 3 ({_dims(ex.cropped.shape[1:])})\n{crop}")


def _header(ex):
    s = (f"input {_dims(ex.image.shape if not ex.single else ex.image.shape[1:])}, "
         f"kernel {_dims(ex.weight.shape if not ex.single else ex.kernel_size)}, "
         f"stride {_arg(ex.stride)}, padding {ex.padding_arg!r}")
    if any(ex.output_padding):
        s += f", output_padding {_arg(ex.output_padding)}"
    if max(ex.dilation) > 1:
        s += f", dilation {_arg(ex.dilation)}"
    out = ex.result.shape if not ex.single else ex.result.shape[1:]
    return f"Transposed convolution: {s} \u2192 output {_dims(out)}"


def _equation(ex, c_in, c_out, position):
    terms = ex.terms(c_in, c_out, position)
    total = sum(a * b for a, b in terms)
    shown = " + ".join(f"{fmt_value(a)}\u00d7{fmt_value(b)}" for a, b in terms)
    if len(terms) > 12:  # keep the line short: only the real pixels' products
        shown = " + ".join(f"{fmt_value(a)}\u00d7{fmt_value(b)}" for a, b in terms if a) or "0"
    return shown, total


def _kinds_present(ex):
    return [k for k in (REAL, INSERTED, BORDER, EXTRA)
            if (ex.kinds_padded == k).any() or (ex.kinds_cropped == k).any()]


def _legend_extra(patches, cropped=True):
    out = [patches.Patch(facecolor="none", edgecolor=WINDOW, lw=2.2,
                         label="kernel window (rotated 180\u00b0)"),
           patches.Patch(facecolor=PICK, edgecolor=WINDOW, lw=2.2, label="output pixel")]
    if cropped:
        out.insert(0, patches.Patch(facecolor="none", edgecolor=CROP, hatch="////", lw=0,
                                    label="removed in Step 3"))
    return out


def _figure_single(ex):
    t1, t2, t3 = _step_titles(ex)
    k = ex.kernel_size
    panels = {(0, 0): ex.image.shape[1:], (0, 1): k, (0, 2): k,
              (1, 0): ex.dilated.shape[1:], (1, 1): ex.padded.shape[1:],
              (1, 2): ex.cropped.shape[1:], (1, 3): ex.result.shape[1:]}
    eq = ""
    if ex.result.size:
        shown, total = _equation(ex, 0, 0, ex.position)
        eq = f"Result[{ex.position[0]}, {ex.position[1]}] = {shown} = {fmt_value(total)}"
    titles = {(1, 0): t1, (1, 1): t2, (1, 2): t3}
    t = _Table(panels, footer=3.4, texts=[(_header(ex), 11.5), (eq, 10)], titles=titles)
    ax = t.axes
    _grid(ax[0, 0], ex.image[0], title=f"Input ({_dims(ex.image.shape[1:])})")
    _grid(ax[0, 1], ex.weight[0, 0], title=f"Kernel ({_dims(k)})")
    _grid(ax[0, 2], ex.rotated[0, 0], title="Kernel rotated\nby 180\u00b0")
    _grid(ax[1, 0], ex.dilated[0], ex.kinds_dilated, title=t1)
    _grid(ax[1, 1], ex.padded[0], ex.kinds_padded, title=t2)
    _crop_marks(ax[1, 1], ex)
    _grid(ax[1, 2], ex.cropped[0], ex.kinds_cropped, title=t3)
    _grid(ax[1, 3], ex.result[0], title=f"Result ({_dims(ex.result.shape[1:])})\n"
                                        "stride-1 convolution")
    for c in range(3):
        t.between(1, c, "\u2192")
    if ex.result.size:
        _window(ax[1, 2], ex, ex.position, 0, 0)
        _pick(ax[1, 3], ex.position)
        t.text(t.width / 2, t.height - t.footer + 0.6, eq, fontsize=10, color=WINDOW)
    t.text(t.width / 2, 0.7, _header(ex), fontsize=11, fontweight="bold")
    t.legend(_kinds_present(ex), _legend_extra(t.patches, _crops(ex)))
    return t.fig


def _crops(ex):
    return (ex.keep[1] - ex.keep[0], ex.keep[3] - ex.keep[2]) != ex.kinds_padded.shape


def _figure_channels(ex):
    """One row per input channel (its steps, and what it adds to each output channel),
    and a last row with each output channel: the sum over the input channels."""
    ci, co = ex.weight.shape[:2]
    t1, t2, t3 = _step_titles(ex)
    panels = {}
    for c in range(ci):
        panels.update({(c, 0): ex.image.shape[1:], (c, 1): ex.dilated.shape[1:],
                       (c, 2): ex.padded.shape[1:], (c, 3): ex.cropped.shape[1:]})
        for o in range(co):
            panels[c, 4 + 2 * o] = ex.kernel_size
            panels[c, 5 + 2 * o] = ex.result.shape[1:]
    for o in range(co):
        panels[ci, 5 + 2 * o] = ex.result.shape[1:]
    pos = ex.position
    lines = []
    for o in range(co * (ex.result.size > 0)):
        parts = [fmt_value(_equation(ex, c, o, pos)[1]) for c in range(ci)]
        lines.append(f"Result channel {o} [{pos[0]}, {pos[1]}] = " + " + ".join(parts)
                     + f" = {fmt_value(ex.result[o, pos[0], pos[1]])}")
    titles = {(c, j): title for c in range(ci) for j, title in ((1, t1), (2, t2), (3, t3))}
    t = _Table(panels, footer=2.4 + 0.9 * co, texts=[(_header(ex), 11.5)], titles=titles)
    ax = t.axes
    for c in range(ci):
        _grid(ax[c, 0], ex.image[c], title=f"Input channel {c}\n({_dims(ex.image.shape[1:])})")
        _grid(ax[c, 1], ex.dilated[c], ex.kinds_dilated, title=t1)
        _grid(ax[c, 2], ex.padded[c], ex.kinds_padded, title=t2)
        _crop_marks(ax[c, 2], ex)
        _grid(ax[c, 3], ex.cropped[c], ex.kinds_cropped, title=t3)
        for j in range(3):
            t.between(c, j, "\u2192")
        t.between(c, 3, "\u2217", size=16)
        if ex.result.size:
            _window(ax[c, 3], ex, pos)
        for o in range(co):
            _grid(ax[c, 4 + 2 * o], ex.rotated[c, o], title=f"w[{c}, {o}]\nrotated 180\u00b0")
            _grid(ax[c, 5 + 2 * o], ex.contribution(c, o),
                  title=f"channel {c} \u2192 out {o}\n(Step 3 \u2217 w[{c}, {o}])")
            t.between(c, 4 + 2 * o, "=", size=16)
            if ex.result.size:
                _pick(ax[c, 5 + 2 * o], pos)
            t.below(c, 5 + 2 * o, "+" if c < ci - 1 else "=")
    for o in range(co):
        _grid(ax[ci, 5 + 2 * o], ex.result[o],
              title=f"Result channel {o}\n(sum over {ci} channels)")
        if ex.result.size:
            _pick(ax[ci, 5 + 2 * o], pos)
    t.text(t.col_x(0), t.row_top(ci) + TITLE + 0.3,
           "The filter group: each output channel sums\nwhat every input channel "
           "contributes to it\n(the same four steps per input channel).",
           ha="left", va="top", fontsize=10)
    for i, line in enumerate(lines):
        t.text(t.width / 2, t.height - t.footer + 0.6 + 0.9 * i, line, fontsize=10,
               color=WINDOW)
    t.text(t.width / 2, 0.7, _header(ex), fontsize=11, fontweight="bold")
    t.legend(_kinds_present(ex), _legend_extra(t.patches, _crops(ex)))
    return t.fig


def _save_png(fig, path):
    fig.savefig(path, dpi=DPI, metadata={"Software": None})


def _animate(ex, path, ms=700):
    """A GIF: the window slides over Step 3 and the Result fills pixel by pixel
    (one frame per output pixel, in raster order)."""
    from PIL import Image
    ci, co = ex.weight.shape[:2]
    oh, ow = ex.result.shape[1:]
    if oh * ow == 0:
        raise ValueError("plot_steps: the result is empty; nothing to animate")
    panels = {(c, 0): ex.cropped.shape[1:] for c in range(ci)}
    panels.update({(o, 1): ex.result.shape[1:] for o in range(co)})
    if ex.single:
        panels[0, 1] = ex.kernel_size
        panels[0, 2] = ex.result.shape[1:]
    longest = max((_equation(ex, 0, 0, (r, q)) for r in range(oh) for q in range(ow)),
                  key=lambda e: len(e[0]))[0] if ex.single else ""
    _, _, t3 = _step_titles(ex)
    t = _Table(panels, header=1.4, footer=1.6,
               texts=[(_header(ex), 11), ("Result[0, 0] = " + longest + " = 00000", 10)],
               titles={(0, 0): t3})
    ax = t.axes
    for c in range(ci):
        _grid(ax[c, 0], ex.cropped[c], ex.kinds_cropped,
              title=t3 if ex.single else f"Step 3, channel {c}")
    res_col = 2 if ex.single else 1
    if ex.single:
        _grid(ax[0, 1], ex.rotated[0, 0], title="Kernel rotated\nby 180\u00b0")
        t.between(0, 0, "\u2217", size=16)
        t.between(0, 1, "=", size=16)
    blank = np.ones(ex.result.shape[1:], dtype=bool)
    texts = [_grid(ax[o, res_col], ex.result[o], blank=blank,
                   title=f"Result ({_dims(ex.result.shape[1:])})" if ex.single
                   else f"Result channel {o}") for o in range(co)]
    t.text(t.width / 2, 0.7, _header(ex), fontsize=11, fontweight="bold")
    caption = t.text(t.width / 2, t.height - 1.0, "", fontsize=10, color=WINDOW)
    frames, dynamic = [], []
    for r in range(oh):
        for q in range(ow):
            for a in dynamic:
                a.remove()
            dynamic = []
            for c in range(ci):
                dynamic += _window(ax[c, 0], ex, (r, q), c, 0 if ex.single else None)
            for o in range(co):
                texts[o][r, q].set_text(fmt_value(ex.result[o, r, q]))
                dynamic += _pick(ax[o, res_col], (r, q))
            if ex.single:
                shown, total = _equation(ex, 0, 0, (r, q))
                caption.set_text(f"Result[{r}, {q}] = {shown} = {fmt_value(total)}")
            else:
                caption.set_text(f"output pixel [{r}, {q}]: each output channel sums its "
                                 f"{ci} input channels' windows")
            t.fig.canvas.draw()
            rgba = np.asarray(t.fig.canvas.buffer_rgba())
            frames.append(Image.fromarray(rgba[..., :3].copy()))
    palette = frames[0].quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    frames = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    durations = [ms] * (len(frames) - 1) + [ms * 4]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   optimize=True)
    return len(frames)


def plot_steps(image, kernel, stride=1, padding=0, *, output_padding=0, dilation=1,
               position=None, path=None, animate=None):
    """Draw the lesson's steps of one transposed convolution; return the matplotlib Figure.

    Arguments as :func:`deconv_core.steps` (a 2-D ``(H, W)`` image with a ``(kH, kW)``
    kernel, or ``(C_in, H, W)`` with ``(C_in, C_out, kH, kW)``).  The figure shows
    the input and kernel, Step 1 (inserted zeros shaded), Step 2 (border zeros
    shaded differently; the border Step 3 removes hatched and what stays framed),
    Step 3 with the kernel's window at one output ``position`` (row, col; default:
    the first whose window covers the most real pixels) and the Result with that
    output pixel highlighted.  With channels, one row per input channel and what
    it contributes to each output channel, and the sums.

    ``path`` writes the figure as PNG; ``animate`` writes a GIF of the window sliding
    over Step 3 while the Result fills in, one frame per output pixel.  Needs
    matplotlib (``pip install deconv_core[plot]``); drawn on the Agg canvas.
    """
    require_matplotlib()
    ex = explanation(image, kernel, stride, padding, output_padding=output_padding,
                     dilation=dilation, position=position)
    fig = _figure_single(ex) if ex.single else _figure_channels(ex)
    if path is not None:
        _save_png(fig, path)
    if animate is not None:
        _animate(ex, animate)
    return fig


def plot_conv(image, kernel, stride=1, padding=0, *, dilation=1, path=None):
    """Draw a forward convolution (2-D image and kernel): the padded input with every
    window position, and the output pixel each one produces.  Returns the Figure and
    writes a PNG to ``path`` if given.  Padding forms as :func:`deconv_core.conv2d`."""
    from .._validation import prepare
    from ..api import conv2d
    require_matplotlib()
    img, ker = np.asarray(image), np.asarray(kernel)
    if img.ndim != 2 or ker.ndim != 2:
        raise ValueError(f"plot_conv: image {img.shape} and kernel {ker.shape} must be 2-D")
    c = prepare("plot_conv", 2, False, img[None], ker[None, None], None, stride, padding,
                dilation, 1)
    out = conv2d(img[None], ker[None, None], stride=stride, padding=padding,
                 dilation=dilation)[0]
    padded = np.pad(c.x[0, 0], c.pads)
    kinds = np.pad(np.full(img.shape, REAL, dtype=np.int8), c.pads, constant_values=BORDER)
    panels = {(0, 0): img.shape, (0, 1): ker.shape, (1, 0): padded.shape, (1, 1): out.shape}
    title = (f"Convolution: input {_dims(img.shape)}, filter {_dims(ker.shape)}, stride "
             f"{_arg(c.stride)}, padding {padding!r} \u2192 output {_dims(out.shape)}")
    sizes = ("out = (in + pad_before + pad_after \u2212 kernel) // stride + 1 = "
             + ", ".join(f"({n} + {a} + {b} \u2212 {d * (k - 1) + 1}) // {s} + 1 = {o}"
                         for n, (a, b), d, k, s, o in
                         sorted(set(zip(img.shape, c.pads, c.dilation, ker.shape, c.stride,
                                        out.shape)))))
    t = _Table(panels, footer=2.4, texts=[(title, 11.5), (sizes, 9.5)])
    ax = t.axes
    _grid(ax[0, 0], img, title=f"Input ({_dims(img.shape)})")
    _grid(ax[0, 1], ker, title=f"Filter ({_dims(ker.shape)})")
    pad = _arg(tuple(p for pair in c.pads for p in pair))
    _grid(ax[1, 0], padded, kinds,
          title=f"Input with padding {pad} ({_dims(padded.shape)}):\n"
                f"the filter's windows at stride {_arg(c.stride)}")
    _grid(ax[1, 1], out, title=f"Output ({_dims(out.shape)})")
    t.between(1, 0, "\u2192")
    from matplotlib import colormaps
    from matplotlib.patches import Rectangle
    colors = colormaps["tab10"].colors
    (sh, sw), (dh, dw), (kh, kw) = c.stride, c.dilation, ker.shape
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            n = i * out.shape[1] + j
            col = colors[n % len(colors)]
            inset = 0.07 + 0.06 * (n % 3) if (sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1) \
                else 0.07
            ax[1, 0].add_patch(Rectangle((j * sw + inset, i * sh + inset),
                                         dw * (kw - 1) + 1 - 2 * inset,
                                         dh * (kh - 1) + 1 - 2 * inset, fill=False,
                                         edgecolor=col, lw=2.4, zorder=6))
            ax[1, 0].text(j * sw + inset + 0.08, i * sh + inset + 0.05, f"{i},{j}",
                          fontsize=6.5, color=col, ha="left", va="top", zorder=7,
                          fontweight="bold")
            ax[1, 1].add_patch(Rectangle((j + 0.07, i + 0.07), 0.86, 0.86, fill=False,
                                         edgecolor=col, lw=2.4, zorder=6))
    t.text(t.width / 2, 0.7, title, fontsize=11, fontweight="bold")
    t.text(t.width / 2, t.height - t.footer + 0.5, sizes, fontsize=9.5)
    P = t.patches
    t.fig.legend(handles=[P.Patch(facecolor=SHADE[REAL], edgecolor="#555555",
                                  label="input pixel"),
                          P.Patch(facecolor=SHADE[BORDER], edgecolor="#555555",
                                  label="padding (null pixel)"),
                          P.Patch(facecolor="none", edgecolor=colors[0], lw=2.2,
                                  label="a window and the output pixel it gives")],
                 loc="lower center", ncol=3, fontsize=8.5, frameon=False,
                 bbox_to_anchor=(0.5, 0.2 * MARGIN / t.height))
    if path is not None:
        _save_png(t.fig, path)
    return t.fig
