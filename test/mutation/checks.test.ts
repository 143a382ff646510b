// The hand-checked parts of the mutation command (./run.ts) as ava tests, so CI runs them too: each
// check calls `fail` on the first mismatch (here: throws) and returns how many checks it made.
import test from 'ava';
import { apiChecks } from './api_checks.js';
import { helperEdges } from './helper_edges.js';
import { chargeEdges, conversionShapes, ldAbsLengths, limitEdges, runtimeEdges } from './migrate_edges.js';
import { compareRebind, compareReuse, reusePool } from './reuse.js';
import { EngineRunner } from '../../engine/runner.js';
import { KernelRunner, bpfProgCreate } from '../../model/attach.js';
import { X86_64 } from '../../model/config.js';
import { findShared } from './conformance.js';

const fail = (msg: string): never => {
  throw new Error(msg);
};

for (const [name, check, min] of [
  ['__sk_filter_charge edges, sk_omem_alloc > 0 and the u32 wrap', chargeEdges, 15],
  ['runtime selection without a JIT', runtimeEdges, 4],
  ['conversion limits exactly at the s16 and optmem edges', limitEdges, 6],
  ['bpf_convert_filter jump shapes written out by hand', conversionShapes, 16],
  ['LD ABS/IND expansion lengths on three alignments', ldAbsLengths, 300],
  ['load helpers at the frag ends and on negative offsets, cpu, random, names', helperEdges, 25],
  ['memory, interpreter and skb-image contracts', apiChecks, 100],
] as const) {
  test(name, (t) => {
    const n = check(fail);
    t.true(n >= min, `${n} checks`);
  });
}

test('the reuse comparison fails on a runner that differs', (t) => {
  const pool = reusePool();
  const prog = [
    { code: 0x20, jt: 0, jf: 0, k: 0xfffff008 }, // ld ifindex
    { code: 0x16, jt: 0, jf: 0, k: 0 },
  ];
  const f = bpfProgCreate(prog, X86_64);
  if (!('ok' in f)) return t.fail(f.rule);
  t.true(compareReuse(fail, 'ifindex', f, pool, new KernelRunner(X86_64), new EngineRunner(X86_64, { reuseImages: true })) > 0);
  compareRebind(fail, 'ifindex', f, pool[0]!, pool[1]!, X86_64, new KernelRunner(X86_64), new EngineRunner(X86_64));
  // a big-endian "fresh" runner lays pkt_type out differently: the comparison must notice
  const pk = bpfProgCreate([{ code: 0x20, jt: 0, jf: 0, k: 0xfffff004 }, { code: 0x16, jt: 0, jf: 0, k: 0 }], X86_64);
  if (!('ok' in pk)) return t.fail(pk.rule);
  t.throws(() => compareReuse(fail, 'pkt_type', pk, pool, new KernelRunner({ ...X86_64, littleEndian: false }), new EngineRunner(X86_64, { reuseImages: true })), {
    message: /reuseImages pkt_type/,
  });
});

test('findShared walks up from a directory', (t) => {
  t.is(findShared('no-such-dir-anywhere', '/'), null);
});
