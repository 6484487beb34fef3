/*
 * bench.h - what the generated case table (bench_cases.c, written by bench/run.ts) gives the
 * benchmark harnesses (bench_count.c: instruction counts; bench_host.c: time on the host).
 *
 * All data of all cases is one blob (bench.bin, written by bench/run.ts): weights in their packed
 * formats, scales, activations, and room for scratch and outputs. A case function builds the
 * kernel's arguments from offsets into the blob and makes one call (the few stores of the argument
 * struct are part of what is measured: about 12 instructions per call).
 */
#ifndef TN_BENCH_H
#define TN_BENCH_H

#include <stdint.h>

/* The dense int8 and float32 baselines the case table calls (runtime-c/tn_dense.h, internal to the
 * runtime: no model calls them); the low-bit kernels it calls are in tn_runtime.h. */
#include "tn_dense.h"

typedef struct tn_bench_case {
  const char *name;
  void (*run)(uint8_t *blob, uint32_t copy); /* copy: which of the case's weight copies (host, DRAM runs) */
  uint32_t y_offset; /* the output in the blob */
  uint32_t y_bytes;
  uint32_t copies;   /* > 1: the harness copies the weights (w_offset, w_bytes) to copy_offset + c * copy_stride */
  uint32_t w_offset;
  uint32_t w_bytes;
  uint64_t copy_offset;
  uint64_t copy_stride;
} tn_bench_case;

extern const tn_bench_case tn_bench_cases[];
extern const uint32_t tn_bench_case_count;
extern const uint32_t tn_bench_blob_bytes; /* bytes of bench.bin */
extern const uint64_t tn_bench_ext_bytes;  /* bytes after it for weight copies (host only) */

#endif
