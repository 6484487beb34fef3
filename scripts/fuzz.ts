// npm run fuzz -- --reader <name> --count N [--seed S]: structure-aware fuzzing of one model or input
// reader (test/support/fuzz/: cases built with fast-check from real seed files and generated ones).
//
// Cases run in a child process (scripts/fuzz_worker.ts), reused across cases for speed and replaced
// when one dies. A crash is anything but tritc's own one-line error: another exception, a case that
// runs past --timeout seconds (10), or one that raises the peak RSS more than --memory MiB (1024)
// above where the case started (the child is also killed if its RSS passes that while it runs).
// Every case reproduces alone: --seed S --index i runs case i in this process with its stack trace,
// and --shrink lets fast-check shrink it to a smaller input that still crashes.

import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { benchArgs, runMain } from '../bench/cli.ts';
import { caseAt, caseSeed, runCase, type FuzzReader } from '../test/support/fuzz/harness.ts';
import { READERS, fuzzReader } from '../test/support/fuzz/readers.ts';
import type { WorkerReply, WorkerRequest } from './fuzz_worker.ts';

const USAGE = `npm run fuzz -- --reader <name|all> [--count N] [--seed S] [--timeout s] [--memory MiB]
npm run fuzz -- --reader <name> --seed S --index i [--shrink]

Readers:
${READERS.map((r) => `  ${r.name.padEnd(8)} ${r.about}`).join('\n')}

  --count N      cases per reader (default 1000)
  --seed S       the run's seed (default: from the clock; printed, so any case reproduces)
  --index i      run only case i of the run seeded S, in this process, and show what happened
  --shrink       with --index: shrink a crashing case with fast-check and show the smallest one
  --timeout s    a case running longer is a hang (default 10)
  --memory MiB   a case raising the peak RSS more than this is a crash (default 1024)
  --list         with --index: also write the case's files to ./fuzz-case-<reader>-<seed>-<i>/`;

interface Crash {
  index: number;
  kind: 'exception' | 'hang' | 'memory' | 'died';
  what: string;
  message: string;
}

interface Totals {
  reader: string;
  cases: number;
  loaded: number;
  rejected: Map<string, number>;
  crashes: Crash[];
  seconds: number;
  slowestMs: number;
  maxGrowth: number;
}

const MiB = 1024 * 1024;

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

class Worker {
  private child!: ChildProcess;
  private ready!: Promise<void>;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tritc-fuzz-'));

  constructor(private readonly memoryLimit: number) {
    this.start();
  }

  private start(): void {
    const here = new URL('./fuzz_worker.ts', import.meta.url).pathname;
    // The heap limit is a backstop; the RSS watch below is the real limit (typed arrays live outside the heap).
    this.child = fork(here, [], {
      execArgv: [...process.execArgv, `--max-old-space-size=${Math.round((this.memoryLimit * 3) / MiB)}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.resume();
    this.ready = new Promise((resolve) => this.child.once('message', () => resolve()));
  }

  /** Run one case; resolves with the worker's reply, or with why it had to be killed. */
  async run(req: Omit<WorkerRequest, 'dir'>, timeoutMs: number): Promise<WorkerReply | { killed: Crash['kind']; message: string }> {
    await this.ready;
    const child = this.child;
    const base = rssOf(child.pid!);
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: WorkerReply | { killed: Crash['kind']; message: string }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(watch);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if ('killed' in r) this.restart();
        resolve(r);
      };
      const onMessage = (m: WorkerReply) => finish(m);
      const onExit = (code: number | null, signal: string | null) => finish({ killed: 'died', message: `the worker exited (${signal ?? `status ${code}`})` });
      const timer = setTimeout(() => finish({ killed: 'hang', message: `no answer after ${timeoutMs / 1000} s` }), timeoutMs);
      const watch = setInterval(() => {
        const rss = rssOf(child.pid!);
        if (rss - base > this.memoryLimit) finish({ killed: 'memory', message: `RSS rose by ${Math.round((rss - base) / MiB)} MiB while the case ran` });
      }, 50);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ ...req, dir: join(this.dir, 'case') } satisfies WorkerRequest);
    });
  }

  restart(): void {
    this.child.kill('SIGKILL');
    this.start();
  }

  close(): void {
    this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function fuzzOne(reader: FuzzReader, seed: number, count: number, timeoutMs: number, memoryLimit: number): Promise<Totals> {
  const t: Totals = { reader: reader.name, cases: 0, loaded: 0, rejected: new Map(), crashes: [], seconds: 0, slowestMs: 0, maxGrowth: 0 };
  const worker = new Worker(memoryLimit);
  const t0 = performance.now();
  let lastReport = t0;
  try {
    for (let index = 0; index < count; index++) {
      const r = await worker.run({ reader: reader.name, seed, index }, timeoutMs);
      t.cases++;
      if ('killed' in r) {
        t.crashes.push({ index, kind: r.killed, what: caseAt(reader, seed, index).what, message: r.message });
      } else {
        t.slowestMs = Math.max(t.slowestMs, r.ms);
        t.maxGrowth = Math.max(t.maxGrowth, r.growth);
        if (r.growth > memoryLimit) {
          t.crashes.push({ index, kind: 'memory', what: r.what, message: `the peak RSS rose by ${Math.round(r.growth / MiB)} MiB` });
          worker.restart();
        } else if (r.outcome.kind === 'crash') t.crashes.push({ index, kind: 'exception', what: r.what, message: r.outcome.message });
        else if (r.outcome.kind === 'loaded') t.loaded++;
        else t.rejected.set(r.outcome.code, (t.rejected.get(r.outcome.code) ?? 0) + 1);
      }
      const c = t.crashes.at(-1);
      if (c?.index === index)
        process.stdout.write(
          `CRASH ${reader.name} case ${index} (${c.kind}): ${c.what}\n  ${c.message.split('\n').join('\n  ')}\n  reproduce: npm run fuzz -- --reader ${reader.name} --seed ${seed} --index ${index}\n`,
        );
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        process.stderr.write(
          `${reader.name}: ${index + 1}/${count} cases, ${t.crashes.length} crash${t.crashes.length === 1 ? '' : 'es'}, ${((index + 1) / ((now - t0) / 1000)).toFixed(1)} cases/s\n`,
        );
      }
    }
  } finally {
    worker.close();
  }
  t.seconds = (performance.now() - t0) / 1000;
  return t;
}

function summary(t: Totals, seed: number): string {
  const rejected = [...t.rejected].sort((a, b) => b[1] - a[1]);
  const nRejected = rejected.reduce((a, [, n]) => a + n, 0);
  return [
    `${t.reader}: ${t.cases} cases in ${t.seconds.toFixed(1)} s (${(t.cases / t.seconds).toFixed(1)} cases/s), seed ${seed}`,
    `  loaded ${t.loaded}, rejected with a one-line error ${nRejected} (${rejected.map(([c, n]) => `${c} ${n}`).join(', ')})`,
    `  crashes ${t.crashes.length}${t.crashes.length ? `: ${t.crashes.map((c) => `case ${c.index} (${c.kind})`).join(', ')}` : ''}`,
    `  slowest case ${(t.slowestMs / 1000).toFixed(2)} s, largest peak RSS rise ${Math.round(t.maxGrowth / MiB)} MiB`,
  ].join('\n');
}

/** Run case `index` here, with the stack; with `shrink`, let fast-check find a smaller crashing case. */
function reproduce(reader: FuzzReader, seed: number, index: number, shrink: boolean, list: boolean): void {
  const c = caseAt(reader, seed, index);
  const dir = mkdtempSync(join(tmpdir(), 'tritc-fuzz-one-'));
  try {
    process.stdout.write(`${reader.name} case ${index} of seed ${seed}: ${c.what}\n`);
    const o = runCase(c, list ? join(process.cwd(), `fuzz-case-${reader.name}-${seed}-${index}`) : join(dir, 'case'));
    process.stdout.write(o.kind === 'crash' ? `CRASH: ${o.message}\n` : o.kind === 'loaded' ? 'loaded\n' : `rejected (${o.code}), as it should be\n`);
    if (!shrink || o.kind !== 'crash') return;
    const r = fc.check(
      fc.property(reader.cases(), (x) => runCase(x, join(dir, 'case')).kind !== 'crash'),
      { seed: caseSeed(seed, index), numRuns: 1 },
    );
    if (r.failed && r.counterexample)
      process.stdout.write(`shrunk after ${r.numShrinks} steps: ${r.counterexample[0].what}\n  ${String(r.errorInstance ?? '')}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runMain(async () => {
  const a = benchArgs(USAGE, {
    reader: { type: 'string' },
    count: { type: 'string' },
    seed: { type: 'string' },
    index: { type: 'string' },
    shrink: { type: 'boolean' },
    list: { type: 'boolean' },
    timeout: { type: 'string' },
    memory: { type: 'string' },
  });
  const int = (name: string, v: string | undefined, def: number, min: number): number => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name} expects an integer >= ${min}, got "${v}"`);
    return n;
  };
  if (!a.reader) throw new Error(`--reader is required: ${READERS.map((r) => r.name).join(', ')} or all`);
  const readers =
    a.reader === 'all'
      ? READERS
      : [
          fuzzReader(a.reader) ??
            (() => {
              throw new Error(`--reader "${a.reader}" is not one of ${READERS.map((r) => r.name).join(', ')}, all`);
            })(),
        ];
  const seed = a.seed === undefined ? Date.now() % 2 ** 31 : int('seed', a.seed, 0, -(2 ** 31));
  if (a.index !== undefined) {
    if (readers.length !== 1) throw new Error('--index needs one --reader');
    reproduce(readers[0]!, seed, int('index', a.index, 0, 0), a.shrink === true, a.list === true);
    return;
  }
  const count = int('count', a.count, 1000, 1);
  const timeoutMs = int('timeout', a.timeout, 10, 1) * 1000;
  const memory = int('memory', a.memory, 1024, 16) * MiB;
  process.stdout.write(`fuzzing ${readers.map((r) => r.name).join(', ')}: ${count} cases each, seed ${seed} (--seed ${seed} reproduces this run)\n`);
  let crashes = 0;
  for (const r of readers) {
    const t = await fuzzOne(r, seed, count, timeoutMs, memory);
    crashes += t.crashes.length;
    process.stdout.write(`${summary(t, seed)}\n`);
  }
  if (crashes > 0) process.exitCode = 1;
});
