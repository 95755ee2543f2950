/*
 * The AVX2+FMA macro set the kernel templates are written in, for the dtype DC_DTYPE
 * (32 or 64, set by the includer: isa/dc_isa_kernels.h).  The template sees DC_T,
 * DC_DT (f32/f64: kernel names), DC_ISA (avx2: kernel names), DC_SUF (f32_avx2: its
 * private helpers' names), DC_TSUF (f32: the portable helpers' dtype suffix), DC_V,
 * DC_VL, DC_MASK_T (a lane mask), DC_TARGET / DC_INLINE (the target attributes) and the
 * intrinsic macros below.  simd/dc_simd_avx512.h is its AVX-512 twin with the same
 * semantics; simd/dc_simd_undef.h undoes either.  No include guard on purpose (once
 * per dtype), but for the mask tables.
 */
#include <immintrin.h>
#include <stdint.h>

#ifndef DC_SIMD_AVX2_MASKS
#define DC_SIMD_AVX2_MASKS
/* Lane masks: dc_mask32_lo + 8 - a has lanes l >= a set; dc_mask32_hi + 8 - b has
 * lanes l < b set (0 <= a, b <= 8).  Same for 64-bit lanes with 4. */
static const int32_t dc_mask32_lo[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                         -1, -1, -1, -1, -1, -1, -1, -1};
static const int32_t dc_mask32_hi[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                         0, 0, 0, 0, 0, 0, 0, 0};
static const int64_t dc_mask64_lo[8] = {0, 0, 0, 0, -1, -1, -1, -1};
static const int64_t dc_mask64_hi[8] = {-1, -1, -1, -1, 0, 0, 0, 0};
#endif

#define DC_ISA avx2
#define DC_NVREG 16   /* vector registers */
#define DC_TARGET __attribute__((target("avx2,fma")))
#define DC_INLINE __attribute__((always_inline, target("avx2,fma"))) inline
#define DC_MASK_T __m256i

#if DC_DTYPE == 32
#define DC_T float
#define DC_DT f32
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
/* the even and the odd elements of [v0, v1] (the inverse of the zips) */
#define DC_EVENS(v0, v1) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd( \
    _mm256_shuffle_ps((v0), (v1), _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)))
#define DC_ODDS(v0, v1) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd( \
    _mm256_shuffle_ps((v0), (v1), _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)))
#define DC_MLOAD(p, m) _mm256_maskload_ps((p), (m))
#define DC_MSTORE(p, m, v) _mm256_maskstore_ps((p), (m), (v))
#define DC_BLEND(a, b, m) _mm256_blendv_ps((a), (b), _mm256_castsi256_ps(m))
/* lanes a <= l < b set (0 <= a, b <= DC_VL) */
#define DC_MASK(a, b) _mm256_and_si256( \
    _mm256_loadu_si256((const __m256i *)(dc_mask32_lo + 8 - (a))), \
    _mm256_loadu_si256((const __m256i *)(dc_mask32_hi + 8 - (b))))
#else
#define DC_T double
#define DC_DT f64
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
#define DC_EVENS(v0, v1) _mm256_permute4x64_pd(_mm256_unpacklo_pd((v0), (v1)), \
                                              _MM_SHUFFLE(3, 1, 2, 0))
#define DC_ODDS(v0, v1) _mm256_permute4x64_pd(_mm256_unpackhi_pd((v0), (v1)), \
                                             _MM_SHUFFLE(3, 1, 2, 0))
#define DC_MLOAD(p, m) _mm256_maskload_pd((p), (m))
#define DC_MSTORE(p, m, v) _mm256_maskstore_pd((p), (m), (v))
#define DC_BLEND(a, b, m) _mm256_blendv_pd((a), (b), _mm256_castsi256_pd(m))
#define DC_MASK(a, b) _mm256_and_si256( \
    _mm256_loadu_si256((const __m256i *)(dc_mask64_lo + 4 - (a))), \
    _mm256_loadu_si256((const __m256i *)(dc_mask64_hi + 4 - (b))))
#endif
