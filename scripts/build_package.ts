// npm pack / npm publish run this (package.json "prepack"): the compiler's TypeScript compiled to
// JavaScript with declarations in dist/ (scripts/tsconfig.build.json), so that the package runs on
// plain Node and TypeScript users get its types. dist/ is build output: never committed (.gitignore).
//
// tsc rewrites the relative `.ts` imports of the JavaScript it writes to `.js`, but not those of the
// declarations (`import type ... from './x.ts'`); they are rewritten here, so that a project that
// checks the package's .d.ts files finds what they import.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../compiler/targets.ts';

const dist = join(PROJECT_ROOT, 'dist');
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(PROJECT_ROOT, 'scripts', 'tsconfig.build.json')], { stdio: 'inherit' });

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

let rewritten = 0;
for (const f of files(dist)) {
  if (!f.endsWith('.d.ts')) continue;
  const text = readFileSync(f, 'utf8');
  const fixed = text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1$2.js$3');
  if (fixed !== text) {
    writeFileSync(f, fixed);
    rewritten++;
  }
}
for (const want of ['compiler/api/index.js', 'compiler/api/index.d.ts', 'compiler/cli/main.js'])
  if (!existsSync(join(dist, want))) throw new Error(`build_package: dist/${want} was not written`);
console.error(`dist/: the compiler as JavaScript with declarations (${rewritten} declaration files' imports rewritten to .js)`);
