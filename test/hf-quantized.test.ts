// Quantized Hugging Face folders: GPTQ checkpoints as AutoGPTQ saves them (tensors built here with
// AutoGPTQ's own pack loops, under the real names model.layers.N.self_attn.q_proj.qweight ...), read
// by compiler/readers/hf and compared with the layers they were made from; each malformation one line
// naming the tensor or key; and folders written by compiler/quantize/write_hf.ts read back to the
// same tensors (GPTQ as AutoGPTQ, the rest in tritc's layers map), including a real model.

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TritcError } from '../compiler/diagnostics.ts';
import { rng } from '../compiler/harness/inputs.ts';
import type { LmIntB, LmModel, LmTensor } from '../compiler/lm/model.ts';
import { int8Model, ternarizeTensor } from '../compiler/lm/ternarize.ts';
import { readHfFolder } from '../compiler/readers/hf/folder.ts';
import { readLlama2c } from '../compiler/readers/llama2c/checkpoint.ts';
import { accumulateHessian, gptqQuantize, newHessian } from '../compiler/quantize/gptq.ts';
import { ptqtpQuantize } from '../compiler/quantize/ptqtp.ts';
import { tbtBinary, tbtTernary } from '../compiler/quantize/tbt.ts';
import { tequilaQuantize } from '../compiler/quantize/tequila.ts';
import { writeHfModel } from '../compiler/quantize/write_hf.ts';
import { autogptqTensors, randomIntB } from './support/autogptq_writer.ts';
import { type HfTensorSpec, f16Bytes, f32Bytes, llamaConfig, tmpFolder, writeHfFolder } from './support/hf_writer.ts';
import { dequantize, referenceLogits } from './support/lm_reference.ts';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function folder(stem: string): string {
  const d = tmpFolder(stem);
  made.push(d);
  return d;
}

function expectLine(f: () => unknown, code: string, ...fragments: string[]): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TritcError);
    expect((e as TritcError).code).toBe(code);
    expect((e as TritcError).message.split('\n')).toHaveLength(1);
    for (const s of fragments) expect((e as TritcError).message).toContain(s);
    return;
  }
  throw new Error('expected a TritcError, but nothing was thrown');
}

/** A GPTQ-able Llama: every projection dimension a multiple of 32. */
const D = { dim: 64, hidden: 96, heads: 4, kvHeads: 2, vocab: 10, layers: 2 };
const PROJ: [string, string, number, number][] = [
  ['self_attn.q_proj', 'attn_q', 64, 64],
  ['self_attn.k_proj', 'attn_k', 32, 64],
  ['self_attn.v_proj', 'attn_v', 32, 64],
  ['self_attn.o_proj', 'attn_output', 64, 64],
  ['mlp.gate_proj', 'ffn_gate', 96, 64],
  ['mlp.up_proj', 'ffn_up', 96, 64],
  ['mlp.down_proj', 'ffn_down', 64, 96],
];
const gptqLlamaConfig = (over: Record<string, unknown> = {}): Record<string, unknown> =>
  llamaConfig({
    hidden_size: D.dim,
    intermediate_size: D.hidden,
    num_attention_heads: D.heads,
    num_key_value_heads: D.kvHeads,
    num_hidden_layers: D.layers,
    vocab_size: D.vocab,
    ...over,
  });

function halfValues(n: number, next: () => number): number[] {
  return Array.from({ length: n }, () => Math.round((2 * next() - 1) * 1024) / 1024);
}

/** Embedding, norms and head in F16 (what AutoGPTQ leaves unquantized). */
function frame(next: () => number): HfTensorSpec[] {
  const t = (name: string, shape: number[]): HfTensorSpec => ({
    name,
    dtype: 'F16',
    shape,
    bytes: f16Bytes(
      halfValues(
        shape.reduce((a, b) => a * b),
        next,
      ),
    ),
  });
  const out = [t('model.embed_tokens.weight', [D.vocab, D.dim]), t('model.norm.weight', [D.dim]), t('lm_head.weight', [D.vocab, D.dim])];
  for (let i = 0; i < D.layers; i++)
    out.push(t(`model.layers.${i}.input_layernorm.weight`, [D.dim]), t(`model.layers.${i}.post_attention_layernorm.weight`, [D.dim]));
  return out;
}

interface GptqFolder {
  specs: HfTensorSpec[];
  layers: Map<string, LmIntB>;
}

function gptqFolder(bits: number, groupSize: number, actOrder: boolean, seed: number, opts: { floatDown?: boolean; bias?: boolean } = {}): GptqFolder {
  const next = rng(seed);
  const specs = frame(next);
  const layers = new Map<string, LmIntB>();
  for (let i = 0; i < D.layers; i++)
    for (const [hf, canonical, n, k] of PROJ) {
      const prefix = `model.layers.${i}.${hf}`;
      if (opts.floatDown && canonical === 'ffn_down') {
        specs.push({ name: `${prefix}.weight`, dtype: 'F16', shape: [n, k], bytes: f16Bytes(halfValues(n * k, next)) });
        continue;
      }
      const t = randomIntB(n, k, bits, groupSize, actOrder, opts.bias ?? false, seed * 100 + i * 10 + layers.size);
      layers.set(`blk.${i}.${canonical}`, t);
      specs.push(...autogptqTensors(prefix, t));
    }
  return { specs, layers };
}

function gptqQuantConfig(bits: number, groupSize: number, descAct: boolean): Record<string, unknown> {
  return {
    bits,
    group_size: groupSize,
    desc_act: descAct,
    sym: false,
    damp_percent: 0.01,
    static_groups: false,
    true_sequential: true,
    quant_method: 'gptq',
    checkpoint_format: 'gptq',
  };
}

function expectIntB(got: LmTensor | undefined, want: LmIntB): void {
  expect(got?.kind).toBe('intb');
  const t = got as LmIntB;
  expect(t.bits).toBe(want.bits);
  expect(t.shape).toEqual(want.shape);
  expect(t.groupSize).toBe(want.groupSize);
  expect(Array.from(t.codes)).toEqual(Array.from(want.codes));
  expect(Array.from(t.scales)).toEqual(Array.from(want.scales));
  expect(Array.from(t.zeros)).toEqual(Array.from(want.zeros));
  expect(t.columns && Array.from(t.columns)).toEqual(want.columns && Array.from(want.columns));
  expect(t.bias && Array.from(t.bias)).toEqual(want.bias && Array.from(want.bias));
}

// ---------------------------------------------------------------------------------------------------

describe('GPTQ checkpoints (AutoGPTQ v1) in a Hugging Face folder', () => {
  for (const [bits, groupSize, actOrder] of [
    [4, 32, true],
    [3, 32, false],
    [2, -1, false],
    [8, 32, true],
  ] as const) {
    it(`int${bits} ${groupSize === -1 ? 'per row' : `group ${groupSize}`}${actOrder ? ' act-order' : ''}, settings in config.json: every projection as packed`, () => {
      const f = gptqFolder(bits, groupSize, actOrder, 10 + bits, { bias: actOrder });
      const dir = writeHfFolder(folder(`gptq${bits}`), {
        config: gptqLlamaConfig({ quantization_config: gptqQuantConfig(bits, groupSize, actOrder) }),
        tensors: f.specs,
      });
      const m = readHfFolder(dir);
      expect(f.layers.size).toBe(14);
      for (const [name, t] of f.layers) expectIntB(m.tensors.get(name), t);
      expect(m.tensors.get('token_embd')?.kind).toBe('float16');
      expect(m.notes.some((n) => n.startsWith(`GPTQ (AutoGPTQ v1, ${dir}/config.json): 14 projections int${bits}`))).toBe(true);
      expect((m.tensors.get('blk.0.attn_q') as LmIntB).source).toContain(`AutoGPTQ int${bits}`);
    });
  }

  it('reads the settings from quantize_config.json (AutoGPTQ) and keeps a float projection float', () => {
    const f = gptqFolder(4, 32, false, 3, { floatDown: true });
    const dir = writeHfFolder(folder('gptq-qc'), { config: gptqLlamaConfig(), tensors: f.specs });
    writeFileSync(join(dir, 'quantize_config.json'), JSON.stringify(gptqQuantConfig(4, 32, false)));
    const m = readHfFolder(dir);
    for (const [name, t] of f.layers) expectIntB(m.tensors.get(name), t);
    expect(m.tensors.get('blk.1.ffn_down')?.kind).toBe('float16');
    expect(m.notes.some((n) => n.includes('quantize_config.json): 12 projections int4, groups of 32; 2 stay float'))).toBe(true);
  });

  describe('rejects, in one line naming the tensor or key', () => {
    const base = (): GptqFolder => gptqFolder(4, 32, true, 5);
    const cfg = (q: Record<string, unknown> = gptqQuantConfig(4, 32, true)) => gptqLlamaConfig({ quantization_config: q });
    const read =
      (specs: HfTensorSpec[], config = cfg()) =>
      () =>
        readHfFolder(writeHfFolder(folder('gptq-bad'), { config, tensors: specs }));
    const drop = (specs: HfTensorSpec[], name: string) => specs.filter((s) => s.name !== name);
    const replace = (specs: HfTensorSpec[], name: string, edit: (s: HfTensorSpec) => HfTensorSpec) => specs.map((s) => (s.name === name ? edit(s) : s));

    it('bits that disagree with the tensors', () => {
      expectLine(read(base().specs, cfg(gptqQuantConfig(3, 32, true))), 'shape', 'model.layers.0.self_attn.q_proj.qweight', 'expected [6, 64]', '3 bits');
    });
    it('a group size that disagrees with the tensors', () => {
      expectLine(read(base().specs, cfg(gptqQuantConfig(4, 16, true))), 'shape', 'model.layers.0.self_attn.q_proj.qzeros', 'groups of group_size 16');
    });
    it('missing zero points', () => {
      expectLine(read(drop(base().specs, 'model.layers.1.mlp.up_proj.qzeros')), 'weights', 'tensor "model.layers.1.mlp.up_proj.qzeros"', 'is missing');
    });
    it('a g_idx that is not a group map', () => {
      const specs = replace(base().specs, 'model.layers.0.mlp.down_proj.g_idx', (s) => {
        const g = new Int32Array(s.bytes.slice().buffer);
        g[0] = g[0] === 0 ? 1 : 0;
        return { ...s, bytes: new Uint8Array(g.buffer) };
      });
      expectLine(read(specs), 'weights', 'model.layers.0.mlp.down_proj.g_idx', 'not a group map of 96 columns in groups of 32');
    });
    it('non-finite scales', () => {
      const specs = replace(base().specs, 'model.layers.0.self_attn.v_proj.scales', (s) => {
        const b = s.bytes.slice();
        b[1] = 0x7e; // a NaN
        return { ...s, bytes: b };
      });
      expectLine(read(specs), 'weights', 'model.layers.0.self_attn.v_proj.scales', 'is not finite');
    });
    it('a projection stored both float and quantized', () => {
      const specs = [
        ...base().specs,
        { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32' as const, shape: [64, 64], bytes: f32Bytes(new Float32Array(64 * 64)) },
      ];
      expectLine(read(specs), 'weights', 'model.layers.0.self_attn.q_proj.weight', 'beside model.layers.0.self_attn.q_proj.qweight');
    });
    it('quantization methods and formats it does not read', () => {
      expectLine(
        read(base().specs, cfg({ quant_method: 'awq', bits: 4 })),
        'unsupported',
        'config.json: quantization_config.quant_method',
        '"awq" is not supported',
      );
      expectLine(read(base().specs, cfg({ ...gptqQuantConfig(4, 32, true), checkpoint_format: 'gptq_v2' })), 'unsupported', 'checkpoint_format');
      expectLine(read(base().specs, cfg({ ...gptqQuantConfig(4, 32, true), bits: 5 })), 'unsupported', 'quantization_config.bits', 'is 5');
    });
    it('quantize_config.json and config.json that disagree', () => {
      const dir = writeHfFolder(folder('gptq-disagree'), { config: cfg(), tensors: base().specs });
      writeFileSync(join(dir, 'quantize_config.json'), JSON.stringify(gptqQuantConfig(4, 64, true)));
      expectLine(() => readHfFolder(dir), 'schema', 'config.json: quantization_config.group_size', 'is 32 but');
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// the writer

function floatModel(
  seed: number,
  c: { dim: number; hidden: number; heads: number; kvHeads: number; vocab: number; layers: number },
  ropeStyle: 'half' | 'adjacent',
): LmModel {
  const next = rng(seed);
  const hd = c.dim / c.heads;
  const tensors = new Map<string, LmTensor>();
  const f32 = (shape: number[], scale = 0.2): LmTensor => ({
    kind: 'float32',
    shape,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.fround((2 * next() - 1) * scale)),
  });
  tensors.set('token_embd', f32([c.vocab, c.dim], 1));
  tensors.set('output', f32([c.vocab, c.dim]));
  tensors.set('output_norm', f32([c.dim], 1));
  for (let i = 0; i < c.layers; i++) {
    tensors.set(`blk.${i}.attn_norm`, f32([c.dim], 1));
    tensors.set(`blk.${i}.ffn_norm`, f32([c.dim], 1));
    tensors.set(`blk.${i}.attn_q`, f32([c.heads * hd, c.dim]));
    tensors.set(`blk.${i}.attn_k`, f32([c.kvHeads * hd, c.dim]));
    tensors.set(`blk.${i}.attn_v`, f32([c.kvHeads * hd, c.dim]));
    tensors.set(`blk.${i}.attn_output`, f32([c.dim, c.heads * hd]));
    tensors.set(`blk.${i}.ffn_gate`, f32([c.hidden, c.dim]));
    tensors.set(`blk.${i}.ffn_up`, f32([c.hidden, c.dim]));
    tensors.set(`blk.${i}.ffn_down`, f32([c.dim, c.hidden]));
  }
  return {
    name: 'm',
    source: 'test',
    format: 'llama2c',
    sourceHash: '0',
    config: {
      arch: 'llama',
      dim: c.dim,
      hiddenDim: c.hidden,
      nLayers: c.layers,
      nHeads: c.heads,
      nKvHeads: c.kvHeads,
      headDim: hd,
      vocabSize: c.vocab,
      contextLength: 64,
      normEps: 1e-5,
      ropeTheta: 10000,
      ropeDim: hd,
      ropeStyle,
      ffnAct: 'silu',
      subNorms: false,
      tiedOutput: false,
      activations: 'float',
    },
    tensors,
    notes: [],
  };
}

function matrix(t: LmTensor): { w: Float32Array; rows: number; cols: number } {
  if (t.kind !== 'float32') throw new Error('test bug');
  return { w: t.data, rows: t.shape[0]!, cols: t.shape[1]! };
}

/** Every tensor of `b` equals `a`'s, field by field (the reader's own `source` aside where it has none to keep). */
function expectSameTensors(a: LmModel, b: LmModel): void {
  expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
  for (const [name, t] of a.tensors) {
    const u = b.tensors.get(name)!;
    const plain = (x: LmTensor) => {
      const o: Record<string, unknown> = { ...x };
      delete o['source'];
      for (const [k, v] of Object.entries(o)) if (ArrayBuffer.isView(v)) o[k] = Array.from(v as unknown as ArrayLike<number>);
      return o;
    };
    expect(plain(u), name).toEqual(plain(t));
  }
}

describe('writeHfModel', () => {
  const dims = { dim: 64, hidden: 96, heads: 4, kvHeads: 2, vocab: 10, layers: 1 };

  it('a GPTQ model becomes an AutoGPTQ checkpoint that reads back to the same tensors', () => {
    const m = floatModel(1, { ...dims, layers: 2 }, 'half');
    const x = Float64Array.from({ length: 64 * 96 }, (_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.11));
    for (const [name, t] of m.tensors) {
      if (!/\.(attn|ffn)_/.test(name) || name.endsWith('_norm')) continue;
      const { w, rows, cols } = matrix(t);
      const h = newHessian(cols);
      accumulateHessian(h, x.subarray(0, 64 * cols), 64, cols);
      m.tensors.set(name, gptqQuantize(w, rows, cols, h, { bits: 4, groupSize: 32, actOrder: true, sym: false }).tensor);
    }
    const dir = join(folder('write-gptq'), 'out');
    const r = writeHfModel(m, dir);
    expect(r).toEqual({ format: 'gptq', files: ['config.json', 'model.safetensors', 'quantize_config.json'] });
    const qc = JSON.parse(readFileSync(join(dir, 'quantize_config.json'), 'utf8'));
    expect(qc).toMatchObject({ bits: 4, group_size: 32, desc_act: true, sym: false, quant_method: 'gptq', checkpoint_format: 'gptq' });
    const back = readHfFolder(dir);
    expectSameTensors(m, back);
    expect(back.config).toEqual(m.config);
    expect(() => writeHfModel(m, dir)).toThrow(/exists/);
  });

  it('ternary, two-plane, Tequila, binary, int8 and b-bit groups AutoGPTQ cannot hold: the tritc layers map', () => {
    const m = floatModel(2, dims, 'half');
    const q = (name: string) => matrix(m.tensors.get(name)!);
    const set = (name: string, f: (w: Float32Array, rows: number, cols: number) => LmTensor) => {
      const { w, rows, cols } = q(name);
      m.tensors.set(name, f(w, rows, cols));
    };
    set('blk.0.attn_q', (w, r, c) => ptqtpQuantize(w, r, c, { groupSize: 24 }).tensor);
    set('blk.0.attn_k', (w, r, c) => tequilaQuantize(w, r, c, { groupSize: 48 }));
    set('blk.0.attn_v', (w, r, c) => tbtBinary(w, r, c));
    set('blk.0.attn_output', (w, r, c) => tbtTernary(w, r, c));
    set('blk.0.ffn_gate', (w, r, c) => ternarizeTensor('g', { kind: 'float32', shape: [r, c], data: w }, { kind: 'per_tensor' }));
    m.tensors.set('blk.0.ffn_up', int8Model(m).tensors.get('blk.0.ffn_up')!);
    const hd = newHessian(96);
    accumulateHessian(
      hd,
      Float64Array.from({ length: 96 * 100 }, (_, i) => Math.sin(i)),
      100,
      96,
    );
    set(
      'blk.0.ffn_down',
      (w, r, c) => gptqQuantize(w, r, c, hd, { bits: 3, groupSize: 40, actOrder: true, sym: false, v1Zeros: false, fp16Scales: false }).tensor,
    );
    const dir = join(folder('write-tritc'), 'out');
    expect(writeHfModel(m, dir).format).toBe('tritc');
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.quantization_config.layers['model.layers.0.self_attn.q_proj']).toMatchObject({
      format: 'ternary',
      planes: 2,
      granularity: 'per_group',
      group_size: 24,
    });
    expect(cfg.quantization_config.layers['model.layers.0.mlp.down_proj']).toMatchObject({ format: 'intb', bits: 3, group_size: 40 });
    const back = readHfFolder(dir);
    expectSameTensors(m, back);
    for (const name of ['blk.0.attn_q', 'blk.0.attn_k', 'blk.0.ffn_down'])
      expect((back.tensors.get(name) as { source: string }).source).toBe((m.tensors.get(name) as { source: string }).source);
    expect(back.notes).toContain(`tritc quantized folder (${dir}/config.json): 7 projections quantized`);
  });

  it("TBT's activation quantizers travel with their projections (act_clip_val, TBT's own name) and are checked on reading", () => {
    const m = floatModel(5, dims, 'half');
    const inputs = [
      { method: 'elastic', bits: 2, signed: true, alpha: Math.fround(0.031), clip: 2.5 },
      { method: 'elastic', bits: 1, signed: false, alpha: Math.fround(0.5), clip: 2.5 },
      { method: 'clip8', bits: 8, signed: true, alpha: 1, clip: 2.5 },
      { method: 'clip8', bits: 8, signed: false, alpha: 1, clip: Math.fround(0.3) },
    ] as const;
    ['blk.0.attn_q', 'blk.0.attn_output', 'blk.0.ffn_up', 'blk.0.ffn_down', 'blk.0.ffn_gate'].forEach((name, i) => {
      const { w, rows, cols } = matrix(m.tensors.get(name)!);
      const t = tbtTernary(w, rows, cols);
      m.tensors.set(name, inputs[i] ? { ...t, input: { ...inputs[i] } } : t);
    });
    const dir = join(folder('write-tbt-act'), 'out');
    expect(writeHfModel(m, dir).format).toBe('tritc');
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    expect(cfg.quantization_config.layers['model.layers.0.mlp.down_proj'].input_quant).toEqual({ method: 'clip8', bits: 8, signed: false });
    expectSameTensors(m, readHfFolder(dir));
    cfg.quantization_config.layers['model.layers.0.self_attn.q_proj'].input_quant.bits = 3;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    expectLine(() => readHfFolder(dir), 'schema', 'input_quant', 'is 3; the elastic quantizer takes 1 or 2 bits');
    cfg.quantization_config.layers['model.layers.0.self_attn.q_proj'].input_quant.bits = 2;
    cfg.quantization_config.layers['model.layers.0.mlp.gate_proj'].input_quant = { method: 'elastic', bits: 2, signed: true };
    writeFileSync(cfgPath, JSON.stringify(cfg));
    expectLine(() => readHfFolder(dir), 'weights', 'model.layers.0.mlp.gate_proj.act_clip_val', 'is missing');
  });

  it('a tritc folder whose tensors disagree with its layers map is refused in one line', () => {
    const m = floatModel(3, dims, 'half');
    const { w, rows, cols } = matrix(m.tensors.get('blk.0.attn_q')!);
    m.tensors.set('blk.0.attn_q', ptqtpQuantize(w, rows, cols).tensor);
    const dir = join(folder('write-bad'), 'out');
    writeHfModel(m, dir);
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.quantization_config.layers['model.layers.0.self_attn.q_proj'].planes = 1;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    expectLine(() => readHfFolder(dir), 'shape', 'model.layers.0.self_attn.q_proj.weight_codes', 'expected [1, 64, 64]');
    cfg.quantization_config.layers['model.layers.0.self_attn.q_proj'].planes = 2;
    cfg.quantization_config.layers['model.layers.7.self_attn.q_proj'] = { format: 'int8', group_size: 4 };
    writeFileSync(cfgPath, JSON.stringify(cfg));
    expectLine(() => readHfFolder(dir), 'schema', 'quantization_config.layers["model.layers.7.self_attn.q_proj"]', 'not a projection');
  });

  it('stories260K (adjacent RoPE, 172-wide FFN), quantized with each method, computes the same logits once written and read', () => {
    const path = new URL('../../shared/data/llama2c_stories260K/stories260K.bin', import.meta.url).pathname;
    expect(existsSync(path), `${path} (shared test data) is missing`).toBe(true);
    const m = readLlama2c(path);
    expect(m.config.ropeStyle).toBe('adjacent');
    const methods = [
      (w: Float32Array, r: number, c: number) => ptqtpQuantize(w, r, c).tensor,
      (w: Float32Array, r: number, c: number) => tequilaQuantize(w, r, c, { groupSize: 32 }),
      (w: Float32Array, r: number, c: number) => tbtTernary(w, r, c),
    ];
    let k = 0;
    for (const [name, t] of m.tensors) {
      if (!/\.(attn_[qkvo]|attn_output|ffn_gate|ffn_up|ffn_down)$/.test(name)) continue;
      const { w, rows, cols } = matrix(t);
      m.tensors.set(name, methods[k++ % methods.length]!(w, rows, cols));
    }
    const dir = join(folder('write-stories'), 'out');
    expect(writeHfModel(m, dir).format).toBe('tritc');
    const back = readHfFolder(dir);
    expect(back.config).toEqual({ ...m.config, ropeStyle: 'half' });
    // Q and K rows moved within each head; everything else is as it was.
    const q0 = dequantize(m.tensors.get('blk.0.attn_q')!);
    const q1 = dequantize(back.tensors.get('blk.0.attn_q')!);
    const hd = m.config.headDim;
    for (let c = 0; c < m.config.dim; c++) expect(q1[(hd + hd / 2 + 1) * m.config.dim + c]).toBe(q0[(hd + 3) * m.config.dim + c]);
    expect(Array.from(dequantize(back.tensors.get('blk.2.ffn_down')!))).toEqual(Array.from(dequantize(m.tensors.get('blk.2.ffn_down')!)));
    const tokens = [1, 20, 300, 42, 7, 511];
    const a = referenceLogits(m, tokens);
    const b = referenceLogits(back, tokens);
    for (let p = 0; p < tokens.length; p++) for (let v = 0; v < a[p]!.length; v++) expect(Math.abs(b[p]![v]! - a[p]![v]!)).toBeLessThan(1e-9);
  });

  it('refuses what a Llama folder cannot say', () => {
    const m = floatModel(4, dims, 'half');
    expectLine(() => writeHfModel({ ...m, config: { ...m.config, ffnAct: 'relu2' } }, join(folder('w-relu2'), 'o')), 'unsupported', 'FFN activation "relu2"');
    const t = new Map(m.tensors);
    t.set('token_embd', ternarizeTensor('e', t.get('token_embd')!, { kind: 'per_row' }));
    expectLine(() => writeHfModel({ ...m, tensors: t }, join(folder('w-embd'), 'o')), 'unsupported', 'model.embed_tokens.weight', 'is ternary');
  });
});
