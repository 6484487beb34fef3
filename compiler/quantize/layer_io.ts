// How a quantized linear layer meets safetensors: the tensors a packer makes (`<prefix>.<suffix>`,
// dtype, shape, little-endian bytes) and the checks an unpacker makes on what it finds, each failure
// one line naming the tensor. Shared by the AutoGPTQ format (autogptq.ts) and tritc's own
// (tritc_hf.ts).

import { fail } from '../diagnostics.ts';
import { type StDType, type StTensor, stToTyped } from '../io/safetensors.ts';
import { bf16BitsToF32, f16BitsToF32, f32ToF16Bits } from '../numerics/half.ts';

/** One tensor of a packed layer, named `<prefix>.<suffix>` (AutoGPTQ: qweight, qzeros, scales, g_idx, bias). */
export interface PackedTensor {
  suffix: string;
  dtype: StDType;
  shape: number[];
  bytes: Uint8Array;
}

export function int32Bytes(words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) dv.setUint32(i * 4, words[i]!, true);
  return out;
}

function u16Bytes(bits: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(bits.length * 2);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < bits.length; i++) dv.setUint16(i * 2, bits[i]!, true);
  return out;
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i]!, true);
  return out;
}

/** The little-endian bytes of 8-bit codes. */
export function byteView(codes: Int8Array | Uint8Array): Uint8Array {
  return new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength).slice();
}

/** Float values as F16 when every one is a half value, else F32 (AutoGPTQ's loader casts either). */
export function halfOrFloat(values: Float32Array): { dtype: 'F16' | 'F32'; bytes: Uint8Array } {
  const bits = Array.from(values, f32ToF16Bits);
  if (bits.every((h, i) => f16BitsToF32(h) === values[i])) return { dtype: 'F16', bytes: u16Bytes(bits) };
  return { dtype: 'F32', bytes: f32Bytes(values) };
}

/** The tensors of one layer, as found in the checkpoint; `where(suffix)` names one for messages. */
export interface LayerSource {
  /** What the layer is, for messages: "an AutoGPTQ layer", "a tritc ternary layer". */
  what: string;
  get(suffix: string): StTensor | undefined;
  where(suffix: string): string;
}

function shapeOk(t: StTensor, want: number[]): boolean {
  return t.shape.length === want.length && t.shape.every((d, i) => d === want[i]);
}

export function expectTensor(src: LayerSource, suffix: string, dtypes: StDType[], shape: number[], why: string): StTensor {
  const t = src.get(suffix);
  if (!t) fail('weights', src.where(suffix), `is missing; ${src.what} needs it (${why})`);
  if (!dtypes.includes(t.dtype)) fail('dtype', src.where(suffix), `is ${t.dtype}; expected ${dtypes.join(' or ')}`);
  if (!shapeOk(t, shape)) fail('shape', src.where(suffix), `has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] (${why})`);
  return t;
}

/** An F16, BF16 or F32 tensor's values, every one finite. */
export function finiteFloats(t: StTensor, where: string): Float32Array {
  const raw = stToTyped(t);
  let v: Float32Array;
  if (t.dtype === 'F32') v = raw as Float32Array;
  else v = Float32Array.from(raw as Uint16Array, t.dtype === 'F16' ? f16BitsToF32 : bf16BitsToF32);
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) fail('weights', where, `value ${v[i]} at index ${i} is not finite`);
  return v;
}

/** The float dtypes a scale or bias may come in (AutoGPTQ writes F16). */
export const FLOATS: StDType[] = ['F16', 'BF16', 'F32'];
