/* Undoes simd/dc_simd_avx2.h or simd/dc_simd_avx512.h, ready for the next dtype or ISA
 * (no include guard on purpose). */
#undef DC_ISA
#undef DC_NVREG
#undef DC_TARGET
#undef DC_INLINE
#undef DC_MASK_T
#undef DC_T
#undef DC_DT
#undef DC_SUF
#undef DC_TSUF
#undef DC_V
#undef DC_VL
#undef DC_LOADU
#undef DC_STOREU
#undef DC_SET1
#undef DC_ZERO
#undef DC_FMA
#undef DC_ADD
#undef DC_SFMA
#undef DC_XF64
#undef DC_ZIPLO
#undef DC_ZIPHI
#undef DC_EVENS
#undef DC_ODDS
#undef DC_MLOAD
#undef DC_BLEND
#undef DC_MASK
