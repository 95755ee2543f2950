/*
 * OpenMP helpers of the C kernels (the Cython driver has its own shim,
 * _openmp_helpers.pxd): serial stand-ins when the build has no OpenMP.
 */
#ifndef DC_THREADS_H
#define DC_THREADS_H

#include <stddef.h>
#include <stdint.h>
#if defined(_OPENMP)
#include <omp.h>
#endif

static inline int dc_thread_num(void) {
#if defined(_OPENMP)
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* This thread's slice of per-thread scratch: the per bytes at tid * per from the
 * 64-byte aligned start of mem (in an OpenMP parallel region; slice 0 outside one). */
static inline char *dc_thread_slice(char *mem, size_t per) {
    return (char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63) + (size_t)dc_thread_num() * per;
}

#endif /* DC_THREADS_H */
