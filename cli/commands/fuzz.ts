// `bpfspec fuzz`: an equivalence campaign between the classic evaluator and the kernel path.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { randomInt } from 'node:crypto';
import { lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { KernelConfig } from '../../model/config.js';
import { DEFAULT_CHUNK, type CampaignFinding, type CampaignOptions } from '../../fuzz/campaign.js';
import { makeEntry, writeEntry } from '../../fuzz/corpus.js';
import { coverageCampaign } from '../../fuzz/coverage.js';
import { DIVERGENCES } from '../../fuzz/divergences.js';
import { BUILTIN_JUDGES, expandJudgeNames, knownJudgeNames } from '../../fuzz/judges.js';
import { startCampaign, type CampaignSummary, type SignatureOffer } from '../../fuzz/pool.js';
import { SPEC_CHECK_DEFAULT, type Stats } from '../../fuzz/properties.js';
import { printProgram } from '../formats/index.js';
import { clip, InputError } from '../io.js';
import { sideBySide } from '../report.js';
import { shardOption } from '../shard.js';

export interface FuzzFlags {
  readonly time?: string;
  readonly runs?: string;
  readonly seed?: string;
  readonly workers?: string;
  readonly shard?: string;
  readonly corpus: string;
  readonly packetsPerProgram: string;
  readonly judges?: string;
  readonly specCheck?: string;
  readonly json?: boolean;
  readonly maxFindings?: string;
}

/** --spec-check all|N: the share of cases the spec checks beside the engines (1 in N; all = 1). */
export function parseSpecCheck(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === 'all') return 1;
  return positiveInt('--spec-check', text, 2 ** 31 - 1);
}

/**
 * --judges: the judges of the campaign by name (fuzz/judges.ts). The spec judges classic and kernel
 * always run; the others are split into those every worker builds itself (`sync`: compiled-classic,
 * compiled-ebpf, or `compiled` for both) and those the command opens and asks in batches (`batched`:
 * the live kernel `live`, and any registered outside implementation).
 */
export function parseJudges(text: string | undefined): { sync: string[]; batched: string[] } {
  if (text === undefined) return { sync: [], batched: [] };
  let names: string[];
  try {
    names = expandJudgeNames(text, knownJudgeNames());
  } catch (e) {
    throw new InputError(`--judges ${clip(text)}: ${clip((e as Error).message, 200)}`);
  }
  const others = names.filter((n) => n !== 'classic' && n !== 'kernel');
  return { sync: others.filter((n) => BUILTIN_JUDGES.has(n)), batched: others.filter((n) => !BUILTIN_JUDGES.has(n)) };
}

/** The longest budget --time takes: 2^31 - 1 ms (24.8 days), the longest timer Node keeps. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
]);

/**
 * "60s", "5m", "1h", "250ms" or plain seconds -> whole milliseconds, from 1 ms to MAX_DURATION_MS.
 * A duration that rounds to 0 ms (0.0001ms) is refused like 0, not run as an empty campaign.
 */
export function parseDuration(text: string, flag = '--time'): number {
  const m = /^(\d{1,15})(?:\.(\d{1,15}))?(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InputError(`${flag} ${clip(text)}: expected a duration like 60s, 5m, 1h or 250ms`);
  const n = Number(`${m[1]}${m[2] !== undefined ? `.${m[2]}` : ''}`);
  const ms = n * UNIT_MS.get(m[3] ?? 's')!;
  if (!(ms >= 0.5)) throw new InputError(`${flag} ${clip(text)}: must be at least 1 ms`);
  if (ms > MAX_DURATION_MS) throw new InputError(`${flag} ${clip(text)}: at most ${MAX_DURATION_MS} ms (24.8 days)`);
  return Math.round(ms);
}

/** A whole number from 1 to `max`, written in decimal digits only. */
export function positiveInt(flag: string, text: string, max = 2 ** 31 - 1): number {
  if (!/^\d{1,16}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new InputError(`${flag} ${clip(text)}: expected a whole number from 1 to ${max}`);
  return Number(text);
}

/** The most shards a campaign splits into (chunk numbers stay exact integers). */
export const MAX_SHARDS = 2 ** 31 - 1;

export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d{1,10})\/(\d{1,10})$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > MAX_SHARDS || Number(m[1]) >= Number(m[2]))
    throw new InputError(`--shard ${clip(text)}: expected i/N with 0 <= i < N <= ${MAX_SHARDS}, e.g. 0/4`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

/** --seed: a 32-bit integer, decimal, negative allowed (as fast-check seeds are). */
export function parseSeed(text: string): number {
  if (!/^-?\d{1,10}$/.test(text) || Math.abs(Number(text)) >= 2 ** 31) throw new InputError(`--seed ${clip(text)}: expected a 32-bit integer (-2147483647 to 2147483647)`);
  return Number(text) | 0;
}

/**
 * The options every campaign command takes (fuzz, kdiff, judges --campaign), read by budgetOptions
 * and the commands: --time, --runs, --seed, --workers (when `workers` describes them), --corpus
 * (`corpus` says what is written there) and --packets-per-program (default `packets`).
 */
export function campaignFlags(cmd: Command, o: { readonly workers?: string; readonly corpus: string; readonly packets: string }): Command {
  cmd
    .option('--time <duration>', 'wall-clock budget, e.g. 60s, 5m, 1h (default 60s)')
    .option('--runs <n>', 'number of cases instead of a time budget')
    .option('--seed <n>', 'campaign seed (default: random, printed); the same seed gives the same campaign');
  if (o.workers !== undefined) cmd.option('--workers <n>', o.workers);
  return cmd.option('--corpus <dir>', o.corpus, 'corpus/findings').option('--packets-per-program <n>', 'packets each program runs on', o.packets);
}

/** --time / --runs (one of them; 60 s by default), --seed (random when absent) and --workers (all cores). */
export function budgetOptions(
  f: { time?: string; runs?: string; seed?: string; workers?: string },
  /** the workers without --workers (default: one per core) */
  defaultWorkers = availableParallelism(),
): { seed: number; runs: number | null; timeMs: number | null; workers: number } {
  if (f.time !== undefined && f.runs !== undefined) throw new InputError('--time and --runs: give one of them');
  const runs = f.runs === undefined ? null : positiveInt('--runs', f.runs, Number.MAX_SAFE_INTEGER);
  const timeMs = runs === null ? parseDuration(f.time ?? '60s') : null;
  const seed = f.seed === undefined ? randomInt(2 ** 31) : parseSeed(f.seed);
  const workers = f.workers === undefined ? defaultWorkers : positiveInt('--workers', f.workers, 256);
  return { seed, runs, timeMs, workers };
}

export function campaignOptions(f: FuzzFlags, config: KernelConfig): CampaignOptions {
  return {
    ...budgetOptions(f),
    shard: f.shard === undefined ? { index: 0, count: 1 } : shardOption(f.shard),
    maxFindings: f.maxFindings === undefined ? null : positiveInt('--max-findings', f.maxFindings),
    packetsPerProgram: positiveInt('--packets-per-program', f.packetsPerProgram, 4096),
    config,
    chunkSize: DEFAULT_CHUNK,
    judges: parseJudges(f.judges).sync,
    ...(f.specCheck !== undefined ? { specCheck: parseSpecCheck(f.specCheck)! } : {}),
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** Lines "  name  count  title" whose columns stay aligned whatever the names. */
export function countTable(rows: readonly (readonly [string, number, string])[]): string[] {
  const w = Math.max(24, ...rows.map(([k]) => k.length));
  const n = Math.max(10, ...rows.map(([, v]) => fmt(v).length));
  return rows.map(([k, v, t]) => `  ${k.padEnd(w)} ${fmt(v).padStart(n)}${t ? `  ${t}` : ''}`);
}
const divText = (s: Stats): string =>
  Object.keys(s.divergences).length === 0
    ? 'none'
    : Object.entries(s.divergences)
        .sort()
        .map(([k, v]) => `${k}=${fmt(v)}`)
        .join(' ');
const cases = (s: Stats): number => s.programs + s.invalid;

function asmOf(prog: Parameters<typeof printProgram>[0]): string {
  return String(printProgram(prog, 'bpf_asm'));
}

/** Write a finding to the corpus; returns the file written. */
function saveFinding(f: CampaignFinding, opts: CampaignOptions, dir: string, version: string): string {
  const fd = f.finding;
  const entry = makeEntry({
    kind: 'finding',
    title: `${fd.property}: ${fd.message}`.slice(0, 200),
    property: fd.property,
    message: fd.message,
    prog: fd.prog,
    inputs: fd.skb && fd.env ? [{ skb: fd.skb, env: fd.env }] : [],
    config: opts.config,
    asm: asmOf(fd.prog),
    origin: { bpfspec: version, seed: f.seed, path: f.path, source: `bpfspec fuzz --seed ${opts.seed} (chunk ${f.chunk})`, chunk: f.chunk, signature: f.signature },
  });
  mkdirSync(dir, { recursive: true });
  return writeEntry(dir, entry).path;
}

/**
 * One corpus file per signature: a new signature writes its case; a smaller case of a known one is
 * written (atomically, under its own content-hash name) and then the larger one's file is removed
 * (only a regular file is ever removed). Returns the file now kept for the signature.
 */
export function saveBySignature(f: { readonly signature: string }, offer: Pick<SignatureOffer, 'status'>, files: Map<string, string | null>, save: () => string): string | null {
  if (offer.status === 'kept') return null;
  const path = save();
  const old = files.get(f.signature) ?? null;
  files.set(f.signature, path);
  if (old !== null && old !== path) {
    try {
      if (lstatSync(old).isFile()) unlinkSync(old);
    } catch {
      // already gone: nothing to replace
    }
  }
  return path;
}

export interface FuzzResult {
  readonly summary: CampaignSummary;
  readonly written: string[];
  /** signature -> the corpus file of its smallest case (null: not written) */
  readonly files?: ReadonlyMap<string, string | null>;
}

/**
 * Ctrl-C stops a campaign cleanly from this call on, even before the campaign has started (a signal
 * with no listener would end the process): one line `stopping (SIGINT): finishing the current
 * <what>...`, then `stopped()` is true and the function given to `attach` (the campaign's stop) is
 * called, at once if Ctrl-C came first. `dispose` removes the listener.
 */
export function sigintStop(what: string): { stopped(): boolean; attach(stop: () => void): void; dispose(): void } {
  let stop: (() => void) | null = null;
  let requested = false;
  const onSigint = (): void => {
    if (!requested) process.stderr.write(`\nstopping (SIGINT): finishing the current ${what}...\n`);
    requested = true;
    stop?.();
  };
  process.on('SIGINT', onSigint);
  return {
    stopped: () => requested,
    attach: (s) => {
      stop = s;
      if (requested) s();
    },
    dispose: () => void process.off('SIGINT', onSigint),
  };
}

/** Run a campaign with live progress; SIGINT stops it cleanly. */
export async function runFuzz(opts: CampaignOptions, flags: FuzzFlags, version: string): Promise<FuzzResult> {
  const tty = process.stderr.isTTY === true && !flags.json;
  const written: string[] = [];
  const files = new Map<string, string | null>();
  const sigint = sigintStop('chunks');
  const budget = opts.runs !== null ? `${fmt(opts.runs)} cases` : `${(opts.timeMs! / 1000).toFixed(0)}s`;
  process.stderr.write(
    `bpfspec fuzz: seed ${opts.seed}, ${budget}, ${opts.workers} worker${opts.workers === 1 ? '' : 's'}, shard ${opts.shard.index}/${opts.shard.count}, ` +
      `${opts.packetsPerProgram} packet${opts.packetsPerProgram === 1 ? '' : 's'} per program, judges ${['classic', 'kernel', ...(opts.judges ?? [])].join(',')} (engines on every case, the spec on ${opts.specCheck === 1 ? 'every case' : `1 case in ${opts.specCheck ?? SPEC_CHECK_DEFAULT}`} and on every finding), kernel ${opts.config.profile}${opts.config.variant ? ` with variant ${opts.config.variant}` : ''} (${opts.config.arch}, optmem_max ${opts.config.optmemMax}, bpf_prog header ${opts.config.bpfProgHeaderSize}, load helpers ${opts.config.loadHelpers})\n`,
  );
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {cases} cases | {rate}/s | findings {findings} | {divs}', hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      )
    : null;
  const total = opts.runs !== null ? Math.ceil(opts.runs / opts.shard.count) : opts.timeMs!;
  bar?.start(total, 0, { cases: '0', rate: '0', findings: 0, divs: '' });
  let lastLine = Date.now();
  let run: ReturnType<typeof startCampaign>;
  try {
    run = startCampaign(opts, {
      progress: (s, ms, nf) => {
        const rate = fmt(Math.round(cases(s) / Math.max(ms / 1000, 1e-3)));
        if (bar) bar.update(opts.runs !== null ? cases(s) : Math.min(ms, total), { cases: fmt(cases(s)), rate, findings: nf, divs: divText(s) });
        else if (Date.now() - lastLine >= 5000) {
          lastLine = Date.now();
          process.stderr.write(`[${(ms / 1000).toFixed(1)}s] ${fmt(cases(s))} cases (${rate}/s), ${fmt(s.pairs)} pairs, findings ${nf}, divergences: ${divText(s)}\n`);
        }
      },
      finding: (f, offer) => {
        let path: string | null = null;
        try {
          path = saveBySignature(f, offer, files, () => saveFinding(f, opts, flags.corpus, version));
        } catch (e) {
          // a full disk or a vanished directory must not end the campaign: the summary still has the finding
          process.stderr.write(`bpfspec: warning: finding not written: ${clip(e instanceof Error ? e.message : String(e), 200)}\n`);
        }
        written.push(path ?? '');
        // one line per new signature (or a smaller case of one); the other findings are counted
        if (offer.status === 'kept') return;
        if (bar) bar.stop();
        process.stderr.write(
          `${offer.status === 'new' ? `finding, signature ${offer.entry.id}` : `smaller case of signature ${offer.entry.id}`} (${f.finding.judge ?? f.finding.property}): ${f.finding.message}\n  signature: ${f.signature}\n${path !== null ? `  written to ${path}\n  replay: bpfspec replay ${path}\n` : ''}`,
        );
      },
    });
  } catch (e) {
    sigint.dispose();
    throw e;
  }
  sigint.attach(() => run.stop());
  try {
    const summary = await run.done;
    bar?.stop();
    return { summary, written, files };
  } finally {
    sigint.dispose();
  }
}

export function summaryJson(r: FuzzResult): unknown {
  const s = r.summary;
  const secs = s.elapsedMs / 1000;
  const kept = new Set(s.signatures.map((e) => e.best));
  return {
    seed: s.seed,
    shard: `${s.shard.index}/${s.shard.count}`,
    workers: s.workers,
    packets_per_program: s.packetsPerProgram,
    elapsed_s: Number(secs.toFixed(3)),
    interrupted: s.interrupted,
    cases: cases(s.stats),
    programs: s.stats.programs,
    invalid: s.stats.invalid,
    pairs: s.stats.pairs,
    cases_per_s: Math.round(cases(s.stats) / Math.max(secs, 1e-3)),
    pairs_per_s: Math.round(s.stats.pairs / Math.max(secs, 1e-3)),
    divergences: Object.fromEntries(DIVERGENCES.map((d) => [d.id, s.stats.divergences[d.id] ?? 0]).concat(Object.entries(s.stats.divergences).filter(([k]) => !DIVERGENCES.some((d) => d.id === k)))),
    invalid_rules: s.stats.invalidRules,
    // each finding's file: the corpus file of its signature when it is the case kept for it
    findings: s.findings.map((f) => ({ property: f.finding.property, ...(f.finding.judge ? { judge: f.finding.judge } : {}), message: f.finding.message, seed: f.seed, path: f.path, chunk: f.chunk, signature: f.signature, file: kept.has(f) ? (r.files?.get(f.signature) ?? null) : null })),
    max_findings_reached: s.maxFindingsReached,
    signatures: s.signatures.map((e) => ({
      id: e.id,
      signature: e.signature,
      count: e.count,
      property: e.best.finding.property,
      ...(e.best.finding.judge ? { judge: e.best.finding.judge } : {}),
      message: e.best.finding.message,
      seed: e.best.seed,
      path: e.best.path,
      chunk: e.best.chunk,
      first_chunk: e.firstChunk,
      insns: e.bestSize.insns,
      bytes: e.bestSize.bytes,
      file: r.files?.get(e.signature) ?? null,
    })),
  };
}

export function summaryText(r: FuzzResult, config: KernelConfig): string {
  const j = summaryJson(r) as ReturnType<typeof summaryJson> & Record<string, unknown>;
  const s = r.summary;
  const known = new Set(DIVERGENCES.map((d) => d.id));
  const lines = [
    `seed ${s.seed}${s.interrupted ? ' (interrupted)' : ''}: ${fmt(cases(s.stats))} cases (${fmt(s.stats.programs)} valid programs, ${fmt(s.stats.invalid)} invalid) and ${fmt(s.stats.pairs)} (program, packet) pairs in ${(s.elapsedMs / 1000).toFixed(1)}s: ${fmt(j.cases_per_s as number)} cases/s, ${fmt(j.pairs_per_s as number)} pairs/s`,
    'divergences (predicted exactly by the catalogue):',
    ...countTable([
      ...DIVERGENCES.map((d) => [d.id, s.stats.divergences[d.id] ?? 0, d.title] as const),
      ...Object.entries(s.stats.divergences)
        .filter(([k]) => !known.has(k))
        .map(([k, v]) => [k, v, '(several at once)'] as const),
    ]),
    `findings: ${s.findings.length} in ${s.signatures.length} signature${s.signatures.length === 1 ? '' : 's'}${s.maxFindingsReached ? ` (stopped at --max-findings ${s.signatures.length})` : ''}`,
  ];
  for (const e of s.signatures) {
    const f = e.best;
    lines.push(`  ${e.id}  ${fmt(e.count)} finding${e.count === 1 ? '' : 's'}: ${e.signature}`);
    lines.push(`    smallest (${e.bestSize.insns} insns, ${e.bestSize.bytes} packet bytes): ${f.finding.message} (seed ${f.seed}, path ${f.path}, ${f.shrinks} shrinks)${r.files?.get(e.signature) ? `, ${r.files.get(e.signature)}` : ''}`);
    lines.push(...String(printProgram(f.finding.prog, 'bpf_asm')).trimEnd().split('\n').map((l) => `      ${l}`));
    if (f.finding.skb && f.finding.env) lines.push(...sideBySide(f.finding.prog, f.finding.skb, f.finding.env, config).map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** `bpfspec fuzz --coverage`: the campaign in this thread, then what it reached. */
export async function runCoverage(opts: CampaignOptions, json: boolean): Promise<{ text: string; missed: number }> {
  // Ctrl-C: the campaign ends after the current chunk, and the report covers what it ran
  const sigint = sigintStop('chunk');
  process.stderr.write(
    `bpfspec fuzz --coverage: seed ${opts.seed}, ${opts.runs !== null ? `${fmt(opts.runs)} cases` : `${(opts.timeMs! / 1000).toFixed(0)}s`}, one thread (V8 coverage), ${opts.packetsPerProgram} packets per program\n`,
  );
  let last = Date.now();
  let r: Awaited<ReturnType<typeof coverageCampaign>>;
  try {
    r = await coverageCampaign(
      opts,
      (s, ms) => {
        if (Date.now() - last >= 5000) {
          last = Date.now();
          process.stderr.write(`[${(ms / 1000).toFixed(1)}s] ${fmt(cases(s))} cases\n`);
        }
      },
      sigint.stopped,
    );
  } finally {
    sigint.dispose();
  }
  const interrupted = sigint.stopped();
  const reachable = r.model.flatMap((f) => f.missed.filter((m) => m.reason === 'reachable').map((m) => `${f.file}:${m.line}`));
  const missed = r.features.missed.length + reachable.length;
  if (json) return { text: `${JSON.stringify({ ...r, interrupted })}\n`, missed };
  const lines = [
    `${fmt(cases(r.stats))} cases, ${fmt(r.stats.pairs)} pairs, ${r.findings} findings${interrupted ? ' (interrupted)' : ''}`,
    `features reached: ${r.features.reached} of ${r.features.expected}${missed ? '; missed:' : ''}`,
    ...r.features.missed.map((f) => `  ${f}`),
    `eBPF opcodes the converter emitted: ${r.emitted.map((c) => `0x${c.toString(16).padStart(2, '0')}`).join(' ')}`,
    'model branch coverage (V8, mapped to the TypeScript); lines with a branch never taken, by reason:',
  ];
  for (const f of r.model) {
    const pct = f.branches === 0 ? 100 : (100 * f.covered) / f.branches;
    const by = (reason: string): number => f.missed.filter((m) => m.reason === reason).length;
    lines.push(
      `  ${f.file.padEnd(28)} branches ${String(f.covered).padStart(4)}/${String(f.branches).padEnd(4)} ${pct.toFixed(1).padStart(5)}%   lines ${f.linesCovered}/${f.lines}` +
        `   missed lines: ${by('reachable')} reachable, ${by('opcode-not-emitted')} opcode not emitted, ${by('api-misuse')} API misuse, ${by('other-config')} other config`,
    );
    for (const m of f.missed.filter((x) => x.reason === 'reachable')) lines.push(`      ${f.file}:${m.line}  ${m.text.slice(0, 100)}`);
  }
  lines.push(reachable.length === 0 ? 'every reachable branch of the model was taken' : `${reachable.length} reachable model lines with a branch never taken (listed above)`);
  return { text: `${lines.join('\n')}\n`, missed };
}
