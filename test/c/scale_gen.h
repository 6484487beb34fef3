/* scale_gen.h - the operand generator of scale_check.c (host) and scale_target_check.c (targets):
 * xorshift random numbers, scales of chosen exponent ranges and significand kinds, and sums of every
 * size. Define SCALE_GEN_SEED before including it. */
#ifndef SCALE_GEN_H
#define SCALE_GEN_H
#include <stdint.h>

static uint64_t s = SCALE_GEN_SEED;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
typedef union { float f; uint32_t u; } bits;
static float f_of(uint32_t u) { bits b; b.u = u; return b.f; }
static uint32_t u_of(float f) { bits b; b.f = f; return b.u; }
/* a random float with biased exponent in [lo, hi] and a significand of the given kind */
static float scale(uint32_t lo, uint32_t hi) {
  uint32_t m = rnd() & 0x7fffffu, k = rnd() & 7u;
  if (k == 0) m &= 0x7f0000u;        /* short: ties */
  if (k == 1) m |= 0x7fff00u;        /* near 2: carries */
  if (k == 2) m = 0;                 /* powers of two */
  return f_of((rnd() & 0x80000000u) | ((lo + rnd() % (hi - lo + 1u)) << 23) | m);
}
static int32_t sum(void) {
  uint32_t k = rnd() % 10u, r = rnd();
  switch (k) {
  case 0: return (int32_t)(r % 3u) - 1;                            /* -1, 0, 1 */
  case 1: return (int32_t)(r & 0xffffu) - 0x8000;                  /* LUT-sized sums */
  case 2: return (int32_t)(r & 0x1ffffffu) - 0x1000000;            /* around 2^24 */
  case 3: return (int32_t)(0x1000000u - (r & 15u)) * ((r & 16u) ? -1 : 1);
  case 4: return (int32_t)r;                                       /* anything */
  case 5: return (int32_t)((r & 0xfu) << (rnd() % 28u)) * ((r & 16u) ? -1 : 1); /* short: ties */
  case 6: return r & 1u ? INT32_MIN : INT32_MAX;
  default: return (int32_t)(r >> (rnd() % 32u)) * ((r & 1u) ? -1 : 1);
  }
}

#endif
