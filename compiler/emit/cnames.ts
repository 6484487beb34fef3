// C identifiers from model names: tensor and node names may contain any character, C names may not.

const C_KEYWORDS = new Set(
  'auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Bool _Complex _Imaginary arena main'.split(
    ' ',
  ),
);

export function cIdent(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '' || /^[0-9]/.test(s)) s = `_${s}`;
  if (C_KEYWORDS.has(s)) s = `${s}_`;
  return s;
}

/** Hands out distinct C identifiers for distinct names. */
export class NameTable {
  private readonly used = new Set<string>();
  private readonly byName = new Map<string, string>();
  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }
  get(name: string, prefix = ''): string {
    const key = `${prefix}\u0000${name}`;
    const have = this.byName.get(key);
    if (have) return have;
    const base = prefix + cIdent(name);
    let id = base;
    for (let i = 2; this.used.has(id); i++) id = `${base}_${i}`;
    this.used.add(id);
    this.byName.set(key, id);
    return id;
  }
}

/** A C-safe prefix for a model's exported symbols, from its name. */
export function modelPrefix(name: string): string {
  const p = cIdent(name.toLowerCase()).replace(/_+/g, '_').replace(/^_+|_+$/g, '');
  return p === '' || /^[0-9]/.test(p) ? `model_${p}` : p;
}
