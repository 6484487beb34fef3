// Hand-written models for the corners random graphs rarely reach.

import type { ModelSpec } from '../../compiler/readers/native/write.ts';

export function cornerCaseModels(): ModelSpec[] {
  const s = (v: number) => ({ dtype: 'float32' as const, shape: [1], data: Float32Array.of(v) });
  return [
    {
      // Outputs that no node writes to the caller directly: an input, a constant, a repeated output.
      name: 'passthrough-outputs',
      inputs: ['x'],
      outputs: ['x', 'c', 'y', 'y'],
      tensors: { x: { dtype: 'float32', shape: [2, 3] }, c: { dtype: 'float32', shape: [4], data: Float32Array.of(1, -2, 3.5, -0) } },
      nodes: [{ name: 'relu', op: 'Relu', inputs: ['x'], outputs: ['y'] }],
    },
    {
      // K = 1, N = 1, group size 1, a single row: the smallest layer there is.
      name: 'k1',
      inputs: ['x'],
      outputs: ['y'],
      tensors: {
        x: { dtype: 'float32', shape: [1] },
        w: { dtype: 'ternary', shape: [1, 1], quant: { scale: 'ws', granularity: 'per_group', group_size: 1 }, data: Int8Array.of(-1) },
        ws: s(0.75),
      },
      nodes: [
        { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'] },
        { name: 'fc', op: 'TernaryLinear', inputs: ['xq', 'w'], outputs: ['y'] },
      ],
    },
    {
      // One-element rows (per-row quantisation of a single value), softmax over a length-1 axis, argmax with keepdims.
      name: 'zeros-and-singletons',
      inputs: ['x'],
      outputs: ['p', 'i', 'h'],
      tensors: {
        x: { dtype: 'float32', shape: [3, 1] },
        w: { dtype: 'binary', shape: [5, 1], quant: { scale: 'ws', granularity: 'per_tensor' }, data: Int8Array.of(1, -1, 1, 1, -1) },
        ws: s(-0.5),
      },
      nodes: [
        { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq', 'xs'], attrs: { granularity: 'per_row' } },
        { name: 'fc', op: 'BinaryLinear', inputs: ['xq', 'w'], outputs: ['h'] },
        { name: 'sm', op: 'Softmax', inputs: ['h'], outputs: ['p'], attrs: { axis: 0 } },
        { name: 'am', op: 'ArgMax', inputs: ['h'], outputs: ['i'], attrs: { axis: 1, keepdims: true } },
      ],
    },
    {
      // A chain where the same int8 tensor feeds two layers, and Relu on int8 feeds a third.
      name: 'shared-int8',
      inputs: ['x'],
      outputs: ['a', 'b', 'c'],
      tensors: {
        x: { dtype: 'float32', shape: [2, 6] },
        w1: { dtype: 'ternary', shape: [2, 4, 6], quant: { scale: 's1', granularity: 'per_row' }, data: new Int8Array(48).map((_, i) => ((i * 5) % 3) - 1) },
        s1: { dtype: 'float32', shape: [2, 4], data: Float32Array.of(0.1, 0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8) },
        w2: {
          dtype: 'binary',
          shape: [3, 6],
          quant: { scale: 's2', granularity: 'per_group', group_size: 4 },
          data: new Int8Array(18).map((_, i) => (i % 2 ? 1 : -1)),
        },
        s2: { dtype: 'float32', shape: [3, 2], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
      },
      nodes: [
        { name: 'q', op: 'QuantizeInt8', inputs: ['x'], outputs: ['xq'], attrs: { granularity: 'per_row' } },
        { name: 'fa', op: 'TernaryLinear', inputs: ['xq', 'w1'], outputs: ['a'] },
        { name: 'fb', op: 'BinaryLinear', inputs: ['xq', 'w2'], outputs: ['b'] },
        { name: 'r8', op: 'Relu', inputs: ['xq'], outputs: ['xr'] },
        { name: 'dq', op: 'DequantizeInt8', inputs: ['xr'], outputs: ['c'] },
      ],
    },
    {
      // Every storage dtype through the runner and the copies: uint8, int64 (with its extremes), bool.
      name: 'dtypes',
      inputs: ['u', 'l', 'b'],
      outputs: ['u', 'l', 'b', 'k', 'z'],
      tensors: {
        u: { dtype: 'uint8', shape: [3] },
        l: { dtype: 'int64', shape: [2, 2] },
        b: { dtype: 'bool', shape: [4] },
        k: { dtype: 'int64', shape: [3], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, 42n) },
        z: { dtype: 'int32', shape: [2], data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) },
      },
      nodes: [],
    },
    {
      // TBT's activation quantizers (ActQuant) on rows with NaN, infinities, signed zeros, a zero row,
      // and values far beyond and far below each step: every method, signed and unsigned.
      name: 'tbt-act-quant',
      inputs: ['x'],
      outputs: ['e2s', 'e1s', 'e2u', 'e1u', 'c8s', 'c8u'],
      tensors: {
        x: { dtype: 'float32', shape: [4, 8] },
        // x * c1 * c2 * c3: c1 * c2 = 1e60 makes an infinity, and c3 = 0 then makes it NaN.
        c1: {
          dtype: 'float32',
          shape: [4, 8],
          data: Float32Array.of(
            ...[1e30, 1e30, 1e30, 0, 1, -1, 1e-30, 1e30],
            ...[0.5, -0.25, 3, -7, 0.01, 0.125, -0.0625, 2],
            ...[0, 0, 0, 0, 0, 0, 0, 0],
            ...[1e30, 1, 2, 3, -4, 5, 1e30, 1e-3],
          ),
        },
        c2: {
          dtype: 'float32',
          shape: [4, 8],
          data: Float32Array.of(...[1e30, 1e30, 1e30, 1, 1, 1, 1, 1], ...new Array<number>(16).fill(1), ...[1e30, 1, 1, 1, 1, 1, 1e30, 1]),
        },
        c3: {
          dtype: 'float32',
          shape: [4, 8],
          data: Float32Array.of(...[0, 1, 1, 1, 1, 1, 1, 1], ...new Array<number>(16).fill(1), ...[1, 1, 1, 1, 1, 1, 0, 1]),
        },
      },
      nodes: [
        { name: 'wild1', op: 'Mul', inputs: ['x', 'c1'], outputs: ['m1'] },
        { name: 'wild2', op: 'Mul', inputs: ['m1', 'c2'], outputs: ['m2'] },
        { name: 'wild3', op: 'Mul', inputs: ['m2', 'c3'], outputs: ['m'] },
        { name: 'e2s', op: 'ActQuant', inputs: ['m'], outputs: ['e2s'], attrs: { method: 'elastic', bits: 2, signed: true, alpha: 0.37 } },
        { name: 'e1s', op: 'ActQuant', inputs: ['m'], outputs: ['e1s'], attrs: { method: 'elastic', bits: 1, signed: true, alpha: 1e-7 } },
        { name: 'e2u', op: 'ActQuant', inputs: ['m'], outputs: ['e2u'], attrs: { method: 'elastic', bits: 2, signed: false, alpha: 0.5 } },
        { name: 'e1u', op: 'ActQuant', inputs: ['m'], outputs: ['e1u'], attrs: { method: 'elastic', bits: 1, signed: false, alpha: 0.25 } },
        { name: 'c8s', op: 'ActQuant', inputs: ['m'], outputs: ['c8s'], attrs: { method: 'clip8', bits: 8, signed: true, clip: 2.5 } },
        { name: 'c8u', op: 'ActQuant', inputs: ['m'], outputs: ['c8u'], attrs: { method: 'clip8', bits: 8, signed: false, clip: 0.3 } },
      ],
    },
  ];
}
