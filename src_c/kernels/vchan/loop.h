/*
 * Input-stationary transposed convolution for few output channels and a deep channel
 * reduction ("virtual channels"), AVX2+FMA or AVX-512.
 *
 * With 3 output channels (a GAN's RGB output layer) the output-stationary blocked
 * kernel loads a shifted, mostly cache-line-splitting input vector
 * for every 3 multiply-adds, and every chunk of a 32-pixel row is a border chunk
 * with masked loads.  Here the vector lanes are INPUT pixels of a row instead, at
 * their own aligned positions, and the registers hold, for each of them, its
 * contribution to every (output channel, width tap) pair: the "virtual channels",
 * C_out/groups x width taps of them.  For one output row (n, group, depth, height)
 * the reduction runs over the (depth, height) tap pairs that reach the row (the
 * tap lists: only real input rows) and the input channels; each step loads U
 * input vectors and broadcasts VB weights for VB x U multiply-adds, with no shift
 * and no mask inside the loop.  Then each virtual channel (c, width tap t) is added
 * into channel c's phase-major row buffer at its tap's offset: lane j goes to
 * position m = j - c_t of the tap's width phase (problem/dc_phases.h), under a lane
 * mask [lo, hi) of the positions the tap really reaches; the buffer is interleaved
 * into the output row with the bias (kernels/width/store.h), each element written once.
 *
 * No inserted zero and no padding is multiplied: a lane outside the input row (the
 * last block of a row) loads 0, and its products are masked out before they reach
 * the buffer (so an inf weight never meets them).  The packed weights ([group]
 * [depth x height tap][input channel][virtual channel]) are the weights' size; per
 * thread there is one row buffer per output channel of a group.
 *
 * An output element sums, tap by tap in width-tap order, the products of the pairs
 * in tap-list order and the input channels in order: the sequence is fixed by the shape,
 * whatever the thread count, the vector width or the blocking, so results are
 * bit-identical for any num_threads and on either ISA.
 *
 * The driver, for one dtype and ISA; no include guard on purpose.
 */

DC_API DC_TARGET int DC_KERNEL_FN(tconv, vchan)(const dc_problem *pr, const void *xv,
                                               const void *wv, const void *bv, void *ov) {
    DC_PROBLEM_LOCALS(pr);
    DC_OPERANDS(xv, wv, bv, ov);
    const dc_idx K = k[0] * k[1] * k[2], KDH = k[0] * k[1], pin = n[0] * n[1] * n[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2], n2 = n[2], sw = s[2];
    const dc_idx xrs = n[2], xds = n[1] * n[2];
    if (N <= 0 || cout <= 0 || no0 <= 0 || no1 <= 0 || no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    dc_idx maxnd, maxnh;
    dc_taps_max_pairs(p, no0, no1, &maxnd, &maxnh);

    const dc_idx nvec = (n2 + DC_VL - 1) / DC_VL;
    char *mem0 = (char *)malloc((size_t)sw * sizeof(dc_wphase) + (size_t)k[2] * sizeof(dc_wtap));
    if (!mem0) return -1;
    dc_wphase *ph = (dc_wphase *)mem0;
    dc_wtap *taps = (dc_wtap *)(ph + sw);
    dc_wphases(n2, k[2], sw, d[2], pb[2], no2, ph, taps);
    dc_idx NT = 0;
    for (dc_idx q = 0; q < sw; q++) NT += ph[q].ntap;
    const dc_idx V = cout_g * NT;
    /* block shape: U input vectors by VB virtual channels (the small block only when
     * it holds them all: every pass re-reads the input rows).  Per reduction step a
     * block costs about max(U*VB multiply-adds, U + VB loads) (two of each per cycle);
     * the U with the least of that over a row's blocks and passes, the widest on ties */
    int U = 1, VB = 1;
    dc_idx best = -1;
    const int umax = DC_FN(dc_vc_umax)();
    for (int u = 1; u <= umax; u *= 2) {
        const int vb = V <= DC_FN(dc_vc_vb)(u, 0) ? DC_FN(dc_vc_vb)(u, 0) : DC_FN(dc_vc_vb)(u, 1);
        const dc_idx step = u * vb > u + vb ? u * vb : u + vb;
        const dc_idx cost = (nvec + u - 1) / u * ((V + vb - 1) / vb) * step;
        if (best < 0 || cost <= best) {
            best = cost;
            U = u;
            VB = vb;
        }
    }
    const dc_idx Vp = V > 0 ? (V + VB - 1) / VB * VB : VB;
    const dc_idx acc_stride = no2 + 2 * DC_VL;

    char *mem = (char *)malloc((size_t)(V > 0 ? V : 1) * sizeof(dc_vcdst)
                               + (size_t)(groups * KDH * cin_g * Vp) * sizeof(DC_T) + 64);
    if (!mem) {
        free(mem0);
        return -1;
    }
    dc_vcdst *dst = (dc_vcdst *)mem;
    DC_T *wpk = (DC_T *)(((uintptr_t)(dst + (V > 0 ? V : 1)) + 63) & ~(uintptr_t)63);
    DC_FN(dc_vc_pack)(ph, sw, taps, NT, cout_g, acc_stride, groups, KDH, cin_g, K, k[2],
                      Vp, V, w, dst, wpk);

    const dc_idx maxp = maxnd * maxnh > 0 ? maxnd * maxnh : 1;
    const size_t bbytes = ((size_t)cout_g * acc_stride * sizeof(DC_T) + 63) & ~(size_t)63;
    const size_t per = bbytes + ((2 * (size_t)maxp * sizeof(void *) + 63) & ~(size_t)63);
    char *tbuf = (char *)calloc((size_t)nt * per + 64, 1);
    if (!tbuf) {
        free(mem); free(mem0);
        return -1;
    }
    const dc_idx tasks = N * groups * no0 * no1;
    dc_idx tchunk = tasks / ((dc_idx)nt * 16);
    if (tchunk < 1) tchunk = 1;
    const dc_idx nblk = (nvec + U - 1) / U;
    /* the last block runs past the row: masked loads there */
    const int last_masked = nblk * U * DC_VL > n2;
    DC_FN(dc_vc_fn) full_fn = DC_FN(dc_vc_pick)(VB, U, 0);
    DC_FN(dc_vc_fn) last_fn = DC_FN(dc_vc_pick)(VB, U, last_masked);

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        char *tm = dc_thread_slice(tbuf, per);
        DC_T *buf = (DC_T *)tm;
        const DC_T **xr = (const DC_T **)(tm + bbytes);
        const DC_T **wr = xr + maxp;
        DC_FN(dc_vcctx) cx;
        cx.xr = xr; cx.wr = wr;
        cx.cin_g = cin_g; cx.pin = pin; cx.Vp = Vp; cx.n2 = n2;
        cx.dst = dst; cx.V = V; cx.buf = buf;
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, tchunk)
#endif
        for (dc_idx r = 0; r < tasks; r++) {
            const dc_idx oh = r % no1, od = (r / no1) % no0;
            const dc_idx ng = r / (no0 * no1), grp = ng % groups, nn = ng / groups;
            const dc_idx *dp = p->dpairs + 2 * p->dptr[od];
            const dc_idx nd = p->dptr[od + 1] - p->dptr[od];
            const dc_idx *hp = p->hpairs + 2 * p->hptr[oh];
            const dc_idx nh = p->hptr[oh + 1] - p->hptr[oh];
            const DC_T *xg = x + (nn * cin + grp * cin_g) * pin;
            dc_idx np = 0;
            for (dc_idx ia = 0; ia < nd; ia++)
                for (dc_idx ib = 0; ib < nh; ib++, np++) {
                    xr[np] = xg + dp[2 * ia + 1] * xds + hp[2 * ib + 1] * xrs;
                    wr[np] = wpk + ((grp * KDH + dp[2 * ia] * k[1] + hp[2 * ib]) * cin_g) * Vp;
                }
            cx.np = np;
            for (dc_idx c = 0; c < cout_g; c++)
                memset(buf + c * acc_stride + DC_VL, 0, (size_t)no2 * sizeof(DC_T));
            /* blocks right to left: a later width tap of a phase reads a pixel further
             * left (c_t falls as t grows), so each output element receives its taps
             * in tap order whatever the block width */
            if (np > 0)
                for (dc_idx v0 = 0; v0 < V; v0 += VB)
                    for (dc_idx b = nblk - 1; b >= 0; b--)
                        (b + 1 < nblk ? full_fn : last_fn)(&cx, b * U * DC_VL, v0);
            DC_T *orow = out + (((nn * groups + grp) * cout_g * no0 + od) * no1 + oh) * no2;
            for (dc_idx c = 0; c < cout_g; c++)
                DC_FN(dc_wstore)(p, buf + c * acc_stride + DC_VL,
                                            orow + c * no0 * no1 * no2,
                                            bias ? bias[grp * cout_g + c] : (DC_T)0);
        }
    }
    free(tbuf);
    free(mem);
    free(mem0);
    return 0;
}
