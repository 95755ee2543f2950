/*
 * The channels-last kernel's packing, for one dtype and ISA: the weights per group and
 * output-channel block as [tap][input channel][COB] (zero lanes past cout_g: their
 * sums are never stored), and the input channels-last per group.  O(weights) and
 * O(input) per call.  Each runs as a worksharing loop of the driver's parallel region.
 * No include guard on purpose.
 */

/* Packed weights: [group][channel block][tap][input channel][COB].  Folded (fold not
 * NULL: K, cout_g and COB are the folded problem's), virtual channel co = c*fs + r at
 * tap t is real channel c's tap t*fs + r. */
static DC_TARGET void DC_FN(dc_cl_pack_w)(const dc_fold *fold, const DC_T *w, dc_idx groups,
                                          dc_idx ncob, dc_idx K, dc_idx cin_g, dc_idx cout_g,
                                          dc_idx COB, dc_idx wstride, DC_T *wpk) {
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
                      : co * K + t;
        }
        /* folded, lanes are runs of consecutive weights: copied as runs */
        dc_idx run = 1;
        while (run < COB && woff[0] >= 0 && woff[run] == woff[0] + run) run++;
        for (dc_idx ci = 0; ci < cin_g; ci++) {
            const DC_T *wc = w + (grp * cin_g + ci) * cout_g * K;
            dc_idx j = 0;
            if (run > 1)
                for (; j < run; j++) dst[ci * COB + j] = wc[woff[0] + j];
            for (; j < COB; j++) dst[ci * COB + j] = woff[j] >= 0 ? wc[woff[j]] : 0;
        }
    }
}

/* Channels-last input: [image][group][pixel][channel], 64 pixels at a time (ng images
 * times groups, pin pixels, cin_g channels each). */
static DC_TARGET void DC_FN(dc_cl_pack_x)(const DC_T *x, dc_idx ng_all, dc_idx pin,
                                          dc_idx cin_g, DC_T *xcl) {
    const dc_idx pblk = (pin + 63) / 64;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
    for (dc_idx ngp = 0; ngp < ng_all * pblk; ngp++) {
        const dc_idx ng = ngp / pblk, p0 = ngp % pblk * 64;
        const dc_idx np = pin - p0 < 64 ? pin - p0 : 64;
        DC_FN(dc_cl_transpose)(x + ng * cin_g * pin + p0, pin, cin_g, np,
                                xcl + (ng * pin + p0) * cin_g, cin_g, NULL);
    }
}
