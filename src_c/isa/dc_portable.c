/*
 * The PORTABLE row of the kernel table: the row kernels (kernels/rows/), built once
 * for every CPU, float and double.  Their hot loops are multi-versioned (AVX-512 /
 * AVX2+FMA / baseline, target_clones) and the dynamic loader picks one at load time,
 * so the default build needs no -march=native.  Every CPU family (aarch64 too) runs
 * these; the GEMM kernel's matmul is NumPy's BLAS, run by the driver.
 */
#include <stdlib.h>
#include <string.h>

#include "../problem/dc_problem.h"
#include "../problem/dc_shapes.h"
#include "../problem/dc_taps.h"
#include "../kernels/dc_names.h"
#include "../kernels/dc_threads.h"
#include "../kernels/tiles.h"
#include "../registry/dc_planner.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) \
    && !defined(DC_NO_TARGET_CLONES) && !defined(__AVX512F__)
#define DC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define DC_CLONES_ENABLED 1
#else
#define DC_CLONES
#define DC_CLONES_ENABLED 0
#endif

#define DC_ISA portable

#define DC_DTYPE 32
#define DC_T float
#define DC_DT f32
#define DC_SUF f32
#define DC_TSUF f32
#include "../kernels/phase_store.h"
#include "../kernels/rows/tile.h"
#include "../kernels/rows/loop.h"
#include "../kernels/wgrad_bands.h"
#include "../kernels/rows/wgrad.h"
#include "../kernels/rows/bias_grad.h"
#include "../kernels/flip/loop.h"
#include "../kernels/frames/loop.h"
#undef DC_DTYPE
#undef DC_T
#undef DC_DT
#undef DC_SUF
#undef DC_TSUF

#define DC_DTYPE 64
#define DC_T double
#define DC_DT f64
#define DC_SUF f64
#define DC_TSUF f64
#include "../kernels/phase_store.h"
#include "../kernels/rows/tile.h"
#include "../kernels/rows/loop.h"
#include "../kernels/wgrad_bands.h"
#include "../kernels/rows/wgrad.h"
#include "../kernels/rows/bias_grad.h"
#include "../kernels/flip/loop.h"
#include "../kernels/frames/loop.h"
#undef DC_DTYPE
#undef DC_T
#undef DC_DT
#undef DC_SUF
#undef DC_TSUF

/* 1 iff the row kernels are multi-versioned */
DC_API int dc_rows_clones(void) { return DC_CLONES_ENABLED; }

/* The widest ISA the row kernels' target_clones resolver picks on this CPU (GCC's
 * arch=x86-64-v4 / -v3 levels). */
DC_API const char *dc_rows_isa(void) {
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "avx512";
    if (__builtin_cpu_supports("x86-64-v3")) return "avx2";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
    return "x86-64";
#else
    return "generic";
#endif
}
