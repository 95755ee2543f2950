/*
 * Shape predicates that the planner, the kernels and the driver must agree on.
 */
#ifndef DC_SHAPES_H
#define DC_SHAPES_H

#include "dc_problem.h"
#include "../registry/dc_tuning.h"

/* 1-D: every dim but the width is a singleton */
static inline int dc_is_1d(const dc_problem *p) {
    return p->n[0] * p->n[1] * p->k[0] * p->k[1] * p->no[0] * p->no[1] == 1;
}

/* 1-D, dilation 1, long kernel: the GEMM kernel's overlap-add layout (the columns of
 * the driver's matmul taps-last, (N, groups, pin, cout_g*k), instead of
 * (groups, cout_g*K, N*pin)). */
static inline int dc_ola_shape(const dc_problem *p) {
    return dc_is_1d(p) && p->d[2] == 1 && p->k[2] >= DC_TUNE_ola_min_kernel;
}

/* 1-D forward convolution or weight gradient, dilation 1, a kernel of two or more
 * whole strides, a stride's worth of input channels (of v, for the gradient) long
 * enough for a matmul: the GEMM kernels' drivers cut the input into stride-long
 * blocks and multiply them in place, one matmul per kernel block (no columns). */
static inline int dc_blocks_shape(const dc_problem *p) {
    return p->op != DC_OP_TCONV && dc_is_1d(p) && p->d[2] == 1 && p->s[2] >= 2
           && p->k[2] % p->s[2] == 0 && p->k[2] / p->s[2] >= 2
           && p->cin_g * p->s[2] >= DC_TUNE_blocks_min_reduction;
}

/* 1-D transposed, dilation 1, stride >= 2 dividing the kernel: the fold of
 * problem/dc_fold.h applies. */
static inline int dc_foldable(const dc_problem *p) {
    return p->op == DC_OP_TCONV && dc_is_1d(p) && p->d[2] == 1 && p->s[2] >= 2
           && p->k[2] % p->s[2] == 0;
}

#endif /* DC_SHAPES_H */
