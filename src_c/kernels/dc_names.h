/*
 * Names inside the kernel templates, which are instantiated once per dtype and ISA
 * (the isa/ files) with DC_DT (f32, f64), DC_ISA (portable, avx2, avx512) and DC_SUF (a
 * suffix for private helpers: f32_avx2) defined.
 *
 *   DC_KERNEL_FN(op, family)    an entry point of the registry: dc_f32_tconv_chlast__avx512
 *   DC_UKERNEL(op, family, A, B) a micro-kernel of tile AxB: dc_f32_tconv_chlast_12x2__avx512
 *   DC_TILES(family)(X)          the family's tile list for this ISA (kernels/<family>/tiles.h)
 *   DC_TAILS(family)(X)          its smaller tiles for the last pixels of a run, where it has them
 *   DC_FN(name)                  a private helper: name_f32_avx2
 */
#ifndef DC_NAMES_H
#define DC_NAMES_H

#include "../registry/dc_registry.h"   /* DC_KNAME, dc_kernel_fn */

#define DC_KERNEL_FN(op, family) DC_KNAME(DC_DT, op, family, DC_ISA)
#define DC_UKNAME_(dt, op, family, a, b, isa) dc_##dt##_##op##_##family##_##a##x##b##__##isa
#define DC_UKNAME(dt, op, family, a, b, isa) DC_UKNAME_(dt, op, family, a, b, isa)
#define DC_UKERNEL(op, family, a, b) DC_UKNAME(DC_DT, op, family, a, b, DC_ISA)
#define DC_TILES__(family, isa) DC_TILES_##family##_##isa
#define DC_TILES_(family, isa) DC_TILES__(family, isa)
#define DC_TILES(family) DC_TILES_(family, DC_ISA)
#define DC_TAILS__(family, isa) DC_TAILS_##family##_##isa
#define DC_TAILS_(family, isa) DC_TAILS__(family, isa)
#define DC_TAILS(family) DC_TAILS_(family, DC_ISA)
#define DC_FN_(name, suf) name##_##suf
#define DC_FN2(name, suf) DC_FN_(name, suf)
#define DC_FN(name) DC_FN2(name, DC_SUF)

/* The first lines of a kernel entry point: the problem's fields under the short names
 * the kernel bodies use, and the operands typed. */
#define DC_PROBLEM_LOCALS(pr) \
    const dc_taps *const p = (pr)->taps; \
    const dc_idx N = (pr)->N, groups = (pr)->groups, cin_g = (pr)->cin_g; \
    const dc_idx cout_g = (pr)->cout_g; \
    const dc_idx *const n = (pr)->n, *const k = (pr)->k, *const s = (pr)->s; \
    const dc_idx *const d = (pr)->d, *const pb = (pr)->pb, *const no = (pr)->no; \
    int nt = (pr)->nt; \
    (void)p; (void)N; (void)groups; (void)cin_g; (void)cout_g; \
    (void)n; (void)k; (void)s; (void)d; (void)pb; (void)no
#define DC_OPERANDS(xv, wv, bv, ov) \
    const DC_T *const x = (const DC_T *)(xv), *const w = (const DC_T *)(wv); \
    const DC_T *const bias = (const DC_T *)(bv); \
    DC_T *const out = (DC_T *)(ov)

#endif /* DC_NAMES_H */
