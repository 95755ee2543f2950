/*
 * The channels-last kernel's register tiles, for one dtype and ISA (instantiated by
 * isa/dc_isa_kernels.h): P pixels x V vectors of output channels, the tiles of
 * kernels/chlast/tiles.h.  See kernels/chlast/loop.h.  No include guard on purpose.
 */

typedef void (*DC_FN(dc_cl_fn))(const DC_T *, const dc_idx *, const dc_cterm *, dc_idx,
                                 dc_idx, dc_idx, dc_idx, dc_idx, const DC_T *, DC_T *,
                                 const dc_idx *);

/* One tile: P pixels at xb + xoff[p], cin_g channels cs apart (channels-last: cs = 1,
 * a pixel pu = cin_g values; planar: cs = the plane, pu = 1), terms tm[0..nterm):
 * input offset tm.x pixels, packed weights at wp + tm.t*wstride, [channel][V*DC_VL];
 * pixel p's V*DC_VL sums go to dst + doff[p] (contiguous). */
static DC_INLINE void DC_FN(dc_cl_body)(const DC_T *xb, const dc_idx *xoff, const dc_cterm *tm,
                                       dc_idx nterm, dc_idx cin_g, dc_idx pu, dc_idx cs,
                                       dc_idx wstride, const DC_T *wp, DC_T *dst,
                                       const dc_idx *doff, const int P, const int V) {
    DC_V acc[DC_CHLAST_MAX_P][DC_CHLAST_MAX_V];
#pragma GCC unroll 24
    for (int p = 0; p < P; p++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[p][v] = DC_ZERO();
    for (dc_idx t = 0; t < nterm; t++) {
        const DC_T *xp[DC_CHLAST_MAX_P];
        const dc_idx xd = tm[t].x * pu;
#pragma GCC unroll 24
        for (int p = 0; p < P; p++) xp[p] = xb + xoff[p] + xd;
        const DC_T *ww = wp + tm[t].t * wstride;
        for (dc_idx ci = 0, xc = 0; ci < cin_g; ci++, xc += cs) {
            DC_V wv[4];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) wv[v] = DC_LOADU(ww + v * DC_VL);
            ww += V * DC_VL;
#pragma GCC unroll 24
            for (int p = 0; p < P; p++) {
                const DC_V b = DC_SET1(xp[p][xc]);
#pragma GCC unroll 4
                for (int v = 0; v < V; v++) acc[p][v] = DC_FMA(b, wv[v], acc[p][v]);
            }
        }
    }
#pragma GCC unroll 24
    for (int p = 0; p < P; p++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) DC_STOREU(dst + doff[p] + v * DC_VL, acc[p][v]);
}

#define DC_CL_INST(P, V) \
    static DC_TARGET void DC_UKERNEL(tconv, chlast, P, V)(const DC_T *xb, const dc_idx *xoff, \
                                                         const dc_cterm *tm, dc_idx nterm, \
                                                         dc_idx cin_g, dc_idx pu, dc_idx cs, \
                                                         dc_idx wstride, const DC_T *wp, \
                                                         DC_T *dst, const dc_idx *doff) { \
        DC_FN(dc_cl_body)(xb, xoff, tm, nterm, cin_g, pu, cs, wstride, wp, dst, doff, P, V); \
    }
DC_TILES(chlast)(DC_CL_INST)
DC_TAILS(chlast)(DC_CL_INST)
#undef DC_CL_INST

/* The widest tile's vectors of output channels. */
static inline int DC_FN(dc_cl_vmax)(void) {
    int vmax = 0;
#define DC_CL_V(p, v) if ((v) > vmax) vmax = (v);
    DC_TILES(chlast)(DC_CL_V)
#undef DC_CL_V
    return vmax;
}

/* The tile of V vectors of output channels, and its pixels P. */
static DC_FN(dc_cl_fn) DC_FN(dc_cl_pick)(int V, int *P) {
#define DC_CL_CASE(p, v) if (V == (v)) { *P = (p); return DC_UKERNEL(tconv, chlast, p, v); }
    DC_TILES(chlast)(DC_CL_CASE)
#undef DC_CL_CASE
    *P = 0;
    return NULL;
}

/* The smallest tile of V vectors with at least np pixels (a tail tile, else the full
 * tile of V), and its pixels P. */
static DC_FN(dc_cl_fn) DC_FN(dc_cl_pick_tail)(int V, int np, int *P) {
    DC_FN(dc_cl_fn) best = DC_FN(dc_cl_pick)(V, P);
#define DC_CL_TAIL(p, v) \
    if (V == (v) && (p) >= np && (p) < *P) { *P = (p); best = DC_UKERNEL(tconv, chlast, p, v); }
    DC_TAILS(chlast)(DC_CL_TAIL)
#undef DC_CL_TAIL
    return best;
}
