/*
 * The instruction sets the kernel table has a row for, and which one this CPU runs.
 *
 * DC_ISAS lists them, best last.  PORTABLE kernels fill every row; a SIMD_X86 kernel
 * (registry/dc_kernels.def) fills the avx2 and avx512 rows, from isa/dc_avx2.c and
 * isa/dc_avx512.c.  The row used is chosen once per process (dc_registry_init), the
 * best one the CPU has; tests may lower it (dc_registry_set_isa) to compare ISAs.
 *
 * Room for aarch64: an X(neon, "neon") row (and X(sve, "sve")), a SIMD_ARM isa set in
 * dc_registry.c, an isa/dc_neon.c instantiating the family templates with a
 * simd/dc_simd_neon.h macro set, and a case in dc_isa_cpu().  Until then aarch64 runs
 * the PORTABLE row (the row kernels and BLAS).
 */
#ifndef DC_ISA_H
#define DC_ISA_H

/* X(name, label): name in kernel names (dc_f32_tconv_chlast__avx512), label for people */
#define DC_ISAS(X) \
    X(portable, "portable") \
    X(avx2, "avx2+fma") \
    X(avx512, "avx512f")

#define DC_ISA_ENUM(name, label) DC_ISA_##name,
enum { DC_ISAS(DC_ISA_ENUM) DC_NISA };
#undef DC_ISA_ENUM

/* 1 where the x86 SIMD kernels are compiled (GCC-compatible compiler, x86-64) */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define DC_X86_SIMD 1
#else
#define DC_X86_SIMD 0
#endif

/* The best ISA row this CPU can run. */
static inline int dc_isa_cpu(void) {
#if DC_X86_SIMD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2")
        && __builtin_cpu_supports("fma"))
        return DC_ISA_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return DC_ISA_avx2;
#endif
    return DC_ISA_portable;
}

#endif /* DC_ISA_H */
