/*
 * tn_lut_armv7m.c - the LUT kernels (opt/generic/tn_lut.c) with their three hot parts in Thumb-2
 * assembly, for ARMv7-M and ARMv8-M Mainline cores (Cortex-M3, M4, M7, M33): no DSP instruction is
 * needed, so the M3 runs the same code.
 *
 *   tables       one STM of 7 (ternary) or 8 (binary) words plus one ADD per word: a row of the
 *                table is the previous row plus a constant in both halfwords (tn_lut.c, "Tables");
 *                both halves of a ternary table in one routine; for the t5w/t6w half tables the
 *                routine also computes row 0 from the activations
 *   sum16        t5w/t6w lookups: LDRH index (post-increment), LDRH entry, ADD or SUB: 3
 *                instructions per lookup, two unrolled runs of 96 entered at a computed address
 *   sum8x4       t5/b1 lookups for 4 rows: LDRB, LDRH [table, index, LSL #1], ADD per row and
 *                one table-pointer ADD per group
 *
 * In a scale group's first window the lookups set the sums instead of adding to them (the
 * `first` argument of tn_lut_ops.rows), which saves the driver's zeroing pass and a load per row.
 *
 * Everything else (the loops over tokens, planes, scale groups, windows and rows, the exact int32
 * / int64 sums and the float epilogue) is the portable driver tn_lut_linear. Each kernel here has
 * the same signature and computes the same floats as its portable twin in tn_lut.c.
 */
#include "tn_runtime.h"
#include "tn_lut.h"

#if !defined(__thumb2__) || defined(__ARM_ARCH_ISA_ARM)
#error "tn_lut_armv7m.c is for Thumb-2 only cores (ARMv7-M, ARMv8-M Mainline)"
#endif

/* ---- table rows ------------------------------------------------------------------------------ */

#define TN_ADD7(d) "add r4, " d "\n\tadd r5, " d "\n\tadd r6, " d "\n\tadd r7, " d "\n\tadd r8, " d "\n\tadd r9, " d "\n\tadd r10, " d "\n\t"
#define TN_ROW7(d) "stmia r0!, {r4-r10}\n\t" TN_ADD7(d)
/* Nine rows b = 0..8 (digits u3, u4): after row b add d0 (r1) unless u3 wraps: then c1 (r2). */
#define TN_ROWS7_9_BODY TN_ROW7("r1") TN_ROW7("r1") TN_ROW7("r2") TN_ROW7("r1") TN_ROW7("r1") TN_ROW7("r2") TN_ROW7("r1") TN_ROW7("r1")

/* A whole ternary table, both halves (they are contiguous: half 1 starts where half 0's last row
 * ends). r0 = t, r1 = a (14 words, row 0 of half 0 then of half 1), r2 = d = {d0, c1, c2}.
 * Registers: rows r4-r10, t r0 (STM writes back), deltas r1/r2/r3, a r12. */
#define TN_HALF_START "ldm r12!, {r4-r10}\n\t"

/* (Several asm statements: C99 compilers need only take string literals of 4095 characters.) */
__attribute__((naked)) static void tn_table5(TN_REG_ARG uint32_t *t, TN_REG_ARG const uint32_t *a, TN_REG_ARG const uint32_t *d) {
  __asm__ volatile(
      ".syntax unified\n\t"
      "push {r4-r11, lr}\n\t"
      "mov r12, r1\n\t"
      "ldm r2, {r1-r3}\n\t" TN_HALF_START TN_ROWS7_9_BODY "stmia r0!, {r4-r10}\n\t");
  __asm__ volatile(TN_HALF_START TN_ROWS7_9_BODY
                   "stmia r0!, {r4-r10}\n\t"
                   "pop {r4-r11, pc}\n\t");
}

/* ---- t5w / t6w half tables, built from the activations in registers --------------------------
 *
 * tn_lut_ops.build for t5w / t6w: r0 = x, r1 = len, r2 = t. With fewer than g activations left it
 * goes to the C helper (zero padding). Row 0 of both halves is computed in registers as
 * tn_lut_ternary_start in tn_lut.h says (the same words as tn_lut_a27), stored to both halves' row 0;
 * then each half is loaded and its rows follow as in tn_table5, deltas d0 r1, c1 r2, c2 r3. h1 = the
 * byte offset of half 1. */
#define TN_A27_ROW0(h1)                                                            \
  "add.w r12, r7, r7, lsl #16\n\t"   /* X0 */                                    \
  "add.w r10, r8, r8, lsl #16\n\t"   /* X1 */                                    \
  "add.w lr, r9, r9, lsl #16\n\t"    /* X2 */                                    \
  "add.w r4, r11, r7, lsl #16\n\t"   /* e0 */                                    \
  "add.w r5, r11, r7, lsl #1\n\t"                                                \
  "add.w r5, r5, r8, lsl #16\n\t"    /* e2 */                                    \
  "sub.w r6, r4, lr\n\tstr r6, [r0]\n\t"                                         \
  "add.w r6, r4, lr\n\tstr r6, [r0, #" h1 "+8]\n\t"                              \
  "sub.w r6, r5, lr\n\tstr r6, [r0, #4]\n\t"                                     \
  "add.w r6, r5, lr\n\tstr r6, [r0, #" h1 "+12]\n\t"                             \
  "add.w r6, r5, r10\n\tstr r6, [r0, #" h1 "]\n\t"                               \
  "add.w r5, r4, r12\n\tstr r5, [r0, #20]\n\t" /* e0 + X0 */                    \
  "add r5, r10\n\t"                  /* e4 */                                    \
  "sub.w r6, r5, lr\n\tstr r6, [r0, #8]\n\t"                                     \
  "add.w r6, r5, lr\n\tstr r6, [r0, #" h1 "+16]\n\t"                             \
  "add.w r6, r5, r10\n\tstr r6, [r0, #" h1 "+4]\n\t"                             \
  "add r4, r10\n\tstr r4, [r0, #24]\n\t" /* e0 + X1 */                          \
  "add r4, r10\n\t"                  /* e6 */                                    \
  "sub.w r6, r4, lr\n\tstr r6, [r0, #12]\n\t"                                    \
  "add.w r6, r4, lr\n\tstr r6, [r0, #" h1 "+20]\n\t"                             \
  "add.w r5, r7, r8\n\t"             /* x0 + x1 */                               \
  "add.w r6, r11, r5, lsl #1\n\t"                                                \
  "sub.w r4, r6, r9\n\tstr r4, [r0, #16]\n\t"                                    \
  "add r6, r9\n\t"                                                               \
  "add.w r6, r6, r5, lsl #16\n\tstr r6, [r0, #" h1 "+24]\n\t"                    \
  "ldm r0, {r4-r10}\n\t"

/* x0..x2 in r7..r9, l0 in r11 (then P), deltas d0 r1, c1 r2 from x3 r4, x4 r5. */
#define TN_X_LOAD5                                                                 \
  "ldrsb.w r4, [r12, #3]\n\tldrsb.w r5, [r12, #4]\n\t"                          \
  "ldrsb.w r7, [r12]\n\tldrsb.w r8, [r12, #1]\n\tldrsb.w r9, [r12, #2]\n\t"    \
  "add.w r11, r4, r5\n\t"
#define TN_X_L0                                                                    \
  "rsb r11, r11, #32768\n\t"                                                     \
  "sub r11, r7\n\tsub r11, r8\n\t"                                               \
  "add.w r11, r11, r11, lsl #16\n\t"                                             \
  "add.w r1, r4, r4, lsl #16\n\t"                                                \
  "sub.w r2, r5, r4, lsl #1\n\tadd.w r2, r2, r2, lsl #16\n\t"
#define TN_ROWS7_3 TN_ROW7("r1") TN_ROW7("r1") TN_ROW7("r2")

/* t5w: rows 0..4 of half 0, then rows 0..3 of half 1 (at 35 words). */
#define TN_LUT5W_BODY                                                                            \
  "push {r4-r11, lr}\n\t"                                                                        \
  "mov r12, r0\n\t"                                                                              \
  "mov r0, r2\n\t" TN_X_LOAD5 TN_X_L0 TN_A27_ROW0("140") TN_ROWS7_3 TN_ROW7("r1")                 \
  "stmia r0!, {r4-r10}\n\t"                                                                      \
  "ldm r0, {r4-r10}\n\t" TN_ROWS7_3 "stmia r0!, {r4-r10}\n\t"                                    \
  "pop {r4-r11, pc}\n\t"

/* t6w: rows 0..13 of half 0, rows 0..12 of half 1 (at 98 words); after row 8 the delta is c2 (r3).
 * (Two asm statements: C99 compilers need only take string literals of 4095 characters.) */
#define TN_LUT6W_HEAD                                                                            \
  "push {r4-r11, lr}\n\t"                                                                        \
  "mov r12, r0\n\t"                                                                              \
  "mov r0, r2\n\t" TN_X_LOAD5                                                                    \
  "ldrsb.w r6, [r12, #5]\n\t"                                                                    \
  "add r11, r6\n\t" TN_X_L0                                                                      \
  "sub.w r3, r6, r5, lsl #1\n\tsub.w r3, r3, r4, lsl #1\n\tadd.w r3, r3, r3, lsl #16\n\t" TN_A27_ROW0("392")
#define TN_LUT6W_TAIL                                                                            \
  TN_ROWS7_9_BODY TN_ROW7("r3") TN_ROWS7_3 TN_ROW7("r1") "stmia r0!, {r4-r10}\n\t"                \
  "ldm r0, {r4-r10}\n\t" TN_ROWS7_9_BODY TN_ROW7("r3") TN_ROWS7_3 "stmia r0!, {r4-r10}\n\t"      \
  "pop {r4-r11, pc}\n\t"

/* The builds of a whole group (len = g). The pads below call these, not the checked entry points,
 * so the call graph has no cycle and the stack estimate stays bounded. */
__attribute__((naked)) static void tn_lut5w_full_armv7m(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile(".syntax unified\n\t" TN_LUT5W_BODY);
}

__attribute__((naked)) static void tn_lut6w_full_armv7m(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile(".syntax unified\n\t" TN_LUT6W_HEAD);
  __asm__ volatile(TN_LUT6W_TAIL);
}

/* The last group of a scale group may have fewer than g activations: pad with zeros. */
TN_LUT_PAD(tn_lut5w_pad_armv7m, tn_lut5w_full_armv7m, 5)
TN_LUT_PAD(tn_lut6w_pad_armv7m, tn_lut6w_full_armv7m, 6)

/* The ops' builds: a short group goes to the pad, a whole one runs the same code as the full build. */
__attribute__((naked)) static void tn_lut5w_build_armv7m(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile(".syntax unified\n\t"
                   "cmp r1, #5\n\t"
                   "blt.w tn_lut5w_pad_armv7m\n\t" TN_LUT5W_BODY);
}

__attribute__((naked)) static void tn_lut6w_build_armv7m(TN_REG_ARG const int8_t *x, TN_REG_ARG int32_t len, TN_REG_ARG uint32_t *t) {
  __asm__ volatile(".syntax unified\n\t"
                   "cmp r1, #6\n\t"
                   "blt.w tn_lut6w_pad_armv7m\n\t" TN_LUT6W_HEAD);
  __asm__ volatile(TN_LUT6W_TAIL);
}

#define TN_ADD8(d) "add r4, " d "\n\tadd r5, " d "\n\tadd r6, " d "\n\tadd r7, " d "\n\tadd r8, " d "\n\tadd r9, " d "\n\tadd r10, " d "\n\tadd r11, " d "\n\t"
#define TN_ROW8(d) "stmia r0!, {r4-r11}\n\t" TN_ADD8(d)

/* Binary: r0 = a (8 words, the low-nibble entries), r1 = t, r2 = d = {D1, D2, D3, D4, start}:
 * 16 rows of 8 words; after row b the high nibble b counts up: D1 = 2 x4, D2 = 2 x5 - 2 x4, ... */
__attribute__((naked)) static void tn_rows8_16(TN_REG_ARG const uint32_t *a, TN_REG_ARG uint32_t *t, TN_REG_ARG const uint32_t *d) {
  __asm__ volatile(
      ".syntax unified\n\t"
      "push {r4-r11, lr}\n\t"
      "ldm r0, {r4-r11}\n\t"
      "ldr r0, [r2, #16]\n\t" TN_ADD8("r0")
      "mov r0, r1\n\t"
      "ldr r12, [r2, #12]\n\t"
      "ldm r2, {r1-r3}\n\t"
      TN_ROW8("r1") TN_ROW8("r2") TN_ROW8("r1") TN_ROW8("r3") TN_ROW8("r1") TN_ROW8("r2") TN_ROW8("r1") TN_ROW8("r12")
      TN_ROW8("r1") TN_ROW8("r2") TN_ROW8("r1") TN_ROW8("r3") TN_ROW8("r1") TN_ROW8("r2") TN_ROW8("r1")
      "stmia r0!, {r4-r11}\n\t"
      "pop {r4-r11, pc}\n\t");
}

/* The t5 and b1 builds: row 0 and the deltas in C (tn_lut.h), the rows in assembly. */
static void tn_lut5_build_armv7m(const int8_t *x, int32_t len, uint32_t *t) {
  int32_t v[8];
  uint32_t a[14], d[3];
  tn_lut_activations(x, len, 5, v);
  tn_lut_ternary_start(v, 5, a, d);
  tn_table5(t, a, d);
}

static void tn_lut8_build_armv7m(const int8_t *x, int32_t len, uint32_t *t) {
  int32_t v[8];
  uint32_t a[8], d[5];
  tn_lut_activations(x, len, 8, v);
  tn_lut8_start(v, a, d);
  tn_rows8_16(a, t, d);
}

/* ---- lookups ------------------------------------------------------------------------------------ */

/* One t5w/t6w lookup in 8 bytes of code (low registers for the 16-bit encodings), so that a run of
 * n lookups can be entered at end - 8 n: ix r8 (post-increment), table r4, sum r0; TN_LKA adds the
 * entry, TN_LKS subtracts it (SUBS: the flags are not used). */
#define TN_LKA "ldrh r3, [r8], #2\n\tldrh.n r3, [r4, r3]\n\tadd.n r0, r3\n\t"
#define TN_LKS "ldrh r3, [r8], #2\n\tldrh.n r3, [r4, r3]\n\tsubs.n r0, r0, r3\n\t"
#define TN_X4(m) m m m m
#define TN_X32(m) TN_X4(TN_X4(m)) TN_X4(TN_X4(m))
#define TN_X96(m) TN_X32(m) TN_X32(m) TN_X32(m)

/* acc[r] += sum of row r's window (tn_lut_ops.rows for t5w/t6w), r < nrows, count <= TN_TW_MAX_WINDOW;
 * first != 0: acc[r] = the sum. r0 = rows0, r1 = row_bytes, r2 = nrows, r3 = count, [sp] = table,
 * [sp + 4] = entries, [sp + 8] = acc, [sp + 12] = first.
 * Per row: the header h (lookups that add), the sum starts at acc[r] + (count - h) * 0x10000 (first:
 * at (count - h) * 0x10000, no load), then h lookups entered at the end of a run of 96 that add, and
 * count - h at the end of a run of 96 that subtract: 12 instructions per row besides the lookups, 11
 * when first; the index pointer runs on from one row to the next (r1 - 2 (count + 1) bytes between
 * them). The two cases share the run that adds; each has its own run that subtracts, which falls
 * into its own loop tail (lr: the end of that run), so neither tests the flag per row.
 * aligned(4): ADR's offset is computed by the assembler relative to Align(PC, 4), which only holds
 * if the function starts on a word. */
__attribute__((naked, aligned(4))) static void tn_lut_rows16_armv7m(TN_REG_ARG const uint8_t *rows0, TN_REG_ARG size_t row_bytes,
                                                                    TN_REG_ARG int32_t nrows, TN_REG_ARG int32_t count, TN_REG_ARG const uint32_t *table,
                                                                    TN_REG_ARG int32_t entries, TN_REG_ARG uint32_t *acc, TN_REG_ARG int32_t first) {
  __asm__ volatile(
      ".syntax unified\n\t"
      "push {r4-r11, lr}\n\t"
      "ldr r4, [sp, #36]\n\t"
      "ldr r5, [sp, #44]\n\t"
      "ldr r7, [sp, #48]\n\t"
      "mov r6, r3\n\t"
      "mov r8, r0\n\t"
      "movs r9, r2\n\t"
      "beq 9f\n\t"
      "sub.w r1, r1, r3, lsl #1\n\t"
      "subs r1, #2\n\t"
      "adr.w r12, 2f\n\t"
      "orr r12, r12, #1\n\t"
      "cmp r7, #0\n\t"
      "bne.w 5f\n\t"
      "adr.w lr, 4f\n\t"
      "orr lr, lr, #1\n\t"
      "0:\n\t"
      "ldrh r10, [r8], #2\n\t"
      "ldr r0, [r5]\n\t"
      "sub r11, r6, r10\n\t"
      "add.w r0, r0, r11, lsl #16\n\t"
      "sub.w r7, r12, r10, lsl #3\n\t"
      "bx r7\n\t"
      "1:\n\t" TN_X32(TN_LKA));
  __asm__ volatile(TN_X32(TN_LKA));
  __asm__ volatile(TN_X32(TN_LKA)
      "2:\n\t"
      "sub.w r7, lr, r11, lsl #3\n\t"
      "bx r7\n\t"
      "3:\n\t" TN_X32(TN_LKS));
  __asm__ volatile(TN_X32(TN_LKS));
  __asm__ volatile(TN_X32(TN_LKS)
      "4:\n\t"
      "str r0, [r5], #4\n\t"
      "add r8, r1\n\t"
      "subs r9, #1\n\t"
      "bne 0b\n\t"
      "pop {r4-r11, pc}\n\t"
      "5:\n\t" /* first */
      "adr.w lr, 7f\n\t"
      "orr lr, lr, #1\n\t"
      "6:\n\t"
      "ldrh r10, [r8], #2\n\t"
      "sub r11, r6, r10\n\t"
      "lsl r0, r11, #16\n\t"
      "sub.w r7, r12, r10, lsl #3\n\t"
      "bx r7\n\t" TN_X32(TN_LKS));
  __asm__ volatile(TN_X32(TN_LKS));
  __asm__ volatile(TN_X32(TN_LKS)
      "7:\n\t"
      "str r0, [r5], #4\n\t"
      "add r8, r1\n\t"
      "subs r9, #1\n\t"
      "bne 6b\n\t"
      "9:\n\t"
      "pop {r4-r11, pc}\n\t");
}

typedef struct tn_rows8_args {
  const uint8_t *c[4]; /* the 4 rows' index bytes */
  int32_t count;
  const uint32_t *table;
  int32_t stride; /* bytes between tables */
  uint32_t *acc;  /* 4 sums, added to (first == 0) or set */
  int32_t first;
} tn_rows8_args;

/* One group for 4 rows: index bytes from r4..r7 (post-increment), table r2, sums r8..r11. */
#define TN_LB(p, s) "ldrb r0, [" p "], #1\n\tldrh.w r0, [r2, r0, lsl #1]\n\tadd " s ", r0\n\t"
#define TN_G4 TN_LB("r4", "r8") TN_LB("r5", "r9") TN_LB("r6", "r10") TN_LB("r7", "r11") "add r2, r3\n\t"

__attribute__((naked)) static void tn_lut_rows8x4_core(TN_REG_ARG const tn_rows8_args *a) {
  __asm__ volatile(
      ".syntax unified\n\t"
      "push {r4-r11, lr}\n\t"
      "mov r12, r0\n\t"
      "ldm r0, {r4-r7}\n\t"
      "ldr r1, [r12, #16]\n\t"
      "ldr r2, [r12, #20]\n\t"
      "ldr r3, [r12, #24]\n\t"
      "ldr r0, [r12, #32]\n\t" /* first: the sums start at 0, else at acc[0..3] */
      "cbnz r0, 5f\n\t"
      "ldr r0, [r12, #28]\n\t"
      "ldm r0, {r8-r11}\n\t"
      "b 6f\n\t"
      "5:\n\t"
      "mov.w r8, #0\n\t"
      "mov.w r9, #0\n\t"
      "mov.w r10, #0\n\t"
      "mov.w r11, #0\n\t"
      "6:\n\t"
      "subs r1, #4\n\t"
      "blt 2f\n\t"
      "1:\n\t" TN_G4 TN_G4 TN_G4 TN_G4
      "subs r1, #4\n\t"
      "bge 1b\n\t"
      "2:\n\t"
      "adds r1, #4\n\t"
      "beq 4f\n\t"
      "3:\n\t" TN_G4
      "subs r1, #1\n\t"
      "bne 3b\n\t"
      "4:\n\t"
      "ldr r0, [r12, #28]\n\t"
      "stm r0, {r8-r11}\n\t"
      "pop {r4-r11, pc}\n\t");
}

/* tn_lut_ops.rows for byte indices (t5, b1): four rows per call of the core, the rest portable. */
static void tn_lut_rows8_armv7m(const uint8_t *rows0, size_t row_bytes, int32_t nrows, int32_t count, const uint32_t *table,
                                int32_t entries, uint32_t *acc, int32_t first) {
  tn_rows8_args a;
  int32_t r = 0;
  a.count = count;
  a.table = table;
  a.stride = entries * 2;
  a.first = first;
  for (; r + 4 <= nrows; r += 4) {
    a.c[0] = rows0 + (size_t)r * row_bytes;
    a.c[1] = a.c[0] + row_bytes;
    a.c[2] = a.c[1] + row_bytes;
    a.c[3] = a.c[2] + row_bytes;
    a.acc = acc + r;
    if (count > 0) tn_lut_rows8x4_core(&a);
  }
  if (r < nrows) tn_lut_rows8(rows0 + (size_t)r * row_bytes, row_bytes, nrows - r, count, table, entries, acc + r, first);
}

/* The kernels (tn_lut.h: the ops of each format, the driver, TN_LUT_KERNEL). */
TN_LUT_KERNEL(tn_ternary_linear_t5_lut_armv7m, TN_LUT_T5(tn_lut5_build_armv7m, tn_lut_rows8_armv7m))
TN_LUT_KERNEL(tn_ternary_linear_t5w_lut_armv7m, TN_LUT_T5W(tn_lut5w_build_armv7m, tn_lut_rows16_armv7m))
TN_LUT_KERNEL(tn_ternary_linear_t6w_lut_armv7m, TN_LUT_T6W(tn_lut6w_build_armv7m, tn_lut_rows16_armv7m))
TN_LUT_KERNEL(tn_binary_linear_b1_lut_armv7m, TN_LUT_B1(tn_lut8_build_armv7m, tn_lut_rows8_armv7m))
