// The folder tritc is installed in (the one with its package.json, runtime-c/ and targets/): the
// checkout when tritc runs from its TypeScript sources, the package when it runs compiled, from
// dist/compiler/ (package.json "files"; scripts/tsconfig.build.json).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  // This file is compiler/util/ in a checkout, dist/compiler/util/ in the package.
  for (let dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'runtime-c'))) return dir;
    if (dirname(dir) === dir) throw new Error(`internal: no package.json beside runtime-c/ above ${fileURLToPath(import.meta.url)}`);
  }
}

export const PACKAGE_ROOT = findRoot();
