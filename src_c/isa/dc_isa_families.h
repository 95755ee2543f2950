/*
 * The SIMD kernel families, for the dtype and ISA of the macro set in force (see
 * isa/dc_isa_kernels.h): shared width-phase pieces first, then each family's tiles,
 * packing and loop.  No include guard on purpose.
 */
#include "../kernels/phase_store.h"
#include "../kernels/width/chunks.h"
#include "../kernels/width/store.h"

#include "../kernels/blocked/tile.h"
#include "../kernels/blocked/pack.h"
#include "../kernels/blocked/loop.h"

#include "../kernels/depthwise/tile.h"
#include "../kernels/depthwise/loop.h"
#include "../kernels/wgrad_bands.h"
#include "../kernels/depthwise/split_rows.h"
#include "../kernels/depthwise/conv_tile.h"
#include "../kernels/depthwise/conv_loop.h"
#include "../kernels/depthwise/wgrad.h"

#include "../kernels/chlast/tile.h"
#include "../kernels/chlast/store.h"
#include "../kernels/chlast/pack.h"
#include "../kernels/chlast/loop.h"
#include "../kernels/chlast/fold.h"

#include "../kernels/vchan/tile.h"
#include "../kernels/vchan/pack.h"
#include "../kernels/vchan/loop.h"

#include "../kernels/outer/tile.h"
#include "../kernels/outer/loop.h"
