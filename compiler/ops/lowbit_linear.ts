// TernaryLinear and BinaryLinear: y = dequant(x) @ W^T + b with int8 activations and low-bit weights.
//
//   X  int8 [..., K], quantised per tensor or per row (scale sx)
//   W  ternary {-1,0,+1} or binary {-1,+1}, [N, K] or [P, N, K] (P planes sharing X),
//      quantised per tensor, per row, or per group of G consecutive k (scale ws)
//   B  optional float32 [N]
//   Y  float32 [..., N]
//
// For each row t and output n (docs/numerics.md, "Low-bit linear"):
//   acc[p,g] = sum_{k in group g} W[p,n,k] * X[t,k]          exact integer (int32, or int64 if needed)
//   s        = sum over p (outer), g (inner) of  (float)acc[p,g] * ws[p,n,g]   in that order, float32
//   y        = s * sx[t]   then   y = y + B[n]
//   delta:   TernaryLinear with `delta_slot` >= 0 and a run-time delta loaded there: the int8 term of
//            lm/delta_term.ts is added last (ComPEFT task vectors, docs/formats.md)
// The inner loop only adds and subtracts; the multiplies are per group and per output.

import type { DiagnosticCode } from '../diagnostics.ts';
import { elementCount, lastDim, rowsOf, shapeStr, type DType, type Graph, type Node, type NumericData, type Tensor } from '../ir.ts';
import { add, i2f, mul } from '../numerics/f32.ts';
import { at, type InferContext, type InterpretContext, type OpDef, type OutputSpec } from './op.ts';
import { applyDeltaTermInt8 } from './lm/delta_term.ts';
import { LEADING_ROWS_ATTR, leadingRows, leadingRowsC } from './lm/rows.ts';
import { int8MaxAbs, lowBitGeometry, scaleCount, weightScaleIndex, type LowBitGeometry } from '../lowbit.ts';

function makeLowBitLinear(op: 'TernaryLinear' | 'BinaryLinear', wdtype: DType): OpDef {
  const ternary = wdtype === 'ternary';
  return {
    op,
    summary: ternary
      ? 'int8 activations x ternary {-1,0,+1} weights, scales per tensor/row/group, optional bias'
      : 'int8 activations x binary {-1,+1} weights, scales per tensor/row/group, optional bias',
    inputs: { names: ['X', 'W', 'B'], min: 2 },
    outputs: { names: ['Y'], min: 1 },
    // In a token-batched graph: the call's rows (tokens) only.
    rows: true,
    attrs: {
      rows: LEADING_ROWS_ATTR,
      kernel: {
        kind: 'string',
        default: 'auto',
        doc: 'the kernel (e.g. t5w.lut_armv7m) or weight format (t2, t2b, t5, t5w, t6w, b1) to compile this layer to; auto: the compiler chooses (docs/kernels.md)',
      },
      delta_slot: {
        kind: 'int',
        default: -1,
        doc: 'a run-time delta slot (ComPEFT task vectors, docs/formats.md): the delta loaded there adds its sparse ternary term; -1: none',
      },
    },
    infer: (ctx) => inferLowBitLinear(ctx, wdtype),
    interpret: interpretLowBitLinear,
    // LUT kernels need tables: the planner places them in the arena, live during this layer only.
    // Before the choose-kernels pass a layer needs none.
    scratch(_graph, node) {
      return node.choice?.scratchBytes ?? 0;
    },
    emit(ctx) {
      const xT = ctx.input(0);
      const wT = ctx.input(1);
      const geo = lowBitGeometry(wT);
      const choice = ctx.node.choice;
      if (!choice) throw new Error(`internal: no kernel chosen for "${ctx.node.name}" (the choose-kernels pass has not run)`);
      const acc = choice.accumulator;
      const k = choice.kernel;
      const fn = !ternary && k.cFunctionBinary ? k.cFunctionBinary : k.cFunction;
      const codes = ctx.constant(wT.name, choice.format.id, geo.k, { group: geo.group, window: choice.window, rows: geo.n });
      const scale = ctx.constant(wT.quant!.scale, 'f32');
      const granularity = { per_tensor: 'TN_PER_TENSOR', per_row: 'TN_PER_ROW', per_group: 'TN_PER_GROUP' }[wT.quant!.granularity];
      const bias = ctx.hasInput(2) ? ctx.in(2) : 'NULL';
      const rows = rowsOf(xT.shape);
      const accNote =
        choice.flush !== acc.flush
          ? `int64 accumulator, int32 partial sums of at most ${choice.flush} weights (forced for testing; the proven bound is ${acc.flush || 'none'})`
          : acc.bits === 32
            ? `int32 accumulator: |acc| <= ${geo.group} * ${int8MaxAbs(xT)} = ${acc.bound} < 2^31`
            : `int64 accumulator, int32 partial sums flushed every ${acc.flush} weights: |acc| <= ${acc.bound} >= 2^31`;
      ctx.annotate('accumulator', acc.bits === 32 ? 'int32' : `int64 (flush ${acc.flush})`);
      ctx.annotate('packing', choice.format.packing);
      ctx.annotate('why', choice.reason);
      if (choice.scratchBytes) ctx.annotate('scratch', choice.scratchBytes);
      const scratch = choice.scratchBytes ? ctx.scratch() : 'NULL';
      const wdesc = `${ctx.node.name.replace(/[^A-Za-z0-9_]/g, '_')}_weights`;
      const cast = choice.format.cElement ? '(const uint8_t *)' : '';
      const slot = ctx.node.attrs.delta_slot as number;
      const callRows = leadingRowsC(ctx.node, ctx.rows(rows), ctx.outRows(rows));
      const xPerRow = xT.quant!.granularity === 'per_row' ? 1 : 0;
      const delta =
        slot >= 0
          ? [
              `tn_delta_apply_q8(${ctx.in(0)}, ${ctx.inScale(0)}, /* x per row */ ${xPerRow}, /* rows */ ${callRows}, &${ctx.deltaSlots()}[${slot}], /* n */ ${geo.n}, /* k */ ${geo.k}, ${ctx.out(0)});`,
            ]
          : [];
      return {
        kernel: `${fn} (${k.id}, ${acc.bits === 32 ? 'int32' : 'int64'} acc)`,
        runtime: [...k.runtime, ...(slot >= 0 ? ['ref/tn_delta.c'] : [])],
        body: [
          `/* ${accNote} */`,
          `/* kernel ${k.id}: ${choice.reason} */`,
          ...(!ternary && k.format !== 'b1' ? ['/* binary weights are ternary codes without 0: a ternary kernel runs them */'] : []),
          ...(choice.scratchBytes
            ? [
                `/* scratch: ${choice.scratchBytes} bytes of LUT tables (${choice.window} per window) and per-row sums, planned in the arena for this layer only */`,
              ]
            : []),
          // With scratch the descriptor holds a pointer into the arena, so it is built on each call.
          `${choice.scratchBytes ? 'const' : 'static const'} tn_lowbit_weights ${wdesc} = {`,
          `  ${cast}${codes}, ${scale}, /* planes */ ${geo.planes}, /* n */ ${geo.n}, /* k */ ${geo.k}, ${granularity}, /* group */ ${geo.group},`,
          `  /* window */ ${choice.window}, /* scratch */ ${scratch}, ${choice.scratchBytes}`,
          `};`,
          `${fn}(${ctx.in(0)}, ${ctx.inScale(0)}, /* x per row */ ${xPerRow}, /* rows */ ${callRows}, &${wdesc}, ${bias}, /* flush */ ${choice.flush}, ${ctx.out(0)});`,
          ...delta,
        ],
      };
    },
    cost(graph: Graph, node: Node) {
      const w = graph.tensors.get(node.inputs[1]!)!;
      const x = graph.tensors.get(node.inputs[0]!)!;
      const geo = lowBitGeometry(w);
      const chosen = node.choice;
      const codeBytes = chosen ? chosen.codeBytes : geo.planes * geo.n * Math.ceil((geo.k * (ternary ? 2 : 1)) / 8);
      const scaleBytes = scaleCount(w, geo) * 4;
      const biasBytes = node.inputs[2] ? geo.n * 4 : 0;
      return { macs: rowsOf(x.shape) * geo.planes * geo.n * geo.k, weightBytes: codeBytes + scaleBytes + biasBytes };
    },
  };
}

export const TernaryLinear = makeLowBitLinear('TernaryLinear', 'ternary');
export const BinaryLinear = makeLowBitLinear('BinaryLinear', 'binary');

/** The shape and type checks of the int8-activation linear ops (TernaryLinear, BinaryLinear, Int8Linear). */
export function inferLowBitLinear(ctx: InferContext, wdtype: DType): OutputSpec[] {
  const [x, w, b] = ctx.inputs;
  if (!x || !w) return [];
  let ok = true;
  const err = (m: string, code?: DiagnosticCode) => {
    ctx.error(m, code);
    ok = false;
  };
  if (x.dtype !== 'int8') err(`input 0 "${x.name}" must be int8 (from QuantizeInt8), found ${x.dtype}`, 'dtype');
  else if (!x.quant) err(`input 0 "${x.name}" is int8 without a scale; give it "quant" or produce it with QuantizeInt8`);
  else if (x.quant.granularity === 'per_group') err(`input 0 "${x.name}" must be quantised per tensor or per row, not per group`);
  if (x.shape.length < 1) err(`input 0 "${x.name}" must have at least one dimension, found shape ${shapeStr(x.shape)}`);
  if (w.dtype !== wdtype) err(`input 1 "${w.name}" must be ${wdtype}, found ${w.dtype}`, 'dtype');
  if (w.kind !== 'constant') err(`input 1 "${w.name}" must be a constant weight tensor`);
  if (w.shape.length !== 2 && w.shape.length !== 3) err(`input 1 "${w.name}" must have shape [N, K] or [planes, N, K], found ${shapeStr(w.shape)}`);
  if (!w.quant) err(`input 1 "${w.name}" has no scale; give the tensor a "quant" with a scale tensor`);
  if (!ok) return [];
  const geo = lowBitGeometry(w);
  const k = lastDim(x.shape);
  if (k !== geo.k) err(`input 0 "${x.name}" has last dimension ${k}, but weight "${w.name}" ${shapeStr(w.shape)} expects K = ${geo.k}`);
  const scale = ctx.graph.tensors.get(w.quant!.scale);
  if (scale) {
    const want = scaleCount(w, geo);
    if (scale.dtype !== 'float32') err(`scale "${scale.name}" of weight "${w.name}" must be float32, found ${scale.dtype}`, 'dtype');
    if (elementCount(scale.shape) !== want)
      err(
        `scale "${scale.name}" of weight "${w.name}" (${w.quant!.granularity}${w.quant!.granularity === 'per_group' ? `, group ${geo.group}` : ''}) must have ${want} values, found ${elementCount(scale.shape)} (shape ${shapeStr(scale.shape)})`,
      );
  }
  if (b) {
    if (b.dtype !== 'float32') err(`input 2 "${b.name}" (bias) must be float32, found ${b.dtype}`, 'dtype');
    else if (elementCount(b.shape) !== geo.n || b.shape.length !== 1) err(`input 2 "${b.name}" (bias) must have shape [${geo.n}], found ${shapeStr(b.shape)}`);
  }
  if (!ok) return [];
  return [{ dtype: 'float32', shape: [...x.shape.slice(0, -1), geo.n] }];
}

/** Their semantics (the header): exact integer sums per group, then the float steps in order. */
export function interpretLowBitLinear(ctx: InterpretContext): void {
  const { graph, node } = ctx;
  const xT = graph.tensors.get(node.inputs[0]!)!;
  const wT = graph.tensors.get(node.inputs[1]!)!;
  const x = ctx.readNum(xT.name);
  const sx = ctx.readNum(xT.quant!.scale);
  const w = lowBitWeight(ctx, wT.name, node.inputs[2]);
  const rows = rowsOf(xT.shape);
  const xPerRow = xT.quant!.granularity === 'per_row';
  const y = new Float32Array(rows * w.geo.n);
  for (let t = 0; t < leadingRows(node, ctx.rows, rows); t++) lowBitRow(w, x, t * w.geo.k, at(sx, xPerRow ? t : 0, `${xT.quant!.scale}`), y, t * w.geo.n);
  const slot = node.attrs.delta_slot as number;
  const delta = slot >= 0 ? ctx.delta(slot) : undefined;
  if (delta) applyDeltaTermInt8(delta, x, sx, xPerRow, leadingRows(node, ctx.rows, rows), w.geo.k, y);
  ctx.write(node.outputs[0]!, y);
}

/** A low-bit weight (and optional bias) as lowBitRow reads it. */
export interface LowBitWeight {
  tensor: Tensor;
  geo: LowBitGeometry;
  codes: NumericData;
  scales: NumericData;
  bias?: NumericData;
  biasName?: string;
}

export function lowBitWeight(ctx: InterpretContext, name: string, bias?: string): LowBitWeight {
  const tensor = ctx.graph.tensors.get(name)!;
  return {
    tensor,
    geo: lowBitGeometry(tensor),
    codes: ctx.readNum(name),
    scales: ctx.readNum(tensor.quant!.scale),
    ...(bias ? { bias: ctx.readNum(bias), biasName: bias } : {}),
  };
}

/** One row of the formula (the header) for activation codes x[xOff .. xOff + k) with scale sxt, into y[yOff .. yOff + n). */
export function lowBitRow(w: LowBitWeight, x: NumericData, xOff: number, sxt: number, y: Float32Array, yOff: number): void {
  const { tensor: wT, geo, codes, scales: ws, bias } = w;
  for (let n = 0; n < geo.n; n++) {
    let s = 0;
    let first = true;
    for (let p = 0; p < geo.planes; p++) {
      const rowBase = (p * geo.n + n) * geo.k;
      for (let g = 0; g < geo.groups; g++) {
        const k0 = g * geo.group;
        const k1 = Math.min(geo.k, k0 + geo.group);
        let acc = 0;
        for (let k = k0; k < k1; k++) acc += at(codes, rowBase + k, wT.name) * at(x, xOff + k, 'x');
        const term = mul(i2f(acc), at(ws, weightScaleIndex(wT, geo, p, n, g), wT.quant!.scale));
        s = first ? term : add(s, term);
        first = false;
      }
    }
    let v = mul(s, sxt);
    if (bias) v = add(v, at(bias, n, w.biasName!));
    y[yOff + n] = v;
  }
}
