// Data movement that repeats or borders a tensor, every dtype: Expand (NumPy broadcast to a shape),
// Tile (repeats per axis) and Pad (modes constant, reflect, edge, wrap; negative pads crop). The
// target shape, repeats and pads are attributes (the importer reads ONNX's constant inputs). Expand is
// a strided copy with 0 strides; Tile is Pad in wrap mode with pads (0, (r - 1) * dim); both Pad and
// Tile run tn_pad (ref/tn_shape.c).

import { elementCount, shapeStr } from '../../ir.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import type { EmittedNode, InterpretContext, OpDef } from '../op.ts';
import { broadcastIndexMaps, broadcastShapes, broadcastStrides } from '../broadcast.ts';
import { alloc, ANY, checkDtype, checkSameDtype, constantCost, copyElem, elemBytes, hasInput, inTensor, ints } from './common.ts';
import { stridesOf, unravel } from './shape.ts';

const MODES = ['constant', 'reflect', 'edge', 'wrap'] as const;
type Mode = (typeof MODES)[number];

// ---- Expand -----------------------------------------------------------------------------------------

export const Expand: OpDef = {
  op: 'Expand',
  summary: 'broadcast to a shape (NumPy rules, both ways: the output is the broadcast of the two shapes)',
  inputs: { names: ['input'], min: 1 },
  outputs: { names: ['output'], min: 1 },
  attrs: { shape: { kind: 'ints', doc: 'the shape to broadcast with' } },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ANY, ['input'])) return [];
    const want = ints(ctx.node.attrs.shape);
    const out = broadcastShapes(x.shape, want);
    if (!out) {
      ctx.error(`"${x.name}" ${shapeStr(x.shape)} does not broadcast with shape ${shapeStr(want)}`);
      return [];
    }
    return [{ dtype: x.dtype, shape: out, range: x.range }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const out = broadcastShapes(x.shape, ints(ctx.node.attrs.shape))!;
    const [m] = broadcastIndexMaps(out, [x.shape]);
    const xv = ctx.read(x.name);
    const y = alloc(x.dtype, m!.length);
    for (let i = 0; i < m!.length; i++) copyElem(xv, m![i]!, y, i, x.name);
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const out = ctx.output(0).shape;
    return {
      kernel: 'tn_strided_copy',
      runtime: ['ref/tn_shape.c'],
      body: [
        `tn_strided_copy(${ctx.in(0)}, ${ctx.out(0)}, /* element bytes */ ${elemBytes(x.dtype)}, /* rank */ ${out.length}, ${ctx.intTable('shape', out)}, ${ctx.intTable('strides', broadcastStrides(x.shape, out))}, /* offset */ 0);`,
      ],
    };
  },
  cost: constantCost,
};

// ---- Pad and Tile: one index map ---------------------------------------------------------------------

/** Per axis: the input range kept after negative pads crop it, and where it starts in the output. */
interface Axis {
  /** Output size. */
  out: number;
  /** Kept input size (m) and its first input index. */
  size: number;
  start: number;
  /** Output index of kept element 0 (the positive begin pad). */
  before: number;
}

function padAxes(shape: readonly number[], pads: readonly number[]): Axis[] {
  const r = shape.length;
  return shape.map((d, a) => {
    const b = pads[a]!;
    const e = pads[a + r]!;
    const start = Math.max(0, -b);
    const size = d - start - Math.max(0, -e);
    return { out: size + Math.max(0, b) + Math.max(0, e), size, start, before: Math.max(0, b) };
  });
}

/** The input coordinate of output coordinate o on one axis, or -1 for the constant (tn_pad_coord). */
function padCoord(o: number, ax: Axis, mode: Mode): number {
  let c = o - ax.before;
  const m = ax.size;
  if (c < 0 || c >= m) {
    if (mode === 'constant') return -1;
    if (mode === 'edge') c = c < 0 ? 0 : m - 1;
    else if (mode === 'wrap') c = ((c % m) + m) % m;
    else if (m === 1) c = 0;
    else {
      const p = 2 * (m - 1);
      c = ((c % p) + p) % p;
      if (c >= m) c = p - c;
    }
  }
  return ax.start + c;
}

function padInterpret(ctx: InterpretContext, pads: readonly number[], mode: Mode): void {
  const x = inTensor(ctx, 0);
  const xv = ctx.read(x.name);
  const axes = padAxes(x.shape, pads);
  const outShape = axes.map((a) => a.out);
  const xs = stridesOf(x.shape);
  const y = alloc(x.dtype, elementCount(outShape));
  const value = hasInput(ctx, 1) ? ctx.read(ctx.node.inputs[1]!) : undefined;
  for (let i = 0; i < y.length; i++) {
    const idx = unravel(i, outShape);
    let at = 0;
    for (let d = 0; d < idx.length && at >= 0; d++) {
      const c = padCoord(idx[d]!, axes[d]!, mode);
      at = c < 0 ? -1 : at + c * xs[d]!;
    }
    if (at >= 0) copyElem(xv, at, y, i, x.name);
    else if (value) copyElem(value, 0, y, i, ctx.node.inputs[1]!);
  }
  ctx.write(ctx.node.outputs[0]!, y);
}

function padEmit(ctx: EmitNodeContext, pads: readonly number[], mode: Mode): EmittedNode {
  const x = ctx.input(0);
  const axes = padAxes(x.shape, pads);
  const t = (stem: string, v: number[]) => ctx.intTable(stem, v);
  const value = ctx.hasInput(1) ? ctx.in(1) : 'NULL';
  return {
    kernel: 'tn_pad',
    runtime: ['ref/tn_shape.c'],
    body: [
      `tn_pad(${ctx.in(0)}, ${ctx.out(0)}, /* value */ ${value}, /* element bytes */ ${elemBytes(x.dtype)}, /* mode */ ${MODES.indexOf(mode)} /* ${mode} */, /* rank */ ${x.shape.length},`,
      `       ${t(
        'out_shape',
        axes.map((a) => a.out),
      )}, ${t(
        'sizes',
        axes.map((a) => a.size),
      )}, ${t(
        'starts',
        axes.map((a) => a.start),
      )}, ${t(
        'before',
        axes.map((a) => a.before),
      )}, ${t('strides', stridesOf(x.shape))});`,
    ],
  };
}

export const Pad: OpDef = {
  op: 'Pad',
  summary: "border a tensor: mode 'constant' (the value input, else 0), 'reflect', 'edge' or 'wrap'; negative pads crop",
  inputs: { names: ['data', 'constant_value'], min: 1 },
  outputs: { names: ['output'], min: 1 },
  attrs: {
    pads: { kind: 'ints', doc: 'begin pads of every axis, then end pads (negative: crop)' },
    mode: { kind: 'string', default: 'constant', oneOf: MODES, doc: "'constant', 'reflect', 'edge' or 'wrap'" },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ANY, ['data', 'constant_value']) || !checkSameDtype(ctx, [0, 1], ['data', 'constant_value'])) return [];
    const v = ctx.inputs[1];
    if (v && elementCount(v.shape) !== 1) ctx.error(`constant_value "${v.name}" must be one value, found shape ${shapeStr(v.shape)}`);
    const pads = ints(ctx.node.attrs.pads);
    if (pads.length !== 2 * x.shape.length) {
      ctx.error(`pads has ${pads.length} values; "${x.name}" ${shapeStr(x.shape)} needs ${2 * x.shape.length} (begin and end per axis)`);
      return [];
    }
    const axes = padAxes(x.shape, pads);
    if (axes.some((a) => a.size < 1)) {
      ctx.error(`pads [${pads.join(', ')}] crop "${x.name}" ${shapeStr(x.shape)} to nothing; tritc has no zero-size tensors`);
      return [];
    }
    return [{ dtype: x.dtype, shape: axes.map((a) => a.out) }];
  },
  interpret: (ctx) => padInterpret(ctx, ints(ctx.node.attrs.pads), ctx.node.attrs.mode as Mode),
  emit: (ctx) => padEmit(ctx, ints(ctx.node.attrs.pads), ctx.node.attrs.mode as Mode),
  cost: constantCost,
};

/** Tile's repeats as wrap-mode pads: nothing before, (r - 1) * dim after. */
const tilePads = (shape: readonly number[], repeats: readonly number[]): number[] => [...shape.map(() => 0), ...shape.map((d, a) => (repeats[a]! - 1) * d)];

export const Tile: OpDef = {
  op: 'Tile',
  summary: 'repeat the tensor repeats[a] times along each axis a',
  inputs: { names: ['input'], min: 1 },
  outputs: { names: ['output'], min: 1 },
  attrs: { repeats: { kind: 'ints', doc: 'repetitions per axis (>= 1)' } },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ANY, ['input'])) return [];
    const reps = ints(ctx.node.attrs.repeats);
    if (reps.length !== x.shape.length || reps.some((r) => !(r >= 1))) {
      ctx.error(`repeats [${reps.join(', ')}] must give a repetition >= 1 for each of the ${x.shape.length} axes of "${x.name}"`);
      return [];
    }
    return [{ dtype: x.dtype, shape: x.shape.map((d, a) => d * reps[a]!), range: x.range }];
  },
  interpret: (ctx) => padInterpret(ctx, tilePads(inTensor(ctx, 0).shape, ints(ctx.node.attrs.repeats)), 'wrap'),
  emit: (ctx) => padEmit(ctx, tilePads(ctx.input(0).shape, ints(ctx.node.attrs.repeats)), 'wrap'),
  cost: constantCost,
};
