/*
 * Input rows of the depthwise forward convolution and weight gradient, split by width
 * phase, in a small per-thread cache; for one dtype and ISA (instantiated by
 * isa/dc_isa_kernels.h).  No include guard on purpose.
 *
 * A forward convolution of width stride s reads x[o*s - pb + t*d]: with the row split
 * into its s phases (phase q holds x[q], x[q + s], ...), the inputs of consecutive
 * outputs o for one tap are consecutive in one phase, so every tap is one unaligned
 * vector load.  An input row feeds about k/s output rows, so a split row is kept in
 * slot (input channel of the group, depth mod rd, height mod rh), tagged by its row:
 * rd and rh (powers of two) cover the depth and height span of a block of output rows,
 * so the rows one block reads are all in the cache at once.  Each phase sits between
 * margins of zeros that are never written: a lane whose tap falls outside the input
 * row reads a zero there (kernels/depthwise/conv_loop.h says when that is allowed).
 */

typedef struct {
    DC_T *mem;           /* slots of s phases of plen elements                     */
    dc_idx *tags;        /* the key of the row in each slot, or -1                 */
    dc_idx rd, rh, plen, lm, s, n2;   /* lm: the zeros before each phase's data    */
} DC_FN(dc_dwc_cache);

#ifndef DC_POW2_COVER
#define DC_POW2_COVER
/* Slots along one dim: a power of two covering span (at most size) indices. */
static inline dc_idx dc_pow2_cover(dc_idx span, dc_idx size) {
    dc_idx r = 1;
    if (span > size) span = size;
    while (r < span) r *= 2;
    return r;
}
#endif

/* A thread's cache in mem: cbytes of slots (zeroed when the margins are read), then
 * the nslots tags, every slot empty. */
static inline void DC_FN(dc_dwc_init)(DC_FN(dc_dwc_cache) *c, char *mem, size_t cbytes,
                                      dc_idx nslots, dc_idx rd, dc_idx rh, dc_idx plen,
                                      dc_idx lm, dc_idx s, dc_idx n2, int zero) {
    c->mem = (DC_T *)mem;
    c->tags = (dc_idx *)(mem + cbytes);
    c->rd = rd; c->rh = rh; c->plen = plen; c->lm = lm; c->s = s; c->n2 = n2;
    if (zero) memset(c->mem, 0, cbytes);
    for (dc_idx i = 0; i < nslots; i++) c->tags[i] = -1;
}

/* Phase q of row xr in dst + q*plen: xr[q], xr[q + s], ... */
static DC_TARGET void DC_FN(dc_dwc_split)(const DC_T *restrict xr, dc_idx n2, dc_idx s,
                                          dc_idx plen, DC_T *restrict dst) {
    if (s == 1) {
        memcpy(dst, xr, (size_t)n2 * sizeof(DC_T));
    } else if (s == 2) {
        DC_T *restrict d0 = dst, *restrict d1 = dst + plen;
        dc_idx m = 0;
        for (; 2 * m + 2 * DC_VL <= n2; m += DC_VL) {
            const DC_V v0 = DC_LOADU(xr + 2 * m), v1 = DC_LOADU(xr + 2 * m + DC_VL);
            DC_STOREU(d0 + m, DC_EVENS(v0, v1));
            DC_STOREU(d1 + m, DC_ODDS(v0, v1));
        }
        for (; 2 * m < n2; m++) {
            d0[m] = xr[2 * m];
            if (2 * m + 1 < n2) d1[m] = xr[2 * m + 1];
        }
    } else {
        for (dc_idx q = 0; q < s && q < n2; q++) {
            DC_T *restrict dq = dst + q * plen;
            for (dc_idx m = 0, i = q; i < n2; m++, i += s) dq[m] = xr[i];
        }
    }
}

/* Split row (ci, id, ih) of the block's group, key its global row number, xr the
 * input row: split into its slot on a miss.  Its phase q starts at q*plen. */
static inline const DC_T *DC_FN(dc_dwc_row)(DC_FN(dc_dwc_cache) *c, dc_idx ci, dc_idx id,
                                            dc_idx ih, dc_idx key, const DC_T *xr) {
    const dc_idx slot = (ci * c->rd + (id & (c->rd - 1))) * c->rh + (ih & (c->rh - 1));
    DC_T *dst = c->mem + slot * c->s * c->plen;
    if (c->tags[slot] != key) {
        DC_FN(dc_dwc_split)(xr, c->n2, c->s, c->plen, dst + c->lm);
        c->tags[slot] = key;
    }
    return dst;
}
