"""The lesson's four steps, materialised for people who want to see them."""
from collections import namedtuple

import numpy as np

from .._validation import check_allocatable, prepare

__all__ = ["Steps", "steps"]

Steps = namedtuple("Steps", "dilated padded cropped result")
Steps.__doc__ = "The lesson's Step 1, Step 2, Step 3 and Result arrays."


def steps(image, kernel, stride=1, padding=0, *, output_padding=0, dilation=1):
    """Transposed convolution done literally, step by step, as the lesson draws it.

    1. ``dilated``: ``stride - 1`` zeros inserted between neighbouring pixels.
    2. ``padded``: surrounded by ``dilation*(k - 1)`` zeros on every side.
    3. ``cropped``: ``padding`` pixels removed from each border (and
       ``output_padding`` zeros added at the end).
    4. ``result``: a stride-1 convolution of ``cropped`` with the kernel
       rotated by 180 degrees.

    Why the rotation: in a convolution, input pixel ``i`` meets kernel tap
    ``t`` at output ``o = (i*stride + t*dilation - pad) / ...``, i.e. ``x[i]``
    is spread to the outputs ``i*stride + t*dilation`` with weight ``w[t]``.
    Reading that scatter from the output's side, output ``f`` gathers
    ``x[i] * w[t]`` for ``f = i*stride + t*dilation``; sliding a window left to
    right over the zero-inserted image, the window's first cell sits over the
    *largest* ``t``. So the window must hold the kernel reversed in every
    dimension, which in 2-D is a 180-degree rotation. With it, step 4 is the
    exact transpose (adjoint) of the forward convolution, and ``result``
    equals :func:`conv_transpose2d` with the same arguments.

    Parameters
    ----------
    image : array_like
        ``(H, W)``, or ``(C_in, H, W)`` for several channels.
    kernel : array_like
        ``(kH, kW)`` for a 2-D image; ``(C_in, C_out, kH, kW)`` for ``(C_in, H, W)``.
    stride, padding, output_padding, dilation
        As in :func:`conv_transpose2d` (padding may be pairs, 'valid' or 'same').

    Returns
    -------
    Steps
        ``(dilated, padded, cropped, result)``; 2-D arrays for a 2-D image,
        with a leading channel axis otherwise (``result`` has ``C_out``).

    Examples
    --------
    The lesson's example: a 3x3 input and a 2x2 filter, stride 2, padding 1.

    >>> import numpy as np
    >>> from deconv_core import steps
    >>> s = steps(np.arange(1, 10).reshape(3, 3), np.ones((2, 2)), stride=2, padding=1)
    >>> [a.shape for a in s]
    [(5, 5), (7, 7), (5, 5), (4, 4)]
    """
    img = np.asarray(image)
    ker = np.asarray(kernel)
    single = img.ndim == 2
    if single:
        img, ker = img[None], ker[None, None]
    c = prepare("steps", 2, True, img, ker, None, stride, padding, dilation, 1,
                output_padding, None, None, 1)
    x, w = c.x[0], c.w
    (sh, sw), (dh, dw) = c.stride, c.dilation
    kh, kw = w.shape[2:]
    ch, h, wd = x.shape

    bh, bw = dh * (kh - 1), dw * (kw - 1)
    # The materialised steps can be far larger than the result (Step 2 has the border).
    check_allocatable("steps", "Step 2", (ch, (h - 1) * sh + 1 + 2 * bh,
                                         (wd - 1) * sw + 1 + 2 * bw), x.dtype)
    dilated = np.zeros((ch, (h - 1) * sh + 1, (wd - 1) * sw + 1), dtype=x.dtype)
    dilated[:, ::sh, ::sw] = x
    padded = np.pad(dilated, ((0, 0), (bh, bh), (bw, bw)))
    # Crop (before, after) per dim; a negative 'after' (output_padding) extends with zeros.
    (ph0, ph1), (pw0, pw1) = c.pads
    cropped = np.zeros((ch, padded.shape[1] - ph0 - ph1, padded.shape[2] - pw0 - pw1),
                       dtype=x.dtype)
    src = padded[:, ph0:padded.shape[1] - max(ph1, 0), pw0:padded.shape[2] - max(pw1, 0)]
    cropped[:, :src.shape[1], :src.shape[2]] = src

    rotated = w[:, :, ::-1, ::-1]
    win = np.lib.stride_tricks.sliding_window_view(cropped, (bh + 1, bw + 1), axis=(1, 2))
    win = win[..., ::dh, ::dw]
    result = np.einsum("chwij,coij->ohw", win, rotated)
    if single:
        return Steps(dilated[0], padded[0], cropped[0], result[0])
    return Steps(dilated, padded, cropped, result)
