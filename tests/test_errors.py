"""Every invalid argument: the right exception, naming the argument, before any work."""
import numpy as np
import pytest

import deconv_core as dc
from deconv_core import _backend

X = np.ones((1, 4, 5, 5))
WT = np.ones((4, 2, 3, 3))   # transposed layout (C_in, C_out // groups, k, k)
WF = np.ones((2, 4, 3, 3))   # forward layout (C_out, C_in // groups, k, k)

T_CASES = [
    # (kwargs, exception, words that must appear in the message)
    (dict(stride=0), ValueError, ["stride=0", ">= 1"]),
    (dict(stride=-2), ValueError, ["stride=-2"]),
    (dict(stride=(1, 2, 3)), TypeError, ["stride=(1, 2, 3)", "2 ints"]),
    (dict(stride=1.5), TypeError, ["stride=1.5"]),
    (dict(stride=True), TypeError, ["stride=True"]),
    (dict(dilation=0), ValueError, ["dilation=0"]),
    (dict(padding=-1), ValueError, ["padding=-1"]),
    (dict(padding="full"), ValueError, ["padding='full'", "'same'"]),
    (dict(padding=((1, 2, 3), (0, 0))), TypeError, ["padding="]),
    (dict(padding=(1, 2, 3)), TypeError, ["padding=(1, 2, 3)"]),
    (dict(padding=5), ValueError, ["padding=5", "too large"]),
    (dict(stride=2, output_padding=2), ValueError, ["output_padding=2", "stride=(2, 2)"]),
    (dict(output_padding=-1), ValueError, ["output_padding=-1"]),
    (dict(stride=2, output_size=(20, 9)), ValueError, ["output_size=(20, 9)", "11..12, 11..12"]),
    (dict(output_size="big"), TypeError, ["output_size='big'"]),
    (dict(stride=2, output_size=(10, 10), output_padding=1), ValueError, ["output_size", "output_padding"]),
    (dict(padding="same", output_size=(5, 5)), ValueError, ["output_size", "same"]),
    (dict(groups=3), ValueError, ["groups=3", "C_in=4"]),
    (dict(groups=0), ValueError, ["groups=0"]),
    (dict(groups=1.0), TypeError, ["groups=1.0"]),
    (dict(num_threads=-1), ValueError, ["num_threads=-1"]),
    (dict(num_threads=0), ValueError, ["num_threads=0"]),
    (dict(num_threads=2**31), ValueError, ["num_threads=2147483648", "an int from 1 to"]),
    (dict(num_threads=2.5), TypeError, ["num_threads=2.5"]),
    (dict(num_threads="4"), TypeError, ["num_threads='4'"]),
    (dict(bias=np.ones(3)), ValueError, ["bias", "(3,)", "(2,)"]),
    (dict(bias=np.ones((2, 1))), ValueError, ["bias", "(2, 1)"]),
    (dict(out=np.empty((1, 2, 7, 6))), ValueError, ["out", "(1, 2, 7, 6)", "(1, 2, 7, 7)"]),
    (dict(out=np.empty((1, 2, 7, 7), np.float32)), ValueError, ["out", "float32", "float64"]),
    (dict(out=np.empty((1, 2, 7, 7), order="F")), ValueError, ["out", "C-contiguous"]),
    (dict(out=[[0.0]]), TypeError, ["out", "list"]),
]


@pytest.mark.parametrize("kwargs,exc,words", T_CASES, ids=[repr(c[0])[:50] for c in T_CASES])
def test_conv_transpose2d_errors(backend, kwargs, exc, words):
    kwargs = dict(kwargs)
    bias = kwargs.pop("bias", None)
    before = X.copy()
    with pytest.raises(exc) as info:
        dc.conv_transpose2d(X, WT, bias, **kwargs)
    msg = str(info.value)
    assert msg.startswith("conv_transpose2d: ")
    for word in words:
        assert word in msg, (word, msg)
    np.testing.assert_array_equal(X, before)


F_CASES = [
    (dict(stride=0), ValueError, ["stride=0"]),
    (dict(padding=-1), ValueError, ["padding=-1"]),
    (dict(dilation=3), ValueError, ["kernel", "larger than the padded input"]),
    (dict(groups=3), ValueError, ["groups=3"]),
    (dict(groups=2), ValueError, ["weight", "groups=2"]),
    (dict(num_threads=0), ValueError, ["num_threads=0"]),
    (dict(out=np.empty((1, 2, 2, 2))), ValueError, ["out", "(1, 2, 3, 3)"]),
]


@pytest.mark.parametrize("kwargs,exc,words", F_CASES, ids=[repr(c[0])[:50] for c in F_CASES])
def test_conv2d_errors(backend, kwargs, exc, words):
    with pytest.raises(exc) as info:
        dc.conv2d(X, WF, **kwargs)
    msg = str(info.value)
    assert msg.startswith("conv2d: ")
    for word in words:
        assert word in msg, (word, msg)


@pytest.mark.parametrize("x,w,exc,words", [
    (np.ones((5, 5)), WT, ValueError, ["input", "(5, 5)", "ndim"]),
    (np.ones((1, 1, 4, 5, 5)), WT, ValueError, ["input", "ndim"]),
    (X, np.ones((4, 2, 3)), ValueError, ["weight", "(4, 2, 3)"]),
    (X, np.ones((3, 2, 3, 3)), ValueError, ["weight", "C_in=4"]),
    (X.astype(complex), WT, TypeError, ["input", "complex"]),
    (X, WT.astype(np.complex64), TypeError, ["weight", "complex"]),
    (X.astype(object), WT, TypeError, ["input", "object"]),
    (np.array([["a"]]), WT, TypeError, ["input"]),
    (np.ones((1, 4, 0, 5)), WT, ValueError, ["input", "spatial"]),
    (X, np.ones((4, 2, 0, 3)), ValueError, ["weight", "kernel"]),
])
def test_array_errors(backend, x, w, exc, words):
    with pytest.raises(exc) as info:
        dc.conv_transpose2d(x, w)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_out_aliasing_input_is_refused(backend):
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(ValueError, match="out shares memory with input"):
        dc.conv2d(x, np.ones((1, 1, 1, 1)), out=x)


def test_read_only_out_is_refused(backend):
    out = np.empty((1, 2, 7, 7))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        dc.conv_transpose2d(X, WT, out=out)


def test_too_large_output_is_memory_error_before_allocation(backend):
    # 1 x 1 x (2**20 * 2**20) float64 = 8 TiB: refused without trying to allocate it.
    x = np.lib.stride_tricks.as_strided(np.zeros(1), (1, 1, 2**20, 2**20), (8, 8, 0, 0))
    with pytest.raises(MemoryError, match=r"result of shape \(1, 1, 2097152, 2097152\)"):
        dc.conv_transpose2d(x, np.ones((1, 1, 2, 2)), stride=2)


def test_huge_broadcast_input_is_memory_error_before_copy(backend):
    # A zero-stride view of 2**44 float64 elements would need a 128 TiB contiguous copy.
    x = np.broadcast_to(np.zeros(1), (1, 1, 2**22, 2**22))
    with pytest.raises(MemoryError, match=r"copy of input of shape \(1, 1, 4194304, 4194304\)"):
        dc.conv2d(x, np.ones((1, 1, 2, 2)), stride=2**20)


def test_size_functions_errors():
    with pytest.raises(ValueError, match="stride=0"):
        dc.conv_transpose_output_size(3, 2, stride=0)
    with pytest.raises(ValueError, match="output_padding=2"):
        dc.conv_transpose_output_size(3, 2, stride=2, output_padding=2)
    with pytest.raises(TypeError, match="kernel_size"):
        dc.conv_output_size((3, 3), (2, 2, 2))
    with pytest.raises(ValueError, match="padding"):
        dc.conv_transpose_output_size(1, 1, padding=1)
    with pytest.raises(ValueError, match="input_size=0"):
        dc.conv_output_size(0, 1)


def test_backend_env_var_is_validated(monkeypatch):
    monkeypatch.setenv("DECONV_CORE_BACKEND", "gpu")
    with pytest.raises(ImportError, match="DECONV_CORE_BACKEND='gpu'"):
        _backend._initial()
    with pytest.raises(ValueError, match="backend 'gpu'"):
        _backend.load("gpu")


def test_loadable_backends_are_the_ones_that_load(monkeypatch):
    """The benchmark scripts' list of backends: numpy always, compiled only when its
    module imports."""
    try:
        import deconv_core._kernels  # noqa: F401
        expect = ["compiled", "numpy"]
    except ImportError:   # the pure-NumPy install
        expect = ["numpy"]
    assert _backend.loadable() == expect
    real_load = _backend.load

    def no_kernels(name):
        if name == "compiled":
            raise ImportError("no kernels here")
        return real_load(name)
    monkeypatch.setattr(_backend, "load", no_kernels)
    assert _backend.loadable() == ["numpy"]


def test_empty_but_unrepresentable_output_is_value_error(backend):
    # A legal (empty) input whose empty output NumPy could not describe: 2**63 elements.
    x = np.broadcast_to(np.zeros(1), (0, 1, 2**59))
    with pytest.raises(ValueError, match=r"result of shape \(0, 1, 9223372036854775793\)"):
        dc.conv_transpose1d(x, np.ones((1, 1, 1)), stride=16)


def test_memoised_geometry_never_admits_what_validation_refuses(backend):
    """After a valid call, arguments that compare equal to it (2.0 == 2, True == 1)
    must still be refused: the per-shape memo must not bypass validation."""
    x, w = np.ones((1, 2, 4, 4)), np.ones((2, 1, 3, 3))
    good = dc.conv_transpose2d(x, w, stride=2, padding=1, groups=1, dilation=1)
    np.testing.assert_array_equal(dc.conv_transpose2d(x, w, stride=2, padding=1), good)
    for kwargs, name in [(dict(stride=2.0), "stride"), (dict(padding=True), "padding"),
                         (dict(dilation=(1.0, 1)), "dilation"), (dict(groups=True), "groups"),
                         (dict(stride=(2, 2.0)), "stride")]:
        with pytest.raises(TypeError, match=name):
            dc.conv_transpose2d(x, w, **{**dict(stride=2, padding=1), **kwargs})
    # The same shapes with another dtype or layout are validated and converted anew.
    np.testing.assert_allclose(dc.conv_transpose2d(x.astype(np.float32), w, stride=2,
                                                   padding=1), good)
    np.testing.assert_array_equal(dc.conv_transpose2d(np.asfortranarray(x), w, stride=2,
                                                      padding=1), good)
    with pytest.raises(ValueError, match="num_threads=0"):
        dc.conv_transpose2d(x, w, stride=2, padding=1, num_threads=0)
