// Building C for a target with `zig cc`: the model's files are compiled to objects with the strict
// flags (so that we can also measure them), then linked with the runner and the target's platform.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fail } from '../diagnostics.ts';
import type { TargetDesc } from '../targets.ts';
import { TARGETS_DIR } from '../targets.ts';
import { CPU_COUNT, mapLimit } from '../util/limit.ts';
import { requireZig } from './zig.ts';

/** Flags every generated or runtime C file must compile cleanly with (docs/numerics.md). */
export const STRICT_CFLAGS = ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-pedantic', '-ffp-contract=off', '-fno-strict-aliasing'];
/** Sections per function and object, so the linker can drop what is unused. */
export const SECTION_FLAGS = ['-ffunction-sections', '-fdata-sections'];

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a program, collecting its output; never throws for a nonzero exit. */
export function exec(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; onStdout?: (chunk: string) => void; onStderr?: (chunk: string) => void } = {},
): Promise<ExecResult> {
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => {
      opts.onStdout?.(d.toString());
      if (stdout.length < 1 << 20) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      opts.onStderr?.(d.toString());
      if (stderr.length < 1 << 20) stderr += d.toString();
    });
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs)
      : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolveP({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** zig cc arguments that select the target (and cpu). */
export function zigTargetArgs(t: TargetDesc): string[] {
  const args = t.zigTarget === 'native' ? [] : ['-target', t.zigTarget];
  if (t.cpu) args.push(`-mcpu=${t.cpu}`);
  return args;
}

/** Run `zig cc` with these arguments in `cwd`; a failure is a TritcError showing the compiler's output. */
export async function zigCc(args: string[], cwd: string, what: string): Promise<void> {
  const zig = requireZig();
  let r: ExecResult;
  try {
    r = await exec(zig.path, ['cc', ...args], { cwd, timeoutMs: 10 * 60_000 });
  } catch (e) {
    fail('toolchain', '', `cannot start zig (${zig.path}, from ${zig.source}) while ${what}: ${(e as Error).message}`);
  }
  if (r.code !== 0) {
    const msg = (r.stderr || r.stdout).trim().split('\n').slice(0, 30).join('\n');
    fail('toolchain', '', `zig cc failed while ${what} (zig from ${zig.source}: ${zig.path}):\n${msg}`);
  }
}

/** Another C compiler than zig cc for the host target (the sanitizer builds: gcc or clang from the
 * distribution, which bring the sanitizer runtimes zig 0.11 lacks). */
export interface HostCompiler {
  /** For messages: gcc, clang. */
  name: string;
  command: string;
  /** Added to the model, runtime and runner compiles and to the link (e.g. -fsanitize=...); the
   * target's platform files (the harness's stack painting, which reads below the stack pointer on
   * purpose) are compiled without them. */
  flags: string[];
}

export interface BuildRequest {
  target: TargetDesc;
  /** Build with this compiler instead of zig cc (host target only). */
  compiler?: HostCompiler;
  /** Working directory for objects and the program. */
  dir: string;
  /** Generated and runtime C files: compiled to objects with STRICT_CFLAGS. */
  modelSources: string[];
  /** The runner's C files (compiled with the same flags). */
  runnerSources: string[];
  includeDirs: string[];
  defines?: string[];
  /** Name of the program file inside dir. */
  output: string;
}

export interface BuildResult {
  program: string;
  modelObjects: string[];
}

/** Run a C compiler (zig cc, or the request's host compiler) in `cwd`; a failure is a TritcError
 * showing its output. */
async function runCc(req: BuildRequest, args: string[], what: string): Promise<void> {
  const cc = req.compiler;
  if (!cc) return zigCc(args, req.dir, what);
  let r: ExecResult;
  try {
    r = await exec(cc.command, args, { cwd: req.dir, timeoutMs: 10 * 60_000 });
  } catch (e) {
    fail('toolchain', '', `cannot start ${cc.name} (${cc.command}) while ${what}: ${(e as Error).message}`);
  }
  if (r.code !== 0) fail('toolchain', '', `${cc.name} failed while ${what}:\n${(r.stderr || r.stdout).trim().split('\n').slice(0, 30).join('\n')}`);
}

export async function buildProgram(req: BuildRequest): Promise<BuildResult> {
  const t = req.target;
  if (req.compiler && (t.kind !== 'hosted' || t.zigTarget !== 'native'))
    fail('usage', t.name, `${req.compiler.name} builds for the host only; ${t.name} is built with zig cc`);
  mkdirSync(req.dir, { recursive: true });
  const common = [
    ...(req.compiler ? [] : zigTargetArgs(t)),
    ...STRICT_CFLAGS,
    ...SECTION_FLAGS,
    ...t.cflags,
    ...req.includeDirs.flatMap((d) => ['-I', d]),
    ...(req.defines ?? []).map((d) => `-D${d}`),
  ];
  const modelObjects: string[] = [];
  // One object per model source, compiled in one zig invocation per file (zig's cache makes repeats cheap).
  const used = new Set<string>();
  const objects = req.modelSources.map((src) => {
    let obj = basename(src).replace(/\.[cS]$/, '.o');
    for (let i = 2; used.has(obj); i++) obj = basename(src).replace(/\.[cS]$/, `_${i}.o`);
    used.add(obj);
    modelObjects.push(join(req.dir, obj));
    return { src, obj };
  });
  const extra = req.compiler?.flags ?? [];
  await mapLimit(objects, CPU_COUNT, ({ src, obj }) => runCc(req, [...common, ...extra, '-c', src, '-o', obj], `compiling ${basename(src)} for ${t.name}`));
  // With another compiler the platform files are compiled apart, without its extra flags.
  const platform = req.compiler ? t.sources.map((src) => join(req.dir, `platform-${basename(src).replace(/\.[cS]$/, '.o')}`)) : t.sources;
  if (req.compiler)
    await mapLimit(t.sources, CPU_COUNT, (src, i) =>
      runCc(req, [...common, '-I', join(TARGETS_DIR, 'common'), '-c', src, '-o', platform[i]!], `compiling ${basename(src)}`),
    );
  const program = join(req.dir, req.output);
  const link = [
    ...common,
    ...extra,
    '-I',
    join(TARGETS_DIR, 'common'),
    ...req.runnerSources,
    ...platform,
    ...modelObjects,
    ...(t.linkerScript ? ['-T', t.linkerScript] : []),
    ...t.ldflags,
    '-Wl,--gc-sections',
    '-o',
    program,
  ];
  await runCc(req, link, `linking the test program for ${t.name}`);
  return { program, modelObjects };
}
