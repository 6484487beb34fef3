// The planner benchmark's corpus: the repository's examples, the ONNX models of ../shared/data
// (through the ONNX importer once it exists), and the generated families of families.ts.

import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { readModel } from '../../compiler/format/read.ts';
import type { Graph } from '../../compiler/ir.ts';
import { runPasses } from '../../compiler/passes/pipeline.ts';
import { problemFromGraph } from '../../compiler/plan/problem.ts';
import { PROJECT_ROOT } from '../../compiler/targets.ts';
import { generatedCorpus, type CorpusEntry } from './families.ts';

export function exampleCorpus(): CorpusEntry[] {
  const dir = join(PROJECT_ROOT, 'examples');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'model.json')))
    .map((e) => {
      const g = readModel(join(dir, e.name));
      runPasses(g);
      return { family: 'example', name: e.name, level: 'graph' as const, problem: problemFromGraph(g) };
    });
}

/** Where the ONNX models are: the QONNX model zoo files of ../shared/data. */
export const ONNX_MODELS_DIR = resolve(PROJECT_ROOT, '../shared/data/qonnx/models');

/**
 * ONNX_IMPORT_HOOK: the ONNX importer is being written on another branch (as
 * compiler/format/onnx.ts, exporting `readOnnx(path): Graph`). Until it lands, this finds no
 * importer and returns no entries; the benchmark says so. When it lands, the models in
 * ONNX_MODELS_DIR join the corpus with no change here.
 */
export async function onnxCorpus(): Promise<{ entries: CorpusEntry[]; note: string }> {
  const importer = join(PROJECT_ROOT, 'compiler/format/onnx.ts');
  const files = existsSync(ONNX_MODELS_DIR) ? readdirSync(ONNX_MODELS_DIR).filter((f) => f.endsWith('.onnx')) : [];
  const where = relative(PROJECT_ROOT, ONNX_MODELS_DIR);
  if (!existsSync(importer)) return { entries: [], note: `not in the corpus yet: no ONNX importer (compiler/format/onnx.ts) on this branch; ${files.length} models (${files.join(', ')}) wait in ${where}` };
  const mod = (await import(importer)) as { readOnnx?: (path: string) => Graph };
  if (!mod.readOnnx) return { entries: [], note: 'compiler/format/onnx.ts has no readOnnx(path): Graph; ONNX models skipped' };
  const entries: CorpusEntry[] = [];
  const failed: string[] = [];
  for (const f of files) {
    try {
      const g = mod.readOnnx(join(ONNX_MODELS_DIR, f));
      runPasses(g);
      entries.push({ family: 'onnx', name: f.replace(/\.onnx$/, ''), level: 'graph', problem: problemFromGraph(g) });
    } catch (e) {
      failed.push(`${f} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return { entries, note: `${entries.length} of ${files.length} ONNX models imported${failed.length ? `; not imported: ${failed.join(', ')}` : ''}` };
}

export async function corpus(): Promise<{ entries: CorpusEntry[]; notes: string[] }> {
  const onnx = await onnxCorpus();
  return { entries: [...exampleCorpus(), ...onnx.entries, ...generatedCorpus()], notes: [`ONNX models: ${onnx.note}`] };
}
