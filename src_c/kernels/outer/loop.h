/*
 * The weight gradient of channel-heavy layers (AVX2+FMA or AVX-512): per tap, a GEMM
 * over the positions, with no column buffer.  The driver, for one dtype and ISA; no
 * include guard on purpose.
 *
 * out[c1, c2, t] = sum over images and positions p of u[c1, p] * v[c2, l(p, t)],
 * l = p*s - pb + t*d (problem/dc_problem.h, DC_OP_WGRAD).  For one tap the positions
 * whose l is a real pixel of v form one box (an interval per dim), so the sum is a
 * GEMM (C1 x box) @ (box x C2) whose second operand is v read at a strided box.  With
 * u and v copied channels-last (kernels/chlast/pack.h), a tile of R channels of u x V
 * vectors of channels of v (kernels/outer/tile.h) streams the box: per position one
 * load of V vectors of v and R broadcasts of u for R*V multiply-adds.
 *
 * A task is one (group, block of v's channels, tap) and all of u's channel blocks; it
 * walks the box a chunk of rows at a time and runs every block of u's channels over
 * the chunk while the chunk is in cache, keeping the sums in a per-task buffer between
 * chunks.  Each output element is summed by one task in the order (image, row,
 * position): bit-identical for any thread count, and on either ISA (a lane is one
 * channel of v, whatever the vector width).
 */

/* The positions [lo, hi) of the P along one dim whose l = p*s - pb + t*d lies in [0, L). */
static inline void DC_FN(dc_op_range)(dc_idx P, dc_idx L, dc_idx s, dc_idx pb, dc_idx t,
                                      dc_idx d, dc_idx *lo, dc_idx *hi) {
    const dc_idx c = t * d - pb;
    *lo = c >= 0 ? 0 : (-c + s - 1) / s;
    *hi = L - 1 - c < 0 ? 0 : (L - 1 - c) / s + 1;
    if (*hi > P) *hi = P;
    if (*lo > *hi) *lo = *hi;
}

DC_API DC_TARGET int DC_KERNEL_FN(wgrad, outer)(const dc_problem *pr, const void *vv,
                                               const void *uv, const void *bv, void *ov) {
    DC_PROBLEM_LOCALS(pr);
    const DC_T *v = (const DC_T *)vv, *u = (const DC_T *)uv;
    DC_T *out = (DC_T *)ov;
    const dc_idx C1g = cout_g, C2g = cin_g, K = pr->K, P = pr->pout, L = pr->pin;
    (void)bv;
    if (groups * C1g * C2g * K == 0) return 0;
    if (N == 0 || P == 0) {
        memset(out, 0, (size_t)(groups * C1g * C2g * K) * sizeof(DC_T));
        return 0;
    }
    if (nt < 1) nt = 1;
    /* blocks of V vectors of v's channels, as few and as even as the tiles allow */
    int vmax = 0, R;
#define DC_OP_V(r, vv_) if ((vv_) > vmax) vmax = (vv_);
    DC_TILES(outer)(DC_OP_V)
#undef DC_OP_V
    const dc_idx nvec = (C2g + DC_VL - 1) / DC_VL, nblk = (nvec + vmax - 1) / vmax;
    const int V = (int)((nvec + nblk - 1) / nblk);
    DC_FN(dc_op_fn) fn = DC_FN(dc_op_pick)(V, &R);
    const dc_idx COB = (dc_idx)V * DC_VL, nc2b = (C2g + COB - 1) / COB, C2p = nc2b * COB;
    const dc_idx nc1b = (C1g + R - 1) / R, C1p = nc1b * R;
    const dc_idx tasks = groups * nc2b * K;
    /* rows of a chunk: its u and v (C1p + COB values a position) in about 128 KiB */
    dc_idx crow = (dc_idx)(32768 * 4 / sizeof(DC_T)) / (no[2] * (C1p + COB));
    if (crow < 1) crow = 1;
    const size_t ubytes = (size_t)(N * groups * P * C1p) * sizeof(DC_T);
    const size_t vbytes = (size_t)(N * groups * L * C2p) * sizeof(DC_T);
    const size_t abytes = (size_t)(tasks * C1p * COB) * sizeof(DC_T);
    char *mem = (char *)malloc(ubytes + vbytes + abytes + 192);
    if (!mem) return -1;
    DC_T *ucl = (DC_T *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    DC_T *vcl = (DC_T *)(((uintptr_t)((char *)ucl + ubytes) + 63) & ~(uintptr_t)63);
    DC_T *accs = (DC_T *)(((uintptr_t)((char *)vcl + vbytes) + 63) & ~(uintptr_t)63);
    memset(accs, 0, abytes);

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        DC_FN(dc_cl_pack_planes)(u, N * groups, C1g, P, C1p, ucl);
        DC_FN(dc_cl_pack_planes)(v, N * groups, C2g, L, C2p, vcl);
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, 1)
#endif
        for (dc_idx task = 0; task < tasks; task++) {
            const dc_idx t = task % K, c2b = (task / K) % nc2b, grp = task / (K * nc2b);
            const dc_idx t0 = t / (k[1] * k[2]), t1 = (t / k[2]) % k[1], t2 = t % k[2];
            dc_idx lo0, hi0, lo1, hi1, lo2, hi2;
            DC_FN(dc_op_range)(no[0], n[0], s[0], pb[0], t0, d[0], &lo0, &hi0);
            DC_FN(dc_op_range)(no[1], n[1], s[1], pb[1], t1, d[1], &lo1, &hi1);
            DC_FN(dc_op_range)(no[2], n[2], s[2], pb[2], t2, d[2], &lo2, &hi2);
            DC_T *acc = accs + task * C1p * COB;
            if (lo0 < hi0 && lo1 < hi1 && lo2 < hi2) {
                const dc_idx urow = no[2] * C1p, vrow = s[1] * n[2] * C2p;
                for (dc_idx nn = 0; nn < N; nn++)
                    for (dc_idx p0 = lo0; p0 < hi0; p0++) {
                        const dc_idx l0 = p0 * s[0] - pb[0] + t0 * d[0];
                        for (dc_idx r0 = lo1; r0 < hi1; r0 += crow) {
                            const dc_idx nrows = hi1 - r0 < crow ? hi1 - r0 : crow;
                            const dc_idx l1 = r0 * s[1] - pb[1] + t1 * d[1];
                            const dc_idx l2 = lo2 * s[2] - pb[2] + t2 * d[2];
                            const DC_T *ub = ucl + ((nn * groups + grp) * P
                                                    + (p0 * no[1] + r0) * no[2] + lo2) * C1p;
                            const DC_T *vb = vcl + ((nn * groups + grp) * L
                                                    + (l0 * n[1] + l1) * n[2] + l2) * C2p
                                             + c2b * COB;
                            for (dc_idx c1b = 0; c1b < nc1b; c1b++)
                                fn(ub + c1b * R, vb, nrows, urow, vrow, hi2 - lo2, C1p,
                                   s[2] * C2p, acc + c1b * R * COB, COB);
                        }
                    }
            }
            /* the sums -> out (G*C1g, C2g, K) */
            const dc_idx nc2 = C2g - c2b * COB < COB ? C2g - c2b * COB : COB;
            for (dc_idx c1 = 0; c1 < C1g; c1++)
                for (dc_idx j = 0; j < nc2; j++)
                    out[((grp * C1g + c1) * C2g + c2b * COB + j) * K + t] = acc[c1 * COB + j];
        }
    }
    free(mem);
    return 0;
}
