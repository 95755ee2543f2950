# Cython's view of the C side (private to _kernels): the problem descriptor, the tap
# lists, the kernel registry and the planner.  Generic on purpose: kernels are reached
# through the registry's table (registry/dc_kernels.def), never declared one by one.
cdef extern from "problem/dc_problem.h" nogil:
    ctypedef Py_ssize_t dc_idx
    enum:
        DC_F32
        DC_F64
        DC_OP_TCONV
        DC_OP_CONV
        DC_OP_WGRAD

cdef extern from "problem/dc_taps.h" nogil:
    ctypedef struct dc_taps:
        dc_idx acc_len
        dc_idx taps_total

cdef extern from "problem/dc_problem.h" nogil:
    ctypedef struct dc_problem:
        int op
        int dtype
        int nt
        dc_idx N, groups, cin_g, cout_g
        dc_idx n[3]
        dc_idx k[3]
        dc_idx s[3]
        dc_idx d[3]
        dc_idx pb[3]
        dc_idx no[3]
        dc_idx K, pin, pout
        const dc_taps *taps
    void dc_problem_derive(dc_problem *p)

cdef extern from "problem/dc_taps.h" nogil:
    int dc_taps_build(dc_taps *t, const dc_problem *p)
    void dc_taps_free(dc_taps *t)

cdef extern from "problem/dc_shapes.h" nogil:
    bint dc_ola_shape(const dc_problem *p)
    bint dc_blocks_shape(const dc_problem *p)

cdef extern from "registry/dc_registry.h" nogil:
    ctypedef int (*dc_kernel_fn)(const dc_problem *p, const void *a, const void *b,
                                 const void *bias, void *out)
    enum:
        DC_IMPL_C
        DC_IMPL_BLAS
        DC_NKERNEL
        DC_NISA
    int dc_registry_init()
    int dc_registry_set_isa(int isa)
    int dc_registry_isa()
    int dc_registry_isa_cpu()
    const char *dc_isa_name(int isa)
    const char *dc_isa_label(int isa)
    int dc_kernel_op(int kid)
    int dc_kernel_impl(int kid)
    const char *dc_kernel_op_name(int kid)
    const char *dc_kernel_family(int kid)
    const char *dc_kernel_serves(int kid)
    int dc_kernel_built(int kid, int isa)
    const char *dc_kernel_tiles(int kid, int isa)
    int dc_kernel_find(int op, const char *family)
    int dc_kernel_resolve(int kid, const dc_problem *p)
    dc_kernel_fn dc_kernel_get(int kid, int dtype)
    int dc_rows_clones()
    int dc_f32_bias_grad_sum__portable(const float *gy, float *out, dc_idx N, dc_idx C,
                                       dc_idx P, int nt)
    int dc_f64_bias_grad_sum__portable(const double *gy, double *out, dc_idx N, dc_idx C,
                                       dc_idx P, int nt)
    const char *dc_rows_isa()

cdef extern from "registry/dc_planner.h" nogil:
    int dc_planner_pick(const dc_problem *p)
    int dc_planner_threads(const dc_problem *p, int kid, int nt)
    int dc_tuning_count()
    const char *dc_tuning_name(int i)
    long long dc_tuning_value(int i)

cdef extern from "registry/dc_tuning.h" nogil:
    enum:
        DC_TUNE_cols_max_bytes
        DC_TUNE_frames_max_bytes
        DC_TUNE_frames_batch_bytes
