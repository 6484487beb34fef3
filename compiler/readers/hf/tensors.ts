// Decoding the float tensors of a Hugging Face checkpoint. Embeddings, heads and float projections keep
// the bits they are stored with (F32, or F16/BF16 bits, which LmFloat16/LmBFloat16 carry as is); norms
// become exact float32, because the decoder builder computes RMSNorm in float32.

import { fail } from '../../diagnostics.ts';
import { stToTyped } from '../../io/safetensors.ts';
import type { LmBFloat16, LmFloat16, LmFloat32 } from '../../lm/model.ts';
import type { HfTensor } from './checkpoint.ts';
import { bf16BitsToF32, f16BitsToF32 } from '../../numerics/half.ts';

export type HfFloatDType = 'F32' | 'F16' | 'BF16';

/** Where a diagnostic about this tensor points: `<shard>: tensor "<name>"`. */
export function tensorWhere(t: { file: string; name: string }): string {
  return `${t.file}: tensor ${JSON.stringify(t.name)}`;
}

export function floatDType(t: HfTensor, what: string): HfFloatDType {
  const d = t.st.dtype;
  if (d === 'F32' || d === 'F16' || d === 'BF16') return d;
  return fail('dtype', tensorWhere(t), `is ${d}; ${what} must be F32, F16 or BF16`);
}

/** The tensor as stored: float32 values, or half / bfloat16 bits. */
export function storedFloat(t: HfTensor, what: string): LmFloat32 | LmFloat16 | LmBFloat16 {
  const dtype = floatDType(t, what);
  const shape = [...t.st.shape];
  const data = stToTyped(t.st);
  if (dtype === 'F32') return { kind: 'float32', shape, data: data as Float32Array };
  return { kind: dtype === 'F16' ? 'float16' : 'bfloat16', shape, bits: data as Uint16Array };
}

/** The exact float32 values of an F32, F16 or BF16 tensor. */
export function floatValues(t: HfTensor, what: string): Float32Array {
  const dtype = floatDType(t, what);
  const data = stToTyped(t.st);
  if (dtype === 'F32') return data as Float32Array;
  const bits = data as Uint16Array;
  const widen = dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = widen(bits[i]!);
  return out;
}

/** A norm's weights as exact float32. */
export function exactFloat32(t: HfTensor, what: string): LmFloat32 {
  return { kind: 'float32', shape: [...t.st.shape], data: floatValues(t, what) };
}
