// Hand-checked cases for the ONNX ops that compute: MatMul and Gemm, the reductions and
// normalisations, Conv and the pools, and the quantised ops; and the errors they report.
// (test/onnx-backend-ops.test.ts checks them against ONNX's own expected outputs too.)

import { describe, expect, it } from 'vitest';
import type { AttrValue, DType, TypedData } from '../compiler/ir.ts';
import { fround } from '../compiler/numerics/f32.ts';
import { oneNode, readError, runModel } from './support/run_model.ts';

const f32 = (shape: number[], data?: number[]) => ({ dtype: 'float32' as const, shape, ...(data ? { data: Float32Array.from(data) } : {}) });
const q = (dtype: DType, shape: number[], data?: number[]) => ({
  dtype,
  shape,
  ...(data ? { data: dtype === 'int8' ? Int8Array.from(data) : dtype === 'int32' ? Int32Array.from(data) : Uint8Array.from(data) } : {}),
});
const out = (m: Map<string, TypedData>, name = 'y') => Array.from(m.get(name) as ArrayLike<number>);

describe('MatMul and Gemm', () => {
  it('MatMul: 2-D, 1-D on either side, broadcast batch', () => {
    // [[1 2] [3 4]] @ [[5 6] [7 8]] = [[19 22] [43 50]]
    expect(out(runModel(oneNode('MatMul', { a: f32([2, 2]), b: f32([2, 2], [5, 6, 7, 8]) }), { a: Float32Array.of(1, 2, 3, 4) }))).toEqual([19, 22, 43, 50]);
    expect(out(runModel(oneNode('MatMul', { a: f32([2]), b: f32([2, 3], [1, 2, 3, 4, 5, 6]) }), { a: Float32Array.of(1, -1) }))).toEqual([-3, -3, -3]);
    expect(out(runModel(oneNode('MatMul', { a: f32([2, 1, 2]), b: f32([2], [1, 10]) }), { a: Float32Array.of(1, 2, 3, 4) }))).toEqual([21, 43]);
    // batch [2] x [1]: the same B for both
    expect(out(runModel(oneNode('MatMul', { a: f32([2, 1, 2]), b: f32([1, 2, 1], [1, 1]) }), { a: Float32Array.of(1, 2, 3, 4) }))).toEqual([3, 7]);
  });

  it('MatMul sums in index order in float32: (1e8 + 1) - 1e8 = 0, not 1', () => {
    expect(out(runModel(oneNode('MatMul', { a: f32([3]), b: f32([3], [1, 1, 1]) }), { a: Float32Array.of(1e8, 1, -1e8) }))).toEqual([0]);
  });

  it('Gemm: transposes, alpha, beta, a broadcast C', () => {
    // A' = [[1 3] [2 4]] (A given [2, 2] with transA), B = I, alpha 2, beta 10, C = [1, 2] per column
    const spec = oneNode('Gemm', { a: f32([2, 2]), b: f32([2, 2], [1, 0, 0, 1]), c: f32([2], [1, 2]) }, { transA: 1, alpha: 2, beta: 10 });
    expect(out(runModel(spec, { a: Float32Array.of(1, 2, 3, 4) }))).toEqual([12, 26, 14, 28]);
    expect(readError(oneNode('Gemm', { a: f32([2, 3]), b: f32([2, 3], [0, 0, 0, 0, 0, 0]) }))).toMatch(
      /inner dimensions differ: A "a" \[2, 3\] gives K = 3, B "b" \[2, 3\] gives K = 2/,
    );
    expect(readError(oneNode('MatMul', { a: f32([2, 3]), b: f32([2, 3]) }))).toMatch(/cannot multiply "a" \[2, 3\] by "b" \[2, 3\]: inner dimensions differ/);
  });
});

describe('reductions and normalisations', () => {
  it('ReduceMean over several axes, keepdims, noop_with_empty_axes', () => {
    const x = Float32Array.of(1, 2, 3, 4, 5, 6); // [[1 2 3] [4 5 6]]
    expect(out(runModel(oneNode('ReduceMean', { x: f32([2, 3]) }, { axes: [1] }), { x }))).toEqual([2, 5]);
    expect(out(runModel(oneNode('ReduceMean', { x: f32([2, 3]) }, { axes: [0], keepdims: 0 }), { x }))).toEqual([2.5, 3.5, 4.5]);
    expect(out(runModel(oneNode('ReduceMean', { x: f32([2, 3]) }, {}), { x }))).toEqual([3.5]);
    expect(out(runModel(oneNode('ReduceMean', { x: f32([2, 3]) }, { noop_with_empty_axes: 1 }), { x }))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('LayerNormalization: [1 2 3] has mean 2, variance 2/3', () => {
    const spec = oneNode('LayerNormalization', { x: f32([1, 3]), s: f32([3], [1, 1, 2]), b: f32([3], [0, 0, 1]) }, { epsilon: 0 }, ['y', 'mean', 'inv']);
    const r = runModel(spec, { x: Float32Array.of(1, 2, 3) });
    const inv = fround(1 / fround(Math.sqrt(fround(2 / 3))));
    expect(out(r, 'mean')).toEqual([2]);
    expect(out(r, 'inv')).toEqual([inv]);
    expect(out(r)).toEqual([-inv, 0, fround(fround(inv * 2) + 1)]);
  });

  it('BatchNormalization per channel; training mode is an error', () => {
    const c = (v: number[]) => f32([2], v);
    const spec = oneNode('BatchNormalization', { x: f32([1, 2, 2]), s: c([2, 1]), b: c([0, 10]), m: c([1, 0]), v: c([4, 0.25]) }, { epsilon: 0 });
    expect(out(runModel(spec, { x: Float32Array.of(1, 5, 1, -1) }))).toEqual([0, 4, 12, 8]);
    expect(
      readError(oneNode('BatchNormalization', { x: f32([1, 2, 2]), s: c([1, 1]), b: c([0, 0]), m: c([0, 0]), v: c([1, 1]) }, { training_mode: 1 })),
    ).toMatch(/training_mode = 1 is not supported/);
  });

  it('LogSoftmax of equal values is -log(n); ArgMax picks the last maximum and gives int64 on request', () => {
    const r = out(runModel(oneNode('LogSoftmax', { x: f32([4]) }), { x: Float32Array.of(3, 3, 3, 3) }));
    r.forEach((v) => expect(Math.abs(v + Math.log(4))).toBeLessThan(1e-6));
    const am = runModel(oneNode('ArgMax', { x: f32([4]) }, { select_last_index: true, output_dtype: 'int64' }), { x: Float32Array.of(1, 5, 5, 2) });
    expect(Array.from(am.get('y') as BigInt64Array)).toEqual([2n]);
  });
});

describe('Conv and pools', () => {
  const img = Float32Array.from({ length: 9 }, (_, i) => i + 1); // [[1 2 3] [4 5 6] [7 8 9]]

  it('Conv: a 2x2 sum kernel, with padding and stride; depthwise groups; 1-D', () => {
    const ones = f32([1, 1, 2, 2], [1, 1, 1, 1]);
    expect(out(runModel(oneNode('Conv', { x: f32([1, 1, 3, 3]), w: ones }), { x: img }))).toEqual([12, 16, 24, 28]);
    // pads 1 on every side, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1)
    expect(out(runModel(oneNode('Conv', { x: f32([1, 1, 3, 3]), w: ones }, { pads: [1, 1, 1, 1], strides: [2, 2] }), { x: img }))).toEqual([1, 5, 11, 28]);
    // depthwise: two channels, each with its own 1x1 weight, bias
    const dw = oneNode('Conv', { x: f32([1, 2, 1, 2]), w: f32([2, 1, 1, 1], [2, -1]), b: f32([2], [0, 100]) }, { group: 2 });
    expect(out(runModel(dw, { x: Float32Array.of(1, 2, 3, 4) }))).toEqual([2, 4, 97, 96]);
    // 1-D with dilation 2: [1 2 3 4 5] * [1 0 -1] dilated -> x[i] - x[i+4]
    expect(
      out(runModel(oneNode('Conv', { x: f32([1, 1, 5]), w: f32([1, 1, 2], [1, -1]) }, { dilations: [4] }), { x: Float32Array.of(1, 2, 3, 4, 5) })),
    ).toEqual([-4]);
  });

  it('SAME_UPPER puts the extra padding at the end, SAME_LOWER at the beginning', () => {
    const w = f32([1, 1, 2], [1, 10]); // y = x[i] + 10 x[i+1]
    expect(out(runModel(oneNode('Conv', { x: f32([1, 1, 3]), w }, { auto_pad: 'SAME_UPPER' }), { x: Float32Array.of(1, 2, 3) }))).toEqual([21, 32, 3]);
    expect(out(runModel(oneNode('Conv', { x: f32([1, 1, 3]), w }, { auto_pad: 'SAME_LOWER' }), { x: Float32Array.of(1, 2, 3) }))).toEqual([10, 21, 32]);
  });

  it('MaxPool and AveragePool with padding, ceil_mode and count_include_pad', () => {
    const attrs: Record<string, AttrValue> = { kernel_shape: [2, 2], pads: [1, 1, 0, 0] };
    expect(out(runModel(oneNode('MaxPool', { x: f32([1, 1, 3, 3]) }, attrs), { x: img }))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(out(runModel(oneNode('AveragePool', { x: f32([1, 1, 3, 3]) }, attrs), { x: img })).slice(0, 2)).toEqual([1, 1.5]);
    expect(out(runModel(oneNode('AveragePool', { x: f32([1, 1, 3, 3]) }, { ...attrs, count_include_pad: 1 }), { x: img })).slice(0, 2)).toEqual([0.25, 0.75]);
    // ceil_mode: 3 wide, kernel 2, stride 2 -> 2 windows, the second [3] alone
    expect(
      out(runModel(oneNode('AveragePool', { x: f32([1, 1, 3]) }, { kernel_shape: [2], strides: [2], ceil_mode: 1 }), { x: Float32Array.of(1, 2, 3) })),
    ).toEqual([1.5, 3]);
    expect(out(runModel(oneNode('MaxPool', { x: q('uint8', [1, 1, 3]) }, { kernel_shape: [2] }), { x: Uint8Array.of(7, 200, 3) }))).toEqual([200, 200]);
    expect(out(runModel(oneNode('GlobalAveragePool', { x: f32([1, 1, 3, 3]) }), { x: img }))).toEqual([5]);
  });

  it("MaxPool's Indices: flat over N x C x spatial, the first of equal maxima, row- or column-major", () => {
    const idx = (m: Map<string, TypedData>) => Array.from(m.get('i') as BigInt64Array, Number);
    // two planes of [1, 4], windows of 2 with stride 2: [2 2] -> 0 (first), [1 2] -> 3; [1 3] -> 5, [4 4] -> 6
    const r1 = runModel(oneNode('MaxPool', { x: f32([1, 2, 4]) }, { kernel_shape: [2], strides: [2] }, ['y', 'i']), {
      x: Float32Array.of(2, 2, 1, 2, 1, 3, 4, 4),
    });
    expect(out(r1)).toEqual([2, 2, 3, 4]);
    expect(idx(r1)).toEqual([0, 3, 5, 6]);
    // [[1 5 2] [7 3 7]], 2x2 windows: 7 at (1, 0) and 7 at (1, 2); column-major numbers (h, w) as w * 2 + h
    const x = Float32Array.of(1, 5, 2, 7, 3, 7);
    const rowMajor = runModel(oneNode('MaxPool', { x: f32([1, 1, 2, 3]) }, { kernel_shape: [2, 2] }, ['y', 'i']), { x });
    expect(idx(rowMajor)).toEqual([3, 5]);
    const colMajor = runModel(oneNode('MaxPool', { x: f32([1, 1, 2, 3]) }, { kernel_shape: [2, 2], storage_order: 1 }, ['y', 'i']), { x });
    expect(idx(colMajor)).toEqual([1, 5]);
    expect(out(colMajor)).toEqual([7, 7]);
    // int8, padding: the maximum -128 everywhere points at the window's first in-bounds element
    const r8 = runModel(oneNode('MaxPool', { x: q('int8', [1, 1, 3]) }, { kernel_shape: [2], pads: [1, 0] }, ['y', 'i']), {
      x: Int8Array.of(-128, -128, -128),
    });
    expect(idx(r8)).toEqual([0, 0, 1]);
  });

  it('reports windows that do not fit and groups that do not divide', () => {
    expect(readError(oneNode('MaxPool', { x: f32([1, 1, 3]) }, { kernel_shape: [5] }))).toMatch(
      /the window \(5 wide with dilation\) is larger than the padded input \(3\)/,
    );
    expect(readError(oneNode('Conv', { x: f32([1, 3, 4]), w: f32([2, 2, 1], [1, 1, 1, 1]) }, { group: 2 }))).toMatch(
      /group 2 does not fit X "x" \[1, 3, 4\] \(C = 3\)/,
    );
    expect(readError(oneNode('Conv', { x: f32([1, 4]), w: f32([1, 4], [1, 1, 1, 1]) }))).toMatch(/must be \[N, C, D1/);
  });
});

describe('quantised ops', () => {
  it('QuantizeLinear rounds half to even, adds the zero point, saturates; NaN gives the zero point', () => {
    const spec = oneNode('QuantizeLinear', { x: f32([7]), s: f32([], [0.5]), z: q('uint8', [], [128]) });
    expect(out(runModel(spec, { x: Float32Array.of(0.25, 0.75, -0.25, 1000, -1000, NaN, 1) }))).toEqual([128, 130, 128, 255, 0, 128, 130]);
    const perAxis = oneNode('QuantizeLinear', { x: f32([2, 2]), s: f32([2], [1, 0.1]) }, { axis: 0, output_dtype: 3 });
    expect(out(runModel(perAxis, { x: Float32Array.of(1.5, -2.5, 0.05, -20) }))).toEqual([2, -2, 0, -128]);
  });

  it('DequantizeLinear per axis, and int32 input', () => {
    const spec = oneNode('DequantizeLinear', { x: q('int8', [2, 2]), s: f32([2], [2, 0.5]), z: q('int8', [2], [1, -1]) }, { axis: 1 });
    expect(out(runModel(spec, { x: Int8Array.of(1, 1, -127, 3) }))).toEqual([0, 1, -256, 2]);
    expect(out(runModel(oneNode('DequantizeLinear', { x: q('int32', [2]), s: f32([], [0.5]) }), { x: Int32Array.of(2 ** 24 + 1, -7) }))).toEqual([
      2 ** 23,
      -3.5,
    ]);
  });

  it('MatMulInteger subtracts zero points per row and per column', () => {
    // (A - [1, 2] per row) @ (B - 3): A = [[1 2] [3 4]], B = [[4 5] [6 7]]
    const spec = oneNode('MatMulInteger', { a: q('uint8', [2, 2]), b: q('uint8', [2, 2], [4, 5, 6, 7]), az: q('uint8', [2], [1, 2]), bz: q('uint8', [], [3]) });
    expect(out(runModel(spec, { a: Uint8Array.of(1, 2, 3, 4) }))).toEqual([3, 4, 7, 10]);
  });

  it('QLinearMatMul requantises with rint and saturates; ConvInteger pads with the zero point', () => {
    const spec = oneNode('QLinearMatMul', {
      a: q('int8', [1, 2]),
      as: f32([], [0.5]),
      az: q('int8', [], [0]),
      b: q('int8', [2, 1], [3, 4]),
      bs: f32([], [0.25]),
      bz: q('int8', [], [0]),
      ys: f32([], [1]),
      yz: q('int8', [], [-1]),
    });
    // acc = 2*3 + 5*4 = 26; 26 * 0.125 = 3.25 -> 3, - 1 = 2
    expect(out(runModel(spec, { a: Int8Array.of(2, 5) }))).toEqual([2]);
    const ci = oneNode('ConvInteger', { x: q('uint8', [1, 1, 2]), w: q('uint8', [1, 1, 2], [1, 1]), xz: q('uint8', [], [10]) }, { pads: [1, 0] });
    expect(out(runModel(ci, { x: Uint8Array.of(12, 15) }))).toEqual([2, 7]);
  });

  it('blocked quantisation: one scale and zero point per block along the axis (the last block may be short)', () => {
    // x [2, 4], blocks of 2 along axis 1: scales [[1 2] [0.5 4]]; 3 / 2 = 1.5 rounds to even (2)
    const ql = oneNode('QuantizeLinear', { x: f32([2, 4]), s: f32([2, 2], [1, 2, 0.5, 4]) }, { axis: 1, block_size: 2 });
    expect(out(runModel(ql, { x: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8) }))).toEqual([1, 2, 2, 2, 10, 12, 2, 2]);
    // x [2, 3] int8, blocks of 2 along axis 1 (the second block has one element): (x - z) * s
    const dl = oneNode(
      'DequantizeLinear',
      { x: q('int8', [2, 3]), s: f32([2, 2], [1, 10, 2, 0.5]), z: q('int8', [2, 2], [0, 1, -1, 0]) },
      { axis: 1, block_size: 2 },
    );
    expect(out(runModel(dl, { x: Int8Array.of(1, 2, 3, 4, 5, 6) }))).toEqual([1, 2, 20, 10, 12, 3]);
    // along axis 0: x [3, 2], blocks of 2 rows
    const d0 = oneNode('DequantizeLinear', { x: q('int8', [3, 2]), s: f32([2, 2], [1, 2, 3, 4]) }, { axis: 0, block_size: 2 });
    expect(out(runModel(d0, { x: Int8Array.of(1, 1, 1, 1, 1, 1) }))).toEqual([1, 2, 1, 2, 3, 4]);
  });

  it('reports blocked scales of the wrong shape and mismatched zero points', () => {
    expect(readError(oneNode('QuantizeLinear', { x: f32([2, 4]), s: f32([2, 3], [1, 1, 1, 1, 1, 1]) }, { block_size: 2 }))).toMatch(
      /y_scale "s" \[2, 3\] must be \[2, 2\] for block_size 2 on axis 1/,
    );
    expect(readError(oneNode('DequantizeLinear', { x: q('int8', [4]), s: f32([], [1]), z: q('uint8', [], [0]) }))).toMatch(
      /x_zero_point "z" is uint8, but x "x" is int8/,
    );
  });
});
