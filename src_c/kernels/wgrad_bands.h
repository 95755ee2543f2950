/*
 * The weight-gradient kernels' split of the work (wgrad direct, kernels/rows/wgrad.h;
 * wgrad depthwise, kernels/depthwise/wgrad.h): tasks are (group, c1, c2) pairs x bands
 * of the (n, p0, p1) rows, bands only when the pairs are too few to share out, fixed
 * by the shape and never by the thread count; each task's partial sums are added band
 * by band, then lane by lane pairwise.  For one dtype (DC_T, DC_SUF): no include guard
 * on purpose.
 */

/* Bands per pair, for pairs (group, c1, c2) and rows (n, p0, p1). */
static inline dc_idx DC_FN(dc_wg_bands)(dc_idx pairs, dc_idx rows) {
    return pairs >= 16 ? 1 : (rows < 16 ? rows : 16);
}

/* Task `task`: its pair (returned: pair = (grp*C1g + c1)*C2g + c2, the out layout
 * (G*C1g, C2g, K)), the pair's indices and its rows [*row0, *row1). */
static inline dc_idx DC_FN(dc_wg_task_of)(dc_idx task, dc_idx bands, dc_idx rows,
                                          dc_idx C1g, dc_idx C2g, dc_idx *grp, dc_idx *c1,
                                          dc_idx *c2, dc_idx *row0, dc_idx *row1) {
    const dc_idx band = task % bands, pair = task / bands;
    *row0 = rows * band / bands;
    *row1 = rows * (band + 1) / bands;
    *c2 = pair % C2g;
    *c1 = (pair / C2g) % C1g;
    *grp = pair / (C2g * C1g);
    return pair;
}

/* The total of one weight element: lanes partial sums per band, the bands bstride
 * elements apart, added in a fixed order (bands, then pairwise halving). */
static inline DC_T DC_FN(dc_wg_total)(const DC_T *first, dc_idx bands, size_t bstride,
                                      int lanes) {
    DC_T lane[64];
    for (int j = 0; j < lanes; j++) lane[j] = first[j];
    for (dc_idx b = 1; b < bands; b++)
        for (int j = 0; j < lanes; j++) lane[j] += first[b * bstride + j];
    for (int h = lanes / 2; h >= 1; h /= 2)
        for (int j = 0; j < h; j++) lane[j] += lane[j + h];
    return lane[0];
}

/* out[pair*K + t] for pairs x K taps: tap t of task (pair*bands + band) has its lanes
 * partial sums at parts + (pair*bands + band)*tstride + t*lanes, totalled by
 * dc_wg_total.  A worksharing loop of the caller's parallel region. */
static inline void DC_FN(dc_wg_reduce)(const DC_T *parts, dc_idx pairs, dc_idx bands,
                                       dc_idx K, size_t tstride, int lanes, DC_T *out) {
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
    for (dc_idx pair = 0; pair < pairs; pair++)
        for (dc_idx t = 0; t < K; t++)
            out[pair * K + t] = DC_FN(dc_wg_total)(parts + (size_t)pair * bands * tstride
                                                   + (size_t)t * lanes, bands, tstride, lanes);
}
