/*
 * tn_epilogue.h - internal to runtime-c (README.md): the kernels' float epilogue ((float)sum * ws)
 * * sx (+ bias) on cores without an FPU, in integers: tn_scale_i32 for one output, tn_scale_rows for
 * a run of outputs (with an RV32IM assembly loop), tn_add_fast for the bias. Included by the kernels
 * that end in it (ref/tn_dense.c, opt/generic/tn_lut.c) and by test/c/scale_check.c and
 * test/c/scale_target_check.c, which check it bit for bit (test/softfloat.test.ts).
 */
#ifndef TN_EPILOGUE_H
#define TN_EPILOGUE_H

#include "tn_internal.h"

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

/* tn_scale_i32(v, ws, sx) is ((float)v * ws) * sx, each step rounded to nearest even: the kernels'
 * whole epilogue for one output (docs/numerics.md). Without an FPU, when |v| < 2^24 ((float)v is
 * then exact), ws and sx are normal and both products are normal, it runs in integers: v is
 * normalised as it is (no float is packed and unpacked between the steps), each product is one
 * 32 x 32 -> 64 multiply rounded at 24 bits. Otherwise, and with an FPU, the plain expression
 * (library calls). test/softfloat.test.ts checks it against the host's float arithmetic. */
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

#endif /* TN_EPILOGUE_H */
