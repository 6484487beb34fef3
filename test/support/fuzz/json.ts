// Structure-level mutations of a JSON document (model.json, a safetensors header, config.json, an
// index.json): delete a member, replace it with an edge value (huge, negative, fractional, wrong
// type), duplicate an array element (a repeated node, a repeated name), copy one value over another
// (a node reading a later node's output: a cycle; two tensors with one name), swap two values.
// Locations are drawn as integers and taken modulo the number of places in the document.

import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export type JsonMutation =
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: Json }
  | { op: 'duplicate'; at: number }
  | { op: 'copy'; at: number; from: number }
  | { op: 'swap'; at: number; from: number };

/** Values at the edges of what readers check. */
const EDGE: readonly Json[] = [
  0,
  -1,
  1,
  2,
  3,
  7,
  1.5,
  -0.5,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  2 ** 40,
  2 ** 53,
  1e308,
  -1e308,
  '',
  'x',
  null,
  true,
  false,
  [],
  {},
  [0],
  [-1],
  [1, 1],
  [2 ** 40, 2 ** 40],
  [2 ** 20, 2 ** 20, 2 ** 20],
  [1, 2, 3, 4, 5, 6, 7, 8, 9],
  'float32',
  'int8',
  'int64',
  'ternary',
  'binary',
  'F32',
  'F16',
  'BF16',
  'I8',
  'U8',
  'I64',
  'BOOL',
  'packed2',
  'per_group',
  'LlamaForCausalLM',
  'BitNetForCausalLM',
  '../outside.safetensors',
];

export const jsonValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...EDGE) },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 300 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: jsonValue }) },
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat() }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('copy' as const), at: fc.nat(), from: fc.nat() }) },
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), from: fc.nat() }),
);

type Place = { parent: Json[] | { [k: string]: Json }; key: string | number };

function places(doc: Json): Place[] {
  const out: Place[] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        out.push({ parent: v, key: i });
        walk(x);
      });
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        out.push({ parent: v, key: k });
        walk(x);
      }
  };
  walk(doc);
  return out;
}

const get = (p: Place): Json => (p.parent as Record<string | number, Json>)[p.key]!;
const set = (p: Place, v: Json): void => {
  (p.parent as Record<string | number, Json>)[p.key] = structuredClone(v);
};

/** Apply mutations to a deep copy of `doc`. */
export function mutateJson(doc: Json, ms: readonly JsonMutation[]): Json {
  let d = structuredClone(doc);
  for (const m of ms) {
    const ps = places(d);
    if (ps.length === 0) {
      if (m.op === 'replace') d = structuredClone(m.value);
      continue;
    }
    const p = ps[m.at % ps.length]!;
    switch (m.op) {
      case 'delete':
        if (Array.isArray(p.parent)) p.parent.splice(p.key as number, 1);
        else delete p.parent[p.key as string];
        break;
      case 'replace':
        set(p, m.value);
        break;
      case 'duplicate':
        if (Array.isArray(p.parent)) p.parent.splice((p.key as number) + 1, 0, structuredClone(get(p)));
        else p.parent[`${p.key}_copy`] = structuredClone(get(p));
        break;
      case 'copy':
        set(p, get(ps[m.from % ps.length]!));
        break;
      case 'swap': {
        const q = ps[m.from % ps.length]!;
        const a = get(p);
        const b = get(q);
        set(p, b);
        set(q, a);
        break;
      }
    }
  }
  return d;
}

export function describeJsonMutation(m: JsonMutation): string {
  switch (m.op) {
    case 'delete':
      return `delete JSON place ${m.at}`;
    case 'replace':
      return `set JSON place ${m.at} to ${JSON.stringify(m.value)}`;
    case 'duplicate':
      return `duplicate JSON place ${m.at}`;
    case 'copy':
      return `copy JSON place ${m.from} over ${m.at}`;
    case 'swap':
      return `swap JSON places ${m.at} and ${m.from}`;
  }
}
