/*
 * The portable row kernels for one dtype (DC_T, DC_SUF = f32 or f64): one output row
 * (n, c_out, depth, height) per call, from the tap lists (problem/dc_taps.h).  Included
 * by isa/dc_portable.c once per dtype; no include guard on purpose.
 *
 * Multi-versioned (DC_CLONES): AVX-512 / AVX2+FMA / baseline code of the same loops,
 * picked at load time by the dynamic loader, so the default build needs no
 * -march=native.
 */

static inline void DC_FN(dc_axpy)(dc_idx n, DC_T a, const DC_T *restrict x, dc_idx xs,
                                  DC_T *restrict y) {
    if (xs == 1) {
        for (dc_idx m = 0; m < n; m++) y[m] += a * x[m];
    } else if (xs == 2) {
        /* a constant stride the vectoriser can deinterleave (a stride-2 convolution) */
        for (dc_idx m = 0; m < n; m++) y[m] += a * x[2 * m];
    } else {
        for (dc_idx m = 0; m < n; m++) y[m] += a * x[m * xs];
    }
}

static inline void DC_FN(dc_add)(dc_idx n, const DC_T *restrict x, DC_T *restrict y) {
    for (dc_idx m = 0; m < n; m++) y[m] += x[m];
}

/* Direct (output-stationary) row: sums over the cin_g input channels of the group.
 * x points at (n, first input channel of the group); w at the weights of (c_out,
 * first input channel); *_ci_stride step one input channel. */
DC_CLONES static void DC_FN(dc_row_direct)(
        const dc_taps *p, DC_T *restrict acc, DC_T *restrict out_row, DC_T bias,
        const DC_T *x, dc_idx x_ci_stride, const DC_T *w, dc_idx w_ci_stride,
        dc_idx cin_g, dc_idx hin, dc_idx win, dc_idx kh, dc_idx kw, dc_idx od, dc_idx oh) {
    const dc_wrun *we = p->wruns;
    dc_idx nw = p->nwrun, xs = p->xstride;
    memset(acc, 0, (size_t)p->acc_len * sizeof(DC_T));
    for (dc_idx ci = 0; ci < cin_g; ci++) {
        const DC_T *xc = x + ci * x_ci_stride;
        const DC_T *wc = w + ci * w_ci_stride;
        for (dc_idx a = p->dptr[od]; a < p->dptr[od + 1]; a++) {
            dc_idx td = p->dpairs[2 * a], id = p->dpairs[2 * a + 1];
            for (dc_idx b = p->hptr[oh]; b < p->hptr[oh + 1]; b++) {
                dc_idx th = p->hpairs[2 * b], ih = p->hpairs[2 * b + 1];
                const DC_T *xr = xc + (id * hin + ih) * win;
                const DC_T *wr = wc + (td * kh + th) * kw;
                for (dc_idx e = 0; e < nw; e++)
                    DC_FN(dc_axpy)(we[e].len, wr[we[e].t], xr + we[e].xoff, xs,
                                   acc + we[e].aoff);
            }
        }
    }
    DC_FN(dc_phase_store)(p, acc, out_row, bias);
}

/* col2im gather row (transposed conv after the GEMM).  cols points at the column
 * block of (c_out, tap 0, sample n); col_t_stride steps one tap. */
DC_CLONES static void DC_FN(dc_row_gather)(
        const dc_taps *p, DC_T *restrict acc, DC_T *restrict out_row, DC_T bias,
        const DC_T *cols, dc_idx col_t_stride, dc_idx hin, dc_idx win, dc_idx kh,
        dc_idx kw, dc_idx od, dc_idx oh) {
    const dc_wrun *we = p->wruns;
    dc_idx nw = p->nwrun;
    memset(acc, 0, (size_t)p->acc_len * sizeof(DC_T));
    for (dc_idx a = p->dptr[od]; a < p->dptr[od + 1]; a++) {
        dc_idx td = p->dpairs[2 * a], id = p->dpairs[2 * a + 1];
        for (dc_idx b = p->hptr[oh]; b < p->hptr[oh + 1]; b++) {
            dc_idx th = p->hpairs[2 * b], ih = p->hpairs[2 * b + 1];
            const DC_T *cr = cols + (td * kh + th) * kw * col_t_stride + (id * hin + ih) * win;
            for (dc_idx e = 0; e < nw; e++)
                DC_FN(dc_add)(we[e].len, cr + we[e].t * col_t_stride + we[e].xoff,
                              acc + we[e].aoff);
        }
    }
    DC_FN(dc_phase_store)(p, acc, out_row, bias);
}

/* Overlap-add row for 1-D, dilation-1 problems with long kernels (inverse STFT
 * shape), after the GEMM in the "taps last" orientation: colsT[i * row_stride + t]
 * is the contribution of input i, tap t, and lands on output i*s - pb + t, so each
 * input adds one contiguous run of up to k outputs, in a fixed order. */
DC_CLONES static void DC_FN(dc_row_ola)(
        const DC_T *colsT, dc_idx n_in, dc_idx row_stride, dc_idx k, dc_idx s, dc_idx pb,
        dc_idx nout, DC_T bias, DC_T *restrict out_row) {
    for (dc_idx o = 0; o < nout; o++) out_row[o] = bias;
    for (dc_idx i = 0; i < n_in; i++) {
        dc_idx start = i * s - pb;
        dc_idx lo = start < 0 ? -start : 0;
        dc_idx hi = nout - start < k ? nout - start : k;
        if (hi > lo)
            DC_FN(dc_add)(hi - lo, colsT + i * row_stride + lo, out_row + start + lo);
    }
}
