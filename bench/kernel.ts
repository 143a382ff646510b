// Kernel throughput for `npm run bench` (bench/run.ts owns the reporting): the live kernel's judge
// (oracle/kernel/judge.ts LiveKernelJudge) asked as kdiff asks it (fuzz/batched.ts).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { KernelConfig } from '../model/config.js';
import type { JudgeAnswer, JudgeCase, SkbInput } from '../model/judge.js';
import { drawChunk, LaneSpec } from '../fuzz/batched.js';
import { campaignArbitrary } from '../fuzz/campaign.js';
import { KernelOracle, LiveKernelJudge } from '../oracle/kernel/judge.js';
import { liveConfig, readKernelParams } from '../oracle/kernel/params.js';

export interface KernelThroughput {
  /** exact-or-partial (program, packet) results per second, with the model's results as expectations (the best of `passes`) */
  readonly pairsPerSec: number;
  /** pairs per second of every timed pass over the cases (the machine may be shared: the best is reported) */
  readonly passes: readonly number[];
  /**
   * CPU microseconds per case of the pass with the least CPU: bpfspec's (process.cpuUsage) and the
   * oracle process's (/proc/PID/schedstat, on-CPU time), null where it cannot be read
   */
  readonly cpuUsPerCase: { readonly bpfspec: number; readonly oracle: number | null };
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
 * Untimed passes over other cases before the timed ones. One pass over 256 cases left the judge's
 * code still being compiled: three timed passes after it rose 70,396 -> 81,945 -> 84,653 pairs/s.
 */
const WARM_PASSES = 3;

/** Nanoseconds the process has run on a CPU (/proc/PID/schedstat), or null. */
function onCpuNs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const ns = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns : null;
  } catch {
    return null;
  }
}

/**
 * Measure on one oracle process: `cases` generated cases of `packetsPerProgram` packets each, as
 * kdiff puts them (the model's results as OracleCase.expect, computed before the clock starts),
 * `passes` times (after WARM_PASSES untimed passes over as many other cases, so that the judge's code
 * is compiled as in a running campaign), and once more without expectations.
 */
export async function measureKernelThroughput(
  opts: { cases?: number; packetsPerProgram?: number; cpu?: number; seed?: number; config?: KernelConfig; passes?: number } = {},
): Promise<KernelThroughput | { missing: string }> {
  const o = await KernelOracle.open(opts.cpu ?? 0);
  if ('missing' in o) return o;
  try {
    const params = readKernelParams();
    const config = opts.config ?? liveConfig(params);
    const n = opts.cases ?? 1024;
    const ppp = opts.packetsPerProgram ?? 16;
    const seed = opts.seed ?? 1;
    const drawn = drawChunk(campaignArbitrary(ppp, config), seed, n);
    const judge = new LiveKernelJudge(o);
    const spec = new LaneSpec(config, { judges: [{ judge, against: 'kernel' }] });
    const withExpect = drawn.map((c) => spec.judgeCase(spec.answer(c), 'kernel'));
    const warmUp = drawChunk(campaignArbitrary(ppp, config), seed + 1, n).map((c) => spec.judgeCase(spec.answer(c), 'kernel'));
    const plain = withExpect.map((c): JudgeCase<SkbInput> => ({ prog: c.prog, inputs: c.inputs }));
    const ret1 = [{ code: 0x06, jt: 0, jf: 0, k: 1 }];
    const t0 = process.hrtime.bigint();
    await o.verdicts(Array.from({ length: 500 }, () => ret1));
    const attachUs = Number(process.hrtime.bigint() - t0) / 1e3 / 500;
    const pid = o.proc.pid;
    type Pass = { pairsPerSec: number; casesPerSec: number; exactShare: number; attachesPerCase: number; bpfspecUs: number; oracleUs: number | null };
    const run = async (cases: readonly JudgeCase<SkbInput>[]): Promise<Pass> => {
      let pairs = 0;
      let exact = 0;
      let attaches = 0;
      const c0 = process.cpuUsage();
      const o0 = onCpuNs(pid);
      const t1 = process.hrtime.bigint();
      // batches of 32, one asked ahead while the last is read (fuzz/batched.ts startBatched)
      let ahead: Promise<readonly JudgeAnswer[]> | null = cases.length > 0 ? judge.judge(cases.slice(0, 32)) : null;
      for (let i = 0; ahead !== null; i += 32) {
        const answers = ahead;
        ahead = i + 32 < cases.length ? judge.judge(cases.slice(i + 32, i + 64)) : null;
        for (const a of await answers) {
          attaches += a.counters?.attaches ?? 0;
          pairs += a.results.length;
          exact += a.results.filter((r) => r.known === 'exact').length;
        }
      }
      const secs = Number(process.hrtime.bigint() - t1) / 1e9;
      const c = process.cpuUsage(c0);
      const o1 = onCpuNs(pid);
      return {
        pairsPerSec: Math.round(pairs / secs),
        casesPerSec: Math.round(cases.length / secs),
        exactShare: Math.round((1000 * exact) / Math.max(pairs, 1)) / 1000,
        attachesPerCase: attaches / cases.length,
        bpfspecUs: Math.round((c.user + c.system) / cases.length),
        oracleUs: o0 === null || o1 === null ? null : Math.round((o1 - o0) / 1e3 / cases.length),
      };
    };
    for (let i = 0; i < WARM_PASSES; i++) await run(warmUp);
    const passes: Pass[] = [];
    for (let i = 0; i < Math.max(1, opts.passes ?? 3); i++) passes.push(await run(withExpect));
    const a = passes.reduce((x, y) => (y.pairsPerSec > x.pairsPerSec ? y : x));
    const cpu = passes.reduce((x, y) => (y.bpfspecUs + (y.oracleUs ?? 0) < x.bpfspecUs + (x.oracleUs ?? 0) ? y : x));
    const b = await run(plain);
    return {
      pairsPerSec: a.pairsPerSec,
      passes: passes.map((p) => p.pairsPerSec),
      cpuUsPerCase: { bpfspec: cpu.bpfspecUs, oracle: cpu.oracleUs },
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

// `node dist/bench/kernel.js [cases] [packets per program] [seed]`: the measurement alone, as JSON
// (bench/run.ts runs it so, in a process of its own, as kdiff runs).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cases, ppp, seed] = process.argv.slice(2).map(Number);
  const r = await measureKernelThroughput({ ...(cases ? { cases } : {}), ...(ppp ? { packetsPerProgram: ppp } : {}), ...(seed ? { seed } : {}) });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  if ('missing' in r) process.exitCode = 1;
}
