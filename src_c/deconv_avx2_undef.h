/* Undefines what deconv_avx2_inst.h defines for one instantiation, ready for the next
 * (no include guard on purpose). */
#undef DC_T
#undef DC_SUF
#undef DC_V
#undef DC_VL
#undef DC_LOADU
#undef DC_STOREU
#undef DC_SET1
#undef DC_ZERO
#undef DC_FMA
#undef DC_ADD
#undef DC_STREAM128
#undef DC_LO128
#undef DC_HI128
#undef DC_SFMA
#undef DC_UNPACKLO
#undef DC_UNPACKHI
#undef DC_PERM2
#undef DC_MLOAD
#undef DC_BLEND
#undef DC_MASK
