// A bounded kdiff run against the live kernel: at least 5,000 cases, no unexplained mismatch.
// Skipped with a message naming what is missing (not Linux, no C compiler, no permission).
import test from 'ava';
import { requires } from '../_skip.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKdiff, consistent, mergeKdiffStats, newKdiffStats } from '../../oracle/kdiff.js';
import { KernelOracle } from '../../oracle/kernel/judge.js';
import { liveConfig, readKernelParams } from '../../oracle/kernel/params.js';
import { probeBpfProgHeader } from '../../oracle/kernel/probe.js';
import { recordConfirmed } from '../../cli/commands/kdiff.js';

// Probed when the module loads, so that the live test is declared skipped (naming what is missing) when it cannot run.
const probe = await KernelOracle.open(0);
const liveMissing = 'missing' in probe ? `the live kernel oracle: ${probe.missing}` : null;
if (!('missing' in probe)) await probe.close();

// (ava needs every test declared after the last top-level await.)
test('consistent: exact must be equal; partial must respect the bound and the known bits', (t) => {
  t.true(consistent(5, { known: 'exact', value: 5 }));
  t.false(consistent(6, { known: 'exact', value: 5 }));
  const p = { known: 'partial' as const, atLeast: 0x100, mask: 0xff, bits: 0x40, reason: '' };
  t.true(consistent(0x140, p));
  t.false(consistent(0x40, p)); // below the bound
  t.false(consistent(0x141, p)); // known bits differ
  t.true(consistent(1, { known: 'send-error', errno: 90 }));
  const a = newKdiffStats();
  const b = { ...newKdiffStats(), cases: 2, confirmed: { x: 1 }, partialReasons: { y: 2 } };
  mergeKdiffStats(a, b);
  mergeKdiffStats(a, b);
  t.is(a.cases, 4);
  t.deepEqual(a.confirmed, { x: 2 });
  t.deepEqual(a.partialReasons, { y: 4 });
});

test('recordConfirmed merges counts into corpus/confirmed/<release>.json', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdiff-'));
  const p = { release: '6.18.1-x', version: 'v', arch: 'x86_64', optmemMax: 1, bpfJitEnable: 1, bpfJitHarden: 0, jitAlwaysOn: true };
  t.is(recordConfirmed(dir, p, {}), null);
  const f = recordConfirmed(dir, p, { 'dev-null-exit-a': 3 })!;
  recordConfirmed(dir, p, { 'dev-null-exit-a': 2, 'optmem-exceeded': 1 });
  const j = JSON.parse(readFileSync(f, 'utf8')) as { kernel: { release: string }; divergences: Record<string, number> };
  t.is(j.kernel.release, '6.18.1-x');
  t.deepEqual(j.divergences, { 'dev-null-exit-a': 5, 'optmem-exceeded': 1 });
});

requires(liveMissing, 'bounded kdiff: 5,120 cases against the live kernel, no unexplained mismatch', async (t) => {
  const oracles: KernelOracle[] = [];
  for (const cpu of [0, 1]) {
    const o = await KernelOracle.open(cpu);
    if ('missing' in o) throw new Error(`oracle on CPU ${cpu}: ${o.missing}`);
    oracles.push(o);
  }
  try {
    const params = readKernelParams();
    const header = await probeBpfProgHeader(oracles[0]!, liveConfig(params), params.optmemMax);
    const config = liveConfig(params, header ?? undefined);
    const s = await startKdiff({ seed: 20240601, runs: 5120, timeMs: null, workers: 2, packetsPerProgram: 16, config, chunkSize: 256, batch: 32 }, oracles).done;
    t.log(`${params.release}: ${s.stats.cases} cases, ${s.stats.pairs} pairs (${s.stats.exact} exact, ${s.stats.partial} partly known) in ${(s.elapsedMs / 1000).toFixed(1)}s; confirmed ${JSON.stringify(s.stats.confirmed)}`);
    t.is(s.stats.cases, 5120);
    t.true(s.stats.pairs > 40000);
    t.deepEqual(
      s.findings.map((f) => f.mismatch.message),
      [],
    );
  } finally {
    await Promise.all(oracles.map((o) => o.close()));
  }
});
