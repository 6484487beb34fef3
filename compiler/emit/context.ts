// What an op's `emit` sees: C expressions for its tensors, and a way to ask for constants in a
// given C layout. The emitter (emit/c.ts) implements it; ops never touch the arena directly.

import type { Graph, Node, Tensor } from '../ir.ts';
import type { TargetDesc } from '../targets.ts';

/** C layouts a constant can be emitted in (the packed formats: runtime-c/tn_runtime.h, docs/kernels.md). */
export type ConstLayout =
  | 'f32' // float array
  | 'i8' // int8_t array
  | 'u8' // uint8_t array (uint8 and bool)
  | 'u16' // uint16_t array (float16 bits)
  | 'i32' // int32_t array
  | 'i64' // int64_t array
  | 'c4' // Fairy2i codes i^e, 2 bits each (e = 0..3), 4 per byte, rows padded to whole bytes
  | 't2' // ternary codes, 2 bits each, 4 per byte, rows padded to whole bytes (docs/format.md)
  | 't2b' // ternary offset codes, blocks of 128 codes in 32 bytes, 4 rows interleaved per block
  | 't5' // ternary, 5 trits per byte (LUT index), packed per scale group
  | 't5w' // ternary, 5 trits per 16-bit LUT byte offset (uint16_t array), per scale group and window
  | 't6w' // ternary, 6 trits per 16-bit LUT byte offset (uint16_t array)
  | 'ub' // unsigned b-bit codes (2..8), a little-endian bit stream per row, rows padded to whole bytes
  | 'tbp' // ternary bit-planes: per 32 codes a nonzero mask and a sign mask (uint32_t array)
  | 'b1'; // binary codes, 1 bit each, 8 per byte, rows padded to whole bytes

/** Packing parameters of the layouts that need more than the row length. */
export interface PackParams {
  /** Codes per scale group (t5, t5w, t6w pack each group separately). */
  group?: number;
  /** LUT tables per window (t5w, t6w: the offsets depend on it). */
  window?: number;
  /** Rows per plane (t2b interleaves rows in groups of 4 within a plane). */
  rows?: number;
  /** Bits per code (ub). */
  bits?: number;
}

export interface EmitNodeContext {
  graph: Graph;
  node: Node;
  target: TargetDesc;
  input(i: number): Tensor;
  output(j: number): Tensor;
  hasInput(i: number): boolean;
  /** Pointer expression for input i (a parameter of the node function, or a constant's name). */
  in(i: number): string;
  /** Pointer expression for the scale tensor of quantised input i. */
  inScale(i: number): string;
  out(j: number): string;
  /** Pointer (uint8_t *) to the node's kernel scratch, for ops that declare `scratch` (compiler/ops/op.ts). */
  scratch(): string;
  /** The C name of the model's run-time delta slot table (tn_delta_slot[], runtime-c/tn_delta.h). */
  deltaSlots(): string;
  /**
   * The C name of constant tensor `name` in `layout`, emitting its definition once.
   * `rowLength` (for t2/b1) is the number of codes per row; rows are padded to whole bytes.
   */
  constant(name: string, layout: ConstLayout, rowLength?: number, pack?: PackParams): string;
  /** A static const array of small integers (shapes, strides) for kernel arguments. */
  intTable(stem: string, values: readonly number[]): string;
  /** Record a decision for `tritc inspect` and the layer comment. */
  annotate(key: string, value: string | number): void;
  /** Rows of axis 0 this call runs: `n_rows` in a token-batched graph (Graph.rows), else `all` as a literal. */
  rows(all: number): string;
  /** Rows of output wanted (the last ones): `n_out` in a token-batched graph, else `all` as a literal. */
  outRows(all: number): string;
}
