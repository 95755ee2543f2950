/*
 * Channel-vectorised transposed-convolution micro-kernels and driver for one dtype and
 * ISA; instantiated by deconv_chlast.h through deconv_avx2_inst.h and
 * deconv_avx512_inst.h.  No include guard on purpose.  See deconv_chlast.h.
 */
#define DC_CCAT2(a, b) a##_##b
#define DC_CCAT(a, b) DC_CCAT2(a, b)
#define DC_CFN(name) DC_CCAT(name, DC_SUF)

/* Accumulators: AVX-512 has 32 vector registers, AVX2 16; a few stay free for the
 * weights and the broadcast input value. */
#if DC_NVREG == 32
#define DC_CL_ACC 24
#define DC_CL_VMAX 4
#else
/* with 12 accumulators, 3 pixels x 4 vectors would load 7 values per 12 FMAs */
#define DC_CL_ACC 12
#define DC_CL_VMAX 2
#endif
#define DC_CL_MIN_SEG 32

typedef void (*DC_CFN(dc_cl_fn))(const DC_T *, const dc_idx *, const dc_cterm *, dc_idx,
                                 dc_idx, dc_idx, const DC_T *, DC_T *, const dc_idx *);

/* One tile: P pixels at xb + xoff[p] (channels-last, cin_g channels), terms
 * tm[0..nterm): input offset tm.x pixels, packed weights at wp + tm.t*wstride,
 * [channel][V*DC_VL]; pixel p's V*DC_VL sums go to dst + doff[p] (contiguous). */
static DC_BINL void DC_CFN(dc_cl_body)(const DC_T *xb, const dc_idx *xoff, const dc_cterm *tm,
                                       dc_idx nterm, dc_idx cin_g, dc_idx wstride,
                                       const DC_T *wp, DC_T *dst, const dc_idx *doff,
                                       const int P, const int V) {
    DC_V acc[24][4];
#pragma GCC unroll 24
    for (int p = 0; p < P; p++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++) acc[p][v] = DC_ZERO();
    for (dc_idx t = 0; t < nterm; t++) {
        const DC_T *xp[24];
        const dc_idx xd = tm[t].x * cin_g;
#pragma GCC unroll 24
        for (int p = 0; p < P; p++) xp[p] = xb + xoff[p] + xd;
        const DC_T *ww = wp + tm[t].t * wstride;
        for (dc_idx ci = 0; ci < cin_g; ci++) {
            DC_V wv[4];
#pragma GCC unroll 4
            for (int v = 0; v < V; v++) wv[v] = DC_LOADU(ww + v * DC_VL);
            ww += V * DC_VL;
#pragma GCC unroll 24
            for (int p = 0; p < P; p++) {
                const DC_V b = DC_SET1(xp[p][ci]);
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
    static DC_BTGT void DC_CFN(dc_cl_##P##_##V)(const DC_T *xb, const dc_idx *xoff, \
                                               const dc_cterm *tm, dc_idx nterm, \
                                               dc_idx cin_g, dc_idx wstride, \
                                               const DC_T *wp, DC_T *dst, \
                                               const dc_idx *doff) { \
        DC_CFN(dc_cl_body)(xb, xoff, tm, nterm, cin_g, wstride, wp, dst, doff, P, V); \
    }
#if DC_CL_ACC == 24
DC_CL_INST(12, 1) DC_CL_INST(12, 2) DC_CL_INST(8, 3) DC_CL_INST(6, 4)
#else
DC_CL_INST(6, 1) DC_CL_INST(6, 2) DC_CL_INST(4, 3) DC_CL_INST(3, 4)
#endif
#undef DC_CL_INST

/* r[0..DC_VL) <- its transpose, in registers. */
static DC_BINL void DC_CFN(dc_cl_tregs)(DC_V *r) {
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
 * time, few enough for one L1 set when the strides are multiples of 4 KiB), the
 * edges element by element. */
static DC_BTGT void DC_CFN(dc_cl_transpose)(const DC_T *src, dc_idx ss, dc_idx rows,
                                            dc_idx cols, DC_T *dst, dc_idx ds,
                                            const DC_T *bias) {
    const dc_idx rf = rows / DC_VL * DC_VL, cf = cols / DC_VL * DC_VL;
    for (dc_idx j0 = 0; j0 < cf; j0 += DC_VL) {
        for (dc_idx i0 = 0; i0 < rf; i0 += DC_VL) {
            DC_V r[DC_VL];
            for (int i = 0; i < DC_VL; i++) r[i] = DC_LOADU(src + (i0 + i) * ss + j0);
            DC_CFN(dc_cl_tregs)(r);
            for (int j = 0; j < DC_VL; j++) {
                const DC_V v = bias ? DC_ADD(DC_SET1(bias[j0 + j]), r[j]) : r[j];
                DC_STOREU(dst + (j0 + j) * ds + i0, v);
            }
        }
        for (dc_idx j = j0; j < j0 + DC_VL; j++) {
            const DC_T b = bias ? bias[j] : (DC_T)0;
            for (dc_idx i = rf; i < rows; i++) dst[j * ds + i] = b + src[i * ss + j];
        }
    }
    for (dc_idx j = cf; j < cols; j++) {
        const DC_T b = bias ? bias[j] : (DC_T)0;
        for (dc_idx i = 0; i < rows; i++) dst[j * ds + i] = b + src[i * ss + j];
    }
}

/* Vectors of output channels per block, and the pixels per tile that go with them. */
static DC_CFN(dc_cl_fn) DC_CFN(dc_cl_pick)(int V, int *P) {
#if DC_CL_ACC == 24
    static const int pix[5] = {0, 12, 12, 8, 6};
    *P = pix[V];
    switch (V) {
    case 1: return DC_CFN(dc_cl_12_1);
    case 2: return DC_CFN(dc_cl_12_2);
    case 3: return DC_CFN(dc_cl_8_3);
    default: return DC_CFN(dc_cl_6_4);
    }
#else
    static const int pix[5] = {0, 6, 6, 4, 3};
    *P = pix[V];
    switch (V) {
    case 1: return DC_CFN(dc_cl_6_1);
    case 2: return DC_CFN(dc_cl_6_2);
    case 3: return DC_CFN(dc_cl_4_3);
    default: return DC_CFN(dc_cl_3_4);
    }
#endif
}

/* A folded row (deconv_chlast.h, dc_fold): staged virtual pixels q0 + q, channels
 * [co0, co0 + nco) of a group -> the real output rows of that image and group, with
 * the bias; each virtual channel c' = c*fs + r of real channel c lands at
 * q*fs + r + off, written when inside [0, nout). */
static DC_BTGT void DC_CFN(dc_cl_fold_store)(const dc_fold *f, const DC_T *buf, dc_idx COB,
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

/* Transposed convolution of the whole batch into out (C-contiguous), 3-D geometry;
 * with fold (not NULL) the geometry and cout_g are the folded problem's and the
 * weights and out the real ones.  Returns 0, or -1 when out of memory. */
static DC_BTGT int DC_CFN(dc_chlast_run)(const dc_fold *fold, const DC_T *x, const DC_T *w,
                                         const DC_T *bias, DC_T *out, dc_idx N,
                                         dc_idx groups, dc_idx cin_g, dc_idx cout_g,
                                         const dc_idx *n, const dc_idx *k, const dc_idx *s,
                                         const dc_idx *d, const dc_idx *pb,
                                         const dc_idx *no, int nt) {
    const dc_idx K = k[0] * k[1] * k[2], pin = n[0] * n[1] * n[2];
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    if (N <= 0 || cout <= 0 || no0 * no1 * no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    /* output-channel blocks of V <= DC_CL_VMAX vectors, as few blocks as that allows,
     * as even as they can be (the least padding in the last one) */
    const dc_idx nvec = (cout_g + DC_VL - 1) / DC_VL;
    const dc_idx nblk = (nvec + DC_CL_VMAX - 1) / DC_CL_VMAX;
    int V = (int)((nvec + nblk - 1) / nblk), P;
    DC_CFN(dc_cl_fn) fn = DC_CFN(dc_cl_pick)(V, &P);
    const dc_idx COB = (dc_idx)V * DC_VL;
    const dc_idx ncob = (cout_g + COB - 1) / COB;
    const dc_idx wstride = cin_g * COB;     /* packed weights between taps */

    dc_cgeom g;
    if (dc_cl_geom_build(&g, n, k, s, d, pb, no) != 0) return -1;
    /* A task: R rows (consecutive positions of one height phase) of one output depth
     * slice, for one (image, group, channel block).  Its tiles may span rows, so
     * narrow maps still fill them; its results are staged in a per-thread buffer
     * [row][width][channel], which the micro-kernel writes with whole vectors, and
     * go to the output transposed row by row (contiguous runs, with the bias). */
    const dc_idx ph1 = s[1] < no1 ? s[1] : no1;
    const dc_idx m1max = (no1 + s[1] - 1) / s[1];
    const dc_idx base = N * groups * ncob * no0 * ph1;
    dc_idx R = (dc_idx)(65536 / ((size_t)COB * no2 * sizeof(DC_T)));
    if (R > m1max) R = m1max;
    if (R < 1) R = 1;
    while (R > 1 && base * ((m1max + R - 1) / R) < 8 * (dc_idx)nt) R = (R + 1) / 2;
    dc_idx nrb = 0;
    for (dc_idx r = 0; r < ph1; r++) nrb += ((no1 - r + s[1] - 1) / s[1] + R - 1) / R;
    /* Too few row tasks for the threads (1-D and small maps, a folded call): the
     * width is cut into segments of at least DC_CL_MIN_SEG outputs, each task one. */
    const dc_idx rtasks = base / ph1 * nrb;
    dc_idx nws = 1;
    if (nt > 1 && rtasks < 8 * (dc_idx)nt) {
        nws = (8 * (dc_idx)nt + rtasks - 1) / rtasks;
        if (nws > no2 / DC_CL_MIN_SEG) nws = no2 / DC_CL_MIN_SEG;
        if (nws < 1) nws = 1;
    }
    const dc_idx bw = (no2 + nws - 1) / nws;   /* segment (staged row) width */
    const size_t wbytes = (size_t)(groups * ncob * K * wstride) * sizeof(DC_T);
    const size_t xbytes = (size_t)(N * cin * pin) * sizeof(DC_T);
    char *mem = (char *)malloc(wbytes + xbytes + (size_t)nrb * 3 * sizeof(dc_idx) + 192);
    if (!mem) {
        dc_cl_geom_free(&g);
        return -1;
    }
    DC_T *wpk = (DC_T *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    DC_T *xcl = (DC_T *)(((uintptr_t)((char *)wpk + wbytes) + 63) & ~(uintptr_t)63);
    dc_idx *rblk = (dc_idx *)(((uintptr_t)((char *)xcl + xbytes) + 63) & ~(uintptr_t)63);
    for (dc_idx r = 0, i = 0; r < ph1; r++) {
        const dc_idx M = (no1 - r + s[1] - 1) / s[1];
        for (dc_idx m0 = 0; m0 < M; m0 += R, i++) {
            rblk[3 * i] = r;
            rblk[3 * i + 1] = m0;
            rblk[3 * i + 2] = m0 + R < M ? m0 + R : M;
        }
    }
    /* tasks (group, channel block, image, depth slice, row block), row blocks fastest:
     * a run of consecutive tasks mostly reuses one block's packed weights */
    const dc_idx tasks = rtasks * nws;
    dc_idx tchunk = tasks / ((dc_idx)nt * 8);
    if (tchunk < 1) tchunk = 1;
    const dc_idx bsize = R * bw * COB;      /* the staging buffer: [row][width][COB] */
    int failed = 0;

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        /* packed weights: [group][channel block][tap][input channel][COB], zero lanes
         * past cout_g (their sums are never stored) */
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (dc_idx gbt = 0; gbt < groups * ncob * K; gbt++) {
            const dc_idx t = gbt % K, gb = gbt / K, grp = gb / ncob, cb = gb % ncob;
            DC_T *dst = wpk + (gb * K + t) * wstride;
            /* lane j's weight within an input channel's cout_g*K ones, -1: a zero lane;
             * folded, virtual channel co = c*fs + r at tap t is real channel c's tap
             * t*fs + r (an input channel's weights are cout_g*K long either way) */
            dc_idx woff[DC_CL_VMAX * DC_VL];
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
        /* channels-last input: [image][group][pixel][channel], 64 pixels at a time */
        const dc_idx pblk = (pin + 63) / 64;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (dc_idx ngp = 0; ngp < N * groups * pblk; ngp++) {
            const dc_idx ng = ngp / pblk, p0 = ngp % pblk * 64;
            const dc_idx np = pin - p0 < 64 ? pin - p0 : 64;
            DC_CFN(dc_cl_transpose)(x + ng * cin_g * pin + p0, pin, cin_g, np,
                                    xcl + (ng * pin + p0) * cin_g, cin_g, NULL);
        }
        DC_T *buf = (DC_T *)aligned_alloc(64, ((size_t)bsize * sizeof(DC_T) + 63)
                                                  & ~(size_t)63);
        if (!buf) {
#if defined(_OPENMP)
#pragma omp atomic write
#endif
            failed = 1;
        }
        dc_idx xoff[24], boff[24];
        /* dynamic chunks of consecutive tasks: a thread descheduled on a shared
         * machine does not hold up the call, and a chunk still shares its weights */
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, tchunk)
#endif
        for (dc_idx task = 0; task < tasks; task++) {
            if (!buf) continue;
            dc_idx tq = task;
            const dc_idx ws = tq % nws; tq /= nws;
            const dc_idx rb = tq % nrb; tq /= nrb;
            const dc_idx od = tq % no0; tq /= no0;
            const dc_idx nn = tq % N; tq /= N;
            const dc_idx cb = tq % ncob;
            const dc_idx grp = tq / ncob;
            const dc_idx rh = rblk[3 * rb], mh0 = rblk[3 * rb + 1], mh1 = rblk[3 * rb + 2];
            const dc_idx i0 = g.ivl_of[0][od], md = od / s[0];
            const dc_idx ow0 = ws * bw, ow1 = ow0 + bw < no2 ? ow0 + bw : no2;
            if (ow0 >= ow1) continue;      /* the rounding left the last ones empty */
            const dc_idx co0 = grp * cout_g + cb * COB;
            const dc_idx nco = cout_g - cb * COB < COB ? cout_g - cb * COB : COB;
            const DC_T *xb = xcl + (nn * groups + grp) * cin_g * pin;
            const DC_T *wb = wpk + (grp * ncob + cb) * K * wstride;
            for (dc_idx i1 = g.first1[rh]; i1 < g.first1[rh + 1]; i1++) {
                const dc_civl *I1 = &g.ivl[1][i1];
                const dc_idx a = I1->lo > mh0 ? I1->lo : mh0;
                const dc_idx b = I1->hi < mh1 ? I1->hi : mh1;
                if (a >= b) continue;
                for (dc_idx i2 = 0; i2 < g.nivl[2]; i2++) {
                    const dc_civl *I2 = &g.ivl[2][i2];
                    /* the interval's positions m whose outputs r + m*s fall in the
                     * segment */
                    const dc_idx r2 = I2->r, s2 = s[2];
                    const dc_idx mlo = ow0 > r2 ? (ow0 - r2 + s2 - 1) / s2 : 0;
                    const dc_idx mhi = ow1 > r2 ? (ow1 - r2 + s2 - 1) / s2 : 0;
                    const dc_idx lo2 = I2->lo > mlo ? I2->lo : mlo;
                    const dc_idx hi2 = I2->hi < mhi ? I2->hi : mhi;
                    if (lo2 >= hi2) continue;
                    const dc_idx len2 = hi2 - lo2, npx = (b - a) * len2;
                    const dc_idx box = (i0 * g.nivl[1] + i1) * g.nivl[2] + i2;
                    const dc_idx t0 = g.term0[box], nterm = g.term0[box + 1] - t0;
                    /* the box's pixels row by row, P at a time: both offsets step
                     * along the row and jump at its end (no multiply per pixel;
                     * with one tap and few input channels this loop is a good
                     * part of a kernel call) */
                    const dc_idx xjump = (n[2] - len2) * cin_g;
                    const dc_idx bstep = s2 * COB, bjump = (bw - len2 * s2) * COB;
                    dc_idx m2 = lo2;
                    dc_idx xo = ((md * n[1] + a) * n[2] + lo2) * cin_g;
                    dc_idx bo = ((a - mh0) * bw + r2 + lo2 * s2 - ow0) * COB;
                    for (dc_idx q0 = 0; q0 < npx; q0 += P) {
                        /* pixels past the box repeat its last one: the same value is
                         * stored twice */
                        const dc_idx np = npx - q0 < P ? npx - q0 : P;
                        for (int p = 0; p < P; p++) {
                            if (p < np) {
                                xoff[p] = xo;
                                boff[p] = bo;
                                xo += cin_g;
                                bo += bstep;
                                if (++m2 == hi2) {
                                    m2 = lo2;
                                    xo += xjump;
                                    bo += bjump;
                                }
                            } else {
                                xoff[p] = xoff[np - 1];
                                boff[p] = boff[np - 1];
                            }
                        }
                        if (nterm > 0) {
                            fn(xb, xoff, g.terms + t0, nterm, cin_g, wstride, wb, buf, boff);
                        } else {
                            for (int p = 0; p < P; p++)
                                for (dc_idx j = 0; j < COB; j++) buf[boff[p] + j] = 0;
                        }
                    }
                }
            }
            /* the staged rows [row][width][channel] -> out rows, with the bias */
            if (fold) {
                const dc_idx cr = cout / fold->s, cr_g = cout_g / fold->s;
                DC_CFN(dc_cl_fold_store)(fold, buf, COB, ow0, ow1 - ow0, cb * COB, nco,
                                         out + (nn * cr + grp * cr_g) * fold->nout,
                                         bias ? bias + grp * cr_g : NULL);
                continue;
            }
            for (dc_idx mh = mh0; mh < mh1; mh++)
                DC_CFN(dc_cl_transpose)(buf + (mh - mh0) * bw * COB, COB, ow1 - ow0, nco,
                                        out + (((nn * cout + co0) * no0 + od) * no1
                                               + rh + mh * s[1]) * no2 + ow0,
                                        no0 * no1 * no2, bias ? bias + co0 : NULL);
        }
        free(buf);
    }
    free(mem);
    dc_cl_geom_free(&g);
    return failed ? -1 : 0;
}

static int DC_CFN(dc_chlast_tr)(DC_BLOCKED_ARGS(DC_T)) {
    (void)p;
    return DC_CFN(dc_chlast_run)(NULL, x, w, bias, out, N, groups, cin_g, cout_g, n, k, s,
                                 d, pb, no, nt);
}

static int DC_CFN(dc_chlast_fold_tr)(const dc_fold *fold, DC_BLOCKED_ARGS(DC_T)) {
    (void)p;
    return DC_CFN(dc_chlast_run)(fold, x, w, bias, out, N, groups, cin_g, cout_g, n, k, s,
                                 d, pb, no, nt);
}

#undef DC_CL_MIN_SEG
#undef DC_CL_ACC
#undef DC_CL_VMAX
#undef DC_CFN
#undef DC_CCAT
#undef DC_CCAT2
