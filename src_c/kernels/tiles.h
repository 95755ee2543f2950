/*
 * Every kernel family's tile list (kernels/<family>/tiles.h), for the registry's table
 * and the ISA translation units.
 */
#ifndef DC_TILES_H
#define DC_TILES_H
#include "rows/tiles.h"
#include "blocked/tiles.h"
#include "depthwise/tiles.h"
#include "chlast/tiles.h"
#include "vchan/tiles.h"
#include "outer/tiles.h"

/* Each registry kernel's tiles, DC_TILES_<op>_<family>_<isa> (what build_info and
 * _kernels.KERNELS report): a family's list, shared by the ops that run its tiles. */
#define DC_TILES_tconv_direct_portable(X) DC_TILES_direct_portable(X)
#define DC_TILES_tconv_gemm_portable(X) DC_TILES_gemm_portable(X)
#define DC_TILES_conv_direct_portable(X) DC_TILES_direct_portable(X)
#define DC_TILES_conv_flip_portable(X) DC_TILES_flip_portable(X)
#define DC_TILES_conv_gemm_portable(X) DC_TILES_gemm_portable(X)
#define DC_TILES_wgrad_direct_portable(X) DC_TILES_direct_portable(X)
#define DC_TILES_wgrad_gemm_portable(X) DC_TILES_gemm_portable(X)
#define DC_TILES_tconv_blocked_avx2(X) DC_TILES_blocked_avx2(X)
#define DC_TILES_tconv_blocked_avx512(X) DC_TILES_blocked_avx512(X)
#define DC_TILES_tconv_depthwise_avx2(X) DC_TILES_depthwise_avx2(X)
#define DC_TILES_tconv_depthwise_avx512(X) DC_TILES_depthwise_avx512(X)
#define DC_TILES_tconv_chlast_avx2(X) DC_TILES_chlast_avx2(X)
#define DC_TILES_tconv_chlast_avx512(X) DC_TILES_chlast_avx512(X)
#define DC_TILES_tconv_vchan_avx2(X) DC_TILES_vchan_avx2(X)
#define DC_TILES_tconv_vchan_avx512(X) DC_TILES_vchan_avx512(X)
#define DC_TILES_tconv_fold_avx2(X) DC_TILES_fold_avx2(X)
#define DC_TILES_tconv_fold_avx512(X) DC_TILES_fold_avx512(X)
#define DC_TILES_conv_chlast_avx2(X) DC_TILES_chlast_avx2(X)
#define DC_TILES_conv_chlast_avx512(X) DC_TILES_chlast_avx512(X)
#define DC_TILES_conv_depthwise_avx2(X) DC_TILES_depthwise_avx2(X)
#define DC_TILES_conv_depthwise_avx512(X) DC_TILES_depthwise_avx512(X)
#define DC_TILES_wgrad_outer_avx2(X) DC_TILES_outer_avx2(X)
#define DC_TILES_wgrad_outer_avx512(X) DC_TILES_outer_avx512(X)
/* the depthwise weight gradient: one tap x one vector of positions per step
 * (kernels/depthwise/wgrad.h) */
#define DC_TILES_wgrad_depthwise_avx2(X) X(1, 1)
#define DC_TILES_wgrad_depthwise_avx512(X) X(1, 1)
#endif /* DC_TILES_H */
