// QEMU availability: each non-host target names the emulator it runs under.

import { fail } from '../diagnostics.ts';
import type { TargetDesc } from '../targets.ts';
import { findOnPath } from './zig.ts';

const QEMU_PACKAGES: Record<string, string> = {
  'qemu-aarch64': 'qemu-user',
  'qemu-x86_64': 'qemu-user',
  'qemu-arm': 'qemu-user',
  'qemu-riscv64': 'qemu-user',
  'qemu-system-arm': 'qemu-system-arm',
  'qemu-system-riscv32': 'qemu-system-misc',
};

export function qemuHint(command: string): string {
  const pkg = QEMU_PACKAGES[command] ?? 'qemu-user qemu-system-arm qemu-system-misc';
  return `install it with \`sudo apt-get install -y ${pkg}\` (Debian/Ubuntu), or run the README's setup command`;
}

/** The emulator's path for a target, undefined for targets that run natively. */
export function locateQemu(target: TargetDesc): string | undefined {
  if (!target.qemu) return undefined;
  return findOnPath(target.qemu.command);
}

export function requireQemu(target: TargetDesc): string | undefined {
  if (!target.qemu) return undefined;
  const p = locateQemu(target);
  if (!p) fail('toolchain', '', `${target.qemu.command} (needed for target ${target.name}) was not found: ${qemuHint(target.qemu.command)}`);
  return p;
}
