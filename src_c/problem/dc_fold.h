/*
 * Folding a 1-D transposed convolution whose stride divides its kernel (the inverse
 * STFT shape, dc_foldable in problem/dc_shapes.h) into a channel-heavy stride-1 one.
 *
 * With kernel k = m*fs for the stride fs (dilation 1), output o = q*fs + r + off
 * receives x[i] w[t*fs + r] for q = i + t: so the call is a stride-1 transposed
 * convolution with m taps and fs*C_out_g "virtual" output channels c*fs + r, whose
 * output [q][c*fs + r] is, per real channel, the real output row itself (shifted by
 * off): C_out small and fs large becomes channel-heavy.  The channels-last kernel runs
 * the folded problem and writes the real rows directly (kernels/chlast/fold.h).
 */
#ifndef DC_FOLD_H
#define DC_FOLD_H

#include "dc_problem.h"

typedef struct {
    dc_idx s;                /* the real stride, fs                                  */
    dc_idx off;              /* real output index of virtual pixel 0, channel 0      */
    dc_idx nout;             /* real output length                                   */
} dc_fold;

/* The folded problem v of a foldable problem p: virtual pixels q in [q_lo, q_hi), the
 * ones whose outputs q*s + r - pb meet [0, nout), and C_out_g*s virtual output
 * channels; and the fold that maps them back. */
static inline void dc_fold_problem(const dc_problem *p, dc_problem *v, dc_fold *f) {
    const dc_idx fs = p->s[2], pb = p->pb[2], nout = p->no[2];
    const dc_idx q_lo = dc_floordiv(pb, fs);
    const dc_idx q_hi = -dc_floordiv(-(nout + pb), fs);
    *v = *p;
    v->cout_g = p->cout_g * fs;
    v->k[2] = p->k[2] / fs;
    v->s[2] = 1;
    v->pb[2] = q_lo;
    v->no[2] = q_hi - q_lo;
    dc_problem_derive(v);
    f->s = fs;
    f->off = q_lo * fs - pb;
    f->nout = nout;
}

#endif /* DC_FOLD_H */
