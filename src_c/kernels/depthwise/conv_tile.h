/*
 * The depthwise forward convolution's register tiles, for one dtype and ISA
 * (instantiated by isa/dc_isa_kernels.h): RB output rows x U vectors of consecutive
 * outputs, the tiles of kernels/depthwise/tiles.h (RB*U <= 8 accumulators, one
 * broadcast weight per tap for all of them).  See kernels/depthwise/conv_loop.h.  No
 * include guard on purpose.
 */

typedef struct {
    const DC_T *const *rows;     /* per (channel, depth pair, height pair): RB split
                                  * rows (kernels/depthwise/split_rows.h)            */
    const DC_T *wc;              /* the output channel's weights                     */
    const dc_idx *dp, *hp;       /* the block's first row's pairs (tap, input index) */
    dc_idx nd, nh, cin_g, K, k1, k2;
    const dc_idx *toff;          /* per width tap: where output 0 reads in a split row */
    DC_T bias;
} DC_FN(dc_dwcctx);

/* One block: RB output rows whose (depth, height) pairs are the block's first row's,
 * moved by s1 input rows per row; outputs [c0, c0 + U*VL) of each, plus the bias, to
 * dst (rows dstrow apart).  Input channels of the group, then depth pairs, then
 * height pairs, then width taps (every one: a tap outside the row reads a margin's
 * zero): the same terms in the same order for every lane, in every tile. */
static DC_INLINE void DC_FN(dc_dwc_body)(const DC_FN(dc_dwcctx) *cx, dc_idx c0, DC_T *dst,
                                        dc_idx dstrow, const int RB, const int U) {
    DC_V a[8][8];
#pragma GCC unroll 8
    for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
        for (int u = 0; u < U; u++) a[j][u] = DC_ZERO();
    const dc_idx k2 = cx->k2, nh = cx->nh, nd = cx->nd;
    const DC_T *const *rows = cx->rows;
    const dc_idx *toff = cx->toff;
    for (dc_idx ci = 0; ci < cx->cin_g; ci++)
        for (dc_idx ia = 0; ia < nd; ia++)
            for (dc_idx ib = 0; ib < nh; ib++, rows += RB) {
                const DC_T *wr = cx->wc + ci * cx->K
                                 + (cx->dp[2 * ia] * cx->k1 + cx->hp[2 * ib]) * k2;
                const DC_T *rp[8];
#pragma GCC unroll 8
                for (int j = 0; j < RB; j++) rp[j] = rows[j] + c0;
                for (dc_idx t = 0; t < k2; t++) {
                    const DC_V wv = DC_SET1(wr[t]);
                    const dc_idx o = toff[t];
#pragma GCC unroll 8
                    for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
                        for (int u = 0; u < U; u++)
                            a[j][u] = DC_FMA(wv, DC_LOADU(rp[j] + o + u * DC_VL), a[j][u]);
                }
            }
    const DC_V bv = DC_SET1(cx->bias);
#pragma GCC unroll 8
    for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
        for (int u = 0; u < U; u++)
            DC_STOREU(dst + j * dstrow + u * DC_VL, DC_ADD(a[j][u], bv));
}

typedef void (*DC_FN(dc_dwc_fn))(const DC_FN(dc_dwcctx) *, dc_idx, DC_T *, dc_idx);

#define DC_DWC_INST(RB, U) \
    static DC_TARGET void DC_UKERNEL(conv, depthwise, RB, U)( \
            const DC_FN(dc_dwcctx) *cx, dc_idx c0, DC_T *dst, dc_idx dstrow) { \
        DC_FN(dc_dwc_body)(cx, c0, dst, dstrow, RB, U); \
    }
DC_TILES(depthwise)(DC_DWC_INST)
#undef DC_DWC_INST

/* The micro-kernel of tile RB x U (kernels/depthwise/tiles.h), or NULL. */
static DC_FN(dc_dwc_fn) DC_FN(dc_dwc_pick)(int RB, int U) {
#define DC_DWC_CASE(r, u) if (RB == (r) && U == (u)) return DC_UKERNEL(conv, depthwise, r, u);
    DC_TILES(depthwise)(DC_DWC_CASE)
#undef DC_DWC_CASE
    return NULL;
}

/* Vectors per chunk for a row of len outputs: the fewest vector-steps, counting each
 * chunk's fixed cost (its row lookups) as two. */
static int DC_FN(dc_dwc_pick_u)(dc_idx len) {
    dc_idx best = -1;
    int U = 1;
#define DC_DWC_U(r, u) \
    if ((r) == 1) { \
        const dc_idx W = (dc_idx)(u) * DC_VL, nch = (len + W - 1) / W; \
        const dc_idx cost = nch * ((u) + 2); \
        if (best < 0 || cost < best) { best = cost; U = (u); } \
    }
    DC_TILES(depthwise)(DC_DWC_U)
#undef DC_DWC_U
    return U;
}
