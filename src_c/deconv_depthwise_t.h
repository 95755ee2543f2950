/*
 * Depthwise transposed-convolution driver for one dtype and ISA; instantiated by
 * deconv_depthwise.h through deconv_avx2_inst.h and deconv_avx512_inst.h (DC_T,
 * DC_SUF, DC_V, DC_VL, DC_MASK_T and the intrinsic macros), after deconv_blocked_t.h,
 * whose helpers (phases, chunk table, weight packing, finish) it uses.  No include
 * guard on purpose.  See deconv_depthwise.h.
 */
#define DC_DCAT2(a, b) a##_##b
#define DC_DCAT(a, b) DC_DCAT2(a, b)
#define DC_DFN(name) DC_DCAT(name, DC_SUF)

/* One term of a run's reduction for one width phase: w * x[xb + x + m]. */
typedef struct {
    dc_idx x;
    DC_T w;
} DC_DFN(dc_dterm);

typedef struct {
    const DC_T *xb;                /* input at the run's first row                      */
    dc_idx xrs;                    /* input row stride: the next row of the run         */
    DC_T *acc;                     /* the phase in the run's first row buffer           */
    dc_idx accrow;                 /* between row buffers                               */
    const dc_bchunk *chunks;       /* the call's chunk table, masks and kinds           */
    const DC_MASK_T *masks;        /* (deconv_blocked_t.h: dc_bchunks)                  */
    const signed char *kinds;
    const DC_DFN(dc_dterm) *terms; /* the phase's terms, tap-major: [e][pair]           */
    dc_idx np, ntap;               /* pairs (channel, depth, height) per tap; taps      */
    int finite;                    /* all weights finite                                */
} DC_DFN(dc_dwctx);

typedef void (*DC_DFN(dc_dw_fn))(const DC_DFN(dc_dwctx) *, dc_idx, dc_idx, dc_idx, dc_idx);

/* The terms te[0..np) of one width tap into the RB x U accumulators a; MODE 0: every
 * lane valid; 1: masked loads (lanes outside the input load 0, and w*0 = +-0 added to
 * a sum that starts at +0 changes nothing: finite weights); 2: masked loads, and
 * those lanes keep their value (blend). */
static DC_BINL void DC_DFN(dc_dw_tap)(DC_V a[8][8], const DC_DFN(dc_dterm) *te, dc_idx np,
                                      const DC_T *xc, dc_idx xrs, const DC_MASK_T *me,
                                      const int RB, const int U, const int MODE) {
    for (dc_idx l = 0; l < np; l++) {
        const DC_V wv = DC_SET1(te[l].w);
        const DC_T *xp = xc + te[l].x;
#pragma GCC unroll 8
        for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
            for (int u = 0; u < U; u++) {
                const DC_T *xa = xp + j * xrs + u * DC_VL;
                if (MODE == 0) {
                    a[j][u] = DC_FMA(wv, DC_LOADU(xa), a[j][u]);
                } else {
                    const DC_V v = DC_FMA(wv, DC_MLOAD(xa, me[u]), a[j][u]);
                    a[j][u] = MODE == 1 ? v : DC_BLEND(a[j][u], v, me[u]);
                }
            }
    }
}

/* Chunks [cbeg, cend) of one phase for rows [r0, r1) of a run, RB rows at a time
 * (r1 - r0 a multiple of RB): RB x U accumulators, one broadcast weight per term for
 * all of them.  The terms go in list order in every chunk, and a lane outside the
 * input never changes its sum (dc_dw_tap), so a lane's value depends only on its
 * position. */
static DC_BINL void DC_DFN(dc_dw_body)(const DC_DFN(dc_dwctx) *cx, dc_idx cbeg,
                                       dc_idx cend, dc_idx r0, dc_idx r1, const int RB,
                                       const int U) {
    /* local copy: the vector stores may alias the context */
    const DC_DFN(dc_dwctx) cl = *cx;
    const dc_idx np = cl.np, ntap = cl.ntap;
    for (dc_idx r = r0; r < r1; r += RB) {
        const DC_T *xr = cl.xb + r * cl.xrs;
        DC_T *acc = cl.acc + r * cl.accrow;
        for (dc_idx ch = cbeg; ch < cend; ch++) {
            const dc_idx m0 = cl.chunks[ch].m0, mo = cl.chunks[ch].moff;
            const DC_T *xc = xr + m0;
            DC_V a[8][8];
#pragma GCC unroll 8
            for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++) a[j][u] = DC_ZERO();
            for (dc_idx e = 0; e < ntap; e++) {
                const DC_DFN(dc_dterm) *te = cl.terms + e * np;
                /* kinds: 0 no lane of the chunk valid, 1 all, 2 some (deconv_blocked_t.h) */
                const int kind = mo < 0 ? 1 : cl.kinds[mo + ntap * U + e];
                const DC_MASK_T *me = cl.masks + (mo < 0 ? 0 : mo + e * U);
                if (kind == 1)
                    DC_DFN(dc_dw_tap)(a, te, np, xc, cl.xrs, me, RB, U, 0);
                else if (kind == 2 && cl.finite)
                    DC_DFN(dc_dw_tap)(a, te, np, xc, cl.xrs, me, RB, U, 1);
                else if (kind == 2)
                    DC_DFN(dc_dw_tap)(a, te, np, xc, cl.xrs, me, RB, U, 2);
            }
#pragma GCC unroll 8
            for (int j = 0; j < RB; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++)
                    DC_STOREU(acc + j * cl.accrow + m0 + u * DC_VL, a[j][u]);
        }
    }
}

#define DC_DW_INST(RB, U) \
    static DC_BTGT void DC_DFN(dc_dw_##RB##_##U)(const DC_DFN(dc_dwctx) *cx, dc_idx cbeg, \
                                                dc_idx cend, dc_idx r0, dc_idx r1) { \
        DC_DFN(dc_dw_body)(cx, cbeg, cend, r0, r1, RB, U); \
    }
DC_DW_INST(1, 1) DC_DW_INST(1, 2) DC_DW_INST(1, 3) DC_DW_INST(1, 4) DC_DW_INST(1, 8)
DC_DW_INST(8, 1) DC_DW_INST(4, 2) DC_DW_INST(2, 3) DC_DW_INST(2, 4)
#undef DC_DW_INST

/* Rows blocked together for chunks of U vectors: RB*U accumulators up to 8. */
static inline int DC_DFN(dc_dw_rb)(int U) {
    return U == 1 ? 8 : (U == 2 ? 4 : (U <= 4 ? 2 : 1));
}

static DC_DFN(dc_dw_fn) DC_DFN(dc_dw_pick)(int RB, int U) {
    switch (RB * 16 + U) {
    case 17: return DC_DFN(dc_dw_1_1);
    case 18: return DC_DFN(dc_dw_1_2);
    case 19: return DC_DFN(dc_dw_1_3);
    case 20: return DC_DFN(dc_dw_1_4);
    case 24: return DC_DFN(dc_dw_1_8);
    case 129: return DC_DFN(dc_dw_8_1);
    case 66: return DC_DFN(dc_dw_4_2);
    case 35: return DC_DFN(dc_dw_2_3);
    case 36: return DC_DFN(dc_dw_2_4);
    default: return NULL;
    }
}

/* Chunks [cbeg, cend) of U vectors for the nrows rows of a run. */
static DC_BTGT void DC_DFN(dc_dw_rows)(const DC_DFN(dc_dwctx) *cx, dc_idx cbeg, dc_idx cend,
                                       int U, dc_idx nrows) {
    const int RB = DC_DFN(dc_dw_rb)(U);
    const dc_idx full = nrows / RB * RB;
    if (cend <= cbeg) return;
    if (full > 0) DC_DFN(dc_dw_pick)(RB, U)(cx, cbeg, cend, 0, full);
    if (full < nrows) DC_DFN(dc_dw_pick)(1, U)(cx, cbeg, cend, full, nrows);
}

/* Transposed convolution of the whole batch into out (C-contiguous), 3-D geometry
 * (1-D/2-D with leading singleton dims), any cin_g (made for 1).  Returns 0, or -1
 * when out of memory. */
static DC_BTGT int DC_DFN(dc_depthwise_tr)(const dc_plan *p, const DC_T *x, const DC_T *w,
                                           const DC_T *bias, DC_T *out, dc_idx N,
                                           dc_idx groups, dc_idx cin_g, dc_idx cout_g,
                                           const dc_idx *n, const dc_idx *k,
                                           const dc_idx *s, const dc_idx *d,
                                           const dc_idx *pb, const dc_idx *no, int nt) {
    const dc_idx K = k[0] * k[1] * k[2], pin = n[0] * n[1] * n[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2], rows = no0 * no1;
    const dc_idx sw = s[2], xrs = n[2], xds = n[1] * n[2];
    if (N <= 0 || cout <= 0 || rows <= 0 || no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    char *mem = (char *)malloc((size_t)(2 * no0 + 3 * no1) * sizeof(dc_idx)
                               + (size_t)sw * sizeof(dc_bphase)
                               + (size_t)k[2] * sizeof(dc_btap)
                               + (size_t)(cout * cin_g * K) * sizeof(DC_T) + 64);
    if (!mem) return -1;
    /* output rows (and depth slices) in phase-major order: consecutive rows of a
     * height phase mostly have the same taps, on input rows moved by one, so one
     * micro-kernel call runs them all with one list of terms */
    dc_idx *dorder = (dc_idx *)mem, *horder = dorder + no0;
    dc_idx *dpos = horder + no1, *hpos = dpos + no0;     /* the inverse orders */
    dc_idx *hrun = hpos + no1;     /* rows from horder[i] on with its taps, moved by one */
    for (dc_idx i = 0; i < no0; i++) dpos[dorder[i] = dc_bphase_major(i, no0, s[0])] = i;
    for (dc_idx i = 0; i < no1; i++) hpos[horder[i] = dc_bphase_major(i, no1, s[1])] = i;
    for (dc_idx i = no1 - 1; i >= 0; i--) {
        const dc_idx oh = horder[i], nh = p->hptr[oh + 1] - p->hptr[oh];
        hrun[i] = i + 1 < no1 && horder[i + 1] == oh + s[1]
                  && p->hptr[oh + s[1] + 1] - p->hptr[oh + s[1]] == nh
                  && dc_pairs_shifted(p->hpairs + 2 * p->hptr[oh],
                                      p->hpairs + 2 * p->hptr[oh + s[1]], nh, 1)
                  ? hrun[i + 1] + 1 : 1;
    }
    dc_bphase *ph = (dc_bphase *)(hrun + no1);
    dc_btap *taps = (dc_btap *)(ph + sw);
    DC_T *wpk = (DC_T *)(((uintptr_t)(taps + k[2]) + 63) & ~(uintptr_t)63);
    dc_bphases(n[2], k[2], sw, d[2], pb[2], no2, ph, taps);
    dc_idx maxlen = 0, ntap_max = 0, maxnd, maxnh;
    for (dc_idx q = 0; q < sw; q++) {
        if (ph[q].len > maxlen) maxlen = ph[q].len;
        if (ph[q].ntap > ntap_max) ntap_max = ph[q].ntap;
    }
    dc_plan_max_pairs(p, no0, no1, &maxnd, &maxnh);
    /* chunk width as for a one-channel block; the rows blocked with it follow from U */
    const int U = DC_DCAT(dc_bpick_u, DC_SUF)(1, maxlen);
    const dc_idx W = (dc_idx)U * DC_VL;
    const int finite = DC_DCAT(dc_bpack, DC_SUF)(w, groups, cin_g, cout_g, K, 1, wpk);
    dc_bchunk *chunks;
    DC_MASK_T *masks;
    signed char *kinds;
    if (DC_DCAT(dc_bchunks, DC_SUF)(ph, sw, taps, ntap_max, 1, U, &chunks, &masks,
                                    &kinds) != 0) {
        free(mem);
        return -1;
    }

    /* per thread: up to R phase-major row buffers (64 KiB, in L2), and per phase the
     * terms of a run's reduction (width tap, input channel, depth pair, height pair) */
    const dc_idx acc_stride = no2 + W + DC_VL;
    dc_idx R = (dc_idx)(65536 / ((size_t)acc_stride * sizeof(DC_T)));
    R = R < 1 ? 1 : (R > 256 ? 256 : R);
    const dc_idx maxterms = cin_g * maxnd * maxnh * ntap_max + 1;
    const size_t abytes = ((size_t)R * acc_stride * sizeof(DC_T) + 63) & ~(size_t)63;
    const size_t per = (abytes + (size_t)sw * maxterms * sizeof(DC_DFN(dc_dterm)) + 63)
                       & ~(size_t)63;
    char *tbuf = (char *)malloc((size_t)nt * per + 64);
    if (!tbuf) {
        free(chunks); free(masks); free(kinds); free(mem);
        return -1;
    }
    /* a task: rows rt of one (n, c_out) output plane; planes are enough tasks for most
     * batches, a single big plane is cut into row blocks */
    const dc_idx planes = N * cout;
    dc_idx nrb = ((dc_idx)nt * 16 + planes - 1) / planes;
    if (nrb > rows) nrb = rows;
    const dc_idx rt = (rows + nrb - 1) / nrb;
    nrb = (rows + rt - 1) / rt;
    const dc_idx tasks = planes * nrb;
    /* dynamic chunks: a thread descheduled on a shared machine does not hold up the
     * call (which thread runs a task changes no result) */
    dc_idx tchunk = tasks / ((dc_idx)nt * 16);
    if (tchunk < 1) tchunk = 1;
    /* A task that is a whole plane whose rows all fit the buffers keeps them and writes
     * the plane at its end in output order, one contiguous stream. */
    const int whole = rt == rows && rows <= R;

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        char *tm = dc_thread_slice(tbuf, per);
        DC_T *acc = (DC_T *)tm;
        DC_DFN(dc_dterm) *terms = (DC_DFN(dc_dterm) *)(tm + abytes);
        DC_DFN(dc_dwctx) cx;
        cx.xrs = xrs;
        cx.accrow = acc_stride;
        cx.chunks = chunks; cx.masks = masks; cx.kinds = kinds;
        cx.finite = finite;
        /* the terms depend on the weights, the taps and the input indices relative to
         * the run's first row: kept while the plane and that pattern repeat */
        const dc_idx *kdp = NULL, *khp = NULL;
        dc_idx knd = -1, knh = -1, kplane = -1, np = 0;
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, tchunk)
#endif
        for (dc_idx r = 0; r < tasks; r++) {
            const dc_idx plane = r / nrb, rb = r % nrb;
            const dc_idx nn = plane / cout, co = plane % cout, grp = co / cout_g;
            const DC_T bval = bias ? bias[co] : (DC_T)0;
            const DC_T *xg = x + (nn * cin + grp * cin_g) * pin;
            const DC_T *wc = wpk + co * cin_g * K;
            const dc_idx i0 = rb * rt, iend = i0 + rt < rows ? i0 + rt : rows;
            dc_idx i = i0, di = i / no1, hi = i % no1;
            DC_T *oplane = out + plane * rows * no2;
            while (i < iend) {
                const dc_idx od = dorder[di], oh = horder[hi];
                const dc_idx *dp = p->dpairs + 2 * p->dptr[od];
                const dc_idx nd = p->dptr[od + 1] - p->dptr[od];
                const dc_idx *hp = p->hpairs + 2 * p->hptr[oh];
                const dc_idx nh = p->hptr[oh + 1] - p->hptr[oh];
                dc_idx nr = hrun[hi] < R ? hrun[hi] : R;
                if (nr > iend - i) nr = iend - i;
                if (!(plane == kplane && nd == knd && nh == knh && dc_pairs_same(dp, kdp, nd)
                      && dc_pairs_same(hp, khp, nh))) {
                    np = cin_g * nd * nh;
                    for (dc_idx q = 0; q < sw; q++) {
                        const dc_btap *tp = taps + ph[q].tap0;
                        DC_DFN(dc_dterm) *tq = terms + q * maxterms;
                        for (dc_idx e = 0; e < ph[q].ntap; e++)
                            for (dc_idx ci = 0; ci < cin_g; ci++)
                                for (dc_idx ia = 0; ia < nd; ia++)
                                    for (dc_idx ib = 0; ib < nh; ib++) {
                                        tq->x = ci * pin + (dp[2 * ia + 1] - dp[1]) * xds
                                                + (hp[2 * ib + 1] - hp[1]) * xrs + tp[e].c;
                                        tq->w = wc[ci * K + (dp[2 * ia] * k[1] + hp[2 * ib])
                                                   * k[2] + tp[e].t];
                                        tq++;
                                    }
                    }
                    kdp = dp; khp = hp;
                    knd = nd; knh = nh;
                    kplane = plane;
                }
                cx.xb = xg + (nd ? dp[1] : 0) * xds + (nh ? hp[1] : 0) * xrs;
                cx.np = np;
                DC_T *racc = acc + (whole ? i - i0 : 0) * acc_stride;
                for (dc_idx q = 0; q < sw; q++) {
                    cx.acc = racc + ph[q].base;
                    cx.terms = terms + q * maxterms;
                    cx.ntap = ph[q].ntap;
                    DC_DFN(dc_dw_rows)(&cx, ph[q].chunk0, ph[q].chunk0 + ph[q].nchunk, U, nr);
                    if (ph[q].ut) {
                        dc_idx tc = ph[q].chunk0 + ph[q].nchunk;
                        DC_DFN(dc_dw_rows)(&cx, tc, tc + 1, ph[q].ut, nr);
                    }
                }
                for (dc_idx rr = 0; rr < nr && !whole; rr++)
                    DC_DCAT(dc_bfinish, DC_SUF)(p, racc + rr * acc_stride,
                                                oplane + (od * no1 + oh + rr * s[1]) * no2,
                                                bval);
                i += nr;
                hi += nr;
                if (hi == no1) {
                    hi = 0;
                    di++;
                }
            }
            if (whole)
                for (dc_idx od = 0, o = 0; od < no0; od++)
                    for (dc_idx oh = 0; oh < no1; oh++, o++)
                        DC_DCAT(dc_bfinish, DC_SUF)(p, acc + (dpos[od] * no1 + hpos[oh])
                                                        * acc_stride, oplane + o * no2, bval);
        }
    }
    free(tbuf);
    free(chunks); free(masks); free(kinds);
    free(mem);
    return 0;
}

#undef DC_DFN
#undef DC_DCAT
#undef DC_DCAT2
