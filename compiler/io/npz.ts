// NumPy .npz files: a ZIP archive holding one .npy file per array ("name.npy").
//
// The reader trusts the central directory (so entries written with data descriptors work), accepts
// stored and deflated entries, understands the ZIP64 end-of-central-directory records and the ZIP64
// extra field (NumPy's np.savez writes every entry with force_zip64, so its local headers carry
// one), and checks each entry's CRC-32. The writer produces stored entries, as np.savez does.

import { inflateRawSync } from 'node:zlib';
import { fail } from '../diagnostics.ts';
import type { NdArray } from './ndarray.ts';
import { readNpy, writeNpy } from './npy.ts';

// ---------------------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as used by ZIP and gzip; pass a previous result as `crc` to continue a running checksum. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------------
// ZIP constants

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const EOCD_SIZE = 22;
const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const ZIP64_EXTRA_ID = 0x0001;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
/** DOS date for 1980-01-01 (the earliest a ZIP can say), time 00:00: keeps output deterministic. */
const DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1;

/** Code page 437, bytes 0x80-0xFF: the name encoding of ZIP entries without the UTF-8 flag. */
const CP437_HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

function cp437(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80]!;
  return s;
}

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

// ---------------------------------------------------------------------------------------------------
// Reading

interface CentralEntry {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
}

class ZipReader {
  readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly label: string,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(message: string, where = this.label): never {
    fail('npy', where, message);
  }

  /** Ensure [pos, pos + len) lies inside the file. */
  need(pos: number, len: number, what: string): void {
    if (pos < 0 || pos + len > this.bytes.length) {
      this.fail(`truncated archive: ${what} at byte ${pos} needs ${len} bytes, the file has ${this.bytes.length}`);
    }
  }

  u16(pos: number): number {
    return this.dv.getUint16(pos, true);
  }
  u32(pos: number): number {
    return this.dv.getUint32(pos, true);
  }
  /** A little-endian u64 that must fit in a safe integer (it is a size or an offset in this file). */
  u64(pos: number, what: string): number {
    const v = this.dv.getBigUint64(pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is beyond any possible file size`);
    return Number(v);
  }

  findEocd(): number {
    const b = this.bytes;
    const last = b.length - EOCD_SIZE;
    const first = Math.max(0, last - 0xffff);
    for (let p = last; p >= first; p--) {
      if (b[p] === 0x50 && b[p + 1] === 0x4b && b[p + 2] === 0x05 && b[p + 3] === 0x06) {
        const commentLen = this.u16(p + 20);
        if (p + EOCD_SIZE + commentLen <= b.length) return p;
      }
    }
    const isNpy = b.length >= 6 && b[0] === 0x93 && b[1] === 0x4e && b[2] === 0x55 && b[3] === 0x4d && b[4] === 0x50 && b[5] === 0x59;
    this.fail(
      `not a ZIP archive (.npz): no end-of-central-directory record found${isNpy ? '; this looks like a single-array .npy file, not an .npz archive' : ''}`,
    );
  }

  /** Read the central directory location, following the ZIP64 records when the classic ones overflow. */
  directory(): { count: number; offset: number; size: number } {
    const eocd = this.findEocd();
    const disk = this.u16(eocd + 4);
    const cdDisk = this.u16(eocd + 6);
    let count = this.u16(eocd + 10);
    let size = this.u32(eocd + 12);
    let offset = this.u32(eocd + 16);
    const locator = eocd - 20;
    const hasLocator = locator >= 0 && this.u32(locator) === SIG_ZIP64_LOCATOR;
    if (hasLocator) {
      const recPos = this.u64(locator + 8, 'ZIP64 end-of-central-directory offset');
      this.need(recPos, 56, 'the ZIP64 end-of-central-directory record');
      if (this.u32(recPos) !== SIG_ZIP64_EOCD) {
        this.fail(`bad ZIP64 end-of-central-directory record at byte ${recPos}: wrong signature ${hex32(this.u32(recPos))}`);
      }
      if (this.u32(recPos + 16) !== 0 || this.u32(recPos + 20) !== 0) {
        this.fail('multi-disk (split) ZIP archives are not supported');
      }
      count = this.u64(recPos + 32, 'ZIP64 entry count');
      size = this.u64(recPos + 40, 'ZIP64 central directory size');
      offset = this.u64(recPos + 48, 'ZIP64 central directory offset');
    } else {
      if (disk !== 0 || cdDisk !== 0) this.fail('multi-disk (split) ZIP archives are not supported');
      if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
        this.fail('the end-of-central-directory record says ZIP64 but the ZIP64 locator is missing');
      }
    }
    this.need(offset, size, 'the central directory');
    return { count, offset, size };
  }

  /** Values of the ZIP64 extended-information extra field, in the order the fields overflowed. */
  zip64Fields(extraStart: number, extraLen: number): number[] | undefined {
    let p = extraStart;
    const end = extraStart + extraLen;
    while (p + 4 <= end) {
      const id = this.u16(p);
      const len = this.u16(p + 2);
      const body = p + 4;
      if (body + len > end) return undefined; // malformed extra block: treat as absent
      if (id === ZIP64_EXTRA_ID) {
        const out: number[] = [];
        for (let q = body; q + 8 <= body + len; q += 8) out.push(this.u64(q, 'ZIP64 size or offset'));
        return out;
      }
      p = body + len;
    }
    return undefined;
  }

  decodeName(raw: Uint8Array, flags: number, where: string): string {
    if (flags & FLAG_UTF8) {
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(raw);
      } catch {
        this.fail('entry name is flagged UTF-8 but is not valid UTF-8', where);
      }
    }
    return cp437(raw);
  }

  entries(): CentralEntry[] {
    const { count, offset, size } = this.directory();
    const out: CentralEntry[] = [];
    let p = offset;
    const end = offset + size;
    for (let i = 0; i < count; i++) {
      if (p + CENTRAL_SIZE > end) {
        this.fail(`the central directory promises ${count} entries but ends after ${i}`);
      }
      if (this.u32(p) !== SIG_CENTRAL) {
        this.fail(`bad central directory entry ${i} at byte ${p}: expected signature ${hex32(SIG_CENTRAL)}, found ${hex32(this.u32(p))}`);
      }
      const flags = this.u16(p + 8);
      const method = this.u16(p + 10);
      const crc = this.u32(p + 16);
      let compressedSize = this.u32(p + 20);
      let uncompressedSize = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      const diskStart = this.u16(p + 34);
      let localOffset = this.u32(p + 42);
      const varEnd = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
      if (varEnd > end) this.fail(`central directory entry ${i} runs past the end of the central directory`);
      const name = this.decodeName(this.bytes.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen), flags, `${this.label}: entry ${i}`);
      const where = `${this.label}: entry ${JSON.stringify(name)}`;
      if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff) {
        const z = this.zip64Fields(p + CENTRAL_SIZE + nameLen, extraLen);
        if (z === undefined) this.fail('sizes say ZIP64 but the entry has no ZIP64 extra field', where);
        let k = 0;
        const take = (what: string): number => {
          const v = z[k++];
          if (v === undefined) this.fail(`the ZIP64 extra field lacks the ${what}`, where);
          return v;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localOffset === 0xffffffff) localOffset = take('local header offset');
      }
      if (diskStart !== 0 && diskStart !== 0xffff) this.fail('multi-disk (split) ZIP archives are not supported', where);
      out.push({ name, flags, method, crc, compressedSize, uncompressedSize, localOffset });
      p = varEnd;
    }
    return out;
  }

  /** The uncompressed, CRC-checked content of one entry. */
  content(e: CentralEntry): Uint8Array {
    const where = `${this.label}: entry ${JSON.stringify(e.name)}`;
    if (e.flags & FLAG_ENCRYPTED) this.fail('encrypted ZIP entries are not supported', where);
    if (e.method !== METHOD_STORED && e.method !== METHOD_DEFLATED) {
      this.fail(`compression method ${e.method} is not supported (expected 0 = stored or 8 = deflated)`, where);
    }
    const lp = e.localOffset;
    if (lp + LOCAL_SIZE > this.bytes.length) {
      this.fail(`truncated archive: the local header at byte ${lp} lies beyond the end of the file (${this.bytes.length} bytes)`, where);
    }
    if (this.u32(lp) !== SIG_LOCAL) {
      this.fail(`bad local header at byte ${lp}: expected signature ${hex32(SIG_LOCAL)}, found ${hex32(this.u32(lp))}`, where);
    }
    const nameLen = this.u16(lp + 26);
    const extraLen = this.u16(lp + 28);
    const start = lp + LOCAL_SIZE + nameLen + extraLen;
    const end = start + e.compressedSize;
    if (end > this.bytes.length) {
      this.fail(`truncated archive: the entry's data needs bytes ${start} to ${end}, the file has ${this.bytes.length}`, where);
    }
    const stored = this.bytes.subarray(start, end);
    let data: Uint8Array;
    if (e.method === METHOD_STORED) {
      if (e.compressedSize !== e.uncompressedSize) {
        this.fail(`stored entry has compressed size ${e.compressedSize} but uncompressed size ${e.uncompressedSize}`, where);
      }
      data = stored;
    } else {
      try {
        const buf = inflateRawSync(stored, { maxOutputLength: Math.max(1, e.uncompressedSize) });
        data = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch (err) {
        this.fail(`cannot inflate the deflated data: ${err instanceof Error ? err.message : String(err)}`, where);
      }
      if (data.length !== e.uncompressedSize) {
        this.fail(`deflated data expands to ${data.length} bytes, the archive says ${e.uncompressedSize}`, where);
      }
    }
    const actual = crc32(data);
    if (actual !== e.crc) {
      this.fail(`CRC-32 mismatch: the archive says ${hex32(e.crc)}, the data gives ${hex32(actual)}`, where);
    }
    return data;
  }
}

/**
 * Read a .npz archive. Entries named "*.npy" become arrays keyed by the name without the suffix, in
 * central-directory (archive) order; other entries (directories, stray files) are ignored, as they
 * hold no arrays. Every problem becomes a TritcError with code 'npy'.
 */
export function readNpz(bytes: Uint8Array, label: string): Map<string, NdArray> {
  const zip = new ZipReader(bytes, label);
  const out = new Map<string, NdArray>();
  for (const e of zip.entries()) {
    if (!e.name.endsWith('.npy')) continue;
    const key = e.name.slice(0, -4);
    const where = `${label}: entry ${JSON.stringify(e.name)}`;
    if (out.has(key)) fail('npy', where, `duplicate entry: the archive holds two arrays named ${JSON.stringify(key)}`);
    out.set(key, readNpy(zip.content(e), where));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Writing

/**
 * Write arrays as an uncompressed .npz archive (what np.savez produces), each as "<key>.npy".
 * Keys must be unique; the archive must stay below 4 GiB and 65535 entries (no ZIP64 on output).
 */
export function writeNpz(entries: Map<string, NdArray> | [string, NdArray][]): Uint8Array {
  const list = entries instanceof Map ? [...entries.entries()] : entries;
  const seen = new Set<string>();
  const enc = new TextEncoder();
  const files = list.map(([key, arr]) => {
    if (seen.has(key)) throw new Error(`internal: writeNpz: duplicate key ${JSON.stringify(key)}`);
    seen.add(key);
    const name = enc.encode(`${key}.npy`);
    if (name.length > 0xffff) throw new Error(`internal: writeNpz: entry name too long`);
    const data = writeNpy(arr);
    // eslint-disable-next-line no-control-regex
    const ascii = /^[\x00-\x7f]*$/.test(key);
    return { name, data, crc: crc32(data), flags: ascii ? 0 : FLAG_UTF8 };
  });
  if (files.length > 0xffff) throw new Error('internal: writeNpz: more than 65535 entries needs ZIP64, which is not written');
  let localTotal = 0;
  let centralTotal = 0;
  for (const f of files) {
    localTotal += LOCAL_SIZE + f.name.length + f.data.length;
    centralTotal += CENTRAL_SIZE + f.name.length;
  }
  if (localTotal + centralTotal > 0xffffffff) throw new Error('internal: writeNpz: archive beyond 4 GiB needs ZIP64, which is not written');
  const out = new Uint8Array(localTotal + centralTotal + EOCD_SIZE);
  const dv = new DataView(out.buffer);
  const offsets: number[] = [];
  let p = 0;
  for (const f of files) {
    offsets.push(p);
    dv.setUint32(p, SIG_LOCAL, true);
    dv.setUint16(p + 4, 20, true); // version needed: 2.0
    dv.setUint16(p + 6, f.flags, true);
    dv.setUint16(p + 8, METHOD_STORED, true);
    dv.setUint16(p + 10, 0, true); // time 00:00:00
    dv.setUint16(p + 12, DOS_DATE_1980, true);
    dv.setUint32(p + 14, f.crc, true);
    dv.setUint32(p + 18, f.data.length, true);
    dv.setUint32(p + 22, f.data.length, true);
    dv.setUint16(p + 26, f.name.length, true);
    dv.setUint16(p + 28, 0, true);
    out.set(f.name, p + LOCAL_SIZE);
    out.set(f.data, p + LOCAL_SIZE + f.name.length);
    p += LOCAL_SIZE + f.name.length + f.data.length;
  }
  const cdOffset = p;
  files.forEach((f, i) => {
    dv.setUint32(p, SIG_CENTRAL, true);
    dv.setUint16(p + 4, (3 << 8) | 20, true); // made by: Unix, 2.0
    dv.setUint16(p + 6, 20, true);
    dv.setUint16(p + 8, f.flags, true);
    dv.setUint16(p + 10, METHOD_STORED, true);
    dv.setUint16(p + 12, 0, true);
    dv.setUint16(p + 14, DOS_DATE_1980, true);
    dv.setUint32(p + 16, f.crc, true);
    dv.setUint32(p + 20, f.data.length, true);
    dv.setUint32(p + 24, f.data.length, true);
    dv.setUint16(p + 28, f.name.length, true);
    dv.setUint16(p + 30, 0, true); // extra
    dv.setUint16(p + 32, 0, true); // comment
    dv.setUint16(p + 34, 0, true); // disk
    dv.setUint16(p + 36, 0, true); // internal attributes
    dv.setUint32(p + 38, (0o100644 << 16) >>> 0, true); // regular file, rw-r--r--
    dv.setUint32(p + 42, offsets[i]!, true);
    out.set(f.name, p + CENTRAL_SIZE);
    p += CENTRAL_SIZE + f.name.length;
  });
  const cdSize = p - cdOffset;
  dv.setUint32(p, SIG_EOCD, true);
  dv.setUint16(p + 4, 0, true);
  dv.setUint16(p + 6, 0, true);
  dv.setUint16(p + 8, files.length, true);
  dv.setUint16(p + 10, files.length, true);
  dv.setUint32(p + 12, cdSize, true);
  dv.setUint32(p + 16, cdOffset, true);
  dv.setUint16(p + 20, 0, true);
  return out;
}
