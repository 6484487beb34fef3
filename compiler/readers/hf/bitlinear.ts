// BitNet b1.58 projections as transformers stores them (BitNetForCausalLM, microsoft/bitnet-b1.58-2B-4T).
//
// What was verified, and where (read in the public code index, not from memory):
//
// * huggingface/transformers src/transformers/integrations/bitnet.py (versions at commits
//   0b4060e7f247 and 8b493cee2568, and a later one with `use_rms_norm`, all agreeing on what follows):
//   - pack_weights: codes t in {-1,0,1} are stored as t + 1 in 2 bits; the packed tensor is uint8
//     [ceil(N/4), K]; rows [i*P, (i+1)*P) (P = ceil(N/4)) are OR-ed in at bit 2i. So byte [r, k],
//     bits 2i..2i+1, hold row i*P + r. unpack_weights inverts this: ((packed >> 2i) & 3) - 1.
//   - class BitLinear (linear_class "bitlinear"): forward is
//       y = F.linear(int8 x_q, unpack(W)) / (weight_scale * input_scale),  input_scale = 127 / absmax(x)
//     (post_quant_process(input, input_scale, weight_scale) is called with the two scales swapped; it
//     only multiplies them, so the order does not matter). Here weight_scale DIVIDES: it is ~1/mean|W|.
//   - class AutoBitLinear (linear_class "autobitlinear"): a plain nn.Linear whose load hook unpacks the
//     uint8 weight; forward is y = F.linear(ActQuant(x), W) * weight_scale when quantization_mode is
//     "offline" (weight_scale MULTIPLIES: ~mean|W|), and y = F.linear(ActQuant(x), WeightQuant(W)) when
//     "online", with no weight_scale. WeightQuant (float32): s = 1 / clamp(mean|W|, 1e-5);
//     W_q = clamp(round(W * s), -1, 1) / s, cast back to W's dtype. ActQuant: per token,
//     s = 127 / clamp(absmax, 1e-5), round(x * s).clamp(-128, 127) / s (the 'int8-per-token' activations).
//   - weight_scale is a buffer of shape (1), in the model dtype: one scale per tensor.
// * transformers src/transformers/utils/quantization_config.py, BitNetQuantConfig: linear_class
//   defaults to "bitlinear", quantization_mode to "offline"; use_rms_norm (default false) would add an
//   RMSNorm inside every projection, which tritc does not model (rejected below).
// * transformers src/transformers/models/bitnet/modular_bitnet.py and configuration_bitnet.py: the
//   sub-norm names `self_attn.attn_sub_norm` (over the attention output, before o_proj) and
//   `mlp.ffn_sub_norm` (down(ffn_sub_norm(act(gate x) * up x))), Llama's rotate_half RoPE, hidden_act
//   "relu2"; lm_head is never converted (modules_to_not_convert defaults to ["lm_head"]).
// * The hazard of seed-methods 1.3 is exactly these two classes. microsoft/bitnet-b1.58-2B-4T is
//   AutoBitLinear offline: its config (as mirrored by third-party ports found in the index, e.g. a
//   tinygrad port listing quantization_config {quant_method "bitnet", linear_class "autobitlinear",
//   quantization_mode "offline"}) and independent loaders agree (ml-explore/mlx-lm
//   mlx_lm/models/bitlinear_layers.py has an `invert_weight_scales` switch; lablup/mlxcel PR #287:
//   "scales are inverted unless linear_class == autobitlinear"). That also matches bitnet.cpp's I2_S
//   comment that weight_scale ~ mean|W|. The checkpoint itself was not downloaded, so this was not
//   checked numerically on its values.
//
// Decision: value = code * scale, with scale = weight_scale for AutoBitLinear offline (exact), and
// scale = float32(1 / weight_scale) for BitLinear (one rounding: the LmTernary contract multiplies; the
// HF code divides, in the model dtype, so it is no more exact than this). Float ("online") checkpoints
// are quantized here with WeightQuant's rule, reproduced step by step in float32.

import { fail } from '../../diagnostics.ts';
import type { LmTernary } from '../../lm/model.ts';
import { fround } from '../../numerics/f32.ts';
import type { HfCheckpoint, HfTensor } from './checkpoint.ts';
import { ConfigKeys, type HfConfigFile } from './config.ts';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../../numerics/half.ts';
import { weightScaleName } from './names.ts';
import { floatDType, floatValues, tensorWhere } from './tensors.ts';
import { jsonBrief } from '../../util/json.ts';

export type BitnetScheme = { stored: 'packed'; linearClass: 'bitlinear' | 'autobitlinear'; text: string } | { stored: 'float'; text: string };

/** How the projections are stored and applied, from config.json's quantization_config. */
export function bitnetScheme(cfg: HfConfigFile): BitnetScheme {
  const top = new ConfigKeys(cfg.path, cfg.json);
  const q = top.object('quantization_config');
  if (q === undefined) {
    fail(
      'schema',
      top.where('quantization_config'),
      'is missing; a BitNetForCausalLM folder needs it (quant_method "bitnet") to say how its projections are stored and whether weight_scale multiplies or divides',
    );
  }
  const method = q.string('quant_method', '');
  if (method !== 'bitnet') fail('unsupported', q.where('quant_method'), `is ${jsonBrief(method)}; tritc reads "bitnet" only`);
  const linearClass = q.string('linear_class', 'bitlinear');
  if (linearClass !== 'bitlinear' && linearClass !== 'autobitlinear') {
    fail('schema', q.where('linear_class'), `is ${jsonBrief(linearClass)}; transformers knows "bitlinear" and "autobitlinear"`);
  }
  const mode = q.string('quantization_mode', 'offline');
  if (mode !== 'offline' && mode !== 'online') fail('schema', q.where('quantization_mode'), `is ${jsonBrief(mode)}; expected "offline" or "online"`);
  if (q.bool('use_rms_norm', false)) fail('unsupported', q.where('use_rms_norm'), 'is true: an RMSNorm inside every projection is not supported');
  const skip = q.get('modules_to_not_convert');
  if (skip !== undefined && (!Array.isArray(skip) || skip.some((m) => m !== 'lm_head'))) {
    fail('unsupported', q.where('modules_to_not_convert'), `must be absent or ["lm_head"]; tritc reads every projection as ternary, found ${jsonBrief(skip)}`);
  }
  if (linearClass === 'autobitlinear' && mode === 'online') {
    return { stored: 'float', text: 'linear_class "autobitlinear", quantization_mode "online"' };
  }
  // BitLinear ignores quantization_mode: its weight is always the packed buffer.
  return { stored: 'packed', linearClass, text: `linear_class "${linearClass}", quantization_mode "${mode}"` };
}

/** HF's 2-bit layout -> codes [n, k]: byte [r, c] bits 2i..2i+1 hold row i*ceil(n/4) + r, as code + 1. */
export function unpackHfTernary(packed: Uint8Array, n: number, k: number, where: string): Int8Array {
  const p = Math.ceil(n / 4);
  const codes = new Int8Array(n * k);
  for (let r = 0; r < p; r++) {
    for (let c = 0; c < k; c++) {
      const byte = packed[r * k + c]!;
      for (let i = 0; i < 4; i++) {
        const row = i * p + r;
        if (row >= n) break; // the padding rows of the last group (n not a multiple of 4)
        const q = (byte >> (2 * i)) & 3; // -1, 0, +1 -> 0, 1, 2
        if (q === 3) fail('codes', where, `packed byte [${r}, ${c}] bits ${2 * i}..${2 * i + 1} hold 3 (row ${row}); HF BitNet stores code + 1 in {0, 1, 2}`);
        codes[row * k + c] = q - 1;
      }
    }
  }
  return codes;
}

/** The single weight_scale value of a packed projection, exactly as float32. */
function weightScale(ckpt: HfCheckpoint, weight: HfTensor): { value: number; dtype: string } {
  const name = weightScaleName(weight.name);
  const t = ckpt.tensors.get(name);
  if (!t) fail('weights', `${ckpt.mapFile}: tensor ${JSON.stringify(name)}`, `is missing; every packed BitNet projection has a weight_scale beside its weight`);
  const values = floatValues(t, 'a BitNet weight_scale');
  if (values.length !== 1)
    fail('shape', tensorWhere(t), `has ${values.length} values (shape [${t.st.shape.join(', ')}]); transformers' BitLinear holds one per tensor`);
  const value = values[0]!;
  if (!Number.isFinite(value)) fail('weights', tensorWhere(t), `is ${value}, not a finite scale`);
  return { value, dtype: t.st.dtype };
}

/** A packed projection of logical shape [n, k] and its weight_scale -> LmTernary. */
export function packedTernary(ckpt: HfCheckpoint, w: HfTensor, n: number, k: number, scheme: Extract<BitnetScheme, { stored: 'packed' }>): LmTernary {
  const where = tensorWhere(w);
  const dtype = w.st.dtype;
  // I8 is accepted too: the same bytes, written by a tool that has no unsigned type.
  if (dtype !== 'U8' && dtype !== 'I8') {
    fail('dtype', where, `is ${dtype}; a packed BitNet projection (quantization_config ${scheme.text}) must be U8 holding 4 ternary codes per byte`);
  }
  const p = Math.ceil(n / 4);
  const s = w.st.shape;
  if (s.length !== 2 || s[0] !== p || s[1] !== k) {
    fail('shape', where, `has packed shape [${s.join(', ')}]; ${n} rows of ${k} pack 4 rows per byte into [ceil(${n}/4), ${k}] = [${p}, ${k}]`);
  }
  const codes = unpackHfTernary(w.st.bytes, n, k, where);
  const ws = weightScale(ckpt, w);
  if (scheme.linearClass === 'autobitlinear') {
    return {
      kind: 'ternary',
      shape: [n, k],
      codes,
      scales: Float32Array.of(ws.value),
      granularity: 'per_tensor',
      source: `HF BitNet packed ${dtype}, 4 codes per byte along N; ${ws.dtype} weight_scale ${ws.value} multiplies (AutoBitLinear offline)`,
    };
  }
  if (ws.value === 0) fail('weights', `${ckpt.mapFile}: tensor ${JSON.stringify(weightScaleName(w.name))}`, 'is 0, and BitLinear divides by it');
  return {
    kind: 'ternary',
    shape: [n, k],
    codes,
    scales: Float32Array.of(fround(1 / ws.value)),
    granularity: 'per_tensor',
    source: `HF BitNet packed ${dtype}, 4 codes per byte along N; ${ws.dtype} weight_scale ${ws.value} divides (BitLinear): scale = float32(1/weight_scale)`,
  };
}

/** round() as torch does it: to nearest, ties to even. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * A float projection quantized at load with AutoBitLinear's WeightQuant (quantization_mode "online"):
 * float32 s = 1 / max(mean|W|, 1e-5); code = clamp(round(W * s), -1, 1); value = code / s cast back to the
 * weight's dtype, so the scale is that cast of float32(1 / s). The mean is summed in binary64 and
 * rounded once; torch sums in float32 (in an order of its own), so the two can differ in the last bit
 * for large tensors.
 */
export function absmeanTernary(w: HfTensor): LmTernary {
  const dtype = floatDType(w, 'a BitNet projection');
  const s = w.st.shape;
  if (s.length !== 2) fail('shape', tensorWhere(w), `has shape [${s.join(', ')}]; a projection is a matrix`);
  const values = floatValues(w, 'a BitNet projection');
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += Math.abs(values[i]!);
  const mean = fround(sum / values.length);
  const inv = fround(1 / Math.max(mean, fround(1e-5)));
  const codes = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = Math.max(-1, Math.min(1, roundHalfEven(fround(values[i]! * inv))));
  let scale = fround(1 / inv);
  if (dtype === 'BF16') scale = bf16BitsToF32(f32ToBf16Bits(scale));
  if (dtype === 'F16') scale = f16BitsToF32(f32ToF16Bits(scale));
  return {
    kind: 'ternary',
    shape: [s[0]!, s[1]!],
    codes,
    scales: Float32Array.of(scale),
    granularity: 'per_tensor',
    source: `HF BitNet ${dtype} weights quantized at load (absmean, AutoBitLinear online): scale ${scale}`,
  };
}
