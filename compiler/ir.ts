// The intermediate representation: a graph of named tensors and nodes, in schedule order.
//
// Design notes (see docs/ir.md for the long version):
// - Constants hold *decoded* values: ternary and binary codes are Int8Array of -1/0/+1 (or ±1), never
//   a packed layout. Packing is a late decision of the C emitter, per kernel and target.
// - Quantization parameters live on the tensor (`quant`): an int8 activation or a ternary weight names
//   the float32 tensor that holds its scale and says how the scale is laid out. A node that reads a
//   quantized tensor implicitly reads its scale tensor too (`nodeReads`), so liveness and scheduling
//   need no special cases.
// - A weight may carry several planes: a ternary weight of shape [P, N, K] is P trit-planes that share
//   the activations, W = sum_p scale_p * T_p (PTQTP uses P = 2). Other formats (complex phase codes,
//   sparse deltas, int2..int4) are further dtypes and ops; nothing here assumes one plane or one dtype.

import { DTYPE_INFO } from './dtypes.ts';
import type { KernelChoice } from './kernels/choose.ts';

export type DType =
  | 'float32'
  | 'int8'
  | 'uint8'
  | 'int32'
  | 'int64' // BigInt64Array in the interpreter
  | 'bool' // one byte, 0 or 1
  | 'ternary' // codes in {-1, 0, +1}, stored as Int8Array
  | 'binary' // codes in {-1, +1}, stored as Int8Array
  | 'float16'; // IEEE half bits, stored as Uint16Array (weights a file holds in f16, a KV cache)

export const DTYPES: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'int64', 'bool', 'ternary', 'binary', 'float16'];

export type TypedData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array | Uint16Array;

/** The typed arrays of numbers (everything but int64). */
export type NumericData = Float32Array | Int8Array | Uint8Array | Int32Array | Uint16Array;

export type Granularity = 'per_tensor' | 'per_row' | 'per_group';

export interface QuantParams {
  /** Name of the float32 tensor holding the scale(s): real value = code * scale. */
  scale: string;
  granularity: Granularity;
  /** per_group: number of consecutive elements along the last axis that share a scale. */
  groupSize?: number;
  /**
   * Unsigned b-bit weight codes (GPTQ, QONNX Quant): the name of the uint8 tensor of zero points, one
   * per scale, and real value = (code - zero) * scale.
   */
  zeroPoint?: string;
  /** The codes' width in bits when narrower than their dtype (uint8 codes of 2 to 8 bits, packed so in flash). */
  bits?: number;
}

/**
 * input: the caller's; constant: in flash; activation: in the arena, live from the node that writes
 * it to its last reader; state: in the arena for the whole life of the model (a KV cache): zeroed by
 * the model's reset, read and updated in place by the ops that declare it (`OpDef.mutates`), kept
 * between calls.
 */
type TensorKind = 'input' | 'constant' | 'activation' | 'state';

export interface Tensor {
  name: string;
  dtype: DType;
  shape: number[];
  kind: TensorKind;
  /** Constants only: values in row-major order. */
  data?: TypedData;
  quant?: QuantParams;
  /** Known value range of integer tensors (inclusive), used to bound accumulators. */
  range?: [number, number];
}

export type AttrValue = number | string | boolean | number[] | string[];

export interface Node {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** Decisions made by passes (kernel, accumulator width, ...), shown by `tritc inspect`. */
  annotations: Record<string, string | number>;
  /** Low-bit layers: the kernel and weight format the choose-kernels pass picked; emit, `inspect`
   * and the report only read it. */
  choice?: KernelChoice;
}

export interface Graph {
  name: string;
  /** Where the graph came from, for messages and generated-file headers. */
  source: string;
  inputs: string[];
  outputs: string[];
  tensors: Map<string, Tensor>;
  /** In schedule order once `schedule` has run. */
  nodes: Node[];
  /** A hash of the model's files, recorded in generated code. */
  sourceHash: string;
  /**
   * Token-batched graphs (language models): axis 0 of the inputs and of every activation that has
   * `max` rows holds tokens, and a call runs the first `n` of them (1 <= n <= max, a run-time value),
   * writing outputs for the last `nOut` (0 <= nOut <= n). Ops in such a graph declare `rows`.
   */
  rows?: { max: number };
  /** What the language-model builder knows about the graph, for the generated driver and `inspect`. */
  lm?: LmGraphInfo;
}

/** The language-model facts the emitter's driver (reset, prefill, decode) and `inspect` need. */
interface LmGraphInfo {
  vocab: number;
  /** Positions the KV cache holds. */
  context: number;
  /** The graph inputs: token ids [max] int32 and the first position [1] int32. */
  tokens: string;
  pos: string;
  /** The graph output: logits [max, vocab] float32. */
  logits: string;
  /** What `inspect` shows (architecture, activations, cache type...). */
  summary: Record<string, string | number>;
  /** A mixture of experts: experts chosen per token, and per layer per expert its weight tensors. */
  moe?: { topK: number; experts: string[][][] };
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes one element takes in an activation buffer (codes are never activations). */
/** Rows of a [..., K] tensor: the product of every dimension but the last (1 for rank <= 1). */
export function rowsOf(shape: readonly number[]): number {
  return shape.length <= 1 ? 1 : elementCount(shape.slice(0, -1));
}

/** The last dimension (1 for a scalar). */
export function lastDim(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : shape[shape.length - 1]!;
}

/** Bytes one element takes in an activation buffer (codes are never activations). */
export function dtypeBytes(dtype: DType): number {
  return DTYPE_INFO[dtype].bytes;
}

export function tensorBytes(t: Tensor): number {
  return elementCount(t.shape) * dtypeBytes(t.dtype);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A tensor name not yet used in `g`: `base`, else `base.1`, `base.2`, ... */
export function freshName(g: Graph, base: string): string {
  if (!g.tensors.has(base)) return base;
  for (let i = 1; ; i++) if (!g.tensors.has(`${base}.${i}`)) return `${base}.${i}`;
}

/** The nodes that read tensor `name` (inputs or scales), in schedule order. */
export function readersOf(g: Graph, name: string): Node[] {
  return g.nodes.filter((n) => nodeReads(g, n).includes(name));
}

export function getTensor(g: Graph, name: string): Tensor {
  const t = g.tensors.get(name);
  if (!t) throw new Error(`internal: tensor "${name}" missing from graph`);
  return t;
}

/**
 * Every tensor a node reads: its inputs, plus the scale tensors of quantized inputs.
 * Liveness, scheduling and the interpreter all use this, so scales are never freed early.
 */
export function nodeReads(g: Graph, node: Node): string[] {
  const reads: string[] = [];
  for (const name of node.inputs) {
    if (name === '') continue; // an omitted optional input
    if (!reads.includes(name)) reads.push(name);
    const q = g.tensors.get(name)?.quant;
    if (q && !reads.includes(q.scale)) reads.push(q.scale);
    if (q?.zeroPoint && !reads.includes(q.zeroPoint)) reads.push(q.zeroPoint);
  }
  return reads;
}

export function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    inputs: [...g.inputs],
    outputs: [...g.outputs],
    tensors: new Map([...g.tensors].map(([k, t]) => [k, { ...t, shape: [...t.shape], quant: t.quant ? { ...t.quant } : undefined }])),
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs }, annotations: { ...n.annotations } })),
  };
}
