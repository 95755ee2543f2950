"""Benchmark harness: deconv_core against PyTorch, ONNX Runtime, JAX, OpenVINO and TensorFlow,
in one process.

``python -m deconv_core bench [options]`` (or ``python benchmarks/run.py``). For each
workload of ``data/workloads.json`` it

* builds standard-normal inputs once (seeded) and calls every contender once to check it
  against a float64 reference (the NumPy backend on the same values upcast to float64);
  the tolerance is ``1000 * eps(dtype) * sqrt(C_in/groups * k**ndim)``;
* times every contender with warm-up calls excluded, an inner loop auto-scaled so one
  sample lasts at least ``--min-sample-ms``, and rounds interleaved across contenders
  (the order rotates each round) so machine noise hits all alike; before each sample
  it idles ``--settle-ms`` (other libraries' spinning pools stop), then runs the
  contender untimed for ``--rewarm-ms`` (calls are slower for a while after an idle);
  it reports medians;
* measures the machine's GEMM rate (NumPy float32 / float64 matmul) the same way, under
  the same thread count, as the "peak" a workload's GFLOP/s is compared with.

Every contender is called as a user would: deconv_core ``conv_transpose{1,2,3}d(x, w,
...)`` returning a new array (both backends, ``num_threads=--threads``); PyTorch's
``torch.nn.functional.conv_transpose{1,2,3}d`` with gradients disabled on tensors made
once; ONNX Runtime with one ``InferenceSession`` per workload (an opset 17 ConvTranspose
model with the weight as an initializer); JAX with a jitted ``lax.conv_general_dilated``
(``lhs_dilation=stride``, kernel flipped and transposed inside the jitted function) on
device arrays made once, ``block_until_ready()`` inside the timed call; OpenVINO with one
compiled model per workload (``ConvolutionBackpropData``, latency hint, one stream, float32
only); TensorFlow with a ``tf.function`` on channels-last tensors made once (grouped
convolutions only as depthwise 2-D).

``--op`` picks what is timed: ``transposed`` (above), ``conv`` (the forward convolution on
each workload's adjoint shape: its input has the transposed op's output shape, the same
weight; ONNX ``Conv``, OpenVINO ``Convolution``, ``lax.conv_general_dilated``) or
``backward`` (all three gradients of the transposed op: ``conv_transpose{N}d_backward``,
PyTorch's ``torch.ops.aten.convolution_backward``, the jit of ``jax.vjp`` and TensorFlow's
``GradientTape``; deconv_core's ``grad_weight`` alone is timed beside them).

Threads (``--threads N``, default 2), the same for all: deconv_core ``num_threads=N``;
``torch.set_num_threads(N)`` and ``set_num_interop_threads(1)``; ONNX Runtime
``intra_op_num_threads=N``, ``inter_op_num_threads=1``, sequential execution and no
spinning of idle pool threads (they would steal the CPU from the next contender); JAX:
``NPROC=N PJRT_NPROC=N`` (XLA's CPU thread pool size) and
``--xla_cpu_multi_thread_eigen=<N > 1>`` in ``XLA_FLAGS``, set before jax is imported
(not controllable once jax is imported: then it is said); NumPy's BLAS (the NumPy
backend and the GEMM peak) and every OpenMP runtime under ``threadpool_limits(N)``.
The CPU time / wall time of every contender's samples is recorded (``cpu_util``) as
evidence of how many cores it really used.
``--scaling`` adds a 1-thread twin of deconv_core (both backends), PyTorch and ONNX
Runtime, timed in the same interleaved rounds as the N-thread contenders (so a burst of
outside load hits both alike), and reports each one's speed-up; JAX is left out (XLA's
thread pool is fixed when jax is imported).

Outputs in ``--out`` (default ``bench_results/``): ``results.json`` (everything, with the
raw per-round times and machine info), ``results.md`` (the table) and ``ratios.png``.
The exit status is 1 when a contender disagrees with the reference (unless
``--no-check``) or deconv_core fails on a workload.
"""
from .cli import main, run

__all__ = ["main", "run"]
