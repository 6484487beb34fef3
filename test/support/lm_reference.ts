// An independent float64 reference forward pass for the decoder-only language models every LM reader
// delivers (compiler/lm/model.ts), for tests. It shares nothing with the compiler but the LmModel
// types: tensors are decoded here, from their stored bits, and every step runs in binary64.
//
// Semantics, as llama.cpp builds the graph (llm_build_llama / build_bitnet in src/llama.cpp of the
// Eddie-Wang1120 fork that microsoft/BitNet pins; ggml's rope kernels) and as llama2.c's run.c
// `forward()` computes it, for one token at position p with a cache of positions 0..p-1:
//
//   x = token_embd[token]                                   (row lookup)
//   per layer:
//     a  = RMSNorm(x) * attn_norm                           RMSNorm(v) = v / sqrt(mean(v^2) + eps)
//     q, k, v = attn_q a, attn_k a, attn_v a
//     RoPE on q and k at position p, each head separately, only its first ropeDim values:
//       'adjacent' (llama.cpp NORM, llama2.c): pairs (2i, 2i+1)
//       'half'     (llama.cpp NEOX, HF rotate_half): pairs (i, i + ropeDim/2)
//       both: angle p * theta^(-2i / ropeDim), (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos)
//     query head h attends with KV head floor(h / (nHeads / nKvHeads)) (GQA):
//       score_t = q_h . k_t / sqrt(headDim), softmax over t = 0..p, o_h = sum_t w_t v_t
//     o = heads merged in order; subNorms: o = RMSNorm(o) * attn_sub_norm
//     x = x + attn_output o
//     f = RMSNorm(x) * ffn_norm
//     g = act(ffn_gate f) * (ffn_up f)       silu(z) = z / (1 + e^-z), relu2(z) = max(z, 0)^2
//     subNorms: g = RMSNorm(g) * ffn_sub_norm
//     x = x + ffn_down g
//   logits = head (RMSNorm(x) * output_norm), head = output, or token_embd when tiedOutput
//
// A mixture of experts (config.moe, MoTE) adds to the FFN's output, before the residual add:
//     l = ffn_gate_inp f;  the topK experts by l (ties: the lower index);  gates: softmax of l at the
//     chosen experts, over all experts' logits (normalizeGates false) or over the chosen ones (true);
//     x = x + sum_j gate_j * expert_j(f), expert_j(f) = ffn_down_exps.e (act(ffn_gate_exps.e f) * (ffn_up_exps.e f))
//
// activations 'int8-per-token' (BitNet b1.58, transformers' BitLinear/AutoBitLinear ActQuant): the
// input of every linear layer whose weight is ternary -- the per-layer projections attn_q, attn_k,
// attn_v, attn_output, ffn_gate, ffn_up, ffn_down, and only those of them that are LmTernary -- is
// quantized per token: s = 127 / max(max|x|, 1e-5), q = clamp(round_half_even(x * s), -128, 127)
// (torch.round rounds half to even), and the layer computes (sum_k q_k w_k) / s. Float projections,
// the output head and the embedding never are. With 'float', every layer multiplies the float input.

import type { ActQuantParams } from '../../compiler/ops/lm/act_quant.ts';
import type { LmConfig, LmModel, LmTensor } from '../../compiler/lm/model.ts';

// ---------------------------------------------------------------------------------------------------
// Decoding stored values to float64 (exact: every stored value is representable in binary64)

/** IEEE binary16 bits -> value. */
export function halfBitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

const bfScratch = new DataView(new ArrayBuffer(4));

/** bfloat16 bits -> value: the high half of a binary32. */
export function bfloat16BitsToNumber(bits: number): number {
  bfScratch.setUint32(0, ((bits & 0xffff) << 16) >>> 0);
  return bfScratch.getFloat32(0);
}

/** Every element of a tensor as float64, row-major in its shape. */
export function dequantize(t: LmTensor): Float64Array {
  switch (t.kind) {
    case 'float32':
      return Float64Array.from(t.data);
    case 'float16':
      return Float64Array.from(t.bits, halfBitsToNumber);
    case 'bfloat16':
      return Float64Array.from(t.bits, bfloat16BitsToNumber);
    case 'int8': {
      const [rows, cols] = t.shape;
      const groups = Math.ceil(cols / t.groupSize);
      const out = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < cols; c++) out[r * cols + c] = t.codes[r * cols + c]! * t.scales[r * groups + Math.floor(c / t.groupSize)]!;
      return out;
    }
    case 'ternary': {
      const [rows, cols] = t.shape;
      const planes = t.planes ?? 1;
      const out = new Float64Array(rows * cols);
      // The scale of element (p, r, c) is scales[p * perPlane + r * groups + floor(c / gs)]: a
      // per-tensor scale is one group of the whole plane, a per-row scale one group of the whole row.
      let gs: number;
      let groups: number;
      if (t.granularity === 'per_tensor') {
        gs = cols;
        groups = 0;
      } else if (t.granularity === 'per_row') {
        gs = cols;
        groups = 1;
      } else {
        if (t.groupSize === undefined || t.groupSize < 1) throw new Error('per-group ternary without a group size');
        gs = t.groupSize;
        groups = Math.ceil(cols / gs);
      }
      const perPlane = groups === 0 ? 1 : rows * groups;
      if (t.scales.length !== planes * perPlane) throw new Error(`${t.granularity} ternary with ${t.scales.length} scales, expected ${planes * perPlane}`);
      if (t.codes.length !== planes * rows * cols) throw new Error(`ternary with ${t.codes.length} codes, expected ${planes * rows * cols}`);
      for (let p = 0; p < planes; p++)
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++) {
            const code = t.codes[(p * rows + r) * cols + c]!;
            if (code < -1 || code > 1) throw new Error(`ternary code ${code}`);
            out[r * cols + c]! += code * t.scales[p * perPlane + r * groups + Math.floor(c / gs)]!;
          }
      return out;
    }
    case 'intb': {
      // value = scale * (code - zero), stored column j at input column columns[j].
      const [rows, cols] = t.shape;
      const groups = Math.ceil(cols / t.groupSize);
      const out = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < cols; j++) {
          const g = r * groups + Math.floor(j / t.groupSize);
          const col = t.columns ? t.columns[j]! : j;
          out[r * cols + col] = t.scales[g]! * (t.codes[r * cols + j]! - t.zeros[g]!);
        }
      return out;
    }
    case 'fairy2i': {
      // y = U x + W conj(x) on the halves: U = sum over stages of s_re Re(i^e) + i s_im Im(i^e) (and W),
      // so R = [[U_re + W_re, W_im - U_im], [U_im + W_im, U_re - W_re]].
      const [rows, cols] = t.shape;
      const n = rows / 2;
      const m = cols / 2;
      const out = new Float64Array(rows * cols);
      const parts = [new Float64Array(n * m), new Float64Array(n * m), new Float64Array(n * m), new Float64Array(n * m)]; // U re, U im, W re, W im
      for (let s = 0; s < t.stages; s++)
        for (let mat = 0; mat < 2; mat++)
          for (let e = 0; e < n * m; e++) {
            const code = t.codes[(s * 2 + mat) * n * m + e]!;
            if (code > 3) throw new Error(`Fairy2i code ${code}`);
            const [re, im] = [
              [1, 0],
              [0, 1],
              [-1, 0],
              [0, -1],
            ][code]!;
            parts[2 * mat]![e] += re! * t.scales[(s * 2 + mat) * 2]!;
            parts[2 * mat + 1]![e] += im! * t.scales[(s * 2 + mat) * 2 + 1]!;
          }
      const [uRe, uIm, wRe, wIm] = parts as [Float64Array, Float64Array, Float64Array, Float64Array];
      for (let i = 0; i < n; i++)
        for (let j = 0; j < m; j++) {
          const e = i * m + j;
          out[i * cols + j] = uRe[e]! + wRe[e]!;
          out[i * cols + m + j] = wIm[e]! - uIm[e]!;
          out[(n + i) * cols + j] = uIm[e]! + wIm[e]!;
          out[(n + i) * cols + m + j] = uRe[e]! - wRe[e]!;
        }
      return out;
    }
  }
}

/** The static bias a weight carries (Tequila's deadzone term, GPTQ's bias), if any. */
function biasOf(t: LmTensor): Float64Array | undefined {
  return (t.kind === 'ternary' || t.kind === 'intb') && t.bias ? Float64Array.from(t.bias) : undefined;
}

// ---------------------------------------------------------------------------------------------------
// BitNet per-token activation quantizer

/** Round to the nearest integer, ties to even (torch.round, numpy.round). */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** BitNet's absmax quantizer: integer codes q (as float64) and the scale s with x ~ q / s. */
export function quantizeInt8PerToken(x: Float64Array): { q: Float64Array; s: number } {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  const s = 127 / Math.max(m, 1e-5);
  const q = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = Math.min(127, Math.max(-128, roundHalfEven(x[i]! * s)));
  return { q, s };
}

// ---------------------------------------------------------------------------------------------------
// The model, decoded once

interface Linear {
  rows: number;
  cols: number;
  w: Float64Array;
  bias?: Float64Array;
  /** Quantize the input per token (activations 'int8-per-token' and a ternary weight). */
  quantizeInput: boolean;
  /** TBT's quantizer on the input (it takes precedence over quantizeInput). */
  tbt?: ActQuantParams;
}

interface Layer {
  attnNorm: Float64Array;
  q: Linear;
  k: Linear;
  v: Linear;
  attnSubNorm?: Float64Array;
  o: Linear;
  ffnNorm: Float64Array;
  gate: Linear;
  up: Linear;
  ffnSubNorm?: Float64Array;
  down: Linear;
  router?: Linear;
  experts?: { gate: Linear; up: Linear; down: Linear }[];
}

interface Prepared {
  c: LmConfig;
  embd: Float64Array;
  layers: Layer[];
  outputNorm: Float64Array;
  head: Linear;
}

const prepared = new WeakMap<LmModel, Prepared>();

function tensor(model: LmModel, name: string, shape: number[]): LmTensor {
  const t = model.tensors.get(name);
  if (!t) throw new Error(`reference: tensor ${name} is missing`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    throw new Error(`reference: tensor ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  return t;
}

function vector(model: LmModel, name: string, n: number): Float64Array {
  return dequantize(tensor(model, name, [n]));
}

function prepare(model: LmModel): Prepared {
  const hit = prepared.get(model);
  if (hit) return hit;
  const c = model.config;
  if (c.nHeads % c.nKvHeads !== 0) throw new Error('reference: nHeads is not a multiple of nKvHeads');
  if (c.ropeDim % 2 !== 0 || c.ropeDim > c.headDim) throw new Error('reference: bad ropeDim');
  const int8 = c.activations === 'int8-per-token';
  const linear = (name: string, rows: number, cols: number, perLayer: boolean): Linear => {
    const t = tensor(model, name, [rows, cols]);
    const tbt = t.kind === 'ternary' ? t.input : undefined;
    return { rows, cols, w: dequantize(t), bias: biasOf(t), quantizeInput: perLayer && int8 && t.kind === 'ternary' && !tbt, ...(tbt ? { tbt } : {}) };
  };
  const qd = c.nHeads * c.headDim;
  const kvd = c.nKvHeads * c.headDim;
  const layers: Layer[] = [];
  for (let i = 0; i < c.nLayers; i++) {
    const n = (s: string): string => `blk.${i}.${s}`;
    const layer: Layer = {
      attnNorm: vector(model, n('attn_norm'), c.dim),
      q: linear(n('attn_q'), qd, c.dim, true),
      k: linear(n('attn_k'), kvd, c.dim, true),
      v: linear(n('attn_v'), kvd, c.dim, true),
      o: linear(n('attn_output'), c.dim, qd, true),
      ffnNorm: vector(model, n('ffn_norm'), c.dim),
      gate: linear(n('ffn_gate'), c.hiddenDim, c.dim, true),
      up: linear(n('ffn_up'), c.hiddenDim, c.dim, true),
      down: linear(n('ffn_down'), c.dim, c.hiddenDim, true),
    };
    if (c.moe) {
      const { experts, expertHiddenDim: eh } = c.moe;
      layer.router = linear(n('ffn_gate_inp'), experts, c.dim, false);
      layer.experts = Array.from({ length: experts }, (_, e) => ({
        gate: linear(n(`ffn_gate_exps.${e}`), eh, c.dim, true),
        up: linear(n(`ffn_up_exps.${e}`), eh, c.dim, true),
        down: linear(n(`ffn_down_exps.${e}`), c.dim, eh, true),
      }));
    }
    if (c.subNorms) {
      layer.attnSubNorm = vector(model, n('attn_sub_norm'), qd);
      layer.ffnSubNorm = vector(model, n('ffn_sub_norm'), c.hiddenDim);
    }
    layers.push(layer);
  }
  const embd = dequantize(tensor(model, 'token_embd', [c.vocabSize, c.dim]));
  const head: Linear = c.tiedOutput ? { rows: c.vocabSize, cols: c.dim, w: embd, quantizeInput: false } : linear('output', c.vocabSize, c.dim, false);
  const p: Prepared = { c, embd, layers, outputNorm: vector(model, 'output_norm', c.dim), head };
  prepared.set(model, p);
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Building blocks

function rmsNorm(x: Float64Array, w: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * r * w[i]!;
  return out;
}

/** TBT's activation quantizers (docs/formats.md "TBT"), per token, in float64. */
function tbtQuantize(p: ActQuantParams, x: Float64Array): Float64Array {
  const v = x.map((e) => (Number.isNaN(e) ? 0 : e));
  const clamp = (e: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, e));
  if (p.method === 'elastic') {
    const a = Math.max(p.alpha, Math.fround(1e-5));
    if (p.signed) return v.map((e) => (p.bits === 1 ? Math.sign(e) * a : clamp(roundHalfEven(e / a), -1, 1) * a));
    if (p.bits === 1) return v.map((e) => clamp(roundHalfEven(e / a), 0, 1) * a);
    const m = Math.min(...v);
    return v.map((e) => clamp(roundHalfEven((e - m) / a), 0, 2) * a + m);
  }
  const c = v.map((e) => clamp(e, -p.clip, p.clip));
  if (p.signed) {
    const amax = Math.max(...c.map(Math.abs));
    return amax === 0 ? c : c.map((e) => roundHalfEven((e * 127) / amax) * (amax / 127));
  }
  const lo = Math.min(...c);
  const d = Math.max(...c) - lo + Math.fround(1e-8);
  return c.map((e) => (roundHalfEven(((e - lo) / d) * 255) / 255) * d + lo);
}

function apply(l: Linear, x: Float64Array): Float64Array {
  let input = l.tbt ? tbtQuantize(l.tbt, x) : x;
  let divide = 1;
  if (l.quantizeInput) {
    const { q, s } = quantizeInt8PerToken(x);
    input = q;
    divide = s;
  }
  const { rows, cols, w } = l;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    const base = r * cols;
    for (let k = 0; k < cols; k++) acc += w[base + k]! * input[k]!;
    out[r] = acc / divide + (l.bias ? l.bias[r]! : 0);
  }
  return out;
}

/** Rotate each head's first ropeDim values of `v` (nHeads * headDim) in place for position `pos`. */
function rope(v: Float64Array, nHeads: number, c: LmConfig, pos: number): void {
  const half = c.ropeDim / 2;
  for (let i = 0; i < half; i++) {
    const angle = pos * Math.pow(c.ropeTheta, (-2 * i) / c.ropeDim);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const a = c.ropeStyle === 'adjacent' ? 2 * i : i;
    const b = c.ropeStyle === 'adjacent' ? 2 * i + 1 : i + half;
    for (let h = 0; h < nHeads; h++) {
      const o = h * c.headDim;
      const x0 = v[o + a]!;
      const x1 = v[o + b]!;
      v[o + a] = x0 * cos - x1 * sin;
      v[o + b] = x0 * sin + x1 * cos;
    }
  }
}

function activation(z: number, act: LmConfig['ffnAct']): number {
  if (act === 'silu') return z / (1 + Math.exp(-z));
  const r = Math.max(z, 0);
  return r * r;
}

// ---------------------------------------------------------------------------------------------------
// Decoding

/** A decoding session: feed tokens one at a time from an empty cache, get each position's logits. */
export class ReferenceDecoder {
  private readonly p: Prepared;
  /** Per layer, per position: the roped keys and the values (nKvHeads * headDim each). */
  private readonly keys: Float64Array[][];
  private readonly values: Float64Array[][];
  /** The last step's final state, RMSNorm(x) * output_norm: what the head multiplies. */
  lastHidden: Float64Array | undefined;

  constructor(model: LmModel) {
    this.p = prepare(model);
    this.keys = this.p.layers.map(() => []);
    this.values = this.p.layers.map(() => []);
  }

  /** The position the next token will take. */
  get position(): number {
    return this.keys[0]?.length ?? 0;
  }

  /** Run one token at the next position; returns its vocab logits. */
  step(token: number): Float64Array {
    const { c, embd, layers } = this.p;
    if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new Error(`reference: token ${token} is outside the vocabulary (${c.vocabSize})`);
    const pos = this.position;
    const x = embd.slice(token * c.dim, (token + 1) * c.dim);
    const group = c.nHeads / c.nKvHeads;
    const scale = 1 / Math.sqrt(c.headDim);
    for (let l = 0; l < layers.length; l++) {
      const L = layers[l]!;
      const a = rmsNorm(x, L.attnNorm, c.normEps);
      const q = apply(L.q, a);
      const k = apply(L.k, a);
      const v = apply(L.v, a);
      rope(q, c.nHeads, c, pos);
      rope(k, c.nKvHeads, c, pos);
      const keys = this.keys[l]!;
      const values = this.values[l]!;
      keys.push(k);
      values.push(v);
      let o: Float64Array = new Float64Array(c.nHeads * c.headDim);
      const scores = new Float64Array(pos + 1);
      for (let h = 0; h < c.nHeads; h++) {
        const qo = h * c.headDim;
        const ko = Math.floor(h / group) * c.headDim;
        let max = -Infinity;
        for (let t = 0; t <= pos; t++) {
          const kt = keys[t]!;
          let dot = 0;
          for (let i = 0; i < c.headDim; i++) dot += q[qo + i]! * kt[ko + i]!;
          scores[t] = dot * scale;
          max = Math.max(max, scores[t]!);
        }
        let sum = 0;
        for (let t = 0; t <= pos; t++) {
          scores[t] = Math.exp(scores[t]! - max);
          sum += scores[t]!;
        }
        for (let t = 0; t <= pos; t++) {
          const w = scores[t]! / sum;
          const vt = values[t]!;
          for (let i = 0; i < c.headDim; i++) o[qo + i] += w * vt[ko + i]!;
        }
      }
      if (L.attnSubNorm) o = rmsNorm(o, L.attnSubNorm, c.normEps);
      const attn = apply(L.o, o);
      for (let i = 0; i < c.dim; i++) x[i] += attn[i]!;

      const f = rmsNorm(x, L.ffnNorm, c.normEps);
      const g = apply(L.gate, f);
      const u = apply(L.up, f);
      let hdn: Float64Array = new Float64Array(c.hiddenDim);
      for (let i = 0; i < c.hiddenDim; i++) hdn[i] = activation(g[i]!, c.ffnAct) * u[i]!;
      if (L.ffnSubNorm) hdn = rmsNorm(hdn, L.ffnSubNorm, c.normEps);
      const down = apply(L.down, hdn);
      if (L.router && c.moe) {
        const logits = apply(L.router, f);
        const chosen: number[] = [];
        for (let j = 0; j < c.moe.topK; j++) {
          let best = -1;
          for (let e = 0; e < logits.length; e++) if (!chosen.includes(e) && (best < 0 || logits[e]! > logits[best]!)) best = e;
          chosen.push(best);
        }
        const m = logits[chosen[0]!]!;
        const over: number[] = c.moe.normalizeGates ? chosen : Array.from(logits, (_, e) => e);
        const sum = over.reduce((a, e) => a + Math.exp(logits[e]! - m), 0);
        for (const e of chosen) {
          const ex = L.experts![e]!;
          const gate = Math.exp(logits[e]! - m) / sum;
          const g2 = apply(ex.gate, f);
          const u2 = apply(ex.up, f);
          const h2 = g2.map((z, i) => activation(z, c.ffnAct) * u2[i]!);
          const d2 = apply(ex.down, h2);
          for (let i = 0; i < c.dim; i++) down[i] += gate * d2[i]!;
        }
      }
      for (let i = 0; i < c.dim; i++) x[i] += down[i]!;
    }
    this.lastHidden = rmsNorm(x, this.p.outputNorm, c.normEps);
    return apply(this.p.head, this.lastHidden);
  }
}

/** One Float64Array of vocab logits per position, running `tokens` from an empty cache. */
export function referenceLogits(model: LmModel, tokens: number[]): Float64Array[] {
  const d = new ReferenceDecoder(model);
  return tokens.map((t) => d.step(t));
}

/** Index of the largest value (the first one on ties, as llama2.c's argmax). */
export function argmax(v: Float64Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Greedy decoding: run `prompt`, then append the argmax token `n` times. */
export function greedyContinuation(model: LmModel, prompt: number[], n: number): { tokens: number[]; logits: Float64Array[] } {
  if (prompt.length === 0) throw new Error('reference: the prompt is empty');
  const d = new ReferenceDecoder(model);
  const logits = prompt.map((t) => d.step(t));
  const tokens: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = argmax(logits[logits.length - 1]!);
    tokens.push(next);
    if (i + 1 < n) logits.push(d.step(next));
  }
  return { tokens, logits };
}
