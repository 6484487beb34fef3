// The runtime and the generated C compile without a warning under -std=c99 -Wall -Wextra -Werror
// -pedantic plus -Wconversion -Wshadow, with gcc, clang and zig cc, for every target and CPU variant;
// and cppcheck finds nothing in them. The C: every example, random graphs of low-bit chains and of
// ONNX ops, a random decoder, and the runtime files of every weight format's kernels on the target.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, type Compiled } from '../compiler/compile.ts';
import { cloneGraph, type Graph } from '../compiler/ir.ts';
import { buildLmGraph } from '../compiler/lm/build.ts';
import { readSpec } from '../bench/campaign/spec.ts';
import { COMPILERS, compilerCommand, everyTarget, EXTRA_WARNINGS, requireCppcheck } from '../bench/campaign/compilers.ts';
import { RUNTIME_DIR, TARGETS_DIR, type TargetDesc } from '../compiler/targets.ts';
import { exec, STRICT_CFLAGS } from '../compiler/toolchain/build.ts';
import { randomModel } from '../bench/gen/random_graph.ts';
import { randomLm } from '../bench/gen/random_lm.ts';
import { randomOnnxModel } from '../bench/gen/random_onnx_graph.ts';
import { workDir } from './support/differential.ts';
import { exampleGraphs } from './support/examples.ts';

const root = workDir('strict-c');
const FORMATS = ['t2', 't2b', 't5', 't5w', 't6w', 'tbp', 'b1'];

function graphs(): { name: string; graph: Graph }[] {
  return [
    ...exampleGraphs(),
    { name: 'random-graph', graph: readSpec(randomModel(4)) },
    { name: 'random-onnx', graph: readSpec(randomOnnxModel(7)) },
    { name: 'random-decoder', graph: buildLmGraph(randomLm(11, { projections: 'intb' }), { chunk: 3 }) },
  ];
}

/** Write each model's C (model.c renamed per model: one gcc or clang run takes them all) and return the
 * C files: the models', and the runtime files any of them, or the example under any format, uses. */
function writeSources(target: TargetDesc, dir: string): string[] {
  const files: string[] = [];
  const runtime = new Set<string>();
  const all = graphs();
  const add = (name: string, c: Compiled) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const [rel, text] of c.files) if (typeof text === 'string' && /\.(c|h)$/.test(rel)) writeFileSync(join(d, rel), text);
    renameSync(join(d, 'model.c'), join(d, `${name}_model.c`));
    files.push(join(d, `${name}_model.c`));
    for (const r of c.emitted.runtime) runtime.add(r);
  };
  for (const [i, { name, graph }] of all.entries()) add(name, compileGraph(cloneGraph(graph), { target, prefix: `m${i}`, skipFitCheck: true }));
  // Every format's kernels: the TFC networks' layers under each (binary layers take b1 only).
  for (const f of FORMATS) {
    const g = all.find((x) => x.name === (f === 'b1' ? 'tfc-1w1a' : 'tfc-2w2a'))!.graph;
    try {
      for (const r of compileGraph(cloneGraph(g), { target, prefix: 'k', kernel: f, skipFitCheck: true }).emitted.runtime) runtime.add(r);
    } catch {
      // A format with no kernel for these layers on this target: its files come with another model.
    }
  }
  return [...files, ...[...runtime].sort().map((r) => join(RUNTIME_DIR, r))];
}

async function compileAll(compiler: (typeof COMPILERS)[number], target: TargetDesc, sources: string[], includes: string[], out: string): Promise<string[]> {
  const { command, args } = compilerCommand(compiler, target);
  mkdirSync(out, { recursive: true });
  const flags = [...args, ...STRICT_CFLAGS, ...EXTRA_WARNINGS, ...includes.flatMap((d) => ['-I', d])];
  // gcc and clang take every file in one run; zig cc 0.11 compiles only the first of several.
  const runs = compiler === 'zig' ? sources.map((s) => [s]) : [sources];
  const errors: string[] = [];
  for (const files of runs) {
    const r = await exec(command, [...flags, '-c', ...files], { cwd: out, timeoutMs: 10 * 60_000 });
    if (r.code !== 0)
      errors.push(
        `${compiler} ${target.name} ${files.length === 1 ? basename(files[0]!) : `${files.length} files`}:\n${(r.stderr || r.stdout).split('\n').slice(0, 20).join('\n')}`,
      );
  }
  return errors;
}

describe('strict C: -Wall -Wextra -Werror -pedantic -std=c99 -Wconversion -Wshadow', () => {
  for (const target of everyTarget()) {
    it(`gcc, clang and zig cc compile the runtime and generated C for ${target.name} without a warning`, { timeout: 20 * 60_000 }, async () => {
      const dir = join(root, target.name);
      const sources = writeSources(target, join(dir, 'src'));
      const includes = [RUNTIME_DIR, join(TARGETS_DIR, 'common'), ...new Set(sources.filter((s) => !s.startsWith(RUNTIME_DIR)).map((s) => join(s, '..')))];
      const errors: string[] = [];
      for (const c of COMPILERS) errors.push(...(await compileAll(c, target, sources, includes, join(dir, `obj-${c}`))));
      expect(errors).toEqual([]);
    });
  }
});

describe('cppcheck', () => {
  it('finds nothing in runtime-c and the generated C of the host and cortex-m4', { timeout: 20 * 60_000 }, async () => {
    const cppcheck = requireCppcheck();
    const dirs: string[] = [];
    for (const t of everyTarget().filter((x) => x.name === 'host' || x.name === 'cortex-m4')) {
      const d = join(root, 'cppcheck', t.name);
      writeSources(t, d);
      dirs.push(d);
    }
    const r = await exec(
      cppcheck,
      [
        '--enable=warning,style,performance,portability',
        '--std=c99',
        '--inline-suppr',
        '--error-exitcode=1',
        '--quiet',
        // One preprocessor configuration per file (nothing defined): every #ifdef combination takes far too long.
        '--max-configs=1',
        '--suppress=missingIncludeSystem',
        // Generated code names every buffer and size; cppcheck's unused-function check sees one file at a time.
        '--suppress=unusedFunction',
        // The runtime declares a function's variables at the top of its blocks (its style, as C89 code does).
        '--suppress=variableScope',
        '-I',
        RUNTIME_DIR,
        RUNTIME_DIR,
        ...dirs,
      ],
      { cwd: root, timeoutMs: 20 * 60_000 },
    );
    expect(r.code, `${r.stderr}${r.stdout}`.slice(0, 4000)).toBe(0);
  });
});
