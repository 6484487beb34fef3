// A static estimate of the stack a model's run() needs on a target: compile the generated C and the
// runtime files with zig cc (clang) writing per-function frame sizes (`-stack-usage-file`; zig 0.11
// ignores the gcc-style -fstack-usage; naked assembly functions: what they push, nakedFrames), build
// the call graph from the C text, and take the deepest
// path from <prefix>_run. The object files say which calls survived inlining (compiledCalls);
// calls through function pointers are assumed to reach every function whose address is handed on
// (named without a call, or in a file-scope table that a function names) by a function reachable
// from run(). Compiler runtime calls (soft-float helpers) are leaves not in the graph; the test
// against the stack painted under QEMU (test/stack.test.ts) bounds what they add.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../diagnostics.ts';
import type { TargetDesc } from '../targets.ts';
import { CPU_COUNT, mapLimit } from '../util/limit.ts';
import { exec, SECTION_FLAGS, STRICT_CFLAGS, zigTargetArgs } from './build.ts';
import { readElf } from './elf.ts';
import { requireZig } from './zig.ts';

export interface StackEstimate {
  /** Bytes of stack below the caller's stack pointer during <prefix>_run. */
  bytes: number;
  /** The deepest call chain, outermost first, with each frame. */
  chain: { fn: string; frame: number }[];
  /** Every function's own frame, as the compiler reported it. */
  frames: Map<string, number>;
}

/** C source with comments, strings and preprocessor lines blanked (newlines kept). */
function stripC(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/\/\/[^\n]*/g, '')
    .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""')
    .replace(/^[ \t]*#(?:[^\n]*\\\n)*[^\n]*/gm, (m) => (/^\s*#\s*define\s+\w+\(/.test(m) ? m.replace(/\\\n/g, ' ') : ''));
}

const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'do', 'else', 'case']);

/** Function definitions (and function-like macros) with the identifiers their bodies mention. */
export interface CallGraphText {
  calls: Map<string, Set<string>>;
  /** Functions that call through a pointer (a parameter or a struct field). */
  indirect: Set<string>;
  /** Functions whose address is taken anywhere (in a body or in a file-scope table). */
  addressTaken: Set<string>;
  /** Per function, the functions whose address it hands on: named without a call, or members of a
   * file-scope table the function names (ops = &tn_lut_t5w_armv7m). */
  exposes: Map<string, Set<string>>;
}

export function callGraph(sources: readonly string[]): CallGraphText {
  const bodies = new Map<string, string>();
  const params = new Map<string, string>();
  const fileScopeText: string[] = [];
  const tables = new Map<string, string>(); // file-scope initializer name -> its text
  for (const raw of sources) {
    const src = stripC(raw);
    for (const m of src.matchAll(/^[ \t]*#\s*define\s+(\w+)\(([^)]*)\)(.*)$/gm)) bodies.set(m[1]!, m[3]!);
    const code = src.replace(/^[ \t]*#[^\n]*/gm, '');
    let depth = 0;
    let headerStart = 0;
    let bodyStart = -1;
    let name = '';
    for (let i = 0; i < code.length; i++) {
      const ch = code[i];
      if (ch === '{') {
        if (depth === 0) {
          const header = code.slice(headerStart, i);
          // An initializer at file scope (= {...}) is not a function body: its names are data.
          if (/=\s*$/.test(header)) {
            const end = matchingBrace(code, i);
            fileScopeText.push(code.slice(i, end + 1));
            const tableName = /(\w+)\s*(\[[^\]]*\])?\s*=\s*$/.exec(header);
            if (tableName) tables.set(tableName[1]!, (tables.get(tableName[1]!) ?? '') + code.slice(i, end + 1)); // #if branches: both
            i = end;
            headerStart = end + 1;
            continue;
          }
          // __attribute__((naked, aligned(4))) before the name is not the function's name.
          const m = /(\w+)\s*\(([^{};]*)\)\s*$/.exec(header.replace(/__attribute__\s*\(\((?:[^()]|\([^()]*\))*\)\)/g, ' '));
          name = m ? m[1]! : '';
          if (m) params.set(name, m[2]!);
          bodyStart = i + 1;
        }
        depth++;
      } else if (ch === '}') {
        depth--;
        if (depth === 0) {
          if (name) bodies.set(name, `${bodies.get(name) ?? ''}\n${code.slice(bodyStart, i)}`); // #if branches: both
          name = '';
          headerStart = i + 1;
        }
      } else if (ch === ';' && depth === 0) headerStart = i + 1;
    }
  }
  const calls = new Map<string, Set<string>>();
  const indirect = new Set<string>();
  const addressTaken = new Set<string>();
  const exposes = new Map<string, Set<string>>();
  const tableMembers = new Map<string, string[]>();
  // A table's functions, including those of the tables it names (nested tables).
  const members = (t: string, seen: Set<string>): string[] => {
    if (seen.has(t)) return [];
    seen.add(t);
    const ids = [...tables.get(t)!.matchAll(/\b([A-Za-z_]\w*)\b/g)].map((m) => m[1]!);
    return ids.flatMap((id) => (bodies.has(id) ? [id] : tables.has(id) ? members(id, seen) : []));
  };
  for (const t of tables.keys()) tableMembers.set(t, members(t, new Set()));
  for (const [fn, body] of bodies) {
    const out = new Set<string>();
    const exposed = new Set<string>();
    const paramNames = new Set((params.get(fn) ?? '').match(/\w+/g) ?? []);
    for (const m of body.matchAll(/(->|\.)?\s*\b([A-Za-z_]\w*)\b(\s*\()?/g)) {
      const id = m[2]!;
      if (m[1] && m[3])
        indirect.add(fn); // a call through a pointer field: ops->build(...)
      else if (bodies.has(id)) {
        out.add(id);
        if (!m[3]) {
          addressTaken.add(id);
          exposed.add(id);
        }
      } else if (m[3] && paramNames.has(id) && !KEYWORDS.has(id))
        indirect.add(fn); // a call through a pointer parameter
      else if (!m[3] && tableMembers.has(id)) for (const f of tableMembers.get(id)!) exposed.add(f);
    }
    calls.set(fn, out);
    exposes.set(fn, exposed);
  }
  // Functions named outside any body (tables of function pointers at file scope) have their address taken.
  for (const file of fileScopeText) for (const m of file.matchAll(/\b([A-Za-z_]\w*)\b/g)) if (bodies.has(m[1]!)) addressTaken.add(m[1]!);
  return { calls, indirect, addressTaken, exposes };
}

/** Index of the brace closing the one at `open`. */
function matchingBrace(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth === 0) return i;
  }
  return code.length - 1;
}

/** Parse clang's stack-usage lines: `file:line:col:function<TAB>bytes<TAB>static|dynamic[,bounded]`. */
export function parseStackUsage(text: string): Map<string, number> {
  const frames = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(?:.*:)?([A-Za-z_]\w*)\t(\d+)\t(\S+)/.exec(line);
    if (!m) continue;
    if (m[3] === 'dynamic') throw new Error(`internal: ${m[1]} has an unbounded stack frame`);
    frames.set(m[1]!, Math.max(frames.get(m[1]!) ?? 0, Number(m[2])));
  }
  return frames;
}

/**
 * Frames of naked functions (inline assembly only), which the compiler's stack-usage output reports
 * as 0: the registers their assembly pushes (`push {r4-r11, lr}`, `stmdb sp!, {...}`: 4 bytes each)
 * plus any `sub sp, #N` / `addi sp, sp, -N`, read from the string literals of the body and of the
 * macros it names (expanded a few levels deep).
 */
export function nakedFrames(sources: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const raw of sources) {
    const src = raw.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
    const macros = new Map<string, string>();
    for (const m of src.matchAll(/^[ \t]*#\s*define\s+(\w+)(\([^)]*\))?((?:[^\n]*\\\n)*[^\n]*)/gm)) macros.set(m[1]!, m[3]!);
    const expand = (text: string, depth: number): string =>
      depth === 0
        ? text
        : text + [...new Set(text.match(/\b[A-Z_][A-Z0-9_]*\b/g) ?? [])].map((id) => (macros.has(id) ? expand(macros.get(id)!, depth - 1) : '')).join('\n');
    for (const m of src.matchAll(/__attribute__\s*\(\(([^()]|\([^()]*\))*\bnaked\b([^()]|\([^()]*\))*\)\)[^{;]*?(\w+)\s*\([^)]*\)\s*\{/g)) {
      const open = m.index! + m[0].length - 1;
      const body = expand(src.slice(open, matchingBrace(src, open) + 1), 4);
      let bytes = 0;
      for (const p of body.matchAll(/\b(?:push|stmdb\s+sp!\s*,)\s*\{([^}]*)\}/g)) {
        for (const r of p[1]!.split(',')) {
          const range = /r(\d+)\s*-\s*r(\d+)/.exec(r);
          bytes += 4 * (range ? Number(range[2]) - Number(range[1]) + 1 : 1);
        }
      }
      for (const s of body.matchAll(/\bsub(?:\.w)?\s+sp\s*,\s*(?:sp\s*,\s*)?#(\d+)|\baddi\s+sp\s*,\s*sp\s*,\s*-(\d+)/g)) bytes += Number(s[1] ?? s[2]);
      out.set(m[3]!, Math.max(out.get(m[3]!) ?? 0, bytes));
    }
  }
  return out;
}

/**
 * The calls each compiled function really makes. The C text says what a function calls; the object
 * file says which of those calls survived: a callee the compiled function does not reference was
 * inlined into it (so its callees, and its calls through pointers, become the function's own).
 * Functions absent from the object were inlined everywhere.
 */
export function compiledCalls(text: CallGraphText, objectRefs: ReadonlyMap<string, ReadonlySet<string>>, root?: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const indirect = new Set<string>();
  const exposes = new Map<string, Set<string>>();
  for (const [fn, refs] of objectRefs) {
    const callees = new Set<string>();
    const exposed = new Set<string>();
    const seen = new Set<string>();
    const absorb = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      if (text.indirect.has(f)) indirect.add(fn);
      for (const e of text.exposes.get(f) ?? []) exposed.add(e);
      for (const c of text.calls.get(f) ?? []) {
        if (objectRefs.has(c) && refs.has(c)) callees.add(c);
        else absorb(c);
      }
    };
    absorb(fn);
    // What the object references that the text does not show (e.g. an address taken in a macro).
    for (const r of refs) if (objectRefs.has(r)) callees.add(r);
    callees.delete(fn);
    out.set(fn, callees);
    exposes.set(fn, exposed);
  }
  // Calls through pointers reach the functions whose address is handed on by a function that can run:
  // with a root, those reachable from it (a kernel's ops table is named by its entry point, so an
  // unused kernel's functions in the same file are not counted); without one, every address taken.
  let targets = new Set([...text.addressTaken].filter((a) => objectRefs.has(a)));
  if (root !== undefined) {
    targets = new Set();
    for (;;) {
      const reach = new Set<string>();
      const stack = [root];
      while (stack.length) {
        const f = stack.pop()!;
        if (reach.has(f)) continue;
        reach.add(f);
        for (const c of out.get(f) ?? []) stack.push(c);
        if (indirect.has(f)) for (const t of targets) stack.push(t);
      }
      const next = new Set<string>();
      for (const f of reach) for (const e of exposes.get(f) ?? []) if (objectRefs.has(e)) next.add(e);
      if (next.size === targets.size) break;
      targets = next;
    }
  }
  for (const f of indirect) for (const t of targets) if (t !== f) out.get(f)!.add(t);
  return out;
}

/** The deepest path from `root`, summing frames (+ `perCall` for each call). */
function deepestPath(
  root: string,
  calls: ReadonlyMap<string, ReadonlySet<string>>,
  frames: ReadonlyMap<string, number>,
  perCall = 0,
): { fn: string; frame: number }[] {
  const memo = new Map<string, { fn: string; frame: number }[]>();
  const onPath = new Set<string>();
  const total = (p: { frame: number }[]) => p.reduce((a, f) => a + f.frame, 0);
  const visit = (fn: string): { fn: string; frame: number }[] => {
    const have = memo.get(fn);
    if (have) return have;
    if (onPath.has(fn)) fail('unsupported', fn, 'the generated code is recursive; its stack cannot be bounded');
    onPath.add(fn);
    let best: { fn: string; frame: number }[] = [];
    for (const c of calls.get(fn) ?? []) {
      const p = visit(c);
      if (total(p) > total(best)) best = p;
    }
    onPath.delete(fn);
    const path = [{ fn, frame: (frames.get(fn) ?? 0) + perCall }, ...best];
    memo.set(fn, path);
    return path;
  };
  return visit(root);
}

/**
 * What the frame sizes leave out, per target: x86-64 pushes an 8-byte return address on every call
 * (ARM and RISC-V keep it in a register, and save it inside the frame), and a leaf function may use
 * the 128 bytes below the stack pointer (the SysV red zone) without a frame; soft-float targets call
 * compiler-rt helpers that are not in the graph. Checked against painted stacks in tests.
 */
export function stackModel(target: TargetDesc): { perCall: number; libcalls: number; redZone: number } {
  const x86 = target.zigTarget === 'native' ? process.arch === 'x64' : /^x86_64/.test(target.zigTarget);
  // Library routines outside the call graph (soft-float helpers; memcpy/memset, which the compiler
  // may call for block copies) run below the deepest frame: an allowance for their frames.
  // On x86-64 each call pushes a return address, and a function using AVX registers may realign its
  // frame to 32 bytes, which clang's frame size does not include: up to 24 more bytes.
  return { perCall: x86 ? 8 + 24 : 0, libcalls: target.floatAbi === 'soft' ? 32 : 16, redZone: x86 ? 128 : 0 };
}

/** Compile `files` (model.c, runtime files, headers) for `target` and estimate the stack of `<prefix>_run`. */
export async function estimateStack(
  allFiles: ReadonlyMap<string, string | Uint8Array | Uint8Array[]>,
  prefix: string,
  target: TargetDesc,
  entry = `${prefix}_run`,
): Promise<StackEstimate> {
  const files = new Map([...allFiles].filter((e): e is [string, string] => typeof e[1] === 'string'));
  const zig = requireZig();
  const dir = mkdtempSync(join(tmpdir(), 'tritc-stack-'));
  try {
    for (const [name, text] of files) if (/\.(c|h)$/.test(name)) writeFileSync(join(dir, name), text);
    const sources = [...files.keys()].filter((f) => f.endsWith('.c'));
    const flags = [...zigTargetArgs(target), ...STRICT_CFLAGS, ...SECTION_FLAGS, ...target.cflags, '-I', dir];
    const preprocessed = new Map<string, string>();
    const texts = await mapLimit(sources, CPU_COUNT, async (src) => {
      const su = join(dir, `${src}.su`);
      const r = await exec(zig.path, ['cc', ...flags, '-c', src, '-o', `${src}.o`, '-Xclang', '-stack-usage-file', '-Xclang', su], {
        cwd: dir,
        timeoutMs: 600_000,
      });
      if (r.code !== 0)
        fail(
          'toolchain',
          target.name,
          `zig cc failed while measuring stack frames of ${src}:\n${(r.stderr || r.stdout).trim().split('\n').slice(0, 20).join('\n')}`,
        );
      // The call graph is read from the preprocessed text: kernels and their ops tables made by macros
      // (TN_LUT_KERNEL, TN_LINEAR_ALIAS) are then plain functions and initializers.
      const pre = await exec(zig.path, ['cc', ...flags, '-E', '-P', src, '-o', `${src}.i`], { cwd: dir, timeoutMs: 600_000 });
      if (pre.code !== 0) fail('toolchain', target.name, `zig cc -E failed on ${src}:\n${pre.stderr.trim().split('\n').slice(0, 20).join('\n')}`);
      preprocessed.set(src, readFileSync(join(dir, `${src}.i`), 'utf8'));
      return readFileSync(su, 'utf8');
    });
    const frames = parseStackUsage(texts.join('\n'));
    for (const [fn, bytes] of nakedFrames(sources.map((s) => files.get(s)!))) frames.set(fn, Math.max(frames.get(fn) ?? 0, bytes));
    const objectRefs = new Map<string, Set<string>>();
    for (const src of sources) {
      const elf = readElf(join(dir, `${src}.o`));
      for (const sym of elf.symbols) if (sym.type === 2 && sym.shndx !== 0) objectRefs.set(sym.name, elf.references.get(sym.shndx) ?? new Set());
    }
    const calls = compiledCalls(callGraph(sources.map((s) => preprocessed.get(s)!)), objectRefs, entry);
    const model = stackModel(target);
    const chain = deepestPath(entry, calls, frames, model.perCall);
    if (model.libcalls)
      chain.push({
        fn: target.floatAbi === 'soft' ? '(compiler runtime: soft-float helpers, memcpy)' : '(library calls: memcpy, memset)',
        frame: model.libcalls,
      });
    if (model.redZone) chain.push({ fn: '(red zone below the leaf function)', frame: model.redZone });
    return { bytes: chain.reduce((a, f) => a + f.frame, 0), chain, frames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
