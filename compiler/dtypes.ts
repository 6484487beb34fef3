// Everything the compiler knows about each dtype, in one table: storage size, C type, the typed
// array the interpreter holds it in, its safetensors and NumPy names, and its value range.

import type { DType, TypedData } from './ir.ts';

export interface DTypeInfo {
  bytes: number;
  ctype: string;
  /** Creates the interpreter's storage for `length` elements. */
  alloc(length: number): TypedData;
  /** The storage class (to check values). */
  is(data: TypedData): boolean;
  safetensors: 'F32' | 'I8' | 'U8' | 'I32' | 'I64' | 'BOOL' | 'F16';
  numpy: 'float32' | 'int8' | 'uint8' | 'int32' | 'int64' | 'bool' | 'float16';
  /** Inclusive value range for integer types (int64 limited to what a JS number holds exactly). */
  range?: [number, number];
  integer: boolean;
}

export const DTYPE_INFO: Record<DType, DTypeInfo> = {
  float32: {
    bytes: 4,
    ctype: 'float',
    alloc: (n) => new Float32Array(n),
    is: (d) => d instanceof Float32Array,
    safetensors: 'F32',
    numpy: 'float32',
    integer: false,
  },
  int8: {
    bytes: 1,
    ctype: 'int8_t',
    alloc: (n) => new Int8Array(n),
    is: (d) => d instanceof Int8Array,
    safetensors: 'I8',
    numpy: 'int8',
    range: [-128, 127],
    integer: true,
  },
  uint8: {
    bytes: 1,
    ctype: 'uint8_t',
    alloc: (n) => new Uint8Array(n),
    is: (d) => d instanceof Uint8Array,
    safetensors: 'U8',
    numpy: 'uint8',
    range: [0, 255],
    integer: true,
  },
  int32: {
    bytes: 4,
    ctype: 'int32_t',
    alloc: (n) => new Int32Array(n),
    is: (d) => d instanceof Int32Array,
    safetensors: 'I32',
    numpy: 'int32',
    range: [-(2 ** 31), 2 ** 31 - 1],
    integer: true,
  },
  int64: {
    bytes: 8,
    ctype: 'int64_t',
    alloc: (n) => new BigInt64Array(n),
    is: (d) => d instanceof BigInt64Array,
    safetensors: 'I64',
    numpy: 'int64',
    range: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    integer: true,
  },
  // bool is one byte holding 0 or 1 (uint8_t in C, Uint8Array here).
  bool: {
    bytes: 1,
    ctype: 'uint8_t',
    alloc: (n) => new Uint8Array(n),
    is: (d) => d instanceof Uint8Array,
    safetensors: 'BOOL',
    numpy: 'bool',
    range: [0, 1],
    integer: true,
  },
  ternary: {
    bytes: 1,
    ctype: 'int8_t',
    alloc: (n) => new Int8Array(n),
    is: (d) => d instanceof Int8Array,
    safetensors: 'I8',
    numpy: 'int8',
    range: [-1, 1],
    integer: true,
  },
  // float16 holds IEEE half bits (uint16_t in C, Uint16Array here); values are converted exactly.
  float16: {
    bytes: 2,
    ctype: 'uint16_t',
    alloc: (n) => new Uint16Array(n),
    is: (d) => d instanceof Uint16Array,
    safetensors: 'F16',
    numpy: 'float16',
    integer: false,
  },
  binary: {
    bytes: 1,
    ctype: 'int8_t',
    alloc: (n) => new Int8Array(n),
    is: (d) => d instanceof Int8Array,
    safetensors: 'I8',
    numpy: 'int8',
    range: [-1, 1],
    integer: true,
  },
};
