/*
 * tn_linear_scalar.c - the Linear kernels (float activations, tn_lm.h) for CPUs without the vector
 * kernels of opt/x86 and opt/arm: microcontrollers, RV32 and RV64, ARMv7. The same floats as
 * ref/tn_linear.c, bit for bit: the eight lanes of a scale group are eight named locals instead of
 * an array indexed by (i - k0) & 7, so that the compiler keeps them in registers; lane j takes the
 * elements k0 + j, k0 + j + 8, ... in order, as in the reference, and the lanes are combined by the
 * same tree (TN_LANES_SUM). Ternary codes decode eight at a time from two bytes, and a zero code
 * adds nothing: the reference adds +0.0f there, which changes no sum (a lane starts at +0, and a
 * sum of floats in round-to-nearest is -0 only when both terms are -0, so a lane is never -0, and
 * s + +0 == s for every other s, infinities and NaN included).
 *
 * The fast paths need every scale group to start on a whole byte of codes: one group per row, or
 * groups of a multiple of 4 columns (t2, t2p) or 8 (ub); other groups run the reference.
 */
#include "tn_lm.h"
#include "tn_half.h"

#define TN_LANES_SUM(a) ((((a)[0] + (a)[1]) + ((a)[2] + (a)[3])) + (((a)[4] + (a)[5]) + ((a)[6] + (a)[7])))

/* The eight named lanes, their declaration and their hand-over to an array for the tail. */
#define TN_LANES_DECL(a) float a##0 = 0.0f, a##1 = 0.0f, a##2 = 0.0f, a##3 = 0.0f, a##4 = 0.0f, a##5 = 0.0f, a##6 = 0.0f, a##7 = 0.0f
#define TN_LANES_ARRAY(a) {a##0, a##1, a##2, a##3, a##4, a##5, a##6, a##7}

/* ARMv7's NEON flushes subnormals to zero (VFP does not), and clang's SLP vectorizer packs the eight
 * lanes of a multiply-add loop into NEON registers: an empty asm that wants each lane in a VFP
 * register after every eight terms keeps them scalar there. Elsewhere it is nothing. */
#if defined(__arm__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
#define TN_LANES_SCALAR(a) __asm__("" : "+t"(a##0), "+t"(a##1), "+t"(a##2), "+t"(a##3), "+t"(a##4), "+t"(a##5), "+t"(a##6), "+t"(a##7))
#else
#define TN_LANES_SCALAR(a) ((void)0)
#endif

/* A t2 code (the low two bits of c): 01 adds x, 10 subtracts it, 00 and 11 add nothing. */
#define TN_T2_TERM(lane, c, xv)                    \
  do {                                             \
    const uint32_t tn_c_ = (c) & 3u;               \
    if (tn_c_ == 1u) lane += (xv);                 \
    else if (tn_c_ == 2u) lane += -(xv);           \
  } while (0)

/* One scale group [k0, k1) of a t2 row (k0 a multiple of 4): the lane sum of its terms. */
static float t2_group(const float *xr, const uint8_t *wr, int32_t k0, int32_t k1) {
  TN_LANES_DECL(a);
  int32_t i = k0;
  for (; i + 8 <= k1; i += 8) {
    const uint32_t c = (uint32_t)wr[i >> 2] | ((uint32_t)wr[(i >> 2) + 1] << 8);
    const float *xi = xr + i;
    if (c == 0u) continue;
    TN_T2_TERM(a0, c, xi[0]);
    TN_T2_TERM(a1, c >> 2, xi[1]);
    TN_T2_TERM(a2, c >> 4, xi[2]);
    TN_T2_TERM(a3, c >> 6, xi[3]);
    TN_T2_TERM(a4, c >> 8, xi[4]);
    TN_T2_TERM(a5, c >> 10, xi[5]);
    TN_T2_TERM(a6, c >> 12, xi[6]);
    TN_T2_TERM(a7, c >> 14, xi[7]);
  }
  {
    float acc[8] = TN_LANES_ARRAY(a);
    for (; i < k1; i++) TN_T2_TERM(acc[(i - k0) & 7], (uint32_t)wr[i >> 2] >> ((i & 3) * 2), xr[i]);
    return TN_LANES_SUM(acc);
  }
}

/* The same for two planes at once (one read of x serves both): lane sums into *s0 and *s1. */
static void t2_group2(const float *xr, const uint8_t *w0, const uint8_t *w1, int32_t k0, int32_t k1, float *s0, float *s1) {
  TN_LANES_DECL(a);
  TN_LANES_DECL(b);
  int32_t i = k0;
  for (; i + 8 <= k1; i += 8) {
    const uint32_t c = (uint32_t)w0[i >> 2] | ((uint32_t)w0[(i >> 2) + 1] << 8);
    const uint32_t d = (uint32_t)w1[i >> 2] | ((uint32_t)w1[(i >> 2) + 1] << 8);
    const float *xi = xr + i;
    if ((c | d) == 0u) continue;
    TN_T2_TERM(a0, c, xi[0]);
    TN_T2_TERM(b0, d, xi[0]);
    TN_T2_TERM(a1, c >> 2, xi[1]);
    TN_T2_TERM(b1, d >> 2, xi[1]);
    TN_T2_TERM(a2, c >> 4, xi[2]);
    TN_T2_TERM(b2, d >> 4, xi[2]);
    TN_T2_TERM(a3, c >> 6, xi[3]);
    TN_T2_TERM(b3, d >> 6, xi[3]);
    TN_T2_TERM(a4, c >> 8, xi[4]);
    TN_T2_TERM(b4, d >> 8, xi[4]);
    TN_T2_TERM(a5, c >> 10, xi[5]);
    TN_T2_TERM(b5, d >> 10, xi[5]);
    TN_T2_TERM(a6, c >> 12, xi[6]);
    TN_T2_TERM(b6, d >> 12, xi[6]);
    TN_T2_TERM(a7, c >> 14, xi[7]);
    TN_T2_TERM(b7, d >> 14, xi[7]);
  }
  {
    float acc0[8] = TN_LANES_ARRAY(a), acc1[8] = TN_LANES_ARRAY(b);
    for (; i < k1; i++) {
      const int32_t shift = (i & 3) * 2;
      TN_T2_TERM(acc0[(i - k0) & 7], (uint32_t)w0[i >> 2] >> shift, xr[i]);
      TN_T2_TERM(acc1[(i - k0) & 7], (uint32_t)w1[i >> 2] >> shift, xr[i]);
    }
    *s0 = TN_LANES_SUM(acc0);
    *s1 = TN_LANES_SUM(acc1);
  }
}

void tn_linear_t2_scalar(const float *x, int32_t n, const uint8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                         float *y) {
  const int32_t row_bytes = (k + 3) / 4;
  int32_t t, o, k0;
  if (group % 4 != 0 && group < k) {
    tn_linear_t2(x, n, w, scales, groups_per_row, group, rows, k, y);
    return;
  }
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      const uint8_t *wr = w + o * row_bytes;
      float v = 0.0f;
      for (k0 = 0; k0 < k; k0 += group) {
        const int32_t k1 = k0 + group < k ? k0 + group : k;
        const float vg = scales[o * groups_per_row + k0 / group] * t2_group(xr, wr, k0, k1);
        v = k0 == 0 ? vg : v + vg;
      }
      y[t * rows + o] = v;
    }
}

/* Trit-planes: planes in pairs, each pair in one pass over x (PTQTP's two planes: one pass). */
void tn_linear_t2p_scalar(const float *x, int32_t n, const uint8_t *w, int32_t planes, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows,
                          int32_t k, float *y) {
  const int32_t row_bytes = (k + 3) / 4;
  const int32_t per_plane = groups_per_row == 0 ? 1 : rows * groups_per_row;
  int32_t t, o, k0, p;
  if ((group % 4 != 0 && group < k) || planes < 1 || planes > TN_MAX_PLANES) {
    tn_linear_t2p(x, n, w, planes, scales, groups_per_row, group, rows, k, y);
    return;
  }
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      float v[TN_MAX_PLANES] = {0.0f, 0.0f, 0.0f, 0.0f}; /* K = 0: every plane's sum is +0 */
      float out;
      for (p = 0; p < planes; p += 2) {
        const uint8_t *w0 = w + (p * rows + o) * row_bytes;
        const float *s0 = scales + p * per_plane + o * groups_per_row;
        for (k0 = 0; k0 < k; k0 += group) {
          const int32_t k1 = k0 + group < k ? k0 + group : k;
          if (p + 1 < planes) {
            float d0, d1, vg0, vg1;
            t2_group2(xr, w0, w0 + rows * row_bytes, k0, k1, &d0, &d1);
            vg0 = s0[k0 / group] * d0;
            vg1 = s0[per_plane + k0 / group] * d1;
            v[p] = k0 == 0 ? vg0 : v[p] + vg0;
            v[p + 1] = k0 == 0 ? vg1 : v[p + 1] + vg1;
          } else {
            const float vg = s0[k0 / group] * t2_group(xr, w0, k0, k1);
            v[p] = k0 == 0 ? vg : v[p] + vg;
          }
        }
      }
      out = v[0];
      for (p = 1; p < planes; p++) out = out + v[p];
      y[t * rows + o] = out;
    }
}

/* int8 weights: lane j += x * (float)w over the group, as the reference. */
void tn_linear_q8_scalar(const float *x, int32_t n, const int8_t *w, const float *scales, int32_t groups_per_row, int32_t group, int32_t rows, int32_t k,
                         float *y) {
  int32_t t, o, k0, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      const int8_t *wr = w + o * k;
      float v = 0.0f;
      for (k0 = 0; k0 < k; k0 += group) {
        const int32_t k1 = k0 + group < k ? k0 + group : k;
        TN_LANES_DECL(a);
        float vg;
        for (i = k0; i + 8 <= k1; i += 8) {
          a0 += xr[i] * (float)wr[i];
          a1 += xr[i + 1] * (float)wr[i + 1];
          a2 += xr[i + 2] * (float)wr[i + 2];
          a3 += xr[i + 3] * (float)wr[i + 3];
          a4 += xr[i + 4] * (float)wr[i + 4];
          a5 += xr[i + 5] * (float)wr[i + 5];
          a6 += xr[i + 6] * (float)wr[i + 6];
          a7 += xr[i + 7] * (float)wr[i + 7];
          TN_LANES_SCALAR(a);
        }
        {
          float acc[8] = TN_LANES_ARRAY(a);
          for (; i < k1; i++) acc[(i - k0) & 7] += xr[i] * (float)wr[i];
          vg = scales[o * groups_per_row + k0 / group] * TN_LANES_SUM(acc);
        }
        v = k0 == 0 ? vg : v + vg;
      }
      y[t * rows + o] = v;
    }
}

void tn_linear_f32_scalar(const float *x, int32_t n, const float *w, int32_t rows, int32_t k, float *y) {
  int32_t t, o, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k, *wr = w + o * k;
      TN_LANES_DECL(a);
      for (i = 0; i + 8 <= k; i += 8) {
        a0 += xr[i] * wr[i];
        a1 += xr[i + 1] * wr[i + 1];
        a2 += xr[i + 2] * wr[i + 2];
        a3 += xr[i + 3] * wr[i + 3];
        a4 += xr[i + 4] * wr[i + 4];
        a5 += xr[i + 5] * wr[i + 5];
        a6 += xr[i + 6] * wr[i + 6];
        a7 += xr[i + 7] * wr[i + 7];
        TN_LANES_SCALAR(a);
      }
      {
        float acc[8] = TN_LANES_ARRAY(a);
        for (; i < k; i++) acc[i & 7] += xr[i] * wr[i];
        y[t * rows + o] = TN_LANES_SUM(acc);
      }
    }
}

void tn_linear_f16_scalar(const float *x, int32_t n, const uint16_t *w, int32_t rows, int32_t k, float *y) {
  int32_t t, o, i;
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      const uint16_t *wr = w + o * k;
      TN_LANES_DECL(a);
      for (i = 0; i + 8 <= k; i += 8) {
        a0 += xr[i] * tn_f16_to_f32(wr[i]);
        a1 += xr[i + 1] * tn_f16_to_f32(wr[i + 1]);
        a2 += xr[i + 2] * tn_f16_to_f32(wr[i + 2]);
        a3 += xr[i + 3] * tn_f16_to_f32(wr[i + 3]);
        a4 += xr[i + 4] * tn_f16_to_f32(wr[i + 4]);
        a5 += xr[i + 5] * tn_f16_to_f32(wr[i + 5]);
        a6 += xr[i + 6] * tn_f16_to_f32(wr[i + 6]);
        a7 += xr[i + 7] * tn_f16_to_f32(wr[i + 7]);
        TN_LANES_SCALAR(a);
      }
      {
        float acc[8] = TN_LANES_ARRAY(a);
        for (; i < k; i++) acc[i & 7] += xr[i] * tn_f16_to_f32(wr[i]);
        y[t * rows + o] = TN_LANES_SUM(acc);
      }
    }
}

/* Unsigned b-bit codes with a zero point per group (layout 'ub'): eight codes are `bits` whole
 * bytes when the group starts on a multiple of 8 columns; they are read into one 64-bit word. */
void tn_linear_ub_scalar(const float *x, int32_t n, const uint8_t *w, int32_t bits, const float *scales, const uint8_t *zeros, int32_t groups_per_row, int32_t group,
                         int32_t rows, int32_t k, float *y) {
  const int32_t row_bytes = (k * bits + 7) / 8;
  const uint32_t mask = (1u << bits) - 1u;
  int32_t t, o, k0, i, b;
  if ((group % 8 != 0 && group < k) || bits < 2 || bits > 8) {
    tn_linear_ub(x, n, w, bits, scales, zeros, groups_per_row, group, rows, k, y);
    return;
  }
  for (t = 0; t < n; t++)
    for (o = 0; o < rows; o++) {
      const float *xr = x + t * k;
      const uint8_t *wr = w + o * row_bytes;
      float v = 0.0f;
      for (k0 = 0; k0 < k; k0 += group) {
        const int32_t k1 = k0 + group < k ? k0 + group : k;
        const int32_t g = o * groups_per_row + k0 / group;
        const int32_t z = zeros[g];
        TN_LANES_DECL(a);
        float vg;
        for (i = k0; i + 8 <= k1; i += 8) {
          const uint8_t *src = wr + (i / 8) * bits;
          uint64_t c = 0;
          for (b = bits - 1; b >= 0; b--) c = (c << 8) | src[b];
          a0 += xr[i] * (float)((int32_t)((uint32_t)c & mask) - z);
          a1 += xr[i + 1] * (float)((int32_t)((uint32_t)(c >> bits) & mask) - z);
          a2 += xr[i + 2] * (float)((int32_t)((uint32_t)(c >> 2 * bits) & mask) - z);
          a3 += xr[i + 3] * (float)((int32_t)((uint32_t)(c >> 3 * bits) & mask) - z);
          a4 += xr[i + 4] * (float)((int32_t)((uint32_t)(c >> 4 * bits) & mask) - z);
          a5 += xr[i + 5] * (float)((int32_t)((uint32_t)(c >> 5 * bits) & mask) - z);
          a6 += xr[i + 6] * (float)((int32_t)((uint32_t)(c >> 6 * bits) & mask) - z);
          a7 += xr[i + 7] * (float)((int32_t)((uint32_t)(c >> 7 * bits) & mask) - z);
          TN_LANES_SCALAR(a);
        }
        {
          float acc[8] = TN_LANES_ARRAY(a);
          for (; i < k1; i++) {
            const uint32_t bit = (uint32_t)i * (uint32_t)bits;
            const uint32_t lo = (uint32_t)wr[bit >> 3];
            /* the second byte only where the code reaches it (a row's last code may end its last byte) */
            const uint32_t pair = (bit & 7u) + (uint32_t)bits > 8u ? lo | ((uint32_t)wr[(bit >> 3) + 1] << 8) : lo;
            acc[(i - k0) & 7] += xr[i] * (float)((int32_t)((pair >> (bit & 7u)) & mask) - z);
          }
          vg = scales[g] * TN_LANES_SUM(acc);
        }
        v = k0 == 0 ? vg : v + vg;
      }
      y[t * rows + o] = v;
    }
}
