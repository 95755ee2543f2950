"""Output-size arithmetic, without computing anything."""
from ._validation import canonical_padding, output_padding_per_dim, output_sizes, per_dim

__all__ = ["conv_transpose_output_size", "conv_output_size"]


def _sizes(fname, input_size, kernel_size, stride, padding, dilation, transposed,
           output_padding=0):
    scalar = not hasattr(input_size, "__len__")
    nd = 1 if scalar else len(input_size)
    if nd == 0:
        raise ValueError(f"{fname}: input_size={input_size!r} must be an int or a non-empty "
                         f"sequence of ints")
    sizes = per_dim(fname, "input_size", input_size, nd, 1)
    kernel = per_dim(fname, "kernel_size", kernel_size, nd, 1)
    stride = per_dim(fname, "stride", stride, nd, 1)
    dilation = per_dim(fname, "dilation", dilation, nd, 1)
    op = (0,) * nd
    if transposed:
        op = output_padding_per_dim(fname, output_padding, nd, stride, dilation)
    pads = canonical_padding(fname, padding, nd, sizes, kernel, stride, dilation, transposed, op)
    if transposed:
        pads = tuple((pb, pa - o) for (pb, pa), o in zip(pads, op))
    res = output_sizes(sizes, kernel, stride, pads, dilation, transposed)
    if any(r < (0 if transposed else 1) for r in res):
        raise ValueError(f"{fname}: the output size would be {res}: padding={padding!r} is too "
                         f"large for input_size={input_size!r} and kernel_size={kernel_size!r}")
    return res[0] if scalar else res


def conv_transpose_output_size(input_size, kernel_size, stride=1, padding=0, output_padding=0,
                               dilation=1):
    """Spatial output size of a transposed convolution.

    ``out = (in - 1)*stride - pad_before - pad_after + dilation*(k - 1) + output_padding + 1``

    Parameters
    ----------
    input_size, kernel_size : int or tuple of ints
        One int per spatial dim (an int input_size gives an int result).
    stride, padding, output_padding, dilation
        As in :func:`conv_transpose2d` (padding may be pairs, 'valid' or 'same';
        ``output_padding`` is added in every form, so ``'same'`` gives exactly
        ``input_size*stride``, as ONNX ``SAME_UPPER``).

    Returns
    -------
    int or tuple of ints

    Examples
    --------
    The lesson's 3x3 input and 2x2 filter:

    >>> from deconv_core import conv_transpose_output_size
    >>> [conv_transpose_output_size(3, 2, s, p) for s, p in [(1, 0), (2, 0), (2, 1)]]
    [4, 6, 4]
    >>> conv_transpose_output_size((3, 3), 3, stride=3, padding=2)
    (5, 5)
    >>> conv_transpose_output_size(5, 3, stride=2, padding="same", output_padding=1)
    10
    >>> conv_transpose_output_size(7, 2, stride=2, padding="valid", output_padding=1)
    15
    """
    return _sizes("conv_transpose_output_size", input_size, kernel_size, stride, padding,
                  dilation, True, output_padding)


def conv_output_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
    """Spatial output size of a convolution.

    ``out = floor((in + pad_before + pad_after - dilation*(k - 1) - 1) / stride) + 1``

    Examples
    --------
    >>> from deconv_core import conv_output_size
    >>> conv_output_size(5, 3, stride=3, padding=2)
    3
    >>> conv_output_size((7, 8), 3, stride=2, padding="same")
    (4, 4)
    """
    return _sizes("conv_output_size", input_size, kernel_size, stride, padding, dilation, False)
