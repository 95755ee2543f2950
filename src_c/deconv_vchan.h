/*
 * Input-stationary transposed convolution for few output channels and a deep channel
 * reduction ("virtual channels"), AVX2+FMA or AVX-512.
 *
 * With 3 output channels (a GAN's RGB output layer) the output-stationary blocked
 * kernel (deconv_blocked.h) loads a shifted, mostly cache-line-splitting input vector
 * for every 3 multiply-adds, and every chunk of a 32-pixel row is a border chunk
 * with masked loads.  Here the vector lanes are INPUT pixels of a row instead, at
 * their own aligned positions, and the registers hold, for each of them, its
 * contribution to every (output channel, width tap) pair: the "virtual channels",
 * C_out/groups x width taps of them.  For one output row (n, group, depth, height)
 * the reduction runs over the (depth, height) tap pairs that reach the row (the
 * plan's pairs: only real input rows) and the input channels; each step loads U
 * input vectors and broadcasts VB weights for VB x U multiply-adds, with no shift
 * and no mask inside the loop.  Then each virtual channel (c, width tap t) is added
 * into channel c's phase-major row buffer at its tap's offset: lane j goes to
 * position m = j - c_t of the tap's width phase (deconv_blocked.h), under a lane
 * mask [lo, hi) of the positions the tap really reaches; the buffer is interleaved
 * into the output row with the bias (dc_bfinish), each element written once.
 *
 * No inserted zero and no padding is multiplied: a lane outside the input row (the
 * last block of a row) loads 0, and its products are masked out before they reach
 * the buffer (so an inf weight never meets them).  The packed weights ([group]
 * [depth x height tap][input channel][virtual channel]) are the weights' size; per
 * thread there is one row buffer per output channel of a group.
 *
 * An output element sums, tap by tap in width-tap order, the products of the pairs
 * in plan order and the input channels in order: the sequence is fixed by the shape,
 * whatever the thread count, the vector width or the blocking, so results are
 * bit-identical for any num_threads and on either ISA.
 */
#ifndef DECONV_VCHAN_H
#define DECONV_VCHAN_H

#include "deconv_blocked.h"

/* Where virtual channel v's lanes go: lane (input pixel) j adds into buf[off + j] of
 * the thread's row buffers when jlo <= j < jhi. */
typedef struct {
    dc_idx off, jlo, jhi;
} dc_vcdst;

#if DC_BLOCKED_COMPILED

#define DC_TEMPLATE "deconv_vchan_t.h"
#include "deconv_avx2_inst.h"
#include "deconv_avx512_inst.h"
#undef DC_TEMPLATE

DC_ISA_DISPATCH(dc_vchan_tr)

#else  /* not compiled: the blocked stubs, same signature, never called */
#define dc_vchan_tr_f32 dc_blocked_tr_f32
#define dc_vchan_tr_f64 dc_blocked_tr_f64
#endif

#endif /* DECONV_VCHAN_H */
