/*
 * Register tiles of the virtual-channel kernel: X(VB, U) = VB virtual channels x U
 * input vectors, as many as the registers hold next to U input vectors and one
 * broadcast weight; per U a big and a small block (the small one only when it holds
 * every virtual channel).  Each is built plain and masked (the last block of a row).
 * AVX2 stops at U = 2: 4 vectors leave room for 2 virtual channels only, more loads
 * than multiply-adds.
 */
#ifndef DC_VCHAN_TILES_H
#define DC_VCHAN_TILES_H
/* The frame every tile fits: at most DC_VCHAN_MAX_VB virtual channels, DC_VCHAN_MAX_U vectors */
#define DC_VCHAN_MAX_VB 24
#define DC_VCHAN_MAX_U 4
#define DC_TILES_vchan_avx512(X) X(24, 1) X(12, 1) X(12, 2) X(6, 2) X(6, 4) X(3, 4)
#define DC_TILES_vchan_avx2(X) X(12, 1) X(6, 1) X(6, 2) X(3, 2)
#endif
