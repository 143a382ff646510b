// Kernel throughput for `npm run bench` (bench/ calls this; it owns the reporting).
import type { KernelConfig } from '../../model/config.js';
import { campaignArbitrary } from '../../fuzz/campaign.js';
import { drawChunk, oracleCase } from '../kdiff.js';
import { KernelOracle } from './judge.js';
import { liveConfig, readKernelParams } from './params.js';

export interface KernelThroughput {
  /** exact-or-partial (program, packet) results per second, instrumented copies included */
  readonly pairsPerSec: number;
  readonly casesPerSec: number;
  /** microseconds per SO_ATTACH_FILTER + SO_DETACH_FILTER of `ret #1` (no packets) */
  readonly attachUs: number;
  /** attaches per case (1 + instrumented copies) */
  readonly attachesPerCase: number;
  readonly cases: number;
  readonly cpu: number;
  readonly release: string;
}

/** Measure on one oracle process: `cases` generated cases of `packetsPerProgram` packets each. */
export async function measureKernelThroughput(
  opts: { cases?: number; packetsPerProgram?: number; cpu?: number; seed?: number; config?: KernelConfig } = {},
): Promise<KernelThroughput | { missing: string }> {
  const o = await KernelOracle.open(opts.cpu ?? 0);
  if ('missing' in o) return o;
  try {
    const params = readKernelParams();
    const config = opts.config ?? liveConfig(params);
    const n = opts.cases ?? 1024;
    const ppp = opts.packetsPerProgram ?? 16;
    const cases = drawChunk(campaignArbitrary(ppp, config), opts.seed ?? 1, n).map(oracleCase);
    const ret1 = [{ code: 0x06, jt: 0, jf: 0, k: 1 }];
    const t0 = process.hrtime.bigint();
    await o.verdicts(Array.from({ length: 500 }, () => ret1));
    const t1 = process.hrtime.bigint();
    let pairs = 0;
    let attaches = 0;
    for (let i = 0; i < cases.length; i += 32) {
      for (const v of await o.evaluate(cases.slice(i, i + 32))) {
        attaches += v.attaches;
        pairs += v.results?.length ?? 0;
      }
    }
    const t2 = process.hrtime.bigint();
    const secs = Number(t2 - t1) / 1e9;
    return {
      pairsPerSec: Math.round(pairs / secs),
      casesPerSec: Math.round(cases.length / secs),
      attachUs: Number(t1 - t0) / 1e3 / 500,
      attachesPerCase: attaches / cases.length,
      cases: cases.length,
      cpu: o.cpu,
      release: params.release,
    };
  } finally {
    await o.close();
  }
}
