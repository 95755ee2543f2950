"""Writes tests/data/bitexact.json: the digest of every seeded case of
tests/bitexact_cases.py for every kernel of the compiled backend, forced on every ISA
this CPU has, with 1, 2 and 3 threads (which must agree).  Run once, before the
kernel-registry move (issue 15), against the old private API (_path=int); the record
is never regenerated afterwards, so this script goes with that move.

    python tools/record_bitexact.py
"""
import json
import os
import platform
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import bitexact_cases as bc  # noqa: E402
from deconv_core import _kernels  # noqa: E402

OLD_PATHS = {"auto": 0, "direct": 1, "gemm": 2, "blocked": 3, "depthwise": 4, "chlast": 5,
             "vchan": 6, "fold": 7}
OLD_ISAS = {"avx512": "avx512f", "avx2": "avx2+fma", "portable": "none"}


def run(transposed, case, family, nt):
    x, w, b, s, pads, d, g = case
    out = np.full(bc.out_shape(transposed, x, w, s, pads, d, g), np.nan, x.dtype)
    fn = _kernels.conv_transpose if transposed else _kernels.conv
    fn(x, w, b, out, s, pads, d, g, nt, _path=OLD_PATHS[family])
    return out


def blas_info():
    from threadpoolctl import threadpool_info
    blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture")}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"numpy": np.__version__, "blas": blas}


def main():
    best = _kernels.build_info()["blocked_kernels"]
    isas = [i for i, old in OLD_ISAS.items() if _kernels._set_blocked_isa(old) == old]
    results, blas_keys = {}, []
    for label, transposed, case in bc.cases():
        fams = bc.TRANSPOSED_FAMILIES if transposed else bc.FORWARD_FAMILIES
        for isa in isas:
            _kernels._set_blocked_isa(OLD_ISAS[isa])
            got = {}
            for fam in fams:
                outs = [run(transposed, case, fam, nt) for nt in bc.THREADS]
                for o in outs[1:]:
                    assert np.array_equal(o, outs[0]), (label, fam, isa)
                key = f"{label}/{fam}/{isa}"
                results[key] = got[fam] = bc.digest(outs[0])
            if transposed and got["auto"] == got["gemm"]:
                blas_keys.append(f"{label}/auto/{isa}")
            if transposed:
                blas_keys.append(f"{label}/gemm/{isa}")
    _kernels._set_blocked_isa(best)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    doc = {
        "about": "SHA-256 digests of the compiled kernels' outputs on the seeded cases of "
                 "tests/bitexact_cases.py, recorded before the kernel-registry move "
                 "(issue 15) with `python tools/record_bitexact.py`; never regenerated.",
        "recorded_at_commit": commit,
        "machine": platform.machine(),
        "row_kernel_isa": _kernels.build_info()["isa"],
        "blas_environment": blas_info(),
        "blas_dependent": sorted(blas_keys),
        "results": results,
    }
    path = os.path.join(HERE, "..", "tests", "data", "bitexact.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, indent=0, sort_keys=True)
        fh.write("\n")
    print(f"{len(results)} digests ({len(blas_keys)} BLAS-dependent) on ISAs {isas} -> {path}")


if __name__ == "__main__":
    main()
