/*
 * Virtual-channel transposed-convolution driver for one dtype and ISA; instantiated by
 * deconv_vchan.h through deconv_avx2_inst.h and deconv_avx512_inst.h, after
 * deconv_blocked_t.h, whose phases and finish it uses.  No include guard on purpose.
 * See deconv_vchan.h.
 */
#define DC_VCAT2(a, b) a##_##b
#define DC_VCAT(a, b) DC_VCAT2(a, b)
#define DC_VFN(name) DC_VCAT(name, DC_SUF)

typedef struct {
    const DC_T *const *xr;         /* per pair: input row (channel 0 of the group)     */
    const DC_T *const *wr;         /* per pair: packed weights [ci][Vp] of its tap      */
    dc_idx np, cin_g, pin, Vp, n2; /* pairs, channels, channel stride, row of weights, */
                                   /* input width                                       */
    const dc_vcdst *dst;
    dc_idx V;                      /* virtual channels (the rest of Vp is padding)      */
    DC_T *buf;                     /* the row buffers                                   */
} DC_VFN(dc_vcctx);

typedef void (*DC_VFN(dc_vc_fn))(const DC_VFN(dc_vcctx) *, dc_idx, dc_idx);

/* Virtual channels v0..v0+VB-1 of the input pixels j0..j0+U*VL-1 of one output row:
 * VB x U accumulators over every (pair, input channel), then added into the row
 * buffers.  MASKED: the block runs past the input row; its lanes there load 0. */
static DC_BINL void DC_VFN(dc_vc_body)(const DC_VFN(dc_vcctx) *cx, dc_idx j0, dc_idx v0,
                                       const int VB, const int U, const int MASKED) {
    /* local copy: the vector stores below may alias the context */
    const DC_VFN(dc_vcctx) cl = *cx;
    DC_V a[24][4];
    DC_MASK_T lm[4];
#pragma GCC unroll 24
    for (int v = 0; v < VB; v++)
#pragma GCC unroll 4
        for (int u = 0; u < U; u++) a[v][u] = DC_ZERO();
    if (MASKED)
#pragma GCC unroll 4
        for (int u = 0; u < U; u++) {
            dc_idx b = cl.n2 - j0 - u * DC_VL;
            lm[u] = DC_MASK(0, b < 0 ? 0 : (b > DC_VL ? DC_VL : b));
        }
    for (dc_idx pi = 0; pi < cl.np; pi++) {
        const DC_T *xp = cl.xr[pi] + j0;
        const DC_T *ww = cl.wr[pi] + v0;
        for (dc_idx ci = 0; ci < cl.cin_g; ci++, xp += cl.pin, ww += cl.Vp) {
            DC_V xv[4];
#pragma GCC unroll 4
            for (int u = 0; u < U; u++)
                xv[u] = MASKED ? DC_MLOAD(xp + u * DC_VL, lm[u]) : DC_LOADU(xp + u * DC_VL);
#pragma GCC unroll 24
            for (int v = 0; v < VB; v++) {
                const DC_V wb = DC_SET1(ww[v]);
#pragma GCC unroll 4
                for (int u = 0; u < U; u++) a[v][u] = DC_FMA(wb, xv[u], a[v][u]);
            }
        }
    }
#pragma GCC unroll 24
    for (int v = 0; v < VB; v++) {
        if (v0 + v >= cl.V) break;
        const dc_vcdst dv = cl.dst[v0 + v];
#pragma GCC unroll 4
        for (int u = 0; u < U; u++) {
            const dc_idx j = j0 + u * DC_VL;
            const dc_idx lo = dv.jlo - j, hi = dv.jhi - j;
            if (hi <= 0 || lo >= DC_VL) continue;  /* jlo < jhi: dc_bphases drops empty taps */
            DC_T *bp = cl.buf + dv.off + j;
            const DC_V old = DC_LOADU(bp);
            if (lo <= 0 && hi >= DC_VL)
                DC_STOREU(bp, DC_ADD(old, a[v][u]));
            else
                DC_STOREU(bp, DC_BLEND(old, DC_ADD(old, a[v][u]),
                                       DC_MASK(lo < 0 ? 0 : lo, hi > DC_VL ? DC_VL : hi)));
        }
    }
}

/* per U (input vectors of a block): VB virtual channels, a big and a small block, as
 * many as the registers hold next to U input vectors and one broadcast weight; each
 * (VB, U) is instantiated plain and masked */
#if DC_NVREG >= 32
#define DC_VC_SHAPES(X) X(24, 1) X(12, 1) X(12, 2) X(6, 2) X(6, 4) X(3, 4)
#define DC_VC_VB(U, big) ((U) == 1 ? ((big) ? 24 : 12) : (U) == 2 ? ((big) ? 12 : 6) \
                                                                   : ((big) ? 6 : 3))
#define DC_VC_UMAX 4
#else
#define DC_VC_SHAPES(X) X(12, 1) X(6, 1) X(6, 2) X(3, 2) X(2, 4) X(1, 4)
#define DC_VC_VB(U, big) ((U) == 1 ? ((big) ? 12 : 6) : (U) == 2 ? ((big) ? 6 : 3) \
                                                                  : ((big) ? 2 : 1))
/* 4 vectors leave room for 2 virtual channels only: more loads than multiply-adds */
#define DC_VC_UMAX 2
#endif

#define DC_VC_INST(VB, U) \
    static DC_BTGT void DC_VFN(dc_vc_##VB##_##U)(const DC_VFN(dc_vcctx) *cx, dc_idx j0, \
                                                dc_idx v0) { \
        DC_VFN(dc_vc_body)(cx, j0, v0, VB, U, 0); \
    } \
    static DC_BTGT void DC_VFN(dc_vc_##VB##_##U##_m)(const DC_VFN(dc_vcctx) *cx, dc_idx j0, \
                                                    dc_idx v0) { \
        DC_VFN(dc_vc_body)(cx, j0, v0, VB, U, 1); \
    }
DC_VC_SHAPES(DC_VC_INST)
#undef DC_VC_INST

static DC_VFN(dc_vc_fn) DC_VFN(dc_vc_pick)(int VB, int U, int masked) {
#define DC_VC_CASE(vb, u) \
    if (VB == vb && U == u) return masked ? DC_VFN(dc_vc_##vb##_##u##_m) : DC_VFN(dc_vc_##vb##_##u);
    DC_VC_SHAPES(DC_VC_CASE)
#undef DC_VC_CASE
    return NULL;
}

/* Transposed convolution of the whole batch into out (C-contiguous), 3-D geometry
 * (1-D/2-D with leading singleton dims), any groups, cin_g, cout_g.  Returns 0, or -1
 * when out of memory. */
static DC_BTGT int DC_VFN(dc_vchan_tr)(const dc_plan *p, const DC_T *x, const DC_T *w,
                                       const DC_T *bias, DC_T *out, dc_idx N, dc_idx groups,
                                       dc_idx cin_g, dc_idx cout_g, const dc_idx *n,
                                       const dc_idx *k, const dc_idx *s, const dc_idx *d,
                                       const dc_idx *pb, const dc_idx *no, int nt) {
    const dc_idx K = k[0] * k[1] * k[2], KDH = k[0] * k[1], pin = n[0] * n[1] * n[2];
    const dc_idx cin = cin_g * groups, cout = cout_g * groups;
    const dc_idx no0 = no[0], no1 = no[1], no2 = no[2], n2 = n[2], sw = s[2];
    const dc_idx xrs = n[2], xds = n[1] * n[2];
    if (N <= 0 || cout <= 0 || no0 <= 0 || no1 <= 0 || no2 <= 0) return 0;
    if (nt < 1) nt = 1;
    dc_idx maxnd, maxnh;
    dc_plan_max_pairs(p, no0, no1, &maxnd, &maxnh);

    const dc_idx nvec = (n2 + DC_VL - 1) / DC_VL;
    char *mem0 = (char *)malloc((size_t)sw * sizeof(dc_bphase) + (size_t)k[2] * sizeof(dc_btap));
    if (!mem0) return -1;
    dc_bphase *ph = (dc_bphase *)mem0;
    dc_btap *taps = (dc_btap *)(ph + sw);
    dc_bphases(n2, k[2], sw, d[2], pb[2], no2, ph, taps);
    dc_idx NT = 0;
    for (dc_idx q = 0; q < sw; q++) NT += ph[q].ntap;
    const dc_idx V = cout_g * NT;
    /* block shape: U input vectors by VB virtual channels (the small block only when
     * it holds them all: every pass re-reads the input rows).  Per reduction step a
     * block costs about max(U*VB multiply-adds, U + VB loads) (two of each per cycle);
     * the U with the least of that over a row's blocks and passes, the widest on ties */
    int U = 1, VB = 1;
    dc_idx best = -1;
    for (int u = 1; u <= DC_VC_UMAX; u *= 2) {
        const int vb = V <= DC_VC_VB(u, 0) ? DC_VC_VB(u, 0) : DC_VC_VB(u, 1);
        const dc_idx step = u * vb > u + vb ? u * vb : u + vb;
        const dc_idx cost = (nvec + u - 1) / u * ((V + vb - 1) / vb) * step;
        if (best < 0 || cost <= best) {
            best = cost;
            U = u;
            VB = vb;
        }
    }
    const dc_idx Vp = V > 0 ? (V + VB - 1) / VB * VB : VB;
    const dc_idx acc_stride = no2 + 2 * DC_VL;

    char *mem = (char *)malloc((size_t)(V > 0 ? V : 1) * sizeof(dc_vcdst)
                               + (size_t)(groups * KDH * cin_g * Vp) * sizeof(DC_T) + 64);
    if (!mem) {
        free(mem0);
        return -1;
    }
    dc_vcdst *dst = (dc_vcdst *)mem;
    DC_T *wpk = (DC_T *)(((uintptr_t)(dst + (V > 0 ? V : 1)) + 63) & ~(uintptr_t)63);
    /* v = c * NT + e for width tap e (phase-major, as dc_bphases lists them) */
    for (dc_idx q = 0; q < sw; q++)
        for (dc_idx e = ph[q].tap0; e < ph[q].tap0 + ph[q].ntap; e++)
            for (dc_idx c = 0; c < cout_g; c++) {
                dc_vcdst *dv = dst + c * NT + e;
                dv->off = c * acc_stride + DC_VL + ph[q].base - taps[e].c;
                dv->jlo = taps[e].lo + taps[e].c;
                dv->jhi = taps[e].hi + taps[e].c;
            }
    for (dc_idx grp = 0; grp < groups; grp++)
        for (dc_idx kdh = 0; kdh < KDH; kdh++)
            for (dc_idx ci = 0; ci < cin_g; ci++) {
                DC_T *row = wpk + ((grp * KDH + kdh) * cin_g + ci) * Vp;
                const DC_T *wc = w + (grp * cin_g + ci) * cout_g * K + kdh * k[2];
                for (dc_idx v = 0; v < Vp; v++)
                    row[v] = v < V ? wc[(v / NT) * K + taps[v % NT].t] : (DC_T)0;
            }

    const dc_idx maxp = maxnd * maxnh > 0 ? maxnd * maxnh : 1;
    const size_t bbytes = ((size_t)cout_g * acc_stride * sizeof(DC_T) + 63) & ~(size_t)63;
    const size_t per = bbytes + ((2 * (size_t)maxp * sizeof(void *) + 63) & ~(size_t)63);
    char *tbuf = (char *)calloc((size_t)nt * per + 64, 1);
    if (!tbuf) {
        free(mem); free(mem0);
        return -1;
    }
    const dc_idx tasks = N * groups * no0 * no1;
    dc_idx tchunk = tasks / ((dc_idx)nt * 16);
    if (tchunk < 1) tchunk = 1;
    const dc_idx nblk = (nvec + U - 1) / U;
    /* the last block runs past the row: masked loads there */
    const int last_masked = nblk * U * DC_VL > n2;
    DC_VFN(dc_vc_fn) full_fn = DC_VFN(dc_vc_pick)(VB, U, 0);
    DC_VFN(dc_vc_fn) last_fn = DC_VFN(dc_vc_pick)(VB, U, last_masked);

#if defined(_OPENMP)
#pragma omp parallel num_threads(nt) if (nt > 1)
#endif
    {
        char *tm = dc_thread_slice(tbuf, per);
        DC_T *buf = (DC_T *)tm;
        const DC_T **xr = (const DC_T **)(tm + bbytes);
        const DC_T **wr = xr + maxp;
        DC_VFN(dc_vcctx) cx;
        cx.xr = xr; cx.wr = wr;
        cx.cin_g = cin_g; cx.pin = pin; cx.Vp = Vp; cx.n2 = n2;
        cx.dst = dst; cx.V = V; cx.buf = buf;
#if defined(_OPENMP)
#pragma omp for schedule(dynamic, tchunk)
#endif
        for (dc_idx r = 0; r < tasks; r++) {
            const dc_idx oh = r % no1, od = (r / no1) % no0;
            const dc_idx ng = r / (no0 * no1), grp = ng % groups, nn = ng / groups;
            const dc_idx *dp = p->dpairs + 2 * p->dptr[od];
            const dc_idx nd = p->dptr[od + 1] - p->dptr[od];
            const dc_idx *hp = p->hpairs + 2 * p->hptr[oh];
            const dc_idx nh = p->hptr[oh + 1] - p->hptr[oh];
            const DC_T *xg = x + (nn * cin + grp * cin_g) * pin;
            dc_idx np = 0;
            for (dc_idx ia = 0; ia < nd; ia++)
                for (dc_idx ib = 0; ib < nh; ib++, np++) {
                    xr[np] = xg + dp[2 * ia + 1] * xds + hp[2 * ib + 1] * xrs;
                    wr[np] = wpk + ((grp * KDH + dp[2 * ia] * k[1] + hp[2 * ib]) * cin_g) * Vp;
                }
            cx.np = np;
            for (dc_idx c = 0; c < cout_g; c++)
                memset(buf + c * acc_stride + DC_VL, 0, (size_t)no2 * sizeof(DC_T));
            /* blocks right to left: a later width tap of a phase reads a pixel further
             * left (c_t falls as t grows), so each output element receives its taps
             * in tap order whatever the block width */
            if (np > 0)
                for (dc_idx v0 = 0; v0 < V; v0 += VB)
                    for (dc_idx b = nblk - 1; b >= 0; b--)
                        (b + 1 < nblk ? full_fn : last_fn)(&cx, b * U * DC_VL, v0);
            DC_T *orow = out + (((nn * groups + grp) * cout_g * no0 + od) * no1 + oh) * no2;
            for (dc_idx c = 0; c < cout_g; c++)
                DC_VCAT(dc_bfinish, DC_SUF)(p, buf + c * acc_stride + DC_VL,
                                            orow + c * no0 * no1 * no2,
                                            bias ? bias[grp * cout_g + c] : (DC_T)0);
        }
    }
    free(tbuf);
    free(mem);
    free(mem0);
    return 0;
}

#undef DC_VC_SHAPES
#undef DC_VC_VB
#undef DC_VC_UMAX
#undef DC_VFN
#undef DC_VCAT
#undef DC_VCAT2
