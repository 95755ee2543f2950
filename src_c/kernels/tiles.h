/*
 * Every kernel family's tile list (kernels/<family>/tiles.h), for the registry's table
 * and the ISA translation units.
 */
#ifndef DC_TILES_H
#define DC_TILES_H
#include "rows/tiles.h"
#include "blocked/tiles.h"
#include "depthwise/tiles.h"
#include "chlast/tiles.h"
#include "vchan/tiles.h"
#include "outer/tiles.h"
#endif /* DC_TILES_H */
