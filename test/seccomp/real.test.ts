// The real filters of corpus/real-filters/seccomp (Docker, Podman, systemd, libseccomp): regenerated
// from the installed packages and compared with what is stored; every system call number of x86_64
// and i386 through both spec judges and the cache property; x86_64 through the live kernel (bounded:
// Docker's default profile, one argument set per number; `bpfspec seccomp real --live` runs them all).
import test from 'ava';
import { existsSync } from 'node:fs';
import { platform } from 'node:os';
import { REAL_FILTER_SOURCES, buildRealFilter, runRealFilters, storedRealFilters, syscallSweep } from '../../cli/commands/seccomp-real.js';
import { ensureSeccompExporter } from '../../oracle/seccomp/export.js';
import { ensureSeccompOracle } from '../../oracle/seccomp/driver.js';
import { LiveSeccompJudge } from '../../oracle/seccomp/judge.js';
import { mkdtempSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires, requiresSerial } from '../_skip.js';

const DIR = 'corpus/real-filters/seccomp';
const stored = storedRealFilters(DIR);
const exporter = platform() === 'linux' ? ensureSeccompExporter() : { ok: false as const, missing: 'Linux' };
const oracle = platform() === 'linux' && existsSync('/proc/self/status') ? ensureSeccompOracle() : { ok: false as const, missing: 'Linux' };
const rootMissing = !oracle.ok ? oracle.missing : process.getuid?.() === 0 ? null : 'root (the sandbox the calls run in)';

test('the stored real filters: one entry per source, each a stack seccomp(2) installs', (t) => {
  t.deepEqual(stored.map((s) => s.name).sort(), REAL_FILTER_SOURCES.map((s) => s.name).sort());
  for (const s of stored) {
    t.true(s.filters.every((f) => f.length > 0), s.name);
    t.deepEqual(s.entry.expect.attach, { errno: 0, stage: null, rule: null, pc: null }, s.name);
  }
  t.is(stored.find((s) => s.name.startsWith('systemd-system-service'))!.filters.length, 3); // x86, x32, x86-64
});

for (const src of REAL_FILTER_SOURCES) {
  const specs = src.specs();
  const missing = !exporter.ok ? exporter.missing : 'missing' in specs ? specs.missing : null;
  requires(missing, `${src.name}: regenerated with libseccomp from ${src.from}, it is the stored program`, (t) => {
    const b = buildRealFilter(src);
    if ('missing' in b) return void t.fail(b.missing);
    const s = stored.find((x) => x.name === src.name)!;
    t.deepEqual(
      b.filters.map((f) => f.map((i) => [i.code, i.jt, i.jf, i.k >>> 0])),
      s.filters.map((f) => f.map((i) => [i.code, i.jt, i.jf, i.k >>> 0])),
    );
  });
}

test('the sweep: every number from 0 to two past the table, a few far out, zero arguments first', (t) => {
  const f = stored[0]!.filters;
  const x = syscallSweep(f, 'x86_64', 2, 1);
  t.is(x.length, 2 * (453 + 3 + 3));
  t.deepEqual(x.slice(0, 2).map((d) => d.nr), [0, 0]);
  t.deepEqual(x[0]!.args, [0n, 0n, 0n, 0n, 0n, 0n]);
  const i = syscallSweep(f, 'i386', 2, 1);
  t.true(i.every((d) => d.args.every((a) => a <= 0xffffffffn)), 'a 32-bit process passes 32-bit arguments');
});

test('every real filter, every system call number of x86_64 and i386: classic == migrated, no model fault, the cache property', async (t) => {
  const r = await runRealFilters(DIR, { perNr: 2, seed: 7, lane: null });
  t.is(r.length, stored.length);
  for (const x of r) {
    t.is(x.attach, 'installed', x.name);
    for (const [abi, m] of Object.entries(x.model)) {
      t.is(m.finding, null, `${x.name} ${abi}`);
      t.true(m.calls > 900, `${x.name} ${abi}`);
    }
  }
  // Docker's default profile: some calls denied with EPERM, most allowed, the cache marks hundreds
  const docker = r.find((x) => x.name === 'docker-default')!;
  t.true((docker.model.x86_64!.actions.errno ?? 0) > 20);
  t.true(docker.model.x86_64!.cacheMarked > 300);
});

requiresSerial(rootMissing, 'the live kernel: Docker\'s default profile on every x86_64 number gives the model\'s verdicts, exact values and outcomes (i386 model-side only where INT 0x80 is off)', async (t) => {
  const j = await LiveSeccompJudge.open();
  if ('missing' in j) return void t.fail(j.missing);
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-real-'));
  for (const s of stored.filter((x) => x.name === 'docker-default')) cpSync(s.path, join(dir, `${s.name}.json`));
  try {
    const r = await runRealFilters(dir, { perNr: 1, seed: 7, lane: { judges: [{ judge: j, against: 'kernel' }] } });
    t.is(r.length, 1);
    for (const x of r) {
      t.deepEqual(x.live!.mismatches, [], x.name);
      t.true(x.live!.exact >= 450, `${x.name}: ${x.live!.exact} exact values`);
      if (j.probe.sandboxed) t.true(x.live!.outcomes >= 440, `${x.name}: ${x.live!.outcomes} outcomes`);
      t.log(x.name, JSON.stringify(x.live));
    }
  } finally {
    await j.close();
  }
});
