/*
 * bench_count.c - instruction counts of the benchmark cases on an emulated target.
 *
 * bench.ctl (u32 pairs): case index, repetitions; for each pair the harness runs the case once
 * (warm-up, its output goes to bench.out) then `repetitions` times between two reads of
 * tn_plat_counter(), and writes the counter difference (minus the cost of reading the counter).
 *   bench.out: per pair: y bytes of the case, u64 counter units.
 * Bare-metal targets count with SysTick or minstret under -icount shift=0 (targets/README.md);
 * on qemu-user the counter is 0 and bench/run.ts counts with a TCG plugin instead, running the
 * harness twice with different repetitions and taking the difference.
 */
#include <stdint.h>
#include "bench.h"
#include "tn_platform.h"

/* The blob: on bare metal a section the bench linker script places in the board's large RAM. */
#if defined(TN_BENCH_BLOB_SECTION)
static uint64_t blob_mem[(TN_BENCH_BLOB_MAX + 7) / 8] __attribute__((section(TN_BENCH_BLOB_SECTION)));
#else
static uint64_t blob_mem[(TN_BENCH_BLOB_MAX + 7) / 8];
#endif

static void die(const char *m) {
  tn_plat_puts(m);
  tn_plat_exit(2);
}

static void put(int h, const void *p, unsigned long n) {
  if (tn_plat_write(h, p, n) != 0) die("bench: cannot write bench.out");
}

int main(void) {
  uint8_t *blob = (uint8_t *)blob_mem;
  uint32_t ctl[2];
  uint64_t c0, c1, overhead;
  int in, ctlh, out;
  tn_plat_init();
  if (tn_bench_blob_bytes > sizeof blob_mem) die("bench: the data blob is larger than TN_BENCH_BLOB_MAX");
  in = tn_plat_open("bench.bin", 0);
  ctlh = tn_plat_open("bench.ctl", 0);
  out = tn_plat_open("bench.out", 1);
  if (in < 0 || ctlh < 0 || out < 0) die("bench: cannot open bench.bin, bench.ctl or bench.out");
  if (tn_plat_read(in, blob, tn_bench_blob_bytes) != (long)tn_bench_blob_bytes) die("bench: bench.bin is short");
  tn_plat_close(in);
  c0 = tn_plat_counter();
  c1 = tn_plat_counter();
  overhead = c1 - c0;
  while (tn_plat_read(ctlh, ctl, 8) == 8) {
    const tn_bench_case *c;
    uint32_t r;
    uint64_t units;
    if (ctl[0] >= tn_bench_case_count) die("bench: bad case index in bench.ctl");
    c = &tn_bench_cases[ctl[0]];
    c->run(blob, 0);
    put(out, blob + c->y_offset, c->y_bytes);
    c0 = tn_plat_counter();
    for (r = 0; r < ctl[1]; ++r) c->run(blob, 0);
    c1 = tn_plat_counter();
    units = c1 - c0 > overhead ? c1 - c0 - overhead : 0;
    put(out, &units, 8);
  }
  tn_plat_close(out);
  tn_plat_close(ctlh);
  tn_plat_exit(0);
  return 0;
}
