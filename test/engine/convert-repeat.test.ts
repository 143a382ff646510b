// The converter's repeats (engine/migrate/convert.ts repeat: a run of equal classic insns copies the
// expansion before it) and the JIT walk that reads them (engine/jit/x86.ts steps, EbpfBuffer.reps):
// on programs with runs (the campaign's long flavour, and short runs with jumps into and over them)
// and without, the converter with repeats == the converter insn by insn (instructions, map, fixes,
// plain, helpers, stack) == the spec's bpfConvertFilter, every recorded repeat holds, and the JIT on
// the buffer with its repeats == the JIT on the same instructions without them == model/jit.
import test from 'ava';
import fc from 'fast-check';
import { ALLOWED_CODES } from '../../model/cbpf/check.js';
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { X86_64, type KernelConfig } from '../../model/kernel.js';
import { variantConfig } from '../../model/variants.js';
import { JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT, x86JitFacts, type X86JitFacts } from '../../model/jit/facts.js';
import { bpfIntJitCompile, type JitResult } from '../../model/jit/x86.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { ClassicColumns } from '../../engine/cbpf/program.js';
import { EngineJit } from '../../engine/jit/x86.js';
import { EbpfBuffer, EngineConverter } from '../../engine/migrate/convert.js';
import { validProgram } from '../../fuzz/arb/program.js';

const FACTS: readonly (readonly [string, X86JitFacts])[] = [
  ['v6.6.0', X86_64.x86Jit!],
  ['v6.18 ibt, retpoline, unprivileged', { ...x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT), ibt: true, returnThunk: true, capSysAdmin: false, bmi2: false }],
];

const outcome = (r: JitResult): unknown => (r.jited ? { jited: true, proglen: r.proglen, jitedLen: r.jitedLen } : { jited: false, reason: r.reason, message: r.message, pass: r.pass, insn: r.insn });

/** Classic programs of runs: each insn repeated 1..rep times; jumps forward (into runs, over them) and the final RET. */
const runsProgram = (maxRep: number): fc.Arbitrary<SockFilter[]> =>
  fc
    .tuple(
      fc.array(
        fc.tuple(
          fc.record({
            code: fc.oneof(fc.constantFrom(...ALLOWED_CODES), fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x02, 0x60, 0x07, 0x87, 0x3c, 0x15, 0x05)),
            jt: fc.nat(12),
            jf: fc.nat(12),
            k: fc.oneof(fc.nat(20), fc.constantFrom(0xfffff000, 0xfffff004, 0xfffff00c, 0xfffff030, 0xfffff03c, 0x7fff, 0x8000, 0x12345, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
          }),
          fc.integer({ min: 1, max: maxRep }),
        ),
        { minLength: 1, maxLength: 30 },
      ),
      fc.nat(0xffff),
    )
    .map(([runs, ret]) => {
      const prog: SockFilter[] = [];
      for (const [x, rep] of runs) for (let i = 0; i < rep; i++) prog.push(x.code === 0x05 ? { ...x, k: x.k % 16 } : x);
      prog.push({ code: 0x06, jt: 0, jf: 0, k: ret });
      return prog;
    });

/** the first insn of `b` that differs from `want` (or -1 when all are equal and as many) */
function firstDiff(b: EbpfBuffer, want: readonly BpfInsn[]): number {
  const n = Math.min(b.len, want.length);
  for (let i = 0; i < n; i++) {
    const w = want[i]!;
    if (b.code[i] !== w.code || b.dst[i] !== w.dst || b.src[i] !== w.src || b.off[i] !== w.off || b.imm[i] !== w.imm) return i;
  }
  return b.len === want.length ? -1 : n;
}

const sameInts = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (x: number, i: number) => x === b[i]);

interface Compared {
  readonly converted: boolean;
  readonly repeats: number;
}

/** Convert with and without repeats, against the spec; then the JIT with and without them, against the model. */
function compare(
  t: { deepEqual(a: unknown, b: unknown, m?: string): void; is(a: unknown, b: unknown, m?: string): void; true(a: boolean, m?: string): void },
  prog: Program,
  config: KernelConfig,
  fast: EngineConverter,
  slow: EngineConverter,
  cols: ClassicColumns,
  jit: EngineJit,
  model: boolean,
): Compared {
  cols.load(prog);
  const want = bpfConvertFilter(prog, config);
  const a = fast.bpfConvertFilter(cols);
  const b = slow.bpfConvertFilter(cols);
  t.deepEqual(a, b, 'verdict with repeats == insn by insn');
  if ('errno' in want) {
    t.deepEqual(a, want, 'verdict == spec');
    return { converted: false, repeats: 0 };
  }
  t.is(a, null, 'accepted as the spec');
  const o = fast.out;
  t.is(firstDiff(o, want.insns), -1, 'instructions == spec (the first that differs)');
  t.is(firstDiff(slow.out, want.insns), -1, 'insn by insn == spec (the first that differs)');
  t.true(sameInts(fast.map(), want.map), 'map == spec');
  t.true(sameInts(fast.fixes.subarray(0, fast.nfix), slow.fixes.subarray(0, slow.nfix)), 'fixes');
  t.deepEqual([fast.plain, fast.helperMask, fast.maxLoadWord, fast.stackDepth, fast.seenLdAbs], [slow.plain, slow.helperMask, slow.maxLoadWord, slow.stackDepth, slow.seenLdAbs], 'plain, helpers, stack');
  t.is(slow.out.nrep, 0, 'insn by insn records no repeat');
  // every repeat holds: insn e == insn e - period on [start, end), ascending, within the program
  let last = 0;
  for (let r = 0; r < o.nrep; r++) {
    const [s, e, n] = [o.reps[3 * r]!, o.reps[3 * r + 1]!, o.reps[3 * r + 2]!];
    t.true(s >= last && s >= n && n > 0 && e > s && e <= o.len && (e - s) % n === 0, `repeat ${r} in order`);
    for (let x = s; x < e; x++)
      if (o.code[x] !== o.code[x - n] || o.dst[x] !== o.dst[x - n] || o.src[x] !== o.src[x - n] || o.off[x] !== o.off[x - n] || o.imm[x] !== o.imm[x - n]) return void t.true(false, `repeat ${r}: insn ${x} differs`), { converted: true, repeats: o.nrep };
    last = e;
  }
  const plainBuf = new EbpfBuffer();
  plainBuf.reserve(o.len);
  for (const x of want.insns) plainBuf.pushInsn(x);
  for (const [name, facts] of FACTS) {
    const withReps = outcome(jit.compile(o, want.stackDepth, true, facts));
    const without = outcome(jit.compile(plainBuf, want.stackDepth, true, facts));
    t.deepEqual(withReps, without, `${name}: JIT with repeats == without`);
    if (model) t.deepEqual(withReps, outcome(bpfIntJitCompile({ insns: want.insns, stackDepth: want.stackDepth, wasClassic: true }, facts)), `${name}: JIT == model/jit`);
  }
  return { converted: true, repeats: o.nrep };
}

const CONFIGS: readonly (readonly [string, KernelConfig])[] = [
  ['x86-64', X86_64],
  ['div-x-no-zero-guard', variantConfig(X86_64, 'div-x-no-zero-guard')],
  ['ld-abs-s16-offset', variantConfig(X86_64, 'ld-abs-s16-offset')],
];

for (const [name, config] of CONFIGS) {
  const fast = new EngineConverter(config);
  const slow = new EngineConverter(config);
  slow.repeats = false;
  const cols = new ClassicColumns();
  const jit = new EngineJit();

  test(`repeats on short runs with jumps into and over them == insn by insn == spec (${name})`, (t) => {
    let converted = 0;
    let repeats = 0;
    for (const prog of fc.sample(runsProgram(6), { numRuns: 600, seed: 71 })) {
      const r = compare(t, prog, config, fast, slow, cols, jit, true);
      if (r.converted) converted++;
      repeats += r.repeats;
    }
    t.true(converted > 100 && repeats > 300, `only ${converted} converted, ${repeats} repeats`);
  });

  test(`repeats on the campaign's long programs (runs of one gene) == insn by insn == spec (${name})`, (t) => {
    let converted = 0;
    let repeats = 0;
    const progs = fc.sample(validProgram({ config, weights: { short: 0, medium: 0, realistic: 0, long: 1, limits: 0, jit: 0 } }), { numRuns: 30, seed: 72 });
    progs.forEach((prog, i) => {
      const r = compare(t, prog, config, fast, slow, cols, jit, i < 10);
      if (r.converted) converted++;
      repeats += r.repeats;
    });
    t.true(converted > 10 && repeats > 50, `only ${converted} converted, ${repeats} repeats`);
  });

  test(`programs without runs: no repeat recorded, the same as insn by insn (${name})`, (t) => {
    let none = 0;
    for (const prog of fc.sample(validProgram({ config, weights: { long: 0 } }), { numRuns: 300, seed: 73 })) {
      const distinct = prog.every((x, i) => i === 0 || x.code !== prog[i - 1]!.code || x.k !== prog[i - 1]!.k);
      const r = compare(t, prog, config, fast, slow, cols, jit, true);
      if (distinct) {
        t.is(r.repeats, 0, 'a program without runs records no repeat');
        none++;
      }
    }
    t.true(none > 100, `only ${none} programs without runs`);
  });
}
