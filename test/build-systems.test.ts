// tritc in the user's build (docs/integration.md), each path built for real: the folder's Makefile
// (host cc, and zig cc for cortex-m4 with the arena in the CCM section, linked by the harness's
// script and run under QEMU), the CMake module (host, and cross through the zig toolchain file,
// rebuilt when the model changes; a language model with its weights in weights.bin), the Make
// fragment and the build.zig (Zig 0.11).

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, writeFilesAtomically } from '../compiler/compile.ts';
import { loadModel } from '../compiler/readers/index.ts';
import { getTarget } from '../compiler/targets.ts';
import { readElf } from '../compiler/toolchain/elf.ts';
import { requireQemu } from '../compiler/toolchain/qemu.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { workDir } from './support/differential.ts';

const ROOT = join(import.meta.dirname, '..');
const TRITC = `node ${join(ROOT, 'bin', 'tritc.js')}`;
const DIGITS = join(ROOT, 'examples', 'digits-mlp');
const TRILM = join(ROOT, '..', 'shared', 'data', 'gguf', 'trilm-synth-tq2_0.gguf');

function sh(cmd: string, cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync('bash', ['-c', `${cmd} 2>&1`], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  } catch (e) {
    const err = e as { stdout?: string; message: string };
    throw new Error(`${cmd} failed in ${cwd}:\n${err.stdout ?? err.message}`);
  }
}

function need(cmd: string, install: string): void {
  try {
    execFileSync('bash', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${cmd} is not installed: ${install} (bash scripts/setup.sh does it)`);
  }
}

/** Add 0.5 to the first bias value of the digits model's copy in `dir`: the same model, other numbers. */
function changeABias(dir: string): void {
  const file = join(dir, 'model.safetensors');
  const b = readFileSync(file);
  const headerBytes = Number(b.readBigUInt64LE(0));
  const header = JSON.parse(b.subarray(8, 8 + headerBytes).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const at = 8 + headerBytes + header['fc3.b']!.data_offsets[0];
  b.writeFloatLE(b.readFloatLE(at) + 0.5, at);
  writeFileSync(file, b);
}

describe('the folder tritc compile writes', () => {
  it('builds with make: the host cc at -O2 for host, zig cc for cortex-m4 with the arena in .ccmram, which the harness links into its CCM', () => {
    const zig = requireZig().path;
    const dir = workDir('build-make');
    const host = compileGraph(loadModel(DIGITS), { target: getTarget('host') });
    writeFilesAtomically(host.files, join(dir, 'host'));
    const hostLog = sh('make', join(dir, 'host'));
    expect(hostLog).toMatch(/^cc -O2 .*-std=c99 -ffp-contract=off .*-c model\.c/m);
    expect(existsSync(join(dir, 'host', 'libdigits_mlp.a'))).toBe(true);

    const m4 = getTarget('cortex-m4');
    const c = compileGraph(loadModel(DIGITS), { target: m4 });
    expect(c.arenaSection).toBe('.ccmram');
    expect(c.memoryMap!.regions.find((r) => r.name === 'ccm')!.items.map((i) => i.kind)).toEqual(['arena']);
    const out = join(dir, 'm4');
    writeFilesAtomically(c.files, out);
    const m4Log = sh(`make ZIG=${zig}`, out);
    expect(m4Log).toMatch(/zig cc -O2 .*-target thumb-freestanding-eabihf -mcpu=cortex_m4 .*-c model\.c/);
    expect(m4Log).toMatch(/zig ar rcs libdigits_mlp\.a/);
    const obj = readElf(join(out, 'model.o'));
    const arena = obj.symbols.find((s) => s.name === 'digits_mlp_arena')!;
    expect(obj.sections[arena.shndx]!.name).toBe('.ccmram');

    // Linked by the bare-metal harness's script: the arena lands in the CCM stand-in, and the model runs.
    const qemu = requireQemu(m4)!;
    writeFileSync(
      join(out, 'main.c'),
      `#include "model.h"
#include "tn_platform.h"
int main(void) {
  static float x[DIGITS_MLP_X_COUNT], probs[DIGITS_MLP_PROBS_COUNT];
  static int32_t class_[1];
  int i;
  char line[] = "class ?\\n";
  for (i = 0; i < DIGITS_MLP_X_COUNT; i++) x[i] = (float)((i * 7) % 17) / 16.0f;
  if (digits_mlp_run(x, probs, class_) != 0) return 1;
  line[6] = (char)('0' + class_[0]);
  tn_plat_puts(line);
  return 0;
}
`,
    );
    const common = join(ROOT, 'targets', 'common');
    sh(
      `${zig} cc -target thumb-freestanding-eabihf -mcpu=cortex_m4 -std=c99 -O2 -ffp-contract=off -I ${common} main.c ${m4.sources.join(' ')} libdigits_mlp.a -nostdlib -T ${m4.linkerScript} -Wl,--gc-sections -o prog.elf`,
      out,
    );
    const elf = readElf(join(out, 'prog.elf'));
    const ccm = elf.sections.find((s) => s.name === '.ccmram')!;
    expect(ccm.addr).toBe(0x21000000);
    expect(ccm.size).toBeGreaterThanOrEqual(c.plan.arenaBytes);
    const linkedArena = elf.symbols.find((s) => s.name === 'digits_mlp_arena')!;
    expect(elf.sections[linkedArena.shndx]!.name).toBe('.ccmram');
    const run = sh(`${qemu} ${m4.qemu!.args.join(' ').replace('{elf}', 'prog.elf')} < /dev/null`, out);
    expect(run).toMatch(/^class \d$/m);
  });
});

describe('the CMake module', () => {
  it('tritc_add_model builds on the host, runs, and is rebuilt when the model changes (only then)', () => {
    need('cmake', 'sudo apt-get install cmake');
    const dir = workDir('build-cmake');
    const model = join(dir, 'digits');
    cpSync(DIGITS, model, { recursive: true });
    const build = join(dir, 'build');
    sh(`cmake -S ${join(ROOT, 'examples', 'cmake')} -B ${build} -DDIGITS_MODEL=${model}`, dir);
    sh(`cmake --build ${build}`, dir);
    expect(sh('./digits_demo', build)).toMatch(/^class \d, probability \d\.\d{6}$/m);
    const lib = join(build, 'tritc', 'digits-build', 'libdigits.a');
    const stamp = join(build, 'tritc', 'digits.stamp');
    const before = { lib: readFileSync(lib), libTime: statSync(lib).mtimeMs, stamp: readFileSync(stamp, 'utf8') };

    // Nothing changed: tritc does not run, nothing is rebuilt.
    const again = sh(`cmake --build ${build}`, dir);
    expect(again).not.toMatch(/tritc: compiling/);
    expect(statSync(lib).mtimeMs).toBe(before.libTime);

    // Another bias: CMake re-configures by itself, tritc runs, the library changes.
    changeABias(model);
    const rebuilt = sh(`cmake --build ${build}`, dir);
    expect(rebuilt).toMatch(/tritc: compiling/);
    expect(readFileSync(stamp, 'utf8')).not.toBe(before.stamp);
    expect(readFileSync(lib).equals(before.lib)).toBe(false);
    expect(sh('./digits_demo', build)).toMatch(/^class \d, probability/m);
  });

  it('cross-compiles for cortex-m4 with zig cc through the toolchain file', () => {
    need('cmake', 'sudo apt-get install cmake');
    const zig = requireZig().path;
    const dir = workDir('build-cmake-m4');
    const build = join(dir, 'build');
    const toolchain = join(ROOT, 'cmake', 'tritc-zig-toolchain.cmake');
    const log = sh(`cmake -S ${join(ROOT, 'examples', 'cmake')} -B ${build} -DTRITC_TARGET=cortex-m4 -DCMAKE_TOOLCHAIN_FILE=${toolchain}`, dir, { ZIG: zig });
    expect(log).toMatch(/tritc: compiling .* for cortex-m4/);
    const built = sh(`cmake --build ${build} -- VERBOSE=1`, dir);
    expect(built).toMatch(/zig cc .*-target thumb-freestanding-eabihf -mcpu=cortex_m4 .*-O2 -ffp-contract=off/);
    const obj = readElf(join(build, 'tritc', 'digits-build', 'CMakeFiles', 'digits.dir', 'model.c.obj'));
    expect(obj.sections.some((s) => s.name === '.ccmram')).toBe(true);
    expect(existsSync(join(build, 'tritc', 'digits-build', 'libdigits.a'))).toBe(true);
  });

  it('builds a language model whose weights are in weights.bin (weights.S) and links a program that generates', () => {
    need('cmake', 'sudo apt-get install cmake');
    const dir = workDir('build-cmake-lm');
    writeFileSync(
      join(dir, 'CMakeLists.txt'),
      `cmake_minimum_required(VERSION 3.13)
project(lm_demo C)
find_package(tritc REQUIRED PATHS ${join(ROOT, 'cmake')} NO_DEFAULT_PATH)
tritc_add_model(trilm MODEL ${TRILM} PREFIX trilm OPTIONS --context 32)
add_executable(lm_demo main.c)
target_link_libraries(lm_demo PRIVATE trilm)
`,
    );
    writeFileSync(
      join(dir, 'main.c'),
      `#include <stdio.h>
#include "model.h"
int main(void) {
  static float logits[TRILM_VOCAB];
  const int32_t prompt[4] = {1, 10, 20, 30};
  int32_t i, best = 0;
  if (trilm_prefill(prompt, 4, logits) != 0) return 1;
  for (i = 1; i < TRILM_VOCAB; i++) if (logits[i] > logits[best]) best = i;
  if (trilm_decode(best, logits) != 0) return 2;
  printf("position %d\\n", (int)trilm_position());
  return 0;
}
`,
    );
    const build = join(dir, 'build');
    sh(`cmake -S . -B ${build}`, dir);
    const built = sh(`cmake --build ${build} -- VERBOSE=1`, dir);
    expect(built).toMatch(/weights\.S/);
    expect(statSync(join(build, 'tritc', 'trilm', 'weights.bin')).size).toBeGreaterThan(64 * 1024);
    expect(sh('./lm_demo', build)).toMatch(/^position 5$/m);
  });
});

describe('the Make fragment', () => {
  it('include tritc.mk: compiles and builds the library, again only when the model or the options change', () => {
    need('make', 'sudo apt-get install make');
    const dir = workDir('build-mk');
    cpSync(DIGITS, join(dir, 'digits'), { recursive: true });
    const makefile = (options: string) =>
      writeFileSync(
        join(dir, 'Makefile'),
        `all: tritc-out/digits/libdigits.a
include ${join(ROOT, 'make', 'tritc.mk')}
digits_MODEL = digits
digits_TARGET = host
digits_OPTIONS = ${options}
$(eval $(call tritc_model,digits))
`,
      );
    makefile('');
    expect(sh('make', dir)).toMatch(/compiled digits-mlp for host[\s\S]*ar rcs libdigits\.a/);
    expect(existsSync(join(dir, 'tritc-out', 'digits', 'libdigits.a'))).toBe(true);
    expect(sh('make', dir)).toMatch(/Nothing to be done for 'all'/);
    changeABias(join(dir, 'digits'));
    expect(sh('make', dir)).toMatch(/compiled digits-mlp/);
    makefile('--kernel t2');
    expect(sh('make', dir)).toMatch(/compiled digits-mlp/);
    expect(sh('make', dir)).toMatch(/Nothing to be done for 'all'/);
  });
});

describe('build.zig', () => {
  it("a user's build.zig takes the model's library (for cortex-m4; and for the host, in a program that runs it)", () => {
    const zig = requireZig().path;
    const dir = workDir('build-zig');
    mkdirSync(dir, { recursive: true });
    sh(`${TRITC} compile ${DIGITS} --target cortex-m4 -o model`, dir);
    sh(`${TRITC} compile ${DIGITS} --target host -o model-host`, dir);
    writeFileSync(
      join(dir, 'build.zig'),
      `const std = @import("std");
const model = @import("model/build.zig");
const host_model = @import("model-host/build.zig");

pub fn build(b: *std.Build) void {
    const optimize = std.builtin.OptimizeMode.ReleaseFast;
    // The library for the model's own target (cortex-m4), as \`zig build\` in model/ makes it.
    b.installArtifact(model.addLibrary(b, "model", model.defaultTarget(), optimize));
    // The model compiled for this machine, in a program that runs it.
    const host = host_model.defaultTarget();
    const exe = b.addExecutable(.{ .name = "demo", .target = host, .optimize = optimize });
    exe.addCSourceFile(.{ .file = .{ .path = "main.c" }, .flags = &.{"-std=c99"} });
    exe.addIncludePath(.{ .path = "model-host" });
    exe.linkLibrary(host_model.addLibrary(b, "model-host", host, optimize));
    exe.linkLibC();
    b.installArtifact(exe);
}
`,
    );
    cpSync(join(ROOT, 'examples', 'cmake', 'main.c'), join(dir, 'main.c'));
    sh(`${zig} build`, dir);
    expect(sh('zig-out/bin/demo', dir)).toMatch(/^class \d, probability \d\.\d{6}$/m);
    // The installed library is cortex-m4 code (ELF machine 40, ARM), built at -O2 by default.
    const members = join(dir, 'members');
    mkdirSync(members);
    sh(`${zig} ar x ${join(dir, 'zig-out', 'lib', 'libdigits_mlp.a')}`, members);
    const model = readFileSync(join(members, 'model.o'));
    expect(model.readUInt16LE(18)).toBe(40);
    expect(readElf(join(members, 'model.o')).sections.some((s) => s.name === '.ccmram')).toBe(true);
  });
});
