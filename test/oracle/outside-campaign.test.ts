// A bounded campaign against each outside judge (5,000 cases each, fixed seeds): every difference
// from Linux is catalogued (no finding), and the campaign executes every opcode the implementation
// supports (the coverage report, logged). Skipped, naming the Debian package, where an
// implementation is not installed.
import { OutsideJudge } from '../../oracle/outside/judge.js';
import { outsideMissing, outsideSpec } from '../../oracle/outside/registry.js';
import { opcodeCoverage, runImplCampaign } from '../../fuzz/impl/campaign.js';
import type { ImplName } from '../../fuzz/impl/catalogue.js';
import { X86_64 } from '../../model/config.js';
import { requiresSerial } from '../_skip.js';

const RUNS = 5000;
const SEEDS: Readonly<Record<ImplName, number>> = { libpcap: 1301, dpdk: 1302, 'dpdk-jit': 1303, xnet: 1304 };

for (const impl of ['libpcap', 'dpdk', 'dpdk-jit', 'xnet'] as const) {
  requiresSerial(outsideMissing(outsideSpec(impl)!), `${impl}: ${RUNS} cases, every difference catalogued, every supported opcode reached`, async (t) => {
    t.timeout(20 * 60_000);
    const j = await OutsideJudge.open(outsideSpec(impl)!);
    if ('missing' in j) throw new Error(j.missing);
    try {
      const r = await runImplCampaign(j, impl, { seed: SEEDS[impl], runs: RUNS, timeMs: null, packetsPerProgram: 4, config: X86_64, chunkSize: 256, maxShrinkCalls: 300 });
      const cov = opcodeCoverage(impl, r.executed);
      const missed = cov.filter((c) => c.count === 0).map((c) => `0x${c.code.toString(16)}`);
      t.log(`${j.hello.implementation} ${j.hello.version}: ${r.cases} cases, ${r.stats.pairs} packet runs, ${r.stats.agreed} identical to Linux, ${r.elapsedMs} ms`);
      t.log(`differences: ${JSON.stringify(r.stats.differences)}`);
      if (r.conversion) t.log(`conversion: ${JSON.stringify(r.conversion)}`);
      if (r.jitVsInterp) t.log(`JIT vs interpreter: ${JSON.stringify(r.jitVsInterp)}`);
      t.log(`opcodes reached: ${cov.length - missed.length} of ${cov.length}`);
      t.deepEqual(
        r.findings.map((f) => f.finding.message),
        [],
      );
      t.is(r.cases, RUNS);
      t.deepEqual(missed, []);
      t.true(r.stats.pairs > RUNS / 2, `${r.stats.pairs} packet runs compared`);
      if (r.conversion) t.deepEqual(Object.keys(r.conversion.mismatches).filter((k) => k === 'unexplained'), []);
      if (r.jitVsInterp) t.is(r.jitVsInterp.differ.unexplained ?? 0, 0);
    } finally {
      await j.close();
    }
  });
}
