// Hand-checked cases for the ONNX shape ops in the interpreter, and their errors.

import { describe, expect, it } from 'vitest';
import type { AttrValue } from '../compiler/ir.ts';
import { oneNode, readError, runModel } from './support/run_model.ts';

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
const f32 = (shape: number[]) => ({ dtype: 'float32' as const, shape });

function run(op: string, shape: number[], attrs: Record<string, AttrValue>, extra: Record<string, never> = {}, outputs = ['y']) {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = runModel(oneNode(op, { x: f32(shape), ...extra }, attrs, outputs), { x: iota(n) });
  return outputs.map((o) => Array.from(out.get(o) as Float32Array));
}

describe('shape ops move values without changing them', () => {
  it('Transpose: explicit perm and the default (reversed axes)', () => {
    // x = [[0 1 2] [3 4 5]] -> [[0 3] [1 4] [2 5]]
    expect(run('Transpose', [2, 3], {})[0]).toEqual([0, 3, 1, 4, 2, 5]);
    // [2, 3, 2] with perm [1, 0, 2]: y[j, i, k] = x[i, j, k]
    expect(run('Transpose', [2, 3, 2], { perm: [1, 0, 2] })[0]).toEqual([0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11]);
  });

  it('Slice: clamped ends, negative starts, negative steps, default axes', () => {
    // x = 0..9; [2:100:3] -> 2 5 8; [-3:] -> 7 8 9; [8:1:-3] -> 8 5 2; [::-1] with the end before 0
    expect(run('Slice', [10], { starts: [2], ends: [100], steps: [3] })[0]).toEqual([2, 5, 8]);
    expect(run('Slice', [10], { starts: [-3], ends: [10] })[0]).toEqual([7, 8, 9]);
    expect(run('Slice', [10], { starts: [8], ends: [1], axes: [0], steps: [-3] })[0]).toEqual([8, 5, 2]);
    expect(run('Slice', [4], { starts: [-1], ends: [-9], steps: [-1] })[0]).toEqual([3, 2, 1, 0]);
    // 2-D: rows 1.., columns 2 and 0 (step -2) of [[0 1 2] [3 4 5] [6 7 8]]
    expect(run('Slice', [3, 3], { starts: [1, 2], ends: [3, -4], axes: [0, -1], steps: [1, -2] })[0]).toEqual([5, 3, 8, 6]);
  });

  it('Concat along a middle axis, Split equal and explicit', () => {
    const out = runModel(
      oneNode('Concat', { a: f32([2, 1, 2]), b: { dtype: 'float32', shape: [2, 2, 2], data: Float32Array.of(10, 11, 12, 13, 14, 15, 16, 17) } }, { axis: -2 }),
      { a: Float32Array.of(0, 1, 2, 3) },
    );
    expect(Array.from(out.get('y') as Float32Array)).toEqual([0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17]);
    // 0..6 split in 3 equal parts (ONNX 18: ceil(7 / 3) = 3, the last part smaller)
    expect(run('Split', [7], {}, {}, ['p', 'q', 'r'])).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    // [[0 1 2] [3 4 5]] split along axis 1 into 1 + 2
    expect(run('Split', [2, 3], { axis: 1, split: [1, 2] }, {}, ['p', 'q'])).toEqual([
      [0, 3],
      [1, 2, 4, 5],
    ]);
  });

  it('Gather with negative and 2-D indices; an out-of-range index from a graph input gives zeros', () => {
    const idx = { dtype: 'int64' as const, shape: [2, 2], data: BigInt64Array.of(0n, -1n, 1n, 1n) };
    // data [[0 1 2] [3 4 5]] along axis 1: y[i, j, k] = x[i, idx[j, k]]
    const out = runModel(oneNode('Gather', { x: f32([2, 3]), i: idx }, { axis: 1 }), { x: iota(6) });
    expect(Array.from(out.get('y') as Float32Array)).toEqual([0, 2, 1, 1, 3, 5, 4, 4]);
    const dyn = runModel(oneNode('Gather', { x: f32([3]), i: { dtype: 'int32', shape: [3] } }), { x: Float32Array.of(5, 6, 7), i: Int32Array.of(2, 3, -4) });
    expect(Array.from(dyn.get('y') as Float32Array)).toEqual([7, 0, 0]);
  });

  it('Reshape, Flatten, Squeeze, Unsqueeze keep the values, for any dtype', () => {
    const spec = oneNode('Unsqueeze', { x: { dtype: 'int64', shape: [2] } }, { axes: [0, -1] });
    const out = runModel(spec, { x: BigInt64Array.of(-5n, 2n ** 62n) });
    expect(Array.from(out.get('y') as BigInt64Array)).toEqual([-5n, 2n ** 62n]);
    expect(run('Flatten', [2, 3, 4], { axis: 0 })[0]).toHaveLength(24);
  });
});

describe('shape inference', () => {
  const shapeOf = (op: string, shape: number[], attrs: Record<string, AttrValue>) => {
    const spec = oneNode(op, { x: f32(shape) }, attrs);
    spec.tensors.y = f32([999]); // a wrong declaration: the error says what inference found
    return /produces (\[[^\]]*\])/.exec(readError(spec))?.[1];
  };

  it('gives the ONNX shapes', () => {
    expect(shapeOf('Flatten', [2, 3, 4, 5], { axis: -1 })).toBe('[24, 5]');
    expect(shapeOf('Flatten', [2, 3, 4, 5], { axis: 0 })).toBe('[1, 120]');
    expect(shapeOf('Squeeze', [1, 3, 1, 5], {})).toBe('[3, 5]');
    expect(shapeOf('Squeeze', [1, 3, 1, 5], { axes: [-2] })).toBe('[1, 3, 5]');
    expect(shapeOf('Unsqueeze', [3, 4, 5], { axes: [2, 0] })).toBe('[1, 3, 1, 4, 5]');
    expect(shapeOf('Slice', [20, 10, 5], { starts: [0, 0, 3], ends: [20, 10, 4] })).toBe('[20, 10, 1]');
    expect(shapeOf('Slice', [20, 10, 5], { starts: [20, 10, 4], ends: [0, 0, 1], axes: [0, 1, 2], steps: [-1, -3, -2] })).toBe('[19, 3, 2]');
    expect(shapeOf('Transpose', [2, 3, 4], { perm: [2, 0, 1] })).toBe('[4, 2, 3]');
  });

  it('reports what does not fit, naming the node', () => {
    expect(readError(oneNode('Reshape', { x: f32([2, 3]) }, { shape: [4, 2] }))).toMatch(
      /"n".*cannot reshape "x" \[2, 3\] \(6 elements\) to \[4, 2\] \(8 elements\)/,
    );
    expect(readError(oneNode('Reshape', { x: f32([2, 3]) }, { shape: [-1, 3] }))).toMatch(/must have positive dimensions/);
    expect(readError(oneNode('Squeeze', { x: f32([2, 3]) }, { axes: [0] }))).toMatch(/cannot squeeze axis 0 of "x" \[2, 3\]: its size is 2, not 1/);
    expect(readError(oneNode('Transpose', { x: f32([2, 3]) }, { perm: [0, 0] }))).toMatch(/perm \[0, 0\] is not a permutation of the 2 axes/);
    expect(readError(oneNode('Slice', { x: f32([5]) }, { starts: [7], ends: [9] }))).toMatch(/is empty; tritc has no zero-size tensors/);
    expect(readError(oneNode('Concat', { a: f32([2, 3]), b: f32([3, 3]) }, { axis: 1 }))).toMatch(/"b" \[3, 3\] does not match "a" \[2, 3\] outside axis 1/);
    expect(readError(oneNode('Split', { x: f32([5]) }, { split: [2, 2] }, ['p', 'q']))).toMatch(
      /split \[2, 2\] must have one size per output \(2\) and add up to 5/,
    );
    const idx = { dtype: 'int64' as const, shape: [1], data: BigInt64Array.of(3n) };
    expect(readError(oneNode('Gather', { x: f32([3]), i: idx }))).toMatch(/index 3 at 0 of "i" is out of range for axis 0 of size 3/);
    expect(readError(oneNode('Gather', { x: f32([3]), i: { dtype: 'float32', shape: [1], data: Float32Array.of(0) } }))).toMatch(
      /input 1 \(indices\) "i" must be int32 or int64, found float32/,
    );
  });
});
