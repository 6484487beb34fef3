// npm run bench:planner: every graph of the corpus through the planner, every algorithm on the
// chosen schedule, against the lower bound and against TFLite Micro's greedy planner. Times are the
// median of REPEATS runs.
//
//   npm run bench:planner                 the tables on stdout (markdown)
//   npm run bench:planner -- --json       the same as JSON
//   npm run bench:planner -- --update     also rewrite the planner section of BENCHMARKS.md

import { execSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { HEURISTICS, linear, tflmGreedyBySize } from '../../compiler/plan/algorithms.ts';
import { makeLayout } from '../../compiler/plan/blocks.ts';
import { branchAndBound } from '../../compiler/plan/exact.ts';
import { buffersFor } from '../../compiler/plan/liveness.ts';
import { planProblem, type MemoryPlan } from '../../compiler/plan/planner.ts';
import { PROJECT_ROOT } from '../../compiler/targets.ts';
import { formatBytes } from '../../compiler/util/format.ts';
import { median } from '../../compiler/util/stats.ts';
import { benchArgs, runMain, writeSection } from '../cli.ts';
import { corpus } from './corpus.ts';
import type { CorpusEntry } from './families.ts';

const REPEATS = 5;
const COMMAND = 'npm run bench:planner';

function timed<T>(fn: () => T): { value: T; ms: number } {
  const times: number[] = [];
  let value!: T;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    value = fn();
    times.push(performance.now() - t0);
  }
  return { value, ms: median(times) };
}

interface Row {
  e: CorpusEntry;
  plan: MemoryPlan;
  planMs: number;
  buffers: number;
  tflmSameSchedule: number;
  algos: { algorithm: string; arena: number; ms: number }[];
}

function measure(e: CorpusEntry): Row {
  const { value: plan, ms: planMs } = timed(() => planProblem(e.problem));
  const order = plan.schedule.order;
  const layout = makeLayout(buffersFor(e.problem, order, { inPlace: plan.inPlace.used, skip: new Set(plan.inPlace.skipped) }), order.length);
  const algos = [...HEURISTICS, { name: 'linear', run: linear }].map(({ name, run }) => {
    const r = timed(() => run(layout));
    return { algorithm: name, arena: r.value.height, ms: r.ms };
  });
  const start = algos.filter((a) => a.algorithm !== 'linear').reduce((a, b) => (b.arena < a.arena ? b : a));
  const startRes = HEURISTICS.find((h) => h.name === start.algorithm)!.run(layout);
  const bb = timed(() => branchAndBound(layout, startRes));
  algos.push({ algorithm: 'branch-and-bound', arena: bb.value.height, ms: bb.ms });
  const plain = makeLayout(buffersFor(e.problem, order, { inPlace: false }), order.length);
  return { e, plan, planMs, buffers: layout.blocks.reduce((a, b) => a + b.members.length, 0), tflmSameSchedule: tflmGreedyBySize(plain).height, algos };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const ratio = (a: number, b: number) => (b > 0 ? a / b : 1);

function machine(): string {
  let lscpu = '';
  try {
    lscpu = execSync('lscpu | head', { encoding: 'utf8' }).trim();
  } catch {
    lscpu = `${cpus()[0]?.model ?? 'unknown cpu'} x ${cpus().length}`;
  }
  return `${lscpu}\nnode ${process.version}`;
}

function markdown(rows: Row[], notes: string[]): string {
  const n = rows.length;
  const atBound = rows.filter((r) => r.plan.arenaBytes === r.plan.lowerBound).length;
  const worst = rows.reduce((a, r) => Math.max(a, ratio(r.plan.arenaBytes, r.plan.lowerBound)), 1);
  const goalFamilies = ['transformer-kv-cache', 'mobilenet-inverted-residual'];
  const goalRows = rows.filter((r) => goalFamilies.includes(r.e.family));
  // 1 - arena / tflm >= 20 %, in integers (5 arena <= 4 tflm): a saving of exactly 20 % counts.
  const saves20 = (r: (typeof goalRows)[number]) => 5 * r.plan.arenaBytes <= 4 * r.plan.tflmBytes;
  const goalMet = goalRows.filter(saves20).length;
  const families = [...new Set(rows.map((r) => r.e.family))];
  const lines: string[] = [];
  lines.push('## Memory planner (issue #3)', '');
  lines.push(`Command: \`${COMMAND}\` (bench/planner/run.ts). Times are the median of ${REPEATS} runs, single-threaded.`, '');
  lines.push('Machine:', '', '```', machine(), '```', '');
  lines.push('Corpus:', '');
  lines.push("- `example`: the repository's examples (IR graphs).");
  lines.push('- `residual-mlp`: IR graphs of the existing ops (QuantizeInt8, TernaryLinear, Relu, Add, Softmax); in-place sharing as the ops declare it.');
  lines.push(
    '- `unet`, `mobilenet-inverted-residual`, `inception`, `transformer-kv-cache`, `transformer-decode`, `mixture-of-experts`: planner-level problems (steps, tensors and sizes, in-place permissions and kernel scratch), because int8 convolutions, attention and expert routing are not ops yet (bench/planner/families.ts). Depthwise convolutions work in place as the float32 Conv op does it (docs/memory.md): strided ones stream with no scratch, the others go through one output channel of scratch, as TinyEngine does; softmax, activations, quantization and residual adds work in place as the existing ops do; the KV cache is state outside the arena. Steps are listed as an exporter writes them: layer by layer, breadth first across heads, experts and branches. `transformer-decode` (one new token) is listed apart from the KV-cache prefill blocks.',
  );
  for (const note of notes) lines.push(`- ${note}`);
  lines.push('');
  lines.push(
    "Columns: **arena** is the plan; **bound** the most bytes live at one step under the chosen schedule (no plan of that schedule is smaller); **optimal** says whether the arena is proven minimal for the schedule (it meets the bound, or branch and bound finished); **TFLM same** is TFLite Micro's greedy-by-size on the same schedule without in-place sharing; **TFLM file** the same greedy on the file order, which is what TFLite Micro runs; **saved** is 1 - arena / TFLM file.",
    '',
  );
  lines.push('### Goals', '');
  lines.push(
    `- Arena equal to the lower bound: **${atBound} of ${n}** graphs (${pct(atBound / n)}; goal: at least 95 %) ${atBound / n >= 0.95 ? 'met' : 'NOT met'}.`,
  );
  lines.push(`- Largest arena / bound: **${worst.toFixed(3)}** (goal: at most 1.05) ${worst <= 1.05 ? 'met' : 'NOT met'}.`);
  lines.push(
    `- At least 20 % below TFLM on the file order, transformer (KV-cache prefill) and inverted-residual families: **${goalMet} of ${goalRows.length}** graphs ${goalMet === goalRows.length ? 'met' : 'NOT met'}.`,
  );
  lines.push('');
  const exactly = goalRows.filter((r) => 5 * r.plan.arenaBytes === 4 * r.plan.tflmBytes);
  if (exactly.length)
    lines.push(
      `At exactly 20 %: ${exactly.map((r) => r.e.name).join(', ')}. Their peak is the first stride-2 inverted residual at full resolution, where TFLite Micro holds the expanded tensor e and the depthwise output d = e/4 together (1.25 e); in place (the expansion over the end of its input, the strided depthwise streaming over its input with no scratch) the arena is e, the bound: no placement saves more while e exists whole. Saving more needs fused expansion and depthwise kernels that never hold e (row buffers or patch-based inference, as in MCUNetV2). With one channel of depthwise scratch, as TinyEngine plans every depthwise, these graphs saved 19.92-19.96 %.`,
      '',
    );
  const missed = rows.filter((r) => r.plan.arenaBytes > r.plan.lowerBound);
  const short = goalRows.filter((r) => !saves20(r));
  if (missed.length || short.length) {
    lines.push('Where the goals are missed, and why:', '');
    if (missed.length)
      lines.push(
        `- Above the bound: ${missed.map((r) => `${r.e.name} (${ratio(r.plan.arenaBytes, r.plan.lowerBound).toFixed(3)}${r.plan.optimal ? ', proven optimal for its schedule' : ''})`).join(', ')}. The planner keeps, among the searched, depth-first and refined orders, the one that packs to the smallest arena, and its peak is the bound shown (higher than the lowest peak when that packs worse, as in the inception graphs (docs/memory.md)). On the chosen schedule the greedy heuristics, the restarted hill climbs and the branch and bound (at most 40 blocks, and a node limit) leave the gap in the table; whether a plan at the bound exists for these schedules is not known. Plans are still proven overlap-free and never worse than TFLite Micro.`,
      );
    if (short.length)
      lines.push(
        `- Under 20 % below TFLite Micro: ${short.map((r) => `${r.e.name} (${(100 * (1 - r.plan.arenaBytes / r.plan.tflmBytes)).toFixed(2)} %)`).join(', ')}. In these networks the peak is the first stride-2 inverted residual at full resolution, where TFLite Micro holds the expanded tensor e and the depthwise output d = e/4 together (1.25 e). In-place execution (the expansion over the end of its input, the depthwise over its input) brings that to e: a saving of 20 % (1 - 1/1.25), which no placement can beat while e exists whole. Beating it needs fused expansion and depthwise kernels that never hold e (row buffers or patch-based inference, as in MCUNetV2); that is a kernel change, not a planner one.`,
      );
    lines.push('');
  }
  lines.push('### Per family', '');
  lines.push('| family | graphs | at bound | max arena/bound | mean saved vs TFLM file | min saved | schedule reordered |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const f of families) {
    const fr = rows.filter((r) => r.e.family === f);
    const saved = fr.map((r) => 1 - r.plan.arenaBytes / r.plan.tflmBytes);
    lines.push(
      `| ${f} | ${fr.length} | ${fr.filter((r) => r.plan.arenaBytes === r.plan.lowerBound).length} | ${Math.max(...fr.map((r) => ratio(r.plan.arenaBytes, r.plan.lowerBound))).toFixed(3)} | ${pct(saved.reduce((a, b) => a + b, 0) / saved.length)} | ${pct(Math.min(...saved))} | ${fr.filter((r) => r.plan.schedule.changed).length} |`,
    );
  }
  lines.push('');
  lines.push('### Per graph', '');
  lines.push(
    '| family | graph | level | buffers | steps | arena | bound | arena/bound | optimal | TFLM same | TFLM file | saved | schedule | in place | plan time |',
  );
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|');
  for (const r of rows) {
    const p = r.plan;
    lines.push(
      `| ${r.e.family} | ${r.e.name} | ${r.e.level} | ${r.buffers} | ${r.e.problem.steps.length} | ${formatBytes(p.arenaBytes)} | ${formatBytes(p.lowerBound)} | ${ratio(p.arenaBytes, p.lowerBound).toFixed(3)} | ${p.optimal ? 'yes' : `gap ≤ ${formatBytes(p.arenaBytes - p.provenBound)}`} | ${formatBytes(r.tflmSameSchedule)} | ${formatBytes(p.tflmBytes)} | ${pct(1 - p.arenaBytes / p.tflmBytes)} | ${p.schedule.changed ? `reordered (file order peak ${formatBytes(p.schedule.originalPeak)})` : 'file order'} | ${p.inPlace.pairs} | ${r.planMs.toFixed(1)} ms |`,
    );
  }
  lines.push('');
  lines.push("### Per algorithm, on each graph's chosen schedule", '');
  const names = rows[0]!.algos.map((a) => a.algorithm);
  lines.push(`| algorithm | at bound | mean arena/bound | max arena/bound | median time |`);
  lines.push('|---|---:|---:|---:|---:|');
  for (const name of names) {
    const xs = rows.map((r) => ({ r, a: r.algos.find((a) => a.algorithm === name)! }));
    const ratios = xs.map(({ r, a }) => ratio(a.arena, r.plan.lowerBound));
    lines.push(
      `| ${name} | ${xs.filter(({ r, a }) => a.arena === r.plan.lowerBound).length} of ${n} | ${(ratios.reduce((a, b) => a + b, 0) / n).toFixed(3)} | ${Math.max(...ratios).toFixed(3)} | ${median(xs.map(({ a }) => a.ms)).toFixed(3)} ms |`,
    );
  }
  lines.push('');
  lines.push('<details><summary>Every graph and algorithm: arena / bound (time)</summary>', '');
  lines.push(`| graph | ${names.join(' | ')} |`);
  lines.push(`|---|${names.map(() => '---:').join('|')}|`);
  for (const r of rows)
    lines.push(
      `| ${r.e.name} | ${r.algos.map((a) => `${ratio(a.arena, r.plan.lowerBound).toFixed(3)} (${a.ms < 1 ? a.ms.toFixed(2) : a.ms.toFixed(0)} ms)`).join(' | ')} |`,
    );
  lines.push('', '</details>');
  return lines.join('\n');
}

const USAGE = `npm run bench:planner -- [--json] [--update]
  --json     print the results as JSON instead of markdown tables
  --update   also rewrite the planner section of BENCHMARKS.md (between its bench:planner markers)`;

await runMain(() => {
  const args = benchArgs(USAGE, { json: { type: 'boolean' }, update: { type: 'boolean' } });
  const { entries, notes } = corpus();
  const rows: Row[] = [];
  for (const e of entries) {
    process.stderr.write(`${e.name}...`);
    const r = measure(e);
    process.stderr.write(
      ` ${formatBytes(r.plan.arenaBytes)} (bound ${formatBytes(r.plan.lowerBound)}, TFLM ${formatBytes(r.plan.tflmBytes)}), ${r.planMs.toFixed(1)} ms\n`,
    );
    rows.push(r);
  }
  const md = markdown(rows, notes);
  if (args.json) {
    const json = rows.map((r) => ({
      graph: r.e.name,
      arena: r.plan.arenaBytes,
      lowerBound: r.plan.lowerBound,
      tflm: r.plan.tflmBytes,
      planMs: r.planMs,
      algorithms: r.algos.map((a) => ({ name: a.algorithm, arena: a.arena, ms: a.ms })),
    }));
    process.stdout.write(`${JSON.stringify({ command: COMMAND, notes, graphs: json }, null, 2)}\n`);
  } else process.stdout.write(`${md}\n`);
  if (args.update) {
    const file = join(PROJECT_ROOT, 'BENCHMARKS.md');
    writeSection(file, 'planner', md);
    process.stderr.write(`wrote the planner section of ${file}\n`);
  }
});
