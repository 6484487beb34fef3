// Loaders for the shared, external datasets the examples train and test on. They are read in place
// from ../shared/data (next to the project checkout, see ../shared/data/SOURCES.md); never copied.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const SHARED_DATA = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data');

function shared(rel: string): string {
  const p = join(SHARED_DATA, rel);
  if (!existsSync(p)) throw new Error(`${p} not found: the examples read the shared datasets from ../shared/data beside the project checkout`);
  return p;
}

/** scikit-learn digits: 1,797 images of 8x8 pixels in 0..16, and their labels. */
export function loadDigits(): { images: Float32Array; labels: Int32Array; count: number } {
  const rows = gunzipSync(readFileSync(shared('sklearn_digits/digits.csv.gz'))).toString('utf8').trim().split('\n');
  const images = new Float32Array(rows.length * 64);
  const labels = new Int32Array(rows.length);
  rows.forEach((line, i) => {
    const v = line.split(',').map(Number);
    for (let k = 0; k < 64; k++) images[i * 64 + k] = v[k]!;
    labels[i] = v[64]!;
  });
  return { images, labels, count: rows.length };
}
