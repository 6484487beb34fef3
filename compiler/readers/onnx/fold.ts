// Compile-time evaluation of ONNX ops on constants (shape computations, weight preprocessing).
//
// tritc plans memory at compile time, so everything that only depends on constants (a Shape ->
// Gather -> Concat chain feeding a Reshape, a Transpose of a weight, Pow of two scalars) is computed
// here, once, and becomes a constant of the IR graph. Float arithmetic is float32 with one rounding
// per operation, as everywhere in tritc; these values never run on a target, they are data.

import { elementCount, type DType, type TypedData } from '../../ir.ts';
import { DTYPE_INFO } from '../../dtypes.ts';
import { broadcastShapes, broadcastStrides } from '../../ops/add.ts';

export interface Const {
  dtype: DType;
  shape: number[];
  data: TypedData;
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

/** Element i as a number (int64 through Number). */
export const num = (c: Const, i: number): number => Number(c.data[i]!);

export function constOf(dtype: DType, shape: number[], values: ArrayLike<number | bigint>): Const {
  const data = DTYPE_INFO[dtype].alloc(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (data instanceof BigInt64Array) data[i] = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
    else data[i] = Number(v);
  }
  return { dtype, shape: [...shape], data };
}

/** Values as JS numbers (int64 clamped into the safe range). */
export function toNumbers(c: Const): number[] {
  return Array.from(c.data as ArrayLike<number | bigint>, (v) =>
    typeof v === 'bigint'
      ? Number(v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : v < BigInt(Number.MIN_SAFE_INTEGER) ? Number.MIN_SAFE_INTEGER : v)
      : v,
  );
}

function gatherIndex(c: Const, out: number[], map: (outIdx: number[]) => number): Const {
  const n = elementCount(out);
  const data = DTYPE_INFO[c.dtype].alloc(n);
  const idx = new Array<number>(out.length).fill(0);
  for (let i = 0; i < n; i++) {
    (data as unknown as (number | bigint)[])[i] = c.data[map(idx)]!;
    for (let d = out.length - 1; d >= 0; d--) {
      if (++idx[d]! < out[d]!) break;
      idx[d] = 0;
    }
  }
  return { dtype: c.dtype, shape: out, data };
}

export function transposeConst(c: Const, perm: number[]): Const {
  const st = strides(c.shape);
  const out = perm.map((p) => c.shape[p]!);
  return gatherIndex(c, out, (idx) => idx.reduce((a, v, d) => a + v * st[perm[d]!]!, 0));
}

export function gatherConst(c: Const, indices: Const, axis: number): Const {
  const st = strides(c.shape);
  const dim = c.shape[axis]!;
  const out = [...c.shape.slice(0, axis), ...indices.shape, ...c.shape.slice(axis + 1)];
  const ir = indices.shape.length;
  return gatherIndex(c, out, (idx) => {
    let flat = 0;
    let ii = 0;
    const ist = strides(indices.shape);
    for (let d = 0; d < ir; d++) ii += idx[axis + d]! * ist[d]!;
    let k = num(indices, ii);
    if (k < 0) k += dim;
    for (let d = 0; d < axis; d++) flat += idx[d]! * st[d]!;
    flat += k * st[axis]!;
    for (let d = axis + 1; d < c.shape.length; d++) flat += idx[d - 1 + ir]! * st[d]!;
    return flat;
  });
}

export function concatConst(parts: Const[], axis: number): Const {
  const out = [...parts[0]!.shape];
  out[axis] = parts.reduce((a, p) => a + p.shape[axis]!, 0);
  const outer = elementCount(out.slice(0, axis));
  const data = DTYPE_INFO[parts[0]!.dtype].alloc(elementCount(out));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const chunk = elementCount(p.shape.slice(axis));
      for (let i = 0; i < chunk; i++) (data as unknown as (number | bigint)[])[at++] = p.data[o * chunk + i]!;
    }
  }
  return { dtype: parts[0]!.dtype, shape: out, data };
}

/** Slice with already-normalised per-axis start/step/count (see sliceBounds). */
export function sliceConst(c: Const, start: number[], step: number[], count: number[]): Const {
  const st = strides(c.shape);
  return gatherIndex(c, count, (idx) => idx.reduce((a, v, d) => a + (start[d]! + v * step[d]!) * st[d]!, 0));
}

/** ONNX Slice bounds for one axis: clamps as the spec says; returns the first index and the count. */
export function sliceBounds(dim: number, start: number, end: number, step: number): { first: number; count: number } {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), dim);
    end = Math.min(Math.max(end, 0), dim);
    return { first: start, count: Math.max(0, Math.ceil((end - start) / step)) };
  }
  start = Math.min(Math.max(start, -1), dim - 1);
  end = Math.min(Math.max(end, -1), dim - 1);
  return { first: start, count: Math.max(0, Math.ceil((end - start) / step)) };
}

export function castConst(c: Const, to: DType): Const {
  const n = c.data.length;
  const data = DTYPE_INFO[to].alloc(n);
  for (let i = 0; i < n; i++) {
    const v = c.data[i]!;
    if (data instanceof BigInt64Array) data[i] = typeof v === 'bigint' ? v : BigInt(Number.isFinite(v) ? Math.trunc(v) : 0);
    else if (to === 'bool') data[i] = Number(v) !== 0 ? 1 : 0;
    else if (to === 'float32') data[i] = Math.fround(Number(v));
    else data[i] = Math.trunc(Number(v)); // the typed array wraps like C's conversion for in-range values
  }
  return { dtype: to, shape: [...c.shape], data };
}

type BinaryFn = (a: number, b: number) => number;

const F32: Record<string, BinaryFn> = {
  Add: (a, b) => Math.fround(a + b),
  Sub: (a, b) => Math.fround(a - b),
  Mul: (a, b) => Math.fround(a * b),
  Div: (a, b) => Math.fround(a / b),
  Pow: (a, b) => Math.fround(Math.pow(a, b)),
};

const INT: Record<string, (a: bigint, b: bigint) => bigint> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => (b === 0n ? 0n : a / b), // truncates towards zero, like C
  Pow: (a, b) => (b < 0n ? 0n : a ** b),
};

/** Elementwise binary op with NumPy broadcasting; both inputs of the same dtype. */
export function binaryConst(op: string, a: Const, b: Const): Const | undefined {
  const out = broadcastShapes(a.shape, b.shape);
  if (!out) return undefined;
  const sa = broadcastStrides(a.shape, out);
  const sb = broadcastStrides(b.shape, out);
  const n = elementCount(out);
  const data = DTYPE_INFO[a.dtype].alloc(n);
  const idx = new Array<number>(out.length).fill(0);
  const f = F32[op];
  const g = INT[op];
  if (!f || !g) return undefined;
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < out.length; d++) {
      ia += idx[d]! * sa[d]!;
      ib += idx[d]! * sb[d]!;
    }
    if (a.dtype === 'float32') (data as Float32Array)[i] = f(num(a, ia), num(b, ib));
    else {
      const r = g(BigInt(a.data[ia]!), BigInt(b.data[ib]!));
      if (data instanceof BigInt64Array) data[i] = BigInt.asIntN(64, r);
      else (data as Int32Array)[i] = Number(BigInt.asIntN(32, r));
    }
    for (let d = out.length - 1; d >= 0; d--) {
      if (++idx[d]! < out[d]!) break;
      idx[d] = 0;
    }
  }
  return { dtype: a.dtype, shape: out, data };
}
