// kdiff: the fuzz generators (valid and invalid programs, packets) feed both the model's kernel
// path (on the af_unix skb the kernel builds) and the live kernel; every verdict or result
// mismatch is shrunk with fast-check, re-checking the kernel at every shrink step.
//
// Cases are drawn chunk by chunk exactly as `bpfspec fuzz` draws them (fuzz/campaign.ts: chunk c is
// fast-check run from chunkSeed(seed, c)), so a finding replays from (chunk seed, path). Within a
// chunk the cases are sent to the kernel in batches; a mismatch is then replayed and shrunk by
// fc.check(asyncProperty) from the same seed and its path, one kernel round trip per step.
import fc from 'fast-check';
import type { Program } from '../model/cbpf/insn.js';
import type { KernelConfig } from '../model/config.js';
import type { Env, SkBuff } from '../model/skb.js';
import { ENOTSUPP, errnoName } from '../model/uapi.js';
import { campaignArbitrary, chunkSeed, type CampaignCase } from '../fuzz/campaign.js';
import { KernelJudge } from '../fuzz/judges.js';
import { Checker } from '../fuzz/properties.js';
import { unixDgramSkb } from './kernel/afunix.js';
import { KernelOracle, type KernelResult, type KernelVerdict, type OracleCase } from './kernel/judge.js';

export interface KdiffOptions {
  readonly seed: number;
  /** total cases, or null for a time-bounded run */
  readonly runs: number | null;
  readonly timeMs: number | null;
  /** oracle processes (each pinned to its own CPU) */
  readonly workers: number;
  readonly packetsPerProgram: number;
  readonly config: KernelConfig;
  /** cases per chunk (the fast-check run unit) */
  readonly chunkSize: number;
  /** cases per kernel request */
  readonly batch: number;
  /** CPUs to pin the workers to (default 0, 1, ...) */
  readonly cpus?: readonly number[];
}

export interface KdiffStats {
  cases: number;
  programs: number;
  invalid: number;
  /** (program, packet) pairs compared */
  pairs: number;
  exact: number;
  partial: number;
  /** pairs of programs that load SKF_AD_RANDOM: not compared */
  random: number;
  sendErrors: number;
  attaches: number;
  /** exact pairs that arrived whole and were settled by a confirmation copy of the model's value */
  confirmedPairs: number;
  /** catalogue divergences shown by cases the kernel agreed with (confirmed live) */
  confirmed: Record<string, number>;
  partialReasons: Record<string, number>;
  /** classic-vs-model findings of the fuzz properties met on the way (not kernel mismatches) */
  modelFindings: number;
  /**
   * programs the kernel refused with -ENOTSUPP although the model attaches them with a working JIT:
   * the x86-64 eBPF JIT failed ("bpf_jit: fatal error" in the kernel log) under
   * CONFIG_BPF_JIT_ALWAYS_ON. The JIT is not modelled; whether it succeeds is the model's input
   * KernelConfig.jitAvailable, and the model run with jitAvailable false must then give -ENOTSUPP.
   */
  jitFailures: number;
}

export const newKdiffStats = (): KdiffStats => ({
  cases: 0,
  programs: 0,
  invalid: 0,
  pairs: 0,
  exact: 0,
  partial: 0,
  random: 0,
  sendErrors: 0,
  attaches: 0,
  confirmedPairs: 0,
  confirmed: {},
  partialReasons: {},
  modelFindings: 0,
  jitFailures: 0,
});

export function mergeKdiffStats(into: KdiffStats, from: KdiffStats): void {
  for (const k of ['cases', 'programs', 'invalid', 'pairs', 'exact', 'partial', 'random', 'sendErrors', 'attaches', 'confirmedPairs', 'modelFindings', 'jitFailures'] as const) into[k] += from[k];
  for (const [k, v] of Object.entries(from.confirmed)) into.confirmed[k] = (into.confirmed[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.partialReasons)) into.partialReasons[k] = (into.partialReasons[k] ?? 0) + v;
}

const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n;
};

/** A difference between the model's kernel path and the live kernel. */
export interface Mismatch {
  readonly kind: 'verdict' | 'result';
  readonly message: string;
  readonly prog: Program;
  /** the packet (result mismatches) */
  readonly packet: Uint8Array | null;
  readonly skb: SkBuff | null;
  readonly env: Env | null;
  /** the model's errno (0 accepted) or result */
  readonly model: number;
  readonly kernel: KernelVerdict;
  readonly kernelResult: KernelResult | null;
}

export interface KdiffFinding {
  readonly mismatch: Mismatch;
  readonly chunk: number;
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
}

/** The program and packets a campaign case puts to the kernel (with the model's results, when given). */
export function oracleCase(c: CampaignCase, expect?: readonly number[]): OracleCase {
  if ('valid' in c) return { prog: c.valid.prog, packets: c.valid.inputs.map((i) => i.skb.data), ...(expect ? { expect } : {}) };
  return { prog: c.invalid.prog, packets: [] };
}

const resultText = (r: KernelResult): string =>
  r.known === 'exact'
    ? `${r.value}`
    : r.known === 'send-error'
      ? `send failed (${errnoName(r.errno)})`
      : `>= ${r.atLeast}, bits 0x${r.bits.toString(16)} of mask 0x${r.mask.toString(16)} (${r.reason})`;

/** Whether a model result is consistent with what the kernel showed (exact: equal). */
export function consistent(model: number, r: KernelResult): boolean {
  if (r.known === 'exact') return model >>> 0 === r.value;
  if (r.known === 'send-error') return true;
  return model >>> 0 >= r.atLeast && ((model & r.mask) >>> 0) === r.bits;
}

/** Compares one case's kernel verdict with the model; reuses its judges for every case. */
export class KdiffComparer {
  readonly model: KernelJudge;
  /** the same model with the JIT failing (KernelConfig.jitAvailable false) */
  readonly noJit: KernelJudge;
  readonly checker: Checker;

  constructor(readonly config: KernelConfig, readonly cpu: number) {
    this.model = new KernelJudge(config);
    this.noJit = new KernelJudge({ ...config, jitAvailable: false });
    this.checker = new Checker(config);
    this.checker.roundtrip = false;
  }

  /**
   * The model's results for a case's packets, for the oracle's confirmation copies (OracleCase.expect);
   * undefined when the model refuses the program or the case has no packets.
   */
  predict(c: CampaignCase): number[] | undefined {
    if (!('valid' in c) || this.model.load(c.valid.prog) !== null) return undefined;
    const env: Env = { cpu: this.cpu, randomSeed: 0 };
    return c.valid.inputs.map((i) => this.model.run(unixDgramSkb(i.skb.data), env));
  }

  /** The mismatch of this case, or null; counts into `stats`. */
  compare(c: CampaignCase, kv: KernelVerdict, stats: KdiffStats | null): Mismatch | null {
    const oc = oracleCase(c);
    const env: Env = { cpu: this.cpu, randomSeed: 0 };
    if (stats) {
      stats.cases++;
      stats.attaches += kv.attaches;
      stats.confirmedPairs += kv.confirmed;
      if ('valid' in c) stats.programs++;
      else stats.invalid++;
    }
    const mv = this.model.load(oc.prog as Program);
    const me = mv === null ? 0 : -mv.errno;
    if (me === 0 && kv.errno === ENOTSUPP && config_jitFails(this.noJit, oc.prog)) {
      if (stats) stats.jitFailures++;
      return null;
    }
    if (me !== kv.errno)
      return {
        kind: 'verdict',
        message: `attach: model ${me === 0 ? 'accepts' : `-${errnoName(me)} (${mv!.stage}/${mv!.rule} at pc ${mv!.pc}, ${mv!.at})`}, kernel ${kv.errno === 0 ? 'accepts' : `-${errnoName(kv.errno)}`}`,
        prog: oc.prog,
        packet: null,
        skb: null,
        env: null,
        model: me,
        kernel: kv,
        kernelResult: null,
      };
    if (kv.results === null) return this.confirm(c, env, stats);
    const skbs = oc.packets.map(unixDgramSkb);
    for (let i = 0; i < skbs.length; i++) {
      const r = kv.results[i]!;
      if (kv.random) {
        if (stats) stats.random++;
        continue;
      }
      if (r.known === 'send-error') {
        if (stats) stats.sendErrors++;
        continue;
      }
      const m = this.model.run(skbs[i]!, env);
      if (stats) stats.pairs++;
      if (!consistent(m, r))
        return {
          kind: 'result',
          message: `packet ${i} (${oc.packets[i]!.length} bytes): model ${m}, kernel ${resultText(r)}`,
          prog: oc.prog,
          packet: oc.packets[i]!,
          skb: skbs[i]!,
          env,
          model: m,
          kernel: kv,
          kernelResult: r,
        };
      if (stats) {
        if (r.known === 'exact') stats.exact++;
        else {
          stats.partial++;
          bump(stats.partialReasons, r.reason.replace(/\d+-byte/, 'N-byte'));
        }
      }
    }
    return this.confirm(c, env, stats);
  }

  // The kernel agreed with the model on this case: the catalogue divergences it shows (classic vs
  // kernel path, counted by the fuzz Checker on the same af_unix skbs) are confirmed live.
  private confirm(c: CampaignCase, env: Env, stats: KdiffStats | null): null {
    if (!stats || !('valid' in c)) return null;
    const before = { ...this.checker.stats.divergences };
    const inputs = c.valid.inputs.map((i) => ({ skb: unixDgramSkb(i.skb.data), env }));
    if (this.checker.checkValid(c.valid.prog, inputs) !== null) stats.modelFindings++;
    for (const [k, v] of Object.entries(this.checker.stats.divergences)) if (v !== (before[k] ?? 0)) bump(stats.confirmed, k, v - (before[k] ?? 0));
    return null;
  }
}

// With the JIT failing, the model must refuse the program exactly as the kernel did (-ENOTSUPP).
const config_jitFails = (noJit: KernelJudge, prog: Program): boolean => {
  const r = noJit.load(prog);
  return r !== null && -r.errno === ENOTSUPP;
};

/** Draw chunk `chunk`'s cases exactly as fc.check runs them (run i has path "i"). */
export function drawChunk(arb: fc.Arbitrary<CampaignCase>, seed: number, size: number): CampaignCase[] {
  const out: CampaignCase[] = [];
  fc.check(
    fc.property(arb, (c) => {
      out.push(c);
      return true;
    }),
    { seed, numRuns: size },
  );
  return out;
}

/** Replay case `index` of a chunk from its seed and shrink it against the kernel. */
export async function shrinkMismatch(
  oracle: KernelOracle,
  comparer: KdiffComparer,
  arb: fc.Arbitrary<CampaignCase>,
  seed: number,
  index: number,
): Promise<{ mismatch: Mismatch; path: string; shrinks: number } | null> {
  const check = async (c: CampaignCase): Promise<Mismatch | null> => comparer.compare(c, (await oracle.evaluate([oracleCase(c)]))[0]!, null);
  const out = await fc.check(
    fc.asyncProperty(arb, async (c) => (await check(c)) === null),
    { seed, path: String(index) },
  );
  if (!out.failed) return null;
  const mismatch = await check(out.counterexample![0]);
  if (mismatch === null) return null;
  return { mismatch, path: out.counterexamplePath ?? String(index), shrinks: out.numShrinks };
}

export interface KdiffEvents {
  progress?(stats: KdiffStats, elapsedMs: number, findings: number): void;
  finding?(f: KdiffFinding): void;
}

export interface KdiffSummary {
  readonly seed: number;
  readonly workers: number;
  readonly cpus: readonly number[];
  readonly elapsedMs: number;
  readonly stats: KdiffStats;
  readonly findings: KdiffFinding[];
  readonly interrupted: boolean;
}

/** A running kdiff campaign: `stop()` ends it after the current batches. */
export interface RunningKdiff {
  stop(): void;
  readonly done: Promise<KdiffSummary>;
}

/** Start a campaign over `oracles` (one per worker, already open). */
export function startKdiff(opts: KdiffOptions, oracles: readonly KernelOracle[], events: KdiffEvents = {}): RunningKdiff {
  let stopped = false;
  let interrupted = false;
  const started = Date.now();
  const deadline = opts.timeMs === null ? Infinity : started + opts.timeMs;
  const total = newKdiffStats();
  const findings: KdiffFinding[] = [];
  const totalChunks = opts.runs === null ? Infinity : Math.ceil(opts.runs / opts.chunkSize);
  const arb = campaignArbitrary(opts.packetsPerProgram, opts.config);
  const worker = async (w: number): Promise<void> => {
    const oracle = oracles[w]!;
    const comparer = new KdiffComparer(opts.config, oracle.cpu);
    for (let j = 0; ; j++) {
      const chunk = w + oracles.length * j;
      if (chunk >= totalChunks || stopped || Date.now() >= deadline) return;
      const size = opts.runs === null ? opts.chunkSize : Math.min(opts.chunkSize, opts.runs - chunk * opts.chunkSize);
      const seed = chunkSeed(opts.seed, chunk);
      const cases = drawChunk(arb, seed, size);
      let failAt = -1;
      for (let b = 0; b < cases.length && failAt < 0; b += opts.batch) {
        if (stopped || Date.now() >= deadline) break;
        const part = cases.slice(b, b + opts.batch);
        const kvs = await oracle.evaluate(part.map((c) => oracleCase(c, comparer.predict(c))));
        const stats = newKdiffStats();
        for (let i = 0; i < part.length; i++) {
          if (comparer.compare(part[i]!, kvs[i]!, stats) !== null) {
            failAt = b + i;
            break;
          }
        }
        mergeKdiffStats(total, stats);
        events.progress?.(total, Date.now() - started, findings.length);
      }
      if (failAt >= 0) {
        const s = await shrinkMismatch(oracle, comparer, arb, seed, failAt);
        if (s !== null) {
          const f: KdiffFinding = { mismatch: s.mismatch, chunk, seed, path: s.path, shrinks: s.shrinks };
          findings.push(f);
          events.finding?.(f);
        }
      }
    }
  };
  const done = Promise.all(oracles.map((_, w) => worker(w))).then(
    (): KdiffSummary => ({
      seed: opts.seed,
      workers: oracles.length,
      cpus: oracles.map((o) => o.cpu),
      elapsedMs: Date.now() - started,
      stats: total,
      findings: findings.sort((a, b) => a.chunk - b.chunk),
      interrupted,
    }),
  );
  return {
    stop: () => {
      stopped = true;
      interrupted = true;
    },
    done,
  };
}
