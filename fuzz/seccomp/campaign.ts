// The seccomp campaign: fixed chunks of cases, each checked by fast-check from a seed derived from
// the campaign seed and the chunk number (the same seed gives the same campaign whatever the number
// of workers), like the socket campaign (fuzz/campaign.ts). 9 valid stacks to 1 invalid filter.
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { chunkSeed } from '../campaign.js';
import { seccompInvalidCase, seccompValidCase, type SeccompInvalidCase, type SeccompValidCase } from './arb.js';
import { mergeSeccompStats, newSeccompStats, SeccompChecker, type SeccompFinding, type SeccompStats } from './properties.js';

export type SeccompCase = { readonly valid: SeccompValidCase } | { readonly invalid: SeccompInvalidCase };

export function seccompCaseArbitrary(inputsPerCase: number): fc.Arbitrary<SeccompCase> {
  return fc.oneof(
    { weight: 9, arbitrary: seccompValidCase(inputsPerCase).map((valid): SeccompCase => ({ valid })) },
    { weight: 1, arbitrary: seccompInvalidCase().map((invalid): SeccompCase => ({ invalid })) },
  );
}

export const checkSeccompCase = (checker: SeccompChecker, c: SeccompCase): SeccompFinding | null => ('valid' in c ? checker.checkValid(c.valid) : checker.checkInvalid(c.invalid));

export interface SeccompCampaignOptions {
  readonly seed: number;
  readonly runs: number | null;
  readonly timeMs: number | null;
  readonly workers: number;
  readonly inputsPerCase: number;
  readonly chunkSize: number;
}

export interface SeccompCampaignFinding {
  readonly finding: SeccompFinding;
  readonly chunk: number;
  readonly seed: number;
  readonly path: string;
}

/** Run chunk `chunk` (cases [chunk*size, ...)); the finding is shrunk. */
export function runSeccompChunk(checker: SeccompChecker, opts: SeccompCampaignOptions, chunk: number, size: number): { stats: SeccompStats; finding: SeccompCampaignFinding | null } {
  const seed = chunkSeed(opts.seed, chunk);
  checker.stats = newSeccompStats();
  const prop = fc.property(seccompCaseArbitrary(opts.inputsPerCase), (c) => checkSeccompCase(checker, c) === null);
  const out = fc.check(prop, { seed, numRuns: size });
  if (!out.failed) return { stats: checker.stats, finding: null };
  const path = out.counterexamplePath ?? '0';
  const stats = checker.stats;
  checker.stats = newSeccompStats();
  const finding = checkSeccompCase(checker, out.counterexample![0]);
  checker.stats = newSeccompStats();
  if (finding === null) throw new Error(`seccomp chunk ${chunk}: the shrunk counterexample no longer fails (seed ${seed}, path ${path})`);
  return { stats, finding: { finding, chunk, seed, path } };
}

/** One worker's chunks (w, w + W, ...) until the budget; synchronous. */
export function runSeccompWorker(opts: SeccompCampaignOptions, worker: number, report: (s: SeccompStats, f: SeccompCampaignFinding | null) => void, shouldStop: () => boolean = () => false): SeccompStats {
  const checker = new SeccompChecker();
  const deadline = opts.timeMs === null ? Infinity : Date.now() + opts.timeMs;
  const total = newSeccompStats();
  const chunks = opts.runs === null ? Infinity : Math.ceil(opts.runs / opts.chunkSize);
  for (let j = 0; ; j++) {
    const chunk = worker + opts.workers * j;
    if (chunk >= chunks || Date.now() >= deadline || shouldStop()) break;
    const size = opts.runs === null ? opts.chunkSize : Math.min(opts.chunkSize, opts.runs - chunk * opts.chunkSize);
    const r = runSeccompChunk(checker, opts, chunk, size);
    mergeSeccompStats(total, r.stats);
    report(r.stats, r.finding);
  }
  return total;
}

export interface SeccompCampaignSummary {
  readonly seed: number;
  readonly workers: number;
  readonly elapsedMs: number;
  readonly stats: SeccompStats;
  readonly findings: SeccompCampaignFinding[];
}

/** A campaign over worker threads (inline when workers is 1). */
export async function runSeccompCampaign(opts: SeccompCampaignOptions, progress?: (s: SeccompStats, elapsedMs: number) => void): Promise<SeccompCampaignSummary> {
  const started = Date.now();
  const total = newSeccompStats();
  const findings: SeccompCampaignFinding[] = [];
  const report = (s: SeccompStats, f: SeccompCampaignFinding | null): void => {
    mergeSeccompStats(total, s);
    if (f) findings.push(f);
    progress?.(total, Date.now() - started);
  };
  if (opts.workers <= 1) {
    runSeccompWorker(opts, 0, report);
  } else {
    await Promise.all(
      Array.from(
        { length: opts.workers },
        (_, w) =>
          new Promise<void>((resolve, reject) => {
            const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { opts, worker: w } });
            worker.on('message', (m: { stats: SeccompStats; finding: SeccompCampaignFinding | null }) => report(m.stats, m.finding));
            worker.on('error', reject);
            worker.on('exit', () => resolve());
          }),
      ),
    );
  }
  findings.sort((a, b) => a.chunk - b.chunk);
  return { seed: opts.seed, workers: opts.workers, elapsedMs: Date.now() - started, stats: total, findings };
}
