/*
 * The phase-major row store of the width-vectorised kernels (blocked, depthwise,
 * virtual channels), for one dtype and ISA.  No include guard on purpose.
 */

/* out_row = bias + phase-major acc, interleaved (as dc_finish); vectors for strides 1
 * and 2 (stride 2 interleaves in registers).  Plain stores: non-temporal ones (16-byte
 * pieces, as rows are rarely aligned to a whole vector) measured 1.2-2.2x slower on
 * the AVX-512 Xeon, for outputs of 8 MiB to 256 MiB alike. */
static DC_TARGET void DC_FN(dc_wstore)(const dc_taps *p, const DC_T *acc, DC_T *out_row,
                                       DC_T bias) {
    const dc_idx n = p->acc_len, s = p->phases;
    const DC_V bv = DC_SET1(bias);
    dc_idx m = 0;
    if (s == 1) {
        for (; m + DC_VL <= n; m += DC_VL)
            DC_STOREU(out_row + m, DC_ADD(bv, DC_LOADU(acc + m)));
        for (; m < n; m++) out_row[m] = bias + acc[m];
    } else if (s == 2) {
        const DC_T *a1 = acc + (n + 1) / 2;
        for (; m + DC_VL <= n / 2; m += DC_VL) {
            const DC_V v0 = DC_LOADU(acc + m), v1 = DC_LOADU(a1 + m);
            DC_STOREU(out_row + 2 * m, DC_ADD(bv, DC_ZIPLO(v0, v1)));
            DC_STOREU(out_row + 2 * m + DC_VL, DC_ADD(bv, DC_ZIPHI(v0, v1)));
        }
        for (; m < n / 2; m++) {
            out_row[2 * m] = bias + acc[m];
            out_row[2 * m + 1] = bias + a1[m];
        }
        if (n & 1) out_row[n - 1] = bias + acc[n / 2];
    } else {
        DC_FN2(dc_phase_store, DC_TSUF)(p, acc, out_row, bias);
    }
}
