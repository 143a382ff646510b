// `bpfspec fuzz --path seccomp` and `bpfspec kdiff --path seccomp`: the seccomp campaigns, with the
// socket commands' budget, seed, worker, judge and corpus flags. Without other judges, `fuzz` runs
// the spec's seccomp properties in worker threads (fuzz/seccomp/campaign.ts); with `--judges` (the
// live kernel `live`, registered here), and for `kdiff`, it is the batched seccomp campaign
// (fuzz/seccomp/batched.ts): every judge compared with the spec judge it names.
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { PROFILE_V6_18 } from '../../model/kernel.js';
import type { SeccompData } from '../../model/seccomp/data.js';
import { type SeccompHost } from '../../model/seccomp/host.js';
import { writeEntry } from '../../fuzz/corpus.js';
import { startSeccompBatched, type SeccompBatchedFinding, type SeccompBatchedSummary, type SeccompLane } from '../../fuzz/seccomp/batched.js';
import { runSeccompCampaign, type SeccompCampaignFinding } from '../../fuzz/seccomp/campaign.js';
import { makeSeccompEntry } from '../../fuzz/seccomp/corpus.js';
import { knownSeccompJudgeNames, openableSeccompJudge, registerSeccompJudge, SECCOMP_SPEC_JUDGES } from '../../fuzz/seccomp/judges.js';
import { LiveSeccompJudge } from '../../oracle/seccomp/judge.js';
import { InputError } from '../io.js';
import { budgetOptions, sigintStop } from './fuzz.js';
import { printSeccompTools } from './seccomp-tools.js';

// The running kernel, for `--judges live` and kdiff --path seccomp: one oracle process per lane.
registerSeccompJudge({
  name: 'live',
  against: 'kernel',
  description: 'the running kernel: seccomp(2) in forked children, calls made in a sandbox (oracle/seccomp)',
  open: async () => {
    const j = await LiveSeccompJudge.open();
    return 'missing' in j ? { missing: `the live seccomp oracle: ${j.missing}` } : j;
  },
});

export interface SeccompCampaignFlags {
  readonly time?: string;
  readonly runs?: string;
  readonly seed?: string;
  readonly workers?: string;
  readonly judges?: string;
  readonly corpus?: string;
  readonly json?: boolean;
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v);

/** The --judges list with --path seccomp: names other than the spec judges (classic, kernel), in order. */
export function seccompJudgeNames(text: string | undefined): string[] {
  if (text === undefined) return [];
  const known = knownSeccompJudgeNames();
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const n = raw.trim();
    if (n === '') continue;
    if (!known.has(n)) throw new InputError(`--judges: unknown seccomp judge '${n.slice(0, 40)}' (known: ${[...known].join(', ')})`);
    if (!SECCOMP_SPEC_JUDGES.includes(n) && !out.includes(n)) out.push(n);
  }
  return out;
}

/** Write a finding as a seccomp corpus entry; returns its path (or the reason it could not be written). */
function saveEntry(dir: string, filters: readonly Program[], input: SeccompData | null, title: string, property: string, message: string, host: SeccompHost, origin: Record<string, unknown>): string {
  try {
    mkdirSync(dir, { recursive: true });
    const e = makeSeccompEntry({
      kind: 'finding',
      title: title.slice(0, 200),
      filters,
      inputs: input ? [input] : [],
      host,
      property,
      message,
      asm: printSeccompTools(filters[0]!),
      origin: { bpfspec: 'seccomp', ...origin },
    });
    return writeEntry(dir, e).path;
  } catch (err) {
    return `not written: ${(err as Error).message}`;
  }
}

/** `fuzz --path seccomp`; the summary goes to `out` (main's standard output). */
export async function runSeccompFuzzCli(o: SeccompCampaignFlags, out: (s: string) => void): Promise<number> {
  const b = budgetOptions(o);
  const extra = seccompJudgeNames(o.judges);
  if (extra.length > 0) return runBatchedCli('fuzz', extra, o, out);
  const r = await runSeccompCampaign({ seed: b.seed, runs: b.runs, timeMs: b.timeMs, workers: b.workers, inputsPerCase: 4, chunkSize: 256 });
  const s = r.stats;
  const saved = r.findings.map((f: SeccompCampaignFinding) =>
    saveEntry(o.corpus ?? 'corpus/findings', f.finding.filters, f.finding.input, `${f.finding.property}: ${f.finding.detail}`, f.finding.property, f.finding.detail, X86_64.seccompHost, {
      seed: f.seed,
      path: f.path,
      source: `bpfspec fuzz --path seccomp --seed ${r.seed} (chunk ${f.chunk})`,
    }),
  );
  if (o.json) out(`${JSON.stringify({ path: 'seccomp', seed: r.seed, elapsedMs: r.elapsedMs, stats: s, findings: r.findings.map((f, i) => ({ ...f, file: saved[i] })) }, big)}\n`);
  else {
    out(
      `seccomp campaign seed ${r.seed}: ${fmt(s.cases)} cases (${fmt(s.valid)} valid stacks of ${fmt(s.filters)} filters, ${fmt(s.invalid)} invalid) in ${(r.elapsedMs / 1000).toFixed(1)} s, ${fmt(s.inputs)} inputs\n` +
        `  judges: classic, kernel (the spec's seccomp judges)\n` +
        `  actions: ${Object.entries(s.actions).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}\n` +
        `  cache: ${fmt(s.cacheMarked)} numbers marked always allowed in ${fmt(s.cacheStacks)} stacks, property checked on ${fmt(s.cacheChecks)} calls, ${fmt(s.cacheHits)} inputs answered by the cache\n` +
        `  findings: ${r.findings.length}\n`,
    );
    r.findings.forEach((f, i) => out(`  ${f.finding.property}: ${f.finding.detail} (chunk ${f.chunk}, seed ${f.seed}, path ${f.path}) -> ${saved[i]}\n`));
  }
  return r.findings.length > 0 ? 1 : 0;
}

export function runSeccompKdiffCli(o: SeccompCampaignFlags, out: (s: string) => void): Promise<number> {
  return runBatchedCli('kdiff', ['live'], o, out);
}

/** The batched seccomp campaign with `names` opened once per lane. */
async function runBatchedCli(command: 'fuzz' | 'kdiff', names: readonly string[], o: SeccompCampaignFlags, out: (s: string) => void): Promise<number> {
  const b = budgetOptions(o);
  const workers = o.workers === undefined ? Math.min(2, availableParallelism()) : b.workers;
  // the live kernel is the host of its own action cache (6.18 here: the uprobe exceptions)
  const host = names.includes('live') ? PROFILE_V6_18.seccompHost : X86_64.seccompHost;
  const lanes: SeccompLane[] = [];
  const opened: { close(): Promise<void> }[] = [];
  try {
    for (let lane = 0; lane < workers; lane++) {
      const judges = [];
      for (const name of names) {
        const entry = openableSeccompJudge(name)!;
        const j = await entry.open({ config: X86_64, host, lane, lanes: workers });
        if ('missing' in j) throw new InputError(`${command} --path seccomp: judge ${name} needs ${j.missing}`);
        opened.push(j);
        judges.push({ judge: j, against: entry.against });
      }
      lanes.push({ judges });
    }
    const run = startSeccompBatched({ seed: b.seed, runs: b.runs, timeMs: b.timeMs, inputsPerCase: 4, chunkSize: 64, batch: 8, host }, lanes);
    const sigint = sigintStop('batches');
    sigint.attach(() => run.stop());
    let r: Awaited<typeof run.done>;
    try {
      r = await run.done;
    } finally {
      sigint.dispose();
    }
    const dir = o.corpus ?? 'corpus/findings';
    const saved = r.findings.map((f) => saveBatched(f, dir, host, r.seed, command));
    out(o.json ? `${JSON.stringify({ path: 'seccomp', command, judges: names, host: host.name, ...r, findings: r.findings.map((f, i) => ({ ...f, file: saved[i] })) }, big)}\n` : batchedText(command, names, host, r, saved));
    return r.findings.length > 0 ? 1 : 0;
  } finally {
    await Promise.all(opened.map((j) => j.close()));
  }
}

function saveBatched(f: SeccompBatchedFinding, dir: string, host: SeccompHost, seed: number, command: string): string {
  const origin = { seed: f.seed, path: f.path, source: `bpfspec ${command} --path seccomp --seed ${seed} (chunk ${f.chunk})` };
  if (f.kind === 'spec') return saveEntry(dir, f.finding.filters, f.finding.input, `${f.finding.property}: ${f.finding.detail}`, f.finding.property, f.finding.detail, host, origin);
  const m = f.mismatch;
  return saveEntry(dir, m.filters, m.input, `${m.judge} ${m.kind}: ${m.message}`, 'judge', `${m.judge} (against ${m.against}) ${m.kind}: ${m.message}`, host, origin);
}

/** The summary a person reads. */
export function batchedText(command: string, names: readonly string[], host: SeccompHost, r: SeccompBatchedSummary, saved: readonly string[]): string {
  const s = r.stats;
  const lines = [
    `seccomp ${command} seed ${r.seed}: ${fmt(s.cases)} cases (${fmt(s.stacks)} stacks, ${fmt(s.invalid)} invalid filters; ${fmt(s.filters)} judge cases) in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.lanes} lane(s)${r.interrupted ? ', interrupted' : ''}`,
    `  judges: classic, kernel (spec; host ${host.name}), ${names.join(', ')}`,
  ];
  for (const [name, j] of Object.entries(s.judges)) {
    lines.push(`  ${name}: ${fmt(j.cases)} verdicts, ${fmt(j.pairs)} results compared (${fmt(j.exact)} exact), ${fmt(j.none)} not comparable${j.none > 0 ? ` (${Object.entries(j.noneReasons).map(([k, v]) => `${k}: ${fmt(v)}`).join('; ')})` : ''}`);
    lines.push(`    outcomes compared: ${fmt(j.outcomes)} (${Object.entries(j.byAction).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'}), ${fmt(j.cached)} answered by the action cache`);
    if (Object.keys(j.outcomeNone).length > 0) lines.push(`    outcomes not comparable: ${Object.entries(j.outcomeNone).map(([k, v]) => `${k}: ${fmt(v)}`).join('; ')}`);
    if (Object.keys(j.counters).length > 0) lines.push(`    ${Object.entries(j.counters).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`);
  }
  lines.push(`  mismatches and findings: ${r.findings.length}`);
  r.findings.forEach((f, i) => lines.push(`  ${f.kind === 'judge' ? `${f.mismatch.judge} ${f.mismatch.kind}: ${f.mismatch.message}` : `${f.finding.property}: ${f.finding.detail}`} (chunk ${f.chunk}, seed ${f.seed}, path ${f.path}) -> ${saved[i]}`));
  return `${lines.join('\n')}\n`;
}
