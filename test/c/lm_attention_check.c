/*
 * lm_attention_check.c - the optimized Attention kernels of the language models
 * (tn_attention_{f32,f16cache}_avx2, runtime-c/opt/x86/tn_attention_avx2.c; _neon,
 * runtime-c/opt/arm/tn_attention_neon.c), their exponential (tn_expf_avx2, tn_expf_neon) and the
 * int8 quantiser (tn_quantize_i8_avx2, runtime-c/opt/x86/tn_quantize_avx2.c; _neon,
 * runtime-c/opt/arm/tn_quantize_neon.c) against the reference kernels (runtime-c/ref/tn_lm.c,
 * tn_math.c, tn_quantize.c), bit for bit.
 *
 * Attention: random shapes (heads 1 to 8, kv_heads a divisor, head_dim 1 to 130 with 1, 7, 8, 9,
 *   16, 63, 64, 72, 127, 128, 129, 130 often, positions up to 300, n rows 1 to 5 at pos 0 to 200, the
 *   cache sometimes ending at the call's last row), float32 and float16 caches holding earlier rows,
 *   q, k and v of several kinds (typical: |x| 2^-3 .. 2^1; spread: scores over hundreds, so that
 *   weights underflow to subnormals and zero; mild: 2^-8 .. 2^8; zeros: half signed zeros, the rest
 *   +-1/2, 1, 2 (tied scores, exact sums); tiny: subnormal products; rare: typical with now and then
 *   an infinity, a NaN, a huge or a subnormal value; wild: signed zeros, huge, subnormal, any finite
 *   bits, infinities, NaN), scales 1/sqrt(head_dim) or others (0, -0, negative, tiny, huge), and
 *   y = q (in place) now and then. Compared: y (canaries around it), both caches whole (bit for bit,
 *   NaN too), the scratch's m + 1 weights of the last row and head, and the scratch past them
 *   (untouched).
 * expf: specials (signed zeros, infinities, quiet and signalling NaN of both signs), the thresholds
 *   and their neighbours, x log2(e) near k + 1/2 for every k of the range (where the rounding of k
 *   turns, and the scaling branches of k < -126 and k > 127), a sweep of [-110, 95] in steps of 2^-6,
 *   random values in the range and random bits; lengths not a multiple of 8 (the tails).
 * Quantiser: rows 1 to 5, cols 1 to 2048 (512, 1280 among them), rows of the kinds above and rows of
 *   NaN, a quarter NaN, signed zeros (the amax floor), values below the floor, ties (x * inv =
 *   k + 1/2 exactly), with infinities (inv = 0). Compared: codes (canaries around them) and scales.
 * Outputs are equal if their bits are, or (outputs and weights) both are NaN (docs/numerics.md,
 * rule 6). Every input buffer and cache ends at a page that cannot be read (on Linux), so that a
 * kernel reading past its inputs faults.
 *
 * Both kernel sets are built on every target: where the ISA is absent they are the reference, and with
 * -DTN_ATTENTION_FORCE_REF / -DTN_QUANTIZE_FORCE_REF the AVX2 set takes its fallback on any CPU; a set
 * that is the reference on this build runs a quarter of the cases. Prints one line per kernel, "ok" or
 * "FAILED" (the first mismatches; all with -v), then "ok" or "FAILED"; exits 1 on a failure.
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
#include "tn_math.h"
#include "tn_runtime.h"

/* The optimized kernels (tn_attention_avx2.c, tn_attention_neon.c, tn_quantize_avx2.c, tn_quantize_neon.c). */
typedef void attention_f32_fn(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, float *k_cache, float *v_cache, int32_t positions,
                              int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);
typedef void attention_f16_fn(const float *q, const float *k, const float *v, int32_t n, const int32_t *pos, uint16_t *k_cache, uint16_t *v_cache,
                              int32_t positions, int32_t heads, int32_t kv_heads, int32_t head_dim, float scale, float *scores, float *y);
typedef void expf_fn(const float *x, int32_t n, float *y);
typedef void quantize_fn(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols);
typedef void silu_fn(const float *g, const float *u, int32_t n, int32_t width, float *y);
attention_f32_fn tn_attention_f32_avx2, tn_attention_f32_neon;
attention_f16_fn tn_attention_f16cache_avx2, tn_attention_f16cache_neon;
expf_fn tn_expf_avx2, tn_expf_neon;
quantize_fn tn_quantize_i8_avx2, tn_quantize_i8_neon;

/* ---- deterministic inputs: xorshift64* ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}
static uint32_t below(uint32_t n) { return rnd() % n; }
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
static int same_float(float a, float b) { return u_of(a) == u_of(b) || (a != a && b != b); }

/* Kinds of values (see the header). */
enum { K_TYPICAL, K_SPREAD, K_MILD, K_ZEROS, K_TINY, K_RARE, K_WILD, K_COUNT };
static const char *const KIND_NAMES[] = {"typical", "spread", "mild", "zeros", "tiny", "rare", "wild"};

/* sign, exponent e0 .. e0 + span - 1 (biased), any significand */
static float ranged(uint32_t e0, uint32_t span) {
  const uint32_t r = rnd();
  return f_of((r & 0x80000000u) | ((e0 + (r >> 8) % span) << 23) | (rnd() & 0x7fffffu));
}

static float value_of(int kind) {
  const uint32_t r = rnd(), s = r & 0x80000000u, m = rnd() & 0x7fffffu;
  switch (kind) {
    case K_TYPICAL: return (r & 63u) == 0 ? f_of(s) : ranged(124, 5);
    case K_SPREAD: return (r & 63u) == 0 ? f_of(s) : ranged(128, 3);
    case K_MILD: return (r & 31u) == 0 ? f_of(s) : ranged(119, 17);
    case K_ZEROS: {
      static const float small[] = {0.5f, 1.0f, 2.0f, 1.0f};
      if (r & 2u) return f_of(s);
      return s ? -small[(r >> 4) & 3u] : small[(r >> 4) & 3u];
    }
    case K_TINY: /* subnormals, tiny normals, typical: products underflow */
      if ((r >> 4) % 3u == 0) return f_of(s | m);
      if ((r >> 4) % 3u == 1) return f_of(s | (((r >> 9) % 40u + 1u) << 23) | m);
      return ranged(124, 5);
    case K_RARE: /* typical, and now and then an infinity, a NaN, a huge or a subnormal value */
      switch ((r >> 4) % 1024u) {
        case 0: return f_of(s | 0x7f800000u);
        case 1: return f_of(s | 0x7f800000u | (m ? m : 1u));
        case 2: case 3: case 4: case 5: return f_of(s | ((228u + (r >> 14) % 27u) << 23) | m);
        case 6: case 7: case 8: case 9: return f_of(s | m);
        default: return ranged(124, 5);
      }
    default:
      switch ((r >> 4) % 16u) {
        case 0: return f_of(s);
        case 1: case 2: return f_of(s | ((240u + (r >> 9) % 15u) << 23) | m); /* 2^113 .. 2^127 */
        case 3: return f_of(s | m);                                            /* subnormal */
        case 4: return f_of(s | (((r >> 9) % 24u) << 23) | m);                 /* tiny normal */
        case 5: case 6: {                                                      /* any finite bits */
          const uint32_t u = rnd();
          return ((u >> 23) & 0xffu) == 0xffu ? f_of(u & 0xff7fffffu) : f_of(u);
        }
        case 7: /* NaN (quiet or signalling, any payload; rarely), infinity */
          if ((r >> 9) % 8u == 0) return f_of(s | 0x7f800000u | (m ? m : 1u));
          return f_of(s | 0x7f800000u);
        default: return ranged(119, 17);
      }
  }
}

/* A float16 of the kind (a cache's earlier rows). */
static uint16_t half_of(int kind) {
  const uint32_t r = rnd();
  if (kind == K_WILD) return (uint16_t)r; /* anything: subnormal, inf, NaN too */
  if (kind == K_TINY && (r >> 20) % 2u == 0) return (uint16_t)((r & 0x8000u) | (r & 0x3ffu));
  if (kind == K_RARE && (r >> 16) % 512u == 0) return (uint16_t)((r & 0x8000u) | 0x7c00u | ((r >> 20) & 1u ? 0u : (r & 0x3ffu) | 1u)); /* inf, NaN */
  if (kind == K_ZEROS) return (r >> 17) & 1u ? (uint16_t)(r & 0x8000u) : (uint16_t)((r & 0x8000u) | ((14u + (r >> 18) % 3u) << 10));
  if (kind == K_SPREAD) return (uint16_t)((r & 0x8000u) | ((17u + (r >> 16) % 3u) << 10) | (r & 0x3ffu));
  if (kind == K_MILD) return (uint16_t)((r & 0x8000u) | ((8u + (r >> 16) % 16u) << 10) | (r & 0x3ffu));
  return (uint16_t)((r & 0x8000u) | ((12u + (r >> 16) % 5u) << 10) | (r & 0x3ffu)); /* 2^-3 .. 2^1 */
}

static int any_kind(void) {
  static const int weights[K_COUNT] = {6, 3, 3, 2, 2, 3, 1}; /* of 20 */
  uint32_t w = below(20);
  int k;
  for (k = 0; k < K_COUNT; ++k) {
    if (w < (uint32_t)weights[k]) return k;
    w -= (uint32_t)weights[k];
  }
  return K_TYPICAL;
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

/* ---- results ---- */

static int verbose;
static long total_cases, total_outputs, total_nan;

typedef struct {
  const char *name;
  long failed_cases;
  long cases;
  int shown;
} result;

/* Report a mismatch (the first 5 of a kernel, all with -v); returns 1. */
static int mismatch(result *res, int *bad, const char *what) {
  if (!*bad) ++res->failed_cases;
  ++*bad;
  if (verbose || res->shown < 5) {
    ++res->shown;
    printf("  %s: %s\n", res->name, what);
  }
  return 1;
}

static int finish(const result *res) {
  if (res->failed_cases) printf("%s: FAILED (%ld of %ld cases differ)\n", res->name, res->failed_cases, res->cases);
  else printf("%s: ok (%ld cases)\n", res->name, res->cases);
  return res->failed_cases == 0;
}

/* ---- attention ---- */

#define MAX_HEADS 8
#define MAX_HD 130
#define MAX_POS 300
#define MAX_N 5
#define CANARY 8
#define MAX_KVW (MAX_HEADS * MAX_HD)

static guarded gq, gk, gv, gkc[2], gvc[2], gs[2];
static float ybuf[2][MAX_N * MAX_HEADS * MAX_HD + 2 * CANARY];

static const int32_t HEAD_DIMS[] = {1, 7, 8, 9, 16, 63, 64, 72, 127, 128, 129, 130};

typedef struct {
  int32_t heads, kv_heads, head_dim, positions, p0, n;
  float scale;
  int kind_q, kind_k, kind_v;
  int in_place; /* y = q, as the reference allows */
} att_shape;

static att_shape random_shape(void) {
  att_shape s;
  int32_t divs[8], nd = 0, d;
  s.heads = 1 + (int32_t)below(8);
  for (d = 1; d <= s.heads; ++d)
    if (s.heads % d == 0) divs[nd++] = d;
  s.kv_heads = divs[below((uint32_t)nd)];
  s.head_dim = below(2) ? HEAD_DIMS[below(sizeof HEAD_DIMS / sizeof HEAD_DIMS[0])] : 1 + (int32_t)below(130);
  s.n = 1 + (int32_t)below(MAX_N);
  /* mostly short contexts (QEMU's time), some long ones */
  s.p0 = below(3) ? (int32_t)below(40) : (int32_t)below(201);
  s.positions = below(4) == 0 ? s.p0 + s.n : s.p0 + s.n + (int32_t)below((uint32_t)(MAX_POS - s.p0 - s.n + 1));
  switch (below(12)) {
    case 0: s.scale = 1.0f; break;
    case 1: s.scale = below(2) ? 0.0f : -0.0f; break;
    case 2: s.scale = -0.125f; break;
    case 3: s.scale = 0x1p-20f; break;
    case 4: s.scale = 100.0f; break;
    case 5: s.scale = value_of(K_MILD); break;
    default: s.scale = tn_divf(1.0f, tn_sqrtf((float)s.head_dim)); break; /* the model's: 1 / sqrt(head_dim) */
  }
  s.kind_q = any_kind();
  s.kind_k = below(3) ? s.kind_q : any_kind();
  s.kind_v = below(3) ? s.kind_k : any_kind();
  s.in_place = below(6) == 0;
  return s;
}

static void fill(float *p, size_t count, int kind) {
  size_t i;
  for (i = 0; i < count; ++i) p[i] = value_of(kind);
}

/* One case of a float16 (f16 = 1) or float32 cache kernel. */
static void attention_case(result *res, int f16, attention_f32_fn *f32_fn, attention_f16_fn *f16_fn, const att_shape *s) {
  const int32_t kvw = s->kv_heads * s->head_dim, width = s->heads * s->head_dim, m_last = s->p0 + s->n - 1;
  const size_t esize = f16 ? 2 : 4, cache_elems = (size_t)s->positions * (size_t)kvw;
  float *q = guarded_at(gq, (size_t)s->n * (size_t)width * 4), *k = guarded_at(gk, (size_t)s->n * (size_t)kvw * 4);
  float *v = guarded_at(gv, (size_t)s->n * (size_t)kvw * 4);
  void *kc[2], *vc[2];
  float *sc[2], *y[2];
  const int32_t pos[1] = {s->p0};
  char what[256];
  size_t i;
  int c, bad = 0;
  int32_t j;
  fill(q, (size_t)s->n * (size_t)width, s->kind_q);
  fill(k, (size_t)s->n * (size_t)kvw, s->kind_k);
  fill(v, (size_t)s->n * (size_t)kvw, s->kind_v);
  for (c = 0; c < 2; ++c) {
    kc[c] = guarded_at(gkc[c], cache_elems * esize);
    vc[c] = guarded_at(gvc[c], cache_elems * esize);
    sc[c] = guarded_at(gs[c], (size_t)s->positions * 4);
    y[c] = ybuf[c] + CANARY;
  }
  /* earlier rows (and rows past the call, which must stay as they are), the same in both caches */
  for (i = 0; i < cache_elems; ++i) {
    if (f16) {
      ((uint16_t *)kc[0])[i] = half_of(s->kind_k);
      ((uint16_t *)vc[0])[i] = half_of(s->kind_v);
    } else {
      ((float *)kc[0])[i] = value_of(s->kind_k);
      ((float *)vc[0])[i] = value_of(s->kind_v);
    }
  }
  memcpy(kc[1], kc[0], cache_elems * esize);
  memcpy(vc[1], vc[0], cache_elems * esize);
  for (j = 0; j < s->positions; ++j) sc[0][j] = f_of(0x5a5a5a5au), sc[1][j] = f_of(0x3a3a3a3au);
  for (j = 0; j < MAX_N * MAX_HEADS * MAX_HD + 2 * CANARY; ++j) ybuf[0][j] = f_of(0x5a5a5a5au), ybuf[1][j] = f_of(0x3a3a3a3au);
  for (c = 0; c < 2; ++c) {
    const float *qc = q;
    if (s->in_place) memcpy(y[c], q, (size_t)s->n * (size_t)width * 4), qc = y[c];
    if (f16)
      (c ? f16_fn : tn_attention_f16cache)(qc, k, v, s->n, pos, kc[c], vc[c], s->positions, s->heads, s->kv_heads, s->head_dim, s->scale, sc[c], y[c]);
    else
      (c ? f32_fn : tn_attention_f32)(qc, k, v, s->n, pos, kc[c], vc[c], s->positions, s->heads, s->kv_heads, s->head_dim, s->scale, sc[c], y[c]);
  }
#define SHAPE_FMT "heads %d kv %d hd %d pos %d n %d positions %d scale %08x q %s k %s v %s%s"
#define SHAPE_ARGS (int)s->heads, (int)s->kv_heads, (int)s->head_dim, (int)s->p0, (int)s->n, (int)s->positions, (unsigned)u_of(s->scale), KIND_NAMES[s->kind_q], KIND_NAMES[s->kind_k], KIND_NAMES[s->kind_v], s->in_place ? " (y = q)" : ""
  for (j = -CANARY; j < s->n * width + CANARY; ++j) {
    const int inside = j >= 0 && j < s->n * width;
    if (inside) {
      ++total_outputs;
      if (y[0][j] != y[0][j]) ++total_nan;
      if (!same_float(y[1][j], y[0][j])) {
        sprintf(what, SHAPE_FMT ": y[%d][%d] = %08x, reference %08x", SHAPE_ARGS, (int)(j / width), (int)(j % width), (unsigned)u_of(y[1][j]), (unsigned)u_of(y[0][j]));
        mismatch(res, &bad, what);
      }
    } else if (u_of(y[1][j]) != 0x3a3a3a3au) {
      sprintf(what, SHAPE_FMT ": wrote outside y (at %d)", SHAPE_ARGS, (int)j);
      mismatch(res, &bad, what);
    }
  }
  if (memcmp(kc[0], kc[1], cache_elems * esize) != 0 || memcmp(vc[0], vc[1], cache_elems * esize) != 0) {
    for (i = 0; i < cache_elems; ++i) {
      const int kdiff = f16 ? ((uint16_t *)kc[0])[i] != ((uint16_t *)kc[1])[i] : u_of(((float *)kc[0])[i]) != u_of(((float *)kc[1])[i]);
      const int vdiff = f16 ? ((uint16_t *)vc[0])[i] != ((uint16_t *)vc[1])[i] : u_of(((float *)vc[0])[i]) != u_of(((float *)vc[1])[i]);
      if (kdiff || vdiff) {
        sprintf(what, SHAPE_FMT ": %s cache element %d differs", SHAPE_ARGS, kdiff ? "k" : "v", (int)i);
        mismatch(res, &bad, what);
        break;
      }
    }
  }
  for (j = 0; j < s->positions; ++j) {
    const int ok = j <= m_last ? same_float(sc[1][j], sc[0][j]) : u_of(sc[1][j]) == 0x3a3a3a3au;
    if (!ok) {
      sprintf(what, SHAPE_FMT ": scratch[%d] = %08x, reference %08x", SHAPE_ARGS, (int)j, (unsigned)u_of(sc[1][j]), (unsigned)u_of(sc[0][j]));
      mismatch(res, &bad, what);
      break;
    }
  }
  ++res->cases;
  ++total_cases;
}

static int check_attention(const char *name, int f16, attention_f32_fn *f32_fn, attention_f16_fn *f16_fn, int ncases, uint64_t seed) {
  result res = {0, 0, 0, 0};
  int i, h;
  res.name = name;
  rng_state = seed;
  /* the listed head_dims with a long context once each, then random shapes */
  for (h = 0; h < (int)(sizeof HEAD_DIMS / sizeof HEAD_DIMS[0]); ++h) {
    att_shape s = random_shape();
    s.head_dim = HEAD_DIMS[h];
    s.p0 = 190 + (int32_t)below(11);
    s.positions = s.p0 + s.n + (int32_t)below(3);
    attention_case(&res, f16, f32_fn, f16_fn, &s);
  }
  for (i = 0; i < ncases; ++i) {
    const att_shape s = random_shape();
    attention_case(&res, f16, f32_fn, f16_fn, &s);
  }
  return finish(&res);
}

/* ---- expf ---- */

#define EXP_CHUNK 4096
static guarded gex;
static float ey[2][EXP_CHUNK + 2 * CANARY];

static void expf_chunk(result *res, expf_fn *fn, const float *xs, int32_t count) {
  float *x = guarded_at(gex, (size_t)count * 4);
  int32_t i, bad = 0;
  char what[160];
  const int32_t split = count - (int32_t)below(count < 24 ? (uint32_t)count + 1 : 24u); /* two calls: both end in a tail */
  memcpy(x, xs, (size_t)count * 4);
  for (i = 0; i < EXP_CHUNK + 2 * CANARY; ++i) ey[0][i] = f_of(0x5a5a5a5au), ey[1][i] = f_of(0x3a3a3a3au);
  for (i = 0; i < count; ++i) ey[0][CANARY + i] = tn_expf(x[i]);
  fn(x, split, ey[1] + CANARY);
  fn(x + split, count - split, ey[1] + CANARY + split);
  for (i = -CANARY; i < count + CANARY; ++i) {
    const float a = ey[1][CANARY + i];
    if (i >= 0 && i < count ? u_of(a) != u_of(ey[0][CANARY + i]) : u_of(a) != 0x3a3a3a3au) {
      if (i >= 0 && i < count)
        sprintf(what, "x = %08x (%a): %08x, reference %08x", (unsigned)u_of(x[i]), (double)x[i], (unsigned)u_of(a), (unsigned)u_of(ey[0][CANARY + i]));
      else
        sprintf(what, "wrote outside y (at %d of %d)", (int)i, (int)count);
      mismatch(res, &bad, what);
    }
  }
  res->cases += count;
  total_cases += count;
}

static int check_expf(const char *name, expf_fn *fn, int scale_down) {
  static float xs[EXP_CHUNK];
  result res = {0, 0, 0, 0};
  int32_t n = 0, i, kk;
  int round;
  res.name = name;
  rng_state = 0x0123456789abcdefull;
#define PUSH(v)                                                            \
  do {                                                                     \
    xs[n++] = (v);                                                         \
    if (n == EXP_CHUNK) expf_chunk(&res, fn, xs, n), n = 0;                \
  } while (0)
  {
    /* specials and the thresholds, with neighbours */
    static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u,
                                       0x7fa00000u, 0x7fffffffu, 0x00000001u, 0x80000001u, 0x007fffffu, 0x807fffffu, 0x00800000u, 0x80800000u,
                                       0x7f7fffffu, 0xff7fffffu, 0x3f800000u, 0xbf800000u, 0x33800000u, 0xb3800000u};
    static const float edges[] = {0x1.62e42ep+6f, -0x1.9fe36ap+6f, 88.0f, -88.0f, -87.0f, -100.0f, -103.0f, -104.0f, 0.5f, -0.5f, 0.34657359f, -0.34657359f};
    for (i = 0; i < (int32_t)(sizeof special / sizeof special[0]); ++i) PUSH(f_of(special[i]));
    for (i = 0; i < (int32_t)(sizeof edges / sizeof edges[0]); ++i) {
      const uint32_t u = u_of(edges[i]);
      for (kk = -40; kk <= 40; ++kk) PUSH(f_of(u + (uint32_t)kk));
    }
    /* x log2(e) near k + 1/2 for every k of the range (-151 .. 128): where rintf's rounding turns */
    for (kk = -152; kk <= 129; ++kk) {
      const uint32_t u = u_of(((float)kk + 0.5f) * 0x1.62e43p-1f);
      int32_t t;
      for (t = -12; t <= 12; ++t) PUSH(f_of(u + (uint32_t)t));
    }
  }
  /* a sweep of [-110, 95] in steps of 2^-6 */
  for (i = -110 * 64; i <= 95 * 64; i += scale_down ? 7 : 1) PUSH((float)i * 0x1p-6f);
  /* random values in the range, then random bits */
  for (round = 0; round < (scale_down ? 20000 : 200000); ++round) PUSH((float)(rnd() >> 8) * 0x1p-24f * 194.0f - 105.0f);
  for (round = 0; round < (scale_down ? 20000 : 200000); ++round) PUSH(f_of(rnd()));
  for (round = 0; round < (scale_down ? 5000 : 50000); ++round) PUSH(-value_of(K_WILD));
  if (n) expf_chunk(&res, fn, xs, n);
  for (i = 1; i <= 17; ++i) expf_chunk(&res, fn, xs, i); /* short lengths: the tail alone */
#undef PUSH
  return finish(&res);
}

/* ---- SwiGLU's gate (tn_gated_silu_f32_*) ---- */

/* Gates from expf's range (around the thresholds where the quotient turns subnormal or the
 * exponential overflows) and of every kind, up values of every kind; widths around the vectors' 4
 * and 8, rows 1 to 4; the outputs and a canary after them compared with tn_gated_silu_f32's. */
static int check_silu(const char *name, silu_fn *fn, int scale_down) {
  static float g[EXP_CHUNK], u[EXP_CHUNK], y[2][EXP_CHUNK + CANARY];
  result res = {0, 0, 0, 0};
  int round;
  res.name = name;
  rng_state = 0x5555aaaa5555aaaaull;
  for (round = 0; round < (scale_down ? 40 : 400); ++round) {
    const int32_t rows = 1 + (int32_t)below(4), width = round < 40 ? 1 + round : 1 + (int32_t)below(EXP_CHUNK / 4);
    const int32_t count = rows * width;
    int32_t i, bad = 0;
    char what[160];
    for (i = 0; i < count; ++i) {
      g[i] = below(3) ? (float)(rnd() >> 8) * 0x1p-24f * 220.0f - 110.0f : value_of(any_kind());
      u[i] = value_of(any_kind());
    }
    for (i = 0; i < EXP_CHUNK + CANARY; ++i) y[0][i] = f_of(0x5a5a5a5au), y[1][i] = f_of(0x3a3a3a3au);
    tn_gated_silu_f32(g, u, rows, width, y[0]);
    fn(g, u, rows, width, y[1]);
    for (i = 0; i < count + CANARY; ++i) {
      const float a = y[1][i];
      if (i < count ? !same_float(a, y[0][i]) : u_of(a) != 0x3a3a3a3au) {
        if (i < count)
          sprintf(what, "g = %a, u = %a: %08x, reference %08x", (double)g[i], (double)u[i], (unsigned)u_of(a), (unsigned)u_of(y[0][i]));
        else
          sprintf(what, "wrote past y (at %d of %d)", (int)i, (int)count);
        mismatch(&res, &bad, what);
      }
    }
    ++res.cases;
    ++total_cases;
  }
  return finish(&res);
}

/* ---- quantiser ---- */

#define MAX_ROWS 5
#define MAX_COLS 2048
static guarded gqx;
static int8_t qbuf[2][MAX_ROWS * MAX_COLS + 2 * CANARY];
static float sbuf[2][MAX_ROWS + 2 * CANARY];

static const int32_t COLS[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1279, 1280, 1281, 2048};

/* Row kinds past the value kinds: all NaN, a quarter NaN, all signed zeros, ties, with infinities,
 * all tiny. */
enum { R_NAN = K_COUNT, R_SOME_NAN, R_ZEROS, R_TIES, R_INF, R_FLOOR, R_KINDS };

static void fill_row(float *x, int32_t cols, int kind) {
  int32_t i;
  if (kind < K_COUNT) {
    fill(x, (size_t)cols, kind);
    return;
  }
  for (i = 0; i < cols; ++i) {
    const uint32_t r = rnd();
    switch (kind) {
      case R_NAN: x[i] = f_of((r & 0x80000000u) | 0x7f800000u | ((r & 0x7fffffu) ? (r & 0x7fffffu) : 1u)); break;
      case R_SOME_NAN: x[i] = (r & 3u) == 0 ? f_of((r & 0x80000000u) | 0x7f800000u | ((r & 0x7fffffu) ? (r & 0x7fffffu) : 1u)) : value_of(K_MILD); break;
      case R_ZEROS: x[i] = f_of(r & 0x80000000u); break;
      case R_TIES: { /* amax 127 * 2^e (inv = 2^-e exactly), values (k + 1/2) 2^e: rint ties both ways */
        const float e = (r & 1u) ? 1.0f : 0x1p-3f;
        const float t = ((float)(int32_t)(r % 254u) - 127.0f + 0.5f) * e;
        x[i] = i == 0 ? 127.0f * e : ((r >> 8) % 8u == 0 ? value_of(K_TYPICAL) * e : t);
        break;
      }
      case R_INF: x[i] = (r & 15u) == 0 ? f_of((r & 0x80000000u) | 0x7f800000u) : value_of(K_MILD); break;
      default: x[i] = (r & 1u) ? value_of(K_TINY) : ranged(100, 10); break; /* amax below the floor */
    }
  }
}

static void quantize_case(result *res, quantize_fn *fn, int32_t rows, int32_t cols) {
  float *x = guarded_at(gqx, (size_t)rows * (size_t)cols * 4);
  int8_t *q0 = qbuf[0] + CANARY, *q1 = qbuf[1] + CANARY;
  float *s0 = sbuf[0] + CANARY, *s1 = sbuf[1] + CANARY;
  int kinds[MAX_ROWS];
  char what[200];
  int32_t r, i;
  int bad = 0;
  for (r = 0; r < rows; ++r) {
    kinds[r] = (int)below(R_KINDS);
    fill_row(x + (size_t)r * (size_t)cols, cols, kinds[r]);
  }
  memset(qbuf[0], 0x5a, sizeof qbuf[0]);
  memset(qbuf[1], 0x3a, sizeof qbuf[1]);
  for (i = 0; i < MAX_ROWS + 2 * CANARY; ++i) sbuf[0][i] = f_of(0x5a5a5a5au), sbuf[1][i] = f_of(0x3a3a3a3au);
  tn_quantize_i8(x, q0, s0, rows, cols);
  fn(x, q1, s1, rows, cols);
  for (i = -CANARY; i < rows * cols + CANARY; ++i) {
    const int inside = i >= 0 && i < rows * cols;
    if (inside ? q1[i] != q0[i] : (uint8_t)q1[i] != 0x3au) {
      if (inside)
        sprintf(what, "rows %d cols %d: q[%d][%d] = %d, reference %d (x %08x, row kind %d)", (int)rows, (int)cols, (int)(i / cols), (int)(i % cols), q1[i], q0[i],
                (unsigned)u_of(x[i]), kinds[i / cols]);
      else
        sprintf(what, "rows %d cols %d: wrote outside q (at %d)", (int)rows, (int)cols, (int)i);
      mismatch(res, &bad, what);
    }
  }
  for (i = -CANARY; i < rows + CANARY; ++i) {
    const int inside = i >= 0 && i < rows;
    if (inside ? u_of(s1[i]) != u_of(s0[i]) : u_of(s1[i]) != 0x3a3a3a3au) {
      sprintf(what, "rows %d cols %d: scale[%d] = %08x, reference %08x", (int)rows, (int)cols, (int)i, (unsigned)u_of(s1[i]), (unsigned)u_of(s0[i]));
      mismatch(res, &bad, what);
    }
  }
  ++res->cases;
  ++total_cases;
}

static int check_quantize(const char *name, quantize_fn *fn, int scale_down) {
  result res = {0, 0, 0, 0};
  size_t c;
  int t;
  res.name = name;
  rng_state = 0xfedcba9876543210ull;
  for (c = 0; c < sizeof COLS / sizeof COLS[0]; ++c)
    for (t = 0; t < (scale_down ? 6 : 24); ++t) quantize_case(&res, fn, 1 + (int32_t)below(MAX_ROWS), COLS[c]);
  for (t = 0; t < (scale_down ? 50 : 400); ++t) quantize_case(&res, fn, 1 + (int32_t)below(MAX_ROWS), 1 + (int32_t)below(MAX_COLS));
  return finish(&res);
}

/* ---- main ---- */

/* What the AVX2 kernels' dispatch sees (the same test as tn_attention_avx2.c). */
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
  int i, ok = 1;
  /* a set that is the reference on this build runs a quarter of the cases */
  int avx2_live = strcmp(x86_simd(), "yes") == 0, neon_live = 0;
  int cases = 600;
#if defined(TN_ATTENTION_FORCE_REF) || defined(TN_QUANTIZE_FORCE_REF)
  avx2_live = 0;
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
  neon_live = 1;
#endif
  for (i = 1; i < argc; ++i) {
    verbose |= strcmp(argv[i], "-v") == 0;
    if (strncmp(argv[i], "cases=", 6) == 0) cases = atoi(argv[i] + 6);
  }
  gq = guarded_new((size_t)MAX_N * MAX_KVW * 4);
  gk = guarded_new((size_t)MAX_N * MAX_KVW * 4);
  gv = guarded_new((size_t)MAX_N * MAX_KVW * 4);
  for (i = 0; i < 2; ++i) {
    gkc[i] = guarded_new((size_t)MAX_POS * MAX_KVW * 4);
    gvc[i] = guarded_new((size_t)MAX_POS * MAX_KVW * 4);
    gs[i] = guarded_new((size_t)MAX_POS * 4);
  }
  gex = guarded_new((size_t)EXP_CHUNK * 4);
  gqx = guarded_new((size_t)MAX_ROWS * MAX_COLS * 4);
  printf("x86 avx2+f16c: %s; aarch64 neon: %s\n", x86_simd(), neon_live ? "yes" : "no");
  ok &= check_expf("expf avx2", tn_expf_avx2, !avx2_live);
  ok &= check_attention("attention f32 avx2", 0, tn_attention_f32_avx2, NULL, avx2_live ? cases : cases / 4, 0x1111111111111111ull);
  ok &= check_attention("attention f16 avx2", 1, NULL, tn_attention_f16cache_avx2, avx2_live ? cases : cases / 4, 0x2222222222222222ull);
  ok &= check_quantize("quantize avx2", tn_quantize_i8_avx2, !avx2_live);
  ok &= check_silu("silu avx2", tn_gated_silu_f32_avx2, !avx2_live);
  ok &= check_expf("expf neon", tn_expf_neon, !neon_live);
  ok &= check_attention("attention f32 neon", 0, tn_attention_f32_neon, NULL, neon_live ? cases : cases / 4, 0x3333333333333333ull);
  ok &= check_attention("attention f16 neon", 1, NULL, tn_attention_f16cache_neon, neon_live ? cases : cases / 4, 0x4444444444444444ull);
  ok &= check_quantize("quantize neon", tn_quantize_i8_neon, !neon_live);
  ok &= check_silu("silu neon", tn_gated_silu_f32_neon, !neon_live);
  printf("%ld cases, %ld attention outputs (%ld NaN)\n%s\n", total_cases, total_outputs, total_nan, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
