/*
 * Register-blocked, width-vectorised transposed convolution (AVX2+FMA or AVX-512).
 *
 * Phase (sub-pixel) decomposition along the width: output o = q + m*s of residue q
 * ("phase q") gets, from tap t of that phase, w[t] * x[m + c_t] with c_t fixed, so for
 * each phase the width direction is a dense stride-1 correlation over the ORIGINAL
 * input (no inserted zero exists anywhere).  Depth and height taps come from the
 * plan's (tap, input index) pair lists, which hold only taps that hit a real input
 * pixel.
 *
 * A task is one output row (n, group, depth, height) for a block of C output
 * channels.  For each phase, the phase's outputs are cut into chunks of U vectors;
 * a chunk keeps C x U accumulator registers while the reduction over input channels,
 * depth/height pairs and the phase's width taps streams through: one vector load of
 * x per (tap, u), one broadcast weight per (tap, channel).  Chunks at the borders,
 * where a width tap reaches outside the input for some lanes, use masked loads and
 * keep the accumulator unchanged (blend) in those lanes: a lane only ever adds
 * products of real input pixels, in the same order as in an interior chunk, so the
 * value of an output element does not depend on which chunk or lane computed it.
 * The last chunk of a phase is shifted back to end at the phase's end (it overlaps
 * the previous one and recomputes identical values).
 *
 * Results go phase-major to a small per-thread row buffer and are interleaved with
 * the bias into the output row, written once.  No scratch grows with the output or
 * the zero-inserted input: per call a packed copy of the weights (the weights' size)
 * and per thread a row buffer of C x (output width + one chunk).
 *
 * Every output element is computed by one thread, by a sequence of operations fixed
 * by the shape alone, so results are bit-identical for any thread count.
 *
 * Compiled twice, with target("avx2,fma") (8 floats a vector) and with
 * target("avx512f") (16 floats, k-register masks); the widest one the CPU has (checked
 * at run time with __builtin_cpu_supports) runs, and without AVX2+FMA the portable row
 * kernels do.  Both give identical results: a lane's sum runs over the same terms in
 * the same order whatever the vector width.
 */
#ifndef DECONV_BLOCKED_H
#define DECONV_BLOCKED_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(_OPENMP)
#include <omp.h>
#endif

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define DC_BLOCKED_COMPILED 1
#else
#define DC_BLOCKED_COMPILED 0
#endif

/* ISA levels of the blocked and depthwise kernels: 0 none (the portable row kernels
 * run), 1 AVX2+FMA, 2 AVX-512F. */
static int dc_blocked_level_cpu(void) {
#if DC_BLOCKED_COMPILED
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2")
        && __builtin_cpu_supports("fma"))
        return 2;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int dc_blocked_level_now = -1;

/* The level in use: the CPU's best, unless dc_blocked_set_level chose a lower one. */
static int dc_blocked_level(void) {
    if (dc_blocked_level_now < 0) dc_blocked_level_now = dc_blocked_level_cpu();
    return dc_blocked_level_now;
}

/* Use at most this level (tests run both ISAs on one CPU); returns the level now in
 * use.  Not thread-safe: call it while no kernel runs. */
static int dc_blocked_set_level(int level) {
    int cpu = dc_blocked_level_cpu();
    dc_blocked_level_now = level < 0 ? 0 : (level > cpu ? cpu : level);
    return dc_blocked_level_now;
}

/* 1 if the blocked kernels are compiled in and this CPU can run them. */
static int dc_blocked_available(void) {
    return dc_blocked_level() > 0;
}

static const char *dc_blocked_isa_name(void) {
    static const char *names[3] = {"none", "avx2+fma", "avx512f"};
    return names[dc_blocked_level()];
}

/* Name of the widest ISA the portable row kernels' target_clones resolver picks on
 * this CPU (same rule as GCC's arch=x86-64-v4 / -v3 levels). */
static const char *dc_isa_name(void) {
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "avx512";
    if (__builtin_cpu_supports("x86-64-v3")) return "avx2";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
    return "x86-64";
#else
    return "generic";
#endif
}

/* This thread's slice of per-thread scratch: the per bytes at tid * per from the
 * 64-byte aligned start of mem (in an OpenMP parallel region; slice 0 outside one). */
static inline char *dc_thread_slice(char *mem, size_t per) {
#if defined(_OPENMP)
    const int tid = omp_get_thread_num();
#else
    const int tid = 0;
#endif
    return (char *)(((uintptr_t)mem + 63) & ~(uintptr_t)63) + (size_t)tid * per;
}

/* One width tap of a phase: input index i = m + c for phase position m, valid for
 * lo <= m < hi (0 <= lo, hi <= phase length). */
typedef struct {
    dc_idx t, c, lo, hi;
} dc_btap;

typedef struct {
    dc_idx base, len;        /* offset of the phase in the phase-major row; length */
    dc_idx tap0, ntap;       /* its taps: taps[tap0 .. tap0+ntap-1], t ascending     */
    dc_idx lmax, hmin;       /* chunk [m0, m0+W) is interior iff lmax<=m0, m0+W<=hmin */
    dc_idx chunk0, nchunk;   /* its full-width chunks in the call's chunk table      */
    int ut;                  /* 0, or the U of a narrower last chunk (chunk0+nchunk) */
} dc_bphase;

typedef struct {
    dc_idx m0;               /* first phase position of the chunk                    */
    dc_idx moff;             /* -1: interior; else offset of its masks and kinds     */
} dc_bchunk;

typedef struct {
    dc_idx x, w;             /* offsets into the input (from the chunk) and weights  */
    dc_idx e;                /* width tap of the phase (its lane masks)              */
} dc_boff;

/* Width phases of a transposed convolution: input length n, kernel k, stride s,
 * dilation d, pad-before pb, output length no.  ph has s entries, taps k. */
static void dc_bphases(dc_idx n, dc_idx k, dc_idx s, dc_idx d, dc_idx pb, dc_idx no,
                       dc_bphase *ph, dc_btap *taps) {
    dc_idx full = no / s, rem = no % s, nt = 0;
    for (dc_idx q = 0; q < s; q++) {
        dc_bphase *P = &ph[q];
        P->base = q * full + (q < rem ? q : rem);
        P->len = q < no ? (no - q + s - 1) / s : 0;
        P->tap0 = nt;
        P->lmax = 0;
        P->hmin = P->len;
        for (dc_idx t = 0; t < k && P->len > 0; t++) {
            dc_idx num = q + pb - t * d;               /* = i*s - m*s ... */
            dc_idx r = num % s;
            if (r != 0) continue;
            dc_idx c = num / s;                         /* exact: i = m + c */
            dc_idx lo = c < 0 ? -c : 0;
            dc_idx hi = n - c < P->len ? n - c : P->len;
            if (hi <= lo) continue;
            taps[nt].t = t; taps[nt].c = c; taps[nt].lo = lo; taps[nt].hi = hi;
            if (lo > P->lmax) P->lmax = lo;
            if (hi < P->hmin) P->hmin = hi;
            nt++;
        }
        P->ntap = nt - P->tap0;
    }
}

/* The smallest instantiated chunk width (in vectors) of blocks of C channels that
 * is at least need, or 0. */
static inline int dc_btail_u(int C, dc_idx need) {
    static const int cand[5] = {1, 2, 3, 4, 8};
    for (int i = 0; i < 5; i++) {
        int u = cand[i];
        if ((C >= 3 && u > 3) || (C == 2 && u > 4)) break;
        if (u >= need) return u;
    }
    return 0;
}

/* The r-th index of 0..n-1 listed phase-major for stride s (0, s, 2s, ..., 1, 1+s, ...). */
static inline dc_idx dc_bphase_major(dc_idx r, dc_idx n, dc_idx s) {
    if (s <= 1) return r;
    dc_idx full = n / s, rem = n % s, big = rem * (full + 1);
    if (r < big) return (r % (full + 1)) * s + r / (full + 1);
    r -= big;
    return (r % full) * s + rem + r / full;
}

/* The largest numbers of depth and height (tap, input index) pairs of any output index. */
static void dc_plan_max_pairs(const dc_plan *p, dc_idx no0, dc_idx no1, dc_idx *maxnd,
                              dc_idx *maxnh) {
    *maxnd = *maxnh = 0;
    for (dc_idx o = 0; o < no0; o++)
        if (p->dptr[o + 1] - p->dptr[o] > *maxnd) *maxnd = p->dptr[o + 1] - p->dptr[o];
    for (dc_idx o = 0; o < no1; o++)
        if (p->hptr[o + 1] - p->hptr[o] > *maxnh) *maxnh = p->hptr[o + 1] - p->hptr[o];
}

/* 1 iff the n (tap, input index) pairs b are the pairs a with every index moved by sh. */
static inline int dc_pairs_shifted(const dc_idx *a, const dc_idx *b, dc_idx n, dc_idx sh) {
    for (dc_idx i = 0; i < n; i++)
        if (b[2 * i] != a[2 * i] || b[2 * i + 1] - a[2 * i + 1] != sh) return 0;
    return 1;
}

/* 1 iff the n pairs a and b have the same taps and the same indices relative to their
 * first pair's. */
static inline int dc_pairs_same(const dc_idx *a, const dc_idx *b, dc_idx n) {
    return n == 0 || dc_pairs_shifted(a, b, n, b[1] - a[1]);
}

/* Lane masks: DC_MASK32_LO + 8 - a has lanes l >= a set; DC_MASK32_HI + 8 - b has
 * lanes l < b set (0 <= a, b <= 8).  Same for 64-bit lanes with 4. */
static const int32_t dc_mask32_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                         -1, -1, -1, -1, -1, -1, -1, -1};
static const int32_t dc_mask32_hi[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                         0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t dc_mask64_lo[8] = {0, 0, 0, 0, -1, -1, -1, -1};
static const int64_t dc_mask64_hi[8] = {-1, -1, -1, -1, 0, 0, 0, 0};

#define DC_BLOCKED_ARGS(T) const dc_plan *p, const T *x, const T *w, const T *bias, \
    T *out, dc_idx N, dc_idx groups, dc_idx cin_g, dc_idx cout_g, const dc_idx *n, \
    const dc_idx *k, const dc_idx *s, const dc_idx *d, const dc_idx *pb, const dc_idx *no, \
    int nt
#define DC_BLOCKED_PASS p, x, w, bias, out, N, groups, cin_g, cout_g, n, k, s, d, pb, no, nt

#if DC_BLOCKED_COMPILED

#define DC_TEMPLATE "deconv_blocked_t.h"
#include "deconv_avx2_inst.h"
#include "deconv_avx512_inst.h"
#undef DC_TEMPLATE

/* name_f32 / name_f64: the widest instantiation the level allows (the caller checked
 * that the level is >= 1). */
#define DC_ISA_DISPATCH(name) \
    static int name##_f32(DC_BLOCKED_ARGS(float)) { \
        return dc_blocked_level() >= 2 ? name##_f32_avx512(DC_BLOCKED_PASS) \
                                       : name##_f32_avx2(DC_BLOCKED_PASS); \
    } \
    static int name##_f64(DC_BLOCKED_ARGS(double)) { \
        return dc_blocked_level() >= 2 ? name##_f64_avx512(DC_BLOCKED_PASS) \
                                       : name##_f64_avx2(DC_BLOCKED_PASS); \
    }
DC_ISA_DISPATCH(dc_blocked_tr)

#else  /* not compiled: stubs that are never called (dc_blocked_available() == 0) */

static int dc_blocked_tr_f32(DC_BLOCKED_ARGS(float)) { return -2; }
static int dc_blocked_tr_f64(DC_BLOCKED_ARGS(double)) { return -2; }
#endif

#endif /* DECONV_BLOCKED_H */
