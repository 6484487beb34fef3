// Graph specs (the native format's ModelSpec, compiler/readers/native/write.ts) as the campaign's
// currency: the random generators make them, the shrinker edits them, and a regression file stores
// one as JSON. Also: reading a spec back as the compiler sees it (shapes inferred).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DTYPE_INFO } from '../../compiler/dtypes.ts';
import type { DType, Graph, TypedData } from '../../compiler/ir.ts';
import { readModel } from '../../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec, type TensorSpec } from '../../compiler/readers/native/write.ts';

/** A deep copy (tensor data copied too). */
export function cloneSpec(s: ModelSpec): ModelSpec {
  const tensors: Record<string, TensorSpec> = {};
  for (const [name, t] of Object.entries(s.tensors))
    tensors[name] = {
      ...t,
      shape: [...t.shape],
      ...(t.quant ? { quant: { ...t.quant } } : {}),
      ...(t.range ? { range: [...t.range] as [number, number] } : {}),
      ...(t.data ? { data: t.data.slice() } : {}),
    };
  return {
    ...s,
    inputs: [...s.inputs],
    outputs: [...s.outputs],
    tensors,
    nodes: s.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], ...(n.attrs ? { attrs: { ...n.attrs } } : {}) })),
  };
}

/** Read a spec as the compiler does (through the native reader: checked, shapes inferred). Throws the
 * reader's TritcError for a spec it refuses. */
export function readSpec(s: ModelSpec): Graph {
  const dir = mkdtempSync(join(tmpdir(), 'tritc-spec-'));
  try {
    return readModel(writeModel(dir, s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Elements over every input and constant: the "size" the shrinker makes small. */
export function specElements(s: ModelSpec): number {
  return Object.values(s.tensors).reduce((a, t) => a + t.shape.reduce((x, d) => x * d, 1), 0);
}

// ---- JSON (regression files) --------------------------------------------------------------------

interface TensorJson extends Omit<TensorSpec, 'data'> {
  /** Numbers; int64 as decimal strings; float32 as their bit patterns (exact, NaN and -0 included). */
  data?: (number | string)[];
}

export interface SpecJson extends Omit<ModelSpec, 'tensors'> {
  tensors: Record<string, TensorJson>;
}

export function specToJson(s: ModelSpec): SpecJson {
  const tensors: Record<string, TensorJson> = {};
  for (const [name, t] of Object.entries(s.tensors)) {
    const { data, ...rest } = t;
    tensors[name] = { ...rest };
    if (!data) continue;
    if (data instanceof BigInt64Array) tensors[name].data = Array.from(data, (v) => v.toString());
    else if (data instanceof Float32Array) tensors[name].data = Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
    else tensors[name].data = Array.from(data as ArrayLike<number>);
  }
  return { ...s, tensors };
}

export function specFromJson(j: SpecJson): ModelSpec {
  const tensors: Record<string, TensorSpec> = {};
  for (const [name, t] of Object.entries(j.tensors)) {
    const { data, ...rest } = t;
    tensors[name] = { ...rest };
    if (!data) continue;
    tensors[name].data = typedFromJson(t.dtype, data);
  }
  return { ...j, tensors };
}

function typedFromJson(dtype: DType, data: (number | string)[]): TypedData {
  if (dtype === 'int64') return BigInt64Array.from(data, (v) => BigInt(v));
  if (dtype === 'float32') return new Float32Array(Uint32Array.from(data as number[]).buffer);
  if (dtype === 'ternary' || dtype === 'binary') return Int8Array.from(data as number[]);
  const out = DTYPE_INFO[dtype].alloc(data.length) as Exclude<TypedData, BigInt64Array>;
  out.set(data as number[]);
  return out;
}
