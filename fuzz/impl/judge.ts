// An outside implementation as a judge of the batched campaign (`bpfspec fuzz --judges classic,libpcap`,
// fuzz/batched.ts): it answers like any judge, and settles its own differences from the spec through
// its catalogue (fuzz/impl/<name>.ts) and, for DPDK, the conversion and JIT checks (CaseChecker):
// a catalogued difference is counted under its entry id (JudgeStats.explained), anything else is a
// mismatch the campaign shrinks and reports.
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import type { JudgeAnswer, JudgeCase, SkbInput } from '../../model/judge.js';
import type { CataloguedJudge, JudgeStats } from '../batched.js';
import { CaseChecker, type ImplJudgeLike } from './campaign.js';
import type { ImplName } from './catalogue.js';
import { engineRun, implJudgeAnswer, type ImplRun } from './compare.js';

export class CataloguedOutsideJudge implements CataloguedJudge {
  readonly checker: CaseChecker;
  /** per answer given: the adapter's raw answer and how many packets it was asked about */
  private readonly raw = new WeakMap<JudgeAnswer, { run: ImplRun; sent: number }>();

  constructor(
    readonly inner: ImplJudgeLike & { close(): Promise<void> },
    readonly impl: ImplName,
    config: KernelConfig,
  ) {
    this.checker = new CaseChecker(impl, config);
  }

  get name(): string {
    return this.impl;
  }

  supports(prog: Program): string | null {
    return this.inner.supports(prog);
  }

  async judge(cases: readonly JudgeCase<SkbInput>[]): Promise<readonly JudgeAnswer[]> {
    const runs = await this.inner.run(
      cases.map((c) => ({ prog: c.prog, packets: c.inputs.map((i) => ({ data: i.skb.data, headlen: i.skb.headlen })) })),
      this.checker.flags,
    );
    return runs.map((r, i) => {
      const a = implJudgeAnswer(engineRun(r, this.checker.engines[0]!));
      this.raw.set(a, { run: r, sent: cases[i]!.inputs.length });
      return a;
    });
  }

  catalogueCheck(
    prog: Program,
    inputs: readonly SkbInput[],
    answer: JudgeAnswer,
    stats: JudgeStats | null,
  ): { kind: 'verdict' | 'result'; message: string; input: number | null } | { explained: string } | null {
    const given = this.raw.get(answer);
    if (given === undefined) return { kind: 'verdict', message: `${this.impl}: an answer this judge did not give`, input: null };
    const { run } = given;
    const primary = this.checker.comparators[0]!;
    const before = { ...primary.stats.differences };
    const agreed = primary.stats.agreed;
    const pairs = primary.stats.pairs;
    // the campaign asks about no packet where the spec judge refuses the program (Linux's limits)
    const f = this.checker.check({ prog, inputs: inputs.slice(0, given.sent) }, run, stats !== null);
    const explained: string[] = [];
    for (const [k, v] of Object.entries(primary.stats.differences)) if (v - (before[k] ?? 0) > 0) explained.push(k);
    if (stats !== null) {
      stats.pairs += primary.stats.pairs - pairs;
      stats.exact += primary.stats.agreed - agreed;
      for (const k of explained) stats.explained[k] = (stats.explained[k] ?? 0) + primary.stats.differences[k]! - (before[k] ?? 0);
    }
    if (f === null) return explained.length > 0 ? { explained: explained.join('+') } : null;
    return { kind: f.input === null ? 'verdict' : 'result', message: `${f.message}${f.predicted !== null ? ` [catalogue prediction ${f.predicted}]` : ''}`, input: f.input };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
