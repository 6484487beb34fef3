// ConvTranspose (float32, 1 to 3 spatial axes, groups): the gradient of Conv, computed as a gather so
// that every output is one sum in a fixed order:
//   y[n, m, o] = (sum over the group's input channels c (outer) and window elements k (row-major) of
//                x[n, c, i] * W[c, m mod M/group, k], where i = (o + pad_begin - k * dilation) / stride is
//                an integer inside the input) + B[m]
// from 0, one rounding per operation, the bias added last (runtime-c/ref/tn_conv.c, tn_conv_transpose_f32).
// Output size per axis: stride (in - 1) + output_padding + (k - 1) dilation + 1 - pads; `output_shape`
// (or auto_pad SAME_*: in * stride) fixes it and the pads follow from it (ONNX's rules).

import { elementCount, shapeStr, type Tensor } from '../../ir.ts';
import { add, mul } from '../../numerics/f32.ts';
import type { OpDef } from '../op.ts';
import { checkDtype, inTensor, ints } from './common.ts';
import { constantBytes } from './matmul.ts';
import { geoValues, type Window } from './conv.ts';
import { unravel } from './shape.ts';

/** Output size and pads (a Window whose `out` is the output), or a message. */
export function transposeGeometry(x: Tensor, w: Tensor, attrs: Record<string, unknown>): Window | string {
  const input = x.shape.slice(2);
  const r = input.length;
  const kernel = ints(attrs.kernel_shape).length ? ints(attrs.kernel_shape) : w.shape.slice(2);
  const ones = input.map(() => 1);
  const strides = ints(attrs.strides).length ? ints(attrs.strides) : ones;
  const dilations = ints(attrs.dilations).length ? ints(attrs.dilations) : ones;
  const outPad = ints(attrs.output_padding).length ? ints(attrs.output_padding) : input.map(() => 0);
  const pads = ints(attrs.pads).length ? ints(attrs.pads) : [...input.map(() => 0), ...input.map(() => 0)];
  let outShape = ints(attrs.output_shape);
  if (outShape.length === r + 2) outShape = outShape.slice(2);
  const autoPad = (attrs.auto_pad as string) ?? 'NOTSET';
  if (
    kernel.length !== r ||
    strides.length !== r ||
    dilations.length !== r ||
    outPad.length !== r ||
    pads.length !== 2 * r ||
    (outShape.length && outShape.length !== r)
  )
    return `kernel_shape ${shapeStr(kernel)}, strides, dilations, output_padding, pads and output_shape do not fit ${r} spatial axes`;
  if (
    [...kernel, ...strides, ...dilations].some((v) => v < 1) ||
    pads.some((p) => p < 0) ||
    outPad.some((p, i) => p < 0 || p >= Math.max(strides[i]!, dilations[i]!))
  )
    return 'kernel_shape, strides and dilations must be positive, pads non-negative and output_padding below the stride or dilation';
  const padBegin: number[] = [];
  const padEnd: number[] = [];
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const full = strides[i]! * (input[i]! - 1) + outPad[i]! + (kernel[i]! - 1) * dilations[i]! + 1;
    const target = outShape.length ? outShape[i]! : autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER' ? input[i]! * strides[i]! : undefined;
    if (target !== undefined) {
      // A negative total (an output larger than the window reaches) gives negative pads: outputs
      // that no input reaches hold the bias alone. Floor division, as ONNX's reference.
      const total = full - target;
      const half = Math.floor(total / 2);
      // ONNX: SAME_UPPER puts the odd pad at the end; otherwise (and SAME_LOWER) at the beginning.
      padBegin.push(autoPad === 'SAME_UPPER' ? half : total - half);
      padEnd.push(autoPad === 'SAME_UPPER' ? total - half : half);
      out.push(target);
    } else {
      const [pb, pe] = autoPad === 'VALID' ? [0, 0] : [pads[i]!, pads[i + r]!];
      padBegin.push(pb);
      padEnd.push(pe);
      out.push(full - pb - pe);
    }
    if (out[i]! < 1) return `the output would be empty on spatial axis ${i}`;
  }
  return { kernel, strides, dilations, padBegin, padEnd, out };
}

export const ConvTranspose: OpDef = {
  op: 'ConvTranspose',
  summary: 'float32 transposed convolution over 1 to 3 spatial axes with groups, pads, output_padding, output_shape',
  inputs: { names: ['X', 'W', 'B'], min: 2 },
  outputs: { names: ['Y'], min: 1 },
  attrs: {
    auto_pad: { kind: 'string', default: 'NOTSET', oneOf: ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'], doc: 'automatic padding' },
    dilations: { kind: 'ints', default: [], doc: 'dilation per spatial axis (default 1)' },
    group: { kind: 'int', default: 1, doc: 'number of groups' },
    kernel_shape: { kind: 'ints', default: [], doc: 'window size (default from W)' },
    output_padding: { kind: 'ints', default: [], doc: 'extra size at the end of each axis (default 0)' },
    output_shape: { kind: 'ints', default: [], doc: 'the spatial output shape (the pads follow from it)' },
    pads: { kind: 'ints', default: [], doc: '[x1_begin, ..., x1_end, ...] (default 0)' },
    strides: { kind: 'ints', default: [], doc: 'stride per spatial axis (default 1)' },
  },
  infer(ctx) {
    const [x, w, b] = ctx.inputs;
    if (!x || !w || ![0, 1, 2].every((i) => checkDtype(ctx, i, ['float32'], ['X', 'W', 'B']))) return [];
    if (x.shape.length < 3 || x.shape.length > 5 || w.shape.length !== x.shape.length) {
      ctx.error(`X "${x.name}" ${shapeStr(x.shape)} and W "${w.name}" ${shapeStr(w.shape)} must be [N, C, 1 to 3 spatial axes] and [C, M / group, kernel...]`);
      return [];
    }
    const group = ctx.node.attrs.group as number;
    const c = x.shape[1]!;
    if (group < 1 || c % group !== 0 || w.shape[0] !== c) {
      ctx.error(`group ${group} does not fit X "${x.name}" (C = ${c}) and W "${w.name}" ${shapeStr(w.shape)} (W must be [C, M / group, ...])`);
      return [];
    }
    const m = w.shape[1]! * group;
    if (b && (b.shape.length !== 1 || b.shape[0] !== m)) {
      ctx.error(`B "${b.name}" ${shapeStr(b.shape)} must be [${m}]`);
      return [];
    }
    const win = transposeGeometry(x, w, ctx.node.attrs);
    if (typeof win === 'string') {
      ctx.error(win);
      return [];
    }
    if (win.kernel.join() !== w.shape.slice(2).join()) {
      ctx.error(`kernel_shape ${shapeStr(win.kernel)} differs from W's spatial shape ${shapeStr(w.shape.slice(2))}`);
      return [];
    }
    return [{ dtype: 'float32', shape: [x.shape[0]!, m, ...win.out] }];
  },
  interpret(ctx) {
    const x = inTensor(ctx, 0);
    const w = inTensor(ctx, 1);
    const win = transposeGeometry(x, w, ctx.node.attrs) as Window;
    const xv = ctx.readNum(x.name);
    const wv = ctx.readNum(w.name);
    const bv = ctx.node.inputs[2] ? ctx.readNum(ctx.node.inputs[2]) : undefined;
    const group = ctx.node.attrs.group as number;
    const [n, c] = x.shape as [number, number];
    const mg = w.shape[1]!;
    const m = mg * group;
    const cg = c / group;
    const input = x.shape.slice(2);
    const inSp = elementCount(input);
    const kSp = elementCount(win.kernel);
    const outSp = elementCount(win.out);
    const y = new Float32Array(n * m * outSp);
    for (let b = 0; b < n; b++)
      for (let mm = 0; mm < m; mm++) {
        const g = Math.floor(mm / mg);
        for (let o = 0; o < outSp; o++) {
          const oi = unravel(o, win.out);
          let acc = 0;
          for (let cc = 0; cc < cg; cc++) {
            const ch = g * cg + cc;
            for (let k = 0; k < kSp; k++) {
              const ki = unravel(k, win.kernel);
              let off = 0;
              let ok = true;
              for (let a = 0; a < input.length && ok; a++) {
                const t = oi[a]! + win.padBegin[a]! - ki[a]! * win.dilations[a]!;
                const i = t / win.strides[a]!;
                if (t < 0 || t % win.strides[a]! !== 0 || i >= input[a]!) ok = false;
                off = off * input[a]! + i;
              }
              if (ok) acc = add(acc, mul(xv[(b * c + ch) * inSp + off]!, wv[(ch * mg + (mm - g * mg)) * kSp + k]!));
            }
          }
          y[(b * m + mm) * outSp + o] = bv ? add(acc, bv[mm]!) : acc;
        }
      }
    ctx.write(ctx.node.outputs[0]!, y);
  },
  emit(ctx) {
    const x = ctx.input(0);
    const w = ctx.input(1);
    const win = transposeGeometry(x, w, ctx.node.attrs) as Window;
    const group = ctx.node.attrs.group as number;
    const geo = ctx.intTable('geo', geoValues(x.shape.slice(2), win));
    return {
      kernel: 'tn_conv_transpose_f32',
      runtime: ['ref/tn_conv.c', 'ref/tn_math.c'],
      body: [
        `tn_conv_transpose_f32(${ctx.in(0)}, ${ctx.in(1)}, ${ctx.hasInput(2) ? ctx.in(2) : 'NULL'}, ${ctx.out(0)}, /* N */ ${x.shape[0]}, /* C */ ${x.shape[1]}, /* M */ ${w.shape[1]! * group}, /* group */ ${group}, ${geo});`,
      ],
    };
  },
  cost(g, node) {
    const x = g.tensors.get(node.inputs[0]!)!;
    const w = g.tensors.get(node.inputs[1]!)!;
    return { macs: elementCount(x.shape) * elementCount(w.shape.slice(1)), weightBytes: constantBytes(g, node) };
  },
};
