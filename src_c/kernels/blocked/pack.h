/*
 * The blocked kernel's weight packing, for one dtype (and ISA: instantiated with the
 * other templates, no vector code).  The depthwise kernel packs with it too (C = 1).
 * No include guard on purpose.
 */

/* Packed weights: block (grp, c0, cb) of C channels at (grp*cout_g + c0)*cin_g*K,
 * [ci][K][cb].  Returns 1 iff all weights are finite. */
static int DC_FN(dc_blocked_pack)(const DC_T *w, dc_idx groups, dc_idx cin_g, dc_idx cout_g,
                            dc_idx K, int C, DC_T *wpk) {
    int finite = 1;
    for (dc_idx grp = 0; grp < groups; grp++)
        for (dc_idx c0 = 0; c0 < cout_g; c0 += C) {
            dc_idx cb = cout_g - c0 < C ? cout_g - c0 : C;
            DC_T *dst = wpk + (grp * cout_g + c0) * cin_g * K;
            for (dc_idx ci = 0; ci < cin_g; ci++) {
                const DC_T *src = w + (grp * cin_g + ci) * cout_g * K + c0 * K;
                for (dc_idx t = 0; t < K; t++)
                    for (dc_idx j = 0; j < cb; j++) {
                        DC_T v = src[j * K + t];
                        dst[(ci * K + t) * cb + j] = v;
                        finite &= (v - v) == 0;
                    }
            }
        }
    return finite;
}
