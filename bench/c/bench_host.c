/*
 * bench_host.c - time the benchmark cases on the host (the machine running `npm run bench`).
 *
 * Usage: bench_host bench.bin bench.out [case ...]
 * Prints one line per measurement to stdout:
 *   bandwidth <GB/s median> <GB/s best>      a STREAM-like read of 512 MiB (sum of 64-bit words; the
 *                                            faster of a scalar and an AVX2 loop each time)
 *   pages <kB on huge pages>
 *   case <index> <ns per call median> <ns per call best> <calls per repeat> [<GB/s read beside it>]
 * and writes each case's output (after a warm-up call) to bench.out, for bench/run.ts to check
 * against the interpreter's arithmetic. Each figure is the median of 7 repeats of at least 40 ms;
 * cases with several weight copies cycle through them, so that weights come from DRAM. For cases
 * whose weights come from DRAM (48 MiB or more in all), each repeat is preceded by a read of the
 * 512 MiB buffer, and the median of those reads is printed with the case: the kernel and the
 * bandwidth it is compared with are then measured in the same minute, under the same load (on this
 * shared VM the read bandwidth drifts by 10-20 % over the minutes a whole run takes).
 *
 * Pages: 4 KiB, as a generated program's const weights get. TN_BENCH_PAGES=2m asks for 2 MiB pages
 * for both the weights and the read buffer (madvise MADV_HUGEPAGE; Linux's transparent huge pages
 * in "madvise" mode, the default here); on this machine kind that made no difference beyond the
 * run-to-run spread. The line "pages <kB>" tells how much of the process is on huge pages once
 * everything is allocated (0: none).
 *
 * Times are the thread's CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time: on this shared 2-vCPU
 * VM other jobs often keep the load above 2, and wall time then counts the slices in which the
 * scheduler runs them instead of the benchmark (a load of 6-8 halved every figure, the read
 * bandwidth included). Stalls on memory are CPU time, so DRAM cases are still measured in full;
 * contention for the caches and memory from the other core is not removed.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include "bench.h"

#define REPEATS 7

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sum of 64-bit words: the read bandwidth one core gets from DRAM. */
static uint64_t read_sum(const uint64_t *p, size_t n) {
  uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i;
  for (i = 0; i + 4 <= n; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  return s0 + s1 + s2 + s3;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
/* The same sum with 256-bit loads, 8 per iteration: on this machine kind it reads 20-40 % faster
 * than the scalar loop, so the kernels are compared with the faster of the two. */
__attribute__((target("avx2"))) static uint64_t read_sum_avx2(const uint64_t *p, size_t n) {
  __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
  size_t i;
  for (i = 0; i + 32 <= n; i += 32) {
    a = _mm256_add_epi64(a, _mm256_load_si256((const __m256i *)(const void *)(p + i)));
    b = _mm256_add_epi64(b, _mm256_load_si256((const __m256i *)(const void *)(p + i + 4)));
    c = _mm256_add_epi64(c, _mm256_load_si256((const __m256i *)(const void *)(p + i + 8)));
    d = _mm256_add_epi64(d, _mm256_load_si256((const __m256i *)(const void *)(p + i + 12)));
    a = _mm256_add_epi64(a, _mm256_load_si256((const __m256i *)(const void *)(p + i + 16)));
    b = _mm256_add_epi64(b, _mm256_load_si256((const __m256i *)(const void *)(p + i + 20)));
    c = _mm256_add_epi64(c, _mm256_load_si256((const __m256i *)(const void *)(p + i + 24)));
    d = _mm256_add_epi64(d, _mm256_load_si256((const __m256i *)(const void *)(p + i + 28)));
  }
  a = _mm256_add_epi64(_mm256_add_epi64(a, b), _mm256_add_epi64(c, d));
  return (uint64_t)_mm256_extract_epi64(a, 0) + (uint64_t)_mm256_extract_epi64(a, 1) + (uint64_t)_mm256_extract_epi64(a, 2) + (uint64_t)_mm256_extract_epi64(a, 3);
}
static int have_avx2(void) {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 5));
}
#else
static uint64_t read_sum_avx2(const uint64_t *p, size_t n) { return read_sum(p, n); }
static int have_avx2(void) { return 0; }
#endif

static volatile uint64_t sink;

/* Ask for 2 MiB pages for [p, p + n) if TN_BENCH_PAGES=2m. */
static void huge_pages(void *p, size_t n) {
  const char *e = getenv("TN_BENCH_PAGES");
#ifdef MADV_HUGEPAGE
  if (e && strcmp(e, "2m") == 0) (void)madvise(p, n, MADV_HUGEPAGE);
#else
  (void)p, (void)n, (void)e;
#endif
}

/* kB of this process on transparent huge pages (/proc/self/smaps_rollup), -1 if unknown. */
static long huge_kb(void) {
  char line[256];
  long kb = -1;
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "AnonHugePages:", 14) == 0) kb = atol(line + 14);
  fclose(f);
  return kb;
}

/* Nanoseconds of one read of the buffer: the faster of the scalar and (if the CPU has it) the AVX2 sum. */
static double read_ns(const uint64_t *bw, size_t n) {
  double t0 = now_ns(), t1;
  sink = read_sum(bw, n);
  t1 = now_ns() - t0;
  if (have_avx2()) {
    double t2;
    t0 = now_ns();
    sink = read_sum_avx2(bw, n);
    t2 = now_ns() - t0;
    if (t2 < t1) t1 = t2;
  }
  return t1;
}

int main(int argc, char **argv) {
  const size_t bw_words = (size_t)512 << 17; /* 512 MiB */
  double t[REPEATS], tb[REPEATS];
  uint64_t *bw;
  uint8_t *blob;
  FILE *f, *out;
  size_t i;
  int r, a;
  if (argc < 3) {
    fprintf(stderr, "usage: bench_host bench.bin bench.out [case ...]\n");
    return 2;
  }
  if (posix_memalign((void **)&blob, 2 << 20, (size_t)tn_bench_blob_bytes + (size_t)tn_bench_ext_bytes + 64) != 0) blob = NULL;
  if (blob) huge_pages(blob, (size_t)tn_bench_blob_bytes + (size_t)tn_bench_ext_bytes + 64);
  f = fopen(argv[1], "rb");
  out = fopen(argv[2], "wb");
  if (!blob || !f || !out || fread(blob, 1, tn_bench_blob_bytes, f) != tn_bench_blob_bytes) {
    fprintf(stderr, "bench_host: cannot read %s or write %s\n", argv[1], argv[2]);
    return 2;
  }
  fclose(f);
  for (i = 0; i < tn_bench_case_count; ++i) { /* weight copies for the DRAM runs */
    const tn_bench_case *c = &tn_bench_cases[i];
    uint32_t k;
    for (k = 0; c->copies > 1 && k < c->copies; ++k) memcpy(blob + c->copy_offset + k * c->copy_stride, blob + c->w_offset, c->w_bytes);
  }

  if (posix_memalign((void **)&bw, 2 << 20, bw_words * 8) != 0) return 2;
  huge_pages(bw, bw_words * 8);
  for (i = 0; i < bw_words; ++i) bw[i] = i;
  (void)read_ns(bw, bw_words);
  printf("pages %ld\n", huge_kb());
  for (r = 0; r < REPEATS; ++r) t[r] = read_ns(bw, bw_words);
  qsort(t, REPEATS, sizeof t[0], cmp_double);
  printf("bandwidth %.3f %.3f\n", (double)bw_words * 8 / t[REPEATS / 2], (double)bw_words * 8 / t[0]);

  for (a = 3; a < argc || (argc == 3 && a == 3); ++a) {
    uint32_t first = 0, last = tn_bench_case_count, ci;
    if (argc > 3) first = (uint32_t)atoi(argv[a]), last = first + 1;
    for (ci = first; ci < last; ++ci) {
      const tn_bench_case *c = &tn_bench_cases[ci];
      const int dram = (uint64_t)c->w_bytes * c->copies >= ((uint64_t)48 << 20);
      uint32_t calls = 1, copy = 0, k;
      c->run(blob, 0);
      fwrite(blob + c->y_offset, 1, c->y_bytes, out);
      for (;;) { /* calls per repeat: at least 40 ms */
        const double t0 = now_ns();
        for (k = 0; k < calls; ++k) c->run(blob, copy = (copy + 1) % c->copies);
        if (now_ns() - t0 >= 40e6 || calls >= (1u << 30)) break;
        calls *= 2;
      }
      for (r = 0; r < REPEATS; ++r) {
        double t0;
        if (dram) tb[r] = read_ns(bw, bw_words);
        t0 = now_ns();
        for (k = 0; k < calls; ++k) c->run(blob, copy = (copy + 1) % c->copies);
        t[r] = (now_ns() - t0) / calls;
      }
      qsort(t, REPEATS, sizeof t[0], cmp_double);
      if (dram) {
        qsort(tb, REPEATS, sizeof tb[0], cmp_double);
        printf("case %u %.1f %.1f %u %.3f\n", ci, t[REPEATS / 2], t[0], calls, (double)bw_words * 8 / tb[REPEATS / 2]);
      } else
        printf("case %u %.1f %.1f %u\n", ci, t[REPEATS / 2], t[0], calls);
      fflush(stdout);
    }
    if (argc == 3) break;
  }
  fclose(out);
  free(bw);
  return 0;
}
