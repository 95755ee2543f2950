"""``python -m deconv_core explain``: the lesson's steps as text grids or figures.

Text grids (:mod:`deconv_core.lesson.text`) by default; ``--plot`` and ``--animate``
draw the same with matplotlib (:mod:`deconv_core.lesson.pictures`, imported only then).
"""
import argparse
import re
import sys

import numpy as np

from .._cli_args import padding_items
from .text import LESSON_IMAGE, LESSON_KERNEL, explain_text

__all__ = ["parse_array", "build_parser", "main"]


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
    try:
        items = padding_items(spec)
        if isinstance(items, str):
            return items
        if len(items) not in (1, 2) or any(min(t) < 0 for t in items):
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
            from . import pictures
            pictures.require_matplotlib()
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
        pictures.plot_steps(image, kernel, path=args.plot, animate=args.animate, **kwargs)
        for what, path in (("figure", args.plot), ("animation", args.animate)):
            if path:
                print(f"Wrote the {what} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
