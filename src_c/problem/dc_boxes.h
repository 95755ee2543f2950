/*
 * Boxes: the phase decomposition in every dim, for the channels-last kernel.
 *
 * Output o = r + m*s of phase r receives, from tap t with (r + pb - t*d) divisible by
 * s, the input i = m + c_t, c_t = (r + pb - t*d)/s, for the m where 0 <= m + c_t < n.
 * Along each dim a phase's positions m split into intervals on which the set of such
 * taps is constant; a "box" is one interval per dim of one phase combination: all its
 * pixels reach the same taps (a "pattern"), every one of them a real input pixel.
 *
 * Read the other way, the same boxes serve a forward convolution: one phase (the
 * output itself), output m reading input m*s + c_t, c_t = t*d - pb.
 */
#ifndef DC_BOXES_H
#define DC_BOXES_H

#include <stdlib.h>
#include <string.h>

#include "dc_problem.h"

typedef struct {
    dc_idx r;                /* phase                                                */
    dc_idx lo, hi;           /* its positions m in [lo, hi)                          */
    dc_idx tap0, ntap;       /* its taps: ctaps[tap0 .. tap0+ntap-1]                 */
} dc_civl;

typedef struct {
    dc_idx t, c;             /* tap, and input index = m + c                         */
} dc_ctap;

typedef struct {
    dc_idx x;                /* input offset of the tap in pixels, channels-last     */
    dc_idx t;                /* flat tap index (td*kh + th)*kw + tw                  */
} dc_cterm;

/* Per dim: the intervals of all phases (phase-major, positions ascending) and, for
 * dims 0 and 1, the interval of every output index; boxes are all combinations
 * (i0, i1, i2) of one interval per dim, box b = (i0*nivl[1] + i1)*nivl[2] + i2, its
 * pattern terms[term0[b] .. term0[b+1]). */
typedef struct {
    dc_civl *ivl[3];
    dc_idx nivl[3];
    dc_idx *ivl_of[2];       /* output index -> interval, dims 0 and 1               */
    dc_idx *first1;          /* dim 1: first interval of phase r, r <= phases (+1 end) */
    dc_idx *term0;           /* per box, nbox + 1 entries                            */
    dc_cterm *terms;
    dc_idx nbox;
    void *mem;
} dc_boxes;

/* Whether tap t reaches positions of phase r (transposed: output r + m*s) or of the
 * output (forward, r = 0: output m), and then the input offset c (input index
 * m + c, transposed, or m*s + c, forward) and the positions [lo, hi) of the M where
 * that input is a real pixel. */
static inline int dc_box_tap(int tr, dc_idx r, dc_idx t, dc_idx n, dc_idx s, dc_idx d,
                             dc_idx pb, dc_idx M, dc_idx *c, dc_idx *lo, dc_idx *hi) {
    if (tr) {
        const dc_idx num = r + pb - t * d;
        if (num % s != 0) return 0;
        *c = num / s;
        *lo = *c < 0 ? -*c : 0;
        *hi = n - *c < M ? n - *c : M;
    } else {
        *c = t * d - pb;
        *lo = *c >= 0 ? 0 : (-*c + s - 1) / s;
        *hi = n - 1 - *c < 0 ? 0 : (n - 1 - *c) / s + 1;
        if (*hi > M) *hi = M;
    }
    return *hi > *lo;
}

/* Intervals of one dim (capacity phases*(2kp+1), kp the most taps of one phase; taps
 * capacity that times kp), phase by phase; bpts is scratch of 2k+2.  A forward
 * convolution has one phase, the output itself.  Returns the number of intervals. */
static inline dc_idx dc_cl_dim(int tr, dc_idx n, dc_idx k, dc_idx s, dc_idx d, dc_idx pb,
                               dc_idx no, dc_civl *ivl, dc_ctap *ctp, dc_idx *bpts) {
    dc_idx nivl = 0, ntp = 0;
    for (dc_idx r = 0; r < (tr ? s : 1) && r < no; r++) {
        const dc_idx M = tr ? (no - r + s - 1) / s : no;
        dc_idx nb = 0, c, lo, hi;
        bpts[nb++] = 0;
        bpts[nb++] = M;
        for (dc_idx t = 0; t < k; t++) {
            if (!dc_box_tap(tr, r, t, n, s, d, pb, M, &c, &lo, &hi)) continue;
            bpts[nb++] = lo;
            bpts[nb++] = hi;
        }
        /* insertion sort of the breakpoints (a few dozen at most) */
        for (dc_idx i = 1; i < nb; i++)
            for (dc_idx j = i; j > 0 && bpts[j - 1] > bpts[j]; j--) {
                dc_idx tmp = bpts[j]; bpts[j] = bpts[j - 1]; bpts[j - 1] = tmp;
            }
        for (dc_idx i = 0; i + 1 < nb; i++) {
            const dc_idx a = bpts[i], b = bpts[i + 1];
            if (b <= a) continue;
            dc_civl *iv = &ivl[nivl++];
            iv->r = r;
            iv->lo = a;
            iv->hi = b;
            iv->tap0 = ntp;
            for (dc_idx t = 0; t < k; t++) {
                if (!dc_box_tap(tr, r, t, n, s, d, pb, M, &c, &lo, &hi)) continue;
                if (lo <= a && b <= hi) {
                    ctp[ntp].t = t;
                    ctp[ntp].c = c;
                    ntp++;
                }
            }
            iv->ntap = ntp - iv->tap0;
        }
    }
    return nivl;
}

static inline void dc_boxes_free(dc_boxes *g) {
    free(g->mem);
    g->mem = NULL;
}

/* The geometry of a transposed (tr) or forward convolution (3-D: input n, kernel k,
 * stride s, dilation d, pad-before pb, output no).  Returns 0, or -1 when out of
 * memory. */
static inline int dc_boxes_build(dc_boxes *g, int tr, const dc_idx *n, const dc_idx *k,
                                 const dc_idx *s, const dc_idx *d, const dc_idx *pb,
                                 const dc_idx *no) {
    dc_idx cap_ivl[3], cap_tap[3];
    size_t bytes = 0;
    for (int j = 0; j < 3; j++) {
        const dc_idx ph = (tr ? s[j] : 1) < no[j] ? (tr ? s[j] : 1) : no[j];
        /* a phase is reached by every (s/gcd(s, d))-th tap only: at most kp of them,
         * 2*kp + 2 breakpoints, 2*kp + 1 intervals of at most kp taps each */
        dc_idx a = s[j], b = d[j];
        while (b) { const dc_idx r = a % b; a = b; b = r; }
        const dc_idx kp = tr && k[j] / (s[j] / a) + 1 < k[j] ? k[j] / (s[j] / a) + 1 : k[j];
        cap_ivl[j] = ph * (2 * kp + 1);
        cap_tap[j] = cap_ivl[j] * kp;
        bytes += (size_t)cap_ivl[j] * sizeof(dc_civl) + (size_t)cap_tap[j] * sizeof(dc_ctap)
                 + (size_t)(2 * k[j] + 2) * sizeof(dc_idx);
    }
    char *tmp = (char *)malloc(bytes + 64);
    if (!tmp) return -1;
    dc_civl *ivl[3];
    dc_ctap *ctp[3];
    char *q = tmp;
    for (int j = 0; j < 3; j++) {
        ivl[j] = (dc_civl *)q; q += (size_t)cap_ivl[j] * sizeof(dc_civl);
        ctp[j] = (dc_ctap *)q; q += (size_t)cap_tap[j] * sizeof(dc_ctap);
        g->nivl[j] = dc_cl_dim(tr, n[j], k[j], s[j], d[j], pb[j], no[j], ivl[j], ctp[j],
                               (dc_idx *)q);
        q += (size_t)(2 * k[j] + 2) * sizeof(dc_idx);
    }
    const dc_idx nbox = g->nivl[0] * g->nivl[1] * g->nivl[2];
    dc_idx nterm = 0;
    for (dc_idx i0 = 0; i0 < g->nivl[0]; i0++)
        for (dc_idx i1 = 0; i1 < g->nivl[1]; i1++)
            for (dc_idx i2 = 0; i2 < g->nivl[2]; i2++)
                nterm += ivl[0][i0].ntap * ivl[1][i1].ntap * ivl[2][i2].ntap;
    const size_t ivl_bytes = (size_t)(g->nivl[0] + g->nivl[1] + g->nivl[2]) * sizeof(dc_civl);
    const dc_idx s1 = tr ? s[1] : 1;     /* phases of dim 1 */
    g->mem = malloc(ivl_bytes + (size_t)(no[0] + no[1] + s1 + 1 + nbox + 1) * sizeof(dc_idx)
                    + (size_t)(nterm + 1) * sizeof(dc_cterm));
    if (!g->mem) {
        free(tmp);
        return -1;
    }
    char *m = (char *)g->mem;
    for (int j = 0; j < 3; j++) {
        g->ivl[j] = (dc_civl *)m;
        memcpy(g->ivl[j], ivl[j], (size_t)g->nivl[j] * sizeof(dc_civl));
        m += (size_t)g->nivl[j] * sizeof(dc_civl);
    }
    g->ivl_of[0] = (dc_idx *)m;
    g->ivl_of[1] = g->ivl_of[0] + no[0];
    g->first1 = g->ivl_of[1] + no[1];
    g->term0 = g->first1 + s1 + 1;
    g->terms = (dc_cterm *)(g->term0 + nbox + 1);
    g->nbox = nbox;
    for (int j = 0; j < 2; j++)
        for (dc_idx i = 0; i < g->nivl[j]; i++)
            for (dc_idx mm = g->ivl[j][i].lo; mm < g->ivl[j][i].hi; mm++)
                g->ivl_of[j][g->ivl[j][i].r + mm * (tr ? s[j] : 1)] = i;
    for (dc_idx r = 0, i = 0; r <= s1; r++) {
        while (i < g->nivl[1] && g->ivl[1][i].r < r) i++;
        g->first1[r] = i;
    }
    dc_idx tt = 0, b = 0;
    for (dc_idx i0 = 0; i0 < g->nivl[0]; i0++)
        for (dc_idx i1 = 0; i1 < g->nivl[1]; i1++)
            for (dc_idx i2 = 0; i2 < g->nivl[2]; i2++, b++) {
                const dc_civl *a = &ivl[0][i0], *bb = &ivl[1][i1], *c = &ivl[2][i2];
                g->term0[b] = tt;
                for (dc_idx u0 = 0; u0 < a->ntap; u0++)
                    for (dc_idx u1 = 0; u1 < bb->ntap; u1++)
                        for (dc_idx u2 = 0; u2 < c->ntap; u2++) {
                            const dc_ctap *e0 = &ctp[0][a->tap0 + u0];
                            const dc_ctap *e1 = &ctp[1][bb->tap0 + u1];
                            const dc_ctap *e2 = &ctp[2][c->tap0 + u2];
                            g->terms[tt].x = (e0->c * n[1] + e1->c) * n[2] + e2->c;
                            g->terms[tt].t = (e0->t * k[1] + e1->t) * k[2] + e2->t;
                            tt++;
                        }
            }
    g->term0[nbox] = tt;
    free(tmp);
    return 0;
}

#endif /* DC_BOXES_H */
