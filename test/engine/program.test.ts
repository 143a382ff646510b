// engine/cbpf/program.ts against the spec: engineDecodeOp == model/cbpf/eval.ts decodeOp on every u16
// code with the values of k at and around each boundary decodeOp knows (0, BPF_MEMWORDS, SKF_AD_OFF and
// every ancillary offset) and random ones; ClassicColumns.load == compileClassic on generated programs,
// and the same RangeError (assertInsn's) for a field outside its C width.
import test from 'ava';
import fc from 'fast-check';
import { ClassicColumns, engineDecodeOp } from '../../engine/cbpf/program.js';
import { campaignArbitrary } from '../../fuzz/campaign.js';
import { compileClassic, decodeOp } from '../../model/cbpf/eval.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';

test('engineDecodeOp == decodeOp on every code, at every boundary of k', (t) => {
  const ks = [0, 1, 2, 15, 16, 17, 255, 0x7fffffff, 0x80000000, 0xffffefff, 0xffffffff];
  for (let x = 0; x < 0x1000; x += 1) ks.push((0xfffff000 + x) >>> 0);
  const rnd = fc.sample(fc.nat({ max: 0xffffffff }), { numRuns: 64, seed: 3 });
  let bad = 0;
  let special = 0;
  for (let code = 0; code < 0x10000; code++) {
    // every ancillary k only for the codes whose op k can change (the rest: the boundaries and random k)
    const plain = decodeOp(code, 1) === decodeOp(code, 0) && decodeOp(code, 1) === decodeOp(code, 16) && decodeOp(code, 1) === decodeOp(code, 0xfffff000);
    const list = plain ? [...ks.slice(0, 11), 0xfffff000, 0xfffff004, ...rnd] : [...ks, ...rnd];
    if (!plain) special++;
    for (const k of list) if (engineDecodeOp(code, k) !== decodeOp(code, k)) bad++;
  }
  t.is(bad, 0);
  t.true(special >= 9, `only ${special} codes whose op depends on k`);
});

test('ClassicColumns.load == compileClassic on campaign programs', (t) => {
  const cols = new ClassicColumns();
  let n = 0;
  for (const c of fc.sample(campaignArbitrary(1, X86_64), { numRuns: 600, seed: 11 })) {
    const prog = 'valid' in c ? c.valid.prog : c.invalid.prog;
    if (prog.length > 4096) continue;
    const want = compileClassic(prog);
    cols.load(prog);
    t.is(cols.len, prog.length);
    t.deepEqual([...cols.ops.subarray(0, cols.len)], [...want.ops]);
    t.deepEqual([...cols.code.subarray(0, cols.len)], [...want.code]);
    t.deepEqual([...cols.k.subarray(0, cols.len)], [...want.k]);
    n++;
  }
  t.true(n > 500);
});

test('ClassicColumns.load throws the RangeError compileClassic throws for a field that does not fit', (t) => {
  const ok: SockFilter = { code: 0x06, jt: 0, jf: 0, k: 0 };
  const bad: SockFilter[] = [
    { ...ok, code: 0x10000 },
    { ...ok, code: -1 },
    { ...ok, code: 1.5 },
    { ...ok, jt: 256 },
    { ...ok, jf: -1 },
    { ...ok, k: 2 ** 32 },
    { ...ok, k: -1 },
    { ...ok, k: Number.NaN },
  ];
  for (const b of bad) {
    const prog = [ok, b, ok];
    const spec = t.throws(() => compileClassic(prog), { instanceOf: RangeError });
    t.throws(() => new ClassicColumns().load(prog), { instanceOf: RangeError, message: spec!.message });
  }
  t.notThrows(() => new ClassicColumns().load([ok, { code: 0xffff, jt: 255, jf: 255, k: 0xffffffff }]));
});
