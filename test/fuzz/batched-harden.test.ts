// The batched campaign (kdiff) counts the refusals the JIT and constant blinding decide when the
// judge agrees with the kernel path: every -ENOTSUPP by rule, and -ENOMEM charges of blinded clones,
// with those the blinding charge alone decided (the unblinded program fits).
import test from 'ava';
import { LaneSpec, newJudgeStats, type BatchedJudge } from '../../fuzz/batched.js';
import type { CampaignCase } from '../../fuzz/campaign.js';
import { skAttachFilter } from '../../model/attach.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { Judge, JudgeAnswer, SkbInput } from '../../model/judge.js';
import { PROFILE_V6_18, type KernelConfig } from '../../model/kernel.js';
import { ENOMEM } from '../../model/uapi.js';

const ld = (n: number): Program => [...Array.from({ length: n }, () => ({ code: 0x20, jt: 0, jf: 0, k: 1 })), { code: 0x16, jt: 0, jf: 0, k: 0 }];
const lenOf = (p: Program, c: KernelConfig): number => {
  const r = skAttachFilter(p, { ...c, optmemMax: 2 ** 31 - 1 });
  if (!('ok' in r)) throw new Error(r.rule);
  return r.migrated.len;
};
const judge = { name: 'live' } as unknown as Judge<SkbInput>;
const bj: BatchedJudge = { judge, against: 'kernel' };
const refused = (errno: number): JudgeAnswer => ({ verdict: { accepted: false, errno: -errno, message: 'refused' }, results: [] });
const caseOf = (prog: Program): CampaignCase => ({ valid: { prog, inputs: [] } }) as unknown as CampaignCase;

test('agreed -ENOMEM of a blinded clone is counted, and as decided by blinding when the unblinded program fits', (t) => {
  const prog = ld(3);
  const optmem = PROFILE_V6_18.bpfProgHeaderSize + 8 * lenOf(prog, PROFILE_V6_18) + 8;
  const config: KernelConfig = { ...PROFILE_V6_18, optmemMax: optmem, bpfJitHarden: 2 };
  const spec = new LaneSpec(config, { judges: [bj] });
  const stats = newJudgeStats();
  t.is(spec.compare(spec.answer(caseOf(prog)), bj, refused(ENOMEM), stats), null);
  // too large even unblinded: counted as a blinded clone's charge, not as decided by blinding
  t.is(spec.compare(spec.answer(caseOf(ld(40))), bj, refused(ENOMEM), stats), null);
  t.deepEqual(stats.counters, {
    '-ENOMEM charges of blinded clones predicted and confirmed': 2,
    '-ENOMEM charges of blinded clones whose unblinded program fits (the blinding charge decided)': 1,
  });
  // unblinded (harden 0) the same refusal is an ordinary charge: no blinding counter
  const plain = new LaneSpec({ ...config, bpfJitHarden: 0 }, { judges: [bj] });
  const s0 = newJudgeStats();
  t.is(plain.compare(plain.answer(caseOf(ld(40))), bj, refused(ENOMEM), s0), null);
  t.deepEqual(s0.counters, {});
});
