// Token sampling for language models: a seeded PRNG and temperature / top-k / top-p sampling, defined
// step by step so that runtime-c/ref/tn_sample.c computes the same token, bit for bit, on every target
// (test/sampling.test.ts checks it). docs/sampling.md holds the same specification.
//
// PRNG: llama2.c's xorshift64* (run.c `random_u32`), on a 64-bit unsigned state s:
//   s ^= s >> 12;  s ^= s << 25;  s ^= s >> 27          (64-bit: bits shifted out are lost)
//   u32 = (s * 0x2545F4914F6CDD1D mod 2^64) >> 32
//   f32 = (u32 >> 8) * 2^-24                             (a float32 in [0, 1), 24 random bits, exact)
// Seeding: s = seed, an unsigned 64-bit integer. Seed 0 (a state xorshift never leaves) is replaced by
// SEED_ZERO_STATE = 0x9E3779B97F4A7C15 (2^64 / golden ratio, splitmix64's increment).
//
// sampleToken(x[0..V), T, topK, topP), V >= 1. T and topP are float32 (the TypeScript side rounds them
// with Math.fround, as a C call rounds a double argument to a float parameter); topK is an int32. Every
// float operation below is one IEEE-754 binary32 operation, rounded to nearest even, in this order:
//   1. If not T > 0 (0, negative or NaN): return argmax(x), and draw no random number.
//      argmax(x) = the lowest i such that x[i] is not NaN and x[i] >= x[j] for every non-NaN x[j];
//      0 when every x[i] is NaN.
//   2. z[i] = x[i] / T for every i.
//   3. m = the largest z[i] that is not NaN. If every z[i] is NaN (NaN logits, or +-inf ones with
//      T = +inf): draw one random number, discard it and return argmax(x).
//   4. e[i] = 0 if z[i] is NaN; 1 if z[i] == m; otherwise expf(z[i] - m) (compiler/numerics/f32.ts's
//      expf, tn_expf in C). For a finite m the middle rule changes nothing (expf(0) = 1); it makes
//      m = +-inf well defined (inf - inf would be NaN).
//   5. s = ((0 + e[0]) + e[1]) + ... + e[V-1], in index order. s >= 1 (the maximum contributes 1).
//   6. p[i] = e[i] / s. Every p[i] is in [0, 1]: never NaN, never -0, so the order below is total.
//   7. The kept list. top-k is on when 0 < topK < V; top-p is on when 0 < topP < 1 (0, negative, NaN
//      and >= 1 are off).
//      - Neither on: every token, in index order 0, 1, ..., V-1.
//      - Otherwise tokens are taken in the order "p descending, then index ascending" (a comes before
//        b iff p[a] > p[b], or p[a] == p[b] and a < b), one at a time, at most topK of them when top-k
//        is on, accumulating c = c + p[t] from c = 0; when top-p is on, taking stops right after the
//        first token that makes c > topP (llama2.c's sample_topp: the shortest prefix whose
//        cumulative sum exceeds topP, at least one token, all of them if no prefix does).
//      With both on, top-p works inside the top k, on the probabilities of step 6 (not renormalized
//      over the k tokens, unlike llama.cpp's and Hugging Face's chains).
//   8. mass = the kept p[t] summed in the kept order from 0 (the same additions as c in step 7).
//   9. r = f32() * mass. Walk the kept list in order with cdf = 0: cdf = cdf + p[t]; the result is
//      the first t with r < cdf, or the last kept token if there is none. (There always is one:
//      f32() <= 1 - 2^-24 makes r < mass, and the walk's last cdf is mass, the same sums. So a token
//      with p = 0, which top-k can keep, is never returned: cdf does not grow there.)
// Every call with T > 0 draws exactly one f32(); any other T (0, negative, NaN) draws none.
//
// Cost: step 7 builds a binary heap over the V indices (O(V)) and pops only the tokens it keeps
// (O(log V) each): O(V + kept log V), at most O(V log V). The heap's moves do not matter: the order is
// a strict total order, so any correct selection yields the same list. tn_sample.c does the same.

import { expf, fround } from '../numerics/f32.ts';

const MASK64 = (1n << 64n) - 1n;

/** The state used for seed 0, which xorshift64* would never leave: 2^64 / golden ratio. */
export const SEED_ZERO_STATE = 0x9e3779b97f4a7c15n;

/** The PRNG's state, as C's `tn_rng`: one unsigned 64-bit integer, never 0. */
export interface Rng {
  state: bigint;
}

export interface SampleOptions {
  /** 0 (or less): argmax. Rounded to float32. */
  temperature: number;
  /** Keep the topK most probable tokens; 0 (or less, or >= the vocabulary size): off. An int32. */
  topK: number;
  /** Keep the shortest prefix whose probabilities sum to more than topP; 0 (or less, NaN) or >= 1: off. Rounded to float32. */
  topP: number;
}

/** A PRNG seeded with an unsigned 64-bit integer (a bigint, or a number that is a safe integer). */
export function seedRng(seed: bigint | number): Rng {
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`sampling seed must be an integer in [0, 2^53) when given as a number, found ${seed}`);
    seed = BigInt(seed);
  }
  if (seed < 0n || seed > MASK64) throw new RangeError(`sampling seed must be an unsigned 64-bit integer, found ${seed}`);
  return { state: seed === 0n ? SEED_ZERO_STATE : seed };
}

/** xorshift64*: advance the state, return 32 random bits (llama2.c's random_u32). */
export function randomU32(rng: Rng): number {
  let s = rng.state;
  s ^= s >> 12n;
  s ^= (s << 25n) & MASK64;
  s ^= s >> 27n;
  rng.state = s;
  return Number(((s * 0x2545f4914f6cdd1dn) & MASK64) >> 32n);
}

/** A float32 in [0, 1): the top 24 of 32 random bits, times 2^-24 (exact). */
export function randomF32(rng: Rng): number {
  return (randomU32(rng) >>> 8) * 2 ** -24;
}

/** The lowest index of the largest logit; NaN never wins; 0 when every logit is NaN. */
export function argmaxToken(logits: Float32Array): number {
  let best = -1;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v !== v) continue;
    if (best < 0 || v > logits[best]!) best = i;
  }
  return best < 0 ? 0 : best;
}

/**
 * Steps 2 to 6: the probabilities p[i] = softmax(logits / T), for T > 0. null when T is not > 0 or
 * when every scaled logit is NaN. (tn_sample_token leaves the same values in its scratch_probs.)
 */
export function samplingProbs(logits: Float32Array, temperature: number): Float32Array | null {
  const V = logits.length;
  const T = fround(temperature);
  if (!(T > 0)) return null;
  // 2, 3. scaled logits and their largest non-NaN value
  const p = new Float32Array(V);
  let m = NaN;
  for (let i = 0; i < V; i++) {
    const z = fround(logits[i]! / T);
    p[i] = z;
    if (z === z && (m !== m || z > m)) m = z;
  }
  if (m !== m) return null;
  // 4, 5, 6. softmax
  let s = 0;
  for (let i = 0; i < V; i++) {
    const z = p[i]!;
    const e = z !== z ? 0 : z === m ? 1 : expf(fround(z - m));
    p[i] = e;
    s = fround(s + e);
  }
  for (let i = 0; i < V; i++) p[i] = fround(p[i]! / s); // s >= 1
  return p;
}

/** Sample one token id from the logits (the specification is at the top of this file). */
export function sampleToken(logits: Float32Array, opts: SampleOptions, rng: Rng): number {
  const V = logits.length;
  if (V < 1) throw new RangeError('sampleToken: the logits are empty');
  if (!Number.isInteger(opts.topK) || opts.topK < -(2 ** 31) || opts.topK >= 2 ** 31)
    throw new RangeError(`sampleToken: topK must be an int32, found ${opts.topK}`);
  const topP = fround(opts.topP);
  const topK = opts.topK;

  // 1. argmax
  if (!(fround(opts.temperature) > 0)) return argmaxToken(logits);
  // 2 to 6. the probabilities; every scaled logit NaN: one number drawn, argmax
  const p = samplingProbs(logits, opts.temperature);
  if (p === null) {
    randomU32(rng);
    return argmaxToken(logits);
  }

  // 7, 8. the kept list and its mass
  const useK = topK > 0 && topK < V;
  const useP = topP > 0 && topP < 1;
  if (!useK && !useP) {
    let mass = 0;
    for (let i = 0; i < V; i++) mass = fround(mass + p[i]!);
    const r = fround(randomF32(rng) * mass);
    let cdf = 0;
    for (let i = 0; i < V; i++) {
      cdf = fround(cdf + p[i]!);
      if (r < cdf) return i;
    }
    return V - 1;
  }
  // Heap sort, stopped early: heap[0..n) is a heap with the best token on top; each pop moves the top
  // to heap[n - 1], so the kept tokens end up at heap[V - 1], heap[V - 2], ... in kept order.
  const heap = new Int32Array(V);
  for (let i = 0; i < V; i++) heap[i] = i;
  const before = (a: number, b: number): boolean => p[a]! > p[b]! || (p[a] === p[b] && a < b);
  const siftDown = (i: number, n: number): void => {
    const t = heap[i]!;
    while (i < n >> 1) {
      let c = 2 * i + 1;
      if (c + 1 < n && before(heap[c + 1]!, heap[c]!)) c++;
      if (!before(heap[c]!, t)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = t;
  };
  for (let i = (V >> 1) - 1; i >= 0; i--) siftDown(i, V);
  const limit = useK ? topK : V;
  let kept = 0;
  let mass = 0;
  while (kept < limit) {
    const n = V - kept;
    const top = heap[0]!;
    heap[0] = heap[n - 1]!;
    heap[n - 1] = top;
    siftDown(0, n - 1);
    kept++;
    mass = fround(mass + p[top]!);
    if (useP && mass > topP) break;
  }

  // 9. the draw
  const r = fround(randomF32(rng) * mass);
  let cdf = 0;
  for (let j = 0; j < kept; j++) {
    const t = heap[V - 1 - j]!;
    cdf = fround(cdf + p[t]!);
    if (r < cdf) return t;
  }
  return heap[V - kept]!;
}
