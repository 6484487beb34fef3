/*
 * tn_lut_rv32.c - the LUT kernels (opt/generic/tn_lut.c) with RV32I assembly for their hot parts,
 * for 32-bit RISC-V microcontrollers (RV32IMC: ESP32-C3, GD32V class). RISC-V has no register +
 * register addressing and no store-multiple, so:
 *
 *   lookups (t5w, t6w)  LHU index, ADD table base, LHU entry, ADD: 4 instructions per lookup, 16
 *                       lookups per loop iteration at immediate offsets, the remainder entered
 *                       Duff-style (the code is assembled without compressed instructions, so
 *                       every lookup is 16 bytes)
 *   table rows          7 SW + 7 ADD per row of 7 words, at immediate offsets, fully unrolled
 *
 * Everything else is the portable driver tn_lut_linear; the kernels have the same signatures and
 * compute the same floats as their portable twins.
 */
#include "tn_runtime.h"
#include "tn_lut.h"

#if !defined(__riscv) || __riscv_xlen != 32
#error "tn_lut_rv32.c is for 32-bit RISC-V"
#endif

/* ---- lookups ------------------------------------------------------------------------------------ */

/* One lookup at byte offset `o` - 190 from the pointer t3: sum t4 += (LKA) or -= (LKS) table[a4 + ix]. */
#define TN_LKA(o) "lhu t6, (" TN_STR(o) "-190)(t3)\n\tadd t6, t6, a4\n\tlhu t6, 0(t6)\n\tadd t4, t4, t6\n\t"
#define TN_LKS(o) "lhu t6, (" TN_STR(o) "-190)(t3)\n\tadd t6, t6, a4\n\tlhu t6, 0(t6)\n\tsub t4, t4, t6\n\t"
#define TN_L8(m, o) m(o) m(o + 2) m(o + 4) m(o + 6) m(o + 8) m(o + 10) m(o + 12) m(o + 14)
#define TN_L16(m, o) TN_L8(m, o) TN_L8(m, o + 16)
/* Every asm statement is assembled on its own: each turns compressed instructions off itself. */
#define TN_NORVC ".option push\n\t.option norvc\n\t"
#define TN_POPRVC ".option pop\n\t"

/* acc[r] += sum of row r's window (tn_lut_ops.rows for t5w/t6w), r < nrows, count <= TN_TW_MAX_WINDOW;
 * first != 0: acc[r] = the sum. a0 = rows0, a1 = row_bytes, a2 = nrows, a3 = count, a4 = table,
 * a5 = entries (unused), a6 = acc, a7 = first.
 * Per row: the header h, the sum starts at acc[r] + (count - h) << 16 (first: at (count - h) << 16,
 * no load); the h added offsets are read by the last h lookups of a run of 96 at immediate offsets
 * -190..0 from t3 = a0 + 2 h (the last added offset), the count - h subtracted ones likewise from
 * a run that subtracts with t3 = a0 + 2 count (the code is assembled without compressed
 * instructions, so every lookup is 16 bytes: that run is entered 16 (count - h) bytes before its
 * end, at (end - 16 count) + 16 h). The two cases share the run that adds; each has its own run
 * that subtracts, which falls into its own loop tail, so neither tests the flag per row. Per call:
 * a2 = the end of acc, a3 = count << 16, a5 = 2 count, a7 = the end of the added run, t0 = the end
 * of the case's subtracted run - 16 count. */
__attribute__((naked)) static void tn_lut_rows16_rv32(TN_REG_ARG const uint8_t *rows0, TN_REG_ARG size_t row_bytes, TN_REG_ARG int32_t nrows, TN_REG_ARG int32_t count,
                                                      TN_REG_ARG const uint32_t *table, TN_REG_ARG int32_t entries, TN_REG_ARG uint32_t *acc, TN_REG_ARG int32_t first) {
  __asm__ volatile(
      TN_NORVC
      "beqz a2, 8f\n\t"
      "slli a2, a2, 2\n\t"
      "add a2, a2, a6\n\t"    /* end of acc */
      "slli t1, a3, 4\n\t"    /* 16 count */
      "slli a5, a3, 1\n\t"    /* 2 count */
      "slli a3, a3, 16\n\t"   /* count << 16 */
      "bnez a7, 5f\n\t"
      "la a7, 2f\n\t"         /* end of the added run */
      "la t0, 4f\n\t"
      "sub t0, t0, t1\n\t"    /* end of the subtracted run - 16 count */
      "0:\n\t"
      "lhu t1, 0(a0)\n\t"     /* h */
      "lw t4, 0(a6)\n\t"
      "slli t2, t1, 16\n\t"
      "sub t2, a3, t2\n\t"    /* (count - h) << 16 */
      "add t4, t4, t2\n\t"
      "slli t2, t1, 1\n\t"
      "add t3, a0, t2\n\t"
      "slli t1, t1, 4\n\t"    /* 16 h */
      "sub t5, a7, t1\n\t"
      "jr t5\n\t"
      "1:\n\t" TN_L16(TN_LKA, 0) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKA, 32) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKA, 64) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKA, 96) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKA, 128) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKA, 160)
      "2:\n\t"
      "add t3, a0, a5\n\t"
      "add t5, t0, t1\n\t"
      "jr t5\n\t"
      "3:\n\t" TN_L16(TN_LKS, 0) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 32) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 64) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 96) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 128) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 160)
      "4:\n\t"
      "sw t4, 0(a6)\n\t"
      "addi a6, a6, 4\n\t"
      "add a0, a0, a1\n\t"
      "bne a6, a2, 0b\n\t"
      "8:\n\t"
      "ret\n\t"
      "5:\n\t"                /* first */
      "la a7, 2b\n\t"
      "la t0, 7f\n\t"
      "sub t0, t0, t1\n\t"
      "6:\n\t"
      "lhu t1, 0(a0)\n\t"
      "slli t2, t1, 16\n\t"
      "sub t4, a3, t2\n\t"
      "slli t2, t1, 1\n\t"
      "add t3, a0, t2\n\t"
      "slli t1, t1, 4\n\t"
      "sub t5, a7, t1\n\t"
      "jr t5\n\t" TN_L16(TN_LKS, 0) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 32) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 64) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 96) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 128) TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_L16(TN_LKS, 160)
      "7:\n\t"
      "sw t4, 0(a6)\n\t"
      "addi a6, a6, 4\n\t"
      "add a0, a0, a1\n\t"
      "bne a6, a2, 6b\n\t"
      "ret\n\t" TN_POPRVC);
}

/* ---- tables ------------------------------------------------------------------------------------- */

/* Row `r` of a half table at a0 (7 words at 28 r): store t0-t6, then add the delta register d. */
#define TN_SW7(r) "sw t0, (" TN_STR(r) ")*28+0(a0)\n\tsw t1, (" TN_STR(r) ")*28+4(a0)\n\tsw t2, (" TN_STR(r) ")*28+8(a0)\n\tsw t3, (" TN_STR(r) ")*28+12(a0)\n\tsw t4, (" TN_STR(r) ")*28+16(a0)\n\tsw t5, (" TN_STR(r) ")*28+20(a0)\n\tsw t6, (" TN_STR(r) ")*28+24(a0)\n\t"
#define TN_AD7(d) "add t0, t0, " d "\n\tadd t1, t1, " d "\n\tadd t2, t2, " d "\n\tadd t3, t3, " d "\n\tadd t4, t4, " d "\n\tadd t5, t5, " d "\n\tadd t6, t6, " d "\n\t"
#define TN_ROW(r, d) TN_SW7(r) TN_AD7(d)
/* Eight rows from row index b: deltas d0 (a2) except after u3 wraps: c1 (a3). The ninth row follows:
 * TN_ROW(b + 8, "a4") inside a 27-row half (c2), or only its stores at the end of a half. */
#define TN_ROWS8(b) TN_ROW(b, "a2") TN_ROW(b + 1, "a2") TN_ROW(b + 2, "a3") TN_ROW(b + 3, "a2") TN_ROW(b + 4, "a2") TN_ROW(b + 5, "a3") TN_ROW(b + 6, "a2") TN_ROW(b + 7, "a2")
#define TN_LOAD7 "lw t0, 0(a1)\n\tlw t1, 4(a1)\n\tlw t2, 8(a1)\n\tlw t3, 12(a1)\n\tlw t4, 16(a1)\n\tlw t5, 20(a1)\n\tlw t6, 24(a1)\n\t"

/* a0 = t, a1 = a (14 words: row 0 of each half), a2 = d0, a3 = c1: both halves of a 5-code table
 * (9 rows each, half 1 at t + 63 words). */
__attribute__((naked)) static void tn_table5_rv32(TN_REG_ARG uint32_t *t, TN_REG_ARG const uint32_t *a, TN_REG_ARG uint32_t d0, TN_REG_ARG uint32_t c1) {
  __asm__ volatile(TN_LOAD7 TN_ROWS8(0) TN_SW7(8) "addi a0, a0, 252\n\taddi a1, a1, 28\n\t" TN_LOAD7);
  __asm__ volatile(TN_ROWS8(0) TN_SW7(8) "ret\n\t");
}

/* ---- t5w / t6w half tables, built from the activations in registers -------------------------
 *
 * Row 0 of both halves in registers as tn_lut_ternary_start in tn_lut.h says (the words of
 * tn_lut_a27), stored to both halves' row 0, then each half is loaded back and its rows follow
 * (deltas d0 a2, c1 a3, c2 a4) as in tn_table5_rv32. With a0 = x, a2 = t on entry; the table pointer
 * moves to a0. */
#define TN_X_LOAD "mv a5, a0\n\tmv a0, a2\n\tlb t0, 0(a5)\n\tlb t1, 1(a5)\n\tlb t2, 2(a5)\n\tlb t3, 3(a5)\n\tlb t4, 4(a5)\n\t"
/* d0 = X3 (a2), c1 = (x4 - 2 x3) * 0x10001 (a3), a6 = x3 + x4 */
#define TN_X_D01 "slli a2, t3, 16\n\tadd a2, a2, t3\n\tsub a3, t4, t3\n\tsub a3, a3, t3\n\tslli a1, a3, 16\n\tadd a3, a3, a1\n\tadd a6, t3, t4\n\t"
/* P (a6) from a6 = x3 + x4 (+ x5) */
#define TN_X_P "add a6, a6, t0\n\tadd a6, a6, t1\n\tlui a1, 8\n\tsub a6, a1, a6\n\tslli a1, a6, 16\n\tadd a6, a6, a1\n\t"
#define TN_X_ROW0(h)                                                                                          \
  "slli t3, t0, 16\n\tadd t3, t3, t0\n\t"                       /* X0 */                                    \
  "slli t4, t1, 16\n\tadd t4, t4, t1\n\t"                       /* X1 */                                    \
  "slli t5, t2, 16\n\tadd t5, t5, t2\n\t"                       /* X2 */                                    \
  "slli a7, t0, 16\n\tadd a7, a7, a6\n\t"                       /* e0 */                                    \
  "slli a5, t0, 1\n\tadd a5, a5, a6\n\tslli a1, t1, 16\n\tadd a5, a5, a1\n\t" /* e2 */                      \
  "sub t6, a7, t5\n\tsw t6, 0(a0)\n\t"                                                                      \
  "add t6, a7, t5\n\tsw t6, " h "+8(a0)\n\t"                                                                \
  "sub t6, a5, t5\n\tsw t6, 4(a0)\n\t"                                                                      \
  "add t6, a5, t5\n\tsw t6, " h "+12(a0)\n\t"                                                               \
  "add t6, a5, t4\n\tsw t6, " h "(a0)\n\t"                                                                  \
  "add a1, a7, t3\n\tsw a1, 20(a0)\n\t"                         /* e0 + X0 */                               \
  "add a1, a1, t4\n\t"                                          /* e4 */                                    \
  "sub t6, a1, t5\n\tsw t6, 8(a0)\n\t"                                                                      \
  "add t6, a1, t5\n\tsw t6, " h "+16(a0)\n\t"                                                               \
  "add t6, a1, t4\n\tsw t6, " h "+4(a0)\n\t"                                                                \
  "add a7, a7, t4\n\tsw a7, 24(a0)\n\t"                         /* e0 + X1 */                               \
  "add a7, a7, t4\n\t"                                          /* e6 */                                    \
  "sub t6, a7, t5\n\tsw t6, 12(a0)\n\t"                                                                     \
  "add t6, a7, t5\n\tsw t6, " h "+20(a0)\n\t"                                                               \
  "add a1, t0, t1\n\tslli t6, a1, 1\n\tadd t6, t6, a6\n\t"      /* P + 2 x0 + 2 x1 */                       \
  "sub a5, t6, t2\n\tsw a5, 16(a0)\n\t"                                                                     \
  "add t6, t6, t2\n\tslli a1, a1, 16\n\tadd t6, t6, a1\n\tsw t6, " h "+24(a0)\n\t"
#define TN_LOAD7A0 "lw t0, 0(a0)\n\tlw t1, 4(a0)\n\tlw t2, 8(a0)\n\tlw t3, 12(a0)\n\tlw t4, 16(a0)\n\tlw t5, 20(a0)\n\tlw t6, 24(a0)\n\t"

/* Whole groups (len >= g); the pads below call these, the ops' builds jump here. t5w: rows 0..4
 * of half 0, rows 0..3 of half 1 (at 35 words). */
__attribute__((naked)) static void tn_lut5w_full_rv32(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile(TN_X_LOAD TN_X_D01 TN_X_P TN_X_ROW0("140") TN_LOAD7A0);
  __asm__ volatile(TN_AD7("a2") TN_ROW(1, "a2") TN_ROW(2, "a3") TN_ROW(3, "a2") TN_SW7(4) "addi a0, a0, 140\n\t" TN_LOAD7A0);
  __asm__ volatile(TN_AD7("a2") TN_ROW(1, "a2") TN_ROW(2, "a3") TN_SW7(3) "ret\n\t");
}

/* t6w: rows 0..13 of half 0, rows 0..12 of half 1 (at 98 words); after row 8 the delta is c2. */
__attribute__((naked)) static void tn_lut6w_full_rv32(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile(TN_X_LOAD "lb t5, 5(a5)\n\t" TN_X_D01
                   "sub a4, t5, a6\n\tsub a4, a4, a6\n\tslli a1, a4, 16\n\tadd a4, a4, a1\n\t" /* c2 = (x5 - 2 x4 - 2 x3) * 0x10001 */
                   "add a6, a6, t5\n\t" TN_X_P TN_X_ROW0("392") TN_LOAD7A0);
  __asm__ volatile(TN_AD7("a2") TN_ROW(1, "a2") TN_ROW(2, "a3") TN_ROW(3, "a2") TN_ROW(4, "a2") TN_ROW(5, "a3"));
  __asm__ volatile(TN_ROW(6, "a2") TN_ROW(7, "a2") TN_ROW(8, "a4") TN_ROW(9, "a2") TN_ROW(10, "a2") TN_ROW(11, "a3"));
  __asm__ volatile(TN_ROW(12, "a2") TN_SW7(13) "addi a0, a0, 392\n\t" TN_LOAD7A0 TN_AD7("a2") TN_ROW(1, "a2") TN_ROW(2, "a3") TN_ROW(3, "a2"));
  __asm__ volatile(TN_ROW(4, "a2") TN_ROW(5, "a3") TN_ROW(6, "a2") TN_ROW(7, "a2") TN_ROW(8, "a4") TN_ROW(9, "a2"));
  __asm__ volatile(TN_ROW(10, "a2") TN_ROW(11, "a3") TN_SW7(12) "ret\n\t");
}

/* The last group of a scale group may have fewer than g activations: pad with zeros. */
TN_LUT_PAD(tn_lut5w_pad_rv32, tn_lut5w_full_rv32, 5)
TN_LUT_PAD(tn_lut6w_pad_rv32, tn_lut6w_full_rv32, 6)

/* The ops' builds: a short group goes to the pad, a whole one to the full build. */
__attribute__((naked)) static void tn_lut5w_build_rv32(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile("li t0, 5\n\tblt a1, t0, 1f\n\tj tn_lut5w_full_rv32\n1:\n\ttail tn_lut5w_pad_rv32\n\t");
}

__attribute__((naked)) static void tn_lut6w_build_rv32(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile("li t0, 6\n\tblt a1, t0, 1f\n\tj tn_lut6w_full_rv32\n1:\n\ttail tn_lut6w_pad_rv32\n\t");
}

/* ---- b1: binary tables and byte-indexed lookups ------------------------------------------------
 *
 * Table (tn_lut8_build): entry m = 0x8000 + sum_i (bit i of m ? x_i : -x_i), word w = entries 2w,
 * 2w + 1; row b (the high nibble) = words 8b .. 8b + 7. With B = 0x8000 - x0 - ... - x7 (entry 0),
 * P = B * 0x10001 and the doubled pairs Xi = 2 xi * 0x10001, row 0 is
 *   w0 = P + (x0 << 17), w1 = w0 + X1, w2 = w0 + X2, w3 = w1 + X2, w4..w7 = w0..w3 + X3
 * and the rows follow in Gray-code order of b (0 1 3 2 6 7 5 4 12 ...): each step flips one bit of
 * b, so the 8 words add or subtract one of X4..X7 (8 SW + 8 ADD/SUB per row, at immediate offsets). */
#define TN_SW8(b) "sw a3, (" TN_STR(b) ")*32+0(a2)\n\tsw a4, (" TN_STR(b) ")*32+4(a2)\n\tsw a5, (" TN_STR(b) ")*32+8(a2)\n\tsw a6, (" TN_STR(b) ")*32+12(a2)\n\tsw a7, (" TN_STR(b) ")*32+16(a2)\n\tsw t0, (" TN_STR(b) ")*32+20(a2)\n\tsw t1, (" TN_STR(b) ")*32+24(a2)\n\tsw t2, (" TN_STR(b) ")*32+28(a2)\n\t"
#define TN_OP8(op, d) op " a3, a3, " d "\n\t" op " a4, a4, " d "\n\t" op " a5, a5, " d "\n\t" op " a6, a6, " d "\n\t" op " a7, a7, " d "\n\t" op " t0, t0, " d "\n\t" op " t1, t1, " d "\n\t" op " t2, t2, " d "\n\t"
/* Row b, then the step to the next row of the Gray code: add or sub X4 (t3), X5 (t4), X6 (t5), X7 (t6). */
#define TN_G8(b, op, d) TN_SW8(b) TN_OP8(op, d)
/* 2 xi * 0x10001 in place (a0: scratch). */
#define TN_DOUBLE_PAIR(r) "slli a0, " r ", 17\n\tslli " r ", " r ", 1\n\tadd " r ", " r ", a0\n\t"

/* A whole group (len >= 8): a0 = x, a2 = t; 128 SW + 120 ADD/SUB for the rows, 50 for row 0. */
__attribute__((naked)) static void tn_lut8_full_rv32(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile(
      "lb t3, 4(a0)\n\tlb t4, 5(a0)\n\tlb t5, 6(a0)\n\tlb t6, 7(a0)\n\t"
      "lb a4, 1(a0)\n\tlb a5, 2(a0)\n\tlb a6, 3(a0)\n\tlb a3, 0(a0)\n\t"
      "add a1, a3, a4\n\tadd a1, a1, a5\n\tadd a1, a1, a6\n\tadd a1, a1, t3\n\tadd a1, a1, t4\n\tadd a1, a1, t5\n\tadd a1, a1, t6\n\t"
      "lui a0, 8\n\tsub a1, a0, a1\n\t"                  /* B */
      "slli a0, a1, 16\n\tadd a1, a1, a0\n\t"            /* P */
      "slli a0, a3, 17\n\tadd a3, a1, a0\n\t"            /* w0 */
      "slli a0, a6, 17\n\tslli a1, a6, 1\n\tadd a1, a1, a0\n\t" /* X3 */
      TN_DOUBLE_PAIR("a4") TN_DOUBLE_PAIR("a5")          /* X1, X2 */
      "add a4, a3, a4\n\t"                               /* w1 */
      "add a6, a4, a5\n\t"                               /* w3 */
      "add a5, a3, a5\n\t"                               /* w2 */
      "add a7, a3, a1\n\tadd t0, a4, a1\n\tadd t1, a5, a1\n\tadd t2, a6, a1\n\t" /* w4..w7 */
      TN_DOUBLE_PAIR("t3") TN_DOUBLE_PAIR("t4") TN_DOUBLE_PAIR("t5") TN_DOUBLE_PAIR("t6"));
  __asm__ volatile(TN_G8(0, "add", "t3") TN_G8(1, "add", "t4") TN_G8(3, "sub", "t3") TN_G8(2, "add", "t5"));
  __asm__ volatile(TN_G8(6, "add", "t3") TN_G8(7, "sub", "t4") TN_G8(5, "sub", "t3") TN_G8(4, "add", "t6"));
  __asm__ volatile(TN_G8(12, "add", "t3") TN_G8(13, "add", "t4") TN_G8(15, "sub", "t3") TN_G8(14, "sub", "t5"));
  __asm__ volatile(TN_G8(10, "add", "t3") TN_G8(11, "sub", "t4") TN_G8(9, "sub", "t3") TN_SW8(8) "ret\n\t");
}

/* The last group of a scale group may have fewer than 8 activations: pad with zeros. */
TN_LUT_PAD(tn_lut8_pad_rv32, tn_lut8_full_rv32, 8)

__attribute__((naked)) static void tn_lut8_build_rv32(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile("li t0, 8\n\tblt a1, t0, 1f\n\tj tn_lut8_full_rv32\n1:\n\ttail tn_lut8_pad_rv32\n\t");
}

/* Group j of 4 rows: code bytes at j from t0..t3, table j at 512 k - 2048 from `tb`, k = j % 8 (s4..s7
 * cover 8 tables each), sums s0..s3: LBU, SLLI, ADD, LHU, ADD per lookup (no register + register
 * addressing), 80 bytes of code per group (assembled without compressed instructions). */
#define TN_BJ(j, k, tb)                                                                                                \
  "lbu t4, (" TN_STR(j) ")(t0)\n\tlbu t5, (" TN_STR(j) ")(t1)\n\tlbu t6, (" TN_STR(j) ")(t2)\n\tlbu s8, (" TN_STR(j) ")(t3)\n\t" \
  "slli t4, t4, 1\n\tslli t5, t5, 1\n\tslli t6, t6, 1\n\tslli s8, s8, 1\n\t"                                          \
  "add t4, t4, " tb "\n\tadd t5, t5, " tb "\n\tadd t6, t6, " tb "\n\tadd s8, s8, " tb "\n\t"                        \
  "lhu t4, (512*(" TN_STR(k) ")-2048)(t4)\n\tlhu t5, (512*(" TN_STR(k) ")-2048)(t5)\n\t"                                \
  "lhu t6, (512*(" TN_STR(k) ")-2048)(t6)\n\tlhu s8, (512*(" TN_STR(k) ")-2048)(s8)\n\t"                                \
  "add s0, s0, t4\n\tadd s1, s1, t5\n\tadd s2, s2, t6\n\tadd s3, s3, s8\n\t"
/* Groups j .. j + 3, the k-th .. (k + 3)-th of their table register's 8. */
#define TN_BJ4(j, k, tb) TN_BJ(j, k, tb) TN_BJ(j + 1, k + 1, tb) TN_BJ(j + 2, k + 2, tb) TN_BJ(j + 3, k + 3, tb)

/* acc[r] += the sum of rows r's `count` byte lookups (tn_lut_rows8 for b1), 4 rows at a time;
 * first != 0: acc[r] = the sum. a0 = rows0, a1 = row_bytes, a2 = nrows (a multiple of 4, > 0),
 * a3 = count (> 0), a4 = table, a5 = acc, a6 = first. The lookups run in blocks of 32 groups; with
 * j0 = (-count) mod 32 the first block is entered at group j0 (code pointers - j0, tables - 512 j0),
 * so every block ends at the same code. Per call: a3 = blocks, a4 = the first block's s4, a5 = the
 * entry, a2 = the end of acc, s9 = 16384 (32 tables), s10 = 4096 (8 tables), s11 = 4 row_bytes,
 * ra = first (saved: no other register is free); per 4 rows: a0 = row 0 - j0, a6 = acc. Each case
 * has its own copy of the head, so a pass of 4 rows tests the flag once: the sums start at 0 when
 * first (LI instead of LW), else at acc. */
#define TN_B1_HEAD                                                                                                 \
  "mv t0, a0\n\tadd t1, t0, a1\n\tadd t2, t1, a1\n\tadd t3, t2, a1\n\t"                                                 \
  "mv s4, a4\n\tadd s5, s4, s10\n\tadd s6, s5, s10\n\tadd s7, s6, s10\n\t"                                              \
  "mv a7, a3\n\t"                                                                                                    \
  "jr a5\n\t"
__attribute__((naked)) static void tn_lut_rows8x4_rv32(TN_REG_ARG const uint8_t *rows0, TN_REG_ARG size_t row_bytes, TN_REG_ARG int32_t nrows, TN_REG_ARG int32_t count,
                                                       TN_REG_ARG const uint32_t *table, TN_REG_ARG uint32_t *acc, TN_REG_ARG int32_t first) {
  __asm__ volatile(
      TN_NORVC
      "addi sp, sp, -64\n\t"
      "sw s0, 0(sp)\n\tsw s1, 4(sp)\n\tsw s2, 8(sp)\n\tsw s3, 12(sp)\n\tsw s4, 16(sp)\n\tsw s5, 20(sp)\n\t"
      "sw s6, 24(sp)\n\tsw s7, 28(sp)\n\tsw s8, 32(sp)\n\tsw s9, 36(sp)\n\tsw s10, 40(sp)\n\tsw s11, 44(sp)\n\t"
      "sw ra, 48(sp)\n\t"
      "mv ra, a6\n\t"
      "mv a6, a5\n\t"
      "neg t4, a3\n\tandi t4, t4, 31\n\t"          /* j0 */
      "addi a3, a3, 31\n\tsrli a3, a3, 5\n\t"      /* blocks */
      "sub a0, a0, t4\n\t"
      "slli t5, t4, 9\n\tsub a4, a4, t5\n\taddi a4, a4, 1024\n\taddi a4, a4, 1024\n\t"
      "la a5, 1f\n\tslli t5, t4, 6\n\tadd a5, a5, t5\n\tslli t5, t4, 4\n\tadd a5, a5, t5\n\t" /* 1f + 80 j0 */
      "slli a2, a2, 2\n\tadd a2, a2, a6\n\t"
      "lui s9, 4\n\tlui s10, 1\n\tslli s11, a1, 2\n\t"
      "0:\n\t"
      "bnez ra, 5f\n\t"
      "lw s0, 0(a6)\n\tlw s1, 4(a6)\n\tlw s2, 8(a6)\n\tlw s3, 12(a6)\n\t" TN_B1_HEAD
      "5:\n\t"
      "li s0, 0\n\tli s1, 0\n\tli s2, 0\n\tli s3, 0\n\t" TN_B1_HEAD
      "1:\n\t" TN_BJ4(0, 0, "s4") TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_BJ4(4, 4, "s4") TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_BJ4(8, 0, "s5") TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_BJ4(12, 4, "s5") TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_BJ4(16, 0, "s6") TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_BJ4(20, 4, "s6") TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_BJ4(24, 0, "s7") TN_POPRVC);
  __asm__ volatile(TN_NORVC TN_BJ4(28, 4, "s7")
      "addi a7, a7, -1\n\t"
      "addi t0, t0, 32\n\taddi t1, t1, 32\n\taddi t2, t2, 32\n\taddi t3, t3, 32\n\t"
      "add s4, s4, s9\n\tadd s5, s5, s9\n\tadd s6, s6, s9\n\tadd s7, s7, s9\n\t"
      "bnez a7, 1b\n\t"
      "sw s0, 0(a6)\n\tsw s1, 4(a6)\n\tsw s2, 8(a6)\n\tsw s3, 12(a6)\n\t"
      "addi a6, a6, 16\n\t"
      "add a0, a0, s11\n\t"
      "bne a6, a2, 0b\n\t"
      "lw s0, 0(sp)\n\tlw s1, 4(sp)\n\tlw s2, 8(sp)\n\tlw s3, 12(sp)\n\tlw s4, 16(sp)\n\tlw s5, 20(sp)\n\t"
      "lw s6, 24(sp)\n\tlw s7, 28(sp)\n\tlw s8, 32(sp)\n\tlw s9, 36(sp)\n\tlw s10, 40(sp)\n\tlw s11, 44(sp)\n\t"
      "lw ra, 48(sp)\n\t"
      "addi sp, sp, 64\n\t"
      "ret\n\t" TN_POPRVC);
}

/* tn_lut_ops.rows for b1: 4 rows per pass in assembly, the last nrows % 4 rows portable. */
static void tn_lut_rows8_b1_rv32(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                                 int32_t entries, uint32_t *acc, int32_t first) {
  const int32_t n4 = nrows & ~3;
  if (n4 > 0 && count > 0) tn_lut_rows8x4_rv32(rows0, row_bytes, n4, count, table, acc, first);
  if (n4 < nrows) tn_lut_rows8(rows0 + (size_t)n4 * row_bytes, row_bytes, nrows - n4, count, table, entries, acc + n4, first);
}

/* t5: row 0 and the deltas in C (tn_lut.h), the rows in assembly. */
static void tn_lut5_build_rv32(const int8_t *x, int32_t len, uint32_t *t) {
  int32_t v[8];
  uint32_t a[14], d[3];
  tn_lut_activations(x, len, 5, v);
  tn_lut_ternary_start(v, 5, a, d);
  tn_table5_rv32(t, a, d[0], d[1]);
}

/* The kernels (tn_lut.h: the ops of each format, the driver, TN_LUT_KERNEL). */
TN_LUT_KERNEL(tn_ternary_linear_t5_lut_rv32, TN_LUT_T5(tn_lut5_build_rv32, tn_lut_rows8))
TN_LUT_KERNEL(tn_ternary_linear_t5w_lut_rv32, TN_LUT_T5W(tn_lut5w_build_rv32, tn_lut_rows16_rv32))
TN_LUT_KERNEL(tn_ternary_linear_t6w_lut_rv32, TN_LUT_T6W(tn_lut6w_build_rv32, tn_lut_rows16_rv32))
TN_LUT_KERNEL(tn_binary_linear_b1_lut_rv32, TN_LUT_B1(tn_lut8_build_rv32, tn_lut_rows8_b1_rv32))
