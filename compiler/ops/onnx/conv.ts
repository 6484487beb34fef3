// Conv (float32; groups, depthwise included), MaxPool (float32, int8, uint8), AveragePool and
// GlobalAveragePool (float32), over 1, 2 or 3 spatial axes, with ONNX's pads, auto_pad (SAME_UPPER,
// SAME_LOWER, VALID), strides, dilations and, for pools, ceil_mode and count_include_pad.
//
// Order of float operations (docs/numerics.md, "Conv and pooling"): Conv sums x * w over the group's
// input channels (outer) and the window in row-major order, skipping padding, from 0; then adds the
// bias. AveragePool sums the window's in-bounds elements in row-major order and divides once.

import { elementCount, shapeStr, type DType, type Graph, type Node, type Tensor } from '../../ir.ts';
import type { EmitNodeContext } from '../../emit/context.ts';
import { add, div, mul } from '../../numerics/f32.ts';
import { at, type AttrSpec, type InferContext, type OpDef } from '../op.ts';
import { checkDtype, inTensor, SUFFIX, ints } from './common.ts';
import { constantBytes } from './matmul.ts';
import { unravel } from './shape.ts';

export interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padBegin: number[];
  padEnd: number[];
  out: number[];
}

const WINDOW_ATTRS: Record<string, AttrSpec> = {
  auto_pad: { kind: 'string', default: 'NOTSET', oneOf: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'], doc: 'automatic padding (NOTSET: use pads)' },
  dilations: { kind: 'ints', default: [], doc: 'dilation per spatial axis (default 1)' },
  kernel_shape: { kind: 'ints', default: [], doc: 'window size per spatial axis (Conv: default from W)' },
  pads: { kind: 'ints', default: [], doc: '[x1_begin, x2_begin, ..., x1_end, x2_end, ...] (default 0)' },
  strides: { kind: 'ints', default: [], doc: 'stride per spatial axis (default 1)' },
};

/** Output size and padding of a sliding window (ONNX's rules), or a message. */
export function windowGeometry(input: readonly number[], kernel: readonly number[], attrs: Record<string, unknown>, ceilMode: boolean): Window | string {
  const r = input.length;
  const strides = ints(attrs.strides).length ? ints(attrs.strides) : input.map(() => 1);
  const dilations = ints(attrs.dilations).length ? ints(attrs.dilations) : input.map(() => 1);
  const pads = ints(attrs.pads).length ? ints(attrs.pads) : input.map(() => 0).concat(input.map(() => 0));
  if (kernel.length !== r || strides.length !== r || dilations.length !== r || pads.length !== 2 * r)
    return `kernel_shape ${shapeStr(kernel)}, strides ${shapeStr(strides)}, dilations ${shapeStr(dilations)} and pads ${shapeStr(pads)} do not fit ${r} spatial axes`;
  if ([...kernel, ...strides, ...dilations].some((v) => v < 1) || pads.some((p) => p < 0))
    return 'kernel_shape, strides and dilations must be positive and pads non-negative';
  const autoPad = (attrs.auto_pad as string) ?? 'NOTSET';
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const span = (kernel[i]! - 1) * dilations[i]! + 1; // the window's extent
    let o: number;
    let pb = pads[i]!;
    let pe = pads[i + r]!;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      o = Math.ceil(input[i]! / strides[i]!);
      const total = Math.max(0, (o - 1) * strides[i]! + span - input[i]!);
      pb = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      pe = total - pb;
    } else {
      if (autoPad === 'VALID') pb = pe = 0;
      const room = input[i]! + pb + pe - span;
      if (room < 0) return `the window (${span} wide with dilation) is larger than the padded input (${input[i]! + pb + pe}) on spatial axis ${i}`;
      o = (ceilMode ? Math.ceil(room / strides[i]!) : Math.floor(room / strides[i]!)) + 1;
      if (ceilMode && (o - 1) * strides[i]! >= input[i]! + pb) o -= 1; // a window may not start in the end padding
    }
    padBegin.push(pb);
    padEnd.push(pe);
    out.push(o);
  }
  return { kernel: [...kernel], strides, dilations, padBegin, padEnd, out };
}

/** The 21 values of tn_conv.c's geometry table (spatial axes padded to depth, height, width). */
export function geoValues(input: readonly number[], w: Window): number[] {
  const three = (v: readonly number[], fill: number) => [...Array<number>(3 - v.length).fill(fill), ...v];
  return [
    ...three(input, 1),
    ...three(w.out, 1),
    ...three(w.kernel, 1),
    ...three(w.strides, 1),
    ...three(w.dilations, 1),
    ...three(w.padBegin, 0),
    ...three(w.padEnd, 0),
  ];
}

function geoTable(ctx: EmitNodeContext, input: readonly number[], w: Window): string {
  return ctx.intTable('geo', geoValues(input, w));
}

/** Input element offset within one plane for output index `o` and window index `k`, or -1 in padding. */
function windowOffset(input: readonly number[], w: Window, o: readonly number[], k: readonly number[]): { inside: boolean; inPad: boolean; offset: number } {
  let offset = 0;
  let inside = true;
  let inPad = true;
  for (let i = 0; i < input.length; i++) {
    const p = o[i]! * w.strides[i]! - w.padBegin[i]! + k[i]! * w.dilations[i]!;
    if (p < 0 || p >= input[i]!) inside = false;
    if (p < -w.padBegin[i]! || p >= input[i]! + w.padEnd[i]!) inPad = false;
    offset = offset * input[i]! + p;
  }
  return { inside, inPad, offset };
}

/** Common checks: rank >= 3 ([N, C, spatial...]) and at most 3 spatial axes. */
function checkSpatialRank(ctx: InferContext, x: Tensor): boolean {
  if (x.shape.length < 3 || x.shape.length > 5) {
    ctx.error(`"${x.name}" ${shapeStr(x.shape)} must be [N, C, D1 (, D2 (, D3))]: 1 to 3 spatial axes`, x.shape.length > 5 ? 'unsupported' : 'shape');
    return false;
  }
  return true;
}

// ---- Conv -------------------------------------------------------------------------------------------

export function convGeometry(x: Tensor, w: Tensor, attrs: Record<string, unknown>): Window | string {
  const kernel = w.shape.slice(2);
  const given = ints(attrs.kernel_shape);
  if (given.length && shapeStr(given) !== shapeStr(kernel)) return `kernel_shape ${shapeStr(given)} differs from W's spatial shape ${shapeStr(kernel)}`;
  return windowGeometry(x.shape.slice(2), kernel, attrs, false);
}

/** Shape checks shared with ConvInteger and QLinearConv: returns [N, M, out...] or reports. */
export function inferConv(ctx: InferContext, x: Tensor, w: Tensor, bias: Tensor | undefined): { shape: number[]; win: Window } | undefined {
  if (!checkSpatialRank(ctx, x)) return undefined;
  const group = (ctx.node.attrs.group as number) ?? 1;
  const [n, c] = x.shape as [number, number];
  const m = w.shape[0]!;
  if (w.shape.length !== x.shape.length) {
    ctx.error(`W "${w.name}" ${shapeStr(w.shape)} must have the rank of X "${x.name}" ${shapeStr(x.shape)}`);
    return undefined;
  }
  if (group < 1 || c % group !== 0 || m % group !== 0 || w.shape[1] !== c / group) {
    ctx.error(
      `group ${group} does not fit X "${x.name}" ${shapeStr(x.shape)} (C = ${c}) and W "${w.name}" ${shapeStr(w.shape)} (W must be [M, C / group, ...] with M divisible by group)`,
    );
    return undefined;
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== m)) {
    ctx.error(`bias "${bias.name}" ${shapeStr(bias.shape)} must be [${m}]`);
    return undefined;
  }
  const win = convGeometry(x, w, ctx.node.attrs);
  if (typeof win === 'string') {
    ctx.error(win);
    return undefined;
  }
  return { shape: [n, m, ...win.out], win };
}

/** Reference convolution loop shared by Conv, ConvInteger and QLinearConv: calls `term` per in-bounds element in order. */
export function convLoop(
  x: Tensor,
  w: Tensor,
  group: number,
  win: Window,
  visit: (outIndex: number, n: number, m: number) => { term(xi: number, wi: number): void; done(): void },
): void {
  const [n, c] = x.shape as [number, number];
  const m = w.shape[0]!;
  const input = x.shape.slice(2);
  const inSp = elementCount(input);
  const kSp = elementCount(win.kernel);
  const outSp = elementCount(win.out);
  const cg = c / group;
  const mg = m / group;
  for (let b = 0; b < n; b++) {
    for (let mm = 0; mm < m; mm++) {
      const c0 = Math.floor(mm / mg) * cg;
      for (let o = 0; o < outSp; o++) {
        const oi = unravel(o, win.out);
        const acc = visit((b * m + mm) * outSp + o, b, mm);
        for (let cc = 0; cc < cg; cc++) {
          for (let k = 0; k < kSp; k++) {
            const { inside, offset } = windowOffset(input, win, oi, unravel(k, win.kernel));
            if (inside) acc.term((b * c + c0 + cc) * inSp + offset, (mm * cg + cc) * kSp + k);
          }
        }
        acc.done();
      }
    }
  }
}

export const CONV_ATTRS: Record<string, AttrSpec> = {
  ...WINDOW_ATTRS,
  group: { kind: 'int', default: 1, doc: 'number of groups (C and M divisible by it; depthwise: group = C)' },
};

/**
 * Whether a depthwise window runs in place straight, with no scratch: tn_conv_f32 visits the outputs
 * of plane p in row-major order and writes output o of the plane at p * outPlane + o, after reading
 * its window; that write is safe when it lies below every input element a later output reads. For
 * plane 0 this is checked output by output (the later reads of plane 0, then plane 1 from inPlane
 * on); plane p only moves the writes up by p * outPlane and the reads by p * inPlane, which is no
 * less, so plane 0 decides. Typical strided windows qualify (3 x 3, stride 2, padding 1: output row i
 * lands in input row i / 2), as do unpadded windows; stride 1 with padding does not (output (0, 1)
 * is written where output (1, 0) still reads).
 */
export function depthwiseStreams(input: readonly number[], win: Window): boolean {
  const inPlane = elementCount(input);
  const outPlane = elementCount(win.out);
  if (outPlane > inPlane) return false;
  const kSp = elementCount(win.kernel);
  const minRead = new Float64Array(outPlane);
  for (let o = 0; o < outPlane; o++) {
    const oi = unravel(o, win.out);
    let m = Infinity;
    for (let k = 0; k < kSp; k++) {
      const { inside, offset } = windowOffset(input, win, oi, unravel(k, win.kernel));
      if (inside && offset < m) m = offset;
    }
    minRead[o] = m;
  }
  let later = inPlane; // the lowest input element read after output o: plane 1 starts at inPlane
  for (let o = outPlane - 1; o >= 0; o--) {
    if (o >= later) return false;
    later = Math.min(later, minRead[o]!);
  }
  return true;
}

/**
 * A depthwise Conv (group = C = M) whose output plane is no larger than its input plane may write its
 * output over its input (TinyEngine's in-place depthwise; docs/memory.md). When the window streams
 * (depthwiseStreams) the plain kernel does it as it is; otherwise it runs one plane at a time through
 * a plane of scratch (tn_conv_f32_depthwise): output plane p reads input plane p only, and its copy
 * into place covers input planes <= p only.
 */
function depthwiseInPlace(graph: Graph, node: Node): { outPlane: number; streams: boolean } | undefined {
  const x = graph.tensors.get(node.inputs[0]!);
  const w = graph.tensors.get(node.inputs[1]!);
  if (!x || !w || x.shape.length < 3) return undefined;
  const c = x.shape[1]!;
  if (node.attrs.group !== c || w.shape[0] !== c) return undefined;
  const win = convGeometry(x, w, node.attrs);
  if (typeof win === 'string') return undefined;
  const outPlane = elementCount(win.out);
  return outPlane <= elementCount(x.shape.slice(2)) ? { outPlane, streams: depthwiseStreams(x.shape.slice(2), win) } : undefined;
}

export const Conv: OpDef = {
  op: 'Conv',
  summary: 'float32 convolution over 1 to 3 spatial axes with groups, pads, auto_pad, strides, dilations',
  inputs: { names: ['X', 'W', 'B'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: CONV_ATTRS,
  infer(ctx) {
    const [x, w, b] = ctx.inputs;
    if (!x || !w || ![0, 1, 2].every((i) => checkDtype(ctx, i, ['float32'], ['X', 'W', 'B']))) return [];
    const r = inferConv(ctx, x, w, b);
    return r ? [{ dtype: 'float32', shape: r.shape }] : [];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const w = inTensor(ctx, 1);
    const b = ctx.node.inputs[2] ? inTensor(ctx, 2) : undefined;
    const win = convGeometry(x, w, ctx.node.attrs) as Window;
    const xv = ctx.readNum(x.name);
    const wv = ctx.readNum(w.name);
    const bv = b ? ctx.readNum(b.name) : undefined;
    const y = new Float32Array(x.shape[0]! * w.shape[0]! * elementCount(win.out));
    convLoop(x, w, ctx.node.attrs.group as number, win, (outIndex, _n, m) => {
      let acc = 0;
      return {
        term: (xi, wi) => (acc = add(acc, mul(at(xv, xi, x.name), at(wv, wi, w.name)))),
        done: () => (y[outIndex] = bv ? add(acc, at(bv, m, b!.name)) : acc),
      };
    });
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const w = ctx.input(1);
    const win = convGeometry(x, w, ctx.node.attrs) as Window;
    const dw = depthwiseInPlace(ctx.graph, ctx.node);
    if (dw && !dw.streams)
      return {
        kernel: 'tn_conv_f32_depthwise',
        runtime: ['ref/tn_conv.c', 'ref/tn_math.c'],
        body: [
          `tn_conv_f32_depthwise(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.hasInput(2) ? ctx.in(2) : 'NULL'}, ${ctx.out(0)}, /* N */ ${x.shape[0]}, /* C */ ${x.shape[1]}, ${geoTable(ctx, x.shape.slice(2), win)}, (float *)(void *)${ctx.scratch()}); /* may run in place */`,
        ],
      };
    return {
      kernel: 'tn_conv_f32',
      runtime: ['ref/tn_conv.c', 'ref/tn_math.c'],
      body: [
        ...(dw ? ['/* depthwise: may run in place with no scratch (each output is written below every input read after it; checked at compile time) */'] : []),
        `tn_conv_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.hasInput(2) ? ctx.in(2) : 'NULL'}, ${ctx.out(0)}, /* N */ ${x.shape[0]}, /* C */ ${x.shape[1]}, /* M */ ${w.shape[0]}, /* group */ ${ctx.node.attrs.group}, ${geoTable(ctx, x.shape.slice(2), win)});`,
      ],
    };
  },
  cost(g, node) {
    const y = g.tensors.get(node.outputs[0]!)!;
    const w = g.tensors.get(node.inputs[1]!)!;
    return { macs: elementCount(y.shape) * elementCount(w.shape.slice(1)), weightBytes: constantBytes(g, node) };
  },
  inPlace: [{ input: 0, output: 0, when: (g, node) => depthwiseInPlace(g, node) !== undefined }],
  scratch: (g, node) => {
    const dw = depthwiseInPlace(g, node);
    return dw && !dw.streams ? 4 * dw.outPlane : 0;
  },
};

// ---- pools ------------------------------------------------------------------------------------------

function poolGeometry(x: Tensor, attrs: Record<string, unknown>): Window | string {
  const kernel = ints(attrs.kernel_shape);
  if (!kernel.length) return 'kernel_shape is required';
  return windowGeometry(x.shape.slice(2), kernel, attrs, attrs.ceil_mode === 1);
}

/** A row-major offset within a plane of `dims` as the column-major one (the axes reversed), as ONNX's Indices with storage_order 1. */
function columnMajorOffset(offset: number, dims: readonly number[]): number {
  let r = offset;
  let out = 0;
  let stride = 1;
  const coords: number[] = [];
  for (let a = dims.length - 1; a >= 0; a--) {
    coords[a] = r % dims[a]!;
    r = Math.floor(r / dims[a]!);
  }
  for (let a = 0; a < dims.length; a++) {
    out += coords[a]! * stride;
    stride *= dims[a]!;
  }
  return out;
}

function poolOp(op: 'MaxPool' | 'AveragePool', dtypes: readonly DType[], extra: Record<string, AttrSpec>, summary: string): OpDef {
  return {
    op,
    summary,
    inputs: { names: ['X'], min: 1 },
    outputs: { names: op === 'MaxPool' ? ['Y', 'Indices'] : ['Y'], min: 1 },
    attrs: { ...WINDOW_ATTRS, ceil_mode: { kind: 'int', default: 0, doc: '1: output size rounds up' }, ...extra },
    infer(ctx) {
      const x = ctx.inputs[0];
      if (!x || !checkDtype(ctx, 0, dtypes, ['X']) || !checkSpatialRank(ctx, x)) return [];
      if (op === 'MaxPool' && ![0, 1].includes(ctx.node.attrs.storage_order as number))
        ctx.error(`storage_order ${ctx.node.attrs.storage_order} must be 0 (row-major) or 1 (column-major)`);
      const win = poolGeometry(x, ctx.node.attrs);
      if (typeof win === 'string') {
        ctx.error(win);
        return [];
      }
      const shape = [x.shape[0]!, x.shape[1]!, ...win.out];
      const y = { dtype: x.dtype, shape, range: x.range };
      return ctx.node.outputs.length > 1 ? [y, { dtype: 'int64' as const, shape: [...shape] }] : [y];
    },
    interpret(ctx) {
      const x = inTensor(ctx, 0);
      const win = poolGeometry(x, ctx.node.attrs) as Window;
      const input = x.shape.slice(2);
      const planes = x.shape[0]! * x.shape[1]!;
      const inSp = elementCount(input);
      const outSp = elementCount(win.out);
      const kSp = elementCount(win.kernel);
      const xv = ctx.readNum(x.name);
      const y = x.dtype === 'float32' ? new Float32Array(planes * outSp) : x.dtype === 'int8' ? new Int8Array(planes * outSp) : new Uint8Array(planes * outSp);
      const lowest = x.dtype === 'float32' ? -Infinity : x.dtype === 'int8' ? -128 : 0;
      const includePad = ctx.node.attrs.count_include_pad === 1;
      const withIndices = op === 'MaxPool' && ctx.node.outputs.length > 1;
      const ind = withIndices ? new BigInt64Array(planes * outSp) : undefined;
      const columnMajor = ctx.node.attrs.storage_order === 1;
      for (let p = 0; p < planes; p++) {
        for (let o = 0; o < outSp; o++) {
          const oi = unravel(o, win.out);
          let m = lowest;
          let s = 0;
          let count = 0;
          let best = -1;
          for (let k = 0; k < kSp; k++) {
            const { inside, inPad, offset } = windowOffset(input, win, oi, unravel(k, win.kernel));
            if (inside) {
              const v = at(xv, p * inSp + offset, x.name);
              if (best < 0) best = offset; // the first in-bounds element, if none is larger
              if (v > m) {
                m = v;
                best = offset;
              }
              s = add(s, v);
            }
            if (inside || (includePad && inPad)) count++;
          }
          y[p * outSp + o] = op === 'MaxPool' ? m : div(s, count);
          if (ind) ind[p * outSp + o] = BigInt(p * inSp + (columnMajor ? columnMajorOffset(best, input) : best));
        }
      }
      ctx.write(ctx.node.outputs[0]!, y);
      if (ind) ctx.write(ctx.node.outputs[1]!, ind);
    },
    emit(ctx) {
      const x = ctx.input(0);
      const win = poolGeometry(x, ctx.node.attrs) as Window;
      const planes = x.shape[0]! * x.shape[1]!;
      const geo = geoTable(ctx, x.shape.slice(2), win);
      if (op === 'MaxPool' && ctx.node.outputs.length > 1) {
        const fn = `tn_max_pool_idx_${SUFFIX[x.dtype]}`;
        return {
          kernel: fn,
          runtime: ['ref/tn_conv.c', 'ref/tn_math.c'],
          body: [
            `${fn}(${ctx.in(0)}, ${ctx.out(0)}, ${ctx.out(1)}, /* planes */ ${planes}, ${geo}, /* storage_order */ ${ctx.node.attrs.storage_order === 1 ? 1 : 0});`,
          ],
        };
      }
      if (op === 'MaxPool') {
        const fn = `tn_max_pool_${SUFFIX[x.dtype]}`;
        return { kernel: fn, runtime: ['ref/tn_conv.c', 'ref/tn_math.c'], body: [`${fn}(${ctx.in(0)}, ${ctx.out(0)}, /* planes */ ${planes}, ${geo});`] };
      }
      return {
        kernel: 'tn_avg_pool_f32',
        runtime: ['ref/tn_conv.c', 'ref/tn_math.c'],
        body: [
          `tn_avg_pool_f32(${ctx.in(0)}, ${ctx.out(0)}, /* planes */ ${planes}, ${geo}, /* count_include_pad */ ${ctx.node.attrs.count_include_pad === 1 ? 1 : 0});`,
        ],
      };
    },
    cost: () => ({ macs: 0, weightBytes: 0 }),
  };
}

export const MaxPool = poolOp(
  'MaxPool',
  ['float32', 'int8', 'uint8'],
  { storage_order: { kind: 'int', default: 0, doc: 'layout of the optional Indices output: 0 row-major, 1 column-major (spatial axes reversed)' } },
  'maximum over a sliding window (padding never wins); optional int64 Indices',
);
export const AveragePool = poolOp(
  'AveragePool',
  ['float32'],
  { count_include_pad: { kind: 'int', default: 0, doc: '1: padding counts in the divisor' } },
  'float32 mean over a sliding window',
);

export const GlobalAveragePool: OpDef = {
  op: 'GlobalAveragePool',
  summary: 'float32 mean over all spatial axes: [N, C, ...] -> [N, C, 1, ...]',
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {},
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x || !checkDtype(ctx, 0, ['float32'], ['X'])) return [];
    if (x.shape.length < 3) {
      ctx.error(`"${x.name}" ${shapeStr(x.shape)} must be [N, C, spatial...]`);
      return [];
    }
    return [{ dtype: 'float32', shape: x.shape.map((d, i) => (i < 2 ? d : 1)) }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const xv = ctx.readNum(x.name);
    const planes = x.shape[0]! * x.shape[1]!;
    const sp = elementCount(x.shape.slice(2));
    const y = new Float32Array(planes);
    for (let p = 0; p < planes; p++) {
      let s = 0;
      for (let i = 0; i < sp; i++) s = add(s, at(xv, p * sp + i, x.name));
      y[p] = div(s, sp);
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const planes = x.shape[0]! * x.shape[1]!;
    const sp = elementCount(x.shape.slice(2));
    // A reduction over one contiguous block per plane: kept [planes] with stride sp, reduced [sp] with stride 1.
    return {
      kernel: 'tn_reduce_mean_f32',
      runtime: ['ref/tn_norm.c', 'ref/tn_math.c'],
      body: [
        `tn_reduce_mean_f32(${ctx.in(0)}, ${ctx.out(0)}, 1, ${ctx.intTable('planes', [planes])}, ${ctx.intTable('plane_stride', [sp])}, 1, ${ctx.intTable('spatial', [sp])}, ${ctx.intTable('one', [1])}, /* count */ ${sp});`,
      ],
    };
  },
  cost: () => ({ macs: 0, weightBytes: 0 }),
};
