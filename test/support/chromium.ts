// Headless Chromium (Debian's `chromium`, installed by scripts/setup.sh) driven over the DevTools
// protocol on a pipe (--remote-debugging-pipe: JSON messages separated by NUL bytes on fds 3 and 4),
// so tests can open a page, evaluate JavaScript in it and take screenshots with no npm dependency
// and no network. Missing Chromium is a failure with an install hint, never a skip.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { findOnPath } from '../../compiler/toolchain/zig.ts';

const CHROMIUM_HINT = "install Debian's chromium (`bash scripts/setup.sh`, or `apt-get install chromium`)";

function requireChromium(): string {
  const path = ['/usr/bin/chromium', findOnPath('chromium'), findOnPath('chromium-browser')].find((p) => p && existsSync(p));
  if (!path) throw new Error(`Chromium was not found: ${CHROMIUM_HINT}`);
  return path;
}

export class Browser {
  private next = 1;
  private buffer = '';
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private waiters: { method: string; resolve: (params: unknown) => void }[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const input = child.stdio[4] as Readable;
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buffer.slice(0, at)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown };
        this.buffer = this.buffer.slice(at + 1);
        if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new Error(msg.error.message));
          else p?.resolve(msg.result);
        } else if (msg.method) {
          const i = this.waiters.findIndex((w) => w.method === msg.method);
          if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg.params);
        }
      }
    });
  }

  static launch(): Browser {
    const exe = requireChromium();
    const profile = mkdtempSync(join(tmpdir(), 'tritc-chromium-'));
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      'about:blank',
    ];
    const child = spawn(exe, args, { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    return new Browser(child, profile);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.next++;
    const out = this.child.stdio[3] as Writable;
    out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    return new Promise((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  private event(method: string): Promise<unknown> {
    return new Promise((resolve) => this.waiters.push({ method, resolve }));
  }

  /** Open `url` in a new page of the given viewport and wait for its load event. */
  async open(url: string, width = 1280, height = 900): Promise<Page> {
    const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    await this.send('Page.enable', {}, sessionId);
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
    const loaded = this.event('Page.loadEventFired');
    await this.send('Page.navigate', { url }, sessionId);
    await loaded;
    return new Page(this, sessionId);
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => (this.child.exitCode !== null ? r(null) : this.child.once('exit', r)));
    try {
      await Promise.race([this.send('Browser.close'), new Promise((r) => setTimeout(r, 3000))]);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    } finally {
      this.child.kill('SIGKILL');
      await exited;
      rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  }
}

export class Page {
  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
  ) {}

  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.browser.send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true },
      this.sessionId,
    );
    if (r.exceptionDetails) throw new Error(`page script failed: ${r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** A PNG of the whole page. */
  async screenshot(): Promise<Buffer> {
    const r = await this.browser.send<{ data: string }>('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, this.sessionId);
    return Buffer.from(r.data, 'base64');
  }
}
