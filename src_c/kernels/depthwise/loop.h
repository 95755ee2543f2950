/*
 * Depthwise transposed convolution (C_in/groups == 1), AVX2+FMA or AVX-512.
 *
 * With one input channel per group there is no channel reduction to keep registers
 * busy: an output element of a stride-2, 4x4 kernel is 4 multiply-adds, so per-row
 * and per-call set-up, the phase interleave and the output write decide the time.
 * The width is phase (sub-pixel) decomposed as in the blocked kernel (phase q, outputs
 * o = q + m*s, is a dense stride-1 correlation over the ORIGINAL input row; depth and
 * height taps come from the tap lists, which hold only taps that hit a real input
 * pixel; nothing grows with the zero-inserted or padded image), with its
 * phase tables, chunk table and lane masks.  What differs:
 *
 * - a task is one (n, c_out) output plane (or a block of its rows when the planes are
 *   too few for the threads); its rows go phase-major, so consecutive rows of a height
 *   phase have the same taps on input rows moved by one: a "run".  The terms of a run
 *   (width tap, input channel, depth pair, height pair: weight value and input offset)
 *   are built once per plane and pattern, not per row;
 * - the micro-kernel blocks rows instead of channels: RB rows x U vectors of one
 *   phase in registers, one broadcast weight per term for all of them (RB*U <= 8);
 *   border chunks use masked loads (finite weights) or masked loads and blends;
 * - a plane whose rows fit the per-thread buffers (64 KiB) is finished at the end of
 *   its task in output order, the phases interleaved in registers with the bias
 *   (kernels/width/store.h), one contiguous stream of full-vector stores.  Each output element
 *   is written once.
 *
 * Every output element is computed by one thread (tasks are whole rows), by a
 * sequence of operations fixed by the shape alone, so results are bit-identical for
 * any thread count.  The kernel is correct for any cin_g and cout_g; the planner
 * sends it C_in/groups == 1 with one output channel per group (from two, the blocked
 * kernel's input loads shared by its channel blocks win).
 *
 * Compiled for AVX2+FMA and for AVX-512F like the blocked kernel, with the same
 * run-time choice.
 *
 * The driver, for one dtype and ISA; no include guard on purpose.
 */

DC_API DC_TARGET int DC_KERNEL_FN(tconv, depthwise)(const dc_problem *pr, const void *xv,
                                                   const void *wv, const void *bv,
                                                   void *ov) {
    DC_PROBLEM_LOCALS(pr);
    DC_OPERANDS(xv, wv, bv, ov);
    const dc_idx K = k[0] * k[1] * k[2], pin = n[0] * n[1] * n[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2], rows = no0 * no1;
    const dc_idx sw = s[2], xrs = n[2], xds = n[1] * n[2];
    if (N <= 0 || cout <= 0 || rows <= 0 || no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    char *mem = (char *)malloc((size_t)(2 * no0 + 3 * no1) * sizeof(dc_idx)
                               + (size_t)sw * sizeof(dc_wphase)
                               + (size_t)k[2] * sizeof(dc_wtap)
                               + (size_t)(cout * cin_g * K) * sizeof(DC_T) + 64);
    if (!mem) return -1;
    /* output rows (and depth slices) in phase-major order: consecutive rows of a
     * height phase mostly have the same taps, on input rows moved by one, so one
     * micro-kernel call runs them all with one list of terms */
    dc_idx *dorder = (dc_idx *)mem, *horder = dorder + no0;
    dc_idx *dpos = horder + no1, *hpos = dpos + no0;     /* the inverse orders */
    dc_idx *hrun = hpos + no1;     /* rows from horder[i] on with its taps, moved by one */
    for (dc_idx i = 0; i < no0; i++) dpos[dorder[i] = dc_phase_major(i, no0, s[0])] = i;
    for (dc_idx i = 0; i < no1; i++) hpos[horder[i] = dc_phase_major(i, no1, s[1])] = i;
    for (dc_idx i = no1 - 1; i >= 0; i--) {
        const dc_idx oh = horder[i], nh = p->hptr[oh + 1] - p->hptr[oh];
        hrun[i] = i + 1 < no1 && horder[i + 1] == oh + s[1]
                  && p->hptr[oh + s[1] + 1] - p->hptr[oh + s[1]] == nh
                  && dc_pairs_shifted(p->hpairs + 2 * p->hptr[oh],
                                      p->hpairs + 2 * p->hptr[oh + s[1]], nh, 1)
                  ? hrun[i + 1] + 1 : 1;
    }
    dc_wphase *ph = (dc_wphase *)(hrun + no1);
    dc_wtap *taps = (dc_wtap *)(ph + sw);
    DC_T *wpk = (DC_T *)(((uintptr_t)(taps + k[2]) + 63) & ~(uintptr_t)63);
    dc_wphases(n[2], k[2], sw, d[2], pb[2], no2, ph, taps);
    dc_idx maxlen = 0, ntap_max = 0, maxnd, maxnh;
    for (dc_idx q = 0; q < sw; q++) {
        if (ph[q].len > maxlen) maxlen = ph[q].len;
        if (ph[q].ntap > ntap_max) ntap_max = ph[q].ntap;
    }
    dc_taps_max_pairs(p, no0, no1, &maxnd, &maxnh);
    /* chunk width as for a one-channel block; the rows blocked with it follow from U */
    const int U = DC_FN(dc_wpick_u)(1, maxlen);
    const dc_idx W = (dc_idx)U * DC_VL;
    const int finite = DC_FN(dc_blocked_pack)(w, groups, cin_g, cout_g, K, 1, wpk);
    dc_wchunk *chunks;
    DC_MASK_T *masks;
    signed char *kinds;
    if (DC_FN(dc_wchunks)(ph, sw, taps, ntap_max, 1, U, &chunks, &masks,
                                    &kinds) != 0) {
        free(mem);
        return -1;
    }

    /* per thread: up to R phase-major row buffers (64 KiB, in L2), and per phase the
     * terms of a run's reduction (width tap, input channel, depth pair, height pair) */
    const dc_idx acc_stride = no2 + W + DC_VL;
    dc_idx R = (dc_idx)(65536 / ((size_t)acc_stride * sizeof(DC_T)));
    R = R < 1 ? 1 : (R > 256 ? 256 : R);
    const dc_idx maxterms = cin_g * maxnd * maxnh * ntap_max + 1;
    const size_t abytes = ((size_t)R * acc_stride * sizeof(DC_T) + 63) & ~(size_t)63;
    const size_t per = (abytes + (size_t)sw * maxterms * sizeof(DC_FN(dc_dterm)) + 63)
                       & ~(size_t)63;
    char *tbuf = (char *)malloc((size_t)nt * per + 64);
    if (!tbuf) {
        free(chunks); free(masks); free(kinds); free(mem);
        return -1;
    }
    /* a task: rows rt of one (n, c_out) output plane; planes are enough tasks for most
     * batches, a single big plane is cut into row blocks */
    const dc_idx planes = N * cout;
    dc_idx nrb = ((dc_idx)nt * 16 + planes - 1) / planes;
    if (nrb > rows) nrb = rows;
    const dc_idx rt = (rows + nrb - 1) / nrb;
    nrb = (rows + rt - 1) / rt;
    const dc_idx tasks = planes * nrb;
    /* dynamic chunks: a thread descheduled on a shared machine does not hold up the
     * call (which thread runs a task changes no result) */
    dc_idx tchunk = tasks / ((dc_idx)nt * 16);
    if (tchunk < 1) tchunk = 1;
    /* A task that is a whole plane whose rows all fit the buffers keeps them and writes
     * the plane at its end in output order, one contiguous stream. */
    const int whole = rt == rows && rows <= R;

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        char *tm = dc_thread_slice(tbuf, per);
        DC_T *acc = (DC_T *)tm;
        DC_FN(dc_dterm) *terms = (DC_FN(dc_dterm) *)(tm + abytes);
        DC_FN(dc_dwctx) cx;
        cx.xrs = xrs;
        cx.accrow = acc_stride;
        cx.chunks = chunks; cx.masks = masks; cx.kinds = kinds;
        cx.finite = finite;
        /* the terms depend on the weights, the taps and the input indices relative to
         * the run's first row: kept while the plane and that pattern repeat */
        const dc_idx *kdp = NULL, *khp = NULL;
        dc_idx knd = -1, knh = -1, kplane = -1, np = 0;
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, tchunk)
#endif
        for (dc_idx r = 0; r < tasks; r++) {
            const dc_idx plane = r / nrb, rb = r % nrb;
            const dc_idx nn = plane / cout, co = plane % cout, grp = co / cout_g;
            const DC_T bval = bias ? bias[co] : (DC_T)0;
            const DC_T *xg = x + (nn * cin + grp * cin_g) * pin;
            const DC_T *wc = wpk + co * cin_g * K;
            const dc_idx i0 = rb * rt, iend = i0 + rt < rows ? i0 + rt : rows;
            dc_idx i = i0, di = i / no1, hi = i % no1;
            DC_T *oplane = out + plane * rows * no2;
            while (i < iend) {
                const dc_idx od = dorder[di], oh = horder[hi];
                const dc_idx *dp = p->dpairs + 2 * p->dptr[od];
                const dc_idx nd = p->dptr[od + 1] - p->dptr[od];
                const dc_idx *hp = p->hpairs + 2 * p->hptr[oh];
                const dc_idx nh = p->hptr[oh + 1] - p->hptr[oh];
                dc_idx nr = hrun[hi] < R ? hrun[hi] : R;
                if (nr > iend - i) nr = iend - i;
                if (!(plane == kplane && nd == knd && nh == knh && dc_pairs_same(dp, kdp, nd)
                      && dc_pairs_same(hp, khp, nh))) {
                    np = cin_g * nd * nh;
                    for (dc_idx q = 0; q < sw; q++) {
                        const dc_wtap *tp = taps + ph[q].tap0;
                        DC_FN(dc_dterm) *tq = terms + q * maxterms;
                        for (dc_idx e = 0; e < ph[q].ntap; e++)
                            for (dc_idx ci = 0; ci < cin_g; ci++)
                                for (dc_idx ia = 0; ia < nd; ia++)
                                    for (dc_idx ib = 0; ib < nh; ib++) {
                                        tq->x = ci * pin + (dp[2 * ia + 1] - dp[1]) * xds
                                                + (hp[2 * ib + 1] - hp[1]) * xrs + tp[e].c;
                                        tq->w = wc[ci * K + (dp[2 * ia] * k[1] + hp[2 * ib])
                                                   * k[2] + tp[e].t];
                                        tq++;
                                    }
                    }
                    kdp = dp; khp = hp;
                    knd = nd; knh = nh;
                    kplane = plane;
                }
                cx.xb = xg + (nd ? dp[1] : 0) * xds + (nh ? hp[1] : 0) * xrs;
                cx.np = np;
                DC_T *racc = acc + (whole ? i - i0 : 0) * acc_stride;
                for (dc_idx q = 0; q < sw; q++) {
                    cx.acc = racc + ph[q].base;
                    cx.terms = terms + q * maxterms;
                    cx.ntap = ph[q].ntap;
                    DC_FN(dc_dw_rows)(&cx, ph[q].chunk0, ph[q].chunk0 + ph[q].nchunk, U, nr);
                    if (ph[q].ut) {
                        dc_idx tc = ph[q].chunk0 + ph[q].nchunk;
                        DC_FN(dc_dw_rows)(&cx, tc, tc + 1, ph[q].ut, nr);
                    }
                }
                for (dc_idx rr = 0; rr < nr && !whole; rr++)
                    DC_FN(dc_wstore)(p, racc + rr * acc_stride,
                                                oplane + (od * no1 + oh + rr * s[1]) * no2,
                                                bval);
                i += nr;
                hi += nr;
                if (hi == no1) {
                    hi = 0;
                    di++;
                }
            }
            if (whole)
                for (dc_idx od = 0, o = 0; od < no0; od++)
                    for (dc_idx oh = 0; oh < no1; oh++, o++)
                        DC_FN(dc_wstore)(p, acc + (dpos[od] * no1 + hpos[oh])
                                                        * acc_stride, oplane + o * no2, bval);
        }
    }
    free(tbuf);
    free(chunks); free(masks); free(kinds);
    free(mem);
    return 0;
}
