/*
 * int8_linear_check.c - the Int8Linear kernels (tn_lm.h) bit for bit against the reference
 * (runtime-c/ref/tn_int8_linear.c): the AVX2 file's variants one by one (AVX2; VPDPBUSD emulated in
 * AVX2; the CPU's own VPDPBUSD where it has one), its dispatch, and the NEON kernel (SDOT or widening
 * multiplies, as built), on a table of shapes:
 *   K 0 to 1000 (around the runs of 16 and 32), tokens 1, 2, 3, 5, rows 1 to 9 and 13 (passes of 4
 *   rows and a last one that repeats its row), a scale per tensor, per row, and groups of 1, 3, 16,
 *   32, 37, 100 and 256; weights over the whole int8 range (-128 included), activations in [-127,
 *   127], with stretches at the extremes; scales, activation scales and biases "mild" or "wild"
 *   (signed zeros, subnormals, huge values, infinities, NaN: the float steps must be the reference's).
 * And the worst case the compiler allows: K = 131072 of w = -128 and x = -127 (the sum 2,130,706,432
 * fits int32 only just; the VNNI loops wrap on the way).
 * Outputs are equal if their bits are, or both are NaN. Prints "<kernel>: ok (<cases> cases)", or
 * "n/a" where this CPU cannot run it, or "FAILED" and the first mismatches; then "ok" or "FAILED";
 * exits 1 on a failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tn_lm.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 16);
}
static float f_of(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static uint32_t u_of(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static float mild(void) { return (float)((int32_t)(rnd() % 2001u) - 1000) / 256.0f; }
static float wild(void) {
  const uint32_t r = rnd(), s = r & 0x80000000u;
  switch (r % 7u) {
    case 0: return f_of(s);                            /* signed zero */
    case 1: return f_of(s | (rnd() & 0x007fffffu));    /* subnormal */
    case 2: return f_of(s | 0x7f000000u | (rnd() & 0x7fffffu)); /* huge: products overflow */
    case 3: return f_of(s | 0x7f800000u);              /* infinity */
    case 4: return f_of(0x7fc00000u | (rnd() & 0x3fffffu)); /* NaN */
    default: return f_of(rnd() & 0xff7fffffu);         /* any finite bits */
  }
}
static float any(int w) { return w && rnd() % 4u == 0 ? wild() : mild(); }

typedef void (*kernel_fn)(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                          int32_t group, int32_t rows, int32_t k, const float *bias, float *y);

/* The AVX2 file's variants as kernels (variant_now: the one the next call runs; -1 from it: n/a). */
static int variant_now, variant_missing;
static void avx2_variant(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row,
                         int32_t group, int32_t rows, int32_t k, const float *bias, float *y) {
  if (tn_int8_linear_avx2_variant(variant_now, x, x_scale, x_per_row, n, w, scales, groups_per_row, group, rows, k, bias, y) != 0) variant_missing = 1;
}

#define MAX_K 131072
#define MAX_T 5
#define MAX_R 13
static int8_t xs[MAX_T * 1000], ws[MAX_R * 1000];
static float xsc[MAX_T], sc[MAX_R * 1000], bias[MAX_R], y_ref[MAX_T * MAX_R + 1], y_opt[MAX_T * MAX_R + 1];

static const int32_t KS[] = {0, 1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 700, 1000};
static const int32_t TS[] = {1, 2, 3, 5};
static const int32_t RS[] = {1, 2, 3, 4, 5, 7, 8, 9, 13};
/* {groups_per_row, group}: -1 = k (one group per row or tensor) */
static const int32_t GS[][2] = {{0, -1}, {1, -1}, {-2, 1}, {-2, 3}, {-2, 16}, {-2, 32}, {-2, 37}, {-2, 100}, {-2, 256}};

static int same(float a, float b) { return u_of(a) == u_of(b) || (a != a && b != b); }

/* One kernel over the table; returns the number of mismatching cases (prints the first few). */
static long check(const char *name, kernel_fn f, long *cases) {
  long bad = 0;
  size_t ki, ti, ri, gi;
  int w;
  rng_state = 0x9e3779b97f4a7c15ull;
  *cases = 0;
  for (ki = 0; ki < sizeof KS / sizeof KS[0]; ++ki)
    for (ti = 0; ti < sizeof TS / sizeof TS[0]; ++ti)
      for (ri = 0; ri < sizeof RS / sizeof RS[0]; ++ri)
        for (gi = 0; gi < sizeof GS / sizeof GS[0]; ++gi)
          for (w = 0; w < 2; ++w) {
            const int32_t k = KS[ki], n = TS[ti], rows = RS[ri];
            const int32_t group = GS[gi][1] < 0 ? k : GS[gi][1];
            const int32_t groups = group > 0 ? (k + group - 1) / group : 0;
            const int32_t gpr = GS[gi][0] == -2 ? groups : GS[gi][0];
            const int32_t nscales = gpr == 0 ? 1 : rows * gpr;
            const int x_per_row = (int)(rnd() & 1u), extreme = rnd() % 5u == 0;
            int32_t i;
            if (GS[gi][1] > 0 && GS[gi][1] >= k) continue; /* the same as one group */
            for (i = 0; i < n * k; ++i) xs[i] = extreme ? (int8_t)((rnd() & 1u) ? 127 : -127) : (int8_t)((int32_t)(rnd() % 255u) - 127);
            for (i = 0; i < rows * k; ++i) ws[i] = extreme ? (int8_t)((rnd() & 1u) ? 127 : -128) : (int8_t)(rnd() & 0xffu);
            for (i = 0; i < n; ++i) xsc[i] = any(w);
            for (i = 0; i < nscales; ++i) sc[i] = any(w);
            for (i = 0; i < rows; ++i) bias[i] = any(w);
            {
              const float *b = (rnd() & 3u) ? bias : NULL;
              y_ref[n * rows] = y_opt[n * rows] = 12345.0f; /* canary */
              tn_int8_linear(xs, xsc, x_per_row, n, ws, sc, gpr, group, rows, k, b, y_ref);
              f(xs, xsc, x_per_row, n, ws, sc, gpr, group, rows, k, b, y_opt);
              ++*cases;
              for (i = 0; i <= n * rows; ++i)
                if (!same(y_ref[i], y_opt[i])) {
                  if (bad < 5)
                    printf("  %s: k %d tokens %d rows %d gpr %d group %d wild %d: y[%d] = %08x, reference %08x\n", name, (int)k, (int)n, (int)rows, (int)gpr,
                           (int)group, w, (int)i, (unsigned)u_of(y_opt[i]), (unsigned)u_of(y_ref[i]));
                  ++bad;
                  break;
                }
            }
          }
  return bad;
}

/* The worst case: |acc| = 131072 * 128 * 127 = 2,130,706,432 < 2^31, per row and tensor scale. */
static long check_worst(kernel_fn f) {
  static int8_t xw[MAX_K], ww[4 * MAX_K];
  const float one = 1.0f;
  float yr[4], yo[4];
  long bad = 0;
  int32_t i, q;
  for (i = 0; i < MAX_K; ++i) xw[i] = -127;
  for (i = 0; i < 4 * MAX_K; ++i) ww[i] = (int8_t)(i < 3 * MAX_K ? -128 : 127);
  tn_int8_linear(xw, &one, 0, 1, ww, &one, 0, MAX_K, 4, MAX_K, NULL, yr);
  f(xw, &one, 0, 1, ww, &one, 0, MAX_K, 4, MAX_K, NULL, yo);
  if (yr[0] != 2130706432.0f) ++bad, printf("  the reference gives %.1f for the worst case, not 2130706432\n", (double)yr[0]);
  for (q = 0; q < 4; ++q) bad += !same(yr[q], yo[q]);
  return bad;
}

static int run(const char *name, kernel_fn f, int variant) {
  long cases, bad;
  variant_now = variant, variant_missing = 0;
  bad = check(name, f, &cases) + check_worst(f);
  if (variant_missing) {
    printf("%s: n/a\n", name);
    return 0;
  }
  printf("%s: %s (%ld cases)\n", name, bad ? "FAILED" : "ok", cases);
  return bad != 0;
}

int main(void) {
  int failed = 0;
#if defined(__ARM_FEATURE_DOTPROD)
  printf("neon: sdot\n");
#elif defined(__ARM_NEON)
  printf("neon: smull\n");
#else
  printf("neon: none\n");
#endif
  failed |= run("avx2 file: AVX2", avx2_variant, 1);
  failed |= run("avx2 file: VPDPBUSD emulated", avx2_variant, 2);
  failed |= run("avx2 file: VPDPBUSD", avx2_variant, 3);
  failed |= run("avx2 file: dispatch", tn_int8_linear_avx2, -1);
  failed |= run("neon file", tn_int8_linear_neon, -1);
  printf("%s\n", failed ? "FAILED" : "ok");
  return failed;
}
