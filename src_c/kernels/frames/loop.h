/*
 * The column part of the BLAS kernels conv gemm and wgrad gemm, for one dtype; included
 * by isa/dc_portable.c once per dtype.  No include guard on purpose.
 *
 * For one image and one group (the driver passes a sub-problem and the operand of that
 * image and group), cols[p][c][t] = x[c, p*s - pb + t*d], 0 where that position is
 * padding: p the output positions, c the cin_g channels, t the K taps, all flattened.
 * The driver then runs one matmul on it, so that a forward convolution is
 * out = W (cout_g x cin_g*K) . cols^T, and a weight gradient U (u channels x positions)
 * . cols.  A slab of positions (or of taps) is the same problem with a smaller no (or
 * k) along its outermost dim and a shifted pb, so the driver bounds the buffer by
 * cutting the problem into such slabs; every cols entry is one copy or one zero.
 */

DC_API int DC_KERNEL_FN(conv, gemm)(const dc_problem *pr, const void *xv, const void *wv,
                                    const void *bias, void *colsv) {
    DC_PROBLEM_LOCALS(pr);
    const DC_T *const x = (const DC_T *)xv;
    DC_T *const cols = (DC_T *)colsv;
    const dc_idx K = pr->K, pin = pr->pin, rowlen = cin_g * K;
    const dc_idx outer = no[0] * no[1];
    (void)wv;
    (void)bias;
    if (outer * no[2] * rowlen < DC_TUNE_serial_max_work) nt = 1;
#if defined(_OPENMP)
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (dc_idx r = 0; r < outer; r++) {
        const dc_idx o0 = r / no[1], o1 = r % no[1];
        for (dc_idx o2 = 0; o2 < no[2]; o2++) {
            DC_T *row = cols + (r * no[2] + o2) * rowlen;
            /* the range of width taps t2 whose input column is real */
            const dc_idx b2 = o2 * s[2] - pb[2];
            dc_idx lo = b2 >= 0 ? 0 : (-b2 + d[2] - 1) / d[2];
            dc_idx hi = b2 >= n[2] || n[2] <= 0 ? 0 : (n[2] - 1 - b2) / d[2] + 1;
            if (hi > k[2]) hi = k[2];
            if (lo > hi) lo = hi;
            for (dc_idx c = 0; c < cin_g; c++)
                for (dc_idx t0 = 0; t0 < k[0]; t0++) {
                    const dc_idx i0 = o0 * s[0] - pb[0] + t0 * d[0];
                    for (dc_idx t1 = 0; t1 < k[1]; t1++, row += k[2]) {
                        const dc_idx i1 = o1 * s[1] - pb[1] + t1 * d[1];
                        if (i0 < 0 || i0 >= n[0] || i1 < 0 || i1 >= n[1]) {
                            memset(row, 0, (size_t)k[2] * sizeof(DC_T));
                            continue;
                        }
                        const DC_T *src = x + c * pin + (i0 * n[1] + i1) * n[2] + b2;
                        for (dc_idx t2 = 0; t2 < lo; t2++) row[t2] = 0;
                        if (d[2] == 1)
                            memcpy(row + lo, src + lo, (size_t)(hi - lo) * sizeof(DC_T));
                        else
                            for (dc_idx t2 = lo; t2 < hi; t2++) row[t2] = src[t2 * d[2]];
                        for (dc_idx t2 = hi; t2 < k[2]; t2++) row[t2] = 0;
                    }
                }
        }
    }
    return 0;
}

/* The weight gradient's columns are the forward convolution's, of v on the problem's
 * geometry (DC_OP_WGRAD: n the dims of v, no those of u). */
DC_API int DC_KERNEL_FN(wgrad, gemm)(const dc_problem *pr, const void *vv, const void *uv,
                                     const void *bias, void *colsv) {
    return DC_KERNEL_FN(conv, gemm)(pr, vv, uv, bias, colsv);
}
