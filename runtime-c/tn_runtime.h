/*
 * tn_runtime.h - tritc's C runtime: the kernels generated models call.
 *
 * Portable C99. No libc, no libm, no malloc: only <stdint.h> and <stddef.h>, which every freestanding
 * compiler has. Build with -ffp-contract=off (and never -ffast-math): the numerics contract
 * (docs/numerics.md) requires each float operation to be one IEEE-754 binary32 operation in the
 * order written, so that the results match tritc's reference interpreter bit for bit on every target.
 *
 * Files: ref/<op>.c hold the plain, obviously correct kernels. Optimised variants, when they exist,
 * keep the same signatures and differ only in a suffix (_neon, _m4, ...), and are tested against these.
 */
#ifndef TN_RUNTIME_H
#define TN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TN_ALIGNED(n) __attribute__((aligned(n)))
#define TN_INLINE inline __attribute__((always_inline))
#define TN_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define TN_ALIGNED(n)
#define TN_INLINE inline
#define TN_UNLIKELY(c) (c)
#endif

/* ---- the kernels' float epilogue on cores without an FPU ---------------------------------- */
/* Cores without single-precision hardware (Cortex-M3, RV32IMC) call the C library's soft-float
 * routines for float arithmetic: general routines of about 50 instructions each, three per output
 * for (float)sum * ws * sx, the same in the LUT and the int8 kernels. tn_scale_i32 and
 * tn_scale_rows below do those three steps in integers for the common operands instead.
 * TN_TEST_SOFT_FLOAT forces that path on the host for test/c/scale_check.c. */
#if !defined(__ARM_FP) && !defined(__riscv_flen) && (defined(__arm__) || defined(__thumb__) || defined(__riscv))
#define TN_SOFT_FLOAT 1
#else
#define TN_SOFT_FLOAT 0
#endif

/* tn_scale_i32(v, ws, sx) is ((float)v * ws) * sx, each step rounded to nearest even: the kernels'
 * whole epilogue for one output (docs/numerics.md). Without an FPU, when |v| < 2^24 ((float)v is
 * then exact), ws and sx are normal and both products are normal, it runs in integers: v is
 * normalised as it is (no float is packed and unpacked between the steps), each product is one
 * 32 x 32 -> 64 multiply rounded at 24 bits. Otherwise, and with an FPU, the plain expression
 * (library calls). test/softfloat.test.ts checks it against the host's float arithmetic. */

/* RV32 with Zbb (CLZ, CTZ): when the compiler targets it (__riscv_zbb, e.g. GCC -march=rv32imc_zbb)
 * or the build defines TN_RV32_ZBB (target rv32imc-zbb), for toolchains that cannot enable Zbb
 * (zig 0.11 ignores +zbb). The instructions are written as .insn encodings, which every RISC-V
 * assembler accepts whatever -march says. */
#if defined(__riscv) && __riscv_xlen == 32 && (defined(__riscv_zbb) || defined(TN_RV32_ZBB)) && (defined(__GNUC__) || defined(__clang__))
#define TN_RV32_ZBB_INSN 1
#define TN_INSN_CLZ(rd, rs) ".insn i 0x13, 1, " rd ", " rs ", 0x600\n\t" /* clz rd, rs */
static TN_INLINE uint32_t tn_clz_zbb(uint32_t m) {
  uint32_t r;
  __asm__(TN_INSN_CLZ("%0", "%1") : "=r"(r) : "r"(m));
  return r;
}
static TN_INLINE uint32_t tn_ctz_zbb(uint32_t m) {
  uint32_t r;
  __asm__(".insn i 0x13, 1, %0, %1, 0x601" : "=r"(r) : "r"(m)); /* ctz */
  return r;
}
#else
#define TN_RV32_ZBB_INSN 0
#endif

/* The left shift that brings m (1 <= m < 2^24) into [2^30, 2^31). RV32IMC has no count-leading-
 * zeros instruction (and compiler-rt's __clzsi2 is long): one byte of m by table there, found
 * with at most two tests; Zbb's CLZ where the core has it. */
#if (defined(__GNUC__) || defined(__clang__)) &&                                                                      \
    ((defined(__ARM_ARCH) && __ARM_ARCH >= 5 && !defined(__ARM_ARCH_6M__)) || (defined(__riscv_zbb) && __riscv_xlen == 64) || \
     ((defined(__x86_64__) || defined(__aarch64__)) && !defined(TN_TEST_NO_CLZ)))
#define TN_HAVE_CLZ 1 /* __builtin_clz is one instruction */
#else
#define TN_HAVE_CLZ 0
#endif

#if !TN_HAVE_CLZ && !TN_RV32_ZBB_INSN
/* 14 - floor(log2(i)) for 1 <= i < 256: the shift of i << 16 */
static TN_INLINE const uint8_t *tn_shift30_table(void) {
#define TN_R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
  static const uint8_t shift[256] = {
      0,  14, 13, 13, 12, 12, 12, 12, 11, 11, 11, 11, 11, 11, 11, 11, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
      TN_R16(9),  TN_R16(9),  TN_R16(8),  TN_R16(8),  TN_R16(8),  TN_R16(8),  TN_R16(7),  TN_R16(7),  TN_R16(7),  TN_R16(7),
      TN_R16(7),  TN_R16(7),  TN_R16(7),  TN_R16(7)};
#undef TN_R16
  return shift;
}
#endif

static TN_INLINE uint32_t tn_shift30(uint32_t m) {
#if TN_HAVE_CLZ
  return (uint32_t)__builtin_clz(m) - 1u;
#elif TN_RV32_ZBB_INSN
  return tn_clz_zbb(m) - 1u;
#else
  if (m >> 16) return tn_shift30_table()[m >> 16];
  if (m >> 8) return tn_shift30_table()[m >> 8] + 8u;
  return tn_shift30_table()[m] + 16u;
#endif
}

/* hi:lo, the product of two significands in [2^29, 2^31) (times 2^32), rounded to 24 bits: the
 * significand in [2^23, 2^24] (2^24 when rounding carries; the caller packs it with an add, so the
 * carry goes into the exponent); *e is decremented when hi had to be shifted up. Half up, then
 * back to even on an exact tie: lo is only needed then (lo's top bit, shifted out, lies below the
 * half bit like the rest of lo). */
static TN_INLINE uint32_t tn_round24(uint32_t hi, uint32_t lo, uint32_t *e) {
  uint32_t m;
  if (hi < 0x40000000u) {
    hi <<= 1;
    *e -= 1u;
  }
  hi += 0x40u; /* bit 6 is the half: its low 7 bits are now 0 if and only if they were exactly half */
  m = hi >> 7;
  if (TN_UNLIKELY((hi & 0x7fu) == 0u) && lo == 0u) m &= ~1u;
  return m;
}

/* The integer path of tn_scale_i32 on the bits of ws and sx: 1 and *y = the result's bits, or 0
 * when it does not apply. */
static TN_INLINE int tn_scale_fast(int32_t v, uint32_t wsb, uint32_t sxb, uint32_t *y) {
  uint32_t m, e, eb;
  uint64_t p;
  m = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
  e = (wsb >> 23) & 0xffu;
  eb = (sxb >> 23) & 0xffu;
  /* 0, |v| >= 2^24, ws or sx not normal (separate tests: the one on sx is the same for every
   * output, and single branches are cheaper than a combined condition) */
  if (TN_UNLIKELY(eb - 1u >= 254u)) return 0;
  if (TN_UNLIKELY(m - 1u >= 0xffffffu)) return 0;
  if (TN_UNLIKELY(e - 1u >= 254u)) return 0;
  {
    const uint32_t s = tn_shift30(m);
    /* v = (m << s) 2^-s with m << s in [2^30, 2^31); ws = ((ws's significand) << 8) 2^(e - 158):
     * the product's high word in [2^29, 2^31), 2^30 standing for biased exponent e + 31 - s. */
    p = (uint64_t)(m << s) * (uint64_t)((wsb << 8) | 0x80000000u);
    e = e + 31u - s;
    m = tn_round24((uint32_t)(p >> 32), (uint32_t)p, &e);
  }
  if (TN_UNLIKELY(e - 1u >= 253u)) return 0; /* subnormal or zero, or (at 254) maybe infinite */
  /* round(v ws) = (m << 7) 2^(e - 157), m << 7 in [2^30, 2^31]; sx = ((sx's significand) << 8)
   * 2^(eb - 158): 2^30 in the high word stands for e + eb - 126 */
  p = (uint64_t)(m << 7) * (uint64_t)((sxb << 8) | 0x80000000u);
  e = e + eb - 126u;
  m = tn_round24((uint32_t)(p >> 32), (uint32_t)p, &e);
  if (TN_UNLIKELY(e - 1u >= 253u)) return 0;
  *y = (((uint32_t)v ^ wsb ^ sxb) & 0x80000000u) | (((e - 1u) << 23) + m); /* m's 2^23 (or 2^24) adds 1 (2) to e - 1 */
  return 1;
}

static TN_INLINE float tn_scale_i32(int32_t v, float ws, float sx) {
#if TN_SOFT_FLOAT || defined(TN_TEST_SOFT_FLOAT)
  union {
    float f;
    uint32_t u;
  } a, b, r;
  a.f = ws;
  b.f = sx;
  if (tn_scale_fast(v, a.u, b.u, &r.u)) return r.f;
#endif
  return ((float)v * ws) * sx;
}

#if TN_SOFT_FLOAT && !TN_HAVE_CLZ && defined(__riscv) && __riscv_xlen == 32 && (defined(__GNUC__) || defined(__clang__))
#define TN_SCALE_RV32 1
#if TN_RV32_ZBB_INSN /* s = tn_shift30(m): CLZ - 1 */
#define TN_SHIFT30_RV32 TN_INSN_CLZ("t2", "t3") "addi t2, t2, -1\n\t"
#define TN_SHIFT30_RV32_CASES ""
#define TN_SHIFT30_TABLE 0
#else /* s = tn_shift30(m) by table: m's top nonzero byte (the common case: 2^8 <= m < 2^16 inline) */
#define TN_SHIFT30_RV32 "srli t2, t3, 8\n\tbeqz t2, 2f\n\tsrli t5, t3, 16\n\tbnez t5, 3f\n\tadd t2, %[tab], t2\n\tlbu t2, 0(t2)\n\taddi t2, t2, 8\n\t"
#define TN_SHIFT30_RV32_CASES                                                                                         \
  "2:\n\t" /* m < 2^8 */                                                                                              \
  "add t2, %[tab], t3\n\t"                                                                                             \
  "lbu t2, 0(t2)\n\t"                                                                                                  \
  "addi t2, t2, 16\n\t"                                                                                                \
  "j 4b\n\t"                                                                                                           \
  "3:\n\t" /* m >= 2^16 */                                                                                            \
  "add t2, %[tab], t5\n\t"                                                                                             \
  "lbu t2, 0(t2)\n\t"                                                                                                  \
  "j 4b\n\t"
#define TN_SHIFT30_TABLE tn_shift30_table()
#endif
/* tn_scale_fast's integer path over y[0 ..), y < yend (not empty), in RV32IM assembly: the same
 * steps in the same order (the C compiler spends about 12 instructions more per output on
 * constants it does not keep in registers and on merged tests). v and ws advance with y; returns
 * where it stopped: yend, or the first output the integer path does not take. */
static TN_INLINE float *tn_scale_run_rv32(const uint32_t **v, const float **ws, float *y, const float *yend, uint32_t sub,
                                          uint32_t sxb) {
  const uint32_t *pv = *v;
  const float *pw = *ws;
  const uint32_t sb = (sxb << 8) | 0x80000000u, eb = ((sxb >> 23) & 0xffu) - 126u;
  __asm__ volatile(
      "1:\n\t"
      "lw t0, 0(%[v])\n\t"
      "lw t1, 0(%[ws])\n\t"
      "sub t0, t0, %[sub]\n\t"     /* the sum */
      "srai t2, t0, 31\n\t"
      "xor t3, t0, t2\n\t"
      "sub t3, t3, t2\n\t"         /* m = |sum| */
      "addi t2, t3, -1\n\t"
      "bgeu t2, %[c24], 9f\n\t"    /* 0 or |sum| >= 2^24 */
      "slli t4, t1, 1\n\t"
      "srli t4, t4, 24\n\t"        /* e (ws) */
      "addi t2, t4, -1\n\t"
      "bgeu t2, %[c254], 9f\n\t"   /* ws not normal */
      TN_SHIFT30_RV32              /* s = tn_shift30(m) */
      "4:\n\t"
      "sll t3, t3, t2\n\t"         /* m << s in [2^30, 2^31) */
      "sub t4, t4, t2\n\t"
      "slli t5, t1, 8\n\t"
      "or t5, t5, %[hid]\n\t"      /* ws's significand << 8 */
      "mulhu t6, t3, t5\n\t"       /* hi in [2^29, 2^31) */
      "slli t2, t6, 1\n\t"
      "bltz t2, 5f\n\t"
      "mv t6, t2\n\t"              /* hi < 2^30: shift up (lo's top bit only counts as sticky) */
      "addi t4, t4, -1\n\t"
      "5:\n\t"
      "addi t6, t6, 64\n\t"        /* half up at bit 7 */
      "andi t2, t6, 127\n\t"
      "andi t6, t6, -128\n\t"      /* m << 7 */
      "beqz t2, 6f\n\t"            /* exactly half in hi: lo decides */
      "7:\n\t"
      "addi t4, t4, 30\n\t"        /* e - 1 of round(v ws) */
      "bgeu t4, %[c253], 9f\n\t"
      "mulhu t5, t6, %[sb]\n\t"    /* times sx's significand << 8 */
      "slli t2, t5, 1\n\t"
      "bltz t2, 8f\n\t"
      "mv t5, t2\n\t"
      "addi t4, t4, -1\n\t"
      "8:\n\t"
      "addi t5, t5, 64\n\t"
      "andi t2, t5, 127\n\t"
      "srli t5, t5, 7\n\t"         /* the significand in [2^23, 2^24] */
      "beqz t2, 10f\n\t"
      "11:\n\t"
      "add t4, t4, %[eb]\n\t"      /* e - 1 of the result */
      "bgeu t4, %[c253], 9f\n\t"
      "xor t0, t0, t1\n\t"
      "xor t0, t0, %[sxb]\n\t"
      "and t0, t0, %[hid]\n\t"     /* the sign */
      "slli t4, t4, 23\n\t"
      "add t4, t4, t5\n\t"         /* the significand's 2^23 (2^24) adds 1 (2) to e - 1 */
      "or t4, t4, t0\n\t"
      "sw t4, 0(%[y])\n\t"
      "addi %[v], %[v], 4\n\t"
      "addi %[ws], %[ws], 4\n\t"
      "addi %[y], %[y], 4\n\t"
      "bne %[y], %[end], 1b\n\t"
      "j 9f\n\t"
      TN_SHIFT30_RV32_CASES
      "6:\n\t"                     /* tie unless lo != 0: to even */
      "mul t2, t3, t5\n\t"
      "bnez t2, 7b\n\t"
      "andi t6, t6, -256\n\t"
      "j 7b\n\t"
      "10:\n\t"
      "mul t2, t6, %[sb]\n\t"
      "bnez t2, 11b\n\t"
      "andi t5, t5, -2\n\t"
      "j 11b\n\t"
      "9:\n\t"
      : [v] "+r"(pv), [ws] "+r"(pw), [y] "+r"(y)
      : [end] "r"(yend), [sub] "r"(sub), [sb] "r"(sb), [eb] "r"(eb), [sxb] "r"(sxb), [tab] "r"(TN_SHIFT30_TABLE),
        [c24] "r"(0xffffffu), [c254] "r"(254u), [c253] "r"(253u), [hid] "r"(0x80000000u)
      : "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
  *v = pv;
  *ws = pw;
  return y;
}
#else
#define TN_SCALE_RV32 0
#endif

/* a + b on the bits, rounded to nearest even, for the common operands (the larger normal, the other
 * normal or zero, a normal result): 1 and *y = the sum's bits, or 0 for the library. The larger
 * magnitude's significand and the other's, shifted right by the exponent difference with the
 * bits shifted out kept as one sticky bit, both with 6 bits below the 24 (enough for the rounding
 * after at most one shift up when the exponents differ by 2 or more; within 1, a difference is
 * exact and may cancel any number of bits). */
static TN_INLINE int tn_add_fast(uint32_t a, uint32_t b, uint32_t *y) {
  uint32_t ea, eb, d, ma, s, m, e;
  if ((a & 0x7fffffffu) < (b & 0x7fffffffu)) {
    s = a;
    a = b;
    b = s;
  }
  ea = (a >> 23) & 0xffu;
  eb = (b >> 23) & 0xffu;
  if (ea - 1u >= 254u) return 0; /* the larger is zero, subnormal, infinite or NaN */
  if (eb == 0u) {
    if ((b << 1) != 0u) return 0; /* subnormal */
    *y = a;                       /* a + 0 = a (a is not 0) */
    return 1;
  }
  d = ea - eb;
  if (d > 25u) { /* |b| < ulp(a) / 4: a */
    *y = a;
    return 1;
  }
  ma = ((a << 8) | 0x80000000u) >> 2; /* [2^29, 2^30): 24 bits, then 6 */
  s = ((b << 8) | 0x80000000u) >> 2;
  s = (s >> d) | (uint32_t)((s & ((1u << d) - 1u)) != 0u);
  e = ea;
  if (((a ^ b) & 0x80000000u) == 0u) { /* same signs */
    s = ma + s; /* [2^29, 2^31) */
    if (s >= 0x40000000u) {
      s = (s >> 1) | (s & 1u);
      e += 1u;
    }
  } else {
    s = ma - s; /* [0, 2^30) */
    if (s == 0u) {
      *y = 0u; /* x - x = +0 */
      return 1;
    }
    while (s < 0x20000000u) {
      s <<= 1;
      e -= 1u;
    }
  }
  m = (s + 0x1fu + ((s >> 6) & 1u)) >> 6; /* bit 5 is the half: [2^23, 2^24] */
  if (e - 1u >= 253u) return 0;           /* a subnormal result, or (at 254) maybe infinite */
  *y = (a & 0x80000000u) | (((e - 1u) << 23) + m);
  return 1;
}

/* y[i] = tn_scale_i32((int32_t)(v[i] - sub), ws[i], sx) (+ bias[i] unless bias is NULL) for i < n:
 * the epilogue of a run of outputs (v: the int32 sums, as uint32 when they carry a bias `sub`).
 * Without an FPU the loop of the integer path makes no call (a slow output leaves it for the
 * library and comes back), so compilers keep its values in registers; the bias is added in a
 * second pass, tn_add_fast or the library. */
static TN_INLINE void tn_scale_rows(const uint32_t *v, uint32_t sub, const float *ws, float sx, const float *bias, float *y,
                                    int32_t n) {
  int32_t i = 0;
#if TN_SOFT_FLOAT || defined(TN_TEST_SOFT_FLOAT)
  union {
    float f;
    uint32_t u;
  } b;
  b.f = sx;
  for (;;) {
#if TN_SCALE_RV32
    if (i < n && ((b.u >> 23) & 0xffu) - 1u < 254u) { /* sx normal */
      const uint32_t *vi = v + i;
      const float *wi = ws + i;
      i = (int32_t)(tn_scale_run_rv32(&vi, &wi, y + i, y + n, sub, b.u) - y);
    }
#else
    for (; i < n; ++i) {
      union {
        float f;
        uint32_t u;
      } a, r;
      a.f = ws[i];
      if (!tn_scale_fast((int32_t)(v[i] - sub), a.u, b.u, &r.u)) break;
      y[i] = r.f;
    }
#endif
    if (i == n) break;
    y[i] = ((float)(int32_t)(v[i] - sub) * ws[i]) * sx;
    ++i;
  }
  if (bias)
    for (i = 0; i < n; ++i) {
      union {
        float f;
        uint32_t u;
      } a, c, r;
      a.f = y[i];
      c.f = bias[i];
      y[i] = tn_add_fast(a.u, c.u, &r.u) ? r.f : a.f + c.f;
    }
#else
  if (bias)
    for (; i < n; ++i) y[i] = ((float)(int32_t)(v[i] - sub) * ws[i]) * sx + bias[i];
  else
    for (; i < n; ++i) y[i] = ((float)(int32_t)(v[i] - sub) * ws[i]) * sx;
#endif
}

/* ---- scalar math (ref/tn_math.c) ----------------------------------------------------------- */

/* Round to the nearest integer, ties to even; |v| >= 2^23, inf and NaN are returned as they are. */
float tn_rintf(float v);
/* 2^k * p for -150 <= k <= 128, with at most one rounding. */
float tn_ldexpf(float p, int32_t k);
/* e^x: two-part ln2 range reduction and a degree-7 polynomial; about 2 ulp, bit-exact with tritc. */
float tn_expf(float x);
/* clamp(rint(v), -127, 127); NaN -> 0. */
int8_t tn_quant_i8(float v);

/* The functions of the ONNX ops (docs/numerics.md, "Scalar helpers", gives each one's steps and
 * its measured error against the true function). */
float tn_divf(float a, float b);       /* a / b; correct also for subnormal quotients on soft float */
float tn_sqrtf(float x);               /* correctly rounded; negative -> NaN */
float tn_logf(float x);                /* natural log; 0 -> -inf, negative -> NaN */
float tn_maxf(float a, float b);       /* IEEE 754-2019 maximum: NaN propagates, max(-0, +0) = +0 */
float tn_minf(float a, float b);       /* IEEE 754-2019 minimum: NaN propagates, min(-0, +0) = -0 */
float tn_tanhf(float x);
float tn_sigmoidf(float x);            /* 1 / (1 + e^-x) */
float tn_erff(float x);
float tn_gelu_erff(float x);           /* 0.5 x (1 + erf(x / sqrt(2))) */
float tn_gelu_tanhf(float x);          /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
float tn_powf(float x, float y);       /* x^y with the special cases of C99 Annex F */

/* ---- activation (de)quantisation (ref/tn_quantize.c) -------------------------------------- */

/* Symmetric absmax int8 per row: rows x cols floats -> int8 codes and one scale per row
 * (scale = max(absmax, 1e-5) / 127). Per tensor is rows = 1, cols = all elements. */
void tn_quantize_i8(const float *x, int8_t *q, float *scale, int32_t rows, int32_t cols);
/* y = (float)q * scale[row]. */
void tn_dequantize_i8(const int8_t *q, const float *scale, float *y, int32_t rows, int32_t cols);

/* ---- static quantisation: QONNX Quant / BipolarQuant on activations (ref/tn_quantize_static.c) */

#define TN_PRE_ADD 0  /* t + c */
#define TN_PRE_SUB 1  /* t - c */
#define TN_PRE_RSUB 2 /* c - t */
#define TN_PRE_MUL 3  /* t * c */
#define TN_PRE_DIV 4  /* t / c */
#define TN_PRE_RDIV 5 /* c / t */
#define TN_ROUND_HALF_EVEN 0
#define TN_ROUND_CEIL 1
#define TN_ROUND_FLOOR 2
#define TN_ROUND_UP 3        /* away from zero */
#define TN_ROUND_DOWN 4      /* towards zero */
#define TN_ROUND_HALF_UP 5   /* ties away from zero */
#define TN_ROUND_HALF_DOWN 6 /* ties towards zero */
#define TN_ROUND_BIPOLAR 7   /* t >= 0 ? +1 : -1 */

/* y = round(clamp((x op c...) / scale + zero_point, qmin, qmax)) - zero_point as int8 codes, after the
 * n_pre fused scalar operations pre_ops[j] with operands pre_c[j] (either may be NULL when n_pre = 0). */
void tn_quantize_static(const float *x, int8_t *y, int32_t n, const float *pre_c, const uint8_t *pre_ops,
                        int32_t n_pre, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                        int32_t mode);

/* QONNX Trunc on activations (float32 -> float32, docs/numerics.md "TruncStatic"):
 * t = rint(x / scale + zeropt); t = t / trunc_scale; clamp to [qmin, qmax]; round with the mode;
 * y = (t - zeropt / trunc_scale) * out_scale, each float operation rounded once. */
void tn_trunc_static(const float *x, float *y, int32_t n, float scale, float zeropt, float trunc_scale,
                     float out_scale, int32_t qmin, int32_t qmax, int32_t mode);

/* ---- low-bit linear layers (ref/tn_ternary_linear.c, ref/tn_binary_linear.c) -------------- */

#define TN_PER_TENSOR 0
#define TN_PER_ROW 1
#define TN_PER_GROUP 2

/* Weights of a low-bit linear layer: `planes` planes of n rows of k codes, row-major.
 * Ternary rows are (k + 3) / 4 bytes, 2 bits per code, first code in the low bits:
 *   00 -> 0, 01 -> +1, 10 -> -1.
 * Binary rows are (k + 7) / 8 bytes, 1 bit per code, first code in the low bit: 1 -> +1, 0 -> -1.
 * (Those are the formats t2 and b1; the other formats, below, lay rows out differently.)
 * Scales: planes (per tensor), planes * n (per row) or planes * n * ceil(k / group) (per group).
 * The last three fields are for the kernels that need them and are 0 otherwise. */
typedef struct tn_lowbit_weights {
  const uint8_t *codes;
  const float *scale;
  int32_t planes;
  int32_t n;
  int32_t k;
  int32_t granularity; /* TN_PER_TENSOR, TN_PER_ROW or TN_PER_GROUP */
  int32_t group;       /* codes per scale along k; k unless per group */
  int32_t window;      /* t5w, t6w: LUT groups per table window (the offsets in the codes depend on it) */
  void *scratch;       /* LUT kernels: tables (and per-row sums); 16-byte aligned, scratch_bytes long */
  int32_t scratch_bytes;
} tn_lowbit_weights;

/* y[t, n] = (sum over planes p, groups g of (float)acc[p,g] * ws[p,n,g]) * x_scale[t or 0] + bias[n]
 * with acc[p,g] = sum_{k in g} W[p,n,k] * x[t,k] exact. x: rows x k int8; y: rows x n float.
 * flush = 0: int32 accumulation (the compiler proved |acc| < 2^31); flush > 0: int32 partial sums
 * of at most `flush` codes are added into an int64 accumulator. bias may be NULL. */
void tn_ternary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                       const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* The shared driver of both (ref/tn_lowbit_linear.c): `dot` returns the exact sum of codes k0..k1-1
 * of one row times x, for one code format; row_bytes is the byte length of a row of codes. */
typedef int32_t (*tn_lowbit_dot_fn)(const int8_t *x, const uint8_t *codes, int32_t k0, int32_t k1);
void tn_lowbit_linear(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                      const tn_lowbit_weights *w, int32_t row_bytes, tn_lowbit_dot_fn dot,
                      const float *bias, int32_t flush, float *y);

/* ---- packed weight formats -------------------------------------------------------------- */
/*
 * Every format has a block-size constant TN_QK_<FMT> (codes per unit of storage) and a packer in
 * compiler/emit/pack.ts; the reference decoder of every format is tn_lowbit_code() in
 * ref/tn_lowbit_codes.c. Mapping comments give code -> weight. "u" is the offset code u = w + 1:
 * -1, 0, +1 -> 0, 1, 2. docs/kernels.md has the pictures.
 *
 * t2   TN_QK_T2 = 4 codes per byte, 2 bits each, first code in the low bits: 00 -> 0, 01 -> +1,
 *      10 -> -1. Rows padded to whole bytes (with 00).
 * t2b  TN_QK_T2B = 128 codes per 32-byte block, offset codes u (2 bits): byte m (0..31) of a block
 *      holds codes m, m+32, m+64, m+96 in bits [1:0], [3:2], [5:4], [7:6], so one 16- or 32-byte
 *      load and a shift give runs of contiguous codes. Rows padded to whole blocks with u = 1 (0),
 *      and interleaved in groups of 4 rows of a plane: block b of row 4 i + q of plane p is at
 *      (((p * ceil(n / 4) + i) * blocks + b) * 4 + q) * 32 (the last group padded with rows of
 *      u = 1), so the 4 rows a kernel works on are one stream (tn_t2b_row).
 * t5   TN_QK_T5 = 5 codes per byte (1.6 bits per weight): the byte is the LUT index of the 5 codes,
 *      (a >= 14 ? 126 : 0) + 14 b + a % 14 with a = u0 + 3 u1 + 9 u2 (0..26) and b = u3 + 3 u4
 *      (0..8). Codes are packed per scale group: each group of G codes (K for per tensor/row) takes
 *      ceil(G / 5) bytes, padded with u = 1; a row is its groups one after another.
 * t5w  TN_QK_T5W = 5 codes per 16-bit little-endian entry, in half tables (TN_LUT5W_ENTRIES):
 *      codes whose index i = a + 27 b is past the centre (i > 121, all codes 0) are stored as their
 *      mirror (u -> 2 - u, the negated weights: a -> 26 - a, b -> 8 - b) and their lookups subtract.
 *      Entry index = a < 14 ? 14 b + a : 70 + 14 b + (a - 14) (half 0: rows b = 0..4, half 1: rows
 *      b = 0..3). A row is its scale groups one after another (ceil(G / 5) units each, padded with
 *      u = 1); each group is split into windows of up to w->window units, and each window is a
 *      16-bit header, the number of added lookups, then its units as byte offsets
 *      2 * (j * TN_LUT5W_ENTRIES + index) (j: the unit's table in the window), the added ones first,
 *      then the subtracted ones, each in unit order. 3.2 bits per weight plus 16 per window: the
 *      MCU speed format.
 * t6w  TN_QK_T6W = 6 codes per 16-bit entry, the same with b = u3 + 3 u4 + 9 u5 (0..26), centre
 *      i = 364, mirror b -> 26 - b, index = a < 14 ? 14 b + a : 196 + 14 b + (a - 14) (half 0: rows
 *      0..13, half 1: rows 0..12), TN_LUT6W_ENTRIES per table. 2.67 bits per weight.
 * tbp  TN_QK_TBP = 32 codes per pair of 32-bit words (bit-planes, 2 bits per weight): a nonzero
 *      mask (bit j: code 32 i + j is not 0), then a sign mask (bit j: that code is -1; only where
 *      the nonzero bit is set). Rows padded with 0 codes to whole pairs. The compiler emits the
 *      words as a uint32_t array, so they are aligned and in the target's byte order. Kernels that
 *      visit only the set bits of the nonzero mask cost in proportion to the nonzero codes: the
 *      format for sparse ternary layers (sparse deltas, pruned weights).
 * b1   TN_QK_B1 = 8 codes per byte, first code in the low bit: 1 -> +1, 0 -> -1 (binary).
 *
 * The LUT tables (t5, t5w, t6w, b1 with a _lut kernel) hold, for one group of activations, the sum
 * for every combination of codes as a biased halfword 0x8000 + sum (|sum| <= 8 * 128), so that two
 * entries can be built with one 32-bit add. Ternary tables are two halves of R rows (R = 9 for t5;
 * t5w: 5 and 4, t6w: 14 and 13) of 14 entries (7 words): row b of half h holds a = 14 h .. 14 h + 13;
 * a = 27 is unused padding. A subtracted t5w/t6w lookup adds 0x10000 - (0x8000 + s) = 0x8000 - s.
 * Binary tables are 16 rows of 16 entries, index = the code byte.
 */
#define TN_QK_T2 4
#define TN_QK_T2B 128
#define TN_QK_T5 5
#define TN_QK_T5W 5
#define TN_QK_T6W 6
#define TN_QK_B1 8
#define TN_QK_TBP 32
#define TN_LUT5_ENTRIES 252 /* 28 * 9 */
#define TN_LUT5W_ENTRIES 126 /* 14 * (5 + 4) */
#define TN_LUT6W_ENTRIES 378 /* 14 * (14 + 13) */
#define TN_TW_MAX_WINDOW 96  /* t5w, t6w: the most units per window (the unrolled Thumb-2 and RV32 lookups) */
#define TN_LUT8_ENTRIES 256
#define TN_LUT_BIAS 0x8000u

#define TN_FMT_T2 0
#define TN_FMT_T2B 1
#define TN_FMT_T5 2
#define TN_FMT_T5W 3
#define TN_FMT_T6W 4
#define TN_FMT_B1 5
#define TN_FMT_TBP 6

/* The weight (-1, 0 or +1) of code k of one row (ref/tn_lowbit_codes.c): the reference decoder. */
int32_t tn_lowbit_code(int32_t format, const tn_lowbit_weights *w, const uint8_t *row, int32_t k);
/* Bytes of one row of codes in `format` (t2b: of a group of 4 rows). */
int32_t tn_lowbit_row_bytes(int32_t format, const tn_lowbit_weights *w);
/* t2b: the first byte of row n of plane p; its block b is 128 b bytes further, the next row of its
 * group 32 bytes further. */
const uint8_t *tn_t2b_row(const tn_lowbit_weights *w, int32_t p, int32_t n);

/* ---- low-bit linear kernels --------------------------------------------------------------- */
/*
 * Every kernel below has the signature of tn_ternary_linear and computes exactly the same floats
 * (docs/numerics.md); they differ in the code format they read and in how they sum. `flush` is the
 * compiler's bound (0: int32 sums; > 0: groups are summed in int32 chunks of at most `flush` codes).
 *
 *   ref/      tn_ternary_linear_<fmt>            plain decode, one code at a time (the reference)
 *   opt/generic/ tn_..._<fmt>_lut                 LUT over groups of activations, portable C
 *   opt/generic/ tn_ternary_linear_tbp_sparse    bit-planes, visiting the nonzero codes only
 *   opt/x86/     tn_ternary_linear_t2b_avx2       AVX2 (runtime check; portable fallback)
 *   opt/arm/     tn_ternary_linear_t2b_neon       NEON, with SDOT when built with dotprod
 *   opt/riscv/   tn_ternary_linear_t2b_rvv        RISC-V vectors (RVV 1.0), when built with TN_RVV
 *   opt/armv7m/  tn_..._lut_armv7m                Cortex-M3/M4/M7/M33 (Thumb-2) LUT inner loops
 *   opt/rv32/    tn_..._lut_rv32                  32-bit RISC-V LUT inner loops
 */
void tn_ternary_linear_t5_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                     const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                      const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                   const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_b1_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                  const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_b1_lut_armv7m(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t2b(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
/* Binary codes are ternary codes without 0: the t2b kernels take binary layers too, under these names. */
void tn_binary_linear_t2b(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                          const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_t2b_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_t2b_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_t2b_rvv(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                              const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                          const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_tbp(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                           const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_tbp_sparse(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                  const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

void tn_ternary_linear_t5_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                              const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t5w_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t6w_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_binary_linear_b1_lut(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                             const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

void tn_ternary_linear_t2b_avx2(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t2b_neon(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
void tn_ternary_linear_t2b_rvv(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);

/* ---- the shared parts of the streaming kernels (opt/generic/tn_lowbit_rows.c) -------------- */

/* A row-block kernel: dot() computes the exact sums of codes [k0, k1) of `nrows` consecutive rows
 * (plane p, rows n0..) times `ntok` token rows of x (stride k), acc[t * nrows + r]; k1 - k0 is at
 * most the compiler's flush bound. prep() (may be NULL) runs once per block of tokens first. */
typedef struct tn_rows_kernel {
  int32_t rows;   /* rows per dot() call, at most 8 */
  int32_t tokens; /* tokens per dot() call, at most 4 */
  void (*prep)(const tn_lowbit_weights *w, const int8_t *x, int32_t ntok);
  void (*dot)(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
              int32_t k1, int32_t *acc);
} tn_rows_kernel;
/* Tokens in blocks, rows in blocks, planes, scale groups, flush chunks (int64 when flush > 0) and
 * the float epilogue in the contract's order. */
void tn_lowbit_rows(const tn_rows_kernel *kern, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
/* ws[p, n, g] as docs/numerics.md indexes it. */
float tn_lowbit_weight_scale(const tn_lowbit_weights *w, int32_t p, int32_t n, int32_t g, int32_t groups);
/* t2b (offset codes: sum u x = sum w x + sum x): prefix sums of x per 128-block in w->scratch
 * (tn_t2b_prefix_len ints per token), the sum of x over a range, and the portable dot. */
int32_t tn_t2b_prefix_len(const tn_lowbit_weights *w);
void tn_t2b_prep(const tn_lowbit_weights *w, const int8_t *x, int32_t ntok);
int32_t tn_t2b_xsum(const tn_lowbit_weights *w, const int8_t *x, int32_t t, int32_t k0, int32_t k1);
void tn_t2b_dot_c(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
                  int32_t k1, int32_t *acc);

/* ---- the LUT driver (opt/generic/tn_lut.c), shared by the LUT kernels of every ISA --------- */

typedef struct tn_lut_ops {
  int32_t g;       /* activations (codes) per table: 5, 6 or 8 */
  int32_t entries; /* halfwords per table */
  int32_t wide;    /* 1: 16-bit pre-scaled byte offsets (t5w, t6w); 0: byte indices (t5, b1) */
  int32_t padded;  /* 1: codes packed per scale group (t5, t5w, t6w); 0: one bit stream per row (b1) */
  /* The table of x[0 .. len-1] (len may exceed g; missing activations count as 0). */
  void (*build)(const int8_t *x, int32_t len, uint32_t *table);
  /* acc[r] += the sum (mod 2^32) of row r's `count` lookups in a window of tables, r < nrows; row r's
   * codes start at rows0 + r * row_bytes. wide: the window's header (lookups that add), then the
   * offsets, table + offset; else table[j * entries + index]. Every lookup adds 0x8000 + its sum.
   * first != 0: acc[r] = the sum, acc is not read (the first window of a scale group: no zeroing
   * pass, no load per row). */
  void (*rows)(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
               int32_t entries, uint32_t *acc, int32_t first);
} tn_lut_ops;

/* A short last group (len < g activations) zero-padded into v, for the assembly builds that take
 * whole groups only. */
static inline void tn_lut_pad_group(const int8_t *x, int32_t len, int32_t g, int8_t v[8]) {
  int32_t i;
  for (i = 0; i < 8; ++i) v[i] = i < len && i < g ? x[i] : 0;
}

/* Scratch of the LUT kernels: window tables of `entries` halfwords, then n uint32 accumulators,
 * then (when flush > 0 and a scale group spans windows) n int64 accumulators. */
void tn_lut_linear(const tn_lut_ops *ops, const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                   const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y);
/* The portable pieces. tn_lut_a27: the 28 biased sums of 3 activations (a = u0 + 3 u1 + 9 u2, pad),
 * plus `base`, as 14 halfword pairs. */
void tn_lut_a27(int32_t x0, int32_t x1, int32_t x2, int32_t base, uint32_t *a);
void tn_lut5_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut5w_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut6w_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut8_build(const int8_t *x, int32_t len, uint32_t *table);
void tn_lut_rows16(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                   int32_t entries, uint32_t *acc, int32_t first);
void tn_lut_rows8(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                  int32_t entries, uint32_t *acc, int32_t first);

/* ---- dense baselines (ref/tn_dense.c; opt/armv7m/tn_dense_i8_m4.c) ------------------------ */
/* The int8 and float32 points of comparison of the benchmark (bench/), from the same code base.
 * int8: W [n][k] int8, per-row scale: y[t, n] = ((float)sum_k W[n,k] x[t,k] * ws[n]) * x_scale[t] + bias[n].
 * float32: W in panels of 8 outputs, [n / 8][k][8] (so that the sums, in k order, vectorise across
 * outputs and each panel is one stream):
 * y[t, n] = sum_k W[n,k] x[t,k] (one rounding per step, in k order) + bias[n]. bias may be NULL. */
void tn_dense_i8_naive(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n,
                       int32_t k, const float *bias, float *y);
/* Four rows per pass sharing each activation load. */
void tn_dense_i8(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                 const float *bias, float *y);
/* Cortex-M4 DSP: SMLAD on sign-extended pairs, `r` = 2 or 4 rows per pass; xbuf: 2 * k int16 of scratch. */
void tn_dense_i8_m4(const int8_t *x, const float *x_scale, int32_t rows, const int8_t *w, const float *w_scale, int32_t n, int32_t k,
                    const float *bias, float *y, int16_t *xbuf, int32_t r);
void tn_dense_f32(const float *x, int32_t rows, const float *wt, int32_t n, int32_t k, const float *bias, float *y);

/* ---- low-bit 2-D convolution (ref/tn_lowbit_conv.c) ---------------------------------------- */

/* Shapes of a convolution: x [n, c, h, w] -> y [n, m, oh, ow], weights [m, c / group, kh, kw]. */
typedef struct tn_conv2d_geometry {
  int32_t n, c, h, w;
  int32_t m, kh, kw, group;
  int32_t oh, ow;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;
  int32_t dilation_h, dilation_w;
} tn_conv2d_geometry;

/* y[n, m, oh, ow] = ((float)acc * w_scale[m or 0]) * x_scale + bias[m], acc the exact sum over the
 * window of codes times x (zero padding). codes: one row per m over (c, kh, kw), padded to bytes,
 * ternary 2-bit or binary 1-bit as for the linear layers. bias may be NULL. */
void tn_ternary_conv2d(const int8_t *x, float x_scale, const tn_conv2d_geometry *g, const uint8_t *codes,
                       const float *w_scale, int32_t per_channel, const float *bias, float *y);
void tn_binary_conv2d(const int8_t *x, float x_scale, const tn_conv2d_geometry *g, const uint8_t *codes,
                      const float *w_scale, int32_t per_channel, const float *bias, float *y);

/* ---- elementwise (ref/tn_elementwise.c) --------------------------------------------------- */

void tn_relu_f32(const float *x, float *y, int32_t n);
void tn_relu_i8(const int8_t *x, int8_t *y, int32_t n);
void tn_add_f32(const float *a, const float *b, float *y, int32_t n);
/* Copies n bytes (for outputs that are inputs or constants). */
void tn_copy_bytes(void *dst, const void *src, int32_t n);
/* y = a + b with broadcasting: shape is y's shape, a_strides/b_strides are element strides
 * (0 along broadcast axes). rank <= 8. */
void tn_add_f32_bcast(const float *a, const float *b, float *y, int32_t rank, const int32_t *shape,
                      const int32_t *a_strides, const int32_t *b_strides);

/* ---- ONNX elementwise ops (ref/tn_arith.c, ref/tn_unary.c) --------------------------------- */

/* dtype codes for kernels that take any type (Cast) */
#define TN_DT_F32 0
#define TN_DT_I8 1
#define TN_DT_U8 2
#define TN_DT_I32 3
#define TN_DT_I64 4
#define TN_DT_BOOL 5

/* Broadcasting binary kernels: y = a op b over y's shape (rank <= 8); a_strides/b_strides are element
 * strides of the inputs over that shape, 0 along broadcast axes. Integers wrap around; integer
 * division truncates toward zero, x / 0 = 0 and INT_MIN / -1 = INT_MIN. */
#define TN_DECLARE_BINARY(NAME, TA, TB, TY)                                                        \
  void NAME(const TA *a, const TB *b, TY *y, int32_t rank, const int32_t *shape,                   \
            const int32_t *a_strides, const int32_t *b_strides);
TN_DECLARE_BINARY(tn_sub_f32, float, float, float)
TN_DECLARE_BINARY(tn_mul_f32, float, float, float)
TN_DECLARE_BINARY(tn_div_f32, float, float, float)
TN_DECLARE_BINARY(tn_add_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_sub_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_mul_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_div_i8, int8_t, int8_t, int8_t)
TN_DECLARE_BINARY(tn_add_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_sub_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_mul_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_div_u8, uint8_t, uint8_t, uint8_t)
TN_DECLARE_BINARY(tn_add_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_sub_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_mul_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_div_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_add_i64, int64_t, int64_t, int64_t)
TN_DECLARE_BINARY(tn_sub_i64, int64_t, int64_t, int64_t)
TN_DECLARE_BINARY(tn_mul_i64, int64_t, int64_t, int64_t)
TN_DECLARE_BINARY(tn_div_i64, int64_t, int64_t, int64_t)
/* Pow: float base with a float or integer exponent (converted to float); integer base with an
 * integer exponent (exact, wrapping; a negative exponent gives 1, +-1 or 0) or a float exponent
 * (the integer power if it is integral, else tn_powf converted back as Cast does). */
TN_DECLARE_BINARY(tn_pow_f32_f32, float, float, float)
TN_DECLARE_BINARY(tn_pow_f32_i8, float, int8_t, float)
TN_DECLARE_BINARY(tn_pow_f32_u8, float, uint8_t, float)
TN_DECLARE_BINARY(tn_pow_f32_i32, float, int32_t, float)
TN_DECLARE_BINARY(tn_pow_f32_i64, float, int64_t, float)
TN_DECLARE_BINARY(tn_pow_i32_f32, int32_t, float, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_i8, int32_t, int8_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_u8, int32_t, uint8_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_i32, int32_t, int32_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i32_i64, int32_t, int64_t, int32_t)
TN_DECLARE_BINARY(tn_pow_i64_f32, int64_t, float, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_i8, int64_t, int8_t, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_u8, int64_t, uint8_t, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_i32, int64_t, int32_t, int64_t)
TN_DECLARE_BINARY(tn_pow_i64_i64, int64_t, int64_t, int64_t)

/* Max, Min: float32 as IEEE 754-2019 maximum/minimum (NaN propagates, -0 < +0); integers plain. */
#define TN_DECLARE_MINMAX(SUF, T) TN_DECLARE_BINARY(tn_max_##SUF, T, T, T) TN_DECLARE_BINARY(tn_min_##SUF, T, T, T)
TN_DECLARE_MINMAX(f32, float)
TN_DECLARE_MINMAX(i8, int8_t)
TN_DECLARE_MINMAX(u8, uint8_t)
TN_DECLARE_MINMAX(i32, int32_t)
TN_DECLARE_MINMAX(i64, int64_t)
/* Comparisons: y = a op b as a 0/1 byte (IEEE: false if either is NaN); bool inputs use the u8 kernels. */
#define TN_DECLARE_COMPARE(SUF, T)                                                                 \
  TN_DECLARE_BINARY(tn_less_##SUF, T, T, uint8_t) TN_DECLARE_BINARY(tn_greater_##SUF, T, T, uint8_t) \
  TN_DECLARE_BINARY(tn_equal_##SUF, T, T, uint8_t) TN_DECLARE_BINARY(tn_less_or_equal_##SUF, T, T, uint8_t) \
  TN_DECLARE_BINARY(tn_greater_or_equal_##SUF, T, T, uint8_t)
TN_DECLARE_COMPARE(f32, float)
TN_DECLARE_COMPARE(i8, int8_t)
TN_DECLARE_COMPARE(u8, uint8_t)
TN_DECLARE_COMPARE(i32, int32_t)
TN_DECLARE_COMPARE(i64, int64_t)

void tn_relu_i32(const int32_t *x, int32_t *y, int32_t n);
void tn_relu_i64(const int64_t *x, int64_t *y, int32_t n);

/* y = x; if (y < *lo) y = *lo; if (y > *hi) y = *hi (NaN passes; lo/hi NULL: no bound). */
void tn_clip_f32(const float *x, const float *lo, const float *hi, float *y, int32_t n);
void tn_clip_i8(const int8_t *x, const int8_t *lo, const int8_t *hi, int8_t *y, int32_t n);
void tn_clip_u8(const uint8_t *x, const uint8_t *lo, const uint8_t *hi, uint8_t *y, int32_t n);
void tn_clip_i32(const int32_t *x, const int32_t *lo, const int32_t *hi, int32_t *y, int32_t n);
void tn_clip_i64(const int64_t *x, const int64_t *lo, const int64_t *hi, int64_t *y, int32_t n);

/* out = cond ? x : y elementwise, elements of elem_bytes bytes, three-way broadcasting. */
void tn_where(const uint8_t *cond, const void *x, const void *y, void *out, int32_t elem_bytes, int32_t rank,
              const int32_t *shape, const int32_t *c_strides, const int32_t *x_strides, const int32_t *y_strides);

/* Cast n elements between TN_DT_* types: float -> int truncates and saturates (NaN -> 0),
 * int -> int wraps, int -> float rounds to nearest even, anything -> bool is (v != 0). */
void tn_cast(const void *x, int32_t from, void *y, int32_t to, int32_t n);
int32_t tn_f32_to_i32(float v);
int64_t tn_f32_to_i64(float v);

/* Unary float32 kernels: y[i] = f(x[i]) with the tn_math.c function of the same name. */
void tn_sqrt_f32(const float *x, float *y, int32_t n);
void tn_log_f32(const float *x, float *y, int32_t n);
void tn_exp_f32(const float *x, float *y, int32_t n);
void tn_erf_f32(const float *x, float *y, int32_t n);
void tn_sigmoid_f32(const float *x, float *y, int32_t n);
void tn_tanh_f32(const float *x, float *y, int32_t n);
void tn_gelu_erf_f32(const float *x, float *y, int32_t n);
void tn_gelu_tanh_f32(const float *x, float *y, int32_t n);

/* ---- shape ops (ref/tn_shape.c): bytes moved elem_bytes at a time, any dtype ------------------ */

/* y[i] = x[offset + sum_d idx_d * strides[d]] for every index idx of `shape` in row-major order
 * (Transpose: permuted strides; Slice and Split: strides times steps, offset at the starts). */
void tn_strided_copy(const void *x, void *y, int32_t elem_bytes, int32_t rank, const int32_t *shape,
                     const int32_t *strides, int32_t offset);
/* Concat: for o < outer, copy x's chunk elements of row o to y at o * y_row + y_offset. */
void tn_concat_part(const void *x, void *y, int32_t elem_bytes, int32_t outer, int32_t chunk, int32_t y_row,
                    int32_t y_offset);
/* Gather along the middle axis of outer x dim x inner: y[o, j, :] = data[o, indices[j], :];
 * negative indices count from the end; an index out of range gives zeros. */
void tn_gather(const void *data, const void *indices, int32_t indices_are_i64, void *y, int32_t elem_bytes,
               int32_t outer, int32_t dim, int32_t inner, int32_t n_indices);

/* ---- MatMul and Gemm (ref/tn_matmul.c): dot products summed in index order from 0 ------------- */

/* y[batch, M, N] = a[batch, M, K] @ b[batch, K, N]; batch_shape is y's batch shape (rank <= 8) and
 * a_batch_strides/b_batch_strides count whole matrices (0 along broadcast axes). */
void tn_matmul_f32(const float *a, const float *b, float *y, int32_t batch_rank, const int32_t *batch_shape,
                   const int32_t *a_batch_strides, const int32_t *b_batch_strides, int32_t m_count, int32_t k_count,
                   int32_t n_count);
/* y = alpha * (A' B') + beta * C; C (may be NULL) is read at m * c_rs + n * c_cs (0 strides broadcast). */
void tn_gemm_f32(const float *a, const float *b, const float *c, float *y, int32_t m_count, int32_t n_count,
                 int32_t k_count, int32_t trans_a, int32_t trans_b, float alpha, float beta, int32_t c_rs, int32_t c_cs);

/* ---- reductions and normalisations (ref/tn_norm.c) ------------------------------------------ */

/* For each index of keep_shape (row-major): y = (sum over red_shape of x, in row-major order) / red_count. */
void tn_reduce_mean_f32(const float *x, float *y, int32_t keep_rank, const int32_t *keep_shape, const int32_t *keep_strides,
                        int32_t red_rank, const int32_t *red_shape, const int32_t *red_strides, int32_t red_count);
/* The same loops for ReduceSum (sum in order from 0; integers wrap), ReduceMax and ReduceMin (from the
 * first element; float32: NaN propagates, -0 < +0); red_count is unused. */
#define TN_DECLARE_REDUCE(NAME, T)                                                                                    \
  void NAME(const T *x, T *y, int32_t keep_rank, const int32_t *keep_shape, const int32_t *keep_strides, int32_t red_rank, \
            const int32_t *red_shape, const int32_t *red_strides, int32_t red_count);
#define TN_DECLARE_REDUCE3(SUF, T) \
  TN_DECLARE_REDUCE(tn_reduce_sum_##SUF, T) TN_DECLARE_REDUCE(tn_reduce_max_##SUF, T) TN_DECLARE_REDUCE(tn_reduce_min_##SUF, T)
TN_DECLARE_REDUCE3(f32, float)
TN_DECLARE_REDUCE3(i8, int8_t)
TN_DECLARE_REDUCE3(u8, uint8_t)
TN_DECLARE_REDUCE3(i32, int32_t)
TN_DECLARE_REDUCE3(i64, int64_t)
/* LayerNormalization of rows x cols (cols = the normalised axes). scale/bias are read through strides
 * over norm_shape (0 along broadcast axes); bias, mean_out and inv_out may be NULL. */
void tn_layer_norm_f32(const float *x, const float *scale, const float *bias, float *y, float *mean_out, float *inv_out,
                       int32_t rows, int32_t cols, int32_t norm_rank, const int32_t *norm_shape, const int32_t *scale_strides,
                       const int32_t *bias_strides, float epsilon);
/* BatchNormalization, inference: y = ((x - mean[c]) / sqrt(var[c] + eps)) * scale[c] + bias[c]. */
void tn_batch_norm_f32(const float *x, const float *scale, const float *bias, const float *mean, const float *var, float *y,
                       int32_t batches, int32_t channels, int32_t inner, float epsilon);
/* LogSoftmax along the middle axis of outer x dim x inner: y = (x - max) - log(sum exp(x - max)). */
void tn_log_softmax_f32(const float *x, float *y, int32_t outer, int32_t dim, int32_t inner);

/* ArgMax/ArgMin with ONNX's options, any input dtype (TN_DT_*): the first extreme, or the last one with
 * select_last; NaN never wins; y is int32 or int64. */
void tn_argmax_any(const void *x, int32_t dtype, void *y, int32_t y_is_i64, int32_t select_last, int32_t outer,
                   int32_t dim, int32_t inner);

/* ---- convolution and pooling (ref/tn_conv.c) --------------------------------------------------- */

/* geo: 21 int32 (input, output, kernel, strides, dilations, pads begin, pads end; each depth, height,
 * width; 1-D and 2-D use 1 for the missing axes). See tn_conv.c. */
/* y[n, m] = sum over the group's channels and the window of x * w, then + bias[m] (bias may be NULL). */
void tn_conv_f32(const float *x, const float *w, const float *bias, float *y, int32_t batches, int32_t in_channels,
                 int32_t out_channels, int32_t group, const int32_t *geo);
/* The same for a depthwise Conv (group = C = M), one output plane at a time through `scratch` (one
 * output plane of floats), so that y may start where x does (in place) when the output plane is no
 * larger than the input plane. */
void tn_conv_f32_depthwise(const float *x, const float *w, const float *bias, float *y, int32_t batches, int32_t channels,
                           const int32_t *geo, float *scratch);
/* planes = batches * channels; the maximum of the window's in-bounds elements (NaN never wins). */
void tn_max_pool_f32(const float *x, float *y, int32_t planes, const int32_t *geo);
void tn_max_pool_i8(const int8_t *x, int8_t *y, int32_t planes, const int32_t *geo);
void tn_max_pool_u8(const uint8_t *x, uint8_t *y, int32_t planes, const int32_t *geo);
/* The same, with ONNX's Indices (ind may be NULL: the plain MaxPool above calls this): the int64 flat index (over planes x spatial) of the maximum (the first
 * of equal ones; the first in-bounds element if none beats the lowest value); storage_order 1 orders
 * the spatial axes column-major. */
void tn_max_pool_idx_f32(const float *x, float *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order);
void tn_max_pool_idx_i8(const int8_t *x, int8_t *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order);
void tn_max_pool_idx_u8(const uint8_t *x, uint8_t *y, int64_t *ind, int32_t planes, const int32_t *geo, int32_t storage_order);
/* The window's in-bounds sum divided by the in-bounds count (or, with count_include_pad, the count
 * within the padded extent). */
void tn_avg_pool_f32(const float *x, float *y, int32_t planes, const int32_t *geo, int32_t count_include_pad);

/* ---- ONNX linear quantisation (ref/tn_qlinear.c) ------------------------------------------------ */

/* Scales and zero points per channel c of an outer x dim x inner view (dim = 1: per tensor).
 * Quantised dtypes: TN_DT_I8 or TN_DT_U8 (DequantizeLinear also TN_DT_I32). zp may be NULL (0). */
void tn_quantize_linear(const float *x, const float *scale, const void *zp, void *y, int32_t y_dtype, int32_t outer,
                        int32_t dim, int32_t inner);
void tn_dequantize_linear(const void *x, int32_t x_dtype, const float *scale, const void *zp, float *y, int32_t outer,
                          int32_t dim, int32_t inner);
/* Blocked quantisation: the same, with one scale (and zero point) per block of `block` elements along
 * the axis; parameters are an outer x ceil(dim / block) x inner array. */
void tn_quantize_blocked(const float *x, const float *scale, const void *zp, void *y, int32_t y_dtype, int32_t outer,
                         int32_t dim, int32_t inner, int32_t block);
void tn_dequantize_blocked(const void *x, int32_t x_dtype, const float *scale, const void *zp, float *y, int32_t outer,
                           int32_t dim, int32_t inner, int32_t block);
/* y (int32) = sum_k (a - a_zp) * (b - b_zp), batch broadcasting as tn_matmul_f32; zero points: 1, M
 * (per row of a) or N (per column of b) values, or NULL. */
void tn_matmul_integer(const void *a, int32_t a_dtype, const void *b, int32_t b_dtype, const void *a_zp, int32_t a_zp_count,
                       const void *b_zp, int32_t b_zp_count, int32_t *y, int32_t batch_rank, const int32_t *batch_shape,
                       const int32_t *a_batch_strides, const int32_t *b_batch_strides, int32_t m_count, int32_t k_count,
                       int32_t n_count);
/* The integer product requantised: saturate(rint(acc * ((a_scale * b_scale) / y_scale)) + y_zp). */
void tn_qlinear_matmul(const void *a, const float *a_scale, int32_t a_scale_count, const void *a_zp, int32_t a_dtype,
                       const void *b, const float *b_scale, int32_t b_scale_count, const void *b_zp, int32_t b_dtype,
                       const float *y_scale, const void *y_zp, void *y, int32_t y_dtype, int32_t batch_rank,
                       const int32_t *batch_shape, const int32_t *a_batch_strides, const int32_t *b_batch_strides,
                       int32_t m_count, int32_t k_count, int32_t n_count);
/* ConvInteger (y_scale NULL: int32 sums) and QLinearConv (requantised, with an int32 bias); geo as tn_conv_f32. */
void tn_qconv(const void *x, int32_t x_dtype, const void *x_zp, const float *x_scale, const void *w, int32_t w_dtype,
              const void *w_zp, int32_t w_zp_count, const float *w_scale, int32_t w_scale_count, const int32_t *bias,
              const float *y_scale,
              const void *y_zp, void *y, int32_t y_dtype, int32_t batches, int32_t in_channels, int32_t out_channels,
              int32_t group, const int32_t *geo);

/* ---- reductions (ref/tn_softmax.c, ref/tn_argmax.c) -------------------------------------- */

/* Softmax along the middle axis of an outer x dim x inner view. */
void tn_softmax_f32(const float *x, float *y, int32_t outer, int32_t dim, int32_t inner);
/* Index of the first maximum along the middle axis, NaN never wins. */
void tn_argmax_f32(const float *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);
void tn_argmax_i8(const int8_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);
void tn_argmax_i32(const int32_t *x, int32_t *y, int32_t outer, int32_t dim, int32_t inner);

#endif /* TN_RUNTIME_H */
