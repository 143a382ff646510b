// Worker-thread entry of a campaign: runs its share of the chunks and reports after each one.
import { parentPort, workerData } from 'node:worker_threads';
import { runWorker, type CampaignOptions } from './campaign.js';

interface Data {
  readonly opts: CampaignOptions;
  readonly worker: number;
  /** Int32Array over a SharedArrayBuffer: [0] != 0 asks every worker to stop after its chunk */
  readonly stop: Int32Array;
}

const { opts, worker, stop } = workerData as Data;
runWorker(opts, worker, {
  progress: (stats, finding, chunk) => parentPort!.postMessage({ type: 'progress', stats, finding, chunk }),
  shouldStop: () => Atomics.load(stop, 0) !== 0,
});
parentPort!.postMessage({ type: 'done' });
