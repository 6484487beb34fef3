/*
 * tn_x86.h - internal to runtime-c (README.md): what the x86 kernels (opt/x86/) share about the CPU and
 * the compiler: which integer dot-product instructions this CPU runs (CPUID, XGETBV), which ones the
 * compiler can target, and an exact AVX2 emulation of VPDPBUSD, so that tests run the VNNI loops on
 * any AVX2 CPU (QEMU 7.2 has no VNNI). Include it after <immintrin.h>, on x86 with GCC or clang.
 */
#ifndef TN_X86_H
#define TN_X86_H

#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>

/* Compilers that know the intrinsics: AVX-VNNI from GCC 11 and clang 12 (Apple clang 13),
 * AVX512-VNNI from GCC 8 and clang 6. Older ones build the AVX2 kernels only. */
#if defined(__apple_build_version__)
#define TN_CC_AVXVNNI (__clang_major__ >= 13)
#define TN_CC_AVX512VNNI (__clang_major__ >= 10)
#elif defined(__clang__)
#define TN_CC_AVXVNNI (__clang_major__ >= 12)
#define TN_CC_AVX512VNNI (__clang_major__ >= 6)
#else
#define TN_CC_AVXVNNI (__GNUC__ >= 11)
#define TN_CC_AVX512VNNI (__GNUC__ >= 8)
#endif

/* VPDPBUSD on 256-bit vectors: acc + the 4 products u8 x s8 of each 32-bit lane (wrapping). */
#define TN_TARGET_AVXVNNI __attribute__((target("avx2,avxvnni")))
#define TN_TARGET_AVX512VNNI __attribute__((target("avx2,avx512vnni,avx512vl")))
#define TN_DP_AVXVNNI(acc, u, x) _mm256_dpbusd_avx_epi32(acc, u, x)
#define TN_DP_AVX512VNNI(acc, u, x) _mm256_dpbusd_epi32(acc, u, x)

/* What this CPU and its OS run (tn_x86_cpu). */
#define TN_X86_AVX2 1u       /* AVX2 and the YMM state saved */
#define TN_X86_F16C 2u       /* F16C */
#define TN_X86_AVXVNNI 4u    /* AVX-VNNI */
#define TN_X86_AVX512VNNI 8u /* AVX512-VNNI with AVX512F and AVX512VL, the AVX-512 state saved */

/* AVX2 needs CPUID.7.0:EBX bit 5 and an OS that saves the YMM registers (OSXSAVE and AVX, CPUID.1:ECX
 * bits 27 and 28; XCR0 bits 1 and 2); F16C is CPUID.1:ECX bit 29; AVX-VNNI is CPUID.7.1:EAX bit 4;
 * AVX512-VNNI is CPUID.7.0:ECX bit 11 with AVX512F and AVX512VL (EBX bits 16 and 31) and the AVX-512
 * state saved too (XCR0 bits 5 to 7). Not __builtin_cpu_supports: zig's compiler-rt has no __cpu_model.
 * Callers keep the answer (the CPU does not change). */
static inline unsigned tn_x86_cpu(void) {
  unsigned a, b, c, d, f = 0, lo, hi, f16c;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28))) return 0;
  f16c = (c & (1u << 29)) ? TN_X86_F16C : 0u;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  if ((lo & 6u) != 6u || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 5))) return f16c;
  f = TN_X86_AVX2 | f16c;
  if ((c & (1u << 11)) && (b & (1u << 16)) && (b & (1u << 31)) && (lo & 0xe0u) == 0xe0u) f |= TN_X86_AVX512VNNI;
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 4))) f |= TN_X86_AVXVNNI;
  return f;
}

/* The sum of the 8 int32 lanes of v, wrapping (exact modulo 2^32). */
__attribute__((target("avx2"))) static inline uint32_t tn_hsum8_u32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return (uint32_t)_mm_cvtsi128_si32(s);
}

/* VPDPBUSD in AVX2, exactly, for any operands: acc + the 4 products u8 x s8 of each 32-bit lane.
 * The even and the odd bytes of u are multiplied apart, so that each VPMADDUBSW lane holds one
 * product (|u x| <= 255 * 128 < 2^15: no saturation), then VPMADDWD adds the pairs into int32. */
__attribute__((target("avx2"))) static inline __m256i tn_dpbusd_emulated(__m256i acc, __m256i u, __m256i x) {
  const __m256i even = _mm256_set1_epi16(0x00ff), ones = _mm256_set1_epi16(1);
  const __m256i pe = _mm256_maddubs_epi16(_mm256_and_si256(u, even), x);
  const __m256i po = _mm256_maddubs_epi16(_mm256_andnot_si256(even, u), x);
  return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(pe, ones), _mm256_madd_epi16(po, ones)));
}

#endif /* TN_X86_H */
