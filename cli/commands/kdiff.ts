// `bpfspec kdiff`: the live Linux kernel as the judge of the model (oracle/kdiff.ts).
import cliProgress from 'cli-progress';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { KernelConfig } from '../../model/config.js';
import { errnoName } from '../../model/uapi.js';
import { makeEntry, writeEntry } from '../../fuzz/corpus.js';
import { DIVERGENCES } from '../../fuzz/divergences.js';
import { startKdiff, type KdiffFinding, type KdiffOptions, type KdiffSummary } from '../../oracle/kdiff.js';
import { KernelOracle } from '../../oracle/kernel/judge.js';
import { liveConfig, paramsJson, readKernelParams, type KernelParams } from '../../oracle/kernel/params.js';
import { probeBpfProgHeader } from '../../oracle/kernel/probe.js';
import { printProgram } from '../formats/index.js';
import { clip, ensureOutputDir, InputError, writeOutput } from '../io.js';
import { sideBySide } from '../report.js';
import { budgetOptions, positiveInt } from './fuzz.js';

export interface KdiffFlags {
  readonly time?: string;
  readonly runs?: string;
  readonly seed?: string;
  readonly workers?: string;
  readonly corpus: string;
  readonly confirmed: string;
  readonly packetsPerProgram: string;
  readonly json?: boolean;
}

export function kdiffOptions(f: KdiffFlags, config: KernelConfig): KdiffOptions {
  return {
    ...budgetOptions(f),
    packetsPerProgram: positiveInt('--packets-per-program', f.packetsPerProgram, 1024),
    config,
    chunkSize: 256,
    batch: 32,
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** Open one oracle per worker (CPU w mod the CPU count); `missing` names what is not there. */
export async function openOracles(workers: number): Promise<KernelOracle[] | { missing: string }> {
  const n = availableParallelism();
  const out: KernelOracle[] = [];
  for (let w = 0; w < workers; w++) {
    const o = await KernelOracle.open(w % n);
    if ('missing' in o) {
      await Promise.all(out.map((x) => x.close()));
      return o;
    }
    out.push(o);
  }
  return out;
}

/** The live kernel's parameters and the model configuration that matches them (probed once). */
export async function liveSetup(oracle: KernelOracle): Promise<{ params: KernelParams; header: number | null; config: KernelConfig }> {
  const params = readKernelParams();
  const header = await probeBpfProgHeader(oracle, liveConfig(params), params.optmemMax);
  return { params, header, config: liveConfig(params, header ?? undefined) };
}

function saveFinding(f: KdiffFinding, opts: KdiffOptions, dir: string, version: string, kernel: Record<string, unknown>): string {
  const m = f.mismatch;
  const entry = makeEntry({
    kind: 'finding',
    title: `kdiff ${m.kind}: ${m.message}`.slice(0, 200),
    property: 'equivalence',
    message: m.message,
    prog: m.prog,
    inputs: m.skb && m.env ? [{ skb: m.skb, env: m.env }] : [],
    config: opts.config,
    asm: String(printProgram(m.prog, 'bpf_asm')),
    origin: {
      bpfspec: version,
      seed: f.seed,
      path: f.path,
      source: `bpfspec kdiff --seed ${opts.seed} (chunk ${f.chunk})`,
      kernel: { ...kernel, verdict_errno: m.kernel.errno, result: m.kernelResult },
    },
  });
  mkdirSync(dir, { recursive: true });
  return writeEntry(dir, entry).path;
}

/**
 * Record the catalogue divergences this kernel confirmed: corpus/confirmed/<release>.json holds,
 * per divergence id, how many cases showed it and the kernel that confirmed it (merged with what
 * earlier runs recorded; written atomically).
 */
export function recordConfirmed(dir: string, params: KernelParams, confirmed: Record<string, number>): string | null {
  if (Object.keys(confirmed).length === 0) return null;
  ensureOutputDir(dir, '--confirmed');
  const path = join(dir, `${params.release.replace(/[^A-Za-z0-9._-]/g, '_')}.json`);
  // merged with what earlier runs recorded: only from a regular file, never from a FIFO or device
  let old: { divergences?: unknown } = {};
  if (existsSync(path)) {
    if (!statSync(path).isFile()) throw new InputError(`${path}: not a regular file: confirmations not recorded`);
    try {
      old = JSON.parse(readFileSync(path, 'utf8')) as { divergences?: unknown };
    } catch (e) {
      throw new InputError(`${path}: not JSON (${clip((e as Error).message, 100)}): confirmations not recorded, the file is left as it is`);
    }
  }
  const divergences = new Map<string, number>();
  if (old !== null && typeof old === 'object' && old.divergences !== null && typeof old.divergences === 'object')
    for (const [k, v] of Object.entries(old.divergences)) if (typeof v === 'number' && Number.isFinite(v)) divergences.set(k, v);
  for (const [k, v] of Object.entries(confirmed)) divergences.set(k, (divergences.get(k) ?? 0) + v);
  const body = {
    kernel: { release: params.release, version: params.version, arch: params.arch, optmem_max: params.optmemMax },
    divergences: Object.fromEntries(divergences),
    updated: new Date().toISOString(),
  };
  writeOutput(path, `${JSON.stringify(body, null, 2)}\n`);
  return path;
}

export interface KdiffResult {
  readonly summary: KdiffSummary;
  readonly written: string[];
  readonly params: KernelParams;
  readonly header: number | null;
  readonly confirmedFile: string | null;
}

/** The flags' values checked before any oracle starts (one line, exit 2): budget, seed, workers, packets. */
export function validateKdiffFlags(f: KdiffFlags): void {
  budgetOptions(f);
  positiveInt('--packets-per-program', f.packetsPerProgram, 1024);
}

/** Run kdiff with live progress; SIGINT stops it cleanly. Throws InputError naming what is missing. */
export async function runKdiff(flags: KdiffFlags, version: string): Promise<KdiffResult> {
  validateKdiffFlags(flags);
  const workers = flags.workers === undefined ? availableParallelism() : positiveInt('--workers', flags.workers, 256);
  const oracles = await openOracles(workers);
  if ('missing' in oracles) throw new InputError(`kdiff needs ${oracles.missing}`);
  try {
    const { params, header, config } = await liveSetup(oracles[0]!);
    const opts = kdiffOptions({ ...flags, workers: String(workers) }, config);
    const kernel = paramsJson(params, oracles[0]!.cpu, header);
    const tty = process.stderr.isTTY === true && !flags.json;
    const budget = opts.runs !== null ? `${fmt(opts.runs)} cases` : `${(opts.timeMs! / 1000).toFixed(0)}s`;
    process.stderr.write(
      `bpfspec kdiff: seed ${opts.seed}, ${budget}, ${workers} oracle${workers === 1 ? '' : 's'} on CPUs ${oracles.map((o) => o.cpu).join(',')}, ` +
        `${opts.packetsPerProgram} packets per program; kernel ${params.release}, optmem_max ${params.optmemMax}, bpf_prog header ${header ?? 'unknown'} ` +
        `-> model optmem_max ${config.optmemMax}, load helpers ${config.loadHelpers}\n`,
    );
    const bar = tty
      ? new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {cases} cases | {rate}/s | {pairs} pairs | findings {findings}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
      : null;
    const total = opts.runs ?? opts.timeMs!;
    bar?.start(total, 0, { cases: '0', rate: '0', pairs: '0', findings: 0 });
    let last = Date.now();
    const written: string[] = [];
    const run = startKdiff(opts, oracles, {
      progress: (s, ms, nf) => {
        const rate = fmt(Math.round(s.cases / Math.max(ms / 1000, 1e-3)));
        if (bar) bar.update(opts.runs !== null ? s.cases : Math.min(ms, total), { cases: fmt(s.cases), rate, pairs: fmt(s.pairs), findings: nf });
        else if (Date.now() - last >= 5000) {
          last = Date.now();
          process.stderr.write(`[${(ms / 1000).toFixed(1)}s] ${fmt(s.cases)} cases (${rate}/s), ${fmt(s.pairs)} pairs (${fmt(s.exact)} exact, ${fmt(s.partial)} partly known), findings ${nf}\n`);
        }
      },
      finding: (f) => {
        let path: string | null = null;
        try {
          path = saveFinding(f, opts, flags.corpus, version, kernel);
        } catch (e) {
          process.stderr.write(`bpfspec: warning: mismatch not written: ${clip(e instanceof Error ? e.message : String(e), 200)}\n`);
        }
        written.push(path ?? '');
        process.stderr.write(`${bar ? '\n' : ''}mismatch (${f.mismatch.kind}): ${f.mismatch.message}\n${path !== null ? `  written to ${path}\n` : ''}`);
      },
    });
    const onSigint = (): void => {
      process.stderr.write('\nstopping (SIGINT): finishing the current batches...\n');
      run.stop();
    };
    process.on('SIGINT', onSigint);
    let summary: KdiffSummary;
    try {
      summary = await run.done;
    } finally {
      process.off('SIGINT', onSigint);
      bar?.stop();
    }
    let confirmedFile: string | null = null;
    try {
      confirmedFile = recordConfirmed(flags.confirmed, params, summary.stats.confirmed);
    } catch (e) {
      // the campaign's summary matters more than the record: say why it is missing and go on
      process.stderr.write(`bpfspec: warning: ${clip(e instanceof Error ? e.message : String(e), 300)}\n`);
    }
    return { summary, written, params, header, confirmedFile };
  } finally {
    await Promise.all(oracles.map((o) => o.close()));
  }
}

export function kdiffJson(r: KdiffResult): unknown {
  const s = r.summary;
  const secs = s.elapsedMs / 1000;
  return {
    seed: s.seed,
    workers: s.workers,
    cpus: s.cpus,
    kernel: { ...paramsJson(r.params, s.cpus[0] ?? -1, r.header) },
    elapsed_s: Number(secs.toFixed(3)),
    interrupted: s.interrupted,
    ...s.stats,
    cases_per_s: Math.round(s.stats.cases / Math.max(secs, 1e-3)),
    pairs_per_s: Math.round(s.stats.pairs / Math.max(secs, 1e-3)),
    confirmed_file: r.confirmedFile,
    findings: s.findings.map((f, i) => ({ kind: f.mismatch.kind, message: f.mismatch.message, seed: f.seed, path: f.path, chunk: f.chunk, shrinks: f.shrinks, file: r.written[i] || null })),
  };
}

export function kdiffText(r: KdiffResult): string {
  const s = r.summary;
  const st = s.stats;
  const secs = s.elapsedMs / 1000;
  const lines = [
    `kernel ${r.params.release} (optmem_max ${r.params.optmemMax}, bpf_jit_enable ${r.params.bpfJitEnable}, bpf_prog header ${r.header ?? 'unknown'}), CPUs ${s.cpus.join(',')}`,
    `seed ${s.seed}${s.interrupted ? ' (interrupted)' : ''}: ${fmt(st.cases)} cases (${fmt(st.programs)} valid programs, ${fmt(st.invalid)} invalid) in ${secs.toFixed(1)}s, ` +
      `${fmt(Math.round(st.cases / Math.max(secs, 1e-3)))} cases/s; ${fmt(st.attaches)} attaches`,
    `results: ${fmt(st.pairs)} (program, packet) pairs compared, ${fmt(Math.round(st.pairs / Math.max(secs, 1e-3)))}/s: ${fmt(st.exact)} exact (${fmt(st.confirmedPairs)} of them arrived whole and were confirmed by a copy checking the model's value), ${fmt(st.partial)} partly known; ` +
      `${fmt(st.random)} SKF_AD_RANDOM pairs not compared; ${fmt(st.sendErrors)} send errors`,
    `x86-64 JIT failures (-ENOTSUPP, model run with jitAvailable false agrees): ${fmt(st.jitFailures)}`,
    ...Object.entries(st.partialReasons).map(([k, v]) => `  partly known (${fmt(v)}): ${k}`),
    'catalogue divergences confirmed by this kernel:',
    ...DIVERGENCES.map((d) => `  ${d.id.padEnd(24)} ${fmt(st.confirmed[d.id] ?? 0).padStart(10)}`),
    ...Object.entries(st.confirmed)
      .filter(([k]) => !DIVERGENCES.some((d) => d.id === k))
      .map(([k, v]) => `  ${k.padEnd(24)} ${fmt(v).padStart(10)}  (several at once)`),
    ...(r.confirmedFile ? [`  recorded in ${r.confirmedFile}`] : []),
    `mismatches: ${s.findings.length}`,
  ];
  for (const f of s.findings) {
    const m = f.mismatch;
    lines.push(`  ${m.kind}: ${m.message} (seed ${f.seed}, path ${f.path}, ${f.shrinks} shrinks)`);
    lines.push(...String(printProgram(m.prog, 'bpf_asm')).trimEnd().split('\n').map((l) => `      ${l}`));
    if (m.kind === 'verdict') lines.push(`    kernel: ${m.kernel.errno === 0 ? 'accepted' : `-${errnoName(m.kernel.errno)}`}`);
    if (m.skb && m.env) lines.push(...sideBySide(m.prog, m.skb, m.env, kdiffConfigOf(r)).map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

const kdiffConfigOf = (r: KdiffResult): KernelConfig => liveConfig(r.params, r.header ?? undefined);
