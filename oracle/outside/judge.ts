// An outside implementation as a Judge (model/judge.ts): one adapter process per judge, built on
// first use, fed batches of (program, packets) and answering per batch its verdict and per packet
// its result. A crash of the implementation is never lost: the adapters catch fatal signals per
// packet, and if the process dies anyway the batch that killed it is re-run one packet at a time on
// a fresh process, so the answer names the packet (or the load) that crashed.
import type { Program } from '../../model/cbpf/insn.js';
import type { Judge, JudgeAnswer, JudgeCase, JudgeResult, JudgeVerdict, SkbInput } from '../../model/judge.js';
import type { BuildResult } from '../build.js';
import { AdapterDied, OutsideProcess } from './process.js';
import type { Answer, BatchFlags, Hello, OutsidePacket, PacketResult } from './protocol.js';

/** How one outside judge is built, started and read. */
export interface OutsideSpec {
  /** the name `--judges` knows it by */
  readonly name: string;
  /** the implementation, for listings (e.g. 'libpcap bpf_validate + bpf_filter') */
  readonly describe: string;
  /** build (or find cached) the adapter binary; never throws */
  readonly build: () => BuildResult;
  readonly args?: readonly string[];
  /** whether the implementation claims to support the program (null), or why not (with its source line) */
  readonly supports: (prog: Program) => string | null;
  /** whose results this judge reports: the interpreter's, or the JIT's (DPDK) */
  readonly engine: 'interpreter' | 'jit';
  /** Linux-style negative errno of a rejection, where the implementation's code is one (DPDK's rte_errno) */
  readonly errno?: (code: number, stage: string) => number;
}

/** What an outside implementation is given of an skb: its bytes and where the first segment ends. */
export const outsidePacket = (input: SkbInput): OutsidePacket => ({ data: input.skb.data, headlen: input.skb.headlen });

/** One batch to run: a program and the packets it runs on. */
export interface OutsideCase {
  readonly prog: Program;
  readonly packets: readonly OutsidePacket[];
}

function resultOf(r: PacketResult): JudgeResult {
  switch (r.status) {
    case 'value':
      return { known: 'exact', value: r.value >>> 0 };
    case 'error':
      return { known: 'exact', value: 0, fault: { kind: 'error', pc: -1, detail: r.message } };
    default:
      return { known: 'exact', value: 0, fault: { kind: 'signal', pc: -1, detail: `signal ${r.signal}${r.message ? ` (${r.message})` : ''}` } };
  }
}

/** The verdict of an answer for the engine a judge reports (a DPDK program with no JIT code is not run by the JIT). */
export function verdictOf(spec: Pick<OutsideSpec, 'engine' | 'errno'>, a: Answer): JudgeVerdict {
  if (a.verdict.code !== 0) {
    const message = `${a.verdict.stage}: ${a.verdict.message}`;
    return { accepted: false, errno: spec.errno ? spec.errno(a.verdict.code, a.verdict.stage) : 0, message };
  }
  if (spec.engine === 'jit' && a.jit && !a.jit.available) return { accepted: false, errno: 0, message: 'rte_bpf_get_jit: no JIT code for this program (rte_bpf_load succeeded)' };
  return { accepted: true };
}

/** Map a raw answer to a JudgeAnswer for the judge's engine. */
export function judgeAnswerOf(spec: Pick<OutsideSpec, 'engine' | 'errno'>, a: Answer): JudgeAnswer {
  const verdict = verdictOf(spec, a);
  if (!verdict.accepted) return { verdict, results: [] };
  const raw = spec.engine === 'jit' ? (a.jit?.results ?? []) : a.results;
  return { verdict, results: raw.map(resultOf) };
}

/** The answer for a batch whose load killed the adapter (verdict code -1, stage 'adapter'). */
const loadCrash = (why: string): Answer => ({ kind: 'answer', id: 0, verdict: { code: -1, stage: 'adapter', message: `the adapter died loading the program (${why})` }, results: [] });

export class OutsideJudge implements Judge<SkbInput> {
  private proc: OutsideProcess;
  /** processes started (1 + restarts after crashes) */
  restarts = 0;

  private constructor(
    readonly spec: OutsideSpec,
    private readonly binary: string,
    proc: OutsideProcess,
    private readonly answerTimeoutMs: number | undefined,
  ) {
    this.proc = proc;
  }

  get name(): string {
    return this.spec.name;
  }

  /** The implementation and version the adapter reported. */
  get hello(): Hello {
    return this.proc.hello;
  }

  /** Build the adapter (on first use) and start it; `missing` names what is not installed here. */
  static async open(spec: OutsideSpec, opts: { readonly answerTimeoutMs?: number } = {}): Promise<OutsideJudge | { missing: string }> {
    const b = spec.build();
    if (!b.ok) return { missing: b.missing };
    try {
      return new OutsideJudge(spec, b.path, await OutsideProcess.start(b.path, spec.args ?? [], opts), opts.answerTimeoutMs);
    } catch (e) {
      return { missing: `a working ${spec.name} adapter (${(e as Error).message})` };
    }
  }

  supports(prog: Program): string | null {
    return this.spec.supports(prog);
  }

  private async restart(): Promise<void> {
    this.restarts++;
    await this.proc.close();
    this.proc = await OutsideProcess.start(this.binary, this.spec.args ?? [], this.answerTimeoutMs === undefined ? {} : { answerTimeoutMs: this.answerTimeoutMs });
  }

  /**
   * Run cases and return the adapter's raw answers (with the extra outputs `flags` asks for). A case
   * that kills the adapter is re-run on a fresh process with no packet (a crash there is a crash of
   * the load: verdict code -1, stage 'adapter'), then packet by packet (a crash is that packet's
   * result: status 'signal').
   */
  async run(cases: readonly OutsideCase[], flags: BatchFlags = {}): Promise<Answer[]> {
    const out: Answer[] = [];
    let rest = cases;
    while (rest.length > 0) {
      try {
        out.push(...(await this.proc.send(rest.map((c) => ({ flags, program: c.prog, packets: c.packets })))));
        return out;
      } catch (e) {
        if (!(e instanceof AdapterDied)) throw e;
        out.push(...e.answered);
        const bad = rest[e.answered.length]!;
        await this.restart();
        // 128 + N: the adapter caught signal N inside the implementation's load and quit at once
        // (its state may hold a lock), so the crash is that batch's load: no need to pin it again
        // killed by the watchdog: the batch's load did not end (runs have a CPU budget), no need to pin it either
        if (e.hung || (e.status !== null && e.status > 128 && e.status < 192)) out.push(loadCrash(e.message));
        else out.push(await this.isolate(bad, flags, e.message));
        rest = rest.slice(e.answered.length + 1);
      }
    }
    return out;
  }

  private async isolate(c: OutsideCase, flags: BatchFlags, why: string): Promise<Answer> {
    let load: Answer;
    try {
      [load] = (await this.proc.send([{ flags, program: c.prog, packets: [] }])) as [Answer];
    } catch (e) {
      if (!(e instanceof AdapterDied)) throw e;
      await this.restart();
      return loadCrash(e.message);
    }
    if (load.verdict.code !== 0) return load;
    const results: PacketResult[] = [];
    const jit: PacketResult[] = [];
    for (const p of c.packets) {
      try {
        const [a] = (await this.proc.send([{ flags, program: c.prog, packets: [p] }])) as [Answer];
        results.push(a.results[0] ?? { status: 'error', message: 'no result' });
        if (a.jit) jit.push(a.jit.results[0] ?? { status: 'error', message: 'no result' });
      } catch (e) {
        if (!(e instanceof AdapterDied)) throw e;
        await this.restart();
        const crash: PacketResult = { status: 'signal', signal: 0, message: `the adapter died running this packet (${e.message}; first seen as: ${why})` };
        results.push(crash);
        if (flags.jit) jit.push(crash);
      }
    }
    return { ...load, results, ...(load.jit ? { jit: { available: load.jit.available, results: jit } } : {}) };
  }

  async judge(cases: readonly JudgeCase<SkbInput>[]): Promise<readonly JudgeAnswer[]> {
    const answers = await this.run(
      cases.map((c) => ({ prog: c.prog, packets: c.inputs.map(outsidePacket) })),
      this.spec.engine === 'jit' ? { jit: true } : {},
    );
    return answers.map((a) => judgeAnswerOf(this.spec, a));
  }

  close(): Promise<void> {
    return this.proc.close();
  }
}
