/*
 * Depthwise forward convolution (one input channel per group), AVX2+FMA or AVX-512:
 * the parallel loop and the registry's entry point, for one dtype and ISA.  No include
 * guard on purpose.
 *
 * With one input channel per group there is no channel reduction to vectorise, so the
 * vectors run along the output width: out[o] = sum of w[t] * x[o*s - pb + t*d] over
 * the taps, where lane o of a vector reads the split row's phase (t*d - pb) mod s at
 * o + (t*d - pb) div s (kernels/depthwise/split_rows.h): one unaligned load per tap.
 *
 * - A row goes in chunks of U vectors, RB output rows at a time when their (depth,
 *   height) pairs are the same taps moved by one row stride (a run).  Depth and height
 *   taps come from the tap lists, which hold only taps that meet a real row; a width
 *   tap outside the row (the outputs within about pb/s of a row's ends) reads a zero
 *   of the split row's margins.  w*0 adds nothing to a sum for a finite w; with an
 *   inf or NaN weight those border outputs are summed again by scalar code over the
 *   taps that meet the input only, so no product with a pixel outside the input ever
 *   reaches a result (an inf weight does not turn a border into NaN).
 * - Every output element is summed by one thread over the same terms in the same order
 *   (channel, depth pair, height pair, width tap; fused multiply-adds from +0, then the
 *   bias) whatever the tile, the vector width or the thread count: results are
 *   bit-identical for any num_threads and on AVX2 and AVX-512.
 * - Tasks are (image, channel, depth) slices, or blocks of their rows when the slices
 *   are fewer than the threads can share; per thread, a cache of split rows, the
 *   table of a block's rows and RB row buffers.
 *
 * Correct for any cin_g and cout_g (the planner sends it cin_g == 1).
 */

DC_API DC_TARGET int DC_KERNEL_FN(conv, depthwise)(const dc_problem *pr, const void *xv,
                                                  const void *wv, const void *bv,
                                                  void *ov) {
    DC_PROBLEM_LOCALS(pr);
    DC_OPERANDS(xv, wv, bv, ov);
    const dc_idx K = pr->K, pin = pr->pin, rpc = n[0] * n[1];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2];
    const dc_idx s2 = s[2], d2 = d[2], pb2 = pb[2], n2 = n[2];
    if (N <= 0 || cout <= 0 || no0 * no1 <= 0 || no2 <= 0) return 0;
    if (nt < 1) nt = 1;

    /* the outputs whose width taps all meet the input: o*s - pb >= 0 and
     * o*s - pb + (k-1)*d <= n2 - 1 (only needed with a weight that is not finite) */
    dc_idx o_lo = pb2 > 0 ? (pb2 + s2 - 1) / s2 : 0;
    dc_idx o_hi = dc_floordiv(n2 - 1 + pb2 - (k[2] - 1) * d2, s2) + 1;
    if (o_lo > no2) o_lo = no2;
    if (o_hi > no2) o_hi = no2;
    if (o_hi < o_lo) o_hi = o_lo;
    int finite = 1;
    for (dc_idx i = 0; i < cout * cin_g * K; i++) finite &= (w[i] - w[i]) == 0;   /* not inf, not NaN */
    const int U = DC_FN(dc_dwc_pick_u)(no2);
    int RB = 1;
#define DC_DWC_RB(r, u) if ((u) == U && (r) > RB) RB = (r);
    DC_TILES(depthwise)(DC_DWC_RB)
#undef DC_DWC_RB
    const DC_FN(dc_dwc_fn) kfull = DC_FN(dc_dwc_pick)(RB, U), kone = DC_FN(dc_dwc_pick)(1, U);
    const dc_idx W = (dc_idx)U * DC_VL;

    /* per height index: rows from oh on whose pairs are oh's moved by s1 each */
    char *mem = (char *)malloc((size_t)(no1 + k[2]) * sizeof(dc_idx) + 64);
    if (!mem) return -1;
    dc_idx *hrun = (dc_idx *)mem, *toff = hrun + no1;
    for (dc_idx i = no1 - 1; i >= 0; i--) {
        const dc_idx nh = p->hptr[i + 1] - p->hptr[i];
        hrun[i] = i + 1 < no1 && p->hptr[i + 2] - p->hptr[i + 1] == nh
                  && dc_pairs_shifted(p->hpairs + 2 * p->hptr[i],
                                      p->hpairs + 2 * p->hptr[i + 1], nh, s[1])
                  ? hrun[i + 1] + 1 : 1;
    }
    /* split rows: per phase lm zeros, the data, zeros up to the last lane a chunk of
     * the row reads (output o + tap offset, o < no2 rounded up to chunks) */
    const dc_idx lm = pb2 > 0 ? (pb2 + s2 - 1) / s2 : 0;
    const dc_idx cmax = dc_floordiv((k[2] - 1) * d2 - pb2, s2);
    dc_idx reach = (no2 + W - 1) / W * W + (cmax > 0 ? cmax : 0);
    if (reach < (n2 + s2 - 1) / s2) reach = (n2 + s2 - 1) / s2;
    const dc_idx plen = (lm + reach + DC_VL + DC_VL - 1) / DC_VL * DC_VL;
    for (dc_idx t = 0; t < k[2]; t++) {
        const dc_idx c = t * d2 - pb2;
        const dc_idx q = c - dc_floordiv(c, s2) * s2;
        toff[t] = q * plen + lm + dc_floordiv(c, s2);
    }
    /* slots: per input channel of the group, rd depths x rh heights (powers of two
     * covering one block's span of each), so a block's rows never share a slot */
    dc_idx maxnd, maxnh;
    dc_taps_max_pairs(p, no0, no1, &maxnd, &maxnh);
    const dc_idx rd = dc_pow2_cover((k[0] - 1) * d[0] + 1, n[0]);
    const dc_idx rh = dc_pow2_cover((RB - 1) * s[1] + (k[1] - 1) * d[1] + 1, n[1]);
    const dc_idx nslots = cin_g * rd * rh;
    const dc_idx ntab = cin_g * maxnd * maxnh * RB;
    const size_t cbytes = ((size_t)nslots * s2 * plen * sizeof(DC_T) + 63) & ~(size_t)63;
    const size_t tbytes = ((size_t)nslots * sizeof(dc_idx) + 63) & ~(size_t)63;
    const size_t pbytes = ((size_t)(ntab + 1) * sizeof(DC_T *) + 63) & ~(size_t)63;
    const size_t abytes = ((size_t)RB * W * sizeof(DC_T) + 63) & ~(size_t)63;
    const size_t per = cbytes + tbytes + pbytes + abytes;
    char *tbuf = (char *)malloc((size_t)nt * per + 64);
    if (!tbuf) {
        free(mem);
        return -1;
    }
    const dc_idx slices = N * cout * no0;
    dc_idx nrb = ((dc_idx)nt * 4 + slices - 1) / slices;
    if (nrb > no1) nrb = no1;
    const dc_idx rt = (no1 + nrb - 1) / nrb;
    nrb = (no1 + rt - 1) / rt;
    const dc_idx tasks = slices * nrb;

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        char *tm = dc_thread_slice(tbuf, per);
        DC_FN(dc_dwc_cache) cache;
        DC_FN(dc_dwc_init)(&cache, tm, cbytes, nslots, rd, rh, plen, lm, s2, n2, 1);
        const DC_T **tab = (const DC_T **)(tm + cbytes + tbytes);
        DC_T *acc = (DC_T *)(tm + cbytes + tbytes + pbytes);
        DC_FN(dc_dwcctx) cx;
        cx.rows = tab;
        cx.cin_g = cin_g; cx.K = K; cx.k1 = k[1]; cx.k2 = k[2];
        cx.toff = toff;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (dc_idx r = 0; r < tasks; r++) {
            const dc_idx slice = r / nrb, rb = r % nrb;
            const dc_idx od = slice % no0, plane = slice / no0;
            const dc_idx nn = plane / cout, co = plane % cout, grp = co / cout_g;
            const dc_idx cfirst = nn * cin + grp * cin_g;
            cx.bias = bias ? bias[co] : (DC_T)0;
            const DC_T *xg = x + cfirst * pin;
            cx.wc = w + co * cin_g * K;
            cx.dp = p->dpairs + 2 * p->dptr[od];
            cx.nd = p->dptr[od + 1] - p->dptr[od];
            DC_T *oslice = out + (plane * no0 + od) * no1 * no2;
            const dc_idx h_end = (rb + 1) * rt < no1 ? (rb + 1) * rt : no1;
            dc_idx oh = rb * rt;
            while (oh < h_end) {
                const dc_idx run = hrun[oh] < h_end - oh ? hrun[oh] : h_end - oh;
                const dc_idx nb = run >= RB ? RB : 1;
                const DC_FN(dc_dwc_fn) kern = nb == RB ? kfull : kone;
                DC_T *orow = oslice + oh * no2;
                cx.hp = p->hpairs + 2 * p->hptr[oh];
                cx.nh = p->hptr[oh + 1] - p->hptr[oh];
                /* the block's split rows, in the micro-kernel's order */
                const DC_T **tp = tab;
                for (dc_idx ci = 0; ci < cin_g; ci++)
                    for (dc_idx ia = 0; ia < cx.nd; ia++)
                        for (dc_idx ib = 0; ib < cx.nh; ib++)
                            for (dc_idx j = 0; j < nb; j++) {
                                const dc_idx id = cx.dp[2 * ia + 1];
                                const dc_idx ih = cx.hp[2 * ib + 1] + j * s[1];
                                const dc_idx row = id * n[1] + ih;
                                *tp++ = DC_FN(dc_dwc_row)(&cache, ci, id, ih,
                                                          (cfirst + ci) * rpc + row,
                                                          xg + ci * pin + row * n2);
                            }
                for (dc_idx c0 = 0; c0 < no2; c0 += W) {
                    if (c0 + W <= no2) {
                        kern(&cx, c0, orow + c0, no2);
                    } else {   /* the last, partial chunk: through the row buffers */
                        kern(&cx, c0, acc, W);
                        for (dc_idx j = 0; j < nb; j++)
                            memcpy(orow + j * no2 + c0, acc + j * W,
                                   (size_t)(no2 - c0) * sizeof(DC_T));
                    }
                }
                for (dc_idx j = 0; j < nb && !finite; j++)
                    for (dc_idx o = 0; o < no2; o++) {
                        if (o == o_lo) o = o_hi;
                        if (o >= no2) break;
                        /* over the taps that meet the input only, in the same order */
                        DC_T sum = 0;
                        for (dc_idx ci = 0; ci < cin_g; ci++)
                            for (dc_idx ia = 0; ia < cx.nd; ia++)
                                for (dc_idx ib = 0; ib < cx.nh; ib++) {
                                    const dc_idx td = cx.dp[2 * ia], id = cx.dp[2 * ia + 1];
                                    const dc_idx th = cx.hp[2 * ib];
                                    const dc_idx ih = cx.hp[2 * ib + 1] + j * s[1];
                                    const DC_T *xr = xg + ci * pin + (id * n[1] + ih) * n2;
                                    const DC_T *wr = cx.wc + ci * K + (td * k[1] + th) * k[2];
                                    for (dc_idx t = 0; t < k[2]; t++) {
                                        const dc_idx i = o * s2 - pb2 + t * d2;
                                        if (i >= 0 && i < n2) sum = DC_SFMA(wr[t], xr[i], sum);
                                    }
                                }
                        orow[j * no2 + o] = sum + cx.bias;
                    }
                oh += nb;
            }
        }
    }
    free(tbuf);
    free(mem);
    return 0;
}
