// The memory planner: no two buffers live at the same time share bytes (except an in-place output
// and the input it overwrites), the arena is never below the lower bound, the exact search and the
// schedule search agree with brute force on small problems, and scratch requests are planned.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readModel } from '../compiler/readers/native/read.ts';
import { writeModel } from '../compiler/readers/native/write.ts';
import { rng } from '../compiler/harness/inputs.ts';
import { HEURISTICS, hillClimbRestarts, linear, tflmGreedyBySize, tinyEngineFirstFit } from '../compiler/plan/algorithms.ts';
import { heightOf, lowestOffset, makeLayout, offsetsByName } from '../compiler/plan/blocks.ts';
import { branchAndBound } from '../compiler/plan/exact.ts';
import { buffersFor, computeLiveness, lowerBound, type Buffer } from '../compiler/plan/liveness.ts';
import { refineOrder } from '../compiler/plan/order_refine.ts';
import { depthFirstOrders, peakOfOrder, searchOrder } from '../compiler/plan/order_search.ts';
import { findOverlaps, planMemory, planProblem } from '../compiler/plan/planner.ts';
import { problemFromGraph, type PlanProblem } from '../compiler/plan/problem.ts';
import { runPasses } from '../compiler/passes/pipeline.ts';
import { compileGraph } from '../compiler/compile.ts';
import { depthwiseStreams, windowGeometry, type Window } from '../compiler/ops/onnx/conv.ts';
import { unravel } from '../compiler/ops/onnx/shape.ts';
import { getTarget } from '../compiler/targets.ts';
import { workDir } from './support/differential.ts';
import { memoryCases } from './support/memory_cases.ts';
import { randomModel } from '../bench/gen/random_graph.ts';
import { registerTestOps } from './support/scratch_op.ts';
import { scaled } from './support/tier.ts';

/** Random buffers over `steps` steps; some outputs overwrite an input that dies where they are born. */
function randomBuffers(r: () => number, count: number, steps: number, inPlace: boolean): Buffer[] {
  const buffers: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const first = Math.floor(r() * steps);
    const last = first + Math.floor(r() * (steps - first));
    const size = 16 * (1 + Math.floor(r() * 64));
    const b: Buffer = { name: `t${i}`, size, bytes: size, first, last };
    const src = inPlace && r() < 0.3 ? buffers.find((x) => x.last === first && x.first < first && !buffers.some((y) => y.inPlaceOf === x.name)) : undefined;
    if (src) b.inPlaceOf = src.name;
    if (src && src.bytes <= b.bytes && r() < 0.5) b.inPlaceAtEnd = true; // a growing output over its input
    buffers.push(b);
  }
  return buffers;
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

describe('memory planner', () => {
  it('never overlaps live tensors, never goes below the bound and never does worse than before, on 300 random graphs', () => {
    const dir = workDir('planner');
    let atBound = 0;
    let optimal = 0;
    let belowFileOrderBound = 0;
    const count = scaled(300);
    for (let seed = 0; seed < count; seed++) {
      const g = readModel(writeModel(join(dir, `m${seed}`), randomModel(50_000 + seed, { maxLayers: 8 })));
      runPasses(g);
      // What the planner before in-place sharing and schedule search reached: greedy by size or by
      // start on the file order, and the live-bytes bound of that order.
      const plain = makeLayout(computeLiveness(g), g.nodes.length);
      const before = Math.min(tflmGreedyBySize(plain).height, tinyEngineFirstFit(plain).height);
      const plan = planMemory(g);
      expect(findOverlaps(plan.placements)).toEqual([]);
      expect(plan.arenaBytes).toBeGreaterThanOrEqual(plan.lowerBound);
      expect(plan.arenaBytes).toBeLessThanOrEqual(before);
      expect(plan.provenBound).toBeLessThanOrEqual(plan.arenaBytes);
      for (const name of plan.inPlace.skipped) expect(plan.placements.find((q) => q.name === name)?.inPlaceOf).toBeUndefined();
      for (const p of plan.placements) {
        expect(p.offset % 16).toBe(0);
        expect(p.offset + p.size).toBeLessThanOrEqual(plan.arenaBytes);
        expect(p.size).toBeGreaterThanOrEqual(p.bytes);
      }
      if (plan.arenaBytes === plan.lowerBound) atBound++;
      if (plan.optimal) optimal++;
      if (plan.arenaBytes <= plain.lowerBound) belowFileOrderBound++;
    }
    // In-place sharing lowers the bound itself (an input and the output that overwrites it count
    // once), so "at the bound" is a stricter test than before this planner (247 of 300 then, against
    // the bound without sharing; 234 of these plans are now below that old bound). Floors against
    // regressions, at what the planner reaches today:
    expect(belowFileOrderBound).toBe(count); // at or under the old bound
    // The floors are counts over the first 300 seeds; a scaled run (test:fast) checks the rest only.
    if (count !== 300) return;
    expect(atBound).toBeGreaterThanOrEqual(247); // arena == its own bound
    // Proven minimal for the schedule (meets the bound, or search proved it). 300 before the
    // branch and bound counted an in-place handover once in its gap bound: 26 of those proofs
    // rested on a bound that was too high.
    expect(optimal).toBeGreaterThanOrEqual(274);
  });

  it('every algorithm is overlap-free on random buffer sets, in-place chains included (linear is the no-reuse reference)', () => {
    const r = rng(7);
    for (let trial = 0; trial < 500; trial++) {
      const steps = 1 + Math.floor(r() * 20);
      const buffers = randomBuffers(r, 1 + Math.floor(r() * 25), steps, trial % 2 === 1);
      const L = makeLayout(buffers, steps);
      const lb = lowerBound(buffers, steps).bytes;
      expect(L.lowerBound).toBe(lb);
      const restarts = { name: 'hill-climb-restarts', run: (l: typeof L) => hillClimbRestarts(l, 100_000) };
      for (const { name, run } of [...HEURISTICS, restarts, { name: 'linear', run: linear }]) {
        const res = run(L);
        const offsets = offsetsByName(L, res.offsets);
        const placements = buffers.map((b) => ({ ...b, offset: offsets.get(b.name)! }));
        expect(findOverlaps(placements), name).toEqual([]);
        expect(res.height, name).toBeGreaterThanOrEqual(lb);
        expect(res.height, name).toBe(heightOf(L, res.offsets));
        if (name === 'linear') expect(res.height).toBe(L.blocks.reduce((a, b) => a + b.size, 0));
      }
    }
  });

  it('branch and bound finds the optimum that brute force over all placement orders finds', () => {
    const r = rng(11);
    let improved = 0;
    for (let trial = 0; trial < 150; trial++) {
      const steps = 2 + Math.floor(r() * 6);
      const buffers = randomBuffers(r, 3 + Math.floor(r() * 4), steps, trial % 3 === 0);
      const L = makeLayout(buffers, steps);
      let brute = Infinity;
      for (const order of permutations(L.n)) {
        const offsets = new Int32Array(L.n).fill(-1);
        for (const b of order) offsets[b] = lowestOffset(L, b, offsets);
        brute = Math.min(brute, heightOf(L, offsets));
      }
      const start = tflmGreedyBySize(L);
      const exact = branchAndBound(L, start, { nodeLimit: 10_000_000, timeLimitMs: 60_000 });
      expect(exact.optimal).toBe(true);
      expect(exact.height).toBe(brute);
      const placements = buffers.map((b) => ({ ...b, offset: offsetsByName(L, exact.offsets).get(b.name)! }));
      expect(findOverlaps(placements)).toEqual([]);
      if (exact.height < start.height) improved++;
      // Cut at `below`: the same optimum when it lies under it; else the incumbent, not proven optimal.
      const cutAbove = branchAndBound(L, start, { nodeLimit: 10_000_000, timeLimitMs: 60_000, below: brute + 16 });
      expect(cutAbove.height).toBe(brute);
      expect(cutAbove.optimal).toBe(true);
      const cutAt = branchAndBound(L, start, { nodeLimit: 10_000_000, timeLimitMs: 60_000, below: brute });
      expect(cutAt.height).toBe(start.height);
      expect(cutAt.optimal).toBe(start.height === brute);
      expect(cutAt.bound).toBeLessThanOrEqual(brute);
      expect(heightOf(L, cutAt.offsets)).toBe(start.height);
    }
    expect(improved).toBeGreaterThan(0); // the search does more than confirm the greedy plan
  });

  it('branch and bound counts an in-place handover once in its bound, so it does not prove a worse plan optimal', () => {
    // a is overwritten in place by b at step 1, where c is live too: 64 + 32 bytes at most.
    const buffers: Buffer[] = [
      { name: 'a', size: 64, bytes: 64, first: 0, last: 1 },
      { name: 'b', size: 64, bytes: 64, first: 1, last: 2, inPlaceOf: 'a' },
      { name: 'c', size: 32, bytes: 32, first: 1, last: 1 },
    ];
    const L = makeLayout(buffers, 3);
    expect(L.n).toBe(2);
    expect(L.lowerBound).toBe(96);
    const chain = L.blocks.find((b) => b.name === 'a')!.id;
    const offsets = new Int32Array(2);
    offsets[chain] = 0;
    offsets[1 - chain] = 96; // a valid plan, 32 bytes above the bound
    const exact = branchAndBound(L, { offsets, height: 128 });
    expect(exact.height).toBe(96);
    expect(exact.optimal).toBe(true);
  });

  it('schedule search finds the least peak that brute force over all topological orders finds', () => {
    const r = rng(5);
    let better = 0;
    for (let trial = 0; trial < 80; trial++) {
      const p = randomProblem(r, 3 + Math.floor(r() * 5));
      const res = searchOrder(p, { inPlace: true });
      let brute = Infinity;
      for (const order of permutations(p.steps.length)) if (isTopological(p, order)) brute = Math.min(brute, peakOfOrder(p, order, true));
      expect(res.exact).toBe(true);
      expect(res.peak).toBe(brute);
      expect(isTopological(p, res.order)).toBe(true);
      expect(peakOfOrder(p, res.order, true)).toBe(res.peak);
      if (res.peak < res.originalPeak) better++;
    }
    expect(better).toBeGreaterThan(0);
  });

  it('every order the schedule search proposes, depth-first ones included, runs each step once, in a topological order', () => {
    const r = rng(11);
    for (let trial = 0; trial < 60; trial++) {
      const p = randomProblem(r, 4 + Math.floor(r() * 30));
      const res = searchOrder(p, { inPlace: true });
      for (const c of res.candidates) {
        expect([...c.order].sort((a, b) => a - b)).toEqual(p.steps.map((_, i) => i));
        expect(isTopological(p, c.order)).toBe(true);
        expect(peakOfOrder(p, c.order, true)).toBe(c.peak);
      }
    }
  });

  it('a depth-first order runs each branch as late as its reader allows: experts one after another', () => {
    // x feeds E experts (gather, up, down) whose results a chain of scatters adds up, listed breadth
    // first as an exporter writes them; depth first finishes one expert before gathering the next.
    const E = 4;
    const tensors = new Map<string, number>([['x', 64]]);
    const steps: PlanProblem['steps'] = [{ name: 'in', reads: [], writes: ['x'], scratch: 0, inPlace: [] }];
    const step = (name: string, reads: string[], out: string, bytes: number) => {
      tensors.set(out, bytes);
      steps.push({ name, reads, writes: [out], scratch: 0, inPlace: [] });
    };
    for (let e = 0; e < E; e++) step(`gather${e}`, ['x'], `g${e}`, 48);
    for (let e = 0; e < E; e++) step(`up${e}`, [`g${e}`], `u${e}`, 256);
    for (let e = 0; e < E; e++) step(`down${e}`, [`u${e}`], `d${e}`, 32);
    for (let e = 0; e < E; e++) step(`scatter${e}`, [e ? `acc${e - 1}` : 'x', `d${e}`], `acc${e}`, 64);
    const p: PlanProblem = { name: 'experts', tensors, steps };
    const [forward] = depthFirstOrders(p.steps.map((s) => s.reads.map((t) => p.steps.findIndex((x) => x.writes.includes(t))).filter((d) => d >= 0)));
    expect(forward!.map((i) => p.steps[i]!.name)).toEqual([
      'in',
      'gather0',
      'up0',
      'down0',
      'scatter0',
      'gather1',
      'up1',
      'down1',
      'scatter1',
      'gather2',
      'up2',
      'down2',
      'scatter2',
      'gather3',
      'up3',
      'down3',
      'scatter3',
    ]);
    expect(peakOfOrder(p, forward!, true)).toBeLessThan(
      peakOfOrder(
        p,
        p.steps.map((_, i) => i),
        true,
      ),
    );
    const plan = planProblem(p);
    expect(plan.arenaBytes).toBe(plan.lowerBound);
    expect(plan.arenaBytes).toBeLessThanOrEqual(peakOfOrder(p, forward!, true));
    expect(findOverlaps(plan.placements)).toEqual([]);
  });

  it("Liu's order runs first the branch that peaks highest above what it leaves behind", () => {
    // Three two-step branches from x into a join: (first, second) step output sizes, in units of 16.
    const branches: [string, number, number][] = [
      ['a', 10, 20],
      ['b', 90, 10],
      ['c', 45, 5],
    ];
    const tensors = new Map<string, number>([['x', 16]]);
    const steps: PlanProblem['steps'] = [{ name: 'in', reads: [], writes: ['x'], scratch: 0, inPlace: [] }];
    for (const [b, s1, s2] of branches) {
      tensors.set(`${b}1`, 16 * s1).set(`${b}2`, 16 * s2);
      steps.push({ name: `${b}1`, reads: ['x'], writes: [`${b}1`], scratch: 0, inPlace: [] });
      steps.push({ name: `${b}2`, reads: [`${b}1`], writes: [`${b}2`], scratch: 0, inPlace: [] });
    }
    steps.push({ name: 'join', reads: ['a2', 'b2', 'c2'], writes: ['y'], scratch: 0, inPlace: [] });
    const p: PlanProblem = { name: 'branches', tensors, steps };
    const deps = steps.map((s) => s.reads.map((t) => steps.findIndex((x) => x.writes.includes(t))).filter((d) => d >= 0));
    const out = steps.map((s) => s.writes.reduce((a, w) => a + (tensors.get(w) ?? 0), 0));
    const orders = depthFirstOrders(deps, out, out);
    expect(orders.length).toBe(3);
    const names = (o: number[]) => o.map((i) => steps[i]!.name).join(' ');
    expect(names(orders[0]!)).toBe('in a1 a2 b1 b2 c1 c2 join');
    expect(names(orders[1]!)).toBe('in c1 c2 b1 b2 a1 a2 join');
    expect(names(orders[2]!)).toBe('in b1 b2 c1 c2 a1 a2 join'); // needs above results: b 90, c 45, a 10
    const peaks = orders.map((o) => peakOfOrder(p, o, true));
    expect(peaks[2]).toBeLessThan(Math.min(peaks[0]!, peaks[1]!));
  });

  it('refining an order by its packed arena keeps it topological and never makes it worse', () => {
    const r = rng(9);
    let better = 0;
    for (let trial = 0; trial < 40; trial++) {
      const p = randomProblem(r, 8 + Math.floor(r() * 10));
      const arenaOf = (order: number[]) => tflmGreedyBySize(makeLayout(buffersFor(p, order, { inPlace: true }), order.length)).height;
      const start = p.steps.map((_, i) => i);
      const res = refineOrder(p, start, arenaOf);
      expect(isTopological(p, res.order)).toBe(true);
      expect([...res.order].sort((a, b) => a - b)).toEqual(start);
      expect(res.arena).toBe(arenaOf(res.order));
      expect(res.arena).toBeLessThanOrEqual(arenaOf(start));
      if (res.arena < arenaOf(start)) better++;
    }
    expect(better).toBeGreaterThan(0);
  });

  it('reorders parallel branches so that the big ones do not live together', () => {
    // Two branches from x: the file runs both wide layers first, then both narrow ones.
    const p: PlanProblem = {
      name: 'branches',
      tensors: new Map([
        ['x', 64],
        ['a1', 1024],
        ['b1', 1024],
        ['a2', 64],
        ['b2', 64],
        ['y', 64],
      ]),
      steps: [
        { name: 'in', reads: [], writes: ['x'], scratch: 0, inPlace: [] },
        { name: 'a1', reads: ['x'], writes: ['a1'], scratch: 0, inPlace: [] },
        { name: 'b1', reads: ['x'], writes: ['b1'], scratch: 0, inPlace: [] },
        { name: 'a2', reads: ['a1'], writes: ['a2'], scratch: 0, inPlace: [] },
        { name: 'b2', reads: ['b1'], writes: ['b2'], scratch: 0, inPlace: [] },
        { name: 'add', reads: ['a2', 'b2'], writes: ['y'], scratch: 0, inPlace: [] },
      ],
    };
    const plan = planProblem(p);
    expect(plan.schedule.originalPeak).toBe(64 + 1024 + 1024);
    expect(plan.schedule.changed).toBe(true);
    expect(plan.schedule.order).toEqual([0, 1, 3, 2, 4, 5]);
    expect(plan.arenaBytes).toBe(64 + 1024 + 64);
    expect(plan.tflmBytes).toBe(64 + 1024 + 1024);
  });

  it('plans kernel scratch as a buffer live only during its step, and in-place outputs at their input', () => {
    const p: PlanProblem = {
      name: 'scratch',
      tensors: new Map([
        ['a', 100],
        ['b', 100],
        ['c', 40],
      ]),
      steps: [
        { name: 's0', reads: ['x'], writes: ['a'], scratch: 0, inPlace: [] },
        { name: 's1', reads: ['a'], writes: ['b'], scratch: 0, inPlace: [{ input: 'a', output: 'b' }] },
        { name: 's2', reads: ['b'], writes: ['c'], scratch: 300, inPlace: [] },
        { name: 's3', reads: ['c'], writes: ['y'], scratch: 0, inPlace: [] },
      ],
    };
    const plan = planProblem(p);
    const by = new Map(plan.placements.map((q) => [q.name, q]));
    expect(by.get('s2:scratch')).toMatchObject({ kind: 'scratch', first: 2, last: 2, size: 304, bytes: 300 });
    expect(by.get('b')).toMatchObject({ inPlaceOf: 'a', offset: by.get('a')!.offset });
    // Step 2 holds b (112), c (48) and the scratch (304): the bound, and the plan meets it.
    expect(plan.lowerBound).toBe(112 + 48 + 304);
    expect(plan.arenaBytes).toBe(plan.lowerBound);
    expect(findOverlaps(plan.placements)).toEqual([]);
    // Without in-place sharing, a and b are two buffers; so they are when b's link is skipped.
    expect(buffersFor(p, [0, 1, 2, 3], { inPlace: false }).find((b) => b.name === 'b')!.inPlaceOf).toBeUndefined();
    expect(buffersFor(p, [0, 1, 2, 3], { inPlace: 'first', skip: new Set(['b']) }).find((b) => b.name === 'b')!.inPlaceOf).toBeUndefined();
    expect(plan.inPlace.skipped).toEqual([]); // the plan meets its bound: no link is dropped
  });

  it('liveness runs from the producing step to the last reading step, scales included', () => {
    const g = readModel(join(import.meta.dirname, '../examples/digits-mlp'));
    const live = new Map(computeLiveness(g).map((b) => [b.name, b]));
    // xq.scale is written by quant_x (step 0) and read by fc1 (step 1) through xq's quant.
    expect(live.get('xq.scale')).toMatchObject({ first: 0, last: 1 });
    // a1 feeds quant_a1 and, as the residual, the Add at step 5.
    expect(live.get('a1')).toMatchObject({ first: 2, last: 5 });
    // Graph outputs live in the caller's buffers, not the arena.
    expect(live.has('probs')).toBe(false);
    // In-place candidates come from the ops: Relu, Add (non-broadcast operands), QuantizeInt8, Softmax.
    const steps = new Map(problemFromGraph(g).steps.map((s) => [s.name, s]));
    expect(steps.get('relu1')!.inPlace).toEqual([{ input: 'h1', output: 'a1' }]);
  });
});

function isTopological(p: PlanProblem, order: readonly number[]): boolean {
  const done = new Set<string>();
  for (const i of order) {
    const s = p.steps[i]!;
    if (s.reads.some((r) => p.tensors.has(r) && !done.has(r))) return false;
    for (const w of s.writes) done.add(w);
  }
  return true;
}

/** A random DAG of steps: each reads one or two earlier tensors, some may work in place. */
function randomProblem(r: () => number, n: number): PlanProblem {
  const tensors = new Map<string, number>();
  const steps: PlanProblem['steps'] = [];
  for (let i = 0; i < n; i++) {
    const out = `t${i}`;
    tensors.set(out, 16 * (1 + Math.floor(r() * 20)));
    const reads = i === 0 ? [] : [...new Set([`t${Math.floor(r() * i)}`, ...(r() < 0.4 ? [`t${Math.floor(r() * i)}`] : [])])];
    const inPlace = reads.length && r() < 0.4 ? [{ input: reads[0]!, output: out }] : [];
    steps.push({ name: `s${i}`, reads, writes: [out], scratch: r() < 0.2 ? 16 * Math.floor(r() * 10) : 0, inPlace });
  }
  return { name: 'random', tensors, steps };
}

describe('in-place sharing and scratch in compiled models', () => {
  registerTestOps();
  for (const { spec, inPlace } of memoryCases()) {
    it(`${spec.name}: shares ${inPlace.length ? inPlace.map(([o, i]) => `${o} over ${i}`).join(', ') : 'nothing'}, and the C says so`, () => {
      const g = readModel(writeModel(join(workDir('memory-cases'), spec.name), spec));
      const c = compileGraph(g, { target: getTarget('host'), verify: true });
      const shared = c.plan.placements.filter((p) => p.inPlaceOf).map((p) => [p.name, p.inPlaceOf]);
      expect(shared).toEqual(expect.arrayContaining(inPlace));
      expect(findOverlaps(c.plan.placements)).toEqual([]);
      for (const [o, i] of inPlace) expect(c.emitted.source).toMatch(new RegExp(`${o}\\s.*arena\\[\\d+, \\+\\d+\\) in place of ${i}`));
      if (spec.name === 'inplace-depthwise') {
        // Only the padded stride-1 layer needs its plane of scratch (5 x 5 floats).
        expect(c.plan.placements.filter((p) => p.kind === 'scratch').map((p) => [p.name, p.bytes])).toEqual([['dw2:scratch', 100]]);
        expect(c.emitted.source).toMatch(/tn_conv_f32_depthwise\(/);
      }
      if (spec.name === 'scratch') {
        const s = c.plan.placements.filter((p) => p.kind === 'scratch');
        expect(s.map((p) => [p.name, p.first, p.last, p.bytes])).toEqual([
          ['rev:scratch', 1, 1, 48],
          ['rev2:scratch', 2, 2, 48],
        ]);
        expect(c.emitted.source).toMatch(/static void node_rev\(const float \*X, float \*Y, uint8_t \*scratch\)/);
        expect(c.emitted.source).toMatch(/uint8_t \*rev_scratch = arena \+ \d+;/);
        expect(c.emitted.source).toMatch(/node_rev\(\w+, \w+, rev_scratch\);/);
      }
    });
  }
});

describe('depthwise Conv streaming in place (no scratch)', () => {
  // A simulation of tn_conv_f32 on one buffer: planes in order, outputs row-major, each written at
  // p * outPlane + o after its window is read. Streaming is safe when no read sees a value some
  // earlier output wrote there.
  const clobbered = (input: number[], win: Window, planes: number): boolean => {
    const inPlane = input.reduce((a, b) => a * b, 1);
    const outPlane = win.out.reduce((a, b) => a * b, 1);
    const written = new Uint8Array(planes * Math.max(inPlane, outPlane));
    const kernelSize = win.kernel.reduce((a, b) => a * b, 1);
    for (let p = 0; p < planes; p++)
      for (let o = 0; o < outPlane; o++) {
        const oi = unravel(o, win.out);
        for (let k = 0; k < kernelSize; k++) {
          const ki = unravel(k, win.kernel);
          let off = 0;
          let inside = true;
          for (let a = 0; a < input.length; a++) {
            const pos = oi[a]! * win.strides[a]! - win.padBegin[a]! + ki[a]! * win.dilations[a]!;
            if (pos < 0 || pos >= input[a]!) inside = false;
            off = off * input[a]! + pos;
          }
          if (inside && written[p * inPlane + off]) return true;
        }
        written[p * outPlane + o] = 1;
      }
    return false;
  };

  it('agrees with a simulation of the kernel on random 1-D and 2-D geometries', () => {
    const r = rng(77);
    let streams = 0;
    for (let i = 0; i < 400; i++) {
      const rank = 1 + Math.floor(r() * 2);
      const input = Array.from({ length: rank }, () => 1 + Math.floor(r() * 9));
      const kernel = input.map((d) => 1 + Math.floor(r() * Math.min(d, 4)));
      const attrs = {
        strides: input.map(() => 1 + Math.floor(r() * 3)),
        dilations: input.map(() => (r() < 0.2 ? 2 : 1)),
        pads: [...input, ...input].map(() => Math.floor(r() * 3)),
      };
      const win = windowGeometry(input, kernel, attrs, false);
      if (typeof win === 'string') continue;
      const planes = 1 + Math.floor(r() * 3);
      const safe = win.out.reduce((a, b) => a * b, 1) <= input.reduce((a, b) => a * b, 1) && !clobbered(input, win, planes);
      // The check is exact for plane 0 and conservative beyond: it may refuse, never wrongly allow.
      if (depthwiseStreams(input, win)) {
        expect(safe, JSON.stringify({ input, kernel, attrs, planes })).toBe(true);
        streams++;
      }
    }
    expect(streams).toBeGreaterThan(40);
  });

  it('lets a 3x3 stride-2 padded window and an unpadded one stream, but not a padded stride-1 one', () => {
    const geo = (input: number[], k: number, stride: number, pad: number) =>
      windowGeometry(input, [k, k], { strides: [stride, stride], pads: [pad, pad, pad, pad] }, false) as Window;
    expect(depthwiseStreams([112, 112], geo([112, 112], 3, 2, 1))).toBe(true);
    expect(depthwiseStreams([9, 9], geo([9, 9], 3, 1, 0))).toBe(true);
    expect(depthwiseStreams([56, 56], geo([56, 56], 3, 1, 1))).toBe(false);
  });
});
