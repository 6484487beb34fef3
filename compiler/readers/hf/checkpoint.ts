// The safetensors of a Hugging Face model folder: `model.safetensors`, or the shards that
// `model.safetensors.index.json` lists in its weight_map ({"<tensor>": "model-00001-of-00002.safetensors"}).
// transformers looks for the single file first, then the index; so does this.
//
// Each shard is read whole and parsed by compiler/io/safetensors.ts; tensors stay views into the
// shard's bytes until the architecture reader decodes them. The index and the shards must agree
// exactly: every weight_map entry is in the shard it names, and every tensor of a shard is listed
// for that shard, so a half-copied or mixed-up folder is caught here, naming the entry.

import { constants as bufferConstants } from 'node:buffer';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fail } from '../../diagnostics.ts';
import { type StTensor, readSafetensors } from '../../io/safetensors.ts';
import { jsonBrief, jsonSyntaxProblem } from '../../util/json.ts';

const SINGLE_FILE = 'model.safetensors';
const INDEX_FILE = 'model.safetensors.index.json';

export interface HfTensor {
  /** The name in the checkpoint, e.g. `model.layers.0.self_attn.q_proj.weight`. */
  name: string;
  /** The shard's path, the prefix of diagnostics about this tensor. */
  file: string;
  st: StTensor;
}

export interface HfCheckpoint {
  /** Where a tensor that should exist is looked up: the single file, or the index. */
  mapFile: string;
  tensors: Map<string, HfTensor>;
  /** sha256 over config.json and every shard (in name order), first 16 hex digits. */
  hash: string;
}

function readWhole(path: string): Uint8Array {
  const size = statSync(path).size;
  // A shard is read into one buffer; say so plainly rather than let Node throw a RangeError.
  if (size > bufferConstants.MAX_LENGTH) {
    fail('io', path, `is ${size} bytes; tritc reads a shard whole and this Node.js caps a buffer at ${bufferConstants.MAX_LENGTH} bytes`);
  }
  try {
    return readFileSync(path);
  } catch (e) {
    fail('io', path, `cannot be read (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
}

function isPlainFileName(s: string): boolean {
  return s.length > 0 && s !== '.' && s !== '..' && !/[/\\]/.test(s);
}

export function openCheckpoint(dir: string, configBytes: Uint8Array): HfCheckpoint {
  const hash = createHash('sha256').update(configBytes);
  const tensors = new Map<string, HfTensor>();
  const single = join(dir, SINGLE_FILE);
  if (existsSync(single)) {
    const bytes = readWhole(single);
    hash.update(SINGLE_FILE).update(bytes);
    for (const [name, st] of readSafetensors(bytes, single).tensors) tensors.set(name, { name, file: single, st });
    return { mapFile: single, tensors, hash: hash.digest('hex').slice(0, 16) };
  }
  const indexPath = join(dir, INDEX_FILE);
  if (!existsSync(indexPath)) {
    fail('io', dir, `holds neither ${SINGLE_FILE} nor ${INDEX_FILE} (tritc reads safetensors checkpoints only, not pytorch_model.bin)`);
  }
  const weightMap = readWeightMap(indexPath);
  const entry = (name: string): string => `${indexPath}: weight_map[${jsonBrief(name, 200)}]`;

  // Group the entries by shard, then read each shard once, in name order (so the hash is stable).
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of weightMap) {
    const list = byShard.get(shard);
    if (list) list.push(name);
    else byShard.set(shard, [name]);
  }
  const shards = [...byShard.keys()].sort();
  // Every shard must be there before any is read: a missing one is named by its first index entry.
  for (const shard of shards) {
    if (!existsSync(join(dir, shard))) fail('io', entry(byShard.get(shard)![0]!), `points at ${jsonBrief(shard)}, which is not in ${dir}`);
  }
  for (const shard of shards) {
    const names = byShard.get(shard)!;
    const path = join(dir, shard);
    const bytes = readWhole(path);
    hash.update(shard).update(bytes);
    const file = readSafetensors(bytes, path);
    for (const name of names) {
      const st = file.tensors.get(name);
      if (!st) fail('weights', entry(name), `points at ${jsonBrief(shard)}, which holds no tensor of that name`);
      tensors.set(name, { name, file: path, st });
    }
    for (const name of file.tensors.keys()) {
      if (weightMap.get(name) !== shard) {
        const other = weightMap.get(name);
        fail(
          'weights',
          `${path}: tensor ${jsonBrief(name, 200)}`,
          other === undefined ? `is not listed in ${INDEX_FILE}'s weight_map` : `is listed in ${INDEX_FILE} for ${jsonBrief(other)}, not this shard`,
        );
      }
    }
  }
  return { mapFile: indexPath, tensors, hash: hash.digest('hex').slice(0, 16) };
}

function readWeightMap(indexPath: string): Map<string, string> {
  let json: unknown;
  const text = new TextDecoder('utf-8').decode(readWhole(indexPath));
  try {
    json = JSON.parse(text);
  } catch (e) {
    if (e instanceof SyntaxError) fail('json', indexPath, `is not valid JSON (${jsonSyntaxProblem(text)})`);
    throw e;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('json', indexPath, 'must be a JSON object with a "weight_map"');
  const wm = (json as Record<string, unknown>)['weight_map'];
  if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) {
    fail('schema', `${indexPath}: weight_map`, 'must be an object mapping each tensor name to its shard file');
  }
  const out = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !isPlainFileName(shard)) {
      fail('schema', `${indexPath}: weight_map[${jsonBrief(name, 200)}]`, `must be the file name of a shard in the same folder, found ${jsonBrief(shard)}`);
    }
    out.set(name, shard);
  }
  if (out.size === 0) fail('schema', `${indexPath}: weight_map`, 'is empty');
  return out;
}
