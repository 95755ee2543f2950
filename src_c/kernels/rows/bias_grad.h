/*
 * The bias gradient of either op, for one dtype (DC_T, DC_DT, DC_SUF): the sum of
 * grad_output over images and positions, per channel.  Included by isa/dc_portable.c
 * once per dtype; no include guard on purpose.
 *
 * NumPy's sum over axes (0, 2, ...) of a large grad_output runs on one thread at about
 * a third of memory speed; this one splits the channels over the threads and sums each
 * (image, channel) plane into DC_WG_LANES partial sums (lane = position modulo
 * DC_WG_LANES), added pairwise at the end, then the images in order: the order is
 * fixed by the shape, so the result does not depend on the thread count, and each lane
 * adds only every DC_WG_LANES-th value (a float32 sum over 64x64 positions adds 256
 * values per lane).
 */

DC_CLONES static DC_T DC_FN(dc_plane_sum)(const DC_T *restrict a, dc_idx len) {
    DC_T part[DC_WG_LANES] = {0};
    dc_idx m = 0;
    for (; m + DC_WG_LANES <= len; m += DC_WG_LANES)
        for (int j = 0; j < DC_WG_LANES; j++) part[j] += a[m + j];
    for (int j = 0; m + j < len; j++) part[j] += a[m + j];
    return DC_FN(dc_wg_total)(part, 1, 0, DC_WG_LANES);   /* pairwise, halving */
}

/* out[c] = sum over n < N and p < P of gy[(n*C + c)*P + p] */
DC_API int DC_KNAME(DC_DT, bias_grad, sum, portable)(const DC_T *gy, DC_T *out, dc_idx N,
                                                    dc_idx C, dc_idx P, int nt) {
    if (nt < 1) nt = 1;
    if (N * C * P < (1 << 16)) nt = 1;   /* below a thread's start-up cost */
    /* a thread per channel at most: an idle team member still has to be woken, and
     * after a BLAS call (the GEMM kernels') NumPy's BLAS threads spin on the cores */
    if (nt > C) nt = C > 0 ? (int)C : 1;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
#endif
    for (dc_idx c = 0; c < C; c++) {
        DC_T acc = 0;
        for (dc_idx n = 0; n < N; n++) acc += DC_FN(dc_plane_sum)(gy + (n * C + c) * P, P);
        out[c] = acc;
    }
    return 0;
}
