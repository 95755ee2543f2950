/*
 * Register tiles of the blocked kernel: X(C, U) = C output channels x U vectors of a
 * width phase (RB rows at a time where the registers allow, kernels/blocked/tile.h).
 * The same list for both x86 ISAs.  The depthwise kernel's chunk widths (U) come from
 * this list too, with C = 1 (kernels/width/chunks.h).
 */
#ifndef DC_BLOCKED_TILES_H
#define DC_BLOCKED_TILES_H

#include "../../problem/dc_problem.h"

#define DC_TILES_blocked(X) \
    X(1, 1) X(1, 2) X(1, 3) X(1, 4) X(1, 8) \
    X(2, 1) X(2, 2) X(2, 3) X(2, 4) \
    X(3, 1) X(3, 2) X(3, 3) \
    X(4, 1) X(4, 2) X(4, 3)
#define DC_TILES_blocked_avx2(X) DC_TILES_blocked(X)
#define DC_TILES_blocked_avx512(X) DC_TILES_blocked(X)

/* The smallest chunk width U >= need with a C-channel tile, or 0. */
static inline int dc_blocked_tail_u(int C, dc_idx need) {
    int best = 0;
#define DC_TAIL_U(c, u) if ((c) == C && (u) >= need && (best == 0 || (u) < best)) best = (u);
    DC_TILES_blocked(DC_TAIL_U)
#undef DC_TAIL_U
    return best;
}
#endif
