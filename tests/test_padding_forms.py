"""Padding forms PyTorch lacks ((before, after) pairs, 'same', 'valid', output_size),
checked against references derived independently: the definition-based loops of
``reference.py`` and, where torch is present, "pad/compute then crop" with torch."""
import numpy as np
import pytest

import deconv_core as dc
from reference import naive_conv, naive_conv_transpose


def _rand(rng, *shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("pads", [((0, 1), (2, 0)), ((1, 0), (0, 0)), ((2, 3), (1, 2)),
                                  ((0, 0), (3, 1))])
@pytest.mark.parametrize("stride,dilation", [((1, 1), (1, 1)), ((2, 3), (1, 2)), ((3, 2), (2, 1))])
def test_asymmetric_transposed_vs_naive(backend, rng, pads, stride, dilation):
    x, w, b = _rand(rng, 2, 3, 4, 5), _rand(rng, 3, 2, 3, 2), _rand(rng, 2)
    got = dc.conv_transpose2d(x, w, b, stride=stride, padding=pads, dilation=dilation)
    size = dc.conv_transpose_output_size((4, 5), (3, 2), stride, pads, 0, dilation)
    ref = naive_conv_transpose(x, w, b, stride, pads, dilation, 1, size)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_asymmetric_transposed_is_symmetric_then_crop(backend, rng):
    """(before, after) = crop of the unpadded result: derived with torch when available."""
    torch = pytest.importorskip("torch")
    x, w = _rand(rng, 1, 2, 6, 7), _rand(rng, 2, 3, 4, 3)
    full = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                                stride=2).numpy()
    got = dc.conv_transpose2d(x, w, stride=2, padding=((1, 2), (0, 3)))
    np.testing.assert_allclose(got, full[:, :, 1:-2, 0:-3], rtol=1e-12, atol=1e-12)


def test_asymmetric_forward_is_pad_then_conv(backend, rng):
    torch = pytest.importorskip("torch")
    x, w = _rand(rng, 2, 2, 7, 6), _rand(rng, 4, 2, 3, 2)
    xp = np.pad(x, ((0, 0), (0, 0), (2, 1), (0, 3)))
    ref = torch.nn.functional.conv2d(torch.from_numpy(xp), torch.from_numpy(w), stride=(2, 1)).numpy()
    got = dc.conv2d(x, w, stride=(2, 1), padding=((2, 1), (0, 3)))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("k,s,d", [(3, 2, 1), (4, 2, 1), (2, 3, 1), (1, 4, 1), (3, 1, 2), (2, 2, 3)])
def test_same_transposed(backend, rng, nd, k, s, d):
    sizes = (3, 4, 2)[:nd]
    x, w = _rand(rng, 1, 2, *sizes), _rand(rng, 2, 3, *(k,) * nd)
    got = getattr(dc, f"conv_transpose{nd}d")(x, w, stride=s, padding="same", dilation=d)
    assert got.shape[2:] == tuple(n * s for n in sizes)
    # Explicit reference: the full (uncropped) result, then the ONNX SAME_UPPER crop;
    # a negative total pads zeros at the end instead.
    total = d * (k - 1) + 1 - s
    full = naive_conv_transpose(x, w, None, (s,) * nd, ((0, 0),) * nd, (d,) * nd, 1,
                                tuple((n - 1) * s + d * (k - 1) + 1 for n in sizes))
    if total >= 0:
        crop = tuple(slice(total // 2, total // 2 + n * s) for n in sizes)
        ref = full[(slice(None), slice(None)) + crop]
    else:
        ref = np.pad(full, [(0, 0), (0, 0)] + [(0, -total)] * nd)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n,k,s,d", [(7, 3, 2, 1), (8, 3, 2, 1), (5, 4, 3, 1), (6, 3, 1, 2),
                                      (9, 2, 4, 1)])
def test_same_forward(backend, rng, n, k, s, d):
    x, w = _rand(rng, 1, 2, n, n + 1), _rand(rng, 3, 2, k, k)
    got = dc.conv2d(x, w, stride=s, padding="same", dilation=d)
    outs = [-(-m // s) for m in (n, n + 1)]
    assert got.shape[2:] == tuple(outs)
    pads = []
    for m, o in zip((n, n + 1), outs):
        total = max((o - 1) * s + d * (k - 1) + 1 - m, 0)
        pads.append((total // 2, total - total // 2))
    ref = naive_conv(x, w, None, (s, s), pads, (d, d), 1)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_valid_is_zero_padding(backend, rng):
    x, w = _rand(rng, 1, 2, 5, 5), _rand(rng, 2, 2, 3, 3)
    np.testing.assert_array_equal(dc.conv_transpose2d(x, w, stride=2, padding="valid"),
                                  dc.conv_transpose2d(x, w, stride=2, padding=0))
    np.testing.assert_array_equal(dc.conv2d(x, w, padding="valid"), dc.conv2d(x, w))


def test_output_size_picks_output_padding(backend, rng):
    x, w = _rand(rng, 1, 1, 4, 4), _rand(rng, 1, 1, 3, 3)
    for extra in (0, 1, 2):
        got = dc.conv_transpose2d(x, w, stride=3, padding=1, output_size=(10 + extra, 10))
        ref = dc.conv_transpose2d(x, w, stride=3, padding=1, output_padding=(extra, 0))
        np.testing.assert_array_equal(got, ref)
    full_shape = dc.conv_transpose2d(x, w, stride=3, padding=1, output_size=(1, 1, 11, 12))
    assert full_shape.shape == (1, 1, 11, 12)


def test_output_padding_reaches_only_bias(backend, rng):
    x, w, b = _rand(rng, 1, 1, 3), _rand(rng, 1, 2, 2), np.array([0.5, -2.0])
    got = dc.conv_transpose1d(x, w, b, stride=3, output_padding=2)
    # taps reach full indices 0..7 (i*3 + t); 8..9 are only output padding
    assert got.shape == (1, 2, 10)
    np.testing.assert_array_equal(got[0, :, 8:], [[0.5, 0.5], [-2.0, -2.0]])
    np.testing.assert_allclose(got, naive_conv_transpose(x, w, b, (3,), ((0, -2),), (1,), 1, (10,)))


def test_dtype_promotion(backend, rng):
    x = rng.integers(-3, 4, (1, 2, 3, 3))
    w32 = rng.standard_normal((2, 1, 2, 2)).astype(np.float32)
    assert dc.conv_transpose2d(x.astype(np.float32), w32).dtype == np.float32
    assert dc.conv_transpose2d(x, w32).dtype == np.float64  # int64 with float32 -> float64
    assert dc.conv_transpose2d(x.astype(np.float16), w32.astype(np.float16)).dtype == np.float32
    assert dc.conv_transpose2d(x.astype(np.float32), w32.astype(np.float64)).dtype == np.float64
    big_endian = dc.conv_transpose2d(x.astype(">f4"), w32.astype(">f4"))
    assert big_endian.dtype == np.float32 and big_endian.dtype.isnative
    np.testing.assert_array_equal(big_endian, dc.conv_transpose2d(x.astype(np.float32), w32))
    ref = dc.conv_transpose2d(x.astype(np.float64), w32.astype(np.float64))
    np.testing.assert_array_equal(dc.conv_transpose2d(x.tolist(), w32.astype(np.float64)), ref)


def test_out_argument(backend, rng):
    x, w = _rand(rng, 2, 3, 4, 4), _rand(rng, 3, 2, 3, 3)
    expected = dc.conv_transpose2d(x, w, stride=2)
    out = np.full(expected.shape, np.nan)
    res = dc.conv_transpose2d(x, w, stride=2, out=out)
    assert res is out
    np.testing.assert_array_equal(out, expected)
    out1 = np.full(expected.shape[1:], np.nan)
    assert dc.conv_transpose2d(x[0], w, stride=2, out=out1) is out1
    np.testing.assert_array_equal(out1, expected[0])
    fwd = dc.conv2d(x, w.transpose(1, 0, 2, 3), padding=1)
    out2 = np.empty_like(fwd)
    assert dc.conv2d(x, w.transpose(1, 0, 2, 3), padding=1, out=out2) is out2
    np.testing.assert_array_equal(out2, fwd)


def test_zero_size_batch_and_channels(backend):
    w = np.ones((2, 3, 2, 2))
    assert dc.conv_transpose2d(np.ones((0, 2, 3, 3)), w).shape == (0, 3, 4, 4)
    got = dc.conv_transpose2d(np.ones((1, 0, 3, 3)), np.ones((0, 3, 2, 2)), np.array([1., 2., 3.]))
    np.testing.assert_array_equal(got, np.broadcast_to(np.array([1., 2., 3.])[:, None, None],
                                                       (3, 4, 4))[None])
    assert dc.conv_transpose2d(np.ones((1, 2, 3, 3)), np.ones((2, 0, 2, 2))).shape == (1, 0, 4, 4)
    assert dc.conv2d(np.ones((0, 2, 3, 3)), np.ones((4, 2, 2, 2))).shape == (0, 4, 2, 2)


def test_nan_inf_propagate_like_torch(backend):
    torch = pytest.importorskip("torch")
    x = np.ones((1, 1, 3, 3))
    x[0, 0, 1, 1] = np.nan
    x[0, 0, 0, 0] = np.inf
    w = np.ones((1, 1, 2, 2))
    ref = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                               stride=2).numpy()
    got = dc.conv_transpose2d(x, w, stride=2)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))


def test_other_libraries_arrays(backend, rng):
    """Objects with __array__ (a torch tensor) or only __dlpack__ are accepted as inputs."""
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 3, 2, 2))
    ref = dc.conv_transpose2d(x, w, stride=2)

    class DLPackOnly:
        def __init__(self, a):
            self._a = a

        def __dlpack__(self, **kwargs):
            return self._a.__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return self._a.__dlpack_device__()

    np.testing.assert_array_equal(dc.conv_transpose2d(DLPackOnly(x), DLPackOnly(w), stride=2), ref)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(
        dc.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), stride=2), ref)
