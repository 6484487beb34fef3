// Run a small model spec through the reader and the interpreter, for hand-checked op tests.

import { join } from 'node:path';
import { readModel } from '../../compiler/readers/native/read.ts';
import { writeModel, type ModelSpec, type TensorSpec } from '../../compiler/readers/native/write.ts';
import { interpret } from '../../compiler/interpret.ts';
import type { AttrValue, TypedData } from '../../compiler/ir.ts';
import { workDir } from './differential.ts';

let counter = 0;
const base = workDir('ops-unit');

/** Read `spec` (written to disk, so the reader's checks run) and interpret it on `inputs`. */
export function runModel(spec: ModelSpec, inputs: Record<string, TypedData>): Map<string, TypedData> {
  const g = readModel(writeModel(join(base, `m${counter++}`), spec));
  return interpret(g, new Map(Object.entries(inputs)));
}

/** The message of the TritcError reading `spec` throws ('' if none). */
export function readError(spec: ModelSpec): string {
  try {
    readModel(writeModel(join(base, `m${counter++}`), spec));
    return '';
  } catch (e) {
    if ((e as Error).name !== 'TritcError') throw e;
    return (e as Error).message;
  }
}

/**
 * A one-node model: `inputs` are graph inputs unless they carry data (then constants); the output
 * is "y" (or `outputs`).
 */
export function oneNode(op: string, inputs: Record<string, TensorSpec>, attrs: Record<string, AttrValue> = {}, outputs = ['y']): ModelSpec {
  const names = Object.keys(inputs).map((k) => (k.startsWith('_') ? '' : k));
  return {
    name: `unit-${op.toLowerCase()}`,
    inputs: Object.entries(inputs)
      .filter(([k, t]) => !t.data && !k.startsWith('_'))
      .map(([k]) => k),
    outputs,
    tensors: Object.fromEntries(Object.entries(inputs).filter(([k]) => !k.startsWith('_'))),
    nodes: [{ name: 'n', op, inputs: names, outputs, attrs }],
  };
}
