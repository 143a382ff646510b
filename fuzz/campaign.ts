// Campaigns: many cases from one seed, split into fixed chunks so that the same seed gives the same
// campaign whatever the number of workers or machines. Chunk c holds cases [c*chunk, (c+1)*chunk) of
// the campaign and is checked with fast-check from its own seed (derived from the campaign seed and
// c), so every finding replays from (chunk seed, path). Shard i of N takes the chunks c with
// c mod N == i; within a shard, worker w of W takes every W-th of those.
import fc from 'fast-check';
import type { KernelConfig } from '../model/config.js';
import { fuzzCase, invalidProgram, type FuzzCase, type InvalidCase } from './arb/index.js';
import { genomeCases } from './genome.js';
import { BUILTIN_JUDGES, type RunJudge } from './judges.js';
import { Checker, mergeStats, newCounts, newStats, type Finding, type Stats } from './properties.js';
import { caseSize, findingSignature, type CaseSize } from './signature.js';

export interface Shard {
  readonly index: number;
  readonly count: number;
}

export interface CampaignOptions {
  readonly seed: number;
  /** total cases of the campaign (over all shards), or null for a time-bounded one */
  readonly runs: number | null;
  /** wall-clock budget in ms (per shard), or null */
  readonly timeMs: number | null;
  readonly workers: number;
  readonly shard: Shard;
  readonly packetsPerProgram: number;
  readonly config: KernelConfig;
  /** cases per chunk */
  readonly chunkSize: number;
  /**
   * The campaign's judges by name (fuzz/judges.ts BUILTIN_JUDGES): the two spec judges `classic` and
   * `kernel` always run; every other one named here (e.g. `compiled-classic`, `compiled-ebpf`) is
   * compared with the spec judge it names. Default: the spec judges alone.
   */
  readonly judges?: readonly string[];
  /**
   * Run the engines on every case and the spec on every finding and on one case in `specCheck`
   * (fuzz/properties.ts Checker); false: the spec alone. Default true.
   */
  readonly engine?: boolean;
  /** one case in this many is also checked by the spec (default SPEC_CHECK_DEFAULT, 64; 1 = all) */
  readonly specCheck?: number;
  /** stop after this many distinct finding signatures (fuzz/signature.ts), counted over the shard's chunks in order; null or absent: no limit */
  readonly maxFindings?: number | null;
}

/** The Checker a campaign's options ask for. */
export function campaignChecker(opts: Pick<CampaignOptions, 'config' | 'judges' | 'engine' | 'specCheck'>): Checker {
  return new Checker(opts.config, otherJudges(opts.judges, opts.config), {
    engine: opts.engine !== false,
    ...(opts.specCheck !== undefined ? { specCheck: opts.specCheck } : {}),
  });
}

/** The other judges (beyond the two spec judges) of a list of names, built for `config`. */
export function otherJudges(names: readonly string[] | undefined, config: KernelConfig): RunJudge[] {
  const out: RunJudge[] = [];
  for (const n of names ?? []) {
    if (n === 'classic' || n === 'kernel') continue;
    const e = BUILTIN_JUDGES.get(n);
    if (e === undefined) throw new RangeError(`campaign: judge '${n}' cannot run in a synchronous campaign (known: ${[...BUILTIN_JUDGES.keys()].join(', ')})`);
    out.push(e.make(config));
  }
  return out;
}

export const DEFAULT_CHUNK = 256;

/** One case of a campaign: a valid program with its skbs, or a program aimed at a rule. */
export type CampaignCase = { readonly valid: FuzzCase } | { readonly invalid: InvalidCase };

/**
 * The case generator of every campaign: 9 valid programs to 1 targeted invalid one, each case
 * decoded from one genome (fuzz/genome.ts).
 */
export function campaignArbitrary(packetsPerProgram: number, config: KernelConfig): fc.Arbitrary<CampaignCase> {
  return genomeCases(packetsPerProgram, config);
}

/** campaignArbitrary on fast-check's combinators (fuzz/arb/): the same kinds of cases, drawn value by value. */
export function combinatorArbitrary(packetsPerProgram: number, config: KernelConfig): fc.Arbitrary<CampaignCase> {
  return fc.oneof(
    { weight: 9, arbitrary: fuzzCase({ packetsPerProgram, config }).map((valid): CampaignCase => ({ valid })) },
    { weight: 1, arbitrary: invalidProgram({ config }).map((invalid): CampaignCase => ({ invalid })) },
  );
}

/** Check one campaign case; null when every property holds. */
export function checkCase(checker: Checker, c: CampaignCase): Finding | null {
  return 'valid' in c ? checker.checkValid(c.valid.prog, c.valid.inputs) : checker.checkInvalid(c.invalid);
}

// A 32-bit mix (murmur3 finalizer) of the campaign seed and a chunk index.
export function chunkSeed(seed: number, chunk: number): number {
  let h = (seed ^ Math.imul(chunk + 1, 0x9e3779b9)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) | 0;
}

/** A finding with what replays it. */
export interface CampaignFinding {
  readonly finding: Finding;
  readonly chunk: number;
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
  /** the bug it shows (fuzz/signature.ts findingSignature) and the size of its case */
  readonly signature: string;
  readonly size: CaseSize;
}

export interface ChunkResult {
  readonly stats: Stats;
  readonly finding: CampaignFinding | null;
}

/** Run chunk `chunk` of `size` cases with a fresh count (the checker's judges are reused). */
export function runChunk(checker: Checker, opts: Pick<CampaignOptions, 'seed' | 'packetsPerProgram' | 'config'>, chunk: number, size: number, arb?: fc.Arbitrary<CampaignCase>): ChunkResult {
  const a = arb ?? campaignArbitrary(opts.packetsPerProgram, opts.config);
  const seed = chunkSeed(opts.seed, chunk);
  checker.stats = newCounts();
  const prop = fc.property(a, (c) => checkCase(checker, c) === null);
  const out = fc.check(prop, { seed, numRuns: size });
  if (!out.failed) return { stats: checker.stats, finding: null };
  // The count above includes the shrinking; count the chunk again up to the failing case only.
  const path = out.counterexamplePath ?? '0';
  const failIndex = Number(path.split(':')[0]);
  checker.stats = newCounts();
  fc.check(prop, { seed, numRuns: failIndex + 1, endOnFailure: true });
  const stats = checker.stats;
  checker.stats = newCounts();
  const finding = checkCase(checker, out.counterexample![0]);
  if (finding === null) throw new Error(`chunk ${chunk}: the shrunk counterexample no longer fails (seed ${seed}, path ${path})`);
  return { stats, finding: { finding, chunk, seed, path, shrinks: out.numShrinks, signature: findingSignature(finding, opts.config), size: caseSize(finding) } };
}

/** Re-run a recorded (seed, path) and return its finding, or null if it no longer fails. */
export function replaySeedPath(config: KernelConfig, packetsPerProgram: number, seed: number, path: string, judges: readonly string[] = []): Finding | null {
  const checker = campaignChecker({ config, judges, engine: true });
  const prop = fc.property(campaignArbitrary(packetsPerProgram, config), (c) => checkCase(checker, c) === null);
  const out = fc.check(prop, { seed, path, endOnFailure: true });
  return out.failed ? checkCase(checker, out.counterexample![0]) : null;
}

/** The chunks worker `worker` of `workers` runs, in order, for this shard (unbounded when runs is null). */
export function* workerChunks(opts: Pick<CampaignOptions, 'runs' | 'shard' | 'chunkSize'>, worker: number, workers: number): Generator<{ chunk: number; size: number }> {
  const total = opts.runs === null ? Infinity : Math.ceil(opts.runs / opts.chunkSize);
  for (let j = 0; ; j++) {
    const chunk = opts.shard.index + opts.shard.count * (worker + workers * j);
    if (chunk >= total) return;
    const size = opts.runs === null ? opts.chunkSize : Math.min(opts.chunkSize, opts.runs - chunk * opts.chunkSize);
    yield { chunk, size };
  }
}

export interface WorkerHooks {
  /** called after each chunk with the chunk's counts */
  progress(stats: Stats, finding: CampaignFinding | null, chunk: number): void;
  /** polled between chunks */
  shouldStop(): boolean;
}

/** One worker's share of a campaign, synchronously (in a worker thread, or inline for tests). */
export function runWorker(opts: CampaignOptions, worker: number, hooks: WorkerHooks): Stats {
  const checker = campaignChecker(opts);
  const arb = campaignArbitrary(opts.packetsPerProgram, opts.config);
  const deadline = opts.timeMs === null ? Infinity : Date.now() + opts.timeMs;
  const total = newStats();
  for (const { chunk, size } of workerChunks(opts, worker, opts.workers)) {
    if (hooks.shouldStop() || Date.now() >= deadline) break;
    const r = runChunk(checker, opts, chunk, size, arb);
    mergeStats(total, r.stats);
    hooks.progress(r.stats, r.finding, chunk);
  }
  return total;
}
