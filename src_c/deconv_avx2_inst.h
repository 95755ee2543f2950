/*
 * Instantiates the kernel template named by DC_TEMPLATE (a header without include
 * guard, like deconv_blocked_t.h) for AVX2+FMA, once for float and once for double:
 * the template sees DC_T, DC_SUF (names: f32_avx2), DC_TSUF (the portable helpers'
 * dtype suffix: f32), DC_V, DC_VL, DC_MASK_T (a lane mask), DC_BTGT / DC_BINL (the
 * target attributes) and the intrinsic macros below.  One place for the macro sets,
 * so that every AVX2 template uses the same ones; deconv_avx512_inst.h is its AVX-512
 * twin.  No include guard on purpose; include only where DC_BLOCKED_COMPILED is 1.
 */
#define DC_NVREG 16   /* vector registers */
#define DC_BTGT __attribute__((target("avx2,fma")))
#define DC_BINL __attribute__((always_inline, target("avx2,fma"))) inline
#define DC_MASK_T __m256i

#define DC_T float
#define DC_SUF f32_avx2
#define DC_TSUF f32
#define DC_V __m256
#define DC_VL 8
#define DC_LOADU _mm256_loadu_ps
#define DC_STOREU _mm256_storeu_ps
#define DC_SET1 _mm256_set1_ps
#define DC_ZERO _mm256_setzero_ps
#define DC_FMA _mm256_fmadd_ps
#define DC_ADD _mm256_add_ps
#define DC_SFMA __builtin_fmaf
/* [v0[0], v1[0], v0[1], v1[1], ...]: the first and the second half of the interleave */
#define DC_ZIPLO(v0, v1) _mm256_permute2f128_ps(_mm256_unpacklo_ps((v0), (v1)), \
                                                _mm256_unpackhi_ps((v0), (v1)), 0x20)
#define DC_ZIPHI(v0, v1) _mm256_permute2f128_ps(_mm256_unpacklo_ps((v0), (v1)), \
                                                _mm256_unpackhi_ps((v0), (v1)), 0x31)
#define DC_MLOAD(p, m) _mm256_maskload_ps((p), (m))
#define DC_BLEND(a, b, m) _mm256_blendv_ps((a), (b), _mm256_castsi256_ps(m))
/* lanes a <= l < b set (0 <= a, b <= DC_VL) */
#define DC_MASK(a, b) _mm256_and_si256( \
    _mm256_loadu_si256((const __m256i *)(dc_mask32_lo + 8 - (a))), \
    _mm256_loadu_si256((const __m256i *)(dc_mask32_hi + 8 - (b))))
#include DC_TEMPLATE
#include "deconv_isa_undef.h"

#define DC_T double
#define DC_SUF f64_avx2
#define DC_TSUF f64
#define DC_V __m256d
#define DC_VL 4
#define DC_LOADU _mm256_loadu_pd
#define DC_STOREU _mm256_storeu_pd
#define DC_SET1 _mm256_set1_pd
#define DC_ZERO _mm256_setzero_pd
#define DC_FMA _mm256_fmadd_pd
#define DC_ADD _mm256_add_pd
#define DC_SFMA __builtin_fma
#define DC_ZIPLO(v0, v1) _mm256_permute2f128_pd(_mm256_unpacklo_pd((v0), (v1)), \
                                                _mm256_unpackhi_pd((v0), (v1)), 0x20)
#define DC_ZIPHI(v0, v1) _mm256_permute2f128_pd(_mm256_unpacklo_pd((v0), (v1)), \
                                                _mm256_unpackhi_pd((v0), (v1)), 0x31)
#define DC_MLOAD(p, m) _mm256_maskload_pd((p), (m))
#define DC_BLEND(a, b, m) _mm256_blendv_pd((a), (b), _mm256_castsi256_pd(m))
#define DC_MASK(a, b) _mm256_and_si256( \
    _mm256_loadu_si256((const __m256i *)(dc_mask64_lo + 4 - (a))), \
    _mm256_loadu_si256((const __m256i *)(dc_mask64_hi + 4 - (b))))
#include DC_TEMPLATE
#include "deconv_isa_undef.h"

#undef DC_BTGT
#undef DC_NVREG
#undef DC_BINL
#undef DC_MASK_T
