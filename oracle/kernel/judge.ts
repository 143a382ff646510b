// The live kernel as a judge: the attach verdict (errno of setsockopt(SO_ATTACH_FILTER)) of any
// program image, and the full 32-bit result of an attached program for every packet, recovered
// from instrumented copies (instrument.ts) when the plain run shows only min(len, result).
// A result is `exact` only when every bit was read from the kernel; otherwise it is `partial` and
// says what is known and why the rest is not. Nothing is guessed.
import type { Program } from '../../model/cbpf/insn.js';
import { ensureOracleBinary } from './build.js';
import { KernelProcess, OBS_SEND_ERROR_BASE, type Job, type ProgOutcome } from './driver.js';
import { fields, fieldMask, fieldWidth, hasDevExit, instrument, loadsRandom, readField } from './instrument.js';

/** The kernel's result for one packet. */
export type KernelResult =
  | { readonly known: 'exact'; readonly value: number }
  | {
      readonly known: 'partial';
      /** the result is at least this (it arrived whole; max(len, 1)) */
      readonly atLeast: number;
      /** the bits that are known, and their values */
      readonly mask: number;
      readonly bits: number;
      readonly reason: string;
    }
  | { readonly known: 'send-error'; readonly errno: number };

/** What the kernel did with one program and its packets. */
export interface KernelVerdict {
  /** positive errno of SO_ATTACH_FILTER, 0 when attached */
  readonly errno: number;
  /** one per packet when attached, else null */
  readonly results: readonly KernelResult[] | null;
  /** the program loads SKF_AD_RANDOM: results are not reproducible (and not compared) */
  readonly random: boolean;
  /** attaches this verdict took (the program and its instrumented copies) */
  readonly attaches: number;
}

export interface OracleCase {
  readonly prog: Program;
  readonly packets: readonly Uint8Array[];
}

/** First reading of a packet: exact from the plain run, or "at least len" (arrived whole). */
function plainResult(obs: number, len: number): KernelResult {
  if (obs <= OBS_SEND_ERROR_BASE) return { known: 'send-error', errno: OBS_SEND_ERROR_BASE - obs };
  if (obs < 0) return { known: 'exact', value: 0 };
  if (len > 0 && obs < len) return { known: 'exact', value: obs };
  return { known: 'partial', atLeast: Math.max(len, 1), mask: 0, bits: 0, reason: 'arrived whole' };
}

interface Pending {
  readonly caseIndex: number;
  readonly packets: number[];
  readonly variants: { shift: number; width: number }[];
  readonly sentinel: boolean;
  readonly jobIndex: number;
}

/** Combine the variants' readings for one packet into a result. */
export function combine(
  len: number,
  sentinel: boolean,
  readings: readonly { shift: number; width: number; outcome: ProgOutcome; obs: number }[],
): KernelResult {
  const atLeast = Math.max(len, 1);
  let mask = 0;
  let bits = 0;
  const why: string[] = [];
  for (const r of readings) {
    if (r.outcome.errno !== 0) {
      why.push(`copy for bits ${r.shift}..${r.shift + r.width - 1} rejected (errno ${r.outcome.errno})`);
      continue;
    }
    const f = readField(r.obs, len, sentinel);
    if ('sendErrno' in f) {
      why.push(`copy for bits ${r.shift}..${r.shift + r.width - 1}: send failed (errno ${f.sendErrno})`);
      continue;
    }
    if ('sentinel' in f) {
      why.push('an ld [ifindex]/[hatype] with skb->dev NULL did not exit (SENTINEL returned)');
      continue;
    }
    const m = fieldMask(r.width);
    if (f.field > m) {
      why.push(`copy for bits ${r.shift}..: field ${f.field} exceeds its mask`);
      continue;
    }
    mask = (mask | (m << r.shift)) >>> 0;
    bits = (bits | (f.field << r.shift)) >>> 0;
  }
  if (mask === 0xffffffff && why.length === 0) {
    if (bits >= atLeast) return { known: 'exact', value: bits };
    why.push(`copies give ${bits}, but the plain run delivered the whole packet (result >= ${atLeast})`);
  }
  return { known: 'partial', atLeast, mask, bits: (bits & mask) >>> 0, reason: why.join('; ') || 'not every bit was read' };
}

/** A live-kernel judge over one oracle process (pinned to one CPU). */
export class KernelOracle {
  private constructor(readonly proc: KernelProcess) {}

  /** Build (on first use) and start the oracle on `cpu`; `missing` names what is not there. */
  static async open(cpu: number, mode: 'auto' | 'single' = 'auto'): Promise<KernelOracle | { missing: string }> {
    const b = ensureOracleBinary();
    if (!b.ok) return { missing: b.missing };
    try {
      return new KernelOracle(await KernelProcess.start(b.path, cpu, mode));
    } catch (e) {
      return { missing: `a running oracle process: ${(e as Error).message}` };
    }
  }

  /** The CPU the filters run on (raw_smp_processor_id() in the sender's context). */
  get cpu(): number {
    return this.proc.hello.cpu;
  }

  /** Attach verdicts only (no packets), one request. */
  async verdicts(progs: readonly Program[]): Promise<number[]> {
    const r = await this.proc.run([{ progs, packets: [] }]);
    return r[0]!.map((o) => o.errno);
  }

  /** Verdict and full results for a batch of cases: one request for the plain runs, one for the copies. */
  async evaluate(cases: readonly OracleCase[]): Promise<KernelVerdict[]> {
    const plain = await this.proc.run(cases.map((c): Job => ({ progs: [c.prog], packets: c.packets })));
    const results: (KernelResult[] | null)[] = [];
    const attaches = cases.map(() => 1);
    const pending: Pending[] = [];
    const jobs: Job[] = [];
    cases.forEach((c, ci) => {
      const o = plain[ci]![0]!;
      if (o.errno !== 0) {
        results.push(null);
        return;
      }
      const rs = c.packets.map((p, i) => plainResult(o.obs![i]!, p.length));
      results.push(rs);
      if (loadsRandom(c.prog)) return;
      const sentinel = hasDevExit(c.prog);
      const need: number[] = [];
      let width = 32;
      rs.forEach((r, i) => {
        if (r.known !== 'partial') return;
        const w = fieldWidth(c.packets[i]!.length, sentinel);
        if (w === 0) {
          rs[i] = { ...r, reason: `arrived whole; a ${c.packets[i]!.length}-byte packet is too short to carry a field${sentinel ? ' beside SENTINEL' : ''}` };
          return;
        }
        need.push(i);
        width = Math.min(width, w);
      });
      if (need.length === 0) return;
      const variants = fields(width);
      const progs: Program[] = [];
      for (const v of variants) {
        const p = instrument(c.prog, v.shift, v.width);
        if (p === null) {
          for (const i of need) rs[i] = { ...(rs[i] as Extract<KernelResult, { known: 'partial' }>), reason: 'arrived whole; the program is too long to instrument' };
          return;
        }
        progs.push(p);
      }
      attaches[ci]! += progs.length;
      pending.push({ caseIndex: ci, packets: need, variants, sentinel, jobIndex: jobs.length });
      jobs.push({ progs, packets: need.map((i) => c.packets[i]!) });
    });
    if (jobs.length > 0) {
      const out = await this.proc.run(jobs);
      for (const p of pending) {
        const rs = results[p.caseIndex]!;
        const outcomes = out[p.jobIndex]!;
        p.packets.forEach((pi, j) => {
          const len = cases[p.caseIndex]!.packets[pi]!.length;
          rs[pi] = combine(
            len,
            p.sentinel,
            p.variants.map((v, vi) => ({ ...v, outcome: outcomes[vi]!, obs: outcomes[vi]!.obs ? outcomes[vi]!.obs![j]! : 0 })),
          );
        });
      }
    }
    return cases.map((c, ci) => ({
      errno: plain[ci]![0]!.errno,
      results: results[ci]!,
      random: loadsRandom(c.prog),
      attaches: attaches[ci]!,
    }));
  }

  close(): Promise<void> {
    return this.proc.close();
  }
}
