// The live kernel as a judge: the attach verdict (errno of setsockopt(SO_ATTACH_FILTER)) of any
// program image, and the full 32-bit result of an attached program for every packet, recovered
// from instrumented copies (instrument.ts) when the plain run shows only min(len, result): a
// confirmation copy of the model's expected value, or copies that each return some of its bits.
// A result is `exact` only when every bit was read from the kernel; otherwise it is `partial` and
// says what is known and why the rest is not. Nothing is guessed.
import type { Program } from '../../model/cbpf/insn.js';
import type { Judge, JudgeAnswer, JudgeCase, JudgeResult, SkbInput } from '../../model/judge.js';
import type { SkBuff } from '../../model/skb.js';
import { errnoName } from '../../model/uapi.js';
import { unixDgramHeadlen, unixDgramSkb } from './afunix.js';
import { ensureOracleBinary } from './build.js';
import { KernelProcess, OBS_SEND_ERROR_BASE, type Job, type ProgOutcome } from './driver.js';
import { readSettledJitHarden, restoreJitHardenAfterDeath } from './sockopt.js';
import { confirmCopyOf, fields, fieldMask, fieldWidth, hasDevExit, instrument, loadsRandom, planConfirms, readField, shownCode } from './instrument.js';

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
  /** packets whose result a confirmation copy settled (OracleCase.expect) */
  readonly confirmed: number;
}

export interface OracleCase {
  readonly prog: Program;
  readonly packets: readonly Uint8Array[];
  /**
   * The model's u32 result per packet, when known: a packet that arrives whole is then settled by
   * one confirmation copy per distinct expected value (exact when the kernel agrees) instead of the
   * field copies. It only picks which copies run; every result is still read from the kernel.
   */
  readonly expect?: readonly number[];
}

/** First reading of a packet: exact from the plain run, or "at least len" (arrived whole). */
function plainResult(obs: number, len: number): KernelResult {
  if (obs <= OBS_SEND_ERROR_BASE) return { known: 'send-error', errno: OBS_SEND_ERROR_BASE - obs };
  if (obs < 0) return { known: 'exact', value: 0 };
  if (len > 0 && obs < len) return { known: 'exact', value: obs };
  return { known: 'partial', atLeast: Math.max(len, 1), mask: 0, bits: 0, reason: 'arrived whole' };
}

interface ConfirmPending {
  readonly caseIndex: number;
  /** the expected results this confirmation copy tests, code j + 1 for qs[j] */
  readonly qs: readonly number[];
  readonly packets: number[];
  readonly jobIndex: number;
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
  /**
   * `harden`: the net.core.bpf_jit_harden every attach of this oracle runs under (a window of its own
   * per attach), or null (the machine's, the lock held shared). `hardenBefore`: the sysctl when it
   * started, written back should the process be killed inside a window.
   */
  private constructor(
    readonly proc: KernelProcess,
    readonly harden: number | null = null,
    private readonly hardenBefore: number | null = null,
  ) {}

  /**
   * Build (on first use) and start the oracle on `cpu`; `missing` names what is not there. With
   * `harden`, each attach runs with bpf_jit_harden at that value (needs root: writing the sysctl);
   * checked with one attach at start.
   */
  static async open(cpu: number, mode: 'auto' | 'single' = 'auto', harden: number | null = null): Promise<KernelOracle | { missing: string }> {
    const b = ensureOracleBinary();
    if (!b.ok) return { missing: b.missing };
    let o: KernelOracle;
    try {
      o = new KernelOracle(await KernelProcess.start(b.path, cpu, mode, harden), harden, harden === null ? null : readSettledJitHarden());
    } catch (e) {
      return { missing: `a running oracle process: ${(e as Error).message}` };
    }
    if (harden === null) return o;
    try {
      await o.verdicts([[{ code: 0x06, jt: 0, jf: 0, k: 1 }]]);
      return o;
    } catch (e) {
      await o.close();
      return { missing: `bpf_jit_harden ${harden} for the oracle's attaches (root, to write net.core.bpf_jit_harden): ${(e as Error).message}` };
    }
  }

  /** One request to the process; if it dies inside a harden window, the sysctl is written back here. */
  private async run(jobs: readonly Job[]): Promise<ProgOutcome[][]> {
    try {
      return await this.proc.run(jobs);
    } catch (e) {
      if (this.harden !== null) restoreJitHardenAfterDeath(this.hardenBefore, this.harden);
      throw e;
    }
  }

  /** The CPU the filters run on (raw_smp_processor_id() in the sender's context). */
  get cpu(): number {
    return this.proc.hello.cpu;
  }

  /** Attach verdicts only (no packets), one request. */
  async verdicts(progs: readonly Program[]): Promise<number[]> {
    const r = await this.run([{ progs, packets: [] }]);
    return r[0]!.map((o) => o.errno);
  }

  /**
   * Several requests at once, answered in order, sent without waiting for earlier calls' requests: a
   * batch asked ahead (fuzz/batched.ts) is queued behind this one, so the process works on it while
   * bpfspec reads this one's replies and plans its copies. `settle(i, reply)` runs as reply i
   * arrives. If the process dies inside a harden window, the sysctl is written back here.
   */
  private async runParts(parts: readonly (readonly Job[])[], settle: (i: number, out: ProgOutcome[][]) => void): Promise<void> {
    try {
      await Promise.all(parts.map((jobs, i) => this.proc.send(jobs).then((out) => settle(i, out))));
    } catch (e) {
      if (this.harden !== null) restoreJitHardenAfterDeath(this.hardenBefore, this.harden);
      throw e;
    }
  }

  /**
   * Verdict and full results for a batch of cases. One request runs the programs as given and, for
   * cases with `expect` (the model's results), beside them the confirmation copies of the packets
   * expected to arrive whole (result >= max(len, 1)): copies that test several expected values at once
   * (confirmCopyOf, planConfirms). A packet that arrived whole (result >= its length) is then exact
   * when its copy shows the expected value's code; any other whole packet (no expectation, one below
   * what arrived, a copy that shows another code or was refused) is read by the field copies that read
   * its bits (instrument), all cases' in one more request. A copy's reading is used only for packets
   * the plain run delivered whole; the program and its copies see the same packets, so the order of
   * the attaches changes nothing. The first request goes in parts of `part` cases, sent at once.
   */
  async evaluate(cases: readonly OracleCase[], part = KernelOracle.PART): Promise<KernelVerdict[]> {
    const attaches = cases.map(() => 1);
    const confirmed = cases.map(() => 0);
    const results: (KernelResult[] | null)[] = cases.map(() => null);
    const errnos = cases.map(() => 0);
    const random = cases.map((c) => loadsRandom(c.prog));
    // field copies: `first`, the whole packets no copy tests; `again`, those whose copy did not settle them
    const first: number[][] = cases.map(() => []);
    const again: number[][] = cases.map(() => []);
    const parts: { from: number; to: number; jobs: Job[]; confirms: ConfirmPending[]; confirmOf: Int32Array[] }[] = [];
    for (let from = 0; from < cases.length; from += part) {
      const to = Math.min(cases.length, from + part);
      const p = { from, to, jobs: [] as Job[], confirms: [] as ConfirmPending[], confirmOf: [] as Int32Array[] };
      for (let ci = from; ci < to; ci++) p.jobs.push({ progs: [cases[ci]!.prog], packets: cases[ci]!.packets });
      for (let ci = from; ci < to; ci++) p.confirmOf.push(this.planConfirmations(cases[ci]!, ci, random[ci]!, p.jobs, p.confirms, attaches));
      parts.push(p);
    }
    await this.runParts(
      parts.map((p) => p.jobs),
      (pi, out) => {
        const p = parts[pi]!;
        for (let ci = p.from; ci < p.to; ci++) {
          const c = cases[ci]!;
          const o = out[ci - p.from]![0]!;
          errnos[ci] = o.errno;
          if (o.errno !== 0) continue;
          const rs = c.packets.map((pk, i) => plainResult(o.obs![i]!, pk.length));
          results[ci] = rs;
          if (random[ci]!) continue;
          const of = p.confirmOf[ci - p.from]!;
          for (let i = 0; i < rs.length; i++) {
            if (rs[i]!.known !== 'partial') continue;
            if (of[i]! < 0) {
              first[ci]!.push(i);
              continue;
            }
            const cp = p.confirms[of[i]!]!;
            const co = out[cp.jobIndex]![0]!;
            const j = cp.packets.indexOf(i);
            const q = c.expect![i]! >>> 0;
            const shown = co.errno === 0 ? shownCode(co.obs![j]!, c.packets[i]!.length) : 0;
            if (shown === null) rs[i] = { known: 'send-error', errno: OBS_SEND_ERROR_BASE - co.obs![j]! };
            else if (shown === cp.qs.indexOf(q) + 1) {
              rs[i] = { known: 'exact', value: q };
              confirmed[ci]! += 1;
            } else again[ci]!.push(i); // not q (or the copy was refused): read the bits
          }
        }
      },
    );
    const more: Job[] = [];
    const firstSlices = this.sliceJobs(cases, results, first, attaches, more);
    const secondSlices = this.sliceJobs(cases, results, again, attaches, more);
    if (more.length > 0) {
      const back = await this.run(more);
      this.applySlices(cases, results, firstSlices, back);
      this.applySlices(cases, results, secondSlices, back);
    }
    return cases.map((c, ci) => ({
      errno: errnos[ci]!,
      results: results[ci]!,
      random: random[ci]!,
      attaches: attaches[ci]!,
      confirmed: confirmed[ci]!,
    }));
  }

  /** Cases per part of an evaluate()'s first request. */
  static readonly PART = 8;

  // The confirmation copies of case `ci` (planConfirms), appended to `jobs` and `confirms`; per packet,
  // the index in `confirms` of the copy that tests it, or -1.
  private planConfirmations(c: OracleCase, ci: number, random: boolean, jobs: Job[], confirms: ConfirmPending[], attaches: number[]): Int32Array {
    const of = new Int32Array(c.packets.length).fill(-1);
    if (c.expect === undefined || random) return of;
    const minLen = new Map<number, number>();
    const byQ = new Map<number, number[]>();
    c.packets.forEach((p, i) => {
      const q = c.expect![i]! >>> 0;
      const l = Math.max(p.length, 1);
      // an expectation below what arrives whole is already wrong: its bits are read for the report
      if (q < l) return;
      const g = byQ.get(q);
      if (g) g.push(i);
      else byQ.set(q, [i]);
      const m = minLen.get(q);
      if (m === undefined || l < m) minLen.set(q, l);
    });
    if (byQ.size === 0) return of;
    const push = (qs: readonly number[], prog: Program): void => {
      const packets = qs.flatMap((q) => byQ.get(q)!);
      for (const i of packets) of[i] = confirms.length;
      attaches[ci]! += 1;
      confirms.push({ caseIndex: ci, qs, packets, jobIndex: jobs.length });
      jobs.push({ progs: [prog], packets: packets.map((i) => c.packets[i]!) });
    };
    for (const qs of planConfirms(minLen)) {
      const prog = confirmCopyOf(c.prog, qs);
      if (prog !== null) push(qs, prog);
      else if (qs.length > 1)
        for (const q of qs) {
          const single = confirmCopyOf(c.prog, [q]);
          if (single !== null) push([q], single);
        }
    }
    return of;
  }

  // The field copies (instrument) for packets `need[ci]` of each case, appended to `jobs`; packets
  // no field can be read from get their reason here.
  private sliceJobs(cases: readonly OracleCase[], results: readonly (KernelResult[] | null)[], need: readonly number[][], attaches: number[], jobs: Job[]): Pending[] {
    const pending: Pending[] = [];
    cases.forEach((c, ci) => {
      const rs = results[ci];
      if (rs === null || rs === undefined || need[ci]!.length === 0) return;
      const sentinel = hasDevExit(c.prog);
      const packets: number[] = [];
      let width = 32;
      for (const i of need[ci]!) {
        const r = rs[i]!;
        if (r.known !== 'partial') continue;
        const w = fieldWidth(c.packets[i]!.length, sentinel);
        if (w === 0) {
          rs[i] = { ...r, reason: `arrived whole; a ${c.packets[i]!.length}-byte packet is too short to carry a field${sentinel ? ' beside SENTINEL' : ''}` };
          continue;
        }
        packets.push(i);
        width = Math.min(width, w);
      }
      if (packets.length === 0) return;
      const variants = fields(width);
      const progs: Program[] = [];
      for (const v of variants) {
        const p = instrument(c.prog, v.shift, v.width);
        if (p === null) {
          for (const i of packets) rs[i] = { ...(rs[i] as Extract<KernelResult, { known: 'partial' }>), reason: 'arrived whole; the program is too long to instrument' };
          return;
        }
        progs.push(p);
      }
      attaches[ci]! += progs.length;
      pending.push({ caseIndex: ci, packets, variants, sentinel, jobIndex: jobs.length });
      jobs.push({ progs, packets: packets.map((i) => c.packets[i]!) });
    });
    return pending;
  }

  // Combine the field copies' readings into each pending packet's result.
  private applySlices(cases: readonly OracleCase[], results: readonly (KernelResult[] | null)[], pending: readonly Pending[], out: readonly ProgOutcome[][]): void {
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

  close(): Promise<void> {
    return this.proc.close();
  }
}

/** Whether an skb is the one an AF_UNIX datagram of its bytes becomes (the only skb the live kernel can be given). */
export function isUnixDgramSkb(skb: SkBuff): boolean {
  return (
    skb.headlen === unixDgramHeadlen(skb.data.length) &&
    skb.headroom.length === 0 &&
    skb.macHeader === null &&
    skb.networkHeader === 0 &&
    skb.dev === null &&
    skb.protocol === 0 &&
    skb.pktType === 0 &&
    skb.mark === 0 &&
    skb.queueMapping === 0 &&
    skb.hash === 0 &&
    skb.vlanTci === 0 &&
    skb.vlanProto === 0 &&
    !skb.vlanPresent
  );
}

/** The interface's result for what the kernel showed of one packet. */
export function judgeResultOf(r: KernelResult, random: boolean): JudgeResult {
  if (random) return { known: 'none', reason: 'the program loads SKF_AD_RANDOM' };
  if (r.known === 'send-error') return { known: 'none', reason: `send failed (${errnoName(r.errno)})` };
  return r;
}

/**
 * The live kernel as a judge (model/judge.ts): SO_ATTACH_FILTER on an AF_UNIX datagram socket of one
 * oracle process pinned to one CPU. Its inputs are AF_UNIX datagrams (inputFor makes one of any
 * input's bytes, on this CPU); an input that is not one gets no result. The verdict's errno is the
 * setsockopt's, negated; results are exact only when every bit was read from the kernel (see
 * KernelOracle.evaluate). JudgeCase.expect picks the confirmation copies. Counters: `attaches` (the
 * program and its copies), `confirmed` (packets settled by a confirmation copy).
 */
export class LiveKernelJudge implements Judge<SkbInput> {
  readonly name = 'live';
  /** calls overlap safely: every request to the oracle process is answered in order, each reply matched to its request (framed.ts exchangeNow) */
  readonly overlapping = true;

  constructor(readonly oracle: KernelOracle) {}

  /** The CPU its filters run on (SKF_AD_CPU). */
  get cpu(): number {
    return this.oracle.cpu;
  }

  /** Whether the oracle batches packets with sendmmsg/recvmmsg (needs root); else one packet at a time. */
  get batched(): boolean {
    return this.oracle.proc.hello.batched;
  }

  supports(_prog: Program): string | null {
    return null;
  }

  inputFor(input: SkbInput): SkbInput {
    return { skb: unixDgramSkb(input.skb.data), env: { cpu: this.cpu, randomSeed: input.env.randomSeed } };
  }

  async judge(cases: readonly JudgeCase<SkbInput>[]): Promise<readonly JudgeAnswer[]> {
    const verdicts = await this.oracle.evaluate(
      cases.map((c) => ({ prog: c.prog, packets: c.inputs.map((i) => i.skb.data), ...(c.expect ? { expect: c.expect } : {}) })),
    );
    return verdicts.map((v, ci): JudgeAnswer => {
      const counters = { attaches: v.attaches, confirmed: v.confirmed };
      if (v.errno !== 0) return { verdict: { accepted: false, errno: -v.errno, message: `setsockopt(SO_ATTACH_FILTER): ${errnoName(v.errno)}` }, results: [], counters };
      const inputs = cases[ci]!.inputs;
      return {
        verdict: { accepted: true },
        results: v.results!.map((r, i) => {
          const input = inputs[i]!;
          if (!isUnixDgramSkb(input.skb)) return { known: 'none', reason: 'not an AF_UNIX datagram skb' };
          if (input.env.cpu !== this.cpu) return { known: 'none', reason: `runs on CPU ${this.cpu}, not ${input.env.cpu}` };
          return judgeResultOf(r, v.random);
        }),
        counters,
      };
    });
  }

  close(): Promise<void> {
    return this.oracle.close();
  }
}
