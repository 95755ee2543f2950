/*
 * The folded channels-last kernel (problem/dc_fold.h): a 1-D transposed convolution
 * whose stride divides its kernel run as a stride-1 problem of C_out*stride virtual
 * channels on the channels-last tiles, the real rows written directly
 * (kernels/chlast/store.h: dc_cl_fold_store).  For one dtype and ISA; no include guard
 * on purpose.  The registry runs it only for foldable problems (dc_kernel_resolve).
 */

DC_API int DC_KERNEL_FN(tconv, fold)(const dc_problem *pr, const void *x, const void *w,
                                     const void *bias, void *out) {
    dc_problem v;
    dc_fold f;
    dc_fold_problem(pr, &v, &f);
    return DC_FN(dc_chlast_run)(&f, &v, (const DC_T *)x, (const DC_T *)w, (const DC_T *)bias,
                                (DC_T *)out);
}
