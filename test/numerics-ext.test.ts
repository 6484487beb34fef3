// The scalar math of the ONNX ops (docs/numerics.md, "Scalar helpers"): sqrt, log, tanh, sigmoid,
// erf, the two Gelu forms and pow. Each is checked for accuracy against the true function (the ulp
// bounds below are the ones measured and documented) and bit for bit against runtime-c on every target.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng } from '../compiler/harness/inputs.ts';
import { executeOnTarget } from '../compiler/harness/run_target.ts';
import { div, erff, f32Bits, f32FromBits, fround, geluErff, geluTanhf, logf, powf, sigmoidf, sqrtf, tanhf } from '../compiler/numerics/f32.ts';
import { loadTargets, RUNTIME_DIR, TARGETS_DIR } from '../compiler/targets.ts';
import { buildProgram } from '../compiler/toolchain/build.ts';
import { workDir } from './support/differential.ts';

/** Distance in units in the last place between two finite floats of the same sign (or zero). */
function ulps(a: number, b: number): number {
  const ord = (v: number) => {
    const bits = f32Bits(v);
    return bits >>> 31 ? -(bits & 0x7fffffff) : bits;
  };
  return Math.abs(ord(a) - ord(b));
}

// ---- Reference functions in binary64 (rounded to float32 by the caller) -------------------------

/** erfc(x) in binary64 for x >= 2.5, by the continued fraction (evaluated backwards). */
function erfcCf(x: number): number {
  let t = x;
  for (let n = 80; n >= 1; n--) t = x + n / 2 / t;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / t;
}

/** erf(x) in binary64: the Taylor series below 2.5 (at most 4 bits lost to cancellation), erfc above. */
function erf64(x: number): number {
  const a = Math.abs(x);
  if (a >= 2.5) return Math.sign(x) * (1 - erfcCf(a));
  let term = a;
  let sum = a;
  for (let n = 1; n < 80; n++) {
    term *= (-a * a) / n;
    sum += term / (2 * n + 1);
  }
  return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
}

function erfc64(x: number): number {
  return x >= 2.5 ? erfcCf(x) : 1 - erf64(x);
}

function gelu64(x: number): number {
  const t = x / Math.SQRT2;
  return t < -1 ? 0.5 * x * erfc64(-t) : 0.5 * x * (1 + erf64(t));
}

function geluTanh64(x: number): number {
  const s = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x);
  return x / (1 + Math.exp(-2 * s)); // = 0.5 x (1 + tanh(s)), without cancellation for x < 0
}

/** Worst ulp error of `f` against `ref` over `xs`, ignoring results that are subnormal or beyond float. */
function worstUlps(xs: Iterable<number>, f: (x: number) => number, ref: (x: number) => number): { ulps: number; at: number } {
  let worst = { ulps: 0, at: NaN };
  for (const x of xs) {
    const want = fround(ref(x));
    if (!Number.isFinite(want) || (want !== 0 && Math.abs(want) < 2 ** -126)) continue;
    const d = ulps(f(x), want);
    if (d > worst.ulps) worst = { ulps: d, at: x };
  }
  return worst;
}

function* uniform(seed: number, lo: number, hi: number, n: number): Generator<number> {
  const r = rng(seed);
  for (let i = 0; i < n; i++) yield fround(lo + (hi - lo) * r());
}

/** Every positive float exponent, random mantissas. */
function* positiveFloats(seed: number, n: number): Generator<number> {
  const r = rng(seed);
  for (let i = 0; i < n; i++) yield f32FromBits(Math.floor(r() * 0x7f800000));
}

describe('accuracy of the ONNX scalar math against the true function', () => {
  it('sqrtf is correctly rounded (0 ulp), including subnormals; sqrt(-x) is NaN, sqrt(-0) is -0', () => {
    expect(worstUlps(positiveFloats(1, 50000), sqrtf, Math.sqrt).ulps).toBe(0);
    expect([sqrtf(4), sqrtf(2 ** -148), sqrtf(Infinity), sqrtf(0)]).toEqual([2, 2 ** -74, Infinity, 0]);
    expect(Object.is(sqrtf(-0), -0)).toBe(true);
    expect(Number.isNaN(sqrtf(-1))).toBe(true);
  });

  it('logf is within 1 ulp over every positive float', () => {
    const xs = [...positiveFloats(2, 60000), ...uniform(3, 0.5, 2, 20000)];
    expect(worstUlps(xs, logf, Math.log).ulps).toBeLessThanOrEqual(1);
    expect([logf(1), logf(0), logf(Infinity)]).toEqual([0, -Infinity, Infinity]);
    expect(Number.isNaN(logf(-1))).toBe(true);
  });

  it('tanhf is within 1 ulp', () => {
    const xs = [...uniform(4, -12, 12, 40000), ...uniform(5, -0.7, 0.7, 20000), ...positiveFloats(6, 20000)];
    expect(worstUlps(xs, tanhf, Math.tanh).ulps).toBeLessThanOrEqual(1);
    expect(Object.is(tanhf(-0), -0)).toBe(true);
    expect([tanhf(Infinity), tanhf(-Infinity), tanhf(1e-30)]).toEqual([1, -1, fround(1e-30)]);
  });

  it('sigmoidf is within 2 ulp', () => {
    const xs = [...uniform(7, -87, 87, 60000), ...uniform(8, -5, 5, 20000)];
    expect(worstUlps(xs, sigmoidf, (x) => 1 / (1 + Math.exp(-x))).ulps).toBeLessThanOrEqual(2);
    expect([sigmoidf(0), sigmoidf(Infinity), sigmoidf(-Infinity)]).toEqual([0.5, 1, 0]);
  });

  it('erff is within 1 ulp', () => {
    const xs = [...uniform(9, -5, 5, 60000), ...uniform(10, -1.2, 1.2, 20000), ...positiveFloats(11, 10000)];
    expect(worstUlps(xs, erff, erf64).ulps).toBeLessThanOrEqual(1);
    expect(Object.is(erff(-0), -0)).toBe(true);
    expect([erff(Infinity), erff(-Infinity), erff(4)]).toEqual([1, -1, 1]);
  });

  it('Gelu (erf) is within 6 ulp; Gelu (tanh) within 16 ulp for x >= -3, and 1e-6 absolute below', () => {
    const xs = [...uniform(12, -15, 12, 60000), ...uniform(13, -3, 3, 20000)];
    expect(worstUlps(xs, geluErff, gelu64).ulps).toBeLessThanOrEqual(6);
    // The tanh form's sigmoid(2s) tail multiplies the rounding error of s by |2s|: the formula, evaluated
    // in float32, is ill-conditioned for x < -3, whatever the implementation.
    expect(worstUlps([...uniform(14, -3, 20, 60000)], geluTanhf, geluTanh64).ulps).toBeLessThanOrEqual(16);
    for (const x of uniform(15, -20, -3, 20000)) expect(Math.abs(geluTanhf(x) - geluTanh64(x))).toBeLessThan(1e-6);
    expect([geluErff(Infinity), geluTanhf(Infinity), geluErff(0), geluTanhf(0)]).toEqual([Infinity, Infinity, 0, 0]);
    expect(Object.is(geluErff(-Infinity), -0) && Object.is(geluTanhf(-Infinity), -0)).toBe(true);
  });

  it('powf is within 2 ulp, and exact for y = 1, 2, -1, 1/2', () => {
    const r = rng(14);
    const pairs: [number, number][] = [];
    for (let i = 0; i < 40000; i++) pairs.push([fround(r() * 100), fround((r() - 0.5) * 40)]);
    for (let i = 0; i < 20000; i++) pairs.push([f32FromBits(Math.floor(r() * 0x7f800000)), fround((r() - 0.5) * 4)]);
    for (let i = 0; i < 10000; i++) pairs.push([fround(1 + (r() - 0.5) * 2 ** -10), fround((r() - 0.5) * 2 ** 17)]); // |y ln x| up to ~64
    for (let i = 0; i < 10000; i++) pairs.push([fround(-r() * 10), Math.round((r() - 0.5) * 60)]); // negative bases, integer exponents
    let worst = 0;
    for (const [x, y] of pairs) {
      const want = fround(Math.pow(x, y));
      if (!Number.isFinite(want) || (want !== 0 && Math.abs(want) < 2 ** -126)) continue;
      worst = Math.max(worst, ulps(powf(x, y), want));
    }
    expect(worst).toBeLessThanOrEqual(2);
    for (const x of positiveFloats(15, 5000)) {
      expect(powf(x, 2)).toBe(fround(x * x));
      expect(powf(-x, 1)).toBe(-x);
      expect(powf(x, 0.5)).toBe(fround(Math.sqrt(x)));
    }
  });

  it('powf follows C99 Annex F for zeros, infinities, NaN and negative bases', () => {
    const cases: [number, number, number][] = [
      [NaN, 0, 1],
      [NaN, -0, 1],
      [1, NaN, 1],
      [1, Infinity, 1],
      [-1, Infinity, 1],
      [-1, -Infinity, 1],
      [0, -3, Infinity],
      [-0, -3, -Infinity],
      [0, -2, Infinity],
      [-0, -2, Infinity],
      [-0, -0.5, Infinity],
      [0, 3, 0],
      [-0, 3, -0],
      [-0, 2, 0],
      [-0, 0.5, 0],
      [0.5, -Infinity, Infinity],
      [2, -Infinity, 0],
      [0.5, Infinity, 0],
      [2, Infinity, Infinity],
      [-Infinity, -3, -0],
      [-Infinity, -2, 0],
      [-Infinity, 3, -Infinity],
      [-Infinity, 2, Infinity],
      [-Infinity, 0.5, Infinity],
      [Infinity, -1, 0],
      [Infinity, 0.5, Infinity],
      [-2, 3, -8],
      [-2, 2, 4],
      [-2, -1, -0.5],
      [2, 2 ** 40, Infinity],
      [0.5, 2 ** 40, 0],
      [3, 3, 27],
      [2, -2, 0.25],
      [10, 10, 1e10],
    ];
    for (const [x, y, want] of cases) expect(Object.is(powf(x, y), want), `pow(${x}, ${y}) = ${powf(x, y)}, expected ${want}`).toBe(true);
    for (const [x, y] of [
      [-2, 0.5],
      [NaN, 1],
      [2, NaN],
      [-8, 1 / 3],
    ] as const)
      expect(Number.isNaN(powf(x, y))).toBe(true);
  });
});

/** (x, y) pairs that reach every branch of every function. */
function probePairs(): Float32Array {
  const specials = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    1,
    -1,
    0.5,
    -0.5,
    2,
    -2,
    3,
    -3,
    0.625,
    -0.625,
    1e-45,
    -1e-45,
    1e-40,
    2 ** -126,
    4,
    -4,
    10,
    -10,
    10.5,
    14,
    -14,
    88.7,
    -103.9,
    3.4e38,
    -3.4e38,
  ];
  const ys = [0, -0, 1, -1, 2, -2, 0.5, -0.5, 3, -3, Infinity, -Infinity, NaN, 2 ** 24, 2 ** 24 + 2, 2 ** 31, -(2 ** 31), 0.3, 7.5, -17];
  const v: number[] = [];
  for (const x of specials) for (const y of ys) v.push(x, y);
  const r = rng(77);
  for (let i = 0; i < 6000; i++) v.push(fround((r() - 0.5) * 30), fround((r() - 0.5) * 8)); // tanh, erf, sigmoid, gelu ranges
  for (let i = 0; i < 4000; i++) v.push(f32FromBits(Math.floor(r() * 2 ** 32)), f32FromBits(Math.floor(r() * 2 ** 32))); // any bits
  for (let i = 0; i < 4000; i++) v.push(fround(r() * 50), fround((r() - 0.5) * 50)); // pow's general path
  for (let i = 0; i < 2000; i++) v.push(fround(-r() * 10), Math.round((r() - 0.5) * 40)); // negative bases
  // Subnormal quotients (tn_divf): tiny / moderate, moderate / huge, ties.
  for (let i = 0; i < 2000; i++) v.push(fround((r() - 0.5) * 2 ** -120), fround(r() * 2 ** 10));
  for (let i = 0; i < 1000; i++) v.push(fround(r() * 4), fround((r() + 0.5) * 2 ** 127));
  for (let k = 0; k < 24; k++) v.push(f32FromBits((3 << 20) + k), 2, f32FromBits(3 + 2 * k), 2, 2 ** -126, 1 + 2 ** -23);
  return Float32Array.from(v);
}

const FUNCS: [string, (x: number, y: number) => number][] = [
  ['logf', logf],
  ['tanhf', tanhf],
  ['erff', erff],
  ['sqrtf', sqrtf],
  ['sigmoidf', sigmoidf],
  ['gelu_erff', geluErff],
  ['gelu_tanhf', geluTanhf],
  ['powf', powf],
  ['divf', div],
];

describe('runtime-c ONNX scalar math is bit-exact with the mirror on every target', () => {
  const pairs = probePairs();
  const count = pairs.length / 2;
  const dir = workDir('math-ext');
  for (const target of loadTargets().values()) {
    it(`${FUNCS.map((f) => f[0]).join(', ')} on ${target.name} (${count} inputs)`, async () => {
      const tdir = join(dir, target.name);
      const built = await buildProgram({
        target,
        dir: tdir,
        modelSources: [join(RUNTIME_DIR, 'ref/tn_math.c')],
        runnerSources: [join(import.meta.dirname, 'c/math_ext_check.c')],
        includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common')],
        output: 'math_ext_check.elf',
      });
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, count, true);
      writeFileSync(join(tdir, 'inputs.bin'), Buffer.concat([header, new Uint8Array(pairs.buffer)]));
      await executeOnTarget(target, built.program, tdir, 300);
      const bytes = readFileSync(join(tdir, 'outputs.bin'));
      const out = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      expect(out.length).toBe(count * FUNCS.length);
      const bad: string[] = [];
      for (let i = 0; i < count && bad.length < 8; i++) {
        const x = pairs[2 * i]!;
        const y = pairs[2 * i + 1]!;
        FUNCS.forEach(([name, f], j) => {
          const got = out[i * FUNCS.length + j]!;
          const want = f(x, y);
          const same = (Number.isNaN(got) && Number.isNaN(want)) || f32Bits(got) === f32Bits(want);
          if (!same && bad.length < 8 && !bad.some((b) => b.startsWith(`${name}(${x}`)))
            bad.push(`${name}(${x}${name === 'powf' || name === 'divf' ? `, ${y}` : ''}) = ${got}, mirror ${want}`);
        });
      }
      expect(bad).toEqual([]);
    });
  }
});
