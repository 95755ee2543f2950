/*
 * Width phases of a transposed convolution, for the kernels vectorised along the width
 * (blocked, depthwise, virtual channels).
 *
 * Phase (sub-pixel) decomposition along the width: output o = q + m*s of residue q
 * ("phase q") gets, from tap t of that phase, w[t] * x[m + c_t] with c_t fixed, so for
 * each phase the width direction is a dense stride-1 correlation over the ORIGINAL
 * input (no inserted zero exists anywhere).  A phase's outputs are stored phase-major
 * (all of phase 0, then phase 1, ...) and interleaved once when a row is written
 * (kernels/width/store.h).
 */
#ifndef DC_PHASES_H
#define DC_PHASES_H

#include "dc_problem.h"

/* One width tap of a phase: input index i = m + c for phase position m, valid for
 * lo <= m < hi (0 <= lo, hi <= phase length). */
typedef struct {
    dc_idx t, c, lo, hi;
} dc_wtap;

typedef struct {
    dc_idx base, len;        /* offset of the phase in the phase-major row; length */
    dc_idx tap0, ntap;       /* its taps: taps[tap0 .. tap0+ntap-1], t ascending     */
    dc_idx lmax, hmin;       /* chunk [m0, m0+W) is interior iff lmax<=m0, m0+W<=hmin */
    dc_idx chunk0, nchunk;   /* its full-width chunks in the call's chunk table      */
    int ut;                  /* 0, or the U of a narrower last chunk (chunk0+nchunk) */
} dc_wphase;

typedef struct {
    dc_idx m0;               /* first phase position of the chunk                    */
    dc_idx moff;             /* -1: interior; else offset of its masks and kinds     */
} dc_wchunk;

/* Width phases of a transposed convolution: input length n, kernel k, stride s,
 * dilation d, pad-before pb, output length no.  ph has s entries, taps k. */
static inline void dc_wphases(dc_idx n, dc_idx k, dc_idx s, dc_idx d, dc_idx pb, dc_idx no,
                              dc_wphase *ph, dc_wtap *taps) {
    dc_idx full = no / s, rem = no % s, nt = 0;
    for (dc_idx q = 0; q < s; q++) {
        dc_wphase *P = &ph[q];
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

#endif /* DC_PHASES_H */
