// The language-model test runner: a C main() that drives a compiled decoder through its API (reset,
// forward, prefill, decode; compiler/emit/lm_driver.ts) and the C sampler (runtime-c/ref/tn_sample.c),
// and writes what it saw, so that tritc can compare it with the interpreter (compiler/lm/session.ts)
// call by call. It runs natively, under qemu-user and on bare-metal QEMU (semihosting), like
// compiler/harness/runner.ts.
//
// lm_in.bin (little-endian)                       lm_out.bin
//   "TNLM" u32 version u32 jobs                      "TNLO" u32 version u32 counter-overhead
//   per job: u32 mode (0 forward, 1 generate,        per job:
//     2 load delta), u32 n                              forward:  f32 logits[n][vocab], u64 counter,
//     forward, generate: i32 tokens[n]                           u64 ns, u32 stack
//     generate: u32 steps, f32 temperature,
//       i32 top_k, f32 top_p, u32 seed lo, hi,         generate: prefill u64 counter, u64 ns, then per
//       u32 full (1: write every step's logits)                  step: i32 token, and for every step
//     load delta (n bytes of blob, or flash blob              load delta: i32 status, u64 counter,
//       n - 1 when where = 1): u32 where (0 RAM,                u64 ns (the load's cost)
//       1 flash), RAM: u8 blob[n], zero pad to 4
//                                                                 after the first the decode's u64
//                                                                 counter, u64 ns; per step the
//                                                                 logits it sampled from: f32[vocab]
//                                                                 if full, else u64 FNV-1a of their
//                                                                 bits; u32 stack
//                                                    "TNEN"
// A driver error (context full, bad token) ends the program with status 3 and a message. A delta load
// (a model built with run-time deltas) reports its status instead: the tests load bad blobs on purpose.
// RAM blobs go into one of two static buffers, never the one the active delta points into; flash blobs
// are compiled into the runner as const data.

const LM_RUNNER_VERSION = 1;

export interface LmJob {
  mode: 'forward' | 'generate' | 'delta';
  /** forward, generate: the prompt (delta: unused, []). */
  tokens: number[];
  /** delta: the blob's bytes (empty: remove the delta), read into RAM or compiled into flash. */
  blob?: Uint8Array;
  where?: 'ram' | 'flash';
  steps?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: bigint;
  /** Generate: write every step's logits (else a hash of them). */
  full?: boolean;
}

export interface LmJobResult {
  /** forward: the logits of every token. generate: the logits each token was sampled from (full). */
  logits: Float32Array[];
  /** generate: the tokens, and the FNV-1a hash of each step's logits (when not full). */
  tokens: number[];
  hashes: bigint[];
  /** forward: [the call]; generate: [prefill, decode 1, decode 2, ...]: counter units and ns. */
  counters: number[];
  nanoseconds: number[];
  stackBytes: number;
  /** delta: load_delta's return value. */
  status?: number;
}

/** What the runner needs beyond the model's prefix and vocabulary: the delta jobs' blobs. */
export interface LmRunnerDeltas {
  /** Blobs compiled into the runner as const data, by their flash index. */
  flash: Uint8Array[];
  /** Bytes of each of the two RAM blob buffers. */
  ramBytes: number;
}

/** The flash blobs and RAM buffer size of `jobs` (undefined: no delta job). */
export function runnerDeltas(jobs: readonly LmJob[]): LmRunnerDeltas | undefined {
  const d = jobs.filter((j) => j.mode === 'delta');
  if (!d.length) return undefined;
  return {
    flash: d.filter((j) => j.where === 'flash' && j.blob?.length).map((j) => j.blob!),
    ramBytes: Math.max(4, ...d.filter((j) => j.where !== 'flash').map((j) => j.blob?.length ?? 0)),
  };
}

function flashArrays(prefix: string, d: LmRunnerDeltas): string {
  const P = prefix.toUpperCase();
  const arrays = d.flash.map((b, i) => {
    const padded = new Uint8Array(Math.ceil(b.length / 4) * 4);
    padded.set(b);
    const words = new Uint32Array(padded.buffer);
    const lines: string[] = [];
    for (let at = 0; at < words.length; at += 8) lines.push(`  ${Array.from(words.subarray(at, at + 8), (w) => `0x${w.toString(16)}u`).join(', ')},`);
    return `static const uint32_t flash_blob_${i}[${words.length}] = {\n${lines.join('\n')}\n};`;
  });
  return `
/* Run-time delta blobs: ${d.flash.length} in flash (const, little-endian words), two RAM buffers. */
${arrays.join('\n')}
static const uint32_t *const flash_blobs[${Math.max(1, d.flash.length)}] = { ${d.flash.length ? d.flash.map((_, i) => `flash_blob_${i}`).join(', ') : '0'} };
static const uint32_t flash_lengths[${Math.max(1, d.flash.length)}] = { ${d.flash.length ? d.flash.map((b) => `${b.length}u`).join(', ') : '0u'} };
static uint32_t ram_blobs[2][${Math.ceil(d.ramBytes / 4)}];
static int ram_in_use = -1;

static void delta_job(int in, int out, uint32_t n, uint64_t overhead) {
  const uint32_t where = get_u32(in);
  const uint8_t *blob = 0;
  uint32_t len = 0;
  int buf = ram_in_use == 0 ? 1 : 0, rc;
  uint64_t c0, c1, t0, t1;
  if (where == 1u) {
    if (n >= ${Math.max(1, d.flash.length)}u) die("lm_runner: no such flash blob", 2);
    blob = (const uint8_t *)flash_blobs[n];
    len = flash_lengths[n];
  } else if (n > 0u) {
    if (n > sizeof ram_blobs[0]) die("lm_runner: a delta blob is larger than its buffer", 2);
    get(in, ram_blobs[buf], n);
    if (n & 3u) {
      uint8_t pad[4];
      get(in, pad, 4u - (n & 3u));
    }
    blob = (const uint8_t *)ram_blobs[buf];
    len = n;
  }
  c0 = tn_plat_counter();
  t0 = tn_plat_time_ns();
  rc = ${prefix}_load_delta(blob, len);
  t1 = tn_plat_time_ns();
  c1 = tn_plat_counter();
  if (rc == 0) ram_in_use = where == 1u || len == 0u ? -1 : buf;
  else if (rc > 0 || rc < ${P}_E_DELTA_ALIGN) die("lm_runner: load_delta returned an unknown status", 3);
  put_u32(out, (uint32_t)rc);
  put_u64(out, c1 - c0 > overhead ? c1 - c0 - overhead : 0);
  put_u64(out, t1 - t0);
}
`;
}

export function generateLmRunner(prefix: string, vocab: number, deltas?: LmRunnerDeltas): string {
  const P = prefix.toUpperCase();
  return `/*
 * lm_runner.c: generated by tritc to check the language model "${prefix}" against the interpreter.
 * Reads lm_in.bin, drives the model through its API, writes lm_out.bin (layout:
 * compiler/harness/lm_runner.ts), using only targets/common/tn_platform.h and runtime-c/tn_sample.h.
 */
#include <stdint.h>
#include "tn_platform.h"
#include "tn_sample.h"
#include "model/model.h"

static float logits[${vocab}];
static float probs[${vocab}];
static int32_t order[${vocab}];
static int32_t tokens[${P}_CONTEXT];

static void die(const char *msg, int code) {
  tn_plat_puts(msg);
  tn_plat_exit(code);
}

static void get(int h, void *p, unsigned long n) {
  if (tn_plat_read(h, p, n) != (long)n) die("lm_runner: lm_in.bin is shorter than its header says", 2);
}

static void put(int h, const void *p, unsigned long n) {
  if (tn_plat_write(h, p, n) != 0) die("lm_runner: cannot write lm_out.bin", 2);
}

static uint32_t get_u32(int h) {
  uint8_t b[4];
  get(h, b, 4);
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static float get_f32(int h) {
  union { uint32_t u; float f; } v;
  v.u = get_u32(h);
  return v.f;
}

static void put_u32(int h, uint32_t v) {
  uint8_t b[4];
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
  b[2] = (uint8_t)(v >> 16);
  b[3] = (uint8_t)(v >> 24);
  put(h, b, 4);
}

static void put_u64(int h, uint64_t v) {
  put_u32(h, (uint32_t)v);
  put_u32(h, (uint32_t)(v >> 32));
}

/* The logits of a step, as floats (little-endian hosts and targets only) or their FNV-1a hash. */
static void put_logits(int h, int full) {
  if (full) put(h, logits, sizeof logits);
  else {
    uint64_t x = 0xcbf29ce484222325u;
    int32_t i;
    for (i = 0; i < ${vocab}; i++) {
      union { float f; uint32_t u; } v;
      int b;
      v.f = logits[i];
      for (b = 0; b < 4; b++) {
        x ^= (v.u >> (8 * b)) & 0xffu;
        x *= 0x100000001b3u;
      }
    }
    put_u64(h, x);
  }
}

/* "token <id>" on the console as each token comes (tritc generate streams them). */
static void print_token(int32_t tok) {
  char line[24] = "token ";
  char digits[12];
  int32_t n = 0, i = 6;
  uint32_t v = tok < 0 ? (uint32_t)0 - (uint32_t)tok : (uint32_t)tok;
  if (tok < 0) line[i++] = '-';
  do {
    digits[n++] = (char)('0' + v % 10u);
    v /= 10u;
  } while (v != 0u);
  while (n > 0) line[i++] = digits[--n];
  line[i] = 0;
  tn_plat_puts(line);
}

static void check(int rc) {
  if (rc == ${P}_E_CONTEXT_FULL) die("lm_runner: the context is full", 3);
  if (rc == ${P}_E_BAD_TOKEN) die("lm_runner: a token id is outside the vocabulary", 3);
  if (rc != 0) die("lm_runner: the model returned an error", 3);
}

static void forward_job(int in, int out, uint32_t n, uint64_t overhead) {
  uint64_t c0, c1, t0, t1;
  uint32_t i, stack;
  for (i = 0; i < n; i++) tokens[i] = (int32_t)get_u32(in);
  ${prefix}_reset();
  tn_plat_stack_paint();
  c0 = tn_plat_counter();
  t0 = tn_plat_time_ns();
  {
    /* One chunk per call (the chunks forward would make of all n), its rows written as they come,
     * so the runner needs a chunk of logits, not n. */
    static float rows[${P}_CHUNK][${vocab}];
    uint32_t done = 0;
    while (done < n) {
      const uint32_t c = n - done < ${P}_CHUNK ? n - done : ${P}_CHUNK;
      uint32_t r;
      check(${prefix}_forward(tokens + done, (int32_t)c, &rows[0][0]));
      for (r = 0; r < c; r++) put(out, rows[r], sizeof rows[r]);
      done += c;
    }
  }
  t1 = tn_plat_time_ns();
  c1 = tn_plat_counter();
  stack = tn_plat_stack_used();
  put_u64(out, c1 - c0 > overhead ? c1 - c0 - overhead : 0);
  put_u64(out, t1 - t0);
  put_u32(out, stack);
}

static void generate_job(int in, int out, uint32_t n, uint64_t overhead) {
  uint32_t steps, i, full, stack;
  float temperature, top_p;
  int32_t top_k, tok = 0;
  uint64_t seed, c0, c1, t0, t1;
  tn_rng rng;
  for (i = 0; i < n; i++) tokens[i] = (int32_t)get_u32(in);
  steps = get_u32(in);
  temperature = get_f32(in);
  top_k = (int32_t)get_u32(in);
  top_p = get_f32(in);
  seed = get_u32(in);
  seed |= (uint64_t)get_u32(in) << 32;
  full = get_u32(in);
  tn_rng_seed(&rng, seed);
  ${prefix}_reset();
  tn_plat_stack_paint();
  c0 = tn_plat_counter();
  t0 = tn_plat_time_ns();
  check(${prefix}_prefill(tokens, (int32_t)n, logits));
  t1 = tn_plat_time_ns();
  c1 = tn_plat_counter();
  put_u64(out, c1 - c0 > overhead ? c1 - c0 - overhead : 0);
  put_u64(out, t1 - t0);
  for (i = 0; i < steps; i++) {
    if (i > 0) {
      c0 = tn_plat_counter();
      t0 = tn_plat_time_ns();
      check(${prefix}_decode(tok, logits));
      t1 = tn_plat_time_ns();
      c1 = tn_plat_counter();
    }
    put_logits(out, (int)full);
    tok = tn_sample_token(logits, ${vocab}, temperature, top_k, top_p, &rng, probs, order);
    put_u32(out, (uint32_t)tok);
    print_token(tok);
    if (i > 0) {
      put_u64(out, c1 - c0 > overhead ? c1 - c0 - overhead : 0);
      put_u64(out, t1 - t0);
    }
  }
  stack = tn_plat_stack_used();
  put_u32(out, stack);
}

${deltas ? flashArrays(prefix, deltas) : ''}
int main(void) {
  int in, out;
  uint8_t magic[4];
  uint32_t jobs, j;
  uint64_t c0, c1, overhead;
  tn_plat_init();
  in = tn_plat_open("lm_in.bin", 0);
  if (in < 0) die("lm_runner: cannot open lm_in.bin", 2);
  out = tn_plat_open("lm_out.bin", 1);
  if (out < 0) die("lm_runner: cannot create lm_out.bin", 2);
  get(in, magic, 4);
  if (magic[0] != 'T' || magic[1] != 'N' || magic[2] != 'L' || magic[3] != 'M') die("lm_runner: lm_in.bin has the wrong magic", 2);
  if (get_u32(in) != ${LM_RUNNER_VERSION}u) die("lm_runner: lm_in.bin has the wrong version", 2);
  jobs = get_u32(in);
  c0 = tn_plat_counter();
  c1 = tn_plat_counter();
  overhead = c1 - c0;
  put(out, "TNLO", 4);
  put_u32(out, ${LM_RUNNER_VERSION}u);
  put_u32(out, (uint32_t)overhead);
  for (j = 0; j < jobs; j++) {
    const uint32_t mode = get_u32(in), n = get_u32(in);
    if (mode == 2) {
${deltas ? '      delta_job(in, out, n, overhead);\n      continue;' : '      die("lm_runner: this runner has no delta jobs", 2);'}
    }
    if (n > ${P}_CONTEXT) die("lm_runner: more tokens than the context holds", 2);
    if (mode == 0) forward_job(in, out, n, overhead);
    else generate_job(in, out, n, overhead);
  }
  put(out, "TNEN", 4);
  tn_plat_close(out);
  tn_plat_close(in);
  tn_plat_exit(0);
  return 0;
}
`;
}

export function encodeLmJobs(jobs: readonly LmJob[]): Uint8Array {
  const words: number[] = [];
  const u32 = (v: number) => words.push(v >>> 0);
  const f32 = (v: number) => words.push(new Uint32Array(Float32Array.of(v).buffer)[0]!);
  u32(LM_RUNNER_VERSION);
  u32(jobs.length);
  let flash = 0;
  const bytes: { at: number; blob: Uint8Array }[] = [];
  for (const j of jobs) {
    if (j.mode === 'delta') {
      const blob = j.blob ?? new Uint8Array(0);
      u32(2);
      if (j.where === 'flash' && blob.length) {
        u32(flash++);
        u32(1);
      } else {
        u32(blob.length);
        u32(0);
        bytes.push({ at: words.length, blob });
        for (let i = 0; i < Math.ceil(blob.length / 4); i++) u32(0);
      }
      continue;
    }
    u32(j.mode === 'forward' ? 0 : 1);
    u32(j.tokens.length);
    for (const t of j.tokens) u32(t);
    if (j.mode === 'generate') {
      const seed = j.seed ?? 0n;
      u32(j.steps ?? 0);
      f32(j.temperature ?? 0);
      u32(j.topK ?? 0);
      f32(j.topP ?? 0);
      u32(Number(seed & 0xffffffffn));
      u32(Number((seed >> 32n) & 0xffffffffn));
      u32(j.full ? 1 : 0);
    }
  }
  const out = new Uint8Array(4 + words.length * 4);
  out.set(new TextEncoder().encode('TNLM'));
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setUint32(4 + i * 4, w, true));
  for (const b of bytes) out.set(b.blob, 4 + b.at * 4);
  return out;
}

export function decodeLmResults(bytes: Uint8Array, jobs: readonly LmJob[], vocab: number): { overhead: number; results: LmJobResult[] } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new Error(`lm_out.bin is truncated at byte ${bytes.length} (expected at least ${at + n})`);
  };
  const tag = () => {
    need(4);
    const s = new TextDecoder().decode(bytes.subarray(at, at + 4));
    at += 4;
    return s;
  };
  const u32 = () => {
    need(4);
    const v = dv.getUint32(at, true);
    at += 4;
    return v;
  };
  const u64 = () => {
    const lo = u32();
    const hi = u32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  };
  const floats = () => {
    need(vocab * 4);
    const f = new Float32Array(vocab);
    new Uint8Array(f.buffer).set(bytes.subarray(at, at + vocab * 4));
    at += vocab * 4;
    return f;
  };
  if (tag() !== 'TNLO') throw new Error('lm_out.bin has the wrong magic');
  if (u32() !== LM_RUNNER_VERSION) throw new Error('lm_out.bin has the wrong version');
  const overhead = u32();
  const results: LmJobResult[] = jobs.map((j) => {
    const r: LmJobResult = { logits: [], tokens: [], hashes: [], counters: [], nanoseconds: [], stackBytes: 0 };
    if (j.mode === 'delta') {
      r.status = u32() | 0;
      r.counters.push(Number(u64()));
      r.nanoseconds.push(Number(u64()));
      return r;
    }
    if (j.mode === 'forward') {
      for (let i = 0; i < j.tokens.length; i++) r.logits.push(floats());
      r.counters.push(Number(u64()));
      r.nanoseconds.push(Number(u64()));
    } else {
      r.counters.push(Number(u64()));
      r.nanoseconds.push(Number(u64()));
      for (let s = 0; s < (j.steps ?? 0); s++) {
        if (j.full) r.logits.push(floats());
        else r.hashes.push(u64());
        r.tokens.push(u32() | 0);
        if (s > 0) {
          r.counters.push(Number(u64()));
          r.nanoseconds.push(Number(u64()));
        }
      }
    }
    r.stackBytes = u32();
    return r;
  });
  if (tag() !== 'TNEN') throw new Error('lm_out.bin does not end with its end marker');
  return { overhead, results };
}

/** FNV-1a 64 over the little-endian bytes of the float32 values (what the runner writes). */
export function logitsHash(logits: Float32Array): bigint {
  let x = 0xcbf29ce484222325n;
  const bytes = new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength);
  for (const b of bytes) {
    x ^= BigInt(b);
    x = (x * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return x;
}
