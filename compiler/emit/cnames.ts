// C identifiers from model names: tensor and node names may contain any character, C names may not.

// C keywords, plus C++ keywords (model.h is meant to be included from C++ too) and names the
// generated code itself uses.
const C_KEYWORDS = new Set(
  [
    'auto break case char const continue default do double else enum extern float for goto if inline int long register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while _Bool _Complex _Imaginary',
    'alignas alignof and asm bool catch class compl constexpr delete explicit export false friend mutable namespace new noexcept not nullptr operator or private protected public template this throw true try typeid typename using virtual wchar_t xor',
    'arena main NULL',
  ]
    .join(' ')
    .split(' '),
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
  /** The identifier for `name` in `role` (the same name in two roles gets two identifiers). */
  get(name: string, prefix = '', role = ''): string {
    const key = `${role}\u0000${prefix}\u0000${name}`;
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
  const p = cIdent(name.toLowerCase())
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  return p === '' || /^[0-9]/.test(p) ? `model_${p}` : p;
}
