"""The contenders of the harness: deconv_core (both backends) and its peers.

Each is ``load(threads) -> info`` (ImportError: the peer is skipped) and
``setup(spec, x, w, threads) -> call`` (one call of the workload, as a user would
make it); ``Unsupported`` when a peer cannot run a workload.
"""
import os
import sys

from .. import _backend

PEERS = ("torch", "onnxruntime", "jax")


DC = "deconv_core"            # the compiled backend: the one the ratios are about


DC_NUMPY = "deconv_core_numpy"


ONE = "@1"                    # suffix of the 1-thread twins of --scaling


SCALED = (DC, DC_NUMPY, "torch", "onnxruntime")


LABELS = {DC: "dc compiled", DC_NUMPY: "dc numpy", "torch": "torch",
          "onnxruntime": "ort", "jax": "jax"}


TOL_FACTOR = 1000


# The JAX thread settings as this process found them.
JAX_ENV = ("XLA_FLAGS", "NPROC", "PJRT_NPROC")


_ORIGINAL_ENV = {k: os.environ.get(k) for k in JAX_ENV}


# Private hook for tests: {name: setup(spec, x, w, threads) -> call}; each runs as an
# extra peer-like contender (checked, timed, never "fastest peer").
EXTRA_CONTENDERS = {}


class Unsupported(Exception):
    """The contender cannot run this workload (said in the table, not a failure)."""


def first_line(exc):
    return (str(exc).splitlines() or [""])[0][:160]


def conv_kwargs(spec):
    return dict(stride=spec["stride"], padding=spec["padding"],
                output_padding=spec["output_padding"], groups=spec["groups"],
                dilation=spec["dilation"])


def load_deconv(name):
    def load(threads):
        mod = _backend.load(name)   # ImportError when the compiled kernels are missing
        info = {"backend_module": mod.__name__}
        if hasattr(mod, "build_info"):
            info["build_info"] = mod.build_info()
        return info
    return load


def setup_deconv(name):
    def setup(spec, x, w, threads):
        from .. import api
        fn = getattr(api, f"conv_transpose{len(spec['size'])}d")
        kw = conv_kwargs(spec)
        return lambda: fn(x, w, num_threads=threads, **kw)
    return setup


def load_torch(threads):
    import torch
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:        # only settable before any inter-op work
        pass
    return {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads()}


def setup_torch(spec, x, w, threads):
    import torch
    fn = getattr(torch.nn.functional, f"conv_transpose{len(spec['size'])}d")
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    kw = conv_kwargs(spec)
    return lambda: fn(xt, wt, **kw)


def load_onnxruntime(threads):
    import onnx
    import onnxruntime
    return {"version": onnxruntime.__version__, "onnx_version": onnx.__version__,
            "intra_op_num_threads": threads, "inter_op_num_threads": 1,
            "allow_spinning": 0}


def onnx_model(spec, x, w):
    import onnx
    from onnx import helper, numpy_helper
    nd = len(spec["size"])
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    node = helper.make_node(
        "ConvTranspose", ["x", "w"], ["y"], kernel_shape=[spec["kernel"]] * nd,
        strides=[spec["stride"]] * nd, pads=[spec["padding"]] * (2 * nd),
        dilations=[spec["dilation"]] * nd, group=spec["groups"],
        output_padding=[spec["output_padding"]] * nd)
    k, s, p, d = spec["kernel"], spec["stride"], spec["padding"], spec["dilation"]
    op = spec["output_padding"]
    y_shape = [spec["N"], spec["Cout"]] + [(n - 1) * s - 2 * p + d * (k - 1) + op + 1
                                           for n in spec["size"]]
    graph = helper.make_graph([node], "deconv", [helper.make_tensor_value_info("x", elem, x.shape)],
                              [helper.make_tensor_value_info("y", elem, y_shape)],
                              initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8        # opset 17's IR version: every ORT of that era reads it
    onnx.checker.check_model(model)
    return model.SerializeToString()


def setup_onnxruntime(spec, x, w, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 4
    try:
        sess = ort.InferenceSession(onnx_model(spec, x, w), so,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:    # e.g. no float64 ConvTranspose kernel
        raise Unsupported(f"{x.dtype} ConvTranspose: {first_line(exc)}") from exc
    feed = {"x": x}
    return lambda: sess.run(None, feed)[0]


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


def setup_jax(spec, x, w, threads):
    import jax
    import jax.numpy as jnp
    nd, k, s, p = len(spec["size"]), spec["kernel"], spec["stride"], spec["padding"]
    d, g, op = spec["dilation"], spec["groups"], spec["output_padding"]
    edge = d * (k - 1) - p
    pads = [(edge, edge + op)] * nd

    def deconv(x, w):
        # (C_in, C_out/g, *k) -> forward-conv (C_out, C_in/g, *k), rotated 180 degrees
        cin, coutg, ks = w.shape[0], w.shape[1], w.shape[2:]
        wf = w.reshape(g, cin // g, coutg, *ks).swapaxes(1, 2).reshape(g * coutg, cin // g, *ks)
        wf = jnp.flip(wf, axis=tuple(range(2, 2 + nd)))
        return jax.lax.conv_general_dilated(
            x, wf, window_strides=(1,) * nd, padding=pads, lhs_dilation=(s,) * nd,
            rhs_dilation=(d,) * nd, feature_group_count=g)

    f = jax.jit(deconv)
    xj, wj = jax.device_put(x), jax.device_put(w)
    return lambda: f(xj, wj).block_until_ready()


CONTENDERS = {
    DC: (load_deconv("compiled"), setup_deconv("compiled"), "compiled"),
    DC_NUMPY: (load_deconv("numpy"), setup_deconv("numpy"), "numpy"),
    "torch": (load_torch, setup_torch, None),
    "onnxruntime": (load_onnxruntime, setup_onnxruntime, None),
    "jax": (load_jax, setup_jax, None),
}
