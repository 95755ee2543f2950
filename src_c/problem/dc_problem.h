/*
 * The problem descriptor: one convolution call as every kernel sees it.
 *
 * The Cython driver (_kernels.pyx) builds one dc_problem per call (or once per cached
 * call) from the validated arguments and hands the same struct to the planner
 * (registry/dc_planner.h) and to the kernel it picks.  Every problem is 3-D (depth,
 * height, width); 1-D and 2-D calls come with leading singleton dims.  Arrays are
 * C-contiguous: x (N, groups*cin_g, n[0], n[1], n[2]), out (N, groups*cout_g, no[0],
 * no[1], no[2]); the weights (groups*cin_g, cout_g, k...) for a transposed convolution,
 * (groups*cout_g, cin_g, k...) for a forward one.
 *
 * pb is the padding before the first output along each dim (transposed: the number of
 * leading full-result positions removed; forward: zeros added before the input).  The
 * output sizes no already account for the padding after and output_padding.
 */
#ifndef DC_PROBLEM_H
#define DC_PROBLEM_H

#include <stddef.h>

typedef ptrdiff_t dc_idx;

/* dtype codes of dc_problem.dtype (the kernel tables have one column each) */
enum { DC_F32 = 0, DC_F64 = 1, DC_NDTYPE = 2 };

/* the operations of the kernel registry (registry/dc_kernels.def): the transposed and
 * the forward convolution, and the weight gradient of either (DC_OP_WGRAD: the
 * forward map p -> l = p*s - pb + t*d of the taps, n the dims of l and no those of p,
 * cin_g and cout_g the channels per group of the operands on l and on p; see
 * kernels/rows/wgrad.h) */
enum { DC_OP_TCONV = 0, DC_OP_CONV = 1, DC_OP_WGRAD = 2 };

typedef struct dc_taps dc_taps;     /* problem/dc_taps.h */

typedef struct {
    int op;                  /* DC_OP_TCONV (transposed) or DC_OP_CONV (forward)      */
    int dtype;               /* DC_F32 or DC_F64                                      */
    int nt;                  /* threads the kernel may use (>= 1)                     */
    dc_idx N, groups, cin_g, cout_g;
    dc_idx n[3], k[3], s[3], d[3], pb[3], no[3];
    dc_idx K, pin, pout;     /* taps, input and output pixels per channel (derived)   */
    const dc_taps *taps;     /* the tap lists of this geometry (dc_taps_build)        */
} dc_problem;

/* Fills the derived fields K, pin and pout. */
static inline void dc_problem_derive(dc_problem *p) {
    p->K = p->k[0] * p->k[1] * p->k[2];
    p->pin = p->n[0] * p->n[1] * p->n[2];
    p->pout = p->no[0] * p->no[1] * p->no[2];
}

static inline dc_idx dc_floordiv(dc_idx a, dc_idx b) {
    dc_idx q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Exported kernels of the compiled backend: hidden from other shared objects. */
#if defined(__GNUC__)
#define DC_API __attribute__((visibility("hidden")))
#else
#define DC_API
#endif

#endif /* DC_PROBLEM_H */
