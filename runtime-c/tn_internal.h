/*
 * tn_internal.h - internal to runtime-c (README.md): what the runtime's .c files share and a generated
 * model never uses. Compiler hints, and the RV32 Zbb bit-scan instructions for toolchains that cannot
 * enable Zbb. The other internal headers include this one.
 */
#ifndef TN_INTERNAL_H
#define TN_INTERNAL_H

#include "tn_runtime.h"

#if defined(__GNUC__) || defined(__clang__)
#define TN_INLINE inline __attribute__((always_inline))
#define TN_NOINLINE __attribute__((noinline))
#define TN_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define TN_INLINE inline
#define TN_NOINLINE
#define TN_UNLIKELY(c) (c)
#endif

/* A parameter of a naked function: its assembly reads it from the register the ABI puts it in,
 * which the compiler does not see (gcc: -Wunused-parameter), and a naked function may hold nothing
 * but assembly, so it cannot say (void)p. */
#if defined(__GNUC__) || defined(__clang__)
#define TN_REG_ARG __attribute__((unused))
#else
#define TN_REG_ARG
#endif

/* An int8 as uint32, for sums that wrap modulo 2^32 on purpose. Through an int32_t: gcc folds
 * (uint32_t)(int32_t)x of an int8_t x into one conversion and warns that it may change the sign
 * (-Wsign-conversion), though the cast says so. */
static TN_INLINE uint32_t tn_u32_of_i8(int8_t v) {
  const int32_t w = v;
  return (uint32_t)w;
}

/* A macro argument as a string literal, after expansion (immediate operands of assembly). */
#define TN_S(x) #x
#define TN_STR(x) TN_S(x)

/* RV32 with Zbb (CLZ, CTZ): when the compiler targets it (__riscv_zbb, e.g. GCC -march=rv32imc_zbb)
 * or the build defines TN_RV32_ZBB (target rv32imc-zbb), for toolchains that cannot enable Zbb
 * (zig 0.11 ignores +zbb). The instructions are written as .insn encodings, which every RISC-V
 * assembler accepts whatever -march says. */
#if defined(__riscv) && __riscv_xlen == 32 && (defined(__riscv_zbb) || defined(TN_RV32_ZBB)) && (defined(__GNUC__) || defined(__clang__))
#define TN_RV32_ZBB_INSN 1
#define TN_INSN_CLZ(rd, rs) ".insn i 0x13, 1, " rd ", " rs ", 0x600\n\t" /* clz rd, rs */
static TN_INLINE uint32_t tn_clz_zbb(uint32_t m) {
  uint32_t r;
  __asm__(TN_INSN_CLZ("%0", "%1") : "=r"(r) : "r"(m));
  return r;
}
static TN_INLINE uint32_t tn_ctz_zbb(uint32_t m) {
  uint32_t r;
  __asm__(".insn i 0x13, 1, %0, %1, 0x601" : "=r"(r) : "r"(m)); /* ctz */
  return r;
}
#else
#define TN_RV32_ZBB_INSN 0
#endif

#endif /* TN_INTERNAL_H */
