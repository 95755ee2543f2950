/*
 * Depthwise weight gradient (one channel per group on both sides), AVX2+FMA or
 * AVX-512: the micro-kernel, the parallel loop and the registry's entry point, for one
 * dtype and ISA.  No include guard on purpose.
 *
 * The sum of problem/dc_problem.h (DC_OP_WGRAD),
 *
 *     out[c1, c2, t] = sum over images n and positions p of u[n, c1, p] * v[n, c2, l],
 *     l = p*s - pb + t*d,
 *
 * has with one channel on each side no channel product to fill vectors, so the vectors
 * run along the width of p: for a width tap, consecutive p read consecutive elements
 * of one phase of v's row split by width stride (kernels/depthwise/split_rows.h), over
 * the range of p whose l lies inside the row (only taps that meet a real pixel; depth
 * and height from the tap lists).  Each tap's products go to DC_VL partial sums (lane
 * = position in the range modulo DC_VL, the last vector masked).
 *
 * A task is one (group, c1, c2) and a fixed band of the (n, p0, p1) rows (bands only
 * when the pairs are too few to share out); the bands and lanes are added in a fixed
 * order at the end (kernels/wgrad_bands.h).  The result does not depend on the thread count (it does on the
 * vector width: AVX2 and AVX-512 group the lanes differently).
 */

/* acc[lane] += u[m] * v[m] for the m < len with m = lane modulo DC_VL */
static DC_TARGET void DC_UKERNEL(wgrad, depthwise, 1, 1)(DC_T *acc, const DC_T *u,
                                                        const DC_T *v, dc_idx len) {
    DC_V a = DC_LOADU(acc);
    dc_idx m = 0;
    for (; m + DC_VL <= len; m += DC_VL) a = DC_FMA(DC_LOADU(u + m), DC_LOADU(v + m), a);
    if (m < len) {
        const DC_MASK_T mk = DC_MASK(0, len - m);
        a = DC_BLEND(a, DC_FMA(DC_MLOAD(u + m, mk), DC_MLOAD(v + m, mk), a), mk);
    }
    DC_STOREU(acc, a);
}

DC_API DC_TARGET int DC_KERNEL_FN(wgrad, depthwise)(const dc_problem *pr, const void *vv,
                                                   const void *uv, const void *bias,
                                                   void *ov) {
    DC_PROBLEM_LOCALS(pr);
    const DC_T *v = (const DC_T *)vv, *u = (const DC_T *)uv;
    DC_T *out = (DC_T *)ov;
    const dc_idx G = groups, C1g = cout_g, C2g = cin_g, K = pr->K, pin = pr->pin;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2], n2 = n[2], s2 = s[2];
    const dc_idx rows = N * no0 * no1, pairs = G * C1g * C2g, rpc = n[0] * n[1];
    (void)bias;
    if (nt < 1) nt = 1;
    if (pairs * K == 0) return 0;
    if (rows == 0 || pr->pout == 0) {
        memset(out, 0, (size_t)(pairs * K) * sizeof(DC_T));
        return 0;
    }
    /* split rows of v: phases of plen elements (the last vector of a range is masked:
     * no margin) */
    const dc_idx plen = (n2 + s2 - 1) / s2 + DC_VL;
    /* per width tap: the positions whose l lies in the row, and where position 0
     * reads in the split row */
    dc_idx *mem = (dc_idx *)malloc((size_t)(3 * k[2]) * sizeof(dc_idx));
    if (!mem) return -1;
    dc_idx *plo = mem, *phi = mem + k[2], *toff = mem + 2 * k[2];
    for (dc_idx t = 0; t < k[2]; t++) {
        const dc_idx c = t * d[2] - pb[2];
        dc_idx lo = -dc_floordiv(c, s2), hi = dc_floordiv(n2 - 1 - c, s2) + 1;
        if (lo < 0) lo = 0;
        if (hi > no2) hi = no2;
        plo[t] = lo;
        phi[t] = hi > lo ? hi : lo;
        toff[t] = (c - dc_floordiv(c, s2) * s2) * plen + dc_floordiv(c, s2);
    }
    /* rows of v: slots cover the depth and height spans of one row of p */
    const dc_idx rd = dc_pow2_cover((k[0] - 1) * d[0] + 1, n[0]);
    const dc_idx rh = dc_pow2_cover((k[1] - 1) * d[1] + 1, n[1]);
    const size_t cbytes = ((size_t)(rd * rh * s2 * plen) * sizeof(DC_T) + 63) & ~(size_t)63;
    const size_t tbytes = ((size_t)(rd * rh) * sizeof(dc_idx) + 63) & ~(size_t)63;
    const size_t per = cbytes + tbytes;
    const dc_idx bands = DC_FN(dc_wg_bands)(pairs, rows);
    const dc_idx tasks = pairs * bands;
    /* each task's K x DC_VL partial sums on cache lines of their own */
    const size_t pbytes = ((size_t)(K * DC_VL) * sizeof(DC_T) + 63) & ~(size_t)63;
    char *tbuf = (char *)malloc((size_t)nt * per + 64);
    char *praw = (char *)malloc((size_t)tasks * pbytes + 64);
    if (!tbuf || !praw) {
        free(tbuf); free(praw); free(mem);
        return -1;
    }
    char *parts = (char *)(((uintptr_t)praw + 63) & ~(uintptr_t)63);
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        char *tm = dc_thread_slice(tbuf, per);
        DC_FN(dc_dwc_cache) cache;
        DC_FN(dc_dwc_init)(&cache, tm, cbytes, rd * rh, rd, rh, plen, 0, s2, n2, 0);
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 1)
#endif
        for (dc_idx task = 0; task < tasks; task++) {
            dc_idx grp, c1, c2, row0, row1;
            DC_FN(dc_wg_task_of)(task, bands, rows, C1g, C2g, &grp, &c1, &c2, &row0, &row1);
            DC_T *acc = (DC_T *)(parts + (size_t)task * pbytes);
            memset(acc, 0, (size_t)(K * DC_VL) * sizeof(DC_T));
            for (dc_idx row = row0; row < row1; row++) {
                const dc_idx p1 = row % no1, p0 = (row / no1) % no0, nn = row / (no1 * no0);
                const DC_T *urow = u + (((nn * G + grp) * C1g + c1) * no0 + p0) * no1 * no2
                                   + p1 * no2;
                const dc_idx vch = (nn * G + grp) * C2g + c2;
                const DC_T *vplane = v + vch * pin;
                for (dc_idx a = p->dptr[p0]; a < p->dptr[p0 + 1]; a++) {
                    const dc_idx t0 = p->dpairs[2 * a], l0 = p->dpairs[2 * a + 1];
                    for (dc_idx b = p->hptr[p1]; b < p->hptr[p1 + 1]; b++) {
                        const dc_idx t1 = p->hpairs[2 * b], l1 = p->hpairs[2 * b + 1];
                        const dc_idx vr = l0 * n[1] + l1;
                        const DC_T *vs = DC_FN(dc_dwc_row)(&cache, 0, l0, l1, vch * rpc + vr,
                                                           vplane + vr * n2);
                        DC_T *at = acc + (t0 * k[1] + t1) * k[2] * DC_VL;
                        for (dc_idx t = 0; t < k[2]; t++)
                            if (phi[t] > plo[t])
                                DC_UKERNEL(wgrad, depthwise, 1, 1)(
                                    at + t * DC_VL, urow + plo[t], vs + toff[t] + plo[t],
                                    phi[t] - plo[t]);
                    }
                }
            }
        }
        DC_FN(dc_wg_reduce)((const DC_T *)parts, pairs, bands, K, pbytes / sizeof(DC_T),
                            DC_VL, out);
    }
    free(tbuf);
    free(praw);
    free(mem);
    return 0;
}
