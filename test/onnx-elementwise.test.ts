// Hand-checked cases for the ONNX elementwise ops in the interpreter (the C is checked against the
// interpreter by test/differential-onnx.test.ts): wrap-around, integer division, Pow's types, Clip,
// Where's broadcasting, Cast's conversions, the float functions; and the errors they report.

import { describe, expect, it } from 'vitest';
import type { DType } from '../compiler/ir.ts';
import { f32Bits, fround } from '../compiler/numerics/f32.ts';
import { oneNode, readError, runModel } from './support/run_model.ts';

const T = (dtype: DType, shape: number[], data?: ArrayLike<number> | bigint[]) => {
  if (!data) return { dtype, shape };
  const arr =
    dtype === 'float32'
      ? Float32Array.from(data as number[])
      : dtype === 'int8'
        ? Int8Array.from(data as number[])
        : dtype === 'int32'
          ? Int32Array.from(data as number[])
          : dtype === 'int64'
            ? BigInt64Array.from(data as bigint[])
            : Uint8Array.from(data as number[]);
  return { dtype, shape, data: arr };
};

/** Run a binary op with two constant-free inputs a and b. */
function binary(op: string, dtype: DType, a: ArrayLike<number> | bigint[], b: ArrayLike<number> | bigint[], shapeA = [a.length], shapeB = [b.length]) {
  const spec = oneNode(op, { a: T(dtype, shapeA), b: T(dtype, shapeB) });
  const mk = (v: ArrayLike<number> | bigint[]) => T(dtype, [v.length], v).data!;
  return Array.from(runModel(spec, { a: mk(a), b: mk(b) }).get('y')! as ArrayLike<number | bigint>);
}

describe('Add, Sub, Mul, Div on integers wrap around like NumPy', () => {
  it('int8, uint8, int32, int64', () => {
    expect(binary('Add', 'int8', [100, -100, 1], [100, -100, 2])).toEqual([-56, 56, 3]);
    expect(binary('Add', 'uint8', [250, 0], [10, 0])).toEqual([4, 0]);
    expect(binary('Sub', 'uint8', [3], [5])).toEqual([254]);
    expect(binary('Add', 'int32', [2 ** 31 - 1], [1])).toEqual([-(2 ** 31)]);
    expect(binary('Mul', 'int32', [65536, -3], [65536, 7])).toEqual([0, -21]);
    expect(binary('Mul', 'int8', [16, -8], [16, 16])).toEqual([0, -128]);
    expect(binary('Add', 'int64', [2n ** 63n - 1n], [1n])).toEqual([-(2n ** 63n)]);
    expect(binary('Mul', 'int64', [2n ** 32n + 3n], [2n ** 32n])).toEqual([3n * 2n ** 32n]);
  });

  it('integer Div truncates toward zero, x / 0 = 0, INT_MIN / -1 = INT_MIN', () => {
    expect(binary('Div', 'int32', [7, -7, 7, -7, 5, -(2 ** 31)], [2, 2, -2, -2, 0, -1])).toEqual([3, -3, -3, 3, 0, -(2 ** 31)]);
    expect(binary('Div', 'int8', [-128, 127, 9], [-1, 0, 4])).toEqual([-128, 0, 2]);
    expect(binary('Div', 'uint8', [255, 7], [2, 0])).toEqual([127, 0]);
    expect(binary('Div', 'int64', [-(2n ** 63n), 9n, -9n, 4n], [-1n, 4n, 4n, 0n])).toEqual([-(2n ** 63n), 2n, -2n, 0n]);
  });

  it('float32 is one IEEE operation, with broadcasting', () => {
    expect(binary('Div', 'float32', [1, -1, 0, 1], [0, 0, 0, 3])).toEqual([Infinity, -Infinity, NaN, fround(1 / 3)]);
    expect(binary('Sub', 'float32', [1, 2, 3, 4, 5, 6], [10, 20, 30], [2, 3], [3])).toEqual([-9, -18, -27, -6, -15, -24]);
    expect(binary('Mul', 'float32', [1, 2], [3, 4, 5], [2, 1], [1, 3])).toEqual([3, 4, 5, 6, 8, 10]);
  });
});

describe('Pow', () => {
  it('float base with float and integer exponents', () => {
    const out = runModel(oneNode('Pow', { x: T('float32', [4]), e: T('int64', [4], [3n, -1n, 0n, 2n]) }), { x: Float32Array.of(2, 4, 0, -3) }).get('y');
    expect(Array.from(out as Float32Array)).toEqual([8, 0.25, 1, 9]);
    const f = runModel(oneNode('Pow', { x: T('float32', [3]), e: T('float32', [], [0.5]) }), { x: Float32Array.of(4, 2, -1) }).get('y') as Float32Array;
    expect([f[0], f[1]]).toEqual([2, fround(Math.SQRT2)]);
    expect(Number.isNaN(f[2]!)).toBe(true);
  });

  it('integer bases: exact with wrap-around; negative exponents give 1, +-1 or 0; float exponents', () => {
    const y = runModel(oneNode('Pow', { x: T('int32', [6]), e: T('int32', [6], [10, 31, 32, -1, -3, -2]) }), { x: Int32Array.of(2, 2, 2, 3, -1, 1) }).get('y');
    expect(Array.from(y as Int32Array)).toEqual([1024, -(2 ** 31), 0, 0, -1, 1]);
    const z = runModel(oneNode('Pow', { x: T('int64', [3]), e: T('float32', [3], [2, 0.5, 3]) }), { x: BigInt64Array.of(3n, 2n, -2n) }).get('y');
    expect(Array.from(z as BigInt64Array)).toEqual([9n, 1n, -8n]); // 2^0.5 = 1.41 truncates to 1
  });
});

describe('Clip', () => {
  it('clamps, keeps NaN, and gives max when min > max (ONNX)', () => {
    const spec = oneNode('Clip', { x: T('float32', [4]), lo: T('float32', [], [-1]), hi: T('float32', [1], [1]) });
    const y = runModel(spec, { x: Float32Array.of(-2, 0.5, 3, NaN) }).get('y') as Float32Array;
    expect([y[0], y[1], y[2]]).toEqual([-1, 0.5, 1]);
    expect(Number.isNaN(y[3]!)).toBe(true);
    const swapped = oneNode('Clip', { x: T('float32', [3]), lo: T('float32', [], [2]), hi: T('float32', [], [1]) });
    expect(Array.from(runModel(swapped, { x: Float32Array.of(0, 1.5, 3) }).get('y') as Float32Array)).toEqual([1, 1, 1]);
  });

  it('with only a max, on int8', () => {
    const spec = oneNode('Clip', { x: T('int8', [3]), _min: T('int8', []), hi: T('int8', [], [5]) });
    expect(Array.from(runModel(spec, { x: Int8Array.of(-128, 5, 127) }).get('y') as Int8Array)).toEqual([-128, 5, 5]);
  });
});

describe('Where', () => {
  it('broadcasts condition, X and Y three ways, for any dtype', () => {
    const spec = oneNode('Where', { c: T('bool', [2, 1]), x: T('int64', [1, 3], [1n, 2n, 3n]), z: T('int64', [3], [-1n, -2n, -3n]) });
    expect(Array.from(runModel(spec, { c: Uint8Array.of(1, 0) }).get('y') as BigInt64Array)).toEqual([1n, 2n, 3n, -1n, -2n, -3n]);
  });
});

describe('Cast', () => {
  const cast = (from: DType, to: number, values: number[] | bigint[]) => {
    const x = T(from, [values.length], values).data!;
    return Array.from(runModel(oneNode('Cast', { x: T(from, [values.length]) }, { to }), { x }).get('y') as ArrayLike<number | bigint>);
  };

  it('float -> int truncates toward zero and saturates; NaN -> 0', () => {
    expect(cast('float32', 3, [1.7, -1.7, NaN, 1e10, -1e10, 127.9, -128.9])).toEqual([1, -1, 0, 127, -128, 127, -128]);
    expect(cast('float32', 2, [-0.5, -3, 255.9, 300, 1.5])).toEqual([0, 0, 255, 255, 1]);
    expect(cast('float32', 6, [2 ** 31, -(2 ** 31), -(2 ** 32), 3.99])).toEqual([2 ** 31 - 1, -(2 ** 31), -(2 ** 31), 3]);
    expect(cast('float32', 7, [2 ** 63, -(2 ** 64), -5.5])).toEqual([2n ** 63n - 1n, -(2n ** 63n), -5n]);
  });

  it('int -> int wraps; -> bool is != 0; int64 -> float rounds once to nearest even', () => {
    expect(cast('int32', 2, [300, -1, 256])).toEqual([44, 255, 0]);
    expect(cast('int64', 6, [2n ** 32n + 5n, -(2n ** 40n) - 1n])).toEqual([5, -1]);
    expect(cast('int8', 9, [0, -3, 1])).toEqual([0, 1, 1]);
    expect(cast('float32', 9, [0, -0, NaN, 0.25])).toEqual([0, 0, 1, 1]);
    // 2^60 + 2^36 + 1: binary64 rounds to 2^60 + 2^36, a float32 tie, which would then go to even (2^60);
    // one rounding gives 2^60 + 2^37.
    const [v] = cast('int64', 1, [2n ** 60n + 2n ** 36n + 1n]);
    expect(v).toBe(2 ** 60 + 2 ** 37);
  });

  it('rejects a dtype tritc does not have, naming the node', () => {
    expect(readError(oneNode('Cast', { x: T('float32', [2]) }, { to: 10 }))).toMatch(/"n".*attribute "to" = 10 is not a dtype tritc supports/);
  });
});

describe('float functions', () => {
  const unary = (op: string, xs: number[], attrs = {}) =>
    Array.from(runModel(oneNode(op, { x: T('float32', [xs.length]) }, attrs), { x: Float32Array.from(xs) }).get('y') as Float32Array);
  const close = (got: number[], want: number[], ulp = 2) =>
    got.forEach((g, i) => expect(Math.abs(f32Bits(g) - f32Bits(fround(want[i]!))), `${g} vs ${want[i]}`).toBeLessThanOrEqual(ulp));

  it('Sqrt, Log, Erf, Sigmoid, Tanh match known values', () => {
    expect(unary('Sqrt', [4, 2.25, 0])).toEqual([2, 1.5, 0]);
    close(unary('Log', [Math.E, 10, 0.5]), [1, Math.LN10, -Math.LN2], 1);
    close(unary('Erf', [0.5, 1, 2, -3]), [0.5204998778130465, 0.8427007929497149, 0.9953222650189527, -0.9999779095030014], 1);
    close(unary('Sigmoid', [0, 1, -5]), [0.5, 0.7310585786300049, 0.0066928509242848554]);
    close(unary('Tanh', [0.5, 1, -3]), [0.46211715726000974, 0.7615941559557649, -0.9950547536867305], 1);
  });

  it('Gelu in both forms', () => {
    close(unary('Gelu', [1, -1, 3]), [0.8413447460685429, -0.15865525393145707, 2.9959502751817175], 4);
    close(unary('Gelu', [1, -1, 3], { approximate: 'tanh' }), [0.8411919906082768, -0.15880800939172324, 2.99636286538], 8);
  });

  it('report a non-float input and an unknown approximation', () => {
    expect(readError(oneNode('Sqrt', { x: T('int32', [2]) }))).toMatch(/"n".*input 0 \(X\) "x" must be float32, found int32/);
    expect(readError(oneNode('Gelu', { x: T('float32', [2]) }, { approximate: 'fast' }))).toMatch(/approximate.*expected one of "none", "tanh"/);
  });
});

describe('errors name the node and what was expected', () => {
  it('mixed dtypes, shapes that do not broadcast, bad Clip bounds, a non-bool condition', () => {
    expect(readError(oneNode('Sub', { a: T('float32', [2]), b: T('int32', [2]) }))).toMatch(/input 1 \(B\) "b" is int32, but input 0 \(A\) "a" is float32/);
    expect(readError(oneNode('Mul', { a: T('float32', [2, 3]), b: T('float32', [2]) }))).toMatch(/shapes \[2, 3\] of "a", \[2\] of "b" do not broadcast/);
    expect(readError(oneNode('Clip', { x: T('float32', [2]), lo: T('float32', [2], [0, 1]) }))).toMatch(/input 1 \(min\) "lo" must hold one value/);
    expect(readError(oneNode('Where', { c: T('int8', [2]), x: T('float32', [2]), z: T('float32', [2]) }))).toMatch(
      /input 0 \(condition\) "c" must be bool, found int8/,
    );
    expect(readError(oneNode('Add', { a: T('bool', [2]), b: T('bool', [2]) }))).toMatch(
      /inputs must both be float32, or both the same integer dtype .* found bool "a" and bool "b"/,
    );
  });
});
