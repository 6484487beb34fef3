// The npm package as a user gets it: `npm pack` ships the compiler (compiled to JavaScript, with its
// declarations), runtime-c and targets, and no tests, benchmarks, examples or sources; the tarball
// installs into an empty folder, where `npx tritc run` builds and runs an example under QEMU, an ES
// module imports the API, and a strict TypeScript project type-checks against the shipped .d.ts.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getTarget } from '../compiler/targets.ts';
import { requireQemu } from '../compiler/toolchain/qemu.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { workDir } from './support/differential.ts';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = join(ROOT, 'examples', 'digits-mlp');

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('the npm package', () => {
  it('packs deliberately, installs from the tarball, and runs from there: npx tritc, the API, the types', () => {
    const zig = requireZig().path;
    requireQemu(getTarget('cortex-m4'));
    const dir = workDir('package');

    // npm pack (prepack compiles dist/): what ships.
    const info = JSON.parse(sh('npm', ['pack', '--pack-destination', dir, '--json'], ROOT)) as { filename: string; files: { path: string }[] }[];
    const files = info[0]!.files.map((f) => f.path);
    for (const want of [
      'package.json',
      'README.md',
      'bin/tritc.js',
      'dist/compiler/api/index.js',
      'dist/compiler/api/index.d.ts',
      'dist/compiler/cli/main.js',
      'runtime-c/tn_runtime.h',
      'targets/cortex-m4/target.json',
      'targets/common/tn_platform.h',
      'docs/api.md',
      'cmake/tritc.cmake',
      'cmake/tritcConfig.cmake',
      'make/tritc.mk',
    ])
      expect(files, want).toContain(want);
    const stray = files.filter(
      (f) =>
        /^(test|bench|examples|scripts|compiler|node_modules|out|build)\//.test(f) ||
        f.startsWith('targets/selftest/') ||
        /\.(o|a|elf|tgz)$/.test(f) ||
        (/\.ts$/.test(f) && !f.endsWith('.d.ts')),
    );
    expect(stray, 'tests, benchmarks, sources or build output in the package').toEqual([]);
    const tarball = join(dir, info[0]!.filename);

    // An empty project installs the tarball: from the npm cache alone when it holds the dependencies,
    // else from the registry (CI has it). Zig comes from $ZIG (the optional Zig package is left out
    // here only to keep the test quick; tritc finds it the same way when it is installed).
    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    const install = (mode: string) =>
      spawnSync('npm', ['install', mode, '--omit=optional', '--no-audit', '--no-fund', tarball], { cwd: app, encoding: 'utf8', timeout: 600_000 });
    let r = install('--offline');
    if (r.status !== 0) {
      expect(r.stderr, 'an offline install that failed for a reason other than a missing cache entry').toMatch(/ENOTCACHED/);
      r = install('--prefer-offline');
    }
    expect(r.status, `npm install of the tarball:\n${r.stdout}\n${r.stderr}`).toBe(0);
    expect(existsSync(join(app, 'node_modules', 'tritc', 'compiler')), 'the package runs dist/, not the sources').toBe(false);

    const env = { ...process.env, ZIG: zig };
    const run = sh('npx', ['tritc', 'run', EXAMPLE, '--target', 'host,cortex-m4', '-n', '2'], app, env);
    expect(run).toMatch(/^host\s+yes \(2\/2\)/m);
    expect(run).toMatch(/^cortex-m4\s+yes \(2\/2\)\s+[\d.]+ KiB\s+.*\s[\d,]+ ±40$/m);

    // The API from an ES module, as `import ... from 'tritc'`.
    writeFileSync(
      join(app, 'use.mjs'),
      `import { compile, run, interpret, inspect, TritcError, version } from 'tritc';
const model = ${JSON.stringify(EXAMPLE)};
const i = await inspect(model, { target: 'cortex-m4' });
const x = new Float32Array(64).fill(0.25);
const it = await interpret(model, { inputs: { x } });
const c = await compile(model, { target: 'cortex-m4', output: 'out/m4' });
const r = await run(model, { targets: 'host', inputs: { x: [x, x] } });
let error;
try { await inspect(model, { maxScratch: 'lots' }); } catch (e) { error = e instanceof TritcError ? e.diagnostics[0] : String(e); }
console.log(JSON.stringify({
  version, layers: i.layers.length, fit: i.fit, outputs: Object.keys(it.outputs[0]),
  class: it.outputs[0].class[0], files: c.files.includes('model.c'), ok: r.ok,
  same: r.outputs[0].class[0] === it.outputs[0].class[0], error,
}));
`,
    );
    const got = JSON.parse(sh(process.execPath, ['use.mjs'], app, env));
    expect(got).toMatchObject({ version: '0.1.0', layers: 11, fit: 'fits', outputs: ['probs', 'class'], files: true, ok: true, same: true });
    expect(got.error).toEqual({ code: 'usage', where: 'options.maxScratch', message: 'expects a byte count such as 4096, 16K or 1MiB, got "lots"' });
    expect(existsSync(join(app, 'out', 'm4', 'model.c'))).toBe(true);

    // The shipped declarations: a strict project type-checks against them (skipLibCheck off), and a
    // wrong use is an error, so the results are typed, not any.
    writeFileSync(
      join(app, 'use.ts'),
      `import { run, inspect, type RunResult } from 'tritc';
const r: RunResult = await run('m', { targets: ['host', 'cortex-m4'], count: 2, maxScratch: '4K' });
if (r.kind === 'graph') console.log(r.targets[0]?.instructionsPerInference);
else console.log(r.logits?.[0]?.[0]);
const arena: number = (await inspect('m')).arenaBytes;
// @ts-expect-error: results are typed
const wrong: string = (await inspect('m')).arenaBytes;
console.log(arena, wrong);
`,
    );
    const types = createRequire(import.meta.url)
      .resolve('@types/node/package.json')
      .replace(/\/node\/package\.json$/, '');
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noUncheckedIndexedAccess: true,
          skipLibCheck: false,
          noEmit: true,
          types: ['node'],
          typeRoots: [types],
        },
        files: ['use.ts'],
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    sh(process.execPath, [tsc, '-p', app], app);
    rmSync(dir, { recursive: true, force: true });
  }, 900_000);
});
