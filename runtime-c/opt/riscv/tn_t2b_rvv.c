/*
 * tn_t2b_rvv.c - ternary linear layer with the RISC-V vector extension 1.0 (RVV), weight format t2b.
 *
 * A t2b block of one row is 32 bytes holding 128 offset codes u = w + 1 in {0, 1, 2}: field f
 * (bits 2f+1:2f) of byte m is code m + 32 f, so each field pairs with 32 contiguous activations.
 * With vl = 32 bytes (SEW 8, LMUL 2: any VLEN >= 128), one block is: load the codes, one shift
 * (h = v >> 4, per byte), four masks (v & 3, v & 12, h & 3, h & 12) and four VWMACCSU.VV, which
 * multiply the signed activations by the unsigned fields and add into int16 lanes. As in the AVX2
 * kernel the fields taken with mask 12 are 4 u and go to a second accumulator, shifted down (>> 2,
 * exact) every 16 blocks, when both are summed into an int32 (VWREDSUM). Bounds per int16 lane
 * and block: the plain accumulator gets 2 products u x in [-256, 254], the x4 one 2 products
 * 4 u x in [-1024, 1016]; after 16 blocks they are within [-8192, 8128] and [-32768, 32512].
 * The int32 sum is exact mod 2^32, and sum u x - sum x is the exact result (the compiler proved it
 * fits: flush). Partial blocks (a scale group or K not a multiple of 128) use a copy of x with
 * zeros outside the range; rows and tokens go through the shared driver tn_lowbit_rows.
 *
 * Compiled in with -DTN_RVV (target riscv64-rvv) or a compiler that targets V (__riscv_v):
 * zig 0.11 cannot enable V for C, so the vector instructions are written as .word encodings with
 * fixed registers, in naked functions. The choice is made at compile time, as for NEON's SDOT:
 * generated code does not call the C library, so it cannot ask the kernel (getauxval) at run time.
 * A core whose vectors are shorter than 128 bits (vl < 32) takes the portable dot. RVV 1.0 only:
 * the T-Head C906/C910's draft 0.7.1 vectors encode vsetvli differently.
 */
#include "tn_runtime.h"
#include "tn_t2b.h"

#if defined(__riscv) && (defined(__riscv_v) || defined(TN_RVV)) && (defined(__GNUC__) || defined(__clang__))

/* Encodings (registers by number; GPRs: t0 = 5, t1 = 6, t2 = 7, a0 = 10, a1 = 11, a2 = 12,
 * t3 = 28, t4 = 29, t5 = 30). vtype: e8 m2 = 0xc1, e16 m4 = 0xca, e32 m1 = 0xd0 (tail and mask
 * agnostic). OP-V arithmetic: funct6 | vm = 1 | vs2 | vs1 / imm | funct3 | vd | 0x57. */
#define TN_VOP(f6, vs2, vs1, f3, vd) \
  ".word (" TN_STR(f6) " << 26) | (1 << 25) | (" TN_STR(vs2) " << 20) | (" TN_STR(vs1) " << 15) | (" TN_STR(f3) " << 12) | (" TN_STR(vd) " << 7) | 0x57\n\t"
#define TN_VSETVLI(rd, rs1, vt) ".word (" TN_STR(vt) " << 20) | (" TN_STR(rs1) " << 15) | (7 << 12) | (" TN_STR(rd) " << 7) | 0x57\n\t"
#define TN_VLE8(vd, rs1) ".word (0x20 << 20) | (" TN_STR(rs1) " << 15) | (" TN_STR(vd) " << 7) | 0x07\n\t" /* vle8.v vd, (rs1) */
#define TN_VAND_VI(vd, vs2, imm) TN_VOP(0x09, vs2, imm, 3, vd)
#define TN_VSRL_VI(vd, vs2, imm) TN_VOP(0x28, vs2, imm, 3, vd)
#define TN_VSRA_VI(vd, vs2, imm) TN_VOP(0x29, vs2, imm, 3, vd)
#define TN_VADD_VV(vd, vs2, vs1) TN_VOP(0x00, vs2, vs1, 0, vd)
#define TN_VMV_V_I(vd, imm) TN_VOP(0x17, 0, imm, 3, vd)
#define TN_VMV_X_S(rd, vs2) TN_VOP(0x10, vs2, 0, 2, rd)
/* vd (2 SEW) += signed(vs1) * unsigned(vs2) */
#define TN_VWMACCSU_VV(vd, vs1, vs2) TN_VOP(0x3f, vs2, vs1, 2, vd)
/* vd[0] (2 SEW) = vs1[0] + the sum of vs2's elements, sign-extended */
#define TN_VWREDSUM_VS(vd, vs2, vs1) TN_VOP(0x31, vs2, vs1, 0, vd)

/* The next span: t2 = min(a2, max) blocks, taken off a2 (the blocks left). */
#define TN_RVV_SPAN(max) "mv t2, a2\n\tli t3, " TN_STR(max) "\n\tbleu t2, t3, 2f\n\tmv t2, t3\n\t2:\n\tsub a2, a2, t2\n\t"

/* vl for 32 bytes at SEW 8, LMUL 2 (through SEW 16, LMUL 4, the same ratio): 32 when VLEN >= 128. */
__attribute__((naked, noinline)) static int32_t tn_rvv_vl32(void) {
  __asm__ volatile("li t1, 32\n\t" TN_VSETVLI(10, 6, 0xca) "ret\n\t");
}

/* Sum u x over nb >= 1 whole blocks of one row: codes at c (block b at c + 128 b, the t2b group
 * stride), activations at x (128 per block). v2: codes, v4: codes >> 4, v6/v8/v10/v12: the 4 runs of
 * 32 activations, v14/v26/v28/v30: the fields, v16 (m4): the plain int16 sums, v20 (m4): the x4
 * ones, v24[0]: the int32 sum. */
__attribute__((naked, noinline)) static int32_t tn_t2b_rvv_sum(TN_REG_ARG const uint8_t *c, TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t nb) {
  __asm__ volatile(
      "li t1, 32\n\t"
      TN_VSETVLI(5, 6, 0xd0)
      TN_VMV_V_I(24, 0)
      "1:\n\t"
      TN_RVV_SPAN(16)
      TN_VSETVLI(5, 6, 0xca)
      TN_VMV_V_I(16, 0)
      TN_VMV_V_I(20, 0)
      TN_VSETVLI(5, 6, 0xc1)
      "3:\n\t"                  /* one block */
      TN_VLE8(2, 10)
      "addi t3, a1, 32\n\t"
      "addi t4, a1, 64\n\t"
      "addi t5, a1, 96\n\t"
      TN_VLE8(6, 11)
      TN_VLE8(8, 28)
      TN_VLE8(10, 29)
      TN_VLE8(12, 30)
      TN_VSRL_VI(4, 2, 4)
      TN_VAND_VI(14, 2, 3)
      TN_VAND_VI(26, 2, 12)
      TN_VAND_VI(28, 4, 3)
      TN_VAND_VI(30, 4, 12)
      TN_VWMACCSU_VV(16, 6, 14)
      TN_VWMACCSU_VV(20, 8, 26)
      TN_VWMACCSU_VV(16, 10, 28)
      TN_VWMACCSU_VV(20, 12, 30)
      "addi a0, a0, 128\n\t"
      "addi a1, a1, 128\n\t"
      "addi t2, t2, -1\n\t"
      "bnez t2, 3b\n\t"
      TN_VSETVLI(5, 6, 0xca)    /* span done: v24[0] += sum(v16 + (v20 >> 2)) */
      TN_VSRA_VI(20, 20, 2)
      TN_VADD_VV(16, 16, 20)
      TN_VWREDSUM_VS(24, 16, 24)
      "bnez a2, 1b\n\t"
      TN_VSETVLI(5, 6, 0xd0)
      TN_VMV_X_S(10, 24)
      "ret\n\t");
}

/* The same for the 4 rows of a t2b group (row q's block b at c + 32 q + 128 b), one token: the 4
 * activation runs of a block are loaded once for the 4 rows, and each row has one int16 accumulator
 * (the 32 vector registers hold no more): its fields are shifted down (v & 3, (v >> 2) & 3,
 * (v >> 4) & 3, v >> 6), 4 products u x in [-256, 254] per lane and block, so a span of 32 blocks
 * stays within [-32768, 32512]. Each span is reduced (VWREDSUM) and added to a GPR per row; the 4
 * sums are stored to s[0..3]. v8/v10/v12/v14: the activations, v16/v20/v24/v28 (m4): the rows'
 * sums, v2: codes, v4/v6: fields. 55 instructions per block of 4 rows (0.107 per weight). */
#define TN_RVV_ROW4(off, acc)                                                                                    \
  "addi t3, a0, " TN_STR(off) "\n\t" TN_VLE8(2, 28) TN_VAND_VI(4, 2, 3) TN_VSRL_VI(6, 2, 2) TN_VWMACCSU_VV(acc, 8, 4)    \
      TN_VAND_VI(6, 6, 3) TN_VSRL_VI(4, 2, 4) TN_VWMACCSU_VV(acc, 10, 6) TN_VAND_VI(4, 4, 3) TN_VSRL_VI(6, 2, 6)          \
          TN_VWMACCSU_VV(acc, 12, 4) TN_VWMACCSU_VV(acc, 14, 6)
__attribute__((naked, noinline)) static void tn_t2b_rvv_sum4(TN_REG_ARG const uint8_t *c, TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t nb, TN_REG_ARG int32_t *s) {
  __asm__ volatile(
      "li t1, 32\n\t"
      "li a4, 0\n\t"
      "li a5, 0\n\t"
      "li a6, 0\n\t"
      "li a7, 0\n\t"
      "1:\n\t"
      TN_RVV_SPAN(32)
      TN_VSETVLI(5, 6, 0xca)
      TN_VMV_V_I(16, 0)
      TN_VMV_V_I(20, 0)
      TN_VMV_V_I(24, 0)
      TN_VMV_V_I(28, 0)
      TN_VSETVLI(5, 6, 0xc1)
      "3:\n\t"                  /* one block of the 4 rows */
      "addi t3, a1, 32\n\t"
      "addi t4, a1, 64\n\t"
      "addi t5, a1, 96\n\t"
      TN_VLE8(8, 11)
      TN_VLE8(10, 28)
      TN_VLE8(12, 29)
      TN_VLE8(14, 30)
      TN_RVV_ROW4(0, 16)
      TN_RVV_ROW4(32, 20));
  __asm__ volatile( /* (split: C99 string literals stay under 4095 characters) */
      TN_RVV_ROW4(64, 24)
      TN_RVV_ROW4(96, 28));
  __asm__ volatile(
      "addi a0, a0, 128\n\t"
      "addi a1, a1, 128\n\t"
      "addi t2, t2, -1\n\t"
      "bnez t2, 3b\n\t"
      TN_VSETVLI(5, 6, 0xd0)      /* span done: each row's sum into its GPR */
      TN_VMV_V_I(2, 0)
      TN_VSETVLI(5, 6, 0xca)
      TN_VWREDSUM_VS(4, 16, 2)
      TN_VWREDSUM_VS(5, 20, 2)
      TN_VWREDSUM_VS(6, 24, 2)
      TN_VWREDSUM_VS(7, 28, 2)
      TN_VSETVLI(5, 6, 0xd0)
      TN_VMV_X_S(28, 4)
      "add a4, a4, t3\n\t"
      TN_VMV_X_S(28, 5)
      "add a5, a5, t3\n\t"
      TN_VMV_X_S(28, 6)
      "add a6, a6, t3\n\t"
      TN_VMV_X_S(28, 7)
      "add a7, a7, t3\n\t"
      "bnez a2, 1b\n\t"
      "sw a4, 0(a3)\n\t"
      "sw a5, 4(a3)\n\t"
      "sw a6, 8(a3)\n\t"
      "sw a7, 12(a3)\n\t"
      "ret\n\t");
}

/* Sums u x over nb whole blocks of one row (nr = 1, c: its first block) or of a group's 4 rows
 * (nr = 4, c: row 0's first block) against one token's x, added to s[0 .. nr). */
static void tn_t2b_rvv_blocks(const uint8_t *c, int nr, const int8_t *x, int32_t nb, uint32_t *s) {
  if (nr == 4) {
    int32_t s4[4], q;
    tn_t2b_rvv_sum4(c, x, nb, s4);
    for (q = 0; q < 4; ++q) s[q] += (uint32_t)s4[q];
  } else
    s[0] += (uint32_t)tn_t2b_rvv_sum(c, x, nb);
}

/* The same over codes [k0, k1) (c: block 0), in pieces (tn_t2b.h): partial blocks through a
 * zero-padded copy of x, whole blocks in place. */
static void tn_t2b_rvv_range(const uint8_t *c, int nr, const int8_t *x, int32_t k0, int32_t k1, uint32_t *s) {
  int8_t xc[TN_QK_T2B];
  tn_t2b_piece pc[3];
  const int32_t np = tn_t2b_pieces(k0, k1, pc);
  int32_t i;
  for (i = 0; i < np; ++i) {
    size_t ldx;
    const int8_t *xp = tn_t2b_piece_x(&pc[i], x, 0, 1, 1, k0, k1, xc, &ldx);
    tn_t2b_rvv_blocks(c + (size_t)pc[i].b0 * 128, nr, xp, pc[i].b1 - pc[i].b0, s);
  }
}

/* One token: whole groups of 4 rows through tn_t2b_rvv_sum4, other rows one at a time; several
 * tokens: one row at a time per token. */
static void tn_t2b_dot_rvv(const tn_lowbit_weights *w, int32_t p, int32_t n0, int32_t nrows, const int8_t *x, int32_t ntok, int32_t k0,
                           int32_t k1, int32_t *acc) {
  int32_t r, t, q;
  for (t = 0; t < ntok; ++t) {
    const uint32_t xs = (uint32_t)tn_t2b_xsum(w, x, t, k0, k1);
    for (r = 0; r < nrows;) {
      const int nr = tn_t2b_rows_per_pass(ntok, n0 + r, nrows - r, 4);
      uint32_t s[4] = {0, 0, 0, 0};
      tn_t2b_rvv_range(tn_t2b_row(w, p, n0 + r), nr, x + (size_t)t * (size_t)w->k, k0, k1, s);
      for (q = 0; q < nr; ++q) acc[t * nrows + r + q] = (int32_t)(s[q] - xs);
      r += nr;
    }
  }
}

static const tn_rows_kernel tn_t2b_rvv = {8, 4, tn_t2b_prep, tn_t2b_dot_rvv};

void tn_ternary_linear_t2b_rvv(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                               const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  static int vl_ok = -1; /* the core does not change: a benign race at worst */
  if (vl_ok < 0) vl_ok = tn_rvv_vl32() == 32;
  if (vl_ok) tn_lowbit_rows(&tn_t2b_rvv, x, x_scale, x_per_row, rows, w, bias, flush, y);
  else tn_t2b_linear_portable(x, x_scale, x_per_row, rows, w, bias, flush, y);
}

#else /* no RVV in this build: the portable dot (same results) */

TN_LINEAR_ALIAS(tn_ternary_linear_t2b_rvv, tn_t2b_linear_portable)

#endif

/* Binary layers: the same kernel (binary codes are t2b codes 0 and 2). */
TN_LINEAR_ALIAS(tn_binary_linear_t2b_rvv, tn_ternary_linear_t2b_rvv)
