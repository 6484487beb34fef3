// Reductions and normalisations: ReduceMean, ReduceSum, ReduceMax, ReduceMin (the last three also on
// integers), LayerNormalization, BatchNormalization
// (inference mode) and LogSoftmax. Sums run in index order from 0 in float32; every division is one
// IEEE division (tn_divf in C). The order of operations is in docs/numerics.md and repeated here.

import { elementCount, shapeStr, type DType } from '../../ir.ts';
import { hexFloat } from '../../emit/cliterals.ts';
import { add, div, expf, logf, maxf, minf, mul, sqrtf, sub } from '../../numerics/f32.ts';
import { at, type OpDef } from '../op.ts';
import { axisView } from '../softmax.ts';
import { broadcastShapes, broadcastStrides } from '../broadcast.ts';
import { alloc, attrF32, checkDtype, elemAt, elemBytes, inTensor, normAxis, constantCost, ints, NUMERIC, SUFFIX } from './common.ts';
import { stridesOf, unravel } from './shape.ts';
import { constantBytes } from './matmul.ts';

const noCost = constantCost;

// ---- ReduceMean, ReduceSum, ReduceMax, ReduceMin --------------------------------------------------------------------------------

/** The reduced axes (sorted), or undefined for "no reduction" (empty axes with noop_with_empty_axes). */
function reduceAxes(attrs: Record<string, unknown>, rank: number): number[] | undefined | string {
  const given = ints(attrs.axes);
  if (!given.length) return attrs.noop_with_empty_axes === 1 ? undefined : Array.from({ length: rank }, (_, i) => i);
  const axes = new Set<number>();
  for (const a0 of given) {
    const a = normAxis(a0, rank);
    if (a === undefined) return `axis ${a0} is out of range for rank ${rank}`;
    if (axes.has(a)) return `axis ${a0} is given twice`;
    axes.add(a);
  }
  return [...axes].sort((a, b) => a - b);
}

type V = number | bigint;

/**
 * One reduction: `first` is the accumulator after the first element (index order), `step` adds one
 * more, `finish` gives the output from the accumulator and the count. ReduceMean and ReduceSum start
 * from 0 (so a first element of -0 gives +0, as ReduceMean always has); ReduceMax/ReduceMin start
 * from the first element.
 */
interface Reduction {
  op: string;
  summary: string;
  dtypes: readonly DType[];
  kernel: string;
  reduce(values: V[], dtype: DType): V;
}

/** Sum in index order from 0: float32 one rounding per addition; integers wrap like Add's. */
function sumInOrder(values: V[], dtype: DType): V {
  if (dtype === 'float32') {
    let s = 0;
    for (const v of values) s = add(s, v as number);
    return s;
  }
  if (dtype === 'int64') {
    let s = 0n;
    for (const v of values) s = BigInt.asIntN(64, s + (v as bigint));
    return s;
  }
  // int8, uint8, int32: the partial sum wraps at the type's width after every addition (the C
  // kernels add in the unsigned type and store), which for a sum equals wrapping once at the end.
  let s = 0;
  for (const v of values) s = (s + (v as number)) | 0;
  return s;
}

function extremum(values: V[], dtype: DType, op: 'Max' | 'Min'): V {
  let m = values[0]!;
  const f = dtype === 'float32' ? (op === 'Max' ? maxf : minf) : undefined;
  for (let i = 1; i < values.length; i++) {
    const v = values[i]!;
    m = f ? f(m as number, v as number) : (op === 'Max' ? v > m : v < m) ? v : m;
  }
  return m;
}

/** Product in index order from the first element: float32 one rounding per multiplication; integers wrap. */
function productInOrder(values: V[], dtype: DType): V {
  if (dtype === 'int64') return values.reduce((p, v) => BigInt.asIntN(64, (p as bigint) * (v as bigint)));
  if (dtype === 'float32') return values.reduce((p, v) => mul(p as number, v as number));
  return values.reduce((p, v) => Math.imul(p as number, v as number)); // the store wraps int8/uint8
}

const REDUCTIONS: Record<'ReduceMean' | 'ReduceSum' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd', Reduction> = {
  ReduceMean: {
    op: 'ReduceMean',
    summary: 'mean over axes: float32 sum in index order, divided by the count',
    dtypes: ['float32'],
    kernel: 'tn_reduce_mean',
    reduce: (values, dtype) => div(sumInOrder(values, dtype) as number, values.length),
  },
  ReduceSum: {
    op: 'ReduceSum',
    summary: 'sum over axes, in index order from 0 (float32 rounded per addition; integers wrap)',
    dtypes: NUMERIC,
    kernel: 'tn_reduce_sum',
    reduce: sumInOrder,
  },
  ReduceMax: {
    op: 'ReduceMax',
    summary: 'maximum over axes (float32: NaN propagates, max(-0, +0) = +0)',
    dtypes: NUMERIC,
    kernel: 'tn_reduce_max',
    reduce: (values, dtype) => extremum(values, dtype, 'Max'),
  },
  ReduceMin: {
    op: 'ReduceMin',
    summary: 'minimum over axes (float32: NaN propagates, min(-0, +0) = -0)',
    dtypes: NUMERIC,
    kernel: 'tn_reduce_min',
    reduce: (values, dtype) => extremum(values, dtype, 'Min'),
  },
  ReduceProd: {
    op: 'ReduceProd',
    summary: 'product over axes, in index order from the first element (float32 rounded per multiplication; integers wrap)',
    dtypes: NUMERIC,
    kernel: 'tn_reduce_prod',
    reduce: productInOrder,
  },
};

function reduceOp(r: Reduction): OpDef {
  return {
    op: r.op,
    summary: r.summary,
    inputs: { names: ['data'], min: 1 },
    outputs: { names: ['reduced'], min: 1 },
    attrs: {
      axes: { kind: 'ints', default: [], doc: 'axes to reduce (empty: all, unless noop_with_empty_axes)' },
      keepdims: { kind: 'int', default: 1, doc: '1: keep reduced axes with size 1' },
      noop_with_empty_axes: { kind: 'int', default: 0, doc: '1: empty axes means no reduction (a copy)' },
    },
    infer(ctx) {
      const x = ctx.inputs[0];
      if (!x || !checkDtype(ctx, 0, r.dtypes, ['data'])) return [];
      const axes = reduceAxes(ctx.node.attrs, x.shape.length);
      if (typeof axes === 'string') {
        ctx.error(axes);
        return [];
      }
      if (!axes) return [{ dtype: x.dtype, shape: [...x.shape] }];
      const keep = ctx.node.attrs.keepdims !== 0;
      return [{ dtype: x.dtype, shape: keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i)) }];
    },
    interpret(ctx) {
      const x = inTensor(ctx, 0);
      const xv = ctx.read(x.name);
      const axes = reduceAxes(ctx.node.attrs, x.shape.length) as number[] | undefined;
      if (!axes) {
        ctx.write(ctx.node.outputs[0]!, xv.slice());
        return;
      }
      const keepAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const keepShape = keepAxes.map((i) => x.shape[i]!);
      const redShape = axes.map((i) => x.shape[i]!);
      const xs = stridesOf(x.shape);
      const n = elementCount(redShape);
      const y = alloc(x.dtype, elementCount(keepShape)) as unknown as V[];
      for (let o = 0; o < y.length; o++) {
        const ko = unravel(o, keepShape);
        const base = keepAxes.reduce((acc, a, k) => acc + ko[k]! * xs[a]!, 0);
        const values: V[] = [];
        for (let i = 0; i < n; i++) {
          const ri = unravel(i, redShape);
          values.push(elemAt(xv, base + axes.reduce((acc, a, k) => acc + ri[k]! * xs[a]!, 0), x.name));
        }
        y[o] = r.reduce(values, x.dtype);
      }
      ctx.write(ctx.node.outputs[0]!, y as never);
    },
    emit(ctx) {
      const x = ctx.input(0);
      const axes = reduceAxes(ctx.node.attrs, x.shape.length) as number[] | undefined;
      if (!axes)
        return {
          kernel: 'tn_copy_bytes',
          runtime: ['ref/tn_elementwise.c'],
          body: [`tn_copy_bytes(${ctx.out(0)}, ${ctx.in(0)}, ${elementCount(x.shape) * elemBytes(x.dtype)}); /* no axes: no reduction */`],
        };
      const xs = stridesOf(x.shape);
      const keepAxes = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const t = (stem: string, v: number[]) => ctx.intTable(stem, v);
      const fn = `${r.kernel}_${SUFFIX[x.dtype]}`;
      return {
        kernel: fn,
        runtime: ['ref/tn_norm.c', 'ref/tn_math.c'],
        body: [
          `${fn}(${ctx.in(0)}, ${ctx.out(0)}, /* kept */ ${keepAxes.length}, ${t(
            'keep_shape',
            keepAxes.map((a) => x.shape[a]!),
          )}, ${t(
            'keep_strides',
            keepAxes.map((a) => xs[a]!),
          )},`,
          `${' '.repeat(fn.length + 1)}/* reduced */ ${axes.length}, ${t(
            'red_shape',
            axes.map((a) => x.shape[a]!),
          )}, ${t(
            'red_strides',
            axes.map((a) => xs[a]!),
          )}, /* count */ ${elementCount(axes.map((a) => x.shape[a]!))});`,
        ],
      };
    },
    cost: noCost,
  };
}

export const ReduceMean = reduceOp(REDUCTIONS.ReduceMean);
export const ReduceSum = reduceOp(REDUCTIONS.ReduceSum);
export const ReduceMax = reduceOp(REDUCTIONS.ReduceMax);
export const ReduceMin = reduceOp(REDUCTIONS.ReduceMin);
export const ReduceProd = reduceOp(REDUCTIONS.ReduceProd);

// ---- LayerNormalization -----------------------------------------------------------------------------

export const LayerNormalization: OpDef = {
  op: 'LayerNormalization',
  summary: 'normalise over the axes from `axis` on: (x - mean) / sqrt(var + epsilon) * Scale + B',
  inputs: { names: ['X', 'Scale', 'B'], min: 2 },
  outputs: { names: ['Y', 'Mean', 'InvStdDev'], min: 1 },
  attrs: {
    axis: { kind: 'int', default: -1, doc: 'the first normalised axis' },
    epsilon: { kind: 'float', default: 1e-5, doc: 'added to the variance' },
    stash_type: { kind: 'int', default: 1, doc: 'ONNX: the type of Mean/InvStdDev; tritc computes in float32 always' },
  },
  infer(ctx) {
    const [x, scale, b] = ctx.inputs;
    if (!x || !scale || ![0, 1, 2].every((i) => checkDtype(ctx, i, ['float32'], ['X', 'Scale', 'B']))) return [];
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length);
    if (axis === undefined) {
      ctx.error(`axis ${ctx.node.attrs.axis} is out of range for rank ${x.shape.length}`);
      return [];
    }
    const norm = x.shape.slice(axis);
    for (const t of [scale, b]) {
      if (!t) continue;
      const out = broadcastShapes(t.shape, norm);
      if (!out || shapeStr(out) !== shapeStr(norm)) {
        ctx.error(`"${t.name}" ${shapeStr(t.shape)} does not broadcast to the normalised shape ${shapeStr(norm)}`);
        return [];
      }
    }
    const stat = x.shape.map((d, i) => (i < axis ? d : 1));
    return [
      { dtype: 'float32', shape: [...x.shape] },
      { dtype: 'float32', shape: stat },
      { dtype: 'float32', shape: [...stat] },
    ];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const scale = inTensor(ctx, 1);
    const b = ctx.node.inputs[2] ? inTensor(ctx, 2) : undefined;
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length)!;
    const norm = x.shape.slice(axis);
    const cols = elementCount(norm);
    const rows = elementCount(x.shape.slice(0, axis));
    const eps = attrF32(ctx.node, 'epsilon');
    const xv = ctx.readNum(x.name);
    const sv = ctx.readNum(scale.name);
    const bv = b ? ctx.readNum(b.name) : undefined;
    const ss = broadcastStrides(scale.shape, norm);
    const bs = b ? broadcastStrides(b.shape, norm) : [];
    const y = new Float32Array(xv.length);
    const means = new Float32Array(rows);
    const invs = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < cols; i++) s = add(s, at(xv, r * cols + i, x.name));
      const mean = div(s, cols);
      let v = 0;
      for (let i = 0; i < cols; i++) {
        const d = sub(at(xv, r * cols + i, x.name), mean);
        v = add(v, mul(d, d));
      }
      const inv = div(1, sqrtf(add(div(v, cols), eps)));
      for (let i = 0; i < cols; i++) {
        const idx = unravel(i, norm);
        const off = (st: number[]) => idx.reduce((acc, k, d) => acc + k * st[d]!, 0);
        let t = mul(mul(sub(at(xv, r * cols + i, x.name), mean), inv), at(sv, off(ss), scale.name));
        if (bv) t = add(t, at(bv, off(bs), b!.name));
        y[r * cols + i] = t;
      }
      means[r] = mean;
      invs[r] = inv;
    }
    ctx.write(ctx.node.outputs[0]!, y);
    if (ctx.node.outputs[1]) ctx.write(ctx.node.outputs[1], means);
    if (ctx.node.outputs[2]) ctx.write(ctx.node.outputs[2], invs);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const axis = normAxis(ctx.node.attrs.axis as number, x.shape.length)!;
    const norm = x.shape.slice(axis);
    const hasB = ctx.hasInput(2);
    const out = (j: number) => (ctx.node.outputs[j] ? ctx.out(j) : 'NULL');
    return {
      kernel: 'tn_layer_norm_f32',
      runtime: ['ref/tn_norm.c', 'ref/tn_math.c'],
      body: [
        `tn_layer_norm_f32(${ctx.in(0)}, ${ctx.in(1)}, ${hasB ? ctx.in(2) : 'NULL'}, ${ctx.out(0)}, /* Mean */ ${out(1)}, /* InvStdDev */ ${out(2)},`,
        `                  /* rows */ ${elementCount(x.shape.slice(0, axis))}, /* cols */ ${elementCount(norm)}, /* rank */ ${norm.length}, ${ctx.intTable('norm_shape', norm)},`,
        `                  ${ctx.intTable('scale_strides', broadcastStrides(ctx.input(1).shape, norm))}, ${ctx.intTable('bias_strides', hasB ? broadcastStrides(ctx.input(2).shape, norm) : [])}, /* epsilon */ ${hexFloat(attrF32(ctx.node, 'epsilon'))});`,
      ],
    };
  },
  cost(g, node) {
    return { macs: 0, weightBytes: constantBytes(g, node) };
  },
};

// ---- BatchNormalization -----------------------------------------------------------------------------

export const BatchNormalization: OpDef = {
  op: 'BatchNormalization',
  summary: 'inference mode: ((x - mean[c]) / sqrt(var[c] + epsilon)) * scale[c] + B[c], channels on axis 1',
  inputs: { names: ['X', 'scale', 'B', 'input_mean', 'input_var'], min: 5 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    epsilon: { kind: 'float', default: 1e-5, doc: 'added to the variance' },
    momentum: { kind: 'float', default: 0.9, doc: 'training only; ignored' },
    training_mode: { kind: 'int', default: 0, doc: 'must be 0: tritc runs inference' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || ![0, 1, 2, 3, 4].every((i) => checkDtype(ctx, i, ['float32'], ['X', 'scale', 'B', 'input_mean', 'input_var']))) return [];
    if (ctx.node.attrs.training_mode !== 0) {
      ctx.error('training_mode = 1 is not supported: tritc runs inference (training mode)', 'unsupported');
      return [];
    }
    if (x.shape.length < 2) {
      ctx.error(`X "${x.name}" ${shapeStr(x.shape)} must have a batch and a channel axis`);
      return [];
    }
    const c = x.shape[1]!;
    for (const t of ctx.inputs.slice(1)) {
      if (t && elementCount(t.shape) !== c) {
        ctx.error(`"${t.name}" ${shapeStr(t.shape)} must hold one value per channel (${c})`);
        return [];
      }
    }
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const [sv, bv, mv, vv] = [1, 2, 3, 4].map((i) => ctx.readNum(ctx.node.inputs[i]!));
    const eps = attrF32(ctx.node, 'epsilon');
    const xv = ctx.readNum(x.name);
    const { outer, dim, inner } = axisView(x.shape, 1);
    const y = new Float32Array(xv.length);
    for (let c = 0; c < dim; c++) {
      const den = sqrtf(add(at(vv!, c, 'var'), eps));
      for (let b = 0; b < outer; b++) {
        for (let i = 0; i < inner; i++) {
          const k = (b * dim + c) * inner + i;
          y[k] = add(mul(div(sub(at(xv, k, x.name), at(mv!, c, 'mean')), den), at(sv!, c, 'scale')), at(bv!, c, 'B'));
        }
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const { outer, dim, inner } = axisView(x.shape, 1);
    return {
      kernel: 'tn_batch_norm_f32',
      runtime: ['ref/tn_norm.c', 'ref/tn_math.c'],
      body: [
        `tn_batch_norm_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.in(2)}, ${ctx.in(3)}, ${ctx.in(4)}, ${ctx.out(0)}, /* batches */ ${outer}, /* channels */ ${dim}, /* inner */ ${inner}, /* epsilon */ ${hexFloat(attrF32(ctx.node, 'epsilon'))});`,
      ],
    };
  },
  cost(g, node) {
    return { macs: 0, weightBytes: constantBytes(g, node) };
  },
};

// ---- LogSoftmax -------------------------------------------------------------------------------------

export const LogSoftmax: OpDef = {
  op: 'LogSoftmax',
  summary: 'log of softmax along one axis: (x - max) - log(sum exp(x - max))',
  inputs: { names: ['input'], min: 1 },
  outputs: { names: ['output'], min: 1 },
  attrs: { axis: { kind: 'int', default: -1, doc: 'the axis to normalise (negative counts from the end)' } },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ['float32'], ['input'])) return [];
    if (normAxis(ctx.node.attrs.axis as number, x.shape.length) === undefined) {
      ctx.error(`axis ${ctx.node.attrs.axis} is out of range for rank ${x.shape.length}`);
      return [];
    }
    return [{ dtype: 'float32', shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const { outer, dim, inner } = axisView(x.shape, normAxis(ctx.node.attrs.axis as number, x.shape.length)!);
    const xv = ctx.readNum(x.name);
    const y = new Float32Array(xv.length);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * dim * inner + j;
        let m = at(xv, base, x.name);
        for (let i = 1; i < dim; i++) if (xv[base + i * inner]! > m) m = xv[base + i * inner]!;
        let s = 0;
        for (let i = 0; i < dim; i++) s = add(s, expf(sub(at(xv, base + i * inner, x.name), m)));
        const l = logf(s);
        for (let i = 0; i < dim; i++) y[base + i * inner] = sub(sub(at(xv, base + i * inner, x.name), m), l);
      }
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const { outer, dim, inner } = axisView(x.shape, normAxis(ctx.node.attrs.axis as number, x.shape.length)!);
    return {
      kernel: 'tn_log_softmax_f32',
      runtime: ['ref/tn_norm.c', 'ref/tn_math.c'],
      body: [`tn_log_softmax_f32(${ctx.in(0)}, ${ctx.out(0)}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner});`],
    };
  },
  cost: noCost,
};
