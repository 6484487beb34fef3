// `tritc test` as a user's CI runs it: a manifest of two models on two targets (the host and a
// Cortex-M4 under QEMU) plus an ONNX model with TensorProto inputs and goldens, goldens written from
// the interpreter, a deliberately wrong golden named to the element, budgets exceeded and named,
// shards that cover every case once, their JUnit files merged, and --bisect; and the per-layer
// comparison finding the layer a fault was put into.

import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { compileGraph } from '../compiler/compile.ts';
import { randomRuns } from '../compiler/harness/inputs.ts';
import { bisectLayers } from '../compiler/harness/layers.ts';
import { runCompiled } from '../compiler/harness/run_compiled.ts';
import { readNpz, writeNpz } from '../compiler/io/npz.ts';
import { writeNpy } from '../compiler/io/npy.ts';
import { loadModel } from '../compiler/readers/index.ts';
import { getTarget } from '../compiler/targets.ts';
import { requireQemu } from '../compiler/toolchain/qemu.ts';
import { requireZig } from '../compiler/toolchain/zig.ts';
import { loadDigits, SHARED_DATA } from '../examples/data.ts';
import { workDir } from './support/differential.ts';

const EXAMPLE = join(import.meta.dirname, '../examples/digits-mlp');
const NODE_TESTS = join(SHARED_DATA, 'onnx_backend_tests', 'node');

async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

interface CaseJson {
  id: string;
  status: string;
  mismatch: { output: string; run: number; index: number; at: number[] } | null;
  flashBytes: number | null;
  instructions: number | null;
  accuracy: number | null;
  problems: string[];
  bisect: string | null;
}

async function runJson(...argv: string[]): Promise<{ code: number; cases: CaseJson[] }> {
  const r = await tritc('test', ...argv, '--json');
  if (!r.out.trim().startsWith('{')) throw new Error(`tritc test ${argv.join(' ')} printed no JSON:\n${r.out}${r.err}`);
  return { code: r.code, cases: JSON.parse(r.out).cases };
}

/** A user's repository: the manifest, inputs, a labelled set, and two ONNX node tests (copied: --update writes into them). */
function project(): { dir: string; manifest: string; write: (m: unknown) => void } {
  const dir = workDir('user-tests');
  cpSync(join(NODE_TESTS, 'test_relu'), join(dir, 'relu'), { recursive: true });
  cpSync(join(NODE_TESTS, 'test_add'), join(dir, 'add'), { recursive: true });
  mkdirSync(join(dir, 'data'));
  const { images, labels } = loadDigits();
  // The digits the example was not trained on (rows 1500..1796), pixels / 16, as its README says.
  const x = Float32Array.from(images.subarray(1500 * 64), (v) => v / 16);
  writeFileSync(join(dir, 'data', 'labelled-x.npy'), writeNpy({ dtype: 'float32', shape: [297, 1, 64], data: x }));
  writeFileSync(join(dir, 'data', 'labelled-y.npy'), writeNpy({ dtype: 'int32', shape: [297], data: labels.slice(1500) }));
  writeFileSync(join(dir, 'data', 'x.npy'), writeNpy({ dtype: 'float32', shape: [4, 1, 64], data: x.slice(0, 4 * 64) }));
  const manifest = join(dir, 'tritc-test.json');
  const write = (m: unknown) => writeFileSync(manifest, JSON.stringify(m, null, 2));
  return { dir, manifest, write };
}

const digits = (budgets: unknown) => ({
  name: 'digits',
  model: EXAMPLE,
  inputs: 'data/x.npy',
  labelled: { inputs: 'data/labelled-x.npy', labels: 'data/labelled-y.npy', output: 'probs' },
  budgets,
});
const relu = { name: 'relu', model: 'relu/model.onnx', inputs: 'relu/test_data_set_*' };
const add = {
  name: 'add',
  model: 'add/model.onnx',
  targets: ['host'],
  inputs: ['add/test_data_set_0/input_0.pb', 'add/test_data_set_0/input_1.pb'],
  golden: ['golden/add-sum.pb'],
};

describe('tritc test', () => {
  it('writes goldens, runs every model on every target bit for bit, names differences and exceeded budgets, shards and merges', async () => {
    // Zig and QEMU first: without them, an error that says how to install them.
    requireZig();
    requireQemu(getTarget('cortex-m4'));
    const { dir, manifest, write } = project();
    write({ targets: ['host', 'cortex-m4'], models: [digits({ '*': { accuracy: 0.9 }, 'cortex-m4': { flash: '32K', instructions: 100000 } }), relu, add] });

    // Before --update: a missing golden is named; ONNX's own reference outputs (TensorProto) are goldens already.
    const before = await runJson(manifest, '--only', 'digits@host,relu@*');
    expect(before.code).toBe(1);
    expect(before.cases.map((c) => [c.id, c.status])).toEqual([
      ['digits@host', 'error'],
      ['relu@host', 'pass'],
      ['relu@cortex-m4', 'pass'],
    ]);
    expect(before.cases[0]!.problems).toEqual([
      `${join(dir, 'golden', 'digits.npz')}: no golden outputs here yet: write them with tritc test --update (docs/testing.md)`,
    ]);

    const up = await tritc('test', manifest, '--update');
    expect(up.code).toBe(0);
    expect(up.out).toContain(`digits: 4 runs -> ${join(dir, 'golden', 'digits.npz')}`);
    expect(up.out).toContain(`relu: 1 run -> ${join(dir, 'relu', 'test_data_set_0', 'output_0.pb')}`);
    expect(existsSync(join(dir, 'golden', 'add-sum.pb'))).toBe(true);

    // Every case passes, with what it measured, in the table and the JUnit report.
    const junit = join(dir, 'report.xml');
    const all = await tritc('test', manifest, '--junit', junit);
    expect(all.code, all.out + all.err).toBe(0);
    expect(all.out).toMatch(/^digits@cortex-m4\s+pass\s+\d+\.\d KiB\s+\d+\.\d KiB\s+[\d,]+\s+91\.92 %/m);
    expect(all.out).toMatch(/^add@host\s+pass/m);
    expect(all.out).toContain('5 of 5 passed');
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites name="tritc test" tests="5" failures="0" errors="0"/);
    expect(xml).toMatch(
      /<testcase classname="digits" name="digits@cortex-m4" time="[\d.]+">\s*<system-out>flash [\d.]+ KiB, RAM .*, [\d,]+ instructions\/inference, accuracy 91\.92 %<\/system-out>/,
    );

    // A wrong golden (one element of run 1) and budgets that no longer hold.
    const gold = join(dir, 'golden', 'digits.npz');
    const arrays = readNpz(new Uint8Array(readFileSync(gold)), gold);
    (arrays.get('probs')!.data as Float32Array)[1 * 10 + 5] += 0.5; // probs is [4, 1, 10]: run 1, element 5
    writeFileSync(gold, writeNpz(arrays));
    write({ targets: ['host', 'cortex-m4'], models: [digits({ host: { accuracy: 0.95 }, 'cortex-m4': { flash: '32K', instructions: 1000 } }), relu, add] });

    // Two CI jobs: every case exactly once between them.
    const shards = [1, 2].map((k) => join(dir, `shard-${k}.xml`));
    const runs = await Promise.all([1, 2].map((k) => runJson(manifest, '--shard', `${k}/2`, '--junit', shards[k - 1]!)));
    const ids = runs.flatMap((r) => r.cases.map((c) => c.id));
    expect([...ids].sort()).toEqual(['add@host', 'digits@cortex-m4', 'digits@host', 'relu@cortex-m4', 'relu@host']);
    const byId = new Map(runs.flatMap((r) => r.cases).map((c) => [c.id, c]));
    for (const id of ['digits@host', 'digits@cortex-m4']) {
      const c = byId.get(id)!;
      expect(c.status).toBe('fail');
      expect(c.mismatch).toMatchObject({ output: 'probs', run: 1, index: 5, at: [0, 5] });
      expect(c.problems[0]).toMatch(
        /^3\/4 runs bit-identical; first difference: output "probs" run 1 element 5 \[0, 5\]: (host|cortex-m4) gave [\d.e-]+, the golden [\d.e-]+ \(bits 0x[0-9a-f]{8} vs 0x[0-9a-f]{8}\)$/,
      );
    }
    expect(byId.get('digits@host')!.problems[1]).toBe(`accuracy 91.92 % is below the budget of 95.00 % (${manifest}: models[0].budgets.host.accuracy)`);
    expect(byId.get('digits@cortex-m4')!.problems[1]).toMatch(
      new RegExp(
        `^[\\d,]+ instructions per inference exceed the budget of 1,000 \\(${manifest.replace(/[.]/g, '\\.')}: models\\[0\\]\\.budgets\\.cortex-m4\\.instructions\\)$`,
      ),
    );
    for (const id of ['relu@host', 'relu@cortex-m4', 'add@host']) expect(byId.get(id)!.status, id).toBe('pass');

    // The merge job: one report of every case; it fails because cases failed.
    const merged = await tritc('test', '--merge', ...shards, '-o', join(dir, 'all.xml'));
    expect(merged.out.trim()).toBe(`merged 2 files into ${join(dir, 'all.xml')}: 5 cases, 2 failed, 0 errors`);
    expect(merged.code).toBe(1);
    expect(readFileSync(join(dir, 'all.xml'), 'utf8').match(/<testcase /g)).toHaveLength(5);

    // --bisect: the target agrees with the interpreter at every layer, so the golden is what moved.
    const bis = await tritc('test', manifest, '--only', 'digits@cortex-m4', '--bisect');
    expect(bis.code).toBe(1);
    expect(bis.out).toMatch(
      /^digits@cortex-m4: bisect: every layer \(14 outputs\) agrees with the interpreter, which now gives output "probs" element 5 = [\d.e-]+, the golden [\d.e-]+: the model or the compiler changed since the goldens were written \(tritc test --update if that is intended\)$/m,
    );
  });

  it('the per-layer comparison names the first layer whose output differs (a fault put into fc2)', async () => {
    const target = getTarget('cortex-m4');
    const compiled = compileGraph(loadModel(EXAMPLE), { target, verify: true, dumpLayers: true });
    const call = /^( {2}node_fc2\(.*\); \/\* BinaryLinear "fc2" \*\/)$/m;
    expect(compiled.emitted.source).toMatch(call);
    compiled.emitted.source = compiled.emitted.source.replace(call, '$1 h2[5] += 1.0f;');
    const runs = randomRuns(compiled.graph, 1, 5);
    const m = await runCompiled(compiled, runs, workDir('bisect'), { dumpLayers: true });
    const res = bisectLayers(compiled.graph, runs[0]!, m.layers!);
    expect(res.first).toMatchObject({ step: 4, node: 'fc2', op: 'BinaryLinear', tensor: 'h2', at: [0, 5] });
    expect(res.first!.mismatch.got).toBe(Math.fround(res.first!.mismatch.want + 1));
    expect(res.compared).toBe(7); // quant_x's two outputs, fc1, relu1, quant_a1's two, then fc2
  });
});
