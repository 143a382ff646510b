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

interface Capture {
  readonly out: string[];
  readonly err: string[];
}

/**
 * Writes to the process's own streams during in-process runs (commands that print directly: seccomp,
 * campaign progress) go to the run that started last among those still running. The streams are
 * patched while any run is active (runs of one test file may overlap) and restored after the last.
 */
const active: Capture[] = [];
let saved: { out: typeof process.stdout.write; err: typeof process.stderr.write } | null = null;
const text = (c: unknown): string => (typeof c === 'string' ? c : Buffer.from(c as Uint8Array).toString('latin1'));

function capture(c: Capture): void {
  if (active.length === 0) {
    saved = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = ((x: unknown) => (active.at(-1)?.out.push(text(x)), true)) as typeof process.stdout.write;
    process.stderr.write = ((x: unknown) => (active.at(-1)?.err.push(text(x)), true)) as typeof process.stderr.write;
  }
  active.push(c);
}

function release(c: Capture): void {
  active.splice(active.indexOf(c), 1);
  if (active.length === 0 && saved !== null) {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    saved = null;
  }
}

/** Run the command in this process (main with captured streams); stdin is the given text or chunks. */
export async function runCli(args: readonly string[], input: string | Uint8Array | readonly (string | Uint8Array)[] = ''): Promise<CliResult> {
  const c: Capture = { out: [], err: [] };
  const t0 = performance.now();
  capture(c);
  let code: number;
  try {
    code = await main(args, {
      out: (s) => c.out.push(text(s)),
      err: (s) => c.err.push(s),
      stdin: chunks(input),
    });
  } finally {
    release(c);
  }
  return { code, stdout: c.out.join(''), stderr: c.err.join(''), ms: performance.now() - t0 };
}
