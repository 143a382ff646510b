// The engine's checker, converter and attach path (engine/cbpf/check.ts, engine/migrate/convert.ts)
// against the spec (model/attach.ts bpfCheckFilter, skAttachFilter): the same verdict and the same
// eBPF instructions, stack depth and seen_ld_abs, on valid, invalid, limit-sized and raw programs.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { bpfCheckFilter, skAttachFilter } from '../../model/attach.js';
import type { Program } from '../../model/cbpf/insn.js';
import { ALLOWED_CODES } from '../../model/cbpf/check.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { STRICT_ALIGN_64, X86_64, type KernelConfig } from '../../model/kernel.js';
import { variantConfig } from '../../model/variants.js';
import { EngineChecker } from '../../engine/cbpf/check.js';
import { ClassicColumns } from '../../engine/cbpf/program.js';
import { EngineConverter } from '../../engine/migrate/convert.js';
import { invalidProgram, limitProgram, validProgram } from '../../fuzz/arb/index.js';

const CONFIGS: readonly (readonly [string, KernelConfig])[] = [
  ['x86-64', X86_64],
  ['strict-align', STRICT_ALIGN_64],
  ['div-x-no-zero-guard', variantConfig(X86_64, 'div-x-no-zero-guard')],
  ['ld-abs-s16-offset', variantConfig(X86_64, 'ld-abs-s16-offset')],
  ['shift-k-unchecked', variantConfig(X86_64, 'shift-k-unchecked')],
  ['no-check-load-and-stores', variantConfig(X86_64, 'no-check-load-and-stores')],
];

function same(t: { deepEqual(a: unknown, b: unknown, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, prog: Program, config: KernelConfig, checker: EngineChecker, conv: EngineConverter, cols: ClassicColumns): void {
  cols.load(prog);
  const spec = bpfCheckFilter(prog, config);
  const eng = checker.check(cols, config);
  t.deepEqual(eng, spec, 'checker verdict');
  if (spec !== null) return;
  const want = skAttachFilter(prog, config);
  const got = conv.attach(cols);
  if (!('ok' in want)) {
    t.deepEqual(got, want, 'attach verdict');
    return;
  }
  if ('errno' in got) return void t.deepEqual(got, null, `engine rejected: ${got.rule}`);
  t.deepEqual(got.insns.toInsns(), want.migrated.converted.insns, 'migrated program');
  t.is(got.stackDepth, want.migrated.converted.stackDepth);
  t.is(got.stackSize, want.migrated.stackSize);
  t.is(got.seenLdAbs, want.migrated.converted.seenLdAbs);
  t.deepEqual(conv.map(), want.migrated.converted.map, 'where each classic insn expands');
}

for (const [name, config] of CONFIGS) {
  const checker = new EngineChecker();
  const conv = new EngineConverter(config);
  const cols = new ClassicColumns();
  testProp(`engine attach == spec on valid programs (${name})`, [validProgram({ config })], (t, prog) => same(t, prog, config, checker, conv, cols), { numRuns: 400 });
  testProp(`engine attach == spec on invalid programs (${name})`, [invalidProgram({ config })], (t, inv) => same(t, inv.prog, config, checker, conv, cols), { numRuns: 300 });
}

const rawInsn = fc.record({
  code: fc.oneof(fc.constantFrom(...ALLOWED_CODES), fc.integer({ min: 0, max: 0xffff })),
  jt: fc.nat(8),
  jf: fc.nat(8),
  k: fc.oneof(fc.nat(20), fc.constantFrom(0xfffff000, 0xfffff004, 0xfffff03c, 0xfff00000, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
});
const checker = new EngineChecker();
const conv = new EngineConverter(X86_64);
const cols = new ClassicColumns();

testProp('engine checker == spec on raw instruction sequences', [fc.array(rawInsn, { minLength: 0, maxLength: 24 })], (t, prog) => same(t, prog, X86_64, checker, conv, cols), { numRuns: 2000 });

testProp(
  'engine converter == bpfConvertFilter on unchecked raw sequences (the converter alone)',
  [fc.array(rawInsn, { minLength: 1, maxLength: 24 })],
  (t, prog) => {
    cols.load(prog);
    const want = bpfConvertFilter(prog, X86_64);
    const r = conv.bpfConvertFilter(cols);
    if ('errno' in want) return void t.deepEqual(r, want);
    t.is(r, null);
    t.deepEqual(conv.out.toInsns(), want.insns);
  },
  { numRuns: 2000 },
);

test('limit programs: the s16 jump quirks and the charge, exactly as the spec', (t) => {
  let n = 0;
  for (const kind of ['ja-offset', 'jump-position', 'optmem'] as const)
    for (const delta of [-3, -2, -1, 0, 1, 2, 3])
      for (const seed of [1, 2, 3, 4]) {
        same(t, limitProgram(kind, delta, seed), X86_64, checker, conv, cols);
        n++;
      }
  t.is(n, 84);
});
