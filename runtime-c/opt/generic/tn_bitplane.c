/*
 * tn_bitplane.c - ternary linear layers over bit-planes (tbp, tn_runtime.h): per 32 codes a nonzero
 * mask and a sign mask. The dot product visits only the set bits of the nonzero mask, so its cost
 * follows the nonzero codes, not K: the kernel for sparse ternary weights (ComPEFT-style deltas,
 * pruned layers), where LUT and 2-bit kernels still pay for every zero.
 *
 * Per nonzero code: find the lowest set bit, load x, add (or subtract: the +1 and -1 codes are
 * visited in two loops), clear the bit. The loops over rows, planes, groups and the float epilogue are the shared
 * driver tn_lowbit_linear (ref/tn_lowbit_linear.c), so the floats are the reference's.
 */
#include "tn_runtime.h"
#include "tn_lowbit.h"

/* Index of the lowest set bit of m != 0. GCC and clang lower the builtin to RBIT+CLZ, CTZ, or a
 * compiler-rt call or multiply and table (RV32IMC, Cortex-M0); Zbb's CTZ on RV32 cores with it
 * (tn_internal.h: also where the compiler cannot be told); the loop is for other C99 compilers. */
static TN_INLINE int32_t tn_lowest_bit(uint32_t m) {
#if TN_RV32_ZBB_INSN
  return (int32_t)tn_ctz_zbb(m);
#elif defined(__GNUC__) || defined(__clang__)
  return (int32_t)__builtin_ctz(m);
#else
  int32_t b = 0;
  while (!(m & 1u)) {
    m >>= 1;
    ++b;
  }
  return b;
#endif
}

/* The codes of one word pair under `mask` times x (x: the word's first activation). The +1 and -1
 * codes are visited in two loops, so each nonzero costs: lowest set bit, load, add, clear the bit. */
static int32_t tn_tbp_word(const uint32_t *pair, const int8_t *x, uint32_t mask) {
  const uint32_t nz = pair[0] & mask;
  uint32_t pos, neg;
  int32_t acc = 0;
  if (!nz) return 0;
  pos = nz & ~pair[1];
  neg = nz & pair[1];
  while (pos) {
    acc += x[tn_lowest_bit(pos)];
    pos &= pos - 1u; /* clear the lowest set bit */
  }
  while (neg) {
    acc -= x[tn_lowest_bit(neg)];
    neg &= neg - 1u;
  }
  return acc;
}

/* The exact sum of codes k0..k1-1 of one row times x (|sum| <= (k1 - k0) * 128 < 2^31: the
 * driver's flush keeps k1 - k0 within the compiler's bound). Partial first and last words are
 * masked; the words between are whole. */
static int32_t tn_tbp_dot(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1) {
  const uint32_t *pairs = (const uint32_t *)(const void *)codes; /* emitted as uint32_t: aligned */
  const int32_t first = k0 >> 5, last = (k1 - 1) >> 5;
  const uint32_t head = ~(uint32_t)0 << (k0 & 31);                        /* codes from k0 on */
  const uint32_t tail = (k1 & 31) ? ~(~(uint32_t)0 << (k1 & 31)) : ~(uint32_t)0; /* before k1 */
  int32_t acc, i;
  if (k1 <= k0) return 0;
  if (first == last) return tn_tbp_word(pairs + 2 * first, x + 32 * first, head & tail);
  acc = tn_tbp_word(pairs + 2 * first, x + 32 * first, head);
  for (i = first + 1; i < last; ++i) acc += tn_tbp_word(pairs + 2 * i, x + 32 * i, ~(uint32_t)0);
  return acc + tn_tbp_word(pairs + 2 * last, x + 32 * last, tail);
}

void tn_ternary_linear_tbp_sparse(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                  const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lowbit_linear(x, x_scale, x_per_row, rows, w, tn_lowbit_row_bytes(TN_FMT_TBP, w), tn_tbp_dot, bias, flush, y);
}
