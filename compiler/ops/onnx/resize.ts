// ONNX Resize (and Upsample), split in two:
//
// 1. At compile time, `resizeTaps` turns the attributes, the input shape and the constant scales or
//    sizes into, per axis and output coordinate, a list of taps (input index, weight): ONNX's
//    coordinate transformation, then the nearest, linear or cubic coefficients (antialiased when
//    downsampling if asked), the neighbours with edge padding, exclude_outside. This follows the
//    formulas of the Resize spec (Operators.md) in float64; each weight is then rounded to float32.
//    A coordinate outside the region of interest (tf_crop_and_resize) has no taps: the output element
//    there is extrapolation_value.
// 2. At run time the IR op `Interpolate` (inputs X, offsets, taps, weights) computes each output as the
//    nested weighted sum over the axes, outermost first, each sum from 0 in tap order, one float32
//    rounding per multiply and add; on other dtypes (nearest only) it copies the single tap's element.
//    runtime-c/ref/tn_resize.c follows the same steps.

import { hexFloat } from '../../emit/cliterals.ts';
import { elementCount, shapeStr } from '../../ir.ts';
import { add, fround, mul } from '../../numerics/f32.ts';
import type { OpDef } from '../op.ts';
import { alloc, ANY, checkDtype, constantCost, copyElem, elemBytes, inTensor, ints } from './common.ts';
import { stridesOf, unravel } from './shape.ts';

export type ResizeMode = 'nearest' | 'linear' | 'cubic';

export interface ResizeParams {
  mode: ResizeMode;
  coordinate: string;
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
  antialias: boolean;
  /** Per axis: the scale (output / input, or the given one) and the output size. */
  scales: number[];
  out: number[];
  /** tf_crop_and_resize: [starts..., ends...] per axis. */
  roi?: number[];
}

export const COORDINATE_MODES = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_crop_and_resize',
  'tf_half_pixel_for_nn',
];
export const NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

/** The input coordinate of output coordinate x on one axis, or undefined outside the region of interest. */
function sourceCoordinate(p: ResizeParams, a: number, x: number, inW: number): number | undefined {
  const scale = p.scales[a]!;
  const outW = scale * inW;
  const outInt = p.out[a]!;
  switch (p.coordinate) {
    case 'align_corners':
      return outW === 1 ? 0 : (x * (inW - 1)) / (outW - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'pytorch_half_pixel':
      return outW === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inW / 2) * (1 - outInt / outW);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'tf_crop_and_resize': {
      const r = p.roi!;
      const n = p.scales.length;
      const [s, e] = [r[a]!, r[a + n]!];
      const v = (outW === 1 ? ((e - s) * (inW - 1)) / 2 : (x * (e - s) * (inW - 1)) / (outW - 1)) + s * (inW - 1);
      return v < 0 || v > inW - 1 ? undefined : v;
    }
    default: // half_pixel
      return (x + 0.5) / scale - 0.5;
  }
}

function cubicAntialias(ratio: number, scale: number, A: number): number[] {
  const s = Math.min(scale, 1);
  const f = (x: number) => {
    x = Math.abs(x);
    if (x <= 1) return (A + 2) * x * x * x - (A + 3) * x * x + 1;
    if (x < 2) return A * x * x * x - 5 * A * x * x + 8 * A * x - 4 * A;
    return 0;
  };
  const start = Math.floor(-2 / s) + 1;
  const c: number[] = [];
  for (let i = start; i < 2 - start; i++) c.push(f(s * (i - ratio)));
  const sum = c.reduce((x, y) => x + y, 0);
  return c.map((v) => v / sum);
}

function linearAntialias(ratio: number, scale: number): number[] {
  const s = Math.min(scale, 1);
  const start = Math.floor(-1 / s) + 1;
  const c: number[] = [];
  for (let i = start; i < 2 - start; i++) c.push(Math.min(1, Math.max(0, 1 - Math.abs((i - ratio) * s))));
  const sum = c.reduce((x, y) => x + y, 0);
  return c.map((v) => v / sum);
}

/** Coefficients for the neighbours of a coordinate with fraction `ratio` in (0, 1]. */
function coefficients(p: ResizeParams, ratio: number, scale: number): number[] {
  if (p.mode === 'nearest') {
    if (Number.isInteger(ratio)) return [0, 1];
    switch (p.nearest) {
      case 'round_prefer_ceil':
        return ratio < 0.5 ? [1, 0] : [0, 1];
      case 'floor':
        return [1, 0];
      case 'ceil':
        return [0, 1];
      default: // round_prefer_floor
        return ratio <= 0.5 ? [1, 0] : [0, 1];
    }
  }
  if (p.mode === 'linear') return p.antialias ? linearAntialias(ratio, scale) : [1 - ratio, ratio];
  if (p.antialias) return cubicAntialias(ratio, scale, p.cubicA);
  const A = p.cubicA;
  const q = 1 - ratio;
  return [
    ((A * (ratio + 1) - 5 * A) * (ratio + 1) + 8 * A) * (ratio + 1) - 4 * A,
    ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1,
    ((A + 2) * q - (A + 3)) * q * q + 1,
    ((A * (q + 1) - 5 * A) * (q + 1) + 8 * A) * (q + 1) - 4 * A,
  ];
}

/** The n nearest indices to x in [lo, hi], ties to the smaller, in ascending order. */
function nearestIndices(x: number, n: number, lo: number, hi: number): number[] {
  const from = Math.max(lo, Math.min(hi, Math.floor(x)) - n);
  const to = Math.min(hi, Math.max(lo, Math.ceil(x)) + n);
  const cand: number[] = [];
  for (let i = from; i <= to; i++) cand.push(i);
  cand.sort((a, b) => Math.abs(x - a) - Math.abs(x - b) || a - b);
  return cand.slice(0, n).sort((a, b) => a - b);
}

/** Per axis, per output coordinate: the taps (input index, float32 weight); none outside the ROI. */
export function resizeTaps(inShape: readonly number[], p: ResizeParams): { offsets: number[]; index: number[]; weight: number[] } {
  const offsets: number[] = [];
  const index: number[] = [];
  const weight: number[] = [];
  inShape.forEach((inW, a) => {
    for (let x = 0; x < p.out[a]!; x++) {
      offsets.push(index.length);
      // An axis that keeps its size with scale 1 is the identity whatever the mode.
      const xo = p.scales[a] === 1 && p.out[a] === inW && p.coordinate !== 'tf_crop_and_resize' ? x : sourceCoordinate(p, a, x, inW);
      if (xo === undefined) continue;
      const base = Math.floor(xo);
      const ratio = Number.isInteger(xo) ? 1 : xo - base;
      let c = coefficients(p, ratio, p.scales[a]!);
      const pad = Math.ceil(c.length / 2);
      const idx = nearestIndices(xo, c.length, -pad, inW - 1 + pad);
      if (p.excludeOutside) {
        c = c.map((v, t) => (idx[t]! < 0 || idx[t]! >= inW ? 0 : v));
        const sum = c.reduce((s, v) => s + v, 0);
        c = c.map((v) => v / sum);
      }
      c.forEach((w, t) => {
        if (w === 0) return; // a zero weight adds nothing: left out
        index.push(Math.min(inW - 1, Math.max(0, idx[t]!)));
        weight.push(fround(w));
      });
    }
    offsets.push(index.length);
  });
  return { offsets, index, weight };
}

/** Where each axis's offsets start in the offsets table (each axis has out + 1 entries). */
const axisBases = (out: readonly number[]): number[] => out.map((_, a) => out.slice(0, a).reduce((s, d) => s + d + 1, 0));

export const Interpolate: OpDef = {
  op: 'Interpolate',
  summary: 'separable resampling by tap tables (ONNX Resize, Upsample): nested weighted sums, outermost axis first',
  inputs: { names: ['X', 'offsets', 'taps', 'weights'], min: 4 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    sizes: { kind: 'ints', doc: 'the output shape' },
    extrapolation_value: { kind: 'float', default: 0, doc: 'the output where an axis has no taps (outside the ROI)' },
  },
  infer(ctx) {
    const [x, off, taps, w] = ctx.inputs;
    if (!x || !off || !taps || !w) return [];
    if (!checkDtype(ctx, 0, ANY, ['X']) || !checkDtype(ctx, 1, ['int32'], ['X', 'offsets']) || !checkDtype(ctx, 2, ['int32'], ['X', 'offsets', 'taps']))
      return [];
    if (!checkDtype(ctx, 3, ['float32'], ['X', 'offsets', 'taps', 'weights'])) return [];
    const out = ints(ctx.node.attrs.sizes);
    if (out.length !== x.shape.length || out.some((d) => d < 1)) {
      ctx.error(`sizes ${shapeStr(out)} must give a positive size for each of the ${x.shape.length} axes of "${x.name}"`);
      return [];
    }
    const nOff = out.reduce((s, d) => s + d + 1, 0);
    if (elementCount(off.shape) !== nOff || elementCount(taps.shape) !== elementCount(w.shape))
      ctx.error(`the tap tables do not fit sizes ${shapeStr(out)}: offsets needs ${nOff} entries, taps and weights one per tap`);
    if (off.kind !== 'constant' || taps.kind !== 'constant' || w.kind !== 'constant') ctx.error('the tap tables must be constants');
    if (x.dtype !== 'float32' && off.data && taps.data) {
      // Other dtypes copy: every output coordinate must have exactly one tap of weight 1 (nearest).
      const o = off.data as Int32Array;
      const wv = w.data as Float32Array;
      const bases = axisBases(out);
      const bad = out.some((d, a) => Array.from({ length: d }, (_, i) => o[bases[a]! + i + 1]! - o[bases[a]! + i]!).some((n) => n > 1));
      if (bad || wv.some((v) => v !== 1)) ctx.error(`"${x.name}" is ${x.dtype}: only float32 interpolates; other dtypes take mode 'nearest'`, 'dtype');
    }
    return [{ dtype: x.dtype, shape: out, range: x.range }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const xv = ctx.read(x.name);
    const off = ctx.readNum(ctx.node.inputs[1]!);
    const taps = ctx.readNum(ctx.node.inputs[2]!);
    const w = ctx.readNum(ctx.node.inputs[3]!);
    const out = ints(ctx.node.attrs.sizes);
    const bases = axisBases(out);
    const xs = stridesOf(x.shape);
    const ext = fround(ctx.node.attrs.extrapolation_value as number);
    const float = x.dtype === 'float32';
    const y = alloc(x.dtype, elementCount(out));
    const r = out.length;
    for (let i = 0; i < y.length; i++) {
      const o = unravel(i, out);
      const range = o.map((c, a) => [off[bases[a]! + c]!, off[bases[a]! + c + 1]!] as const);
      if (range.some(([s, e]) => s === e)) {
        if (float) y[i] = ext;
        else copyElem(alloc(x.dtype, 1), 0, y, i, 'zero');
        continue;
      }
      if (!float) {
        const at = range.reduce((acc, [s], a) => acc + taps[s]! * xs[a]!, 0);
        copyElem(xv, at, y, i, x.name);
        continue;
      }
      const sum = (a: number, base: number): number => {
        if (a === r) return (xv as Float32Array)[base]!;
        let acc = 0;
        for (let t = range[a]![0]; t < range[a]![1]; t++) acc = add(acc, mul(w[t]!, sum(a + 1, base + taps[t]! * xs[a]!)));
        return acc;
      };
      y[i] = sum(0, 0);
    }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const out = ints(ctx.node.attrs.sizes);
    const float = x.dtype === 'float32';
    const fn = float ? 'tn_interpolate_f32' : 'tn_interpolate_nearest';
    const args = [
      ctx.in(0),
      ctx.out(0),
      ...(float ? [] : [`/* element bytes */ ${elemBytes(x.dtype)}`]),
      `/* rank */ ${out.length}`,
      ctx.intTable('out_shape', out),
      ctx.intTable('bases', axisBases(out)),
      ctx.intTable('strides', stridesOf(x.shape)),
      ctx.constant(ctx.node.inputs[1]!, 'i32'),
      ctx.constant(ctx.node.inputs[2]!, 'i32'),
      ...(float ? [ctx.constant(ctx.node.inputs[3]!, 'f32'), `/* extrapolation */ ${hexFloat(fround(ctx.node.attrs.extrapolation_value as number))}`] : []),
    ];
    return { kernel: fn, runtime: ['ref/tn_resize.c'], body: [`${fn}(${args.join(', ')});`] };
  },
  cost: constantCost,
};
