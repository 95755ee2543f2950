/*
 * The channels-last kernel's stores, for one dtype and ISA: the staged tiles
 * [row][width][channel] to the output rows (NCHW), transposed in registers, with the
 * bias; and the folded variant (problem/dc_fold.h).  The same transpose makes the
 * channels-last input copy (kernels/chlast/pack.h).  No include guard on purpose.
 */

/* r[0..DC_VL) <- its transpose, in registers. */
static DC_INLINE void DC_FN(dc_cl_tregs)(DC_V *r) {
#if DC_VL == 16   /* AVX-512, float */
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]),
                                                   _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]),
                                                       _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]),
                                                       _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]),
                                                       _mm512_castps_pd(t[i + 3])));
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
    }
#elif DC_VL == 8 && DC_NVREG == 32   /* AVX-512, double */
    __m512d t[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_pd(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_pd(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm512_shuffle_f64x2(t[i], t[i + 2], 0x88);
        r[i + 1] = _mm512_shuffle_f64x2(t[i + 1], t[i + 3], 0x88);
        r[i + 2] = _mm512_shuffle_f64x2(t[i], t[i + 2], 0xdd);
        r[i + 3] = _mm512_shuffle_f64x2(t[i + 1], t[i + 3], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f64x2(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f64x2(r[i], r[i + 4], 0xdd);
    }
    for (int i = 0; i < 8; i++) r[i] = t[i];
#elif DC_VL == 8   /* AVX2, float */
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
#else   /* AVX2, double */
    const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
#endif
}

/* dst[j*ds + i] = src[i*ss + j] (+ bias[j] if bias) for i < rows, j < cols: whole
 * DC_VL x DC_VL blocks transposed in registers (DC_VL rows of each side live at a
 * time, few enough for one L1 set when the strides are multiples of 4 KiB); the last
 * rows % DC_VL rows the same way with zero rows below them and masked stores (the
 * channels-last copy of an input with fewer channels than a vector is all tail), the
 * last cols % DC_VL columns element by element. */
static DC_TARGET void DC_FN(dc_cl_transpose)(const DC_T *src, dc_idx ss, dc_idx rows,
                                            dc_idx cols, DC_T *dst, dc_idx ds,
                                            const DC_T *bias) {
    const dc_idx rf = rows / DC_VL * DC_VL, cf = cols / DC_VL * DC_VL;
    const int rt = (int)(rows - rf);
    for (dc_idx j0 = 0; j0 < cf; j0 += DC_VL) {
        for (dc_idx i0 = 0; i0 < rf; i0 += DC_VL) {
            DC_V r[DC_VL];
            for (int i = 0; i < DC_VL; i++) r[i] = DC_LOADU(src + (i0 + i) * ss + j0);
            DC_FN(dc_cl_tregs)(r);
            for (int j = 0; j < DC_VL; j++) {
                const DC_V v = bias ? DC_ADD(DC_SET1(bias[j0 + j]), r[j]) : r[j];
                DC_STOREU(dst + (j0 + j) * ds + i0, v);
            }
        }
        if (rt > 0) {
            const DC_MASK_T m = DC_MASK(0, rt);
            DC_V r[DC_VL];
            for (int i = 0; i < DC_VL; i++)
                r[i] = i < rt ? DC_LOADU(src + (rf + i) * ss + j0) : DC_ZERO();
            DC_FN(dc_cl_tregs)(r);
            for (int j = 0; j < DC_VL; j++) {
                const DC_V v = bias ? DC_ADD(DC_SET1(bias[j0 + j]), r[j]) : r[j];
                DC_MSTORE(dst + (j0 + j) * ds + rf, m, v);
            }
        }
    }
    for (dc_idx j = cf; j < cols; j++) {
        const DC_T b = bias ? bias[j] : (DC_T)0;
        for (dc_idx i = 0; i < rows; i++) dst[j * ds + i] = b + src[i * ss + j];
    }
}

/* A folded row (problem/dc_fold.h): staged virtual pixels q0 + q, channels
 * [co0, co0 + nco) of a group -> the real output rows of that image and group, with
 * the bias; each virtual channel c' = c*fs + r of real channel c lands at
 * q*fs + r + off, written when inside [0, nout). */
static DC_TARGET void DC_FN(dc_cl_fold_store)(const dc_fold *f, const DC_T *buf, dc_idx COB,
                                             dc_idx q0, dc_idx nq, dc_idx co0, dc_idx nco,
                                             DC_T *orow, const DC_T *bias) {
    const dc_idx fs = f->s, nout = f->nout;
    for (dc_idx j0 = 0; j0 < nco;) {
        /* the block's channels of one real channel: one run per virtual pixel */
        const dc_idx c = (co0 + j0) / fs, r0 = (co0 + j0) - c * fs;
        const dc_idx j1 = nco < j0 + (fs - r0) ? nco : j0 + (fs - r0);
        const DC_T b = bias ? bias[c] : 0;
        DC_T *o = orow + c * nout;
        for (dc_idx q = 0; q < nq; q++) {
            const dc_idx o0 = (q0 + q) * fs + r0 + f->off;
            dc_idx lo = o0 < 0 ? -o0 : 0, hi = j1 - j0;
            if (o0 + hi > nout) hi = nout - o0;
            const DC_T *src = buf + q * COB + j0;
            for (dc_idx j = lo; j < hi; j++) o[o0 + j] = src[j] + b;
        }
        j0 = j1;
    }
}
