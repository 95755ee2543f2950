"""Render the lesson's examples into docs/images/ (needs matplotlib).

    python tools/render_lesson.py [--out docs/images]

* lesson_s1_p0.png, lesson_s2_p0.png, lesson_s2_p1.png: the three worked examples
  (3x3 input 1..9, 2x2 filter [[1, 2], [3, 4]]; stride/padding 1/0, 2/0, 2/1);
* lesson_s2_p1.gif: the window sliding over Step 3 of the stride 2 / padding 1 example;
* conv_s3_p2.png: the convolution example (5x5 input, 3x3 filter, stride 3, padding 2)
  and conv_s3_p2_transpose.png: its transpose, from the 3x3 output back to 5x5;
* multichannel.png: two input channels, a filter group of two output channels.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from deconv_core import conv2d  # noqa: E402
from deconv_core.lesson.text import LESSON_IMAGE, LESSON_KERNEL  # noqa: E402
from deconv_core.lesson.pictures import plot_conv, plot_steps  # noqa: E402

CONV_IMAGE = np.arange(1, 26, dtype=np.float64).reshape(5, 5)
CONV_KERNEL = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
# (C_in=2, H, W) and a filter group (C_in=2, C_out=2, 2, 2) with small values.
MC_IMAGE = np.stack([LESSON_IMAGE, LESSON_IMAGE[::-1, ::-1]])
MC_WEIGHT = np.array([[[[1, 2], [3, 4]], [[0, 1], [1, 0]]],
                      [[[1, 0], [0, 1]], [[1, 1], [1, 1]]]], dtype=np.float64)


def render(out):
    os.makedirs(out, exist_ok=True)
    written = []

    def path(name):
        written.append(os.path.join(out, name))
        return written[-1]

    for stride, padding in [(1, 0), (2, 0), (2, 1)]:
        name = f"lesson_s{stride}_p{padding}"
        plot_steps(LESSON_IMAGE, LESSON_KERNEL, stride, padding, path=path(name + ".png"),
                   animate=path(name + ".gif") if (stride, padding) == (2, 1) else None)
    plot_conv(CONV_IMAGE, CONV_KERNEL, 3, 2, path=path("conv_s3_p2.png"))
    y = conv2d(CONV_IMAGE[None, None], CONV_KERNEL[None, None], stride=3, padding=2)[0, 0]
    plot_steps(y, CONV_KERNEL, 3, 2, position=(0, 0), path=path("conv_s3_p2_transpose.png"))
    plot_steps(MC_IMAGE, MC_WEIGHT, 2, 1, path=path("multichannel.png"))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--out", default=os.path.join(root, "docs", "images"),
                        help="output folder (default: docs/images of this checkout)")
    args = parser.parse_args(argv)
    for p in render(args.out):
        print(f"{p}: {os.path.getsize(p)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
