// `bpfspec/fuzz`: campaigns run programmatically (the same campaign as `bpfspec fuzz`: the same seed
// gives the same cases), the properties checked on one case, and the corpus: read, write, replay.
// Node only (worker threads, the file system).
import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import type { Env, SkBuff } from '../model/skb.js';
import { DEFAULT_CHUNK, otherJudges, replaySeedPath, type CampaignCase, type CampaignFinding, type CampaignOptions as PoolOptions } from '../fuzz/campaign.js';
import {
  CorpusError,
  entryCase,
  entryHash as corpusHash,
  listEntries as corpusList,
  makeEntry as corpusMake,
  readEntry as corpusRead,
  replayEntry as corpusReplay,
  SCHEMA_ID,
  schemaValidator,
  SHIPPED_CORPUS_DIR,
  writeEntry as corpusWrite,
  type CorpusEntry,
  type EntryKind,
} from '../fuzz/corpus.js';
import { INVALID_RULES, type InvalidCase } from '../fuzz/arb/invalid.js';
import { BUILTIN_JUDGES, JUDGE_ALIASES } from '../fuzz/judges.js';
import { startCampaign, type CampaignSummary } from '../fuzz/pool.js';
import { startBatched, type BatchedFinding, type BatchedStats, type BatchedSummary, type JudgeStats, type Mismatch } from '../fuzz/batched.js';
import type { Judge, JudgeAnswer, JudgeCase, SkbInput } from '../model/judge.js';
import { Checker, newStats, type Finding, type PropertyName, type Stats } from '../fuzz/properties.js';
import { buildSkb as jsonSkb, skbToJson as jsonOfSkb, SkbSpecError } from '../fuzz/skbjson.js';
import { printProgram } from '../cli/formats/index.js';
import { KernelOracle, LiveKernelJudge } from '../oracle/kernel/judge.js';
import { liveConfig, paramsJson, readKernelParams } from '../oracle/kernel/params.js';
import { probeBpfProgHeader } from '../oracle/kernel/probe.js';
import { BpfspecInputError } from './errors.js';
import { ARCH_TABLE, asBytes, asConfig, asEnv, asJudgeResult, asInt, asObject, asOptions, asProgram, asSkb, asString, checkKernelPathFits, fail, guard, isObject, listOf, oneOf, show } from './validate.js';

export { BpfspecInputError, isBpfspecInputError, type BpfspecErrorCode, type BpfspecErrorDetails } from './errors.js';
export type { CampaignCase, CampaignFinding, CampaignSummary, CorpusEntry, EntryKind, Finding, PropertyName, Stats };
export type { BatchedFinding, BatchedStats, BatchedSummary, JudgeStats, Mismatch };
export type { Judge, JudgeAnswer, JudgeCase, JudgeResult, JudgeVerdict, SkbInput } from '../model/judge.js';
export { SCHEMA_ID };

/** The version of the installed package. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

// --- checking cases ---------------------------------------------------------------------------------

/**
 * The judges a campaign in this process can run: the two spec judges, 'classic' (the classic
 * evaluator) and 'kernel' (the kernel path), always run; 'compiled-classic' and 'compiled-ebpf'
 * (bpfspec's compiled backends) are each compared with the spec judge they must equal; 'compiled'
 * names both.
 */
export const JUDGE_NAMES: readonly string[] = Object.freeze([...BUILTIN_JUDGES.keys(), ...JUDGE_ALIASES.keys()]);

/** A judge name (one of JUDGE_NAMES). */
export type JudgeName = string;

/** The judges beyond the spec pair, aliases expanded, each once. */
function asJudges(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  const out: string[] = [];
  for (const n of listOf(JUDGE_NAMES, v, what)) for (const m of JUDGE_ALIASES.get(n) ?? [n]) if (m !== 'classic' && m !== 'kernel' && !out.includes(m)) out.push(m);
  return out;
}

export interface CheckOptions {
  /** The kernel configuration (default DEFAULT_CONFIG: Linux 6.6.y on x86-64). */
  readonly config?: KernelConfig;
  /** The judges (JUDGE_NAMES; default the spec pair, 'classic' and 'kernel'; add 'compiled' for the compiled backends). */
  readonly judges?: readonly JudgeName[];
}

/** One input of a case: an skb and the environment it runs in. */
export interface CaseInput {
  readonly skb: SkBuff;
  readonly env: Env;
}

/** A case to check: a valid program and its inputs, or a program aimed at a rule (as campaignCase() draws them). */
export type CheckableCase = { readonly valid: { readonly prog: Program; readonly inputs: readonly CaseInput[] } } | { readonly invalid: InvalidCase };

const STAGES = ['check', 'convert', 'charge'] as const;

function asCase(v: unknown): { valid: { prog: Program; inputs: CaseInput[] } } | { invalid: InvalidCase } {
  const c = asObject(v, 'case');
  if ('valid' in c) {
    const val = asObject(c.valid, 'case.valid');
    if (!Array.isArray(val.inputs)) fail('invalid-argument', `case.valid.inputs: expected an array of { skb, env }, got ${show(val.inputs)}`);
    const inputs = val.inputs.map((inp: unknown, i): CaseInput => {
      const o = asObject(inp, `case.valid.inputs[${i}]`);
      const skb = asSkb(o.skb, `case.valid.inputs[${i}].skb`);
      checkKernelPathFits(skb, `case.valid.inputs[${i}].skb`);
      return { skb, env: asEnv(o.env, `case.valid.inputs[${i}].env`) };
    });
    return { valid: { prog: asProgram(val.prog, 'case.valid.prog'), inputs } };
  }
  if ('invalid' in c) {
    const inv = asObject(c.invalid, 'case.invalid');
    return {
      invalid: {
        prog: asProgram(inv.prog, 'case.invalid.prog'),
        targets: oneOf(INVALID_RULES, inv.targets, 'case.invalid.targets'),
        stage: oneOf(STAGES, inv.stage, 'case.invalid.stage'),
        pc: inv.pc === null ? null : asInt(inv.pc, 'case.invalid.pc', 0, 0xffff),
        how: inv.how === undefined ? '' : asString(inv.how, 'case.invalid.how'),
      },
    };
  }
  return fail('invalid-argument', 'case: expected { valid: { prog, inputs } } or { invalid: { prog, targets, stage, pc } }');
}

/** Checks cases against the fuzzer's properties, reusing its judges (build one, check many). */
export interface CaseChecker {
  /**
   * The properties on one case: a generated valid program is accepted, an invalid one rejected by the
   * rule it targets; classic and kernel-path results agree except where a catalogued divergence
   * applies, and then the kernel result is exactly its prediction; the kernel path never faults;
   * encodings round-trip (and, with the compiled judge, the compiled backends equal the
   * interpreters). null when every property holds, else the finding.
   */
  check(c: CheckableCase): Finding | null;
  /** What the checks so far counted: programs, pairs, invalid cases, divergences by id, invalid rules. */
  readonly stats: Stats;
}

/** A case checker for a configuration and a set of judges. */
export function createChecker(opts: CheckOptions = {}): CaseChecker {
  const o = asOptions(opts, 'createChecker: options');
  const config = asConfig(o.config, 'createChecker: config');
  const checker = new Checker(config, otherJudges(asJudges(o.judges, 'createChecker: judges'), config));
  checker.stats = newStats();
  return {
    check(c: CheckableCase): Finding | null {
      const v = asCase(c);
      return 'valid' in v ? checker.checkValid(v.valid.prog, v.valid.inputs) : checker.checkInvalid(v.invalid);
    },
    get stats(): Stats {
      return checker.stats;
    },
  };
}

/** The properties on one case (see CaseChecker.check); for many cases build one checker with createChecker. */
export function checkCase(c: CheckableCase, opts: CheckOptions = {}): Finding | null {
  return createChecker(opts).check(c);
}

// --- campaigns ------------------------------------------------------------------------------------------

/** Progress of a running campaign (after every chunk of 256 cases). */
export interface CampaignProgress {
  readonly stats: Stats;
  readonly elapsedMs: number;
  readonly findings: number;
}

export interface CampaignOptions {
  /** Number of cases (give runs or timeMs). */
  readonly runs?: number;
  /** Wall-clock budget in milliseconds (give runs or timeMs). */
  readonly timeMs?: number;
  /** The campaign seed (default random; the summary records it): the same seed gives the same campaign. */
  readonly seed?: number;
  /** Worker threads (default 1). The cases do not depend on it. */
  readonly workers?: number;
  /** skbs each valid program runs on (default 4). */
  readonly packetsPerProgram?: number;
  /** The kernel configuration (default DEFAULT_CONFIG, Linux 6.6.y on x86-64; a variant config runs against that historical bug). */
  readonly config?: KernelConfig;
  /** The judges (JUDGE_NAMES; default the spec pair, 'classic' and 'kernel'; add 'compiled' for the compiled backends). */
  readonly judges?: readonly JudgeName[];
  /** Run shard `index` of `count` (machines split one campaign by seed space; default 0 of 1). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Where findings are written as corpus entries (default: not written). */
  readonly corpus?: string;
  /**
   * Stop after this many distinct finding signatures (`bpfspec fuzz --max-findings`): the workers
   * finish their chunk, the cut is at the same chunk whatever the worker count, and the summary says
   * maxFindingsReached. Default: no limit.
   */
  readonly maxFindings?: number;
  /** Stops the campaign cleanly (the workers finish their chunk); the summary says interrupted. */
  readonly signal?: AbortSignal;
  /** Called after every chunk. A callback that throws stops the campaign and rejects its promise. */
  readonly onProgress?: (p: CampaignProgress) => void;
  /** Called for each finding, as it comes (already shrunk to a minimal case). */
  readonly onFinding?: (f: CampaignFinding) => void;
}

export interface CampaignResult extends CampaignSummary {
  /** the corpus entries written for the findings (when opts.corpus is set), in the order of `findings` */
  readonly written: readonly string[];
}

/** The corpus entry of a campaign finding (as `bpfspec fuzz` writes it). */
export function findingEntry(f: CampaignFinding, opts: { readonly config?: KernelConfig; readonly campaignSeed?: number } = {}): CorpusEntry {
  const o = asOptions(opts, 'findingEntry: options');
  const config = asConfig(o.config, 'findingEntry: config');
  const fd = asObject(asObject(f, 'findingEntry: finding').finding, 'findingEntry: finding.finding') as unknown as Finding;
  const prog = asProgram(fd.prog, 'findingEntry: finding.prog');
  return guard('findingEntry', () =>
    corpusMake({
      kind: 'finding',
      title: `${fd.property}: ${fd.message}`.slice(0, 200),
      property: fd.property,
      message: fd.message,
      prog,
      inputs: fd.skb && fd.env ? [{ skb: fd.skb, env: fd.env }] : [],
      config,
      asm: String(printProgram(prog, 'bpf_asm')),
      origin: {
        bpfspec: VERSION,
        seed: f.seed,
        path: f.path,
        source: `bpfspec/fuzz runCampaign${o.campaignSeed === undefined ? '' : ` seed ${String(o.campaignSeed)}`} (chunk ${f.chunk})`,
      },
    }),
  );
}

/**
 * Run a campaign on worker threads: valid programs by construction with their skbs, and programs aimed
 * at each rule (9 to 1), every case checked against the properties (CaseChecker.check) by the judges.
 * Resolves with the summary (counts, divergences seen, findings sorted by chunk, each with the seed and
 * path that replay it: replayCampaignCase).
 */
export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const o = asObject(opts, 'runCampaign: options');
  if ((o.runs === undefined) === (o.timeMs === undefined)) fail('invalid-argument', 'runCampaign: give one of runs (cases) or timeMs (a budget in milliseconds)');
  const runs = o.runs === undefined ? null : asInt(o.runs, 'runCampaign: runs', 1, Number.MAX_SAFE_INTEGER);
  const timeMs = o.timeMs === undefined ? null : asInt(o.timeMs, 'runCampaign: timeMs', 1, 2 ** 31 - 1);
  const seed = o.seed === undefined ? randomInt(2 ** 31) : asInt(o.seed, 'runCampaign: seed', -(2 ** 31), 2 ** 31 - 1);
  const workers = o.workers === undefined ? 1 : asInt(o.workers, 'runCampaign: workers', 1, 256);
  const packetsPerProgram = o.packetsPerProgram === undefined ? 4 : asInt(o.packetsPerProgram, 'runCampaign: packetsPerProgram', 1, 4096);
  const config = asConfig(o.config, 'runCampaign: config');
  const judges = asJudges(o.judges, 'runCampaign: judges');
  let shard = { index: 0, count: 1 };
  if (o.shard !== undefined) {
    const s = asObject(o.shard, 'runCampaign: shard');
    const count = asInt(s.count, 'runCampaign: shard.count', 1, 2 ** 31 - 1);
    shard = { index: asInt(s.index, 'runCampaign: shard.index', 0, count - 1), count };
  }
  const maxFindings = o.maxFindings === undefined ? null : asInt(o.maxFindings, 'runCampaign: maxFindings', 1, 2 ** 31 - 1);
  const corpusDir = o.corpus === undefined ? null : asString(o.corpus, 'runCampaign: corpus');
  if (corpusDir !== null) {
    if (existsSync(corpusDir) && !statSync(corpusDir).isDirectory()) fail('invalid-argument', `runCampaign: corpus ${show(corpusDir)} is not a directory`);
    mkdirSync(corpusDir, { recursive: true });
  }
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail('invalid-argument', 'runCampaign: signal: expected an AbortSignal');
  const onProgress = o.onProgress;
  const onFinding = o.onFinding;
  for (const [name, fn] of [['onProgress', onProgress], ['onFinding', onFinding]] as const)
    if (fn !== undefined && typeof fn !== 'function') fail('invalid-argument', `runCampaign: ${name}: expected a function`);

  const poolOpts: PoolOptions = { seed, runs, timeMs, workers, shard, packetsPerProgram, config, chunkSize: DEFAULT_CHUNK, judges, maxFindings };
  const written: string[] = [];
  const summary = await guarded(signal as AbortSignal | undefined, (safely) =>
    startCampaign(poolOpts, {
      progress: (stats, elapsedMs, findings) => {
        if (onProgress) safely(() => (onProgress as (p: CampaignProgress) => void)({ stats, elapsedMs, findings }));
      },
      finding: (f) => {
        if (corpusDir !== null) safely(() => written.push(corpusWrite(corpusDir, findingEntry(f, { config, campaignSeed: seed })).path));
        if (onFinding) safely(() => (onFinding as (f: CampaignFinding) => void)(f));
      },
    }),
  );
  return { ...summary, written };
}

/**
 * Run a campaign `start` starts, with the caller's callbacks wrapped by `safely`: a callback runs
 * inside the runner's message handler, so what it throws must not escape as an uncaught exception
 * (that would end the host process); it stops the campaign and rejects instead. An AbortSignal stops
 * it too.
 */
async function guarded<S>(signal: AbortSignal | undefined, start: (safely: (fn: () => void) => void) => { stop(): void; readonly done: Promise<S> }): Promise<S> {
  let callbackError: unknown = null;
  let run: { stop(): void } | null = null;
  const safely = (fn: () => void): void => {
    if (callbackError !== null) return;
    try {
      fn();
    } catch (e) {
      callbackError = e;
      run?.stop();
    }
  };
  const r = start(safely);
  run = r;
  if (callbackError !== null) r.stop();
  const onAbort = (): void => r.stop();
  if (signal) {
    if (signal.aborted) r.stop();
    else signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    const summary = await r.done;
    if (callbackError !== null) throw callbackError;
    return summary;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A judge of your own (model/judge.ts Judge) and the spec judge it must equal. */
export interface ExternalJudge {
  readonly judge: Judge<SkbInput>;
  /** 'classic': the classic evaluator (e.g. libpcap's bpf_filter, a BSD engine); 'kernel': the kernel path (an eBPF engine, a kernel). */
  readonly against: 'classic' | 'kernel';
}

export interface JudgeCampaignOptions {
  /** Number of cases (give runs or timeMs). */
  readonly runs?: number;
  /** Wall-clock budget in milliseconds (give runs or timeMs). */
  readonly timeMs?: number;
  /** The campaign seed (default random): the same cases as `bpfspec fuzz` draws with this seed. */
  readonly seed?: number;
  /** skbs each valid program runs on (default 4). */
  readonly packetsPerProgram?: number;
  /** The kernel configuration of the spec (default DEFAULT_CONFIG: Linux 6.6.y on x86-64). */
  readonly config?: KernelConfig;
  /** The judges to compare with the spec (at least one; unique names). You open and close them. */
  readonly judges: readonly ExternalJudge[];
  /** Cases per request to the judges (default 64). */
  readonly batch?: number;
  /** Judges of this process checked on every case too (JUDGE_NAMES, e.g. ['compiled']). */
  readonly syncJudges?: readonly JudgeName[];
  /** Stops the campaign after the current batch; the summary says interrupted. */
  readonly signal?: AbortSignal;
  /** Called after every batch. A callback that throws stops the campaign and rejects its promise. */
  readonly onProgress?: (p: { readonly stats: BatchedStats; readonly elapsedMs: number; readonly findings: number }) => void;
  /** Called for each finding (a judge's mismatch, shrunk by asking the judge again, or a spec property's finding). */
  readonly onFinding?: (f: BatchedFinding) => void;
}

const REFERENCES = ['classic', 'kernel'] as const;

const isFn = (v: unknown): boolean => typeof v === 'function';

// A caller's judge, with its answers checked: an answer of the wrong shape becomes a BpfspecInputError
// naming the judge (the campaign's promise rejects with it), not a TypeError deep in the comparison.
function checkedJudge(j: Judge<SkbInput>, what: string): Judge<SkbInput> {
  const answers = (cases: readonly JudgeCase<SkbInput>[], got: unknown): readonly JudgeAnswer[] => {
    if (!Array.isArray(got) || got.length !== cases.length) fail('invalid-argument', `${what}: judge() must answer one JudgeAnswer per case (${cases.length}), got ${show(got)}`);
    got.forEach((a: unknown, i) => {
      const o = asObject(a, `${what}: answer ${i}`);
      const v = asObject(o.verdict, `${what}: answer ${i}.verdict`);
      if (typeof v.accepted !== 'boolean') fail('invalid-argument', `${what}: answer ${i}.verdict.accepted: expected true or false`);
      if (!v.accepted) asInt(v.errno, `${what}: answer ${i}.verdict.errno`, -(2 ** 31), 2 ** 31 - 1);
      if (!Array.isArray(o.results)) fail('invalid-argument', `${what}: answer ${i}.results: expected an array`);
      if (v.accepted && o.results.length !== cases[i]!.inputs.length)
        fail('invalid-argument', `${what}: answer ${i}: ${o.results.length} results for ${cases[i]!.inputs.length} inputs`);
      o.results.forEach((r: unknown, k) => asJudgeResult(r, `${what}: answer ${i}.results[${k}]`));
    });
    return got as readonly JudgeAnswer[];
  };
  return {
    name: j.name,
    supports: (prog) => {
      const r: unknown = j.supports(prog);
      if (r !== null && typeof r !== 'string') fail('invalid-argument', `${what}: supports() must return null or a reason string, got ${show(r)}`);
      return r as string | null;
    },
    ...(j.inputFor ? { inputFor: (i: SkbInput) => j.inputFor!(i) } : {}),
    judge: async (cases) => answers(cases, await j.judge(cases)),
    close: () => j.close(),
  };
}

/**
 * A campaign against judges of your own: the fuzz generators' cases go to the spec in this process and,
 * in batches, to each judge (model/judge.ts: a verdict and, per input, an exact, partial or no result),
 * which is compared with the spec judge it names; a verdict or result they cannot both give is a
 * mismatch, shrunk with fast-check by asking the judge again. The spec's own properties are checked on
 * every case too. This is how `bpfspec kdiff` runs the live kernel.
 */
export async function runJudgeCampaign(opts: JudgeCampaignOptions): Promise<BatchedSummary> {
  const o = asObject(opts, 'runJudgeCampaign: options');
  if ((o.runs === undefined) === (o.timeMs === undefined)) fail('invalid-argument', 'runJudgeCampaign: give one of runs (cases) or timeMs (a budget in milliseconds)');
  const runs = o.runs === undefined ? null : asInt(o.runs, 'runJudgeCampaign: runs', 1, Number.MAX_SAFE_INTEGER);
  const timeMs = o.timeMs === undefined ? null : asInt(o.timeMs, 'runJudgeCampaign: timeMs', 1, 2 ** 31 - 1);
  const seed = o.seed === undefined ? randomInt(2 ** 31) : asInt(o.seed, 'runJudgeCampaign: seed', -(2 ** 31), 2 ** 31 - 1);
  const packetsPerProgram = o.packetsPerProgram === undefined ? 4 : asInt(o.packetsPerProgram, 'runJudgeCampaign: packetsPerProgram', 1, 4096);
  const config = asConfig(o.config, 'runJudgeCampaign: config');
  const batch = o.batch === undefined ? 64 : asInt(o.batch, 'runJudgeCampaign: batch', 1, 65536);
  const syncJudges = asJudges(o.syncJudges, 'runJudgeCampaign: syncJudges');
  if (!Array.isArray(o.judges) || o.judges.length === 0) fail('invalid-argument', 'runJudgeCampaign: judges: expected at least one { judge, against }');
  const names = new Set<string>();
  const judges = o.judges.map((x: unknown, i) => {
    const what = `runJudgeCampaign: judges[${i}]`;
    const e = asObject(x, what);
    const j = asObject(e.judge, `${what}.judge`);
    const name = asString(j.name, `${what}.judge.name`);
    if (name === '' || names.has(name)) fail('invalid-argument', `${what}.judge.name ${show(name)}: names must be unique and not empty`);
    names.add(name);
    for (const m of ['supports', 'judge', 'close']) if (!isFn(j[m])) fail('invalid-argument', `${what}.judge.${m}: expected a function (model/judge.ts Judge)`);
    if (j.inputFor !== undefined && !isFn(j.inputFor)) fail('invalid-argument', `${what}.judge.inputFor: expected a function`);
    return { judge: checkedJudge(j as unknown as Judge<SkbInput>, `judge ${show(name)}`), against: oneOf(REFERENCES, e.against, `${what}.against`) };
  });
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) fail('invalid-argument', 'runJudgeCampaign: signal: expected an AbortSignal');
  for (const name of ['onProgress', 'onFinding']) if (o[name] !== undefined && !isFn(o[name])) fail('invalid-argument', `runJudgeCampaign: ${name}: expected a function`);
  const onProgress = o.onProgress as JudgeCampaignOptions['onProgress'];
  const onFinding = o.onFinding as JudgeCampaignOptions['onFinding'];

  return guarded(signal as AbortSignal | undefined, (safely) =>
    startBatched({ seed, runs, timeMs, packetsPerProgram, config, chunkSize: DEFAULT_CHUNK, batch, syncJudges }, [{ judges }], {
      progress: (stats, elapsedMs, findings) => {
        if (onProgress) safely(() => onProgress({ stats, elapsedMs, findings }));
      },
      finding: (f) => {
        if (onFinding) safely(() => onFinding(f));
      },
    }),
  );
}

/** The running kernel as a judge, and the model configuration that describes it. */
export interface LiveKernel {
  /** SO_ATTACH_FILTER on an AF_UNIX socket pair, on one CPU: compare it with the kernel path ('kernel'). Close it when done. */
  readonly judge: Judge<SkbInput>;
  /** the model configuration for this kernel: its optmem_max, load-helper body and struct bpf_prog size (probed) */
  readonly config: KernelConfig;
  /** what was read: release, version, arch, optmem_max, JIT settings, bpf_prog header, cpu */
  readonly kernel: Readonly<Record<string, unknown>>;
}

/**
 * Open the running Linux kernel as a judge (what `bpfspec kdiff` runs): a small C oracle built with the
 * system cc on first use into the cache (~/.cache/bpfspec), pinned to `cpu` (default 0). Root batches
 * packets; without it, one packet at a time. Throws 'unavailable' naming what the machine lacks.
 * Use it with runJudgeCampaign({ judges: [{ judge, against: 'kernel' }], config }).
 */
export async function openLiveKernel(opts: { readonly cpu?: number } = {}): Promise<LiveKernel> {
  const o = asOptions(opts, 'openLiveKernel: options');
  const cpu = o.cpu === undefined ? 0 : asInt(o.cpu, 'openLiveKernel: cpu', 0, availableParallelism() - 1);
  const oracle = await KernelOracle.open(cpu);
  if ('missing' in oracle) fail('unavailable', `openLiveKernel: the live kernel oracle needs ${oracle.missing}`);
  try {
    const params = readKernelParams();
    const header = await probeBpfProgHeader(oracle, liveConfig(params), params.optmemMax);
    return { judge: new LiveKernelJudge(oracle), config: liveConfig(params, header ?? undefined), kernel: paramsJson(params, cpu, header) };
  } catch (e) {
    await oracle.close();
    throw e;
  }
}

export interface ReplayCaseOptions extends CheckOptions {
  /** skbs per valid program of the campaign (default 4). */
  readonly packetsPerProgram?: number;
}

/** Re-run one case of a campaign from the seed and path a finding recorded: its finding, or null if it no longer fails. */
export function replayCampaignCase(seed: number, path: string, opts: ReplayCaseOptions = {}): Finding | null {
  const o = asOptions(opts, 'replayCampaignCase: options');
  const s = asInt(seed, 'replayCampaignCase: seed', -(2 ** 31), 2 ** 31 - 1);
  const p = asString(path, 'replayCampaignCase: path');
  if (!/^\d+(:\d+)*$/.test(p) || p.length > 10000) fail('invalid-argument', `replayCampaignCase: path ${show(p)}: expected fast-check's counterexample path, e.g. 37:0:2`);
  return replaySeedPath(
    asConfig(o.config, 'replayCampaignCase: config'),
    o.packetsPerProgram === undefined ? 4 : asInt(o.packetsPerProgram, 'replayCampaignCase: packetsPerProgram', 1, 4096),
    s,
    p,
    asJudges(o.judges, 'replayCampaignCase: judges'),
  );
}

// --- the corpus -----------------------------------------------------------------------------------

/** The corpus this installation ships (the divergence examples and the historical bugs): the default of replayCorpus. */
export const SHIPPED_CORPUS: string = SHIPPED_CORPUS_DIR;

const SKB_PRESET_NAMES: readonly string[] = ['af_unix', 'ethernet'];

/** What is wrong with the preset of an skb's JSON form, or null. */
function presetProblem(spec: Record<string, unknown>): string | null {
  const p = spec.preset;
  return p === undefined || (typeof p === 'string' && SKB_PRESET_NAMES.includes(p)) ? null : `skb field preset: ${show(p)} is not one of ${SKB_PRESET_NAMES.join(', ')}`;
}

/** Check an object against corpus/schema.json and decode its program and inputs; throws 'bad-corpus-entry'. */
function asEntry(v: unknown, what: string, path?: string): CorpusEntry {
  const validator = schemaValidator();
  const details = path === undefined ? {} : { path };
  if (!validator(v)) {
    const err = validator.errors?.[0];
    fail('bad-corpus-entry', `${what}: not a corpus entry: ${err ? `${err.instancePath || '/'} ${err.message ?? ''}` : 'schema mismatch'}`, details);
  }
  // names are looked up in tables here (fuzz/corpus.ts and fuzz/skbjson.ts index plain objects with them)
  const arch = (v as CorpusEntry).config.arch;
  if (!ARCH_TABLE.has(arch)) fail('bad-corpus-entry', `${what}: config.arch ${show(arch)}: unknown (one of ${[...ARCH_TABLE.keys()].join(', ')})`, details);
  (v as CorpusEntry).inputs.forEach((inp, i) => {
    const problem = presetProblem(inp.skb);
    if (problem !== null) fail('bad-corpus-entry', `${what}: input ${i}: ${problem}`, details);
  });
  try {
    entryCase(v as CorpusEntry);
  } catch (e) {
    if (e instanceof CorpusError) fail('bad-corpus-entry', `${what}: ${e.message}`, details);
    throw e;
  }
  return v as CorpusEntry;
}

/** Read and validate one entry file. Throws 'not-found' or 'bad-corpus-entry' (details.path). */
export function readEntry(path: string): CorpusEntry {
  const p = asString(path, 'readEntry: path');
  if (!existsSync(p)) fail('not-found', `${p}: no such file`, { path: p });
  const r = corpusRead(p);
  if (!r.ok) fail('bad-corpus-entry', r.error, { path: p });
  return asEntry(r.entry, p, p);
}

/** Write an entry as DIR/<content hash>.json, atomically, creating DIR; an entry already there is kept. */
export function writeEntry(dir: string, entry: CorpusEntry): { readonly path: string; readonly created: boolean } {
  const d = asString(dir, 'writeEntry: dir');
  const e = asEntry(entry, 'writeEntry: entry');
  if (existsSync(d) && !statSync(d).isDirectory()) fail('invalid-argument', `writeEntry: ${show(d)} is not a directory`, { path: d });
  mkdirSync(d, { recursive: true });
  return corpusWrite(d, e);
}

const ENTRY_KINDS: readonly EntryKind[] = ['finding', 'divergence', 'regression', 'real-filter', 'historical'];

export interface NewEntry {
  readonly kind: EntryKind;
  readonly title: string;
  readonly prog: Program;
  readonly inputs: readonly CaseInput[];
  /** The kernel configuration (default DEFAULT_CONFIG: Linux 6.6.y on x86-64); a variant config also records the variant's results. */
  readonly config?: KernelConfig;
  /** Where the case came from (default { bpfspec: VERSION }). */
  readonly origin?: { readonly bpfspec?: string; readonly seed?: number; readonly path?: string; readonly source?: string };
  readonly notes?: string;
}

/** A new entry that records what both judges do now (the check and attach verdicts and every result). */
export function makeEntry(n: NewEntry): CorpusEntry {
  const o = asObject(n, 'makeEntry: entry');
  const prog = asProgram(o.prog, 'makeEntry: prog');
  if (!Array.isArray(o.inputs)) fail('invalid-argument', `makeEntry: inputs: expected an array of { skb, env }, got ${show(o.inputs)}`);
  const inputs = o.inputs.map((inp: unknown, i): CaseInput => {
    const x = asObject(inp, `makeEntry: inputs[${i}]`);
    const skb = asSkb(x.skb, `makeEntry: inputs[${i}].skb`);
    checkKernelPathFits(skb, `makeEntry: inputs[${i}].skb`);
    return { skb, env: asEnv(x.env, `makeEntry: inputs[${i}].env`) };
  });
  const origin = asOptions(o.origin, 'makeEntry: origin');
  const title = asString(o.title, 'makeEntry: title');
  if (title === '') fail('invalid-argument', 'makeEntry: title: empty');
  return guard('makeEntry', () =>
    corpusMake({
      kind: oneOf(ENTRY_KINDS, o.kind, 'makeEntry: kind'),
      title,
      prog,
      inputs,
      config: asConfig(o.config, 'makeEntry: config'),
      asm: String(printProgram(prog, 'bpf_asm')),
      origin: {
        bpfspec: origin.bpfspec === undefined ? VERSION : asString(origin.bpfspec, 'makeEntry: origin.bpfspec'),
        ...(origin.seed !== undefined ? { seed: asInt(origin.seed, 'makeEntry: origin.seed', -(2 ** 31), 2 ** 31 - 1) } : {}),
        ...(origin.path !== undefined ? { path: asString(origin.path, 'makeEntry: origin.path') } : {}),
        ...(origin.source !== undefined ? { source: asString(origin.source, 'makeEntry: origin.source') } : {}),
      },
      ...(o.notes !== undefined ? { notes: asString(o.notes, 'makeEntry: notes') } : {}),
    }),
  );
}

/** Re-run an entry: the differences from what it recorded, one line each (empty when it replays exactly). */
export function replayEntry(entry: CorpusEntry): string[] {
  const e = asEntry(entry, 'replayEntry: entry');
  try {
    return corpusReplay(e);
  } catch (err) {
    if (err instanceof CorpusError) fail('bad-corpus-entry', `replayEntry: ${err.message}`);
    throw err;
  }
}

/** The 16 hex digits an entry's file is named by (SHA-256 of its configuration, program and inputs). */
export function entryHash(entry: CorpusEntry): string {
  return corpusHash(asEntry(entry, 'entryHash: entry'));
}

/** Every entry file under the given files and directories (recursively; schema.json and confirmed/ left out), sorted. */
export function listEntries(paths: readonly string[]): string[] {
  if (!Array.isArray(paths)) fail('invalid-argument', `listEntries: expected an array of paths, got ${show(paths)}`);
  const ps = paths.map((p: unknown, i) => asString(p, `listEntries: paths[${i}]`));
  try {
    return corpusList(ps);
  } catch (e) {
    if (e instanceof CorpusError) fail('not-found', e.message);
    throw e;
  }
}

export interface ReplayReport {
  readonly files: number;
  readonly passed: number;
  /** entries whose replay differs from what they recorded */
  readonly changed: readonly { readonly file: string; readonly differences: readonly string[] }[];
  /** files that are not valid entries, each with the problem */
  readonly invalid: readonly string[];
}

/** Replay every entry under `paths` (default: the shipped corpus, SHIPPED_CORPUS), as `bpfspec replay` does. */
export function replayCorpus(paths: readonly string[] = [SHIPPED_CORPUS]): ReplayReport {
  const files = listEntries(paths);
  const changed: { file: string; differences: string[] }[] = [];
  const invalid: string[] = [];
  let passed = 0;
  for (const file of files) {
    try {
      const d = replayEntry(readEntry(file));
      if (d.length === 0) passed++;
      else changed.push({ file, differences: d });
    } catch (e) {
      if (e instanceof BpfspecInputError) invalid.push(e.message.startsWith(file) ? e.message : `${file}: ${e.message}`);
      else throw e;
    }
  }
  return { files: files.length, passed, changed, invalid };
}

// --- the JSON form of an skb (corpus entries, `bpfspec eval`) ---------------------------------------------

/**
 * Build an skb and its environment from the JSON form corpus entries and `bpfspec eval` use: a preset
 * ('af_unix' or 'ethernet') plus snake_case field overrides (README "skb presets and fields").
 */
export function skbFromJson(packet: Uint8Array, spec: Record<string, unknown> = {}): { skb: SkBuff; env: Env } {
  const bytes = asBytes(packet, 'skbFromJson: packet');
  if (!isObject(spec)) fail('invalid-argument', `skbFromJson: spec: expected an object, got ${show(spec)}`);
  const problem = presetProblem(spec);
  if (problem !== null) fail('invalid-argument', `skbFromJson: ${problem}`);
  try {
    return jsonSkb(bytes, spec);
  } catch (e) {
    if (e instanceof SkbSpecError) fail('invalid-argument', `skbFromJson: ${e.message}`);
    throw e;
  }
}

/** The JSON form of an skb and its environment (every field written out): skbFromJson(skb.data, skbToJson(skb, env)) rebuilds it. */
export function skbToJson(skb: SkBuff, env?: Env): Record<string, unknown> {
  return jsonOfSkb(asSkb(skb, 'skbToJson: skb'), asEnv(env, 'skbToJson: env'));
}
