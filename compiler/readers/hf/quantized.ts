// Quantized projections of a LlamaForCausalLM folder:
//
//   GPTQ   AutoGPTQ's v1 checkpoints (quant_method "gptq", checkpoint_format "gptq"), the settings
//          from quantize_config.json, else from config.json's quantization_config (AutoGPTQ's own
//          order of lookup; transformers/optimum write the latter). A projection is GPTQ when
//          `<prefix>.qweight` is present (prefix = its name without ".weight"): qweight, qzeros,
//          scales, g_idx and an optional bias (compiler/quantize/autogptq.ts). Others stay float.
//   tritc  folders tritc writes itself (compiler/quantize/write_hf.ts): quant_method "tritc", a
//          `layers` map from prefix to how that projection is stored (compiler/quantize/tritc_hf.ts).
//
// Any other quant_method of a Llama folder (awq, bitsandbytes, ...) is refused by name rather than
// read as float. Diagnostics name `<file>: <key>` or `<shard>: tensor "<name>"`.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../diagnostics.ts';
import { FAIRY2I_MAX_STAGES, type LmTensor } from '../../lm/model.ts';
import { AUTOGPTQ_BITS, type AutoGptqLayout, unpackAutoGptq } from '../../quantize/autogptq.ts';
import type { LayerSource } from '../../quantize/layer_io.ts';
import { type TritcLayer, unpackTritcLayer } from '../../quantize/tritc_hf.ts';
import type { HfCheckpoint } from './checkpoint.ts';
import { ConfigKeys, type HfConfigFile, readHfConfig } from './config.ts';
import type { HfName } from './names.ts';
import { tensorWhere } from './tensors.ts';
import { jsonBrief } from '../../util/json.ts';

export type HfQuantization =
  { kind: 'gptq'; file: string; layout: AutoGptqLayout; sym: boolean } | { kind: 'tritc'; file: string; layers: Map<string, TritcLayer> };

const QUANTIZE_CONFIG = 'quantize_config.json';

/** The folder's quantization settings, or undefined for a float (or TriLM) Llama. */
export function hfQuantization(cfg: HfConfigFile, dir: string): HfQuantization | undefined {
  const top = new ConfigKeys(cfg.path, cfg.json);
  const qcPath = join(dir, QUANTIZE_CONFIG);
  const fromConfig = top.object('quantization_config');
  let q: ConfigKeys;
  let file: string;
  if (existsSync(qcPath)) {
    const qc = readHfConfig(dir, QUANTIZE_CONFIG);
    q = new ConfigKeys(qc.path, qc.json);
    file = qc.path;
  } else if (fromConfig) {
    q = fromConfig;
    file = cfg.path;
  } else {
    return undefined;
  }
  const method = q.string('quant_method', 'gptq');
  if (method === 'tritc') return { kind: 'tritc', file, layers: tritcLayers(q) };
  if (method !== 'gptq') fail('unsupported', q.where('quant_method'), `${jsonBrief(method)} is not supported; tritc reads "gptq" (AutoGPTQ v1) and "tritc"`);
  const format = q.string('checkpoint_format', 'gptq');
  if (format !== 'gptq')
    fail('unsupported', q.where('checkpoint_format'), `${jsonBrief(format)} is not supported; tritc reads AutoGPTQ's "gptq" (v1) checkpoints`);
  if (q.bool('is_marlin_format', false)) fail('unsupported', q.where('is_marlin_format'), 'is true; tritc reads AutoGPTQ\'s "gptq" (v1) layout only');
  const bits = q.positiveInt('bits', 4);
  if (!AUTOGPTQ_BITS.includes(bits)) fail('unsupported', q.where('bits'), `is ${bits}; AutoGPTQ checkpoints hold 2, 3, 4 or 8 bits`);
  const groupSize = q.has('group_size') && q.get('group_size') === -1 ? -1 : q.positiveInt('group_size', -1);
  const layout: AutoGptqLayout = { bits, groupSize, descAct: q.bool('desc_act', false) };
  // Both files present: they describe one checkpoint, so they must agree.
  if (fromConfig && file !== cfg.path && fromConfig.string('quant_method', 'gptq') === 'gptq') {
    for (const key of ['bits', 'group_size'] as const) {
      const a = q.get(key);
      const b = fromConfig.get(key);
      if (b !== undefined && a !== b) fail('schema', fromConfig.where(key), `is ${JSON.stringify(b)} but ${file} says ${JSON.stringify(a)}`);
    }
  }
  return { kind: 'gptq', file, layout, sym: q.bool('sym', true) };
}

function tritcLayers(q: ConfigKeys): Map<string, TritcLayer> {
  const version = q.positiveInt('format_version');
  if (version !== 1) fail('unsupported', q.where('format_version'), `is ${version}; this tritc reads version 1`);
  const layers = q.object('layers');
  if (!layers) fail('schema', q.where('layers'), 'is missing; a tritc folder lists how each quantized projection is stored');
  const out = new Map<string, TritcLayer>();
  for (const prefix of layers.keys()) {
    const e = layers.object(prefix)!;
    const format = e.string('format', '');
    const source = e.has('source') ? e.string('source', '') : undefined;
    const src = source !== undefined ? { source } : {};
    if (format === 'ternary') {
      const granularity = e.string('granularity', '');
      if (granularity !== 'per_tensor' && granularity !== 'per_row' && granularity !== 'per_group')
        fail('schema', e.where('granularity'), `is ${JSON.stringify(granularity)}; expected "per_tensor", "per_row" or "per_group"`);
      const planes = e.positiveInt('planes', 1);
      const iq = e.object('input_quant');
      let inputQuant: Extract<TritcLayer, { format: 'ternary' }>['inputQuant'];
      if (iq) {
        const method = iq.string('method', '');
        const bits = iq.positiveInt('bits');
        if (method !== 'elastic' && method !== 'clip8')
          fail('schema', iq.where('method'), `is ${JSON.stringify(method)}; expected "elastic" or "clip8" (TBT's activation quantizers)`);
        if (method === 'elastic' ? bits !== 1 && bits !== 2 : bits !== 8)
          fail('schema', iq.where('bits'), `is ${bits}; the ${method} quantizer takes ${method === 'elastic' ? '1 or 2' : '8'} bits`);
        inputQuant = { method, bits: bits as 1 | 2 | 8, signed: iq.bool('signed', true) };
      }
      out.set(prefix, {
        format,
        planes,
        granularity,
        ...(granularity === 'per_group' ? { groupSize: e.positiveInt('group_size') } : {}),
        ...(inputQuant ? { inputQuant } : {}),
        ...src,
      });
    } else if (format === 'int8') {
      out.set(prefix, { format, groupSize: e.positiveInt('group_size') });
    } else if (format === 'intb') {
      const bits = e.positiveInt('bits');
      if (bits < 2 || bits > 8) fail('schema', e.where('bits'), `is ${bits}; b-bit codes are 2 to 8 bits`);
      out.set(prefix, { format, bits, groupSize: e.positiveInt('group_size'), ...src });
    } else if (format === 'fairy2i') {
      const stages = e.positiveInt('stages');
      if (stages > FAIRY2I_MAX_STAGES) fail('schema', e.where('stages'), `is ${stages}; Fairy2i takes 1 to ${FAIRY2I_MAX_STAGES} stages`);
      out.set(prefix, { format, stages, ...src });
    } else {
      fail('schema', e.where('format'), `is ${JSON.stringify(format)}; expected "ternary", "int8", "intb" or "fairy2i"`);
    }
  }
  return out;
}

/**
 * The projection `name` if the folder stores it quantized, else undefined (it is then a float
 * `.weight`). `shape` is its [out, in] from the config.
 */
export function readQuantizedLinear(
  ckpt: HfCheckpoint,
  q: HfQuantization,
  name: HfName,
  shape: [number, number],
): { tensor: LmTensor; used: string[] } | undefined {
  const prefix = name.hf.replace(/\.weight$/, '');
  const [n, k] = shape;
  const src = (what: string): LayerSource => ({
    what,
    get: (s) => ckpt.tensors.get(`${prefix}.${s}`)?.st,
    where: (s) => {
      const t = ckpt.tensors.get(`${prefix}.${s}`);
      return t ? tensorWhere(t) : `${ckpt.mapFile}: tensor ${JSON.stringify(`${prefix}.${s}`)}`;
    },
  });
  const clash = (marker: string): void => {
    const w = ckpt.tensors.get(name.hf);
    if (w) fail('weights', tensorWhere(w), `is present beside ${prefix}.${marker}; a projection is stored either float or quantized, not both`);
  };
  let r: { tensor: LmTensor; used: string[] };
  if (q.kind === 'gptq') {
    if (!ckpt.tensors.has(`${prefix}.qweight`)) return undefined;
    clash('qweight');
    const l = q.layout;
    const how = `AutoGPTQ int${l.bits}, ${l.groupSize === -1 ? 'per row' : `group ${l.groupSize}`}${l.descAct ? ', act-order' : ''}${q.sym ? ', sym' : ''}`;
    r = unpackAutoGptq(src('an AutoGPTQ layer'), n, k, l, how);
  } else {
    const layer = q.layers.get(prefix);
    if (!layer) return undefined;
    clash('weight_codes');
    r = unpackTritcLayer(src(`a tritc ${layer.format} layer`), layer, n, k, layer.source ?? `tritc folder: ${layer.format}`);
  }
  return { tensor: r.tensor, used: r.used.map((s) => `${prefix}.${s}`) };
}

/** A tritc folder's layers that name no projection of the model: one line for the first. */
export function checkTritcLayers(q: HfQuantization, prefixes: Set<string>): void {
  if (q.kind !== 'tritc') return;
  for (const prefix of q.layers.keys())
    if (!prefixes.has(prefix))
      fail(
        'schema',
        `${q.file}: quantization_config.layers[${JSON.stringify(prefix)}]`,
        'is not a projection of this model (expected e.g. "model.layers.0.self_attn.q_proj")',
      );
}
