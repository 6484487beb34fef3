// Per-layer comparison (`tritc test --bisect`): a model built with layer dumps (compiler/emit/c.ts,
// dumpLayers) writes every layer's outputs to layers.bin as it runs; the interpreter, run on the same
// compiled graph, gives the value each of those tensors should hold. The first layer whose output
// differs is where the generated code and the interpreter part ways.
//
// layers.bin: per dump, u32 step, u32 output index, u32 byte count, then the bytes (little-endian,
// the tensor's native layout), in the order the layers ran.

import { DTYPE_INFO } from '../dtypes.ts';
import { interpret } from '../interpret.ts';
import type { Graph, TypedData } from '../ir.ts';
import { firstMismatch, type Mismatch } from './compare.ts';

export interface LayerDump {
  step: number;
  output: number;
  bytes: Uint8Array;
}

/** Parse layers.bin; throws a plain Error saying what is wrong (the caller adds the file). */
export function decodeLayerDumps(bytes: Uint8Array): LayerDump[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dumps: LayerDump[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error(`layers.bin is truncated in a record header at byte ${at}`);
    const step = dv.getUint32(at, true);
    const output = dv.getUint32(at + 4, true);
    const n = dv.getUint32(at + 8, true);
    at += 12;
    if (at + n > bytes.length) throw new Error(`layers.bin is truncated in the data of step ${step} at byte ${at}`);
    dumps.push({ step, output, bytes: bytes.slice(at, at + n) });
    at += n;
  }
  return dumps;
}

interface LayerDifference {
  step: number;
  node: string;
  op: string;
  tensor: string;
  mismatch: Mismatch;
  /** The differing element's index in the tensor's shape ([row, column] ...). */
  at: number[];
}

export interface BisectResult {
  /** Layers compared (each output the program dumped). */
  compared: number;
  /** The first layer, in schedule order, whose output differs from the interpreter's; none if all agree. */
  first?: LayerDifference;
}

/** The multi-dimensional index of flat element `i` in a row-major tensor of this shape. */
export function unflatIndex(i: number, shape: readonly number[]): number[] {
  const at: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    at.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return at;
}

/**
 * Compare one run's layer dumps with the interpreter on the compiled graph (the graph after every
 * pass: the one the C was generated from), layer by layer in schedule order.
 */
export function bisectLayers(graph: Graph, inputs: ReadonlyMap<string, TypedData>, dumps: readonly LayerDump[]): BisectResult {
  const values = new Map<string, TypedData>();
  interpret(graph, inputs, { onWrite: (name, data) => values.set(name, data) });
  let compared = 0;
  for (const d of dumps) {
    const node = graph.nodes[d.step];
    const tensor = node?.outputs[d.output];
    if (!node || tensor === undefined) throw new Error(`internal: layers.bin names step ${d.step} output ${d.output}, which the graph does not have`);
    const t = graph.tensors.get(tensor)!;
    const want = values.get(tensor)!;
    const info = DTYPE_INFO[t.dtype];
    if (d.bytes.length !== want.byteLength) throw new Error(`internal: layers.bin holds ${d.bytes.length} bytes of "${tensor}", expected ${want.byteLength}`);
    const got = info.alloc(d.bytes.length / info.bytes);
    new Uint8Array(got.buffer).set(d.bytes);
    compared++;
    const m = firstMismatch(got, want);
    if (m) return { compared, first: { step: d.step, node: node.name, op: node.op, tensor, mismatch: m, at: unflatIndex(m.index, t.shape) } };
  }
  return { compared };
}
