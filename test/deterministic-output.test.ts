// Same output every time: compiling one model twice, from copies in different folders, by an absolute
// and by a relative path, into different output folders, gives byte-identical folders (every file:
// the C, weights.bin, the build files, tritc.json, report.html/json, model.wasm and model.ts). Nothing
// may depend on the path the model was given by, the output folder, the clock or how busy the machine
// is (the planner stops on a node count, not a time). Needs Zig: the stack estimate and the wasm build.

import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Io } from '../compiler/cli/command.ts';
import { main } from '../compiler/cli/main.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { SHARED_DATA } from '../examples/data.ts';
import { workDir } from './support/differential.ts';

const root = workDir('deterministic');

async function compile(argv: string[]): Promise<void> {
  let err = '';
  const io: Io = { out: () => {}, err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(['compile', ...argv], io);
  expect(code, err).toBe(0);
}

/** Every file under `dir` (relative path -> bytes as base64). */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

/** A copy of the model (a file, or a folder with its files) under `root/<where>/`, keeping its name. */
function copyOf(model: string, where: string): string {
  const dir = join(root, where);
  mkdirSync(dir, { recursive: true });
  const to = join(dir, basename(model));
  cpSync(model, to, { recursive: true });
  return to;
}

interface Case {
  name: string;
  model: string;
  args: string[];
}

const CASES: Case[] = [
  {
    name: 'digits-mlp (native) for the host, with the report and TypeScript bindings',
    model: join(import.meta.dirname, '../examples/digits-mlp'),
    args: ['--report', '--bindings', 'ts'],
  },
  { name: 'digits-mlp for cortex-m4 with the report', model: join(import.meta.dirname, '../examples/digits-mlp'), args: ['--target', 'cortex-m4', '--report'] },
  { name: 'QONNX TFC_2W2A for rv32imc', model: join(SHARED_DATA, 'qonnx/models/TFC_2W2A.onnx'), args: ['--target', 'rv32imc', '--report'] },
  {
    name: 'llama2.c stories260K (weights.bin) for the host',
    model: join(SHARED_DATA, 'llama2c_stories260K/stories260K.bin'),
    args: ['--context', '64', '--report'],
  },
];

describe('compiling one model twice gives byte-identical folders', () => {
  requireZig();
  CASES.forEach((c, i) => {
    it(c.name, async () => {
      const a = copyOf(c.model, `a${i}/first`);
      const b = copyOf(c.model, `b${i}/elsewhere/second`);
      const outA = join(root, `out-a${i}`);
      const outB = join(root, `deeper${i}/out-b`);
      await compile([a, '-o', outA, ...c.args]);
      await compile([relative(process.cwd(), b), '-o', relative(process.cwd(), outB), ...c.args]);
      const [ta, tb] = [tree(outA), tree(outB)];
      expect([...tb.keys()]).toEqual([...ta.keys()]);
      const differ = [...ta.keys()].filter((k) => ta.get(k) !== tb.get(k));
      expect(differ, `files that differ between ${outA} and ${outB}`).toEqual([]);
      expect(ta.size).toBeGreaterThan(5);
    });
  });
});
