// Helpers shared by the ONNX op files: dtype checks with messages that name the input, generic
// element access for every dtype (int64 is a BigInt64Array), and the C side's broadcasting arguments.

import { DTYPE_INFO } from '../../dtypes.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import { elementCount, type DType, type Graph, type Node, type Tensor, type TypedData } from '../../ir.ts';
import { broadcastStrides } from '../broadcast.ts';
import type { InferContext, InterpretContext } from '../op.ts';

export const NUMERIC: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'int64'];
export const INTEGER: readonly DType[] = ['int8', 'uint8', 'int32', 'int64'];
/** Everything a data-movement op (Reshape, Concat, Gather, ...) can move. */
export const ANY: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'int64', 'bool'];

/** Kernel name suffix per dtype. */
export const SUFFIX: Record<DType, string> = {
  float32: 'f32',
  int8: 'i8',
  uint8: 'u8',
  int32: 'i32',
  int64: 'i64',
  bool: 'u8',
  ternary: 'i8',
  binary: 'i8',
  float16: 'f16',
};

/** runtime-c's TN_DT_* codes (tn_runtime.h). */
export const DT_CODE: Partial<Record<DType, string>> = {
  float32: 'TN_DT_F32',
  int8: 'TN_DT_I8',
  uint8: 'TN_DT_U8',
  int32: 'TN_DT_I32',
  int64: 'TN_DT_I64',
  bool: 'TN_DT_BOOL',
};

const list = (ds: readonly DType[]) => (ds.length === 1 ? ds[0]! : `${ds.slice(0, -1).join(', ')} or ${ds[ds.length - 1]}`);

/** Input i's tensor for messages: `input 1 (B) "w"`. */
function describeInput(ctx: InferContext, i: number, names: readonly string[]): string {
  return `input ${i}${names[i] ? ` (${names[i]})` : ''} "${ctx.inputs[i]?.name ?? ''}"`;
}

/** Check that input i (if present) has one of `allowed` dtypes; reports and returns false otherwise. */
export function checkDtype(ctx: InferContext, i: number, allowed: readonly DType[], names: readonly string[] = []): boolean {
  const t = ctx.inputs[i];
  if (!t) return true;
  if (allowed.includes(t.dtype)) return true;
  ctx.error(`${describeInput(ctx, i, names)} must be ${list(allowed)}, found ${t.dtype}`, 'dtype');
  return false;
}

/** Check that inputs `idx` all have the dtype of the first of them. */
export function checkSameDtype(ctx: InferContext, idx: readonly number[], names: readonly string[] = []): boolean {
  const first = ctx.inputs[idx[0]!];
  if (!first) return true;
  for (const i of idx.slice(1)) {
    const t = ctx.inputs[i];
    if (t && t.dtype !== first.dtype) {
      ctx.error(
        `${describeInput(ctx, i, names)} is ${t.dtype}, but ${describeInput(ctx, idx[0]!, names)} is ${first.dtype}; they must have the same dtype`,
        'dtype',
      );
      return false;
    }
  }
  return true;
}

/** The tensor of input i (interpretation: inputs exist and are valid). */
export function inTensor(ctx: InterpretContext | EmitNodeContext, i: number): Tensor {
  return ctx.graph.tensors.get(ctx.node.inputs[i]!)!;
}

export function hasInput(ctx: InterpretContext, i: number): boolean {
  const n = ctx.node.inputs[i];
  return n !== undefined && n !== '';
}

/** Storage for `n` elements of `dtype`. */
export const alloc = (dtype: DType, n: number): TypedData => DTYPE_INFO[dtype].alloc(n);

/** Bounds-checked element read of any dtype (number, or bigint for int64). */
export function elemAt(data: TypedData, i: number, what: string): number | bigint {
  if (!(i >= 0 && i < data.length)) throw new Error(`internal: read out of bounds of ${what}: index ${i}, size ${data.length}`);
  return data[i]!;
}

/** Bounds-checked read of an integer element as a JS number (int64 through Number: exact to 2^53). */
export function intAt(data: TypedData, i: number, what: string): number {
  return Number(elemAt(data, i, what));
}

/** Copy element `i` of `src` to element `j` of `dst` (same dtype). */
export function copyElem(src: TypedData, i: number, dst: TypedData, j: number, what: string): void {
  (dst as unknown as (number | bigint)[])[j] = elemAt(src, i, what);
}

/** The `rank, shape, strides...` arguments of a broadcasting kernel for inputs of `shapes`. */
export function bcastArgs(ctx: EmitNodeContext, out: readonly number[], shapes: readonly (readonly number[])[], names: readonly string[]): string {
  const shape = ctx.intTable('shape', out);
  const strides = shapes.map((s, k) => ctx.intTable(`${names[k]}_strides`, broadcastStrides(s, out)));
  return `/* rank */ ${out.length}, ${shape}, ${strides.join(', ')}`;
}

/** Element size in bytes. */
export const elemBytes = (dtype: DType): number => DTYPE_INFO[dtype].bytes;

export const count = (t: Tensor): number => elementCount(t.shape);

/** An `ints` attribute (an absent one is empty). */
export const ints = (v: unknown): number[] => (Array.isArray(v) ? (v as number[]) : []);

/** A float attribute as the float32 value both the interpreter and the C use. */
export function attrF32(node: { attrs: Record<string, unknown> }, name: string): number {
  return Math.fround(node.attrs[name] as number);
}

/** `axis` normalised against `rank` (undefined when out of range). */
export function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}

/** Bytes of the node's constant inputs (weights, biases, scales, shapes given as tensors). */
export function constantBytes(g: Graph, node: Node): number {
  let bytes = 0;
  for (const n of node.inputs) {
    const t = n ? g.tensors.get(n) : undefined;
    if (t?.kind === 'constant' && t.data) bytes += t.data.byteLength;
  }
  return bytes;
}

/** The cost of an op without multiply-accumulates: the bytes of its constant inputs. */
export const constantCost = (g: Graph, node: Node) => ({ macs: 0, weightBytes: constantBytes(g, node) });
