/*
 * math_ext_check.c - runs the scalar math the ONNX ops use on a list of (x, y) float pairs so that a
 * test can compare every result, bit for bit, with compiler/numerics/f32.ts.
 *   inputs.bin:  u32 count, then count pairs of float32 (x, y)
 *   outputs.bin: for each pair, 9 float32: logf(x), tanhf(x), erff(x), sqrtf(x), sigmoidf(x),
 *                gelu_erff(x), gelu_tanhf(x), powf(x, y), divf(x, y)
 */
#include <stdint.h>
#include "tn_platform.h"
#include "tn_math.h"

#define CHUNK 512u
#define OUTS 9u

static float in_buf[CHUNK * 2u];
static float out_buf[CHUNK * OUTS];

int main(void) {
  int in, out;
  uint32_t count = 0, done = 0;
  tn_plat_init();
  in = tn_plat_open("inputs.bin", 0);
  out = tn_plat_open("outputs.bin", 1);
  if (in < 0 || out < 0 || tn_plat_read(in, &count, 4) != 4) {
    tn_plat_puts("math_ext_check: cannot open inputs.bin/outputs.bin");
    tn_plat_exit(2);
  }
  while (done < count) {
    uint32_t n = count - done > CHUNK ? CHUNK : count - done, i;
    if (tn_plat_read(in, in_buf, n * 8u) != (long)(n * 8u)) tn_plat_exit(3);
    for (i = 0; i < n; ++i) {
      const float x = in_buf[2u * i], y = in_buf[2u * i + 1u];
      float *o = &out_buf[OUTS * i];
      o[0] = tn_logf(x);
      o[1] = tn_tanhf(x);
      o[2] = tn_erff(x);
      o[3] = tn_sqrtf(x);
      o[4] = tn_sigmoidf(x);
      o[5] = tn_gelu_erff(x);
      o[6] = tn_gelu_tanhf(x);
      o[7] = tn_powf(x, y);
      o[8] = tn_divf(x, y);
    }
    if (tn_plat_write(out, out_buf, n * OUTS * 4u) != 0) tn_plat_exit(4);
    done += n;
  }
  tn_plat_close(out);
  tn_plat_exit(0);
  return 0;
}
