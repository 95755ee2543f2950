/*
 * Tap lists: for every output index, the kernel taps that meet a real input pixel.
 *
 * Per output index of the two outer dims (depth, height), the list of (tap, input index)
 * pairs that reach it; for the innermost (width) dim a list of "width runs":
 *
 *     acc[aoff + m] += w[t] * x[xoff + m * xstride],   0 <= m < len
 *
 * For a transposed convolution the runs come from the phase (sub-pixel) decomposition:
 * the output row is accumulated phase-major in acc (all outputs o = q + m*s of residue
 * q next to each other) so that x and acc are both read with unit stride, and the
 * phases are interleaved once when the row is written.  No inserted zero is ever
 * multiplied and no tap that misses the input is visited.  For a forward convolution
 * xstride = s and acc is in output order (one phase).
 *
 * The index arithmetic (transposed): output o is full index f = o + pb, and tap t of
 * input i lands on f = i*s + t*d; so i = (o + pb - t*d) / s when that divides.
 */
#ifndef DC_TAPS_H
#define DC_TAPS_H

#include <stdlib.h>
#include <string.h>

#include "dc_problem.h"

typedef struct {
    dc_idx t, xoff, aoff, len;
} dc_wrun;

struct dc_taps {
    dc_idx *dptr, *dpairs;   /* CSR over output depth index: pairs (t, i)  */
    dc_idx *hptr, *hpairs;   /* CSR over output height index: pairs (t, i) */
    dc_wrun *wruns;          /* width runs                                 */
    dc_idx nwrun;
    dc_idx xstride;          /* 1 (transposed) or s (forward)              */
    dc_idx phases;           /* acc is phase-major over this many phases   */
    dc_idx acc_len;          /* == output width                            */
    dc_idx taps_total;       /* MACs per (n, c_out, c_in) over the output  */
    void *mem;
};

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

static inline dc_idx dc_count_pairs(int tr, dc_idx n, dc_idx k, dc_idx s, dc_idx d, dc_idx pb,
                             dc_idx nout) {
    dc_idx c = 0;
    for (dc_idx o = 0; o < nout; o++)
        for (dc_idx t = 0; t < k; t++)
            c += dc_tap_input(tr, o, t, n, s, d, pb) >= 0;
    return c;
}

static inline void dc_fill_pairs(int tr, dc_idx n, dc_idx k, dc_idx s, dc_idx d, dc_idx pb,
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
static inline dc_idx dc_fill_width(dc_taps *p, int tr, dc_idx n, dc_idx k, dc_idx s, dc_idx d,
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
            p->wruns[nw].t = t; p->wruns[nw].xoff = i0 + lo;
            p->wruns[nw].aoff = base + lo; p->wruns[nw].len = hi - lo;
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
            p->wruns[nw].t = t; p->wruns[nw].xoff = off + lo * s;
            p->wruns[nw].aoff = lo; p->wruns[nw].len = hi - lo;
            total += hi - lo; nw++;
        }
        p->xstride = s;
    }
    p->nwrun = nw;
    return total;
}

/* The tap lists of the problem's geometry.  Returns 0, or -1 when out of memory. */
static inline int dc_taps_build(dc_taps *p, const dc_problem *pr) {
    const int tr = pr->op == DC_OP_TCONV;
    const dc_idx *n = pr->n, *k = pr->k, *s = pr->s, *d = pr->d, *pb = pr->pb, *no = pr->no;
    dc_idx cd = dc_count_pairs(tr, n[0], k[0], s[0], d[0], pb[0], no[0]);
    dc_idx ch = dc_count_pairs(tr, n[1], k[1], s[1], d[1], pb[1], no[1]);
    size_t words = (size_t)(no[0] + 1 + 2 * cd + no[1] + 1 + 2 * ch);
    size_t bytes = words * sizeof(dc_idx) + (size_t)k[2] * sizeof(dc_wrun);
    char *mem = (char *)malloc(bytes ? bytes : 1);
    if (!mem) return -1;
    p->mem = mem;
    p->wruns = (dc_wrun *)mem;
    p->dptr = (dc_idx *)(mem + (size_t)k[2] * sizeof(dc_wrun));
    p->dpairs = p->dptr + no[0] + 1;
    p->hptr = p->dpairs + 2 * cd;
    p->hpairs = p->hptr + no[1] + 1;
    p->acc_len = no[2];
    dc_fill_pairs(tr, n[0], k[0], s[0], d[0], pb[0], no[0], p->dptr, p->dpairs);
    dc_fill_pairs(tr, n[1], k[1], s[1], d[1], pb[1], no[1], p->hptr, p->hpairs);
    p->taps_total = cd * ch * dc_fill_width(p, tr, n[2], k[2], s[2], d[2], pb[2], no[2]);
    return 0;
}

static inline void dc_taps_free(dc_taps *p) {
    free(p->mem);
    p->mem = NULL;
}

/* The largest numbers of depth and height (tap, input index) pairs of any output index. */
static inline void dc_taps_max_pairs(const dc_taps *p, dc_idx no0, dc_idx no1, dc_idx *maxnd,
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

/* The r-th index of 0..n-1 listed phase-major for stride s (0, s, 2s, ..., 1, 1+s, ...). */
static inline dc_idx dc_phase_major(dc_idx r, dc_idx n, dc_idx s) {
    if (s <= 1) return r;
    dc_idx full = n / s, rem = n % s, big = rem * (full + 1);
    if (r < big) return (r % (full + 1)) * s + r / (full + 1);
    r -= big;
    return (r % full) * s + rem + r / full;
}

#endif /* DC_TAPS_H */
