/*
 * The weight gradient of channel-heavy layers (AVX2+FMA or AVX-512): per tap, a GEMM
 * over the positions, with no column buffer.  The driver, for one dtype and ISA; no
 * include guard on purpose.
 *
 * out[c1, c2, t] = sum over images and positions p of u[c1, p] * v[c2, l(p, t)],
 * l = p*s - pb + t*d (problem/dc_problem.h, DC_OP_WGRAD).  For one tap the positions
 * whose l is a real pixel of v form one box (an interval per dim), so the sum is a
 * GEMM (C1 x box) @ (box x C2) whose second operand is v read at a strided box.  With
 * u and v copied channels-last (kernels/chlast/pack.h), a tile of R channels of one
 * operand x V vectors of channels of the other (kernels/outer/tile.h) streams the box:
 * per position one load of V vectors and R broadcasts for R*V multiply-adds.  The
 * lanes hold v's channels when it has more (or a whole AVX-512 vector of them), else
 * u's (a GAN's RGB layer: 3 channels of the output's gradient, 64 of the input).
 *
 * A task is one (group, block of lane channels, band of rows) and every tap and
 * broadcast block: it walks its rows a chunk at a time and runs every tap over the
 * chunk while the chunk is in cache (u and v are read from memory once), keeping each
 * tap's sums in the task's buffer.  The bands are fixed by the shape and their sums
 * added in band order at the end: an output element sums its terms in an order set by
 * the shape alone, bit-identical for any thread count and on either ISA (a lane is one
 * channel, whatever the vector width).
 */

/* bands of rows per (group, lane block) when every tap's sums of a lane block fit in
 * DC_OUTER_BAND_BYTES: enough tasks for the threads, few enough sums */
#define DC_OUTER_BANDS 16
#define DC_OUTER_BAND_BYTES (64 << 10)

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
    /* the lanes hold the channels of v (more of them, or a whole AVX-512 vector), else
     * those of u; the other operand's channels are broadcast, R at a time */
    const int lanes_v = C2g >= C1g || C2g * (dc_idx)sizeof(DC_T) >= 64;
    const dc_idx CL = lanes_v ? C2g : C1g, CB = lanes_v ? C1g : C2g;
    /* blocks of V vectors of the lane channels, as few and as even as the tiles allow */
    int vmax = 0, R;
#define DC_OP_V(r, vv_) if ((vv_) > vmax) vmax = (vv_);
    DC_TILES(outer)(DC_OP_V)
#undef DC_OP_V
    const dc_idx nvec = (CL + DC_VL - 1) / DC_VL, nblk = (nvec + vmax - 1) / vmax;
    const int V = (int)((nvec + nblk - 1) / nblk);
    DC_FN(dc_op_fn) fn = DC_FN(dc_op_pick)(V, &R);
    const dc_idx COB = (dc_idx)V * DC_VL, nlb = (CL + COB - 1) / COB, nbb = (CB + R - 1) / R;
    /* padded channels per position: whole lane blocks and whole broadcast blocks */
    const dc_idx C1p = lanes_v ? nbb * R : nlb * COB, C2p = lanes_v ? nlb * COB : nbb * R;
    /* A task: one (group, lane block, band of rows, group of taps).  Few sums a lane
     * block (fit a cache): every tap in one task and the rows in bands, so that u and v
     * are read once; else one tap a task and one band (the sums are the output's size).
     * Bands and tap groups are fixed by the shape; the bands' sums are added in band
     * order at the end. */
    const dc_idx tile = nbb * R * COB;              /* one tap's sums of one task */
    const dc_idx rows_all = N * no[0] * no[1];
    const int few = K * tile * (dc_idx)sizeof(DC_T) <= DC_OUTER_BAND_BYTES;
    const dc_idx bands = !few ? 1 : rows_all < DC_OUTER_BANDS ? rows_all : DC_OUTER_BANDS;
    const dc_idx kg = few ? K : 1, ntg = K / kg;
    const dc_idx tasks = groups * nlb * bands * ntg;
    /* rows of a chunk: its u and v (C1p + C2p values a position) in about 128 KiB; the
     * task's taps and broadcast blocks run over the chunk while it is in cache */
    dc_idx crow = (dc_idx)(32768 * 4 / sizeof(DC_T)) / (no[2] * (C1p + C2p));
    if (crow < 1) crow = 1;
    const size_t ubytes = (size_t)(N * groups * P * C1p) * sizeof(DC_T);
    const size_t vbytes = (size_t)(N * groups * L * C2p) * sizeof(DC_T);
    const size_t abytes = (size_t)(groups * nlb * bands * K * tile) * sizeof(DC_T);
    char *mem = (char *)malloc(ubytes + vbytes + abytes + 192);
    if (!mem) return -1;
    DC_T *ucl = (DC_T *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    DC_T *vcl = (DC_T *)(((uintptr_t)((char *)ucl + ubytes) + 63) & ~(uintptr_t)63);
    DC_T *accs = (DC_T *)(((uintptr_t)((char *)vcl + vbytes) + 63) & ~(uintptr_t)63);
    memset(accs, 0, abytes);
    /* steps between positions and between rows of the box, in u and in v */
    const dc_idx upos = C1p, urow = no[2] * C1p, vpos = s[2] * C2p, vrow = s[1] * n[2] * C2p;

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
            const dc_idx tg = task % ntg, band = (task / ntg) % bands;
            const dc_idx lb = (task / (ntg * bands)) % nlb, grp = task / (ntg * bands * nlb);
            const dc_idx row_end = rows_all * (band + 1) / bands;
            /* the band's sums, [tap][broadcast channel][COB] */
            DC_T *acc = accs + ((grp * nlb + lb) * bands + band) * K * tile;
            for (dc_idx row = rows_all * band / bands; row < row_end;) {
                /* a chunk: rows [r0, r0 + nrows) of one (image, p0) plane */
                const dc_idx r0 = row % no[1], plane = row / no[1];
                const dc_idx p0 = plane % no[0], nn = plane / no[0];
                dc_idx nrows = no[1] - r0 < crow ? no[1] - r0 : crow;
                if (nrows > row_end - row) nrows = row_end - row;
                row += nrows;
                for (dc_idx t = tg * kg; t < (tg + 1) * kg; t++) {
                    const dc_idx t0 = t / (k[1] * k[2]), t1 = (t / k[2]) % k[1], t2 = t % k[2];
                    dc_idx lo0, hi0, lo1, hi1, lo2, hi2;
                    DC_FN(dc_op_range)(no[0], n[0], s[0], pb[0], t0, d[0], &lo0, &hi0);
                    DC_FN(dc_op_range)(no[1], n[1], s[1], pb[1], t1, d[1], &lo1, &hi1);
                    DC_FN(dc_op_range)(no[2], n[2], s[2], pb[2], t2, d[2], &lo2, &hi2);
                    if (lo1 < r0) lo1 = r0;
                    if (hi1 > r0 + nrows) hi1 = r0 + nrows;
                    if (p0 < lo0 || p0 >= hi0 || lo1 >= hi1 || lo2 >= hi2) continue;
                    const dc_idx l0 = p0 * s[0] - pb[0] + t0 * d[0];
                    const dc_idx l1 = lo1 * s[1] - pb[1] + t1 * d[1];
                    const dc_idx l2 = lo2 * s[2] - pb[2] + t2 * d[2];
                    const DC_T *ub = ucl + ((nn * groups + grp) * P
                                            + (p0 * no[1] + lo1) * no[2] + lo2) * C1p;
                    const DC_T *vb = vcl + ((nn * groups + grp) * L
                                            + (l0 * n[1] + l1) * n[2] + l2) * C2p;
                    for (dc_idx bb = 0; bb < nbb; bb++) {
                        DC_T *ab = acc + t * tile + bb * R * COB;
                        if (lanes_v)
                            fn(ub + bb * R, vb + lb * COB, hi1 - lo1, urow, vrow, hi2 - lo2,
                               upos, vpos, ab, COB);
                        else
                            fn(vb + bb * R, ub + lb * COB, hi1 - lo1, vrow, urow, hi2 - lo2,
                               vpos, upos, ab, COB);
                    }
                }
            }
        }
        /* the bands' sums, in band order -> out (G*C1g, C2g, K) */
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
        for (dc_idx gl = 0; gl < groups * nlb; gl++) {
            const dc_idx grp = gl / nlb, lb = gl % nlb;
            const dc_idx nl = CL - lb * COB < COB ? CL - lb * COB : COB;
            const DC_T *first = accs + gl * bands * K * tile;
            for (dc_idx t = 0; t < K; t++)
                for (dc_idx cb = 0; cb < CB; cb++)
                    for (dc_idx j = 0; j < nl; j++) {
                        const dc_idx at = t * tile + cb * COB + j;
                        DC_T sum = first[at];
                        for (dc_idx b = 1; b < bands; b++) sum += first[b * K * tile + at];
                        const dc_idx c1 = lanes_v ? cb : lb * COB + j;
                        const dc_idx c2 = lanes_v ? lb * COB + j : cb;
                        out[((grp * C1g + c1) * C2g + c2) * K + t] = sum;
                    }
        }
    }
    free(mem);
    return 0;
}
