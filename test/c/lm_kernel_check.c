/*
 * lm_kernel_check.c - the optimized Linear kernels of the language models (tn_linear_*_avx2,
 * runtime-c/opt/x86/tn_linear_avx2.c; tn_linear_*_neon, runtime-c/opt/arm/tn_linear_neon.c) against
 * the reference kernels (runtime-c/ref/tn_linear.c), bit for bit, on a table of shapes:
 *   K 0 to 700 (1, 7, 8, 9, 255, 256, 257, 641 among them), tokens 1, 2, 3, 5 (and 4, 9, 16, 17 on
 *   a few K: the kernels take 2 or 4 tokens per pass), rows 1 to 13 (and 61, 64 once); for int8 and
 *   t2 and t2p (trit-planes, 1 to 4 by turns) weights one scale per tensor (groups_per_row 0) and per row (1), and groups of 1, 3, 5, 8,
 *   10, 12, 32, 37, 100 and 256 (groups that start off a multiple of 8 restart the lanes there; for
 *   t2, groups of 10 and 37 start inside a byte), and groups of 32 with groups_per_row 0 (a scale
 *   per column group).
 * Inputs from a fixed-seed xorshift: "mild" cases (magnitudes 2^-8 to 2^8, some signed zeros: the
 * order of the adds shows in the rounding) and "wild" ones (signed zeros, huge values whose sums
 * overflow to infinity and give NaN, subnormals, any finite bits, infinities, NaN); float16 weights
 * with subnormals, infinities and NaN; int8 codes over the whole range; t2 bytes with code 3 or
 * without. Outputs are equal if their bits are, or both are NaN (docs/numerics.md, rule 6).
 * Every input buffer ends at a page that cannot be read (on Linux), so that a kernel reading past its
 * last weight, scale or activation faults; the outputs have canaries around them.
 *
 * Both kernel sets are built on every target: where the ISA is absent they are the reference, and
 * with -DTN_LINEAR_FORCE_REF the AVX2 set takes its fallback on any CPU. The scalar set
 * (runtime-c/opt/generic/tn_linear_scalar.c: unrolled lanes, every target without the two) runs
 * everywhere; 'ub' weights (GPTQ: 2 to 8 bits by turns, a zero point per group) run in all three sets,
 * and Fairy2i's kernels (tn_linear_c4_*) against tn_linear_c4 after them. Prints one line per
 * kernel, "ok" or "FAILED" (the first mismatches; all with -v), then "ok" or "FAILED"; exits 1 on
 * a failure. "quick" runs a quarter of the table (for the builds whose kernels are all the reference).
 */
#define _DEFAULT_SOURCE /* mmap's MAP_ANONYMOUS under -std=c99 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif

#include "tn_lm.h"

/* The optimized kernels (tn_linear_avx2.c, tn_linear_neon.c; tn_linear_scalar.c is in tn_lm.h). */
void tn_linear_f32_avx2(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y);
void tn_linear_f16_avx2(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y);
void tn_linear_q8_avx2(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2_avx2(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_f32_neon(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y);
void tn_linear_f16_neon(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y);
void tn_linear_q8_neon(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2_neon(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
void tn_linear_t2p_avx2(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y);
void tn_linear_t2p_neon(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y);
void tn_linear_ub_avx2(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y);
void tn_linear_ub_neon(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y);
void tn_linear_c4_avx2(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y);
void tn_linear_c4_neon(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y);

/* The table of kernels: weight format, set, and the function of that format. */
enum { F32, F16, Q8, T2, T2P, UB };
static const char *const FORMAT_NAMES[] = {"f32", "f16", "q8", "t2", "t2p", "ub"};
typedef struct {
  int format;
  const char *set;
  void (*f32)(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y);
  void (*f16)(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y);
  void (*q8)(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
  void (*t2)(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k, float *y);
  void (*t2p)(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
              float *y);
  void (*ub)(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
             int32_t rows, int32_t k, float *y);
} kernel_entry;

/* ---- deterministic inputs: xorshift64* ---- */

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
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

/* mild: sign, exponent 2^-8 .. 2^8, any significand; 1 in 32 a signed zero. */
static float mild_float(void) {
  const uint32_t r = rnd();
  if ((r & 31u) == 0) return f_of((r & 0x80000000u));
  return f_of((r & 0x80000000u) | ((119u + (r >> 8) % 17u) << 23) | (rnd() & 0x7fffffu));
}

/* wild: signed zeros, huge (sums overflow), subnormal and tiny, any finite bits, infinities, NaN. */
static float wild_float(void) {
  const uint32_t r = rnd(), s = r & 0x80000000u, m = rnd() & 0x7fffffu;
  switch ((r >> 4) % 16u) {
    case 0: return f_of(s);
    case 1: case 2: return f_of(s | ((240u + (r >> 9) % 15u) << 23) | m);  /* 2^113 .. 2^127 */
    case 3: return f_of(s | m);                                             /* subnormal */
    case 4: return f_of(s | (((r >> 9) % 24u) << 23) | m);                  /* tiny normal */
    case 5: case 6: {                                                       /* any finite bits */
      const uint32_t u = rnd();
      return ((u >> 23) & 0xffu) == 0xffu ? f_of(u & 0xff7fffffu) : f_of(u);
    }
    case 7: return (r >> 9) % 8u == 0 ? f_of(0x7fc00000u | s | (m & 0x3fffffu)) : f_of(s | 0x7f800000u); /* NaN (rarely), infinity */
    default: return mild_float();
  }
}

static float any_float(int wild) { return wild ? wild_float() : mild_float(); }

static uint16_t half_of(int wild) {
  const uint32_t r = rnd();
  if (!wild) return (uint16_t)((r & 0x8000u) | ((8u + (r >> 16) % 16u) << 10) | (r & 0x3ffu)); /* 2^-7 .. 2^8 */
  if ((r >> 20) % 8u == 0) return (uint16_t)((r & 0x8000u) | (r & 0x3ffu));                     /* zero, subnormal */
  return (uint16_t)r;                                                                             /* anything: inf, NaN too */
}

/* ---- buffers that end at an unreadable page ---- */

typedef struct {
  unsigned char *end; /* one past the last usable byte */
} guarded;

static guarded guarded_new(size_t bytes) {
  guarded g;
#if defined(__linux__)
  const size_t page = (size_t)sysconf(_SC_PAGESIZE), span = (bytes + page - 1) / page * page;
  unsigned char *p = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED || mprotect(p + span, page, PROT_NONE) != 0) {
    printf("cannot map a guarded buffer\n");
    exit(2);
  }
  g.end = p + span;
#else
  unsigned char *p = malloc(bytes);
  if (!p) exit(2);
  g.end = p + bytes;
#endif
  return g;
}

/* A buffer of `bytes` whose last byte is the last readable one. */
static void *guarded_at(guarded g, size_t bytes) { return g.end - bytes; }

/* ---- the table ---- */

#define MAX_K 2048
#define MAX_N 17
#define MAX_ROWS 64
#define CANARY 8

static const int32_t KS[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 300, 511, 512, 513, 641, 700};
static const int32_t NS[] = {1, 2, 3, 5};
/* Scale groups: {groups_per_row, group}; group 0 means K (one group: per tensor or per row), and
 * groups_per_row -1 means ceil(K / group). */
static const int32_t GROUPS[][2] = {{0, 0}, {1, 0}, {-1, 1}, {-1, 3}, {-1, 5}, {-1, 8}, {-1, 10}, {-1, 12}, {-1, 32}, {-1, 37}, {-1, 100}, {-1, 256}, {0, 32}};

static int verbose, quick; /* -v: every mismatch; quick: a quarter of the table (the fallback builds) */
static long cases, outputs, nan_outputs;

typedef struct {
  long failed_cases;
  long cases;
  int shown;
} result;

static guarded gx, gw, gs, gz;
static float ybuf_ref[MAX_N * MAX_ROWS + 2 * CANARY], ybuf_opt[MAX_N * MAX_ROWS + 2 * CANARY];

/* One case: fill the inputs, run the reference and the kernel, compare. */
static void run_case(const kernel_entry *e, result *res, int32_t k, int32_t n, int32_t rows, int32_t gpr_spec, int32_t group_spec, int wild, int t2_code3) {
  const int32_t group = group_spec == 0 ? (k > 0 ? k : 1) : group_spec;
  const int32_t gpr = gpr_spec < 0 ? (k + group - 1) / group : gpr_spec;
  /* t2p: 1 to 4 planes by turns; plane p's scales per_plane after plane 0's (ref/tn_linear.c) */
  const int32_t planes = e->format == T2P ? 1 + (int32_t)((k + rows + n + gpr) % TN_MAX_PLANES) : 1;
  /* ub: 2 to 8 bits by turns; rows of whole bytes and one pad byte after the last (ref/tn_linear.c) */
  const int32_t bits = 2 + (int32_t)((k + rows + n + gpr) % 7);
  const int scaled = e->format == Q8 || e->format >= T2;
  const size_t per_plane = gpr == 0 ? 1 : (size_t)gpr * (size_t)rows;
  const size_t nscales = scaled ? (size_t)(planes - 1) * per_plane + (size_t)(gpr == 0 ? (k + group - 1) / group : gpr * rows) + (k == 0) : 0;
  const size_t row_bytes = e->format == F32   ? (size_t)k * 4
                           : e->format == F16 ? (size_t)k * 2
                           : e->format == Q8  ? (size_t)k
                           : e->format == UB  ? (size_t)((k * bits + 7) / 8)
                                              : (size_t)((k + 3) / 4);
  const size_t wbytes = (size_t)planes * (size_t)rows * row_bytes + (e->format == UB);
  float *x = guarded_at(gx, (size_t)n * (size_t)k * 4), *scales = guarded_at(gs, nscales * 4);
  void *w = guarded_at(gw, wbytes);
  uint8_t *zeros = guarded_at(gz, nscales);
  float *yr = ybuf_ref + CANARY, *yo = ybuf_opt + CANARY;
  size_t i;
  int32_t j, bad = 0;
  for (i = 0; i < (size_t)n * (size_t)k; ++i) x[i] = any_float(wild);
  for (i = 0; i < nscales; ++i) scales[i] = any_float(wild), zeros[i] = (uint8_t)((rnd() >> 24) & ((1u << bits) - 1u));
  if (e->format == F32) {
    for (i = 0; i < wbytes / 4; ++i) ((float *)w)[i] = any_float(wild);
  } else if (e->format == F16) {
    for (i = 0; i < wbytes / 2; ++i) ((uint16_t *)w)[i] = half_of(wild);
  } else if (e->format == Q8) {
    for (i = 0; i < wbytes; ++i) ((int8_t *)w)[i] = (int8_t)(rnd() >> 24);
  } else if (e->format == UB) {
    for (i = 0; i < wbytes; ++i) ((uint8_t *)w)[i] = (uint8_t)(rnd() >> 24);
  } else {
    for (i = 0; i < wbytes; ++i) { /* any byte, or each 2-bit field 0, 1 or 2 (no code 3) */
      uint32_t q, c = 0;
      for (q = 0; q < 4; ++q) c |= (t2_code3 ? rnd() >> 30 : rnd() % 3u) << (2 * q);
      ((uint8_t *)w)[i] = (uint8_t)c;
    }
  }
  for (j = 0; j < MAX_N * MAX_ROWS + 2 * CANARY; ++j) ybuf_ref[j] = f_of(0x5a5a5a5au), ybuf_opt[j] = f_of(0x3a3a3a3au);
  if (e->format == F32) tn_linear_f32(x, n, w, rows, k, yr), e->f32(x, n, w, rows, k, yo);
  if (e->format == F16) tn_linear_f16(x, n, w, rows, k, yr), e->f16(x, n, w, rows, k, yo);
  if (e->format == Q8) tn_linear_q8(x, n, w, scales, gpr, group, rows, k, yr), e->q8(x, n, w, scales, gpr, group, rows, k, yo);
  if (e->format == T2) tn_linear_t2(x, n, w, scales, gpr, group, rows, k, yr), e->t2(x, n, w, scales, gpr, group, rows, k, yo);
  if (e->format == T2P) tn_linear_t2p(x, n, w, planes, scales, gpr, group, rows, k, yr), e->t2p(x, n, w, planes, scales, gpr, group, rows, k, yo);
  if (e->format == UB) tn_linear_ub(x, n, w, bits, scales, zeros, gpr, group, rows, k, yr), e->ub(x, n, w, bits, scales, zeros, gpr, group, rows, k, yo);
  for (j = -CANARY; j < n * rows + CANARY; ++j) {
    const uint32_t a = u_of(yo[j]), b = u_of(yr[j]);
    const int inside = j >= 0 && j < n * rows;
    const int same = inside ? (a == b || (yo[j] != yo[j] && yr[j] != yr[j])) : a == 0x3a3a3a3au;
    if (inside) {
      ++outputs;
      if (yr[j] != yr[j]) ++nan_outputs;
    }
    if (!same) {
      if (!bad) ++res->failed_cases;
      ++bad;
      if (verbose || res->shown < 5) {
        char groups[64] = "";
        ++res->shown;
        if (scaled) sprintf(groups, " groups_per_row %d group %d planes %d bits %d", (int)gpr, (int)group, (int)planes, (int)bits);
        if (inside)
          printf("  %s %s: k %d n %d rows %d%s%s: y[%d][%d] = %08x, reference %08x\n", FORMAT_NAMES[e->format], e->set, (int)k, (int)n, (int)rows, groups,
                 wild ? " (wild)" : "", (int)(j / rows), (int)(j % rows), (unsigned)a, (unsigned)b);
        else
          printf("  %s %s: k %d n %d rows %d: wrote outside y (at %d)\n", FORMAT_NAMES[e->format], e->set, (int)k, (int)n, (int)rows, (int)j);
      }
    }
  }
  ++res->cases;
  ++cases;
}

static int check(const kernel_entry *e) {
  result res = {0, 0, 0};
  size_t ki, ni, gi;
  int32_t turn = 0;
  const size_t ngroups = e->format == Q8 || e->format >= T2 ? sizeof GROUPS / sizeof GROUPS[0] : 1;
  for (ki = 0; ki < sizeof KS / sizeof KS[0]; ++ki)
    for (gi = 0; gi < ngroups; ++gi)
      for (ni = 0; ni < sizeof NS / sizeof NS[0]; ++ni) {
        int32_t r;
        for (r = 1; r <= 13; ++r) { /* every row count, mild and wild inputs by turns */
          if (quick && (KS[ki] + (int32_t)gi + NS[ni] + r) % 4 != 0) continue;
          run_case(e, &res, KS[ki], NS[ni], r, GROUPS[gi][0], GROUPS[gi][1], ++turn % 4 == 0, r % 2);
        }
      }
  /* prefill-sized token counts (the token passes and their leftovers) and a larger matrix */
  for (ki = 0; ki < sizeof KS / sizeof KS[0]; ki += 3) {
    run_case(e, &res, KS[ki], 16, 6, -1, 32, 0, 0);
    run_case(e, &res, KS[ki], 17, 9, 1, 0, 1, 0);
    run_case(e, &res, KS[ki], 4, 5, -1, 3, 0, 1);
    run_case(e, &res, KS[ki], 9, 7, 0, 0, 0, 0);
  }
  run_case(e, &res, 2048, 16, 64, -1, 128, 0, 0);
  run_case(e, &res, 1000, 3, 61, -1, 100, 0, 1);
  if (res.failed_cases) printf("%s %s: FAILED (%ld of %ld cases differ)\n", FORMAT_NAMES[e->format], e->set, res.failed_cases, res.cases);
  else printf("%s %s: ok (%ld cases)\n", FORMAT_NAMES[e->format], e->set, res.cases);
  return res.failed_cases == 0;
}

/* Fairy2i (WidelyLinear, layout c4): each set's kernel against tn_linear_c4 on K = 2 .. 2 * 300 (odd
 * and even halves, ends inside a byte), 1 to 4 stages, 1 to 3 tokens, 2 to 14 rows, every code byte
 * random, mild and wild activations and scales. Buffers end at an unreadable page. */
typedef void (*c4_kernel)(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y);
static int check_c4(const char *set, c4_kernel f) {
  result res = {0, 0, 0};
  int32_t it;
  for (it = 0; it < (quick ? 150 : 600); ++it) {
    const int32_t stages = 1 + it % 4, n = 1 + (int32_t)(rnd() % 3u), rows = 2 * (1 + (int32_t)(rnd() % 7u)), k = 2 * (1 + (int32_t)(rnd() % 300u));
    const int wild = it % 3 == 2;
    const size_t row_bytes = (size_t)((k / 2 + 3) / 4), wbytes = (size_t)(2 * stages) * (size_t)(rows / 2) * row_bytes;
    float *x = guarded_at(gx, (size_t)n * (size_t)k * 4), *scales = guarded_at(gs, (size_t)stages * 16);
    uint8_t *w = guarded_at(gw, wbytes);
    int32_t i;
    size_t b;
    for (i = 0; i < n * k; ++i) x[i] = any_float(wild);
    for (i = 0; i < stages * 4; ++i) scales[i] = any_float(wild && i % 2);
    for (b = 0; b < wbytes; ++b) w[b] = (uint8_t)rnd();
    tn_linear_c4(x, n, w, stages, scales, rows, k, ybuf_ref);
    f(x, n, w, stages, scales, rows, k, ybuf_opt);
    ++res.cases, ++cases;
    for (i = 0; i < n * rows; ++i) {
      const float a = ybuf_ref[i], o = ybuf_opt[i];
      ++outputs;
      if (a != a) ++nan_outputs;
      if (u_of(a) != u_of(o) && !(a != a && o != o)) {
        if (res.shown++ < 3 || verbose) printf("  c4 %s: K %d, %d tokens, %d rows, %d stages, output %d: %08x, reference %08x\n", set, (int)k, (int)n, (int)rows, (int)stages, (int)i, (unsigned)u_of(o), (unsigned)u_of(a));
        ++res.failed_cases;
        break;
      }
    }
  }
  if (res.failed_cases) printf("c4 %s: FAILED (%ld of %ld cases differ)\n", set, res.failed_cases, res.cases);
  else printf("c4 %s: ok (%ld cases)\n", set, res.cases);
  return res.failed_cases == 0;
}

/* What the AVX2 kernels' dispatch sees (the same test as tn_linear_avx2.c). */
static const char *x86_simd(void) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  unsigned a, b, c, d, lo, hi;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27)) || !(c & (1u << 28)) || !(c & (1u << 29))) return "no";
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  return (lo & 6u) == 6u && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 5)) ? "yes" : "no";
#else
  return "not x86";
#endif
}

int main(int argc, char **argv) {
  static const kernel_entry kernels[] = {
      {F32, "avx2", tn_linear_f32_avx2, NULL, NULL, NULL, NULL, NULL}, {F16, "avx2", NULL, tn_linear_f16_avx2, NULL, NULL, NULL, NULL},
      {Q8, "avx2", NULL, NULL, tn_linear_q8_avx2, NULL, NULL, NULL},   {T2, "avx2", NULL, NULL, NULL, tn_linear_t2_avx2, NULL, NULL},
      {T2P, "avx2", NULL, NULL, NULL, NULL, tn_linear_t2p_avx2, NULL}, {UB, "avx2", NULL, NULL, NULL, NULL, NULL, tn_linear_ub_avx2},
      {F32, "neon", tn_linear_f32_neon, NULL, NULL, NULL, NULL, NULL},
      {F16, "neon", NULL, tn_linear_f16_neon, NULL, NULL, NULL, NULL}, {Q8, "neon", NULL, NULL, tn_linear_q8_neon, NULL, NULL, NULL},
      {T2, "neon", NULL, NULL, NULL, tn_linear_t2_neon, NULL, NULL},   {T2P, "neon", NULL, NULL, NULL, NULL, tn_linear_t2p_neon, NULL},
      {UB, "neon", NULL, NULL, NULL, NULL, NULL, tn_linear_ub_neon},
      {F32, "scalar", tn_linear_f32_scalar, NULL, NULL, NULL, NULL, NULL},
      {F16, "scalar", NULL, tn_linear_f16_scalar, NULL, NULL, NULL, NULL},
      {Q8, "scalar", NULL, NULL, tn_linear_q8_scalar, NULL, NULL, NULL},
      {T2, "scalar", NULL, NULL, NULL, tn_linear_t2_scalar, NULL, NULL},
      {T2P, "scalar", NULL, NULL, NULL, NULL, tn_linear_t2p_scalar, NULL},
      {UB, "scalar", NULL, NULL, NULL, NULL, NULL, tn_linear_ub_scalar},
  };
  size_t i;
  int ok = 1;
  for (i = 1; i < (size_t)argc; ++i) verbose |= strcmp(argv[i], "-v") == 0, quick |= strcmp(argv[i], "quick") == 0;
  gx = guarded_new((size_t)MAX_N * MAX_K * 4);
  gw = guarded_new((size_t)MAX_ROWS * MAX_K * 4);
  gs = guarded_new((size_t)MAX_ROWS * MAX_K * 4);
  gz = guarded_new((size_t)MAX_ROWS * MAX_K);
  printf("x86 avx2+f16c: %s; aarch64 neon: %s\n", x86_simd(),
#if defined(__aarch64__) && defined(__ARM_NEON)
         "yes"
#else
         "no"
#endif
  );
  for (i = 0; i < sizeof kernels / sizeof kernels[0]; ++i) ok &= check(&kernels[i]);
  ok &= check_c4("avx2", tn_linear_c4_avx2);
  ok &= check_c4("neon", tn_linear_c4_neon);
  ok &= check_c4("scalar", tn_linear_c4_scalar);
  printf("%ld cases, %ld outputs (%ld NaN)\n%s\n", cases, outputs, nan_outputs, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
