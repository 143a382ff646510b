// The live kernel under net.core.bpf_jit_harden 1 and 2 (#14): the JIT facts are still read (the
// probes load with the sysctl at 0 in a window of their own: oracle/kernel/jitfacts.ts), and an oracle
// whose attaches run under a harden of its own (KernelOracle.open `harden`, kdiff --jit-harden)
// agrees with the model's blinded charge. The machine's sysctl is changed only inside windows: the
// shared harden lock (oracle/kernel/harden_lock.h) held exclusively (by `flock` for the machine-wide
// case, so other engineers' live oracles wait instead of being blinded) and restored at once.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requires, requiresSerial } from '../_skip.js';
import { JitImageOracle } from '../../oracle/kernel/jitimage.js';
import { liveJitFacts } from '../../oracle/kernel/jitfacts.js';
import { KernelOracle } from '../../oracle/kernel/judge.js';
import { JIT_HARDEN_LOCK, readJitHarden } from '../../oracle/kernel/sockopt.js';
import { skAttachFilter } from '../../model/attach.js';
import { PROFILE_V6_18 } from '../../model/kernel.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { X86JitFacts } from '../../model/jit/facts.js';
import { spawnCli } from '../cli/_run.js';

const root = process.getuid?.() === 0;
const flock = spawnSync('flock', ['--version'], { stdio: 'ignore' }).status === 0;
/** The sysctl read under the harden lock held shared: never inside another process's window. */
function settledHarden(): number | null {
  if (!flock) return readJitHarden();
  const r = spawnSync('flock', ['-s', '-w', '120', JIT_HARDEN_LOCK, 'cat', '/proc/sys/net/core/bpf_jit_harden'], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}
const harden0 = settledHarden();
const images = root && process.arch === 'x64' ? await JitImageOracle.open() : { missing: root ? 'x86-64' : 'root (to set net.core.bpf_jit_harden)' };
const facts0: X86JitFacts | { missing: string } = 'missing' in images ? images : await liveJitFacts(images);
if (!('missing' in images)) await images.close();
const missing =
  harden0 === null ? 'net.core.bpf_jit_harden (readable)' : !flock ? 'flock(1) (util-linux)' : 'missing' in facts0 ? `the live JIT facts at bpf_jit_harden ${harden0}: ${facts0.missing}` : null;

const PROBE = fileURLToPath(new URL('./_jitfacts-probe.js', import.meta.url));

/** Run the probe with the machine's bpf_jit_harden at `h`, holding the shared lock exclusively. */
function probeUnder(h: number): { harden: number; facts: X86JitFacts | { missing: string }; plainShape: unknown; after: number } {
  const script = [
    'S=/proc/sys/net/core/bpf_jit_harden; b=$(cat $S)',
    'trap \'echo "$b" > $S\' EXIT; trap \'echo "$b" > $S; exit 130\' INT TERM HUP',
    `echo ${h} > $S`,
    `BPFSPEC_JIT_HARDEN_LOCK=$(mktemp) "${process.execPath}" "${PROBE}"`,
  ].join('\n');
  const r = spawnSync('flock', ['-w', '120', JIT_HARDEN_LOCK, 'bash', '-c', script], { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`probe under bpf_jit_harden ${h}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof probeUnder>;
}

for (const h of [1, 2]) {
  requiresSerial(missing, `the JIT facts are read under bpf_jit_harden ${h} (probe loads in a harden-0 window) and equal those at 0; the sysctl is restored`, (t) => {
    const r = probeUnder(h);
    t.is(r.harden, h);
    t.deepEqual(r.facts, facts0);
    // inside the window and after it the machine's value is back
    t.is(r.after, h);
    t.is(settledHarden(), harden0);
    // without the window: root's probe image is blinded under 2 (no shape is recognised), plain under 1
    if (h === 2) t.is(r.plainShape, null);
    else t.not(r.plainShape, null);
  });
}

const ld = (n: number): Program => [...Array.from({ length: n }, () => ({ code: 0x20, jt: 0, jf: 0, k: 1 })), { code: 0x16, jt: 0, jf: 0, k: 0 }];

requiresSerial(missing, 'an oracle attaching under bpf_jit_harden 2 (a window per attach) meets the blinded charge where the model does (n x ld [1] + ret a)', async (t) => {
  const o = await KernelOracle.open(0, 'auto', 2);
  if ('missing' in o) return t.fail(o.missing);
  const cfg = { ...PROFILE_V6_18, optmemMax: 131072, bpfJitHarden: 2 };
  const attaches = (n: number): number => {
    const r = skAttachFilter(ld(n), cfg);
    return 'ok' in r ? 0 : -r.errno;
  };
  // the model's last n that fits blinded, and the unblinded last one (1168 on 6.18: 131072 bytes)
  let n = 1;
  let bad = 1169;
  while (bad - n > 1) {
    const m = (n + bad) >> 1;
    if (attaches(m) === 0) n = m;
    else bad = m;
  }
  t.true(n < 1100, `blinded limit ${n}`);
  try {
    const ns = [n - 1, n, n + 1, n + 2, 1168];
    const v = await o.verdicts(ns.map(ld));
    t.deepEqual(v, ns.map(attaches));
    t.deepEqual(v.slice(0, 4), [0, 0, 12, 12]);
  } finally {
    await o.close();
  }
  t.is(settledHarden(), harden0);
});

test('kdiff --jit-harden: a bad value is one bpfspec: line, exit 2, before any oracle starts', (t) => {
  for (const bad of ['3', '-1', 'x', '__proto__']) {
    const r = spawnCli(['kdiff', '--runs', '1', '--jit-harden', bad, '--corpus', mkdtempSync(join(tmpdir(), 'bpfspec-kdh-'))]);
    t.is(r.code, 2, bad);
    t.deepEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, /^bpfspec: --jit-harden .*expected 0, 1 or 2/, bad);
  }
});

requires(process.getuid?.() === 0 ? null : 'root (the live oracle attaching as root)', 'kdiff --unprivileged with the live kernel judge run as root: one bpfspec: line, exit 2 (its attaches are privileged)', (t) => {
  const r = spawnCli(['kdiff', '--runs', '1', '--unprivileged', '--corpus', mkdtempSync(join(tmpdir(), 'bpfspec-kdu-'))]);
  t.is(r.code, 2, r.stderr);
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  t.regex(r.stderr, /^bpfspec: --unprivileged: not with the live kernel as judge run as root/);
});

requiresSerial(missing, 'kdiff --jit-harden 2: the model and the kernel at 2 (windows per attach) agree; the machine keeps its value', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-kdh-'));
  const r = spawnCli(['kdiff', '--runs', '64', '--seed', '5', '--workers', '1', '--jit-harden', '2', '--corpus', dir, '--json'], undefined, 600_000);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { cases: number; kernel: { bpf_jit_harden: number }; findings: unknown[] };
  t.is(j.cases, 64);
  t.is(j.kernel.bpf_jit_harden, 2);
  t.deepEqual(j.findings, []);
  t.regex(r.stderr, /bpf_jit_harden 2 \(set for each attach\)/);
  t.regex(r.stderr, /x86-64 JIT \(model\/jit\)/); // the JIT's facts were read: its passes are modelled
  t.is(settledHarden(), harden0);
});
