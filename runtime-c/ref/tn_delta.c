/*
 * tn_delta.c - run-time deltas (tn_delta.h): the blob loader and the sparse ternary term. The loader
 * makes two passes over the records: the first checks everything, the second sets the slots, so a
 * bad blob changes nothing. The layout is docs/formats.md's ("ComPEFT task vectors").
 */
#include "tn_delta.h"

#define TN_DELTA_HEADER 32u

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t tn_delta_crc32(const uint8_t *p, uint32_t n) {
  /* Four bits at a time: a 16-entry table (64 bytes of flash) of the reflected polynomial 0xEDB88320. */
  static const uint32_t table[16] = {0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
                                     0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
  uint32_t c = 0xffffffffu, i;
  for (i = 0; i < n; i++) {
    c ^= p[i];
    c = (c >> 4) ^ table[c & 15u];
    c = (c >> 4) ^ table[c & 15u];
  }
  return c ^ 0xffffffffu;
}

/* Walk the records; set the slots only when `commit`. Returns 0 or TN_DELTA_E_LAYOUT. */
static int walk(const uint8_t *blob, uint32_t length, const int32_t *shapes, int32_t nslots, tn_delta_slot *slots, int commit) {
  const uint32_t count = rd32(blob + 24);
  uint32_t at = TN_DELTA_HEADER, i;
  int64_t last = -1;
  for (i = 0; i < count; i++) {
    uint32_t slot, rows, cols, nnz, bytes, r, e;
    const uint32_t *row_ptr;
    const uint16_t *entries;
    union {
      uint32_t u;
      float f;
    } alpha;
    if (length - at < 20u) return TN_DELTA_E_LAYOUT;
    slot = rd32(blob + at);
    rows = rd32(blob + at + 4);
    cols = rd32(blob + at + 8);
    alpha.u = rd32(blob + at + 12);
    nnz = rd32(blob + at + 16);
    if ((int64_t)slot <= last || slot >= (uint32_t)nslots) return TN_DELTA_E_LAYOUT;
    if (rows != (uint32_t)shapes[2 * slot] || cols != (uint32_t)shapes[2 * slot + 1] || cols > 0x8000u) return TN_DELTA_E_LAYOUT;
    if ((alpha.u & 0x7f800000u) == 0x7f800000u) return TN_DELTA_E_LAYOUT; /* not finite */
    /* rows and cols are the model's (small); nnz is bounded by the remaining bytes before use. */
    if (nnz > (length - at - 20u) / 2u) return TN_DELTA_E_LAYOUT;
    bytes = 20u + 4u * (rows + 1u) + 4u * ((nnz + 1u) / 2u);
    if (bytes > length - at) return TN_DELTA_E_LAYOUT;
    row_ptr = (const uint32_t *)(const void *)(blob + at + 20);
    entries = (const uint16_t *)(const void *)(blob + at + 20 + 4u * (rows + 1u));
    if (!commit) {
      if (row_ptr[0] != 0u || row_ptr[rows] != nnz) return TN_DELTA_E_LAYOUT;
      for (r = 0; r < rows; r++) {
        if (row_ptr[r + 1] < row_ptr[r] || row_ptr[r + 1] > nnz) return TN_DELTA_E_LAYOUT;
        for (e = row_ptr[r]; e < row_ptr[r + 1]; e++) {
          const uint32_t c = entries[e] & 0x7fffu;
          if (c >= cols) return TN_DELTA_E_LAYOUT;
          if (e > row_ptr[r] && c <= (entries[e - 1] & 0x7fffu)) return TN_DELTA_E_LAYOUT;
        }
      }
    } else {
      slots[slot].alpha = alpha.f;
      slots[slot].row_ptr = row_ptr;
      slots[slot].entries = entries;
    }
    last = (int64_t)slot;
    at += bytes;
  }
  return at == length ? 0 : TN_DELTA_E_LAYOUT;
}

int tn_delta_load(const uint8_t *blob, uint32_t len, uint32_t hash_lo, uint32_t hash_hi, const int32_t *shapes, int32_t nslots, tn_delta_slot *slots) {
  uint32_t length;
  int32_t s;
  int rc;
  if (blob == 0 && len == 0) {
    for (s = 0; s < nslots; s++) slots[s].row_ptr = 0;
    return 0;
  }
  if (blob == 0 || len < 4u) return TN_DELTA_E_TRUNCATED;
  if (blob[0] != 'T' || blob[1] != 'D' || blob[2] != 'L' || blob[3] != 'T') return TN_DELTA_E_MAGIC;
  if (len < TN_DELTA_HEADER) return TN_DELTA_E_TRUNCATED;
  if (rd32(blob + 4) != 1u) return TN_DELTA_E_VERSION;
  length = rd32(blob + 8);
  if (length > len) return TN_DELTA_E_TRUNCATED;
  if (length < TN_DELTA_HEADER) return TN_DELTA_E_LAYOUT;
  if (tn_delta_crc32(blob + 16, length - 16u) != rd32(blob + 12)) return TN_DELTA_E_CORRUPT;
  if (rd32(blob + 16) != hash_lo || rd32(blob + 20) != hash_hi) return TN_DELTA_E_BASE;
  if (((uintptr_t)blob & 3u) != 0u) return TN_DELTA_E_ALIGN;
  rc = walk(blob, length, shapes, nslots, slots, 0);
  if (rc != 0) return rc;
  for (s = 0; s < nslots; s++) slots[s].row_ptr = 0;
  return walk(blob, length, shapes, nslots, slots, 1);
}

void tn_delta_apply(const float *x, int32_t n, const tn_delta_slot *d, int32_t rows, int32_t k, float *y) {
  int32_t t, o;
  if (d->row_ptr == 0) return;
  for (t = 0; t < n; t++) {
    const float *xr = x + t * k;
    for (o = 0; o < rows; o++) {
      const uint32_t e0 = d->row_ptr[o], e1 = d->row_ptr[o + 1];
      uint32_t e;
      float s = 0.0f;
      if (e0 == e1) continue;
      for (e = e0; e < e1; e++) {
        const uint32_t c = d->entries[e];
        const float v = xr[c & 0x7fffu];
        s = (c & 0x8000u) ? s - v : s + v;
      }
      y[t * rows + o] = y[t * rows + o] + d->alpha * s;
    }
  }
}

void tn_delta_apply_q8(const int8_t *x, const float *sx, int32_t x_per_row, int32_t n, const tn_delta_slot *d, int32_t rows, int32_t k, float *y) {
  int32_t t, o;
  if (d->row_ptr == 0) return;
  for (t = 0; t < n; t++) {
    const int8_t *xr = x + t * k;
    const float sxt = sx[x_per_row ? t : 0];
    for (o = 0; o < rows; o++) {
      const uint32_t e0 = d->row_ptr[o], e1 = d->row_ptr[o + 1];
      uint32_t e;
      int32_t i = 0; /* |i| <= 128 * 32768 */
      if (e0 == e1) continue;
      for (e = e0; e < e1; e++) {
        const uint32_t c = d->entries[e];
        const int32_t v = xr[c & 0x7fffu];
        i = (c & 0x8000u) ? i - v : i + v;
      }
      y[t * rows + o] = y[t * rows + o] + (d->alpha * (float)i) * sxt;
    }
  }
}
