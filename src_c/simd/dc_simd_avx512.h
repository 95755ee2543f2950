/*
 * The AVX-512 twin of simd/dc_simd_avx2.h: 512-bit vectors (16 floats, 8 doubles) and
 * k-register lane masks (masked loads load 0 in the masked-off lanes, blends keep the
 * old value there: the same semantics as the AVX2 set).  Kernel names end in
 * __avx512.  Needs only AVX-512F (every AVX-512 CPU has it).  No include guard on
 * purpose.
 */
#include <immintrin.h>

#define DC_ISA avx512
#define DC_NVREG 32   /* vector registers */
#define DC_TARGET __attribute__((target("avx512f,avx2,fma")))
#define DC_INLINE __attribute__((always_inline, target("avx512f,avx2,fma"))) inline

#if DC_DTYPE == 32
#define DC_MASK_T __mmask16
#define DC_T float
#define DC_DT f32
#define DC_SUF f32_avx512
#define DC_TSUF f32
#define DC_V __m512
#define DC_VL 16
#define DC_LOADU _mm512_loadu_ps
#define DC_STOREU _mm512_storeu_ps
#define DC_SET1 _mm512_set1_ps
#define DC_ZERO _mm512_setzero_ps
#define DC_FMA _mm512_fmadd_ps
#define DC_ADD _mm512_add_ps
#define DC_SFMA __builtin_fmaf
#define DC_ZIPLO(v0, v1) _mm512_permutex2var_ps((v0), _mm512_set_epi32( \
    23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0), (v1))
#define DC_ZIPHI(v0, v1) _mm512_permutex2var_ps((v0), _mm512_set_epi32( \
    31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8), (v1))
/* the even and the odd elements of [v0, v1] (the inverse of the zips) */
#define DC_EVENS(v0, v1) _mm512_permutex2var_ps((v0), _mm512_set_epi32( \
    30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0), (v1))
#define DC_ODDS(v0, v1) _mm512_permutex2var_ps((v0), _mm512_set_epi32( \
    31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1), (v1))
#define DC_MLOAD(p, m) _mm512_maskz_loadu_ps((m), (p))
#define DC_MSTORE(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
#define DC_BLEND(a, b, m) _mm512_mask_blend_ps((m), (a), (b))
#define DC_MASK(a, b) ((__mmask16)((((unsigned)1 << (b)) - 1u) & ~(((unsigned)1 << (a)) - 1u)))
#else
#define DC_MASK_T __mmask8
#define DC_T double
#define DC_DT f64
#define DC_SUF f64_avx512
#define DC_TSUF f64
#define DC_V __m512d
#define DC_VL 8
#define DC_LOADU _mm512_loadu_pd
#define DC_STOREU _mm512_storeu_pd
#define DC_SET1 _mm512_set1_pd
#define DC_ZERO _mm512_setzero_pd
#define DC_FMA _mm512_fmadd_pd
#define DC_ADD _mm512_add_pd
/* 128-bit pieces through the float view: _mm512_extractf64x2_pd would need AVX-512DQ */
#define DC_XF64(v, i) _mm_castps_pd(_mm512_extractf32x4_ps(_mm512_castpd_ps(v), (i)))
#define DC_SFMA __builtin_fma
#define DC_ZIPLO(v0, v1) _mm512_permutex2var_pd((v0), _mm512_set_epi64( \
    11, 3, 10, 2, 9, 1, 8, 0), (v1))
#define DC_ZIPHI(v0, v1) _mm512_permutex2var_pd((v0), _mm512_set_epi64( \
    15, 7, 14, 6, 13, 5, 12, 4), (v1))
#define DC_EVENS(v0, v1) _mm512_permutex2var_pd((v0), _mm512_set_epi64( \
    14, 12, 10, 8, 6, 4, 2, 0), (v1))
#define DC_ODDS(v0, v1) _mm512_permutex2var_pd((v0), _mm512_set_epi64( \
    15, 13, 11, 9, 7, 5, 3, 1), (v1))
#define DC_MLOAD(p, m) _mm512_maskz_loadu_pd((m), (p))
#define DC_MSTORE(p, m, v) _mm512_mask_storeu_pd((p), (m), (v))
#define DC_BLEND(a, b, m) _mm512_mask_blend_pd((m), (a), (b))
#define DC_MASK(a, b) ((__mmask8)((((unsigned)1 << (b)) - 1u) & ~(((unsigned)1 << (a)) - 1u)))
#endif
