// fuzz/judges.ts KernelJudge.load runs model/attach.ts skAttachFilter as its two steps (__getFilter,
// then __skAttachProg) so that a program the charge refuses keeps its migration: the verdicts must be
// skAttachFilter's, and migration() must be what bpfMigrateFilter makes of the program.
import test from 'ava';
import fc from 'fast-check';
import { skAttachFilter } from '../../model/attach.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { bpfMigrateFilter } from '../../model/migrate/convert.js';
import { validProgram } from '../../fuzz/arb/index.js';
import { KernelJudge } from '../../fuzz/judges.js';

/** `ldh [12]` n times, then `ret a`: each load's expansion is long, so a few hundred exceed optmem_max */
const loads = (n: number): SockFilter[] => [...Array.from({ length: n }, () => ({ code: 0x28, jt: 0, jf: 0, k: 12 })), { code: 0x16, jt: 0, jf: 0, k: 0 }];

test('KernelJudge.load: a program the charge refuses gives skAttachFilter\'s rejection and keeps bpfMigrateFilter\'s migration', (t) => {
  const prog = loads(600);
  const want = skAttachFilter(prog, X86_64);
  t.true('errno' in want && want.stage === 'charge', 'the program is one the charge refuses');
  const j = new KernelJudge(X86_64);
  t.deepEqual(j.load(prog), want);
  const m = j.migration();
  t.not(m, undefined);
  t.deepEqual(m, bpfMigrateFilter(prog, X86_64));
  // and the next load forgets it
  t.is(j.load([{ code: 0x06, jt: 0, jf: 0, k: 0 }]), null);
  t.deepEqual(j.migration(), bpfMigrateFilter([{ code: 0x06, jt: 0, jf: 0, k: 0 }], X86_64));
  t.not(j.load([{ code: 0x05, jt: 0, jf: 0, k: 5 }, { code: 0x06, jt: 0, jf: 0, k: 0 }]), null);
  t.is(j.migration(), undefined, 'a program the checker refuses has no migration');
});

test('KernelJudge.load equals skAttachFilter on generated programs (short to limits), and migration() is the migration or its rejection', (t) => {
  const j = new KernelJudge(X86_64);
  let charge = 0;
  fc.assert(
    fc.property(validProgram({ weights: { short: 4, medium: 2, realistic: 2, long: 1, limits: 3, jit: 0 } }), (prog) => {
      const want = skAttachFilter(prog, X86_64);
      const got = j.load(prog);
      if ('ok' in want) {
        if (got !== null) return false;
        return JSON.stringify(j.migration()) === JSON.stringify(want.migrated);
      }
      if (JSON.stringify(got) !== JSON.stringify(want)) return false;
      const m = j.migration();
      if (want.stage === 'charge') {
        charge++;
        return m !== undefined && 'ok' in m && m.len === (bpfMigrateFilter(prog, X86_64) as { len: number }).len;
      }
      if (want.stage === 'convert' || want.stage === 'runtime') return JSON.stringify(m) === JSON.stringify(want);
      return m === undefined;
    }),
    { numRuns: 120, seed: 11 },
  );
  t.true(charge > 0, 'some programs are refused by the charge');
});
