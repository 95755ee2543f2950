/*
 * Tile lists of the portable row kernels: none (one output row per call, any length;
 * the ISA is chosen inside by target_clones).
 */
#ifndef DC_ROWS_TILES_H
#define DC_ROWS_TILES_H
#define DC_TILES_direct_portable(X)
#define DC_TILES_gemm_portable(X)
#define DC_TILES_flip_portable(X)
#endif
