// Target descriptions: targets/<name>/target.json, one per target, with startup code and linker script
// beside it. This module loads and checks them; the toolchain (toolchain/) builds and runs programs.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fail } from './diagnostics.ts';
import { PACKAGE_ROOT } from './util/package_root.ts';
import type { MemoryRegion } from './plan/memory_map.ts';

export const PROJECT_ROOT = PACKAGE_ROOT;
export const TARGETS_DIR = join(PROJECT_ROOT, 'targets');
export const RUNTIME_DIR = join(PROJECT_ROOT, 'runtime-c');

export interface TargetDesc {
  name: string;
  description: string;
  kind: 'hosted' | 'baremetal';
  zigTarget: string;
  cpu: string | null;
  /** What the kernels may use (compiler/kernels/registry.ts): ISA and extensions, e.g. thumb2, dsp, neon. */
  features: string[];
  cflags: string[];
  ldflags: string[];
  /** Absolute paths of the platform sources linked into every test program. */
  sources: string[];
  /** Absolute path, or null for hosted targets. */
  linkerScript: string | null;
  /** Main flash and RAM, plus optional extra regions (e.g. core-coupled RAM next to SRAM). */
  memory: { flash: number; ram: number; regions?: MemoryRegion[] } | null;
  floatAbi: 'hard' | 'soft';
  pointerBits: 32 | 64;
  qemu: { command: string; args: string[] } | null;
  counter: { unit: string; instructionsPerUnit: number; resolutionInstructions: number } | null;
  /** Directory of target.json. */
  dir: string;
}

/** The runtime's vector kernel family a target runs (opt/x86 `_avx2`, chosen by CPUID at run time;
 * opt/arm `_neon`, AArch64 only), or undefined where it has none. */
export function vectorIsa(t: TargetDesc): 'avx2' | 'neon' | undefined {
  return t.features.includes('x86_64') ? 'avx2' : t.features.includes('aarch64') ? 'neon' : undefined;
}

/** The order targets are listed and run in. */
const TARGET_ORDER = ['host', 'rpi-aarch64', 'rpi-armv7', 'riscv64-linux', 'cortex-m4', 'cortex-m3', 'rv32imc'];

let cache: Map<string, TargetDesc> | undefined;

export function loadTargets(): Map<string, TargetDesc> {
  if (cache) return cache;
  const found = new Map<string, TargetDesc>();
  for (const entry of readdirSync(TARGETS_DIR, { withFileTypes: true })) {
    const file = join(TARGETS_DIR, entry.name, 'target.json');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Omit<TargetDesc, 'dir'>;
    const dir = dirname(file);
    for (const [i, r] of (raw.memory?.regions ?? []).entries()) {
      const ok =
        typeof r.name === 'string' &&
        (r.kind === 'ram' || r.kind === 'flash') &&
        Number.isInteger(r.bytes) &&
        r.bytes > 0 &&
        Array.isArray(r.holds) &&
        r.holds.every((h) => ['weights', 'arena', 'io', 'stack'].includes(h)) &&
        (r.section === undefined || (typeof r.section === 'string' && /^[.A-Za-z_][.A-Za-z0-9_]*$/.test(r.section)));
      if (!ok)
        fail(
          'schema',
          `${file}: memory.regions[${i}]`,
          'expected { "name": string, "kind": "ram" | "flash", "bytes": positive integer, "holds": ["weights" | "arena" | "io" | "stack", ...], "note"?: string, "section"?: a linker section name }',
        );
    }
    found.set(raw.name, {
      ...raw,
      features: raw.features ?? [],
      sources: raw.sources.map((s) => resolve(dir, s)),
      linkerScript: raw.linkerScript ? resolve(dir, raw.linkerScript) : null,
      dir,
    });
  }
  const ordered = new Map<string, TargetDesc>();
  for (const name of TARGET_ORDER) if (found.has(name)) ordered.set(name, found.get(name)!);
  for (const [name, t] of found) if (!ordered.has(name)) ordered.set(name, t);
  cache = ordered;
  return ordered;
}

/** A target built for a CPU with more features than its base: the same startup, linker script, memory
 * and runner, another -mcpu or -D, and QEMU told to emulate that CPU. The kernels take the extra
 * features at compile time (docs/kernels.md, "Choosing between an ISA's variants"). Not part of
 * `all`, whose targets already run every line but the feature's. */
interface CpuVariant {
  name: string;
  base: string;
  description: string;
  /** Zig -mcpu, if it changes. */
  cpu?: string;
  features: string[];
  cflags: string[];
  /** QEMU's -cpu value. */
  qemuCpu: string;
}

const CPU_VARIANTS: CpuVariant[] = [
  {
    name: 'rpi5-aarch64',
    base: 'rpi-aarch64',
    description: 'Raspberry Pi 5 (Cortex-A76: SDOT), 64-bit Linux (static musl, under qemu-aarch64 -cpu cortex-a76)',
    cpu: 'cortex_a76',
    features: ['dotprod'],
    cflags: [],
    qemuCpu: 'cortex-a76',
  },
  {
    name: 'riscv64-rvv',
    base: 'riscv64-linux',
    description: 'RISC-V 64-bit Linux boards with vectors, RV64GCV (RVV 1.0, VLEN >= 128; static musl, under qemu-riscv64 -cpu rv64,v=true)',
    features: ['rvv'],
    cflags: ['-DTN_RVV'],
    qemuCpu: 'rv64,v=true,vlen=128,elen=64,vext_spec=v1.0',
  },
  {
    name: 'rv32imc-zbb',
    base: 'rv32imc',
    description: 'RISC-V MCU with Zbb bit manipulation (RV32IMC + Zbb: CLZ, CTZ; soft float)',
    features: ['zbb'],
    cflags: ['-DTN_RV32_ZBB'],
    qemuCpu: 'rv32,zba=false,zbb=true,zbc=false,zbs=false',
  },
];

function variantTarget(v: CpuVariant): TargetDesc {
  const base = loadTargets().get(v.base)!;
  const args = base.qemu!.args.slice();
  const at = args.indexOf('-cpu');
  if (at >= 0) args[at + 1] = v.qemuCpu;
  else args.unshift('-cpu', v.qemuCpu);
  return {
    ...base,
    name: v.name,
    description: v.description,
    cpu: v.cpu ?? base.cpu,
    features: [...base.features, ...v.features],
    cflags: [...base.cflags, ...v.cflags],
    qemu: { command: base.qemu!.command, args },
  };
}

/** The CPU variants (rpi5-aarch64, riscv64-rvv, rv32imc-zbb), each with the base target it builds on. */
export function cpuVariants(): { target: TargetDesc; base: string }[] {
  return CPU_VARIANTS.filter((v) => loadTargets().has(v.base)).map((v) => ({ target: variantTarget(v), base: v.base }));
}

export function getTarget(name: string): TargetDesc {
  const t = loadTargets().get(name) ?? cpuVariants().find((v) => v.target.name === name)?.target;
  if (!t) fail('usage', '', `unknown target "${name}"; known targets: ${[...loadTargets().keys(), ...cpuVariants().map((v) => v.target.name)].join(', ')}`);
  return t;
}

/** `all` or a comma-separated list of names. */
export function resolveTargets(spec: string): TargetDesc[] {
  if (spec === 'all') return [...loadTargets().values()];
  return spec.split(',').map((s) => getTarget(s.trim()));
}

/** RAM kept free for the stack on targets with a memory size, when sizing kernel scratch. */
export function stackReserve(ram: number): number {
  return Math.max(8192, Math.floor(ram / 8));
}
