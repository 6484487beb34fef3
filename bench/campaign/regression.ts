// Regression files: a failing case the campaign found, shrunk, as JSON in test/regressions/ (named
// <target>-<family>-<seed>.json), and how to check one again (test/regressions.test.ts).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, getTarget } from '../../compiler/targets.ts';
import type { LmSizes } from '../gen/random_lm.ts';
import { checkDecoder, checkGraphs, type Finding, type FindingKind, type GraphCase } from './check.ts';
import { specFromJson, type SpecJson } from './spec.ts';

export const REGRESSIONS_DIR = join(PROJECT_ROOT, 'test', 'regressions');

export interface Regression {
  target: string;
  family: GraphCase['family'] | 'decoder';
  seed: number;
  kernel?: string;
  /** What failed when it was found, and how. */
  kind: FindingKind;
  message: string;
  /** The campaign command that found it. */
  found: string;
  /** How far the shrinker got. */
  shrunk: string;
  /** A graph: the shrunk spec. */
  spec?: SpecJson;
  /** A decoder: the sizes that replace the seed's draws. */
  sizes?: LmSizes;
}

export function regressionFile(r: Pick<Regression, 'target' | 'family' | 'seed'>): string {
  return `${r.target}-${r.family}-${r.seed}.json`;
}

export function loadRegressions(dir = REGRESSIONS_DIR): { file: string; r: Regression }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, r: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Regression }));
}

/** Run a regression case on its target: its finding, or undefined once it passes. */
export async function checkRegression(r: Regression, dir: string): Promise<Finding | undefined> {
  const target = getTarget(r.target);
  if (r.family === 'decoder') return checkDecoder(r.seed, target, dir, r.sizes);
  if (!r.spec) throw new Error(`regression ${regressionFile(r)} has no spec`);
  const [f] = await checkGraphs([{ family: r.family, seed: r.seed, spec: specFromJson(r.spec), ...(r.kernel ? { kernel: r.kernel } : {}) }], target, dir);
  return f;
}
