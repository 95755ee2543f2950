/*
 * Instantiates every SIMD kernel family for one x86 ISA, float and double: the
 * includer (isa/dc_avx2.c, isa/dc_avx512.c) names its macro set in DC_SIMD_SET.  A new
 * family adds its files here.  No include guard on purpose.
 */
#define DC_DTYPE 32
#include DC_SIMD_SET
#include "dc_isa_families.h"
#include "../simd/dc_simd_undef.h"
#undef DC_DTYPE

#define DC_DTYPE 64
#include DC_SIMD_SET
#include "dc_isa_families.h"
#include "../simd/dc_simd_undef.h"
#undef DC_DTYPE
