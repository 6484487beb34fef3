/*
 * tn_math.c - scalar float32 math without libm, bit-exact with compiler/numerics/f32.ts.
 *
 * Each line is one binary32 operation; compile with -ffp-contract=off so that no multiply-add is
 * fused. Constants are hexadecimal float literals so that every compiler reads the same bits; the
 * TypeScript mirror lists the same values and a test checks the two agree.
 */
#include "tn_runtime.h"
#include "tn_math.h"

#define TN_TWO23 0x1p+23f
#define TN_LOG2E 0x1.715476p+0f
#define TN_LN2_HI 0x1.62e4p-1f   /* few mantissa bits: k * TN_LN2_HI is exact for |k| <= 150 */
#define TN_LN2_LO 0x1.7f7d1cp-20f
#define TN_EXP_MAX 0x1.62e42ep+6f  /* above: e^x overflows */
#define TN_EXP_MIN -0x1.9fe36ap+6f /* below: e^x rounds to 0 */
#define TN_P7 0x1.a01a02p-13f /* 1/7! */
#define TN_P6 0x1.6c16c2p-10f /* 1/6! */
#define TN_P5 0x1.111112p-7f  /* 1/5! */
#define TN_P4 0x1.555556p-5f  /* 1/4! */
#define TN_P3 0x1.555556p-3f  /* 1/3! */
#define TN_P2 0x1p-1f         /* 1/2! */

/* logf: ln(1+f) = 2s + s*R(s^2), s = f/(2+f); R's coefficients are 2/(2n+1). */
#define TN_SQRT2_BITS 0x3fb504f3u /* bits of sqrt(2) rounded to float: the reduction keeps m <= sqrt(2) */
#define TN_LG3 0x1.555556p-1f /* 2/3 */
#define TN_LG5 0x1.99999ap-2f /* 2/5 */
#define TN_LG7 0x1.24924ap-2f /* 2/7 */
#define TN_LG9 0x1.c71c72p-3f /* 2/9 */
#define TN_LG11 0x1.745d18p-3f /* 2/11 */
#define TN_LG13 0x1.3b13b2p-3f /* 2/13 */
#define TN_LG3_LO -0x1.555556p-26f /* 2/3 - TN_LG3 */

/* tanhf for |x| < 0.625: tanh(x) = x + x * (x^2 * P(x^2)); Chebyshev fit of degree 5, made here. */
#define TN_TANH_SMALL 0x1.4p-1f /* 0.625 */
#define TN_TANH_P5 0x1.2c83cp-9f
#define TN_TANH_P4 -0x1.116a16p-7f
#define TN_TANH_P3 0x1.64a976p-6f
#define TN_TANH_P2 -0x1.ba08c4p-5f
#define TN_TANH_P1 0x1.1110eap-3f
#define TN_TANH_P0 -0x1.555556p-2f

/* erff for |x| < 1: erf(x) = x + x * P(x^2); Chebyshev fit of degree 6 on [0, 1]. */
#define TN_ERF_P6 0x1.4a569p-14f
#define TN_ERF_P5 -0x1.a45088p-11f
#define TN_ERF_P4 0x1.54127p-8f
#define TN_ERF_P3 -0x1.b7fabap-6f
#define TN_ERF_P2 0x1.ce2d1p-4f
#define TN_ERF_P1 -0x1.81273ep-2f
#define TN_ERF_P0 0x1.06eba8p-3f
/* erfc(a) = e^(-a^2) * R(a) for a >= 1: R(2.5 + u) on [1, 4) (degree 11 in u), R(1/t) on [4, 10] (degree 5 in t). */
#define TN_ERFC_R11 -0x1.bab816p-22f
#define TN_ERFC_R10 0x1.c03e4ep-20f
#define TN_ERFC_R9 -0x1.01567ap-18f
#define TN_ERFC_R8 0x1.e1ffaep-17f
#define TN_ERFC_R7 -0x1.f1ac6ap-15f
#define TN_ERFC_R6 0x1.be96eap-13f
#define TN_ERFC_R5 -0x1.807be2p-11f
#define TN_ERFC_R4 0x1.433938p-9f
#define TN_ERFC_R3 -0x1.06326ep-7f
#define TN_ERFC_R2 0x1.989664p-6f
#define TN_ERFC_R1 -0x1.3086d8p-4f
#define TN_ERFC_R0 0x1.afbb3ep-3f
#define TN_ERFC_S5 0x1.12cdc6p-5f
#define TN_ERFC_S4 0x1.903ad8p-3f
#define TN_ERFC_S3 -0x1.4f1c6cp-2f
#define TN_ERFC_S2 0x1.6ed11ap-8f
#define TN_ERFC_S1 0x1.20ae5p-1f
#define TN_ERFC_S0 0x1.3bd168p-17f

/* Gelu */
#define TN_INV_SQRT2 0x1.6a09e6p-1f      /* 1/sqrt(2) */
#define TN_INV_SQRT2_LO 0x1.9fcef4p-27f  /* 1/sqrt(2) - TN_INV_SQRT2 */
#define TN_SQRT_2_OVER_PI 0x1.988454p-1f /* sqrt(2/pi) */
#define TN_GELU_C 0x1.6e4e26p-5f         /* 0.044715 */

/* powf */
#define TN_SPLIT 0x1.001p+12f /* 4097 = 2^12 + 1: Veltkamp's split of a float into two 12-bit halves */

typedef union {
  float f;
  uint32_t u;
} tn_f32_bits;

float tn_rintf(float v) {
  /* Adding 2^23 leaves no fraction bits, so the float unit rounds (to nearest even); subtracting
   * it back is exact. Values at or beyond 2^23 are integers already. */
  float a = v < 0.0f ? -v : v;
  if (!(a < TN_TWO23)) return v;
  if (v >= 0.0f) return (v + TN_TWO23) - TN_TWO23;
  return (v - TN_TWO23) + TN_TWO23;
}

/* 2^k as a normal float, for -126 <= k <= 127. */
static float tn_pow2i(int32_t k) {
  tn_f32_bits b;
  b.u = (uint32_t)(k + 127) << 23;
  return b.f;
}

float tn_ldexpf(float p, int32_t k) {
  if (k > 127) return (p * 2.0f) * tn_pow2i(k - 1);       /* p * 2 is exact */
  if (k < -126) return (p * tn_pow2i(k + 64)) * tn_pow2i(-64); /* first multiply exact */
  return p * tn_pow2i(k);
}

/* e^r * 2^kf for the reduced argument r (|r| <= ln2 / 2): the polynomial in Horner form, then the
 * power of two (shared by tn_expf and tn_exp_df). */
static float tn_exp_poly(float r, float kf) {
  float p = TN_P7;
  p = p * r + TN_P6;
  p = p * r + TN_P5;
  p = p * r + TN_P4;
  p = p * r + TN_P3;
  p = p * r + TN_P2;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return tn_ldexpf(p, (int32_t)kf);
}

float tn_expf(float x) {
  float kf, r;
  if (x != x) return x;
  if (x > TN_EXP_MAX) {
    tn_f32_bits inf;
    inf.u = 0x7f800000u;
    return inf.f;
  }
  if (x < TN_EXP_MIN) return 0.0f;
  kf = tn_rintf(x * TN_LOG2E);
  r = x - kf * TN_LN2_HI;
  r = r - kf * TN_LN2_LO;
  return tn_exp_poly(r, kf);
}

int8_t tn_quant_i8(float v) {
  if (v != v) return 0;
  if (v > 127.0f) v = 127.0f;
  else if (v < -127.0f) v = -127.0f;
  return (int8_t)(int32_t)tn_rintf(v);
}

/* ---- NaN and infinity without <math.h> ------------------------------------------------------ */

static float tn_nanf(void) {
  tn_f32_bits b;
  b.u = 0x7fc00000u;
  return b.f;
}

static float tn_inff(void) {
  tn_f32_bits b;
  b.u = 0x7f800000u;
  return b.f;
}

static int tn_signbit(float x) {
  tn_f32_bits b;
  b.f = x;
  return (int)(b.u >> 31);
}

/* ---- divf: a / b, also when the quotient is subnormal ---------------------------------------- */

/* The soft-float division of Zig 0.11's compiler-rt (cortex-m3, rv32imc) returns 0 when the quotient
 * is subnormal (seen: 1 / 3.4e38 and 2^-140 / 1 give 0). Kernels therefore divide with tn_divf: the
 * hardware (or library) quotient when it is normal, zero, infinite or NaN, and otherwise the
 * correctly rounded subnormal computed with integers. On a correct float unit both are the same
 * value, so the interpreter's mirror is a plain division. */
static uint32_t tn_mant(uint32_t bits, int32_t *e) { /* |x| = mant * 2^e, mant in [2^23, 2^24) */
  uint32_t m = bits & 0x7fffffu, x = (bits >> 23) & 0xffu;
  if (x == 0) {
    *e = -149;
    while (!(m & 0x800000u)) {
      m <<= 1;
      *e -= 1;
    }
    return m;
  }
  *e = (int32_t)x - 150;
  return m | 0x800000u;
}

float tn_divf(float a, float b) {
  tn_f32_bits qa, ba, bb;
  uint64_t num, den, quot, rem;
  int32_t ea, eb, s;
  float q = a / b, aq = q < 0.0f ? -q : q;
  if (!(aq < 0x1p-126f) || a == 0.0f || q != q) return q; /* normal, infinite, NaN, or 0 / b */
  ba.f = a;
  bb.f = b;
  if ((bb.u & 0x7fffffffu) == 0x7f800000u) return q; /* a / inf = +-0 */
  /* |a / b| = (ma / mb) * 2^(ea - eb) = N * 2^-149 with N = ma * 2^s / mb, s = ea - eb + 149 < 24 */
  num = tn_mant(ba.u, &ea);
  den = tn_mant(bb.u, &eb);
  s = ea - eb + 149;
  if (s >= 0) {
    num <<= s;
  } else if (s > -40) {
    den <<= -s;
  } else {
    num = 0; /* below 2^-188: rounds to zero */
  }
  quot = num / den;
  rem = num - quot * den;
  if (2 * rem > den || (2 * rem == den && (quot & 1u))) quot += 1; /* nearest, ties to even */
  qa.u = ((ba.u ^ bb.u) & 0x80000000u) | (uint32_t)quot;        /* quot = 2^23 is 2^-126 */
  return qa.f;
}

/* ---- sqrtf: correctly rounded, by integer digit-by-digit square root ------------------------- */

float tn_sqrtf(float x) {
  tn_f32_bits b;
  uint32_t e, m, mant;
  int32_t E;
  uint64_t op, res = 0, one = (uint64_t)1 << 48;
  b.f = x;
  if (x != x || x == 0.0f) return x; /* NaN, +0, -0 */
  if (b.u >> 31) return tn_nanf();    /* negative */
  if (b.u == 0x7f800000u) return x;   /* +inf */
  e = (b.u >> 23) & 0xffu;
  m = b.u & 0x7fffffu;
  if (e == 0) { /* subnormal: normalise so that bit 23 is set */
    E = -126;
    while (!(m & 0x800000u)) {
      m <<= 1;
      E -= 1;
    }
  } else {
    E = (int32_t)e - 127;
    m |= 0x800000u;
  }
  /* x = m * 2^(E-23). With op = m << 25 (E even) or m << 26 (E odd), sqrt(x) = sqrt(op) * 2^(floor(E/2) - 24)
   * and sqrt(op) lies in [2^24, 2^25): 24 result bits and one rounding bit. */
  if (E & 1) {
    op = (uint64_t)m << 26;
    E = (E - 1) / 2;
  } else {
    op = (uint64_t)m << 25;
    E = E / 2;
  }
  while (one != 0) { /* res = floor(sqrt(op)), op = the remainder */
    if (op >= res + one) {
      op -= res + one;
      res = (res >> 1) + one;
    } else {
      res >>= 1;
    }
    one >>= 2;
  }
  mant = (uint32_t)(res >> 1);
  if ((res & 1u) && (op != 0 || (mant & 1u))) mant += 1; /* round to nearest, ties to even */
  b.u = ((uint32_t)(E + 127) << 23) + (mant - 0x800000u); /* a carry out of mant bumps the exponent */
  return b.f;
}

/* ---- logf ------------------------------------------------------------------------------------ */

/* x = 2^k * m with m in (sqrt(2)/2, sqrt(2)], for finite x > 0. Returns f = m - 1 (exact). */
static float tn_log_reduce(float x, int32_t *k) {
  tn_f32_bits b;
  b.f = x;
  *k = 0;
  if (b.u < 0x00800000u) { /* subnormal: scale up exactly */
    b.f = x * 0x1p25f;
    *k = -25;
  }
  *k += (int32_t)(b.u >> 23) - 127;
  b.u = (b.u & 0x7fffffu) | 0x3f800000u; /* m in [1, 2) */
  if (b.u > TN_SQRT2_BITS) {             /* m / 2, exactly */
    b.u -= 0x00800000u;
    *k += 1;
  }
  return b.f - 1.0f;
}

float tn_logf(float x) {
  int32_t k;
  float f, hfsq, s, z, p, r, kf;
  if (x != x) return x;
  if (x < 0.0f) return tn_nanf();
  if (x == 0.0f) return -tn_inff();
  if (x > 0x1.fffffep+127f) return x; /* +inf */
  f = tn_log_reduce(x, &k);
  hfsq = (0.5f * f) * f;
  s = f / (2.0f + f);
  z = s * s;
  p = TN_LG9;
  p = p * z + TN_LG7;
  p = p * z + TN_LG5;
  p = p * z + TN_LG3;
  r = p * z; /* ln(1+f) = 2s + s*r = f - hfsq + s*(hfsq + r) */
  kf = (float)k;
  return kf * TN_LN2_HI - ((hfsq - (s * (hfsq + r) + kf * TN_LN2_LO)) - f);
}

/* ---- tanhf, sigmoid -------------------------------------------------------------------------- */

float tn_tanhf(float x) {
  const float a = x < 0.0f ? -x : x;
  float r;
  if (x != x) return x;
  if (a < 0x1p-12f) return x; /* tanh(x) rounds to x; keeps the sign of -0 */
  if (a < TN_TANH_SMALL) {
    const float z = x * x;
    float p = TN_TANH_P5;
    p = p * z + TN_TANH_P4;
    p = p * z + TN_TANH_P3;
    p = p * z + TN_TANH_P2;
    p = p * z + TN_TANH_P1;
    p = p * z + TN_TANH_P0;
    return x + x * (z * p);
  }
  if (a > 10.0f) {
    r = 1.0f; /* 1 - tanh(10) < 2^-25 */
  } else {
    r = 1.0f - 2.0f / (tn_expf(a + a) + 1.0f);
  }
  return x < 0.0f ? -r : r;
}

float tn_sigmoidf(float x) {
  float e, d;
  if (x >= 0.0f) return 1.0f / (1.0f + tn_expf(-x)); /* in [1/2, 1] */
  e = tn_expf(x); /* x < 0 or NaN */
  d = 1.0f + e;
  return tn_divf(e, d); /* subnormal for x < -87.3 */
}

static float tn_erfc_tail(float a, float a_lo);
static void tn_two_prod(float a, float b, float *hi, float *lo);

/* ---- erff, erfcf ----------------------------------------------------------------------------- */

/* P with erf(x) = x + x * P(x^2) for |x| < 1. */
static float tn_erf_p(float z) {
  float p = TN_ERF_P6;
  p = p * z + TN_ERF_P5;
  p = p * z + TN_ERF_P4;
  p = p * z + TN_ERF_P3;
  p = p * z + TN_ERF_P2;
  p = p * z + TN_ERF_P1;
  p = p * z + TN_ERF_P0;
  return p;
}

float tn_erff(float x) {
  float a = x < 0.0f ? -x : x, r;
  if (x != x) return x;
  if (a < 1.0f) return x + x * tn_erf_p(x * x);
  r = a >= 4.0f ? 1.0f : 1.0f - tn_erfc_tail(a, 0.0f); /* erfc(4) < 2^-25: erf rounds to 1 */
  return x < 0.0f ? -r : r;
}

/* ---- Gelu ------------------------------------------------------------------------------------ */

float tn_gelu_erff(float x) {
  float h = 0.5f * x, t = x * TN_INV_SQRT2, t_lo;
  if (x < -14.0f) return -0.0f; /* |x * Phi(x)| < 2^-150; also x = -inf */
  if (t < -1.0f) {
    /* 1 + erf(t) = erfc(-t), without cancellation. erfc's relative error there grows like 2 t^2 times
     * that of t, so t = x / sqrt(2) is carried in double-float: t + t_lo. */
    tn_two_prod(x, TN_INV_SQRT2, &t, &t_lo);
    t_lo = t_lo + x * TN_INV_SQRT2_LO;
    return h * tn_erfc_tail(-t, -t_lo);
  }
  /* -1 <= t < 0: 1 + erf(t) = (1 + t) + t * P(t^2), two terms of the same sign (no cancellation) */
  if (t < 0.0f) return h * ((1.0f + t) + t * tn_erf_p(t * t));
  return h * (1.0f + tn_erff(t));
}

float tn_gelu_tanhf(float x) {
  float inner, s;
  if (x < -0x1p+64f) return -0.0f; /* sigmoid is 0 there; also x = -inf (inf * 0) */
  inner = x + TN_GELU_C * ((x * x) * x);
  s = TN_SQRT_2_OVER_PI * inner;
  return x * tn_sigmoidf(s + s); /* 0.5 * x * (1 + tanh(s)) = x * sigmoid(2s) */
}

/* ---- powf ------------------------------------------------------------------------------------ */

/* a * b = *hi + *lo exactly (Dekker), for |a|, |b| far from overflow; needs -ffp-contract=off. */
static void tn_two_prod(float a, float b, float *hi, float *lo) {
  float p = a * b;
  float ca = TN_SPLIT * a, ah = ca - (ca - a), al = a - ah;
  float cb = TN_SPLIT * b, bh = cb - (cb - b), bl = b - bh;
  *hi = p;
  *lo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/* a + b = *hi + *lo exactly (Knuth), any order of magnitudes. */
static void tn_two_sum(float a, float b, float *hi, float *lo) {
  float s = a + b, bb = s - a;
  *hi = s;
  *lo = (a - (s - bb)) + (b - bb);
}

/* ln(x) = *hi + *lo to about 2^-35 relative, for finite x > 0. */
static void tn_log_df(float x, float *hi, float *lo) {
  int32_t k;
  float f, dh, dl, sh, sl, ph, pl, zh, zl, ch, cl, ah, al, p, r, kf, h, e1, e2, l;
  f = tn_log_reduce(x, &k);
  dh = 2.0f + f;
  dl = f - (dh - 2.0f); /* 2 + f = dh + dl exactly */
  sh = f / dh;          /* s = f / (2 + f) = sh + sl */
  tn_two_prod(sh, dh, &ph, &pl);
  sl = (((f - ph) - pl) - sh * dl) / dh;
  tn_two_prod(sh, sh, &zh, &zl); /* s^2 = zh + zl */
  zl = zl + (sh + sh) * sl;
  tn_two_prod(sh, zh, &ch, &cl); /* s^3 = ch + cl */
  cl = cl + (sh * zl + sl * zh);
  tn_two_prod(ch, TN_LG3, &ah, &al); /* (2/3) s^3 = ah + al */
  al = al + (ch * TN_LG3_LO + cl * TN_LG3);
  p = TN_LG13; /* the rest: s^5 * (2/5 + (2/7) s^2 + (2/9) s^4 + (2/11) s^6 + (2/13) s^8) */
  p = p * zh + TN_LG11;
  p = p * zh + TN_LG9;
  p = p * zh + TN_LG7;
  p = p * zh + TN_LG5;
  r = (ch * zh) * p;
  kf = (float)k;
  /* ln(x) = k*LN2_HI + 2*sh + ah + (2*sl + al + r + k*LN2_LO) */
  tn_two_sum(kf * TN_LN2_HI, sh + sh, &h, &e1);
  tn_two_sum(h, ah, &h, &e2);
  l = e1 + (e2 + ((sl + sl) + (al + (r + kf * TN_LN2_LO))));
  *hi = h + l;
  *lo = l - (*hi - h);
}

/* e^(hi + lo), |lo| <= 2^-20 |hi|: tn_expf's method with lo added to the reduced argument. */
static float tn_exp_df(float hi, float lo) {
  float kf, r;
  if (hi > TN_EXP_MAX) return tn_inff();
  if (hi < TN_EXP_MIN) return 0.0f;
  kf = tn_rintf(hi * TN_LOG2E);
  r = hi - kf * TN_LN2_HI;
  r = r - kf * TN_LN2_LO;
  r = r + lo;
  return tn_exp_poly(r, kf);
}

/* erfc(a + a_lo) for a >= 1, |a_lo| <= ulp(a): e^(-(a + a_lo)^2) * R(a). The square is carried in
 * double-float so that e^(-a^2) does not inherit the rounding error of a * a (up to 100 half-ulps
 * of the exponent): a = ah + al with ah holding the top 12 bits,
 * (a + a_lo)^2 = ah*ah (exact) + (al*(a + ah) + 2a*a_lo). */
static float tn_erfc_tail(float a, float a_lo) {
  tn_f32_bits b;
  float ah, al, e, p;
  if (a > 10.5f) return 0.0f; /* erfc(10.5) < 2^-160 */
  b.f = a;
  b.u &= 0xfffff000u;
  ah = b.f;
  al = a - ah;
  e = tn_exp_df(-(ah * ah), -(al * (a + ah) + (a + a) * a_lo));
  if (a < 4.0f) {
    const float u = a - 2.5f;
    p = TN_ERFC_R11;
    p = p * u + TN_ERFC_R10;
    p = p * u + TN_ERFC_R9;
    p = p * u + TN_ERFC_R8;
    p = p * u + TN_ERFC_R7;
    p = p * u + TN_ERFC_R6;
    p = p * u + TN_ERFC_R5;
    p = p * u + TN_ERFC_R4;
    p = p * u + TN_ERFC_R3;
    p = p * u + TN_ERFC_R2;
    p = p * u + TN_ERFC_R1;
    p = p * u + TN_ERFC_R0;
  } else {
    const float t = 1.0f / a;
    p = TN_ERFC_S5;
    p = p * t + TN_ERFC_S4;
    p = p * t + TN_ERFC_S3;
    p = p * t + TN_ERFC_S2;
    p = p * t + TN_ERFC_S1;
    p = p * t + TN_ERFC_S0;
  }
  return e * p;
}

/* 0: not an integer, 1: odd integer, 2: even integer (y finite). */
static int tn_int_kind(float y) {
  float a = y < 0.0f ? -y : y;
  if (a >= 0x1p24f) return 2; /* every float from 2^24 on is an even integer */
  if (tn_rintf(y) != y) return 0;
  return ((int32_t)y & 1) ? 1 : 2;
}

float tn_powf(float x, float y) {
  float ax = x < 0.0f ? -x : x, ay = y < 0.0f ? -y : y, r, lh, ll, zh, zl;
  int kind;
  /* Special cases of C99 Annex F (F.9.4.4), in this order. */
  if (y == 0.0f) return 1.0f; /* even for a NaN x */
  if (x == 1.0f) return 1.0f; /* even for a NaN y */
  if (x != x || y != y) return tn_nanf();
  if (ay > 0x1.fffffep+127f) { /* y = +-inf */
    if (ax == 1.0f) return 1.0f;
    return (ax < 1.0f) == (y < 0.0f) ? tn_inff() : 0.0f;
  }
  kind = tn_int_kind(y);
  if (x == 0.0f) {
    if (y < 0.0f) return (kind == 1 && tn_signbit(x)) ? -tn_inff() : tn_inff();
    return kind == 1 ? x : 0.0f;
  }
  if (ax > 0x1.fffffep+127f) { /* x = +-inf */
    if (y < 0.0f) return (x < 0.0f && kind == 1) ? -0.0f : 0.0f;
    return (x < 0.0f && kind == 1) ? x : tn_inff();
  }
  if (x < 0.0f && kind == 0) return tn_nanf(); /* negative base, non-integer exponent */
  /* |x|^y; exact (correctly rounded) for y = 1, 2, -1, 1/2. */
  if (y == 1.0f) {
    r = ax;
  } else if (y == 2.0f) {
    r = ax * ax;
  } else if (y == -1.0f) {
    r = tn_divf(1.0f, ax);
  } else if (y == 0.5f) {
    r = tn_sqrtf(ax);
  } else if (ay >= 0x1p31f) {
    /* |ln x| >= 2^-24 for x != 1, so |y ln x| >= 128: certain overflow or underflow. */
    r = (ax > 1.0f) == (y > 0.0f) ? tn_inff() : 0.0f;
  } else {
    tn_log_df(ax, &lh, &ll); /* x^y = e^(y ln x), with y ln x in double-float */
    tn_two_prod(y, lh, &zh, &zl);
    zl = zl + y * ll;
    r = tn_exp_df(zh, zl);
  }
  return (x < 0.0f && kind == 1) ? -r : r;
}

/* ---- maximum and minimum (Max, Min, ReduceMax, ReduceMin) -----------------------------------------
 *
 * IEEE 754-2019 maximum/minimum: a NaN operand gives NaN (NumPy's np.maximum, ONNX's reference
 * implementation) and -0 < +0, so the result does not depend on the operand order. Equal operands
 * differ only for zeros of opposite signs: max adds them (+0 + -0 = +0, -0 + -0 = -0), min adds their
 * negations and negates (-(-0 + +0) = -0). (C99's fmaxf returns the other operand for a NaN.) */
float tn_maxf(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  if (a == b) return a == 0.0f ? a + b : a;
  return a > b ? a : b;
}

float tn_minf(float a, float b) {
  if (a != a) return a;
  if (b != b) return b;
  if (a == b) return a == 0.0f ? -((-a) + (-b)) : a;
  return a < b ? a : b;
}
