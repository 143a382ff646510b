import test from 'ava';
import fc from 'fast-check';
import { decodeProgram, encodeProgram } from '../../model/cbpf/insn.js';
import { seccompInvalidCase, seccompValidCase } from '../../fuzz/seccomp/arb.js';
import { runSeccompCampaign } from '../../fuzz/seccomp/campaign.js';
import { SeccompChecker } from '../../fuzz/seccomp/properties.js';
import { bpfStmt } from '../../model/cbpf/insn.js';

test('a bounded seccomp campaign (4,000 cases, seed 1): no finding, every shape and rule reached, the cache marks numbers', async (t) => {
  const r = await runSeccompCampaign({ seed: 1, runs: 4000, timeMs: null, workers: 1, inputsPerCase: 4, chunkSize: 256 });
  t.deepEqual(r.findings.map((f) => f.finding.detail), []);
  t.is(r.stats.cases, 4000);
  for (const s of ['rules', 'bst', 'random']) t.true((r.stats.shapes[s] ?? 0) > 0, s);
  for (const rule of ['seccomp-load-out-of-range', 'seccomp-load-misaligned', 'seccomp-code-not-allowed', 'shift-k-too-large', 'last-not-ret']) t.true((r.stats.rules[rule] ?? 0) > 0, rule);
  t.true(r.stats.cacheMarked > 0);
  t.true(r.stats.cacheChecks > 0);
  for (const a of ['allow', 'errno', 'kill_process', 'kill_thread', 'trap']) t.true((r.stats.actions[a] ?? 0) > 0, a);
});

test('the same seed gives the same campaign, with one or two workers', async (t) => {
  const a = await runSeccompCampaign({ seed: 7, runs: 600, timeMs: null, workers: 1, inputsPerCase: 2, chunkSize: 100 });
  const b = await runSeccompCampaign({ seed: 7, runs: 600, timeMs: null, workers: 2, inputsPerCase: 2, chunkSize: 100 });
  t.deepEqual(a.stats, b.stats);
});

test('the checker finds what it must: a wrong rule, an accepted invalid filter, a rejected valid stack', (t) => {
  const c = new SeccompChecker();
  t.like(c.checkInvalid({ prog: [bpfStmt(0x28, 0), bpfStmt(0x06, 0)], rule: 'seccomp-load-misaligned', pc: 0 }), { property: 'wrong-rule' });
  t.like(c.checkInvalid({ prog: [bpfStmt(0x06, 0)], rule: 'last-not-ret', pc: 0 }), { property: 'invalid-accepted' });
  t.like(c.attach([[bpfStmt(0x28, 0), bpfStmt(0x06, 0)]]), { property: 'valid-rejected' });
});

test('generated filters round-trip through their image, and every invalid case names its rule', (t) => {
  fc.assert(
    fc.property(seccompValidCase(1), (c) => {
      for (const f of c.filters) {
        const back = decodeProgram(encodeProgram(f.prog));
        if (!back.ok) return false;
        if (JSON.stringify(back.prog) !== JSON.stringify(f.prog.map((i) => ({ code: i.code, jt: i.jt, jf: i.jf, k: i.k >>> 0 })))) return false;
      }
      return true;
    }),
    { seed: 3, numRuns: 300 },
  );
  fc.assert(fc.property(seccompInvalidCase(), (c) => c.rule.length > 0 && c.pc >= 0 && c.pc < c.prog.length), { seed: 4, numRuns: 300 });
  t.pass();
});
