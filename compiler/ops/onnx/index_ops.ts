// ONNX ops that scan, select or scatter along indices: CumSum, TopK, ScatterND (float32 and the
// integers; runtime-c/ref/tn_index.c). The axis of CumSum and the k of TopK are attributes (the
// importer reads ONNX's constant inputs). Integer arithmetic wraps like Add's; float32 adds and
// multiplies one rounding at a time, in the order below (docs/numerics.md, "CumSum, TopK, ScatterND").

import { elementCount, shapeStr, type DType } from '../../ir.ts';
import { add, maxf, minf, mul } from '../../numerics/f32.ts';
import { attrInt, normalizeAxis, type OpDef } from '../op.ts';
import { axisView } from '../softmax.ts';
import { alloc, checkDtype, checkSameDtype, constantCost, count, elemAt, inTensor, NUMERIC, SUFFIX } from './common.ts';

type V = number | bigint;

/** a + b or a * b in `dtype`: float32 rounded, int64 wrapped; int8/uint8/int32 wrap when stored. */
function arith(op: 'add' | 'mul' | 'max' | 'min', dtype: DType): (a: V, b: V) => V {
  if (dtype === 'float32') return { add, mul, max: maxf, min: minf }[op] as (a: V, b: V) => V;
  if (dtype === 'int64')
    return {
      add: (a: V, b: V) => BigInt.asIntN(64, (a as bigint) + (b as bigint)),
      mul: (a: V, b: V) => BigInt.asIntN(64, (a as bigint) * (b as bigint)),
      max: (a: V, b: V) => (b > a ? b : a),
      min: (a: V, b: V) => (b < a ? b : a),
    }[op];
  return {
    add: (a: V, b: V) => ((a as number) + (b as number)) | 0,
    mul: (a: V, b: V) => Math.imul(a as number, b as number),
    max: (a: V, b: V) => (b > a ? b : a),
    min: (a: V, b: V) => (b < a ? b : a),
  }[op];
}

/** Store v into an element of `dtype` (int8/uint8/int32 wrap as the typed array does). */
const zero = (dtype: DType): V => (dtype === 'int64' ? 0n : 0);

// ---- CumSum ---------------------------------------------------------------------------------------

export const CumSum: OpDef = {
  op: 'CumSum',
  summary: 'running sum along an axis (from 0, in order; exclusive: before the element; reverse: from the end)',
  inputs: { names: ['x'], min: 1 },
  outputs: { names: ['y'], min: 1 },
  attrs: {
    axis: { kind: 'int', doc: 'the axis to sum along (negative counts from the end)' },
    exclusive: { kind: 'int', default: 0, doc: '1: each output excludes its own element' },
    reverse: { kind: 'int', default: 0, doc: '1: sum from the end of the axis' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, NUMERIC, ['x'])) return [];
    if (normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length) === undefined) {
      ctx.error(`axis ${attrInt(ctx.node, 'axis')} is out of range for rank ${x.shape.length}`);
      return [];
    }
    return [{ dtype: x.dtype, shape: [...x.shape] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const xv = ctx.read(x.name);
    const { outer, dim, inner } = axisView(x.shape, normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length)!);
    const excl = attrInt(ctx.node, 'exclusive') !== 0;
    const rev = attrInt(ctx.node, 'reverse') !== 0;
    const plus = arith('add', x.dtype);
    const y = alloc(x.dtype, xv.length) as unknown as V[];
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < inner; j++) {
        let acc = zero(x.dtype);
        for (let t = 0; t < dim; t++) {
          const i = rev ? dim - 1 - t : t;
          const at = (o * dim + i) * inner + j;
          const v = elemAt(xv, at, x.name);
          if (excl) {
            y[at] = acc;
            acc = plus(acc, v);
          } else {
            acc = plus(acc, v);
            y[at] = acc;
          }
        }
      }
    ctx.write(ctx.node.outputs[0]!, y as never);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const { outer, dim, inner } = axisView(x.shape, normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length)!);
    const fn = `tn_cumsum_${SUFFIX[x.dtype]}`;
    return {
      kernel: fn,
      runtime: ['ref/tn_index.c', 'ref/tn_math.c'],
      body: [
        `${fn}(${ctx.in(0)}, ${ctx.out(0)}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner}, /* exclusive */ ${attrInt(ctx.node, 'exclusive') ? 1 : 0}, /* reverse */ ${attrInt(ctx.node, 'reverse') ? 1 : 0});`,
      ],
    };
  },
  cost: constantCost,
};

// ---- TopK -------------------------------------------------------------------------------------------

export const TopK: OpDef = {
  op: 'TopK',
  summary: 'the k largest (or smallest) values along an axis and their int64 indices, best first; ties: the lower index first',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Values', 'Indices'], min: 1 },
  attrs: {
    k: { kind: 'int', doc: 'how many (1 to the axis size)' },
    axis: { kind: 'int', default: -1, doc: 'the axis (negative counts from the end)' },
    largest: { kind: 'int', default: 1, doc: '1: largest first; 0: smallest first' },
    sorted: { kind: 'int', default: 1, doc: 'results are always sorted (ONNX leaves the order open for 0)' },
  },
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, NUMERIC, ['X'])) return [];
    const axis = normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length);
    const k = attrInt(ctx.node, 'k');
    if (axis === undefined) {
      ctx.error(`axis ${attrInt(ctx.node, 'axis')} is out of range for rank ${x.shape.length}`);
      return [];
    }
    if (!(k >= 1 && k <= x.shape[axis]!)) {
      ctx.error(`k = ${k} must be from 1 to the size ${x.shape[axis]} of axis ${axis}`);
      return [];
    }
    const shape = x.shape.map((d, a) => (a === axis ? k : d));
    return [
      { dtype: x.dtype, shape },
      { dtype: 'int64', shape, range: [0, x.shape[axis]! - 1] },
    ];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const xv = ctx.read(x.name);
    const { outer, dim, inner } = axisView(x.shape, normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length)!);
    const k = attrInt(ctx.node, 'k');
    const largest = attrInt(ctx.node, 'largest') !== 0;
    const better = (v: V, w: V) => (largest ? v > w : v < w);
    const vals = alloc(x.dtype, outer * k * inner) as unknown as V[];
    const idxs = new BigInt64Array(outer * k * inner);
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < inner; j++) {
        const at = (t: number) => (o * k + t) * inner + j;
        let n = 0;
        for (let i = 0; i < dim; i++) {
          const v = elemAt(xv, (o * dim + i) * inner + j, x.name);
          let pos = n;
          for (let t = 0; t < n; t++)
            if (better(v, vals[at(t)]!)) {
              pos = t;
              break;
            }
          if (pos >= k) continue;
          for (let t = Math.min(n, k - 1); t > pos; t--) {
            vals[at(t)] = vals[at(t - 1)]!;
            idxs[at(t)] = idxs[at(t - 1)]!;
          }
          vals[at(pos)] = v;
          idxs[at(pos)] = BigInt(i);
          if (n < k) n++;
        }
      }
    ctx.write(ctx.node.outputs[0]!, vals as never);
    if (ctx.node.outputs[1]) ctx.write(ctx.node.outputs[1], idxs);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const { outer, dim, inner } = axisView(x.shape, normalizeAxis(attrInt(ctx.node, 'axis'), x.shape.length)!);
    const fn = `tn_topk_${SUFFIX[x.dtype]}`;
    const indices = ctx.node.outputs[1] ? ctx.out(1) : 'NULL';
    return {
      kernel: fn,
      runtime: ['ref/tn_index.c', 'ref/tn_math.c'],
      body: [
        `${fn}(${ctx.in(0)}, ${ctx.out(0)}, ${indices}, /* outer */ ${outer}, /* dim */ ${dim}, /* inner */ ${inner}, /* k */ ${attrInt(ctx.node, 'k')}, /* largest */ ${attrInt(ctx.node, 'largest') ? 1 : 0});`,
      ],
    };
  },
  cost: constantCost,
};

// ---- ScatterND --------------------------------------------------------------------------------------

const REDUCTIONS = ['none', 'add', 'mul', 'max', 'min'] as const;

export const ScatterND: OpDef = {
  op: 'ScatterND',
  summary: 'a copy of data with the slices that indices name replaced by (or combined with) updates, in index order',
  inputs: { names: ['data', 'indices', 'updates'], min: 3 },
  outputs: { names: ['output'], min: 1 },
  attrs: { reduction: { kind: 'string', default: 'none', oneOf: REDUCTIONS, doc: "'none' (replace), 'add', 'mul', 'max' or 'min'" } },
  infer(ctx) {
    const [d, ix, u] = ctx.inputs;
    const names = ['data', 'indices', 'updates'];
    if (!d || !ix || !u || !checkDtype(ctx, 0, NUMERIC, names) || !checkSameDtype(ctx, [0, 2], names) || !checkDtype(ctx, 1, ['int64', 'int32'], names))
      return [];
    const q = ix.shape[ix.shape.length - 1];
    if (ix.shape.length < 1 || q === undefined || q < 1 || q > d.shape.length) {
      ctx.error(`the last dimension of indices "${ix.name}" ${shapeStr(ix.shape)} must be from 1 to the rank ${d.shape.length} of data`);
      return [];
    }
    const want = [...ix.shape.slice(0, -1), ...d.shape.slice(q)];
    if (shapeStr(u.shape) !== shapeStr(want)) {
      ctx.error(`updates "${u.name}" is ${shapeStr(u.shape)}; indices ${shapeStr(ix.shape)} into data ${shapeStr(d.shape)} need ${shapeStr(want)}`);
      return [];
    }
    return [{ dtype: d.dtype, shape: [...d.shape] }];
  },
  interpret(ctx) {
    const d = inTensor(ctx, 0);
    const ix = inTensor(ctx, 1);
    const u = inTensor(ctx, 2);
    const y = ctx.read(d.name).slice() as unknown as V[];
    const iv = ctx.read(ix.name);
    const uv = ctx.read(u.name);
    const q = ix.shape[ix.shape.length - 1]!;
    const slice = elementCount(d.shape.slice(q));
    const tuples = elementCount(ix.shape.slice(0, -1));
    const red = ctx.node.attrs.reduction as (typeof REDUCTIONS)[number];
    const f = red === 'none' ? undefined : arith(red, d.dtype);
    for (let t = 0; t < tuples; t++) {
      let base = 0;
      let ok = true;
      for (let a = 0; a < q; a++) {
        let c = Number(elemAt(iv, t * q + a, ix.name));
        if (c < 0) c += d.shape[a]!;
        if (c < 0 || c >= d.shape[a]!) ok = false; // out of range: skipped (the C does the same)
        base = base * d.shape[a]! + c;
      }
      if (!ok) continue;
      for (let e = 0; e < slice; e++) {
        const v = elemAt(uv, t * slice + e, u.name);
        y[base * slice + e] = f ? f(y[base * slice + e]!, v) : v;
      }
    }
    ctx.write(ctx.node.outputs[0]!, y as never);
  },
  emit(ctx) {
    const d = ctx.input(0);
    const ix = ctx.input(1);
    const q = ix.shape[ix.shape.length - 1]!;
    const fn = `tn_scatter_nd_${SUFFIX[d.dtype]}`;
    return {
      kernel: fn,
      runtime: ['ref/tn_index.c', 'ref/tn_math.c'],
      body: [
        `${fn}(${ctx.in(0)}, ${ctx.in(1)}, /* indices int64 */ ${ix.dtype === 'int64' ? 1 : 0}, ${ctx.in(2)}, ${ctx.out(0)}, /* elements */ ${count(d)}, /* tuples */ ${elementCount(ix.shape.slice(0, -1))}, /* q */ ${q}, ${ctx.intTable('dims', d.shape.slice(0, q))}, /* slice */ ${elementCount(d.shape.slice(q))}, /* reduction */ ${REDUCTIONS.indexOf(ctx.node.attrs.reduction as 'none')} /* ${ctx.node.attrs.reduction} */);`,
      ],
    };
  },
  cost: constantCost,
};
