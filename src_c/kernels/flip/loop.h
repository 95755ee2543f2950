/*
 * The forward convolution of stride 1 as a transposed one (conv flip), for one dtype;
 * included by isa/dc_portable.c once per dtype.  No include guard on purpose.
 *
 * A stride-1 correlation is the transpose of one: y[o] = sum_t w[t] x[o + t*d - pb] is
 * the transposed convolution of x with the weights flipped (tap k-1-t), input and output
 * channels swapped, and padding d*(k-1) - pb; every tap it reads is a real input pixel
 * there too.  So the call runs on the transposed op's kernels (the planner's choice for
 * that problem; BLAS ones aside), with an O(weights) copy of the flipped weights.
 */

DC_API int DC_KERNEL_FN(conv, flip)(const dc_problem *pr, const void *xv, const void *wv,
                                    const void *bias, void *out) {
    const DC_T *w = (const DC_T *)wv;
    const dc_idx G = pr->groups, cin_g = pr->cin_g, cout_g = pr->cout_g, K = pr->K;
    dc_problem t = *pr;
    dc_taps taps;
    t.op = DC_OP_TCONV;
    for (int j = 0; j < 3; j++) t.pb[j] = pr->d[j] * (pr->k[j] - 1) - pr->pb[j];
    if (dc_taps_build(&taps, &t) != 0) return -1;
    t.taps = &taps;
    /* (G*cout_g, cin_g, K) -> (G*cin_g, cout_g, K), taps reversed */
    DC_T *wt = (DC_T *)malloc((size_t)(G * cin_g * cout_g * K) * sizeof(DC_T) + 1);
    if (wt == NULL) {
        dc_taps_free(&taps);
        return -1;
    }
    for (dc_idx g = 0; g < G; g++)
        for (dc_idx co = 0; co < cout_g; co++)
            for (dc_idx ci = 0; ci < cin_g; ci++) {
                const DC_T *src = w + ((g * cout_g + co) * cin_g + ci) * K;
                DC_T *dst = wt + ((g * cin_g + ci) * cout_g + co) * K;
                for (dc_idx k = 0; k < K; k++) dst[k] = src[K - 1 - k];
            }
    int kid = dc_kernel_resolve(dc_planner_pick(&t), &t);
    if (dc_kernel_impl(kid) != DC_IMPL_C) kid = dc_kernel_resolve(DC_K_tconv_chlast, &t);
    t.nt = dc_planner_threads(&t, kid, pr->nt);
    const int rc = dc_kernel_get(kid, t.dtype)(&t, xv, wt, bias, out);
    free(wt);
    dc_taps_free(&taps);
    return rc;
}
