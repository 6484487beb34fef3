// The shape of the codebase, checked: no import cycle among compiler/ modules that carries a value
// (dependency-cruiser, .dependency-cruiser.cjs), no export nothing uses (knip), and no build output
// in the tree.

import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

describe('architecture', () => {
  it('compiler/ has no import cycle that carries a value (type-only imports are fine)', () => {
    const bin = join(ROOT, 'node_modules', '.bin', 'depcruise');
    let out = '';
    try {
      out = execFileSync(bin, ['compiler', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: ROOT, encoding: 'utf8' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`dependency-cruiser found violations:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
    expect(out).toMatch(/no dependency violations found/);
  });

  it('every export is used, every dependency listed (knip, knip.json)', () => {
    const bin = join(ROOT, 'node_modules', '.bin', 'knip');
    try {
      execFileSync(bin, ['--no-progress'], { cwd: ROOT, encoding: 'utf8' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`knip found unused code or dependencies:\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    }
  });

  it('the tree holds sources, not build output', () => {
    const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
    // Top-level entries are the ones the layout names (README "Layout"); anything else is an accident.
    const TOP = new Set([
      '.ci',
      '.dependency-cruiser.cjs',
      '.gitignore',
      '.prettierrc.json',
      '.prettierignore',
      'knip.json',
      'BENCHMARKS.md',
      'README.md',
      'bench',
      'bin',
      'cmake',
      'compiler',
      'docs',
      'examples',
      'make',
      'package-lock.json',
      'package.json',
      'runtime-c',
      'scripts',
      'targets',
      'test',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    const stray = files.filter((f) => !TOP.has(f.split('/')[0]!));
    expect(stray, 'files outside the project layout').toEqual([]);
    const built = files.filter(
      (f) =>
        /\.(o|a|so|elf|bin|wasm|exe|out|map|lst)$/i.test(f) ||
        /\.s$/.test(f) /* compiler listings; .S is hand-written */ ||
        /(^|\/)(out|build|node_modules)\//.test(f),
    );
    expect(built, 'build output').toEqual([]);
    const big = files.filter((f) => statSync(join(ROOT, f)).size > 1024 * 1024);
    expect(big, 'files over 1 MiB').toEqual([]);
  });
});
