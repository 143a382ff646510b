// A campaign against one outside judge: generated programs (restricted to what the implementation
// supports) and packets, judged in batches by the implementation's adapter and compared with Linux
// (the spec's kernel path) through the implementation's catalogue. The same chunking as the main
// campaign (fuzz/campaign.ts): chunk c holds cases [c * size, (c + 1) * size) drawn from chunkSeed(seed,
// c), so a campaign replays from its seed and every finding from (chunk seed, path); a finding is
// shrunk with fast-check, one adapter call per candidate.
//
// Async and single-threaded: the judge is one adapter process, fed one chunk per call. (ws-engine's
// campaign over a list of judges will run these judges too; this loop is the smallest one that
// runs an outside judge with its catalogue, its coverage and DPDK's extra checks.)
import fc from 'fast-check';
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { bpfCheckFilter } from '../../model/attach.js';
import { ALLOWED_CODES, fuzzCase, HEADER_OFFSETS, invalidProgram, pick, validProgram, type FuzzCase } from '../arb/index.js';
import { chunkSeed } from '../campaign.js';
import type { ImplCatalogue, ImplName } from './catalogue.js';
import { ImplComparator, engineRun, mergeImplStats, newImplStats, type CaseInput, type ImplFinding, type ImplRun, type ImplStats } from './compare.js';
import { checkDpdkConversion } from './dpdk-convert.js';
import { DPDK_CATALOGUE, DPDK_JIT_CATALOGUE, noFinalRet } from './dpdk.js';
import { LIBPCAP_CATALOGUE } from './libpcap.js';
import { XNET_CATALOGUE } from './xnet.js';

/** What the campaign needs of an outside judge (oracle/outside/judge.ts OutsideJudge has it). */
export interface ImplJudgeLike {
  readonly name: string;
  supports(prog: Program): string | null;
  run(cases: readonly { readonly prog: Program; readonly packets: readonly { readonly data: Uint8Array; readonly headlen: number }[] }[], flags?: { jit?: boolean; ebpf?: boolean; log?: boolean }): Promise<readonly ImplRun[]>;
}

export const IMPL_CATALOGUES: Readonly<Record<ImplName, ImplCatalogue>> = {
  libpcap: LIBPCAP_CATALOGUE,
  dpdk: DPDK_CATALOGUE,
  'dpdk-jit': DPDK_JIT_CATALOGUE,
  xnet: XNET_CATALOGUE,
};

const IMPL_NAMES: ReadonlySet<string> = new Set(Object.keys(IMPL_CATALOGUES));
export const isImplName = (s: string): s is ImplName => IMPL_NAMES.has(s);

const ANCILLARY_START = 0xfffff000;

/**
 * A program made supported by `impl` without changing its shape: every SKF_AD_* load becomes a packet
 * load at a header offset (none of the outside judges has Linux's ancillary data), and for x/net/bpf,
 * whose VM has no NegateA, NEG becomes `mul #0xffffffff` (the same value).
 */
/** A cheap deterministic hash of a program (for choices that must replay from the seed). */
const programHash = (prog: readonly SockFilter[]): number => {
  let h = prog.length;
  for (const i of prog) h = (Math.imul(h, 31) + i.k + i.code) >>> 0;
  return h;
};

export function restrictProgram(impl: ImplName, prog: readonly SockFilter[]): SockFilter[] {
  // DPDK's validator refuses negative LD ABS / MSH offsets and nonzero unused k (catalogued verdict
  // entries): three programs in four avoid them, so that DPDK's runtime is exercised as much as its
  // verdicts (the choice is a hash of the program, so the same seed gives the same campaign)
  const dpdkClean = (impl === 'dpdk' || impl === 'dpdk-jit') && programHash(prog) % 4 !== 0;
  return prog.map((i) => {
    if ((i.code === 0x20 || i.code === 0x28 || i.code === 0x30) && i.k >>> 0 >= ANCILLARY_START) return { ...i, k: pick(HEADER_OFFSETS, i.k & 0xff) };
    if (impl === 'xnet' && i.code === 0x84) return { code: 0x24, jt: i.jt, jf: i.jf, k: 0xffffffff };
    if (dpdkClean) {
      if ((i.code === 0x20 || i.code === 0x28 || i.code === 0x30 || i.code === 0xb1) && i.k >>> 0 >= 0x80000000) return { ...i, k: pick(HEADER_OFFSETS, i.k & 0xff) };
      if (i.k !== 0 && ((i.code & 0x07) === 0x04 && ((i.code & 0x08) !== 0 || i.code === 0x84))) return { ...i, k: 0 };
      if (i.k !== 0 && (i.code & 0x07) === 0x05 && i.code !== 0x05 && (i.code & 0x08) !== 0) return { ...i, k: 0 };
    }
    return i;
  });
}

/**
 * The cases of a campaign against `impl`: 9 in 10 are the main generators' valid programs, restricted
 * to what the implementation supports; 1 in 10 a program aimed at one of bpf_check_classic's rules
 * (fuzz/arb/invalid.ts), also restricted, run on packets too: Linux has no result there, but the
 * implementation's own verdict is predicted and what it accepts must run without crashing.
 */
export function implCaseArbitrary(impl: ImplName, packetsPerProgram: number, config: KernelConfig): fc.Arbitrary<FuzzCase> {
  const valid = validProgram({ config }).map((p) => restrictProgram(impl, p));
  let invalid = invalidProgram({ config }).map((c) => restrictProgram(impl, c.prog));
  // A program without a final RET crashes DPDK 22.11's rte_bpf_load (dpdk-validator-no-exit-overflow)
  // and costs an adapter restart (seconds): one in eight of them is kept (never the empty program,
  // which corpus/external/dpdk/dpdk-validator-no-exit-overflow.json's entry covers), enough to keep
  // the entry exercised (the choice is a hash of the program: the same seed gives the same campaign).
  if (impl === 'dpdk' || impl === 'dpdk-jit') invalid = invalid.filter((p) => !noFinalRet(p) || (p.length > 0 && programHash(p) % 8 === 0));
  return fuzzCase({ packetsPerProgram, config, program: fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: invalid }) });
}

export interface ImplCampaignOptions {
  readonly seed: number;
  /** total cases, or null for a time-bounded campaign */
  readonly runs: number | null;
  readonly timeMs: number | null;
  readonly packetsPerProgram: number;
  readonly config: KernelConfig;
  readonly chunkSize: number;
  /** stop shrinking a finding after this many adapter calls (default 2000) */
  readonly maxShrinkCalls?: number;
  /** or after this long (ms, default 60 s: a crashing candidate costs an adapter restart) */
  readonly maxShrinkMs?: number;
}

export interface ImplCampaignFinding {
  readonly finding: ImplFinding;
  readonly chunk: number;
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
  /** the shrunk case */
  readonly case: FuzzCase;
}

/** DPDK's converted programs against the kernel's (fuzz/impl/dpdk-convert.ts). */
export interface ConversionStats {
  programs: number;
  /** classic instructions compared */
  insns: number;
  /** catalogue entry (or 'unexplained') -> classic instructions */
  mismatches: Record<string, number>;
}

export interface ImplCampaignResult {
  readonly judge: string;
  readonly stats: ImplStats;
  /** per extra comparison (dpdk-jit also checks the interpreter): its catalogue name and counts */
  readonly also: readonly { readonly name: string; readonly stats: ImplStats }[];
  readonly findings: ImplCampaignFinding[];
  /** executions per classic code in the model runs (what the campaign reached) */
  readonly executed: Float64Array;
  readonly conversion: ConversionStats | null;
  /** DPDK's JIT against its own interpreter: pairs compared, pairs that differ by catalogue entry */
  readonly jitVsInterp: { pairs: number; differ: Record<string, number> } | null;
  readonly cases: number;
  readonly elapsedMs: number;
}

export interface ImplHooks {
  progress?(done: number, result: ImplCampaignResult): void;
  shouldStop?(): boolean;
}

const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n;
};

/** The checks one campaign runs on each answer: the judge's catalogue first, then (dpdk-jit) the interpreter's. */
function checksFor(impl: ImplName): { cat: ImplCatalogue; engine: 'interpreter' | 'jit' }[] {
  if (impl === 'dpdk-jit') return [{ cat: DPDK_JIT_CATALOGUE, engine: 'jit' }, { cat: DPDK_CATALOGUE, engine: 'interpreter' }];
  return [{ cat: IMPL_CATALOGUES[impl], engine: 'interpreter' }];
}

/** Everything one campaign checks on an answer, reused for every case (and for shrinking). */
export class CaseChecker {
  readonly comparators: ImplComparator[];
  readonly engines: ('interpreter' | 'jit')[];
  readonly flags: { jit?: boolean; ebpf?: boolean };
  conversion: ConversionStats | null;
  jitVsInterp: { pairs: number; differ: Record<string, number> } | null;

  constructor(readonly impl: ImplName, config: KernelConfig) {
    const checks = checksFor(impl);
    this.comparators = checks.map((c) => new ImplComparator(c.cat, config));
    this.engines = checks.map((c) => c.engine);
    const dpdk = impl === 'dpdk' || impl === 'dpdk-jit';
    this.flags = dpdk ? { ebpf: true, ...(impl === 'dpdk-jit' ? { jit: true } : {}) } : {};
    this.conversion = dpdk ? { programs: 0, insns: 0, mismatches: {} } : null;
    this.jitVsInterp = impl === 'dpdk-jit' ? { pairs: 0, differ: {} } : null;
  }

  /** Check one answer; the first finding, or null. `count` false while shrinking. */
  check(c: { readonly prog: Program; readonly inputs: readonly CaseInput[] }, run: ImplRun, count: boolean): ImplFinding | null {
    const saved = count ? null : this.comparators.map((k) => k.stats);
    if (!count) for (const k of this.comparators) k.stats = newImplStats();
    try {
      for (let i = 0; i < this.comparators.length; i++) {
        const f = this.comparators[i]!.compare(c.prog, c.inputs, engineRun(run, this.engines[i]!));
        if (f !== null) return f;
      }
      // the conversions are compared where the kernel converts: programs bpf_check_classic accepts
      if (this.conversion !== null && run.ebpf !== undefined && bpfCheckFilter(c.prog) === null) {
        const k = this.comparators[0]!.kernel;
        const kernelConv = k.load(c.prog) === null ? k.filter.migrated.converted : null;
        const mism = checkDpdkConversion(c.prog, run.ebpf, kernelConv);
        if (count) {
          this.conversion.programs++;
          this.conversion.insns += c.prog.length;
          for (const m of mism) bump(this.conversion.mismatches, m.entry ?? 'unexplained');
        }
        const bad = mism.find((m) => m.entry === null);
        if (bad) return conversionFinding(this.impl, c.prog, bad.pc, bad.what);
      }
      if (this.jitVsInterp !== null && count && run.verdict.code === 0 && run.jit?.available) {
        const jitCmp = this.comparators[0]!;
        run.results.forEach((r, i) => {
          const j = run.jit!.results[i];
          this.jitVsInterp!.pairs++;
          const same = j !== undefined && j.status === r.status && (r.status !== 'value' || (j.status === 'value' && j.value === r.value));
          if (!same) bump(this.jitVsInterp!.differ, jitDifference(jitCmp, c, i, j));
        });
      }
      return null;
    } finally {
      if (saved) this.comparators.forEach((k, i) => (k.stats = saved[i]!));
    }
  }
}

/**
 * Which dpdk-jit entries explain a packet where the JIT and the interpreter part: the runtime entries
 * whose model events fired (programs the checker accepts), else the crash entries that apply to the
 * program and the JIT's signal; 'unexplained' otherwise.
 */
function jitDifference(jitCmp: ImplComparator, c: { readonly prog: Program; readonly inputs: readonly CaseInput[] }, i: number, j: ImplRun['results'][number] | undefined): string {
  const cat = jitCmp.cat;
  if (bpfCheckFilter(c.prog) === null) {
    const ev = jitCmp.model.run(c.prog, c.inputs[i]!.skb).events;
    const ids = cat.entries.filter((e) => e.kind === 'runtime' && (e.events & ev) !== 0).map((e) => e.id);
    if (ids.length > 0) return ids.join('+');
  }
  if (j !== undefined && j.status === 'signal') {
    const e = cat.entries.find(
      (x) => (x.kind === 'crash' && !x.atLoad && x.signals.includes(j.signal) && x.applies(c.prog)) || (x.kind === 'runtime' && x.crashes !== undefined && x.crashes.signals.includes(j.signal) && x.crashes.applies(c.prog)),
    );
    if (e !== undefined) return e.id;
  }
  return 'unexplained';
}

function conversionFinding(impl: string, prog: Program, pc: number, what: string): ImplFinding {
  return {
    judge: impl,
    message: `rte_bpf_convert at classic pc ${pc}: ${what}`,
    prog,
    input: null,
    linux: { verdict: 'converted by bpf_convert_filter', result: null },
    impl: { verdict: 'converted by rte_bpf_convert', result: null },
    predicted: null,
  };
}

const packetsOf = (c: FuzzCase): { data: Uint8Array; headlen: number }[] => c.inputs.map((i) => ({ data: i.skb.data, headlen: i.skb.headlen }));

/** Run a campaign against one outside judge. */
export async function runImplCampaign(judge: ImplJudgeLike, impl: ImplName, opts: ImplCampaignOptions, hooks: ImplHooks = {}): Promise<ImplCampaignResult> {
  const started = Date.now();
  const deadline = opts.timeMs === null ? Infinity : started + opts.timeMs;
  const arb = implCaseArbitrary(impl, opts.packetsPerProgram, opts.config);
  const checker = new CaseChecker(impl, opts.config);
  const stats = newImplStats();
  const also = checker.comparators.slice(1).map((k) => ({ name: k.cat.name, stats: newImplStats() }));
  const findings: ImplCampaignFinding[] = [];
  let cases = 0;
  const result = (): ImplCampaignResult => ({
    judge: impl,
    stats,
    also,
    findings,
    executed: checker.comparators[0]!.model.executed,
    conversion: checker.conversion,
    jitVsInterp: checker.jitVsInterp,
    cases,
    elapsedMs: Date.now() - started,
  });
  const total = opts.runs === null ? Infinity : Math.ceil(opts.runs / opts.chunkSize);
  for (let chunk = 0; chunk < total; chunk++) {
    if (hooks.shouldStop?.() || Date.now() >= deadline) break;
    const size = opts.runs === null ? opts.chunkSize : Math.min(opts.chunkSize, opts.runs - chunk * opts.chunkSize);
    const seed = chunkSeed(opts.seed, chunk);
    const sample = fc.sample(arb, { seed, numRuns: size });
    const judged: { c: FuzzCase; index: number }[] = [];
    sample.forEach((c, index) => {
      if (judge.supports(c.prog) === null) judged.push({ c, index });
      else stats.unsupported++;
    });
    const runs = await judge.run(
      judged.map(({ c }) => ({ prog: c.prog, packets: packetsOf(c) })),
      checker.flags,
    );
    for (const k of checker.comparators) k.stats = newImplStats();
    let firstBad: number | null = null;
    judged.forEach(({ c, index }, i) => {
      const f = checker.check(c, runs[i]!, true);
      if (f !== null && firstBad === null) firstBad = index;
    });
    mergeImplStats(stats, checker.comparators[0]!.stats);
    also.forEach((a, i) => mergeImplStats(a.stats, checker.comparators[i + 1]!.stats));
    cases += size;
    if (firstBad !== null) findings.push(await shrink(judge, checker, arb, seed, firstBad, chunk, opts.maxShrinkCalls ?? 2000, opts.maxShrinkMs ?? 60_000));
    hooks.progress?.(cases, result());
  }
  return result();
}

/** Shrink the failing case at `index` of a chunk with fast-check, one adapter call per candidate. */
async function shrink(judge: ImplJudgeLike, checker: CaseChecker, arb: fc.Arbitrary<FuzzCase>, seed: number, index: number, chunk: number, maxCalls: number, maxMs: number): Promise<ImplCampaignFinding> {
  let calls = 0;
  const until = Date.now() + maxMs;
  const fails = async (c: FuzzCase): Promise<ImplFinding | null> => {
    if (judge.supports(c.prog) !== null) return null;
    const [run] = await judge.run([{ prog: c.prog, packets: packetsOf(c) }], checker.flags);
    return checker.check(c, run!, false);
  };
  const out = await fc.check(
    fc.asyncProperty(arb, async (c) => {
      // past the budget every candidate passes, which ends the shrinking at the smallest failure so far
      if (calls++ >= maxCalls || (calls > 1 && Date.now() > until)) return true;
      return (await fails(c)) === null;
    }),
    { seed, path: String(index), endOnFailure: false },
  );
  const shrunk = out.failed ? out.counterexample![0] : fc.sample(arb, { seed, numRuns: index + 1 })[index]!;
  const finding = (await fails(shrunk)) ?? {
    judge: checker.impl,
    message: 'a difference that did not reproduce on its own (the adapter answered it differently in the chunk and alone)',
    prog: shrunk.prog,
    input: null,
    linux: { verdict: '?', result: null },
    impl: { verdict: '?', result: null },
    predicted: null,
  };
  return { finding, chunk, seed, path: out.counterexamplePath ?? String(index), shrinks: out.numShrinks, case: shrunk };
}

/**
 * The classic codes an implementation supports of the 49 Linux accepts (the judges' support notes:
 * oracle/<name>/judge.ts): all of them, but NEG for x/net/bpf. SKF_AD_* loads are LD ABS codes with
 * ancillary k, unsupported everywhere and never generated (restrictProgram).
 */
export const supportedCodes = (impl: ImplName): readonly number[] => (impl === 'xnet' ? ALLOWED_CODES.filter((c) => c !== 0x84) : ALLOWED_CODES);

/** Which of the implementation's supported codes the campaign executed, and how often. */
export function opcodeCoverage(impl: ImplName, executed: Float64Array): { code: number; count: number }[] {
  return supportedCodes(impl).map((code) => ({ code, count: executed[code] ?? 0 }));
}
