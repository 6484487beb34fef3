// The manifest of `tritc test` (docs/testing.md): the models a user keeps regression tests for, the
// targets each runs on, its inputs and golden outputs, compile options and budgets. JSON, read and
// checked here; every path in it is relative to the manifest's folder. A mistake is one line naming
// the manifest and the field (`tritc-test.json: models[1].budgets.cortex-m4.flash: ...`), all at once.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join } from 'node:path';
import { DiagnosticBag, fail } from '../diagnostics.ts';
import { getTarget } from '../targets.ts';
import { parseByteCount } from '../util/format.ts';
import { LM_OPTIONS, SHAPE_OPTIONS } from '../cli/command.ts';

export const DEFAULT_MANIFEST = 'tritc-test.json';

/** Where a model's inputs (or a labelled set) come from. */
export type InputSource =
  /** .npy / .pb files, one per graph input, or one .npz (`tritc run --inputs`). */
  | { kind: 'files'; files: string[] }
  /** ONNX test data set folders (input_0.pb, ...; output_0.pb, ...), one run each. */
  | { kind: 'datasets'; dirs: string[] }
  /** Seeded random inputs, as `tritc run -n N --seed S` makes them. */
  | { kind: 'random'; count: number; seed: number };

/** Where the golden outputs are: files (.npz keyed by output, or .npy/.pb one per output), or the
 * output_<i>.pb of each data set folder. */
type GoldenSource = { kind: 'files'; files: string[] } | { kind: 'datasets'; dirs: string[] };

export interface Budgets {
  /** Bytes of flash: the model's code, weights and the library routines it calls. */
  flash?: number;
  /** Bytes of RAM: arena + measured stack + other static data. */
  ram?: number;
  /** Instructions per inference (per token for a language model), on targets that count them. */
  instructions?: number;
  /** Least top-1 accuracy on the labelled set, a fraction (0.95). */
  accuracy?: number;
}

const BUDGET_NAMES = ['flash', 'ram', 'instructions', 'accuracy'] as const;

interface LabelledSet {
  inputs: InputSource;
  /** A .npy of integer class ids, one per run. */
  labels: string;
  /** The output holding the scores (argmax) or the class id; default the first. */
  output?: string;
}

export interface ModelEntry {
  /** `tritc-test.json: models[0]`, for messages. */
  where: string;
  name: string;
  model: string;
  targets: string[];
  /** `tritc run`'s options by name, as the command line would give them. */
  options: Record<string, string | boolean | string[]>;
  inputs: InputSource;
  golden: GoldenSource;
  labelled?: LabelledSet;
  /** By target name, and '*' for every target. */
  budgets: Map<string, Budgets>;
}

export interface Manifest {
  path: string;
  models: ModelEntry[];
  /** Seconds before a target program is killed. */
  timeoutSeconds: number;
}

/** The options a manifest may set: the ones `tritc run` takes that change what is compiled. */
const BOOLEAN_OPTIONS = new Set(['no-lowbit']);
const MODEL_OPTIONS = new Set(['kernel', 'max-scratch', 'no-lowbit', ...Object.keys(SHAPE_OPTIONS), ...Object.keys(LM_OPTIONS)]);

const MODEL_KEYS = new Set(['name', 'model', 'targets', 'options', 'inputs', 'golden', 'labelled', 'budgets']);
const TOP_KEYS = new Set(['$schema', 'targets', 'timeout', 'models']);

/** The budgets that apply to a model on a target: its '*' entry, overridden by the target's. */
export function budgetsFor(m: ModelEntry, target: string): Budgets {
  return { ...(m.budgets.get('*') ?? {}), ...(m.budgets.get(target) ?? {}) };
}

/** The path of a budget in the manifest, for messages (`models[0].budgets.cortex-m4.flash`). */
export function budgetWhere(m: ModelEntry, target: string, name: keyof Budgets): string {
  const key = m.budgets.get(target)?.[name] !== undefined ? target : '*';
  return `${m.where}.budgets.${key}.${name}`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: Json | undefined): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `*` and `?` in any path component, matched against the folder's entries (sorted). */
export function expandGlob(pattern: string): string[] {
  const parts = pattern.split('/');
  let found = [parts[0] === '' ? '/' : ''];
  for (const part of parts[0] === '' ? parts.slice(1) : parts) {
    if (!/[*?]/.test(part)) {
      found = found.map((p) => (p === '' ? part : join(p, part)));
      continue;
    }
    const re = new RegExp(
      `^${part
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    found = found.flatMap((p) => {
      let names: string[];
      try {
        names = readdirSync(p === '' ? '.' : p);
      } catch {
        return [];
      }
      return names
        .filter((n) => re.test(n))
        .sort()
        .map((n) => (p === '' ? n : join(p, n)));
    });
  }
  return found;
}

function kindOf(path: string): 'dir' | 'file' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}

export function readManifest(path: string): Manifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'not found (tritc test reads tritc-test.json, or the manifest you name; docs/testing.md)'
        : (e as Error).message;
    fail('io', path, `cannot read the test manifest: ${why}`);
  }
  let raw: Json;
  try {
    raw = JSON.parse(text) as Json;
  } catch (e) {
    fail('json', path, `not valid JSON: ${(e as Error).message}`);
  }
  return checkManifest(raw, path);
}

function checkManifest(raw: Json, path: string): Manifest {
  const bag = new DiagnosticBag();
  const dir = dirname(path);
  const at = (p: string) => `${path}: ${p}`;
  /** A path the manifest gives: relative to its folder, unless absolute. */
  const rel = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const err = (p: string, msg: string) => bag.error('schema', at(p), msg);
  if (!isObject(raw)) fail('schema', path, 'expected a JSON object with "models": [...] (docs/testing.md)');
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) err(k, `unknown key; the manifest has ${[...TOP_KEYS].filter((x) => x !== '$schema').join(', ')}`);

  const targetList = (v: Json | undefined, p: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length === 0 || !v.every((t) => typeof t === 'string')) {
      err(p, 'expected a non-empty list of target names, e.g. ["host", "cortex-m4"]');
      return undefined;
    }
    const names = v as string[];
    for (const [i, t] of names.entries()) {
      try {
        getTarget(t);
      } catch (e) {
        err(`${p}[${i}]`, (e as Error).message);
      }
    }
    if (new Set(names).size !== names.length) err(p, 'lists a target twice');
    return names;
  };
  const defaultTargets = targetList(raw.targets, 'targets');
  let timeoutSeconds = 600;
  if (raw.timeout !== undefined) {
    if (typeof raw.timeout !== 'number' || !Number.isInteger(raw.timeout) || raw.timeout < 1) err('timeout', 'expected a whole number of seconds >= 1');
    else timeoutSeconds = raw.timeout;
  }

  // A path, a list of paths (globs allowed), or a folder: files or data set folders, all one kind.
  const sources = (
    v: Json | undefined,
    p: string,
    mustExist: boolean,
  ): { kind: 'files'; files: string[] } | { kind: 'datasets'; dirs: string[] } | undefined => {
    const list = typeof v === 'string' ? [v] : Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
    if (!list) {
      err(p, 'expected a file, a folder or a glob (relative to the manifest), or a list of them');
      return undefined;
    }
    const paths: string[] = [];
    for (const item of list) {
      const full = rel(item);
      if (/[*?]/.test(item)) {
        const found = expandGlob(full);
        if (found.length === 0) err(p, `"${item}" matches nothing (in ${dir || '.'})`);
        paths.push(...found);
      } else paths.push(full);
    }
    const kinds = paths.map(kindOf);
    if (mustExist) {
      const missing = paths.filter((_, i) => kinds[i] === 'missing');
      if (missing.length) {
        err(p, `${missing.join(', ')} not found`);
        return undefined;
      }
    }
    if (kinds.length && kinds.every((k) => k === 'dir')) return { kind: 'datasets', dirs: paths };
    if (kinds.some((k) => k === 'dir')) {
      err(p, 'mixes folders (ONNX test data sets) and files; give one kind');
      return undefined;
    }
    for (const f of paths)
      if (!['.npy', '.npz', '.pb'].includes(extname(f).toLowerCase()))
        err(p, `${f}: expected .npy, .npz or .pb (ONNX TensorProto) files, or test data set folders`);
    return { kind: 'files', files: paths };
  };

  const models: ModelEntry[] = [];
  const names = new Map<string, number>();
  if (!Array.isArray(raw.models) || raw.models.length === 0) err('models', 'expected a non-empty list of models: [{ "model": "path", "targets": [...] }, ...]');
  else
    raw.models.forEach((m, i) => {
      const where = `models[${i}]`;
      if (!isObject(m)) return err(where, 'expected an object with at least "model"');
      for (const k of Object.keys(m)) if (!MODEL_KEYS.has(k)) err(`${where}.${k}`, `unknown key; a model has ${[...MODEL_KEYS].join(', ')}`);
      if (typeof m.model !== 'string' || m.model === '')
        return err(`${where}.model`, 'expected the path of the model (a file or folder, relative to the manifest)');
      const model = rel(m.model);
      if (kindOf(model) === 'missing') err(`${where}.model`, `${model} not found`);
      const stem = basename(m.model.replace(/\/+$/, '')).replace(/\.(onnx|gguf|bin|json)$/i, '');
      let name = stem;
      if (m.name !== undefined) {
        if (typeof m.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(m.name)) err(`${where}.name`, 'expected a name of letters, digits, ".", "_" and "-"');
        else name = m.name;
      } else if (!/^[A-Za-z0-9._-]+$/.test(name)) err(`${where}.name`, `the model's file name "${stem}" cannot name its cases; give "name"`);
      if (names.has(name)) err(`${where}.name`, `"${name}" is also the name of models[${names.get(name)}]; case names must be unique`);
      names.set(name, i);
      const targets = targetList(m.targets, `${where}.targets`) ?? defaultTargets;
      if (!targets) err(`${where}.targets`, 'no targets: give "targets" here or at the top of the manifest');

      const options: Record<string, string | boolean | string[]> = {};
      if (m.options !== undefined) {
        if (!isObject(m.options)) err(`${where}.options`, 'expected an object of tritc run options, e.g. { "kernel": "t5", "max-scratch": "4K" }');
        else
          for (const [k, v] of Object.entries(m.options)) {
            const p = `${where}.options.${k}`;
            if (!MODEL_OPTIONS.has(k)) err(p, `not an option a test can set; these are: ${[...MODEL_OPTIONS].join(', ')}`);
            else if (BOOLEAN_OPTIONS.has(k)) {
              if (typeof v !== 'boolean') err(p, 'expected true or false');
              else if (v) options[k] = true;
            } else if (typeof v === 'string' || typeof v === 'number') options[k] = String(v);
            else if (SHAPE_OPTIONS[k]?.multiple && Array.isArray(v) && v.every((x) => typeof x === 'string')) options[k] = v;
            else err(p, SHAPE_OPTIONS[k]?.multiple ? 'expected a string or a list of strings, e.g. ["x=1,64"]' : 'expected a string or a number');
          }
      }

      let inputs: InputSource | undefined;
      if (m.inputs === undefined || isObject(m.inputs)) {
        const r = m.inputs ?? {};
        const count = r.random ?? 3;
        const seed = r.seed ?? 1;
        for (const k of Object.keys(r))
          if (k !== 'random' && k !== 'seed') err(`${where}.inputs.${k}`, 'unknown key; random inputs take "random" (how many) and "seed"');
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) err(`${where}.inputs.random`, 'expected a whole number of runs >= 1');
        else if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) err(`${where}.inputs.seed`, 'expected a whole number >= 0');
        else inputs = { kind: 'random', count, seed };
      } else inputs = sources(m.inputs, `${where}.inputs`, true);

      let golden: GoldenSource | undefined;
      if (m.golden !== undefined) golden = sources(m.golden, `${where}.golden`, false);
      else if (inputs?.kind === 'datasets') golden = { kind: 'datasets', dirs: inputs.dirs };
      else golden = { kind: 'files', files: [join(dir, 'golden', `${name}.npz`)] };

      let labelled: LabelledSet | undefined;
      if (m.labelled !== undefined) {
        const l = m.labelled;
        const p = `${where}.labelled`;
        if (!isObject(l) || typeof l.labels !== 'string' || l.inputs === undefined)
          err(p, 'expected { "inputs": files or data sets, "labels": "labels.npy" (integer class ids), "output"?: name }');
        else {
          for (const k of Object.keys(l))
            if (!['inputs', 'labels', 'output'].includes(k)) err(`${p}.${k}`, 'unknown key; a labelled set has inputs, labels, output');
          const li = sources(l.inputs, `${p}.inputs`, true);
          const labels = rel(l.labels);
          if (kindOf(labels) !== 'file') err(`${p}.labels`, `${labels} not found`);
          if (l.output !== undefined && typeof l.output !== 'string') err(`${p}.output`, 'expected the name of a model output');
          if (li) labelled = { inputs: li, labels, ...(typeof l.output === 'string' ? { output: l.output } : {}) };
        }
      }

      const budgets = new Map<string, Budgets>();
      if (m.budgets !== undefined) {
        if (!isObject(m.budgets))
          err(`${where}.budgets`, 'expected { "*": { ... }, "<target>": { "flash": "16K", "ram": "8K", "instructions": 50000, "accuracy": 0.9 } }');
        else
          for (const [t, b] of Object.entries(m.budgets)) {
            const p = `${where}.budgets.${t}`;
            if (t !== '*' && targets && !targets.includes(t)) err(p, `"${t}" is not one of this model's targets (${targets.join(', ')}) or "*"`);
            if (!isObject(b)) {
              err(p, `expected an object with any of ${BUDGET_NAMES.join(', ')}`);
              continue;
            }
            const set: Budgets = {};
            for (const [k, v] of Object.entries(b)) {
              const q = `${p}.${k}`;
              if (k === 'flash' || k === 'ram') {
                const n = typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : typeof v === 'string' ? parseByteCount(v) : undefined;
                if (!n) err(q, `expected bytes: a whole number or a string such as "16K" or "1MiB", got ${JSON.stringify(v)}`);
                else set[k] = n;
              } else if (k === 'instructions') {
                if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
                  err(q, 'expected a whole number of instructions per inference (per token for a language model)');
                else set.instructions = v;
              } else if (k === 'accuracy') {
                if (typeof v !== 'number' || !(v > 0 && v <= 1)) err(q, 'expected the least top-1 accuracy as a fraction in (0, 1], e.g. 0.95');
                else if (m.labelled === undefined) err(q, 'an accuracy budget needs a labelled set ("labelled": { "inputs": ..., "labels": ... })');
                else set.accuracy = v;
              } else err(q, `unknown budget; budgets are ${BUDGET_NAMES.join(', ')}`);
            }
            if (set.instructions !== undefined)
              for (const tn of t === '*' ? (targets ?? []) : [t]) {
                let counts = false;
                try {
                  counts = getTarget(tn).counter !== null;
                } catch {
                  counts = true; // an unknown target is reported above
                }
                if (!counts)
                  err(`${p}.instructions`, `${tn} cannot count instructions (the bare-metal targets do: cortex-m4, cortex-m3, rv32imc); set it per target`);
              }
            budgets.set(t, set);
          }
      }
      if (targets && inputs && golden) models.push({ where: at(where), name, model, targets, options, inputs, golden, labelled, budgets });
    });
  bag.throwIfAny();
  return { path, models, timeoutSeconds };
}
