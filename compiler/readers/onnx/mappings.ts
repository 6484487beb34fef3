// The ONNX op mappings: one small entry per ONNX (or QONNX) op, saying how a node becomes IR ops
// (the IR op modules themselves are compiler/ops/).
//
// Each entry's `convert` reads the node through a NodeContext (import.ts) and either defines its
// outputs as constants (everything computable at compile time is folded), or emits IR nodes whose
// semantics are the latest ONNX opset's (docs/onnx-ops.md): the entry normalises older opsets
// (attributes that became inputs, changed defaults, Softmax's 2-D coercion before opset 13).
// `needs` lists the IR ops the general path emits, so that a model using an op whose IR
// implementation is not in this build is reported up front, with every such node.

import type { AttrValue, DType } from '../../ir.ts';
import { elementCount } from '../../ir.ts';
import { OPS } from '../../ops/index.ts';
import { rintf } from '../../numerics/f32.ts';
import { quantRange, quantizeStaticValue, ROUNDING_MODES, type PreOp, type RoundingMode } from '../../ops/quantize_static.ts';
import { binaryConst, castConst, concatConst, constOf, gatherConst, num, sliceBounds, sliceConst, toNumbers, transposeConst, type Const } from './fold.ts';
import type { NodeContext } from './import.ts';
import { irDtype, onnxTypeText } from './tensor.ts';
import { TRUNC_MODES, truncStaticValue } from '../../ops/trunc_static.ts';
import { RNN_ACTIVATIONS } from '../../ops/onnx/rnn.ts';
import { COORDINATE_MODES, NEAREST_MODES, resizeTaps, type ResizeMode, type ResizeParams } from '../../ops/onnx/resize.ts';

export interface OnnxOpMapping {
  /** IR ops the general conversion emits (checked before conversion starts). */
  needs?: string[];
  /** Outputs past the first may be left undefined (they are errors only if something reads them). */
  optionalOutputs?: boolean;
  convert(ctx: NodeContext): void;
}

/** Domains the QONNX custom ops come under: the FINN/Brevitas zoo files use onnx.brevitas. */
const QONNX_DOMAINS = ['onnx.brevitas', 'finn.custom_op.general', 'qonnx.custom_op.general', 'qonnx.custom_ops.general'];

export function onnxOpKey(domain: string, op: string): string {
  return domain ? `${domain}.${op}` : op;
}

export function lookupMapping(domain: string, op: string): OnnxOpMapping | undefined {
  if (domain === '') return Object.prototype.hasOwnProperty.call(DEFAULT, op) ? DEFAULT[op] : undefined;
  if (QONNX_DOMAINS.includes(domain)) return Object.prototype.hasOwnProperty.call(QONNX, op) ? QONNX[op] : undefined;
  return undefined;
}

// ---- helpers ---------------------------------------------------------------------------------

const normAxis = (ctx: NodeContext, axis: number, rank: number, what = 'axis'): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) ctx.fail(`${what} ${axis} is out of range for rank ${rank}`, 'shape');
  return a;
};

/** Ints from an attribute (older opsets) or a constant input (newer ones). */
function intsFrom(ctx: NodeContext, attr: string, input: number, inputFromOpset: number): number[] | undefined {
  if (ctx.version >= inputFromOpset) return ctx.has(input) ? toNumbers(ctx.constInput(input, attr)) : undefined;
  return ctx.ints(attr);
}

function reshapeValue(ctx: NodeContext, shape: number[]): void {
  const v = ctx.value(0);
  const { shape: from } = ctx.info(0);
  if (elementCount(shape) !== elementCount(from))
    ctx.fail(`cannot reshape [${from.join(', ')}] (${elementCount(from)} elements) to [${shape.join(', ')}]`, 'shape');
  if (v.kind === 'const') return ctx.defineConst(0, { ...v.c, shape });
  if (v.kind === 'view') return ctx.define(0, { kind: 'view', base: v.base, shape, pre: v.pre });
  const base = v.kind === 'quant' ? ctx.tensor(0) : v.ir;
  ctx.define(0, { kind: 'view', base, shape, pre: [] });
}

/** Generic entry: the IR op of the same name, ONNX attributes passed by name (IR defaults otherwise). */
function passthrough(irOp: string, opts: { ignore?: string[]; fix?: (ctx: NodeContext, attrs: Record<string, AttrValue>) => void } = {}): OnnxOpMapping {
  return {
    needs: [irOp],
    // Outputs the IR op does not compute (e.g. MaxPool's Indices) are errors only when used.
    optionalOutputs: true,
    convert(ctx) {
      const attrs = irAttrs(ctx, irOp, [...(opts.ignore ?? []), ...(ctx.version === 1 ? ['consumed_inputs'] : [])]);
      opts.fix?.(ctx, attrs);
      ctx.emitSimple(irOp, attrs);
    },
  };
}

function irAttrs(ctx: NodeContext, irOp: string, ignore: string[]): Record<string, AttrValue> {
  const def = OPS.get(irOp);
  if (!def) return ctx.fail(`needs the IR op ${irOp}, which this build of tritc does not have`);
  const attrs: Record<string, AttrValue> = {};
  for (const [name] of ctx.node.attributes) {
    if (ignore.includes(name)) continue;
    const spec = def.attrs[name];
    if (!spec) ctx.fail(`attribute "${name}" of ${ctx.node.opType} is not supported by tritc`);
    switch (spec.kind) {
      case 'int':
        attrs[name] = ctx.int(name)!;
        break;
      case 'bool':
        attrs[name] = ctx.int(name)! !== 0;
        break;
      case 'float':
        attrs[name] = ctx.float(name)!;
        break;
      case 'string':
        attrs[name] = ctx.string(name)!;
        break;
      case 'ints':
        attrs[name] = ctx.ints(name)!;
        break;
    }
  }
  return attrs;
}

// ---- elementwise arithmetic, with folding ------------------------------------------------------

const PRE_OF: Record<string, [PreOp, PreOp]> = { Add: ['add', 'add'], Sub: ['sub', 'rsub'], Mul: ['mul', 'mul'], Div: ['div', 'rdiv'] };

/** Reshape input i to `shape` (same elements) for the rest of this node's conversion. */
function reshapeInput(ctx: NodeContext, i: number, shape: number[]): void {
  const v = ctx.value(i);
  if (v.kind === 'const') return ctx.replaceInput(i, { kind: 'const', c: { ...v.c, shape } });
  const out = ctx.fresh(`${ctx.inputName(i)}.${ctx.nodeName}.reshaped`);
  ctx.emit('Reshape', [ctx.tensor(i)], [out], { shape }, '.legacy_broadcast');
  ctx.replaceInput(i, { kind: 'tensor', ir: out });
}

/**
 * The limited broadcasting of binary ops before version 7 (versions.ts): without `broadcast` = 1
 * the shapes must be equal; with it B's shape is a contiguous part of A's starting at `axis` (suffix
 * when absent), or one element. B gets trailing 1s so that NumPy broadcasting does the same.
 */
function legacyBroadcast(ctx: NodeContext): void {
  if (ctx.version >= 7) return;
  const a = ctx.info(0).shape;
  const b = ctx.info(1).shape;
  const what = `${ctx.node.opType}-${ctx.version}`;
  if (!ctx.int('broadcast', 0)) {
    if (a.join() !== b.join()) ctx.fail(`${what} without broadcast = 1 needs inputs of the same shape, found [${a.join(', ')}] and [${b.join(', ')}]`, 'shape');
    return;
  }
  if (elementCount(b) === 1) return;
  const axis = ctx.hasAttr('axis') ? normAxis(ctx, ctx.int('axis', 0), a.length) : a.length - b.length;
  if (axis < 0 || axis + b.length > a.length || b.some((d, k) => d !== a[axis + k]))
    ctx.fail(`${what}: B [${b.join(', ')}] is not a contiguous part of A's shape [${a.join(', ')}] from axis ${axis} (legacy broadcasting)`, 'shape');
  const shape = [...b, ...Array<number>(a.length - axis - b.length).fill(1)];
  if (shape.length !== b.length) reshapeInput(ctx, 1, shape);
}

/** PRelu before version 7: a 1-D slope of C values is per channel (axis 1), not NumPy-aligned. */
function channelSlope(ctx: NodeContext): void {
  const x = ctx.info(0).shape;
  const s = ctx.info(1).shape;
  if (ctx.version < 7 && s.length === 1 && s[0]! > 1 && x.length > 2 && x[1] === s[0]) reshapeInput(ctx, 1, [s[0]!, ...Array<number>(x.length - 2).fill(1)]);
}

function arith(op: 'Add' | 'Sub' | 'Mul' | 'Div' | 'Pow'): OnnxOpMapping {
  return {
    needs: op === 'Add' ? ['Add'] : [],
    convert(ctx) {
      legacyBroadcast(ctx);
      const a = ctx.value(0);
      const b = ctx.value(1);
      if (a.kind === 'const' && b.kind === 'const') {
        if (a.c.dtype !== b.c.dtype) ctx.fail(`inputs have different dtypes (${a.c.dtype} and ${b.c.dtype})`, 'dtype');
        const r = binaryConst(op, a.c, b.c);
        if (!r) return ctx.fail(`shapes [${a.c.shape.join(', ')}] and [${b.c.shape.join(', ')}] do not broadcast`, 'shape');
        return ctx.defineConst(0, r);
      }
      // A float scalar constant on one side: keep it pending (a Quant that follows can fuse it),
      // unless it follows a linear layer with constant weights: the fold-into-lowbit pass may fold it
      // into that layer's scales and bias, so it stays an IR node.
      if (op !== 'Pow' && !(ctx.lowBit && followsLinearLayer(ctx, a.kind === 'const' ? 1 : 0))) {
        const ci = a.kind === 'const' ? 0 : b.kind === 'const' ? 1 : -1;
        if (ci >= 0) {
          const c = ctx.constInput(ci, 'operand');
          const x = ctx.info(1 - ci);
          if (c.dtype === 'float32' && x.dtype === 'float32' && elementCount(c.shape) === 1 && c.shape.length <= x.shape.length) {
            const v = ctx.value(1 - ci);
            const pre = { op: PRE_OF[op]![ci === 1 ? 0 : 1], c: num(c, 0), node: ctx.nodeName };
            if (v.kind === 'view') return ctx.define(0, { kind: 'view', base: v.base, shape: v.shape, pre: [...v.pre, pre] });
            return ctx.define(0, { kind: 'view', base: ctx.tensor(1 - ci), shape: x.shape, pre: [pre] });
          }
        }
      }
      ctx.emitSimple(op);
    },
  };
}

/**
 * Is input `i` the output of a MatMul, Gemm or Conv with a constant weight, possibly through
 * elementwise ops with a constant operand? (Candidates for the fold-into-lowbit pass.)
 */
function followsLinearLayer(ctx: NodeContext, i: number): boolean {
  const v = ctx.has(i) ? ctx.value(i) : undefined;
  if (v?.kind !== 'tensor') return false;
  const g = ctx.graph;
  for (let name = v.ir; ;) {
    const p = ctx.producer(name);
    if (!p) return false;
    const constIn = (k: number) => g.tensors.get(p.inputs[k] ?? '')?.kind === 'constant';
    if (['MatMul', 'Gemm', 'Conv'].includes(p.op)) return constIn(1);
    if (!['Mul', 'Div', 'Add', 'Sub', 'BatchNormalization'].includes(p.op)) return false;
    const next = constIn(1) ? p.inputs[0] : constIn(0) ? p.inputs[1] : undefined;
    if (!next) return false;
    name = next;
  }
}

/** Record where a linear layer's constant weight came from, for the detect-lowbit pass's note. */
function noteWeightSource(ctx: NodeContext): void {
  const out = ctx.imp.values.get(ctx.outName(0));
  const node = out?.kind === 'tensor' ? ctx.producer(out.ir) : undefined; // none when folded
  if (node && ctx.isConst(1)) node.annotations.weightSource = weightSource(ctx, 1);
}

function weightSource(ctx: NodeContext, i: number): string {
  const name = ctx.inputName(i);
  const p = ctx.imp.model.graph.nodes.find((n) => n.outputs.includes(name));
  if (!p) return 'float constant';
  if (p.opType === 'Transpose') {
    const q = ctx.imp.model.graph.nodes.find((n) => n.outputs.includes(p.inputs[0]!));
    return q ? `${q.opType} (constant)` : 'float constant';
  }
  return `${p.opType} (constant)`;
}

// MatMul, Gemm and Conv are read as they are; the detect-lowbit pass turns those on int8 codes with
// ternary or binary weights into low-bit layers, and fold-into-lowbit folds a BatchNormalization
// or per-channel affine op that follows into them.

const MatMul: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    ctx.emitSimple('MatMul');
    noteWeightSource(ctx);
  },
};

const Gemm: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    ctx.emitSimple('Gemm', irAttrs(ctx, 'Gemm', ['broadcast']));
    noteWeightSource(ctx);
  },
};

const BatchNormalization: OnnxOpMapping = {
  needs: [],
  optionalOutputs: true,
  convert(ctx) {
    if (ctx.int('training_mode', 0)) ctx.fail('training_mode = 1 is not supported (inference only)');
    const attrs: Record<string, AttrValue> = irAttrs(ctx, 'BatchNormalization', ['momentum', 'spatial', 'training_mode', 'is_test', 'consumed_inputs']);
    ctx.emitSimple(
      'BatchNormalization',
      attrs,
      [0, 1, 2, 3, 4].map((i) => ctx.tensor(i)),
    );
  },
};

// ---- QONNX -----------------------------------------------------------------------------------

function scalarConst(ctx: NodeContext, i: number, what: string): number {
  const c = ctx.constInput(i, what);
  if (elementCount(c.shape) !== 1)
    ctx.fail(`input ${i} (${what}) of a quantised activation must be one value (per-tensor), found shape [${c.shape.join(', ')}]`);
  return num(c, 0);
}

/** Elementwise QONNX quantisation of a constant, scale/zero point broadcast NumPy-style. */
function foldQuant(ctx: NodeContext, x: Const, scaleIn: Const, zpIn: Const | undefined, f: (x: number, s: number, z: number) => number): Const {
  if (x.dtype !== 'float32') return ctx.fail(`input 0 must be float32, found ${x.dtype}`, 'dtype');
  const scale = castConst(scaleIn, 'float32');
  const zp = zpIn ? castConst(zpIn, 'float32') : undefined;
  const bs = binaryConst('Mul', x, { ...scale, data: Float32Array.from(scale.data as Float32Array) });
  if (!bs) return ctx.fail(`the scale [${scale.shape.join(', ')}] does not broadcast against X [${x.shape.join(', ')}]`, 'shape');
  // Broadcast index maps, done through the fold helpers: expand scale and zero point to X's shape.
  const expand = (c: Const): Float32Array => {
    const zeros: Const = { dtype: 'float32', shape: bs.shape, data: new Float32Array(elementCount(bs.shape)) };
    const e = binaryConst('Add', zeros, c);
    if (!e || e.shape.join() !== bs.shape.join()) return ctx.fail(`[${c.shape.join(', ')}] does not broadcast to [${bs.shape.join(', ')}]`, 'shape');
    return e.data as Float32Array;
  };
  const xs = expand(x);
  const ss = expand(scale);
  const zs = zp ? expand(zp) : new Float32Array(xs.length);
  const out = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = f(xs[i]!, ss[i]!, zs[i]!);
  return { dtype: 'float32', shape: bs.shape, data: out };
}

/** Emit QuantizeStatic for a dynamic X, fusing a pending view (reshape, scalar ops). */
function quantizeActivation(ctx: NodeContext, scale: number, zp: number, qmin: number, qmax: number, mode: RoundingMode, define = true): string {
  if (ctx.info(0).dtype !== 'float32') return ctx.fail(`input 0 must be float32, found ${ctx.info(0).dtype}`, 'dtype');
  const v = ctx.value(0);
  let base: string;
  let pre: { op: PreOp; c: number }[] = [];
  let shape: number[] = [];
  if (v.kind === 'view' && !v.real) {
    base = v.base;
    pre = v.pre;
    shape = v.shape;
  } else base = ctx.tensor(0);
  const s = ctx.constant({ dtype: 'float32', shape: [1], data: new Float32Array([scale]) }, `${ctx.nodeName}.scale`);
  const consts = pre.map((p, j) => ctx.constant({ dtype: 'float32', shape: [1], data: new Float32Array([p.c]) }, `${ctx.nodeName}.c${j}`));
  const out = ctx.irOut(0, '.q');
  const baseShape = ctx.tensorInfo(base)!.shape;
  ctx.emit('QuantizeStatic', [base, s, ...consts], [out], {
    qmin,
    qmax,
    zero_point: zp,
    rounding: mode,
    pre: pre.map((p) => p.op).join(','),
    shape: shape.length && shape.join() !== baseShape.join() ? shape : [],
  });
  if (define) ctx.define(0, { kind: 'quant', ir: out });
  return out;
}

const Quant: OnnxOpMapping = {
  convert(ctx) {
    const signed = ctx.int('signed', 1) !== 0;
    const narrow = ctx.int('narrow', 0) !== 0;
    const mode = ctx.string('rounding_mode', 'ROUND').toUpperCase() as RoundingMode;
    if (!(ROUNDING_MODES as readonly string[]).includes(mode) || mode === 'BIPOLAR')
      ctx.fail(`rounding_mode "${ctx.string('rounding_mode')}" is not one of ROUND, CEIL, FLOOR, UP, DOWN, HALF_UP, HALF_DOWN`, 'onnx');
    const bitsC = ctx.constInput(3, 'bitwidth');
    if (elementCount(bitsC.shape) !== 1) ctx.fail('bitwidth must be one value', 'onnx');
    const bits = num(bitsC, 0);
    if (!Number.isInteger(bits) || bits < 1 || bits > 24) ctx.fail(`bitwidth ${bits} must be an integer from 1 to 24`, 'onnx');
    const [qmin, qmax] = quantRange(bits, signed, narrow);
    const x = ctx.value(0);
    if (x.kind === 'const') {
      const scale = ctx.constInput(1, 'scale');
      const zp = ctx.constInput(2, 'zeropt');
      return ctx.defineConst(
        0,
        foldQuant(ctx, x.c, scale, zp, (v, s, z) => Math.fround(quantizeStaticValue(v, [], [], s, z, qmin, qmax, mode) * s)),
      );
    }
    const scale = scalarConst(ctx, 1, 'scale');
    const zp = scalarConst(ctx, 2, 'zeropt');
    if (!(scale > 0)) ctx.fail(`scale ${scale} must be positive`, 'onnx');
    if (!Number.isInteger(zp)) ctx.fail(`zero point ${zp} must be an integer for integer codes`);
    if (qmin - zp >= -128 && qmax - zp <= 127) return void quantizeActivation(ctx, scale, zp, qmin, qmax, mode);
    // Unsigned 8-bit codes (after a Relu): uint8 QuantizeLinear codes, read through DequantizeLinear.
    // Exactly Quant's values: with zero point 0, clamping to [0, 255] then rounding half to even is
    // rint(x / scale) saturated to [0, 255].
    if (!signed && bits === 8 && !narrow && zp === 0 && mode === 'ROUND' && ctx.info(0).dtype === 'float32') return void unsignedActivation(ctx, scale);
    ctx.fail(
      `codes [${qmin - zp}, ${qmax - zp}] (${bits}-bit ${signed ? 'signed' : 'unsigned'}${narrow ? ' narrow' : ''}, zero point ${zp}, ${mode}) do not fit int8; tritc quantises activations to int8 codes, or to uint8 codes when unsigned, 8-bit, not narrow, zero point 0 and ROUND`,
    );
  },
};

/** QONNX Quant to unsigned 8-bit codes, zero point 0, ROUND: uint8 QuantizeLinear -> DequantizeLinear. */
function unsignedActivation(ctx: NodeContext, scale: number): void {
  const s = ctx.constant({ dtype: 'float32', shape: [1], data: new Float32Array([scale]) }, `${ctx.nodeName}.scale`);
  const z = ctx.constant({ dtype: 'uint8', shape: [1], data: new Uint8Array(1) }, `${ctx.nodeName}.zero`);
  const codes = ctx.irOut(0, '.q');
  ctx.emit('QuantizeLinear', [ctx.tensor(0), s, z], [codes]);
  const out = ctx.irOut(0);
  ctx.emit('DequantizeLinear', [codes, s, z], [out], {}, '.dequantize');
  ctx.define(0, { kind: 'tensor', ir: out });
}

const BipolarQuant: OnnxOpMapping = {
  convert(ctx) {
    const x = ctx.value(0);
    if (x.kind === 'const')
      return ctx.defineConst(
        0,
        foldQuant(ctx, x.c, ctx.constInput(1, 'scale'), undefined, (v, s) => Math.fround((v >= 0 ? 1 : -1) * s)),
      );
    const scale = scalarConst(ctx, 1, 'scale');
    if (!(scale > 0)) ctx.fail(`scale ${scale} must be positive`, 'onnx');
    quantizeActivation(ctx, scale, 0, -1, 1, 'BIPOLAR');
  },
};

/** Round half to even in float64 (NumPy's np.round), for compile-time exponents. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * QONNX Trunc, both versions of the spec (told apart by the input count):
 *   v1: X, scale, zeropt, input_bit_width, output_bit_width; truncation scale 2^(in - out), output
 *       scale = scale * truncation scale
 *   v2: X, scale, zeropt, input_bit_width, out_scale, out_bitwidth; truncation scale
 *       2^round(log2(out_scale / scale)) (the spec's "should be a power of two")
 * Both then compute the same steps (TruncStatic, docs/numerics.md): constants are folded with the
 * interpreter's element function, activations become a TruncStatic node.
 */
const Trunc: OnnxOpMapping = {
  needs: ['TruncStatic'],
  convert(ctx) {
    const n = ctx.node.inputs.length;
    if (n !== 5 && n !== 6)
      ctx.fail(
        `has ${n} inputs; QONNX Trunc takes 5 (v1: X, scale, zeropt, input_bit_width, output_bit_width) or 6 (v2: X, scale, zeropt, input_bit_width, out_scale, out_bitwidth)`,
        'onnx',
      );
    const v1 = n === 5;
    const signed = ctx.int('signed', 1) !== 0;
    const narrow = ctx.int('narrow', 0) !== 0;
    const mode = ctx.string('rounding_mode', 'FLOOR').toUpperCase() as RoundingMode;
    if (!(TRUNC_MODES as readonly string[]).includes(mode))
      ctx.fail(`rounding_mode "${ctx.string('rounding_mode')}" is not one of ${TRUNC_MODES.join(', ')}`, 'onnx');
    const bitsOf = (i: number, what: string, max: number): number => {
      const b = scalarConst(ctx, i, what);
      if (!Number.isInteger(b) || b < 1 || b > max) ctx.fail(`${what} ${b} must be an integer from 1 to ${max}`, 'onnx');
      return b;
    };
    // The input width (an accumulator's, say) only sets v1's truncation scale; the output range must
    // be exact in float32.
    const inBits = bitsOf(3, 'input_bit_width', 64);
    const outBits = bitsOf(v1 ? 4 : 5, 'output_bit_width', 24);
    const outScaleV2 = v1 ? 0 : scalarConst(ctx, 4, 'out_scale');
    const [qmin, qmax] = quantRange(outBits, signed, narrow);
    // Truncation and output scales for an input scale s (float32 values; powers of two are exact).
    const scales = (s: number): [number, number] => {
      if (!(s > 0)) ctx.fail(`scale ${s} must be positive`, 'onnx');
      if (v1) {
        const ts = 2 ** (inBits - outBits);
        return [ts, Math.fround(s * ts)];
      }
      if (!(outScaleV2 > 0)) ctx.fail(`out_scale ${outScaleV2} must be positive`, 'onnx');
      const e = roundHalfEven(Math.log2(outScaleV2 / s));
      if (e < -126 || e > 127) ctx.fail(`the truncation scale 2^${e} (out_scale / scale) is not a normal float32`, 'onnx');
      return [2 ** e, outScaleV2];
    };
    const x = ctx.value(0);
    if (x.kind === 'const') {
      return ctx.defineConst(
        0,
        foldQuant(ctx, x.c, ctx.constInput(1, 'scale'), ctx.constInput(2, 'zeropt'), (v, s, z) => {
          const [ts, os] = scales(s);
          return truncStaticValue(v, s, z, ts, os, qmin, qmax, mode);
        }),
      );
    }
    if (ctx.info(0).dtype !== 'float32') ctx.fail(`input 0 must be float32, found ${ctx.info(0).dtype}`, 'dtype');
    const s = Math.fround(scalarConst(ctx, 1, 'scale'));
    const z = Math.fround(scalarConst(ctx, 2, 'zeropt'));
    const [ts, os] = scales(s);
    const one = (v: number, what: string) => ctx.constant({ dtype: 'float32', shape: [1], data: new Float32Array([v]) }, `${ctx.nodeName}.${what}`);
    // A quantised input (Quant on an activation, int8 codes) is read as Quant's float output, code * scale.
    const out = ctx.irOut(0);
    ctx.emit('TruncStatic', [ctx.tensor(0), one(s, 'scale'), one(z, 'zeropt'), one(ts, 'trunc_scale'), one(os, 'out_scale')], [out], {
      qmin,
      qmax,
      rounding: mode,
    });
    ctx.define(0, { kind: 'tensor', ir: out });
  },
};

// ---- ONNX QuantizeLinear / DequantizeLinear ---------------------------------------------------------

const INT_RANGE: Partial<Record<DType, [number, number]>> = { int8: [-128, 127], uint8: [0, 255], int32: [-(2 ** 31), 2 ** 31 - 1] };

/** Scale and zero point of a (De)QuantizeLinear node, per tensor, along `axis`, or blocked along it. */
function qParams(ctx: NodeContext, rank: number): { scale: Const; zp?: Const; axis: number; block: number } {
  const block = ctx.int('block_size', 0);
  const scale = ctx.constInput(1, 'scale');
  const zp = ctx.has(2) ? ctx.constInput(2, 'zero point') : undefined;
  if (block < 0) ctx.fail(`block_size ${block} must not be negative`, 'onnx');
  const axis = block === 0 && (scale.shape.length === 0 || elementCount(scale.shape) === 1) ? -1 : normAxis(ctx, ctx.int('axis', 1), rank);
  if (block > 0) {
    const xs = ctx.info(0).shape;
    const want = xs.map((d, k) => (k === axis ? Math.ceil(d / block) : d));
    for (const [c, what] of [
      [scale, 'scale'],
      [zp, 'zero point'],
    ] as const)
      if (c && c.shape.join() !== want.join())
        ctx.fail(`the ${what} [${c.shape.join(', ')}] must be [${want.join(', ')}] for block_size ${block} on axis ${axis} of x [${xs.join(', ')}]`, 'shape');
  }
  return { scale, zp, axis, block };
}

/** Index into a per-axis (or blocked, block > 0) parameter for flat element i of a tensor of `shape`. */
function paramIndex(shape: readonly number[], axis: number, i: number, block = 0): number {
  if (axis < 0) return 0;
  const inner = elementCount(shape.slice(axis + 1));
  const dim = shape[axis]!;
  const c = Math.floor(i / inner) % dim;
  if (block <= 0) return c;
  const o = Math.floor(i / (inner * dim));
  return (o * Math.ceil(dim / block) + Math.floor(c / block)) * inner + (i % inner);
}

function sameScalar(a: Const | undefined, b: number): boolean {
  return a !== undefined && elementCount(a.shape) === 1 && num(a, 0) === b;
}

const QuantizeLinear: OnnxOpMapping = {
  convert(ctx) {
    const x = ctx.info(0);
    const { scale, zp, axis, block } = qParams(ctx, x.shape.length);
    const outType = zp?.dtype ?? (ctx.int('output_dtype', 0) ? irDtype(ctx.int('output_dtype', 0)) : 'uint8');
    const range = outType ? INT_RANGE[outType] : undefined;
    if (!outType || !range) return ctx.fail(`quantises to ${outType ?? onnxTypeText(ctx.int('output_dtype', 0))}, which tritc does not support`, 'dtype');
    const [lo, hi] = range;
    if (ctx.isConst(0)) {
      const c = ctx.constInput(0, 'x');
      const out = Array.from({ length: elementCount(c.shape) }, (_, i) => {
        const k = paramIndex(c.shape, axis, i, block);
        const t = rintf(Math.fround(num(c, i) / num(scale, k))) + (zp ? num(zp, k) : 0);
        return Number.isNaN(t) ? 0 : Math.min(hi, Math.max(lo, t));
      });
      return ctx.defineConst(0, constOf(outType, c.shape, out));
    }
    // QDQ: a QuantizeLinear whose every reader is a DequantizeLinear with the same constant scale and
    // zero point is an int8 activation: codes q - zp = clamp(round(x / s), lo - zp, hi - zp).
    const z = zp ? num(zp, 0) : 0;
    const s = num(scale, 0);
    const readers = ctx.consumers(ctx.outName(0));
    const qdq =
      ctx.lowBit &&
      axis < 0 &&
      block === 0 &&
      x.dtype === 'float32' &&
      s > 0 &&
      lo - z >= -128 &&
      hi - z <= 127 &&
      !readers.output &&
      readers.nodes.length > 0 &&
      readers.nodes.every(
        (n) => n.opType === 'DequantizeLinear' && n.domain === '' && n.inputs[0] === ctx.outName(0) && dqMatches(ctx, n.inputs[1]!, n.inputs[2] ?? '', s, z),
      );
    if (qdq) {
      const ir = quantizeActivation(ctx, s, 0, lo - z, hi - z, 'ROUND', false);
      return ctx.define(0, { kind: 'qdq', ir, scale: s, zp: z, dtype: outType });
    }
    ctx.emitSimple('QuantizeLinear', irAttrs(ctx, 'QuantizeLinear', []));
  },
};

/** Do a DequantizeLinear's scale and zero point (ONNX names) hold exactly `s` and `z`? */
function dqMatches(ctx: NodeContext, scaleName: string, zpName: string, s: number, z: number): boolean {
  const c = (n: string) => {
    const v = n ? ctx.imp.values.get(n) : undefined;
    return v?.kind === 'const' ? v.c : undefined;
  };
  return sameScalar(c(scaleName), s) && (zpName ? sameScalar(c(zpName), z) : z === 0);
}

const DequantizeLinear: OnnxOpMapping = {
  convert(ctx) {
    const v = ctx.value(0);
    if (v.kind === 'qdq') return ctx.define(0, { kind: 'quant', ir: v.ir });
    const x = ctx.info(0);
    const { scale, zp, axis, block } = qParams(ctx, x.shape.length);
    if (ctx.isConst(0)) {
      const c = ctx.constInput(0, 'x');
      const out = new Float32Array(elementCount(c.shape));
      for (let i = 0; i < out.length; i++) {
        const k = paramIndex(c.shape, axis, i, block);
        out[i] = Math.fround((num(c, i) - (zp ? num(zp, k) : 0)) * num(scale, k));
      }
      return ctx.defineConst(0, { dtype: 'float32', shape: [...c.shape], data: out });
    }
    ctx.emitSimple('DequantizeLinear', irAttrs(ctx, 'DequantizeLinear', []));
  },
};

// ---- shapes and data movement ----------------------------------------------------------------------

const Identity: OnnxOpMapping = {
  optionalOutputs: true,
  convert(ctx) {
    ctx.define(0, ctx.value(0));
  },
};

const Constant: OnnxOpMapping = {
  convert(ctx) {
    const t = ctx.tensorAttr('value');
    if (t) return ctx.defineConst(0, t);
    const f = ctx.attr('value_float');
    if (f?.kind === 'float') return ctx.defineConst(0, constOf('float32', [], [f.value]));
    const fs = ctx.floats('value_floats');
    if (fs) return ctx.defineConst(0, constOf('float32', [fs.length], fs));
    const i = ctx.attr('value_int');
    if (i?.kind === 'int') return ctx.defineConst(0, constOf('int64', [], [i.value]));
    const is = ctx.attr('value_ints');
    if (is?.kind === 'ints') return ctx.defineConst(0, constOf('int64', [is.value.length], is.value));
    ctx.fail(`has no value tritc supports (${[...ctx.node.attributes.keys()].join(', ') || 'no attributes'}); sparse and string constants are not supported`);
  },
};

const Shape: OnnxOpMapping = {
  convert(ctx) {
    const shape = ctx.info(0).shape;
    const r = shape.length;
    let start = ctx.int('start', 0);
    let end = ctx.int('end', r);
    start = Math.min(Math.max(start < 0 ? start + r : start, 0), r);
    end = Math.min(Math.max(end < 0 ? end + r : end, 0), r);
    const dims = shape.slice(start, Math.max(start, end));
    ctx.defineConst(0, constOf('int64', [dims.length], dims));
  },
};

const Size: OnnxOpMapping = {
  convert(ctx) {
    ctx.defineConst(0, constOf('int64', [], [elementCount(ctx.info(0).shape)]));
  },
};

const Reshape: OnnxOpMapping = {
  convert(ctx) {
    const from = ctx.info(0).shape;
    const spec = ctx.version >= 5 ? toNumbers(ctx.constInput(1, 'shape')) : (ctx.ints('shape') ?? []);
    const allowzero = ctx.int('allowzero', 0);
    const shape = spec.map((d, i) =>
      d === 0 && !allowzero ? (from[i] ?? ctx.fail(`shape [${spec.join(', ')}] copies dimension ${i}, which [${from.join(', ')}] does not have`, 'shape')) : d,
    );
    const minus = shape.filter((d) => d === -1).length;
    if (minus > 1 || shape.some((d) => d < -1)) ctx.fail(`shape [${spec.join(', ')}] is not a valid Reshape target`, 'shape');
    if (minus === 1) {
      const known = shape.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
      if (known === 0 || elementCount(from) % known !== 0) ctx.fail(`cannot reshape [${from.join(', ')}] to [${spec.join(', ')}]`, 'shape');
      shape[shape.indexOf(-1)] = elementCount(from) / known;
    }
    reshapeValue(ctx, shape);
  },
};

const Flatten: OnnxOpMapping = {
  convert(ctx) {
    const from = ctx.info(0).shape;
    const axis = ctx.int('axis', 1);
    const a = axis < 0 ? axis + from.length : axis;
    if (a < 0 || a > from.length) ctx.fail(`axis ${axis} is out of range for rank ${from.length}`, 'shape');
    reshapeValue(ctx, [elementCount(from.slice(0, a)), elementCount(from.slice(a))]);
  },
};

const Squeeze: OnnxOpMapping = {
  convert(ctx) {
    const from = ctx.info(0).shape;
    const axes = (intsFrom(ctx, 'axes', 1, 13) ?? from.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(ctx, a, from.length, 'axis'));
    for (const a of axes) if (from[a] !== 1) ctx.fail(`cannot squeeze axis ${a} of size ${from[a]}`, 'shape');
    reshapeValue(
      ctx,
      from.filter((_, i) => !axes.includes(i)),
    );
  },
};

const Unsqueeze: OnnxOpMapping = {
  convert(ctx) {
    const from = ctx.info(0).shape;
    const axesRaw = intsFrom(ctx, 'axes', 1, 13);
    if (!axesRaw) return ctx.fail('needs axes', 'onnx');
    const rank = from.length + axesRaw.length;
    const axes = axesRaw.map((a) => normAxis(ctx, a, rank, 'axis'));
    const out: number[] = [];
    let k = 0;
    for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : from[k++]!);
    reshapeValue(ctx, out);
  },
};

const Gather: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    const rank = ctx.info(0).shape.length;
    const axis = normAxis(ctx, ctx.int('axis', 0), rank);
    if (ctx.isConst(0) && ctx.isConst(1)) {
      const data = ctx.constInput(0, 'data');
      const indices = ctx.constInput(1, 'indices');
      const dim = data.shape[axis]!;
      if (indices.dtype !== 'int32' && indices.dtype !== 'int64') return ctx.fail(`indices must be int32 or int64, found ${indices.dtype}`, 'dtype');
      const bad = toNumbers(indices).find((k) => k < -dim || k >= dim);
      if (bad !== undefined) return ctx.fail(`index ${bad} is out of range for axis ${axis} of size ${dim}`, 'shape');
      return ctx.defineConst(0, gatherConst(data, indices, axis));
    }
    ctx.emitSimple('Gather', { axis });
  },
};

const Concat: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    const rank = ctx.info(0).shape.length;
    // Concat-1: axis is optional, default 1.
    const axis = normAxis(ctx, ctx.int('axis', ctx.version === 1 ? 1 : 0), rank);
    const n = ctx.inputCount;
    if (Array.from({ length: n }, (_, i) => ctx.isConst(i)).every(Boolean)) {
      const parts = Array.from({ length: n }, (_, i) => ctx.constInput(i, 'input'));
      const [p0] = parts as [Const];
      for (const [i, p] of parts.entries()) {
        if (p.dtype !== p0.dtype) return ctx.fail(`input ${i} is ${p.dtype}, input 0 is ${p0.dtype}`, 'dtype');
        if (p.shape.length !== p0.shape.length || p.shape.some((d, k) => k !== axis && d !== p0.shape[k]))
          return ctx.fail(`input ${i} [${p.shape.join(', ')}] does not match input 0 [${p0.shape.join(', ')}] outside axis ${axis}`, 'shape');
      }
      return ctx.defineConst(0, concatConst(parts, axis));
    }
    ctx.emitSimple('Concat', { axis });
  },
};

const Transpose: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    const rank = ctx.info(0).shape.length;
    const perm = ctx.ints('perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i))
      ctx.fail(`perm [${perm.join(', ')}] is not a permutation of ${rank} axes`, 'shape');
    if (ctx.isConst(0)) return ctx.defineConst(0, transposeConst(ctx.constInput(0, 'data'), perm));
    ctx.emitSimple('Transpose', { perm });
  },
};

/** TensorProto.DataType names by code (Cast-1's `to`). */
const TYPE_NAMES = ['UNDEFINED', 'FLOAT', 'UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'STRING', 'BOOL', 'FLOAT16', 'DOUBLE', 'UINT32', 'UINT64'];

const Cast: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    // Cast-1 names the type ("FLOAT"); later versions give its DataType code.
    const name = ctx.attr('to')?.kind === 'string' ? ctx.string('to')! : undefined;
    const to = name !== undefined ? TYPE_NAMES.indexOf(name.toUpperCase()) : ctx.int('to');
    const dt = to === undefined || to < 0 ? undefined : irDtype(to);
    if (!dt) return ctx.fail(`casts to ${name ?? (to === undefined ? 'nothing' : onnxTypeText(to))}, which tritc does not support`, 'dtype');
    if (ctx.isConst(0)) return ctx.defineConst(0, castConst(ctx.constInput(0, 'input'), dt));
    if (ctx.info(0).dtype === dt) return ctx.define(0, ctx.value(0));
    ctx.emitSimple('Cast', { ...irAttrs(ctx, 'Cast', ['saturate', 'round_mode', 'to']), to: to! });
  },
};

const Slice: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    const shape = ctx.info(0).shape;
    const r = shape.length;
    const starts = intsFrom(ctx, 'starts', 1, 10);
    const ends = intsFrom(ctx, 'ends', 2, 10);
    if (!starts || !ends || starts.length !== ends.length) return ctx.fail('needs starts and ends of the same length', 'onnx');
    const axes = (intsFrom(ctx, 'axes', 3, 10) ?? starts.map((_, i) => i)).map((a) => normAxis(ctx, a, r));
    const steps = ctx.version >= 10 && ctx.has(4) ? toNumbers(ctx.constInput(4, 'steps')) : starts.map(() => 1);
    if (steps.some((s) => s === 0)) ctx.fail('a step of 0 is not allowed', 'onnx');
    if (ctx.isConst(0)) {
      const first = shape.map(() => 0);
      const step = shape.map(() => 1);
      const count = [...shape];
      axes.forEach((a, i) => {
        const b = sliceBounds(shape[a]!, starts[i]!, ends[i]!, steps[i]!);
        first[a] = b.first;
        step[a] = steps[i]!;
        count[a] = b.count;
      });
      // An empty slice of a constant stays a compile-time value: shape computations take empty
      // prefixes (LayerNormalization's function body slices Shape(X)[:axis], empty for axis 0, and
      // concatenates it with the rest). Only the IR has no empty tensors: the importer's constant()
      // reports an empty value that an IR node would read.
      return ctx.defineConst(0, sliceConst(ctx.constInput(0, 'data'), first, step, count));
    }
    ctx.emitSimple('Slice', { starts, ends, axes, steps }, [ctx.tensor(0)]);
  },
};

const Split: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    const shape = ctx.info(0).shape;
    const axis = normAxis(ctx, ctx.int('axis', 0), shape.length);
    // Split-1 could also take the split as a second input.
    let split = ctx.version >= 13 || (ctx.version === 1 && ctx.has(1)) ? (ctx.has(1) ? toNumbers(ctx.constInput(1, 'split')) : undefined) : ctx.ints('split');
    if (!split) {
      const parts = ctx.version >= 18 && ctx.hasAttr('num_outputs') ? ctx.int('num_outputs', 1) : ctx.outputCount;
      const dim = shape[axis]!;
      const each = Math.ceil(dim / parts);
      split = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
    }
    if (split.reduce((a, b) => a + b, 0) !== shape[axis])
      ctx.fail(`split [${split.join(', ')}] does not add up to dimension ${axis} of size ${shape[axis]}`, 'shape');
    if (ctx.isConst(0)) {
      const c = ctx.constInput(0, 'input');
      let start = 0;
      split.forEach((len, j) => {
        const first = shape.map((_, d) => (d === axis ? start : 0));
        const count = shape.map((n, d) => (d === axis ? len : n));
        start += len;
        if (ctx.outName(j))
          ctx.defineConst(
            j,
            sliceConst(
              c,
              first,
              shape.map(() => 1),
              count,
            ),
          );
      });
      return;
    }
    ctx.emitSimple('Split', { axis, split }, [ctx.tensor(0)]);
  },
};

// ---- the rest of the ONNX ops, one IR op each (docs/onnx-ops.md) ---------------------------------

const Softmax = (op: 'Softmax' | 'LogSoftmax'): OnnxOpMapping => ({
  needs: [op],
  convert(ctx) {
    const shape = ctx.info(0).shape;
    if (ctx.version >= 13) return ctx.emitSimple(op, { axis: ctx.int('axis', -1) });
    // Before version 13 the input is coerced to 2-D around `axis` (default 1) and normalised per row.
    const axis = normAxis(ctx, ctx.int('axis', 1), shape.length);
    if (axis === shape.length - 1) return ctx.emitSimple(op, { axis: -1 });
    const flat = [elementCount(shape.slice(0, axis)), elementCount(shape.slice(axis))];
    const x2 = ctx.fresh(`${ctx.nodeName}.in2d`);
    ctx.emit('Reshape', [ctx.tensor(0)], [x2], { shape: flat }, '.flatten');
    const y2 = ctx.fresh(`${ctx.nodeName}.out2d`);
    ctx.emit(op, [x2], [y2], { axis: -1 });
    const out = ctx.irOut(0);
    ctx.emit('Reshape', [y2], [out], { shape }, '.unflatten');
    ctx.define(0, { kind: 'tensor', ir: out });
  },
});

const Relu: OnnxOpMapping = {
  needs: ['Relu'],
  convert(ctx) {
    const q = ctx.quantized(0);
    if (q && ctx.lowBit) {
      const out = ctx.irOut(0, '.q');
      ctx.emit('Relu', [q.name], [out]);
      return ctx.define(0, { kind: 'quant', ir: out });
    }
    ctx.emitSimple('Relu');
  },
};

const argExtreme = (op: 'ArgMax' | 'ArgMin'): OnnxOpMapping => ({
  needs: [op],
  convert(ctx) {
    const rank = ctx.info(0).shape.length;
    const axis = normAxis(ctx, ctx.int('axis', 0), rank);
    // ONNX's ArgMax returns int64; the IR op returns int32 unless asked.
    ctx.emitSimple(op, { axis, keepdims: ctx.int('keepdims', 1) !== 0, select_last_index: ctx.int('select_last_index', 0) !== 0, output_dtype: 'int64' }, [
      ctx.tensor(0),
    ]);
  },
});

const Clip: OnnxOpMapping = {
  needs: ['Clip'],
  convert(ctx) {
    if (ctx.version >= 11) return ctx.emitSimple('Clip', {});
    // Clip-6: min/max attributes (defaults: the float32 range) become constant inputs.
    const lo = ctx.constant(constOf('float32', [], [ctx.float('min', -3.4028234663852886e38)]), `${ctx.nodeName}.min`);
    const hi = ctx.constant(constOf('float32', [], [ctx.float('max', 3.4028234663852886e38)]), `${ctx.nodeName}.max`);
    ctx.emitSimple('Clip', {}, [ctx.tensor(0), lo, hi]);
  },
};

/** ReduceMean/Sum/Max/Min: `axes` an attribute before opset `axesInput`, a constant input from it on. */
const reduce = (op: 'ReduceMean' | 'ReduceSum' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd', axesInput: number): OnnxOpMapping => ({
  needs: [op],
  convert(ctx) {
    const axes = ctx.version >= axesInput ? (ctx.has(1) ? toNumbers(ctx.constInput(1, 'axes')) : []) : (ctx.ints('axes') ?? []);
    ctx.emitSimple(op, { axes, keepdims: ctx.int('keepdims', 1), noop_with_empty_axes: ctx.int('noop_with_empty_axes', 0) }, [ctx.tensor(0)]);
  },
});

/**
 * Sum, Max, Min (variadic, broadcasting): a chain of two-input IR ops in input order,
 * ((x0 op x1) op x2) ...; one input is the value itself. Max and Min give the same result in any
 * order (docs/numerics.md); Sum adds in input order.
 */
const variadic = (irOp: 'Add' | 'Max' | 'Min'): OnnxOpMapping => ({
  needs: [irOp],
  convert(ctx) {
    const ins = ctx.node.inputs.map((_, i) => i).filter((i) => ctx.has(i));
    if (!ins.length) return ctx.fail('needs at least one input', 'onnx');
    if (ins.length === 1) return ctx.define(0, ctx.value(ins[0]!));
    let cur = ctx.tensor(ins[0]!);
    for (let k = 1; k < ins.length; k++) {
      const last = k === ins.length - 1;
      const out = last ? ctx.irOut(0) : ctx.fresh(`${ctx.nodeName}.partial${k}`);
      ctx.emit(irOp, [cur, ctx.tensor(ins[k]!)], [out], {}, last ? '' : `.${k}`);
      cur = out;
    }
    ctx.define(0, { kind: 'tensor', ir: cur });
  },
});

const Dropout: OnnxOpMapping = {
  optionalOutputs: true,
  convert(ctx) {
    if (ctx.has(2) && ctx.isConst(2) && num(ctx.constInput(2, 'training_mode'), 0)) ctx.fail('training_mode = true is not supported (inference only)');
    ctx.define(0, ctx.value(0));
  },
};

// ---- ops tritc only evaluates at compile time (shape computations of exported graphs) ------------

/** An op on constants only: folded by `f`; on a runtime value it needs an IR op tritc lacks. */
function foldOnly(f: (ctx: NodeContext) => Const, what: readonly string[] = []): OnnxOpMapping {
  return {
    convert(ctx) {
      // Every input must be known at compile time (the output's shape depends on it).
      for (let i = 0; i < ctx.inputCount; i++) if (ctx.has(i)) ctx.constInput(i, what[i] ?? `input ${i}`);
      ctx.defineConst(0, f(ctx));
    },
  };
}

const ConstantOfShape = foldOnly(
  (ctx) => {
    const shape = toNumbers(ctx.constInput(0, 'shape'));
    const v = ctx.tensorAttr('value') ?? constOf('float32', [1], [0]);
    const n = elementCount(shape);
    if (shape.some((d) => !(d >= 1)) || n > 2 ** 31 - 1 || elementCount(v.shape) !== 1)
      return ctx.fail(
        `cannot make a tensor of shape [${shape.join(', ')}] from a value of shape [${v.shape.join(', ')}] (dimensions must be positive, at most 2^31 - 1 elements)`,
        'shape',
      );
    return constOf(
      v.dtype,
      shape,
      Array.from({ length: n }, () => v.data[0]!),
    );
  },
  ['shape'],
);

const Range = foldOnly(
  (ctx) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => ctx.constInput(i, ['start', 'limit', 'delta'][i]!));
    const s = num(start!, 0);
    const d = num(delta!, 0);
    const n = Math.max(Math.ceil((num(limit!, 0) - s) / d), 0);
    if (!(n >= 1 && n <= 2 ** 24)) return ctx.fail(`Range(${s}, ${num(limit!, 0)}, ${d}) has ${n} elements; tritc folds ranges of 1 to 2^24 elements`, 'shape');
    return constOf(
      start!.dtype,
      [n],
      Array.from({ length: n }, (_, i) => (start!.dtype === 'float32' ? Math.fround(s + i * d) : s + i * d)),
    );
  },
  ['start', 'limit', 'delta'],
);

const unaryFold = (fn: (x: number) => number, intFn?: (x: bigint) => bigint) =>
  foldOnly((ctx) => {
    const c = ctx.constInput(0, 'X');
    if (c.dtype === 'float32') return { dtype: 'float32', shape: [...c.shape], data: (c.data as Float32Array).map((x) => Math.fround(fn(x))) };
    if (!intFn) return ctx.fail(`is supported on float32 constants only, found ${c.dtype}`);
    return constOf(
      c.dtype,
      c.shape,
      Array.from(c.data as ArrayLike<number | bigint>, (x) => (c.dtype === 'int64' ? BigInt.asIntN(64, intFn(BigInt(x))) : Number(intFn(BigInt(x))))),
    );
  });

/**
 * Neg and Reciprocal: folded on constants; on a float32 value, one IR op with a constant operand that
 * gives the same bits (x * -1 is -x, sign of zero included; 1 / x is Reciprocal's one division).
 */
function lowerUnary(fold: OnnxOpMapping, op: 'Mul' | 'Div', c: number, what: string): OnnxOpMapping {
  return {
    convert(ctx) {
      const dt = ctx.info(0).dtype;
      // Neg also on signed integers (x * -1 wraps as -x does); Reciprocal on float32 only.
      const ok = dt === 'float32' || (op === 'Mul' && (dt === 'int8' || dt === 'int32' || dt === 'int64'));
      if (ctx.isConst(0) || !ok) return fold.convert(ctx);
      const k = ctx.constant(constOf(dt, [], [c]), `${ctx.nodeName}.${op === 'Mul' ? 'minus_one' : 'one'}`);
      const out = ctx.irOut(0);
      const node = ctx.emit(op, op === 'Mul' ? [ctx.tensor(0), k] : [k, ctx.tensor(0)], [out]);
      if (node) node.annotations.onnx = `${ctx.node.opType} as ${what}`;
      ctx.define(0, { kind: 'tensor', ir: out });
    },
  };
}

const CastLike: OnnxOpMapping = {
  convert(ctx) {
    const to = ctx.info(1).dtype;
    if (ctx.isConst(0)) return ctx.defineConst(0, castConst(ctx.constInput(0, 'input'), to));
    if (ctx.info(0).dtype === to) return ctx.define(0, ctx.value(0));
    ctx.emitSimple('Cast', { to: onnxTypeOfDtype(to) }, [ctx.tensor(0)]);
  },
};

const onnxTypeOfDtype = (d: DType): number => ({ float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9 })[d as 'float32'] ?? 0;

// ---- convolution: ternary/binary weights on int8 codes become TernaryConv/BinaryConv --------------

const Conv: OnnxOpMapping = {
  needs: [],
  convert(ctx) {
    ctx.emitSimple('Conv', irAttrs(ctx, 'Conv', []));
    noteWeightSource(ctx);
  },
};

// ---- Expand, Tile, Pad: shapes, repeats and pads are compile-time constants --------------------------

const Expand: OnnxOpMapping = {
  needs: ['Expand'],
  convert(ctx) {
    ctx.emitSimple('Expand', { shape: toNumbers(ctx.constInput(1, 'shape')) }, [ctx.tensor(0)]);
  },
};

const Tile: OnnxOpMapping = {
  needs: ['Tile'],
  convert(ctx) {
    const rank = ctx.info(0).shape.length;
    let repeats: number[];
    if (ctx.version >= 6) repeats = toNumbers(ctx.constInput(1, 'repeats'));
    else {
      // Tile-1: `tiles` copies along one `axis`.
      const tiles = num(ctx.constInput(1, 'tiles'), 0);
      const axis = normAxis(ctx, num(ctx.constInput(2, 'axis'), 0), rank);
      repeats = Array.from({ length: rank }, (_, a) => (a === axis ? tiles : 1));
    }
    ctx.emitSimple('Tile', { repeats }, [ctx.tensor(0)]);
  },
};

const Pad: OnnxOpMapping = {
  needs: ['Pad'],
  convert(ctx) {
    const { dtype, shape } = ctx.info(0);
    const r = shape.length;
    const mode = ctx.string('mode', 'constant');
    let pads: number[];
    let value = '';
    if (ctx.version >= 11) {
      const given = toNumbers(ctx.constInput(1, 'pads'));
      const axes = ctx.version >= 18 && ctx.has(3) ? toNumbers(ctx.constInput(3, 'axes')).map((a) => normAxis(ctx, a, r)) : shape.map((_, a) => a);
      if (given.length !== 2 * axes.length) ctx.fail(`pads has ${given.length} values for ${axes.length} axes; it needs two per axis`, 'shape');
      pads = Array<number>(2 * r).fill(0);
      axes.forEach((a, k) => {
        pads[a] = given[k]!;
        pads[a + r] = given[k + axes.length]!;
      });
      if (ctx.has(2)) value = ctx.tensor(2);
    } else {
      // Pad-1 names the attribute `paddings`, Pad-2 `pads`; the constant is the float attribute `value`.
      pads = ctx.ints(ctx.version === 1 ? 'paddings' : 'pads') ?? ctx.fail('needs pads', 'onnx');
      const v = ctx.float('value', 0);
      if (v !== 0) value = ctx.constant(castConst(constOf('float32', [], [v]), dtype), `${ctx.nodeName}.value`);
    }
    ctx.emitSimple('Pad', { pads, mode }, value ? [ctx.tensor(0), value] : [ctx.tensor(0)]);
  },
};

// ---- CumSum, TopK, ScatterND, LRN ---------------------------------------------------------------------

const CumSum: OnnxOpMapping = {
  needs: ['CumSum'],
  convert(ctx) {
    const axis = ctx.constInput(1, 'axis');
    if (elementCount(axis.shape) !== 1) ctx.fail(`axis must be one value, found shape [${axis.shape.join(', ')}]`, 'shape');
    ctx.emitSimple('CumSum', { axis: num(axis, 0), exclusive: ctx.int('exclusive', 0), reverse: ctx.int('reverse', 0) }, [ctx.tensor(0)]);
  },
};

const TopK: OnnxOpMapping = {
  needs: ['TopK'],
  convert(ctx) {
    // TopK-1: k an attribute; TopK-10: an input; largest and sorted from TopK-11.
    const k = ctx.version >= 10 ? num(ctx.constInput(1, 'K'), 0) : ctx.int('k', 0);
    ctx.emitSimple('TopK', { k, axis: ctx.int('axis', -1), largest: ctx.int('largest', 1), sorted: ctx.int('sorted', 1) }, [ctx.tensor(0)]);
  },
};

// ---- Resize and Upsample: tap tables computed here, Interpolate at run time ----------------------------

/** An optional constant input; an empty tensor counts as absent (Resize-11's unused roi and scales). */
function optionalConst(ctx: NodeContext, i: number, what: string): number[] | undefined {
  if (!ctx.has(i)) return undefined;
  const v = toNumbers(ctx.constInput(i, what));
  return v.length ? v : undefined;
}

const Resize: OnnxOpMapping = {
  needs: ['Interpolate'],
  convert(ctx) {
    const shape = ctx.info(0).shape;
    const r = shape.length;
    const upsample = ctx.node.opType === 'Upsample';
    // Resize-10 and Upsample: inputs X, scales (Upsample-7: the attribute), asymmetric coordinates,
    // nearest rounds down.
    const old = upsample || ctx.version < 11;
    const mode = ctx.string('mode', 'nearest');
    if (!['nearest', 'linear', 'cubic'].includes(mode) || (old && mode === 'cubic')) ctx.fail(`mode "${mode}" is not supported`, 'onnx');
    const coordinate = old ? 'asymmetric' : ctx.string('coordinate_transformation_mode', 'half_pixel');
    const nearest = old ? 'floor' : ctx.string('nearest_mode', 'round_prefer_floor');
    if (!COORDINATE_MODES.includes(coordinate)) ctx.fail(`coordinate_transformation_mode "${coordinate}" is not one of ${COORDINATE_MODES.join(', ')}`, 'onnx');
    if (!NEAREST_MODES.includes(nearest)) ctx.fail(`nearest_mode "${nearest}" is not one of ${NEAREST_MODES.join(', ')}`, 'onnx');
    const antialias = ctx.int('antialias', 0) !== 0;
    if (antialias && mode === 'nearest') ctx.fail('antialias is defined for linear and cubic modes only', 'onnx');
    const axes = (ctx.ints('axes') ?? shape.map((_, a) => a)).map((a) => normAxis(ctx, a, r));
    const widen = (v: number[], fill: number, what: string): number[] => {
      if (v.length !== axes.length) ctx.fail(`${what} has ${v.length} values for ${axes.length} axes`, 'shape');
      const full = shape.map(() => fill);
      axes.forEach((a, k) => (full[a] = v[k]!));
      return full;
    };
    const scalesIn = upsample && ctx.version < 9 ? ctx.floats('scales') : optionalConst(ctx, old ? 1 : 2, 'scales');
    const sizesIn = old ? undefined : optionalConst(ctx, 3, 'sizes');
    let scales: number[];
    let out: number[];
    if (sizesIn) {
      out = widen(sizesIn, 0, 'sizes').map((d, a) => (axes.includes(a) ? d : shape[a]!));
      scales = out.map((d, a) => d / shape[a]!);
      const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
      if (policy !== 'stretch') {
        if (policy !== 'not_larger' && policy !== 'not_smaller')
          ctx.fail(`keep_aspect_ratio_policy "${policy}" is not stretch, not_larger or not_smaller`, 'onnx');
        const picked = axes.map((a) => scales[a]!);
        const s = policy === 'not_larger' ? Math.min(...picked) : Math.max(...picked);
        scales = shape.map((_, a) => (axes.includes(a) ? s : 1));
        out = shape.map((d, a) => (axes.includes(a) ? Math.floor(s * d + 0.5) : d));
      }
    } else if (scalesIn) {
      scales = widen(scalesIn.map(Math.fround), 1, 'scales');
      if (scales.some((v) => !(v > 0))) ctx.fail(`scales [${scales.join(', ')}] must be positive`, 'onnx');
      out = shape.map((d, a) => Math.floor(d * scales[a]!));
    } else return ctx.fail('needs scales or sizes', 'onnx');
    if (out.some((d) => d < 1)) ctx.fail(`the output shape [${out.join(', ')}] has an empty axis; tritc has no zero-size tensors`, 'shape');
    const roi = coordinate === 'tf_crop_and_resize' ? optionalConst(ctx, 1, 'roi') : undefined;
    if (coordinate === 'tf_crop_and_resize' && !roi) ctx.fail('tf_crop_and_resize needs a roi', 'onnx');
    const params: ResizeParams = {
      mode: mode as ResizeMode,
      coordinate,
      nearest,
      cubicA: ctx.float('cubic_coeff_a', -0.75),
      excludeOutside: ctx.int('exclude_outside', 0) !== 0,
      antialias,
      scales,
      out,
      roi: roi && [...widen(roi.slice(0, roi.length / 2), 0, 'roi'), ...widen(roi.slice(roi.length / 2), 1, 'roi')],
    };
    const t = resizeTaps(shape, params);
    if (!t.index.length) (t.index.push(0), t.weight.push(0)); // every coordinate outside the ROI: one unused tap
    const table = (dtype: 'int32' | 'float32', v: number[], what: string) => ctx.constant(constOf(dtype, [v.length], v), `${ctx.nodeName}.${what}`);
    const ext = ctx.float('extrapolation_value', 0);
    ctx.emitSimple('Interpolate', { sizes: out, extrapolation_value: ext }, [
      ctx.tensor(0),
      table('int32', t.offsets, 'offsets'),
      table('int32', t.index, 'taps'),
      table('float32', t.weight, 'weights'),
    ]);
  },
};

// ---- LSTM and GRU ---------------------------------------------------------------------------------

/** Activations that read alpha (and beta): activation_alpha/beta are consumed in order by those only. */
const USES_ALPHA = ['HardSigmoid', 'LeakyRelu', 'Elu', 'Affine', 'ScaledTanh', 'ThresholdedRelu'];
const USES_BETA = ['HardSigmoid', 'Affine', 'ScaledTanh'];

const rnn = (kind: 'LSTM' | 'GRU'): OnnxOpMapping => ({
  needs: [kind],
  optionalOutputs: true,
  convert(ctx) {
    const lstm = kind === 'LSTM';
    const direction = ctx.string('direction', 'forward');
    const dirs = direction === 'bidirectional' ? 2 : 1;
    const defaults = lstm ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
    const a = ctx.attr('activations');
    const given = a?.kind === 'strings' ? a.value : a?.kind === 'string' ? [a.value] : Array.from({ length: dirs }, () => defaults).flat();
    const names = Object.keys(RNN_ACTIVATIONS);
    const acts = given.map((n) => names.find((k) => k.toLowerCase() === n.toLowerCase()) ?? ctx.fail(`activation "${n}" is not one of ${names.join(', ')}`));
    const alphas = [...(ctx.floats('activation_alpha') ?? [])];
    const betas = [...(ctx.floats('activation_beta') ?? [])];
    const params = acts.flatMap((n) => [
      USES_ALPHA.includes(n) && alphas.length ? alphas.shift()! : RNN_ACTIVATIONS[n]![0],
      USES_BETA.includes(n) && betas.length ? betas.shift()! : RNN_ACTIVATIONS[n]![1],
    ]);
    const r = ctx.info(2).shape;
    const hidden = ctx.int('hidden_size', r[2] ?? 0);
    const p = ctx.constant(constOf('float32', [acts.length, 2], params), `${ctx.nodeName}.activation_params`);
    const n = lstm ? 8 : 6;
    const ins = Array.from({ length: n }, (_, i) => ctx.tensor(i));
    // The IR names every output up to the last one used: an omitted Y before a used Y_h is computed
    // into a tensor of its own.
    const last = Math.max(...ctx.node.outputs.map((o, j) => (o ? j : -1)));
    const outs = Array.from({ length: last + 1 }, (_, j) => (ctx.outName(j) ? ctx.irOut(j) : ctx.fresh(`${ctx.nodeName}.unused${j}`)));
    ctx.emit(kind, [...ins, p], outs, {
      hidden_size: hidden,
      direction,
      activations: acts.join(','),
      clip: ctx.float('clip', 0),
      layout: ctx.int('layout', 0),
      ...(lstm ? { input_forget: ctx.int('input_forget', 0) } : { linear_before_reset: ctx.int('linear_before_reset', 0) }),
    });
    outs.forEach((o, j) => ctx.define(j, { kind: 'tensor', ir: o }));
  },
});

const DEFAULT: Record<string, OnnxOpMapping> = {
  ConstantOfShape,
  Range,
  Neg: lowerUnary(
    unaryFold(
      (x) => -x,
      (x) => -x,
    ),
    'Mul',
    -1,
    'x * -1',
  ),
  Reciprocal: lowerUnary(
    unaryFold((x) => 1 / x),
    'Div',
    1,
    '1 / x',
  ),
  CastLike,
  Constant,
  Identity,
  Dropout,
  Shape,
  Size,
  CumSum,
  TopK,
  ScatterND: passthrough('ScatterND'),
  LRN: passthrough('LRN'),
  ConvTranspose: passthrough('ConvTranspose'),
  Resize,
  Upsample: Resize,
  LSTM: rnn('LSTM'),
  GRU: rnn('GRU'),
  Expand,
  Tile,
  Pad,
  Reshape,
  Flatten,
  Squeeze,
  Unsqueeze,
  Gather,
  Concat,
  Transpose,
  Cast,
  Slice,
  Split,
  Add: arith('Add'),
  Sub: arith('Sub'),
  Mul: arith('Mul'),
  Div: arith('Div'),
  Pow: arith('Pow'),
  MatMul,
  Gemm,
  BatchNormalization,
  Relu,
  Softmax: Softmax('Softmax'),
  LogSoftmax: Softmax('LogSoftmax'),
  ArgMax: argExtreme('ArgMax'),
  ArgMin: argExtreme('ArgMin'),
  Clip,
  ReduceMean: reduce('ReduceMean', 18),
  ReduceSum: reduce('ReduceSum', 13),
  ReduceMax: reduce('ReduceMax', 18),
  ReduceMin: reduce('ReduceMin', 18),
  ReduceProd: reduce('ReduceProd', 18),
  Sum: variadic('Add'),
  Max: variadic('Max'),
  Min: variadic('Min'),
  Less: passthrough('Less', { ignore: ['broadcast', 'axis'], fix: (ctx) => legacyBroadcast(ctx) }),
  Greater: passthrough('Greater', { ignore: ['broadcast', 'axis'], fix: (ctx) => legacyBroadcast(ctx) }),
  Equal: passthrough('Equal', { ignore: ['broadcast', 'axis'], fix: (ctx) => legacyBroadcast(ctx) }),
  LessOrEqual: passthrough('LessOrEqual'),
  GreaterOrEqual: passthrough('GreaterOrEqual'),
  Sqrt: passthrough('Sqrt'),
  Log: passthrough('Log'),
  Exp: passthrough('Exp'),
  Erf: passthrough('Erf'),
  Sigmoid: passthrough('Sigmoid'),
  Tanh: passthrough('Tanh'),
  Gelu: passthrough('Gelu'),
  Elu: passthrough('Elu'),
  LeakyRelu: passthrough('LeakyRelu'),
  Selu: passthrough('Selu'),
  HardSigmoid: passthrough('HardSigmoid'),
  HardSwish: passthrough('HardSwish'),
  Softplus: passthrough('Softplus'),
  Softsign: passthrough('Softsign'),
  Mish: passthrough('Mish'),
  Floor: passthrough('Floor'),
  Ceil: passthrough('Ceil'),
  Round: passthrough('Round'),
  Abs: passthrough('Abs'),
  PRelu: passthrough('PRelu', { fix: (ctx) => channelSlope(ctx) }),
  Where: passthrough('Where'),
  LayerNormalization: passthrough('LayerNormalization'),
  Conv,
  MaxPool: {
    needs: ['MaxPool'],
    optionalOutputs: true,
    convert(ctx) {
      // The Indices output (int64) is computed only when something reads it.
      const attrs = irAttrs(ctx, 'MaxPool', []);
      const indices = ctx.node.outputs[1] && ctx.readers(ctx.node.outputs[1]) > 0;
      const outs = indices ? [ctx.irOut(0), ctx.irOut(1)] : [ctx.irOut(0)];
      ctx.emit('MaxPool', [ctx.tensor(0)], outs, attrs);
      outs.forEach((o, j) => ctx.define(j, { kind: 'tensor', ir: o }));
    },
  },
  AveragePool: passthrough('AveragePool'),
  GlobalAveragePool: passthrough('GlobalAveragePool'),
  QuantizeLinear,
  DequantizeLinear,
  MatMulInteger: passthrough('MatMulInteger'),
  ConvInteger: passthrough('ConvInteger'),
  QLinearMatMul: passthrough('QLinearMatMul'),
  QLinearConv: passthrough('QLinearConv'),
};

const QONNX: Record<string, OnnxOpMapping> = { Quant, IntQuant: Quant, BipolarQuant, Trunc };
