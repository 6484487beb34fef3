// `tritc compile --bindings ts`: model.wasm plus typed TypeScript bindings, bit-exact with the
// interpreter, and typed so that a wrong input name or type is a compile error for the user.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Project } from 'ts-morph';
import { describe, expect, it } from 'vitest';
import { main } from '../compiler/cli/main.ts';
import type { Io } from '../compiler/cli/command.ts';
import { writeModel, type ModelSpec } from '../compiler/readers/native/write.ts';
import { firstMismatch, describeMismatch } from '../compiler/harness/compare.ts';
import { randomRuns } from '../compiler/harness/inputs.ts';
import { interpret } from '../compiler/interpret.ts';
import type { TypedData } from '../compiler/ir.ts';
import { cornerCaseModels } from './support/corner_cases.ts';
import { workDir } from './support/differential.ts';
import { randomModel } from '../bench/gen/random_graph.ts';
import { loadModel } from '../compiler/readers/index.ts';

const root = workDir('bindings');
const quiet: Io = { out: () => {}, err: () => {}, progress: () => {}, endProgress: () => {} };

interface LoadedModel {
  run(inputs: Record<string, TypedData>): Record<string, TypedData>;
}

async function compileWithBindings(modelDir: string, out: string) {
  const code = await main(['compile', modelDir, '-o', out, '--bindings', 'ts'], quiet);
  expect(code).toBe(0);
  const mod = (await import(pathToFileURL(join(out, 'model.ts')).href)) as Record<string, unknown>;
  const cls = Object.values(mod).find((v) => typeof v === 'function') as unknown as { load(b: Uint8Array): Promise<LoadedModel> };
  return cls.load(readFileSync(join(out, 'model.wasm')));
}

describe('TypeScript + WebAssembly bindings', () => {
  it('digits-mlp, corner cases and random graphs run bit-exact through the bindings', async () => {
    const specs: ModelSpec[] = [...cornerCaseModels(), ...Array.from({ length: 4 }, (_, i) => randomModel(90_000 + i))];
    const dirs = [
      join(import.meta.dirname, '../examples/digits-mlp'),
      ...specs.map((s, i) => writeModel(join(root, 'models', `m${i}`), s).replace(/\/model\.json$/, '')),
    ];
    const failures: string[] = [];
    for (const [i, dir] of dirs.entries()) {
      // The graph the compiler makes its C from (after the target-independent passes).
      const g = loadModel(dir);
      const model = await compileWithBindings(dir, join(root, `out${i}`));
      for (const [r, run] of randomRuns(g, 3, 7 + i).entries()) {
        const want = interpret(g, run);
        const got = model.run(Object.fromEntries(run));
        // Outputs are keyed by tensor name; a repeated output or one that is also an input gets its C name.
        const keys = Object.keys(got);
        g.outputs.forEach((name, j) => {
          const m = firstMismatch(got[keys[j]!]!, want.get(name)!);
          if (m) failures.push(`${g.name}: ${describeMismatch(name, r, m)}`);
        });
      }
    }
    expect(failures).toEqual([]);
  });

  it('the generated types reject wrong input names and types', async () => {
    const out = join(root, 'typed');
    await compileWithBindings(join(import.meta.dirname, '../examples/digits-mlp'), out);
    const project = new Project({ compilerOptions: { strict: true, target: 9, module: 99, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], noEmit: true } });
    project.addSourceFileAtPath(join(out, 'model.ts'));
    project.createSourceFile(
      join(out, 'consumer.ts'),
      `import { DigitsMlp, digitsMlpSpec } from './model';
       export async function use(bytes: ArrayBuffer): Promise<number> {
         const m = await DigitsMlp.load(bytes);
         const out = m.run({ x: new Float32Array(digitsMlpSpec.inputs[0].count) });
         const probs: Float32Array = out.probs;
         const cls: Int32Array = out.class;
         // @ts-expect-error: no input "y"
         m.run({ y: new Float32Array(64) });
         // @ts-expect-error: x must be a Float32Array
         m.run({ x: new Int8Array(64) });
         return probs[0]! + cls[0]!;
       }`,
    );
    const diagnostics = project.getPreEmitDiagnostics().map((d) => String(d.getMessageText()));
    expect(diagnostics).toEqual([]);
  });

  it('a wrong input length is a TypeError naming the input', async () => {
    const model = await compileWithBindings(join(import.meta.dirname, '../examples/digits-mlp'), join(root, 'lengths'));
    expect(() => model.run({ x: new Float32Array(63) })).toThrow(/input "x" must be a Float32Array of 64 values \(float32 \[1, 64\]\)/);
  });
});
