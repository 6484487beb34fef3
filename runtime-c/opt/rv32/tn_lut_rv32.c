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

#if !defined(__riscv) || __riscv_xlen != 32
#error "tn_lut_rv32.c is for 32-bit RISC-V"
#endif

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif

#define TN_S(x) #x
#define TN_STR(x) TN_S(x)

/* ---- lookups ------------------------------------------------------------------------------------ */

/* One lookup at byte offset `o` - 190 from the pointer t3: sum t4 += (LKA) or -= (LKS) table[a4 + ix]. */
#define TN_LKA(o) "lhu t6, (" TN_STR(o) "-190)(t3)\n\tadd t6, t6, a4\n\tlhu t6, 0(t6)\n\tadd t4, t4, t6\n\t"
#define TN_LKS(o) "lhu t6, (" TN_STR(o) "-190)(t3)\n\tadd t6, t6, a4\n\tlhu t6, 0(t6)\n\tsub t4, t4, t6\n\t"
#define TN_L8(m, o) m(o) m(o + 2) m(o + 4) m(o + 6) m(o + 8) m(o + 10) m(o + 12) m(o + 14)
#define TN_L16(m, o) TN_L8(m, o) TN_L8(m, o + 16)
/* Every asm statement is assembled on its own: each turns compressed instructions off itself. */
#define TN_NORVC ".option push\n\t.option norvc\n\t"
#define TN_POPRVC ".option pop\n\t"

/* acc[r] += sum of row r's window (tn_lut_ops.rows for t5w/t6w), r < nrows, count <= TN_TW_MAX_WINDOW.
 * a0 = rows0, a1 = row_bytes, a2 = nrows, a3 = count, a4 = table, a5 = entries (unused), a6 = acc.
 * Per row: the header h, the sum starts at acc[r] + (count - h) << 16; the h added offsets are
 * read by the last h lookups of a run of 96 at immediate offsets -190..0 from t3 = a0 + 2 h (the
 * last added offset), the count - h subtracted ones likewise from a second run with t3 = a0 +
 * 2 count (the code is assembled without compressed instructions, so every lookup is 16 bytes:
 * the second run is entered 16 (count - h) bytes before its end, at (end - 16 count) + 16 h). Per
 * call: a2 = the end of acc, a3 = count << 16, a5 = 2 count, a7 = the end of the added run,
 * t0 = the end of the subtracted run - 16 count. */
__attribute__((naked)) static void tn_lut_rows16_rv32(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count,
                                                      const uint32_t *table, int32_t entries, uint32_t *acc) {
  __asm__ volatile(
      TN_NORVC
      "beqz a2, 9f\n\t"
      "slli a2, a2, 2\n\t"
      "add a2, a2, a6\n\t"    /* end of acc */
      "la a7, 2f\n\t"         /* end of the added run */
      "la t0, 4f\n\t"
      "slli t1, a3, 4\n\t"
      "sub t0, t0, t1\n\t"    /* end of the subtracted run - 16 count */
      "slli a5, a3, 1\n\t"    /* 2 count */
      "slli a3, a3, 16\n\t"   /* count << 16 */
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
      "9:\n\t"
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
__attribute__((naked)) static void tn_table5_rv32(uint32_t *t, const uint32_t *a, uint32_t d0, uint32_t c1) {
  __asm__ volatile(TN_LOAD7 TN_ROWS8(0) TN_SW7(8) "addi a0, a0, 252\n\taddi a1, a1, 28\n\t" TN_LOAD7);
  __asm__ volatile(TN_ROWS8(0) TN_SW7(8) "ret\n\t");
}

/* ---- t5w / t6w half tables, built from the activations in registers -------------------------
 *
 * Row 0 of both halves (the words of tn_lut_a27 in tn_lut.c) from x0..x2 and
 * P = l0 * 0x10001, l0 = 0x8000 - x3 - x4 (- x5) - x0 - x1, and the pairs Xi = xi * 0x10001:
 *   e0 = P + (x0 << 16)   e2 = P + 2 x0 + (x1 << 16)   e4 = e0 + X0 + X1   e6 = e0 + 2 X1
 *   half 0: e0 - X2, e2 - X2, e4 - X2, e6 - X2, P + 2 x0 + 2 x1 - x2, e0 + X0, e0 + X1
 *   half 1: e2 + X1, e4 + X1, e0 + X2, e2 + X2, e4 + X2, e6 + X2, P + 2 x0 + 2 x1 + x2 + ((x0 + x1) << 16)
 * stored to both halves' row 0, then each half is loaded back and its rows follow (deltas d0 a2,
 * c1 a3, c2 a4) as in tn_table5_rv32. With a0 = x, a2 = t on entry; the table pointer moves to a0. */
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
__attribute__((naked)) static void tn_lut5w_full_rv32(const int8_t *x, int32_t len, uint32_t *t) {
  __asm__ volatile(TN_X_LOAD TN_X_D01 TN_X_P TN_X_ROW0("140") TN_LOAD7A0);
  __asm__ volatile(TN_AD7("a2") TN_ROW(1, "a2") TN_ROW(2, "a3") TN_ROW(3, "a2") TN_SW7(4) "addi a0, a0, 140\n\t" TN_LOAD7A0);
  __asm__ volatile(TN_AD7("a2") TN_ROW(1, "a2") TN_ROW(2, "a3") TN_SW7(3) "ret\n\t");
}

/* t6w: rows 0..13 of half 0, rows 0..12 of half 1 (at 98 words); after row 8 the delta is c2. */
__attribute__((naked)) static void tn_lut6w_full_rv32(const int8_t *x, int32_t len, uint32_t *t) {
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
__attribute__((used)) static void tn_lut5w_pad_rv32(const int8_t *x, int32_t len, uint32_t *t) {
  int8_t v[8];
  tn_lut_pad_group(x, len, 5, v);
  tn_lut5w_full_rv32(v, 5, t);
}

__attribute__((used)) static void tn_lut6w_pad_rv32(const int8_t *x, int32_t len, uint32_t *t) {
  int8_t v[8];
  tn_lut_pad_group(x, len, 6, v);
  tn_lut6w_full_rv32(v, 6, t);
}

/* The ops' builds: a short group goes to the pad, a whole one to the full build. */
__attribute__((naked)) static void tn_lut5w_build_rv32(const int8_t *x, int32_t len, uint32_t *t) {
  __asm__ volatile("li t0, 5\n\tblt a1, t0, 1f\n\tj tn_lut5w_full_rv32\n1:\n\ttail tn_lut5w_pad_rv32\n\t");
}

__attribute__((naked)) static void tn_lut6w_build_rv32(const int8_t *x, int32_t len, uint32_t *t) {
  __asm__ volatile("li t0, 6\n\tblt a1, t0, 1f\n\tj tn_lut6w_full_rv32\n1:\n\ttail tn_lut6w_pad_rv32\n\t");
}

#define TN_TWICE(v) ((uint32_t)(int32_t)(v) * 0x10001u)

static void tn_lut5_build_rv32(const int8_t *x, int32_t len, uint32_t *t) {
  uint32_t a[14];
  int32_t v[5] = {0, 0, 0, 0, 0}, i;
  for (i = 0; i < len && i < 5; ++i) v[i] = x[i];
  tn_lut_a27(v[0], v[1], v[2], -v[3] - v[4], a);
  tn_table5_rv32(t, a, TN_TWICE(v[3]), TN_TWICE(v[4] - 2 * v[3]));
}

static const tn_lut_ops tn_lut_t5w_rv32 = {5, TN_LUT5W_ENTRIES, 1, 1, tn_lut5w_build_rv32, tn_lut_rows16_rv32};
static const tn_lut_ops tn_lut_t6w_rv32 = {6, TN_LUT6W_ENTRIES, 1, 1, tn_lut6w_build_rv32, tn_lut_rows16_rv32};
static const tn_lut_ops tn_lut_t5_rv32 = {5, TN_LUT5_ENTRIES, 0, 1, tn_lut5_build_rv32, tn_lut_rows8};

void tn_ternary_linear_t5_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                   const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lut_linear(&tn_lut_t5_rv32, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

void tn_ternary_linear_t5w_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lut_linear(&tn_lut_t5w_rv32, x, x_scale, x_per_row, rows, w, bias, flush, y);
}

void tn_ternary_linear_t6w_lut_rv32(const int8_t *x, const float *x_scale, int32_t x_per_row, int32_t rows,
                                    const tn_lowbit_weights *w, const float *bias, int32_t flush, float *y) {
  tn_lut_linear(&tn_lut_t6w_rv32, x, x_scale, x_per_row, rows, w, bias, flush, y);
}
