// What `tritc compile` writes builds on its own: warning-free under -Wall -Wextra -Werror -pedantic
// with zig cc for every target and with the host gcc, through its own Makefile and CMakeLists.txt,
// and it reads like the code a person would write (layer comments with shapes and offsets).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, writeFilesAtomically } from '../compiler/compile.ts';
import { readModel } from '../compiler/readers/native/read.ts';
import { writeModel } from '../compiler/readers/native/write.ts';
import { loadTargets } from '../compiler/targets.ts';
import { exec, zigTargetArgs } from '../compiler/toolchain/build.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { mapLimit, CPU_COUNT } from '../compiler/util/limit.ts';
import { workDir } from './support/differential.ts';
import { randomModel } from '../bench/gen/random_graph.ts';

const PEDANTIC = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-pedantic', '-ffp-contract=off'];
const root = workDir('generated-c');

/** The example plus a few random graphs, compiled with `tritc compile` semantics into directories. */
function outputs(targetName: string): string[] {
  const target = loadTargets().get(targetName)!;
  const models = [
    join(import.meta.dirname, '../examples/digits-mlp'),
    ...[1, 2, 3].map((s) => writeModel(join(root, 'models', `r${s}`), randomModel(70_000 + s))),
  ];
  return models.map((m, i) => {
    const c = compileGraph(readModel(m), { target, verify: true, skipFitCheck: true });
    const dir = join(root, targetName, `out${i}`);
    writeFilesAtomically(c.files, dir);
    return dir;
  });
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const r = await exec(cmd, args, { cwd, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stderr}${r.stdout}`);
  return r.stderr + r.stdout;
}

describe('generated C', () => {
  it('compiles warning-free with the host gcc, and builds with its own Makefile and CMakeLists.txt', async () => {
    for (const dir of outputs('host')) {
      const sources = readdirSync(dir).filter((f) => f.endsWith('.c'));
      for (const f of sources) expect(await run('gcc', [...PEDANTIC, '-c', f, '-o', `/dev/null`], dir)).toBe('');
      await run('make', ['-s', 'CFLAGS=-std=c99 -O2 -Wall -Wextra -Werror -pedantic'], dir);
      expect(readdirSync(dir).some((f) => f.endsWith('.a'))).toBe(true);
      await run('cmake', ['-S', '.', '-B', 'cmake-build', '-DCMAKE_C_FLAGS=-Wall -Wextra -Werror -pedantic'], dir);
      await run('cmake', ['--build', 'cmake-build'], dir);
    }
  });

  for (const target of loadTargets().values()) {
    it(`compiles warning-free with zig cc for ${target.name}`, async () => {
      const zig = requireZig();
      const jobs = outputs(target.name).flatMap((dir) =>
        readdirSync(dir)
          .filter((f) => f.endsWith('.c'))
          .map((f) => ({ dir, f })),
      );
      const logs = await mapLimit(jobs, CPU_COUNT, ({ dir, f }) =>
        run(zig.path, ['cc', ...zigTargetArgs(target), ...target.cflags, ...PEDANTIC, '-c', f, '-o', `${f}.o`], dir),
      );
      expect(logs.filter((l) => l.trim() !== '')).toEqual([]);
    });
  }

  it('reads like hand-written C: layer comments with op, shapes, arena offsets and kernel', () => {
    const [dir] = outputs('cortex-m4');
    const src = readFileSync(join(dir!, 'model.c'), 'utf8');
    expect(src).toMatch(/\/\* TernaryLinear "fc1"  \(step 1\)/);
    expect(src).toMatch(/X\s+xq\s+int8 \[1, 64\], scale per_tensor in "xq.scale"\s+arena\[\d+, \+64\)/);
    expect(src).toMatch(/kernel: tn_ternary_linear_t5w_lut_armv7m \(t5w\.lut_armv7m, int32 acc\)/);
    expect(src).toMatch(/static const uint16_t fc1_w_t5w\[896\] = \{/); // 64 rows of 13 offsets and a window header
    expect(src).toMatch(/Arena: \d+ bytes \(lower bound \d+/);
    expect(src).not.toMatch(/malloc|#include <(stdio|stdlib|math|string)\.h>/);
    const header = readFileSync(join(dir!, 'model.h'), 'utf8');
    expect(header).toMatch(/int digits_mlp_run\(const float \*x, float \*probs, int32_t \*class_\);/);
    expect(header).toMatch(/#define DIGITS_MLP_ARENA_BYTES \d+/);
  });
});
