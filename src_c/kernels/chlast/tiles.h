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
#endif
