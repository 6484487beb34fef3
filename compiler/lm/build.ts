// A decoder-only language model (LmModel, from any LM reader) -> a token-batched IR graph that the
// ordinary pipeline compiles: passes, kernel choice, memory plan (activations, kernel scratch and the
// KV cache together), C. The graph reads like llama2.c's forward(), one node per step:
//
//   x = Embed(tokens, token_embd)
//   per layer l:   xb = RmsNorm(x, attn_norm);  q, k, v = Linear(xb, attn_q | attn_k | attn_v)
//                  q, k = Rope(q | k, pos);  att = Attention(q, k, v, pos, k_cache, v_cache)
//                  [bitnet: att = RmsNorm(att, attn_sub_norm)];  x = x + Linear(att, attn_output)
//                  xb = RmsNorm(x, ffn_norm);  hb = GatedAct(Linear(xb, ffn_gate), Linear(xb, ffn_up))
//                  [bitnet: hb = RmsNorm(hb, ffn_sub_norm)];  x = x + Linear(hb, ffn_down)
//   logits = Linear(RmsNorm(x, output_norm), output | token_embd)    (the last n_out rows only)
//
// A MoTE layer (config.moe) adds routed experts beside that FFN (the shared expert):
//                  idx, gates = Router(xb, ffn_gate_inp);  per slot j < k:
//                  d_j = ExpertLinear(GatedAct(ExpertLinear(xb, idx, ffn_gate_exps.*), ExpertLinear(xb, idx, ffn_up_exps.*)), idx, ffn_down_exps.*)
//                  x = x + MoeCombine(Linear(hb, ffn_down), gates, d_0, ..., d_{k-1})
//
// A projection whose weight carries TBT's activation quantizer (LmTernary.input) reads
// ActQuant(x) instead of x.
//
// Inputs: `tokens` int32 [chunk] and `pos` int32 [1]; output `logits` float32 [chunk, vocab]. A call
// runs n <= chunk tokens at positions pos .. pos + n - 1 (docs/lm.md has the driver around it).

import { fail } from '../diagnostics.ts';
import { type AttrValue, type DType, type Graph, type Node, type Tensor, type TypedData } from '../ir.ts';
import { bf16BitsToF32, f16BitsToF32 } from '../numerics/half.ts';
import { getOp } from '../ops/index.ts';
import { withDefaults } from '../ops/op.ts';
import { inferNode, setOutputs } from '../passes/infer.ts';
import { baseHash, deltaSlots } from './delta/base.ts';
import { DELTA_MAX_COLS } from './delta/blob.ts';
import type { ActQuantParams } from '../ops/lm/act_quant.ts';
import { int8SumsFit } from '../ops/lm/int8_linear.ts';
import { lowBitGeometry } from '../lowbit.ts';
import { blk, type LmModel, type LmTensor } from './model.ts';

export interface LmBuildOptions {
  /** Positions the KV cache holds (default: the model's context length). */
  context?: number;
  /** Tokens one call of the graph runs at most: prefill runs in chunks of this (default 16). */
  chunk?: number;
  /** The KV cache's element type (default float32); int8 adds a float32 scale per position and KV head. */
  kvCache?: 'float32' | 'float16' | 'int8';
  /**
   * What goes into the ternary and int8 projections: float activations (llama.cpp's semantics for
   * GGUF) or int8 codes with a scale per token (BitNet's absmax quantizer; the default for models
   * whose own code defines it, the Hugging Face BitNet layout). Default: the model's.
   */
  activations?: 'float' | 'int8-per-token';
  /**
   * Accept run-time deltas (ComPEFT task vectors, docs/formats.md): every per-layer projection gets
   * a delta slot, and the C model a <prefix>_load_delta.
   */
  deltas?: boolean;
}

/** The most positions a KV cache holds (--context). */
const MAX_CONTEXT = 1 << 20;

export function buildLmGraph(model: LmModel, opts: LmBuildOptions = {}): Graph {
  const c = model.config;
  const context = opts.context ?? c.contextLength;
  const chunk = opts.chunk ?? 16;
  const kvType: DType = opts.kvCache ?? 'float32';
  if (opts.context === undefined && context > MAX_CONTEXT)
    fail('limit', model.source, `the model's context length is ${context} positions, more than tritc compiles (2^20); give a shorter one with --context N`);
  if (!(Number.isInteger(context) && context >= 1 && context <= MAX_CONTEXT)) fail('usage', '--context', `must be an integer from 1 to 2^20, got ${context}`);
  if (!(Number.isInteger(chunk) && chunk >= 1 && chunk <= 4096)) fail('usage', '--chunk', `must be an integer from 1 to 4096, got ${chunk}`);
  const activations = opts.activations ?? c.activations;
  const g: Graph = {
    name: model.name,
    source: model.source,
    inputs: [],
    outputs: [],
    tensors: new Map(),
    nodes: [],
    sourceHash: model.sourceHash,
    rows: { max: chunk },
  };
  const slots = opts.deltas ? deltaSlots(c) : [];
  if (opts.deltas) {
    const wide = slots.find((s) => s.cols > DELTA_MAX_COLS);
    if (wide) fail('limit', '--deltas', `${wide.name} has ${wide.cols} columns; a delta blob indexes at most ${DELTA_MAX_COLS}`);
  }
  const b = new Builder(g, model, activations, new Map(slots.map((s, i) => [s.name, i])));

  const tokens = b.input('tokens', 'int32', [chunk]);
  const pos = b.input('pos', 'int32', [1]);
  const table = b.weight('token_embd');
  let x = b.node('Embed', 'embed', [tokens, table], 'x');
  const kvw = c.nKvHeads * c.headDim;
  const moeExperts: string[][][] = [];
  const [cos, sin] = ropeTables(b, c.ropeTheta, c.ropeDim, context);
  const ropeAttrs = { head_dim: c.headDim, rope_dim: c.ropeDim, style: c.ropeStyle };
  for (let l = 0; l < c.nLayers; l++) {
    const L = (s: string) => `l${l}.${s}`;
    const xb = b.node('RmsNorm', L('attn_norm'), [x, b.norm(blk(l, 'attn_norm'))], L('xb'), { eps: c.normEps });
    const q = b.project(L('wq'), xb, blk(l, 'attn_q'), L('q'));
    const k = b.project(L('wk'), xb, blk(l, 'attn_k'), L('k'));
    const v = b.project(L('wv'), xb, blk(l, 'attn_v'), L('v'));
    const qr = b.node('Rope', L('rope_q'), [q, pos, cos, sin], L('q_rot'), { ...ropeAttrs, heads: c.nHeads });
    const kr = b.node('Rope', L('rope_k'), [k, pos, cos, sin], L('k_rot'), { ...ropeAttrs, heads: c.nKvHeads });
    const kc = b.state(L('k_cache'), kvType, [context, kvw]);
    const vc = b.state(L('v_cache'), kvType, [context, kvw]);
    const scales =
      kvType === 'int8' ? [b.state(L('k_cache_scale'), 'float32', [context, c.nKvHeads]), b.state(L('v_cache_scale'), 'float32', [context, c.nKvHeads])] : [];
    let att = b.node('Attention', L('attention'), [qr, kr, v, pos, kc, vc, ...scales], L('att'), {
      heads: c.nHeads,
      kv_heads: c.nKvHeads,
      head_dim: c.headDim,
      scale: 1 / Math.sqrt(c.headDim),
    });
    if (c.subNorms) att = b.node('RmsNorm', L('attn_sub_norm'), [att, b.norm(blk(l, 'attn_sub_norm'))], L('att_norm'), { eps: c.normEps });
    const o = b.project(L('wo'), att, blk(l, 'attn_output'), L('att_out'));
    x = b.node('Residual', L('attn_residual'), [x, o], L('x_att'));
    const xb2 = b.node('RmsNorm', L('ffn_norm'), [x, b.norm(blk(l, 'ffn_norm'))], L('xb_ffn'), { eps: c.normEps });
    const gate = b.project(L('w_gate'), xb2, blk(l, 'ffn_gate'), L('gate'));
    const up = b.project(L('w_up'), xb2, blk(l, 'ffn_up'), L('up'));
    let hb = b.node('GatedAct', L(c.ffnAct), [gate, up], L('hb'), { act: c.ffnAct });
    if (c.subNorms) hb = b.node('RmsNorm', L('ffn_sub_norm'), [hb, b.norm(blk(l, 'ffn_sub_norm'))], L('hb_norm'), { eps: c.normEps });
    let down = b.project(L('w_down'), hb, blk(l, 'ffn_down'), L('ffn_out'));
    if (c.moe) down = b.routedExperts(l, xb2, down, moeExperts);
    x = b.node('Residual', L('ffn_residual'), [x, down], L('x_ffn'));
  }
  const xf = b.node('RmsNorm', 'final_norm', [x, b.norm('output_norm')], 'x_final', { eps: c.normEps, rows: 'last' });
  // The head is a projection too: with int8 activations a ternary head runs on the ternary kernels.
  const logits = b.project('output', xf, c.tiedOutput ? table : 'output', 'logits', 'out');
  g.outputs.push(logits);
  g.lm = {
    vocab: c.vocabSize,
    context,
    tokens,
    pos,
    logits,
    summary: {
      architecture: c.arch,
      format: model.format,
      activations: b.describeInputs(activations),
      kvCache: kvType,
      chunk,
      context,
      layers: c.nLayers,
      dim: c.dim,
      heads: c.nHeads,
      kvHeads: c.nKvHeads,
      ffn: `${c.ffnAct} ${c.hiddenDim}`,
      rope: `${c.ropeStyle} ${c.ropeDim}/${c.headDim}, base ${c.ropeTheta}`,
      tiedOutput: c.tiedOutput ? 'yes' : 'no',
      ...(opts.deltas ? { deltas: `${slots.length} slots` } : {}),
      ...(c.moe
        ? {
            moe: `${c.moe.experts} routed experts (FFN ${c.moe.expertHiddenDim}), top-${c.moe.topK}, gates: softmax over ${c.moe.normalizeGates ? `the ${c.moe.topK} chosen` : 'all experts'}; shared expert: the FFN`,
          }
        : {}),
    },
    ...(opts.deltas ? { deltas: { baseHash: baseHash(model), slots } } : {}),
    ...(c.moe ? { moe: { topK: c.moe.topK, experts: moeExperts } } : {}),
  };
  return g;
}

/** cos/sin(p * theta^(-2i / ropeDim)) for p < positions, i < ropeDim / 2: double, rounded once. */
function ropeTables(b: Builder, theta: number, ropeDim: number, positions: number): [string, string] {
  const half = ropeDim / 2;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let i = 0; i < half; i++) {
    const freq = theta ** ((-2 * i) / ropeDim);
    for (let p = 0; p < positions; p++) {
      cos[p * half + i] = Math.cos(p * freq);
      sin[p * half + i] = Math.sin(p * freq);
    }
  }
  return [b.constant('rope_cos', 'float32', [positions, half], cos), b.constant('rope_sin', 'float32', [positions, half], sin)];
}

class Builder {
  /** The int8 codes made of each activation (one QuantizeInt8 for the projections that share it). */
  private readonly quantized = new Map<string, string>();
  /** The ActQuant outputs made so far, by input and quantizer. */
  private readonly actQuantized = new Map<string, string>();

  constructor(
    readonly g: Graph,
    readonly model: LmModel,
    readonly activations: 'float' | 'int8-per-token',
    /** Delta slot by tensor name (empty: no run-time deltas). */
    readonly deltaSlot: ReadonlyMap<string, number>,
  ) {}

  /**
   * A projection of `x` by model tensor `weight`: Linear (float activations), or, for a ternary
   * weight with int8 activations, QuantizeInt8 per token (once per x) then TernaryLinear.
   */
  project(name: string, x: string, weight: string, out: string, rows: 'all' | 'out' = 'all'): string {
    const w = this.weight(weight);
    const t = this.model.tensors.get(weight);
    // Fairy2i's activations are float by its definition, whatever the other projections take.
    if (t?.kind === 'fairy2i') return this.node('WidelyLinear', name, [x, w, `${w}.scale`], out, { rows });
    const bias = this.g.tensors.has(`${w}.bias`) ? [`${w}.bias`] : [];
    // A TBT projection quantizes its own input (its act quantizer), then runs on those values; with
    // the signed elastic quantizer (codes -1, 0, +1 times the step), in TBT's integer form on the
    // int8 ternary kernels.
    const own = t?.kind === 'ternary' ? t.input : undefined;
    const slot: Record<string, AttrValue> = this.deltaSlot.has(weight) ? { delta_slot: this.deltaSlot.get(weight)! } : {};
    if (own?.method === 'elastic' && own.signed)
      return this.node('TernaryLinear', name, [this.actQuant(name, x, own, rows), w, ...bias], out, { rows, ...slot });
    if (own) x = this.actQuant(name, x, own, rows);
    const wT = this.g.tensors.get(w)!;
    // With int8 activations an int8 weight (an int8 or Q8_0 head or projection) runs in integers too,
    // as llama.cpp runs Q8_0 weights, where its scale groups sum exactly in int32.
    const integer = wT.dtype === 'ternary' || (wT.dtype === 'int8' && wT.shape.length === 2 && int8SumsFit(lowBitGeometry(wT).group, 127));
    if (own || this.activations !== 'int8-per-token' || !integer) {
      const columns = `${w}.columns`;
      const attrs = { rows, ...slot };
      if (!this.g.tensors.has(columns)) return this.node('Linear', name, [x, w, ...bias], out, attrs);
      // GPTQ act-order: the weight's columns are stored group by group; gather x to match. A delta
      // is in the model's column order: its term (DeltaAdd) reads x as it was, then the bias.
      const xp = this.node('PermuteColumns', `${name}.permute`, [x, columns], `${out}_xperm`, { rows });
      if (slot.delta_slot === undefined) return this.node('Linear', name, [xp, w, ...bias], out, attrs);
      const base = this.node('Linear', name, [xp, w], `${out}_base`, { rows });
      return this.node('DeltaAdd', `${name}.delta`, [x, base, ...bias], out, { rows, ...slot });
    }
    return this.node(wT.dtype === 'int8' ? 'Int8Linear' : 'TernaryLinear', name, [this.int8Codes(x, rows), w, ...bias], out, { rows, ...slot });
  }

  /** x as int8 codes with a scale per row (QuantizeInt8, BitNet's absmax), once per x. */
  private int8Codes(x: string, rows: 'all' | 'out'): string {
    let xq = this.quantized.get(x);
    if (!xq) {
      xq = `${x}_q8`;
      const attrs = withDefaults(getOp('QuantizeInt8'), { granularity: 'per_row', rows });
      this.add({ name: `${x}.quantize`, op: 'QuantizeInt8', inputs: [x], outputs: [xq, `${xq}.scale`], attrs, annotations: {} });
      this.quantized.set(x, xq);
    }
    return xq;
  }

  /** What goes into the projections, for inspect: the mode, and TBT's quantizers when there are any. */
  describeInputs(activations: string): string {
    const kinds = new Map<string, number>();
    for (const t of this.model.tensors.values())
      if (t.kind === 'ternary' && t.input) {
        const p = t.input;
        const k =
          p.method === 'elastic'
            ? `elastic ${p.signed ? 'signed' : 'unsigned'} ${p.bits}-bit`
            : `8-bit ${p.signed ? 'signed' : 'unsigned'} clip ${Math.fround(p.clip)}`;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
      }
    if (!kinds.size) return activations;
    const list = [...kinds].map(([k, n]) => `${k} x${n}`).join(', ');
    return `${activations}, with TBT's quantizers on projection inputs (${list})`;
  }

  /**
   * x through TBT's activation quantizer `p` (once per x and quantizer: equal ones are shared): the
   * values, or for the signed elastic quantizer int8 codes with the step as their scale per row.
   */
  private actQuant(name: string, x: string, p: ActQuantParams, rows: 'all' | 'out'): string {
    const int8 = p.method === 'elastic' && p.signed;
    const key = `${x}|${p.method}|${p.bits}|${p.signed}|${Math.fround(p.alpha)}|${Math.fround(p.clip)}|${rows}`;
    const done = this.actQuantized.get(key);
    if (done) return done;
    const xq = `${name}_xq`;
    const attrs = withDefaults(getOp('ActQuant'), { method: p.method, bits: p.bits, signed: p.signed, alpha: p.alpha, clip: p.clip, rows, int8 });
    this.add({ name: `${name}.act_quant`, op: 'ActQuant', inputs: [x], outputs: int8 ? [xq, `${xq}.scale`] : [xq], attrs, annotations: {} });
    this.actQuantized.set(key, xq);
    return xq;
  }

  /**
   * The routed half of a MoTE layer: Router, then per slot the expert FFN on the routed expert's
   * weights only, then the gated sum onto the shared expert's output `shared`. Records each expert's
   * weight tensors in `experts` (for `inspect`).
   */
  routedExperts(l: number, xb: string, shared: string, experts: string[][][]): string {
    const moe = this.model.config.moe!;
    const L = (s: string) => `l${l}.${s}`;
    const router = this.floatWeight(blk(l, 'ffn_gate_inp'));
    const idx = L('moe_idx');
    const gates = L('moe_gates');
    const attrs = withDefaults(getOp('Router'), { top_k: moe.topK, normalize: moe.normalizeGates });
    this.add({ name: L('router'), op: 'Router', inputs: [xb, router], outputs: [idx, gates], attrs, annotations: {} });
    const ws = (p: string) => Array.from({ length: moe.experts }, (_, e) => this.weight(blk(l, `${p}.${e}`)));
    const [gw, uw, dw] = [ws('ffn_gate_exps'), ws('ffn_up_exps'), ws('ffn_down_exps')];
    experts.push(gw.map((g, e) => [g, uw[e]!, dw[e]!]));
    const act = this.model.config.ffnAct;
    // With int8 activations, ternary experts are BitLinear as in MoTE: their inputs as int8 codes.
    const oneTernaryPlane = (n: string) => {
      const t = this.g.tensors.get(n)!;
      return t.dtype === 'ternary' && t.shape.length === 2;
    };
    const codes = (x: string, w: string[]) => (this.activations === 'int8-per-token' && w.every(oneTernaryPlane) ? this.int8Codes(x, 'all') : x);
    const outs: string[] = [];
    for (let j = 0; j < moe.topK; j++) {
      const S = (s: string) => L(`${s}${j}`);
      const g = this.node('ExpertLinear', S('exp_gate'), [codes(xb, gw), idx, ...gw], S('exp_gate_out'), { slot: j });
      const u = this.node('ExpertLinear', S('exp_up'), [codes(xb, uw), idx, ...uw], S('exp_up_out'), { slot: j });
      const h = this.node('GatedAct', S(`exp_${act}`), [g, u], S('exp_hb'), { act });
      outs.push(this.node('ExpertLinear', S('exp_down'), [codes(h, dw), idx, ...dw], S('exp_out'), { slot: j }));
    }
    return this.node('MoeCombine', L('moe_combine'), [shared, gates, ...outs], L('moe_out'));
  }

  /** A float matrix of the model as a float32 constant (float16 widened exactly): the router. */
  private floatWeight(name: string): string {
    const t = this.model.tensors.get(name);
    if (t?.kind !== 'float16') return this.weight(name);
    return this.constant(name, 'float32', t.shape, Float32Array.from(t.bits, f16BitsToF32));
  }

  input(name: string, dtype: DType, shape: number[]): string {
    this.g.tensors.set(name, { name, dtype, shape, kind: 'input' });
    this.g.inputs.push(name);
    return name;
  }

  state(name: string, dtype: DType, shape: number[]): string {
    this.g.tensors.set(name, { name, dtype, shape, kind: 'state' });
    return name;
  }

  constant(name: string, dtype: DType, shape: number[], data: TypedData, rest: Partial<Tensor> = {}): string {
    if (this.g.tensors.has(name)) throw new Error(`internal: constant "${name}" twice`);
    this.g.tensors.set(name, { name, dtype, shape, kind: 'constant', data, ...rest });
    return name;
  }

  /** A norm's weight: float32, widened exactly when the file stores it as float16 or bfloat16. */
  norm(name: string): string {
    const t = this.model.tensors.get(name);
    if (t?.kind !== 'float16' || this.g.tensors.has(name)) return this.weight(name);
    return this.constant(name, 'float32', t.shape, Float32Array.from(t.bits, f16BitsToF32));
  }

  /** The model tensor `name` as an IR constant (once), in the form its kind has in the IR. */
  weight(name: string): string {
    if (this.g.tensors.has(name)) return name;
    const t = this.model.tensors.get(name);
    if (!t) throw new Error(`internal: the model has no tensor "${name}" (validateLmModel should have said so)`);
    return this.addWeight(name, t);
  }

  private addWeight(name: string, t: LmTensor): string {
    switch (t.kind) {
      case 'float32':
        return this.constant(name, 'float32', t.shape, t.data);
      case 'float16':
        return this.constant(name, 'float16', t.shape, t.bits);
      case 'bfloat16':
        // bfloat16 widens exactly to float32; no kernel reads bfloat16 itself.
        return this.constant(name, 'float32', t.shape, Float32Array.from(t.bits, bf16BitsToF32));
      case 'int8': {
        const scale = this.constant(`${name}.scale`, 'float32', [t.scales.length], t.scales);
        const gran = t.groupSize >= t.shape[1] ? 'per_row' : 'per_group';
        return this.constant(name, 'int8', [...t.shape], t.codes, {
          quant: { scale, granularity: gran, ...(gran === 'per_group' ? { groupSize: t.groupSize } : {}) },
        });
      }
      case 'ternary': {
        const planes = t.planes ?? 1;
        const scale = this.constant(`${name}.scale`, 'float32', [t.scales.length], t.scales);
        if (t.bias) this.constant(`${name}.bias`, 'float32', [t.shape[0]], t.bias);
        const shape = planes > 1 ? [planes, ...t.shape] : [...t.shape];
        return this.constant(name, 'ternary', shape, t.codes, {
          quant: { scale, granularity: t.granularity, ...(t.granularity === 'per_group' ? { groupSize: t.groupSize } : {}) },
        });
      }
      case 'intb': {
        const scale = this.constant(`${name}.scale`, 'float32', [t.scales.length], t.scales);
        const zeroPoint = this.constant(`${name}.zero`, 'uint8', [t.zeros.length], t.zeros);
        if (t.bias) this.constant(`${name}.bias`, 'float32', [t.shape[0]], t.bias);
        if (t.columns) this.constant(`${name}.columns`, 'int32', [t.columns.length], t.columns);
        const gran = t.groupSize >= t.shape[1] ? 'per_row' : 'per_group';
        return this.constant(name, 'uint8', [...t.shape], t.codes, {
          quant: { scale, zeroPoint, bits: t.bits, granularity: gran, ...(gran === 'per_group' ? { groupSize: t.groupSize } : {}) },
        });
      }
      case 'fairy2i': {
        // Codes [stages, U | W, N/2, K/2] and scales [stages, U | W, re | im], inputs of WidelyLinear.
        const [rows, cols] = t.shape;
        this.constant(`${name}.scale`, 'float32', [t.stages, 2, 2], t.scales);
        return this.constant(name, 'uint8', [t.stages, 2, rows / 2, cols / 2], t.codes);
      }
    }
  }

  /** Add a node with one output named `out`; shapes are inferred (and checked) as it is added. */
  node(op: string, name: string, inputs: string[], out: string, attrs: Record<string, AttrValue> = {}): string {
    this.add({ name, op, inputs, outputs: [out], attrs: withDefaults(getOp(op), attrs), annotations: {} });
    return out;
  }

  add(node: Node): void {
    const { specs, problems } = inferNode(this.g, node, `${this.model.source}: ${node.name}`);
    if (problems.length) throw new Error(`internal: the LM builder made an invalid ${node.op} "${node.name}": ${problems.map((p) => p.message).join('; ')}`);
    setOutputs(this.g, node, specs);
    this.g.nodes.push(node);
  }
}
