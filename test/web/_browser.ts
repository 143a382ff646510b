// Headless Chromium from Debian (apt-get install chromium), driven by playwright-core with the system
// executable: no browser download. `chromiumMissing` names what is missing when it cannot run here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { projectRoot } from '../_shared.js';

export const CHROMIUM = process.env.BPFSPEC_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export const chromiumMissing: string | null = (() => {
  if (!existsSync(CHROMIUM)) return `Debian package chromium (${CHROMIUM}; apt-get install chromium)`;
  const r = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) return `a working ${CHROMIUM} (--version failed: ${(r.stderr || r.error?.message || '').trim().slice(0, 100)})`;
  return null;
})();

/**
 * The flags for a closed network and root: without the background-networking ones Chromium's own
 * connections are refused and it stalls; --no-sandbox because the tests run as root.
 */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Screenshots of the test runs (not committed: reports/ is ignored by git). */
export const SCREENSHOT_DIR = join(projectRoot, 'reports', 'web-screenshots');

/** A fresh browser (own user-data-dir, removed on close). */
export async function launch(): Promise<{ ctx: BrowserContext; close: () => Promise<void> }> {
  const userDir = mkdtempSync(join(tmpdir(), 'bpfspec-chromium-'));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1500, height: 1000 },
  });
  return {
    ctx,
    close: async () => {
      await ctx.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return join(SCREENSHOT_DIR, `${name}.png`);
}
