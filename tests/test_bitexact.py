"""Results bit for bit as recorded before the kernel-registry move (issue 15).

tests/data/bitexact.json holds the digest of every seeded case of bitexact_cases.py,
for every kernel of the compiled backend forced on every ISA, recorded once with
``python tools/record_bitexact.py`` at the commit it names and never regenerated.
Every thread count must give the recorded bits.  Kernels that hand the channel
reduction to BLAS (GEMM, and the planner where it chose GEMM) depend on NumPy's BLAS
too: they are compared only where the BLAS environment is the recorded one.
"""
import json
import os
import platform

import numpy as np
import pytest

import bitexact_cases as bc

if os.environ.get("DECONV_CORE_BACKEND", "").strip().lower() == "numpy":
    _kernels = pytest.importorskip(
        "deconv_core._kernels",
        reason="DECONV_CORE_BACKEND=numpy: the compiled backend is not required")
else:
    from deconv_core import _kernels  # a missing extension is a failure here

RECORD_PATH = os.path.join(os.path.dirname(__file__), "data", "bitexact.json")
with open(RECORD_PATH) as _fh:
    RECORD = json.load(_fh)

_BEST_ISA = _kernels._isa()


def _set_isa(isa):
    return _kernels._set_isa(isa) == isa


def _restore_isa():
    _kernels._set_isa(_BEST_ISA)


def _run(transposed, case, family, nt):
    x, w, b, s, pads, d, g = case
    out = np.full(bc.out_shape(transposed, x, w, s, pads, d, g), np.nan, x.dtype)
    fn = _kernels.conv_transpose if transposed else _kernels.conv
    if family == "auto" and not transposed:
        family = "direct"   # the recorded planner's only forward kernel; later ones differ
    fn(x, w, b, out, s, pads, d, g, nt, _kernel=None if family == "auto" else family)
    return out


def _environment_problem():
    """Why this machine cannot reproduce the record's bits, or None."""
    if platform.machine() != RECORD["machine"]:
        return f"recorded on {RECORD['machine']}, this is {platform.machine()}"
    isa = _kernels.build_info()["isa"]
    if isa != RECORD["row_kernel_isa"]:
        return (f"the row kernels were recorded with the {RECORD['row_kernel_isa']} "
                f"clones, this CPU runs {isa}")
    return None


def _blas_environment():
    from threadpoolctl import threadpool_info
    blas = [{k: i.get(k) for k in ("internal_api", "version", "architecture")}
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {"numpy": np.__version__, "blas": blas}


CASES = bc.cases()


@pytest.mark.parametrize("label,transposed,case", CASES, ids=[c[0] for c in CASES])
def test_bits_as_recorded(label, transposed, case):
    problem = _environment_problem()
    if problem:
        pytest.skip(f"bit-for-bit record not comparable here: {problem}")
    same_blas = _blas_environment() == RECORD["blas_environment"]
    blas_keys = set(RECORD["blas_dependent"])
    families = bc.TRANSPOSED_FAMILIES if transposed else bc.FORWARD_FAMILIES
    checked = 0
    try:
        for isa in ("avx512", "avx2", "portable"):
            key0 = f"{label}/{families[0]}/{isa}"
            if key0 not in RECORD["results"] or not _set_isa(isa):
                continue
            for fam in families:
                key = f"{label}/{fam}/{isa}"
                if key in blas_keys and not same_blas:
                    continue
                for nt in bc.THREADS:
                    got = bc.digest(_run(transposed, case, fam, nt))
                    assert got == RECORD["results"][key], f"{key}, {nt} threads"
                checked += 1
    finally:
        _restore_isa()
    assert checked, f"no recorded result of {label} could be compared on this machine"
