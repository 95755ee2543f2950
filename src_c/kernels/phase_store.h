/*
 * The phase-major row store, portable, for the dtype DC_DTYPE (32 or 64): a row
 * accumulated phase-major (output o = q + m*s of phase q at acc[base_q + m], base_q the
 * number of outputs of the phases before q) goes to the output row in output order,
 * with the bias.  The row kernels use it for every stride, the SIMD kernels' vector
 * store (kernels/width/store.h) for strides of 3 and more.  Once per dtype and
 * translation unit.
 */
#if DC_DTYPE == 32 && !defined(DC_PHASE_STORE_F32)
#define DC_PHASE_STORE_F32
#define DC_PS_T float
#define DC_PS_FN dc_phase_store_f32
#elif DC_DTYPE == 64 && !defined(DC_PHASE_STORE_F64)
#define DC_PHASE_STORE_F64
#define DC_PS_T double
#define DC_PS_FN dc_phase_store_f64
#endif

#ifdef DC_PS_FN
static inline void DC_PS_FN(const dc_taps *p, const DC_PS_T *restrict acc,
                            DC_PS_T *restrict out_row, DC_PS_T bias) {
    dc_idx n = p->acc_len, s = p->phases;
    if (s == 1) {
        for (dc_idx o = 0; o < n; o++) out_row[o] = bias + acc[o];
    } else if (s == 2) {
        const DC_PS_T *restrict a1 = acc + (n + 1) / 2;
        for (dc_idx m = 0; m < n / 2; m++) {
            out_row[2 * m] = bias + acc[m];
            out_row[2 * m + 1] = bias + a1[m];
        }
        if (n & 1) out_row[n - 1] = bias + acc[n / 2];
    } else if (s == 3 || s == 4) {
        /* contiguous writes: o = m*s + q, phase q starts at base_q */
        dc_idx full = n / s, rem = n % s;
        const DC_PS_T *restrict a0 = acc;
        const DC_PS_T *restrict a1 = acc + full + (rem > 0);
        const DC_PS_T *restrict a2 = a1 + full + (rem > 1);
        const DC_PS_T *restrict a3 = a2 + full + (rem > 2);
        if (s == 3) {
            for (dc_idx m = 0; m < full; m++) {
                out_row[3 * m] = bias + a0[m];
                out_row[3 * m + 1] = bias + a1[m];
                out_row[3 * m + 2] = bias + a2[m];
            }
        } else {
            for (dc_idx m = 0; m < full; m++) {
                out_row[4 * m] = bias + a0[m];
                out_row[4 * m + 1] = bias + a1[m];
                out_row[4 * m + 2] = bias + a2[m];
                out_row[4 * m + 3] = bias + a3[m];
            }
        }
        const DC_PS_T *ph[4] = {a0, a1, a2, a3};
        for (dc_idx q = 0; q < rem; q++) out_row[full * s + q] = bias + ph[q][full];
    } else {
        const DC_PS_T *a = acc;
        for (dc_idx q = 0; q < s && q < n; q++) {
            dc_idx m = 0;
            for (dc_idx o = q; o < n; o += s) out_row[o] = bias + a[m++];
            a += m;
        }
    }
}
#undef DC_PS_T
#undef DC_PS_FN
#endif
