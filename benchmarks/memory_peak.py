"""Peak resident memory of one call.

    python benchmarks/memory_peak.py [--backend compiled|numpy|torch] [--size 4096]
    python benchmarks/memory_peak.py --op backward [--backend ...] [--scale 4]

A fresh process per measurement reads its resident set, makes the call once, and reads
the peak resident set (getrusage); growth is the peak minus the resident set before the
call, plus the inputs (they were there before it), so that "growth / (inputs +
outputs)" is 1.0 for a call that allocates its outputs and nothing else.

``--op transposed`` (the default): a 1 x 1 x S x S float32 input, a 4x4 kernel,
conv_transpose2d(stride=2, padding=1) (target: at most 1.25).
``--op backward``: all three gradients of the transposed op on each shared workload,
its batch multiplied by ``--scale`` so that every call is large against the
allocator's granularity (target: at most 1.10, no column buffer of the problem).
A one-image call first starts the thread pools (their stacks are not counted), then the
peak is reset to the resident set (/proc/self/clear_refs, Linux >= 4.0).
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import resource, sys, json, numpy as np
backend, size = sys.argv[1], int(sys.argv[2])
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
x = np.random.default_rng(0).standard_normal((1, 1, size, size), dtype=np.float32)
w = np.random.default_rng(1).standard_normal((1, 1, 4, 4)).astype(np.float32)
if backend == "torch":
    import torch
    torch.set_num_threads(2)
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    call = lambda: torch.nn.functional.conv_transpose2d(xt, wt, stride=2, padding=1)
else:
    import deconv_core as dc
    assert dc.backend() == backend, dc.backend()
    call = lambda: dc.conv_transpose2d(x, w, stride=2, padding=1)
before = rss()
peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
y = call()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
out_bytes = int(np.prod(tuple(y.shape))) * 4
# The process's earlier peak must not hide the call's: nothing before it was larger.
assert peak_before <= before + (8 << 20), (peak_before, before)
print(json.dumps(dict(backend=backend, input=x.nbytes, output=out_bytes,
                      growth=peak - before + x.nbytes)))
"""


BACKWARD_CHILD = r"""
import sys, json, numpy as np
backend, name, scale = sys.argv[1], sys.argv[2], int(sys.argv[3])
from deconv_core.workloads import load_workloads
spec = load_workloads()[name]
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096
def reset_peak():
    # Linux >= 4.0: the high-water mark restarts at the current resident set
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
def peak():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM:"))
nd = len(spec["size"])
rng = np.random.default_rng(0)
dt = np.dtype(spec["dtype"])
kw = dict(stride=spec["stride"], padding=spec["padding"], groups=spec["groups"],
          dilation=spec["dilation"], output_padding=spec["output_padding"])
x = rng.standard_normal((spec["N"] * scale, spec["Cin"], *spec["size"]), dtype=dt)
w = rng.standard_normal((spec["Cin"], spec["Cout"] // spec["groups"])
                        + (spec["kernel"],) * nd, dtype=dt)
import deconv_core as dc
out_size = dc.conv_transpose_output_size(
    x.shape[2:], w.shape[2:], **{k: v for k, v in kw.items() if k != "groups"})
gy = rng.standard_normal((x.shape[0], spec["Cout"], *out_size), dtype=dt)
if backend == "torch":
    import torch
    torch.set_num_threads(2)
    def call(gy, x, w):
        return torch.ops.aten.convolution_backward(
            torch.from_numpy(gy), torch.from_numpy(x), torch.from_numpy(w),
            [spec["Cout"]], [spec["stride"]] * nd, [spec["padding"]] * nd,
            [spec["dilation"]] * nd, True, [spec["output_padding"]] * nd, spec["groups"],
            [True, True, True])
else:
    assert dc.backend() == backend, dc.backend()
    f = getattr(dc, f"conv_transpose{nd}d_backward")
    call = lambda gy, x, w: f(gy, x, w, **kw)
# start the thread pools on a one-image call of the same kind
call(np.zeros((1, spec["Cout"], *out_size), dt), x[:1].copy(), w)
reset_peak()
before = rss()
res = call(gy, x, w)
top = peak()
inputs = gy.nbytes + x.nbytes + w.nbytes
outputs = x.nbytes + w.nbytes + spec["Cout"] * dt.itemsize
print(json.dumps(dict(backend=backend, input=inputs, output=outputs,
                      growth=top - before + inputs)))
"""


def measure(backend, size, op="transposed", name=None, scale=1):
    env = dict(os.environ)
    if backend in ("numpy", "compiled"):
        env["DECONV_CORE_BACKEND"] = backend
    argv = [CHILD, backend, str(size)] if op == "transposed" else \
        [BACKWARD_CHILD, backend, name, str(scale)]
    out = subprocess.run([sys.executable, "-c", *argv], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", action="append", choices=["compiled", "numpy", "torch"])
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--op", choices=["transposed", "backward"], default="transposed")
    ap.add_argument("--scale", type=int, default=4,
                    help="--op backward: the workloads' batch times this")
    ap.add_argument("--workload", action="append",
                    help="--op backward: a shared workload (default: every one)")
    args = ap.parse_args(argv)
    if args.op == "backward":
        from deconv_core.workloads import load_workloads
        names = args.workload or list(load_workloads())
    else:
        names = [None]
    for name in names:
        for backend in args.backend or ["compiled", "numpy", "torch"]:
            try:
                r = measure(backend, args.size, args.op, name, args.scale)
            except subprocess.CalledProcessError as exc:
                print(f"{name or ''} {backend:9s} skipped: {exc.stderr.strip().splitlines()[-1]}")
                continue
            base = r["input"] + r["output"]
            label = f"{name:28s} " if name else ""
            print(f"{label}{backend:9s} inputs {r['input'] / 2**20:7.1f} MiB, outputs "
                  f"{r['output'] / 2**20:7.1f} MiB, peak growth "
                  f"{r['growth'] / 2**20:7.1f} MiB = {r['growth'] / base:.2f} x "
                  f"(inputs + outputs)", flush=True)


if __name__ == "__main__":
    main()
