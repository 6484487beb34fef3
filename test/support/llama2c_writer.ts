// Writes llama2.c checkpoints the way export.py does (legacy_export, version1_export,
// version2_export), for tests. Written from export.py's layout, independently of the reader in
// compiler/readers/llama2c/checkpoint.ts, so that a reader bug does not cancel out against the writer.

import { rng } from '../../compiler/harness/inputs.ts';
import { blk } from '../../compiler/lm/model.ts';

export interface Llama2cSpec {
  version: 0 | 1 | 2;
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** The classifier is the token embedding (no wcls written). */
  shared: boolean;
  /** Version 2 only. */
  groupSize?: number;
}

/** Random float32 weights under canonical names (plus 'output' when unshared), uniform in [-1, 1). */
export function randomWeights(spec: Llama2cSpec, seed: number): Map<string, Float32Array> {
  const next = rng(seed);
  const hs = spec.dim / spec.nHeads;
  const kv = spec.nKvHeads * hs;
  const m = new Map<string, Float32Array>();
  const put = (name: string, n: number): void => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = next() * 2 - 1;
    m.set(name, a);
  };
  put('token_embd', spec.vocabSize * spec.dim);
  for (let l = 0; l < spec.nLayers; l++) {
    put(blk(l, 'attn_norm'), spec.dim);
    put(blk(l, 'attn_q'), spec.dim * spec.dim);
    put(blk(l, 'attn_k'), kv * spec.dim);
    put(blk(l, 'attn_v'), kv * spec.dim);
    put(blk(l, 'attn_output'), spec.dim * spec.dim);
    put(blk(l, 'ffn_norm'), spec.dim);
    put(blk(l, 'ffn_gate'), spec.hiddenDim * spec.dim);
    put(blk(l, 'ffn_down'), spec.dim * spec.hiddenDim);
    put(blk(l, 'ffn_up'), spec.hiddenDim * spec.dim);
  }
  put('output_norm', spec.dim);
  if (!spec.shared) put('output', spec.vocabSize * spec.dim);
  return m;
}

/** IEEE round half to even, as torch.round. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** export.py's quantize_q80 over the flattened tensor: scale = max|w| / 127 per group, code = round(w / scale). */
export function quantizeQ80(w: Float32Array, groupSize: number): { codes: Int8Array; scales: Float32Array } {
  if (w.length % groupSize !== 0) throw new Error(`quantizeQ80: ${w.length} values are not a multiple of ${groupSize}`);
  const codes = new Int8Array(w.length);
  const scales = new Float32Array(w.length / groupSize);
  for (let g = 0; g < scales.length; g++) {
    let max = 0;
    for (let i = 0; i < groupSize; i++) max = Math.max(max, Math.abs(w[g * groupSize + i]!));
    const scale = Math.fround(max / 127);
    scales[g] = scale;
    for (let i = 0; i < groupSize; i++) codes[g * groupSize + i] = scale === 0 ? 0 : roundHalfEven(Math.fround(w[g * groupSize + i]! / scale));
  }
  return { codes, scales };
}

/** Growable little-endian byte sink. */
class Sink {
  private parts: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.parts.push(b.slice());
    this.length += b.length;
  }
  f32(a: ArrayLike<number>): void {
    const b = new Uint8Array(4 * a.length);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i]!, true);
    this.bytes(b);
  }
  i32(...v: number[]): void {
    const b = new Uint8Array(4 * v.length);
    const dv = new DataView(b.buffer);
    v.forEach((x, i) => dv.setInt32(4 * i, x, true));
    this.bytes(b);
  }
  u8(v: number): void {
    this.bytes(Uint8Array.of(v));
  }
  padTo(n: number): void {
    if (this.length > n) throw new Error(`header is ${this.length} bytes, over ${n}`);
    this.bytes(new Uint8Array(n - this.length));
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

/** The seven header ints, vocab_size negated for an unshared classifier in version 0. */
function params(spec: Llama2cSpec): number[] {
  const vocab = spec.version === 0 && !spec.shared ? -spec.vocabSize : spec.vocabSize;
  return [spec.dim, spec.hiddenDim, spec.nLayers, spec.nHeads, spec.nKvHeads, vocab, spec.seqLen];
}

/** Serialise `weights` (from randomWeights) as export.py would for `spec.version`. */
export function writeLlama2c(spec: Llama2cSpec, weights: Map<string, Float32Array>): Uint8Array {
  const s = new Sink();
  const w = (name: string): Float32Array => {
    const a = weights.get(name);
    if (!a) throw new Error(`writeLlama2c: no weight ${name}`);
    return a;
  };
  const layers = (suffix: string): Float32Array[] => Array.from({ length: spec.nLayers }, (_, l) => w(blk(l, suffix)));
  if (spec.version === 0) {
    s.i32(...params(spec));
    s.f32(w('token_embd'));
    for (const suffix of ['attn_norm', 'attn_q', 'attn_k', 'attn_v', 'attn_output', 'ffn_norm', 'ffn_gate', 'ffn_down', 'ffn_up']) {
      for (const a of layers(suffix)) s.f32(a);
    }
    s.f32(w('output_norm'));
    // freqs_cos[:seq_len] and freqs_sin[:seq_len], (seq_len, head_size / 2) each, as model.py computes them.
    const half = spec.dim / spec.nHeads / 2;
    const cos = new Float32Array(spec.seqLen * half);
    const sin = new Float32Array(spec.seqLen * half);
    for (let t = 0; t < spec.seqLen; t++) {
      for (let j = 0; j < half; j++) {
        const f = t / Math.pow(10000, (2 * j) / (2 * half));
        cos[t * half + j] = Math.cos(f);
        sin[t * half + j] = Math.sin(f);
      }
    }
    s.f32(cos);
    s.f32(sin);
    if (!spec.shared) s.f32(w('output'));
    return s.done();
  }
  s.i32(0x616b3432, spec.version, ...params(spec));
  s.u8(spec.shared ? 1 : 0);
  if (spec.version === 2) s.i32(spec.groupSize ?? 64);
  s.padTo(256);
  const norms = [...layers('attn_norm'), ...layers('ffn_norm'), w('output_norm')];
  const matrices = [
    w('token_embd'),
    ...layers('attn_q'),
    ...layers('attn_k'),
    ...layers('attn_v'),
    ...layers('attn_output'),
    ...layers('ffn_gate'),
    ...layers('ffn_down'),
    ...layers('ffn_up'),
    ...(spec.shared ? [] : [w('output')]),
  ];
  if (spec.version === 1) {
    for (const a of [...norms, ...matrices]) s.f32(a);
    return s.done();
  }
  for (const a of norms) s.f32(a);
  for (const a of matrices) {
    const q = quantizeQ80(a, spec.groupSize ?? 64);
    s.bytes(new Uint8Array(q.codes.buffer));
    s.f32(q.scales);
  }
  return s.done();
}
