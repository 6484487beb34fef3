/* tn_fmul (tn_runtime.h), the float multiply of the kernels' epilogues on cores without an FPU,
 * built here with its soft-float path forced on (TN_TEST_FMUL) and compared bit for bit with the
 * host's multiply: random operands, tiny and huge exponents (overflow, underflow, subnormal
 * results: the fallback), short significands (ties) and integer-times-power-of-two products. */
#define TN_TEST_FMUL 1
#include "tn_runtime.h"
#include <stdio.h>
static uint64_t s = 88172645463325252ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)s; }
int main(void) {
  uint64_t bad = 0, n = 0, i;
  for (i = 0; i < 40000000ull; ++i) {
    union { float f; uint32_t u; } a, b, r1, r2;
    uint32_t k = rnd() & 7;
    a.u = rnd(); b.u = rnd();
    if (k == 0) { a.u = (a.u & 0x807fffffu) | ((rnd() % 30u) << 23); }            /* tiny exponents */
    if (k == 1) { a.u = (a.u & 0x807fffffu) | ((250u + rnd() % 6u) << 23); }      /* huge */
    if (k == 2) { a.u = (a.u & 0x807fffffu) | (127u << 23); b.u = (b.u & 0x807fffffu) | ((1u + rnd() % 3u) << 23); } /* near the subnormal edge */
    if (k == 3) { a.u &= 0xff800000u | (rnd() & 0xfu); b.u &= 0xff800000u | (rnd() & 0x3u); } /* short significands: ties */
    if (k == 4) { a.u = (a.u & 0x80000000u) | ((100u + rnd() % 56u) << 23) | (rnd() & 0x7fffffu); b.u = (b.u & 0x80000000u) | ((100u + rnd() % 56u) << 23) | (rnd() & 0x7fffffu); }
    r1.f = tn_fmul(a.f, b.f);
    r2.f = a.f * b.f;
    ++n;
    if (r1.u != r2.u && !(r1.f != r1.f && r2.f != r2.f)) { if (bad < 10) printf("%08x * %08x: %08x vs %08x\n", a.u, b.u, r1.u, r2.u); ++bad; }
  }
  /* exhaustive ties: integers times powers of two */
  for (i = 1; i < 5000000ull; ++i) {
    union { float f; uint32_t u; } r1, r2;
    float a = (float)(uint32_t)(i * 2654435761u >> 8), b = (float)(i % 4097u + 1u) * 0.0009765625f;
    r1.f = tn_fmul(a, b); r2.f = a * b; ++n;
    if (r1.u != r2.u) { if (bad < 10) printf("tie %08x\n", r1.u); ++bad; }
  }
  printf("%llu of %llu differ\n", (unsigned long long)bad, (unsigned long long)n);
  return bad != 0;
}
