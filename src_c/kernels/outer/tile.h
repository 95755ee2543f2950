/*
 * The weight-gradient outer-product tiles, for one dtype and ISA (instantiated by
 * isa/dc_isa_kernels.h): R broadcast channels x V vectors of lane channels, the tiles
 * of kernels/outer/tiles.h.  See kernels/outer/loop.h.  No include guard on purpose.
 */

typedef void (*DC_FN(dc_op_fn))(const DC_T *, const DC_T *, dc_idx, dc_idx, dc_idx, dc_idx,
                                dc_idx, dc_idx, DC_T *, dc_idx);

/* acc[R][V] (kept at acc, rows acc_stride apart) += over rows r < nrows and positions
 * i < len: u[r*urow + i*us + j] (broadcast, j < R) times the V vectors at
 * v + r*vrow + i*vs (u, v: the broadcast and the lane operand).  Every lane sums its
 * terms in the order (r, i). */
static DC_INLINE void DC_FN(dc_op_body)(const DC_T *u, const DC_T *v, dc_idx nrows,
                                        dc_idx urow, dc_idx vrow, dc_idx len, dc_idx us,
                                        dc_idx vs, DC_T *acc, dc_idx acc_stride, const int R,
                                        const int V) {
    DC_V a[DC_OUTER_MAX_R][DC_OUTER_MAX_V];
#pragma GCC unroll 24
    for (int j = 0; j < R; j++)
#pragma GCC unroll 4
        for (int q = 0; q < V; q++) a[j][q] = DC_LOADU(acc + j * acc_stride + q * DC_VL);
    for (dc_idx r = 0; r < nrows; r++) {
        const DC_T *ur = u + r * urow, *vr = v + r * vrow;
        for (dc_idx i = 0; i < len; i++, ur += us, vr += vs) {
            DC_V vv[DC_OUTER_MAX_V];
#pragma GCC unroll 4
            for (int q = 0; q < V; q++) vv[q] = DC_LOADU(vr + q * DC_VL);
#pragma GCC unroll 24
            for (int j = 0; j < R; j++) {
                const DC_V b = DC_SET1(ur[j]);
#pragma GCC unroll 4
                for (int q = 0; q < V; q++) a[j][q] = DC_FMA(b, vv[q], a[j][q]);
            }
        }
    }
#pragma GCC unroll 24
    for (int j = 0; j < R; j++)
#pragma GCC unroll 4
        for (int q = 0; q < V; q++) DC_STOREU(acc + j * acc_stride + q * DC_VL, a[j][q]);
}

#define DC_OP_INST(R, V) \
    static DC_TARGET void DC_UKERNEL(wgrad, outer, R, V)(const DC_T *u, const DC_T *v, \
                                                        dc_idx nrows, dc_idx urow, \
                                                        dc_idx vrow, dc_idx len, dc_idx us, \
                                                        dc_idx vs, DC_T *acc, \
                                                        dc_idx acc_stride) { \
        DC_FN(dc_op_body)(u, v, nrows, urow, vrow, len, us, vs, acc, acc_stride, R, V); \
    }
DC_TILES(outer)(DC_OP_INST)
#undef DC_OP_INST

/* The tile of V vectors of v's channels, and its R. */
static DC_FN(dc_op_fn) DC_FN(dc_op_pick)(int V, int *R) {
#define DC_OP_CASE(r, v) if (V == (v)) { *R = (r); return DC_UKERNEL(wgrad, outer, r, v); }
    DC_TILES(outer)(DC_OP_CASE)
#undef DC_OP_CASE
    *R = 0;
    return NULL;
}
