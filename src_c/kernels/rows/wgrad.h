/*
 * The portable weight-gradient kernel (wgrad direct), for one dtype (DC_T, DC_DT,
 * DC_SUF); included by isa/dc_portable.c once per dtype after kernels/rows/tile.h.  No
 * include guard on purpose.
 *
 * Both ops' weight gradients are one sum (problem/dc_problem.h, DC_OP_WGRAD):
 *
 *     out[c1, c2, t] = sum over images n and positions p of u[n, c1, p] * v[n, c2, l],
 *     l = p*s - pb + t*d   (dims of p: pr->no; of l: pr->n; no term where l leaves v)
 *
 * per group, with the forward map's tap lists (problem/dc_taps.h): for a row of p, the
 * (tap, row of l) pairs of the outer dims, and the width runs.  Rows of v are first
 * copied with each row's phases modulo the width stride side by side, so that every
 * width run reads v with unit stride.  A task is one (group, c1, c2) and a fixed band
 * of the (n, p0, p1) rows; each tap's products go to DC_WG_LANES partial sums (lane =
 * position in the run modulo DC_WG_LANES), the bands and lanes are added in a fixed
 * order at the end (kernels/wgrad_bands.h): the result does not depend on the thread
 * count.
 */

#ifndef DC_WG_LANES
#define DC_WG_LANES 16
#endif

/* part[j] += sum of a[m] * b[m] over the m = j modulo DC_WG_LANES, m < len */
static inline void DC_FN(dc_wg_dot)(DC_T *restrict part, const DC_T *restrict a,
                                    const DC_T *restrict b, dc_idx len) {
    dc_idx m = 0;
    for (; m + DC_WG_LANES <= len; m += DC_WG_LANES)
        for (int j = 0; j < DC_WG_LANES; j++) part[j] += a[m + j] * b[m + j];
    /* the remainder as one masked step (the vectoriser turns the condition into lane
     * masks), not up to DC_WG_LANES - 1 scalar ones: a run of a 32-wide row is often
     * 31 long */
    const dc_idx r = len - m;
    if (r > 0)
        for (int j = 0; j < DC_WG_LANES; j++)
            if (j < r) part[j] += a[m + j] * b[m + j];
}

/* v with each row's width phases side by side (phase r: l = r, r + s, ...), rows
 * [r0, r1) of the (n, c2, l0, l1) rows. */
DC_CLONES static void DC_FN(dc_wg_deinterleave)(const DC_T *v, DC_T *vd, dc_idx r0,
                                                dc_idx r1, dc_idx n2, dc_idx s2) {
    for (dc_idx r = r0; r < r1; r++) {
        const DC_T *restrict src = v + r * n2;
        DC_T *restrict dst = vd + r * n2;
        if (s2 == 2) {
            /* a constant stride the vectoriser deinterleaves */
            const dc_idx h = (n2 + 1) / 2, n1 = n2 / 2;
            for (dc_idx m = 0; m < n1; m++) {
                dst[m] = src[2 * m];
                dst[h + m] = src[2 * m + 1];
            }
            if (n2 & 1) dst[h - 1] = src[n2 - 1];
            continue;
        }
        for (dc_idx q = 0; q < s2; q++)
            for (dc_idx l = q; l < n2; l += s2) *dst++ = src[l];
    }
}

/* One task: the partial sums of band b of (group, c1, c2) into part[K][DC_WG_LANES]. */
DC_CLONES static void DC_FN(dc_wg_task)(const dc_problem *pr, const DC_T *vd,
                                        const DC_T *u, dc_idx grp, dc_idx c1, dc_idx c2,
                                        dc_idx row0, dc_idx row1, DC_T *part) {
    const dc_taps *p = pr->taps;
    const dc_idx G = pr->groups, C1g = pr->cout_g, C2g = pr->cin_g;
    const dc_idx no0 = pr->no[0], no1 = pr->no[1], no2 = pr->no[2];
    const dc_idx n1 = pr->n[1], n2 = pr->n[2], s2 = pr->s[2];
    const dc_idx k1 = pr->k[1], k2 = pr->k[2], pin = pr->pin;
    const dc_idx full = n2 / s2, rem = n2 % s2;
    memset(part, 0, (size_t)pr->K * DC_WG_LANES * sizeof(DC_T));
    for (dc_idx row = row0; row < row1; row++) {
        const dc_idx p1 = row % no1, p0 = (row / no1) % no0, nn = row / (no1 * no0);
        const DC_T *urow = u + (((nn * G + grp) * C1g + c1) * no0 + p0) * no1 * no2
                           + p1 * no2;
        const DC_T *vplane = vd + ((nn * G + grp) * C2g + c2) * pin;
        for (dc_idx a = p->dptr[p0]; a < p->dptr[p0 + 1]; a++) {
            const dc_idx t0 = p->dpairs[2 * a], l0 = p->dpairs[2 * a + 1];
            for (dc_idx b = p->hptr[p1]; b < p->hptr[p1 + 1]; b++) {
                const dc_idx t1 = p->hpairs[2 * b], l1 = p->hpairs[2 * b + 1];
                const DC_T *vrow = vplane + (l0 * n1 + l1) * n2;
                DC_T *pt = part + (t0 * k1 + t1) * k2 * DC_WG_LANES;
                for (dc_idx e = 0; e < p->nwrun; e++) {
                    const dc_wrun *we = &p->wruns[e];
                    const dc_idx q = we->xoff % s2, x0 = we->xoff / s2;
                    const dc_idx base = q * full + (q < rem ? q : rem);
                    DC_FN(dc_wg_dot)(pt + we->t * DC_WG_LANES, urow + we->aoff,
                                     vrow + base + x0, we->len);
                }
            }
        }
    }
}

DC_API int DC_KERNEL_FN(wgrad, direct)(const dc_problem *pr, const void *vv, const void *uv,
                                       const void *bias, void *ov) {
    const DC_T *v = (const DC_T *)vv, *u = (const DC_T *)uv;
    DC_T *out = (DC_T *)ov;
    const dc_idx G = pr->groups, C1g = pr->cout_g, C2g = pr->cin_g, K = pr->K;
    const dc_idx rows = pr->N * pr->no[0] * pr->no[1];
    const dc_idx pairs = G * C1g * C2g;
    const dc_idx s2 = pr->s[2], n2 = pr->n[2];
    int nt = pr->nt < 1 ? 1 : pr->nt;
    (void)bias;
    if (pairs * K == 0) return 0;
    if (rows == 0 || pr->pout == 0) {
        memset(out, 0, (size_t)(pairs * K) * sizeof(DC_T));
        return 0;
    }
    /* bands of rows when the (group, c1, c2) pairs are too few to share out: fixed by
     * the shape, never by the thread count */
    const dc_idx bands = DC_FN(dc_wg_bands)(pairs, rows);
    const dc_idx tasks = pairs * bands;
    const dc_idx vrows = pr->N * G * C2g * pr->n[0] * pr->n[1];
    const size_t pbytes = (size_t)K * DC_WG_LANES * sizeof(DC_T);
    DC_T *vd = s2 > 1 ? (DC_T *)malloc((size_t)(vrows * n2) * sizeof(DC_T) + 1) : NULL;
    /* each task's partial sums (K*DC_WG_LANES values: whole cache lines) on lines of
     * their own, so that tasks running at once never share one */
    void *parts_raw = malloc((size_t)tasks * pbytes + 64);
    if ((s2 > 1 && vd == NULL) || parts_raw == NULL) {
        free(vd);
        free(parts_raw);
        return -1;
    }
    DC_T *parts = (DC_T *)(((uintptr_t)parts_raw + 63) & ~(uintptr_t)63);
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        if (vd != NULL) {
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (dc_idx r = 0; r < vrows; r += 64)
                DC_FN(dc_wg_deinterleave)(v, vd, r, r + 64 < vrows ? r + 64 : vrows, n2, s2);
        }
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 1)
#endif
        for (dc_idx task = 0; task < tasks; task++) {
            dc_idx grp, c1, c2, row0, row1;
            DC_FN(dc_wg_task_of)(task, bands, rows, C1g, C2g, &grp, &c1, &c2, &row0, &row1);
            DC_FN(dc_wg_task)(pr, vd != NULL ? vd : v, u, grp, c1, c2, row0, row1,
                              parts + (size_t)task * K * DC_WG_LANES);
        }
        DC_FN(dc_wg_reduce)(parts, pairs, bands, K, (size_t)K * DC_WG_LANES, DC_WG_LANES,
                            out);
    }
    free(vd);
    free(parts_raw);
    return 0;
}
