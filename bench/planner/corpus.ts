// The planner benchmark's corpus: the repository's examples, the ONNX models of ../shared/data
// (imported and lowered as `tritc compile` does), and the generated families of families.ts.

import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { lowerForPlanning } from '../../compiler/compile.ts';
import { readModel } from '../../compiler/readers/native/read.ts';
import { loadModel } from '../../compiler/readers/index.ts';
import { runPasses } from '../../compiler/passes/pipeline.ts';
import { problemFromGraph } from '../../compiler/plan/problem.ts';
import { getTarget, PROJECT_ROOT } from '../../compiler/targets.ts';
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

/** The shared test material (../shared/data, SOURCES.md there), read in place. */
export const SHARED_DATA_DIR = resolve(PROJECT_ROOT, '../shared/data');

/**
 * The folders of SHARED_DATA_DIR whose .onnx files are whole models (the QONNX model zoo's TFC
 * MNIST MLPs). The other .onnx files there are not: `onnx_backend_tests/` holds one-op conformance
 * tests, `qonnx/floatquant_exec/` a one-Gemm execution test of the FloatQuant op.
 */
export const ONNX_MODEL_DIRS = ['qonnx/models'];

/** The target the ONNX models are lowered for: `tritc compile`'s default. */
export const ONNX_TARGET = 'host';

function onnxFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.onnx'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * The ONNX models, each as `tritc compile <model.onnx>` plans it: loadModel (the ONNX importer, with
 * ternary/binary detection), then the passes and kernel choice of compileGraph (lowerForPlanning),
 * then the plan problem of the result on ONNX_TARGET.
 */
export function onnxCorpus(): { entries: CorpusEntry[]; note: string } {
  const all = onnxFiles(SHARED_DATA_DIR);
  const models = ONNX_MODEL_DIRS.flatMap((d) => onnxFiles(join(SHARED_DATA_DIR, d)));
  const where = relative(PROJECT_ROOT, SHARED_DATA_DIR);
  if (!models.length) return { entries: [], note: `none: ${where} has no ${ONNX_MODEL_DIRS.join(', ')}` };
  const target = getTarget(ONNX_TARGET);
  const entries: CorpusEntry[] = [];
  const failed: string[] = [];
  for (const path of models) {
    const name = relative(SHARED_DATA_DIR, path);
    try {
      const g = loadModel(path);
      lowerForPlanning(g, { target });
      entries.push({ family: 'onnx', name: name.replace(/^.*\//, '').replace(/\.onnx$/, ''), level: 'graph', problem: problemFromGraph(g, target) });
    } catch (e) {
      failed.push(`${name} (${(e as Error).message.split('\n')[0]})`);
    }
  }
  const skipped = all.length - models.length;
  return {
    entries,
    note:
      `\`onnx\`: ${entries.length} of ${models.length} models of ${ONNX_MODEL_DIRS.map((d) => `${where}/${d}`).join(', ')} (${models.map((m) => relative(SHARED_DATA_DIR, m)).join(', ')}), imported and lowered as \`tritc compile\` does for its default target (${ONNX_TARGET}): the ONNX importer, the passes and the kernel choice, so LUT kernel tables are planned as scratch.` +
      (failed.length ? ` Not imported: ${failed.join('; ')}.` : '') +
      ` The other ${skipped} .onnx files there are not models: one-op backend conformance tests (onnx_backend_tests) and a one-Gemm FloatQuant execution test (qonnx/floatquant_exec).`,
  };
}

export function corpus(): { entries: CorpusEntry[]; notes: string[] } {
  const onnx = onnxCorpus();
  return { entries: [...exampleCorpus(), ...onnx.entries, ...generatedCorpus()], notes: [onnx.note] };
}
