/*
 * The kernel table, built from registry/dc_kernels.def: per kernel, its description and
 * per ISA row its float and double entry points (NULL where the row lacks it); and the
 * choice of the row, once per process.
 */
#include <string.h>

#include "dc_registry.h"
#include "../problem/dc_shapes.h"
#include "../kernels/tiles.h"

typedef struct {
    int op, impl;
    const char *op_name, *family, *serves;
    const char *tiles[DC_NISA];
    dc_kernel_fn fn[DC_NISA][DC_NDTYPE];
} dc_kernel_row;

#define DC_TILE_STR(a, b) " " #a "x" #b
#define DC_ENTRY(op, family, isa) \
    {DC_KNAME(f32, op, family, isa), DC_KNAME(f64, op, family, isa)}
/* The ISA rows a kernel's isas column fills: PORTABLE all of them with its one build;
 * SIMD_X86 avx2 and avx512 (where compiled). */
#define DC_FNS_PORTABLE(op, family) \
    {DC_ENTRY(op, family, portable), DC_ENTRY(op, family, portable), \
     DC_ENTRY(op, family, portable)}
#define DC_TILES_PORTABLE(op, family) \
    {"" DC_TILES_##op##_##family##_portable(DC_TILE_STR), "", ""}
#if DC_X86_SIMD
#define DC_FNS_SIMD_X86(op, family) \
    {{NULL, NULL}, DC_ENTRY(op, family, avx2), DC_ENTRY(op, family, avx512)}
#define DC_TILES_SIMD_X86(op, family) \
    {"", "" DC_TILES_##op##_##family##_avx2(DC_TILE_STR), \
     "" DC_TILES_##op##_##family##_avx512(DC_TILE_STR)}
#else
#define DC_FNS_SIMD_X86(op, family) {{NULL, NULL}, {NULL, NULL}, {NULL, NULL}}
#define DC_TILES_SIMD_X86(op, family) {"", "", ""}
#endif
#define DC_OPCODE_tconv DC_OP_TCONV
#define DC_OPCODE_conv DC_OP_CONV
#define DC_OPCODE_wgrad DC_OP_WGRAD

#define DC_KERNEL(op, family, isas, impl, serves) \
    {DC_OPCODE_##op, DC_IMPL_##impl, #op, #family, serves, DC_TILES_##isas(op, family), \
     DC_FNS_##isas(op, family)},
static const dc_kernel_row dc_table[DC_NKERNEL] = {
#include "dc_kernels.def"
};
#undef DC_KERNEL

#define DC_ISA_NAME(name, label) #name,
static const char *const dc_isa_names[DC_NISA] = {DC_ISAS(DC_ISA_NAME)};
#undef DC_ISA_NAME
#define DC_ISA_LABEL(name, label) label,
static const char *const dc_isa_labels[DC_NISA] = {DC_ISAS(DC_ISA_LABEL)};
#undef DC_ISA_LABEL

static int dc_active = -1;

int dc_registry_init(void) {
    if (dc_active < 0) dc_active = dc_isa_cpu();
    return dc_active;
}

int dc_registry_set_isa(int isa) {
    const int cpu = dc_isa_cpu();
    dc_active = isa < 0 ? 0 : (isa > cpu ? cpu : isa);
    return dc_active;
}

int dc_registry_isa(void) { return dc_registry_init(); }
int dc_registry_isa_cpu(void) { return dc_isa_cpu(); }

const char *dc_isa_name(int isa) { return isa >= 0 && isa < DC_NISA ? dc_isa_names[isa] : ""; }
const char *dc_isa_label(int isa) { return isa >= 0 && isa < DC_NISA ? dc_isa_labels[isa] : ""; }

int dc_kernel_op(int kid) { return dc_table[kid].op; }
int dc_kernel_impl(int kid) { return dc_table[kid].impl; }
const char *dc_kernel_op_name(int kid) { return dc_table[kid].op_name; }
const char *dc_kernel_family(int kid) { return dc_table[kid].family; }
const char *dc_kernel_serves(int kid) { return dc_table[kid].serves; }

int dc_kernel_built(int kid, int isa) {
    return isa >= 0 && isa < DC_NISA && dc_table[kid].fn[isa][0] != NULL;
}

const char *dc_kernel_tiles(int kid, int isa) {
    const char *t = isa >= 0 && isa < DC_NISA ? dc_table[kid].tiles[isa] : "";
    return t[0] == ' ' ? t + 1 : t;
}

int dc_kernel_find(int op, const char *family) {
    for (int kid = 0; kid < DC_NKERNEL; kid++)
        if (dc_table[kid].op == op && strcmp(dc_table[kid].family, family) == 0) return kid;
    return -1;
}

int dc_kernel_resolve(int kid, const dc_problem *p) {
    /* forcing a kernel outside its shapes runs the nearest one that covers them */
    if (kid == DC_K_tconv_fold && !dc_foldable(p)) kid = DC_K_tconv_chlast;
    if (kid == DC_K_conv_flip && p->s[0] * p->s[1] * p->s[2] != 1) kid = DC_K_conv_chlast;
    if (!dc_kernel_built(kid, dc_registry_init()))
        kid = p->op == DC_OP_TCONV ? DC_K_tconv_direct
              : p->op == DC_OP_CONV ? DC_K_conv_direct : DC_K_wgrad_direct;
    return kid;
}

dc_kernel_fn dc_kernel_get(int kid, int dtype) {
    return dc_table[kid].fn[dc_registry_init()][dtype];
}
