// Packing of decoded codes into the byte layouts the C kernels read (runtime-c/tn_runtime.h).
// Rows are padded to whole bytes so that every row starts on a byte boundary.

/** Ternary, 2 bits per code, 4 per byte, first code in the low bits: -1,0,+1 -> 10,00,01. */
export function packT2(codes: Int8Array, rowLength: number): Uint8Array {
  const rows = codes.length / rowLength;
  const rowBytes = Math.ceil(rowLength / 4);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      const t = codes[r * rowLength + k]!;
      const c = t === 1 ? 0b01 : t === -1 ? 0b10 : 0b00;
      out[r * rowBytes + (k >> 2)]! |= c << ((k & 3) * 2);
    }
  }
  return out;
}

/** Binary, 1 bit per code, 8 per byte, first code in the low bit: +1 -> 1, -1 -> 0. */
export function packB1(codes: Int8Array, rowLength: number): Uint8Array {
  const rows = codes.length / rowLength;
  const rowBytes = Math.ceil(rowLength / 8);
  const out = new Uint8Array(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < rowLength; k++) {
      if (codes[r * rowLength + k] === 1) out[r * rowBytes + (k >> 3)]! |= 1 << (k & 7);
    }
  }
  return out;
}
