/*
 * tn_linear_neon.c - the Linear op of the language models (tn_lm.h) with AArch64 NEON: float32
 * activations times float32, float16, int8, ternary (t2) or GPTQ's b-bit (ub) weights, with the results
 * of the reference kernels (ref/tn_linear.c) bit for bit (docs/numerics.md, "Lane sums" and "Linear").
 *
 * - The 8 lanes of the lane sum are two float32x4_t accumulators per output, lanes 0-3 and 4-7: a
 *   step adds the terms of k = k0 + 8m + j to lane j, so each lane receives the reference's adds in
 *   the reference's order. A scale group restarts the lanes at its own first k (k0), wherever that
 *   falls in the row: the loads are unaligned, from k0 (t2 codes: shifted out of their bytes).
 * - Terms as in the reference: fl(x * w) with w widened exactly (FCVTL from float16; int8 -> int32 ->
 *   float), one FMUL then one FADD: never FMLA (vmlaq_f32 may become it) and never vfmaq_f32; the
 *   runtime is built with -ffp-contract=off. Ternary codes select x, -x (sign bit flipped) or +0 with
 *   and / or masks: no multiply per weight.
 * - Tails: a group or a row whose length is not a multiple of 8 ends with a partial step whose lanes
 *   from the end on add +0 (x and the weights from zero-padded copies, t2 codes past the end read as
 *   code 0). Adding +0 leaves a lane as it was: a lane starts at +0 and never becomes -0 (in round to
 *   nearest a sum is -0 only if both addends are), and v + (+0) = v for every other v.
 * - The tree ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) of 4 outputs at once: three levels of
 *   FADDP (vpaddq_f32 adds adjacent pairs), each one IEEE add of the same two values.
 * - Scale groups (int8, t2, ub): v = fl(scale * d_0), then fl(v + fl(scale * d_g)) in order of g.
 * - ub (b-bit codes with a zero point per group) as in tn_linear_avx2.c: groups of a multiple of 8
 *   columns (or one per row); 8 codes are b whole bytes, one 64-bit word, lane j shifted right by
 *   j b (USHL by -j b, pairs of lanes), narrowed, masked, the zero point subtracted, widened exactly.
 *   A tail's lanes from cnt on have x = +0 and a finite code: they add +-0. Other group sizes run
 *   tn_linear_ub_scalar.
 *
 * Passes as in tn_linear_avx2.c: 4 rows per pass share the activation loads; with several tokens a
 * pass also takes TN_LIN_NT (2) tokens, so that each weight load (and its widening or decoding)
 * serves all of them; rows outer. The last pass of a matrix whose rows are not a multiple of 4
 * repeats its last row (computed, not stored). Not (yet) here: the AVX2 file's software prefetch of the next pass's
 * rows and its 4 tokens per t2 pass, both tuned by measurement, which QEMU cannot give.
 *
 * AArch64 only. ARMv7 NEON (Cortex-A7, rpi-armv7) has the instructions (VCVT.F32.F16 too) but its
 * float arithmetic always flushes subnormal inputs and results to zero (the "standard FPSCR value"
 * of Advanced SIMD in AArch32, whatever FPSCR.FZ says), so it cannot give the reference's bits:
 * there, and on any build without AArch64 NEON, these functions are the reference kernels.
 *
 * Fairy2i (tn_linear_c4_neon) as in tn_linear_avx2.c: the reference's four lane sums per plane are
 * pairs of float32x4_t (lanes 0-3, 4-7); with code j in bits 31:30 of lane j, bit 31 flips the signs
 * of x_re and x_im, bit 30 sends them to (d, b) instead of (a, c), and the other pair adds +0. One or
 * two stages; more run the scalar kernel.
 *
 * Prototypes for tn_lm.h (the same signatures as the reference, with the suffix _neon) are below.
 */
#include <stddef.h>

#include "tn_lm.h"
#include "tn_c4.h"


#if defined(__aarch64__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#include <arm_neon.h>

#define TN_ALWAYS_INLINE inline __attribute__((always_inline))

#define TN_LIN_R 4 /* rows per pass */
#ifndef TN_LIN_NT
#define TN_LIN_NT 2 /* tokens per pass with several tokens: 16 accumulator registers */
#endif

/* Weight formats (compile-time arguments of the inlined loops). */
enum { TN_W_F32, TN_W_F16, TN_W_Q8, TN_W_T2, TN_W_UB };

/* What the ub steps need besides the rows: bits per code, the row's bytes, and the zero points of
 * the pass's rows for the current group. */
typedef struct {
  int32_t bits, row_bytes;
  int32_t z[4];
} tn_ub_ctx;

/* 8 ub codes of a row (p: its first byte) from code i (a multiple of 8, so byte i b / 8), minus the
 * zero point z, as floats (exact): lanes 0-3 in *lo, 4-7 in *hi. Only the row's bytes are read. */
static TN_ALWAYS_INLINE void tn_ub8(const uint8_t *p, int32_t i, int32_t cnt, int32_t z, const tn_ub_ctx *u, float32x4_t *lo, float32x4_t *hi) {
  const int32_t off = (i >> 3) * u->bits;
  const int64_t b = u->bits;
  const int64x2_t s01 = {0, -b}, s23 = {-2 * b, -3 * b}, s45 = {-4 * b, -5 * b}, s67 = {-6 * b, -7 * b};
  const uint32x4_t mask = vdupq_n_u32((1u << u->bits) - 1u);
  const int32x4_t zv = vdupq_n_s32(z);
  uint64_t c = 0;
  uint64x2_t cv;
  uint32x4_t l, h;
  if (off + 8 <= u->row_bytes) __builtin_memcpy(&c, p + off, 8); /* little-endian: code i + j at bit j b */
  else {
    const int32_t nb = (cnt * u->bits + 7) >> 3;
    int32_t q;
    for (q = 0; q < nb; ++q) c |= (uint64_t)p[off + q] << (8 * q);
  }
  cv = vdupq_n_u64(c);
  l = vandq_u32(vcombine_u32(vmovn_u64(vshlq_u64(cv, s01)), vmovn_u64(vshlq_u64(cv, s23))), mask);
  h = vandq_u32(vcombine_u32(vmovn_u64(vshlq_u64(cv, s45)), vmovn_u64(vshlq_u64(cv, s67))), mask);
  *lo = vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(l), zv));
  *hi = vcvtq_f32_s32(vsubq_s32(vreinterpretq_s32_u32(h), zv));
}

/* 8 weights of a row (w: its first element) from element i, as floats: lanes 0-3 in *lo, 4-7 in *hi
 * (not t2). */
static TN_ALWAYS_INLINE void tn_w8(const int fmt, const void *w, int32_t i, float32x4_t *lo, float32x4_t *hi) {
  if (fmt == TN_W_F32) {
    *lo = vld1q_f32((const float *)w + i);
    *hi = vld1q_f32((const float *)w + i + 4);
  } else if (fmt == TN_W_F16) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16((const uint16_t *)w + i));
    *lo = vcvt_f32_f16(vget_low_f16(h)); /* exact */
    *hi = vcvt_high_f32_f16(h);
  } else {
    const int16x8_t s = vmovl_s8(vld1_s8((const int8_t *)w + i));
    *lo = vcvtq_f32_s32(vmovl_s16(vget_low_s16(s))); /* exact */
    *hi = vcvtq_f32_s32(vmovl_high_s16(s));
  }
}

/* The same for the cnt < 8 weights from element i, the lanes from cnt on +0. */
static TN_ALWAYS_INLINE void tn_w8_tail(const int fmt, const void *w, int32_t i, int32_t cnt, float32x4_t *lo, float32x4_t *hi) {
  int32_t q;
  if (fmt == TN_W_F32) {
    float pad[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    for (q = 0; q < cnt; ++q) pad[q] = ((const float *)w)[i + q];
    tn_w8(fmt, pad, 0, lo, hi);
  } else if (fmt == TN_W_F16) {
    uint16_t pad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (q = 0; q < cnt; ++q) pad[q] = ((const uint16_t *)w)[i + q];
    tn_w8(fmt, pad, 0, lo, hi);
  } else {
    int8_t pad[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (q = 0; q < cnt; ++q) pad[q] = ((const int8_t *)w)[i + q];
    tn_w8(fmt, pad, 0, lo, hi);
  }
}

/* t2 codes i .. i + cnt - 1 (1 <= cnt <= 8) of a row (p: its first byte), code i + j in bits
 * 2j + 1 : 2j; the codes from cnt on read as 0. Only the bytes holding those codes are read. */
static TN_ALWAYS_INLINE uint32_t tn_t2_word(const uint8_t *p, int32_t i, int32_t cnt) {
  const uint8_t *b = p + (i >> 2);
  const int32_t sh = (i & 3) * 2, nb = (sh + 2 * cnt + 7) >> 3;
  uint32_t u;
  if (sh == 0 && cnt == 8) return (uint32_t)b[0] | (uint32_t)b[1] << 8; /* groups that start on a byte */
  u = b[0];
  if (nb > 1) u |= (uint32_t)b[1] << 8;
  if (nb > 2) u |= (uint32_t)b[2] << 16;
  u >>= sh;
  return cnt < 8 ? u & ((1u << (2 * cnt)) - 1u) : u & 0xffffu;
}

/* term = the mask pos selects x, neg selects nx (= -x), neither gives +0. */
#define TN_T2_TERM(pos, neg, xv, nxv) vreinterpretq_f32_u32(vorrq_u32(vandq_u32(pos, vreinterpretq_u32_f32(xv)), vandq_u32(neg, vreinterpretq_u32_f32(nxv))))

/* How a step gets its terms (a compile-time argument): 8 whole lanes with direct loads (t2: 4 code
 * bytes from byte i / 4, all inside the row), 8 lanes of t2 codes assembled from the row's bytes
 * (near the row's end), or the tail (cnt < 8 lanes). */
enum { TN_STEP_FAST, TN_STEP_WORD, TN_STEP_TAIL };

/* One step: a[2 (r * NT + t)] (lanes 0-3) and a[2 (r * NT + t) + 1] (lanes 4-7) += the terms of
 * k = i .. i + cnt - 1 (lane j: k = i + j) of rows w[r] (their first element or byte) and tokens x[t]
 * (their first activation). A tail step adds +0 to the lanes from cnt on.
 * t2: lane j shifts the codes left by s[j], so that code i + j lands in bits 31:30, then compares:
 * s = 30 - 2j - 2 (k0 mod 4) for the 4 bytes loaded from byte i / 4 (FAST; i = k0 mod 4), 30 - 2j
 * for a word from tn_t2_word (already shifted); svl, svh: the FAST shifts of lanes 0-3, 4-7. */
static TN_ALWAYS_INLINE void tn_lin_step(const int fmt, const int NT, const int mode, const void *const *w, const float *const *x, int32_t i, int32_t cnt,
                                         int32x4_t svl, int32x4_t svh, const tn_ub_ctx *u, float32x4_t *a) {
  float32x4_t xl[TN_LIN_NT], xh[TN_LIN_NT];
  int r, t;
  for (t = 0; t < NT; ++t) {
    if (mode != TN_STEP_TAIL) {
      xl[t] = vld1q_f32(x[t] + i);
      xh[t] = vld1q_f32(x[t] + i + 4);
    } else {
      float pad[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
      int32_t q;
      for (q = 0; q < cnt; ++q) pad[q] = x[t][i + q];
      xl[t] = vld1q_f32(pad);
      xh[t] = vld1q_f32(pad + 4);
    }
  }
  if (fmt == TN_W_T2) {
    static const int32_t shifts[8] = {30, 28, 26, 24, 22, 20, 18, 16};
    const int32x4_t sl = mode == TN_STEP_FAST ? svl : vld1q_s32(shifts), sh = mode == TN_STEP_FAST ? svh : vld1q_s32(shifts + 4);
    const int32x4_t b01 = vdupq_n_s32(0x3fffffff), b10 = vdupq_n_s32(-0x40000000); /* bits 31:30 above 00 / below 11 */
    const uint32x4_t sign = vdupq_n_u32(0x80000000u);
    float32x4_t nl[TN_LIN_NT], nh[TN_LIN_NT];
    for (t = 0; t < NT; ++t) {
      nl[t] = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(xl[t]), sign));
      nh[t] = vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(xh[t]), sign));
    }
    for (r = 0; r < TN_LIN_R; ++r) {
      /* t2: 2 bits per code, low bits first: 00 -> 0, 01 -> +1, 10 -> -1 (11 -> 0, as the reference).
       * With the code in bits 31:30 (signed lanes): 01 is > 0x3fffffff, 10 is < -0x40000000. */
      const uint8_t *p = (const uint8_t *)w[r];
      uint32_t word;
      int32x4_t c, cl, ch;
      uint32x4_t pl, ml, ph, mh;
      if (mode == TN_STEP_FAST) { /* the 4 bytes from byte i / 4, little-endian */
        const uint8_t *b = p + (i >> 2);
        word = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
      } else {
        word = tn_t2_word(p, i, mode == TN_STEP_TAIL ? cnt : 8);
      }
      c = vreinterpretq_s32_u32(vdupq_n_u32(word));
      cl = vshlq_s32(c, sl);
      ch = vshlq_s32(c, sh);
      pl = vcgtq_s32(cl, b01), ml = vcltq_s32(cl, b10), ph = vcgtq_s32(ch, b01), mh = vcltq_s32(ch, b10);
      for (t = 0; t < NT; ++t) {
        a[2 * (r * NT + t)] = vaddq_f32(a[2 * (r * NT + t)], TN_T2_TERM(pl, ml, xl[t], nl[t]));
        a[2 * (r * NT + t) + 1] = vaddq_f32(a[2 * (r * NT + t) + 1], TN_T2_TERM(ph, mh, xh[t], nh[t]));
      }
    }
  } else {
    (void)svl, (void)svh;
    for (r = 0; r < TN_LIN_R; ++r) {
      float32x4_t wl, wh;
      if (fmt == TN_W_UB) tn_ub8((const uint8_t *)w[r], i, mode == TN_STEP_TAIL ? cnt : 8, u->z[r], u, &wl, &wh);
      else if (mode == TN_STEP_TAIL) tn_w8_tail(fmt, w[r], i, cnt, &wl, &wh);
      else tn_w8(fmt, w[r], i, &wl, &wh);
      for (t = 0; t < NT; ++t) { /* a multiply, then an add: not vmlaq_f32, not vfmaq_f32 */
        a[2 * (r * NT + t)] = vaddq_f32(a[2 * (r * NT + t)], vmulq_f32(xl[t], wl));
        a[2 * (r * NT + t) + 1] = vaddq_f32(a[2 * (r * NT + t) + 1], vmulq_f32(xh[t], wh));
      }
    }
  }
}

/* acc (as in tn_lin_step) += the terms of k = k0 .. k0 + len - 1 (lane (k - k0) mod 8): whole steps,
 * then the tail. t2: rows of row_bytes bytes; the whole steps whose 4 code bytes would run past the
 * row assemble their codes from the bytes they need. */
static TN_ALWAYS_INLINE void tn_lin_block(const int fmt, const int NT, const void *const *w, const float *const *x, int32_t k0, int32_t len, int32_t row_bytes,
                                          const tn_ub_ctx *u, float32x4_t *acc) {
  static const int32_t shifts[8] = {30, 28, 26, 24, 22, 20, 18, 16};
  const int32x4_t sh = vdupq_n_s32((k0 & 3) * 2), svl = vsubq_s32(vld1q_s32(shifts), sh), svh = vsubq_s32(vld1q_s32(shifts + 4), sh);
  float32x4_t a[2 * TN_LIN_R * TN_LIN_NT];
  int32_t j = 0;
  int r;
  for (r = 0; r < 2 * TN_LIN_R * NT; ++r) a[r] = acc[r];
  if (fmt == TN_W_T2) {
    for (; len - j >= 8 && ((k0 + j) >> 2) + 4 <= row_bytes; j += 8) tn_lin_step(fmt, NT, TN_STEP_FAST, w, x, k0 + j, 8, svl, svh, u, a);
    for (; len - j >= 8; j += 8) tn_lin_step(fmt, NT, TN_STEP_WORD, w, x, k0 + j, 8, svl, svh, u, a);
  } else {
    for (; len - j >= 8; j += 8) tn_lin_step(fmt, NT, TN_STEP_FAST, w, x, k0 + j, 8, svl, svh, u, a);
  }
  if (j < len) tn_lin_step(fmt, NT, TN_STEP_TAIL, w, x, k0 + j, len - j, svl, svh, u, a);
  for (r = 0; r < 2 * TN_LIN_R * NT; ++r) acc[r] = a[r];
}

/* Lane q: the lane sum's tree of output q (lanes 0-3 in lo[q], 4-7 in hi[q]), that is
 * ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)). */
static TN_ALWAYS_INLINE float32x4_t tn_tree4(float32x4_t l0, float32x4_t h0, float32x4_t l1, float32x4_t h1, float32x4_t l2, float32x4_t h2, float32x4_t l3,
                                             float32x4_t h3) {
  /* [01 23 45 67] per output, then [0123 4567] per pair of outputs, then the sums */
  const float32x4_t p0 = vpaddq_f32(l0, h0), p1 = vpaddq_f32(l1, h1), p2 = vpaddq_f32(l2, h2), p3 = vpaddq_f32(l3, h3);
  return vpaddq_f32(vpaddq_f32(p0, p1), vpaddq_f32(p2, p3));
}

/* One pass: rows o0 .. o0 + 3 (the ones from `rows` on repeat the last row and are not stored) for
 * tokens t0 .. t0 + NT - 1. row_bytes: bytes per weight row; scales NULL for float weights.
 * Trit-planes (t2p, P > 1): the 4 accumulators are (row, plane) pairs, 4 / P rows of P planes each
 * (P = 3: one row, the 4th pair repeats it), plane p's rows plane_bytes after plane 0's and its scales
 * per_plane after; one load of x serves every plane, and a row's output is y_0 + y_1 + ... in order. */
static TN_ALWAYS_INLINE void tn_lin_pass(const int fmt, const int NT, const int P, const float *x, const void *w, size_t row_bytes, size_t plane_bytes,
                                         size_t per_plane, const float *scales, const uint8_t *zeros, int32_t bits, int32_t groups_per_row, int32_t group,
                                         int32_t rows, int32_t k, int32_t t0, int32_t o0, float *y) {
  const int32_t rp = TN_LIN_R / P; /* rows per pass */
  const int32_t nr = rows - o0 < rp ? rows - o0 : rp;
  const void *wr[TN_LIN_R];
  const float *xt[TN_LIN_NT];
  float32x4_t acc[2 * TN_LIN_R * TN_LIN_NT], v[TN_LIN_NT];
  tn_ub_ctx u;
  int r, t;
  /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 takes min(rows - o0, TN_LIN_R) to be below 1 */
  for (r = 0; r < TN_LIN_R; ++r) wr[r] = (const unsigned char *)w + (size_t)(r % P) * plane_bytes + (size_t)(o0 + (r / P < nr ? r / P : nr - 1)) * row_bytes;
  for (t = 0; t < NT; ++t) xt[t] = x + (size_t)(t0 + t) * (size_t)k, v[t] = vdupq_n_f32(0.0f);
  u.bits = bits, u.row_bytes = (int32_t)row_bytes;
  for (r = 0; r < TN_LIN_R; ++r) u.z[r] = 0;
#define TN_TREE_T(t) tn_tree4(acc[2 * (t)], acc[2 * (t) + 1], acc[2 * (NT + (t))], acc[2 * (NT + (t)) + 1], acc[2 * (2 * NT + (t))], acc[2 * (2 * NT + (t)) + 1], \
                              acc[2 * (3 * NT + (t))], acc[2 * (3 * NT + (t)) + 1])
  if (fmt == TN_W_F32 || fmt == TN_W_F16) {
    for (r = 0; r < 2 * TN_LIN_R * NT; ++r) acc[r] = vdupq_n_f32(0.0f);
    tn_lin_block(fmt, NT, wr, xt, 0, k, 0, &u, acc);
    for (t = 0; t < NT; ++t) v[t] = TN_TREE_T(t);
  } else {
    int32_t k0, g;
    for (k0 = 0, g = 0; k0 < k; ++g) {
      const int32_t len = k - k0 < group ? k - k0 : group;
      float sc[4];
      float32x4_t s;
      for (r = 0; r < 2 * TN_LIN_R * NT; ++r) acc[r] = vdupq_n_f32(0.0f);
      if (fmt == TN_W_UB) /* the zero points of the pass's rows for this group */
        for (r = 0; r < TN_LIN_R; ++r) u.z[r] = zeros[(size_t)(o0 + (r < nr ? r : nr - 1)) * (size_t)groups_per_row + (size_t)g];
      tn_lin_block(fmt, NT, wr, xt, k0, len, (int32_t)row_bytes, &u, acc);
      /* the scales of the pass's rows (scale index row * groups_per_row + k0 / group) */
      /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 takes min(rows - o0, TN_LIN_R) to be below 1 */
      for (r = 0; r < TN_LIN_R; ++r)
        sc[r] = scales[(size_t)(r % P) * per_plane + (size_t)(o0 + (r / P < nr ? r / P : nr - 1)) * (size_t)groups_per_row + (size_t)g];
      s = vld1q_f32(sc);
      for (t = 0; t < NT; ++t) {
        const float32x4_t vg = vmulq_f32(s, TN_TREE_T(t));
        v[t] = g == 0 ? vg : vaddq_f32(v[t], vg); /* the first group starts the sum */
      }
      k0 += len;
    }
  }
#undef TN_TREE_T
  for (t = 0; t < NT; ++t) {
    float *yt = y + (size_t)(t0 + t) * (size_t)rows + (size_t)o0;
    if (P == 1 && nr == TN_LIN_R) {
      vst1q_f32(yt, v[t]);
    } else {
      float o[4];
      vst1q_f32(o, v[t]);
      for (r = 0; r < nr; ++r) {
        float sum = o[r * P];
        int p;
        for (p = 1; p < P; ++p) sum = sum + o[r * P + p]; /* y_0 + y_1 + ..., as the reference */
        yt[r] = sum;
      }
    }
  }
}

/* All of y: rows in passes of 4 / P (outer), tokens TN_LIN_NT at a time, then one at a time. */
static TN_ALWAYS_INLINE void tn_lin_planes(const int fmt, const int P, const float *x, int32_t n, const void *w, size_t row_bytes, size_t plane_bytes,
                                           size_t per_plane, const float *scales, const uint8_t *zeros, int32_t bits, int32_t groups_per_row, int32_t group,
                                           int32_t rows, int32_t k, float *y) {
  int32_t o0, t0;
  for (o0 = 0; o0 < rows; o0 += TN_LIN_R / P) {
    for (t0 = 0; n - t0 >= TN_LIN_NT && TN_LIN_NT > 1; t0 += TN_LIN_NT)
      tn_lin_pass(fmt, TN_LIN_NT, P, x, w, row_bytes, plane_bytes, per_plane, scales, zeros, bits, groups_per_row, group, rows, k, t0, o0, y);
    for (; t0 < n; ++t0) tn_lin_pass(fmt, 1, P, x, w, row_bytes, plane_bytes, per_plane, scales, zeros, bits, groups_per_row, group, rows, k, t0, o0, y);
  }
}

static TN_ALWAYS_INLINE void tn_lin(const int fmt, const float *x, int32_t n, const void *w, size_t row_bytes, const float *scales, int32_t groups_per_row,
                                    int32_t group, int32_t rows, int32_t k, float *y) {
  tn_lin_planes(fmt, 1, x, n, w, row_bytes, 0, 0, scales, NULL, 0, groups_per_row, group, rows, k, y);
}

void tn_linear_f32_neon(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y) {
  tn_lin(TN_W_F32, x, n, w, (size_t)k * sizeof(float), NULL, 0, 1, rows, k, y);
}

void tn_linear_f16_neon(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y) {
  tn_lin(TN_W_F16, x, n, w, (size_t)k * sizeof(uint16_t), NULL, 0, 1, rows, k, y);
}

void tn_linear_q8_neon(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  tn_lin(TN_W_Q8, x, n, w, (size_t)k, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2_neon(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  tn_lin(TN_W_T2, x, n, w, (size_t)((k + 3) / 4), scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2p_neon(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y) {
  const size_t rb = (size_t)((k + 3) / 4), pb = rb * (size_t)rows, pp = groups_per_row == 0 ? 1 : (size_t)rows * (size_t)groups_per_row;
  if (planes == 1) tn_lin_planes(TN_W_T2, 1, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
  else if (planes == 2) tn_lin_planes(TN_W_T2, 2, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
  else if (planes == 3) tn_lin_planes(TN_W_T2, 3, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
  else if (planes == 4) tn_lin_planes(TN_W_T2, 4, x, n, w, rb, pb, pp, scales, NULL, 0, groups_per_row, group, rows, k, y);
  else tn_linear_t2p(x, n, w, planes, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_ub_neon(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y) {
  if (bits >= 2 && bits <= 8 && (group % 8 == 0 || group >= k))
    tn_lin_planes(TN_W_UB, 1, x, n, w, (size_t)((k * bits + 7) / 8), 0, 0, scales, zeros, bits, groups_per_row, group, rows, k, y);
  else tn_linear_ub_scalar(x, n, w, bits, scales, zeros, groups_per_row, group, rows, k, y);
}

/* Fairy2i, P = 2 stages x (U, W) planes: out[p] = the tree of each of plane p's sums (a, b, c, d)
 * over columns 0 .. m - 1 of x_re, x_im and the planes' rows wp[p]. */
static TN_ALWAYS_INLINE void tn_c4_sums(const int P, const float *xre, const float *xim, const uint8_t *const *wp, int32_t m, float32x4_t *out) {
  static const int32_t shifts[8] = {30, 28, 26, 24, 22, 20, 18, 16};
  const int32x4_t sl = vld1q_s32(shifts), sh = vld1q_s32(shifts + 4);
  const uint32x4_t sign = vdupq_n_u32(0x80000000u);
  uint32x4_t a[8], b[8], c[8], d[8]; /* [2 p]: lanes 0-3, [2 p + 1]: lanes 4-7, as float bits */
  int32_t j;
  int p, h;
  for (p = 0; p < 2 * P; ++p) a[p] = b[p] = c[p] = d[p] = vreinterpretq_u32_f32(vdupq_n_f32(0.0f));
  for (j = 0; j < m; j += 8) {
    const int32_t cnt = m - j < 8 ? m - j : 8;
    float rp[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}, ip[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    const float *rs = xre + j, *is = xim + j;
    uint32x4_t re[2], im[2];
    if (cnt < 8) { /* +0 past the end */
      int32_t q;
      for (q = 0; q < cnt; ++q) rp[q] = xre[j + q], ip[q] = xim[j + q];
      rs = rp, is = ip;
    }
    re[0] = vreinterpretq_u32_f32(vld1q_f32(rs)), re[1] = vreinterpretq_u32_f32(vld1q_f32(rs + 4));
    im[0] = vreinterpretq_u32_f32(vld1q_f32(is)), im[1] = vreinterpretq_u32_f32(vld1q_f32(is + 4));
    for (p = 0; p < P; ++p) {
      /* codes j .. j + 7 (j is a multiple of 8: two whole bytes; past the end, code 0) */
      const int32x4_t cw = vreinterpretq_s32_u32(vdupq_n_u32(tn_t2_word(wp[p], j, cnt)));
      for (h = 0; h < 2; ++h) {
        const int32x4_t cv = vshlq_s32(cw, h ? sh : sl);
        const uint32x4_t neg = vandq_u32(vreinterpretq_u32_s32(cv), sign);
        const uint32x4_t q = vreinterpretq_u32_s32(vshrq_n_s32(vshlq_n_s32(cv, 1), 31));
        const uint32x4_t sre = veorq_u32(re[h], neg), sim = veorq_u32(im[h], neg);
        const int i = 2 * p + h;
        a[i] = vreinterpretq_u32_f32(vaddq_f32(vreinterpretq_f32_u32(a[i]), vreinterpretq_f32_u32(vbicq_u32(sre, q))));
        c[i] = vreinterpretq_u32_f32(vaddq_f32(vreinterpretq_f32_u32(c[i]), vreinterpretq_f32_u32(vbicq_u32(sim, q))));
        d[i] = vreinterpretq_u32_f32(vaddq_f32(vreinterpretq_f32_u32(d[i]), vreinterpretq_f32_u32(vandq_u32(sre, q))));
        b[i] = vreinterpretq_u32_f32(vaddq_f32(vreinterpretq_f32_u32(b[i]), vreinterpretq_f32_u32(vandq_u32(sim, q))));
      }
    }
  }
#define TN_F(v) vreinterpretq_f32_u32(v)
  for (p = 0; p < P; ++p)
    out[p] = tn_tree4(TN_F(a[2 * p]), TN_F(a[2 * p + 1]), TN_F(b[2 * p]), TN_F(b[2 * p + 1]), TN_F(c[2 * p]), TN_F(c[2 * p + 1]), TN_F(d[2 * p]),
                      TN_F(d[2 * p + 1]));
#undef TN_F
}

static TN_ALWAYS_INLINE void tn_c4_run(const int P, const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t rows, int32_t k, float *y) {
  const int32_t half_rows = rows / 2, m = k / 2, row_bytes = (m + 3) / 4;
  int32_t t, o, p;
  for (t = 0; t < n; t++)
    for (o = 0; o < half_rows; o++) {
      const uint8_t *wp[4];
      float32x4_t sums[4];
      float out[16];
      for (p = 0; p < P; p++) wp[p] = w + (size_t)(p * half_rows + o) * (size_t)row_bytes;
      tn_c4_sums(P, x + (size_t)t * (size_t)k, x + (size_t)t * (size_t)k + m, wp, m, sums);
      for (p = 0; p < P; p++) vst1q_f32(out + 4 * p, sums[p]); /* a, b, c, d */
      tn_c4_out(out, P / 2, scales, &y[(size_t)t * (size_t)rows + (size_t)o], &y[(size_t)t * (size_t)rows + (size_t)half_rows + (size_t)o]);
    }
}

void tn_linear_c4_neon(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y) {
  if (stages == 1) tn_c4_run(2, x, n, w, scales, rows, k, y);
  else if (stages == 2) tn_c4_run(4, x, n, w, scales, rows, k, y);
  else tn_linear_c4_scalar(x, n, w, stages, scales, rows, k, y);
}

#else /* ARMv7 (subnormals flushed, above) or no NEON: the reference kernels */

void tn_linear_f32_neon(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y) { tn_linear_f32(x, n, w, rows, k, y); }

void tn_linear_f16_neon(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y) { tn_linear_f16(x, n, w, rows, k, y); }

void tn_linear_q8_neon(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  tn_linear_q8(x, n, w, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2_neon(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                       float *y) {
  tn_linear_t2(x, n, w, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_t2p_neon(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                        int32_t k, float *y) {
  tn_linear_t2p(x, n, w, planes, scales, groups_per_row, group, rows, k, y);
}

void tn_linear_ub_neon(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                       int32_t rows, int32_t k, float *y) {
  tn_linear_ub_scalar(x, n, w, bits, scales, zeros, groups_per_row, group, rows, k, y);
}

void tn_linear_c4_neon(const float *x, int32_t n, const uint8_t *w, int32_t stages, const float *scales, int32_t rows, int32_t k, float *y) {
  tn_linear_c4_scalar(x, n, w, stages, scales, rows, k, y);
}

#endif
