# Declarations of the C micro-kernels in deconv_kernels.h (private to _kernels).
cdef extern from "deconv_kernels.h" nogil:
    ctypedef Py_ssize_t dc_idx

    ctypedef struct dc_plan:
        dc_idx acc_len
        dc_idx taps_total

    ctypedef struct dc_fold:
        dc_idx s
        dc_idx off
        dc_idx nout

    int DC_CLONES_ENABLED

    int dc_plan_build(dc_plan *p, int transposed, const dc_idx *n, const dc_idx *k,
                      const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                      const dc_idx *no)
    void dc_plan_free(dc_plan *p)

    void dc_row_direct_f32(const dc_plan *p, float *acc, float *out_row, float bias,
                           const float *x, dc_idx x_ci_stride, const float *w,
                           dc_idx w_ci_stride, dc_idx cin_g, dc_idx hin, dc_idx win,
                           dc_idx kh, dc_idx kw, dc_idx od, dc_idx oh)
    void dc_row_direct_f64(const dc_plan *p, double *acc, double *out_row, double bias,
                           const double *x, dc_idx x_ci_stride, const double *w,
                           dc_idx w_ci_stride, dc_idx cin_g, dc_idx hin, dc_idx win,
                           dc_idx kh, dc_idx kw, dc_idx od, dc_idx oh)
    void dc_row_gather_f32(const dc_plan *p, float *acc, float *out_row, float bias,
                           const float *cols, dc_idx col_t_stride, dc_idx hin,
                           dc_idx win, dc_idx kh, dc_idx kw, dc_idx od, dc_idx oh)
    void dc_row_gather_f64(const dc_plan *p, double *acc, double *out_row, double bias,
                           const double *cols, dc_idx col_t_stride, dc_idx hin,
                           dc_idx win, dc_idx kh, dc_idx kw, dc_idx od, dc_idx oh)
    void dc_row_ola_f32(const float *colsT, dc_idx n_in, dc_idx row_stride, dc_idx k,
                        dc_idx s, dc_idx pb, dc_idx nout, float bias, float *out_row)
    void dc_row_ola_f64(const double *colsT, dc_idx n_in, dc_idx row_stride, dc_idx k,
                        dc_idx s, dc_idx pb, dc_idx nout, double bias, double *out_row)

    int dc_blocked_available()
    int dc_blocked_set_level(int level)
    const char *dc_blocked_isa_name()
    const char *dc_isa_name()
    int dc_blocked_tr_f32(const dc_plan *p, const float *x, const float *w,
                          const float *bias, float *out, dc_idx N, dc_idx groups,
                          dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                          const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                          const dc_idx *no, int nt)
    int dc_blocked_tr_f64(const dc_plan *p, const double *x, const double *w,
                          const double *bias, double *out, dc_idx N, dc_idx groups,
                          dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                          const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                          const dc_idx *no, int nt)
    int dc_depthwise_tr_f32(const dc_plan *p, const float *x, const float *w,
                            const float *bias, float *out, dc_idx N, dc_idx groups,
                            dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                            const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                            const dc_idx *no, int nt)
    int dc_depthwise_tr_f64(const dc_plan *p, const double *x, const double *w,
                            const double *bias, double *out, dc_idx N, dc_idx groups,
                            dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                            const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                            const dc_idx *no, int nt)
    int dc_chlast_tr_f32(const dc_plan *p, const float *x, const float *w,
                         const float *bias, float *out, dc_idx N, dc_idx groups,
                         dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                         const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                         const dc_idx *no, int nt)
    int dc_chlast_tr_f64(const dc_plan *p, const double *x, const double *w,
                         const double *bias, double *out, dc_idx N, dc_idx groups,
                         dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                         const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                         const dc_idx *no, int nt)
    int dc_vchan_tr_f32(const dc_plan *p, const float *x, const float *w,
                        const float *bias, float *out, dc_idx N, dc_idx groups,
                        dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                        const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                        const dc_idx *no, int nt)
    int dc_vchan_tr_f64(const dc_plan *p, const double *x, const double *w,
                        const double *bias, double *out, dc_idx N, dc_idx groups,
                        dc_idx cin_g, dc_idx cout_g, const dc_idx *n, const dc_idx *k,
                        const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                        const dc_idx *no, int nt)
    int dc_chlast_fold_tr_f32(const dc_fold *fold, const dc_plan *p, const float *x,
                              const float *w, const float *bias, float *out, dc_idx N,
                              dc_idx groups, dc_idx cin_g, dc_idx cout_g, const dc_idx *n,
                              const dc_idx *k, const dc_idx *s, const dc_idx *d,
                              const dc_idx *pb, const dc_idx *no, int nt)
    int dc_chlast_fold_tr_f64(const dc_fold *fold, const dc_plan *p, const double *x,
                              const double *w, const double *bias, double *out, dc_idx N,
                              dc_idx groups, dc_idx cin_g, dc_idx cout_g, const dc_idx *n,
                              const dc_idx *k, const dc_idx *s, const dc_idx *d,
                              const dc_idx *pb, const dc_idx *no, int nt)
