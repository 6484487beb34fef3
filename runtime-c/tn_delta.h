/*
 * tn_delta.h - run-time deltas over a compiled base model (ComPEFT sparse ternary task vectors;
 * docs/formats.md, "ComPEFT task vectors", has the blob layout). A delta is, per projection (slot),
 * alpha * S with S sparse ternary, stored per row as increasing column indices with a sign bit. The
 * model keeps its own weights; tn_delta_apply adds alpha * (x S^T) after the base product.
 *
 * tn_delta_load validates a whole blob before it changes anything, then points the slots into it (no
 * copy: the blob may be in flash or RAM and must stay unchanged while in use). Portable C99, no libc.
 */
#ifndef TN_DELTA_H
#define TN_DELTA_H

#include <stdint.h>

#include "tn_numerics.h" /* no fused multiply-add, whatever the flags */

/* One slot's delta; row_ptr NULL: none. */
typedef struct tn_delta_slot {
  float alpha;
  const uint32_t *row_ptr; /* [rows + 1] */
  const uint16_t *entries; /* column | 0x8000 for -alpha */
} tn_delta_slot;

#define TN_DELTA_E_MAGIC (-10)     /* not a delta blob */
#define TN_DELTA_E_VERSION (-11)   /* another format version */
#define TN_DELTA_E_TRUNCATED (-12) /* shorter than its header (or its length field) says */
#define TN_DELTA_E_CORRUPT (-13)   /* CRC-32 of the payload does not match */
#define TN_DELTA_E_BASE (-14)      /* made for another base model */
#define TN_DELTA_E_LAYOUT (-15)    /* slots, shapes or indices that do not fit the model */
#define TN_DELTA_E_ALIGN (-16)     /* blob not 4-byte aligned */

/* Check blob[0 .. len) against a model with nslots slots (shapes: rows, cols per slot) and base hash
 * (hash_lo, hash_hi); on success clear every slot and set those the blob names, return 0. On error
 * return TN_DELTA_E_* and leave the slots as they were. blob NULL and len 0: clear every slot. */
int tn_delta_load(const uint8_t *blob, uint32_t len, uint32_t hash_lo, uint32_t hash_hi, const int32_t *shapes, int32_t nslots, tn_delta_slot *slots);

/* y[t][o] += alpha * s for rows o with entries, s = the entries' x[t][col] added (or subtracted) in
 * order from 0 (compiler/ops/lm/delta_term.ts); nothing when the slot is empty. */
void tn_delta_apply(const float *x, int32_t n, const tn_delta_slot *d, int32_t rows, int32_t k, float *y);

/* The same for int8 activations x (scale sx[t], or sx[0] for all rows when !x_per_row): i = the
 * entries' x[t][col] added (or subtracted) exactly; y[t][o] += (alpha * (float)i) * sx[t]. */
void tn_delta_apply_q8(const int8_t *x, const float *sx, int32_t x_per_row, int32_t n, const tn_delta_slot *d, int32_t rows, int32_t k, float *y);

/* CRC-32 (IEEE 802.3, zlib's) of p[0 .. n). */
uint32_t tn_delta_crc32(const uint8_t *p, uint32_t n);

#endif /* TN_DELTA_H */
