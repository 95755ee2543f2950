/*
 * Register tiles of the weight-gradient outer-product kernel (wgrad outer): X(R, V) =
 * R channels of one operand, each broadcast, x V vectors of channels of the other, R*V
 * accumulators
 * (24 of AVX-512's 32 registers, 12 of AVX2's 16): a GEMM micro-kernel's shape, the
 * positions p being its reduction.  One tile per V.
 */
#ifndef DC_OUTER_TILES_H
#define DC_OUTER_TILES_H
/* The frame every tile fits: at most DC_OUTER_MAX_R channels of u, DC_OUTER_MAX_V vectors */
#define DC_OUTER_MAX_R 24
#define DC_OUTER_MAX_V 4
#define DC_TILES_outer_avx512(X) X(24, 1) X(12, 2) X(8, 3) X(6, 4)
#define DC_TILES_outer_avx2(X) X(12, 1) X(6, 2) X(4, 3) X(3, 4)
#endif
