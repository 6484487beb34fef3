// The cases of a manifest (one per model and target, `<name>@<target>`) and the share of them a CI
// job runs (`--shard k/n`). A case's shard depends on its id alone (a hash), so adding a case never
// moves another to a different job, and n jobs with k = 1..n run every case exactly once.

import { fail } from '../diagnostics.ts';
import type { Manifest, ModelEntry } from './manifest.ts';

export interface TestCase {
  id: string;
  model: ModelEntry;
  target: string;
}

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export function allCases(m: Manifest): TestCase[] {
  return m.models.flatMap((model) => model.targets.map((target) => ({ id: `${model.name}@${target}`, model, target })));
}

/** `k/n` with 1 <= k <= n. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) fail('usage', '--shard', `expects k/n with 1 <= k <= n (e.g. 2/4), got "${text}"`);
  return { index, count };
}

/** FNV-1a, 32 bits: a stable hash of the case id, the same on every machine and Node version. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Which shard (1-based) of `count` runs the case. */
export function shardOf(id: string, count: number): number {
  return (fnv1a(id) % count) + 1;
}

export function selectShard(cases: readonly TestCase[], shard: Shard | undefined): TestCase[] {
  return shard ? cases.filter((c) => shardOf(c.id, shard.count) === shard.index) : [...cases];
}

/** The cases whose ids match `patterns`: ids or patterns with `*`, comma-separated; one that matches
 * nothing is an error that lists the ids. */
export function selectCases(cases: readonly TestCase[], patterns: string): TestCase[] {
  const list = patterns
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const res = list.map((p) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`));
  list.forEach((p, i) => {
    if (!cases.some((c) => res[i]!.test(c.id))) fail('usage', '--only', `"${p}" matches no case; the cases are ${cases.map((c) => c.id).join(', ')}`);
  });
  return cases.filter((c) => res.some((re) => re.test(c.id)));
}
