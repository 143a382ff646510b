// limitsProgram (fuzz/arb/program.ts) puts half of its programs exactly on a conversion edge: the
// last s16 jump offset that fits (+32767 for a JA, -32768 in the first fixed-point iteration, both
// net/core/filter.c:706-711) and the longest program __sk_filter_charge accepts (F:1232), or one past.
// The delta of each drawn program is recovered with the generators' count mirror (ebpf-size.ts).
import test from 'ava';
import fc from 'fast-check';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { convertedLen, ebpfLen, limitsProgram, optmemFitMax, prologueLen } from '../../fuzz/arb/index.js';

type Kind = 'ja-offset' | 'jump-position' | 'optmem';

// which limit a program is at, and its delta (see limitProgram's doc comment)
function classify(p: readonly SockFilter[]): [Kind, number] {
  if (p[0]!.code === 0x05) {
    // ja N over the fill: off = eBPF length of the fill = 32768 + delta
    let fill = 0;
    for (const i of p.slice(1, -1)) fill += ebpfLen(i);
    return ['ja-offset', fill - 32768];
  }
  if (p.length >= 2 && p[p.length - 2]!.code === 0x15) {
    // eBPF index of the jeq = prologue + fill = 32768 + delta
    let at = prologueLen(p);
    for (const i of p.slice(0, -2)) at += ebpfLen(i);
    return ['jump-position', at - 32768];
  }
  return ['optmem', convertedLen(p) - (optmemFitMax() + 1)];
}

test('limitsProgram: deltas stay in -8..8 and every kind lands on both sides of its edge', (t) => {
  const seen = new Map<string, number>();
  for (const p of fc.sample(limitsProgram(), { seed: 42, numRuns: 150 })) {
    const [kind, delta] = classify(p);
    t.true(delta >= -8 && delta <= 8, `${kind} delta ${delta}`);
    const key = `${kind} ${delta}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  for (const kind of ['ja-offset', 'jump-position', 'optmem'] as const)
    for (const delta of [-1, 0]) t.true((seen.get(`${kind} ${delta}`) ?? 0) >= 8, `${kind} delta ${delta}: ${seen.get(`${kind} ${delta}`) ?? 0} draws`);
  // and not only the edges
  t.true([...seen.keys()].filter((k) => !/ (-1|0)$/.test(k)).length >= 6);
});

test('convertedLen equals the prologue plus ebpfLen of every instruction, on any codes and operands', (t) => {
  // convertedLen takes most codes' lengths from a table by code; ebpfLen is the definition
  const insn = fc.record({
    code: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x15, 0x1d, 0x45, 0x4d), fc.integer({ min: 256, max: 0xffff })),
    jt: fc.integer({ min: 0, max: 255 }),
    jf: fc.integer({ min: 0, max: 255 }),
    k: fc.oneof(fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 1, 0x7fff, 0x8000, 0x7fffffff, 0x80000000, 0xfffff000, 0xfffff004, 0xfffff038, 0xffffffff)),
  });
  fc.assert(
    fc.property(fc.array(insn, { maxLength: 40 }), (prog) => {
      let want = prologueLen(prog);
      for (const i of prog) want += ebpfLen(i);
      t.is(convertedLen(prog), want);
    }),
    { seed: 11, numRuns: 400 },
  );
});
