/*
 * Register tiles of the depthwise kernel: X(RB, U) = RB rows x U vectors of one width
 * phase, RB*U <= 8 accumulators (one broadcast weight per term feeds them all).  For
 * each chunk width U of kernels/blocked/tiles.h (C = 1) the list has the one-row tile
 * and the tallest one.  The same list for both x86 ISAs.
 */
#ifndef DC_DEPTHWISE_TILES_H
#define DC_DEPTHWISE_TILES_H
#define DC_TILES_depthwise(X) \
    X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 8) \
    X(8, 1) X(4, 2) X(2, 3) X(2, 4)
#define DC_TILES_depthwise_avx2(X) DC_TILES_depthwise(X)
#define DC_TILES_depthwise_avx512(X) DC_TILES_depthwise(X)
#endif
