// `bpfspec judges`: every judge bpfspec knows and whether it can run here (and why not); with
// --campaign NAME, a campaign against one outside implementation with its full report (differences
// by catalogue entry, the opcodes reached of what it supports, DPDK's conversion and JIT checks).
// Importing this module registers the outside judges for `bpfspec fuzz --judges ...` (fuzz/judges.ts
// registerJudge), each settling its differences through its catalogue (fuzz/impl).
import cliProgress from 'cli-progress';
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import type { KernelConfig } from '../../model/config.js';
import type { SkbInput } from '../../model/judge.js';
import { scanEntries, readEntry, entryCase, writeEntry } from '../../fuzz/corpus.js';
import { BUILTIN_JUDGES, openableJudge, registerJudge } from '../../fuzz/judges.js';
import { IMPL_CATALOGUES, isImplName, opcodeCoverage, runImplCampaign, type ImplCampaignFinding, type ImplCampaignResult } from '../../fuzz/impl/campaign.js';
import type { ImplName } from '../../fuzz/impl/catalogue.js';
import { externalDiffs, isExternalEntry, makeExternalEntry } from '../../fuzz/impl/external.js';
import { CataloguedOutsideJudge } from '../../fuzz/impl/judge.js';
import { ensureOracleBinary } from '../../oracle/kernel/build.js';
import { OutsideJudge, outsidePacket } from '../../oracle/outside/judge.js';
import { OUTSIDE_JUDGES, outsideSpec } from '../../oracle/outside/registry.js';
import { printProgram } from '../formats/index.js';
import { clip, InputError } from '../io.js';
import { budgetOptions, campaignFlags, countTable, positiveInt, sigintStop } from './fuzz.js';
import { kernelConfig, kernelOptions, type KernelFlags } from '../kernel.js';

// The outside implementations as judges of `bpfspec fuzz --judges` (compared with the kernel path).
for (const spec of OUTSIDE_JUDGES) {
  registerJudge({
    name: spec.name,
    against: 'kernel',
    description: spec.describe,
    open: async ({ config }) => {
      const j = await OutsideJudge.open(spec);
      if ('missing' in j) return { missing: j.missing };
      if (!isImplName(spec.name)) throw new Error(`no catalogue for ${spec.name}`);
      return new CataloguedOutsideJudge(j, spec.name, config);
    },
  });
}

export interface JudgeRow {
  readonly name: string;
  readonly kind: 'spec' | 'engine' | 'live kernel' | 'outside';
  readonly description: string;
  readonly available: boolean;
  /** what is missing, when not available */
  readonly missing: string | null;
  /** the implementation and version the adapter reported */
  readonly version: string | null;
  /** the catalogue of documented differences (outside judges) */
  readonly catalogue: string | null;
}

/** Every judge, with whether it runs here: outside adapters are built (once) and started to be sure. */
export async function judgeRows(): Promise<JudgeRow[]> {
  const rows: JudgeRow[] = [];
  for (const [name, j] of BUILTIN_JUDGES)
    rows.push({ name, kind: j.against === null ? 'spec' : 'engine', description: j.description, available: true, missing: null, version: null, catalogue: null });
  const live = openableJudge('live');
  if (live) {
    const b = process.platform === 'linux' ? ensureOracleBinary() : ({ ok: false, missing: `linux (this is ${process.platform})` } as const);
    const missing = b.ok ? null : b.missing;
    const note = b.ok && typeof process.getuid === 'function' && process.getuid() !== 0 ? ' (not root: one packet at a time)' : '';
    rows.push({ name: 'live', kind: 'live kernel', description: `${live.description}${note}`, available: b.ok, missing, version: null, catalogue: null });
  }
  // started all at once: each adapter's start (DPDK's EAL) waits on its own, not behind the others'
  const opened = await Promise.all(OUTSIDE_JUDGES.map((spec) => OutsideJudge.open(spec)));
  for (const [i, spec] of OUTSIDE_JUDGES.entries()) {
    const j = opened[i]!;
    const catalogue = isImplName(spec.name) ? `fuzz/impl/${spec.name === 'dpdk-jit' ? 'dpdk' : spec.name}.ts (${IMPL_CATALOGUES[spec.name].entries.length} entries)` : null;
    if ('missing' in j) rows.push({ name: spec.name, kind: 'outside', description: spec.describe, available: false, missing: j.missing, version: null, catalogue });
    else {
      rows.push({ name: spec.name, kind: 'outside', description: spec.describe, available: true, missing: null, version: `${j.hello.implementation}: ${j.hello.version}`, catalogue });
      await j.close();
    }
  }
  return rows;
}

export function judgeRowsText(rows: readonly JudgeRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  const lines: string[] = [];
  for (const r of rows) {
    lines.push(`${r.name.padEnd(w)}  ${r.available ? 'available  ' : 'unavailable'}  [${r.kind}] ${r.description}`);
    if (r.version) lines.push(`${''.padEnd(w)}  ${''.padEnd(11)}  version: ${r.version}`);
    if (r.catalogue) lines.push(`${''.padEnd(w)}  ${''.padEnd(11)}  catalogue: ${r.catalogue}`);
    if (r.missing) lines.push(`${''.padEnd(w)}  ${''.padEnd(11)}  needs ${r.missing}`);
  }
  const n = rows.filter((r) => r.available).length;
  lines.push('', `${n} of ${rows.length} judges available; outside judges run with bpfspec fuzz --judges classic,NAME or bpfspec judges --campaign NAME`);
  return `${lines.join('\n')}\n`;
}

export interface ImplCampaignFlags {
  readonly time?: string;
  readonly runs?: string;
  readonly seed?: string;
  readonly corpus: string;
  readonly packetsPerProgram: string;
  readonly json?: boolean;
}

export interface ImplCampaignCliResult {
  readonly name: ImplName;
  readonly version: string;
  readonly seed: number;
  readonly result: ImplCampaignResult;
  readonly written: string[];
  readonly restarts: number;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** Save a finding as a corpus entry with the implementation's answer (fuzz/impl/external.ts). */
async function saveImplFinding(j: OutsideJudge, name: ImplName, f: ImplCampaignFinding, config: KernelConfig, dir: string, version: string): Promise<string> {
  const inputs = f.case.inputs.map((i) => ({ skb: i.skb, env: i.env }));
  const [run] = await j.run([{ prog: f.case.prog, packets: inputs.map((i) => outsidePacket(i as SkbInput)) }], name === 'dpdk-jit' ? { jit: true, ebpf: true } : name === 'dpdk' ? { ebpf: true } : {});
  const entry = makeExternalEntry({
    kind: 'finding',
    title: `${name}: ${f.finding.message}`.slice(0, 200),
    prog: f.case.prog,
    inputs,
    config,
    origin: { bpfspec: version, seed: f.seed, path: f.path, source: `bpfspec judges --campaign ${name}` },
    asm: String(printProgram(f.case.prog, 'bpf_asm')),
    implementation: name,
    version: `${j.hello.implementation}: ${j.hello.version}`,
    catalogue: null,
    run: name === 'dpdk-jit' && run!.jit ? { ...run!, results: run!.jit.results } : run!,
  });
  mkdirSync(dir, { recursive: true });
  return writeEntry(dir, entry).path;
}

/** `bpfspec judges --campaign NAME`: one outside implementation against the spec, with its report. */
export async function runImplCampaignCli(name: string, flags: ImplCampaignFlags, config: KernelConfig, version: string): Promise<ImplCampaignCliResult> {
  if (!isImplName(name)) throw new InputError(`--campaign ${clip(name)}: not an outside judge (one of ${OUTSIDE_JUDGES.map((s) => s.name).join(', ')})`);
  const budget = budgetOptions({ ...flags, workers: '1' });
  const packetsPerProgram = positiveInt('--packets-per-program', flags.packetsPerProgram, 1024);
  const j = await OutsideJudge.open(outsideSpec(name)!);
  if ('missing' in j) throw new InputError(`judge ${name} needs ${j.missing}`);
  const tty = process.stderr.isTTY === true && !flags.json;
  const started = Date.now();
  const written: string[] = [];
  try {
    process.stderr.write(
      `bpfspec judges --campaign ${name}: seed ${budget.seed}, ${budget.runs !== null ? `${fmt(budget.runs)} cases` : `${(budget.timeMs! / 1000).toFixed(0)}s`}, ${packetsPerProgram} packets per program; ${j.hello.implementation}: ${j.hello.version}\n`,
    );
    const bar = tty ? new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {cases} cases | {pairs} pairs | findings {findings}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic) : null;
    const total = budget.runs ?? budget.timeMs!;
    bar?.start(total, 0, { cases: '0', pairs: '0', findings: 0 });
    let last = Date.now();
    const sigint = sigintStop('chunk');
    let result: ImplCampaignResult;
    try {
      result = await runImplCampaign(
        j,
        name,
        { seed: budget.seed, runs: budget.runs, timeMs: budget.timeMs, packetsPerProgram, config, chunkSize: 256 },
        {
          shouldStop: sigint.stopped,
          progress: (done, r) => {
            const ms = Date.now() - started;
            if (bar) bar.update(budget.runs !== null ? done : Math.min(ms, total), { cases: fmt(done), pairs: fmt(r.stats.pairs), findings: r.findings.length });
            else if (Date.now() - last >= 5000) {
              last = Date.now();
              process.stderr.write(`[${(ms / 1000).toFixed(1)}s] ${fmt(done)} cases, ${fmt(r.stats.pairs)} pairs, findings ${r.findings.length}\n`);
            }
          },
        },
      );
    } finally {
      sigint.dispose();
      bar?.stop();
    }
    for (const f of result.findings) written.push(await saveImplFinding(j, name, f, config, flags.corpus, version));
    return { name, version: `${j.hello.implementation}: ${j.hello.version}`, seed: budget.seed, result, written, restarts: j.restarts };
  } finally {
    await j.close();
  }
}

const hex2 = (c: number): string => `0x${c.toString(16).padStart(2, '0')}`;

/** The per-implementation report of a campaign. */
export function implCampaignText(r: ImplCampaignCliResult): string {
  const { result: res } = r;
  const s = res.stats;
  const cat = IMPL_CATALOGUES[r.name];
  const titles = new Map(cat.entries.map((e) => [e.id, `${e.bug ? '[bug] ' : ''}${e.title}`]));
  const lines = [
    `${r.name} (${r.version}): ${fmt(res.cases)} cases in ${(res.elapsedMs / 1000).toFixed(1)}s, seed ${r.seed}`,
    `  programs ${fmt(s.programs)} (unsupported ${fmt(s.unsupported)}), packet runs ${fmt(s.pairs)}, identical to Linux ${fmt(s.agreed)}, both rejected ${fmt(s.bothRejected)}, signals ${fmt(s.signals)}${r.restarts ? `, adapter restarts ${r.restarts}` : ''}`,
    '  differences by catalogue entry (runtime: packet runs; verdicts and attach limits: programs):',
    ...(Object.keys(s.differences).length === 0 ? ['    none'] : countTable(Object.entries(s.differences).sort().map(([k, v]) => [k, v, k.includes('+') ? 'combined' : (titles.get(k) ?? '')] as const)).map((l) => `  ${l}`)),
  ];
  for (const a of res.also) lines.push(`  also ${a.name}: ${fmt(a.stats.pairs)} packet runs, identical to Linux ${fmt(a.stats.agreed)}; ${Object.entries(a.stats.differences).sort().map(([k, v]) => `${k}=${fmt(v)}`).join(' ') || 'no differences'}`);
  if (res.conversion)
    lines.push(
      `  rte_bpf_convert vs bpf_convert_filter: ${fmt(res.conversion.programs)} programs, ${fmt(res.conversion.insns)} classic insns; mismatches ${Object.entries(res.conversion.mismatches).sort().map(([k, v]) => `${k}=${fmt(v)}`).join(' ') || 'none'}`,
    );
  if (res.jitVsInterp)
    lines.push(`  JIT vs interpreter: ${fmt(res.jitVsInterp.pairs)} packet runs; differ ${Object.entries(res.jitVsInterp.differ).sort().map(([k, v]) => `${k}=${fmt(v)}`).join(' ') || 'never'}`);
  const cov = opcodeCoverage(r.name, res.executed);
  const missed = cov.filter((c) => c.count === 0);
  lines.push(`  opcodes reached: ${cov.length - missed.length} of the ${cov.length} it supports${missed.length ? `; never executed: ${missed.map((c) => hex2(c.code)).join(' ')}` : ''}`);
  lines.push(`    ${cov.map((c) => `${hex2(c.code)}:${fmt(c.count)}`).join(' ')}`);
  lines.push(`  findings: ${res.findings.length}`);
  res.findings.forEach((f, i) => lines.push(`    ${f.finding.message}`, `      seed ${f.seed} path ${f.path}${r.written[i] ? `, written to ${r.written[i]}` : ''}`));
  return `${lines.join('\n')}\n`;
}

export function implCampaignJson(r: ImplCampaignCliResult): unknown {
  const res = r.result;
  return {
    judge: r.name,
    version: r.version,
    seed: r.seed,
    cases: res.cases,
    elapsed_ms: res.elapsedMs,
    stats: res.stats,
    also: res.also,
    conversion: res.conversion,
    jit_vs_interpreter: res.jitVsInterp,
    coverage: Object.fromEntries(opcodeCoverage(r.name, res.executed).map((c) => [hex2(c.code), c.count])),
    findings: res.findings.map((f, i) => ({ message: f.finding.message, seed: f.seed, path: f.path, chunk: f.chunk, file: r.written[i] ?? null })),
    adapter_restarts: r.restarts,
  };
}

export interface ExternalReplay {
  readonly checked: number;
  readonly passed: number;
  readonly changed: { readonly file: string; readonly differences: string[] }[];
  readonly skipped: { readonly file: string; readonly why: string }[];
}

/** Re-run the outside side of corpus entries with `external` (the Linux side is `replay`'s). */
export async function replayExternal(paths: readonly string[]): Promise<ExternalReplay> {
  // the entries replay() lists; the paths it reports (dangling links, loops, special files) are its to report
  const { files } = scanEntries(paths);
  const changed: ExternalReplay['changed'] = [];
  const skipped: ExternalReplay['skipped'] = [];
  let checked = 0;
  let passed = 0;
  const open = new Map<string, OutsideJudge | { missing: string }>();
  try {
    for (const file of files) {
      const r = readEntry(file);
      if (!r.ok || !isExternalEntry(r.entry)) continue;
      const ext = r.entry.external;
      let j = open.get(ext.implementation);
      if (j === undefined) {
        const spec = outsideSpec(ext.implementation);
        // entries whose load never ends (dpdk-validator-path-explosion) are ended by a 30-s watchdog
        j = spec ? await OutsideJudge.open(spec, { answerTimeoutMs: 30_000 }) : { missing: `a judge named ${ext.implementation}` };
        open.set(ext.implementation, j);
      }
      if ('missing' in j) {
        skipped.push({ file, why: `${ext.implementation} needs ${j.missing}` });
        continue;
      }
      let prog;
      let inputs;
      try {
        ({ prog, inputs } = entryCase(r.entry));
      } catch {
        continue; // replay() reports the entry as invalid
      }
      checked++;
      const jit = ext.implementation === 'dpdk-jit';
      const [run] = await j.run([{ prog, packets: inputs.map((i) => outsidePacket(i)) }], jit ? { jit: true } : {});
      const view = jit && run!.verdict.code === 0 ? { ...run!, results: run!.jit?.results ?? [] } : run!;
      const d = externalDiffs(ext.expect, view);
      if (d.length === 0) passed++;
      else changed.push({ file, differences: d });
    }
  } finally {
    await Promise.all([...open.values()].map((j) => ('missing' in j ? Promise.resolve() : j.close())));
  }
  return { checked, passed, changed, skipped };
}

export function replayExternalText(r: ExternalReplay): string {
  if (r.checked === 0 && r.skipped.length === 0) return '';
  const lines: string[] = [];
  for (const c of r.changed) lines.push(`CHANGED (outside) ${c.file}`, ...c.differences.map((d) => `  ${d}`));
  for (const s of r.skipped) lines.push(`SKIPPED (outside) ${s.file}: ${s.why}`);
  lines.push(`${r.passed} of ${r.checked} outside answers replay exactly; ${r.changed.length} changed, ${r.skipped.length} skipped`);
  return `${lines.join('\n')}\n`;
}

/** Register `bpfspec judges` on the command line. */
export function registerJudgesCommand(program: Command, deps: { readonly out: (s: string) => void; readonly version: string }): void {
  campaignFlags(kernelOptions(program.command('judges')), { corpus: 'where campaign findings are written', packets: '4' })
    .description('list every judge and whether it runs here (and why not); --campaign NAME runs one outside implementation against the spec with its full report (exit 1 on a finding)')
    .option('--campaign <name>', 'run a campaign against this outside judge (libpcap, dpdk, dpdk-jit, xnet)')
    .option('--json', 'print JSON')
    .action(async (o: ImplCampaignFlags & { campaign?: string }) => {
      if (o.campaign === undefined) {
        for (const k of ['time', 'runs', 'seed'] as const) if (o[k] !== undefined) throw new InputError(`--${k}: only with --campaign NAME`);
        // the kernel flags are checked even though the list does not depend on them (--kernel __proto__ was accepted)
        await kernelConfig(o as ImplCampaignFlags & KernelFlags);
        const rows = await judgeRows();
        deps.out(o.json ? `${JSON.stringify({ judges: rows })}\n` : judgeRowsText(rows));
        return;
      }
      const config = await kernelConfig(o as ImplCampaignFlags & KernelFlags);
      const r = await runImplCampaignCli(o.campaign, o, config, deps.version);
      deps.out(o.json ? `${JSON.stringify(implCampaignJson(r))}\n` : implCampaignText(r));
      process.exitCode = r.result.findings.length > 0 ? 1 : 0;
    });
}
