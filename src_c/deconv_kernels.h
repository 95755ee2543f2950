/*
 * Hot C micro-kernels of deconv_core._kernels (called from _kernels.pyx).
 *
 * Every problem is seen as 3 spatial dims (D, H, W); 1-D and 2-D problems come in
 * with leading singleton dims.  A "plan" holds, per output index of the two outer
 * dims, the list of (tap, input index) pairs that reach it, and for the innermost
 * (width) dim a list of "width entries": contiguous runs
 *
 *     acc[aoff + m] += w[t] * x[xoff + m * xstride],   0 <= m < len
 *
 * For a transposed convolution the runs come from the phase (sub-pixel)
 * decomposition: the output row is accumulated phase-major in acc (all outputs
 * o = q + m*s of residue q next to each other) so that x and acc are both read with
 * unit stride, and the phases are interleaved once when the row is written.  No
 * inserted zero is ever multiplied and no tap that misses the input is visited.
 * For a forward convolution xstride = s and acc is in output order (one phase).
 *
 * Each output row is produced by exactly one call, in a fixed order, so results do
 * not depend on how rows are spread over threads.
 */
#ifndef DECONV_KERNELS_H
#define DECONV_KERNELS_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef ptrdiff_t dc_idx;

typedef struct {
    dc_idx t, xoff, aoff, len;
} dc_went;

typedef struct {
    dc_idx *dptr, *dpairs;   /* CSR over output depth index: pairs (t, i)  */
    dc_idx *hptr, *hpairs;   /* CSR over output height index: pairs (t, i) */
    dc_went *went;           /* width runs                                 */
    dc_idx nwent;
    dc_idx xstride;          /* 1 (transposed) or s (forward)              */
    dc_idx phases;           /* acc is phase-major over this many phases   */
    dc_idx acc_len;          /* == output width                            */
    dc_idx taps_total;       /* MACs per (n, c_out, c_in) over the output  */
    void *mem;
} dc_plan;

/* Multi-versioned hot loops: AVX-512 / AVX2+FMA / baseline, picked at load time by
 * the dynamic loader, so the default build needs no -march=native. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__) \
    && !defined(DC_NO_TARGET_CLONES) && !defined(__AVX512F__)
#define DC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define DC_CLONES_ENABLED 1
#else
#define DC_CLONES
#define DC_CLONES_ENABLED 0
#endif

static inline dc_idx dc_floordiv(dc_idx a, dc_idx b) {
    dc_idx q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Input index reached by tap t at output index o, or -1 if none. */
static inline dc_idx dc_tap_input(int transposed, dc_idx o, dc_idx t, dc_idx n,
                                  dc_idx s, dc_idx d, dc_idx pb) {
    dc_idx i;
    if (transposed) {
        dc_idx num = o + pb - t * d;
        if (num % s != 0) return -1;
        i = num / s;
    } else {
        i = o * s - pb + t * d;
    }
    return (i >= 0 && i < n) ? i : -1;
}

static dc_idx dc_count_pairs(int tr, dc_idx n, dc_idx k, dc_idx s, dc_idx d, dc_idx pb,
                             dc_idx nout) {
    dc_idx c = 0;
    for (dc_idx o = 0; o < nout; o++)
        for (dc_idx t = 0; t < k; t++)
            c += dc_tap_input(tr, o, t, n, s, d, pb) >= 0;
    return c;
}

static void dc_fill_pairs(int tr, dc_idx n, dc_idx k, dc_idx s, dc_idx d, dc_idx pb,
                          dc_idx nout, dc_idx *ptr, dc_idx *pairs) {
    dc_idx c = 0;
    for (dc_idx o = 0; o < nout; o++) {
        ptr[o] = c;
        for (dc_idx t = 0; t < k; t++) {
            dc_idx i = dc_tap_input(tr, o, t, n, s, d, pb);
            if (i >= 0) { pairs[2 * c] = t; pairs[2 * c + 1] = i; c++; }
        }
    }
    ptr[nout] = c;
}

/* Width runs; returns the number of MACs per (row, channel pair). */
static dc_idx dc_fill_width(dc_plan *p, int tr, dc_idx n, dc_idx k, dc_idx s, dc_idx d,
                            dc_idx pb, dc_idx nout) {
    dc_idx total = 0, nw = 0;
    p->phases = tr ? s : 1;
    if (tr) {
        /* phase q holds outputs q, q+s, ...; base = its offset in acc */
        for (dc_idx t = 0; t < k; t++) {
            dc_idx q = (t * d - pb) % s;
            if (q < 0) q += s;
            if (q >= nout) continue;
            dc_idx full = nout / s, rem = nout % s;
            dc_idx base = q * full + (q < rem ? q : rem);
            dc_idx mq = (nout - q + s - 1) / s;
            dc_idx i0 = (q + pb - t * d) / s;          /* exact */
            dc_idx lo = i0 < 0 ? -i0 : 0;
            dc_idx hi = n - i0 < mq ? n - i0 : mq;
            if (hi <= lo) continue;
            p->went[nw].t = t; p->went[nw].xoff = i0 + lo;
            p->went[nw].aoff = base + lo; p->went[nw].len = hi - lo;
            total += hi - lo; nw++;
        }
        p->xstride = 1;
    } else {
        for (dc_idx t = 0; t < k; t++) {
            dc_idx off = t * d - pb;                   /* x index = o*s + off */
            dc_idx lo = off >= 0 ? 0 : (-off + s - 1) / s;
            dc_idx hi = n - 1 - off < 0 ? 0 : (n - 1 - off) / s + 1;
            if (hi > nout) hi = nout;
            if (hi <= lo) continue;
            p->went[nw].t = t; p->went[nw].xoff = off + lo * s;
            p->went[nw].aoff = lo; p->went[nw].len = hi - lo;
            total += hi - lo; nw++;
        }
        p->xstride = s;
    }
    p->nwent = nw;
    return total;
}

/* Arrays of 3 (D, H, W): input length, kernel, stride, dilation, pad-before, output
 * length.  Returns 0, or -1 when out of memory. */
static int dc_plan_build(dc_plan *p, int tr, const dc_idx *n, const dc_idx *k,
                         const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                         const dc_idx *no) {
    dc_idx cd = dc_count_pairs(tr, n[0], k[0], s[0], d[0], pb[0], no[0]);
    dc_idx ch = dc_count_pairs(tr, n[1], k[1], s[1], d[1], pb[1], no[1]);
    size_t words = (size_t)(no[0] + 1 + 2 * cd + no[1] + 1 + 2 * ch);
    size_t bytes = words * sizeof(dc_idx) + (size_t)k[2] * sizeof(dc_went);
    char *mem = (char *)malloc(bytes ? bytes : 1);
    if (!mem) return -1;
    p->mem = mem;
    p->went = (dc_went *)mem;
    p->dptr = (dc_idx *)(mem + (size_t)k[2] * sizeof(dc_went));
    p->dpairs = p->dptr + no[0] + 1;
    p->hptr = p->dpairs + 2 * cd;
    p->hpairs = p->hptr + no[1] + 1;
    p->acc_len = no[2];
    dc_fill_pairs(tr, n[0], k[0], s[0], d[0], pb[0], no[0], p->dptr, p->dpairs);
    dc_fill_pairs(tr, n[1], k[1], s[1], d[1], pb[1], no[1], p->hptr, p->hpairs);
    p->taps_total = cd * ch * dc_fill_width(p, tr, n[2], k[2], s[2], d[2], pb[2], no[2]);
    return 0;
}

static void dc_plan_free(dc_plan *p) {
    free(p->mem);
    p->mem = NULL;
}

/* Row kernels, one copy per dtype. */
#define DC_T float
#define DC_SUF f32
#include "deconv_rows.h"
#undef DC_T
#undef DC_SUF

#define DC_T double
#define DC_SUF f64
#include "deconv_rows.h"
#undef DC_T
#undef DC_SUF

/* Register-blocked transposed kernels, AVX2 and AVX-512 (run-time checked). */
#include "deconv_blocked.h"

/* Depthwise transposed kernels, AVX2 and AVX-512 (run-time checked, same test). */
#include "deconv_depthwise.h"

/* Channel-vectorised transposed kernels, AVX2 and AVX-512 (run-time checked, same test). */
#include "deconv_chlast.h"

/* Virtual-channel transposed kernels, AVX2 and AVX-512 (run-time checked, same test). */
#include "deconv_vchan.h"

#endif /* DECONV_KERNELS_H */
