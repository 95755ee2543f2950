/* Undefines what deconv_avx2_inst.h / deconv_avx512_inst.h define for one dtype's
 * instantiation, ready for the next (no include guard on purpose). */
#undef DC_T
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
#undef DC_ZIPLO
#undef DC_ZIPHI
#undef DC_MLOAD
#undef DC_BLEND
#undef DC_MASK
