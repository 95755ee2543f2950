# The one OpenMP shim of deconv_core (private).  Verbatim C, so the same Cython
# source builds with or without OpenMP: without it the omp_* calls below are
# serial stand-ins and cython.parallel.prange runs serially.
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define DECONV_CORE_OPENMP 1
    #else
    #define DECONV_CORE_OPENMP 0
    static inline int omp_get_max_threads(void) { return 1; }
    static inline int omp_get_thread_num(void) { return 0; }
    #endif
    """
    bint DECONV_CORE_OPENMP
    int omp_get_max_threads() noexcept nogil
    int omp_get_thread_num() noexcept nogil
