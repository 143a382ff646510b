// `bpfspec kdiff`: the live Linux kernel as the judge of the model; and every campaign whose judges
// answer in batches (`bpfspec fuzz --judges ...` with a registered judge such as `live`). Both run
// fuzz/batched.ts; this file opens the judges, prints and saves what it finds.
import cliProgress from 'cli-progress';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { KernelConfig } from '../../model/config.js';
import type { Judge, SkbInput } from '../../model/judge.js';
import { makeEntry, writeEntry } from '../../fuzz/corpus.js';
import { DIVERGENCES } from '../../fuzz/divergences.js';
import { startBatched, resultText, type BatchedFinding, type BatchedOptions, type BatchedSummary, type JudgeStats, type Lane } from '../../fuzz/batched.js';
import { openableJudge, registerJudge } from '../../fuzz/judges.js';
import { KernelOracle, LiveKernelJudge } from '../../oracle/kernel/judge.js';
import { paramsJson, type KernelParams } from '../../oracle/kernel/params.js';
import { DEFAULT_CONFIG } from '../../model/kernel.js';
import { probeLive, probeLiveWith, resolveKernel, type KernelFlags } from '../kernel.js';
import { printProgram } from '../formats/index.js';
import { clip, ensureOutputDir, InputError, writeOutput } from '../io.js';
import { sideBySide } from '../report.js';
import { budgetOptions, countTable, parseSpecCheck, positiveInt, saveBySignature, sigintStop } from './fuzz.js';
import { SPEC_CHECK_DEFAULT } from '../../fuzz/properties.js';

// The live kernel, for `--judges live` and kdiff: one oracle process per lane, pinned to CPU lane mod the CPU count.
registerJudge({
  name: 'live',
  against: 'kernel',
  description: 'the running kernel: SO_ATTACH_FILTER on an AF_UNIX socket pair (oracle/kernel)',
  live: true,
  open: async ({ lane }) => {
    const o = await KernelOracle.open(lane % availableParallelism());
    return 'missing' in o ? { missing: `the live kernel oracle: ${o.missing}` } : new LiveKernelJudge(o);
  },
});

export interface BatchedFlags {
  readonly time?: string;
  readonly runs?: string;
  readonly seed?: string;
  readonly workers?: string;
  readonly corpus: string;
  /** where confirmed divergences are recorded; nothing is written without it */
  readonly confirmed?: string;
  readonly packetsPerProgram: string;
  readonly json?: boolean;
  /** stop after this many distinct finding signatures (fuzz/signature.ts) */
  readonly maxFindings?: string;
  /** --spec-check all|N: the spec also answers one case in N beside the engines */
  readonly specCheck?: string;
}

export type KdiffFlags = BatchedFlags;

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * Open `names` once per lane; on a missing prerequisite close what was opened and throw InputError
 * naming it. `liveHarden`: the bpf_jit_harden the `live` judge's attaches run under (kdiff
 * --jit-harden: the oracle sets the sysctl for each attach, under the harden lock, and restores it),
 * null for the machine's.
 */
export async function openLanes(names: readonly string[], lanes: number, config: KernelConfig, liveHarden: number | null = null): Promise<Lane[]> {
  const out: Lane[] = [];
  const opened: Judge<SkbInput>[] = [];
  try {
    for (let lane = 0; lane < lanes; lane++) {
      const judges = [];
      for (const name of names) {
        const entry = openableJudge(name);
        if (entry === undefined) throw new InputError(`--judges: unknown judge '${name}'`);
        const j =
          name === 'live' && liveHarden !== null
            ? await KernelOracle.open(lane % availableParallelism(), 'auto', liveHarden).then((o) => ('missing' in o ? { missing: `the live kernel oracle: ${o.missing}` } : new LiveKernelJudge(o)))
            : await entry.open({ config, lane, lanes });
        if ('missing' in j) throw new InputError(`judge ${name} needs ${j.missing}`);
        opened.push(j);
        judges.push({ judge: j, against: entry.against });
      }
      out.push({ judges });
    }
    return out;
  } catch (e) {
    await Promise.all(opened.map((j) => j.close()));
    throw e;
  }
}


/**
 * Write a finding to the corpus; returns the file written. The origin names its chunk and signature,
 * as fuzz's findings do, so that `corpus merge` keeps the smallest case of each signature.
 */
function saveFinding(f: BatchedFinding, opts: BatchedOptions, dir: string, version: string, kernel: Record<string, unknown> | null, command: string): string {
  const origin = { bpfspec: version, seed: f.seed, path: f.path, source: `bpfspec ${command} --seed ${opts.seed} (chunk ${f.chunk})`, chunk: f.chunk, signature: f.signature };
  const c =
    f.kind === 'spec'
      ? {
          title: `${f.finding.property}: ${f.finding.message}`,
          property: f.finding.property,
          message: f.finding.message,
          prog: f.finding.prog,
          inputs: f.finding.skb && f.finding.env ? [{ skb: f.finding.skb, env: f.finding.env }] : [],
          origin,
        }
      : {
          title: `${f.mismatch.judge} ${f.mismatch.kind}: ${f.mismatch.message}`,
          property: 'judge' as const,
          message: `${f.mismatch.judge}: ${f.mismatch.message}`,
          prog: f.mismatch.prog,
          inputs: f.mismatch.input ? [f.mismatch.input] : [],
          origin:
            kernel !== null && f.mismatch.judge === 'live'
              ? { ...origin, kernel: { ...kernel, verdict_errno: f.mismatch.answer.verdict.accepted ? 0 : -f.mismatch.answer.verdict.errno, result: f.mismatch.answer.result } }
              : origin,
        };
  const entry = makeEntry({ kind: 'finding', ...c, title: c.title.slice(0, 200), config: opts.config, asm: String(printProgram(c.prog, 'bpf_asm')) });
  mkdirSync(dir, { recursive: true });
  return writeEntry(dir, entry).path;
}

/**
 * Record the catalogue divergences this kernel confirmed: <dir>/<release>.json holds, per divergence
 * id, how many cases showed it and the kernel that confirmed it (merged with what earlier runs
 * recorded; written atomically). Only called with an explicit `--confirmed DIR`.
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

export interface BatchedResult {
  readonly command: string;
  readonly judges: readonly string[];
  readonly summary: BatchedSummary;
  readonly written: string[];
  /** the live kernel's parameters, when a judge is the running kernel */
  readonly params: KernelParams | null;
  readonly header: number | null;
  readonly config: KernelConfig;
  readonly confirmedFile: string | null;
  /** lanes whose judges fell back to one packet at a time (the live kernel without root) */
  readonly unbatched: number;
}

export type KdiffResult = BatchedResult;

/**
 * Run a batched campaign of `judges` (registered names) with live progress; SIGINT stops it cleanly.
 * When a judge is the running kernel, the model takes the kernel's parameters (probed). Throws
 * InputError naming what is missing.
 */
export async function runBatched(
  command: string,
  judges: readonly string[],
  syncJudges: readonly string[],
  flags: BatchedFlags,
  kernel: KernelFlags,
  version: string,
  /** the lanes without --workers (default: one per core) */
  defaultLanes = availableParallelism(),
): Promise<BatchedResult> {
  // the flags are checked before any judge or oracle starts (one line, exit 2)
  const flagBudget = budgetOptions(flags, defaultLanes);
  const workers = flagBudget.workers;
  const packetsPerProgram = positiveInt('--packets-per-program', flags.packetsPerProgram, 1024);
  const maxFindings = flags.maxFindings === undefined ? null : positiveInt('--max-findings', flags.maxFindings);
  const specCheck = parseSpecCheck(flags.specCheck);
  // a judge that is the running kernel makes `live` the default profile (the model describes the judge)
  const judgesLive = judges.some((n) => openableJudge(n)?.live === true);
  const base = judgesLive || kernel.kernel === 'live' ? null : resolveKernel(kernel, null);
  // --jit-harden with the live kernel as judge: the kernel's attaches run under it too (one window per attach)
  if (kernel.jitHarden !== undefined && !/^[012]$/.test(kernel.jitHarden)) throw new InputError(`--jit-harden ${clip(kernel.jitHarden)}: expected 0, 1 or 2`);
  const liveHarden = judgesLive && kernel.jitHarden !== undefined ? Number(kernel.jitHarden) : null;
  // the live oracle attaches as this process: as root it has CAP_BPF and CAP_SYS_ADMIN, so a model of an
  // unprivileged task (blinded under bpf_jit_harden 1, the BHB barrier) would not describe the judge
  if (judgesLive && kernel.unprivileged === true && process.getuid?.() === 0)
    throw new InputError('--unprivileged: not with the live kernel as judge run as root (its attaches have CAP_BPF and CAP_SYS_ADMIN)');
  // Ctrl-C from here on stops the campaign cleanly, even before it has started (judges still opening)
  const sigint = sigintStop('batches');
  let lanes: Awaited<ReturnType<typeof openLanes>>;
  try {
    lanes = await openLanes(judges, workers, base ?? DEFAULT_CONFIG, liveHarden);
  } catch (e) {
    sigint.dispose();
    throw e;
  }
  try {
    const live = lanes[0]!.judges.find((j) => j.judge instanceof LiveKernelJudge)?.judge as LiveKernelJudge | undefined;
    const setup = live ? await probeLiveWith(live.oracle) : kernel.kernel === 'live' ? await probeLive() : null;
    if (setup?.note) process.stderr.write(`bpfspec ${command}: ${setup.note}\n`);
    const config = base ?? resolveKernel(kernel, setup!.config, 'live');
    const jit = config.arch === 'x86_64' ? config.x86Jit : null;
    const opts: BatchedOptions = { ...flagBudget, packetsPerProgram, config, chunkSize: 256, batch: 32, syncJudges, maxFindings, ...(specCheck !== undefined ? { specCheck } : {}) };
    const kernelJson = setup && live ? paramsJson(setup.params, live.cpu, setup.header) : null;
    const unbatched = lanes.filter((l) => l.judges.some((j) => j.judge instanceof LiveKernelJudge && !j.judge.batched)).length;
    const tty = process.stderr.isTTY === true && !flags.json;
    const budget = opts.runs !== null ? `${fmt(opts.runs)} cases` : `${(opts.timeMs! / 1000).toFixed(0)}s`;
    const cpus = lanes.flatMap((l) => l.judges.filter((j) => j.judge instanceof LiveKernelJudge).map((j) => (j.judge as LiveKernelJudge).cpu));
    process.stderr.write(
      `bpfspec ${command}: seed ${opts.seed}, ${budget}, ${workers} lane${workers === 1 ? '' : 's'}${cpus.length ? ` (oracles on CPUs ${cpus.join(',')})` : ''}, ` +
        `${opts.packetsPerProgram} packets per program, judges ${['classic', 'kernel', ...syncJudges, ...judges].join(',')}` +
        ` (the engines answer for classic,kernel on every case, the spec on ${specCheck === 1 ? 'every case' : `1 case in ${specCheck ?? SPEC_CHECK_DEFAULT}`} and on every mismatch)` +
        (setup ? `; kernel ${setup.params.release}, optmem_max ${setup.params.optmemMax}, bpf_prog header ${setup.header ?? 'unknown'}, bpf_jit_harden ${setup.params.bpfJitHarden ?? 'unknown'}${liveHarden !== null ? ' (set for each attach)' : ''}` : '') +
        `; model: profile ${config.profile}${config.variant ? ` with variant ${config.variant}` : ''}, optmem_max ${config.optmemMax}, bpf_prog header ${config.bpfProgHeaderSize}, load helpers ${config.loadHelpers}` +
        '\n',
    );
    if (jit !== null)
      process.stderr.write(
        `bpfspec ${command}: x86-64 JIT (model/jit): short jumps to ${jit.shortJumpMax} bytes, IBT ${jit.ibt ? 'on' : 'off'}, return thunk ${jit.returnThunk ? 'on' : 'off'}, call-depth accounting ${jit.callDepthAccounting} bytes, BMI2 ${jit.bmi2 ? 'yes' : 'no'}: its -ENOTSUPP is predicted\n`,
      );
    if (unbatched > 0)
      process.stderr.write(
        `bpfspec ${command}: ${unbatched} of ${workers} oracle${workers === 1 ? '' : 's'} cannot batch (no CAP_SETUID for SCM_CREDENTIALS tagging; run as root): falling back to one packet at a time, which is much slower\n`,
      );
    const bar = tty
      ? new cliProgress.SingleBar({ format: ' {bar} {percentage}% | {cases} cases | {rate}/s | {pairs} pairs | findings {findings}', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic)
      : null;
    const total = opts.runs ?? opts.timeMs!;
    bar?.start(total, 0, { cases: '0', rate: '0', pairs: '0', findings: 0 });
    let last = Date.now();
    const written: string[] = [];
    /** signature -> the corpus file of its smallest case so far */
    const files = new Map<string, string | null>();
    const pairsOf = (s: BatchedSummary['stats']): number => Object.values(s.judges).reduce((n, j) => n + j.pairs, 0);
    const run = startBatched(opts, lanes, {
      progress: (s, ms, nf) => {
        const rate = fmt(Math.round(s.cases / Math.max(ms / 1000, 1e-3)));
        if (bar) bar.update(opts.runs !== null ? s.cases : Math.min(ms, total), { cases: fmt(s.cases), rate, pairs: fmt(pairsOf(s)), findings: nf });
        else if (Date.now() - last >= 5000) {
          last = Date.now();
          process.stderr.write(`[${(ms / 1000).toFixed(1)}s] ${fmt(s.cases)} cases (${rate}/s), ${fmt(pairsOf(s))} pairs, findings ${nf}\n`);
        }
      },
      finding: (f, offer) => {
        let path: string | null = null;
        // one file per signature: a finding of a signature already held by a case as small is counted, not written
        if (offer.status === 'kept') return void written.push('');
        try {
          // one file per signature, as fuzz keeps them: a smaller case replaces the larger one's file
          path = saveBySignature(f, offer, files, () => saveFinding(f, opts, flags.corpus, version, kernelJson, command));
        } catch (e) {
          // a full disk or a vanished directory must not end the campaign: the summary still has it
          process.stderr.write(`bpfspec: warning: ${f.kind === 'judge' ? 'mismatch' : 'finding'} not written: ${clip(e instanceof Error ? e.message : String(e), 200)}\n`);
        }
        written.push(path ?? '');
        const what = f.kind === 'judge' ? `mismatch (${f.mismatch.judge} ${f.mismatch.kind}): ${f.mismatch.message}` : `finding (${f.finding.property}): ${f.finding.message}`;
        process.stderr.write(`${bar ? '\n' : ''}${what}\n${path !== null ? `  written to ${path}\n` : ''}`);
      },
    });
    sigint.attach(() => run.stop());
    let summary: BatchedSummary;
    try {
      summary = await run.done;
    } finally {
      bar?.stop();
    }
    let confirmedFile: string | null = null;
    try {
      confirmedFile = flags.confirmed !== undefined && setup ? recordConfirmed(flags.confirmed, setup.params, summary.stats.confirmed) : null;
    } catch (e) {
      // the campaign's summary matters more than the record: say why it is missing and go on
      process.stderr.write(`bpfspec: warning: ${clip(e instanceof Error ? e.message : String(e), 300)}\n`);
    }
    return { command, judges, summary, written, params: setup?.params ?? null, header: setup?.header ?? null, config, confirmedFile, unbatched };
  } finally {
    sigint.dispose();
    await Promise.all(lanes.flatMap((l) => l.judges.map((j) => j.judge.close())));
  }
}

/** `bpfspec kdiff`: the batched campaign with the live kernel as its judge (the model: --kernel, default live). */
export function runKdiff(flags: KdiffFlags, kernel: KernelFlags, version: string): Promise<KdiffResult> {
  // a lane keeps two CPUs busy (its campaign thread and its oracle process), so one lane per two cores
  // by default (on 2 vCPUs one lane made 4,689-5,131 cases/s, two 3,594-4,627: README)
  return runBatched('kdiff', ['live'], [], flags, kernel, version, Math.max(1, Math.floor(availableParallelism() / 2)));
}

const judgeJson = (s: JudgeStats, secs: number): Record<string, unknown> => ({ ...s, pairs_per_s: Math.round(s.pairs / Math.max(secs, 1e-3)) });

export function batchedJson(r: BatchedResult): unknown {
  const s = r.summary;
  const secs = s.elapsedMs / 1000;
  return {
    seed: s.seed,
    lanes: s.lanes,
    judges: ['classic', 'kernel', ...r.judges],
    ...(r.params ? { kernel: paramsJson(r.params, -1, r.header) } : {}),
    elapsed_s: Number(secs.toFixed(3)),
    interrupted: s.interrupted,
    unbatched_lanes: r.unbatched,
    cases: s.stats.cases,
    programs: s.stats.programs,
    invalid: s.stats.invalid,
    cases_per_s: Math.round(s.stats.cases / Math.max(secs, 1e-3)),
    confirmed: s.stats.confirmed,
    confirmed_file: r.confirmedFile,
    judge_stats: Object.fromEntries(Object.entries(s.stats.judges).map(([k, v]) => [k, judgeJson(v, secs)])),
    findings: s.findings.map((f, i) => ({
      ...(f.kind === 'judge' ? { judge: f.mismatch.judge, kind: f.mismatch.kind, message: f.mismatch.message } : { property: f.finding.property, message: f.finding.message }),
      seed: f.seed,
      path: f.path,
      chunk: f.chunk,
      shrinks: f.shrinks,
      signature: f.signature,
      file: r.written[i] || null,
    })),
    max_findings_reached: s.maxFindingsReached,
    signatures: s.signatures.map((e) => ({ id: e.id, signature: e.signature, count: e.count, seed: e.best.seed, path: e.best.path, chunk: e.best.chunk, first_chunk: e.firstChunk, insns: e.bestSize.insns, bytes: e.bestSize.bytes })),
  };
}

export const kdiffJson = batchedJson;

export function batchedText(r: BatchedResult): string {
  const s = r.summary;
  const st = s.stats;
  const secs = s.elapsedMs / 1000;
  const lines: string[] = [];
  if (r.params) lines.push(`kernel ${r.params.release} (optmem_max ${r.params.optmemMax}, bpf_jit_enable ${r.params.bpfJitEnable}, bpf_prog header ${r.header ?? 'unknown'})`);
  lines.push(
    `seed ${s.seed}${s.interrupted ? ' (interrupted)' : ''}: ${fmt(st.cases)} cases (${fmt(st.programs)} valid programs, ${fmt(st.invalid)} invalid) in ${secs.toFixed(1)}s, ` +
      `${fmt(Math.round(st.cases / Math.max(secs, 1e-3)))} cases/s on ${s.lanes} lane${s.lanes === 1 ? '' : 's'}${r.unbatched ? ` (${r.unbatched} one packet at a time)` : ''}`,
  );
  for (const [name, j] of Object.entries(st.judges)) {
    const unsupported = Object.values(j.unsupported).reduce((a, b) => a + b, 0);
    const counters = Object.entries(j.counters).map(([k, v]) => `${fmt(v)} ${k}`).join(', ');
    lines.push(
      `${name}: ${fmt(j.cases)} cases${unsupported ? ` (+${fmt(unsupported)} unsupported)` : ''}; ${fmt(j.pairs)} (program, input) pairs compared, ${fmt(Math.round(j.pairs / Math.max(secs, 1e-3)))}/s: ` +
        `${fmt(j.exact)} exact${j.counters.confirmed !== undefined ? ` (${fmt(j.counters.confirmed)} of them arrived whole and were confirmed by a copy checking the model's value)` : ''}, ${fmt(j.partial)} partly known; ${fmt(j.none)} not comparable` +
        (counters ? `; ${counters}` : ''),
    );
    for (const [k, v] of Object.entries(j.explained))
      lines.push(`  ${k === 'jit-failure' ? 'x86-64 JIT failures (-ENOTSUPP; the model with the JIT failing agrees; the JIT itself is not modelled)' : k}: ${fmt(v)}`);
    for (const [k, v] of Object.entries(j.partialReasons)) lines.push(`  partly known (${fmt(v)}): ${k}`);
    for (const [k, v] of Object.entries(j.noneReasons)) lines.push(`  not comparable (${fmt(v)}): ${k}`);
    for (const [k, v] of Object.entries(j.unsupported)) lines.push(`  unsupported (${fmt(v)}): ${k}`);
  }
  const known = new Set(DIVERGENCES.map((d) => d.id));
  lines.push(
    `catalogue divergences confirmed by ${r.judges.join(', ')}:`,
    ...countTable([
      ...DIVERGENCES.map((d) => [d.id, st.confirmed[d.id] ?? 0, ''] as const),
      ...Object.entries(st.confirmed)
        .filter(([k]) => !known.has(k))
        .map(([k, v]) => [k, v, '(several at once)'] as const),
    ]),
  );
  if (r.confirmedFile) lines.push(`  recorded in ${r.confirmedFile}`);
  lines.push(`findings: ${s.findings.length} in ${s.signatures.length} signature${s.signatures.length === 1 ? '' : 's'}${s.maxFindingsReached ? ` (stopped at --max-findings ${s.signatures.length})` : ''}`);
  for (const e of s.signatures) lines.push(`  ${e.id}  ${fmt(e.count)} finding${e.count === 1 ? '' : 's'}: ${e.signature}`);
  for (const f of s.findings) {
    const prog = f.kind === 'judge' ? f.mismatch.prog : f.finding.prog;
    lines.push(`  ${f.kind === 'judge' ? `${f.mismatch.judge} ${f.mismatch.kind}: ${f.mismatch.message}` : `${f.finding.property}: ${f.finding.message}`} (seed ${f.seed}, path ${f.path}, ${f.shrinks} shrinks)`);
    lines.push(...String(printProgram(prog, 'bpf_asm')).trimEnd().split('\n').map((l) => `      ${l}`));
    if (f.kind === 'judge') {
      const m = f.mismatch;
      if (m.kind === 'result' && m.answer.result) lines.push(`    ${m.judge}: ${resultText(m.answer.result)}`);
      if (m.input) lines.push(...sideBySide(m.prog, m.input.skb, m.input.env, r.config).map((l) => `    ${l}`));
    } else if (f.finding.skb && f.finding.env) lines.push(...sideBySide(prog, f.finding.skb, f.finding.env, r.config).map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

export const kdiffText = batchedText;
