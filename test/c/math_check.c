/*
 * math_check.c - runs runtime-c's scalar math on a list of float bit patterns so that a test can
 * compare every result, bit for bit, with compiler/numerics/f32.ts.
 *   inputs.bin:  u32 count, then count float32 values
 *   outputs.bin: for each value: expf (f32), rintf (f32), quant_i8 (i8 padded to 4 bytes)
 */
#include <stdint.h>
#include "tn_platform.h"
#include "tn_math.h"

static float in_buf[1024];
static uint8_t out_buf[1024 * 12];

int main(void) {
  int in, out;
  uint32_t count = 0, done = 0;
  tn_plat_init();
  in = tn_plat_open("inputs.bin", 0);
  out = tn_plat_open("outputs.bin", 1);
  if (in < 0 || out < 0 || tn_plat_read(in, &count, 4) != 4) {
    tn_plat_puts("math_check: cannot open inputs.bin/outputs.bin");
    tn_plat_exit(2);
  }
  while (done < count) {
    uint32_t n = count - done > 1024u ? 1024u : count - done, i;
    if (tn_plat_read(in, in_buf, n * 4u) != (long)(n * 4u)) tn_plat_exit(3);
    for (i = 0; i < n; ++i) {
      union { float f; uint8_t b[4]; } e, r;
      int8_t q = tn_quant_i8(in_buf[i]);
      e.f = tn_expf(in_buf[i]);
      r.f = tn_rintf(in_buf[i]);
      out_buf[i * 12 + 0] = e.b[0]; out_buf[i * 12 + 1] = e.b[1]; out_buf[i * 12 + 2] = e.b[2]; out_buf[i * 12 + 3] = e.b[3];
      out_buf[i * 12 + 4] = r.b[0]; out_buf[i * 12 + 5] = r.b[1]; out_buf[i * 12 + 6] = r.b[2]; out_buf[i * 12 + 7] = r.b[3];
      out_buf[i * 12 + 8] = (uint8_t)q; out_buf[i * 12 + 9] = 0; out_buf[i * 12 + 10] = 0; out_buf[i * 12 + 11] = 0;
    }
    if (tn_plat_write(out, out_buf, n * 12u) != 0) tn_plat_exit(4);
    done += n;
  }
  tn_plat_close(out);
  tn_plat_exit(0);
  return 0;
}
