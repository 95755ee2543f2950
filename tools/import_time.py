"""What ``import deconv_core`` adds over ``import numpy``: median of fresh interpreters.

    python tools/import_time.py [RUNS]

Each run is a new interpreter that imports numpy first, then times
``import deconv_core`` alone; the median and quartiles over RUNS (default 31) are
printed. Run it against the installed package (not from the source tree).
"""
import statistics
import subprocess
import sys

CODE = ("import time, numpy; t = time.perf_counter(); import deconv_core; "
        "print(time.perf_counter() - t, deconv_core.backend())")


def main(runs=31):
    times, backend = [], None
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                             check=True).stdout.split()
        times.append(float(out[0]) * 1e3)
        backend = out[1]
    q = statistics.quantiles(times, n=4)
    print(f"import deconv_core after import numpy ({backend} backend, {runs} fresh "
          f"interpreters): median {statistics.median(times):.1f} ms "
          f"(quartiles {q[0]:.1f} to {q[2]:.1f} ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 31)
