#!/usr/bin/env bash
# Debug builds of the compiled backend, each running the whole test suite:
#   bash tools/asan_test.sh          AddressSanitizer + UndefinedBehaviorSanitizer
#   bash tools/asan_test.sh checks   Cython boundscheck/wraparound/initializedcheck on
# The working tree is copied to a temporary folder and built there in place (the
# checkout is left alone); the suite runs with DECONV_CORE_BACKEND=compiled. Needs gcc,
# and Cython, NumPy and the test dependencies (torch==2.13.0, pytest, hypothesis) in the
# Python that runs it. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-asan}
[ $# -gt 0 ] && shift
PY=${PYTHON:-python3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C "$WORK"
cd "$WORK"

case "$MODE" in
asan)
    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    # Through CC, so every compile and link sees the flags (the OpenMP probe's
    # executable link ignores LDFLAGS).
    CC="gcc $SAN -g" DECONV_CORE_BUILD_EXT=1 $PY setup.py -q build_ext --inplace
    # The interpreter is not instrumented: preload the runtimes, use the system
    # allocator so ASan sees every buffer, and leave leak detection to test_load.py
    # (CPython keeps objects alive at exit by design).
    export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    # ASan reserves terabytes of shadow address space, so the fuzz's address-space
    # limit is replaced by ASan's own cap on one allocation (oversized requests still
    # fail as MemoryError); a small quarantine keeps test_load's RSS check meaningful.
    export DECONV_CORE_FUZZ_NO_RLIMIT=1
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:max_allocation_size_mb=8192:quarantine_size_mb=8
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    export PYTHONMALLOC=malloc
    # The benchmark peers' own formulation tests load third-party JIT runtimes, not
    # ours: OpenVINO's compile_model aborts under the preloaded ASan runtime.
    set -- -k "not peer_formulations" "$@"
    ;;
checks)
    DECONV_CORE_DEBUG_CHECKS=1 DECONV_CORE_BUILD_EXT=1 $PY setup.py -q build_ext --inplace
    ;;
*)
    echo "usage: bash tools/asan_test.sh [asan|checks] [pytest args]" >&2
    exit 2
    ;;
esac
$PY -c "import sys; sys.path.insert(0, '.'); import deconv_core; deconv_core.show_config()"
cd tests
DECONV_CORE_BACKEND=compiled PYTHONPATH="$WORK" DECONV_CORE_FUZZ_EXAMPLES=${DECONV_CORE_FUZZ_EXAMPLES:-500} \
    $PY -m pytest -q -p no:cacheprovider "$@" .
