// A Hugging Face model folder -> LmModel: config.json plus model.safetensors, or shards listed by
// model.safetensors.index.json.
//
//   LlamaForCausalLM   float Llama, or TriLM "Unpacked" (SpectraSuite): each projection whose values are
//                      0 / +-gamma per model-parallel shard becomes ternary (trilm.ts); any other stays
//                      float as stored, and the notes say which. GPTQ checkpoints (AutoGPTQ v1) and
//                      folders tritc writes hold quantized projections under their own tensor names
//                      (quantized.ts).
//   BitNetForCausalLM  BitNet b1.58 (microsoft/bitnet-b1.58-2B-4T): packed 2-bit projections with a
//                      weight_scale, or float ones quantized at load (bitlinear.ts).
//   MoTEForCausalLM    a Llama with MoTE layers (docs/formats.md "MoTE"): the shared expert read as a
//                      Llama FFN, a float router, routed experts ternary as stored or absmean at load.
//
// Order of work: config.json first (so a bad key is reported before gigabytes are read), then the
// shards, then each tensor under its canonical name (names.ts), then compiler/lm/model.ts's
// validateLmModel, then a check that nothing in the checkpoint went unused. Diagnostics name the file:
// `<dir>/config.json: <key>`, `<index>: weight_map["<tensor>"]` or `<shard>: tensor "<name>"`.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fail } from '../../diagnostics.ts';
import { type LmConfig, type LmModel, type LmTensor, expectedShapes, validateLmModel } from '../../lm/model.ts';
import { type BitnetScheme, absmeanTernary, bitnetScheme, packedTernary } from './bitlinear.ts';
import { type HfCheckpoint, type HfTensor, openCheckpoint } from './checkpoint.ts';
import { ConfigKeys, type HfArchitecture, architectureOf, lmConfigOf, readHfConfig } from './config.ts';
import { type HfName, hfNames, isIgnorable, weightScaleName } from './names.ts';
import { type HfQuantization, checkTritcLayers, hfQuantization, readQuantizedLinear } from './quantized.ts';
import { exactFloat32, floatDType, storedFloat, tensorWhere } from './tensors.ts';
import { recoverTernary } from './trilm.ts';

export interface HfReadOptions {
  /** TriLM: the model-parallel degree to split scales by, overriding config.pretraining_model_parallel. */
  modelParallel?: number;
}

/** A directory holding a config.json whose `architectures` is present: what `readHfFolder` expects. */
export function looksLikeHfFolder(path: string): boolean {
  try {
    if (!statSync(path).isDirectory()) return false;
    const cfg = join(path, 'config.json');
    if (!existsSync(cfg)) return false;
    const json: unknown = JSON.parse(readFileSync(cfg, 'utf-8'));
    return json !== null && typeof json === 'object' && !Array.isArray(json) && (json as Record<string, unknown>)['architectures'] !== undefined;
  } catch {
    return false;
  }
}

/** What a projection became, and what the reader should say about it. */
interface LinearResult {
  tensor: LmTensor;
  /** Other checkpoint tensors this one consumed (a packed weight's weight_scale). */
  uses?: string[];
  /** Set when the projection stayed float although the architecture could hold it ternary. */
  float?: { reason: string; looksTernary: boolean };
}

type LinearReader = (name: HfName, t: HfTensor, shape: number[] | undefined) => LinearResult;

/** LlamaForCausalLM: TriLM ternary when the data says so, float as stored otherwise. */
function llamaLinears(modelParallel: number | undefined): LinearReader {
  return (name, t) => {
    const dtype = floatDType(t, 'a Llama projection');
    const found = recoverTernary(t, dtype, modelParallel, name.shardAxis ?? 'N');
    if (found.ternary) return { tensor: found.tensor };
    return { tensor: storedFloat(t, 'a Llama projection'), float: { reason: found.reason, looksTernary: found.looksTernary } };
  };
}

/** BitNetForCausalLM: packed codes + weight_scale, or float weights quantized with absmean. */
function bitnetLinears(ckpt: HfCheckpoint, scheme: BitnetScheme): LinearReader {
  return (_name, t, shape) => {
    if (scheme.stored === 'float') return { tensor: absmeanTernary(t) };
    // The logical [N, K] comes from the config: a packed tensor only holds ceil(N/4) rows.
    const [n, k] = shape as [number, number];
    return { tensor: packedTernary(ckpt, t, n, k, scheme), uses: [weightScaleName(t.name)] };
  };
}

function modelName(dir: string): string {
  const base = basename(resolve(dir)).replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(base) ? base : `m_${base}`;
}

export function readHfFolder(dir: string, opts: HfReadOptions = {}): LmModel {
  const mpOpt = opts.modelParallel;
  if (mpOpt !== undefined && !(Number.isSafeInteger(mpOpt) && mpOpt >= 1))
    fail('usage', dir, `the model-parallel degree must be a positive integer, not ${mpOpt}`);
  if (!existsSync(dir)) fail('io', dir, 'no such directory');
  if (!statSync(dir).isDirectory()) fail('io', dir, 'is not a directory; a Hugging Face model is a folder holding config.json and safetensors');
  const cfg = readHfConfig(dir);
  const arch: HfArchitecture = architectureOf(cfg);
  const base = lmConfigOf(cfg, arch);
  const keys = new ConfigKeys(cfg.path, cfg.json);
  const tie = keys.bool('tie_word_embeddings', false);
  // Settle every config question before reading the shards.
  const scheme = arch === 'BitNetForCausalLM' ? bitnetScheme(cfg) : undefined;
  const quant = arch === 'LlamaForCausalLM' ? hfQuantization(cfg, dir) : undefined;
  const modelParallel = opts.modelParallel ?? (keys.has('pretraining_model_parallel') ? keys.positiveInt('pretraining_model_parallel') : undefined);

  const ckpt = openCheckpoint(dir, cfg.bytes);
  const notes: string[] = [];
  const used = new Set<string>();

  // The head: transformers ties it when tie_word_embeddings is true; a missing lm_head is tied too.
  const head = ckpt.tensors.get('lm_head.weight');
  const tiedOutput = tie || head === undefined;
  if (tie && head) {
    used.add(head.name);
    notes.push('lm_head.weight is ignored: tie_word_embeddings is true, so the output head is model.embed_tokens.weight');
  } else if (!tie && !head) {
    notes.push('lm_head.weight is absent: the output head is tied to model.embed_tokens.weight');
  }
  const config: LmConfig = { ...base, tiedOutput };
  const shapes = expectedShapes(config);
  const readLinear = scheme ? bitnetLinears(ckpt, scheme) : llamaLinears(modelParallel);

  const tensors = new Map<string, LmTensor>();
  const origin = new Map<string, string>();
  const floats: { name: HfName; t: HfTensor; reason: string; looksTernary: boolean }[] = [];
  let linears = 0;
  const quantized: string[] = [];
  const prefixes = new Set<string>();
  const experts = { exact: 0, absmean: 0 };
  for (const name of hfNames(config.nLayers, config.subNorms, config.moe?.experts ?? 0)) {
    if (name.role === 'head' && tiedOutput) continue;
    if (name.role === 'linear' && quant) {
      prefixes.add(name.hf.replace(/\.weight$/, ''));
      const r = readQuantizedLinear(ckpt, quant, name, shapes.get(name.canonical) as [number, number]);
      if (r) {
        origin.set(name.canonical, r.used.map((u) => tensorWhere(ckpt.tensors.get(u)!)).join(', '));
        for (const u of r.used) used.add(u);
        tensors.set(name.canonical, r.tensor);
        quantized.push(name.canonical);
        continue;
      }
    }
    const t = ckpt.tensors.get(name.hf);
    origin.set(name.canonical, t ? tensorWhere(t) : `${ckpt.mapFile}: tensor ${JSON.stringify(name.hf)}`);
    if (!t) continue; // validateLmModel reports every missing tensor together
    used.add(name.hf);
    switch (name.role) {
      case 'embedding':
      case 'head':
        tensors.set(name.canonical, storedFloat(t, name.role === 'head' ? 'the output head' : 'the token embedding'));
        break;
      case 'norm':
        tensors.set(name.canonical, exactFloat32(t, 'a norm weight'));
        break;
      case 'router':
        tensors.set(name.canonical, storedFloat(t, 'an MoE router'));
        break;
      case 'expert': {
        // Exactly ternary values (0 and one magnitude) are kept; other floats are quantized as
        // BitLinear does (absmean per tensor, transformers' AutoBitLinear).
        const found = recoverTernary(t, floatDType(t, 'a routed expert'), 1, 'N');
        tensors.set(name.canonical, found.ternary ? found.tensor : absmeanTernary(t));
        experts[found.ternary ? 'exact' : 'absmean']++;
        break;
      }
      case 'linear': {
        linears++;
        const r = readLinear(name, t, shapes.get(name.canonical));
        tensors.set(name.canonical, r.tensor);
        for (const u of r.uses ?? []) used.add(u);
        if (r.float) floats.push({ name, t, ...r.float });
        break;
      }
    }
  }
  if (quant) {
    checkTritcLayers(quant, prefixes);
    notes.push(quantizedNote(quant, quantized, linears));
  }
  if (arch !== 'BitNetForCausalLM' && (linears > 0 || !quant)) notes.push(...llamaNotes(linears, floats, modelParallel));
  if (config.moe)
    notes.push(
      `MoTE: ${config.moe.experts} routed experts per layer, top-${config.moe.topK}; ${experts.exact} expert matrices stored ternary (kept exactly), ${experts.absmean} float (quantized at load: absmean per tensor)`,
    );
  const tokenizer = ['tokenizer.json', 'tokenizer.model'].find((f) => existsSync(join(dir, f)));
  if (tokenizer) notes.push(`${tokenizer} is not read: the model carries no tokenizer`);

  const model: LmModel = {
    name: modelName(dir),
    source: dir,
    format: 'hf',
    sourceHash: ckpt.hash,
    config,
    tensors,
    notes,
  };
  validateLmModel(model, (n) => origin.get(n) ?? `${dir}: ${n}`);

  // Last: anything the checkpoint holds that this architecture and config do not explain.
  for (const t of ckpt.tensors.values()) {
    if (used.has(t.name) || isIgnorable(t.name)) continue;
    fail('weights', tensorWhere(t), `is not a tensor of a ${arch} with ${config.nLayers} layers (config.json), nor one tritc reads`);
  }
  return model;
}

/** What the quantized folder held, one line. */
function quantizedNote(q: HfQuantization, quantized: string[], floats: number): string {
  const rest = floats > 0 ? `; ${floats} stay float` : '';
  if (q.kind === 'gptq') {
    const l = q.layout;
    return `GPTQ (AutoGPTQ v1, ${q.file}): ${quantized.length} projections int${l.bits}, ${l.groupSize === -1 ? 'one group per row' : `groups of ${l.groupSize}`}${l.descAct ? ', act-order' : ''}${rest}`;
  }
  return `tritc quantized folder (${q.file}): ${quantized.length} projections quantized${rest}`;
}

/** One line for the whole model, plus one per float projection that nearly looked ternary. */
function llamaNotes(
  linears: number,
  floats: { name: HfName; t: HfTensor; reason: string; looksTernary: boolean }[],
  modelParallel: number | undefined,
): string[] {
  const notes: string[] = [];
  const ternary = linears - floats.length;
  const mp = modelParallel === undefined ? 'MP found in the data' : `MP = ${modelParallel}`;
  const dtypes = [...new Set(floats.map((f) => f.t.st.dtype))].join('/');
  if (ternary > 0 && floats.length === 0) notes.push(`TriLM unpacked: all ${linears} projections are ternary (${mp})`);
  else if (ternary > 0) notes.push(`TriLM unpacked: ${ternary} of ${linears} projections are ternary (${mp}); ${floats.length} stay float`);
  else if (linears > 0) notes.push(`no projection is ternary: a float Llama, its ${linears} projections stay ${dtypes}`);
  for (const f of floats) {
    if (f.looksTernary || ternary > 0) notes.push(`${f.name.canonical} (${f.name.hf}) stays ${f.t.st.dtype}: ${f.reason}`);
  }
  return notes;
}
