/*
 * The blocked kernel's register tiles, for one dtype and ISA (instantiated by
 * isa/dc_isa_kernels.h): C output channels x U vectors of one width phase, RB rows of a
 * run at a time, the tiles of kernels/blocked/tiles.h.  See kernels/blocked/loop.h for
 * the method.  No include guard on purpose.
 */

#ifndef DC_BOFF_DEFINED
#define DC_BOFF_DEFINED
typedef struct {
    dc_idx x, w;             /* offsets into the input (from the chunk) and weights  */
    dc_idx e;                /* width tap of the phase (its lane masks)              */
} dc_boff;
#endif

typedef struct {
    const DC_T *x;                 /* input at (n, first input channel of the group) */
    dc_idx pin, cin_g, nh, nw;     /* channel stride, channels, input height, width   */
    const dc_idx *dp;              /* depth (tap, index) pairs of this output depth   */
    dc_idx nd;
    const dc_idx *hp;              /* height pairs of this output row                 */
    dc_idx nhp;
    dc_idx kh, kw, K;
    const DC_T *w;                 /* packed weights of the block: [ci][K][C]         */
    DC_T *acc;                     /* phase-major row buffer of channel 0 of block    */
    dc_idx acc_stride;             /* between the block's channels                    */
    const dc_wchunk *chunks;       /* chunk table of the call (per phase: P->chunk0)  */
    const DC_MASK_T *masks;        /* lane masks of border chunks, [e*U + u]          */
    const signed char *kinds;      /* per (e, u): 0 no lane, 1 all lanes, 2 some; and */
                                   /* per e at [nk + e]: 0 skip, 1 all full, 2 mixed  */
    const dc_boff *offs;           /* (x, w) offsets of the phase's reduction, in the */
    dc_idx noffs;                  /* order ci, depth pair, height pair, width tap    */
    const DC_T *xb;                /* base of the x offsets in offs (first row)       */
    dc_idx xcs, xrs, xds;          /* input strides: channel, height, depth           */
    dc_idx nrows;                  /* rows of one tap pattern: x moves by xrs per row, */
    dc_idx accrow;                 /* the row buffer by accrow                        */
    int finite;                    /* all weights finite                              */
} DC_FN(dc_bctx);

typedef void (*DC_FN(dc_bk_fn))(const DC_FN(dc_bctx) *, const dc_wphase *,
                                 const dc_wtap *, dc_idx, dc_idx);

/* Input channels per block of the term order (see dc_bk_body). */
#define DC_BK_CB 4

/* Rows of a run computed together by the blocked micro-kernel for blocks of C channels
 * and chunks of U vectors: as many as keep RB*C*U accumulators within the registers
 * (C broadcast weights and one input vector need the rest), at most 8. */
#define DC_BK_RB(C, U) ((DC_NVREG - 5) / ((C) * (U)) > 8 ? 8 \
                        : (DC_NVREG - 5) / ((C) * (U)) < 1 ? 1 : (DC_NVREG - 5) / ((C) * (U)))

/* The terms of[lo..hi) of a chunk into the RB x C x U accumulators a: per term one
 * broadcast weight per channel and one input vector per (row, u) for all of them.
 * MASKED: masked loads with the lane masks me (lanes outside the input load 0). */
static DC_INLINE void DC_FN(dc_bk_terms)(DC_V a[8][4][8], const dc_boff *of, dc_idx lo,
                                         dc_idx hi, const DC_T *wbase, const DC_T *const *xc,
                                         const DC_MASK_T *me, const int C, const int U,
                                         const int RB, const int MASKED) {
    for (dc_idx l = lo; l < hi; l++) {
        const dc_idx xo = of[l].x;
        const DC_T *ww = wbase + of[l].w;
        DC_V wb[4];
#pragma GCC unroll 8
        for (int j = 0; j < C; j++) wb[j] = DC_SET1(ww[j]);
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
            for (int u = 0; u < U; u++) {
                const DC_T *xp = xc[r] + xo + u * DC_VL;
                const DC_V xv = MASKED ? DC_MLOAD(xp, me[u]) : DC_LOADU(xp);
#pragma GCC unroll 8
                for (int j = 0; j < C; j++) a[r][j][u] = DC_FMA(wb[j], xv, a[r][j][u]);
            }
    }
}

/* One phase of rows rbeg..rend-1 of a run for C channels, chunks of U vectors, RB rows
 * at a time: the terms of a chunk are read once for RB rows (input moved by a row
 * each), each broadcast weight feeding RB*U multiply-adds.  (A group of fewer than RB
 * rows would repeat its last row: computed twice, stored twice, the same value.) */
static DC_INLINE void DC_FN(dc_bk_body)(const DC_FN(dc_bctx) *cx, const dc_wphase *P,
                                       const dc_wtap *tp, dc_idx cbeg, dc_idx cend,
                                       dc_idx rbeg, dc_idx rend,
                                       const int C, const int U, const int RB) {
    /* local copies: the vector stores below may alias anything (may_alias types), so
     * fields read through the pointers would be reloaded after every store */
    const DC_FN(dc_bctx) cl = *cx;
    const dc_wphase Pl = *P;
    const dc_idx ntap = Pl.ntap;
    const dc_idx cin_g = cl.cin_g;
    const dc_idx kh = cl.kh, kw = cl.kw, K = cl.K, nd = cl.nd, nhp = cl.nhp;
    const dc_idx *dp = cl.dp, *hp = cl.hp;
    for (dc_idx row0 = rbeg; row0 < rend; row0 += RB) {
    dc_idx ro[8];                  /* the rows of this group */
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) ro[r] = row0 + r < rend ? row0 + r : rend - 1;
    for (dc_idx ch = cbeg; ch < cend; ch++) {
        const dc_idx m0 = cl.chunks[ch].m0;
        DC_V a[8][4][8];
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
            for (int j = 0; j < C; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++) a[r][j][u] = DC_ZERO();
        const DC_T *xc[8];
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++) xc[r] = cl.xb + ro[r] * cl.xrs + m0;
        if (cl.chunks[ch].moff < 0) {
            /* interior chunk: every tap is valid in every lane; the reduction is one
             * flat list, ordered (block of DC_BK_CB input channels, width tap, input
             * channel, depth pair, height pair): a block's input rows are read again
             * by its next tap while still in L1, and a tap's lane masks stay in
             * registers over a block (border chunks).  Every chunk kind adds the
             * terms in this order, so an output's value does not depend on the chunk
             * (or the vector width) that computed it. */
            DC_FN(dc_bk_terms)(a, cl.offs, 0, cl.noffs, cl.w, xc, NULL, C, U, RB, 0);
        } else if (cl.finite) {
            /* border chunk, finite weights: lanes outside the input load 0 (nothing is
             * read there) and add w*0 = +-0, which leaves the sum unchanged.  Per
             * channel block, a tap's terms are one segment of the list; a tap that
             * reaches no lane of the chunk is skipped. */
            const dc_idx mo = cl.chunks[ch].moff;
            const DC_MASK_T *mk = cl.masks + mo;
            const signed char *ek = cl.kinds + mo + ntap * U;
            const dc_boff *of = cl.offs;
            const dc_idx pairs = nd * nhp;
            dc_idx l = 0;
            for (dc_idx c0 = 0; c0 < cin_g; c0 += DC_BK_CB) {
                const dc_idx seg = (cin_g - c0 < DC_BK_CB ? cin_g - c0 : DC_BK_CB) * pairs;
                for (dc_idx e = 0; e < ntap; e++, l += seg) {
                    if (ek[e] == 0) continue;
                    DC_MASK_T me[8];
#pragma GCC unroll 8
                    for (int u = 0; u < U; u++) me[u] = mk[e * U + u];
                    DC_FN(dc_bk_terms)(a, of, l, l + seg, cl.w, xc, me, C, U, RB, 1);
                }
            }
        } else {
            /* border chunk: per (tap, vector), lanes outside [lo, hi) keep their value */
            const dc_idx mo = cl.chunks[ch].moff;
            const DC_MASK_T *mk = cl.masks + mo;
            const signed char *kd = cl.kinds + mo, *ek = kd + ntap * U;
            for (dc_idx c0 = 0; c0 < cin_g; c0 += DC_BK_CB)
            for (dc_idx e = 0; e < ntap; e++)
            for (dc_idx ci = c0; ci < cin_g && ci < c0 + DC_BK_CB; ci++)
                for (dc_idx ia = 0; ia < nd; ia++)
                    for (dc_idx ib = 0; ib < nhp; ib++) {
                            if (ek[e] == 0) continue;
                            const DC_MASK_T *me = mk + e * U;
                            const signed char *ke = kd + e * U;
                            const dc_idx td = dp[2 * ia], id = dp[2 * ia + 1];
                            const dc_idx th = hp[2 * ib], ih = hp[2 * ib + 1];
                            const dc_idx xo = ci * cl.xcs + (id - dp[1]) * cl.xds
                                              + (ih - hp[1]) * cl.xrs + tp[e].c;
                            const DC_T *ww = cl.w + ci * K * C
                                             + ((td * kh + th) * kw + tp[e].t) * C;
#pragma GCC unroll 8
                            for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
                                for (int u = 0; u < U; u++) {
                                    const DC_T *xp = xc[r] + xo + u * DC_VL;
                                    const DC_V xv = ke[u] == 1 ? DC_LOADU(xp)
                                                               : DC_MLOAD(xp, me[u]);
#pragma GCC unroll 8
                                    for (int j = 0; j < C; j++) {
                                        const DC_V f = DC_FMA(DC_SET1(ww[j]), xv,
                                                              a[r][j][u]);
                                        if (ke[u] == 1)
                                            a[r][j][u] = f;
                                        else if (ke[u] == 2)
                                            a[r][j][u] = DC_BLEND(a[r][j][u], f, me[u]);
                                    }
                                }
                        }
        }
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++) {
            DC_T *acc = cl.acc + Pl.base + ro[r] * cl.accrow;
#pragma GCC unroll 8
            for (int j = 0; j < C; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++)
                    DC_STOREU(acc + j * cl.acc_stride + m0 + u * DC_VL, a[r][j][u]);
        }
    }
    }
}

/* Whole groups of RB rows, then the rest one row at a time (a short run, such as a
 * border row, is not padded to RB rows). */
#define DC_BK_INST(C, U) \
    static DC_TARGET void DC_UKERNEL(tconv, blocked, C, U)(const DC_FN(dc_bctx) *cx, \
                                                          const dc_wphase *P, \
                                                          const dc_wtap *tp, dc_idx cbeg, \
                                                          dc_idx cend) { \
        const dc_idx full = cx->nrows / DC_BK_RB(C, U) * DC_BK_RB(C, U); \
        DC_FN(dc_bk_body)(cx, P, tp, cbeg, cend, 0, full, C, U, DC_BK_RB(C, U)); \
        if (full < cx->nrows) \
            DC_FN(dc_bk_body)(cx, P, tp, cbeg, cend, full, cx->nrows, C, U, 1); \
    }
DC_TILES(blocked)(DC_BK_INST)
#undef DC_BK_INST

/* The micro-kernel of tile C x U (kernels/blocked/tiles.h), or NULL. */
static DC_FN(dc_bk_fn) DC_FN(dc_bk_pick)(int C, int U) {
#define DC_BK_CASE(c, u) if (C == (c) && U == (u)) return DC_UKERNEL(tconv, blocked, c, u);
    DC_TILES(blocked)(DC_BK_CASE)
#undef DC_BK_CASE
    return NULL;
}
