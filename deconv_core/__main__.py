"""``python -m deconv_core``: the lesson's example, step by step, and a quick timing.

Subcommands (imported lazily, so the main job stays light):
``bench`` runs the benchmark harness; ``explain`` draws every step of one setting;
``apply`` streams a zarr array through an op into a new one (the dask extra).
"""
import argparse
import sys
import time

import numpy as np

from . import backend, conv_transpose2d, steps
from .workloads import load_workloads, workload_flops

LESSON_IMAGE = np.arange(1, 10, dtype=np.float32).reshape(3, 3)
LESSON_KERNEL = np.array([[1, 2], [3, 4]], dtype=np.float32)


def _grid(a):
    return "\n".join("    " + " ".join(f"{v:4g}" for v in row) for row in a)


def _lesson():
    print("deconv_core: the lesson's example, a 3 x 3 input and a 2 x 2 filter")
    print("Input image:\n" + _grid(LESSON_IMAGE))
    print("Filter:\n" + _grid(LESSON_KERNEL))
    for stride, padding in [(1, 0), (2, 0), (2, 1)]:
        s = steps(LESSON_IMAGE, LESSON_KERNEL, stride=stride, padding=padding)
        print(f"\n-- Stride={stride}, Padding={padding}")
        for label, arr in zip(("Step 1 (insert stride-1 zeros)", "Step 2 (pad kernel-1 zeros)",
                               "Step 3 (crop padding)", "Result (stride-1 convolution)"), s):
            print(f"{label}: {arr.shape[0]} x {arr.shape[1]}\n{_grid(arr)}")


def _timing(repeat):
    wl = load_workloads()["gray_512_k4_s2_p1"]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((wl["N"], wl["Cin"], *wl["size"])).astype(wl["dtype"])
    w = rng.standard_normal((wl["Cin"], wl["Cout"], wl["kernel"], wl["kernel"])).astype(wl["dtype"])
    out = np.empty_like(conv_transpose2d(x, w, stride=wl["stride"], padding=wl["padding"]))
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        conv_transpose2d(x, w, stride=wl["stride"], padding=wl["padding"], out=out)
        times.append(time.perf_counter() - t0)
    med = float(np.median(times))
    print(f"\nQuick timing ({backend()} backend), workload gray_512_k4_s2_p1 "
          f"(1 x 1 x 512 x 512 float32, kernel 4, stride 2, padding 1): median of {repeat}: "
          f"{med * 1e3:.3f} ms, {workload_flops(wl) / med / 1e9:.2f} GFLOP/s")
    print("For comparisons with PyTorch, ONNX Runtime and JAX: python -m deconv_core bench")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deconv_core", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20, help="timing repeats (default 20)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("bench", help="benchmark harness (see --help of the subcommand)",
                   add_help=False)
    sub.add_parser("explain", help="draw every step of one deconvolution", add_help=False)
    sub.add_parser("apply", help="a zarr array through an op into a new zarr array "
                                 "(needs deconv_core[dask])", add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        from .bench import main as bench_main
        return bench_main(rest)
    if args.command == "explain":
        from .lesson.cli import main as explain_main
        return explain_main(rest)
    if args.command == "apply":
        try:
            from .dask.apply import main as apply_main
        except ImportError as e:
            parser.exit(1, f"{parser.prog} apply: error: {' '.join(str(e).split())}\n")
        return apply_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.repeat < 1:
        parser.error(f"--repeat={args.repeat} must be >= 1")
    _lesson()
    _timing(args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
