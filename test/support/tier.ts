// How much of the suite runs (`npm run test:fast`, `test:host`, `npm test`), and how many random
// cases the randomized tests draw.
//
//   TRITC_TEST_TIER=fast   pure TypeScript files (vitest.config.ts lists them), fewer random cases
//   TRITC_TEST_TIER=host   plus Zig and the host C (no QEMU, no Chromium)
//   (unset)                everything: every QEMU target and Chromium; what CI runs
//   TRITC_TEST_SCALE=k     multiplies the random-case counts (default 1; 0.25 in the fast tier), e.g.
//                          TRITC_TEST_SCALE=10 npm test for a long campaign

type Tier = 'fast' | 'host' | 'all';

const TIER: Tier = ((): Tier => {
  const t = process.env.TRITC_TEST_TIER ?? 'all';
  if (t !== 'fast' && t !== 'host' && t !== 'all') throw new Error(`TRITC_TEST_TIER must be fast, host or all, found "${t}"`);
  return t;
})();

const SCALE = ((): number => {
  const s = Number(process.env.TRITC_TEST_SCALE ?? (TIER === 'fast' ? 0.25 : 1));
  if (!(s > 0)) throw new Error(`TRITC_TEST_SCALE must be a positive number, found "${process.env.TRITC_TEST_SCALE}"`);
  return s;
})();

/** A random-case count scaled for the tier (at least 1). */
export function scaled(n: number): number {
  return Math.max(1, Math.round(n * SCALE));
}
