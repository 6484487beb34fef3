// ONNX elementwise ops with NumPy broadcasting: Sub, Mul, Div, Pow, Max, Min, the comparisons (Less,
// Greater, Equal, LessOrEqual, GreaterOrEqual: bool results), Clip, Where, Cast (and the
// integer half of Add, whose float32 half is the native op in ../add.ts).
//
// float32: one IEEE operation per element, a op b (Div through tn_divf, Pow through tn_powf).
// Integers (int8, uint8, int32, int64) wrap around like NumPy's fixed-width types; Div truncates
// toward zero, x / 0 = 0 (ONNX leaves it undefined; C would trap or be undefined), INT_MIN / -1 wraps
// to INT_MIN. See docs/numerics.md, "Elementwise".

import { shapeStr, type DType } from '../../ir.ts';
import { f32ToI32, f32ToI64, i64ToF32, wrapI64 } from '../../numerics/convert.ts';
import { add, div, fround, maxf, minf, mul, powf, rintf, sub } from '../../numerics/f32.ts';
import { broadcastAll, broadcastIndexMaps } from '../broadcast.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import type { EmittedNode, InferContext, InterpretContext, OpDef, OutputSpec } from '../op.ts';
import {
  alloc,
  ANY,
  bcastArgs,
  checkDtype,
  checkSameDtype,
  count,
  DT_CODE,
  elemAt,
  elemBytes,
  hasInput,
  inTensor,
  NUMERIC,
  SUFFIX,
  constantCost,
} from './common.ts';

type V = number | bigint;
export type ArithOp = 'Add' | 'Sub' | 'Mul' | 'Div';

const noCost = constantCost;

/** The broadcast output shape of inputs `idx`, reporting a mismatch. */
function inferBroadcast(ctx: InferContext, idx: readonly number[]): number[] | undefined {
  const ts = idx.map((i) => ctx.inputs[i]!);
  const out = broadcastAll(ts.map((t) => t.shape));
  if (!out) ctx.error(`shapes ${ts.map((t) => `${shapeStr(t.shape)} of "${t.name}"`).join(', ')} do not broadcast`);
  return out;
}

// ---- Add (integers), Sub, Mul, Div ------------------------------------------------------------------

/** One element of a op b in `dtype` (the stored result wraps for int8/uint8/int32 typed arrays). */
function arithScalar(op: ArithOp, dtype: DType): (a: V, b: V) => V {
  if (dtype === 'float32') return { Add: add, Sub: sub, Mul: mul, Div: div }[op] as (a: V, b: V) => V;
  if (dtype === 'int64') {
    return {
      Add: (a: V, b: V) => wrapI64((a as bigint) + (b as bigint)),
      Sub: (a: V, b: V) => wrapI64((a as bigint) - (b as bigint)),
      Mul: (a: V, b: V) => wrapI64((a as bigint) * (b as bigint)),
      Div: (a: V, b: V) => (b === 0n ? 0n : wrapI64((a as bigint) / (b as bigint))), // BigInt division truncates
    }[op];
  }
  // int8, uint8, int32: exact in a double before the store wraps (int32 products need Math.imul).
  return {
    Add: (a: V, b: V) => (a as number) + (b as number),
    Sub: (a: V, b: V) => (a as number) - (b as number),
    Mul: (a: V, b: V) => (dtype === 'int32' ? Math.imul(a as number, b as number) : (a as number) * (b as number)),
    Div: (a: V, b: V) => (b === 0 ? 0 : Math.trunc((a as number) / (b as number))), // exact: see numerics.md
  }[op];
}

export function arithInfer(ctx: InferContext, allowed: readonly DType[]): OutputSpec[] {
  const [a, b] = ctx.inputs;
  if (!a || !b) return [];
  if (!checkDtype(ctx, 0, allowed, ['A', 'B']) || !checkSameDtype(ctx, [0, 1], ['A', 'B'])) return [];
  const out = inferBroadcast(ctx, [0, 1]);
  return out ? [{ dtype: a.dtype, shape: out }] : [];
}

export function arithInterpret(ctx: InterpretContext, op: ArithOp): void {
  const a = inTensor(ctx, 0);
  const b = inTensor(ctx, 1);
  const out = broadcastAll([a.shape, b.shape])!;
  const [ma, mb] = broadcastIndexMaps(out, [a.shape, b.shape]);
  const av = ctx.read(a.name);
  const bv = ctx.read(b.name);
  const f = arithScalar(op, a.dtype);
  const y = alloc(a.dtype, ma!.length) as unknown as V[];
  for (let i = 0; i < y.length; i++) y[i] = f(elemAt(av, ma![i]!, a.name), elemAt(bv, mb![i]!, b.name));
  ctx.write(ctx.node.outputs[0]!, y as never);
}

export function arithEmit(ctx: EmitNodeContext, op: ArithOp): EmittedNode {
  const a = ctx.input(0);
  const fn = `tn_${op.toLowerCase()}_${SUFFIX[a.dtype]}`;
  const args = bcastArgs(ctx, ctx.output(0).shape, [a.shape, ctx.input(1).shape], ['a', 'b']);
  return { kernel: fn, runtime: ['ref/tn_arith.c', 'ref/tn_math.c'], body: [`${fn}(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, ${args});`] };
}

function arithOp(op: Exclude<ArithOp, 'Add'>, summary: string): OpDef {
  return {
    op,
    summary,
    inputs: { names: ['A', 'B'], min: 2 },
    outputs: { names: ['C'], min: 1 },
    attrs: {},
    infer: (ctx) => arithInfer(ctx, NUMERIC),
    interpret: (ctx) => arithInterpret(ctx, op),
    emit: (ctx) => arithEmit(ctx, op),
    cost: noCost,
  };
}

export const Sub = arithOp('Sub', 'a - b with NumPy broadcasting (float32, or integers with wrap-around)');
export const Mul = arithOp('Mul', 'a * b with NumPy broadcasting (float32, or integers with wrap-around)');
export const Div = arithOp('Div', 'a / b with NumPy broadcasting (integers: truncated, x / 0 = 0)');

// ---- Pow --------------------------------------------------------------------------------------------

const POW_BASE: readonly DType[] = ['float32', 'int32', 'int64'];
const POW_EXP: readonly DType[] = ['float32', 'int8', 'uint8', 'int32', 'int64'];

/** Exponent element as float32, as C's (float) conversion. */
const toF32 = (v: V): number => (typeof v === 'bigint' ? i64ToF32(v) : fround(v));

/** x^n with wrap-around at `bits`; n < 0: 1 for x = 1, +-1 for x = -1, otherwise 0 (tn_ipow). */
function ipow(x: bigint, n: bigint, bits: 32 | 64): bigint {
  if (n < 0n) {
    if (x === 1n) return 1n;
    if (x === -1n) return n & 1n ? -1n : 1n;
    return 0n;
  }
  let r = 1n;
  let base = x;
  while (n > 0n) {
    if (n & 1n) r = BigInt.asIntN(bits, r * base);
    base = BigInt.asIntN(bits, base * base);
    n >>= 1n;
  }
  return r;
}

/** Integer base, float exponent (tn_ipow_f): the integer power if the exponent is integral, else powf and Cast's rule. */
function ipowF(x: bigint, e: number, bits: 32 | 64): bigint {
  if (Math.abs(e) < 2 ** 31 && rintf(e) === e) return ipow(x, BigInt(e), bits);
  const p = powf(bits === 32 ? fround(Number(x)) : i64ToF32(x), e);
  return bits === 32 ? BigInt(f32ToI32(p)) : f32ToI64(p);
}

export const Pow: OpDef = {
  op: 'Pow',
  summary: 'x^y with broadcasting: float32 base (tn_powf) or int32/int64 base (exact, wrapping)',
  inputs: { names: ['X', 'Y'], min: 2 },
  outputs: { names: ['Z'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [x, y] = ctx.inputs;
    if (!x || !y) return [];
    if (!checkDtype(ctx, 0, POW_BASE, ['X', 'Y']) || !checkDtype(ctx, 1, POW_EXP, ['X', 'Y'])) return [];
    const out = inferBroadcast(ctx, [0, 1]);
    return out ? [{ dtype: x.dtype, shape: out }] : [];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const e = inTensor(ctx, 1);
    const out = broadcastAll([x.shape, e.shape])!;
    const [mx, me] = broadcastIndexMaps(out, [x.shape, e.shape]);
    const xv = ctx.read(x.name);
    const ev = ctx.read(e.name);
    const y = alloc(x.dtype, mx!.length) as unknown as V[];
    const bits = x.dtype === 'int32' ? 32 : 64;
    for (let i = 0; i < y.length; i++) {
      const a = elemAt(xv, mx![i]!, x.name);
      const b = elemAt(ev, me![i]!, e.name);
      if (x.dtype === 'float32') y[i] = powf(a as number, toF32(b));
      else {
        const r = e.dtype === 'float32' ? ipowF(BigInt(a), b as number, bits) : ipow(BigInt(a), BigInt(b), bits);
        y[i] = x.dtype === 'int64' ? r : Number(r);
      }
    }
    ctx.write(ctx.node.outputs[0]!, y as never);
  },
  emit(ctx) {
    const fn = `tn_pow_${SUFFIX[ctx.input(0).dtype]}_${SUFFIX[ctx.input(1).dtype]}`;
    const args = bcastArgs(ctx, ctx.output(0).shape, [ctx.input(0).shape, ctx.input(1).shape], ['x', 'y']);
    return { kernel: fn, runtime: ['ref/tn_arith.c', 'ref/tn_math.c'], body: [`${fn}(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, ${args});`] };
  },
  cost: noCost,
};

// ---- Clip -------------------------------------------------------------------------------------------

export const Clip: OpDef = {
  op: 'Clip',
  summary: 'clamp to [min, max] (optional one-element inputs); min > max gives max',
  inputs: { names: ['input', 'min', 'max'], min: 1 },
  outputs: { names: ['output'], min: 1 },
  attrs: {},
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    const names = ['input', 'min', 'max'];
    if (
      !checkDtype(ctx, 0, NUMERIC, names) ||
      !checkSameDtype(
        ctx,
        [0, 1, 2].filter((i) => ctx.inputs[i]),
        names,
      )
    )
      return [];
    for (const i of [1, 2]) {
      const b = ctx.inputs[i];
      if (b && count(b) !== 1) ctx.error(`input ${i} (${names[i]}) "${b.name}" must hold one value (a scalar), found shape ${shapeStr(b.shape)}`);
    }
    return [{ dtype: x.dtype, shape: [...x.shape], range: x.range }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const xv = ctx.read(x.name);
    const lo = hasInput(ctx, 1) ? elemAt(ctx.read(ctx.node.inputs[1]!), 0, 'min') : undefined;
    const hi = hasInput(ctx, 2) ? elemAt(ctx.read(ctx.node.inputs[2]!), 0, 'max') : undefined;
    const y = alloc(x.dtype, xv.length) as unknown as V[];
    for (let i = 0; i < y.length; i++) {
      let v = elemAt(xv, i, x.name);
      if (lo !== undefined && v < lo) v = lo;
      if (hi !== undefined && v > hi) v = hi;
      y[i] = v;
    }
    ctx.write(ctx.node.outputs[0]!, y as never);
  },
  emit(ctx) {
    const fn = `tn_clip_${SUFFIX[ctx.input(0).dtype]}`;
    const bound = (i: number) => (ctx.hasInput(i) ? ctx.in(i) : 'NULL');
    return {
      kernel: fn,
      runtime: ['ref/tn_arith.c', 'ref/tn_math.c'],
      body: [`${fn}(${ctx.in(0)}, /* min */ ${bound(1)}, /* max */ ${bound(2)}, ${ctx.out(0)}, ${count(ctx.input(0))});`],
    };
  },
  cost: noCost,
};

// ---- Where ------------------------------------------------------------------------------------------

export const Where: OpDef = {
  op: 'Where',
  summary: 'condition ? X : Y elementwise, three-way broadcasting, any dtype',
  inputs: { names: ['condition', 'X', 'Y'], min: 3 },
  outputs: { names: ['output'], min: 1 },
  attrs: {},
  infer(ctx) {
    const [c, x, y] = ctx.inputs;
    if (!c || !x || !y) return [];
    const names = ['condition', 'X', 'Y'];
    if (!checkDtype(ctx, 0, ['bool'], names) || !checkDtype(ctx, 1, ANY, names) || !checkSameDtype(ctx, [1, 2], names)) return [];
    const out = inferBroadcast(ctx, [0, 1, 2]);
    return out ? [{ dtype: x.dtype, shape: out }] : [];
  },
  interpret(ctx) {
    const [c, x, y] = [0, 1, 2].map((i) => inTensor(ctx, i)) as [ReturnType<typeof inTensor>, ReturnType<typeof inTensor>, ReturnType<typeof inTensor>];
    const out = broadcastAll([c.shape, x.shape, y.shape])!;
    const [mc, mx, my] = broadcastIndexMaps(out, [c.shape, x.shape, y.shape]);
    const cv = ctx.read(c.name);
    const xv = ctx.read(x.name);
    const yv = ctx.read(y.name);
    const o = alloc(x.dtype, mc!.length) as unknown as V[];
    for (let i = 0; i < o.length; i++) o[i] = elemAt(cv, mc![i]!, c.name) ? elemAt(xv, mx![i]!, x.name) : elemAt(yv, my![i]!, y.name);
    ctx.write(ctx.node.outputs[0]!, o as never);
  },
  emit(ctx) {
    const args = bcastArgs(
      ctx,
      ctx.output(0).shape,
      [0, 1, 2].map((i) => ctx.input(i).shape),
      ['c', 'x', 'y'],
    );
    const bytes = elemBytes(ctx.input(1).dtype);
    return {
      kernel: 'tn_where',
      runtime: ['ref/tn_arith.c', 'ref/tn_math.c'],
      body: [`tn_where(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.in(2)}, ${ctx.out(0)}, /* element bytes */ ${bytes}, ${args});`],
    };
  },
  cost: noCost,
};

// ---- Cast -------------------------------------------------------------------------------------------

/** ONNX TensorProto.DataType codes of the dtypes tritc has. */
const ONNX_DTYPE: Readonly<Record<number, DType>> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool' };

const INT_RANGE: Partial<Record<DType, [number, number]>> = { int8: [-128, 127], uint8: [0, 255] };

/** One element converted between dtypes (tn_cast). */
function castScalar(v: V, from: DType, to: DType): V {
  if (from === 'float32') {
    const f = v as number;
    switch (to) {
      case 'float32':
        return f;
      case 'bool':
        return f !== 0 ? 1 : 0; // NaN -> 1
      case 'int64':
        return f32ToI64(f);
      case 'int32':
        return f32ToI32(f);
      default: {
        const [lo, hi] = INT_RANGE[to]!;
        const t = f32ToI32(f);
        return t < lo ? lo : t > hi ? hi : t;
      }
    }
  }
  const n = BigInt(v);
  switch (to) {
    case 'float32':
      return i64ToF32(n);
    case 'bool':
      return n !== 0n ? 1 : 0;
    case 'int64':
      return n;
    case 'int32':
      return Number(BigInt.asIntN(32, n));
    case 'int8':
      return Number(BigInt.asIntN(8, n));
    default:
      return Number(BigInt.asUintN(8, n));
  }
}

export const Cast: OpDef = {
  op: 'Cast',
  summary: 'convert between float32, int8, uint8, int32, int64 and bool (float -> int truncates and saturates)',
  inputs: { names: ['input'], min: 1 },
  outputs: { names: ['output'], min: 1 },
  attrs: {
    to: { kind: 'int', doc: 'ONNX TensorProto.DataType of the result: 1 float32, 2 uint8, 3 int8, 6 int32, 7 int64, 9 bool' },
    saturate: { kind: 'int', default: 1, doc: 'float8 only in ONNX; accepted and ignored' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (!checkDtype(ctx, 0, ANY, ['input'])) return [];
    const code = ctx.node.attrs.to as number;
    const to = ONNX_DTYPE[code];
    if (!to) {
      ctx.error(`attribute "to" = ${code} is not a dtype tritc supports (1 float32, 2 uint8, 3 int8, 6 int32, 7 int64, 9 bool)`, 'unsupported');
      return [];
    }
    return [{ dtype: to, shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const to = ONNX_DTYPE[ctx.node.attrs.to as number]!;
    const xv = ctx.read(x.name);
    const y = alloc(to, xv.length) as unknown as V[];
    for (let i = 0; i < y.length; i++) y[i] = castScalar(elemAt(xv, i, x.name), x.dtype, to);
    ctx.write(ctx.node.outputs[0]!, y as never);
  },
  emit(ctx) {
    const from = ctx.input(0).dtype;
    const to = ctx.output(0).dtype;
    return {
      kernel: 'tn_cast',
      runtime: ['ref/tn_arith.c', 'ref/tn_math.c'],
      body: [`tn_cast(${ctx.in(0)}, ${DT_CODE[from]}, ${ctx.out(0)}, ${DT_CODE[to]}, ${count(ctx.input(0))}); /* ${from} -> ${to} */`],
    };
  },
  cost: noCost,
};

// ---- Max, Min (two inputs: the importer chains ONNX's variadic form) ---------------------------------

type MinMaxOp = 'Max' | 'Min';

function minMaxScalar(op: MinMaxOp, dtype: DType): (a: V, b: V) => V {
  if (dtype === 'float32') return (op === 'Max' ? maxf : minf) as (a: V, b: V) => V;
  return op === 'Max' ? (a, b) => (a > b ? a : b) : (a, b) => (a < b ? a : b);
}

function binaryBroadcast(ctx: InterpretContext, outDtype: DType, f: (a: V, b: V) => V): void {
  const a = inTensor(ctx, 0);
  const b = inTensor(ctx, 1);
  const out = broadcastAll([a.shape, b.shape])!;
  const [ma, mb] = broadcastIndexMaps(out, [a.shape, b.shape]);
  const av = ctx.read(a.name);
  const bv = ctx.read(b.name);
  const y = alloc(outDtype, ma!.length) as unknown as V[];
  for (let i = 0; i < y.length; i++) y[i] = f(elemAt(av, ma![i]!, a.name), elemAt(bv, mb![i]!, b.name));
  ctx.write(ctx.node.outputs[0]!, y as never);
}

function binaryEmit(ctx: EmitNodeContext, fn: string): EmittedNode {
  const args = bcastArgs(ctx, ctx.output(0).shape, [ctx.input(0).shape, ctx.input(1).shape], ['a', 'b']);
  return { kernel: fn, runtime: ['ref/tn_arith.c', 'ref/tn_math.c'], body: [`${fn}(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.out(0)}, ${args});`] };
}

function minMaxOp(op: MinMaxOp): OpDef {
  return {
    op,
    summary: `${op.toLowerCase()}(a, b) with NumPy broadcasting; float32: NaN propagates, ${op === 'Max' ? 'max(-0, +0) = +0' : 'min(-0, +0) = -0'}`,
    inputs: { names: ['A', 'B'], min: 2 },
    outputs: { names: ['C'], min: 1 },
    attrs: {},
    infer: (ctx) => arithInfer(ctx, NUMERIC),
    interpret: (ctx) => binaryBroadcast(ctx, inTensor(ctx, 0).dtype, minMaxScalar(op, inTensor(ctx, 0).dtype)),
    emit: (ctx) => binaryEmit(ctx, `tn_${op.toLowerCase()}_${SUFFIX[ctx.input(0).dtype]}`),
    cost: noCost,
  };
}

export const Max = minMaxOp('Max');
export const Min = minMaxOp('Min');

// ---- Comparisons: Less, Greater, Equal, LessOrEqual, GreaterOrEqual -> bool --------------------------

type CompareOp = 'Less' | 'Greater' | 'Equal' | 'LessOrEqual' | 'GreaterOrEqual';

/** The C operator of each comparison: IEEE comparisons, false whenever an operand is NaN (but -0 == +0). */
const COMPARE_C: Readonly<Record<CompareOp, string>> = { Less: '<', Greater: '>', Equal: '==', LessOrEqual: '<=', GreaterOrEqual: '>=' };

const COMPARE_FN: Readonly<Record<CompareOp, (a: V, b: V) => boolean>> = {
  Less: (a, b) => a < b,
  Greater: (a, b) => a > b,
  Equal: (a, b) => a === b, // number === number or bigint === bigint: IEEE equality, NaN !== NaN, -0 === +0
  LessOrEqual: (a, b) => a <= b,
  GreaterOrEqual: (a, b) => a >= b,
};

function compareOp(op: CompareOp): OpDef {
  const allowed: readonly DType[] = op === 'Equal' ? ANY : NUMERIC;
  return {
    op,
    summary: `a ${COMPARE_C[op]} b with NumPy broadcasting, a bool result (false if either is NaN)`,
    inputs: { names: ['A', 'B'], min: 2 },
    outputs: { names: ['C'], min: 1 },
    attrs: {},
    infer(ctx) {
      const [a, b] = ctx.inputs;
      if (!a || !b) return [];
      if (!checkDtype(ctx, 0, allowed, ['A', 'B']) || !checkSameDtype(ctx, [0, 1], ['A', 'B'])) return [];
      const out = inferBroadcast(ctx, [0, 1]);
      return out ? [{ dtype: 'bool', shape: out }] : [];
    },
    interpret: (ctx) => binaryBroadcast(ctx, 'bool', (a, b) => (COMPARE_FN[op](a, b) ? 1 : 0)),
    emit: (ctx) => binaryEmit(ctx, `tn_${op.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}_${SUFFIX[ctx.input(0).dtype]}`),
    cost: noCost,
  };
}

export const Less = compareOp('Less');
export const Greater = compareOp('Greater');
export const Equal = compareOp('Equal');
export const LessOrEqual = compareOp('LessOrEqual');
export const GreaterOrEqual = compareOp('GreaterOrEqual');
