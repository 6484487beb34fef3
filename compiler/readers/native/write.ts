// Writer for the native format v1: the inverse of read.ts. Used by the example trainers, by tests
// that generate random graphs, and by anyone converting a model in TypeScript.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DTYPE_INFO } from '../../dtypes.ts';
import type { AttrValue, DType, Granularity, TypedData } from '../../ir.ts';
import { writeSafetensors, type StDType } from '../../io/safetensors.ts';
import { packB1, packT2 } from '../../emit/pack.ts';
import { FORMAT_NAME, FORMAT_VERSION } from '../../limits.ts';
import type { Encoding } from './read.ts';

export interface TensorSpec {
  dtype: DType;
  shape: number[];
  quant?: { scale: string; granularity: Granularity; group_size?: number };
  encoding?: Encoding;
  range?: [number, number];
  /** Constants only: decoded values (codes as -1/0/+1). */
  data?: TypedData;
}

export interface NodeSpec {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttrValue>;
}

export interface ModelSpec {
  name: string;
  inputs: string[];
  outputs: string[];
  tensors: Record<string, TensorSpec>;
  nodes: NodeSpec[];
  metadata?: Record<string, string>;
}

/** The JSON document and safetensors bytes of a model. */
export function serializeModel(spec: ModelSpec, weightsFile = 'model.safetensors'): { json: string; weights: Uint8Array | undefined } {
  const tensors: Record<string, object> = {};
  const stEntries: { name: string; dtype: StDType; shape: number[]; bytes: Uint8Array }[] = [];
  for (const [name, t] of Object.entries(spec.tensors)) {
    const decl: Record<string, unknown> = { dtype: t.dtype, shape: t.shape };
    if (t.quant) decl.quant = t.quant;
    if (t.encoding) decl.encoding = t.encoding;
    if (t.range) decl.range = t.range;
    tensors[name] = decl;
    if (!t.data) continue;
    const rowLen = t.shape[t.shape.length - 1]!;
    if ((t.dtype === 'ternary' && t.encoding === 'packed2') || (t.dtype === 'binary' && t.encoding === 'packed1')) {
      const packed = t.dtype === 'ternary' ? packT2(t.data as Int8Array, rowLen) : packB1(t.data as Int8Array, rowLen);
      stEntries.push({ name, dtype: 'U8', shape: [...t.shape.slice(0, -1), Math.ceil(rowLen / (t.dtype === 'ternary' ? 4 : 8))], bytes: packed });
    } else {
      const dtype: StDType = DTYPE_INFO[t.dtype].safetensors;
      stEntries.push({ name, dtype, shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
    }
  }
  const doc: Record<string, unknown> = { format: FORMAT_NAME, version: FORMAT_VERSION, name: spec.name };
  if (stEntries.length) doc.weights = weightsFile;
  Object.assign(doc, {
    inputs: spec.inputs,
    outputs: spec.outputs,
    tensors,
    nodes: spec.nodes.map((n) => ({
      name: n.name,
      op: n.op,
      inputs: n.inputs,
      outputs: n.outputs,
      ...(n.attrs && Object.keys(n.attrs).length ? { attrs: n.attrs } : {}),
    })),
  });
  if (spec.metadata) doc.metadata = spec.metadata;
  return { json: JSON.stringify(doc, null, 2) + '\n', weights: stEntries.length ? writeSafetensors(stEntries, spec.metadata) : undefined };
}

/** Write model.json (+ model.safetensors) into `dir`; returns the path of model.json. */
export function writeModel(dir: string, spec: ModelSpec): string {
  mkdirSync(dir, { recursive: true });
  const { json, weights } = serializeModel(spec);
  if (weights) writeFileSync(join(dir, 'model.safetensors'), weights);
  writeFileSync(join(dir, 'model.json'), json);
  return join(dir, 'model.json');
}
