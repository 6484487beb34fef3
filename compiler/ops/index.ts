// The op registry: every op the reader accepts, the interpreter runs and the emitter compiles.

import { Add } from './add.ts';
import { ArgMax } from './argmax.ts';
import { DequantizeInt8 } from './dequantize_int8.ts';
import { BinaryConv, TernaryConv } from './lowbit_conv.ts';
import { BinaryLinear, TernaryLinear } from './lowbit_linear.ts';
import type { OpDef } from './op.ts';
import { QuantizeInt8 } from './quantize_int8.ts';
import { QuantizeStatic } from './quantize_static.ts';
import { Relu } from './relu.ts';
import { Softmax } from './softmax.ts';

export const OPS: ReadonlyMap<string, OpDef> = new Map(
  [QuantizeInt8, DequantizeInt8, TernaryLinear, BinaryLinear, Relu, Add, Softmax, ArgMax, QuantizeStatic, TernaryConv, BinaryConv].map((d) => [d.op, d]),
);

export function getOp(op: string): OpDef {
  const d = OPS.get(op);
  if (!d) throw new Error(`internal: unknown op ${op}`);
  return d;
}
