"""The lesson's own arithmetic (shared/seed): sizes, steps and the round trip."""
import numpy as np
import pytest

import deconv_core as dc

IMAGE = np.arange(1, 10, dtype=np.float64).reshape(3, 3)
KERNEL = np.array([[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize("stride,padding,size", [(1, 0, 4), (2, 0, 6), (2, 1, 4)])
def test_three_worked_examples_sizes(backend, stride, padding, size):
    got = dc.conv_transpose2d(IMAGE[None, None], KERNEL[None, None], stride=stride, padding=padding)
    assert got.shape == (1, 1, size, size)
    assert dc.conv_transpose_output_size(3, 2, stride, padding) == size
    # "If you execute convolution ... with the output image by deconvolution, the output
    # image size will be 3 x 3."
    back = dc.conv2d(got, KERNEL[None, None], stride=stride, padding=padding)
    assert back.shape == (1, 1, 3, 3)


def test_convolution_example_and_its_transpose(backend):
    x = np.arange(25, dtype=np.float64).reshape(1, 1, 5, 5)
    w = np.ones((1, 1, 3, 3))
    y = dc.conv2d(x, w, stride=3, padding=2)
    assert y.shape == (1, 1, 3, 3)
    # Hand-computed: windows start at -2 and 1 in each dim (stride 3, padding 2).
    # Top-left window covers rows/cols 0 only (value 0); centre covers rows/cols 1..3.
    assert y[0, 0, 0, 0] == 0.0
    assert y[0, 0, 1, 1] == sum(5 * r + c for r in (1, 2, 3) for c in (1, 2, 3))
    assert y[0, 0, 2, 2] == sum(5 * r + c for r in (4,) for c in (4,))
    back = dc.conv_transpose2d(y, w, stride=3, padding=2)
    assert back.shape == (1, 1, 5, 5)
    assert dc.conv_transpose_output_size(3, 3, 3, 2) == 5


def test_steps_stride2_padding1_by_hand():
    s = dc.steps(IMAGE, KERNEL, stride=2, padding=1)
    # Step 1: one zero between neighbouring pixels.
    step1 = np.array([[1, 0, 2, 0, 3], [0, 0, 0, 0, 0], [4, 0, 5, 0, 6],
                      [0, 0, 0, 0, 0], [7, 0, 8, 0, 9]], dtype=float)
    np.testing.assert_array_equal(s.dilated, step1)
    # Step 2: surrounded by k - 1 = 1 zero.
    np.testing.assert_array_equal(s.padded, np.pad(step1, 1))
    # Step 3: padding 1 removed from every border: back to step 1 here.
    np.testing.assert_array_equal(s.cropped, step1)
    # Result: each output sums the 2x2 window of step 3 times the kernel rotated 180
    # degrees, [[4, 3], [2, 1]]. E.g. out[0, 0] = 1*4, out[0, 1] = 0*4 + 2*3 ... by hand:
    rot = np.array([[4.0, 3.0], [2.0, 1.0]])
    by_hand = np.array([[(step1[i:i + 2, j:j + 2] * rot).sum() for j in range(4)]
                        for i in range(4)])
    np.testing.assert_array_equal(s.result, by_hand)
    assert s.result[0, 0] == 4 and s.result[0, 1] == 6 and s.result[1, 1] == 5


@pytest.mark.parametrize("stride,padding,shapes", [
    (1, 0, [(3, 3), (5, 5), (5, 5), (4, 4)]),
    (2, 0, [(5, 5), (7, 7), (7, 7), (6, 6)]),
    (2, 1, [(5, 5), (7, 7), (5, 5), (4, 4)]),
    (3, 2, [(7, 7), (9, 9), (5, 5), (4, 4)]),
])
def test_steps_shapes_and_result_equals_api(backend, stride, padding, shapes):
    s = dc.steps(IMAGE, KERNEL, stride=stride, padding=padding)
    assert [a.shape for a in s] == shapes
    api = dc.conv_transpose2d(IMAGE[None, None], KERNEL[None, None], stride=stride,
                              padding=padding)[0, 0]
    np.testing.assert_array_equal(s.result, api)  # integer data: exact in floating point


def test_steps_multichannel_dilation_output_padding(backend, rng):
    img = rng.integers(-4, 5, (2, 4, 3)).astype(np.float64)
    w = rng.integers(-3, 4, (2, 3, 3, 2)).astype(np.float64)
    s = dc.steps(img, w, stride=(2, 3), padding=((1, 0), (2, 1)), output_padding=1, dilation=2)
    assert s.dilated.shape == (2, 7, 7)
    assert s.padded.shape == (2, 7 + 8, 7 + 4)
    api = dc.conv_transpose2d(img, w, stride=(2, 3), padding=((1, 0), (2, 1)),
                              output_padding=1, dilation=2)
    np.testing.assert_array_equal(s.result, api)
    assert s.result.shape == api.shape == (3,) + tuple(c - 2 * (k - 1) for c, k in zip(s.cropped.shape[1:], (3, 2)))


def test_steps_refuses_intermediates_too_large_to_hold():
    # The result is 1 x 1 but Step 2 would be (2**21 + 1)**2 float64: 32 TiB.
    with pytest.raises(MemoryError, match=r"Step 2 of shape \(1, 2097153, 2097153\)"):
        dc.steps(np.ones((2, 2)), np.ones((1, 1)), stride=2**21, padding=2**20)


def test_steps_rejects_bad_arguments():
    with pytest.raises(ValueError, match="stride"):
        dc.steps(IMAGE, KERNEL, stride=0)
    with pytest.raises(ValueError, match="weight"):
        dc.steps(IMAGE, np.ones(3))
