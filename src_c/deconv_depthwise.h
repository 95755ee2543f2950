/*
 * Depthwise transposed convolution (C_in/groups == 1), AVX2+FMA or AVX-512.
 *
 * With one input channel per group there is no channel reduction to keep registers
 * busy: an output element of a stride-2, 4x4 kernel is 4 multiply-adds, so per-row
 * and per-call set-up, the phase interleave and the output write decide the time.
 * The width is phase (sub-pixel) decomposed as in deconv_blocked.h (phase q, outputs
 * o = q + m*s, is a dense stride-1 correlation over the ORIGINAL input row; depth and
 * height taps come from the plan's pairs, which hold only taps that hit a real input
 * pixel; nothing grows with the zero-inserted or padded image), with that file's
 * phase tables, chunk table and lane masks.  What differs:
 *
 * - a task is one (n, c_out) output plane (or a block of its rows when the planes are
 *   too few for the threads); its rows go phase-major, so consecutive rows of a height
 *   phase have the same taps on input rows moved by one: a "run".  The terms of a run
 *   (width tap, input channel, depth pair, height pair: weight value and input offset)
 *   are built once per plane and pattern, not per row;
 * - the micro-kernel blocks rows instead of channels: RB rows x U vectors of one
 *   phase in registers, one broadcast weight per term for all of them (RB*U <= 8);
 *   border chunks use masked loads (finite weights) or masked loads and blends;
 * - a plane whose rows fit the per-thread buffers (64 KiB) is finished at the end of
 *   its task in output order, the phases interleaved in registers with the bias
 *   (dc_bfinish), one contiguous stream of full-vector stores.  Each output element
 *   is written once.
 *
 * Every output element is computed by one thread (tasks are whole rows), by a
 * sequence of operations fixed by the shape alone, so results are bit-identical for
 * any thread count.  The kernel is correct for any cin_g and cout_g; the planner
 * sends it C_in/groups == 1 with one output channel per group (from two, the blocked
 * kernel's input loads shared by its channel blocks win).
 *
 * Compiled for AVX2+FMA and for AVX-512F like deconv_blocked.h, with the same
 * run-time choice.
 */
#ifndef DECONV_DEPTHWISE_H
#define DECONV_DEPTHWISE_H

#include "deconv_blocked.h"

#if DC_BLOCKED_COMPILED

#define DC_TEMPLATE "deconv_depthwise_t.h"
#include "deconv_avx2_inst.h"
#include "deconv_avx512_inst.h"
#undef DC_TEMPLATE

DC_ISA_DISPATCH(dc_depthwise_tr)

#else  /* not compiled: the blocked stubs, same signature, never called */
#define dc_depthwise_tr_f32 dc_blocked_tr_f32
#define dc_depthwise_tr_f64 dc_blocked_tr_f64
#endif

#endif /* DECONV_DEPTHWISE_H */
