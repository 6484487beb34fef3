// A minimal ELF reader (32/64-bit, little-endian): sections and symbols, enough to measure how much
// flash and RAM a model's code and data take inside a linked program.

import { readFileSync } from 'node:fs';

interface ElfSection {
  name: string;
  type: number;
  flags: number;
  size: number;
  addr: number;
}

interface ElfSymbol {
  name: string;
  size: number;
  /** STT_*: 1 object, 2 function. */
  type: number;
  /** STB_*: 0 local, 1 global, 2 weak. */
  bind: number;
  /** Section index; 0 = undefined. */
  shndx: number;
}

export interface Elf {
  sections: ElfSection[];
  symbols: ElfSymbol[];
  /** Per section index: the symbols its relocations refer to (section symbols resolved to the
   * functions defined in that section). With -ffunction-sections these are a function's calls
   * and the addresses it takes. */
  references: Map<number, Set<string>>;
}

const SHT_SYMTAB = 2;
const SHT_NOBITS = 8;
const SHF_WRITE = 1;
const SHF_ALLOC = 2;

export function readElf(path: string): Elf {
  const b = readFileSync(path);
  if (b.length < 52 || b.readUInt32BE(0) !== 0x7f454c46) throw new Error(`internal: ${path} is not an ELF file`);
  const is64 = b[4] === 2;
  if (b[5] !== 1) throw new Error(`internal: ${path} is not little-endian`);
  const u = (off: number, size: 4 | 8 | 2): number => (size === 2 ? b.readUInt16LE(off) : size === 4 ? b.readUInt32LE(off) : Number(b.readBigUInt64LE(off)));
  const shoff = is64 ? u(0x28, 8) : u(0x20, 4);
  const shentsize = u(is64 ? 0x3a : 0x2e, 2);
  const shnum = u(is64 ? 0x3c : 0x30, 2);
  const shstrndx = u(is64 ? 0x3e : 0x32, 2);
  const raw: { name: number; type: number; flags: number; addr: number; offset: number; size: number; link: number; info: number; entsize: number }[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push(
      is64
        ? {
            name: u(o, 4),
            type: u(o + 4, 4),
            flags: u(o + 8, 8),
            addr: u(o + 16, 8),
            offset: u(o + 24, 8),
            size: u(o + 32, 8),
            link: u(o + 40, 4),
            info: u(o + 44, 4),
            entsize: u(o + 56, 8),
          }
        : {
            name: u(o, 4),
            type: u(o + 4, 4),
            flags: u(o + 8, 4),
            addr: u(o + 12, 4),
            offset: u(o + 16, 4),
            size: u(o + 20, 4),
            link: u(o + 24, 4),
            info: u(o + 28, 4),
            entsize: u(o + 36, 4),
          },
    );
  }
  const str = (tableIndex: number, off: number): string => {
    const t = raw[tableIndex]!;
    let end = t.offset + off;
    while (end < b.length && b[end] !== 0) end++;
    return b.toString('utf8', t.offset + off, end);
  };
  const sections = raw.map((s) => ({ name: str(shstrndx, s.name), type: s.type, flags: s.flags, size: s.size, addr: s.addr }));
  const symbols: ElfSymbol[] = [];
  for (const s of raw) {
    if (s.type !== SHT_SYMTAB) continue;
    const count = s.size / s.entsize;
    for (let i = 1; i < count; i++) {
      const o = s.offset + i * s.entsize;
      const name = str(s.link, u(o, 4));
      const info = is64 ? b[o + 4]! : b[o + 12]!;
      const shndx = is64 ? u(o + 6, 2) : u(o + 14, 2);
      const size = is64 ? u(o + 16, 8) : u(o + 8, 4);
      symbols.push({ name, size, type: info & 0xf, bind: info >> 4, shndx });
    }
  }
  // Relocations (SHT_RELA 4, SHT_REL 9): symbol index in r_info (high 32 bits, or high 24 on ELF32).
  const references = new Map<number, Set<string>>();
  const fnInSection = new Map<number, string>();
  for (const sym of symbols) if (sym.type === 2 && sym.shndx !== 0) fnInSection.set(sym.shndx, sym.name);
  for (const s of raw) {
    if (s.type !== 4 && s.type !== 9) continue;
    const refs = references.get(s.info) ?? new Set<string>();
    references.set(s.info, refs);
    for (let o = s.offset; o + s.entsize <= s.offset + s.size; o += s.entsize) {
      const index = is64 ? Number(b.readBigUInt64LE(o + 8) >> 32n) : u(o + 4, 4) >>> 8;
      const sym = symbols[index - 1];
      if (!sym) continue;
      const name = sym.type === 3 ? fnInSection.get(sym.shndx) : sym.name; // STT_SECTION: the function in it
      if (name) refs.add(name);
    }
  }
  return { sections, symbols, references };
}

type SectionKind = 'flash' | 'data' | 'bss' | 'other';

/** flash: code and read-only data; data: initialised RAM (also copied from flash); bss: zeroed RAM. */
function sectionKind(s: ElfSection | undefined): SectionKind {
  if (!s || !(s.flags & SHF_ALLOC)) return 'other';
  if (s.type === SHT_NOBITS) return 'bss';
  if (s.flags & SHF_WRITE) return 'data';
  return 'flash';
}

export interface Footprint {
  /** Bytes in flash: code + read-only data + initial values of .data. */
  flash: number;
  /** Bytes of static RAM: .data + .bss. */
  ram: number;
}

/**
 * Flash and static RAM of the symbols that `objects` define, as placed in the linked `program`,
 * plus the library routines (e.g. soft-float helpers) those objects call.
 */
export function measureObjects(program: string, objects: readonly string[]): Footprint {
  const defined = new Set<string>();
  const wanted = new Set<string>();
  for (const obj of objects) {
    const e = readElf(obj);
    for (const sym of e.symbols) {
      if (sym.type !== 1 && sym.type !== 2) {
        if (sym.shndx === 0 && sym.name) wanted.add(sym.name); // an undefined reference
        continue;
      }
      if (sym.shndx !== 0) defined.add(sym.name);
    }
  }
  for (const d of defined) wanted.delete(d);
  const linked = readElf(program);
  const out: Footprint = { flash: 0, ram: 0 };
  const counted = new Set<string>();
  for (const sym of linked.symbols) {
    if ((sym.type !== 1 && sym.type !== 2) || sym.shndx === 0 || sym.shndx >= linked.sections.length) continue;
    const mine = defined.has(sym.name) || (wanted.has(sym.name) && !counted.has(sym.name));
    if (!mine) continue;
    counted.add(sym.name);
    const kind = sectionKind(linked.sections[sym.shndx]);
    if (kind === 'flash') out.flash += sym.size;
    else if (kind === 'data') {
      out.flash += sym.size;
      out.ram += sym.size;
    } else if (kind === 'bss') out.ram += sym.size;
  }
  return out;
}
