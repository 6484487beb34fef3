// Run async jobs with bounded concurrency (the machine has few cores; zig and QEMU are CPU-bound).

import { availableParallelism } from 'node:os';

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return results;
}

export const CPU_COUNT = Math.max(1, availableParallelism());
