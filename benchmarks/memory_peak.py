"""Peak resident memory of one large call (issue target: growth <= 1.25 x (input + output)).

    python benchmarks/memory_peak.py [--backend compiled|numpy|torch] [--size 4096]

A fresh process per backend: it makes a 1 x 1 x S x S float32 input and a 4x4 kernel,
reads its resident set, calls conv_transpose2d(stride=2, padding=1) once, and reads the
peak resident set (getrusage). Growth is the peak minus the resident set before the
call, plus the input itself (the target counts input + output).
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


def measure(backend, size):
    env = dict(os.environ)
    if backend in ("numpy", "compiled"):
        env["DECONV_CORE_BACKEND"] = backend
    out = subprocess.run([sys.executable, "-c", CHILD, backend, str(size)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", action="append", choices=["compiled", "numpy", "torch"])
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args(argv)
    for backend in args.backend or ["compiled", "numpy", "torch"]:
        try:
            r = measure(backend, args.size)
        except subprocess.CalledProcessError as exc:
            print(f"{backend:9s} skipped: {exc.stderr.strip().splitlines()[-1]}")
            continue
        base = r["input"] + r["output"]
        print(f"{backend:9s} input {r['input'] / 2**20:6.0f} MiB, output "
              f"{r['output'] / 2**20:6.0f} MiB, peak growth {r['growth'] / 2**20:7.0f} MiB"
              f" = {r['growth'] / base:.2f} x (input + output)")


if __name__ == "__main__":
    main()
