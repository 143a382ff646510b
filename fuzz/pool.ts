// Runs a campaign on worker threads: starts one worker per --workers, merges their counts as they
// report, hands findings over as they come, and stops them cleanly on request (SIGINT).
import { Worker } from 'node:worker_threads';
import type { CampaignFinding, CampaignOptions } from './campaign.js';
import { mergeStats, newStats, type Stats } from './properties.js';

export interface CampaignSummary {
  readonly seed: number;
  readonly shard: CampaignOptions['shard'];
  readonly workers: number;
  readonly packetsPerProgram: number;
  readonly elapsedMs: number;
  readonly stats: Stats;
  /** findings sorted by chunk (the same for the same seed, whatever the timing) */
  readonly findings: CampaignFinding[];
  /** stopped early by a request (SIGINT) rather than by its budget */
  readonly interrupted: boolean;
}

export interface PoolEvents {
  progress?(stats: Stats, elapsedMs: number, findings: number): void;
  finding?(f: CampaignFinding): void;
}

interface Message {
  readonly type: 'progress' | 'done';
  readonly stats?: Stats;
  readonly finding?: CampaignFinding | null;
}

/** A running campaign: `stop()` asks every worker to finish its chunk and end; `done` resolves with the summary. */
export interface RunningCampaign {
  stop(): void;
  readonly done: Promise<CampaignSummary>;
}

export function startCampaign(opts: CampaignOptions, events: PoolEvents = {}): RunningCampaign {
  const stopFlag = new Int32Array(new SharedArrayBuffer(4));
  const total = newStats();
  const findings: CampaignFinding[] = [];
  const started = Date.now();
  let interrupted = false;
  const workers: Worker[] = [];
  const done = new Promise<CampaignSummary>((resolve, reject) => {
    let running = opts.workers;
    const finish = (): void => {
      findings.sort((a, b) => a.chunk - b.chunk);
      resolve({
        seed: opts.seed,
        shard: opts.shard,
        workers: opts.workers,
        packetsPerProgram: opts.packetsPerProgram,
        elapsedMs: Date.now() - started,
        stats: total,
        findings,
        interrupted,
      });
    };
    for (let w = 0; w < opts.workers; w++) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { opts, worker: w, stop: stopFlag } });
      workers.push(worker);
      worker.on('message', (m: Message) => {
        if (m.type === 'progress') {
          mergeStats(total, m.stats!);
          if (m.finding) {
            findings.push(m.finding);
            events.finding?.(m.finding);
          }
          events.progress?.(total, Date.now() - started, findings.length);
        }
      });
      worker.on('error', (e) => {
        Atomics.store(stopFlag, 0, 1);
        reject(e);
      });
      worker.on('exit', () => {
        if (--running === 0) finish();
      });
    }
  });
  return {
    stop: () => {
      interrupted = true;
      Atomics.store(stopFlag, 0, 1);
    },
    done,
  };
}
