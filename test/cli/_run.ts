// Running the bpfspec command in tests: as a real process (spawn), or in this process through
// main(argv, io) with captured streams (fast: no Node start-up per run).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { main } from '../../cli/main.js';
import { projectRoot } from '../_shared.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** wall-clock milliseconds the run took */
  readonly ms: number;
}

export const cliPath = resolve(projectRoot, 'dist/cli/main.js');

/** Run the command as a user would: a new Node process. */
export function spawnCli(args: readonly string[], input?: string | Uint8Array, timeoutMs = 120_000): CliResult & { signal: NodeJS.Signals | null } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cliPath, ...args], { input, encoding: 'utf8', cwd: projectRoot, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: performance.now() - t0, signal: r.signal };
}

async function* chunks(input: string | Uint8Array | readonly (string | Uint8Array)[]): AsyncGenerator<Buffer> {
  const list = typeof input === 'string' || input instanceof Uint8Array ? [input] : input;
  for (const c of list) yield Buffer.from(c);
}

/** Run the command in this process (main with captured streams); stdin is the given text or chunks. */
export async function runCli(args: readonly string[], input: string | Uint8Array | readonly (string | Uint8Array)[] = ''): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const t0 = performance.now();
  const code = await main(args, {
    out: (s) => out.push(typeof s === 'string' ? s : Buffer.from(s).toString('latin1')),
    err: (s) => err.push(s),
    stdin: chunks(input),
  });
  return { code, stdout: out.join(''), stderr: err.join(''), ms: performance.now() - t0 };
}
