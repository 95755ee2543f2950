/*
 * Register-blocked, width-vectorised transposed convolution (AVX2+FMA or AVX-512), the
 * driver: for one dtype and ISA, instantiated by isa/dc_isa_kernels.h.
 *
 * Phase (sub-pixel) decomposition along the width (problem/dc_phases.h): each phase is
 * a dense stride-1 correlation over the ORIGINAL input.  Depth and height taps come
 * from the tap lists (problem/dc_taps.h), which hold only taps that hit a real input
 * pixel.
 *
 * A task is one output row (n, group, depth, height) for a block of C output
 * channels.  For each phase, the phase's outputs are cut into chunks of U vectors
 * (kernels/width/chunks.h); a chunk keeps C x U accumulator registers while the
 * reduction over input channels, depth/height pairs and the phase's width taps streams
 * through (kernels/blocked/tile.h): one vector load of x per (tap, u), one broadcast
 * weight per (tap, channel).  Chunks at the borders, where a width tap reaches outside
 * the input for some lanes, use masked loads and keep the accumulator unchanged
 * (blend) in those lanes: a lane only ever adds products of real input pixels, in the
 * same order as in an interior chunk, so the value of an output element does not
 * depend on which chunk or lane computed it.  The last chunk of a phase is shifted
 * back to end at the phase's end (it overlaps the previous one and recomputes
 * identical values).
 *
 * Results go phase-major to a small per-thread row buffer and are interleaved with the
 * bias into the output row, written once (kernels/width/store.h).  No scratch grows
 * with the output or the zero-inserted input: per call a packed copy of the weights
 * (kernels/blocked/pack.h, the weights' size) and per thread a row buffer of
 * C x (output width + one chunk).
 *
 * Every output element is computed by one thread, by a sequence of operations fixed by
 * the shape alone, so results are bit-identical for any thread count, and for either
 * ISA: a lane's sum runs over the same terms in the same order whatever the vector
 * width.  No include guard on purpose.
 */

DC_API DC_TARGET int DC_KERNEL_FN(tconv, blocked)(const dc_problem *pr, const void *xv,
                                                 const void *wv, const void *bv, void *ov) {
    DC_PROBLEM_LOCALS(pr);
    DC_OPERANDS(xv, wv, bv, ov);
    const dc_idx K = k[0] * k[1] * k[2], pin = n[0] * n[1] * n[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2];
    const dc_idx sw = s[2];
    int C, U, failed = 0;
    if (N <= 0 || cout <= 0 || no0 <= 0 || no1 <= 0 || no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    dc_wchunk *chunks = NULL;
    DC_MASK_T *masks = NULL;
    signed char *kinds = NULL;
    dc_idx maxlen = 0, ntap_max = 0;
    char *mem = (char *)malloc((size_t)sw * sizeof(dc_wphase) + (size_t)k[2] * sizeof(dc_wtap)
                               + (size_t)(cout * cin_g * K) * sizeof(DC_T) + 64);
    if (!mem) return -1;
    dc_wphase *ph = (dc_wphase *)mem;
    dc_wtap *taps = (dc_wtap *)(ph + sw);
    DC_T *wpk = (DC_T *)(((uintptr_t)(taps + k[2]) + 63) & ~(uintptr_t)63);
    dc_wphases(n[2], k[2], sw, d[2], pb[2], no2, ph, taps);
    for (dc_idx q = 0; q < sw; q++) {
        if (ph[q].len > maxlen) maxlen = ph[q].len;
        if (ph[q].ntap > ntap_max) ntap_max = ph[q].ntap;
    }

    /* block shape: C output channels x U vectors of the width */
    C = cout_g >= 4 ? 4 : (int)cout_g;
    U = DC_FN(dc_wpick_u)(C, maxlen);
    const dc_idx W = (dc_idx)U * DC_VL;
    const dc_idx nblk = (cout_g + C - 1) / C;

    const int finite = DC_FN(dc_blocked_pack)(w, groups, cin_g, cout_g, K, C, wpk);

    if (DC_FN(dc_wchunks)(ph, sw, taps, ntap_max, C, U, &chunks, &masks, &kinds) != 0) {
        free(mem);
        return -1;
    }

    dc_idx maxnd, maxnh;
    dc_taps_max_pairs(p, no0, no1, &maxnd, &maxnh);
    const dc_idx maxoffs = cin_g * maxnd * maxnh * ntap_max + 1;
    const dc_idx keylen = 3 + 2 * maxnd + 2 * maxnh;
    /* one cached list per phase when that is small, else one slot */
    const int cache_phases = (size_t)sw * maxoffs * sizeof(dc_boff) <= ((size_t)1 << 20);
    const dc_idx nslots = cache_phases ? sw : 1;
    const dc_idx acc_stride = no2 + W + DC_VL;
    /* a task: up to R output rows (phase-major order) of one (n, group, depth, block);
     * R bounded by a 32 KiB row buffer and by enough tasks for the threads */
    const dc_idx base_tasks = N * groups * no0 * nblk;
    dc_idx R = (dc_idx)(32768 / ((size_t)C * acc_stride * sizeof(DC_T)));
    if (R > 16) R = 16;
    if (base_tasks < (dc_idx)nt * 8) {
        dc_idx rp = no1 * base_tasks / ((dc_idx)nt * 8);
        if (R > rp) R = rp;
    }
    if (R > no1) R = no1;
    if (R < 1) R = 1;
    const dc_idx nrb = (no1 + R - 1) / R;
    const dc_idx tasks = base_tasks * nrb;
    /* With many input channels per group, a copy of the input with the channels of
     * a group interleaved row by row, (n, group, depth, height, channel, width): the
     * reduction then walks memory nearly sequentially instead of jumping a whole
     * plane per channel (plane sizes that are multiples of 4 KiB all map to the same
     * L1 sets).  O(input) per call; measured to pay off from ~96 float32 or ~32
     * float64 channels (unet-like 128 channels: 1.8x). */
    DC_T *xt = NULL;
    if (n[0] * n[1] > 1 && (cin_g >= 96 || (sizeof(DC_T) == 8 && cin_g >= 32))) {
        xt = (DC_T *)malloc((size_t)(N * cin * pin) * sizeof(DC_T) + 1);
        if (!xt) { free(chunks); free(masks); free(kinds); free(mem); return -1; }
    }
    const DC_T *xsrc = xt ? xt : x;
    const dc_idx xcs = xt ? n[2] : pin;
    const dc_idx xrs = xt ? cin_g * n[2] : n[2];
    const dc_idx xds = xt ? n[1] * cin_g * n[2] : n[1] * n[2];
    /* dynamic chunks of tasks: a thread that is descheduled on a shared machine does
     * not hold up the call (task -> thread mapping does not change any result) */
    dc_idx tchunk = tasks / ((dc_idx)nt * 16);
    if (tchunk < 1) tchunk = 1;
    DC_FN(dc_bk_fn) fmain = DC_FN(dc_bk_pick)(C, U);
    DC_FN(dc_bk_fn) frem = DC_FN(dc_bk_pick)((int)(cout_g % C ? cout_g % C : C), U);

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        size_t abytes = (size_t)R * C * acc_stride * sizeof(DC_T);
        size_t cbytes = (size_t)nslots * maxoffs * sizeof(dc_boff);
        size_t kbytes = (size_t)(nslots + 2) * keylen * sizeof(dc_idx);
        size_t nbytes = (size_t)nslots * (sizeof(dc_idx) + 1);
        char *tm = (char *)malloc(abytes + 192 + cbytes + kbytes + nbytes);
        dc_boff *cache = NULL;
        dc_idx *ckeys = NULL, *keybuf = NULL, *key2 = NULL, *cn = NULL, cq = -1;
        char *cvalid = NULL;
        if (tm) {
            cache = (dc_boff *)(((uintptr_t)tm + 63) & ~(uintptr_t)63);
            ckeys = (dc_idx *)((char *)cache + cbytes);
            keybuf = ckeys + nslots * keylen;
            key2 = keybuf + keylen;
            cn = key2 + keylen;
            cvalid = (char *)(cn + nslots);
            memset(cvalid, 0, (size_t)nslots);
        }
        if (!tm) {
#if defined(_OPENMP)
#pragma omp atomic write
#endif
            failed = 1;
        }
        DC_FN(dc_bctx) cx;
        cx.acc = tm ? (DC_T *)(cvalid + nslots + 64 - ((uintptr_t)(cvalid + nslots) & 63))
                    : NULL;
        cx.chunks = chunks; cx.masks = masks; cx.kinds = kinds;
        cx.finite = finite;
        cx.acc_stride = acc_stride;
        cx.accrow = (dc_idx)C * acc_stride;
        cx.pin = pin; cx.cin_g = cin_g; cx.nh = n[1]; cx.nw = n[2];
        cx.xcs = xcs; cx.xrs = xrs; cx.xds = xds;
        if (xt) {
            /* rows of the input in (n, group, depth, height, channel) order */
            const dc_idx nrow = n[0] * n[1], rows_all = N * cin * nrow;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (dc_idx r2 = 0; r2 < rows_all; r2++) {
                dc_idx row = r2 % nrow, c = (r2 / nrow) % cin, nn = r2 / (nrow * cin);
                dc_idx grp = c / cin_g, ci = c % cin_g;
                memcpy(xt + (nn * cin + grp * cin_g) * pin + (row * cin_g + ci) * n[2],
                       x + r2 * n[2], (size_t)n[2] * sizeof(DC_T));
            }
        }
        cx.kh = k[1]; cx.kw = k[2]; cx.K = K;
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, tchunk)
#endif
        for (dc_idx r = 0; r < tasks; r++) {
            if (!tm) continue;
            dc_idx t = r;
            dc_idx blk = t % nblk; t /= nblk;
            dc_idx rb = t % nrb; t /= nrb;
            /* rows (and depth slices) in phase-major order: consecutive rows of a
             * phase share the pattern of height taps (the input row moves by one) */
            dc_idx od = dc_phase_major(t % no0, no0, s[0]); t /= no0;
            dc_idx grp = t % groups;
            dc_idx nn = t / groups;
            dc_idx c0 = blk * C;
            dc_idx cb = cout_g - c0 < C ? cout_g - c0 : C;
            DC_FN(dc_bk_fn) f = cb == C ? fmain : frem;
            cx.x = xsrc + (nn * cin + grp * cin_g) * pin;
            cx.w = wpk + (grp * cout_g + c0) * cin_g * K;
            cx.dp = p->dpairs + 2 * p->dptr[od];
            cx.nd = p->dptr[od + 1] - p->dptr[od];
            dc_idx id0 = cx.nd ? cx.dp[1] : 0;
            dc_idx i = rb * R, iend = i + R < no1 ? i + R : no1;
            while (i < iend) {
                /* a run of rows with one tap pattern */
                dc_idx oh = dc_phase_major(i, no1, s[1]);
                cx.hp = p->hpairs + 2 * p->hptr[oh];
                cx.nhp = p->hptr[oh + 1] - p->hptr[oh];
                dc_idx ih0 = cx.nhp ? cx.hp[1] : 0;
                dc_idx *key = keybuf;
                key[0] = cx.nd; key[1] = cx.nhp;
                for (dc_idx ia = 0; ia < cx.nd; ia++) {
                    key[2 + 2 * ia] = cx.dp[2 * ia];
                    key[3 + 2 * ia] = cx.dp[2 * ia + 1] - id0;
                }
                for (dc_idx ib = 0; ib < cx.nhp; ib++) {
                    key[2 + 2 * cx.nd + 2 * ib] = cx.hp[2 * ib];
                    key[3 + 2 * cx.nd + 2 * ib] = cx.hp[2 * ib + 1] - ih0;
                }
                key[2 + 2 * cx.nd + 2 * cx.nhp] = cb;   /* packed weight block width */
                dc_idx klen = 3 + 2 * cx.nd + 2 * cx.nhp;
                dc_idx j = i + 1;
                while (j < iend) {
                    dc_idx oj = dc_phase_major(j, no1, s[1]);
                    if (oj != oh + (j - i) * s[1]) break;
                    dc_idx nj = p->hptr[oj + 1] - p->hptr[oj];
                    if (nj != cx.nhp) break;
                    const dc_idx *hj = p->hpairs + 2 * p->hptr[oj];
                    int same = 1;
                    for (dc_idx ib = 0; ib < nj && same; ib++)
                        same = hj[2 * ib] == cx.hp[2 * ib]
                               && hj[2 * ib + 1] - cx.hp[2 * ib + 1] == j - i;
                    if (!same) break;
                    j++;
                }
                cx.nrows = j - i;
                cx.xb = cx.x + id0 * xds + ih0 * xrs;
                for (dc_idx q = 0; q < sw; q++) {
                    const dc_wtap *tp = taps + ph[q].tap0;
                    dc_idx slot = cache_phases ? q : 0;
                    dc_idx *ck = ckeys + slot * keylen;
                    dc_boff *lst = cache + slot * maxoffs;
                    if (!(cvalid[slot] && (cache_phases || cq == q) && ck[0] == key[0]
                          && ck[1] == key[1]
                          && !memcmp(ck, key, (size_t)klen * sizeof(dc_idx)))) {
                        /* the term order of dc_bk_body */
                        dc_idx ne = ph[q].ntap, L = 0;
                        for (dc_idx c0 = 0; c0 < cin_g; c0 += DC_BK_CB)
                        for (dc_idx e = 0; e < ne; e++)
                        for (dc_idx ci = c0; ci < cin_g && ci < c0 + DC_BK_CB; ci++)
                            for (dc_idx ia = 0; ia < cx.nd; ia++) {
                                dc_idx td = key[2 + 2 * ia], rd = key[3 + 2 * ia];
                                for (dc_idx ib = 0; ib < cx.nhp; ib++) {
                                    dc_idx th = key[2 + 2 * cx.nd + 2 * ib];
                                    dc_idx rh = key[3 + 2 * cx.nd + 2 * ib];
                                    lst[L].x = ci * xcs + rd * xds + rh * xrs + tp[e].c;
                                    lst[L].w = (ci * K + (td * k[1] + th) * k[2]
                                                + tp[e].t) * cb;
                                    lst[L].e = e;
                                    L++;
                                }
                            }
                        cn[slot] = L;
                        memcpy(ck, key, (size_t)klen * sizeof(dc_idx));
                        cvalid[slot] = 1;
                        cq = q;
                    }
                    cx.offs = lst;
                    cx.noffs = cn[slot];
                    f(&cx, &ph[q], tp, ph[q].chunk0, ph[q].chunk0 + ph[q].nchunk);
                    if (ph[q].ut) {
                        dc_idx tc = ph[q].chunk0 + ph[q].nchunk;
                        DC_FN(dc_bk_pick)((int)cb, ph[q].ut)(&cx, &ph[q], tp, tc, tc + 1);
                    }
                }
                for (dc_idx rr = 0; rr < cx.nrows; rr++) {
                    dc_idx orr = oh + rr * s[1];
                    for (dc_idx jj = 0; jj < cb; jj++) {
                        dc_idx co = grp * cout_g + c0 + jj;
                        DC_T *orow = out + (((nn * cout + co) * no0 + od) * no1 + orr) * no2;
                        DC_FN(dc_wstore)(p, cx.acc + rr * cx.accrow + jj * acc_stride,
                                           orow, bias ? bias[co] : (DC_T)0);
                    }
                }
                i = j;
            }
        }
        free(tm);
    }
    free(chunks); free(masks); free(kinds); free(xt);
    free(mem);
    return failed ? -1 : 0;
}

#undef DC_BK_RB
#undef DC_BK_CB
