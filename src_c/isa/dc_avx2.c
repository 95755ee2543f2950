/*
 * The avx2 row of the kernel table: every SIMD_X86 family of registry/dc_kernels.def
 * built for AVX2+FMA, float and double (exported as dc_<dtype>_<op>_<family>__avx2).  The
 * functions carry their own target attributes, so this file needs no -m flags and
 * runs only where registry/dc_isa.h found the ISA.  Empty on other CPU families.
 */
#include "../registry/dc_isa.h"

#if DC_X86_SIMD
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../problem/dc_problem.h"
#include "../problem/dc_taps.h"
#include "../problem/dc_phases.h"
#include "../problem/dc_boxes.h"
#include "../problem/dc_fold.h"
#include "../registry/dc_tuning.h"
#include "../kernels/dc_names.h"
#include "../kernels/dc_threads.h"
#include "../kernels/tiles.h"

#define DC_SIMD_SET "../simd/dc_simd_avx2.h"
#include "dc_isa_kernels.h"
#endif
