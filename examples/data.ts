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
  const rows = gunzipSync(readFileSync(shared('sklearn_digits/digits.csv.gz')))
    .toString('utf8')
    .trim()
    .split('\n');
  const images = new Float32Array(rows.length * 64);
  const labels = new Int32Array(rows.length);
  rows.forEach((line, i) => {
    const v = line.split(',').map(Number);
    for (let k = 0; k < 64; k++) images[i * 64 + k] = v[k]!;
    labels[i] = v[64]!;
  });
  return { images, labels, count: rows.length };
}

/**
 * MNIST test set (10,000 images of 28x28 pixels, 0..255, and labels), from the IDX files
 * (magic 0x00000803 for images, 0x00000801 for labels, big-endian counts).
 */
export function loadMnistTest(): { pixels: Uint8Array; labels: Uint8Array; count: number } {
  const img = gunzipSync(readFileSync(shared('mnist_t10k/t10k-images-idx3-ubyte.gz')));
  const lab = gunzipSync(readFileSync(shared('mnist_t10k/t10k-labels-idx1-ubyte.gz')));
  if (img.readUInt32BE(0) !== 0x803 || lab.readUInt32BE(0) !== 0x801) throw new Error('MNIST: unexpected IDX magic numbers');
  const count = img.readUInt32BE(4);
  if (img.readUInt32BE(8) !== 28 || img.readUInt32BE(12) !== 28 || lab.readUInt32BE(4) !== count) throw new Error('MNIST: unexpected IDX dimensions');
  return { pixels: new Uint8Array(img.subarray(16, 16 + count * 784)), labels: new Uint8Array(lab.subarray(8, 8 + count)), count };
}

/** One MNIST image as the FINN/Brevitas TFC models expect it: [1, 1, 28, 28] float32, pixel / 255 in float32 (torchvision's ToTensor). */
export function mnistInput(pixels: Uint8Array, i: number): Float32Array {
  const x = new Float32Array(784);
  for (let k = 0; k < 784; k++) x[k] = Math.fround(pixels[i * 784 + k]! / 255);
  return x;
}
