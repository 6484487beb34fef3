// The parts of `tritc test` that need no compiler or emulator: the manifest's checks (one line per
// mistake, naming the field), the shards (stable, every case exactly once), JUnit reports written,
// read back and merged, and the progress line. test/user-tests.test.ts runs the whole command.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { progressLine, terminalProgress } from '../compiler/cli/progress.ts';
import { testCommand } from '../compiler/cli/test.ts';
import { TritcError } from '../compiler/diagnostics.ts';
import { f32Text } from '../compiler/harness/compare.ts';
import { allCases, parseShard, selectShard, shardOf, type TestCase } from '../compiler/regression/cases.ts';
import { junitReport, mergeJunit } from '../compiler/regression/junit.ts';
import { expandGlob, readManifest } from '../compiler/regression/manifest.ts';
import { inputRuns, readGolden } from '../compiler/regression/golden.ts';
import { makeNdArray, type NdArray } from '../compiler/io/ndarray.ts';
import { writeNpy } from '../compiler/io/npy.ts';
import { writeNpz } from '../compiler/io/npz.ts';
import { loadModel } from '../compiler/readers/index.ts';
import { emptyResult, type CaseResult } from '../compiler/regression/run_case.ts';
import { parseXml } from '../compiler/util/xml.ts';
import { workDir } from './support/differential.ts';

const EXAMPLE = join(import.meta.dirname, '../examples/digits-mlp');
const root = workDir('user-tests-units');

function manifest(name: string, body: unknown): string {
  const p = join(root, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
}

function errors(path: string): string[] {
  try {
    readManifest(path);
  } catch (e) {
    if (e instanceof TritcError) return e.diagnostics.map((d) => `${d.where}: ${d.message}`);
    throw e;
  }
  return [];
}

async function tritc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), progress: () => {}, endProgress: () => {} };
  const code = await main(argv, io);
  return { code, out, err };
}

const fakeCase = (id: string): TestCase => ({ id, target: id.split('@')[1]!, model: { name: id.split('@')[0]! } as TestCase['model'] });

describe('the tritc test manifest', () => {
  it('reads models, targets, inputs, goldens and budgets, with paths relative to the manifest', () => {
    mkdirSync(join(root, 'data'), { recursive: true });
    writeFileSync(join(root, 'data', 'x.npy'), '');
    const m = readManifest(
      manifest('ok.json', {
        targets: ['host', 'cortex-m4'],
        timeout: 120,
        models: [
          {
            name: 'digits',
            model: EXAMPLE,
            inputs: 'data/x.npy',
            options: { kernel: 't5', 'max-scratch': '4K', 'input-shape': ['x=64'], batch: 1 },
            budgets: { '*': { flash: '32K' }, 'cortex-m4': { ram: 8192, instructions: 40000 } },
          },
          { model: EXAMPLE, targets: ['rv32imc'], inputs: { random: 2, seed: 9 } },
        ],
      }),
    );
    expect(m.timeoutSeconds).toBe(120);
    expect(m.models.map((x) => [x.name, x.targets])).toEqual([
      ['digits', ['host', 'cortex-m4']],
      ['digits-mlp', ['rv32imc']],
    ]);
    expect(m.models[0]!.inputs).toEqual({ kind: 'files', files: [join(root, 'data', 'x.npy')] });
    expect(m.models[0]!.golden).toEqual({ kind: 'files', files: [join(root, 'golden', 'digits.npz')] });
    expect(m.models[0]!.options).toEqual({ kernel: 't5', 'max-scratch': '4K', 'input-shape': ['x=64'], batch: '1' });
    expect(m.models[0]!.budgets.get('*')).toEqual({ flash: 32768 });
    expect(m.models[1]!.inputs).toEqual({ kind: 'random', count: 2, seed: 9 });
    expect(allCases(m).map((c) => c.id)).toEqual(['digits@host', 'digits@cortex-m4', 'digits-mlp@rv32imc']);
  });

  it('names the manifest and the field of every mistake, all at once', () => {
    const p = manifest('bad.json', {
      targets: ['host', 'pdp-11'],
      colour: 'blue',
      models: [
        {
          model: EXAMPLE,
          inputs: 'missing.npy',
          options: { 'no-lowbit': 'yes', speed: 3, 'input-shape': [1, 64] },
          budgets: { host: { flash: 'big', instructions: 100, accuracy: 0.9 }, 'cortex-m4': {} },
        },
        { name: 'digits-mlp', model: 'nowhere/model.json' },
      ],
    });
    const e = errors(p);
    const want = [
      `${p}: colour: unknown key`,
      `${p}: targets[1]: unknown target "pdp-11"`,
      `${p}: models[0].options.no-lowbit: expected true or false`,
      `${p}: models[0].options.speed: not an option a test can set`,
      `${p}: models[0].options.input-shape: expected a string or a list of strings`,
      `${p}: models[0].inputs: ${join(root, 'missing.npy')} not found`,
      `${p}: models[0].budgets.host.flash: expected bytes`,
      `${p}: models[0].budgets.host.accuracy: an accuracy budget needs a labelled set`,
      `${p}: models[0].budgets.host.instructions: host cannot count instructions`,
      `${p}: models[0].budgets.cortex-m4: "cortex-m4" is not one of this model's targets (host, pdp-11)`,
      `${p}: models[1].model: ${join(root, 'nowhere/model.json')} not found`,
      `${p}: models[1].name: "digits-mlp" is also the name of models[0]`,
    ];
    for (const w of want)
      expect(
        e.some((line) => line.startsWith(w)),
        `${w}\nin:\n${e.join('\n')}`,
      ).toBe(true);
    expect(e).toHaveLength(want.length);
  });

  it('a manifest that is missing or not JSON is one line', async () => {
    const missing = await tritc('test', join(root, 'none.json'));
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe(
      `error: ${join(root, 'none.json')}: cannot read the test manifest: not found (tritc test reads tritc-test.json, or the manifest you name; docs/testing.md)`,
    );
    const broken = await tritc('test', manifest('broken.json', '{"models": ['));
    expect(broken.err.trim()).toMatch(/^error: .*broken\.json: not valid JSON: /);
    expect((await tritc('test', '--shard', '3/2')).err.trim()).toBe('error: --shard: expects k/n with 1 <= k <= n (e.g. 2/4), got "3/2"');
  });

  it('globs pick test data set folders in order', () => {
    for (const d of ['test_data_set_1', 'test_data_set_0', 'other']) mkdirSync(join(root, 'sets', d), { recursive: true });
    expect(expandGlob(join(root, 'sets', 'test_data_set_*'))).toEqual([join(root, 'sets', 'test_data_set_0'), join(root, 'sets', 'test_data_set_1')]);
    const m = readManifest(manifest('sets.json', { targets: ['host'], models: [{ model: EXAMPLE, inputs: 'sets/test_data_set_*' }] }));
    expect(m.models[0]!.inputs.kind).toBe('datasets');
    // Goldens default to the data sets' own output_<i>.pb.
    expect(m.models[0]!.golden).toEqual({ kind: 'datasets', dirs: [join(root, 'sets', 'test_data_set_0'), join(root, 'sets', 'test_data_set_1')] });
  });
});

describe('inputs and goldens of another dtype', () => {
  it('are converted with a warning when every value survives, else refused naming the input or output', () => {
    const graph = loadModel(EXAMPLE);
    mkdirSync(join(root, 'dtype'), { recursive: true });
    const x = join(root, 'dtype', 'x.npy');
    const xShape = graph.tensors.get('x')!.shape;
    writeFileSync(x, writeNpy(makeNdArray('float64', [2, ...xShape], new Float64Array(128).fill(0.25))));
    const golden = join(root, 'dtype', 'golden.npz');
    const outs = graph.outputs.map((name) => {
      const t = graph.tensors.get(name)!;
      const n = 2 * t.shape.reduce((a, b) => a * b, 1);
      // A float output holds 0.1 (no float32 is exactly that); an integer one its own dtype.
      return [
        name,
        t.dtype === 'float32' ? makeNdArray('float64', [2, ...t.shape], new Float64Array(n).fill(0.1)) : makeNdArray(t.dtype as never, [2, ...t.shape]),
      ] as [string, NdArray];
    });
    writeFileSync(golden, writeNpz(outs));
    const p = manifest('dtype.json', { targets: ['host'], models: [{ name: 'digits', model: EXAMPLE, inputs: 'dtype/x.npy', golden: 'dtype/golden.npz' }] });
    const m = readManifest(p).models[0]!;
    const warnings: string[] = [];
    expect(inputRuns(m, graph, (w) => warnings.push(w))).toHaveLength(2);
    expect(warnings).toEqual([`${x}: input "x" is float32; the file holds float64, converted (every value exactly)`]);
    const floatOut = graph.outputs.find((n) => graph.tensors.get(n)!.dtype === 'float32')!;
    expect(() => readGolden(m, graph, 2)).toThrow(`output "${floatOut}" is float32; the file holds float64, and the value 0.1 at index 0 would become`);
  });
});

describe('shards', () => {
  const ids = Array.from({ length: 60 }, (_, i) => `model${i % 12}@${['host', 'cortex-m4', 'rv32imc', 'rpi-armv7', 'riscv64-linux'][i % 5]}`);
  const cases = [...new Set(ids)].map(fakeCase);

  it('n jobs run every case exactly once, for any n', () => {
    for (let n = 1; n <= 7; n++) {
      const seen = new Map<string, number>();
      for (let k = 1; k <= n; k++) for (const c of selectShard(cases, { index: k, count: n })) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
      expect([...seen.keys()].sort()).toEqual(cases.map((c) => c.id).sort());
      expect([...seen.values()].every((v) => v === 1)).toBe(true);
    }
  });

  it('adding a case moves no other case to another job, and the share is even enough', () => {
    const before = new Map(cases.map((c) => [c.id, shardOf(c.id, 4)]));
    const more = [...cases, fakeCase('new-model@cortex-m4'), fakeCase('another@host')];
    for (const c of more) if (before.has(c.id)) expect(shardOf(c.id, 4)).toBe(before.get(c.id));
    // A fixed hash (FNV-1a): the same shard on every machine.
    expect(shardOf('digits@cortex-m4', 4)).toBe(shardOf('digits@cortex-m4', 4));
    const sizes = [1, 2, 3, 4].map((k) => selectShard(cases, { index: k, count: 4 }).length);
    expect(Math.min(...sizes)).toBeGreaterThan(cases.length / 8);
  });
});

describe('JUnit reports', () => {
  const result = (id: string, status: CaseResult['status'], problem?: string): CaseResult => {
    const r = emptyResult(fakeCase(id));
    r.status = status;
    r.seconds = 1.5;
    if (problem) r.problems.push(problem);
    return r;
  };

  it('are well-formed XML with a testcase per case, its failure and what was measured', () => {
    const xml = junitReport(
      'tritc-test.json',
      [
        result('a@host', 'pass'),
        result('b@cortex-m4', 'fail', 'output "y" run 0 element 3 [0, 3]: cortex-m4 gave 1 < 2 & "so"'),
        result('c@host', 'error', 'no golden'),
      ],
      { shard: '1/2', timestamp: new Date(0), measured: (r) => `measured ${r.id}` },
    );
    const doc = parseXml(xml, 'report.xml');
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ tests: '3', failures: '1', errors: '1' });
    const suite = doc.children.find((c) => typeof c !== 'string' && c.name === 'testsuite');
    expect(suite && typeof suite !== 'string' && suite.attrs.timestamp).toBe('1970-01-01T00:00:00');
    expect(xml).toContain('<property name="shard" value="1/2"/>');
    expect(xml).toContain('message="output &quot;y&quot; run 0 element 3 [0, 3]: cortex-m4 gave 1 &lt; 2 &amp; &quot;so&quot;"');
    expect(xml).toContain('<error type="error" message="no golden">no golden</error>');
  });

  it('merge joins shards into one suite, and refuses a case two files hold', async () => {
    const dir = join(root, 'junit');
    mkdirSync(dir, { recursive: true });
    const write = (name: string, rs: CaseResult[], shard: string) => {
      const p = join(dir, name);
      writeFileSync(p, junitReport('tritc-test.json', rs, { shard, timestamp: new Date(1000), measured: () => '' }));
      return p;
    };
    const a = write('a.xml', [result('m@host', 'pass'), result('m@rv32imc', 'fail', 'differs')], '1/2');
    const b = write('b.xml', [result('m@cortex-m4', 'pass')], '2/2');
    const m = mergeJunit([a, b]);
    expect(m).toMatchObject({ tests: 3, failures: 1, errors: 0 });
    const doc = parseXml(m.xml, 'merged');
    const suites = doc.children.filter((c) => typeof c !== 'string' && c.name === 'testsuite');
    expect(suites).toHaveLength(1);
    const names = (suites[0] as { children: ({ name: string; attrs: Record<string, string> } | string)[] }).children
      .filter((c) => typeof c !== 'string' && c.name === 'testcase')
      .map((c) => (c as { attrs: Record<string, string> }).attrs.name);
    expect(names).toEqual(['m@cortex-m4', 'm@host', 'm@rv32imc']);

    const out = join(dir, 'all.xml');
    const cli = await tritc('test', '--merge', a, b, '-o', out);
    expect(cli.out.trim()).toBe(`merged 2 files into ${out}: 3 cases, 1 failed, 0 errors`);
    expect(cli.code).toBe(1); // a case failed
    const twice = await tritc('test', '--merge', a, a, '-o', out);
    expect(twice.code).toBe(1);
    expect(twice.err.trim()).toBe(`error: ${a}: testcase "m@host" of suite "tritc-test.json" is also in ${a}: were two shards given the same k?`);
    writeFileSync(join(dir, 'bad.xml'), '<testsuites><testsuite name="x"></testsuites>');
    expect((await tritc('test', '--merge', join(dir, 'bad.xml'), '-o', out)).err.trim()).toBe(
      `error: ${join(dir, 'bad.xml')}: line 1: </testsuites> closes <testsuite> (line 1)`,
    );
  });
});

describe('the docs', () => {
  it('use only the options tritc test has, and shard specs it reads (docs/testing.md, docs/ci.md)', () => {
    const known = new Set([...Object.keys(testCommand.options), 'json', 'verbose', 'help']);
    let seen = 0;
    for (const doc of ['testing.md', 'ci.md']) {
      const text = readFileSync(join(import.meta.dirname, '..', 'docs', doc), 'utf8');
      for (const m of text.matchAll(/npx tritc test([^\n`#]*)/g)) {
        seen++;
        // The CI variables as a second job of four sees them (GitHub's `${{ matrix.shard }}` holds spaces).
        const line = m[1]!.replace(/\$\{\{ matrix\.shard \}\}|\$CI_NODE_INDEX/g, '2').replace(/\$SHARDS|\$CI_NODE_TOTAL/g, '4');
        const args = line.trim().split(/\s+/).filter(Boolean);
        for (const a of args.filter((x) => x.startsWith('--'))) expect(known.has(a.slice(2)), `${doc}: ${m[0]}`).toBe(true);
        const shard = args[args.indexOf('--shard') + 1];
        if (args.includes('--shard')) expect(parseShard(shard!), `${doc}: ${m[0]}`).toEqual({ index: 2, count: 4 });
      }
    }
    expect(seen).toBeGreaterThan(8);
  });
});

describe('the progress line', () => {
  it('draws a bar with the count and the time left, cut to the terminal', () => {
    expect(progressLine('digits@host: compiling', { done: 2, total: 4 }, 10, 120)).toBe('[############............] 2/4, 10 s left  digits@host: compiling');
    expect(progressLine('reading', undefined, 0, 120)).toBe('reading');
    const long = progressLine('x'.repeat(200), { done: 0, total: 3 }, 0, 40);
    expect(long).toHaveLength(39);
    expect(long.endsWith('…')).toBe(true);
  });

  it('is drawn on a terminal only, and cleared when the work ends', () => {
    let written = '';
    const stream = (isTTY: boolean) => ({ isTTY, columns: 80, write: (s: string) => ((written += s), true) }) as unknown as NodeJS.WriteStream;
    const pipe = terminalProgress(stream(false));
    pipe.progress('compiling', { done: 1, total: 2 });
    pipe.endProgress();
    expect(written).toBe('');
    const tty = terminalProgress(stream(true));
    tty.progress('compiling', { done: 1, total: 2 });
    expect(written).toBe('\r\x1b[2K[############............] 1/2  compiling');
    tty.endProgress();
    expect(written.endsWith('compiling\r\x1b[2K')).toBe(true);
  });
});

describe('float32 values in messages', () => {
  it('are the shortest decimal that reads back as the same float32', () => {
    expect(f32Text(Math.fround(0.1))).toBe('0.1');
    expect(f32Text(Math.fround(0.00038141265))).toBe('0.00038141265');
    expect(f32Text(3)).toBe('3');
  });
});
