"""``python -m deconv_core explain``: every step of one transposed convolution, as text.

The lesson's four steps (insert ``stride - 1`` zeros, surround with
``dilation*(kernel - 1)`` zeros, crop ``padding``, convolve with stride 1 and the
kernel rotated by 180 degrees) are printed as aligned grids, with inserted zeros,
border zeros and real values told apart, followed by the output-size arithmetic
and the check that a convolution with the same stride and padding gives back the
input's size.  ``--plot`` and ``--animate`` draw the same with matplotlib
(:mod:`deconv_core.plotting`, imported only then).

:func:`explanation` computes everything the text and the figures show (the steps,
which cell of each step is what, the cropped border, one output's window); it is
shared by this module and :mod:`deconv_core.plotting`.
"""
import argparse
import re
import sys

import numpy as np

from ._validation import per_dim, prepare
from .lesson import steps

__all__ = ["Explanation", "explanation", "format_grid", "explain_text", "parse_array", "main"]

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
        from .api import conv2d
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
    from .api import conv_transpose2d
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


# -- command line -------------------------------------------------------------------
_SHAPE = re.compile(r"^\s*\d+(\s*[x\u00d7]\s*\d+)+\s*$", re.I)


def parse_array(spec, ndims):
    """``"HxW"`` (values 1..H*W) or ``"1,2,3;4,5,6"`` (rows split by ``;``, channels by ``|``).

    ``ndims`` lists the allowed numbers of dimensions, e.g. ``(2, 3)``.
    """
    if _SHAPE.match(spec):
        shape = tuple(int(v) for v in re.split(r"[x\u00d7]", spec.replace(" ", ""), flags=re.I))
        if any(n < 1 for n in shape):
            raise ValueError(f"{spec!r}: every size must be >= 1")
        arr = np.arange(1, int(np.prod(shape)) + 1, dtype=np.float64).reshape(shape)
    else:
        try:
            chans = [[[float(v) for v in re.split(r"[,\s]+", row.strip())]
                      for row in ch.split(";") if row.strip()] for ch in spec.split("|")]
        except ValueError:
            raise ValueError(f"{spec!r}: expected a shape like 3x3 or values like "
                             f"'1,2,3;4,5,6' (rows split by ';', channels by '|')") from None
        if any(not ch for ch in chans) or len({len(r) for ch in chans for r in ch}) != 1 \
                or len({len(ch) for ch in chans}) != 1:
            raise ValueError(f"{spec!r}: rows (and channels) must all have the same length")
        arr = np.array(chans)
        if arr.shape[0] == 1:
            arr = arr[0]
    if arr.ndim not in ndims:
        raise ValueError(f"{spec!r} has {arr.ndim} dimensions; expected "
                         f"{' or '.join(str(n) for n in ndims)}")
    return arr


def _ints(spec, minimum):
    vals = tuple(int(v) for v in spec.split(","))
    if len(vals) not in (1, 2) or any(v < minimum for v in vals):
        raise ValueError
    return vals[0] if len(vals) == 1 else vals


def _option(minimum):
    def convert(spec):
        try:
            return _ints(spec, minimum)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{spec!r}: expected an int >= {minimum}, or two (H,W) like 2,1") from None
    return convert


def _padding(spec):
    low = spec.strip().lower()
    if low in ("valid", "same"):
        return low
    try:
        items = [tuple(int(v) for v in item.split(":")) for item in spec.split(",")]
        if len(items) not in (1, 2) or any(len(t) not in (1, 2) or min(t) < 0 for t in items):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: expected an int >= 0, two (H,W) like 1,0, (before:after) pairs "
            f"like 1:0,0:1, 'valid' or 'same'") from None
    if all(len(t) == 1 for t in items):
        return items[0][0] if len(items) == 1 else (items[0][0], items[1][0])
    pairs = tuple(t if len(t) == 2 else t * 2 for t in items)
    return pairs * 2 if len(pairs) == 1 else pairs


def _position_arg(spec):
    try:
        r, q = (int(v) for v in spec.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{spec!r}: expected ROW,COL like 1,2") from None
    return r, q


def build_parser():
    p = argparse.ArgumentParser(
        prog="python -m deconv_core explain",
        description="Print every step of one transposed convolution as text grids "
                    "(defaults: the lesson's 3x3 input 1..9, 2x2 kernel [[1, 2], [3, 4]], "
                    "stride 2, padding 1).")
    p.add_argument("--input", default="3x3", metavar="HxW|VALUES",
                   help="input image: a shape (values 1..H*W; CxHxW for channels) or values "
                        "'1,2,3;4,5,6;7,8,9' (rows split by ';', channels by '|') "
                        "(default 3x3)")
    p.add_argument("--kernel", default="1,2;3,4", metavar="KxK|VALUES",
                   help="kernel: a shape (values 1..N; C_inxC_outxKxK for channels) or values "
                        "(default '1,2;3,4'); a 2-D kernel with a C-channel input is used "
                        "for every input channel, giving one output channel")
    p.add_argument("--stride", type=_option(1), default=2, metavar="S", help="default 2")
    p.add_argument("--padding", type=_padding, default=1, metavar="P",
                   help="int, H,W, before:after pairs, 'valid' or 'same' (default 1)")
    p.add_argument("--output-padding", type=_option(0), default=0, metavar="OP",
                   help="default 0")
    p.add_argument("--dilation", type=_option(1), default=1, metavar="D", help="default 1")
    p.add_argument("--position", type=_position_arg, default=None, metavar="ROW,COL",
                   help="the output pixel whose window is shown (default: the first whose "
                        "window covers the most real pixels)")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the steps (needs matplotlib)")
    p.add_argument("--animate", metavar="FILE.gif",
                   help="also write a GIF of the window sliding over Step 3 (needs matplotlib)")
    return p


def _option_of(message):
    for key, opt in (("output_padding", "--output-padding"), ("padding", "--padding"),
                     ("stride", "--stride"), ("dilation", "--dilation"),
                     ("position", "--position"), ("weight", "--kernel"), ("input", "--input")):
        if key in message:
            return opt
    return None


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    arrays = {}
    for opt, ndims in (("input", (2, 3)), ("kernel", (2, 4))):
        try:
            arrays[opt] = parse_array(getattr(args, opt), ndims)
        except ValueError as e:
            parser.error(f"argument --{opt}: {e}")
    image, kernel = arrays["input"], arrays["kernel"]
    if image.ndim == 3 and kernel.ndim == 2:
        kernel = np.broadcast_to(kernel, (image.shape[0], 1) + kernel.shape)
    elif image.ndim == 2 and kernel.ndim == 4:
        parser.error(f"argument --kernel: a {kernel.ndim}-D kernel needs a (C, H, W) input; "
                     f"--input is 2-D")
    kwargs = dict(stride=args.stride, padding=args.padding, output_padding=args.output_padding,
                  dilation=args.dilation, position=args.position)
    if args.plot or args.animate:
        try:
            from . import plotting
            plotting.require_matplotlib()
        except ImportError as e:
            parser.exit(1, f"{parser.prog}: error: {'--plot' if args.plot else '--animate'}: "
                           f"{e}\n")
    try:
        text = explain_text(image, kernel, **kwargs)
    except (ValueError, TypeError) as e:
        opt = _option_of(str(e))
        parser.error(f"argument {opt}: {e}" if opt else str(e))
    sys.stdout.write(text)
    if args.plot or args.animate:
        plotting.plot_steps(image, kernel, path=args.plot, animate=args.animate, **kwargs)
        for what, path in (("figure", args.plot), ("animation", args.animate)):
            if path:
                print(f"Wrote the {what} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
