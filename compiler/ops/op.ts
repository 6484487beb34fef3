// The contract every op implements. One file per op in compiler/ops/, each exporting one OpDef;
// compiler/ops/index.ts lists them. See compiler/ops/_template.ts for how to add an op.
//
//   attrs      what the op accepts, checked by the reader with a path for every mistake
//   infer      checks the input dtypes/shapes and describes the outputs (shape inference)
//   interpret  the reference semantics: the living definition of the op (docs/numerics.md)
//   emit       the C for one node: a body that calls runtime-c kernels, plus which kernels it needs
//   cost       MACs and similar figures for `tritc inspect`
//   inPlace    (optional) which input buffer an output may overwrite, and when the kernel allows it
//   scratch    (optional) bytes of working memory the kernel needs during its step, planned in the arena

import type { DiagnosticCode } from '../diagnostics.ts';
import type { AttrValue, DType, Graph, Node, NumericData, QuantParams, Tensor, TypedData } from '../ir.ts';
import type { EmitNodeContext } from '../emit/context.ts';
import type { TargetDesc } from '../targets.ts';
import type { SparseTernaryDelta } from './lm/delta_term.ts';

type AttrKind = 'int' | 'float' | 'string' | 'bool' | 'ints';

export interface AttrSpec {
  kind: AttrKind;
  /** Omitted means the attribute is required. */
  default?: AttrValue;
  /** For strings: the allowed values. */
  oneOf?: readonly string[];
  doc: string;
}

/** What inference says about one output. */
export interface OutputSpec {
  dtype: DType;
  shape: number[];
  quant?: QuantParams;
  range?: [number, number];
}

export interface InferContext {
  graph: Graph;
  node: Node;
  /** Input tensors, in order; undefined for an omitted optional input. */
  inputs: (Tensor | undefined)[];
  /** Report a problem with this node (code 'shape' unless given); all problems are reported together. */
  error(message: string, code?: DiagnosticCode): void;
}

/** The rows a call of a token-batched graph runs (Graph.rows): the first n, outputs for the last nOut. */
export interface RowRange {
  n: number;
  nOut: number;
}

export interface InterpretContext {
  graph: Graph;
  node: Node;
  /** Token-batched graphs: the rows this call runs; undefined for other graphs (every row). */
  rows?: RowRange;
  /** A state tensor the node declares in `mutates`: the live values, to read and update in place. */
  state(name: string): TypedData;
  /** Value of any tensor the node reads (inputs and their scale tensors). */
  read(name: string): TypedData;
  /** The same, for tensors that are not int64 (so that elements are plain numbers). */
  readNum(name: string): NumericData;
  /** Store an output value; its length must match the output shape. */
  write(name: string, data: TypedData): void;
  /** The run-time delta loaded in slot `slot` (Linear's delta_slot; InterpretOptions.deltas), if any. */
  delta(slot: number): SparseTernaryDelta | undefined;
}

export interface EmittedNode {
  /** C statements for the node's function body (indented by the emitter). */
  body: string[];
  /** runtime-c files (relative to runtime-c/) that the body calls. */
  runtime: string[];
  /** One-line name of the kernel chosen, for comments and `tritc inspect`. */
  kernel: string;
}

export interface NodeCost {
  macs: number;
  /** Bytes of constant data (weights, scales, biases) the node reads. */
  weightBytes: number;
}

export interface OpDef {
  op: string;
  summary: string;
  inputs: { names: readonly string[]; min: number };
  outputs: { names: readonly string[]; min: number };
  attrs: Record<string, AttrSpec>;
  infer(ctx: InferContext): OutputSpec[];
  interpret(ctx: InterpretContext): void;
  emit(ctx: EmitNodeContext): EmittedNode;
  cost(graph: Graph, node: Node): NodeCost;
  /**
   * In-place execution: output `output` may be written over input `input`'s buffer when this node is
   * the input's last reader and `when` holds. Declare it only for kernels that stream forward: y[i]
   * is written after x[i] is read, and x[j] for j <= i is never read again. Then
   *   align 'start' (default): output and input start at the same offset; the output element must
   *     be no larger than the input element (y[i] then only covers x elements <= i);
   *   align 'end': for outputs larger than their input (int8 -> float): the input sits at the end
   *     of the output's bytes, so y[i], ending at (i+1)*|y|, never reaches x[i+1] at
   *     (|y|-|x|)*n + (i+1)*|x|.
   * The planner decides per schedule whether to use it; the differential tests compare every case
   * with the interpreter.
   */
  inPlace?: readonly InPlaceRule[];
  /**
   * Token-batched graphs (Graph.rows): the op runs the first `rows.n` rows of axis 0 (or, when its
   * `rows` attribute is 'last' or 'out', the rows that attribute names; rows.ts); only ops
   * that declare this may appear in such a graph.
   */
  rows?: true;
  /** Inputs that are state tensors (kind 'state') the op updates in place (a KV cache). */
  mutates?: readonly number[];
  /**
   * Working memory the kernel needs while it runs (lookup tables, line buffers, im2col), in bytes;
   * 0 or absent means none. The planner places it in the arena, live during this node's step only,
   * and the emitter passes it to the body as `ctx.scratch()` (a `uint8_t *`).
   */
  scratch?(graph: Graph, node: Node, target: TargetDesc | undefined): number;
}

interface InPlaceRule {
  input: number;
  output: number;
  align?: 'start' | 'end';
  /** Extra condition on this node (e.g. the input is not broadcast); absent means always. */
  when?(graph: Graph, node: Node): boolean;
}

export function attrInt(node: Node, name: string): number {
  const v = node.attrs[name];
  if (typeof v !== 'number') throw new Error(`internal: attribute ${name} of ${node.name} is not a number`);
  return v;
}

export function attrString(node: Node, name: string): string {
  const v = node.attrs[name];
  if (typeof v !== 'string') throw new Error(`internal: attribute ${name} of ${node.name} is not a string`);
  return v;
}

/** Python-style axis normalisation with a range check reported through ctx. */
export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank ? a : undefined;
}

/** Bounds-checked read, so an interpreter bug throws instead of producing NaN. */
export function at(data: ArrayLike<number>, i: number, what: string): number {
  if (!(i >= 0 && i < data.length)) throw new Error(`internal: read out of bounds of ${what}: index ${i}, size ${data.length}`);
  return data[i]!;
}

/** `attrs` completed with the op's defaults (an internal error for a required one that is missing, or
 * an attribute the op does not have): for passes and readers that build nodes. */
export function withDefaults(def: OpDef, attrs: Record<string, AttrValue>): Record<string, AttrValue> {
  const full: Record<string, AttrValue> = {};
  for (const [k, spec] of Object.entries(def.attrs)) {
    if (attrs[k] !== undefined) full[k] = attrs[k]!;
    else if (spec.default !== undefined) full[k] = spec.default;
    else throw new Error(`internal: ${def.op} needs attribute ${k}`);
  }
  for (const k of Object.keys(attrs)) if (!(k in def.attrs) && attrs[k] !== undefined) throw new Error(`internal: ${def.op} has no attribute ${k}`);
  return full;
}
