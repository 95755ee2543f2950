/*
 * Blocked transposed-convolution kernels for one dtype and ISA; instantiated by
 * deconv_blocked.h through deconv_avx2_inst.h and deconv_avx512_inst.h (DC_T, DC_SUF,
 * DC_TSUF, DC_V, DC_VL, DC_MASK_T and the intrinsic macros).  No include guard on
 * purpose.  See deconv_blocked.h for the method.
 */
#define DC_BCAT2(a, b) a##_##b
#define DC_BCAT(a, b) DC_BCAT2(a, b)
#define DC_BFN(name) DC_BCAT(name, DC_SUF)

typedef struct {
    const DC_T *x;                 /* input at (n, first input channel of the group) */
    dc_idx pin, cin_g, nh, nw;     /* channel stride, channels, input height, width   */
    const dc_idx *dp;              /* depth (tap, index) pairs of this output depth   */
    dc_idx nd;
    const dc_idx *hp;              /* height pairs of this output row                 */
    dc_idx nhp;
    dc_idx kh, kw, K;
    const DC_T *w;                 /* packed weights of the block: [ci][K][C]         */
    DC_T *acc;                     /* phase-major row buffer of channel 0 of block    */
    dc_idx acc_stride;             /* between the block's channels                    */
    const dc_bchunk *chunks;       /* chunk table of the call (per phase: P->chunk0)  */
    const DC_MASK_T *masks;        /* lane masks of border chunks, [e*U + u]          */
    const signed char *kinds;      /* per (e, u): 0 no lane, 1 all lanes, 2 some; and */
                                   /* per e at [nk + e]: 0 skip, 1 all full, 2 mixed  */
    const dc_boff *offs;           /* (x, w) offsets of the phase's reduction, in the */
    dc_idx noffs;                  /* order ci, depth pair, height pair, width tap    */
    const DC_T *xb;                /* base of the x offsets in offs (first row)       */
    dc_idx xcs, xrs, xds;          /* input strides: channel, height, depth           */
    dc_idx nrows;                  /* rows of one tap pattern: x moves by xrs per row, */
    dc_idx accrow;                 /* the row buffer by accrow                        */
    int finite;                    /* all weights finite                              */
} DC_BFN(dc_bctx);

typedef void (*DC_BFN(dc_bk_fn))(const DC_BFN(dc_bctx) *, const dc_bphase *,
                                 const dc_btap *, dc_idx, dc_idx);

/* Input channels per block of the term order (see dc_bk_body). */
#define DC_BK_CB 4

/* Rows of a run computed together by the blocked micro-kernel for blocks of C channels
 * and chunks of U vectors: as many as keep RB*C*U accumulators within the registers
 * (C broadcast weights and one input vector need the rest), at most 8. */
#define DC_BK_RB(C, U) ((DC_NVREG - 5) / ((C) * (U)) > 8 ? 8 \
                        : (DC_NVREG - 5) / ((C) * (U)) < 1 ? 1 : (DC_NVREG - 5) / ((C) * (U)))

/* One phase of rows rbeg..rend-1 of a run for C channels, chunks of U vectors, RB rows
 * at a time: the terms of a chunk are read once for RB rows (input moved by a row
 * each), each broadcast weight feeding RB*U multiply-adds.  (A group of fewer than RB
 * rows would repeat its last row: computed twice, stored twice, the same value.) */
static DC_BINL void DC_BFN(dc_bk_body)(const DC_BFN(dc_bctx) *cx, const dc_bphase *P,
                                       const dc_btap *tp, dc_idx cbeg, dc_idx cend,
                                       dc_idx rbeg, dc_idx rend,
                                       const int C, const int U, const int RB) {
    /* local copies: the vector stores below may alias anything (may_alias types), so
     * fields read through the pointers would be reloaded after every store */
    const DC_BFN(dc_bctx) cl = *cx;
    const dc_bphase Pl = *P;
    const dc_idx ntap = Pl.ntap;
    const dc_idx cin_g = cl.cin_g;
    const dc_idx kh = cl.kh, kw = cl.kw, K = cl.K, nd = cl.nd, nhp = cl.nhp;
    const dc_idx *dp = cl.dp, *hp = cl.hp;
    for (dc_idx row0 = rbeg; row0 < rend; row0 += RB) {
    dc_idx ro[8];                  /* the rows of this group */
#pragma GCC unroll 8
    for (int r = 0; r < RB; r++) ro[r] = row0 + r < rend ? row0 + r : rend - 1;
    for (dc_idx ch = cbeg; ch < cend; ch++) {
        const dc_idx m0 = cl.chunks[ch].m0;
        DC_V a[8][4][8];
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
            for (int j = 0; j < C; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++) a[r][j][u] = DC_ZERO();
        const DC_T *xc[8];
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++) xc[r] = cl.xb + ro[r] * cl.xrs + m0;
        if (cl.chunks[ch].moff < 0) {
            /* interior chunk: every tap is valid in every lane; the reduction is one
             * flat list, ordered (block of DC_BK_CB input channels, width tap, input
             * channel, depth pair, height pair): a block's input rows are read again
             * by its next tap while still in L1, and a tap's lane masks stay in
             * registers over a block (border chunks).  Every chunk kind adds the
             * terms in this order, so an output's value does not depend on the chunk
             * (or the vector width) that computed it. */
            const dc_boff *of = cl.offs;
            const dc_idx L = cl.noffs;
            for (dc_idx l = 0; l < L; l++) {
                const dc_idx xo = of[l].x;
                const DC_T *ww = cl.w + of[l].w;
                DC_V wb[4];
#pragma GCC unroll 8
                for (int j = 0; j < C; j++) wb[j] = DC_SET1(ww[j]);
#pragma GCC unroll 8
                for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
                    for (int u = 0; u < U; u++) {
                        const DC_V xv = DC_LOADU(xc[r] + xo + u * DC_VL);
#pragma GCC unroll 8
                        for (int j = 0; j < C; j++) a[r][j][u] = DC_FMA(wb[j], xv, a[r][j][u]);
                    }
            }
        } else if (cl.finite) {
            /* border chunk, finite weights: lanes outside the input load 0 (nothing is
             * read there) and add w*0 = +-0, which leaves the sum unchanged.  Per
             * channel block, a tap's terms are one segment of the list; a tap that
             * reaches no lane of the chunk is skipped. */
            const dc_idx mo = cl.chunks[ch].moff;
            const DC_MASK_T *mk = cl.masks + mo;
            const signed char *ek = cl.kinds + mo + ntap * U;
            const dc_boff *of = cl.offs;
            const dc_idx pairs = nd * nhp;
            dc_idx l = 0;
            for (dc_idx c0 = 0; c0 < cin_g; c0 += DC_BK_CB) {
                const dc_idx seg = (cin_g - c0 < DC_BK_CB ? cin_g - c0 : DC_BK_CB) * pairs;
                for (dc_idx e = 0; e < ntap; e++, l += seg) {
                    if (ek[e] == 0) continue;
                    DC_MASK_T me[8];
#pragma GCC unroll 8
                    for (int u = 0; u < U; u++) me[u] = mk[e * U + u];
                    for (dc_idx i = l; i < l + seg; i++) {
                        const dc_idx xo = of[i].x;
                        const DC_T *ww = cl.w + of[i].w;
                        DC_V wb[4];
#pragma GCC unroll 8
                        for (int j = 0; j < C; j++) wb[j] = DC_SET1(ww[j]);
#pragma GCC unroll 8
                        for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
                            for (int u = 0; u < U; u++) {
                                const DC_V xv = DC_MLOAD(xc[r] + xo + u * DC_VL, me[u]);
#pragma GCC unroll 8
                                for (int j = 0; j < C; j++)
                                    a[r][j][u] = DC_FMA(wb[j], xv, a[r][j][u]);
                            }
                    }
                }
            }
        } else {
            /* border chunk: per (tap, vector), lanes outside [lo, hi) keep their value */
            const dc_idx mo = cl.chunks[ch].moff;
            const DC_MASK_T *mk = cl.masks + mo;
            const signed char *kd = cl.kinds + mo, *ek = kd + ntap * U;
            for (dc_idx c0 = 0; c0 < cin_g; c0 += DC_BK_CB)
            for (dc_idx e = 0; e < ntap; e++)
            for (dc_idx ci = c0; ci < cin_g && ci < c0 + DC_BK_CB; ci++)
                for (dc_idx ia = 0; ia < nd; ia++)
                    for (dc_idx ib = 0; ib < nhp; ib++) {
                            if (ek[e] == 0) continue;
                            const DC_MASK_T *me = mk + e * U;
                            const signed char *ke = kd + e * U;
                            const dc_idx td = dp[2 * ia], id = dp[2 * ia + 1];
                            const dc_idx th = hp[2 * ib], ih = hp[2 * ib + 1];
                            const dc_idx xo = ci * cl.xcs + (id - dp[1]) * cl.xds
                                              + (ih - hp[1]) * cl.xrs + tp[e].c;
                            const DC_T *ww = cl.w + ci * K * C
                                             + ((td * kh + th) * kw + tp[e].t) * C;
#pragma GCC unroll 8
                            for (int r = 0; r < RB; r++)
#pragma GCC unroll 8
                                for (int u = 0; u < U; u++) {
                                    const DC_T *xp = xc[r] + xo + u * DC_VL;
                                    const DC_V xv = ke[u] == 1 ? DC_LOADU(xp)
                                                               : DC_MLOAD(xp, me[u]);
#pragma GCC unroll 8
                                    for (int j = 0; j < C; j++) {
                                        const DC_V f = DC_FMA(DC_SET1(ww[j]), xv,
                                                              a[r][j][u]);
                                        if (ke[u] == 1)
                                            a[r][j][u] = f;
                                        else if (ke[u] == 2)
                                            a[r][j][u] = DC_BLEND(a[r][j][u], f, me[u]);
                                    }
                                }
                        }
        }
#pragma GCC unroll 8
        for (int r = 0; r < RB; r++) {
            DC_T *acc = cl.acc + Pl.base + ro[r] * cl.accrow;
#pragma GCC unroll 8
            for (int j = 0; j < C; j++)
#pragma GCC unroll 8
                for (int u = 0; u < U; u++)
                    DC_STOREU(acc + j * cl.acc_stride + m0 + u * DC_VL, a[r][j][u]);
        }
    }
    }
}

/* Whole groups of RB rows, then the rest one row at a time (a short run, such as a
 * border row, is not padded to RB rows). */
#define DC_BK_INST(C, U) \
    static DC_BTGT void DC_BFN(dc_bk_##C##_##U)(const DC_BFN(dc_bctx) *cx, \
                                               const dc_bphase *P, const dc_btap *tp, \
                                               dc_idx cbeg, dc_idx cend) { \
        const dc_idx full = cx->nrows / DC_BK_RB(C, U) * DC_BK_RB(C, U); \
        DC_BFN(dc_bk_body)(cx, P, tp, cbeg, cend, 0, full, C, U, DC_BK_RB(C, U)); \
        if (full < cx->nrows) \
            DC_BFN(dc_bk_body)(cx, P, tp, cbeg, cend, full, cx->nrows, C, U, 1); \
    }
DC_BK_INST(1, 1) DC_BK_INST(1, 2) DC_BK_INST(1, 3) DC_BK_INST(1, 4) DC_BK_INST(1, 8)
DC_BK_INST(2, 1) DC_BK_INST(2, 2) DC_BK_INST(2, 3) DC_BK_INST(2, 4)
DC_BK_INST(3, 1) DC_BK_INST(3, 2) DC_BK_INST(3, 3)
DC_BK_INST(4, 1) DC_BK_INST(4, 2) DC_BK_INST(4, 3)
#undef DC_BK_INST

static DC_BFN(dc_bk_fn) DC_BFN(dc_bk_pick)(int C, int U) {
    switch (C * 16 + U) {
    case 17: return DC_BFN(dc_bk_1_1);
    case 18: return DC_BFN(dc_bk_1_2);
    case 19: return DC_BFN(dc_bk_1_3);
    case 20: return DC_BFN(dc_bk_1_4);
    case 24: return DC_BFN(dc_bk_1_8);
    case 33: return DC_BFN(dc_bk_2_1);
    case 34: return DC_BFN(dc_bk_2_2);
    case 35: return DC_BFN(dc_bk_2_3);
    case 36: return DC_BFN(dc_bk_2_4);
    case 49: return DC_BFN(dc_bk_3_1);
    case 50: return DC_BFN(dc_bk_3_2);
    case 51: return DC_BFN(dc_bk_3_3);
    case 65: return DC_BFN(dc_bk_4_1);
    case 66: return DC_BFN(dc_bk_4_2);
    case 67: return DC_BFN(dc_bk_4_3);
    default: return NULL;
    }
}

/* Vectors U of a chunk for blocks of C channels and phases up to maxlen long: the
 * fewest register operations per row (a chunk costs max(C*U, U+C) + 2). */
static int DC_BFN(dc_bpick_u)(int C, dc_idx maxlen) {
    static const int umax[5] = {0, 8, 4, 3, 3};
    static const int ucand[5] = {1, 2, 3, 4, 8};
    double best = 0;
    int U = 1;
    for (int i = 0; i < 5; i++) {
        int u = ucand[i];
        if (u > umax[C]) break;
        dc_idx W = (dc_idx)u * DC_VL;
        dc_idx nch = maxlen >= W ? (maxlen + W - 1) / W : 1;
        double per = (double)(C * u > u + C ? C * u : u + C) + 2.0;
        double cost = (double)nch * per;
        if (i == 0 || cost <= best) { best = cost; U = u; }
    }
    return U;
}

/* Packed weights: block (grp, c0, cb) of C channels at (grp*cout_g + c0)*cin_g*K,
 * [ci][K][cb].  Returns 1 iff all weights are finite. */
static int DC_BFN(dc_bpack)(const DC_T *w, dc_idx groups, dc_idx cin_g, dc_idx cout_g,
                            dc_idx K, int C, DC_T *wpk) {
    int finite = 1;
    for (dc_idx grp = 0; grp < groups; grp++)
        for (dc_idx c0 = 0; c0 < cout_g; c0 += C) {
            dc_idx cb = cout_g - c0 < C ? cout_g - c0 : C;
            DC_T *dst = wpk + (grp * cout_g + c0) * cin_g * K;
            for (dc_idx ci = 0; ci < cin_g; ci++) {
                const DC_T *src = w + (grp * cin_g + ci) * cout_g * K + c0 * K;
                for (dc_idx t = 0; t < K; t++)
                    for (dc_idx j = 0; j < cb; j++) {
                        DC_T v = src[j * K + t];
                        dst[(ci * K + t) * cb + j] = v;
                        finite &= (v - v) == 0;
                    }
            }
        }
    return finite;
}

/* Chunk table of the width phases ph[0..sw) for blocks of C channels: per phase, chunks
 * of U vectors (the last one shifted back to end at the phase's end, or narrower; a
 * single chunk when the phase is shorter); border chunks get their lane masks and
 * kinds here, once per call.  Sets P->chunk0, P->nchunk and P->ut.  Returns 0, or -1
 * when out of memory (then nothing is left allocated). */
static DC_BTGT int DC_BFN(dc_bchunks)(dc_bphase *ph, dc_idx sw, const dc_btap *taps,
                                      dc_idx ntap_max, int C, int U,
                                      dc_bchunk **chunks_out, DC_MASK_T **masks_out,
                                      signed char **kinds_out) {
    const dc_idx W = (dc_idx)U * DC_VL;
    dc_bchunk *chunks = NULL;
    DC_MASK_T *masks = NULL;
    signed char *kinds = NULL;
    dc_idx nchunk_all = 0, nborder = 0;
    for (int pass = 0; pass < 2; pass++) {
        dc_idx c = 0, b = 0;
        for (dc_idx q = 0; q < sw; q++) {
            dc_bphase *P = &ph[q];
            if (pass) P->chunk0 = c;
            dc_idx len = P->len, m0 = 0;
            if (pass) P->ut = 0;
            while (len > 0) {
                int uc = U;
                dc_idx Wc = W;
                if (m0 + W > len) {
                    /* the rest: the narrowest chunk shape that covers it, else a full
                     * chunk shifted back to end at the phase's end */
                    int ut = dc_btail_u(C, (len - m0 + DC_VL - 1) / DC_VL);
                    if (ut > 0 && ut < U) {
                        uc = ut;
                        Wc = (dc_idx)ut * DC_VL;
                    }
                    m0 = len >= Wc ? len - Wc : 0;
                }
                int border = !(P->lmax <= m0 && m0 + Wc <= P->hmin);
                if (pass) {
                    chunks[c].m0 = m0;
                    chunks[c].moff = border ? b * ntap_max * (U + 1) : -1;
                    if (uc != U) P->ut = uc;       /* the tail: last chunk of the phase */
                    if (border) {
                        const dc_btap *tp = taps + P->tap0;
                        DC_MASK_T *mk = masks + b * ntap_max * (U + 1);
                        signed char *kd = kinds + b * ntap_max * (U + 1);
                        signed char *ek = kd + P->ntap * uc;
                        for (dc_idx e = 0; e < P->ntap; e++) {
                            int any = 0, all = 1;
                            for (int u = 0; u < uc; u++) {
                                dc_idx v0 = m0 + (dc_idx)u * DC_VL;
                                dc_idx ra = tp[e].lo - v0, rb = tp[e].hi - v0;
                                ra = ra < 0 ? 0 : (ra > DC_VL ? DC_VL : ra);
                                rb = rb < 0 ? 0 : (rb > DC_VL ? DC_VL : rb);
                                if (rb < ra) rb = ra;
                                kd[e * uc + u] = rb == ra ? 0 : (ra == 0 && rb == DC_VL ? 1 : 2);
                                mk[e * uc + u] = DC_MASK(ra, rb);
                                any |= rb > ra;
                                all &= kd[e * uc + u] == 1;
                            }
                            ek[e] = !any ? 0 : (all ? 1 : 2);
                        }
                    }
                }
                c++;
                b += border;
                if (m0 + Wc >= len) break;
                m0 += W;
            }
            if (pass) P->nchunk = c - P->chunk0 - (P->ut ? 1 : 0);
        }
        if (!pass) {
            nchunk_all = c; nborder = b;
            chunks = (dc_bchunk *)malloc((size_t)nchunk_all * sizeof(dc_bchunk) + 1);
            masks = (DC_MASK_T *)aligned_alloc(64, (((size_t)nborder * ntap_max * (U + 1) + 1)
                                                    * sizeof(DC_MASK_T) + 63) & ~(size_t)63);
            kinds = (signed char *)malloc((size_t)nborder * ntap_max * (U + 1) + 1);
            if (!chunks || !masks || !kinds) {
                free(chunks); free(masks); free(kinds);
                return -1;
            }
        }
    }
    *chunks_out = chunks;
    *masks_out = masks;
    *kinds_out = kinds;
    return 0;
}

/* out_row = bias + phase-major acc, interleaved (as dc_finish); vectors for strides 1
 * and 2 (stride 2 interleaves in registers).  Plain stores: non-temporal ones (16-byte
 * pieces, as rows are rarely aligned to a whole vector) measured 1.2-2.2x slower on
 * the AVX-512 Xeon, for outputs of 8 MiB to 256 MiB alike. */
static DC_BTGT void DC_BFN(dc_bfinish)(const dc_plan *p, const DC_T *acc, DC_T *out_row,
                                       DC_T bias) {
    const dc_idx n = p->acc_len, s = p->phases;
    const DC_V bv = DC_SET1(bias);
    dc_idx m = 0;
    if (s == 1) {
        for (; m + DC_VL <= n; m += DC_VL)
            DC_STOREU(out_row + m, DC_ADD(bv, DC_LOADU(acc + m)));
        for (; m < n; m++) out_row[m] = bias + acc[m];
    } else if (s == 2) {
        const DC_T *a1 = acc + (n + 1) / 2;
        for (; m + DC_VL <= n / 2; m += DC_VL) {
            const DC_V v0 = DC_LOADU(acc + m), v1 = DC_LOADU(a1 + m);
            DC_STOREU(out_row + 2 * m, DC_ADD(bv, DC_ZIPLO(v0, v1)));
            DC_STOREU(out_row + 2 * m + DC_VL, DC_ADD(bv, DC_ZIPHI(v0, v1)));
        }
        for (; m < n / 2; m++) {
            out_row[2 * m] = bias + acc[m];
            out_row[2 * m + 1] = bias + a1[m];
        }
        if (n & 1) out_row[n - 1] = bias + acc[n / 2];
    } else {
        DC_BCAT(dc_finish, DC_TSUF)(p, acc, out_row, bias);
    }
}

/* Transposed convolution of the whole batch into out (C-contiguous), 3-D geometry
 * (1-D/2-D with leading singleton dims).  Returns 0, or -1 when out of memory. */
static DC_BTGT int DC_BFN(dc_blocked_tr)(const dc_plan *p, const DC_T *x, const DC_T *w,
                                 const DC_T *bias, DC_T *out, dc_idx N, dc_idx groups,
                                 dc_idx cin_g, dc_idx cout_g, const dc_idx *n,
                                 const dc_idx *k, const dc_idx *s, const dc_idx *d,
                                 const dc_idx *pb, const dc_idx *no, int nt) {
    const dc_idx K = k[0] * k[1] * k[2], pin = n[0] * n[1] * n[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2];
    const dc_idx sw = s[2];
    int C, U, failed = 0;
    if (N <= 0 || cout <= 0 || no0 <= 0 || no1 <= 0 || no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    dc_bchunk *chunks = NULL;
    DC_MASK_T *masks = NULL;
    signed char *kinds = NULL;
    dc_idx maxlen = 0, ntap_max = 0;
    char *mem = (char *)malloc((size_t)sw * sizeof(dc_bphase) + (size_t)k[2] * sizeof(dc_btap)
                               + (size_t)(cout * cin_g * K) * sizeof(DC_T) + 64);
    if (!mem) return -1;
    dc_bphase *ph = (dc_bphase *)mem;
    dc_btap *taps = (dc_btap *)(ph + sw);
    DC_T *wpk = (DC_T *)(((uintptr_t)(taps + k[2]) + 63) & ~(uintptr_t)63);
    dc_bphases(n[2], k[2], sw, d[2], pb[2], no2, ph, taps);
    for (dc_idx q = 0; q < sw; q++) {
        if (ph[q].len > maxlen) maxlen = ph[q].len;
        if (ph[q].ntap > ntap_max) ntap_max = ph[q].ntap;
    }

    /* block shape: C output channels x U vectors of the width */
    C = cout_g >= 4 ? 4 : (int)cout_g;
    U = DC_BFN(dc_bpick_u)(C, maxlen);
    const dc_idx W = (dc_idx)U * DC_VL;
    const dc_idx nblk = (cout_g + C - 1) / C;

    const int finite = DC_BFN(dc_bpack)(w, groups, cin_g, cout_g, K, C, wpk);

    if (DC_BFN(dc_bchunks)(ph, sw, taps, ntap_max, C, U, &chunks, &masks, &kinds) != 0) {
        free(mem);
        return -1;
    }

    dc_idx maxnd, maxnh;
    dc_plan_max_pairs(p, no0, no1, &maxnd, &maxnh);
    const dc_idx maxoffs = cin_g * maxnd * maxnh * ntap_max + 1;
    const dc_idx keylen = 3 + 2 * maxnd + 2 * maxnh;
    /* one cached list per phase when that is small, else one slot */
    const int cache_phases = (size_t)sw * maxoffs * sizeof(dc_boff) <= ((size_t)1 << 20);
    const dc_idx nslots = cache_phases ? sw : 1;
    const dc_idx acc_stride = no2 + W + DC_VL;
    /* a task: up to R output rows (phase-major order) of one (n, group, depth, block);
     * R bounded by a 32 KiB row buffer and by enough tasks for the threads */
    const dc_idx base_tasks = N * groups * no0 * nblk;
    dc_idx R = (dc_idx)(32768 / ((size_t)C * acc_stride * sizeof(DC_T)));
    if (R > 16) R = 16;
    if (base_tasks < (dc_idx)nt * 8) {
        dc_idx rp = no1 * base_tasks / ((dc_idx)nt * 8);
        if (R > rp) R = rp;
    }
    if (R > no1) R = no1;
    if (R < 1) R = 1;
    const dc_idx nrb = (no1 + R - 1) / R;
    const dc_idx tasks = base_tasks * nrb;
    /* With many input channels per group, a copy of the input with the channels of
     * a group interleaved row by row, (n, group, depth, height, channel, width): the
     * reduction then walks memory nearly sequentially instead of jumping a whole
     * plane per channel (plane sizes that are multiples of 4 KiB all map to the same
     * L1 sets).  O(input) per call; measured to pay off from ~96 float32 or ~32
     * float64 channels (unet-like 128 channels: 1.8x). */
    DC_T *xt = NULL;
    if (n[0] * n[1] > 1 && (cin_g >= 96 || (sizeof(DC_T) == 8 && cin_g >= 32))) {
        xt = (DC_T *)malloc((size_t)(N * cin * pin) * sizeof(DC_T) + 1);
        if (!xt) { free(chunks); free(masks); free(kinds); free(mem); return -1; }
    }
    const DC_T *xsrc = xt ? xt : x;
    const dc_idx xcs = xt ? n[2] : pin;
    const dc_idx xrs = xt ? cin_g * n[2] : n[2];
    const dc_idx xds = xt ? n[1] * cin_g * n[2] : n[1] * n[2];
    /* dynamic chunks of tasks: a thread that is descheduled on a shared machine does
     * not hold up the call (task -> thread mapping does not change any result) */
    dc_idx tchunk = tasks / ((dc_idx)nt * 16);
    if (tchunk < 1) tchunk = 1;
    DC_BFN(dc_bk_fn) fmain = DC_BFN(dc_bk_pick)(C, U);
    DC_BFN(dc_bk_fn) frem = DC_BFN(dc_bk_pick)((int)(cout_g % C ? cout_g % C : C), U);

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        size_t abytes = (size_t)R * C * acc_stride * sizeof(DC_T);
        size_t cbytes = (size_t)nslots * maxoffs * sizeof(dc_boff);
        size_t kbytes = (size_t)(nslots + 2) * keylen * sizeof(dc_idx);
        size_t nbytes = (size_t)nslots * (sizeof(dc_idx) + 1);
        char *tm = (char *)malloc(abytes + 192 + cbytes + kbytes + nbytes);
        dc_boff *cache = NULL;
        dc_idx *ckeys = NULL, *keybuf = NULL, *key2 = NULL, *cn = NULL, cq = -1;
        char *cvalid = NULL;
        if (tm) {
            cache = (dc_boff *)(((uintptr_t)tm + 63) & ~(uintptr_t)63);
            ckeys = (dc_idx *)((char *)cache + cbytes);
            keybuf = ckeys + nslots * keylen;
            key2 = keybuf + keylen;
            cn = key2 + keylen;
            cvalid = (char *)(cn + nslots);
            memset(cvalid, 0, (size_t)nslots);
        }
        if (!tm) {
#if defined(_OPENMP)
#pragma omp atomic write
#endif
            failed = 1;
        }
        DC_BFN(dc_bctx) cx;
        cx.acc = tm ? (DC_T *)(cvalid + nslots + 64 - ((uintptr_t)(cvalid + nslots) & 63))
                    : NULL;
        cx.chunks = chunks; cx.masks = masks; cx.kinds = kinds;
        cx.finite = finite;
        cx.acc_stride = acc_stride;
        cx.accrow = (dc_idx)C * acc_stride;
        cx.pin = pin; cx.cin_g = cin_g; cx.nh = n[1]; cx.nw = n[2];
        cx.xcs = xcs; cx.xrs = xrs; cx.xds = xds;
        if (xt) {
            /* rows of the input in (n, group, depth, height, channel) order */
            const dc_idx nrow = n[0] * n[1], rows_all = N * cin * nrow;
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
            for (dc_idx r2 = 0; r2 < rows_all; r2++) {
                dc_idx row = r2 % nrow, c = (r2 / nrow) % cin, nn = r2 / (nrow * cin);
                dc_idx grp = c / cin_g, ci = c % cin_g;
                memcpy(xt + (nn * cin + grp * cin_g) * pin + (row * cin_g + ci) * n[2],
                       x + r2 * n[2], (size_t)n[2] * sizeof(DC_T));
            }
        }
        cx.kh = k[1]; cx.kw = k[2]; cx.K = K;
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, tchunk)
#endif
        for (dc_idx r = 0; r < tasks; r++) {
            if (!tm) continue;
            dc_idx t = r;
            dc_idx blk = t % nblk; t /= nblk;
            dc_idx rb = t % nrb; t /= nrb;
            /* rows (and depth slices) in phase-major order: consecutive rows of a
             * phase share the pattern of height taps (the input row moves by one) */
            dc_idx od = dc_bphase_major(t % no0, no0, s[0]); t /= no0;
            dc_idx grp = t % groups;
            dc_idx nn = t / groups;
            dc_idx c0 = blk * C;
            dc_idx cb = cout_g - c0 < C ? cout_g - c0 : C;
            DC_BFN(dc_bk_fn) f = cb == C ? fmain : frem;
            cx.x = xsrc + (nn * cin + grp * cin_g) * pin;
            cx.w = wpk + (grp * cout_g + c0) * cin_g * K;
            cx.dp = p->dpairs + 2 * p->dptr[od];
            cx.nd = p->dptr[od + 1] - p->dptr[od];
            dc_idx id0 = cx.nd ? cx.dp[1] : 0;
            dc_idx i = rb * R, iend = i + R < no1 ? i + R : no1;
            while (i < iend) {
                /* a run of rows with one tap pattern */
                dc_idx oh = dc_bphase_major(i, no1, s[1]);
                cx.hp = p->hpairs + 2 * p->hptr[oh];
                cx.nhp = p->hptr[oh + 1] - p->hptr[oh];
                dc_idx ih0 = cx.nhp ? cx.hp[1] : 0;
                dc_idx *key = keybuf;
                key[0] = cx.nd; key[1] = cx.nhp;
                for (dc_idx ia = 0; ia < cx.nd; ia++) {
                    key[2 + 2 * ia] = cx.dp[2 * ia];
                    key[3 + 2 * ia] = cx.dp[2 * ia + 1] - id0;
                }
                for (dc_idx ib = 0; ib < cx.nhp; ib++) {
                    key[2 + 2 * cx.nd + 2 * ib] = cx.hp[2 * ib];
                    key[3 + 2 * cx.nd + 2 * ib] = cx.hp[2 * ib + 1] - ih0;
                }
                key[2 + 2 * cx.nd + 2 * cx.nhp] = cb;   /* packed weight block width */
                dc_idx klen = 3 + 2 * cx.nd + 2 * cx.nhp;
                dc_idx j = i + 1;
                while (j < iend) {
                    dc_idx oj = dc_bphase_major(j, no1, s[1]);
                    if (oj != oh + (j - i) * s[1]) break;
                    dc_idx nj = p->hptr[oj + 1] - p->hptr[oj];
                    if (nj != cx.nhp) break;
                    const dc_idx *hj = p->hpairs + 2 * p->hptr[oj];
                    int same = 1;
                    for (dc_idx ib = 0; ib < nj && same; ib++)
                        same = hj[2 * ib] == cx.hp[2 * ib]
                               && hj[2 * ib + 1] - cx.hp[2 * ib + 1] == j - i;
                    if (!same) break;
                    j++;
                }
                cx.nrows = j - i;
                cx.xb = cx.x + id0 * xds + ih0 * xrs;
                for (dc_idx q = 0; q < sw; q++) {
                    const dc_btap *tp = taps + ph[q].tap0;
                    dc_idx slot = cache_phases ? q : 0;
                    dc_idx *ck = ckeys + slot * keylen;
                    dc_boff *lst = cache + slot * maxoffs;
                    if (!(cvalid[slot] && (cache_phases || cq == q) && ck[0] == key[0]
                          && ck[1] == key[1]
                          && !memcmp(ck, key, (size_t)klen * sizeof(dc_idx)))) {
                        /* the term order of dc_bk_body */
                        dc_idx ne = ph[q].ntap, L = 0;
                        for (dc_idx c0 = 0; c0 < cin_g; c0 += DC_BK_CB)
                        for (dc_idx e = 0; e < ne; e++)
                        for (dc_idx ci = c0; ci < cin_g && ci < c0 + DC_BK_CB; ci++)
                            for (dc_idx ia = 0; ia < cx.nd; ia++) {
                                dc_idx td = key[2 + 2 * ia], rd = key[3 + 2 * ia];
                                for (dc_idx ib = 0; ib < cx.nhp; ib++) {
                                    dc_idx th = key[2 + 2 * cx.nd + 2 * ib];
                                    dc_idx rh = key[3 + 2 * cx.nd + 2 * ib];
                                    lst[L].x = ci * xcs + rd * xds + rh * xrs + tp[e].c;
                                    lst[L].w = (ci * K + (td * k[1] + th) * k[2]
                                                + tp[e].t) * cb;
                                    lst[L].e = e;
                                    L++;
                                }
                            }
                        cn[slot] = L;
                        memcpy(ck, key, (size_t)klen * sizeof(dc_idx));
                        cvalid[slot] = 1;
                        cq = q;
                    }
                    cx.offs = lst;
                    cx.noffs = cn[slot];
                    f(&cx, &ph[q], tp, ph[q].chunk0, ph[q].chunk0 + ph[q].nchunk);
                    if (ph[q].ut) {
                        dc_idx tc = ph[q].chunk0 + ph[q].nchunk;
                        DC_BFN(dc_bk_pick)((int)cb, ph[q].ut)(&cx, &ph[q], tp, tc, tc + 1);
                    }
                }
                for (dc_idx rr = 0; rr < cx.nrows; rr++) {
                    dc_idx orr = oh + rr * s[1];
                    for (dc_idx jj = 0; jj < cb; jj++) {
                        dc_idx co = grp * cout_g + c0 + jj;
                        DC_T *orow = out + (((nn * cout + co) * no0 + od) * no1 + orr) * no2;
                        DC_BFN(dc_bfinish)(p, cx.acc + rr * cx.accrow + jj * acc_stride,
                                           orow, bias ? bias[co] : (DC_T)0);
                    }
                }
                i = j;
            }
        }
        free(tm);
    }
    free(chunks); free(masks); free(kinds); free(xt);
    free(mem);
    return failed ? -1 : 0;
}

#undef DC_BK_RB
#undef DC_BK_CB
#undef DC_BFN
#undef DC_BCAT
#undef DC_BCAT2

