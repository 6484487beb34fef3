// The in-memory array shared by the NumPy readers and writers (.npy, .npz): a dtype, a C-order shape
// and a typed array holding the elements in native byte order. float16 has no typed array in Node 20,
// so it is kept as raw IEEE binary16 bit patterns in a Uint16Array; bool is a Uint8Array of 0/1.

export type NpDType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'float16';

export type NdData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Uint16Array; /* float16 raw bits */

export interface NdArray {
  dtype: NpDType;
  /** C-order (row-major) dimensions; [] for a 0-d array (one element). */
  shape: number[];
  data: NdData;
}

export const NP_DTYPES: readonly NpDType[] = [
  'float32',
  'float64',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'float16',
];

const BYTES: Record<NpDType, number> = {
  float32: 4,
  float64: 8,
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  bool: 1,
  float16: 2,
};

/** Number of elements of an array with this shape (1 for the 0-d shape []). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Size of one element in bytes. */
export function bytesPerElement(dtype: NpDType): number {
  return BYTES[dtype];
}

/** Allocate a zero-filled typed array of the right class for `dtype`. */
function allocData(dtype: NpDType, length: number): NdData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'int8':
      return new Int8Array(length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(length);
    case 'int16':
      return new Int16Array(length);
    case 'uint16':
    case 'float16':
      return new Uint16Array(length);
    case 'int32':
      return new Int32Array(length);
    case 'uint32':
      return new Uint32Array(length);
    case 'int64':
      return new BigInt64Array(length);
    case 'uint64':
      return new BigUint64Array(length);
  }
}

/** Wrap a typed array whose bytes are already in native order (no copy): `buffer` must be aligned. */
export function viewData(dtype: NpDType, buffer: ArrayBuffer, byteOffset: number, length: number): NdData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, length);
    case 'float64':
      return new Float64Array(buffer, byteOffset, length);
    case 'int8':
      return new Int8Array(buffer, byteOffset, length);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, length);
    case 'int16':
      return new Int16Array(buffer, byteOffset, length);
    case 'uint16':
    case 'float16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'int32':
      return new Int32Array(buffer, byteOffset, length);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, length);
    case 'uint64':
      return new BigUint64Array(buffer, byteOffset, length);
  }
}

function dataMatches(dtype: NpDType, data: NdData): boolean {
  switch (dtype) {
    case 'float32':
      return data instanceof Float32Array;
    case 'float64':
      return data instanceof Float64Array;
    case 'int8':
      return data instanceof Int8Array;
    case 'uint8':
    case 'bool':
      return data instanceof Uint8Array;
    case 'int16':
      return data instanceof Int16Array;
    case 'uint16':
    case 'float16':
      return data instanceof Uint16Array;
    case 'int32':
      return data instanceof Int32Array;
    case 'uint32':
      return data instanceof Uint32Array;
    case 'int64':
      return data instanceof BigInt64Array;
    case 'uint64':
      return data instanceof BigUint64Array;
  }
}

/**
 * Build an NdArray, checking that the shape is valid and that `data` (if given) has the typed-array
 * class and element count the dtype and shape call for. Without `data` the array is zero-filled.
 * Mismatches are programming errors, so they throw plain Errors.
 */
export function makeNdArray(dtype: NpDType, shape: readonly number[], data?: NdData): NdArray {
  if (!(dtype in BYTES)) throw new Error(`internal: unknown dtype ${String(dtype)}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`internal: invalid dimension ${d} in shape [${shape.join(', ')}]`);
  }
  const n = elementCount(shape);
  if (!Number.isSafeInteger(n)) throw new Error(`internal: shape [${shape.join(', ')}] has too many elements`);
  if (data === undefined) return { dtype, shape: [...shape], data: allocData(dtype, n) };
  if (!dataMatches(dtype, data)) {
    throw new Error(`internal: ${dtype} array given a ${data.constructor.name}`);
  }
  if (data.length !== n) {
    throw new Error(`internal: shape [${shape.join(', ')}] needs ${n} elements, data has ${data.length}`);
  }
  return { dtype, shape: [...shape], data };
}

/** True when this machine stores multi-byte numbers little-endian (every platform Node supports in practice). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A fresh copy of `src` in its own ArrayBuffer starting at offset 0. (Buffer#slice returns a view
 * into a shared pool, so `.slice()` is not safe when the caller passes a Node Buffer.)
 */
export function copyBytes(src: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(src.length);
  out.set(src);
  return out;
}

/** Reverse the bytes of each `size`-byte element of `bytes` in place. */
export function swapBytesInPlace(bytes: Uint8Array, size: number): void {
  if (size <= 1) return;
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}
