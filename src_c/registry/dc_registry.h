/*
 * The kernel registry: what registry/dc_kernels.def declares, as a C enum, the one
 * kernel signature and a table of entry points per ISA row (filled in dc_registry.c).
 *
 * The driver asks the planner (dc_planner.h) for a kernel id, or takes a forced one,
 * resolves it (dc_kernel_resolve: a kernel this CPU or this problem cannot run falls
 * back to one that can) and calls dc_kernel_get(id, dtype) from the ISA row chosen
 * once per process.
 */
#ifndef DC_REGISTRY_H
#define DC_REGISTRY_H

#include "../problem/dc_problem.h"
#include "dc_isa.h"

/* Every kernel: (problem, a, b, bias, out) -> 0, or -1 when out of memory.
 *   tconv, conv: a = input x, b = weights, out = the output (overwritten);
 *   a BLAS kernel (impl BLAS): a = the columns of the driver's matmul (see
 *   kernels/rows/loop.h: dc_gemm_cols_layout), b unused, for the p->N images of a batch
 *   chunk, out at the chunk's first image. */
typedef int (*dc_kernel_fn)(const dc_problem *p, const void *a, const void *b,
                            const void *bias, void *out);

enum { DC_IMPL_C, DC_IMPL_BLAS };

#define DC_KERNEL(op, family, isas, impl, serves) DC_K_##op##_##family,
enum {
#include "dc_kernels.def"
    DC_NKERNEL
};
#undef DC_KERNEL

/* The exported entry points: dc_<dtype>_<op>_<family>__<isa>, per the def's isas. */
#define DC_KNAME_(dt, op, family, isa) dc_##dt##_##op##_##family##__##isa
#define DC_KNAME(dt, op, family, isa) DC_KNAME_(dt, op, family, isa)
#define DC_KPROTO(op, family, isa) \
    DC_API int DC_KNAME(f32, op, family, isa)(const dc_problem *, const void *, \
                                              const void *, const void *, void *); \
    DC_API int DC_KNAME(f64, op, family, isa)(const dc_problem *, const void *, \
                                              const void *, const void *, void *);
#define DC_KPROTO_PORTABLE(op, family) DC_KPROTO(op, family, portable)
#define DC_KPROTO_SIMD_X86(op, family) DC_KPROTO(op, family, avx2) DC_KPROTO(op, family, avx512)
#define DC_KERNEL(op, family, isas, impl, serves) DC_KPROTO_##isas(op, family)
#include "dc_kernels.def"
#undef DC_KERNEL

/* Outside the table (no planner, one portable build): the bias gradient of either op,
 * out[c] = the sum of gy (N, C, P) over images and positions (kernels/rows/bias_grad.h). */
DC_API int dc_f32_bias_grad_sum__portable(const float *gy, float *out, dc_idx N, dc_idx C,
                                          dc_idx P, int nt);
DC_API int dc_f64_bias_grad_sum__portable(const double *gy, double *out, dc_idx N, dc_idx C,
                                          dc_idx P, int nt);

/* Chooses the ISA row: the CPU's best.  Returns it (DC_ISA_*). */
DC_API int dc_registry_init(void);
/* Tests: use at most this ISA row (capped at the CPU's best); returns the row now in
 * use.  Not thread-safe: call it while no kernel runs. */
DC_API int dc_registry_set_isa(int isa);
DC_API int dc_registry_isa(void);
DC_API int dc_registry_isa_cpu(void);
DC_API const char *dc_isa_name(int isa);     /* "avx512" (as in kernel names) */
DC_API const char *dc_isa_label(int isa);    /* "avx512f" (for people)       */

/* Describing kernel kid (0 <= kid < DC_NKERNEL). */
DC_API int dc_kernel_op(int kid);
DC_API int dc_kernel_impl(int kid);
DC_API const char *dc_kernel_op_name(int kid);
DC_API const char *dc_kernel_family(int kid);
DC_API const char *dc_kernel_serves(int kid);
DC_API int dc_kernel_built(int kid, int isa);            /* 1 iff a row isa entry exists */
DC_API const char *dc_kernel_tiles(int kid, int isa);    /* "12x1 12x2 ..." or ""      */
DC_API int dc_kernel_find(int op, const char *family);   /* the id, or -1               */

/* What runs when kernel kid is asked for problem p on the active ISA row: a fold that
 * does not fold runs the channels-last kernel, a kernel the row lacks runs the op's
 * portable direct kernel. */
DC_API int dc_kernel_resolve(int kid, const dc_problem *p);
DC_API dc_kernel_fn dc_kernel_get(int kid, int dtype);

/* The row kernels' build (isa/dc_portable.c): 1 iff multi-versioned by target_clones,
 * and the widest ISA their resolver picks on this CPU. */
DC_API int dc_rows_clones(void);
DC_API const char *dc_rows_isa(void);

#endif /* DC_REGISTRY_H */
