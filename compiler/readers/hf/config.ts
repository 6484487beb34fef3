// config.json of a Hugging Face model folder: read it, pick the architecture, and turn its keys into an
// LmConfig. Every problem is one line naming `<dir>/config.json: <key>`.
//
// Defaults are those of the transformers config class when a key is absent (or null), so a folder
// loads here as it would in transformers: LlamaConfig (rms_norm_eps 1e-6, rope_theta 10000,
// max_position_embeddings 2048, hidden_act "silu", num_key_value_heads = num_attention_heads,
// head_dim = hidden_size / num_attention_heads) and BitNetConfig (rms_norm_eps 1e-5, rope_theta 500000,
// hidden_act "relu2"). Exceptions, on purpose: the five sizes (vocab_size, hidden_size,
// intermediate_size, num_hidden_layers, num_attention_heads) are required, because the class defaults
// describe one particular model; so is BitNet's num_key_value_heads (BitNetConfig defaults it to 5,
// the 2B-4T value, not to the head count).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TritcError, fail } from '../../diagnostics.ts';
import type { LmConfig } from '../../lm/model.ts';

const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'BitNetForCausalLM', 'MoTEForCausalLM'] as const;
export type HfArchitecture = (typeof SUPPORTED_ARCHITECTURES)[number];

export interface HfConfigFile {
  /** `<dir>/config.json`, the prefix of every diagnostic about a key. */
  path: string;
  bytes: Uint8Array;
  json: Record<string, unknown>;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return String(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** config.json of `dir` (or another JSON object file of the folder, e.g. quantize_config.json). */
export function readHfConfig(dir: string, file = 'config.json'): HfConfigFile {
  const path = join(dir, file);
  if (!existsSync(path)) fail('io', path, 'is missing; a Hugging Face model folder holds config.json beside its safetensors');
  let bytes: Uint8Array;
  try {
    if (!statSync(path).isFile()) fail('io', path, 'is not a file');
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof TritcError) throw e;
    fail('io', path, `cannot be read (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8').decode(bytes));
  } catch (e) {
    fail('json', path, `is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(json)) fail('json', path, `must be a JSON object, found ${describe(json)}`);
  return { path, bytes, json };
}

/** config.architectures[0], checked against what tritc reads. */
export function architectureOf(cfg: HfConfigFile): HfArchitecture {
  const a = cfg.json['architectures'];
  if (a === undefined || a === null) fail('schema', `${cfg.path}: architectures`, `is missing; expected e.g. ["LlamaForCausalLM"]`);
  if (!Array.isArray(a) || a.length === 0 || typeof a[0] !== 'string') {
    fail('schema', `${cfg.path}: architectures`, `must be a non-empty array of class names, found ${describe(a)}`);
  }
  const name = a[0] as string;
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(name)) {
    fail(
      'unsupported',
      `${cfg.path}: architectures[0]`,
      `${JSON.stringify(name)} is not supported; tritc reads ${SUPPORTED_ARCHITECTURES.join(', ')} (TriLM "Unpacked" checkpoints are LlamaForCausalLM)`,
    );
  }
  return name as HfArchitecture;
}

/** Typed access to one JSON object of config.json; `prefix` is the key path of that object ("" at the top). */
export class ConfigKeys {
  constructor(
    private readonly file: string,
    private readonly obj: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  where(key: string): string {
    return `${this.file}: ${this.prefix}${key}`;
  }

  /** The value, with null treated as absent (transformers writes null for unset options). */
  get(key: string): unknown {
    const v = Object.prototype.hasOwnProperty.call(this.obj, key) ? this.obj[key] : undefined;
    return v === null ? undefined : v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  positiveInt(key: string, dflt?: number): number {
    const v = this.get(key);
    if (v === undefined) {
      if (dflt !== undefined) return dflt;
      fail('schema', this.where(key), 'is missing; it must be a positive integer');
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
      fail('schema', this.where(key), `must be a positive integer, found ${describe(v)}`);
    }
    return v;
  }

  finite(key: string, dflt: number): number {
    const v = this.get(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('schema', this.where(key), `must be a number, found ${describe(v)}`);
    return v;
  }

  string(key: string, dflt: string): string {
    const v = this.get(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'string') fail('schema', this.where(key), `must be a string, found ${describe(v)}`);
    return v;
  }

  bool(key: string, dflt: boolean): boolean {
    const v = this.get(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') fail('schema', this.where(key), `must be true or false, found ${describe(v)}`);
    return v;
  }

  /** The object's keys, in file order. */
  keys(): string[] {
    return Object.keys(this.obj);
  }

  /** A nested object (absent -> undefined). */
  object(key: string): ConfigKeys | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isObject(v)) fail('schema', this.where(key), `must be an object, found ${describe(v)}`);
    return new ConfigKeys(this.file, v, `${this.prefix}${key}.`);
  }
}

/**
 * RoPE: tritc implements the plain (unscaled) rotation. `rope_scaling` may be absent, null, or of type
 * "default"; transformers 5 moves the base into `rope_parameters` ({rope_type, rope_theta}), read the
 * same way. Returns the base.
 */
function ropeBase(keys: ConfigKeys, dflt: number): number {
  for (const k of ['rope_scaling', 'rope_parameters']) {
    const r = keys.object(k);
    if (r === undefined) continue;
    const type = r.has('rope_type') ? r.string('rope_type', 'default') : r.string('type', 'default');
    if (type !== 'default') {
      fail(
        'unsupported',
        keys.where(k),
        `RoPE scaling type ${JSON.stringify(type)} is not supported; tritc implements plain RoPE only (rope_scaling absent, null or "default")`,
      );
    }
  }
  const params = keys.object('rope_parameters');
  if (!keys.has('rope_theta') && params?.has('rope_theta')) return params.finite('rope_theta', dflt);
  return keys.finite('rope_theta', dflt);
}

/** Everything of the LmConfig but the head tying, which depends on the tensors present. */
export type HfLmConfig = Omit<LmConfig, 'tiedOutput'>;

export function lmConfigOf(cfg: HfConfigFile, arch: HfArchitecture): HfLmConfig {
  const k = new ConfigKeys(cfg.path, cfg.json);
  const bitnet = arch === 'BitNetForCausalLM';
  const dim = k.positiveInt('hidden_size');
  const hiddenDim = k.positiveInt('intermediate_size');
  const nLayers = k.positiveInt('num_hidden_layers');
  const nHeads = k.positiveInt('num_attention_heads');
  const nKvHeads = bitnet ? k.positiveInt('num_key_value_heads') : k.positiveInt('num_key_value_heads', nHeads);
  const vocabSize = k.positiveInt('vocab_size');
  if (!k.has('head_dim') && dim % nHeads !== 0) {
    fail('schema', k.where('num_attention_heads'), `${nHeads} heads do not divide hidden_size ${dim}, and head_dim is not given`);
  }
  if (nHeads % nKvHeads !== 0) {
    fail('schema', k.where('num_key_value_heads'), `${nKvHeads} KV heads do not divide the ${nHeads} attention heads`);
  }
  const headDim = k.positiveInt('head_dim', dim / nHeads);
  if (headDim % 2 !== 0)
    fail('unsupported', k.where(k.has('head_dim') ? 'head_dim' : 'num_attention_heads'), `the head dimension ${headDim} is odd; RoPE rotates pairs`);
  const contextLength = k.positiveInt('max_position_embeddings', 2048);
  const normEps = k.finite('rms_norm_eps', bitnet ? 1e-5 : 1e-6);
  if (!(normEps > 0 && normEps < 1)) fail('schema', k.where('rms_norm_eps'), `is ${normEps}; it must be in (0, 1)`);
  const ropeTheta = ropeBase(k, bitnet ? 500000 : 10000);
  if (!(ropeTheta > 0)) fail('schema', k.where('rope_theta'), `is ${ropeTheta}; the RoPE base must be positive`);

  const act = k.string('hidden_act', bitnet ? 'relu2' : 'silu');
  const wantAct = bitnet ? 'relu2' : 'silu';
  if (act !== wantAct) {
    fail('unsupported', k.where('hidden_act'), `${JSON.stringify(act)} is not supported for ${arch}; expected "${wantAct}"`);
  }
  // The canonical model has no biases; transformers adds q/k/v/o (and MLP) biases when these are true.
  for (const b of ['attention_bias', 'mlp_bias']) {
    if (k.bool(b, false)) fail('unsupported', k.where(b), 'is true; tritc reads bias-free projections only');
  }
  return {
    arch: bitnet ? 'bitnet' : 'llama',
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    headDim,
    vocabSize,
    contextLength,
    normEps,
    ropeTheta,
    ropeDim: headDim,
    ropeStyle: 'half', // transformers' apply_rotary_pos_emb: rotate_half over the weights as stored
    ffnAct: bitnet ? 'relu2' : 'silu',
    subNorms: bitnet,
    activations: bitnet ? 'int8-per-token' : 'float',
    ...(arch === 'MoTEForCausalLM' ? { moe: moeConfigOf(k, hiddenDim) } : {}),
  };
}

/**
 * MoTEForCausalLM (docs/formats.md "MoTE"): a Llama whose MLP is a shared expert of intermediate_size
 * plus num_experts routed experts of moe_intermediate_size, num_experts_per_tok per token. Key names
 * and defaults follow Qwen2MoeConfig where it has them (num_experts_per_tok 4 there; required here,
 * like the sizes): norm_topk_prob false; shared_expert_intermediate_size, when given, must be
 * intermediate_size. num_local_experts (Mixtral's name) is read when num_experts is absent.
 */
function moeConfigOf(k: ConfigKeys, hiddenDim: number): NonNullable<LmConfig['moe']> {
  const key = k.has('num_experts') || !k.has('num_local_experts') ? 'num_experts' : 'num_local_experts';
  const experts = k.positiveInt(key);
  if (experts > 256) fail('unsupported', k.where(key), `is ${experts}; at most 256 experts are supported`);
  const topK = k.positiveInt('num_experts_per_tok');
  if (topK > Math.min(experts, 8))
    fail('unsupported', k.where('num_experts_per_tok'), `is ${topK}; it must be at most min(${key}, 8) = ${Math.min(experts, 8)}`);
  const shared = k.positiveInt('shared_expert_intermediate_size', hiddenDim);
  if (shared !== hiddenDim)
    fail('schema', k.where('shared_expert_intermediate_size'), `is ${shared}; the shared expert is the FFN of intermediate_size ${hiddenDim} in this layout`);
  return { experts, topK, expertHiddenDim: k.positiveInt('moe_intermediate_size', hiddenDim), normalizeGates: k.bool('norm_topk_prob', false) };
}
