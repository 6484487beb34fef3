// Worst-case accumulation: every weight +1 (or -1), every activation at the int8 limit, K as large as
// the format allows (2^24). The sums reach 127 * 2^24 (just below 2^31) and 128 * 2^24 = 2^31 (one
// past int32, where the compiler must switch to int64). bitnet.cpp's I2_S kernel wraps its int16
// lanes in exactly this situation; here the result must be exact on every target.

import { describe, expect, it } from 'vitest';
import { compileGraph } from '../compiler/compile.ts';
import { readModel } from '../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec } from '../compiler/readers/native/write.ts';
import { MAX_K } from '../compiler/limits.ts';
import { runOnTarget } from '../compiler/harness/run_target.ts';
import { interpret } from '../compiler/interpret.ts';
import { getTarget } from '../compiler/targets.ts';
import { f32Bits, fround } from '../compiler/numerics/f32.ts';
import { workDir } from './support/differential.ts';
import { join } from 'node:path';

/** y = W x with W all `w` (ternary, per-tensor scale 1), x all at `xv`. */
function worstCase(k: number, case_: 'float-127' | 'int8-neg128'): ModelSpec {
  const codes = new Int8Array(k).fill(case_ === 'float-127' ? 1 : -1);
  const tensors: ModelSpec['tensors'] = {
    w: { dtype: 'ternary', shape: [1, k], encoding: 'packed2', quant: { scale: 'w.scale', granularity: 'per_tensor' }, data: codes },
    'w.scale': { dtype: 'float32', shape: [1], data: Float32Array.of(1) },
  };
  if (case_ === 'float-127') {
    tensors.x = { dtype: 'float32', shape: [1, k] };
    return {
      name: `worst-${case_}-${k}`,
      inputs: ['x'],
      outputs: ['y'],
      tensors,
      nodes: [
        { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'] },
        { name: 'fc', op: 'TernaryLinear', inputs: ['xq', 'w'], outputs: ['y'] },
      ],
    };
  }
  tensors['x.scale'] = { dtype: 'float32', shape: [1], data: Float32Array.of(1) };
  tensors.x = { dtype: 'int8', shape: [1, k], quant: { scale: 'x.scale', granularity: 'per_tensor' } };
  return {
    name: `worst-${case_}-${k}`,
    inputs: ['x'],
    outputs: ['y'],
    tensors,
    nodes: [{ name: 'fc', op: 'TernaryLinear', inputs: ['x', 'w'], outputs: ['y'] }],
  };
}

async function check(targetName: string, kFloat: number, kInt8 = kFloat) {
  const target = getTarget(targetName);
  const dir = workDir(`worst-${targetName}`);
  for (const case_ of ['float-127', 'int8-neg128'] as const) {
    const k = case_ === 'float-127' ? kFloat : kInt8;
    const g = readModel(writeModel(join(dir, case_), worstCase(k, case_)));
    const compiled = compileGraph(g, { target, skipFitCheck: true });
    const x = case_ === 'float-127' ? new Float32Array(k).fill(1) : new Int8Array(k).fill(-128);
    const want = interpret(g, new Map([['x', x]])).get('y')!;
    // The exact sum, converted once to float, times the scales in the contract's order.
    const acc = case_ === 'float-127' ? 127 * k : 128 * k;
    const sx = case_ === 'float-127' ? fround(1 / 127) : 1;
    expect(f32Bits(want[0] as number)).toBe(f32Bits(fround(fround(fround(acc) * 1) * sx)));
    expect(compiled.graph.nodes.find((n) => n.op === 'TernaryLinear')!.annotations.accumulator).toEqual(
      acc > 2 ** 31 - 1 ? expect.stringContaining('int64') : 'int32',
    );
    const res = await runOnTarget([{ compiled, runs: [new Map([['x', x]])], dir: 'm' }], target, join(dir, `${case_}-build`), { timeoutSeconds: 900 });
    const got = res.records[0]![0]!.outputs.get('y')!;
    expect(f32Bits(got[0] as number)).toBe(f32Bits(want[0] as number));
  }
}

describe('worst-case accumulation is exact', () => {
  it(`K = 2^24 (the format limit) on the host: int32 at 127 * 2^24, int64 past 2^31`, async () => {
    expect(MAX_K).toBe(2 ** 24);
    await check('host', MAX_K);
  });
  it('K = 2^24 on rpi-armv7 (32-bit, int64 in register pairs)', async () => {
    await check('rpi-armv7', MAX_K);
  });
  // A microcontroller holds the whole input vector in RAM (64 KiB on cortex-m3): float inputs of
  // 8192 values, int8 inputs of 32768.
  for (const t of ['cortex-m4', 'cortex-m3', 'rv32imc']) {
    it(`K = 8192 (float input) and 32768 (int8 input) on ${t}`, async () => {
      await check(t, 8192, 32768);
    });
  }
});
