// Kernel throughput for `npm run bench` (bench/run.ts owns the reporting): the live kernel's judge
// (oracle/kernel/judge.ts LiveKernelJudge) asked as kdiff asks it (fuzz/batched.ts).
import type { KernelConfig } from '../model/config.js';
import type { JudgeCase, SkbInput } from '../model/judge.js';
import { drawChunk, LaneSpec } from '../fuzz/batched.js';
import { campaignArbitrary } from '../fuzz/campaign.js';
import { KernelOracle, LiveKernelJudge } from '../oracle/kernel/judge.js';
import { liveConfig, readKernelParams } from '../oracle/kernel/params.js';

export interface KernelThroughput {
  /** exact-or-partial (program, packet) results per second, with the model's results as expectations */
  readonly pairsPerSec: number;
  /** the share of those results that are exact */
  readonly exactShare: number;
  readonly casesPerSec: number;
  /** attaches per case (1 + copies) */
  readonly attachesPerCase: number;
  /** the same cases without expectations: every whole packet read by field copies */
  readonly fieldCopies: { readonly pairsPerSec: number; readonly exactShare: number; readonly attachesPerCase: number };
  /** microseconds per SO_ATTACH_FILTER + SO_DETACH_FILTER of `ret #1` (no packets) */
  readonly attachUs: number;
  readonly cases: number;
  readonly cpu: number;
  readonly release: string;
}

/**
 * Measure on one oracle process: `cases` generated cases of `packetsPerProgram` packets each, as
 * kdiff puts them (the model's results as OracleCase.expect, computed before the clock starts), and
 * once more without expectations.
 */
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
    const drawn = drawChunk(campaignArbitrary(ppp, config), opts.seed ?? 1, n);
    const judge = new LiveKernelJudge(o);
    const spec = new LaneSpec(config, { judges: [{ judge, against: 'kernel' }] });
    const withExpect = drawn.map((c) => spec.judgeCase(spec.answer(c), 'kernel'));
    const plain = withExpect.map((c): JudgeCase<SkbInput> => ({ prog: c.prog, inputs: c.inputs }));
    const ret1 = [{ code: 0x06, jt: 0, jf: 0, k: 1 }];
    const t0 = process.hrtime.bigint();
    await o.verdicts(Array.from({ length: 500 }, () => ret1));
    const attachUs = Number(process.hrtime.bigint() - t0) / 1e3 / 500;
    const run = async (cases: readonly JudgeCase<SkbInput>[]): Promise<{ pairsPerSec: number; casesPerSec: number; exactShare: number; attachesPerCase: number }> => {
      let pairs = 0;
      let exact = 0;
      let attaches = 0;
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < cases.length; i += 32) {
        for (const a of await judge.judge(cases.slice(i, i + 32))) {
          attaches += a.counters?.attaches ?? 0;
          pairs += a.results.length;
          exact += a.results.filter((r) => r.known === 'exact').length;
        }
      }
      const secs = Number(process.hrtime.bigint() - t1) / 1e9;
      return { pairsPerSec: Math.round(pairs / secs), casesPerSec: Math.round(cases.length / secs), exactShare: Math.round((1000 * exact) / Math.max(pairs, 1)) / 1000, attachesPerCase: attaches / cases.length };
    };
    const a = await run(withExpect);
    const b = await run(plain);
    return {
      pairsPerSec: a.pairsPerSec,
      exactShare: a.exactShare,
      casesPerSec: a.casesPerSec,
      attachesPerCase: a.attachesPerCase,
      fieldCopies: { pairsPerSec: b.pairsPerSec, exactShare: b.exactShare, attachesPerCase: b.attachesPerCase },
      attachUs,
      cases: n,
      cpu: o.cpu,
      release: params.release,
    };
  } finally {
    await o.close();
  }
}
