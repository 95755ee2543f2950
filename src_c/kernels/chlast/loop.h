/*
 * Channel-vectorised transposed convolution for channel-heavy layers (AVX2+FMA or
 * AVX-512), a GEMM-like micro-kernel without a GEMM: no column buffer, no BLAS call,
 * no scatter afterwards.  The driver, for one dtype and ISA; no include guard on
 * purpose.
 *
 * Phase (sub-pixel) decomposition in every dim (problem/dc_boxes.h): a "box" is one
 * interval of positions per dim of one phase combination, all of whose pixels reach
 * the same taps (a "pattern"), every one of them a real input pixel.  No inserted
 * zero and no padding is ever multiplied, and nothing the size of the zero-inserted
 * or padded input exists.
 *
 * The input is copied channels-last per group, (n, group, d, h, w, channel), so that
 * the reduction over input channels of one pixel and tap is a contiguous run
 * (kernels/chlast/pack.h); with few input channels per group the tiles read the input
 * planes in place instead (a pixel's channels a plane apart).  A micro-kernel (kernels/chlast/tile.h) keeps P pixels x V
 * vectors of output channels in registers (P*V accumulators) and streams the box's
 * terms (tap: x offset, packed-weight offset) and the input channels through them: per
 * channel step V weight vectors are loaded (weights packed [tap][channel][C_out block],
 * the block padded to whole vectors) and each pixel's input value is broadcast once.
 * The P x (V*VL) result tile goes to the output (NCHW) with the bias, each element
 * written once (kernels/chlast/store.h).
 *
 * A task is P pixels of one box for one (image, group, output-channel block); every
 * output element belongs to exactly one task and sums its terms in the box's tap
 * order, then over input channels in order, whatever P, V, the thread count or the
 * vector width: results are bit-identical for any num_threads and on any ISA.
 */

/* Too few row tasks for the threads: width segments of at least this many outputs. */
#define DC_CHLAST_MIN_SEG 32

/* Transposed or forward convolution (pr->op) of the whole batch into out
 * (C-contiguous), 3-D geometry; with fold (not NULL) pr and its cout_g are the folded
 * problem's and the weights and out the real ones.  Returns 0, or -1 when out of
 * memory. */
static DC_TARGET int DC_FN(dc_chlast_run)(const dc_fold *fold, const dc_problem *pr,
                                          const DC_T *x, const DC_T *w, const DC_T *bias,
                                          DC_T *out) {
    DC_PROBLEM_LOCALS(pr);
    const int tr = pr->op == DC_OP_TCONV;
    /* per dim, between neighbouring positions of a box: the outputs step by os
     * (transposed: a phase's outputs are s apart; forward: 1) and the inputs by is
     * (transposed: 1; forward: s) */
    const dc_idx os0 = tr ? s[0] : 1, os1 = tr ? s[1] : 1, os2 = tr ? s[2] : 1;
    const dc_idx is0 = tr ? 1 : s[0], is1 = tr ? 1 : s[1], is2 = tr ? 1 : s[2];
    const dc_idx K = k[0] * k[1] * k[2], pin = n[0] * n[1] * n[2];
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    if (N <= 0 || cout <= 0 || no0 * no1 * no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    /* output-channel blocks of V <= vmax vectors, as few blocks as that allows,
     * as even as they can be (the least padding in the last one) */
    const dc_idx nvec = (cout_g + DC_VL - 1) / DC_VL;
    const dc_idx vmax = DC_FN(dc_cl_vmax)();
    const dc_idx nblk = (nvec + vmax - 1) / vmax;
    int V = (int)((nvec + nblk - 1) / nblk), P;
    DC_FN(dc_cl_fn) fn = DC_FN(dc_cl_pick)(V, &P);
    /* the tile of a run's last np < P pixels, and its pixels */
    DC_FN(dc_cl_fn) tail_fn[DC_CHLAST_MAX_P];
    int tail_P[DC_CHLAST_MAX_P];
    for (int np = 1; np < P; np++) tail_fn[np] = DC_FN(dc_cl_pick_tail)(V, np, &tail_P[np]);
    const dc_idx COB = (dc_idx)V * DC_VL;
    const dc_idx ncob = (cout_g + COB - 1) / COB;
    const dc_idx wstride = cin_g * COB;     /* packed weights between taps */

    dc_boxes g;
    if (dc_boxes_build(&g, tr, n, k, s, d, pb, no) != 0) return -1;
    /* A task: R rows (consecutive positions of one height phase) of one output depth
     * slice, for one (image, group, channel block).  Its tiles may span rows, so
     * narrow maps still fill them; its results are staged in a per-thread buffer
     * [row][width][channel], which the micro-kernel writes with whole vectors, and
     * go to the output transposed row by row (contiguous runs, with the bias). */
    const dc_idx ph1 = os1 < no1 ? os1 : no1;
    const dc_idx m1max = (no1 + os1 - 1) / os1;
    const dc_idx base = N * groups * ncob * no0 * ph1;
    dc_idx R = (dc_idx)(65536 / ((size_t)COB * no2 * sizeof(DC_T)));
    if (R > m1max) R = m1max;
    if (R < 1) R = 1;
    while (R > 1 && base * ((m1max + R - 1) / R) < 8 * (dc_idx)nt) R = (R + 1) / 2;
    dc_idx nrb = 0;
    for (dc_idx r = 0; r < ph1; r++) nrb += ((no1 - r + os1 - 1) / os1 + R - 1) / R;
    /* Too few row tasks for the threads (1-D and small maps, a folded call): the
     * width is cut into segments of at least DC_CHLAST_MIN_SEG outputs, each task one. */
    const dc_idx rtasks = base / ph1 * nrb;
    dc_idx nws = 1;
    if (nt > 1 && rtasks < 8 * (dc_idx)nt) {
        nws = (8 * (dc_idx)nt + rtasks - 1) / rtasks;
        if (nws > no2 / DC_CHLAST_MIN_SEG) nws = no2 / DC_CHLAST_MIN_SEG;
        if (nws < 1) nws = 1;
    }
    const dc_idx bw = (no2 + nws - 1) / nws;   /* segment (staged row) width */
    const size_t wbytes = (size_t)(groups * ncob * K * wstride) * sizeof(DC_T);
    /* Few input channels: the tiles read the input planes as they are (a pixel's
     * channels a plane apart), with no channels-last copy, which would be a pass over
     * the input in fresh memory for reductions a vector or two long; the same sums in
     * the same order. */
    const int planar = cin_g <= DC_TUNE_chlast_planar_max_cin;
    const dc_idx pu = planar ? 1 : cin_g, cs = planar ? pin : 1;
    const size_t xbytes = planar ? 0 : (size_t)(N * cin * pin) * sizeof(DC_T);
    char *mem = (char *)malloc(wbytes + xbytes + (size_t)nrb * 3 * sizeof(dc_idx) + 192);
    if (!mem) {
        dc_boxes_free(&g);
        return -1;
    }
    DC_T *wpk = (DC_T *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    DC_T *xcl = (DC_T *)(((uintptr_t)((char *)wpk + wbytes) + 63) & ~(uintptr_t)63);
    dc_idx *rblk = (dc_idx *)(((uintptr_t)((char *)xcl + xbytes) + 63) & ~(uintptr_t)63);
    for (dc_idx r = 0, i = 0; r < ph1; r++) {
        const dc_idx M = (no1 - r + os1 - 1) / os1;
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
        DC_FN(dc_cl_pack_w)(tr, fold, w, groups, ncob, K, cin_g, cout_g, COB, wstride, wpk);
        if (!planar) DC_FN(dc_cl_pack_planes)(x, N * groups, cin_g, pin, cin_g, xcl);
        DC_T *buf = (DC_T *)aligned_alloc(64, ((size_t)bsize * sizeof(DC_T) + 63)
                                                  & ~(size_t)63);
        if (!buf) {
#if defined(_OPENMP)
#pragma omp atomic write
#endif
            failed = 1;
        }
        dc_idx xoff[DC_CHLAST_MAX_P], boff[DC_CHLAST_MAX_P];
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
            const dc_idx i0 = g.ivl_of[0][od], md = od / os0;
            const dc_idx ow0 = ws * bw, ow1 = ow0 + bw < no2 ? ow0 + bw : no2;
            if (ow0 >= ow1) continue;      /* the rounding left the last ones empty */
            const dc_idx co0 = grp * cout_g + cb * COB;
            const dc_idx nco = cout_g - cb * COB < COB ? cout_g - cb * COB : COB;
            const DC_T *xb = (planar ? x : xcl) + (nn * groups + grp) * cin_g * pin;
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
                    const dc_idx r2 = I2->r;
                    const dc_idx mlo = ow0 > r2 ? (ow0 - r2 + os2 - 1) / os2 : 0;
                    const dc_idx mhi = ow1 > r2 ? (ow1 - r2 + os2 - 1) / os2 : 0;
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
                    const dc_idx xstep = is2 * pu, xjump = (n[2] * is1 - len2 * is2) * pu;
                    const dc_idx bstep = os2 * COB, bjump = (bw - len2 * os2) * COB;
                    dc_idx m2 = lo2;
                    dc_idx xo = ((md * is0 * n[1] + a * is1) * n[2] + lo2 * is2) * pu;
                    dc_idx bo = ((a - mh0) * bw + r2 + lo2 * os2 - ow0) * COB;
                    for (dc_idx q0 = 0; q0 < npx; q0 += P) {
                        /* the last pixels on a tail tile; its pixels past the box
                         * repeat the last one: the same value is stored twice */
                        const dc_idx np = npx - q0 < P ? npx - q0 : P;
                        const int Pq = np < P ? tail_P[np] : P;
                        for (int p = 0; p < Pq; p++) {
                            if (p < np) {
                                xoff[p] = xo;
                                boff[p] = bo;
                                xo += xstep;
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
                            (np < P ? tail_fn[np] : fn)(xb, xoff, g.terms + t0, nterm, cin_g,
                                                        pu, cs, wstride, wb, buf, boff);
                        } else {
                            for (int p = 0; p < Pq; p++)
                                for (dc_idx j = 0; j < COB; j++) buf[boff[p] + j] = 0;
                        }
                    }
                }
            }
            /* the staged rows [row][width][channel] -> out rows, with the bias */
            if (fold) {
                const dc_idx cr = cout / fold->s, cr_g = cout_g / fold->s;
                DC_FN(dc_cl_fold_store)(fold, buf, COB, ow0, ow1 - ow0, cb * COB, nco,
                                         out + (nn * cr + grp * cr_g) * fold->nout,
                                         bias ? bias + grp * cr_g : NULL);
                continue;
            }
            for (dc_idx mh = mh0; mh < mh1; mh++)
                DC_FN(dc_cl_transpose)(buf + (mh - mh0) * bw * COB, COB, ow1 - ow0, nco,
                                        out + (((nn * cout + co0) * no0 + od) * no1
                                               + rh + mh * os1) * no2 + ow0,
                                        no0 * no1 * no2, bias ? bias + co0 : NULL);
        }
        free(buf);
    }
    free(mem);
    dc_boxes_free(&g);
    return failed ? -1 : 0;
}

DC_API int DC_KERNEL_FN(tconv, chlast)(const dc_problem *pr, const void *x, const void *w,
                                       const void *bias, void *out) {
    return DC_FN(dc_chlast_run)(NULL, pr, (const DC_T *)x, (const DC_T *)w,
                                (const DC_T *)bias, (DC_T *)out);
}

/* The forward convolution on the same tiles: boxes of output pixels that read the same
 * taps (problem/dc_boxes.h), the input channels-last, the weights packed alike. */
DC_API int DC_KERNEL_FN(conv, chlast)(const dc_problem *pr, const void *x, const void *w,
                                      const void *bias, void *out) {
    return DC_FN(dc_chlast_run)(NULL, pr, (const DC_T *)x, (const DC_T *)w,
                                (const DC_T *)bias, (DC_T *)out);
}

#undef DC_CHLAST_MIN_SEG
