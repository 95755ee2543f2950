"""Every step of one transposed convolution, as text (``python -m deconv_core explain``).

The lesson's four steps (insert ``stride - 1`` zeros, surround with
``dilation*(kernel - 1)`` zeros, crop ``padding``, convolve with stride 1 and the
kernel rotated by 180 degrees) are printed as aligned grids, with inserted zeros,
border zeros and real values told apart, followed by the output-size arithmetic
and the check that a convolution with the same stride and padding gives back the
input's size.

:func:`explanation` computes everything the text and the figures show (the steps,
which cell of each step is what, the cropped border, one output's window); it is
shared by this module and :mod:`deconv_core.lesson.pictures`.
"""
import numpy as np

from .._validation import per_dim, prepare
from .steps import steps

__all__ = ["Explanation", "explanation", "format_grid", "explain_text", "LESSON_IMAGE",
           "LESSON_KERNEL"]

# What a cell of Step 1 / 2 / 3 is: a real input value (which may be 0), a zero
# inserted between pixels (Step 1), a border zero (Step 2), or a zero that
# output_padding appends at the end (Step 3).
REAL, INSERTED, BORDER, EXTRA = 0, 1, 2, 3
MARKS = {INSERTED: "\u00b7", BORDER: "\u2218", EXTRA: "+"}
KIND_NAMES = {REAL: "real value", INSERTED: "zero inserted in Step 1",
              BORDER: "border zero added in Step 2", EXTRA: "zero added by output_padding"}

LESSON_IMAGE = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
LESSON_KERNEL = np.array([[1.0, 2.0], [3.0, 4.0]])


class Explanation:
    """Everything one transposed convolution's explanation shows.

    Arrays always carry a channel axis: ``image`` is ``(C_in, H, W)``, ``weight``
    ``(C_in, C_out, kH, kW)``, ``dilated``/``padded``/``cropped`` ``(C_in, ., .)``,
    ``result`` ``(C_out, ., .)``; ``single`` says the call was 2-D.  The ``kinds_*``
    arrays (2-D, shared by all channels) hold :data:`REAL`, :data:`INSERTED`,
    :data:`BORDER` or :data:`EXTRA` for each cell of Step 1, Step 2 (extended by
    the output_padding cells, if any) and Step 3.  ``keep`` is ``(r0, r1, c0, c1)``:
    the part of the extended Step 2 that Step 3 keeps.  ``pads`` are the
    ``(before, after)`` pairs of the padding actually removed, ``output_padding``
    the zeros appended.
    """

    def __init__(self, image, kernel, stride=1, padding=0, *, output_padding=0, dilation=1,
                 position=None):
        img = np.asarray(image)
        ker = np.asarray(kernel)
        self.single = img.ndim == 2
        if self.single:
            img, ker = img[None], ker[None, None]
        self.padding_arg = padding
        c = prepare("explain", 2, True, img, ker, None, stride, padding, dilation, 1,
                    output_padding, None, None, 1)
        s = steps(img, ker, stride, padding, output_padding=output_padding, dilation=dilation)
        self.image, self.weight = c.x[0], c.w
        self.dilated, self.padded, self.cropped, self.result = s
        self.rotated = self.weight[:, :, ::-1, ::-1]
        self.stride, self.dilation = c.stride, c.dilation
        self.kernel_size = self.weight.shape[2:]
        self.border = tuple(d * (k - 1) for d, k in zip(self.dilation, self.kernel_size))
        self.output_padding = per_dim("explain", "output_padding", output_padding, 2, 0)
        # c.pads hold (before, after - output_padding); a negative 'after' ('same' with a
        # stride wider than the kernel's span) appends zeros instead of removing.
        self.pads = tuple((pb, pa + o) for (pb, pa), o in zip(c.pads, self.output_padding))

        self.kinds_dilated = np.full(self.dilated.shape[1:], INSERTED, dtype=np.int8)
        self.kinds_dilated[::self.stride[0], ::self.stride[1]] = REAL
        (bh, bw) = self.border
        self.kinds_padded = np.pad(self.kinds_dilated, ((bh, bh), (bw, bw)),
                                   constant_values=BORDER)
        (ph0, ph1), (pw0, pw1) = self.pads
        nh, nw = self.kinds_padded.shape
        self.keep = (ph0, max(ph0, nh - max(ph1, 0)), pw0, max(pw0, nw - max(pw1, 0)))
        kept = self.kinds_padded[self.keep[0]:self.keep[1], self.keep[2]:self.keep[3]]
        # Step 3 = the kept block, then zeros appended at the end (output_padding).
        self.kinds_cropped = np.full(self.cropped.shape[1:], EXTRA, dtype=np.int8)
        h, w = (min(a, b) for a, b in zip(kept.shape, self.kinds_cropped.shape))
        self.kinds_cropped[:h, :w] = kept[:h, :w]
        self.position = self._position(position)

    # -- one output pixel's window -------------------------------------------------
    def taps(self, position=None):
        """Step 3 cells ``(row, col, tap_row, tap_col)`` under the window of one output."""
        r, q = self.position if position is None else position
        (kh, kw), (dh, dw) = self.kernel_size, self.dilation
        return [(r + i * dh, q + j * dw, i, j) for i in range(kh) for j in range(kw)]

    def _position(self, position):
        oh, ow = self.result.shape[1:]
        if position is not None:
            r, q = (int(v) for v in position)
            if not (0 <= r < oh and 0 <= q < ow):
                raise ValueError(f"explain: position={position!r} is outside the "
                                 f"{oh} x {ow} result")
            return r, q
        if oh * ow == 0:
            return 0, 0
        # The first output whose window covers the most real pixels.
        counts = [(-sum(self.kinds_cropped[a, b] == REAL for a, b, _, _ in self.taps((r, q))),
                   r, q) for r in range(oh) for q in range(ow)]
        return min(counts)[1:]

    def terms(self, c_in=0, c_out=0, position=None):
        """``[(step3_value, rotated_tap_value), ...]`` summed into one output pixel."""
        return [(self.cropped[c_in, a, b], self.rotated[c_in, c_out, i, j])
                for a, b, i, j in self.taps(position)]

    def contribution(self, c_in, c_out):
        """What input channel ``c_in`` adds to output channel ``c_out`` (2-D)."""
        return steps(self.image[c_in], self.weight[c_in, c_out], self.stride, self.padding_arg,
                     output_padding=self.output_padding, dilation=self.dilation).result

    # -- sizes ----------------------------------------------------------------------
    def size_lines(self):
        """The output-size arithmetic, per dimension (one line when H and W agree)."""
        dims = []
        for n, k, s, d, (pb, pa), op, b in zip(self.image.shape[1:], self.kernel_size,
                                               self.stride, self.dilation, self.pads,
                                               self.output_padding, self.border):
            out = (n - 1) * s - pb - pa + d * (k - 1) + op + 1
            s1 = (n - 1) * s + 1
            formula = (f"({n} - 1)*{s} - {_paren(pb)} - {_paren(pa)} + {d}*({k} - 1) "
                       f"+ {op} + 1 = {out}")
            chain = (f"{n} -> Step 1: ({n} - 1)*{s} + 1 = {s1} -> Step 2: {s1} + 2*{b} = "
                     f"{s1 + 2 * b} -> Step 3: {s1 + 2 * b} - {_paren(pb)} - {_paren(pa)} "
                     f"+ {op} = {s1 + 2 * b - pb - pa + op} -> Result: "
                     f"{s1 + 2 * b - pb - pa + op} - {b} = {out}")
            dims.append((formula, chain))
        names = ["H and W"] if dims[0] == dims[1] else ["H", "W"]
        lines = ["Output size: (in - 1)*stride - pad_before - pad_after "
                 "+ dilation*(kernel - 1) + output_padding + 1"]
        for name, (formula, chain) in zip(names, dims):
            lines += [f"  {name}: {formula}", f"  {' ' * len(name)}  ({chain})"]
        return lines

    def roundtrip(self):
        """``(lines, ok)``: the convolution of the Result with the same stride and padding."""
        from ..api import conv2d
        # The transposed layout (C_in, C_out, k, k) is conv2d's (C_out', C_in', k, k)
        # for a convolution from C_out channels back to C_in: the same array.
        c = prepare("conv2d", 2, False, self.result, self.weight, None, self.stride,
                    self.padding_arg, self.dilation, 1)
        back = conv2d(self.result, self.weight, stride=self.stride, padding=self.padding_arg,
                      dilation=self.dilation)
        want = self.image.shape[1:]
        parts = [f"({n} + {pb} + {pa} - {d}*({k} - 1) - 1) // {s} + 1 "
                 f"= {(n + pb + pa - d * (k - 1) - 1) // s + 1}"
                 for n, k, s, d, (pb, pa) in zip(self.result.shape[1:], self.kernel_size,
                                                 self.stride, self.dilation, c.pads)]
        names = ["H and W"] if parts[0] == parts[1] else ["H", "W"]
        ok = back.shape[1:] == want
        lines = [f"Check: deconv_core.conv2d(Result, kernel, stride={_arg(self.stride)}, "
                 f"padding={self.padding_arg!r}) has size (in + pad_before + pad_after "
                 f"- dilation*(kernel - 1) - 1) // stride + 1:"]
        lines += [f"  {name}: {p}" for name, p in zip(names, parts)]
        lines.append(f"  -> {_shape(back.shape[1:])}, the input's size {_shape(want)}: "
                     f"{'yes' if ok else 'NO'}")
        return lines, ok


def explanation(image, kernel, stride=1, padding=0, *, output_padding=0, dilation=1,
                position=None):
    """The :class:`Explanation` of ``steps(image, kernel, ...)`` (arguments as there)."""
    return Explanation(image, kernel, stride, padding, output_padding=output_padding,
                       dilation=dilation, position=position)


def _paren(v):
    return f"({v})" if v < 0 else str(v)


def _arg(pair):
    return pair[0] if pair[0] == pair[1] else pair


def _shape(shape):
    return " x ".join(str(n) for n in shape)


def fmt_value(v):
    """A cell's value as printed: integers without a decimal point, ``-0`` as ``0``."""
    v = float(v) + 0.0
    if v.is_integer() and abs(v) < 1e12:
        return str(int(v))
    return f"{v:.4g}"


# -- text grids ---------------------------------------------------------------------
def format_grid(values, kinds=None, frame=None, width=None, indent="    "):
    """Lines of an aligned grid.

    ``kinds`` (same shape, :data:`REAL`...) prints non-real cells as their mark;
    ``frame`` = ``(r0, r1, c0, c1)`` draws a box around that block of cells.
    """
    values = np.asarray(values)
    rows, cols = values.shape
    text = [[fmt_value(values[r, c]) if kinds is None or kinds[r, c] == REAL
             else MARKS[int(kinds[r, c])] for c in range(cols)] for r in range(rows)]
    width = width or max([len(t) for row in text for t in row] + [1])
    r0, r1, c0, c1 = frame if frame and frame[0] < frame[1] and frame[2] < frame[3] \
        else (-1, -1, -1, -1)

    def rule(left, right):
        seps = [left if c == c0 else right if c == c1 else "\u2500" if c0 < c < c1 else " "
                for c in range(cols + 1)]
        return (indent + "".join(seps[c] + ("\u2500" if c0 <= c < c1 else " ") * width
                                 for c in range(cols)) + seps[cols]).rstrip()

    lines = []
    for r in range(rows):
        if r == r0:
            lines.append(rule("\u250c", "\u2510"))
        inside = r0 <= r < r1
        seps = ["\u2502" if inside and c in (c0, c1) else " " for c in range(cols + 1)]
        lines.append((indent + "".join(seps[c] + f"{text[r][c]:>{width}}" for c in range(cols))
                      + seps[cols]).rstrip())
    if r0 >= 0:  # after the top rule and rows 0..r1-1
        lines.insert(r1 + 1, rule("\u2514", "\u2518"))
    return lines


def _block(title, values, kinds=None, frame=None, width=None):
    return [f"{title} ({_shape(np.shape(values))}):"] + format_grid(values, kinds, frame, width)


def _removed(r0, r1, c0, c1, rows, cols):
    def span(lo, hi, what):
        if hi <= lo:
            return []
        return [f"{what} {lo}" if hi - lo == 1 else f"{what}s {lo}..{hi - 1}"]
    parts = (span(0, r0, "row") + span(r1, rows, "row") + span(0, c0, "col")
             + span(c1, cols, "col"))
    return ", ".join(parts) if parts else "nothing"


def _appended(ex):
    add = tuple(n - (hi - lo) for n, lo, hi in zip(ex.cropped.shape[1:], ex.keep[::2],
                                                    ex.keep[1::2]))
    if not any(add):
        return ""
    why = "output_padding" if any(ex.output_padding) else "'same' padding"
    return f", then append {_arg(add)} zero(s) at the end ({why})"


def explain_text(image, kernel, stride=1, padding=0, *, output_padding=0, dilation=1,
                 position=None):
    """The whole explanation as one string (what ``python -m deconv_core explain`` prints)."""
    ex = explanation(image, kernel, stride, padding, output_padding=output_padding,
                     dilation=dilation, position=position)
    ci, co = ex.weight.shape[:2]
    (sh, sw), (bh, bw) = ex.stride, ex.border
    width = max(len(fmt_value(v)) for a in (ex.image, ex.weight, ex.result, ex.cropped)
                for v in a.ravel()) if ex.result.size else 1
    out = ["Transposed convolution (deconvolution), step by step",
           f"  input {_shape(ex.image.shape if not ex.single else ex.image.shape[1:])}, "
           f"kernel {_shape(ex.weight.shape if not ex.single else ex.kernel_size)}, "
           f"stride {_arg(ex.stride)}, padding {ex.padding_arg!r}, "
           f"output_padding {_arg(ex.output_padding)}, dilation {_arg(ex.dilation)}",
           "Legend: numbers are real values (a real 0 prints as 0); "
           + "; ".join(f"{MARKS[k]} = {KIND_NAMES[k]}" for k in (INSERTED, BORDER, EXTRA)),
           ""]
    er, ec = ex.kinds_padded.shape
    r0, r1, c0, c1 = ex.keep
    (pb_h, pa_h), (pb_w, pa_w) = ex.pads
    for c in range(ci):
        tag = "" if ex.single else f" channel {c}"
        out += _block(f"Input{tag}", ex.image[c], width=width)
        if ex.single:
            out += _block("Kernel", ex.weight[0, 0], width=width)
        out += ([""] + _block(f"Step 1{tag}: insert stride - 1 = {_arg((sh - 1, sw - 1))} "
                              f"zero(s) between neighbouring pixels", ex.dilated[c],
                              ex.kinds_dilated, width=width)
                + [""] + _block(f"Step 2{tag}: surround with dilation*(kernel - 1) = "
                                f"{_arg((bh, bw))} zero(s) on every side", ex.padded[c],
                                ex.kinds_padded, width=width)
                + ["", f"Step 3{tag}: remove the padding from each border (top {pb_h}, "
                       f"bottom {pa_h}, left {pb_w}, right {pa_w})"
                       + _appended(ex)]
                + [f"  removed from Step 2: {_removed(r0, r1, c0, c1, er, ec)}; "
                   f"the frame shows what stays:"]
                + format_grid(ex.padded[c], ex.kinds_padded, ex.keep, width)
                + _block(f"Step 3{tag}", ex.cropped[c], ex.kinds_cropped, width=width) + [""])
    r, q = ex.position
    for o in range(co):
        for c in range(ci):
            tag = "" if ex.single else f" (input channel {c} -> output channel {o})"
            out += _block(f"Kernel rotated by 180 degrees{tag}", ex.rotated[c, o], width=width)
            if not ex.single:
                out += _block(f"Step 3 of channel {c} convolved with it",
                              ex.contribution(c, o), width=width)
        title = ("Result: stride-1 convolution of Step 3 with the rotated kernel"
                 if ex.single else f"Result channel {o}: the sum over the {ci} input channels")
        out += _block(title, ex.result[o], width=width)
        if ex.result.size:
            out += _example_lines(ex, o, r, q)
        out.append("")
    out += ex.size_lines()
    lines, _ = ex.roundtrip()
    out += lines
    from ..api import conv_transpose2d
    same = np.array_equal(ex.result, conv_transpose2d(
        ex.image, ex.weight, stride=ex.stride, padding=ex.padding_arg,
        output_padding=ex.output_padding, dilation=ex.dilation))
    out.append(f"Check: the Result equals deconv_core.conv_transpose2d with the same "
               f"arguments: {'yes' if same else 'NO'}")
    return "\n".join(out) + "\n"


def _example_lines(ex, o, r, q):
    (dh, dw), (kh, kw) = ex.dilation, ex.kernel_size
    rows = f"{r}..{r + dh * (kh - 1)}" + (f" step {dh}" if dh > 1 else "")
    cols = f"{q}..{q + dw * (kw - 1)}" + (f" step {dw}" if dw > 1 else "")
    lines = []
    sums = []
    for c in range(ex.weight.shape[0]):
        terms = ex.terms(c, o)
        total = sum(a * b for a, b in terms)
        sums.append(total)
        shown = " + ".join(f"{fmt_value(a)}*{fmt_value(b)}" for a, b in terms)
        what = "" if ex.single else f"input channel {c}'s part of "
        tag = "" if ex.single else f" of channel {c}"
        lines.append(f"  e.g. {what}Result[{r}, {q}]: Step 3{tag} rows {rows}, cols {cols} "
                     f"times the rotated kernel = {shown} = {fmt_value(total)}")
    if not ex.single:
        lines.append(f"  Result channel {o} [{r}, {q}] = "
                     + " + ".join(fmt_value(s) for s in sums)
                     + f" = {fmt_value(ex.result[o, r, q])}")
    return lines
