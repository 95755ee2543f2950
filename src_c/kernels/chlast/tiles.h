/*
 * Register tiles of the channels-last kernel: X(P, V) = P pixels x V vectors of output
 * channels, P*V accumulators: 24 of AVX-512's 32 registers, 12 of AVX2's 16 (with
 * more, AVX2's 3 pixels x 4 vectors would load 7 values per 12 FMAs).  One tile per V;
 * the folded kernel runs the same tiles.
 */
#ifndef DC_CHLAST_TILES_H
#define DC_CHLAST_TILES_H
/* The frame every tile fits: at most DC_CHLAST_MAX_P pixels and DC_CHLAST_MAX_V vectors */
#define DC_CHLAST_MAX_P 24
#define DC_CHLAST_MAX_V 4
#define DC_TILES_chlast_avx512(X) X(12, 1) X(12, 2) X(8, 3) X(6, 4)
#define DC_TILES_chlast_avx2(X) X(6, 1) X(6, 2) X(4, 3) X(3, 4)
#define DC_TILES_fold_avx512(X) DC_TILES_chlast_avx512(X)
#define DC_TILES_fold_avx2(X) DC_TILES_chlast_avx2(X)
/* Tail tiles: the last np < P pixels of a box run on the smallest tile of the same V
 * with at least np pixels, not on the full tile with its last pixel repeated (the
 * borders of small maps are boxes of a few pixels: on a 16x16x16 output of a 4x4x4
 * kernel a fifth of the full tiles' multiply-adds were repeats). */
#define DC_TAILS_chlast_avx512(X) \
    X(1, 1) X(2, 1) X(3, 1) X(4, 1) X(6, 1) X(8, 1) \
    X(1, 2) X(2, 2) X(3, 2) X(4, 2) X(6, 2) X(8, 2) \
    X(1, 3) X(2, 3) X(3, 3) X(4, 3) X(6, 3) \
    X(1, 4) X(2, 4) X(3, 4) X(4, 4)
#define DC_TAILS_chlast_avx2(X) \
    X(1, 1) X(2, 1) X(3, 1) X(4, 1) \
    X(1, 2) X(2, 2) X(3, 2) X(4, 2) \
    X(1, 3) X(2, 3) X(3, 3) \
    X(1, 4) X(2, 4)
#endif
