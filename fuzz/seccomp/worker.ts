// Worker-thread entry of a seccomp campaign: its share of the chunks, reported after each one.
import { parentPort, workerData } from 'node:worker_threads';
import { runSeccompWorker, type SeccompCampaignOptions } from './campaign.js';

const { opts, worker } = workerData as { opts: SeccompCampaignOptions; worker: number };
runSeccompWorker(opts, worker, (stats, finding) => parentPort!.postMessage({ stats, finding }));
