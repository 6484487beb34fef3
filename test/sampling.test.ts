// Token sampling (compiler/lm/sample.ts, runtime-c/ref/tn_sample.c; docs/sampling.md): the PRNG against
// a second implementation, the TypeScript sampler on hand-made logits and against a plain sort-based
// transcription of the specification, and the C sampler against the TypeScript one, bit for bit.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng as mulberry } from '../compiler/harness/inputs.ts';
import { executeOnTarget } from '../compiler/harness/run_target.ts';
import {
  argmaxToken,
  randomF32,
  randomU32,
  type Rng,
  samplingProbs,
  sampleToken,
  type SampleOptions,
  SEED_ZERO_STATE,
  seedRng,
} from '../compiler/lm/sample.ts';
import { expf, f32Bits, fround } from '../compiler/numerics/f32.ts';
import { getTarget, RUNTIME_DIR, TARGETS_DIR } from '../compiler/targets.ts';
import { buildProgram } from '../compiler/toolchain/build.ts';
import { workDir } from './support/differential.ts';

// ---- a second PRNG, written from llama2.c's random_u32 as directly as possible ------------------

function referenceXorshift(seed: bigint, count: number): { u32: number[]; state: bigint } {
  let x = seed === 0n ? 0x9e3779b97f4a7c15n : seed;
  const u32: number[] = [];
  for (let i = 0; i < count; i++) {
    x = BigInt.asUintN(64, x ^ (x >> 12n));
    x = BigInt.asUintN(64, x ^ (x << 25n));
    x = BigInt.asUintN(64, x ^ (x >> 27n));
    u32.push(Number(BigInt.asUintN(64, x * 0x2545f4914f6cdd1dn) / 4294967296n));
  }
  return { u32, state: x };
}

/** A seed whose first random_u32 is `u32` (low bits 0x9abcdef0 below it): xorshift64* run backwards. */
function seedForFirstU32(u32: number): bigint {
  const M = 0x2545f4914f6cdd1dn;
  let inv = M; // M^-1 mod 2^64 by Newton's iteration (M is odd)
  for (let i = 0; i < 6; i++) inv = BigInt.asUintN(64, inv * (2n - M * inv));
  let s = BigInt.asUintN(64, ((BigInt(u32) << 32n) | 0x9abcdef0n) * inv);
  // undo s ^= s >> 27, s ^= s << 25, s ^= s >> 12: x = y ^ S(y) ^ S(S(y)) ^ ... for each shift S
  const undo = (y: bigint, shift: (v: bigint) => bigint) => {
    let x = y;
    for (let t = shift(y); t !== 0n; t = shift(t)) x ^= t;
    return x;
  };
  s = undo(s, (v) => v >> 27n);
  s = undo(s, (v) => BigInt.asUintN(64, v << 25n));
  s = undo(s, (v) => v >> 12n);
  return s;
}

// ---- the specification, transcribed with a full sort (no heap, no early stop) --------------------

function referenceSample(logits: Float32Array, o: SampleOptions, g: Rng): number {
  const V = logits.length;
  const T = fround(o.temperature);
  const topP = fround(o.topP);
  const argmax = () => {
    let best = -1;
    logits.forEach((v, i) => {
      if (!Number.isNaN(v) && (best < 0 || v > logits[best]!)) best = i;
    });
    return Math.max(best, 0);
  };
  if (!(T > 0)) return argmax();
  const z = Array.from(logits, (x) => fround(x / T));
  const finite = z.filter((v) => !Number.isNaN(v));
  if (finite.length === 0) {
    randomU32(g);
    return argmax();
  }
  const m = finite.reduce((a, b) => (b > a ? b : a));
  const e = z.map((v) => (Number.isNaN(v) ? 0 : v === m ? 1 : expf(fround(v - m))));
  const s = e.reduce((a, b) => fround(a + b), 0);
  const p = e.map((v) => fround(v / s));
  const useK = o.topK > 0 && o.topK < V;
  const useP = topP > 0 && topP < 1;
  let kept: number[] = p.map((_, i) => i);
  if (useK || useP) {
    kept.sort((a, b) => p[b]! - p[a]! || a - b);
    if (useK) kept = kept.slice(0, o.topK);
    if (useP) {
      let c = 0;
      const n = kept.findIndex((t) => (c = fround(c + p[t]!)) > topP);
      if (n >= 0) kept = kept.slice(0, n + 1);
    }
  }
  const mass = kept.reduce((a, t) => fround(a + p[t]!), 0);
  const r = fround(randomF32(g) * mass);
  let cdf = 0;
  for (const t of kept) if (r < (cdf = fround(cdf + p[t]!))) return t;
  return kept[kept.length - 1]!;
}

// ---- random cases --------------------------------------------------------------------------------

interface Case {
  logits: Float32Array;
  opts: SampleOptions;
  seed: bigint;
  draws: number;
}

function randomCases(count: number, seed: number): Case[] {
  const r = mulberry(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const cases: Case[] = [];
  for (let k = 0; k < count; k++) {
    const V = k < 8 ? k + 1 : 1 + Math.floor(r() * r() * 3000);
    const x = new Float32Array(V);
    const kind = k % 7;
    const scale = 10 ** (r() * 8 - 3); // 1e-3 .. 1e5
    const level = pick([1, 0.1, 1 / 3]);
    const constant = (r() - 0.5) * 100;
    for (let i = 0; i < V; i++) {
      if (kind === 0)
        x[i] = (r() * 2 - 1) * scale; // large ranges
      else if (kind === 1)
        x[i] = Math.floor(r() * 7 - 3) * level; // many ties
      else if (kind === 2)
        x[i] = (r() + r() + r() - 1.5) * 5; // logit-like
      else if (kind === 3)
        x[i] = pick([1, -1]) * 10 ** (r() * 76 - 38); // near the float limits
      else if (kind === 4)
        x[i] = constant; // all tied
      else if (kind === 5)
        x[i] = r() < 0.2 ? pick([NaN, Infinity, -Infinity]) : (r() * 2 - 1) * 20; // specials
      else x[i] = r() < 0.5 ? 8 : (r() * 2 - 1) * 8; // half of them tied at the top
    }
    if (k % 50 === 13) x.fill(NaN);
    if (k % 50 === 27) x.fill(-Infinity);
    const temperature = pick([0, 1, 1, 0.7, 0.7, 1.3, r() * 3, 1e-3, 1e-30, 100, Infinity, -1, NaN]);
    const topK = pick([0, 0, 1, 2, 40, 1 + Math.floor(r() * V), V, V + 3, -5]);
    const topP = pick([0, 0, 0.9, 0.95, r(), 1e-6, 0.9999999, 1, -0.5, NaN]);
    const bits = BigInt(Math.floor(r() * 2 ** 32)) | (BigInt(Math.floor(r() * 2 ** 32)) << 32n);
    const s = pick([bits, bits, bits, bits, 0n, (1n << 64n) - 1n, 42n]);
    cases.push({ logits: x, opts: { temperature, topK, topP }, seed: s, draws: 1 + Math.floor(r() * 3) });
  }
  return cases;
}

/** Draws and sums that land exactly on the boundaries of steps 7 and 9: probabilities 1/V (V a power of
 * two, so every sum is exact), topP equal to a cumulative sum, and seeds whose first draw is 0, 1/4,
 * 1/2, 3/4 or the largest value. */
function boundaryCases(): Case[] {
  const cases: Case[] = [];
  const seeds = [0, 0x40000000, 0x80000000, 0xc0000000, 0xffffffff].map(seedForFirstU32);
  for (const V of [2, 4, 8, 64]) {
    for (const seed of [...seeds, 99n]) {
      const tied = new Float32Array(V).fill(1.5);
      const leadingZeros = Float32Array.from({ length: V }, (_, i) => (i < V / 2 ? -Infinity : 0)); // p = 0, then 2/V
      for (const opts of [
        { temperature: 1, topK: 0, topP: 0 },
        { temperature: 1, topK: V / 2, topP: 0 },
        { temperature: 1, topK: 0, topP: 0.25 },
        { temperature: 1, topK: 0, topP: 0.5 },
        { temperature: 1, topK: V - 1, topP: 0.75 },
      ]) {
        cases.push({ logits: tied, opts, seed, draws: 1 });
        cases.push({ logits: leadingZeros, opts, seed, draws: 1 });
      }
    }
  }
  return cases;
}

/** Each case: argmax, then `draws` tokens from one PRNG, then the PRNG's state. */
function runTs(c: Case): { argmax: number; tokens: number[]; state: bigint } {
  const g = seedRng(c.seed);
  const tokens: number[] = [];
  for (let d = 0; d < c.draws; d++) tokens.push(sampleToken(c.logits, c.opts, g));
  return { argmax: argmaxToken(c.logits), tokens, state: g.state };
}

const describeCase = (c: Case) => `V=${c.logits.length} T=${c.opts.temperature} topK=${c.opts.topK} topP=${c.opts.topP} seed=${c.seed}`;

// ---- tests -----------------------------------------------------------------------------------------

describe('xorshift64* PRNG', () => {
  it('gives llama2.c random_u32 values for seed 42 (checked against a second implementation)', () => {
    const g = seedRng(42);
    const got = Array.from({ length: 64 }, () => randomU32(g));
    const want = referenceXorshift(42n, 64);
    expect(got).toEqual(want.u32);
    expect(g.state).toBe(want.state);
    expect(got.slice(0, 3)).toEqual([1456360119, 3359763283, 3393612768]); // llama2.c's random_u32, compiled with gcc
  });

  it('seed 0 is replaced by the documented constant; any 64-bit seed is accepted', () => {
    expect(seedRng(0).state).toBe(SEED_ZERO_STATE);
    expect(seedRng(0n).state).toBe(0x9e3779b97f4a7c15n);
    for (const s of [1n, 42n, (1n << 64n) - 1n, 0x8000000000000000n]) {
      const g = seedRng(s);
      expect(Array.from({ length: 8 }, () => randomU32(g))).toEqual(referenceXorshift(s, 8).u32);
    }
    expect(() => seedRng(-1)).toThrow(RangeError);
    expect(() => seedRng(1.5)).toThrow(RangeError);
    expect(() => seedRng(1n << 64n)).toThrow(RangeError);
  });

  it('seeds can be made for a chosen first draw (the boundary cases use them)', () => {
    for (const u of [0, 1, 0x80000000, 0xffffffff, 123456789]) {
      const seed = seedForFirstU32(u);
      expect(seed).not.toBe(0n);
      expect(referenceXorshift(seed, 1).u32[0]).toBe(u);
    }
  });

  it('randomF32 is the top 24 bits times 2^-24, in [0, 1)', () => {
    const a = seedRng(7);
    const b = seedRng(7);
    for (let i = 0; i < 1000; i++) {
      const f = randomF32(a);
      expect(f).toBe(Math.floor(randomU32(b) / 256) / 16777216);
      expect(f).toBe(fround(f));
      expect(f >= 0 && f < 1).toBe(true);
    }
  });
});

describe('sampleToken on hand-made logits', () => {
  const L = (...v: number[]) => Float32Array.from(v);
  const opts = (temperature: number, topK = 0, topP = 0): SampleOptions => ({ temperature, topK, topP });
  /** Counts of each token over n draws. */
  const histogram = (x: Float32Array, o: SampleOptions, n: number, seed = 1): number[] => {
    const g = seedRng(seed);
    const h = new Array<number>(x.length).fill(0);
    for (let i = 0; i < n; i++) h[sampleToken(x, o, g)]!++;
    return h;
  };

  it('argmax: the first maximum wins, NaN never wins, all NaN gives 0', () => {
    expect(argmaxToken(L(1, 3, 3, 2))).toBe(1);
    expect(argmaxToken(L(NaN, 1, NaN, 1))).toBe(1);
    expect(argmaxToken(L(NaN, NaN))).toBe(0);
    expect(argmaxToken(L(-Infinity, -Infinity))).toBe(0);
    expect(argmaxToken(L(NaN, -Infinity, Infinity, Infinity))).toBe(2);
    expect(argmaxToken(L(-0, 0))).toBe(0);
  });

  it('temperature 0 (and negative or NaN) is argmax and draws no random number', () => {
    for (const t of [0, -0, -1, NaN]) {
      const g = seedRng(5);
      expect(sampleToken(L(0.5, 2, NaN, 2), opts(t, 3, 0.5), g)).toBe(1);
      expect(g.state).toBe(5n);
    }
  });

  it('top-k 1 and a tiny top-p are argmax of the scaled logits, drawing exactly one number', () => {
    const r = mulberry(3);
    for (let k = 0; k < 200; k++) {
      const x = Float32Array.from({ length: 1 + Math.floor(r() * 50) }, () => (r() < 0.1 ? NaN : Math.floor(r() * 5)));
      const want = argmaxToken(x);
      for (const o of [opts(0.8, 1), opts(1.5, 0, 1e-30), opts(1, 7, 1e-30)]) {
        const g = seedRng(k + 1);
        expect(sampleToken(x, o, g)).toBe(want);
        const after = seedRng(k + 1);
        randomU32(after);
        expect(g.state).toBe(after.state);
      }
    }
  });

  it('ties: top-k keeps the lower indexes, top-p needs a sum that exceeds topP', () => {
    const four = L(2, 2, 2, 2); // p = 0.25 each, exactly
    expect(histogram(four, opts(1, 2), 4000).slice(2)).toEqual([0, 0]);
    // 0.25 + 0.25 = 0.5 does not exceed 0.5: a third token is needed
    const h = histogram(four, opts(1, 0, 0.5), 4000);
    expect(h[3]).toBe(0);
    expect(Math.min(...h.slice(0, 3))).toBeGreaterThan(1100);
    expect(histogram(four, opts(1, 0, 0.49), 4000)[2]).toBe(0);
    expect(histogram(four, opts(1, 3, 0.9), 4000)[3]).toBe(0); // top-p within the top 3: none exceeds
  });

  it('NaN logits are never drawn; infinite ones take all the mass', () => {
    expect(histogram(L(NaN, 0, NaN, 0, NaN), opts(1), 2000).filter((_, i) => i % 2 === 0)).toEqual([0, 0, 0]);
    expect(histogram(L(NaN, 0, NaN, 0, NaN), opts(1, 1), 100)).toEqual([0, 100, 0, 0, 0]);
    const inf = histogram(L(Infinity, 0, Infinity, 1e30), opts(1), 2000);
    expect([inf[1], inf[3]]).toEqual([0, 0]);
    expect(Math.min(inf[0]!, inf[2]!)).toBeGreaterThan(800);
    const neg = histogram(L(-Infinity, NaN, -Infinity), opts(2), 2000);
    expect(neg[1]).toBe(0);
    expect(Math.min(neg[0]!, neg[2]!)).toBeGreaterThan(800);
  });

  it('all scaled logits NaN: argmax of the raw logits, one number drawn', () => {
    for (const [x, want] of [
      [L(NaN, NaN, NaN), 0],
      [L(-Infinity, Infinity), 1], // inf / inf is NaN
    ] as const) {
      const g = seedRng(9);
      expect(sampleToken(x, opts(Infinity), g)).toBe(want);
      expect(g.state).toBe(referenceXorshift(9n, 1).state);
    }
  });

  it('draws follow the softmax (frequencies within 1.5% over 40000 draws)', () => {
    const x = L(0, Math.log(2), Math.log(3), Math.log(4));
    for (const o of [opts(1), opts(1, 4), opts(1, 0, 0.9999)]) {
      const h = histogram(x, o, 40000, 11);
      h.forEach((n, i) => expect(Math.abs(n / 40000 - (i + 1) / 10)).toBeLessThan(0.015));
    }
    // temperature 2 flattens: p ~ sqrt(1, 2, 3, 4)
    const h = histogram(x, opts(2), 40000, 12);
    const w = [1, 2, 3, 4].map(Math.sqrt);
    const sum = w.reduce((a, b) => a + b);
    h.forEach((n, i) => expect(Math.abs(n / 40000 - w[i]! / sum)).toBeLessThan(0.015));
  });

  it('a draw exactly on a cumulative sum goes to the next token (r < cdf is strict)', () => {
    const draw = (x: Float32Array, o: SampleOptions, u32: number) => sampleToken(x, o, seedRng(seedForFirstU32(u32)));
    expect(draw(L(1, 1), opts(1), 0x80000000)).toBe(1); // r = 0.5, cdf 0.5 then 1
    expect(draw(L(1, 1), opts(1), 0x7fffffff)).toBe(0); // r = 0.5 - 2^-24
    expect(draw(L(-Infinity, 0), opts(1), 0)).toBe(1); // r = 0 never picks a token of probability 0
    expect(draw(L(-Infinity, 0, 0), opts(1, 0, 0.5), 0)).toBe(1); // kept: 1, 2 (0.5 does not exceed 0.5)
    expect(draw(L(-Infinity, 0, 0), opts(1, 0, 0.5), 0xffffffff)).toBe(2);
    expect(draw(L(3, 3, 3, 3), opts(1, 0, 0.75), 0xffffffff)).toBe(3); // 0.75 does not exceed 0.75: all four
  });

  it('rejects empty logits and a topK that is not an int32', () => {
    expect(() => sampleToken(new Float32Array(0), opts(1), seedRng(1))).toThrow(RangeError);
    expect(() => sampleToken(L(1), opts(1, 1.5), seedRng(1))).toThrow(RangeError);
    expect(() => sampleToken(L(1), opts(1, 2 ** 31), seedRng(1))).toThrow(RangeError);
  });

  it('equals a transcription of the specification with a full sort (400 random cases)', () => {
    const bad: string[] = [];
    for (const c of randomCases(400, 77)) {
      const a = seedRng(c.seed);
      const b = seedRng(c.seed);
      for (let d = 0; d < c.draws; d++) {
        const got = sampleToken(c.logits, c.opts, a);
        const want = referenceSample(c.logits, c.opts, b);
        if (got !== want || a.state !== b.state) bad.push(`${describeCase(c)} draw ${d}: ${got}, reference ${want}`);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });
});

// ---- C against TypeScript --------------------------------------------------------------------------

/* The harness: inputs.bin = u32 cases, then per case: u32 vocab, f32 temperature, i32 top_k, f32 top_p,
 * u32 seed low, u32 seed high, u32 draws, vocab f32 logits. outputs.bin = for seeds 42 and 0: 8 u32,
 * 8 f32 and the u64 state; then per case: i32 argmax, draws i32 tokens, u64 state, vocab f32 of
 * scratch_probs after the last call. */
const HARNESS = String.raw`
#include <stdint.h>
#include "tn_platform.h"
#include "tn_sample.h"

#ifndef MAX_VOCAB
#define MAX_VOCAB 65536
#endif
static float logits[MAX_VOCAB], probs[MAX_VOCAB];
static int32_t index_buf[MAX_VOCAB];
static int in_h, out_h;

static void get(void *p, unsigned long n) {
  if (tn_plat_read(in_h, p, n) != (long)n) {
    tn_plat_puts("sample_check: short input");
    tn_plat_exit(3);
  }
}

static void put(const void *p, unsigned long n) {
  if (tn_plat_write(out_h, p, n) != 0) {
    tn_plat_puts("sample_check: cannot write outputs.bin");
    tn_plat_exit(4);
  }
}

int main(void) {
  static const uint64_t seeds[2] = {42u, 0u};
  uint32_t cases, c, k, vocab, seed_lo, seed_hi, draws;
  int32_t top_k, tok;
  float temperature, top_p;
  tn_rng rng;
  tn_plat_init();
  in_h = tn_plat_open("inputs.bin", 0);
  out_h = tn_plat_open("outputs.bin", 1);
  if (in_h < 0 || out_h < 0) {
    tn_plat_puts("sample_check: cannot open inputs.bin/outputs.bin");
    tn_plat_exit(2);
  }
  for (c = 0; c < 2; ++c) {
    tn_rng_seed(&rng, seeds[c]);
    for (k = 0; k < 8; ++k) {
      const uint32_t u = tn_rng_u32(&rng);
      put(&u, 4);
    }
    for (k = 0; k < 8; ++k) {
      const float f = tn_rng_f32(&rng);
      put(&f, 4);
    }
    put(&rng.state, 8);
  }
  get(&cases, 4);
  for (c = 0; c < cases; ++c) {
    get(&vocab, 4);
    get(&temperature, 4);
    get(&top_k, 4);
    get(&top_p, 4);
    get(&seed_lo, 4);
    get(&seed_hi, 4);
    get(&draws, 4);
    if (vocab > MAX_VOCAB) tn_plat_exit(5);
    get(logits, vocab * 4u);
    tok = tn_sample_argmax(logits, (int32_t)vocab);
    put(&tok, 4);
    tn_rng_seed(&rng, ((uint64_t)seed_hi << 32) | seed_lo);
    for (k = 0; k < draws; ++k) {
      tok = tn_sample_token(logits, (int32_t)vocab, temperature, top_k, top_p, &rng, probs, index_buf);
      put(&tok, 4);
    }
    put(&rng.state, 8);
    put(probs, vocab * 4u); /* the last call's probabilities (meaningful when temperature > 0) */
  }
  tn_plat_close(out_h);
  tn_plat_exit(0);
  return 0;
}
`;

describe('tn_sample.c is bit-exact with sample.ts', () => {
  it('200 random cases (vocabularies of 1..3000, ties, NaN, infinities), 240 on exact boundaries, 3 of 50000 tokens', async () => {
    const cases = [...randomCases(200, 2024), ...boundaryCases()];
    const big = mulberry(5);
    for (const o of [
      { temperature: 0.8, topK: 40, topP: 0.95 },
      { temperature: 1, topK: 0, topP: 0.9999999 }, // nearly the whole vocabulary sorted
      { temperature: 1.1, topK: 0, topP: 0 },
    ]) {
      cases.push({ logits: Float32Array.from({ length: 50000 }, () => (big() + big() + big()) * 6), opts: o, seed: 123n, draws: 2 });
    }

    const dir = workDir('sample');
    const harness = join(dir, 'sample_check.c');
    writeFileSync(harness, HARNESS);
    const built = await buildProgram({
      target: getTarget('host'),
      dir,
      modelSources: [join(RUNTIME_DIR, 'ref/tn_sample.c'), join(RUNTIME_DIR, 'ref/tn_math.c')],
      runnerSources: [harness],
      includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common')],
      output: 'sample_check.elf',
    });

    const words: number[] = [cases.length];
    const f32 = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]!;
    for (const c of cases) {
      words.push(c.logits.length, f32(c.opts.temperature), c.opts.topK >>> 0, f32(c.opts.topP));
      words.push(Number(c.seed & 0xffffffffn), Number(c.seed >> 32n), c.draws);
      words.push(...new Uint32Array(c.logits.buffer));
    }
    writeFileSync(join(dir, 'inputs.bin'), new Uint8Array(Uint32Array.from(words).buffer));
    await executeOnTarget(getTarget('host'), built.program, dir, 60);
    const out = new DataView(readFileSync(join(dir, 'outputs.bin')).buffer.slice(0));

    let at = 0;
    const i32 = () => ((at += 4), out.getInt32(at - 4, true));
    const u64 = () => ((at += 8), out.getBigUint64(at - 8, true));
    for (const seed of [42n, 0n]) {
      const g = seedRng(seed);
      const u = Array.from({ length: 8 }, () => i32() >>> 0);
      const f = Array.from({ length: 8 }, () => ((at += 4), out.getFloat32(at - 4, true)));
      expect(u, `u32 for seed ${seed}`).toEqual(Array.from({ length: 8 }, () => randomU32(g)));
      expect(f, `f32 for seed ${seed}`).toEqual(Array.from({ length: 8 }, () => randomF32(g)));
      expect(u64(), `state for seed ${seed}`).toBe(g.state);
    }
    const bad: string[] = [];
    let draws = 0;
    let probsCompared = 0;
    for (const c of cases) {
      const ts = runTs(c);
      const argmax = i32();
      const tokens = Array.from({ length: c.draws }, i32);
      const state = u64();
      const probs = Array.from({ length: c.logits.length }, () => ((at += 4), out.getUint32(at - 4, true)));
      const want = samplingProbs(c.logits, c.opts.temperature);
      draws += c.draws;
      if (argmax !== ts.argmax || tokens.join() !== ts.tokens.join() || state !== ts.state) {
        bad.push(`${describeCase(c)}: C argmax ${argmax} tokens ${tokens} state ${state}; TS argmax ${ts.argmax} tokens ${ts.tokens} state ${ts.state}`);
      }
      if (want) {
        probsCompared++;
        const i = probs.findIndex((b, j) => b !== f32Bits(want[j]!));
        if (i >= 0) bad.push(`${describeCase(c)}: p[${i}] C bits ${probs[i]!.toString(16)}, TS ${f32Bits(want[i]!).toString(16)}`);
      }
    }
    expect(at).toBe(out.byteLength);
    expect(bad.slice(0, 5)).toEqual([]);
    expect(draws).toBeGreaterThan(500);
    expect(probsCompared).toBeGreaterThan(300);
  });
});
