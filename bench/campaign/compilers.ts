// The C compilers the strict builds use on every target, besides zig cc (the project's toolchain):
// Debian's gcc (the host gcc, and the cross gccs for the Linux targets, whose ARM and RISC-V back ends
// also compile the bare-metal targets with -ffreestanding: the generated C and the runtime need only
// <stdint.h> and <stddef.h>) and Debian's clang (--target for every target). These only compile
// (-c); the programs that run are built by zig cc, or for the sanitizer builds by the host gcc and
// clang (compiler/toolchain/build.ts, HostCompiler).

import { existsSync } from 'node:fs';
import { fail } from '../../compiler/diagnostics.ts';
import { cpuVariants, loadTargets, type TargetDesc } from '../../compiler/targets.ts';
import { zigTargetArgs } from '../../compiler/toolchain/build.ts';
import { findOnPath, requireZig } from '../../compiler/toolchain/zig.ts';

export const COMPILERS = ['gcc', 'clang', 'zig'] as const;

/** The Debian packages that bring every compiler here (scripts/setup.sh installs them). */
const COMPILER_PACKAGES = [
  'gcc',
  'clang',
  'libclang-rt-14-dev',
  'gcc-aarch64-linux-gnu',
  'gcc-arm-linux-gnueabihf',
  'gcc-riscv64-linux-gnu',
  'libc6-dev-arm64-cross',
  'libc6-dev-armhf-cross',
  'libc6-dev-riscv64-cross',
  'cppcheck',
];

const INSTALL = `install them with \`bash scripts/setup.sh\` (apt-get install ${COMPILER_PACKAGES.join(' ')})`;

/** Flags the strict builds add to the project's own (STRICT_CFLAGS), where the code is clean. */
export const EXTRA_WARNINGS = ['-Wconversion', '-Wshadow'];

/** Every target: the seven base targets and the CPU variants. */
export function everyTarget(): TargetDesc[] {
  return [...loadTargets().values(), ...cpuVariants().map((v) => v.target)];
}

interface Cross {
  gcc: string[];
  clang: string[];
}

/** gcc and clang arguments per base target (the variants add their own defines and CPU). */
function crossArgs(t: TargetDesc): Cross {
  const mcpu = (cpu: string | null) => (cpu ? [`-mcpu=${cpu.replace(/_/g, '-')}`] : []);
  switch (t.zigTarget) {
    case 'native':
      return { gcc: ['gcc'], clang: ['clang'] };
    case 'aarch64-linux-musl':
      return { gcc: ['aarch64-linux-gnu-gcc', ...mcpu(t.cpu)], clang: ['clang', '--target=aarch64-linux-gnu', ...mcpu(t.cpu)] };
    case 'arm-linux-musleabihf': {
      const fp = ['-mfpu=neon-vfpv4', '-mfloat-abi=hard'];
      return { gcc: ['arm-linux-gnueabihf-gcc', ...mcpu(t.cpu), ...fp], clang: ['clang', '--target=armv7a-linux-gnueabihf', ...mcpu(t.cpu), ...fp] };
    }
    case 'riscv64-linux-musl':
      return { gcc: ['riscv64-linux-gnu-gcc'], clang: ['clang', '--target=riscv64-linux-gnu'] };
    case 'thumb-freestanding-eabihf': {
      const fp = ['-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16', '-ffreestanding'];
      return { gcc: ['arm-linux-gnueabihf-gcc', ...mcpu(t.cpu), ...fp], clang: ['clang', '--target=thumbv7em-none-eabihf', ...mcpu(t.cpu), ...fp] };
    }
    case 'thumb-freestanding-eabi': {
      const fp = ['-mthumb', '-mfloat-abi=soft', '-ffreestanding'];
      return { gcc: ['arm-linux-gnueabihf-gcc', ...mcpu(t.cpu), ...fp], clang: ['clang', '--target=thumbv7m-none-eabi', ...mcpu(t.cpu), ...fp] };
    }
    case 'riscv32-freestanding-none':
      return {
        gcc: ['riscv64-linux-gnu-gcc', '-march=rv32imc', '-mabi=ilp32', '-ffreestanding'],
        clang: ['clang', '--target=riscv32-unknown-elf', '-march=rv32imc', '-ffreestanding'],
      };
    default:
      fail('usage', t.name, `no gcc or clang arguments for zig target ${t.zigTarget} (bench/campaign/compilers.ts)`);
  }
}

/** The command and arguments that compile C for `target` with `compiler` (then add flags, -c file). */
export function compilerCommand(compiler: (typeof COMPILERS)[number], target: TargetDesc): { command: string; args: string[] } {
  if (compiler === 'zig') return { command: requireZig().path, args: ['cc', ...zigTargetArgs(target), ...target.cflags] };
  const [command, ...args] = crossArgs(target)[compiler];
  const path = findOnPath(command!);
  if (!path) fail('toolchain', target.name, `${command} was not found for the strict ${compiler} build of ${target.name}: ${INSTALL}`);
  // A cross gcc for a Linux target reads the C library's <stdint.h> from /usr/<triple>/include.
  const libc = `/usr/${command!.replace(/-gcc$/, '')}/include/stdint.h`;
  if (compiler === 'gcc' && target.kind === 'hosted' && target.zigTarget !== 'native' && !existsSync(libc))
    fail('toolchain', target.name, `${libc} is missing (the cross C library headers): ${INSTALL}`);
  return { command: path, args: [...args, ...target.cflags] };
}

/** cppcheck, or a failure that says how to install it. */
export function requireCppcheck(): string {
  const p = findOnPath('cppcheck');
  if (!p) fail('toolchain', '', `cppcheck was not found: ${INSTALL}`);
  return p;
}

/** A host C compiler with the sanitizer runtimes (gcc: libasan, libubsan; clang: libclang-rt). */
export function requireHostCompiler(name: 'gcc' | 'clang'): string {
  const p = findOnPath(name);
  if (!p) fail('toolchain', 'host', `${name} was not found for the sanitizer builds: ${INSTALL}`);
  return p;
}
