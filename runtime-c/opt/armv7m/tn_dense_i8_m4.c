/*
 * tn_dense_i8_m4.c - dense int8 linear layer with the Cortex-M4/M7/M33 DSP extension: the int8
 * point of comparison of the benchmark on Cortex-M4 (the CMSIS-NN s8 pattern, written here).
 *
 * The activations are sign-extended once per token into int16 pairs (x0, x2), (x1, x3) per 4 codes
 * (xbuf, 2 k int16); then for every 4 weights of a row: one LDR, two SXTB16 (the second of the word
 * rotated by 8) and two SMLAD (dual 16 x 16 multiply-accumulate into 32 bits): 5 instructions per 4
 * weights, plus the activation pair loads (one LDRD) shared by the 2 or 4 rows of a pass. The inner
 * loops are assembly (written in C, clang unrolled them and spilled the row pointers: 2.3 instead of
 * 1.45 instructions per weight); 4 rows: 23 instructions per 16 weights.
 */
#include "tn_runtime.h"
#include "tn_dense.h"
#include "tn_internal.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

typedef struct tn_smlad_args {
  const uint32_t *x;     /* (x0, x2), (x1, x3) int16 pairs per 4 codes */
  const int8_t *w[4];    /* row pointers (word-aligned or not: LDR may be unaligned on ARMv7-M) */
  int32_t quads;         /* k / 4 */
  int32_t *acc;          /* 4 (or 2) sums, written */
} tn_smlad_args;

#define TN_SM(p, a) "ldr r12, [" p "], #4\n\tsxtb16 lr, r12\n\tsmlad " a ", lr, r10, " a "\n\tsxtb16 lr, r12, ror #8\n\tsmlad " a ", lr, r11, " a "\n\t"

/* Four rows: x r0, rows r1-r4, sums r5-r8, count r9, pairs r10/r11, word r12, temp lr. */
__attribute__((naked)) static void tn_smlad4(TN_REG_ARG const tn_smlad_args *a) {
  __asm__ volatile(
      ".syntax unified\n\t"
      "push {r4-r11, lr}\n\t"
      "push {r0}\n\t"
      "ldr r9, [r0, #20]\n\t"
      "ldm r0, {r0-r4}\n\t"
      "movs r5, #0\n\t"
      "movs r6, #0\n\t"
      "mov r7, r5\n\t"
      "mov r8, r5\n\t"
      "cmp r9, #0\n\t"
      "beq 2f\n\t"
      "1:\n\t"
      "ldrd r10, r11, [r0], #8\n\t" TN_SM("r1", "r5") TN_SM("r2", "r6") TN_SM("r3", "r7") TN_SM("r4", "r8")
      "subs r9, #1\n\t"
      "bne 1b\n\t"
      "2:\n\t"
      "pop {r0}\n\t"
      "ldr r0, [r0, #24]\n\t"
      "stm r0, {r5-r8}\n\t"
      "pop {r4-r11, pc}\n\t");
}

/* Two rows: x r0, rows r1-r2, sums r5-r6. */
__attribute__((naked)) static void tn_smlad2(TN_REG_ARG const tn_smlad_args *a) {
  __asm__ volatile(
      ".syntax unified\n\t"
      "push {r4-r11, lr}\n\t"
      "push {r0}\n\t"
      "ldr r9, [r0, #20]\n\t"
      "ldm r0, {r0-r2}\n\t"
      "movs r5, #0\n\t"
      "movs r6, #0\n\t"
      "cmp r9, #0\n\t"
      "beq 2f\n\t"
      "1:\n\t"
      "ldrd r10, r11, [r0], #8\n\t" TN_SM("r1", "r5") TN_SM("r2", "r6")
      "subs r9, #1\n\t"
      "bne 1b\n\t"
      "2:\n\t"
      "pop {r0}\n\t"
      "ldr r0, [r0, #24]\n\t"
      "strd r5, r6, [r0]\n\t"
      "pop {r4-r11, pc}\n\t");
}

static int32_t tn_ld32(const int8_t *p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4); /* rows need not be word-aligned: an unaligned LDR on ARMv7-M */
  return v;
}

/* The word rotated right by 8 (one ROR; gcc 12's arm_acle.h has no __ror). */
static int32_t tn_ror8(int32_t v) {
  const uint32_t u = (uint32_t)v;
  return (int32_t)((u >> 8) | (u << 24));
}

void tn_dense_i8_m4(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                    const float *bias, float *y, int16_t *xbuf, int32_t r) {
  const int32_t k4 = k & ~3;
  uint32_t *xp = (uint32_t *)(void *)xbuf;
  int32_t t, o, i, j;
  for (t = 0; t < rows; ++t) {
    const int8_t *xt = x + (size_t)t * (size_t)k;
    float *yt = y + (size_t)t * (size_t)n;
    for (i = 0; i < k4; i += 4) { /* (x0, x2), (x1, x3) as int16 pairs */
      const int32_t v = tn_ld32(xt + i);
      xp[i / 2] = (uint32_t)__sxtb16(v);
      xp[i / 2 + 1] = (uint32_t)__sxtb16(tn_ror8(v));
    }
    for (o = 0; o < n;) {
      int32_t a[4] = {0, 0, 0, 0};
      const int32_t m = (r >= 4 && n - o >= 4) ? 4 : (n - o >= 2 ? 2 : 1);
      const int8_t *w0 = w + (size_t)o * (size_t)k;
      if (m >= 2) {
        tn_smlad_args args;
        args.x = xp;
        args.w[0] = w0;
        args.w[1] = w0 + k;
        args.w[2] = w0 + 2 * (size_t)k;
        args.w[3] = w0 + 3 * (size_t)k;
        args.quads = k4 / 4;
        args.acc = a;
        if (m == 4) tn_smlad4(&args);
        else tn_smlad2(&args);
      } else {
        for (i = 0; i < k4; i += 4) {
          const int32_t v = tn_ld32(w0 + i);
          a[0] = __smlad(__sxtb16(v), (int32_t)xp[i / 2], a[0]);
          a[0] = __smlad(__sxtb16(tn_ror8(v)), (int32_t)xp[i / 2 + 1], a[0]);
        }
      }
      for (j = 0; j < m; ++j) {
        const int8_t *wr = w0 + (size_t)j * (size_t)k;
        float s;
        for (i = k4; i < k; ++i) a[j] += (int32_t)wr[i] * (int32_t)xt[i];
        s = ((float)a[j] * w_scale[o + j]) * x_scale[t];
        yt[o + j] = bias ? s + bias[o + j] : s;
      }
      o += m;
    }
  }
}

#else /* no DSP extension: the plain loop */

void tn_dense_i8_m4(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                    const float *bias, float *y, int16_t *xbuf, int32_t r) {
  (void)xbuf;
  (void)r;
  tn_dense_i8(x, x_scale, rows, w, w_scale, n, k, bias, y);
}

#endif
