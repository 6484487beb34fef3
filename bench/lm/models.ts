// The models of `npm run bench:lm`: TriLM-shaped decoders with random ternary weights, built in
// memory or written as GGUF TQ2_0 files (what llama.cpp's llama-quantize writes), so that the scale
// measurement goes through the real reader.

import { writeFileSync } from 'node:fs';
import { rng } from '../../compiler/harness/inputs.ts';
import { blk, expectedShapes, type LmConfig, type LmModel, type LmTensor } from '../../compiler/lm/model.ts';
import { f32ToF16Bits } from '../../compiler/numerics/half.ts';

export interface Shape {
  name: string;
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  context: number;
}

/** TriLM 99M (SpectraSuite): the shape the peers were measured on. */
export const TRILM_99M: Shape = { name: 'trilm-99m', dim: 512, hidden: 1280, layers: 16, heads: 8, kvHeads: 8, vocab: 50304, context: 2048 };
/** TriLM 1.1B. */
export const TRILM_1B: Shape = { name: 'trilm-1.1b', dim: 2048, hidden: 5632, layers: 24, heads: 32, kvHeads: 32, vocab: 50304, context: 2048 };

export function configOf(s: Shape): LmConfig {
  return {
    arch: 'llama',
    dim: s.dim,
    hiddenDim: s.hidden,
    nLayers: s.layers,
    nHeads: s.heads,
    nKvHeads: s.kvHeads,
    headDim: s.dim / s.heads,
    vocabSize: s.vocab,
    contextLength: s.context,
    normEps: 1e-5,
    ropeTheta: 10000,
    ropeDim: s.dim / s.heads,
    ropeStyle: 'adjacent',
    ffnAct: 'silu',
    subNorms: false,
    tiedOutput: false,
    activations: 'float',
  };
}

/** Random ternary projections (per-tensor scale), f16 embedding and head, like llama-quantize's TQ files. */
export function randomModel(s: Shape, seed = 1): LmModel {
  const c = configOf(s);
  const r = rng(seed);
  const tensors = new Map<string, LmTensor>();
  for (const [name, shape] of expectedShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (shape.length === 1) tensors.set(name, { kind: 'float32', shape, data: new Float32Array(n).fill(1) });
    else if (name === 'token_embd' || name === 'output') {
      const bits = new Uint16Array(n);
      for (let i = 0; i < n; i++) bits[i] = f32ToF16Bits((r() - 0.5) * 0.2);
      tensors.set(name, { kind: 'float16', shape, bits });
    } else {
      const codes = new Int8Array(n);
      for (let i = 0; i < n; i++) codes[i] = Math.floor(r() * 3) - 1;
      tensors.set(name, {
        kind: 'ternary',
        shape: shape as [number, number],
        codes,
        scales: Float32Array.of(0.02),
        granularity: 'per_tensor',
        source: 'random',
      });
    }
  }
  void blk;
  return {
    name: s.name.replace(/[^a-z0-9]/g, '_'),
    source: `random ${s.name}`,
    format: 'gguf',
    sourceHash: `${s.name}-${seed}`,
    config: c,
    tensors,
    notes: [],
  };
}

// ---- a GGUF v3 writer for these models (TQ2_0 projections, F16 embedding and head, F32 norms) ----

class Out {
  parts: Uint8Array[] = [];
  size = 0;
  bytes(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.bytes(b);
  }
  u64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.bytes(b);
  }
  f32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.bytes(b);
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(align: number): void {
    const p = (align - (this.size % align)) % align;
    if (p) this.bytes(new Uint8Array(p));
  }
}

/** TQ2_0 blocks of 256: element 128h + 32l + m in byte 32h + m at bits 2l (code + 1), then fp16 d. */
function tq2(codes: Int8Array, scale: number): Uint8Array {
  const nb = codes.length / 256;
  const out = new Uint8Array(nb * 66);
  const d = f32ToF16Bits(scale);
  for (let b = 0; b < nb; b++) {
    const at = 66 * b;
    for (let h = 0; h < 2; h++)
      for (let l = 0; l < 4; l++) for (let m = 0; m < 32; m++) out[at + 32 * h + m]! |= (codes[256 * b + 128 * h + 32 * l + m]! + 1) << (2 * l);
    out[at + 64] = d & 0xff;
    out[at + 65] = d >> 8;
  }
  return out;
}

/** Write `s` as a GGUF file of random weights (TQ2_0), streaming the tensors out as they are made. */
export function writeGgufModel(s: Shape, path: string, seed = 1): number {
  const m = randomModel(s, seed);
  const c = m.config;
  const kv: [string, 'u32' | 'f32' | 'str', number | string][] = [
    ['general.architecture', 'str', 'llama'],
    ['general.alignment', 'u32', 32],
    ['llama.embedding_length', 'u32', c.dim],
    ['llama.feed_forward_length', 'u32', c.hiddenDim],
    ['llama.block_count', 'u32', c.nLayers],
    ['llama.attention.head_count', 'u32', c.nHeads],
    ['llama.attention.head_count_kv', 'u32', c.nKvHeads],
    ['llama.context_length', 'u32', c.contextLength],
    ['llama.attention.layer_norm_rms_epsilon', 'f32', c.normEps],
    ['llama.rope.freq_base', 'f32', c.ropeTheta],
  ];
  const names = [...m.tensors.keys()];
  const data: { name: string; type: number; ne: number[]; bytes: Uint8Array }[] = names.map((name) => {
    const t = m.tensors.get(name)!;
    const ne = [...t.shape].reverse();
    if (t.kind === 'float32') return { name: `${name}.weight`, type: 0, ne, bytes: new Uint8Array(t.data.buffer) };
    if (t.kind === 'float16') return { name: `${name}.weight`, type: 1, ne, bytes: new Uint8Array(t.bits.buffer) };
    if (t.kind === 'ternary') return { name: `${name}.weight`, type: 35, ne, bytes: tq2(t.codes, t.scales[0]!) };
    throw new Error('internal');
  });
  const o = new Out();
  o.bytes(new TextEncoder().encode('GGUF'));
  o.u32(3);
  o.u64(data.length);
  o.u64(kv.length);
  for (const [k, type, v] of kv) {
    o.str(k);
    o.u32(type === 'u32' ? 4 : type === 'f32' ? 6 : 8);
    if (type === 'u32') o.u32(v as number);
    else if (type === 'f32') o.f32(v as number);
    else o.str(v as string);
  }
  let offset = 0;
  for (const d of data) {
    o.str(d.name);
    o.u32(d.ne.length);
    for (const e of d.ne) o.u64(e);
    o.u32(d.type);
    o.u64(offset);
    offset += Math.ceil(d.bytes.length / 32) * 32;
  }
  o.pad(32);
  for (const d of data) {
    o.bytes(d.bytes);
    o.pad(32);
  }
  const file = new Uint8Array(o.size);
  let at = 0;
  for (const p of o.parts) {
    file.set(p, at);
    at += p.length;
  }
  writeFileSync(path, file);
  return file.length;
}
