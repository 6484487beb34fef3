// TernaryConv and BinaryConv: 2-D convolution (ONNX Conv, NCHW) of int8 activation codes with
// ternary {-1,0,+1} or binary {-1,+1} weights, packed, the inner loop adding and subtracting only.
//
//   X  int8 [N, C, H, W], quantised per tensor (scale sx)
//   W  ternary/binary [M, C/group, kH, kW], scale per tensor or per output channel (ws)
//   B  optional float32 [M]
//   Y  float32 [N, M, OH, OW],  OH = floor((H + pad_top + pad_bottom - ((kH - 1) * dH + 1)) / sH) + 1
//
// For each output (n, m, oh, ow), with g = m / (M / group) and Cg = C / group:
//   acc = sum over c < Cg, kh, kw of W[m, c, kh, kw] * X[n, g*Cg + c, oh*sH - pad_top + kh*dH, ow*sW - pad_left + kw*dW]
//         (positions outside the image read 0: zero padding, as the codes are symmetric)    exact int32
//   y   = ((float)acc * ws[m]) * sx,  then y = y + B[m]            (as TernaryLinear, one group)
// The compiler proves |acc| <= Cg*kH*kW * max|x| < 2^31 or rejects the layer.

import type { DiagnosticCode } from '../diagnostics.ts';
import { elementCount, shapeStr, type DType, type Graph, type Node } from '../ir.ts';
import { add, i2f, mul } from '../numerics/f32.ts';
import { int8MaxAbs, INT32_MAX } from '../lowbit.ts';
import { at, type InferContext, type OpDef, type OutputSpec } from './op.ts';

interface ConvGeometry {
  n: number;
  c: number;
  h: number;
  w: number;
  m: number;
  cg: number;
  kh: number;
  kw: number;
  group: number;
  oh: number;
  ow: number;
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
}

function convGeometry(xShape: readonly number[], wShape: readonly number[], node: Node): ConvGeometry {
  const [n, c, h, w] = xShape as [number, number, number, number];
  const [m, cg, kh, kw] = wShape as [number, number, number, number];
  const strides = node.attrs.strides as [number, number];
  const pads = node.attrs.pads as [number, number, number, number];
  const dilations = node.attrs.dilations as [number, number];
  const oh = Math.floor((h + pads[0] + pads[2] - ((kh - 1) * dilations[0] + 1)) / strides[0]) + 1;
  const ow = Math.floor((w + pads[1] + pads[3] - ((kw - 1) * dilations[1] + 1)) / strides[1]) + 1;
  return { n, c, h, w, m, cg, kh, kw, group: node.attrs.group as number, oh, ow, strides, pads, dilations };
}

function makeLowBitConv(op: 'TernaryConv' | 'BinaryConv', wdtype: DType): OpDef {
  const ternary = wdtype === 'ternary';
  return {
    op,
    summary: `2-D convolution of int8 activation codes with ${ternary ? 'ternary {-1,0,+1}' : 'binary {-1,+1}'} weights (packed), scales per tensor or channel, optional bias`,
    inputs: { names: ['X', 'W', 'B'], min: 2 },
    outputs: { names: ['Y'], min: 1 },
    attrs: {
      strides: { kind: 'ints', default: [1, 1], doc: 'stride along H and W' },
      pads: { kind: 'ints', default: [0, 0, 0, 0], doc: 'zero padding: top, left, bottom, right (ONNX order)' },
      dilations: { kind: 'ints', default: [1, 1], doc: 'dilation along H and W' },
      group: { kind: 'int', default: 1, doc: 'number of groups (C and M divisible by it)' },
    },
    infer(ctx: InferContext): OutputSpec[] {
      const [x, w, b] = ctx.inputs;
      if (!x || !w) return [];
      let ok = true;
      const err = (msg: string, code?: DiagnosticCode) => {
        ctx.error(msg, code);
        ok = false;
      };
      if (x.dtype !== 'int8' || !x.quant || x.quant.granularity !== 'per_tensor')
        err(`input 0 "${x.name}" must be int8 codes with a per-tensor scale, found ${x.dtype}${x.quant ? ` (${x.quant.granularity})` : ''}`, 'dtype');
      if (w.dtype !== wdtype || w.kind !== 'constant' || !w.quant) err(`input 1 "${w.name}" must be a ${wdtype} constant with a scale`, 'dtype');
      if (x.shape.length !== 4 || w.shape.length !== 4)
        err(`input 0 "${x.name}" ${shapeStr(x.shape)} and weight "${w.name}" ${shapeStr(w.shape)} must both have rank 4 (NCHW, MCkHkW)`);
      const { node } = ctx;
      const ints = (k: string, len: number) => {
        const v = node.attrs[k] as number[];
        if (!Array.isArray(v) || v.length !== len || v.some((d) => !Number.isInteger(d) || d < (k === 'pads' ? 0 : 1)))
          err(`attribute ${k} must be ${len} ${k === 'pads' ? 'non-negative' : 'positive'} integers, found [${v}]`);
      };
      ints('strides', 2);
      ints('pads', 4);
      ints('dilations', 2);
      if (!ok) return [];
      const geo = convGeometry(x.shape, w.shape, node);
      if (geo.group < 1 || geo.c % geo.group !== 0 || geo.m % geo.group !== 0) err(`group ${geo.group} must divide C = ${geo.c} and M = ${geo.m}`);
      else if (geo.cg !== geo.c / geo.group)
        err(`weight "${w.name}" ${shapeStr(w.shape)} expects ${geo.cg * geo.group} input channels, input "${x.name}" has ${geo.c}`);
      if (geo.oh < 1 || geo.ow < 1) err(`the output would be empty (${geo.oh} x ${geo.ow})`);
      const k = geo.cg * geo.kh * geo.kw;
      if (k * int8MaxAbs(x) > INT32_MAX) err(`a window of ${k} codes times |x| <= ${int8MaxAbs(x)} may overflow the int32 accumulator`, 'limit');
      const scale = ctx.graph.tensors.get(w.quant!.scale);
      if (scale) {
        const count = elementCount(scale.shape);
        if (scale.dtype !== 'float32' || (w.quant!.granularity === 'per_tensor' ? count !== 1 : w.quant!.granularity !== 'per_row' || count !== geo.m))
          err(`scale "${scale.name}" of weight "${w.name}" must be float32, one value per tensor or ${geo.m} per output channel (per_row)`);
      }
      if (b && (b.dtype !== 'float32' || elementCount(b.shape) !== geo.m))
        err(`input 2 "${b.name}" (bias) must be float32 [${geo.m}], found ${b.dtype} ${shapeStr(b.shape)}`);
      if (!ok) return [];
      return [{ dtype: 'float32', shape: [geo.n, geo.m, geo.oh, geo.ow] }];
    },
    interpret(ctx) {
      const { graph, node } = ctx;
      const xT = graph.tensors.get(node.inputs[0]!)!;
      const wT = graph.tensors.get(node.inputs[1]!)!;
      const x = ctx.readNum(xT.name);
      const sx = ctx.readNum(xT.quant!.scale)[0]!;
      const codes = ctx.readNum(wT.name);
      const ws = ctx.readNum(wT.quant!.scale);
      const perChannel = wT.quant!.granularity === 'per_row';
      const bias = node.inputs[2] ? ctx.readNum(node.inputs[2]) : undefined;
      const g = convGeometry(xT.shape, wT.shape, node);
      const mPerGroup = g.m / g.group;
      const y = new Float32Array(g.n * g.m * g.oh * g.ow);
      let o = 0;
      for (let n = 0; n < g.n; n++)
        for (let m = 0; m < g.m; m++) {
          const c0 = Math.floor(m / mPerGroup) * g.cg;
          for (let oh = 0; oh < g.oh; oh++)
            for (let ow = 0; ow < g.ow; ow++) {
              let acc = 0;
              for (let c = 0; c < g.cg; c++)
                for (let kh = 0; kh < g.kh; kh++) {
                  const ih = oh * g.strides[0] - g.pads[0] + kh * g.dilations[0];
                  if (ih < 0 || ih >= g.h) continue;
                  for (let kw = 0; kw < g.kw; kw++) {
                    const iw = ow * g.strides[1] - g.pads[1] + kw * g.dilations[1];
                    if (iw < 0 || iw >= g.w) continue;
                    const t = at(codes, ((m * g.cg + c) * g.kh + kh) * g.kw + kw, wT.name);
                    acc += t * at(x, ((n * g.c + c0 + c) * g.h + ih) * g.w + iw, xT.name);
                  }
                }
              let v = mul(mul(i2f(acc), at(ws, perChannel ? m : 0, wT.quant!.scale)), sx);
              if (bias) v = add(v, at(bias, m, node.inputs[2]!));
              y[o++] = v;
            }
        }
      ctx.write(node.outputs[0]!, y);
    },
    emit(ctx) {
      const xT = ctx.input(0);
      const wT = ctx.input(1);
      const g = convGeometry(xT.shape, wT.shape, ctx.node);
      const k = g.cg * g.kh * g.kw;
      const codes = ctx.constant(wT.name, ternary ? 't2' : 'b1', k);
      const scale = ctx.constant(wT.quant!.scale, 'f32');
      const bias = ctx.hasInput(2) ? ctx.in(2) : 'NULL';
      const fn = ternary ? 'tn_ternary_conv2d' : 'tn_binary_conv2d';
      const geo = `${ctx.node.name.replace(/[^A-Za-z0-9_]/g, '_')}_geometry`;
      ctx.annotate('accumulator', `int32 (|acc| <= ${k} * ${int8MaxAbs(xT)})`);
      ctx.annotate('packing', ternary ? '2-bit, 4 per byte, one row per output channel' : '1-bit, 8 per byte, one row per output channel');
      return {
        kernel: `${fn} (ref, int32 acc)`,
        runtime: ['ref/tn_lowbit_conv.c'],
        body: [
          `/* int32 accumulator: |acc| <= ${g.cg} * ${g.kh} * ${g.kw} * ${int8MaxAbs(xT)} = ${k * int8MaxAbs(xT)} < 2^31 */`,
          `static const tn_conv2d_geometry ${geo} = {`,
          `  /* n, c, h, w */ ${g.n}, ${g.c}, ${g.h}, ${g.w}, /* m, kh, kw, group */ ${g.m}, ${g.kh}, ${g.kw}, ${g.group},`,
          `  /* oh, ow */ ${g.oh}, ${g.ow}, /* strides */ ${g.strides[0]}, ${g.strides[1]}, /* pads t, l */ ${g.pads[0]}, ${g.pads[1]}, /* dilations */ ${g.dilations[0]}, ${g.dilations[1]}`,
          `};`,
          `${fn}(${ctx.in(0)}, ${ctx.inScale(0)}[0], &${geo}, ${codes}, ${scale}, /* per channel */ ${wT.quant!.granularity === 'per_row' ? 1 : 0}, ${bias}, ${ctx.out(0)});`,
        ],
      };
    },
    cost(graph: Graph, node: Node) {
      const xT = graph.tensors.get(node.inputs[0]!)!;
      const wT = graph.tensors.get(node.inputs[1]!)!;
      const g = convGeometry(xT.shape, wT.shape, node);
      const k = g.cg * g.kh * g.kw;
      const codeBytes = g.m * Math.ceil((k * (ternary ? 2 : 1)) / 8);
      const scaleBytes = elementCount(graph.tensors.get(wT.quant!.scale)!.shape) * 4;
      return { macs: g.n * g.m * g.oh * g.ow * k, weightBytes: codeBytes + scaleBytes + (node.inputs[2] ? g.m * 4 : 0) };
    },
  };
}

export const TernaryConv = makeLowBitConv('TernaryConv', 'ternary');
export const BinaryConv = makeLowBitConv('BinaryConv', 'binary');
