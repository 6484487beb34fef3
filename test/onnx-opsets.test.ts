// Opset normalisation: the same computation written with the attribute form of an older opset and
// the input form of a newer one imports to the same IR and the same values. (With constants, so that
// it exercises the importer's folding of shape ops; the op library's tests cover the IR ops.)

import { describe, expect, it } from 'vitest';
import { interpret } from '../compiler/interpret.ts';
import type { TypedData } from '../compiler/ir.ts';
import { importOnnx } from '../compiler/readers/onnx/import.ts';
import { encodeOnnxModel, type ModelSpecOnnx, type NodeSpec, type TensorSpec } from '../compiler/readers/onnx/write.ts';

/** y = x + f(c) where f is a shape op on a constant c: the result shows what f computed. */
function run(opset: number, nodes: NodeSpec[], inits: (TensorSpec & { name: string })[], outShape: number[]): number[] {
  const m: ModelSpecOnnx = {
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: outShape }],
    outputs: [{ name: 'y', dtype: 'float32', shape: outShape }],
    initializers: [{ name: 'c', dtype: 'float32', shape: [2, 3, 1], data: [1, 2, 3, 4, 5, 6] }, ...inits],
    nodes: [...nodes, { op: 'Add', inputs: ['x', 'f'], outputs: ['y'] }],
  };
  const g = importOnnx(encodeOnnxModel(m), `opset${opset}.onnx`);
  expect(g.nodes.map((n) => n.op)).toEqual(['Add']);
  const n = outShape.reduce((a, b) => a * b, 1);
  return Array.from(interpret(g, new Map<string, TypedData>([['x', new Float32Array(n)]])).get('y') as Float32Array);
}

const i64 = (name: string, v: number[]): TensorSpec & { name: string } => ({ name, dtype: 'int64', shape: [v.length], data: v });

describe('opset normalisation', () => {
  it('Squeeze and Unsqueeze: axes attribute (opset 11) and axes input (opset 13)', () => {
    const old = run(
      11,
      [
        { op: 'Squeeze', inputs: ['c'], outputs: ['s'], attrs: { axes: [2] } },
        { op: 'Unsqueeze', inputs: ['s'], outputs: ['f'], attrs: { axes: [0] } },
      ],
      [],
      [1, 2, 3],
    );
    const now = run(
      13,
      [
        { op: 'Squeeze', inputs: ['c', 'ax2'], outputs: ['s'] },
        { op: 'Unsqueeze', inputs: ['s', 'ax0'], outputs: ['f'] },
      ],
      [i64('ax2', [2]), i64('ax0', [0])],
      [1, 2, 3],
    );
    expect(old).toEqual([1, 2, 3, 4, 5, 6]);
    expect(now).toEqual(old);
    // Squeeze without axes removes every dimension of size 1.
    expect(run(11, [{ op: 'Squeeze', inputs: ['c'], outputs: ['f'] }], [], [2, 3])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('Slice: attributes (opset 9) and inputs with steps (opset 10+)', () => {
    const old = run(9, [{ op: 'Slice', inputs: ['c'], outputs: ['f'], attrs: { starts: [0, 1], ends: [2, 1000], axes: [0, 1] } }], [], [2, 2, 1]);
    const now = run(
      13,
      [{ op: 'Slice', inputs: ['c', 'st', 'en', 'ax'], outputs: ['f'] }],
      [i64('st', [0, 1]), i64('en', [2, 1000]), i64('ax', [0, 1])],
      [2, 2, 1],
    );
    expect(old).toEqual([2, 3, 5, 6]);
    expect(now).toEqual(old);
    const reversed = run(
      13,
      [{ op: 'Slice', inputs: ['c', 'st', 'en', 'ax', 'sp'], outputs: ['f'] }],
      [i64('st', [-1]), i64('en', [-1000]), i64('ax', [1]), i64('sp', [-2])],
      [2, 2, 1],
    );
    expect(reversed).toEqual([3, 1, 6, 4]);
  });

  it('Split: split attribute (opset 11), split input (opset 13), num_outputs (opset 18)', () => {
    const pick = (opset: number, node: NodeSpec, inits: (TensorSpec & { name: string })[] = []) =>
      run(opset, [node, { op: 'Identity', inputs: ['p1'], outputs: ['f'] }], inits, [2, 1, 1]);
    expect(pick(11, { op: 'Split', inputs: ['c'], outputs: ['p0', 'p1'], attrs: { axis: 1, split: [2, 1] } })).toEqual([3, 6]);
    expect(pick(13, { op: 'Split', inputs: ['c', 'sp'], outputs: ['p0', 'p1'], attrs: { axis: 1 } }, [i64('sp', [2, 1])])).toEqual([3, 6]);
    // num_outputs: ceil(3 / 2) = 2, then the remainder 1.
    expect(pick(18, { op: 'Split', inputs: ['c'], outputs: ['p0', 'p1'], attrs: { axis: 1, num_outputs: 2 } })).toEqual([3, 6]);
  });

  it('Reshape: shape as an attribute-free input with 0 and -1, and allowzero', () => {
    expect(run(13, [{ op: 'Reshape', inputs: ['c', 'sh'], outputs: ['f'] }], [i64('sh', [0, -1])], [2, 3])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(run(14, [{ op: 'Reshape', inputs: ['c', 'sh'], outputs: ['f'], attrs: { allowzero: 0 } }], [i64('sh', [-1, 0, 1])], [2, 3, 1])).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  });

  it('Softmax before opset 13 normalises the 2-D coercion around axis (default 1)', () => {
    const m = (opset: number, attrs?: NodeSpec['attrs']): ModelSpecOnnx => ({
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 3] }],
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs }],
    });
    const x = new Float32Array([1, 2, 3, -1, 0, 1]);
    const y11 = interpret(importOnnx(encodeOnnxModel(m(11)), 'a.onnx'), new Map([['x', x]])).get('y');
    const y13 = interpret(importOnnx(encodeOnnxModel(m(13, { axis: -1 })), 'b.onnx'), new Map([['x', x]])).get('y');
    expect(Array.from(y11 as Float32Array)).toEqual(Array.from(y13 as Float32Array));
    // The IR op has the latest semantics: axis -1 after normalisation.
    expect(importOnnx(encodeOnnxModel(m(11)), 'a.onnx').nodes[0]!.attrs.axis).toBe(-1);
  });

  it('Softmax before opset 13 on rank 3: flattened to 2-D around axis 1, not along axis 1', () => {
    const m = (opset: number, attrs?: NodeSpec['attrs']): ModelSpecOnnx => ({
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 2, 2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2, 2, 2] }],
      nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs }],
    });
    const x = new Float32Array([0, 1, 2, 3, 0, 0, 0, 0]);
    const g = importOnnx(encodeOnnxModel(m(11)), 'old.onnx');
    expect(g.nodes.map((n) => n.op)).toEqual(['Reshape', 'Softmax', 'Reshape']);
    const y = Array.from(interpret(g, new Map([['x', x]])).get('y') as Float32Array);
    // Each batch row of 4 values sums to 1 (opset 13 with axis 1 would normalise pairs instead).
    expect(y.slice(0, 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(y.slice(4)).toEqual([0.25, 0.25, 0.25, 0.25]);
    const y13 = Array.from(interpret(importOnnx(encodeOnnxModel(m(13, { axis: 1 })), 'new.onnx'), new Map([['x', x]])).get('y') as Float32Array);
    expect(y13[0]! + y13[2]!).toBeCloseTo(1, 6);
  });

  it('ReduceMean: an empty axes input (opset 18) reduces every axis, like no axes attribute (opset 13)', () => {
    const spec = (opset: number, nodes: NodeSpec[], inits: (TensorSpec & { name: string })[]): ModelSpecOnnx => ({
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1] }],
      initializers: inits,
      nodes,
    });
    const x = new Map<string, TypedData>([['x', Float32Array.of(1, 2, 3, 4, 5, 9)]]);
    const mean = (m: ModelSpecOnnx) => Array.from(interpret(importOnnx(encodeOnnxModel(m), 'reduce.onnx'), x).get('y') as Float32Array);
    expect(mean(spec(13, [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'] }], []))).toEqual([4]);
    expect(mean(spec(18, [{ op: 'ReduceMean', inputs: ['x', 'ax'], outputs: ['y'] }], [i64('ax', [])]))).toEqual([4]);
  });

  it('Clip: min/max attributes (opset 6) and inputs (opset 11+)', () => {
    const m = (opset: number): ModelSpecOnnx => ({
      opset,
      inputs: [{ name: 'x', dtype: 'float32', shape: [4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [4] }],
      initializers:
        opset >= 11
          ? [
              { name: 'lo', dtype: 'float32', shape: [], data: [-1] },
              { name: 'hi', dtype: 'float32', shape: [], data: [0.5] },
            ]
          : [],
      nodes: [
        opset >= 11
          ? { op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }
          : { op: 'Clip', inputs: ['x'], outputs: ['y'], attrs: { min: { f: -1 }, max: { f: 0.5 } } },
      ],
    });
    const x = new Float32Array([-3, -0.5, 0.25, 2]);
    for (const opset of [7, 11, 13]) {
      const y = interpret(importOnnx(encodeOnnxModel(m(opset)), `clip${opset}.onnx`), new Map([['x', x]])).get('y');
      expect(Array.from(y as Float32Array)).toEqual([-1, -0.5, 0.25, 0.5]);
    }
  });

  it('Constant nodes: value tensor and value_float(s)/value_int(s)', () => {
    const f = run(
      13,
      [
        { op: 'Constant', inputs: [], outputs: ['k'], attrs: { value_floats: { floats: [1, 2] } } },
        { op: 'Identity', inputs: ['k'], outputs: ['f'] },
      ],
      [],
      [2],
    );
    expect(f).toEqual([1, 2]);
  });
});

describe('empty compile-time values', () => {
  it('an empty slice of a constant shape folds into the Concat that reads it (LayerNormalization axis 0)', () => {
    // Shape(c)[0:0] is empty; Concat(empty, [3, 2]) = [3, 2]; Reshape(c, [3, 2]).
    const f = run(
      13,
      [
        { op: 'Shape', inputs: ['c'], outputs: ['s'] },
        { op: 'Slice', inputs: ['s', 'zero', 'zero'], outputs: ['prefix'] },
        { op: 'Concat', inputs: ['prefix', 'rest'], outputs: ['shape'], attrs: { axis: 0 } },
        { op: 'Reshape', inputs: ['c', 'shape'], outputs: ['f'] },
      ],
      [i64('zero', [0]), i64('rest', [3, 2])],
      [3, 2],
    );
    expect(f).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('an empty value that an IR node would read is an error naming it', () => {
    const m: ModelSpecOnnx = {
      opset: 13,
      inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
      initializers: [{ name: 'c', dtype: 'float32', shape: [2], data: [1, 2] }, i64('one', [1])],
      nodes: [
        { op: 'Slice', inputs: ['c', 'one', 'one'], outputs: ['e'] },
        { op: 'Add', inputs: ['x', 'e'], outputs: ['y'] },
      ],
    };
    expect(() => importOnnx(encodeOnnxModel(m), 'empty.onnx')).toThrow(/tensor "e": has an empty shape \[0\]; tritc does not support empty tensors/);
  });
});
