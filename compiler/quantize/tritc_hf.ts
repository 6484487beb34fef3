// tritc's own safetensors layout for a quantized projection that AutoGPTQ's format cannot hold
// (docs/formats.md, "Hugging Face folders written by tritc"). config.json's quantization_config is
// { "quant_method": "tritc", "format_version": 1, "layers": { "<prefix>": <entry>, ... } }, <prefix>
// the projection's Hugging Face name without ".weight", and the entry says which of these it is:
//
//   ternary  {planes, granularity, group_size?}   <prefix>.weight_codes  I8  [P, N, K]   -1, 0, +1
//            (BitNet/TriLM absmean, PTQTP,          <prefix>.weight_scale  F32 [P] per tensor,
//             Tequila, TBT, GPTQ trits)                                        [P, N] per row,
//                                                                              [P, N, ceil(K/G)] per group
//                                                   <prefix>.bias          F32 [N]   optional (Tequila's C)
//   int8     {group_size}                           <prefix>.weight_codes  I8  [N, K]
//                                                   <prefix>.weight_scale  F32 [N, ceil(K/G)]
//   intb     {bits, group_size}                     <prefix>.weight_codes  U8  [N, K]   stored column order
//            (b-bit groups AutoGPTQ cannot store:   <prefix>.weight_scale  F32 [N, ceil(K/G)]
//             K or N not a multiple of 32, a zero   <prefix>.weight_zero   U8  [N, ceil(K/G)]
//             point 0, other bit widths)            <prefix>.weight_columns I32 [K]  optional permutation
//                                                   <prefix>.bias          F32 [N]   optional
//   fairy2i  {stages}                               <prefix>.weight_codes  U8  [S, 2, N/2, K/2]  0..3: i^e of U, W
//            (Fairy2i's widely-linear codes)        <prefix>.weight_scale  F32 [S, 2, 2]  (s_re, s_im) of U, W
//
// A ternary entry may add TBT's activation quantizer on the projection's input,
//   "input_quant": {method: "elastic" | "clip8", bits, signed}  <prefix>.act_clip_val F32 [] the
//   learned step (elastic) or [2] = [-clip, clip] (clip8): TBT's QuantizeLinear's own tensor name.
//
// value = sum over planes of code * scale (ternary), code * scale (int8), scale * (code - zero) with
// stored column j at input column weight_columns[j] (intb); the tensors' own semantics in
// compiler/lm/model.ts. Every entry may carry "source", kept as the tensor's `source` for inspect.
// Everything is stored exactly (F32 scales), so a folder reads back to the same tensors.

import { fail } from '../diagnostics.ts';
import { stToTyped } from '../io/safetensors.ts';
import type { LmFairy2i, LmInt8, LmIntB, LmTernary } from '../lm/model.ts';
import type { ActQuantParams } from '../ops/lm/act_quant.ts';
import { type LayerSource, type PackedTensor, byteView, expectTensor, f32Bytes, finiteFloats, int32Bytes } from './layer_io.ts';

export type TritcLayer =
  | {
      format: 'ternary';
      planes: number;
      granularity: LmTernary['granularity'];
      groupSize?: number;
      inputQuant?: Pick<ActQuantParams, 'method' | 'bits' | 'signed'>;
      source?: string;
    }
  | { format: 'int8'; groupSize: number; source?: string }
  | { format: 'intb'; bits: number; groupSize: number; source?: string }
  | { format: 'fairy2i'; stages: number; source?: string };

/** The entry and tensors of one projection. */
export function packTritcLayer(t: LmTernary | LmInt8 | LmIntB | LmFairy2i): { layer: TritcLayer; tensors: PackedTensor[] } {
  const [n, k] = t.shape;
  const tensors: PackedTensor[] = [];
  let layer: TritcLayer;
  switch (t.kind) {
    case 'ternary': {
      const p = t.planes ?? 1;
      layer = {
        format: 'ternary',
        planes: p,
        granularity: t.granularity,
        ...(t.granularity === 'per_group' ? { groupSize: t.groupSize! } : {}),
        ...(t.input ? { inputQuant: { method: t.input.method, bits: t.input.bits, signed: t.input.signed } } : {}),
        source: t.source,
      };
      tensors.push({ suffix: 'weight_codes', dtype: 'I8', shape: [p, n, k], bytes: byteView(t.codes) });
      tensors.push({ suffix: 'weight_scale', dtype: 'F32', shape: ternaryScaleShape(layer, n, k), bytes: f32Bytes(t.scales) });
      if (t.input) {
        const v = t.input.method === 'elastic' ? Float32Array.of(t.input.alpha) : Float32Array.of(-t.input.clip, t.input.clip);
        tensors.push({ suffix: 'act_clip_val', dtype: 'F32', shape: t.input.method === 'elastic' ? [] : [2], bytes: f32Bytes(v) });
      }
      break;
    }
    case 'int8':
      layer = { format: 'int8', groupSize: t.groupSize };
      tensors.push({ suffix: 'weight_codes', dtype: 'I8', shape: [n, k], bytes: byteView(t.codes) });
      tensors.push({ suffix: 'weight_scale', dtype: 'F32', shape: [n, Math.ceil(k / t.groupSize)], bytes: f32Bytes(t.scales) });
      break;
    case 'intb': {
      layer = { format: 'intb', bits: t.bits, groupSize: t.groupSize, source: t.source };
      const groups = Math.ceil(k / t.groupSize);
      tensors.push({ suffix: 'weight_codes', dtype: 'U8', shape: [n, k], bytes: byteView(t.codes) });
      tensors.push({ suffix: 'weight_scale', dtype: 'F32', shape: [n, groups], bytes: f32Bytes(t.scales) });
      tensors.push({ suffix: 'weight_zero', dtype: 'U8', shape: [n, groups], bytes: byteView(t.zeros) });
      if (t.columns)
        tensors.push({ suffix: 'weight_columns', dtype: 'I32', shape: [k], bytes: int32Bytes(new Uint32Array(Int32Array.from(t.columns).buffer)) });
      break;
    }
    case 'fairy2i':
      layer = { format: 'fairy2i', stages: t.stages, source: t.source };
      tensors.push({ suffix: 'weight_codes', dtype: 'U8', shape: [t.stages, 2, n / 2, k / 2], bytes: byteView(t.codes) });
      tensors.push({ suffix: 'weight_scale', dtype: 'F32', shape: [t.stages, 2, 2], bytes: f32Bytes(t.scales) });
      return { layer, tensors };
  }
  if (t.kind !== 'int8' && t.bias) tensors.push({ suffix: 'bias', dtype: 'F32', shape: [n], bytes: f32Bytes(t.bias) });
  return { layer, tensors };
}

/** TBT's act_clip_val for the quantizer an entry names: the step (elastic) or [-clip, clip]. */
function readInputQuant(src: LayerSource, q: Pick<ActQuantParams, 'method' | 'bits' | 'signed'>, used: string[]): ActQuantParams {
  used.push('act_clip_val');
  const where = src.where('act_clip_val');
  if (q.method === 'elastic') {
    const [alpha] = finiteFloats(expectTensor(src, 'act_clip_val', ['F32'], [], 'the learned step of the elastic quantizer (a scalar)'), where);
    if (!(alpha! > 0)) fail('weights', where, `is ${alpha}; the elastic quantizer's step must be positive`);
    return { ...q, alpha: alpha!, clip: 2.5 };
  }
  const [lo, hi] = finiteFloats(expectTensor(src, 'act_clip_val', ['F32'], [2], '[-clip, clip] of the 8-bit quantizer'), where);
  if (!(hi! > 0 && lo === -hi!)) fail('weights', where, `is [${lo}, ${hi}]; the 8-bit quantizer clips to [-c, c] with c > 0`);
  return { ...q, alpha: 1, clip: hi! };
}

function ternaryScaleShape(l: Extract<TritcLayer, { format: 'ternary' }>, n: number, k: number): number[] {
  if (l.granularity === 'per_tensor') return [l.planes];
  if (l.granularity === 'per_row') return [l.planes, n];
  return [l.planes, n, Math.ceil(k / l.groupSize!)];
}

/** Read one projection of logical shape [n, k] back, every tensor checked against its entry. */
export function unpackTritcLayer(
  src: LayerSource,
  layer: TritcLayer,
  n: number,
  k: number,
  source: string,
): { tensor: LmTernary | LmInt8 | LmIntB | LmFairy2i; used: string[] } {
  const used = ['weight_codes', 'weight_scale'];
  const bias = (): Float32Array | undefined => {
    if (!src.get('bias')) return undefined;
    used.push('bias');
    return finiteFloats(expectTensor(src, 'bias', ['F32'], [n], 'one per output'), src.where('bias'));
  };
  switch (layer.format) {
    case 'ternary': {
      const p = layer.planes;
      const codes = stToTyped(expectTensor(src, 'weight_codes', ['I8'], [p, n, k], `${p} plane(s) of [${n}, ${k}] trits`)) as Int8Array;
      const bad = codes.findIndex((c) => c < -1 || c > 1);
      if (bad >= 0) fail('codes', src.where('weight_codes'), `code ${codes[bad]} at index ${bad} is not -1, 0 or +1`);
      const shape = ternaryScaleShape(layer, n, k);
      const scales = finiteFloats(expectTensor(src, 'weight_scale', ['F32'], shape, `${layer.granularity} scales of ${p} plane(s)`), src.where('weight_scale'));
      const b = bias();
      const input = layer.inputQuant ? readInputQuant(src, layer.inputQuant, used) : undefined;
      const tensor: LmTernary = {
        kind: 'ternary',
        shape: [n, k],
        codes,
        scales,
        granularity: layer.granularity,
        ...(layer.granularity === 'per_group' ? { groupSize: layer.groupSize! } : {}),
        ...(p !== 1 ? { planes: p } : {}),
        ...(b ? { bias: b } : {}),
        ...(input ? { input } : {}),
        source,
      };
      return { tensor, used };
    }
    case 'int8': {
      const codes = stToTyped(expectTensor(src, 'weight_codes', ['I8'], [n, k], `[${n}, ${k}] int8 codes`)) as Int8Array;
      const groups = Math.ceil(k / layer.groupSize);
      const scales = finiteFloats(expectTensor(src, 'weight_scale', ['F32'], [n, groups], `groups of ${layer.groupSize}`), src.where('weight_scale'));
      return { tensor: { kind: 'int8', shape: [n, k], codes, scales, groupSize: layer.groupSize }, used };
    }
    case 'intb': {
      const groups = Math.ceil(k / layer.groupSize);
      const codes = stToTyped(expectTensor(src, 'weight_codes', ['U8'], [n, k], `[${n}, ${k}] ${layer.bits}-bit codes`)) as Uint8Array;
      const maxq = 2 ** layer.bits - 1;
      const bad = codes.findIndex((c) => c > maxq);
      if (bad >= 0) fail('codes', src.where('weight_codes'), `code ${codes[bad]} at index ${bad} does not fit ${layer.bits} bits`);
      const scales = finiteFloats(expectTensor(src, 'weight_scale', ['F32'], [n, groups], `groups of ${layer.groupSize}`), src.where('weight_scale'));
      const zeros = stToTyped(expectTensor(src, 'weight_zero', ['U8'], [n, groups], `groups of ${layer.groupSize}`)) as Uint8Array;
      used.push('weight_zero');
      let columns: Int32Array | undefined;
      if (src.get('weight_columns')) {
        columns = stToTyped(expectTensor(src, 'weight_columns', ['I32'], [k], 'a permutation of the input columns')) as Int32Array;
        const seen = new Uint8Array(k);
        const dup = columns.findIndex((c) => !(c >= 0 && c < k) || seen[c]++ !== 0);
        if (dup >= 0) fail('weights', src.where('weight_columns'), `entry ${dup} (${columns[dup]}) breaks the permutation of 0..${k - 1}`);
        used.push('weight_columns');
      }
      const b = bias();
      const tensor: LmIntB = {
        kind: 'intb',
        bits: layer.bits,
        shape: [n, k],
        codes,
        scales,
        zeros,
        groupSize: layer.groupSize,
        ...(columns ? { columns } : {}),
        ...(b ? { bias: b } : {}),
        source,
      };
      return { tensor, used };
    }
    case 'fairy2i': {
      const s = layer.stages;
      if (n % 2 !== 0 || k % 2 !== 0) fail('shape', src.where('weight_codes'), `Fairy2i needs even dimensions; the projection is [${n}, ${k}]`);
      const codes = stToTyped(expectTensor(src, 'weight_codes', ['U8'], [s, 2, n / 2, k / 2], `${s} stage(s) of U and W codes`)) as Uint8Array;
      const bad = codes.findIndex((c) => c > 3);
      if (bad >= 0) fail('codes', src.where('weight_codes'), `Fairy2i code ${codes[bad]} at index ${bad} is not 0..3 (the exponent e of i^e)`);
      const scales = finiteFloats(expectTensor(src, 'weight_scale', ['F32'], [s, 2, 2], `(s_re, s_im) of U and W per stage`), src.where('weight_scale'));
      return { tensor: { kind: 'fairy2i', shape: [n, k], stages: s, codes, scales, source }, used };
    }
  }
}
