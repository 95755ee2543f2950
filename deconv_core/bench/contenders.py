"""The contenders of the harness: deconv_core (both backends) and its peers.

Each is ``load(threads) -> info`` (ImportError: the peer is skipped) and
``setup(spec, op, arrays, threads) -> call`` (one call of the workload's op, as a user
would make it; ``arrays`` from :func:`deconv_core.bench.cli.inputs`); ``Unsupported``
when a peer cannot run a workload.  A call returns the result in the peer's own types
and layout; ``call.to_numpy`` (when set) turns it into NumPy arrays in deconv_core's
layout for the check, outside the timing.

The ops (``--op``): ``transposed`` (the workload itself), ``conv`` (the forward
convolution it is the transpose of: input of the transposed op's output shape, the
same weight read as a convolution weight) and ``backward`` (all three gradients of
the transposed op: input, weight, bias).
"""
import os
import sys

import numpy as np

from .. import _backend

OPS = ("transposed", "conv", "backward")
ALL_PEERS = ("torch", "onnxruntime", "jax", "openvino", "tensorflow")
# the peers the ratios are taken against, per op (ONNX Runtime and OpenVINO have no
# training ops)
PEERS_BY_OP = {"transposed": ALL_PEERS, "conv": ALL_PEERS,
               "backward": ("torch", "jax", "tensorflow")}
DC = "deconv_core"            # the compiled backend: the one the ratios are about
DC_NUMPY = "deconv_core_numpy"
DC_GW = "deconv_core_gw"      # --op backward: the compiled grad_weight alone
ONE = "@1"                    # suffix of the 1-thread twins of --scaling
SCALED = (DC, DC_NUMPY, "torch", "onnxruntime")
LABELS = {DC: "dc compiled", DC_NUMPY: "dc numpy", DC_GW: "dc gw only", "torch": "torch",
          "onnxruntime": "ort", "jax": "jax", "openvino": "ov", "tensorflow": "tf"}
TOL_FACTOR = 1000
# The JAX thread settings as this process found them.
JAX_ENV = ("XLA_FLAGS", "NPROC", "PJRT_NPROC")
_ORIGINAL_ENV = {k: os.environ.get(k) for k in JAX_ENV}

# Private hook for tests: {name: setup(spec, op, arrays, threads) -> call}; each runs as
# an extra peer-like contender (checked, timed, never "fastest peer").
EXTRA_CONTENDERS = {}


class Unsupported(Exception):
    """The contender cannot run this workload (said in the table, not a failure)."""


def first_line(exc):
    return (str(exc).splitlines() or [""])[0][:160]


def conv_kwargs(spec):
    return dict(stride=spec["stride"], padding=spec["padding"],
                output_padding=spec["output_padding"], groups=spec["groups"],
                dilation=spec["dilation"])


def _geometry(spec):
    return (len(spec["size"]), spec["kernel"], spec["stride"], spec["padding"],
            spec["dilation"], spec["groups"], spec["output_padding"])


# ---------------------------------------------------------------------------------------
# deconv_core

def load_deconv(name):
    def load(threads):
        mod = _backend.load(name)   # ImportError when the compiled kernels are missing
        info = {"backend_module": mod.__name__}
        if hasattr(mod, "build_info"):
            info["build_info"] = mod.build_info()
        return info
    return load


def deconv_call(spec, op, a, threads, output_mask=(True, True, True)):
    """deconv_core's call of ``op`` on the active backend."""
    from .. import api
    nd, _, s, p, d, g, op_ = _geometry(spec)
    if op == "transposed":
        fn = getattr(api, f"conv_transpose{nd}d")
        return lambda: fn(a["x"], a["w"], num_threads=threads, **conv_kwargs(spec))
    if op == "conv":
        fn = getattr(api, f"conv{nd}d")
        return lambda: fn(a["x"], a["w"], stride=s, padding=p, dilation=d, groups=g,
                          num_threads=threads)
    fn = getattr(api, f"conv_transpose{nd}d_backward")
    return lambda: fn(a["gy"], a["x"], a["w"], output_mask=output_mask, num_threads=threads,
                      **conv_kwargs(spec))


def setup_deconv(spec, op, a, threads):
    return deconv_call(spec, op, a, threads)


def setup_deconv_gw(spec, op, a, threads):
    """grad_weight alone (``--op backward``): its GFLOP/s against the GEMM peak."""
    if op != "backward":
        raise Unsupported("grad_weight alone is timed with --op backward")
    call = deconv_call(spec, op, a, threads, output_mask=(False, True, False))
    run = lambda: call()[1]   # noqa: E731
    run.reference_index = 1
    return run


# ---------------------------------------------------------------------------------------
# PyTorch

def load_torch(threads):
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:        # only settable before any inter-op work
        pass
    return {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads()}


def setup_torch(spec, op, a, threads):
    import torch
    F = torch.nn.functional
    nd, _, s, p, d, g, op_ = _geometry(spec)
    t = {k: torch.from_numpy(v) for k, v in a.items()}
    if op == "transposed":
        fn = getattr(F, f"conv_transpose{nd}d")
        return lambda: fn(t["x"], t["w"], **conv_kwargs(spec))
    if op == "conv":
        fn = getattr(F, f"conv{nd}d")
        return lambda: fn(t["x"], t["w"], stride=s, padding=p, dilation=d, groups=g)
    backward = torch.ops.aten.convolution_backward
    return lambda: backward(t["gy"], t["x"], t["w"], [spec["Cout"]], [s] * nd, [p] * nd,
                            [d] * nd, True, [op_] * nd, g, [True, True, True])


# ---------------------------------------------------------------------------------------
# ONNX Runtime

def load_onnxruntime(threads):
    import onnx
    import onnxruntime
    return {"version": onnxruntime.__version__, "onnx_version": onnx.__version__,
            "intra_op_num_threads": threads, "inter_op_num_threads": 1,
            "allow_spinning": 0}


def onnx_model(spec, op, x, w):
    """An opset 17 model of one ConvTranspose or Conv node, the weight an initializer."""
    import onnx
    from onnx import helper, numpy_helper
    nd, k, s, p, d, g, op_ = _geometry(spec)
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    attrs = dict(kernel_shape=[k] * nd, strides=[s] * nd, pads=[p] * (2 * nd),
                 dilations=[d] * nd, group=g)
    if op == "transposed":
        node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], output_padding=[op_] * nd,
                                **attrs)
        y_shape = [x.shape[0], spec["Cout"]] + [(n - 1) * s - 2 * p + d * (k - 1) + op_ + 1
                                                for n in x.shape[2:]]
    else:
        node = helper.make_node("Conv", ["x", "w"], ["y"], **attrs)
        y_shape = [x.shape[0], w.shape[0]] + [(n + 2 * p - d * (k - 1) - 1) // s + 1
                                              for n in x.shape[2:]]
    graph = helper.make_graph([node], "deconv", [helper.make_tensor_value_info("x", elem, x.shape)],
                              [helper.make_tensor_value_info("y", elem, y_shape)],
                              initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8        # opset 17's IR version: every ORT of that era reads it
    onnx.checker.check_model(model)
    return model.SerializeToString()


def setup_onnxruntime(spec, op, a, threads):
    if op == "backward":
        raise Unsupported("inference only: no training ops")
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 4
    name = "ConvTranspose" if op == "transposed" else "Conv"
    try:
        sess = ort.InferenceSession(onnx_model(spec, op, a["x"], a["w"]), so,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:    # e.g. no float64 ConvTranspose kernel
        raise Unsupported(f"{a['x'].dtype} {name}: {first_line(exc)}") from exc
    feed = {"x": a["x"]}
    return lambda: sess.run(None, feed)[0]


# ---------------------------------------------------------------------------------------
# JAX

def load_jax(threads):
    # XLA's CPU client sizes its thread pool from NPROC / PJRT_NPROC (read once, when the
    # client is made); --xla_cpu_multi_thread_eigen switches Eigen's own threading. The
    # often-quoted "intra_op_parallelism_threads=N" token is silently ignored by this XLA.
    controlled = "jax" not in sys.modules
    if controlled:
        flag = f"--xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
        os.environ["XLA_FLAGS"] = f"{_ORIGINAL_ENV['XLA_FLAGS'] or ''} {flag}".strip()
        os.environ["NPROC"] = os.environ["PJRT_NPROC"] = str(threads)
    import jax
    import jaxlib
    jax.config.update("jax_enable_x64", True)   # float64 workloads; float32 stays float32
    return {"version": jax.__version__, "jaxlib_version": jaxlib.__version__,
            "env": {k: os.environ.get(k) for k in JAX_ENV}, "threads_controlled": controlled,
            "note": None if controlled else
            "jax was imported before the harness could set XLA_FLAGS: its threads are "
            "whatever that import chose"}


def jax_functions(spec):
    """(transposed(x, w), conv(x, w)) in jax.lax, NC* layouts."""
    import jax
    import jax.numpy as jnp
    nd, k, s, p, d, g, op_ = _geometry(spec)
    edge = d * (k - 1) - p

    def transposed(x, w):
        # (C_in, C_out/g, *k) -> forward-conv (C_out, C_in/g, *k), rotated 180 degrees
        cin, coutg, ks = w.shape[0], w.shape[1], w.shape[2:]
        wf = w.reshape(g, cin // g, coutg, *ks).swapaxes(1, 2).reshape(g * coutg, cin // g, *ks)
        wf = jnp.flip(wf, axis=tuple(range(2, 2 + nd)))
        return jax.lax.conv_general_dilated(
            x, wf, window_strides=(1,) * nd, padding=[(edge, edge + op_)] * nd,
            lhs_dilation=(s,) * nd, rhs_dilation=(d,) * nd, feature_group_count=g)

    def conv(x, w):
        return jax.lax.conv_general_dilated(x, w, window_strides=(s,) * nd,
                                            padding=[(p, p)] * nd, rhs_dilation=(d,) * nd,
                                            feature_group_count=g)
    return transposed, conv


def setup_jax(spec, op, a, threads):
    import jax
    nd = len(spec["size"])
    transposed, conv = jax_functions(spec)
    arrays = {k: jax.device_put(v) for k, v in a.items()}
    if op in ("transposed", "conv"):
        f = jax.jit(transposed if op == "transposed" else conv)
        xj, wj = arrays["x"], arrays["w"]
        return lambda: f(xj, wj).block_until_ready()

    def forward(x, w, b):
        return transposed(x, w) + b.reshape((1, -1) + (1,) * nd)

    @jax.jit
    def grads(x, w, b, gy):
        return jax.vjp(forward, x, w, b)[1](gy)
    b = jax.device_put(np.zeros(spec["Cout"], a["x"].dtype))
    xj, wj, gyj = arrays["x"], arrays["w"], arrays["gy"]
    return lambda: jax.block_until_ready(grads(xj, wj, b, gyj))


# ---------------------------------------------------------------------------------------
# OpenVINO

def load_openvino(threads):
    import openvino as ov
    return {"version": ov.__version__, "inference_num_threads": threads,
            "inference_precision_hint": "f32", "num_streams": 1}


def setup_openvino(spec, op, a, threads):
    if op == "backward":
        raise Unsupported("inference only: no training ops")
    x, w = a["x"], a["w"]
    if x.dtype != np.float32:
        raise Unsupported(f"{x.dtype}: the CPU plugin computes in float32 at best")
    import openvino as ov
    import openvino.opset13 as ops
    nd, k, s, p, d, g, op_ = _geometry(spec)
    data = ops.parameter(list(x.shape), ov.Type.f32, name="x")
    kw = dict(pads_begin=[p] * nd, pads_end=[p] * nd, dilations=[d] * nd)
    if op == "transposed":    # filters (C_in, C_out/g, *k), grouped (g, C_in/g, C_out/g, *k)
        if g == 1:
            node = ops.convolution_backprop_data(data, ops.constant(w), [s] * nd,
                                                 output_padding=[op_] * nd, **kw)
        else:
            wg = w.reshape((g, w.shape[0] // g) + w.shape[1:])
            node = ops.group_convolution_backprop_data(data, ops.constant(wg), [s] * nd,
                                                       output_padding=[op_] * nd, **kw)
    else:                     # filters (C_out, C_in/g, *k), grouped (g, C_out/g, C_in/g, *k)
        if g == 1:
            node = ops.convolution(data, ops.constant(w), [s] * nd, **kw)
        else:
            wg = w.reshape((g, w.shape[0] // g) + w.shape[1:])
            node = ops.group_convolution(data, ops.constant(wg), [s] * nd, **kw)
    compiled = ov.Core().compile_model(
        ov.Model([node], [data]), "CPU",
        {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32",
         "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY", "ENABLE_CPU_PINNING": False})
    request = compiled.create_infer_request()

    def call():
        request.infer({0: x}, share_inputs=True)
        return request.get_output_tensor(0).data
    return call


# ---------------------------------------------------------------------------------------
# TensorFlow (channels-last: the inputs are made NHWC once, outside the timing)

def load_tensorflow(threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    note = None
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:        # only settable before TensorFlow's runtime starts
        note = "TensorFlow was initialised before the harness could set its threads"
    return {"version": tf.__version__,
            "intra_op_parallelism_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "note": note}


def _last(a):
    return np.ascontiguousarray(np.moveaxis(a, 1, -1))


def tf_functions(spec, x_shape):
    """(transposed(x, w), conv(x, w)) on NHWC data and TensorFlow's filter layouts:
    transposed (*k, C_out, C_in), conv (*k, C_in, C_out); groups are unsupported but
    for a depthwise 2-D conv."""
    import tensorflow as tf
    nd, k, s, p, d, g, op_ = _geometry(spec)
    n_batch, sizes = x_shape[0], list(x_shape[2:])
    full = [(n - 1) * s + d * (k - 1) + 1 + op_ for n in sizes]
    crop = tuple([slice(None)] + [slice(p, f - p) for f in full] + [slice(None)])
    transposed_op = {1: tf.nn.conv1d_transpose, 2: tf.nn.conv2d_transpose,
                     3: tf.nn.conv3d_transpose}[nd]
    conv_op = {1: tf.nn.conv1d, 2: tf.nn.conv2d, 3: tf.nn.conv3d}[nd]
    pad = [[0, 0]] + [[p, p]] * nd + [[0, 0]]

    def transposed(x, w):   # VALID, then the padding cropped
        if g > 1:           # depthwise: the input gradient of a depthwise conv, w (kh, kw, C, 1)
            out = [n_batch] + [f - 2 * p for f in full] + [spec["Cout"]]
            return tf.nn.depthwise_conv2d_backprop_input(out, w, x, [1, s, s, 1], pad,
                                                         dilations=[1, d, d, 1])
        y = transposed_op(x, w, [n_batch] + full + [spec["Cout"]], s, "VALID",
                          dilations=d)
        return y[crop] if p else y

    def conv(x, w):
        if g > 1:             # depthwise: w is (kh, kw, C, 1)
            return tf.nn.depthwise_conv2d(x, w, [1, s, s, 1], pad, dilations=[d, d])
        if nd == 2:
            return conv_op(x, w, s, pad, dilations=d)
        if nd == 3:           # conv3d takes only 5-entry strides and dilations
            return conv_op(tf.pad(x, pad), w, [1, s, s, s, 1], "VALID",
                           dilations=[1, d, d, d, 1])
        return conv_op(tf.pad(x, pad), w, s, "VALID", dilations=d)
    return transposed, conv


def setup_tensorflow(spec, op, a, threads):
    import tensorflow as tf
    nd, _, _, _, _, g, _ = _geometry(spec)
    if g > 1 and not (nd == 2 and spec["Cin"] == spec["Cout"] == g):
        raise Unsupported(f"groups={g}: no grouped convolution on the CPU but a depthwise "
                          f"2-D one")
    kaxes = tuple(range(2, 2 + nd))
    if g > 1:                 # depthwise (C, 1, *k) -> (*k, C, 1): channel multiplier 1
        wt = np.transpose(a["w"], kaxes + (0, 1))
    else:                     # conv (C_out, C_in, *k) -> (*k, C_in, C_out);
        wt = np.transpose(a["w"], kaxes + (1, 0))   # transposed (C_in, C_out, *k) -> (*k, C_out, C_in)
    transposed, conv = tf_functions(spec, a["x"].shape)
    x = tf.constant(_last(a["x"]))
    w = tf.constant(np.ascontiguousarray(wt))
    if op in ("transposed", "conv"):
        f = tf.function(transposed if op == "transposed" else conv)
        call = lambda: f(x, w)   # noqa: E731
        call.to_numpy = lambda y: np.moveaxis(np.asarray(y), -1, 1)
        return call
    gy = tf.constant(_last(a["gy"]))
    b = tf.constant(np.zeros(spec["Cout"], a["x"].dtype))

    @tf.function
    def grads(x, w, b, gy):
        with tf.GradientTape() as tape:
            tape.watch([x, w, b])
            y = transposed(x, w) + b
        return tape.gradient(y, [x, w, b], output_gradients=gy)
    call = lambda: grads(x, w, b, gy)   # noqa: E731
    w_back = (nd, nd + 1) if g > 1 else (nd + 1, nd)   # TF's filter layout -> ours
    call.to_numpy = lambda r: (np.moveaxis(np.asarray(r[0]), -1, 1),
                               np.transpose(np.asarray(r[1]), w_back + tuple(range(nd))),
                               np.asarray(r[2]))
    return call


CONTENDERS = {
    DC: (load_deconv("compiled"), setup_deconv, "compiled"),
    DC_NUMPY: (load_deconv("numpy"), setup_deconv, "numpy"),
    DC_GW: (load_deconv("compiled"), setup_deconv_gw, "compiled"),
    "torch": (load_torch, setup_torch, None),
    "onnxruntime": (load_onnxruntime, setup_onnxruntime, None),
    "jax": (load_jax, setup_jax, None),
    "openvino": (load_openvino, setup_openvino, None),
    "tensorflow": (load_tensorflow, setup_tensorflow, None),
}


def to_numpy(call, result):
    """A call's result as NumPy arrays in deconv_core's layout (a tuple for backward)."""
    convert = getattr(call, "to_numpy", None)
    if convert is not None:
        return convert(result)
    if isinstance(result, (tuple, list)):
        return tuple(np.asarray(r) for r in result)
    return np.asarray(result)
