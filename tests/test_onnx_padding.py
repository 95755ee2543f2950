"""Every padding form ONNX ``ConvTranspose`` can express, against ONNX's own reference
evaluator (``onnx.reference.ReferenceEvaluator``, opset 17): ``auto_pad`` NOTSET with
``pads``, SAME_UPPER and VALID, each with ``output_padding``; ``pads`` with
``output_shape``; strides, dilations, groups; 1-D, 2-D and 3-D; float32 and float64.

The one case left out is ``'same'`` with a negative total padding (the stride wider
than the kernel's span plus ``output_padding``): there ONNX's evaluator, ONNX Runtime and
TensorFlow disagree with each other, and deconv_core keeps TensorFlow's rule (the
missing pixels at the end; ``test_padding_forms.test_same_transposed`` covers it).
"""
import numpy as np
import pytest

import deconv_core as dc

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

CASES_PER_DTYPE = 120
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def _onnx_conv_transpose(x, w, b, **attrs):
    """One ConvTranspose node run by ONNX's reference evaluator."""
    elem = TensorProto.FLOAT if x.dtype == np.float32 else TensorProto.DOUBLE
    names = ["X", "W"] + (["B"] if b is not None else [])
    node = helper.make_node("ConvTranspose", names, ["Y"], **attrs)
    graph = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info(n, elem, None) for n in names],
                              [helper.make_tensor_value_info("Y", elem, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    feeds = dict(zip(names, (x, w, b)))
    return ReferenceEvaluator(model).run(None, feeds)[0]


def onnx_reference(x, w, b, **attrs):
    """The evaluator's group > 1 path only handles one input and one output channel per
    group, so a grouped case runs as one group-1 node per group, concatenated."""
    groups = attrs["group"]
    if groups == 1:
        return _onnx_conv_transpose(x, w, b, **attrs)
    attrs = dict(attrs, group=1)
    cin_g, cout_g = x.shape[1] // groups, w.shape[1]
    parts = [_onnx_conv_transpose(x[:, g * cin_g:(g + 1) * cin_g], w[g * cin_g:(g + 1) * cin_g],
                                  None if b is None else b[g * cout_g:(g + 1) * cout_g], **attrs)
             for g in range(groups)]
    return np.concatenate(parts, axis=1)


def make_cases(seed, dtype):
    """Seeded random cases: (onnx attrs, deconv_core kwargs, arrays)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < CASES_PER_DTYPE:
        nd = int(rng.integers(1, 4))
        groups = int(rng.integers(1, 3))
        cin_g, cout_g = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        kernel = [int(rng.integers(1, 5)) for _ in range(nd)]
        stride = [int(rng.integers(1, 4)) for _ in range(nd)]
        dilation = [int(rng.integers(1, 3)) for _ in range(nd)]
        sizes = [int(rng.integers(1, {1: 9, 2: 6, 3: 4}[nd])) for _ in range(nd)]
        # output_padding < stride: the evaluator's col2im needs it (SPEC allows < dilation too)
        op = [int(rng.integers(0, s)) if rng.random() < 0.6 else 0 for s in stride]
        form = str(rng.choice(["pads", "same", "valid", "output_shape"]))
        span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
        attrs = dict(strides=stride, dilations=dilation, group=groups)
        kwargs = dict(stride=tuple(stride), dilation=tuple(dilation), groups=groups)
        if form == "same":
            if any(sp + o - s < 0 for sp, o, s in zip(span, op, stride)):
                continue  # the negative-total corner: see the module docstring
            attrs.update(auto_pad="SAME_UPPER", output_padding=op)
            kwargs.update(padding="same", output_padding=tuple(op))
        elif form == "valid":
            attrs.update(auto_pad="VALID", output_padding=op)
            kwargs.update(padding="valid", output_padding=tuple(op))
        else:
            pairs = [(int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd)]
            base = [(n - 1) * s - pb - pa + sp
                    for n, s, (pb, pa), sp in zip(sizes, stride, pairs, span)]
            if min(base) < 1:
                continue
            attrs.update(pads=[pb for pb, _ in pairs] + [pa for _, pa in pairs])
            kwargs.update(padding=tuple(pairs))
            if form == "pads":
                attrs.update(output_padding=op)
                kwargs.update(output_padding=tuple(op))
            else:
                shape = [b + o for b, o in zip(base, op)]
                attrs.update(output_shape=shape)
                kwargs.update(output_size=tuple(shape))
        x = rng.standard_normal((int(rng.integers(1, 3)), groups * cin_g, *sizes)).astype(dtype)
        w = rng.standard_normal((groups * cin_g, cout_g, *kernel)).astype(dtype)
        b = rng.standard_normal(groups * cout_g).astype(dtype) if rng.random() < 0.5 else None
        cases.append((form, attrs, kwargs, x, w, b))
    return cases


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_conv_transpose_matches_onnx(backend, dtype):
    forms = {}
    for form, attrs, kwargs, x, w, b in make_cases(20261207 + np.dtype(dtype).itemsize, dtype):
        nd = x.ndim - 2
        ref = onnx_reference(x, w, b, **attrs)
        got = getattr(dc, f"conv_transpose{nd}d")(x, w, b, **kwargs)
        what = f"{form}: {kwargs}, x {x.shape}, w {w.shape}"
        assert got.shape == ref.shape, what
        scale = max(1.0, float(np.abs(ref).max(initial=0)))
        np.testing.assert_allclose(got, ref, rtol=0, atol=TOL[dtype] * scale, err_msg=what)
        # the size function resolves the padding the same way
        size_kwargs = {k: v for k, v in kwargs.items() if k not in ("groups", "output_size")}
        if "output_size" not in kwargs:
            assert dc.conv_transpose_output_size(x.shape[2:], w.shape[2:], **size_kwargs) \
                == ref.shape[2:], what
        # and so do the lesson's materialised steps (2-D, one group)
        if nd == 2 and kwargs["groups"] == 1 and "output_size" not in kwargs:
            s = dc.steps(x[0], w, kwargs["stride"], kwargs["padding"],
                         output_padding=kwargs.get("output_padding", 0),
                         dilation=kwargs["dilation"])
            bias = 0 if b is None else b[:, None, None]
            np.testing.assert_allclose(s.result + bias, ref[0], rtol=0,
                                       atol=TOL[dtype] * scale * 10, err_msg=what)
        key = (form, any(kwargs.get("output_padding", (0,))))
        forms[key] = forms.get(key, 0) + 1
    # the sweep really covers each string form with and without output_padding
    for key in [("same", False), ("same", True), ("valid", False), ("valid", True),
                ("pads", True), ("output_shape", False)]:
        assert forms.get(key, 0) >= 5, (key, forms)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_string_padding_keeps_output_padding(backend, padding):
    """The issue's two examples: 'same' gives input*stride, 'valid' appends output_padding."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    got = dc.conv_transpose2d(x, w, stride=2, padding=padding, output_padding=1)
    assert got.shape == ((1, 3, 10, 10) if padding == "same" else (1, 3, 12, 12))
    x1, w1 = rng.standard_normal((1, 2, 7)), rng.standard_normal((2, 3, 2))
    got1 = dc.conv_transpose1d(x1, w1, stride=2, padding=padding, output_padding=1)
    assert got1.shape == ((1, 3, 14) if padding == "same" else (1, 3, 15))
    assert dc.conv_transpose_output_size(7, 2, 2, padding, 1) == got1.shape[-1]


def test_explain_same_with_output_padding():
    """explain's grids and its own check follow the same rule."""
    from deconv_core.lesson.text import explain_text, explanation
    img, ker = np.arange(1.0, 10.0).reshape(3, 3), np.array([[1.0, 2.0], [3.0, 4.0]])
    ex = explanation(img, ker, 2, "same", output_padding=1)
    assert ex.result.shape == (1, 6, 6)
    np.testing.assert_array_equal(ex.result[0], dc.conv_transpose2d(
        img[None, None], ker[None, None], stride=2, padding="same", output_padding=1)[0, 0])
    assert "Check: the Result equals deconv_core.conv_transpose2d with the same arguments: yes" \
        in explain_text(img, ker, 2, "same", output_padding=1)
