// #16 defect 9: a real Ctrl-C (SIGINT to the whole process group, children included) during `fuzz`,
// `fuzz --coverage` and `kdiff` stops the campaign cleanly: the summary is printed, the exit code is
// the campaign's (0 or 1), no stack, no internal error. The command runs in a process group of its
// own here, so that the signal reaches it and everything it started, as a terminal's Ctrl-C does.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelOracle } from '../../oracle/kernel/judge.js';
import { projectRoot } from '../_shared.js';
import { requiresSerial } from '../_skip.js';
import { cliPath } from '../cli/_run.js';
import test from 'ava';

const probe = await KernelOracle.open(0);
const liveMissing = 'missing' in probe ? `the live kernel oracle: ${probe.missing}` : null;
if (!('missing' in probe)) await probe.close();

interface Interrupted {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** milliseconds from the SIGINT to the exit */
  readonly stopMs: number;
}

/** Start the command in its own process group; once stderr matches `ready`, wait `afterMs` and SIGINT the group. */
function interrupt(args: readonly string[], ready: RegExp, afterMs: number): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: projectRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    let armed = false;
    const give = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone already
      }
      reject(new Error(`no exit within 180 s; stderr: ${stderr.slice(-2000)}`));
    }, 180_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!armed && ready.test(stderr)) {
        armed = true;
        setTimeout(() => {
          sentAt = Date.now();
          process.kill(-child.pid!, 'SIGINT');
        }, afterMs);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(give);
      resolve({ code, signal, stdout, stderr, stopMs: sentAt === 0 ? -1 : Date.now() - sentAt });
    });
  });
}

function cleanStop(t: import('ava').ExecutionContext, r: Interrupted, summary: RegExp): void {
  t.is(r.signal, null, `killed by ${r.signal}; stderr: ${r.stderr.slice(-1000)}`);
  t.true(r.code === 0 || r.code === 1, `exit ${r.code}; stderr: ${r.stderr.slice(-1000)}`);
  t.true(r.stopMs >= 0, 'the SIGINT was sent before the end');
  t.regex(r.stdout, summary);
  t.regex(r.stderr, /stopping \(SIGINT\)/);
  t.notRegex(r.stderr, /internal error|EPIPE|\n\s+at \S+ \(/);
}

test('Ctrl-C during fuzz --coverage ends with the coverage report', async (t) => {
  const r = await interrupt(['fuzz', '--coverage', '--time', '120s', '--seed', '1'], /bpfspec fuzz --coverage: seed/, 3000);
  cleanStop(t, r, /cases, .* pairs, \d+ findings \(interrupted\)\nfeatures reached: /);
  t.regex(r.stdout, /model branch coverage/);
});

test('Ctrl-C during fuzz ends with the summary', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sigint-'));
  const r = await interrupt(['fuzz', '--time', '120s', '--seed', '1', '--workers', '1', '--corpus', dir], /bpfspec fuzz: seed/, 2000);
  cleanStop(t, r, /^seed 1 \(interrupted\): /);
});

requiresSerial(liveMissing, 'Ctrl-C during kdiff (the oracles in the group too) ends with the summary', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sigint-'));
  const r = await interrupt(['kdiff', '--time', '120s', '--seed', '1', '--workers', '1', '--corpus', dir], /bpfspec kdiff: seed/, 3000);
  cleanStop(t, r, /seed 1 \(interrupted\)/);
});
