// Findings, one per bug (#15), in the batched campaign (fuzz/batched.ts: kdiff, outside judges):
// each finding has a signature, the summary counts them, maxFindings stops the campaign.
import test from 'ava';
import type { Judge, JudgeAnswer, JudgeCase, SkbInput } from '../../model/judge.js';
import { DEFAULT_CONFIG } from '../../model/kernel.js';
import { variantConfig } from '../../model/variants.js';
import { startBatched, type BatchedOptions } from '../../fuzz/batched.js';
import { CompiledEbpfJudge, type RunJudge } from '../../fuzz/judges.js';

/** A synchronous judge asked asynchronously, answering one higher where the result is >= 2 on an input of 3 bytes or more. */
class OffByOne implements Judge<SkbInput> {
  readonly name = 'off-by-one';
  constructor(readonly inner: RunJudge) {}
  supports(): string | null {
    return null;
  }
  async judge(cases: readonly JudgeCase<SkbInput>[]): Promise<readonly JudgeAnswer[]> {
    await new Promise((r) => setImmediate(r));
    return this.inner.judgeSync(cases).map((a, i) => ({
      ...a,
      results: a.results.map((r, j) => (r.known === 'exact' && r.value >= 2 && cases[i]!.inputs[j]!.skb.data.length >= 3 ? { known: 'exact' as const, value: r.value + 1 } : r)),
    }));
  }
  async close(): Promise<void> {}
}

const opts = (o: Partial<BatchedOptions> = {}): BatchedOptions => ({ seed: 20261202, runs: 1024, timeMs: null, packetsPerProgram: 4, config: DEFAULT_CONFIG, chunkSize: 128, batch: 32, ...o });

test('batched: a judge that is off by one everywhere gives many findings and few signatures; maxFindings 1 stops at the first', async (t) => {
  const lanes = [{ judges: [{ judge: new OffByOne(new CompiledEbpfJudge(DEFAULT_CONFIG)), against: 'kernel' as const }] }];
  const s = await startBatched(opts(), lanes).done;
  t.true(s.findings.length >= 4, `${s.findings.length} findings`);
  t.true(s.signatures.length < s.findings.length, `${s.signatures.length} signatures`);
  t.is(
    s.signatures.reduce((n, e) => n + e.count, 0),
    s.findings.length,
  );
  for (const e of s.signatures) t.regex(e.signature, /^judge-result \| off-by-one vs kernel \| catalogue [^|]+ \| exit at 0x[0-9a-f]{2} ret\.[akx] \| exact answer$/);
  t.false(s.maxFindingsReached);
  const first = await startBatched(opts({ maxFindings: 1 }), lanes).done;
  t.true(first.maxFindingsReached);
  t.is(first.signatures.length, 1);
  t.true(first.stats.cases < s.stats.cases);
});

test('batched: the spec\'s own findings (a variant) get the signature fuzz gives them', async (t) => {
  const config = variantConfig(DEFAULT_CONFIG, 'reciprocal-divide');
  const s = await startBatched(opts({ config, seed: 11, runs: 3072, chunkSize: 256 }), [{ judges: [] }]).done;
  t.true(s.findings.length >= 1);
  t.deepEqual(
    s.signatures.map((e) => e.signature),
    ['equivalence | classic,kernel | catalogue none | 0x34 alu.div.k'],
  );
});
