// tritc compile --layout (docs/integration.md): the Arduino library checked by the library
// specification's rules (1.5 format) and built as Arduino builds it (the library's C in GNU mode with
// no flags of ours, the sketch as C++ against a small Arduino.h for Serial), for cortex-m4 with zig cc,
// then run under QEMU: it prints what the interpreter computes. Debian's arduino and arduino-builder
// packages carry only the AVR core, so no ARM board can be targeted with them offline.
// PlatformIO's library.json against the fields and types of its schema, built as it says; the Zephyr
// module's module.yml against Zephyr's module schema, and its CMakeLists.txt configured and built
// with the zephyr_library_* functions defined as Zephyr documents them (Zephyr itself is not here).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileGraph, type Compiled } from '../compiler/compile.ts';
import { arrangeLayout, exampleInput } from '../compiler/emit/layouts.ts';
import { interpret } from '../compiler/interpret.ts';
import { loadModel } from '../compiler/readers/index.ts';
import { getTarget } from '../compiler/targets.ts';
import { readElf } from '../compiler/toolchain/elf.ts';
import { requireQemu } from '../compiler/toolchain/qemu.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { writeFilesAtomically } from '../compiler/compile.ts';
import { workDir } from './support/differential.ts';

const ROOT = join(import.meta.dirname, '..');
const TRITC = `node ${join(ROOT, 'bin', 'tritc.js')}`;
const DIGITS = join(ROOT, 'examples', 'digits-mlp');
const M4 = '-target thumb-freestanding-eabihf -mcpu=cortex_m4';

function sh(cmd: string, cwd: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    return execFileSync('bash', ['-c', `${cmd} 2>&1`], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 });
  } catch (e) {
    const err = e as { stdout?: string; message: string };
    throw new Error(`${cmd} failed in ${cwd}:\n${err.stdout ?? err.message}`);
  }
}

/** Arduino's Print::print(double, digits), step by step in doubles as the core does it. */
function arduinoFloat(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return 'inf';
  if (x > 4294967040.0 || x < -4294967040.0) return 'ovf';
  let s = '';
  if (x < 0) {
    s = '-';
    x = -x;
  }
  let rounding = 0.5;
  for (let i = 0; i < digits; i++) rounding /= 10.0;
  x += rounding;
  const whole = Math.trunc(x);
  let rest = x - whole;
  s += String(whole);
  if (digits > 0) s += '.';
  for (let i = 0; i < digits; i++) {
    rest *= 10.0;
    const d = Math.trunc(rest);
    s += String(d);
    rest -= d;
  }
  return s;
}

/** Arduino.h for the test: Serial prints into a line buffer that goes out through the platform layer. */
const ARDUINO_H = `#pragma once
#include <stddef.h>
#include <stdint.h>
extern "C" {
void setup(void);
void loop(void);
void arduino_shim_write(const char *s, size_t n);
}
class HardwareSerial {
 public:
  void begin(unsigned long) {}
  explicit operator bool() const { return true; }
  size_t print(const char *s) { size_t n = 0; while (s[n]) n++; arduino_shim_write(s, n); return n; }
  size_t print(char c) { arduino_shim_write(&c, 1); return 1; }
  size_t print(unsigned long v) { char b[12]; int i = 11; b[i] = 0; do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v); return print(b + i); }
  size_t print(long v) { return v < 0 ? print('-') + print((unsigned long)(-(v + 1)) + 1UL) : print((unsigned long)v); }
  size_t print(int v) { return print((long)v); }
  size_t print(unsigned int v) { return print((unsigned long)v); }
  size_t print(double x, int digits = 2) {
    if (x != x) return print("nan");
    if (x - x != 0) return print("inf");
    if (x > 4294967040.0 || x < -4294967040.0) return print("ovf");
    size_t n = 0;
    if (x < 0.0) { n += print('-'); x = -x; }
    double rounding = 0.5;
    for (int i = 0; i < digits; i++) rounding /= 10.0;
    x += rounding;
    unsigned long whole = (unsigned long)x;
    double rest = x - (double)whole;
    n += print(whole);
    if (digits > 0) n += print('.');
    while (digits-- > 0) { rest *= 10.0; unsigned int d = (unsigned int)rest; n += print((unsigned long)d); rest -= d; }
    return n;
  }
  template <typename T> size_t println(T v) { size_t n = print(v); return n + print('\\n'); }
  template <typename T> size_t println(T v, int digits) { size_t n = print(v, digits); return n + print('\\n'); }
  size_t println() { return print('\\n'); }
};
extern HardwareSerial Serial;
`;

const SHIM_C = `#include <stddef.h>
#include "tn_platform.h"
static char line[256];
static size_t used;
void arduino_shim_write(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    if (s[i] == '\\n' || used == sizeof line - 1) {
      line[used] = 0; /* tn_plat_puts ends the line */
      tn_plat_puts(line);
      used = 0;
      if (s[i] == '\\n') continue;
    }
    line[used++] = s[i];
  }
}
void setup(void);
int main(void) {
  setup();
  return 0;
}
`;

/** library.properties as a map (key=value lines; # comments). */
function readProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    expect(at, `library.properties line "${line}" is not key=value`).toBeGreaterThan(0);
    props.set(line.slice(0, at), line.slice(at + 1));
  }
  return props;
}

const CATEGORIES = ['Display', 'Communication', 'Signal Input/Output', 'Sensors', 'Device Control', 'Timing', 'Data Storage', 'Data Processing', 'Other'];

describe('--layout arduino', () => {
  it('is an Arduino library by the 1.5 specification, and its sketch prints what the interpreter computes (cortex-m4, QEMU)', () => {
    const zig = requireZig().path;
    const m4 = getTarget('cortex-m4');
    const qemu = requireQemu(m4)!;
    const dir = workDir('layout-arduino');
    const lib = join(dir, 'digits_mlp');
    sh(`${TRITC} compile ${DIGITS} --target cortex-m4 --layout arduino -o ${lib}`, dir);

    // The specification's rules: library.properties fields, src/, examples/<name>/<name>.ino.
    const props = readProperties(readFileSync(join(lib, 'library.properties'), 'utf8'));
    for (const key of ['name', 'version', 'author', 'maintainer', 'sentence', 'paragraph', 'category', 'url', 'architectures'])
      expect(props.get(key), `library.properties has no ${key}`).toBeTruthy();
    const name = props.get('name')!;
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).not.toMatch(/^Arduino/);
    expect(props.get('version')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(CATEGORIES).toContain(props.get('category'));
    expect(props.get('architectures')).toMatch(/^(\*|[a-z0-9_]+(,\s*[a-z0-9_]+)*)$/);
    for (const h of props.get('includes')!.split(',')) expect(existsSync(join(lib, 'src', h.trim()))).toBe(true);
    expect(existsSync(join(lib, 'library.json'))).toBe(false);
    expect(readdirSync(lib).filter((f) => /\.(c|h|cpp)$/.test(f))).toEqual([]); // sources only in src/
    for (const ex of readdirSync(join(lib, 'examples'))) expect(existsSync(join(lib, 'examples', ex, `${ex}.ino`))).toBe(true);

    // Built as Arduino builds a library: its C with the core's kind of flags (GNU C, -Os), none of ours.
    const build = join(dir, 'build');
    mkdirSync(join(build, 'shim'), { recursive: true });
    writeFileSync(join(build, 'shim', 'Arduino.h'), ARDUINO_H);
    writeFileSync(join(build, 'shim.c'), SHIM_C);
    const sources = readdirSync(join(lib, 'src')).filter((f) => f.endsWith('.c'));
    const arduinoC = `${M4} -std=gnu11 -Os -ffunction-sections -fdata-sections -w`;
    for (const f of sources) sh(`${zig} cc ${arduinoC} -I ${join(lib, 'src')} -c ${join(lib, 'src', f)} -o ${f}.o`, build);
    sh(
      `${zig} cc ${M4} -x c++ -std=gnu++17 -Os -fno-exceptions -fno-rtti -Wall -Wextra -Werror -Wno-unused-command-line-argument -include Arduino.h -I shim -I ${join(lib, 'src')} -c ${join(lib, 'examples', name, `${name}.ino`)} -o sketch.o`,
      build,
    );
    writeFileSync(join(build, 'serial.cpp'), '#include "Arduino.h"\nHardwareSerial Serial;\n');
    sh(`${zig} cc ${M4} -x c++ -std=gnu++17 -Os -fno-exceptions -fno-rtti -I shim -c serial.cpp -o serial.o`, build);
    const common = join(ROOT, 'targets', 'common');
    sh(
      `${zig} cc ${M4} -std=c99 -O2 -ffp-contract=off -I ${common} shim.c ${m4.sources.join(' ')} sketch.o serial.o ${sources.map((f) => `${f}.o`).join(' ')} -nostdlib -T ${m4.linkerScript} -Wl,--gc-sections -o sketch.elf`,
      build,
    );
    const printed = sh(`${qemu} ${m4.qemu!.args.join(' ').replace('{elf}', 'sketch.elf')} < /dev/null`, build);

    const c = compileGraph(loadModel(DIGITS), { target: m4 });
    const x = Float32Array.from(exampleInput('float32', 64));
    const out = interpret(c.graph, new Map([['x', x]]));
    const probs = [...(out.get('probs') as Float32Array)].map((v) => arduinoFloat(v, 6)).join(' ');
    const cls = (out.get('class') as Int32Array)[0];
    expect(printed).toContain(`digits_mlp_run: 0\nprobs: ${probs}\nclass: ${cls}\n`);
  });
});

/** A digits-mlp compile for cortex-m4, laid out for PlatformIO and Zephyr (in-process: no CLI). */
function laidOut(layout: 'platformio' | 'zephyr', dir: string): { c: Compiled; root: string } {
  const c = compileGraph(loadModel(DIGITS), {
    target: getTarget('cortex-m4'),
    arenaSection: layout === 'platformio' ? null : undefined,
    regionSections: layout === 'zephyr' ? { ccm: '.ccm_noinit' } : undefined,
  });
  const root = join(dir, layout);
  writeFilesAtomically(arrangeLayout(layout, c, c.files), root);
  return { c, root };
}

const isString = (v: unknown) => typeof v === 'string';
const stringOrStrings = (v: unknown) => isString(v) || (Array.isArray(v) && v.every(isString));

describe('--layout platformio', () => {
  it("library.json has the schema's required fields and types, and builds as it says", () => {
    const zig = requireZig().path;
    const dir = workDir('layout-pio');
    const { root } = laidOut('platformio', dir);
    const m = JSON.parse(readFileSync(join(root, 'library.json'), 'utf8')) as Record<string, unknown>;
    // Required (platformio-core's library.json schema): name, version, description, keywords.
    expect(isString(m.name) && (m.name as string).length <= 50 && /^[^:;/,@<>]+$/.test(m.name as string)).toBe(true);
    expect(isString(m.version) && (m.version as string).length <= 20 && /^\d+\.\d+\.\d+/.test(m.version as string)).toBe(true);
    expect(isString(m.description) && (m.description as string).length <= 255).toBe(true);
    expect(stringOrStrings(m.keywords)).toBe(true);
    for (const k of m.keywords as string[]) expect(k).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    // Optional fields, where present, of their types.
    const authors = m.authors as { name: unknown; maintainer?: unknown }[];
    expect(authors.every((a) => isString(a.name) && (a.maintainer === undefined || typeof a.maintainer === 'boolean'))).toBe(true);
    expect(stringOrStrings(m.frameworks) && stringOrStrings(m.platforms) && stringOrStrings(m.headers)).toBe(true);
    const build = m.build as { srcDir: string; includeDir: string; flags: string[]; libArchive: boolean };
    expect(isString(build.srcDir) && isString(build.includeDir) && stringOrStrings(build.flags) && typeof build.libArchive === 'boolean').toBe(true);
    for (const h of m.headers as string[]) expect(existsSync(join(root, build.includeDir, h))).toBe(true);
    for (const ex of m.examples as { name: string; base: string; files: string[] }[])
      for (const f of ex.files) expect(existsSync(join(root, ex.base, f))).toBe(true);
    expect(existsSync(join(root, 'library.properties'))).toBe(true);

    // Every source of srcDir, compiled with build.flags and includeDir, as PlatformIO does.
    const src = join(root, build.srcDir);
    const sources = readdirSync(src).filter((f) => /\.(c|S)$/.test(f));
    expect(sources).toContain('model.c');
    for (const f of sources)
      sh(`${zig} cc ${M4} -Os -Wall -Werror ${build.flags.join(' ')} -I ${join(root, build.includeDir)} -c ${join(src, f)} -o ${f}.o`, dir);
  });
});

/** The block mappings of plain scalars that module.yml is written in, parsed strictly: anything else fails. */
function parseSimpleYaml(text: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  const stack: { indent: number; map: Record<string, unknown> }[] = [{ indent: -1, map: root }];
  for (const line of text.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const m = /^( *)([A-Za-z0-9_-]+):(?: (.*))?$/.exec(line);
    if (!m) throw new Error(`module.yml: not a "key: value" line: ${line}`);
    const indent = m[1]!.length;
    while (stack[stack.length - 1]!.indent >= indent) stack.pop();
    const parent = stack[stack.length - 1]!.map;
    if (m[3] === undefined) {
      const child: Record<string, unknown> = {};
      parent[m[2]!] = child;
      stack.push({ indent, map: child });
    } else parent[m[2]!] = m[3] === 'true' ? true : m[3] === 'false' ? false : m[3];
  }
  return root;
}

/** Zephyr's module.yml schema (scripts/zephyr_module.py), the part a module that builds uses. */
const MODULE_BUILD_KEYS: Record<string, 'str' | 'bool'> = { cmake: 'str', kconfig: 'str', 'cmake-ext': 'bool', 'kconfig-ext': 'bool' };

/** The zephyr_library_* functions, as Zephyr's CMake extensions document them. */
const ZEPHYR_SHIM = `cmake_minimum_required(VERSION 3.20)
project(zephyr_app C ASM)
macro(zephyr_library_named name)
  set(ZEPHYR_CURRENT_LIBRARY \${name})
  add_library(\${name} STATIC "")
endmacro()
function(zephyr_library_sources)
  target_sources(\${ZEPHYR_CURRENT_LIBRARY} PRIVATE \${ARGN})
endfunction()
function(zephyr_include_directories)
  target_include_directories(\${ZEPHYR_CURRENT_LIBRARY} PUBLIC \${ARGN})
endfunction()
function(zephyr_library_compile_options)
  target_compile_options(\${ZEPHYR_CURRENT_LIBRARY} PRIVATE \${ARGN})
endfunction()
function(zephyr_library_compile_definitions)
  target_compile_definitions(\${ZEPHYR_CURRENT_LIBRARY} PRIVATE \${ARGN})
endfunction()
set(CONFIG_TRITC_DIGITS_MLP y)
add_subdirectory(\${MODULE}/zephyr module)
`;

describe('--layout zephyr', () => {
  it("is a module by Zephyr's module.yml schema whose CMakeLists.txt and Kconfig build the model", () => {
    const zig = requireZig().path;
    const dir = workDir('layout-zephyr');
    const { root } = laidOut('zephyr', dir);
    const meta = parseSimpleYaml(readFileSync(join(root, 'zephyr', 'module.yml'), 'utf8'));
    expect(Object.keys(meta).every((k) => ['name', 'build', 'tests', 'samples', 'boards', 'blobs'].includes(k))).toBe(true);
    expect(typeof meta.name).toBe('string');
    const build = meta.build as Record<string, unknown>;
    for (const [k, v] of Object.entries(build)) expect(typeof v, `build.${k}`).toBe(MODULE_BUILD_KEYS[k] === 'bool' ? 'boolean' : 'string');
    expect(existsSync(join(root, build.cmake as string, 'CMakeLists.txt'))).toBe(true);
    const kconfig = readFileSync(join(root, build.kconfig as string), 'utf8');
    expect(kconfig).toMatch(/^config TRITC_DIGITS_MLP\n\tbool "[^"]+"\n\thelp\n/m);
    const cmake = readFileSync(join(root, 'zephyr', 'CMakeLists.txt'), 'utf8');
    expect(cmake).toMatch(/if\(CONFIG_TRITC_DIGITS_MLP\)[\s\S]*zephyr_library_named\(tritc_digits_mlp\)[\s\S]*zephyr_library_sources\(/);

    const app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'CMakeLists.txt'), ZEPHYR_SHIM);
    const toolchain = join(ROOT, 'cmake', 'tritc-zig-toolchain.cmake');
    sh(`cmake -S ${app} -B ${join(app, 'build')} -DMODULE=${root} -DTRITC_TARGET=cortex-m4 -DCMAKE_TOOLCHAIN_FILE=${toolchain}`, dir, { ZIG: zig });
    sh(`cmake --build ${join(app, 'build')}`, dir);
    const objects = join(app, 'build', 'module', 'CMakeFiles', 'tritc_digits_mlp.dir');
    const modelObj = (readdirSync(objects, { recursive: true }) as string[]).find((f) => f.endsWith('model.c.obj'))!;
    expect(existsSync(join(app, 'build', 'module', 'libtritc_digits_mlp.a'))).toBe(true);
    const obj = readElf(join(objects, modelObj));
    const arena = obj.symbols.find((s) => s.name === 'digits_mlp_arena')!;
    expect(obj.sections[arena.shndx]!.name).toBe('.ccm_noinit');
  });
});
