// npm run docs:report: regenerate docs/report-digits-mlp.png, the screenshot of report.html in
// docs/memory.md and the README: compile examples/digits-mlp for cortex-m4 with --report and take
// a full-page picture in headless Chromium.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../compiler/cli/main.ts';
import { PROJECT_ROOT } from '../compiler/targets.ts';
import { Browser } from '../test/support/chromium.ts';

process.chdir(PROJECT_ROOT); // so that the page names the model by its path in the repository
const dir = mkdtempSync(join(tmpdir(), 'tritc-report-shot-'));
try {
  const code = await main(['compile', 'examples/digits-mlp', '--target', 'cortex-m4', '-o', join(dir, 'out'), '--report']);
  if (code !== 0) process.exit(code);
  const browser = Browser.launch();
  try {
    const page = await browser.open(`file://${join(dir, 'out', 'report.html')}`, 1100, 900);
    const file = join(PROJECT_ROOT, 'docs', 'report-digits-mlp.png');
    writeFileSync(file, await page.screenshot());
    console.log(`wrote ${file}`);
  } finally {
    await browser.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
