/*
 * The depthwise kernel's register tiles, for one dtype and ISA (instantiated by
 * isa/dc_isa_kernels.h): RB rows x U vectors of one width phase, the tiles of
 * kernels/depthwise/tiles.h.  See kernels/depthwise/loop.h.  No include guard on
 * purpose.
 */

/* One term of a run's reduction for one width phase: w * x[xb + x + m]. */
typedef struct {
    dc_idx x;
    DC_T w;
} DC_FN(dc_dterm);

typedef struct {
    const DC_T *xb;                /* input at the run's first row                      */
    dc_idx xrs;                    /* input row stride: the next row of the run         */
    DC_T *acc;                     /* the phase in the run's first row buffer           */
    dc_idx accrow;                 /* between row buffers                               */
    const dc_wchunk *chunks;       /* the call's chunk table, masks and kinds           */
    const DC_MASK_T *masks;        /* (kernels/width/chunks.h)                         */
    const signed char *kinds;
    const DC_FN(dc_dterm) *terms; /* the phase's terms, tap-major: [e][pair]           */
    dc_idx np, ntap;               /* pairs (channel, depth, height) per tap; taps      */
    int finite;                    /* all weights finite                                */
} DC_FN(dc_dwctx);

typedef void (*DC_FN(dc_dw_fn))(const DC_FN(dc_dwctx) *, dc_idx, dc_idx, dc_idx, dc_idx);

/* The terms te[0..np) of one width tap into the RB x U accumulators a; MODE 0: every
 * lane valid; 1: masked loads (lanes outside the input load 0, and w*0 = +-0 added to
 * a sum that starts at +0 changes nothing: finite weights); 2: masked loads, and
 * those lanes keep their value (blend). */
static DC_INLINE void DC_FN(dc_dw_tap)(DC_V a[8][8], const DC_FN(dc_dterm) *te, dc_idx np,
                                      const DC_T *xc, dc_idx xrs, const DC_MASK_T *me,
                                      const int RB, const int U, const int MODE) {
    for (dc_idx l = 0; l < np; l++) {
        const DC_V wv = DC_SET1(te[l].w);
        const DC_T *xp = xc + te[l].x;
#pragma GCC unroll 8
        for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
            for (int u = 0; u < U; u++) {
                const DC_T *xa = xp + j * xrs + u * DC_VL;
                if (MODE == 0) {
                    a[j][u] = DC_FMA(wv, DC_LOADU(xa), a[j][u]);
                } else {
                    const DC_V v = DC_FMA(wv, DC_MLOAD(xa, me[u]), a[j][u]);
                    a[j][u] = MODE == 1 ? v : DC_BLEND(a[j][u], v, me[u]);
                }
            }
    }
}

/* Chunks [cbeg, cend) of one phase for rows [r0, r1) of a run, RB rows at a time
 * (r1 - r0 a multiple of RB): RB x U accumulators, one broadcast weight per term for
 * all of them.  The terms go in list order in every chunk, and a lane outside the
 * input never changes its sum (dc_dw_tap), so a lane's value depends only on its
 * position. */
static DC_INLINE void DC_FN(dc_dw_body)(const DC_FN(dc_dwctx) *cx, dc_idx cbeg,
                                       dc_idx cend, dc_idx r0, dc_idx r1, const int RB,
                                       const int U) {
    /* local copy: the vector stores may alias the context */
    const DC_FN(dc_dwctx) cl = *cx;
    const dc_idx np = cl.np, ntap = cl.ntap;
    for (dc_idx r = r0; r < r1; r += RB) {
        const DC_T *xr = cl.xb + r * cl.xrs;
        DC_T *acc = cl.acc + r * cl.accrow;
        for (dc_idx ch = cbeg; ch < cend; ch++) {
            const dc_idx m0 = cl.chunks[ch].m0, mo = cl.chunks[ch].moff;
            const DC_T *xc = xr + m0;
            DC_V a[8][8];
#pragma GCC unroll 8
            for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++) a[j][u] = DC_ZERO();
            for (dc_idx e = 0; e < ntap; e++) {
                const DC_FN(dc_dterm) *te = cl.terms + e * np;
                /* kinds: 0 no lane of the chunk valid, 1 all, 2 some (kernels/width/chunks.h) */
                const int kind = mo < 0 ? 1 : cl.kinds[mo + ntap * U + e];
                const DC_MASK_T *me = cl.masks + (mo < 0 ? 0 : mo + e * U);
                if (kind == 1)
                    DC_FN(dc_dw_tap)(a, te, np, xc, cl.xrs, me, RB, U, 0);
                else if (kind == 2 && cl.finite)
                    DC_FN(dc_dw_tap)(a, te, np, xc, cl.xrs, me, RB, U, 1);
                else if (kind == 2)
                    DC_FN(dc_dw_tap)(a, te, np, xc, cl.xrs, me, RB, U, 2);
            }
#pragma GCC unroll 8
            for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++)
                    DC_STOREU(acc + j * cl.accrow + m0 + u * DC_VL, a[j][u]);
        }
    }
}

#define DC_DW_INST(RB, U) \
    static DC_TARGET void DC_UKERNEL(tconv, depthwise, RB, U)(const DC_FN(dc_dwctx) *cx, \
                                                             dc_idx cbeg, dc_idx cend, \
                                                             dc_idx r0, dc_idx r1) { \
        DC_FN(dc_dw_body)(cx, cbeg, cend, r0, r1, RB, U); \
    }
DC_TILES(depthwise)(DC_DW_INST)
#undef DC_DW_INST

/* Rows blocked together for chunks of U vectors: the tallest tile of width U. */
static inline int DC_FN(dc_dw_rb)(int U) {
    int rb = 1;
#define DC_DW_RB(r, u) if ((u) == U && (r) > rb) rb = (r);
    DC_TILES(depthwise)(DC_DW_RB)
#undef DC_DW_RB
    return rb;
}

/* The micro-kernel of tile RB x U (kernels/depthwise/tiles.h), or NULL. */
static DC_FN(dc_dw_fn) DC_FN(dc_dw_pick)(int RB, int U) {
#define DC_DW_CASE(r, u) if (RB == (r) && U == (u)) return DC_UKERNEL(tconv, depthwise, r, u);
    DC_TILES(depthwise)(DC_DW_CASE)
#undef DC_DW_CASE
    return NULL;
}

/* Chunks [cbeg, cend) of U vectors for the nrows rows of a run. */
static DC_TARGET void DC_FN(dc_dw_rows)(const DC_FN(dc_dwctx) *cx, dc_idx cbeg, dc_idx cend,
                                       int U, dc_idx nrows) {
    const int RB = DC_FN(dc_dw_rb)(U);
    const dc_idx full = nrows / RB * RB;
    if (cend <= cbeg) return;
    if (full > 0) DC_FN(dc_dw_pick)(RB, U)(cx, cbeg, cend, 0, full);
    if (full < nrows) DC_FN(dc_dw_pick)(1, U)(cx, cbeg, cend, full, nrows);
}
