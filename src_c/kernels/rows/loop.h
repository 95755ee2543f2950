/*
 * The row kernels' parallel loop and the portable entry points of the registry, for one
 * dtype (DC_T, DC_DT, DC_SUF): tconv direct, conv direct, and the part of tconv gemm
 * after the driver's BLAS matmul.  Included by isa/dc_portable.c once per dtype after
 * kernels/rows/tile.h; no include guard on purpose.
 */

/* Output row r of the problem: x and w (direct) or the columns of the GEMM (gather). */
static inline void DC_FN(dc_rows_one)(const dc_problem *pr, int gather, dc_idx r,
                                      DC_T *acc, const DC_T *src, const DC_T *wp,
                                      const DC_T *bp, DC_T *out) {
    const dc_taps *p = pr->taps;
    const dc_idx no1 = pr->no[1], cout = pr->groups * pr->cout_g, K = pr->K, pin = pr->pin;
    const dc_idx cin_g = pr->cin_g, cout_g = pr->cout_g;
    const dc_idx oh = r % no1;
    dc_idx t = r / no1;
    const dc_idx od = t % pr->no[0];
    t = t / pr->no[0];
    const dc_idx co = t % cout, n = t / cout;
    const DC_T bval = bp != NULL ? bp[co] : 0;
    if (gather) {
        DC_FN(dc_row_gather)(p, acc, out + r * pr->no[2], bval,
                             src + (co * K * pr->N + n) * pin, pr->N * pin, pr->n[1],
                             pr->n[2], pr->k[1], pr->k[2], od, oh);
        return;
    }
    const int tr = pr->op == DC_OP_TCONV;
    const dc_idx grp = co / cout_g;
    const DC_T *xb = src + (n * pr->groups * cin_g + grp * cin_g) * pin;
    const DC_T *wb = tr ? wp + (grp * cin_g * cout_g + co - grp * cout_g) * K
                        : wp + co * cin_g * K;
    DC_FN(dc_row_direct)(p, acc, out + r * pr->no[2], bval, xb, pin, wb,
                         tr ? cout_g * K : K, cin_g, pr->n[1], pr->n[2], pr->k[1],
                         pr->k[2], od, oh);
}

/* Every output row (n, c_out, depth, height) of the p->N images, on nt threads: one
 * row = one call, so one thread, whatever the thread count. */
static int DC_FN(dc_rows_run)(const dc_problem *pr, int gather, const DC_T *src,
                              const DC_T *wp, const DC_T *bp, DC_T *out, int nt) {
    const dc_idx rows = pr->N * pr->groups * pr->cout_g * pr->no[0] * pr->no[1];
    /* each thread's row accumulator on cache lines of its own: two threads adding into
     * one line (a row of 32 floats is two lines) take turns owning it, which made 2
     * threads slower than 1 on short rows */
    const dc_idx per_line = 64 / (dc_idx)sizeof(DC_T);
    const dc_idx acc_len = (pr->taps->acc_len + per_line - 1) / per_line * per_line;
    const size_t per = (size_t)acc_len * sizeof(DC_T);
    char *raw = (char *)malloc((size_t)nt * per + 64);
    if (raw == NULL) return -1;
    if (nt == 1) {
        /* no OpenMP region at all: entering one costs about a microsecond, the whole
         * of a small call */
        DC_T *acc = (DC_T *)dc_thread_slice(raw, per);
        for (dc_idx r = 0; r < rows; r++)
            DC_FN(dc_rows_one)(pr, gather, r, acc, src, wp, bp, out);
    } else {
#if defined(_OPENMP)
#pragma omp parallel num_threads(nt)
#endif
        {
            DC_T *acc = (DC_T *)dc_thread_slice(raw, per);
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (dc_idx r = 0; r < rows; r++)
                DC_FN(dc_rows_one)(pr, gather, r, acc, src, wp, bp, out);
        }
    }
    free(raw);
    return 0;
}

DC_API int DC_KERNEL_FN(tconv, direct)(const dc_problem *pr, const void *x, const void *w,
                                       const void *bias, void *out) {
    return DC_FN(dc_rows_run)(pr, 0, (const DC_T *)x, (const DC_T *)w, (const DC_T *)bias,
                              (DC_T *)out, pr->nt);
}

DC_API int DC_KERNEL_FN(conv, direct)(const dc_problem *pr, const void *x, const void *w,
                                      const void *bias, void *out) {
    return DC_FN(dc_rows_run)(pr, 0, (const DC_T *)x, (const DC_T *)w, (const DC_T *)bias,
                              (DC_T *)out, pr->nt);
}

/* After the driver's matmul, for the pr->N images of one batch chunk: cols is
 * (groups*cout_g*K, N*pin) (each column block (c_out, tap) holds the chunk's images
 * side by side), gathered phase-major into each output row; or, for the overlap-add
 * shape (dc_ola_shape), (N, groups, pin, cout_g*k), each input adding a run of k
 * outputs, serially (see gather_parallel_min_work). */
DC_API int DC_KERNEL_FN(tconv, gemm)(const dc_problem *pr, const void *cols, const void *w,
                                     const void *bias, void *out) {
    const DC_T *cp = (const DC_T *)cols, *bp = (const DC_T *)bias;
    DC_T *op = (DC_T *)out;
    (void)w;
    if (dc_ola_shape(pr)) {
        const dc_idx cout_g = pr->cout_g, cout = pr->groups * cout_g, G = pr->groups;
        const dc_idx pin = pr->pin, k = pr->k[2], cok = cout_g * k, nout = pr->no[2];
        for (dc_idx r = 0; r < pr->N * cout; r++) {
            const dc_idx n = r / cout, co = r % cout, grp = co / cout_g;
            DC_FN(dc_row_ola)(cp + (n * G + grp) * pin * cok + (co - grp * cout_g) * k, pin,
                              cok, k, pr->s[2], pr->pb[2], nout,
                              bp != NULL ? bp[co] : (DC_T)0, op + (n * cout + co) * nout);
        }
        return 0;
    }
    const int nt = pr->N * pr->groups * pr->cout_g * pr->taps->taps_total
                   >= DC_TUNE_gather_parallel_min_work ? pr->nt : 1;
    return DC_FN(dc_rows_run)(pr, 1, cp, NULL, bp, op, nt);
}
