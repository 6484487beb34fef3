/*
 * scale_target_check.c - runs tn_scale_rows (runtime-c/tn_epilogue.h), the LUT and int8 kernels' epilogue, on
 * a target (RV32IMC: its assembly loop; Cortex-M3: the C integer path) over runs of outputs from the
 * generator of scale_check.c, and writes every case so that a test can compare it, bit for bit,
 * with compiler/numerics/f32.ts:
 *   outputs.bin: per output: sum (i32), ws, sx, bias (f32 bits), has_bias (u32), y (f32 bits)
 */
#include <stdint.h>
#include "tn_platform.h"
#include "tn_epilogue.h"

#define SCALE_GEN_SEED 0x2545f4914f6cdd1dull
#include "scale_gen.h"

#define RUNS 25000
static uint32_t out_buf[40 * 6];

int main(void) {
  int out;
  uint32_t run;
  tn_plat_init();
  out = tn_plat_open("outputs.bin", 1);
  if (out < 0) {
    tn_plat_puts("scale_target_check: cannot open outputs.bin");
    tn_plat_exit(2);
  }
  for (run = 0; run < RUNS; ++run) {
    uint32_t v[40], sub = rnd(), j, len = 1u + rnd() % 40u, k = rnd() & 7u;
    float ws[40], bias[40], y[40], sx;
    const int with_bias = (int)(rnd() & 1u);
    if (k == 0) sx = scale(1, 60);         /* subnormal and zero results */
    else if (k == 1) sx = scale(150, 254); /* overflow */
    else if (k == 2) sx = f_of(rnd());     /* any bits */
    else sx = scale(100, 130);             /* the kernels' range */
    for (j = 0; j < len; ++j) {
      const int32_t t = sum();
      const uint32_t kw = rnd() & 15u;
      v[j] = (uint32_t)t + sub;
      if (kw == 0) ws[j] = f_of(rnd());
      else if (kw == 1) ws[j] = scale(1, 60);
      else if (kw == 2) ws[j] = scale(200, 254);
      else if (kw == 3 && t != 0) { /* the product rounding up to 2^128 */
        const double p = 0x1.fffffefffffffp127 * (1.0 + (double)(rnd() & 3u) * 0x1p-52);
        ws[j] = f_of(u_of((float)(p / (double)t)) + (rnd() & 3u) - 1u);
      } else ws[j] = scale(100, 130);
      bias[j] = f_of(rnd());
    }
    tn_scale_rows(v, sub, ws, sx, with_bias ? bias : (const float *)0, y, (int32_t)len);
    for (j = 0; j < len; ++j) {
      uint32_t *o = out_buf + 6 * j;
      o[0] = v[j] - sub;
      o[1] = u_of(ws[j]);
      o[2] = u_of(sx);
      o[3] = u_of(bias[j]);
      o[4] = (uint32_t)with_bias;
      o[5] = u_of(y[j]);
    }
    if (tn_plat_write(out, out_buf, len * 24u) != 0) tn_plat_exit(4);
  }
  tn_plat_close(out);
  tn_plat_exit(0);
  return 0;
}
