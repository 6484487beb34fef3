// npm run campaign: the differential campaign. Random graphs (low-bit chains with every weight format
// forced in turn, and graphs of every ONNX op) and random decoder configurations, compiled for every
// target and run on it (natively, under qemu-user, on bare-metal QEMU machines), bit for bit against
// the interpreter; on bare metal the stack painted while each model ran must stay at or below the
// compile-time estimate. A failing case is shrunk (bench/campaign/shrink.ts) and written to
// test/regressions/, which test/regressions.test.ts runs.
//
//   npm run campaign -- --graphs N [--host-graphs H] [--decoders D] [--targets all|a,b] [--seed S]
//                       [--no-shrink] [--update]

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileGraph } from '../../compiler/compile.ts';
import { PROJECT_ROOT, getTarget, type TargetDesc } from '../../compiler/targets.ts';
import { benchArgs, runMain, writeSection } from '../cli.ts';
import { checkDecoder, checkGraphs, graphCase, type Finding, type GraphCase } from './check.ts';
import { everyTarget } from './compilers.ts';
import { loadRegressions, REGRESSIONS_DIR, regressionFile, type Regression } from './regression.ts';
import { shrinkDecoder, shrinkSpec, describeSpec } from './shrink.ts';
import { readSpec, specToJson } from './spec.ts';

const USAGE = `npm run campaign -- --graphs N [options]
  --graphs N        random graphs per QEMU target (seeds S .. S+N-1)
  --host-graphs H   random graphs on the host (default 10 N)
  --decoders D      random decoders per target (default max(1, N / 50); the host 4 D)
  --targets T       all (every target and CPU variant, the default) or a comma-separated list
  --seed S          the first seed (default 0)
  --batch B         graphs per test program (default 25)
  --no-shrink       report failures without shrinking them
  --shrink-max K    shrink at most K failures per run (default 5; the rest are reported with their
                    seeds), and none whose family and seed test/regressions/ holds already
  --update          write the result table to BENCHMARKS.md (section campaign)`;

interface Row {
  target: string;
  graphs: number;
  graphSeeds: string;
  decoders: number;
  decoderSeeds: string;
  findings: { what: string; seed: number; finding: Finding; file?: string }[];
  seconds: number;
}

function bar(done: number, total: number): string {
  const w = 24;
  const k = total ? Math.round((done / total) * w) : w;
  return `[${'#'.repeat(k)}${'.'.repeat(w - k)}] ${done}/${total}`;
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
  else process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  const a = benchArgs(USAGE, {
    graphs: { type: 'string' },
    'host-graphs': { type: 'string' },
    decoders: { type: 'string' },
    targets: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    'no-shrink': { type: 'boolean' },
    'shrink-max': { type: 'string' },
    update: { type: 'boolean' },
  });
  const int = (v: string | undefined, name: string, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got "${v}"`);
    return n;
  };
  if (a.graphs === undefined) throw new Error('--graphs N is required (--help lists the options)');
  const graphs = int(a.graphs, 'graphs', 0);
  const hostGraphs = int(a['host-graphs'], 'host-graphs', graphs * 10);
  const decoders = int(a.decoders, 'decoders', Math.max(1, Math.floor(graphs / 50)));
  const seed0 = int(a.seed, 'seed', 0);
  const batch = Math.max(1, int(a.batch, 'batch', 25));
  const spec = a.targets ?? 'all';
  const targets: TargetDesc[] = spec === 'all' ? everyTarget() : spec.split(',').map((s) => getTarget(s.trim()));
  let shrinks = a['no-shrink'] ? 0 : int(a['shrink-max'], 'shrink-max', 5);
  const known = new Set(loadRegressions().map(({ r }) => `${r.family}-${r.seed}`));
  const shrinkable = (family: string, seed: number): boolean => {
    if (shrinks === 0 || known.has(`${family}-${seed}`)) return false;
    shrinks--;
    known.add(`${family}-${seed}`);
    return true;
  };
  const command = `npm run campaign -- ${process.argv.slice(2).join(' ')}`;
  process.stderr.write(`campaign: ${command}\n`);

  const rows: Row[] = [];
  const started = performance.now();
  for (const target of targets) {
    const host = target.name === 'host';
    const n = host ? hostGraphs : graphs;
    const d = host ? decoders * 4 : decoders;
    const row: Row = {
      target: target.name,
      graphs: n,
      graphSeeds: n ? `${seed0}..${seed0 + n - 1}` : '-',
      decoders: d,
      decoderSeeds: d ? `${seed0}..${seed0 + d - 1}` : '-',
      findings: [],
      seconds: 0,
    };
    const t0 = performance.now();
    const dir = mkdtempSync(join(tmpdir(), `tritc-campaign-${target.name}-`));
    const status = (done: number, what: string) =>
      `${target.name.padEnd(13)} ${what} ${bar(done, what === 'graphs' ? n : d)}  ${row.findings.length} failing  ${((performance.now() - t0) / 1000).toFixed(0)} s`;
    try {
      for (let s = 0; s < n; s += batch) {
        const cases = Array.from({ length: Math.min(batch, n - s) }, (_, i) => graphCase(seed0 + s + i));
        const found = await checkGraphs(cases, target, join(dir, `b${s}`));
        rmSync(join(dir, `b${s}`), { recursive: true, force: true });
        for (const [i, f] of found.entries()) {
          if (!f) continue;
          const c = cases[i]!;
          process.stderr.write(`\n${target.name}: ${c.family} seed ${c.seed}${c.kernel ? ` (--kernel ${c.kernel})` : ''}: ${f.kind}: ${f.message}\n`);
          const file = shrinkable(c.family, c.seed) ? await shrinkGraphCase(c, f, target, command) : undefined;
          row.findings.push({ what: `${c.family}${c.kernel ? `/${c.kernel}` : ''}`, seed: c.seed, finding: f, file });
        }
        progress(status(Math.min(n, s + batch), 'graphs'));
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
      for (let i = 0; i < d; i++) {
        const seed = seed0 + i;
        const f = await checkDecoder(seed, target, join(dir, `lm${seed}`));
        rmSync(join(dir, `lm${seed}`), { recursive: true, force: true });
        if (f) {
          process.stderr.write(`\n${target.name}: decoder seed ${seed}: ${f.kind}: ${f.message}\n`);
          const file = shrinkable('decoder', seed) ? await shrinkDecoderCase(seed, f, target, command) : undefined;
          row.findings.push({ what: 'decoder', seed, finding: f, file });
        }
        progress(status(i + 1, 'decoders'));
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    row.seconds = (performance.now() - t0) / 1000;
    rows.push(row);
    process.stderr.write(
      `done: ${row.target}: ${n} graphs (seeds ${row.graphSeeds}), ${d} decoders (seeds ${row.decoderSeeds}), ${row.findings.length} failing, ${row.seconds.toFixed(0)} s\n`,
    );
  }

  const table = render(rows, command, (performance.now() - started) / 1000);
  process.stdout.write(`${table}\n`);
  if (a.update) writeSection(join(PROJECT_ROOT, 'BENCHMARKS.md'), 'campaign', table);
  if (rows.some((r) => r.findings.length)) process.exitCode = 1;
}

function render(rows: Row[], command: string, seconds: number): string {
  const lines = [
    '## Differential campaign (generated C against the interpreter on every target)',
    '',
    `\`${command}\` — ${(seconds / 60).toFixed(0)} min on 2 shared cores. Graphs: even seeds low-bit chains`,
    '(`bench/gen/random_graph.ts`, a third with a weight format forced), odd seeds graphs of ONNX ops',
    '(`bench/gen/random_onnx_graph.ts`); decoders: `bench/gen/random_lm.ts` with the weight kind, chunk and',
    'cache type the seed picks. Every output bit for bit; on bare metal the painted stack at or below the',
    'compile-time estimate.',
    '',
    '| target | graphs | graph seeds | decoders | decoder seeds | failing | seconds |',
    '|---|---:|---|---:|---|---:|---:|',
    ...rows.map((r) => `| ${r.target} | ${r.graphs} | ${r.graphSeeds} | ${r.decoders} | ${r.decoderSeeds} | ${r.findings.length} | ${r.seconds.toFixed(0)} |`),
  ];
  const failing = rows.flatMap((r) => r.findings.map((f) => ({ ...f, target: r.target })));
  if (failing.length) {
    lines.push('', 'Failing cases (the shrunk ones in test/regressions/):', '');
    for (const f of failing) lines.push(`- ${f.target} ${f.what} seed ${f.seed}: ${f.finding.kind}: ${f.finding.message}${f.file ? ` (${f.file})` : ''}`);
  }
  return lines.join('\n');
}

/** Shrink a failing graph and write it as a regression file; returns the file's name. */
async function shrinkGraphCase(c: GraphCase, f: Finding, target: TargetDesc, command: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tritc-shrink-'));
  let n = 0;
  try {
    const r = await shrinkSpec(c.spec, {
      valid: (s) => {
        try {
          const g = readSpec(s);
          compileGraph(g, { target, verify: true, skipFitCheck: true, ...(c.kernel ? { kernel: c.kernel } : {}) });
          return true;
        } catch {
          return f.kind === 'compile';
        }
      },
      fails: async (s) => {
        const [got] = await checkGraphs([{ ...c, spec: s }], target, join(dir, `t${n++}`));
        return got?.kind === f.kind;
      },
      log: (l) => process.stderr.write(`  ${l}\n`),
    });
    const [again] = await checkGraphs([{ ...c, spec: r.spec }], target, join(dir, 'final'));
    const reg: Regression = {
      target: target.name,
      family: c.family,
      seed: c.seed,
      ...(c.kernel ? { kernel: c.kernel } : {}),
      kind: f.kind,
      message: again?.message ?? f.message,
      found: command,
      shrunk: `${describeSpec(r.spec)} (from ${r.nodes.before} nodes, ${r.elements.before} elements; ${r.tries} tries)`,
      spec: specToJson(r.spec),
    };
    return writeRegression(reg);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function shrinkDecoderCase(seed: number, f: Finding, target: TargetDesc, command: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tritc-shrink-lm-'));
  let n = 0;
  try {
    const sizes = await shrinkDecoder(async (z) => (await checkDecoder(seed, target, join(dir, `t${n++}`), z))?.kind === f.kind);
    const again = await checkDecoder(seed, target, join(dir, 'final'), sizes);
    return writeRegression({
      target: target.name,
      family: 'decoder',
      seed,
      kind: f.kind,
      message: again?.message ?? f.message,
      found: command,
      shrunk: `sizes ${JSON.stringify(sizes)}`,
      sizes,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeRegression(r: Regression): string {
  mkdirSync(REGRESSIONS_DIR, { recursive: true });
  const file = regressionFile(r);
  writeFileSync(join(REGRESSIONS_DIR, file), `${JSON.stringify(r, null, 1)}\n`);
  process.stderr.write(`  wrote test/regressions/${file}\n`);
  return `test/regressions/${file}`;
}

await runMain(main);
