// The package's functions from the sources (test/package.test.ts runs them from the packed tarball):
// options in camelCase reach the same checks as the flags, errors name the option as the caller
// wrote it, and main's later flags (--input-shape/--batch, warnings on converted inputs) are there.
// inspect and interpret only: no compiler or emulator.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspect, interpret, TritcError } from '../compiler/api/index.ts';
import { makeNdArray } from '../compiler/io/ndarray.ts';
import { writeNpy } from '../compiler/io/npy.ts';
import { encodeOnnxModel } from '../compiler/readers/onnx/write.ts';
import { workDir } from './support/differential.ts';

const EXAMPLE = join(import.meta.dirname, '../examples/digits-mlp');
const dir = workDir('api');

async function diagnostics(p: Promise<unknown>): Promise<{ code: string; where: string; message: string }[]> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof TritcError)) throw e;
    return e.diagnostics;
  }
  throw new Error('expected a TritcError');
}

describe('the package API', () => {
  it('inspect and interpret a model, typed, the same as the interpreter on the same arrays', async () => {
    const i = await inspect(EXAMPLE, { target: 'cortex-m4', maxScratch: '4K' });
    expect(i.fit).toBe('fits');
    expect(i.layers.length).toBeGreaterThan(0);
    const x = new Float32Array(64).fill(0.25);
    const a = await interpret(EXAMPLE, { inputs: { x: [x, x] } });
    if (a.kind !== 'graph') throw new Error('digits-mlp is a graph model');
    expect(a.outputs).toHaveLength(2);
    expect(a.outputs[0]!.class).toEqual(a.outputs[1]!.class);
  });

  it('names the option a bad value came from', async () => {
    expect(await diagnostics(inspect(EXAMPLE, { maxScratch: 'lots' }))).toEqual([
      { code: 'usage', where: 'options.maxScratch', message: 'expects a byte count such as 4096, 16K or 1MiB, got "lots"' },
    ]);
    expect((await diagnostics(inspect(EXAMPLE, { speed: 3 } as never)))[0]).toMatchObject({
      where: 'options.speed',
      message: 'is not an option of this function',
    });
    expect((await diagnostics(inspect(EXAMPLE, { inputShape: { x: 'wide' } as never })))[0]).toMatchObject({ where: 'options.inputShape.x' });
    expect((await diagnostics(inspect(EXAMPLE, { batch: 0 })))[0]).toMatchObject({ where: 'options.batch' });
  });

  it('inputShape and batch fix an ONNX model symbolic dimensions; a converted input file is a warning', async () => {
    const path = join(dir, 'sym.onnx');
    writeFileSync(
      path,
      encodeOnnxModel({
        opset: 11,
        inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 'seq'] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 1] }],
        nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { axes: [1] } }],
      }),
    );
    expect((await diagnostics(inspect(path)))[0]!.message).toContain('--input-shape x=1,1 or --batch 1');
    const i = await inspect(path, { inputShape: { x: [2, 3] } });
    expect(i.layers.at(-1)!.outputs[0]!.shape).toEqual([2, 1]);
    expect((await inspect(path, { batch: 4, inputShape: { x: [4, 3] } })).layers.at(-1)!.outputs[0]!.shape).toEqual([4, 1]);

    const npy = join(dir, 'x.npy');
    writeFileSync(npy, writeNpy(makeNdArray('float64', [2, 3], new Float64Array([1, 2, 3, 4, 5, 6]))));
    const warnings: string[] = [];
    const r = await interpret(path, { inputShape: { x: [2, 3] }, inputs: npy, warn: (m) => warnings.push(m) });
    if (r.kind !== 'graph') throw new Error('a graph model');
    expect([...(r.outputs[0]!.y as Float32Array)]).toEqual([6, 15]);
    expect(warnings).toEqual([`${npy}: input "x" is float32; the file holds float64, converted (every value exactly)`]);
  });
});
