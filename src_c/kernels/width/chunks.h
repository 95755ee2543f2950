/*
 * Chunk tables of the width-vectorised kernels (blocked, depthwise), for one dtype and
 * ISA: a phase's outputs cut into chunks of U vectors, the chunks at the borders (where
 * a width tap reaches outside the input for some lanes) with their lane masks, built
 * once per call.  U comes from the blocked tile list (kernels/blocked/tiles.h).  No
 * include guard on purpose.
 */

/* Vectors U of a chunk for blocks of C channels and phases up to maxlen long: the
 * fewest register operations per row (a chunk costs max(C*U, U+C) + 2), among the
 * blocked tiles of C channels, the widest on ties. */
static int DC_FN(dc_wpick_u)(int C, dc_idx maxlen) {
    double best = 0;
    int U = 1, first = 1;
#define DC_PICK_U(c, u) \
    if ((c) == C) { \
        const dc_idx W = (dc_idx)(u) * DC_VL; \
        const dc_idx nch = maxlen >= W ? (maxlen + W - 1) / W : 1; \
        const double per = (double)(C * (u) > (u) + C ? C * (u) : (u) + C) + 2.0; \
        const double cost = (double)nch * per; \
        if (first || cost <= best) { best = cost; U = (u); first = 0; } \
    }
    DC_TILES(blocked)(DC_PICK_U)
#undef DC_PICK_U
    return U;
}

/* Chunk table of the width phases ph[0..sw) for blocks of C channels: per phase, chunks
 * of U vectors (the last one shifted back to end at the phase's end, or narrower; a
 * single chunk when the phase is shorter); border chunks get their lane masks and
 * kinds here, once per call.  Sets P->chunk0, P->nchunk and P->ut.  Returns 0, or -1
 * when out of memory (then nothing is left allocated). */
static DC_TARGET int DC_FN(dc_wchunks)(dc_wphase *ph, dc_idx sw, const dc_wtap *taps,
                                      dc_idx ntap_max, int C, int U,
                                      dc_wchunk **chunks_out, DC_MASK_T **masks_out,
                                      signed char **kinds_out) {
    const dc_idx W = (dc_idx)U * DC_VL;
    dc_wchunk *chunks = NULL;
    DC_MASK_T *masks = NULL;
    signed char *kinds = NULL;
    dc_idx nchunk_all = 0, nborder = 0;
    for (int pass = 0; pass < 2; pass++) {
        dc_idx c = 0, b = 0;
        for (dc_idx q = 0; q < sw; q++) {
            dc_wphase *P = &ph[q];
            if (pass) P->chunk0 = c;
            dc_idx len = P->len, m0 = 0;
            if (pass) P->ut = 0;
            while (len > 0) {
                int uc = U;
                dc_idx Wc = W;
                if (m0 + W > len) {
                    /* the rest: the narrowest chunk shape that covers it, else a full
                     * chunk shifted back to end at the phase's end */
                    int ut = dc_blocked_tail_u(C, (len - m0 + DC_VL - 1) / DC_VL);
                    if (ut > 0 && ut < U) {
                        uc = ut;
                        Wc = (dc_idx)ut * DC_VL;
                    }
                    m0 = len >= Wc ? len - Wc : 0;
                }
                int border = !(P->lmax <= m0 && m0 + Wc <= P->hmin);
                if (pass) {
                    chunks[c].m0 = m0;
                    chunks[c].moff = border ? b * ntap_max * (U + 1) : -1;
                    if (uc != U) P->ut = uc;       /* the tail: last chunk of the phase */
                    if (border) {
                        const dc_wtap *tp = taps + P->tap0;
                        DC_MASK_T *mk = masks + b * ntap_max * (U + 1);
                        signed char *kd = kinds + b * ntap_max * (U + 1);
                        signed char *ek = kd + P->ntap * uc;
                        for (dc_idx e = 0; e < P->ntap; e++) {
                            int any = 0, all = 1;
                            for (int u = 0; u < uc; u++) {
                                dc_idx v0 = m0 + (dc_idx)u * DC_VL;
                                dc_idx ra = tp[e].lo - v0, rb = tp[e].hi - v0;
                                ra = ra < 0 ? 0 : (ra > DC_VL ? DC_VL : ra);
                                rb = rb < 0 ? 0 : (rb > DC_VL ? DC_VL : rb);
                                if (rb < ra) rb = ra;
                                kd[e * uc + u] = rb == ra ? 0 : (ra == 0 && rb == DC_VL ? 1 : 2);
                                mk[e * uc + u] = DC_MASK(ra, rb);
                                any |= rb > ra;
                                all &= kd[e * uc + u] == 1;
                            }
                            ek[e] = !any ? 0 : (all ? 1 : 2);
                        }
                    }
                }
                c++;
                b += border;
                if (m0 + Wc >= len) break;
                m0 += W;
            }
            if (pass) P->nchunk = c - P->chunk0 - (P->ut ? 1 : 0);
        }
        if (!pass) {
            nchunk_all = c; nborder = b;
            chunks = (dc_wchunk *)malloc((size_t)nchunk_all * sizeof(dc_wchunk) + 1);
            masks = (DC_MASK_T *)aligned_alloc(64, (((size_t)nborder * ntap_max * (U + 1) + 1)
                                                    * sizeof(DC_MASK_T) + 63) & ~(size_t)63);
            kinds = (signed char *)malloc((size_t)nborder * ntap_max * (U + 1) + 1);
            if (!chunks || !masks || !kinds) {
                free(chunks); free(masks); free(kinds);
                return -1;
            }
        }
    }
    *chunks_out = chunks;
    *masks_out = masks;
    *kinds_out = kinds;
    return 0;
}
