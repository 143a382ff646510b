// The catalogue's attach prediction (fuzz/divergences.ts predictAttach) skips the count of the
// migrated length when the longest migration a program can have reaches neither limit: the bound it
// uses must hold on every instruction, and the prediction must still be the model's attach verdict.
// And the spec-check sample read from the engine's columns is caseHash of the program.
import test from 'ava';
import { actual, predicted } from './_attach-verdicts.js';
import fc from 'fast-check';
import { bpfCheckClassic } from '../../model/cbpf/check.js';
import { PROFILES, STRICT_ALIGN_64, X86_64, type KernelConfig } from '../../model/kernel.js';
import { ClassicColumns } from '../../engine/cbpf/program.js';
import { ebpfLen, limitProgram, prologueLen, validProgram } from '../../fuzz/arb/index.js';
import { MAX_EBPF_PER_CLASSIC, MAX_EBPF_PROLOGUE } from '../../fuzz/divergences.js';
import { caseHash, caseHashColumns } from '../../fuzz/properties.js';
import type { Program } from '../../model/cbpf/insn.js';
import { campaignArbitrary } from '../../fuzz/campaign.js';

const configs: [string, KernelConfig][] = [
  ['x86-64 v6.6.0', X86_64],
  ['strict alignment', STRICT_ALIGN_64],
  ...[...PROFILES].map(([n, c]): [string, KernelConfig] => [n, c]),
  ['big-endian', { ...X86_64, littleEndian: false }],
];

// the k values ebpfLen's cases turn on: 0, small, s16 edges, the sign bit, the ancillary range, the top
const KS = [
  0, 1, 2, 3, 4, 0x7ffe, 0x7fff, 0x8000, 0x8001, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffff0000, 0xffffefff,
  ...Array.from({ length: 0x44 }, (_, i) => 0xfffff000 + i), 0xfffffffe, 0xffffffff,
];

test('no classic instruction migrates to more than MAX_EBPF_PER_CLASSIC eBPF instructions, nor a prologue to more than MAX_EBPF_PROLOGUE', (t) => {
  let most = 0;
  for (const [name, cfg] of configs) {
    for (let code = 0; code < 0x10000; code++) {
      const ks = code < 0x100 ? KS : [0];
      for (const k of ks)
        for (const [jt, jf] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) {
          const n = ebpfLen({ code, jt, jf, k }, cfg);
          most = Math.max(most, n);
          if (n > MAX_EBPF_PER_CLASSIC) t.fail(`${name}: code ${code.toString(16)} k ${k.toString(16)}: ${n}`);
        }
    }
    t.true(prologueLen([{ code: 0xb1, jt: 0, jf: 0, k: 0 }]) <= MAX_EBPF_PROLOGUE);
  }
  // the bound is the longest one (LDX MSH past the fast path), not a loose one
  t.is(most, MAX_EBPF_PER_CLASSIC);
});


test('the prediction is the model attach verdict on either side of the bound (small optmem_max, short programs)', (t) => {
  // with optmem_max 2048 the bound lets programs of up to 11 instructions skip the count, so that
  // generated programs fall on both sides of it, and past the charge limit
  for (const optmemMax of [1024, 2048, 4096]) {
    const config: KernelConfig = { ...X86_64, optmemMax };
    let exceeded = 0;
    fc.assert(
      fc.property(validProgram({ config }), (prog) => {
        if (bpfCheckClassic(prog) !== null) return true;
        const want = actual(prog, config);
        if (want !== null) exceeded++;
        return predicted(prog, config) === want;
      }),
      { seed: optmemMax, numRuns: 400 },
    );
    t.true(exceeded > 0, `optmem ${optmemMax}: some programs past the charge limit`);
  }
});

test('the prediction is the model attach verdict at the limits of the default records', (t) => {
  for (const cfg of [X86_64, STRICT_ALIGN_64]) {
    for (const kind of ['optmem', 'jump-position', 'ja-offset'] as const)
      for (const delta of [-1, 0, 1]) {
        const prog = limitProgram(kind, delta, 3, cfg);
        t.is(predicted(prog, cfg), actual(prog, cfg), `${kind} ${delta}`);
      }
  }
});

test('caseHashColumns of the loaded columns is caseHash of the program', (t) => {
  const cols = new ClassicColumns();
  const progs = fc.sample(campaignArbitrary(1, X86_64), { seed: 5, numRuns: 3000 }).map((c) => ('valid' in c ? c.valid.prog : c.invalid.prog));
  let n = 0;
  for (const prog of progs) {
    if (prog.length > 4096) continue;
    n++;
    if (caseHashColumns(cols.load(prog)) !== caseHash(prog)) t.fail(`${prog.length} insns`);
  }
  t.true(n > 2000);
  // long ones (the ends only) and the extremes of every field
  const long = Array.from({ length: 1000 }, (_, i) => ({ code: i & 0xffff, jt: i & 0xff, jf: (i * 7) & 0xff, k: (i * 0x9e3779b9) >>> 0 }));
  t.is(caseHashColumns(cols.load(long)), caseHash(long));
  const top = [{ code: 0xffff, jt: 0xff, jf: 0xff, k: 0xffffffff }];
  t.is(caseHashColumns(cols.load(top)), caseHash(top));
});

test('the spec-check sample (caseHash % 64) depends on every bit of the program, not on its low bits alone', (t) => {
  // programs that differ only above the low 6 bits of their fields (a fill of one load at offsets 64
  // apart; a jump's jf and k): each family's share near 1 in 64
  const families: [string, (i: number) => Program][] = [
    ['k above bit 6', (i) => Array.from({ length: 200 }, () => ({ code: 0x20, jt: 0, jf: 0, k: i << 6 })).concat([{ code: 0x06, jt: 0, jf: 0, k: 0 }])],
    ['jf and k above bit 6', (i) => [{ code: 0x15, jt: 0, jf: (i & 3) << 6, k: (i >>> 2) << 6 }, { code: 0x06, jt: 0, jf: 0, k: 0 }]],
  ];
  for (const [name, make] of families) {
    let sampled = 0;
    const n = 64 * 200;
    for (let i = 0; i < n; i++) if (caseHash(make(i)) % 64 === 0) sampled++;
    // 200 expected; binomial sd ~14: [120, 280] holds unless the sample ignores the varied bits
    t.true(sampled >= 120 && sampled <= 280, `${name}: ${sampled} of ${n} sampled`);
  }
});
