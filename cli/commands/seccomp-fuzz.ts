// `bpfspec fuzz --path seccomp` and `bpfspec kdiff --path seccomp`: the seccomp campaign and the live
// seccomp oracle (fuzz/seccomp), with the socket commands' budget, seed and worker flags.
import { cpus } from 'node:os';
import { runSeccompCampaign } from '../../fuzz/seccomp/campaign.js';
import { runSeccompKdiff } from '../../fuzz/seccomp/kdiff.js';
import { ensureSeccompOracle, SeccompOracle } from '../../oracle/seccomp/driver.js';
import { InputError } from '../io.js';
import { budgetOptions, positiveInt } from './fuzz.js';

export interface SeccompCampaignFlags {
  readonly time?: string;
  readonly runs?: string;
  readonly seed?: string;
  readonly workers?: string;
  readonly json?: boolean;
}

/** --time/--runs/--seed as the socket commands validate them (cli/commands/fuzz.ts budgetOptions). */
function budget(o: SeccompCampaignFlags): { runs: number | null; timeMs: number | null; seed: number } {
  const { runs, timeMs, seed } = budgetOptions({ time: o.time, runs: o.runs, seed: o.seed });
  return { runs, timeMs, seed };
}

export async function runSeccompFuzzCli(o: SeccompCampaignFlags): Promise<number> {
  const b = budget(o);
  const workers = o.workers === undefined ? Math.max(1, cpus().length) : positiveInt('--workers', o.workers, 256);
  const r = await runSeccompCampaign({ seed: b.seed, runs: b.runs, timeMs: b.timeMs, workers, inputsPerCase: 4, chunkSize: 256 });
  const s = r.stats;
  if (o.json) process.stdout.write(`${JSON.stringify({ path: 'seccomp', seed: r.seed, elapsedMs: r.elapsedMs, stats: s, findings: r.findings }, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}\n`);
  else {
    process.stdout.write(
      `seccomp campaign seed ${r.seed}: ${s.cases} cases (${s.valid} valid stacks of ${s.filters} filters, ${s.invalid} invalid) in ${(r.elapsedMs / 1000).toFixed(1)} s, ${s.inputs} inputs\n` +
        `  actions: ${Object.entries(s.actions).map(([k, v]) => `${k} ${v}`).join(', ')}\n` +
        `  cache: ${s.cacheMarked} numbers marked always allowed in ${s.cacheStacks} stacks, property checked on ${s.cacheChecks} calls, ${s.cacheHits} inputs answered by the cache\n` +
        `  findings: ${r.findings.length}\n`,
    );
    for (const f of r.findings) process.stdout.write(`  ${f.finding.property}: ${f.finding.detail} (chunk ${f.chunk}, seed ${f.seed}, path ${f.path})\n`);
  }
  return r.findings.length > 0 ? 1 : 0;
}

export async function runSeccompKdiffCli(o: SeccompCampaignFlags): Promise<number> {
  const b = budget(o);
  const built = ensureSeccompOracle();
  if (!built.ok) throw new InputError(`kdiff --path seccomp needs ${built.missing}`);
  const oracle = new SeccompOracle(built.path);
  try {
    const r = await runSeccompKdiff(oracle, { seed: b.seed, runs: b.runs, timeMs: b.timeMs, inputsPerCase: 4 });
    const s = r.stats;
    if (o.json) process.stdout.write(`${JSON.stringify({ path: 'seccomp', ...r }, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}\n`);
    else {
      process.stdout.write(
        `seccomp kdiff seed ${r.seed}: ${s.cases} cases, ${s.filters} filters, ${s.verdicts} verdicts, ${s.values} exact results, ${s.actions} outcomes compared (${s.cached} answered by the cache), ${s.notComparable} not comparable, in ${(r.elapsedMs / 1000).toFixed(1)} s\n` +
          `  outcomes: ${Object.entries(s.byAction).map(([k, v]) => `${k} ${v}`).join(', ')}\n` +
          r.notes.map((n) => `  note: ${n}\n`).join('') +
          `  mismatches: ${r.mismatches.length}\n`,
      );
      for (const m of r.mismatches.slice(0, 20)) process.stdout.write(`  ${m.what}: ${m.detail}\n`);
    }
    return r.mismatches.length > 0 ? 1 : 0;
  } finally {
    await oracle.close();
  }
}
