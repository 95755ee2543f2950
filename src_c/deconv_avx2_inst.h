/*
 * Instantiates the AVX2+FMA kernel template named by DC_TEMPLATE (a header without
 * include guard, like deconv_blocked_t.h) once for float and once for double: the
 * template sees DC_T, DC_SUF, DC_V, DC_VL and the intrinsic macros below.  One place
 * for the macro sets, so that every AVX2 template uses the same ones.  No include
 * guard on purpose; include only where DC_BLOCKED_COMPILED is 1.
 */
#define DC_T float
#define DC_SUF f32
#define DC_V __m256
#define DC_VL 8
#define DC_LOADU _mm256_loadu_ps
#define DC_STOREU _mm256_storeu_ps
#define DC_SET1 _mm256_set1_ps
#define DC_ZERO _mm256_setzero_ps
#define DC_FMA _mm256_fmadd_ps
#define DC_ADD _mm256_add_ps
#define DC_STREAM128 _mm_stream_ps
#define DC_LO128 _mm256_castps256_ps128
#define DC_HI128(v) _mm256_extractf128_ps((v), 1)
#define DC_SFMA __builtin_fmaf
#define DC_UNPACKLO _mm256_unpacklo_ps
#define DC_UNPACKHI _mm256_unpackhi_ps
#define DC_PERM2 _mm256_permute2f128_ps
#define DC_MLOAD(p, m) _mm256_maskload_ps((p), (m))
#define DC_BLEND(a, b, m) _mm256_blendv_ps((a), (b), _mm256_castsi256_ps(m))
#define DC_MASK(a, b) _mm256_and_si256( \
    _mm256_loadu_si256((const __m256i *)(dc_mask32_lo + 8 - (a))), \
    _mm256_loadu_si256((const __m256i *)(dc_mask32_hi + 8 - (b))))
#include DC_TEMPLATE
#include "deconv_avx2_undef.h"

#define DC_T double
#define DC_SUF f64
#define DC_V __m256d
#define DC_VL 4
#define DC_LOADU _mm256_loadu_pd
#define DC_STOREU _mm256_storeu_pd
#define DC_SET1 _mm256_set1_pd
#define DC_ZERO _mm256_setzero_pd
#define DC_FMA _mm256_fmadd_pd
#define DC_ADD _mm256_add_pd
#define DC_STREAM128 _mm_stream_pd
#define DC_LO128 _mm256_castpd256_pd128
#define DC_HI128(v) _mm256_extractf128_pd((v), 1)
#define DC_SFMA __builtin_fma
#define DC_UNPACKLO _mm256_unpacklo_pd
#define DC_UNPACKHI _mm256_unpackhi_pd
#define DC_PERM2 _mm256_permute2f128_pd
#define DC_MLOAD(p, m) _mm256_maskload_pd((p), (m))
#define DC_BLEND(a, b, m) _mm256_blendv_pd((a), (b), _mm256_castsi256_pd(m))
#define DC_MASK(a, b) _mm256_and_si256( \
    _mm256_loadu_si256((const __m256i *)(dc_mask64_lo + 4 - (a))), \
    _mm256_loadu_si256((const __m256i *)(dc_mask64_hi + 4 - (b))))
#include DC_TEMPLATE
#include "deconv_avx2_undef.h"
