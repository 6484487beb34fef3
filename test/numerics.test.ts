// The numerics contract (docs/numerics.md): runtime-c's scalar math is bit-exact with the
// interpreter's float32 mirror on every target, and accurate enough to be useful.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexFloat } from '../compiler/emit/cliterals.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { executeOnTarget } from '../compiler/harness/run_target.ts';
import { C, expf, f32Bits, f32FromBits, fround, quantI8, rintf } from '../compiler/numerics/f32.ts';
import { loadTargets, RUNTIME_DIR, TARGETS_DIR } from '../compiler/targets.ts';
import { buildProgram } from '../compiler/toolchain/build.ts';
import { workDir } from './support/differential.ts';

const ulpDistance = (a: number, b: number) => Math.abs(f32Bits(a) - f32Bits(b));

/** Inputs that probe every branch: specials, overflow/underflow edges, ties, subnormals, a sweep. */
function probeInputs(): Float32Array {
  const v: number[] = [
    0,
    -0,
    Infinity,
    -Infinity,
    NaN,
    0.5,
    1.5,
    2.5,
    -0.5,
    -1.5,
    -2.5,
    126.5,
    127.5,
    -127.5,
    128,
    -128.7,
    2 ** 23,
    2 ** 23 - 0.5,
    -(2 ** 22) - 0.5,
    1e-45,
    -1e-45,
    1e-40,
  ];
  for (const edge of [C.EXP_MAX, C.EXP_MIN, -87.33654, -88.72283, -103.27893, 88.72284]) {
    for (let d = -3; d <= 3; d++) v.push(f32FromBits(f32Bits(fround(edge)) + d));
  }
  const r = rng(99);
  for (let i = 0; i < 12000; i++) v.push(fround(-110 + r() * 200)); // the range exp cares about
  for (let i = 0; i < 4000; i++) v.push(fround((r() * 2 - 1) * 300)); // the quantizer's clamp range
  for (let i = 0; i < 4000; i++) v.push(f32FromBits(Math.floor(r() * 2 ** 32))); // any bit pattern
  return Float32Array.from(v);
}

describe('float32 math mirror', () => {
  it('rintf rounds half to even (a zero result is +0, as documented)', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49999976, 2 ** 23 - 0.5].map(rintf)).toEqual([0, 2, 2, 0, -2, -2, 3, 2 ** 23]);
  });

  it('quantI8 clamps to [-127, 127] and maps NaN to 0', () => {
    expect([127.4, 127.5, 300, -127.5, -1e9, NaN, 0.5, -0.5, 1.5].map(quantI8)).toEqual([127, 127, 127, -127, -127, 0, 0, 0, 2]);
  });

  it('expf is within 2 ulp of the correctly rounded e^x over its whole range', () => {
    let worst = 0;
    for (const x of probeInputs()) {
      if (!(x > C.EXP_MIN && x < C.EXP_MAX)) continue;
      const want = fround(Math.exp(x));
      if (want < 2 ** -126) continue; // subnormal results: absolute error tiny, ulps large
      worst = Math.max(worst, ulpDistance(expf(x), want));
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect([expf(0), expf(-Infinity), expf(Infinity), expf(C.EXP_MAX + 1e-5), expf(-200)]).toEqual([1, 0, Infinity, Infinity, 0]);
    expect(Number.isNaN(expf(NaN))).toBe(true);
  });

  it('the C constants are the same float32 values as the TypeScript ones', () => {
    const src = readFileSync(join(RUNTIME_DIR, 'ref/tn_math.c'), 'utf8') + readFileSync(join(RUNTIME_DIR, 'ref/tn_quantize.c'), 'utf8');
    const defined = (name: string) => new RegExp(`#define TN_${name} (\\S+)`).exec(src)?.[1];
    for (const [name, value] of Object.entries(C)) {
      expect.soft(defined(name), name).toBe(hexFloat(value));
    }
  });
});

describe('runtime-c scalar math is bit-exact with the mirror on every target', () => {
  const inputs = probeInputs();
  const dir = workDir('math');
  for (const target of loadTargets().values()) {
    it(`tn_expf, tn_rintf, tn_quant_i8 on ${target.name} (${inputs.length} inputs)`, async () => {
      const tdir = join(dir, target.name);
      const built = await buildProgram({
        target,
        dir: tdir,
        modelSources: [join(RUNTIME_DIR, 'ref/tn_math.c')],
        runnerSources: [join(import.meta.dirname, 'c/math_check.c')],
        includeDirs: [RUNTIME_DIR, join(TARGETS_DIR, 'common')],
        output: 'math_check.elf',
      });
      const header = new Uint8Array(4);
      new DataView(header.buffer).setUint32(0, inputs.length, true);
      writeFileSync(join(tdir, 'inputs.bin'), Buffer.concat([header, new Uint8Array(inputs.buffer)]));
      await executeOnTarget(target, built.program, tdir, 300);
      const out = new DataView(readFileSync(join(tdir, 'outputs.bin')).buffer.slice(0));
      const bad: string[] = [];
      for (let i = 0; i < inputs.length && bad.length < 5; i++) {
        const x = inputs[i]!;
        const e = out.getFloat32(i * 12, true);
        const r = out.getFloat32(i * 12 + 4, true);
        const q = out.getInt8(i * 12 + 8);
        const same = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || f32Bits(a) === f32Bits(b);
        if (!same(e, expf(x))) bad.push(`expf(${x}) = ${e}, mirror ${expf(x)}`);
        if (!same(r, rintf(x))) bad.push(`rintf(${x}) = ${r}, mirror ${rintf(x)}`);
        if (q !== quantI8(x)) bad.push(`quant_i8(${x}) = ${q}, mirror ${quantI8(x)}`);
      }
      expect(bad).toEqual([]);
    });
  }
});
