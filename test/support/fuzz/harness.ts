// What a reader fuzz case is, and what counts as a crash.
//
// A case is a set of files (a mutated seed file, or a generated file corrupted at the structure
// level) and the call that reads them the way tritc does. Reading must either succeed or throw the
// project's own error (TritcError) whose diagnostics are one line each; anything else is a crash: a
// TypeError, a RangeError from an allocation a header merely claimed, an "internal:" Error, a
// multi-line or runaway message. Hangs and memory are the runner's business (scripts/fuzz.ts runs
// cases in a child process with a timeout and a memory watch).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { formatDiagnostic, TritcError } from '../../../compiler/diagnostics.ts';

export interface FuzzCase {
  /** One line: the seed (file or generator) and the mutations applied. */
  what: string;
  /** Files to write into the case's own empty folder (relative paths). */
  files: [string, Uint8Array][];
  /** Read them from `dir` as tritc does; throws what the reader throws. */
  read(dir: string): void;
}

export interface FuzzReader {
  name: string;
  /** What is read, for --help and reports. */
  about: string;
  /** The cases, built lazily (seed files are read on first use). */
  cases(): fc.Arbitrary<FuzzCase>;
}

export type Outcome = { kind: 'loaded' } | { kind: 'rejected'; code: string } | { kind: 'crash'; message: string };

/** A diagnostic longer than this is not a line a user can read: some corrupt bytes leaked into it. */
const MAX_LINE = 2000;

/** Write the case into `dir` (emptied first), read it, and classify what happened. */
export function runCase(c: FuzzCase, dir: string): Outcome {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [rel, bytes] of c.files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  }
  try {
    c.read(dir);
    return { kind: 'loaded' };
  } catch (e) {
    return classify(e);
  }
}

export function classify(e: unknown): Outcome {
  if (!(e instanceof TritcError)) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { kind: 'crash', message: `${err.name}: ${err.message.slice(0, 500)}${err.stack ? `\n${err.stack.split('\n').slice(1, 6).join('\n')}` : ''}` };
  }
  for (const d of e.diagnostics) {
    const line = formatDiagnostic(d);
    if (/[\n\r]/.test(line)) return { kind: 'crash', message: `a diagnostic of ${line.split(/\r?\n/).length} lines: ${JSON.stringify(line.slice(0, 300))}` };
    if (line.length > MAX_LINE) return { kind: 'crash', message: `a diagnostic of ${line.length} characters: ${JSON.stringify(line.slice(0, 300))}...` };
    if (d.message.trim() === '') return { kind: 'crash', message: `an empty diagnostic (where: ${JSON.stringify(d.where)})` };
  }
  return { kind: 'rejected', code: e.code };
}

/** Often none, else 1 to `max`: so that a good share of cases reach the reader's later stages. */
export function some<T>(arb: fc.Arbitrary<T>, max: number, noneWeight = 3): fc.Arbitrary<T[]> {
  return fc.oneof({ weight: noneWeight, arbitrary: fc.constant([] as T[]) }, { weight: 2, arbitrary: fc.array(arb, { minLength: 1, maxLength: max }) });
}

const arbitraries = new Map<FuzzReader, fc.Arbitrary<FuzzCase>>();

/** The seed of case `index` of a run seeded `seed`: every case reproduces alone. */
export function caseSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(index + 1, 0x85ebca6b)) | 0;
}

/** Case `index` of a run seeded `seed`. */
export function caseAt(reader: FuzzReader, seed: number, index: number): FuzzCase {
  let arb = arbitraries.get(reader);
  if (!arb) arbitraries.set(reader, (arb = reader.cases()));
  return fc.sample(arb, { seed: caseSeed(seed, index), numRuns: 1 })[0]!;
}
