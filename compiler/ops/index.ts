// The op registry: every op the reader accepts, the interpreter runs and the emitter compiles.

import { Add } from './add.ts';
import { ArgMax } from './argmax.ts';
import { DequantizeInt8 } from './dequantize_int8.ts';
import { BinaryLinear, TernaryLinear } from './lowbit_linear.ts';
import type { OpDef } from './op.ts';
import { QuantizeInt8 } from './quantize_int8.ts';
import { Relu } from './relu.ts';
import { Softmax } from './softmax.ts';

const registry = new Map<string, OpDef>([QuantizeInt8, DequantizeInt8, TernaryLinear, BinaryLinear, Relu, Add, Softmax, ArgMax].map((d) => [d.op, d]));

export const OPS: ReadonlyMap<string, OpDef> = registry;

/** Add an op at run time (tests register synthetic ops to drive compiler hooks end to end). */
export function registerOp(def: OpDef): void {
  if (registry.has(def.op) && registry.get(def.op) !== def) throw new Error(`internal: op ${def.op} is already registered`);
  registry.set(def.op, def);
}

export function getOp(op: string): OpDef {
  const d = OPS.get(op);
  if (!d) throw new Error(`internal: unknown op ${op}`);
  return d;
}
