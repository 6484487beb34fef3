// ActQuant: TBT's activation quantizers (seed-methods 8.2; docs/formats.md "TBT"), a fake quantizer
// on the input of one projection: each row (token) of X becomes the float values its codes stand for,
// and the projection then runs on them as on any float activations, as TBT's QuantizeLinear does.
//
//   X  float32 [T, K]     Y  float32 [T, K]     per row; NaN inputs count as 0
//   elastic signed, 2 bits   a * clamp(rint(x / a), -1, 1)              (ternary activations)
//   elastic signed, 1 bit    a * sign(x), sign(0) = 0
//   elastic unsigned, 2 bits m = min(x);  clamp(rint((x - m) / a), 0, 2) * a + m   (the min added back)
//   elastic unsigned, 1 bit  clamp(rint(x / a), 0, 1) * a
//   clip8 signed (SymQuantizer)   v = clamp(x, -c, c); s = 127 / max|v|; rint(v * s) / s   (max 0: v)
//   clip8 unsigned (AsymQuantizer) v = clamp(x, -c, c); lo = min v; d = (max v - lo) + 1e-8;
//                                  rint(((v - lo) / d) * 255) / 255 * d + lo
// a = max(alpha, 1e-5) is the learned step; c the clip. With int8 (signed elastic only) the output is
// the codes q (int8, -1..1) and Y_scale = a per row: TBT's integer form (seed-methods 8.3), which the
// ternary projection then runs as TernaryLinear on the int8 kernels, y = (sum q T) a_n a. rint rounds half to even (torch.round). Each
// float operation is one float32 rounding, in the order written. TBT takes the statistics over the
// whole tensor (layerwise); a decoder takes them per token, so a token's output does not depend on
// the tokens batched with it and prefill equals decode (docs/formats.md).

import { shapeStr } from '../../ir.ts';
import { hexFloat } from '../../emit/cliterals.ts';
import { add, div, fround, mul, rintf, sub } from '../../numerics/f32.ts';
import { attrString, type OpDef } from '../op.ts';
import { ROWS_ATTR, rowArgs, rowSpan } from './rows.ts';

export interface ActQuantParams {
  method: 'elastic' | 'clip8';
  bits: 1 | 2 | 8;
  signed: boolean;
  /** elastic: the learned step. */
  alpha: number;
  /** clip8: the clip value c (TBT's clip_val buffer, [-c, c]). */
  clip: number;
}

const ALPHA_FLOOR = fround(0.00001);
const ASYM_EPS = fround(1e-8);

/** The step an elastic quantizer uses: alpha, at least 1e-5 (torch.where(alpha > eps, alpha, eps)). */
export function elasticStep(alpha: number): number {
  const a = fround(alpha);
  return a > ALPHA_FLOOR ? a : ALPHA_FLOOR;
}

// Comparisons are written as the C kernel writes them (runtime-c/ref/tn_act_quant.c), so that the
// signs of zeros and the handling of infinities agree bit for bit; `+ 0` turns -0 into +0 in both.
const clean = (v: number): number => (v === v ? v : 0);
const clampTo = (v: number, c: number): number => (v > c ? c : v < -c ? -c : v);
/** clamp(q, lo, hi) of a rounded value; NaN (inf - inf) goes to lo. */
const clampQ = (q: number, lo: number, hi: number): number => (!(q > lo) ? lo : q > hi ? hi : q);

/** The code of a signed elastic quantizer: sign (1 bit) or clamp(rint(v / a), -1, 1) (2 bits). */
function signedCode(bits: number, v: number, a: number): number {
  return bits === 1 ? (v > 0 ? 1 : v < 0 ? -1 : 0) : clampQ(rintf(div(v, a)), -1, 1);
}

/** Quantize x[from .. from + k) into y[to ..] (the reference for the interpreter and tbt.ts). */
export function actQuantRow(p: ActQuantParams, x: ArrayLike<number>, from: number, k: number, y: Float32Array, to: number): void {
  if (p.method === 'elastic') {
    const a = elasticStep(p.alpha);
    const withMin = !p.signed && p.bits === 2;
    let m = 0;
    if (withMin && k > 0) {
      m = clean(x[from]!);
      for (let i = 1; i < k; i++) {
        const v = clean(x[from + i]!);
        if (v < m) m = v;
      }
    }
    for (let i = 0; i < k; i++) {
      const v = clean(x[from + i]!);
      let q: number;
      if (p.signed) q = signedCode(p.bits, v, a);
      else q = clampQ(rintf(div(withMin ? sub(v, m) : v, a)), 0, p.bits === 2 ? 2 : 1);
      y[to + i] = add(withMin ? add(mul(q, a), m) : mul(q, a), 0);
    }
    return;
  }
  const c = fround(p.clip);
  if (p.signed) {
    let amax = 0;
    for (let i = 0; i < k; i++) {
      const v = Math.abs(clampTo(clean(x[from + i]!), c));
      if (v > amax) amax = v;
    }
    const s = div(127, amax);
    for (let i = 0; i < k; i++) {
      const v = clampTo(clean(x[from + i]!), c);
      y[to + i] = amax === 0 ? v : add(div(rintf(mul(v, s)), s), 0);
    }
    return;
  }
  if (k === 0) return;
  let lo = clampTo(clean(x[from]!), c);
  let hi = lo;
  for (let i = 1; i < k; i++) {
    const v = clampTo(clean(x[from + i]!), c);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const d = add(sub(hi, lo), ASYM_EPS);
  for (let i = 0; i < k; i++) {
    const v = clampTo(clean(x[from + i]!), c);
    const t = div(rintf(mul(div(sub(v, lo), d), 255)), 255);
    y[to + i] = add(add(mul(t, d), lo), 0);
  }
}

/** The node's parameters from its attributes. */
function actQuantParams(attrs: Record<string, unknown>): ActQuantParams {
  return {
    method: attrs.method as ActQuantParams['method'],
    bits: Number(attrs.bits) as ActQuantParams['bits'],
    signed: attrs.signed === true,
    alpha: Number(attrs.alpha),
    clip: Number(attrs.clip),
  };
}

export const ActQuant: OpDef = {
  op: 'ActQuant',
  summary: "TBT's activation quantizers per token: elastic 1-2-bit (learned step, unsigned with the min added back) or 8-bit after clipping",
  inputs: { names: ['X'], min: 1 },
  outputs: { names: ['Y', 'Y_scale'], min: 1 },
  attrs: {
    int8: { kind: 'bool', default: false, doc: 'signed elastic only: output the int8 codes and a scale per row (the step) instead of their values' },
    method: { kind: 'string', oneOf: ['elastic', 'clip8'], doc: "'elastic': the learned-step 1-2-bit quantizers; 'clip8': 8 bits after clipping" },
    bits: { kind: 'int', doc: 'elastic: 1 or 2; clip8: 8' },
    signed: { kind: 'bool', default: true, doc: 'symmetric (ElasticQuantBinarizerSigned, SymQuantizer) or unsigned (the min subtracted and added back)' },
    alpha: { kind: 'float', default: 1, doc: 'elastic: the learned step (used as max(alpha, 1e-5))' },
    clip: { kind: 'float', default: 2.5, doc: 'clip8: inputs are clamped to [-clip, clip] first' },
    rows: ROWS_ATTR,
  },
  rows: true,
  infer(ctx) {
    const x = ctx.inputs[0];
    if (!x) return [];
    if (x.dtype !== 'float32' || x.shape.length !== 2) {
      ctx.error(`input 0 "${x.name}" must be float32 [T, K], found ${x.dtype} ${shapeStr(x.shape)}`, 'dtype');
      return [];
    }
    const p = actQuantParams(ctx.node.attrs);
    const method = attrString(ctx.node, 'method');
    if (method === 'elastic' && p.bits !== 1 && p.bits !== 2) ctx.error(`bits must be 1 or 2 for the elastic quantizer, got ${p.bits}`);
    if (method === 'clip8' && p.bits !== 8) ctx.error(`bits must be 8 for the clip8 quantizer, got ${p.bits}`);
    if (method === 'elastic' && !(Number.isFinite(p.alpha) && p.alpha > 0)) ctx.error(`alpha (the step) must be a positive finite number, got ${p.alpha}`);
    if (method === 'clip8' && !(Number.isFinite(p.clip) && p.clip > 0)) ctx.error(`clip must be a positive finite number, got ${p.clip}`);
    if (ctx.node.attrs.int8 !== true) return [{ dtype: 'float32', shape: [...x.shape] }];
    if (method !== 'elastic' || !p.signed) ctx.error('int8 output is for the signed elastic quantizer (codes -1, 0, +1 and the step)');
    if (ctx.node.outputs.length !== 2) ctx.error('int8 output needs two outputs: the codes and their scale per row');
    return [
      { dtype: 'int8', shape: [...x.shape], quant: { scale: ctx.node.outputs[1]!, granularity: 'per_row' }, range: [-1, 1] },
      { dtype: 'float32', shape: [x.shape[0]!] },
    ];
  },
  interpret(ctx) {
    const { node, graph } = ctx;
    const xT = graph.tensors.get(node.inputs[0]!)!;
    const x = ctx.readNum(xT.name);
    const [total, k] = xT.shape as [number, number];
    const y = new Float32Array(total * k);
    const { from, count } = rowSpan(node, ctx.rows, total);
    const p = actQuantParams(node.attrs);
    if (node.attrs.int8 === true) {
      const a = elasticStep(p.alpha);
      const q = new Int8Array(total * k);
      const scale = new Float32Array(total);
      for (let r = 0; r < count; r++) {
        scale[r] = a;
        for (let i = 0; i < k; i++) q[r * k + i] = signedCode(p.bits, clean(x[(from + r) * k + i]!), a);
      }
      ctx.write(node.outputs[0]!, q);
      ctx.write(node.outputs[1]!, scale);
      return;
    }
    for (let r = 0; r < count; r++) actQuantRow(p, x, (from + r) * k, k, y, r * k);
    ctx.write(node.outputs[0]!, y);
  },
  emit(ctx) {
    const [total, k] = ctx.input(0).shape as [number, number];
    const p = actQuantParams(ctx.node.attrs);
    const { x, rows } = rowArgs(ctx.node, !!ctx.graph.rows, ctx.in(0), k, ctx.rows(total), ctx.outRows(total));
    const sign = p.signed ? 'signed' : 'unsigned';
    if (ctx.node.attrs.int8 === true)
      return {
        kernel: 'tn_act_elastic_signed_i8',
        runtime: ['ref/tn_act_quant.c', 'ref/tn_math.c'],
        body: [
          `tn_act_elastic_signed_i8(${x}, ${rows}, /* k */ ${k}, /* bits */ ${p.bits}, /* step */ ${hexFloat(elasticStep(p.alpha))}, ${ctx.out(0)}, ${ctx.out(1)});`,
        ],
      };
    const fn = p.method === 'elastic' ? `tn_act_elastic_${sign}_f32` : `tn_act_clip8_${sign}_f32`;
    const param = p.method === 'elastic' ? `/* bits */ ${p.bits}, /* step */ ${hexFloat(elasticStep(p.alpha))}` : `/* clip */ ${hexFloat(fround(p.clip))}`;
    return {
      kernel: fn,
      runtime: ['ref/tn_act_quant.c', 'ref/tn_math.c'],
      body: [`${fn}(${x}, ${rows}, /* k */ ${k}, ${param}, ${ctx.out(0)});`],
    };
  },
  cost(graph, node) {
    const x = graph.tensors.get(node.inputs[0]!)!;
    return { macs: x.shape[0]! * x.shape[1]!, weightBytes: 0 };
  },
  // Every kernel reads a row completely (its statistics) before writing it, then writes y[i] after
  // reading x[i] only: in place is safe (int8 codes too: code i is byte i, inside x element i / 4).
  inPlace: [{ input: 0, output: 0 }],
};
