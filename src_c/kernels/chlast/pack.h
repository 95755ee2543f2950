/*
 * The channels-last kernel's packing, for one dtype and ISA: the weights per group and
 * output-channel block as [tap][input channel][COB] (zero lanes past cout_g: their
 * sums are never stored), and the input channels-last per group.  O(weights) and
 * O(input) per call.  Each runs as a worksharing loop of the driver's parallel region.
 * No include guard on purpose.
 */

/* Packed weights: [group][channel block][tap][input channel][COB], from the layout of
 * the op tr says.  Folded (fold not NULL, transposed: K, cout_g and COB are the folded
 * problem's), virtual channel co = c*fs + r at tap t is real channel c's tap t*fs + r. */
static DC_TARGET void DC_FN(dc_cl_pack_w)(int tr, const dc_fold *fold, const DC_T *w,
                                          dc_idx groups, dc_idx ncob, dc_idx K, dc_idx cin_g,
                                          dc_idx cout_g, dc_idx COB, dc_idx wstride,
                                          DC_T *wpk) {
    /* the weights of (input channel ci, output channel co, tap t) of a group:
     * transposed (cin_g, cout_g, K), forward (cout_g, cin_g, K) */
    const dc_idx ci_step = tr ? cout_g * K : K, co_step = tr ? K : cin_g * K;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
    for (dc_idx gbt = 0; gbt < groups * ncob * K; gbt++) {
        const dc_idx t = gbt % K, gb = gbt / K, grp = gb / ncob, cb = gb % ncob;
        DC_T *dst = wpk + (gb * K + t) * wstride;
        /* lane j's weight within an input channel's cout_g*K ones, -1: a zero lane;
         * folded, virtual channel co = c*fs + r at tap t is real channel c's tap
         * t*fs + r (an input channel's weights are cout_g*K long either way) */
        dc_idx woff[DC_CHLAST_MAX_V * DC_VL];
        for (dc_idx j = 0; j < COB; j++) {
            const dc_idx co = cb * COB + j;
            woff[j] = co >= cout_g ? -1
                      : fold ? co / fold->s * (K * fold->s) + t * fold->s + co % fold->s
                      : co * co_step + t;
        }
        /* folded, lanes are runs of consecutive weights: copied as runs */
        dc_idx run = 1;
        while (run < COB && woff[0] >= 0 && woff[run] == woff[0] + run) run++;
        for (dc_idx ci = 0; ci < cin_g; ci++) {
            const DC_T *wc = w + grp * cin_g * cout_g * K + ci * ci_step;
            dc_idx j = 0;
            if (run > 1)
                for (; j < run; j++) dst[ci * COB + j] = wc[woff[0] + j];
            for (; j < COB; j++) dst[ci * COB + j] = woff[j] >= 0 ? wc[woff[j]] : 0;
        }
    }
}

/* src (planes of npix positions, C channels each; nplane = images x groups) -> dst
 * [plane][position][Cp], channels past C zero: the channels-last copy of the input
 * (Cp = C here; the weight-gradient kernel pads), 64 positions at a time. */
static DC_TARGET void DC_FN(dc_cl_pack_planes)(const DC_T *src, dc_idx nplane, dc_idx C,
                                               dc_idx npix, dc_idx Cp, DC_T *dst) {
    const dc_idx pblk = (npix + 63) / 64;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
    for (dc_idx bp = 0; bp < nplane * pblk; bp++) {
        const dc_idx pl = bp / pblk, p0 = bp % pblk * 64;
        const dc_idx np = npix - p0 < 64 ? npix - p0 : 64;
        DC_T *d = dst + (pl * npix + p0) * Cp;
        DC_FN(dc_cl_transpose)(src + pl * C * npix + p0, npix, C, np, d, Cp, NULL);
        if (Cp > C)
            for (dc_idx i = 0; i < np; i++)
                memset(d + i * Cp + C, 0, (size_t)(Cp - C) * sizeof(DC_T));
    }
}
