/*
 * The virtual-channel kernel's register tiles, for one dtype and ISA (instantiated by
 * isa/dc_isa_kernels.h): VB virtual channels x U input vectors, the tiles of
 * kernels/vchan/tiles.h, each plain and masked (the last block of a row).  See
 * kernels/vchan/loop.h.  No include guard on purpose (but for dc_vcdst).
 */

#ifndef DC_VCDST_DEFINED
#define DC_VCDST_DEFINED
/* Where virtual channel v's lanes go: lane (input pixel) j adds into buf[off + j] of
 * the thread's row buffers when jlo <= j < jhi. */
typedef struct {
    dc_idx off, jlo, jhi;
} dc_vcdst;
#endif

typedef struct {
    const DC_T *const *xr;         /* per pair: input row (channel 0 of the group)     */
    const DC_T *const *wr;         /* per pair: packed weights [ci][Vp] of its tap      */
    dc_idx np, cin_g, pin, Vp, n2; /* pairs, channels, channel stride, row of weights, */
                                   /* input width                                       */
    const dc_vcdst *dst;
    dc_idx V;                      /* virtual channels (the rest of Vp is padding)      */
    DC_T *buf;                     /* the row buffers                                   */
} DC_FN(dc_vcctx);

typedef void (*DC_FN(dc_vc_fn))(const DC_FN(dc_vcctx) *, dc_idx, dc_idx);

/* Virtual channels v0..v0+VB-1 of the input pixels j0..j0+U*VL-1 of one output row:
 * VB x U accumulators over every (pair, input channel), then added into the row
 * buffers.  MASKED: the block runs past the input row; its lanes there load 0. */
static DC_INLINE void DC_FN(dc_vc_body)(const DC_FN(dc_vcctx) *cx, dc_idx j0, dc_idx v0,
                                       const int VB, const int U, const int MASKED) {
    /* local copy: the vector stores below may alias the context */
    const DC_FN(dc_vcctx) cl = *cx;
    DC_V a[DC_VCHAN_MAX_VB][DC_VCHAN_MAX_U];
    DC_MASK_T lm[DC_VCHAN_MAX_U];
#pragma GCC unroll 24
    for (int v = 0; v < VB; v++)
#pragma GCC unroll 4
        for (int u = 0; u < U; u++) a[v][u] = DC_ZERO();
    if (MASKED)
#pragma GCC unroll 4
        for (int u = 0; u < U; u++) {
            dc_idx b = cl.n2 - j0 - u * DC_VL;
            lm[u] = DC_MASK(0, b < 0 ? 0 : (b > DC_VL ? DC_VL : b));
        }
    for (dc_idx pi = 0; pi < cl.np; pi++) {
        const DC_T *xp = cl.xr[pi] + j0;
        const DC_T *ww = cl.wr[pi] + v0;
        for (dc_idx ci = 0; ci < cl.cin_g; ci++, xp += cl.pin, ww += cl.Vp) {
            DC_V xv[4];
#pragma GCC unroll 4
            for (int u = 0; u < U; u++)
                xv[u] = MASKED ? DC_MLOAD(xp + u * DC_VL, lm[u]) : DC_LOADU(xp + u * DC_VL);
#pragma GCC unroll 24
            for (int v = 0; v < VB; v++) {
                const DC_V wb = DC_SET1(ww[v]);
#pragma GCC unroll 4
                for (int u = 0; u < U; u++) a[v][u] = DC_FMA(wb, xv[u], a[v][u]);
            }
        }
    }
#pragma GCC unroll 24
    for (int v = 0; v < VB; v++) {
        if (v0 + v >= cl.V) break;
        const dc_vcdst dv = cl.dst[v0 + v];
#pragma GCC unroll 4
        for (int u = 0; u < U; u++) {
            const dc_idx j = j0 + u * DC_VL;
            const dc_idx lo = dv.jlo - j, hi = dv.jhi - j;
            if (hi <= 0 || lo >= DC_VL) continue;  /* jlo < jhi: dc_wphases drops empty taps */
            DC_T *bp = cl.buf + dv.off + j;
            const DC_V old = DC_LOADU(bp);
            if (lo <= 0 && hi >= DC_VL)
                DC_STOREU(bp, DC_ADD(old, a[v][u]));
            else
                DC_STOREU(bp, DC_BLEND(old, DC_ADD(old, a[v][u]),
                                       DC_MASK(lo < 0 ? 0 : lo, hi > DC_VL ? DC_VL : hi)));
        }
    }
}

#define DC_VC_INST(VB, U) \
    static DC_TARGET void DC_UKERNEL(tconv, vchan, VB, U)(const DC_FN(dc_vcctx) *cx, \
                                                         dc_idx j0, dc_idx v0) { \
        DC_FN(dc_vc_body)(cx, j0, v0, VB, U, 0); \
    } \
    static DC_TARGET void DC_UKERNEL(tconv, vchan_masked, VB, U)(const DC_FN(dc_vcctx) *cx, \
                                                                dc_idx j0, dc_idx v0) { \
        DC_FN(dc_vc_body)(cx, j0, v0, VB, U, 1); \
    }
DC_TILES(vchan)(DC_VC_INST)
#undef DC_VC_INST

/* The tile of U input vectors and VB virtual channels (masked or not), or NULL. */
static DC_FN(dc_vc_fn) DC_FN(dc_vc_pick)(int VB, int U, int masked) {
#define DC_VC_CASE(vb, u) \
    if (VB == (vb) && U == (u)) \
        return masked ? DC_UKERNEL(tconv, vchan_masked, vb, u) : DC_UKERNEL(tconv, vchan, vb, u);
    DC_TILES(vchan)(DC_VC_CASE)
#undef DC_VC_CASE
    return NULL;
}

/* The widest tile's input vectors. */
static inline int DC_FN(dc_vc_umax)(void) {
    int umax = 0;
#define DC_VC_U(vb, u) if ((u) > umax) umax = (u);
    DC_TILES(vchan)(DC_VC_U)
#undef DC_VC_U
    return umax;
}

/* Virtual channels of the big (or small) tile of U input vectors. */
static inline int DC_FN(dc_vc_vb)(int U, int big) {
    int vb = 0;
#define DC_VC_VB(b, u) \
    if ((u) == U && (vb == 0 || (big ? (b) > vb : (b) < vb))) vb = (b);
    DC_TILES(vchan)(DC_VC_VB)
#undef DC_VC_VB
    return vb;
}
