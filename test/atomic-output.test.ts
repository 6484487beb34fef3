// No half-written output: a `tritc compile` that fails at any stage (reading, the passes, planning,
// emitting, the C build that measures the stack, the fit check, the bindings, writing the files, or
// moving the new folder into place) leaves the output folder exactly as it was: absent stays absent,
// with no parent folder made for it, and an existing folder keeps every file byte for byte. Nothing
// is left beside it either (no temporary sibling).
//
// Failures come from bad input where input can cause them, and otherwise are injected: the stage's
// function is wrapped (vi.mock) to throw when the test says so. The stack estimate is mocked
// throughout, so the file needs no Zig and runs in seconds.

import * as realFs from 'node:fs';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Io } from '../compiler/cli/command.ts';
import { main } from '../compiler/cli/main.ts';
import { fail } from '../compiler/diagnostics.ts';
import { workDir } from './support/differential.ts';

/** The stage that throws next (undefined: none); `writes` counts file writes for the mid-write failure. */
const inject = vi.hoisted(() => ({ stage: undefined as string | undefined, writes: 0, renames: 0 }));

function maybeFail(stage: string): void {
  if (inject.stage === stage) throw new Error(`injected failure in ${stage}`);
}

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const counted =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      if (inject.stage === 'write' && ++inject.writes === 4) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return f(...a);
    };
  return {
    ...fs,
    writeFileSync: counted(fs.writeFileSync),
    writeSync: counted(fs.writeSync),
    renameSync: (from: realFs.PathLike, to: realFs.PathLike) => {
      // The last rename (the new folder into place) fails; a first one (the old folder aside) goes through.
      if (inject.stage === 'rename' && String(from).includes('.tmp-') && !String(from).endsWith('.old') && !String(to).includes('.tmp-'))
        throw Object.assign(new Error('EXDEV: cross-device link not permitted, rename'), { code: 'EXDEV' });
      return fs.renameSync(from, to);
    },
  };
});
vi.mock('../compiler/plan/planner.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../compiler/plan/planner.ts')>();
  return { ...m, planMemory: (...a: Parameters<typeof m.planMemory>) => (maybeFail('plan'), m.planMemory(...a)) };
});
vi.mock('../compiler/emit/c.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../compiler/emit/c.ts')>();
  return { ...m, emitC: (...a: Parameters<typeof m.emitC>) => (maybeFail('emit'), m.emitC(...a)) };
});
vi.mock('../compiler/toolchain/zig.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../compiler/toolchain/zig.ts')>();
  return { ...m, locateZig: () => ({ path: '/nonexistent/zig', source: 'PATH' as const }) };
});
vi.mock('../compiler/toolchain/stack_usage.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../compiler/toolchain/stack_usage.ts')>();
  return {
    ...m,
    // The C build that measures the stack: a compiler error is a user-facing toolchain error.
    estimateStack: async () => {
      if (inject.stage === 'stack') fail('toolchain', 'host', 'zig cc failed while measuring stack frames of model.c: injected');
      return { bytes: inject.stage === 'fit' ? 10 ** 9 : 512, chain: [], frames: new Map<string, number>() };
    },
  };
});
vi.mock('../compiler/bindings/wasm.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../compiler/bindings/wasm.ts')>();
  return { ...m, buildWasm: async (...a: Parameters<typeof m.buildWasm>) => (maybeFail('bindings'), m.buildWasm(...a)) };
});

const EXAMPLE = join(import.meta.dirname, '../examples/digits-mlp');
const root = workDir('atomic');

async function compile(...argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const io: Io = { out: () => {}, err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  return { code: await main(['compile', ...argv], io), err };
}

/** Every file under `dir` with its bytes (and every folder), for a before/after comparison. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        out.set(`${relative(dir, p)}/`, '');
        walk(p);
      } else out.set(relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

/** A folder from an earlier compile, plus a file of the user's. */
async function existingOutput(name: string): Promise<string> {
  const out = join(root, name);
  expect((await compile(EXAMPLE, '-o', out)).code).toBe(0);
  writeFileSync(join(out, 'notes.txt'), 'mine');
  return out;
}

/** A model.json beside digits-mlp's weights, edited by `edit`. */
function editedModel(name: string, edit: (doc: Record<string, unknown> & { tensors: Record<string, { shape: number[] }> }) => void): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const doc = JSON.parse(readFileSync(join(EXAMPLE, 'model.json'), 'utf8'));
  doc.weights = join(EXAMPLE, 'model.safetensors');
  edit(doc);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
  return dir;
}

interface Stage {
  stage: string;
  /** The compile's arguments (the output folder is appended). */
  args: () => string[];
  /** Set before the compile. */
  inject?: string;
  code: number;
  message: RegExp;
}

const STAGES: Stage[] = [
  { stage: 'reading', args: () => [join(root, 'no-such-model')], code: 1, message: /no such file or directory/ },
  {
    stage: 'reading (a bad tensor reference)',
    args: () => [editedModel('bad-ref', (d) => ((d.nodes as { inputs: string[] }[])[4]!.inputs[1] = 'fc2.weight'))],
    code: 1,
    message: /tensor "fc2\.weight" is not defined/,
  },
  { stage: 'the passes (kernel choice)', args: () => [EXAMPLE, '--kernel', 'no-such-kernel'], code: 2, message: /is neither a kernel nor a format/ },
  { stage: 'planning', args: () => [EXAMPLE], inject: 'plan', code: 70, message: /internal error: injected failure in plan/ },
  { stage: 'emitting', args: () => [EXAMPLE], inject: 'emit', code: 70, message: /internal error: injected failure in emit/ },
  {
    stage: 'the C build (stack estimate)',
    args: () => [EXAMPLE, '--target', 'cortex-m4'],
    inject: 'stack',
    code: 1,
    message: /zig cc failed while measuring stack frames/,
  },
  {
    stage: 'the fit check (before the stack)',
    args: () => [editedModel('big', (d) => (d.tensors.x!.shape = [4000, 64])), '--target', 'cortex-m3'],
    code: 1,
    message: /does not fit cortex-m3: needs [\d.]+ MiB RAM/,
  },
  {
    stage: 'the fit check (with the stack)',
    args: () => [EXAMPLE, '--target', 'cortex-m4'],
    inject: 'fit',
    code: 1,
    message: /does not fit cortex-m4: needs .*stack ~/,
  },
  { stage: 'the bindings (wasm build)', args: () => [EXAMPLE, '--bindings', 'ts'], inject: 'bindings', code: 70, message: /injected failure in bindings/ },
  { stage: 'writing a file', args: () => [EXAMPLE, '--report'], inject: 'write', code: 1, message: /cannot write the output directory: ENOSPC/ },
  { stage: 'moving the new folder into place', args: () => [EXAMPLE], inject: 'rename', code: 1, message: /cannot write the output directory: EXDEV/ },
];

afterEach(() => {
  inject.stage = undefined;
  inject.writes = 0;
});

describe('a failed compile leaves the output folder as it was', () => {
  for (const s of STAGES) {
    it(`fails in ${s.stage}: an absent folder stays absent (and so does its parent)`, async () => {
      const parent = join(root, `absent-${s.stage.replace(/\W+/g, '-')}`);
      const out = join(parent, 'nested', 'out');
      const args = s.args();
      inject.stage = s.inject;
      const r = await compile(...args, '-o', out);
      inject.stage = undefined;
      expect(r.err).toMatch(s.message);
      expect(r.code).toBe(s.code);
      expect(existsSync(parent)).toBe(false);
    });

    it(`fails in ${s.stage}: an existing folder keeps every file, byte for byte`, async () => {
      const out = await existingOutput(`existing-${s.stage.replace(/\W+/g, '-')}`);
      const before = snapshot(out);
      const siblings = readdirSync(root).sort();
      const args = s.args();
      inject.stage = s.inject;
      const r = await compile(...args, '-o', out);
      inject.stage = undefined;
      expect(r.err).toMatch(s.message);
      expect(r.code).toBe(s.code);
      expect(snapshot(out)).toEqual(before);
      // No temporary folder left beside it (the edited models of the stage may have been made).
      expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
      expect(readdirSync(root).filter((f) => !siblings.includes(f) && !/^(bad-ref|big)$/.test(f))).toEqual([]);
    });
  }

  it('the same compile without a failure replaces the folder as a whole', async () => {
    const out = await existingOutput('replaced');
    expect((await compile(EXAMPLE, '-o', out, '--report')).code).toBe(0);
    expect(readdirSync(out)).toContain('report.html');
    expect(readdirSync(out)).not.toContain('notes.txt');
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('-o naming a file is refused, and the file is kept', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'keep');
    const r = await compile(EXAMPLE, '-o', file);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/a-file: exists and is not a directory/);
    expect(readFileSync(file, 'utf8')).toBe('keep');
  });
});
