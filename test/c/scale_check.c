/* tn_scale_i32 (runtime-c/tn_epilogue.h), the kernels' epilogue ((float)v * ws) * sx on cores without an FPU,
 * built here with its soft-float path forced on (TN_TEST_SOFT_FLOAT; with TN_TEST_NO_CLZ also the
 * table search that RV32IMC uses instead of a count-leading-zeros instruction) and compared bit for
 * bit with the host's float arithmetic: every shift tn_shift30 gives for 1 <= m < 2^24, then random
 * and chosen operands: sums of every size (0, +-1, around 2^24, INT32_MIN), tiny and huge scales
 * (subnormal, zero and infinite results: the fallback; products that round up to infinity), short
 * significands (ties in both roundings) and significands near 2 (roundings that carry into the
 * exponent); tn_add_fast, the bias add, on pairs of every kind (cancellation, ties, carries, zeros,
 * subnormal results); then tn_scale_rows on runs of outputs with slow ones among them. */
#define TN_TEST_SOFT_FLOAT 1
#include "tn_epilogue.h"
#include <stdio.h>
#define SCALE_GEN_SEED 0x9e3779b97f4a7c15ull
#include "scale_gen.h"
int main(void) {
  uint64_t bad = 0, n = 0, i;
  uint32_t m;
  for (m = 1; m < 0x1000000u; ++m) /* every shift */
    if ((m << tn_shift30(m)) >> 30 != 1u) { if (bad < 10) printf("shift30(%u) = %u\n", m, tn_shift30(m)); ++bad; }
  for (i = 0; i < 30000000ull; ++i) {
    const uint32_t k = rnd() & 7u;
    const int32_t v = sum();
    float ws, sx;
    if (k == 0) ws = scale(1, 40), sx = scale(1, 60);             /* subnormal and zero results */
    else if (k == 1) ws = scale(200, 254), sx = scale(150, 254);  /* overflow */
    else if (k == 2) ws = f_of(rnd()), sx = f_of(rnd());          /* any bits: zeros, subnormals, inf, NaN */
    else if (k == 3) ws = scale(80, 100), sx = scale(1, 30);      /* the second product near the subnormal edge */
    else if (k == 4 && v != 0) {                                  /* a product rounding up to 2^128 (infinity) */
      const double p = 0x1.fffffefffffffp127 * (1.0 + (double)(rnd() & 3u) * 0x1p-52);
      if (rnd() & 1u) ws = f_of(u_of((float)(p / (double)v)) + (rnd() & 3u) - 1u), sx = scale(100, 126); /* the first */
      else ws = scale(110, 127), sx = f_of(u_of((float)(p / (double)((float)v * ws))) + (rnd() & 3u) - 1u); /* the second */
    }
    else ws = scale(100, 130), sx = scale(100, 130);              /* the kernels' range */
    {
      const uint32_t got = u_of(tn_scale_i32(v, ws, sx)), want = u_of(((float)v * ws) * sx);
      ++n;
      if (got != want && !(f_of(got) != f_of(got) && f_of(want) != f_of(want))) {
        if (bad < 10) printf("%d * %08x * %08x: %08x vs %08x\n", v, u_of(ws), u_of(sx), got, want);
        ++bad;
      }
    }
  }
  /* tn_add_fast: the bias add */
  for (i = 0; i < 20000000ull; ++i) {
    const uint32_t k = rnd() & 7u;
    uint32_t a = rnd(), b = rnd(), got;
    if (k == 0) b = (b & 0x807fffffu) | ((((a >> 23) & 0xffu) << 23) ^ ((rnd() & 1u) << 23)); /* exponents within 1 */
    if (k == 1) b = (a ^ 0x80000000u) ^ (rnd() & 0xffu);                                     /* cancellation */
    if (k == 2) b = (b & 0x807fffffu) | (((((a >> 23) & 0xffu) + 256u - (rnd() % 30u)) & 0xffu) << 23); /* any shift */
    if (k == 3) a &= 0xfff00000u, b &= 0xfff80000u;                                          /* short: ties */
    if (k == 4) a |= 0x007fff00u, b = (b & 0x80000000u) | (((a >> 23) & 0xffu) << 23) | (rnd() & 0x3ffu); /* carries */
    if (k == 5) b &= 0x80000000u;                                                            /* zero */
    if (k == 6) a = (a & 0x807fffffu) | ((rnd() % 6u) << 23), b = (b & 0x807fffffu) | ((rnd() % 6u) << 23); /* subnormal results */
    ++n;
    if (tn_add_fast(a, b, &got)) {
      const uint32_t want = u_of(f_of(a) + f_of(b));
      if (got != want) {
        if (bad < 10) printf("add %08x + %08x: %08x vs %08x\n", a, b, got, want);
        ++bad;
      }
    }
  }
  /* tn_scale_rows: runs of outputs with slow ones among them, biased sums, with and without bias */
  for (i = 0; i < 200000ull; ++i) {
    uint32_t v[40], sub = rnd(), j, len = 1u + rnd() % 40u;
    float ws[40], bias[40], y[40];
    const float sx = (rnd() & 7u) ? scale(110, 130) : f_of(rnd());
    const int with_bias = (int)(rnd() & 1u);
    for (j = 0; j < len; ++j) {
      v[j] = (uint32_t)sum() + sub;
      ws[j] = (rnd() & 15u) ? scale(100, 130) : f_of(rnd());
      bias[j] = f_of(rnd());
    }
    tn_scale_rows(v, sub, ws, sx, with_bias ? bias : NULL, y, (int32_t)len);
    for (j = 0; j < len; ++j) {
      float want = ((float)(int32_t)(v[j] - sub) * ws[j]) * sx;
      if (with_bias) want = want + bias[j];
      ++n;
      if (u_of(y[j]) != u_of(want) && !(y[j] != y[j] && want != want)) {
        if (bad < 10) printf("rows: %d * %08x * %08x: %08x vs %08x\n", (int32_t)(v[j] - sub), u_of(ws[j]), u_of(sx), u_of(y[j]), u_of(want));
        ++bad;
      }
    }
  }
  printf("%llu of %llu differ\n", (unsigned long long)bad, (unsigned long long)n);
  return bad != 0;
}
