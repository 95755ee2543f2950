/*
 * The virtual-channel kernel's packing, for one dtype and ISA: where each virtual
 * channel's lanes go in the row buffers, and the weights as [group][depth x height
 * tap][input channel][virtual channel] (the weights' size).  No include guard on
 * purpose.
 */

/* Virtual channel v = c * NT + e for width tap e (phase-major, as dc_wphases lists
 * them): its destination dst[v] and its weights in every packed row of Vp (the rest
 * zero padding). */
static void DC_FN(dc_vc_pack)(const dc_wphase *ph, dc_idx sw, const dc_wtap *taps, dc_idx NT,
                              dc_idx cout_g, dc_idx acc_stride, dc_idx groups, dc_idx KDH,
                              dc_idx cin_g, dc_idx K, dc_idx kw, dc_idx Vp, dc_idx V,
                              const DC_T *w, dc_vcdst *dst, DC_T *wpk) {
    for (dc_idx q = 0; q < sw; q++)
        for (dc_idx e = ph[q].tap0; e < ph[q].tap0 + ph[q].ntap; e++)
            for (dc_idx c = 0; c < cout_g; c++) {
                dc_vcdst *dv = dst + c * NT + e;
                dv->off = c * acc_stride + DC_VL + ph[q].base - taps[e].c;
                dv->jlo = taps[e].lo + taps[e].c;
                dv->jhi = taps[e].hi + taps[e].c;
            }
    for (dc_idx grp = 0; grp < groups; grp++)
        for (dc_idx kdh = 0; kdh < KDH; kdh++)
            for (dc_idx ci = 0; ci < cin_g; ci++) {
                DC_T *row = wpk + ((grp * KDH + kdh) * cin_g + ci) * Vp;
                const DC_T *wc = w + (grp * cin_g + ci) * cout_g * K + kdh * kw;
                for (dc_idx v = 0; v < Vp; v++)
                    row[v] = v < V ? wc[(v / NT) * K + taps[v % NT].t] : (DC_T)0;
            }
}
