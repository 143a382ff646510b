// The engine's x86-64 JIT sizing (engine/jit/x86.ts) against the model's (model/jit/x86.ts
// bpfIntJitCompile): the same outcome (jited, failure, pass, insn, image length) on migrated classic
// programs of every campaign flavour, on programs aimed at the JIT's jump limits (classic and eBPF),
// under each kernel's JIT facts.
import test from 'ava';
import fc from 'fast-check';
import { EngineJit, fixedBytes, fixedKey } from '../../engine/jit/x86.js';
import { EbpfBuffer } from '../../engine/migrate/convert.js';
import { jitBoundaryEbpf, jitBoundaryProgram } from '../../fuzz/arb/jit-boundary.js';
import { ebpfForJit, IMMS, OFFS, specLayout } from './jit-arb.js';
import { PADDING_FAILURES } from './jit-fixtures.js';
import { validProgram } from '../../fuzz/arb/program.js';
import type { Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { JIT_V6_6_0, JIT_V6_6_Y, JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT, x86JitFacts, type X86JitFacts } from '../../model/jit/facts.js';
import { bpfIntJitCompile, type JitResult } from '../../model/jit/x86.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';

const FACTS: readonly (readonly [string, X86JitFacts])[] = [
  ['v6.6.0', x86JitFacts(JIT_V6_6_0, MACHINE_AMD_EPYC_VM_ROOT)],
  ['v6.6.y', x86JitFacts(JIT_V6_6_Y, MACHINE_AMD_EPYC_VM_ROOT)],
  ['v6.18', x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT)],
  ['v6.18 ibt, retpoline, unprivileged', { ...x86JitFacts(JIT_V6_18, MACHINE_AMD_EPYC_VM_ROOT), ibt: true, returnThunk: true, capSysAdmin: false, bmi2: false }],
];

const buffer = (insns: readonly BpfInsn[]): EbpfBuffer => {
  const b = new EbpfBuffer();
  b.reserve(insns.length);
  for (const x of insns) b.pushInsn(x);
  return b;
};

/** The outcome without the passes (the engine does not record them). */
const outcome = (r: JitResult): unknown => (r.jited ? { jited: true, proglen: r.proglen, jitedLen: r.jitedLen } : { jited: false, reason: r.reason, message: r.message, pass: r.pass, insn: r.insn });

function compare(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, jit: EngineJit, insns: readonly BpfInsn[], stackDepth: number, wasClassic: boolean, facts: X86JitFacts, what: string): JitResult {
  const spec = bpfIntJitCompile({ insns, stackDepth, wasClassic }, facts);
  t.deepEqual(outcome(jit.compile(buffer(insns), stackDepth, wasClassic, facts)), outcome(spec), what);
  jit.compile(buffer(insns), stackDepth, wasClassic, facts, true);
  t.deepEqual(jit.lastLayout(), specLayout(spec, insns.length), `${what}: the last completed pass's layout`);
  return spec;
}

const migrated = (progs: readonly Program[]) =>
  progs.flatMap((p) => {
    const c = bpfConvertFilter(p, X86_64);
    return 'ok' in c ? [c] : [];
  });

for (const [name, facts] of FACTS) {
  test(`engine JIT == model/jit on migrated classic programs (${name})`, (t) => {
    const jit = new EngineJit();
    const progs = [...fc.sample(validProgram({ config: X86_64, weights: { long: 0, limits: 0, jit: 0 } }), { numRuns: 800, seed: 41 }), ...fc.sample(jitBoundaryProgram({ facts }), { numRuns: 200, seed: 42 })];
    let refused = 0;
    for (const c of migrated(progs)) if (!compare(t, jit, c.insns, c.stackDepth, true, facts, name).jited) refused++;
    t.log(`${name}: ${progs.length} programs, ${refused} refused by the JIT`);
  });

  test(`engine JIT == model/jit on eBPF programs aimed at the jump limits (${name})`, (t) => {
    const jit = new EngineJit();
    let refused = 0;
    const progs = fc.sample(jitBoundaryEbpf({ facts }), { numRuns: 250, seed: 43 });
    for (const p of progs) if (!compare(t, jit, p, 32, false, facts, name).jited) refused++;
    t.log(`${name}: ${progs.length} programs, ${refused} refused`);
  });
}

test('the engine JIT refuses what the model refuses, with the same failure (some are refused)', (t) => {
  const facts = FACTS[2]![1];
  const jit = new EngineJit();
  const reasons = new Set<string>();
  for (const c of migrated(fc.sample(jitBoundaryProgram({ facts }), { numRuns: 800, seed: 44 }))) {
    const r = compare(t, jit, c.insns, c.stackDepth, true, facts, 'v6.18');
    if (!r.jited) reasons.add(r.reason);
  }
  t.true(reasons.size > 0, 'no program refused: the comparison saw only successes');
  t.log(`failures seen: ${[...reasons].join(', ')}`);
});

test('a call with imm 0 and an unmodelled instruction: the same failure, the same exception', (t) => {
  const facts = FACTS[2]![1];
  const jit = new EngineJit();
  const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): BpfInsn => ({ code, dst, src, off, imm });
  compare(t, jit, [I(0xb7, 0, 0, 0, 1), I(0x85), I(0x95)], 0, false, facts, 'call 0');
  const bad = [I(0xdb, 1, 2), I(0x95)]; // an atomic: not modelled
  t.throws(() => bpfIntJitCompile({ insns: bad, stackDepth: 0, wasClassic: false }, facts));
  t.throws(() => jit.compile(buffer(bad), 0, false, facts));
});

test('the steps and the per-insn passes: the same outcome, each taken where it should be', (t) => {
  const facts = FACTS[1]![1];
  const jit = new EngineJit();
  const progs: { insns: readonly BpfInsn[]; stackDepth: number }[] = [
    ...migrated([...fc.sample(validProgram({ config: X86_64 }), { numRuns: 400, seed: 51 }), ...fc.sample(jitBoundaryProgram({ facts }), { numRuns: 100, seed: 52 })]),
    ...fc.sample(jitBoundaryEbpf({ facts }), { numRuns: 100, seed: 53 }).map((insns) => ({ insns, stackDepth: 32 })),
    ...fc.sample(ebpfForJit({ backward: true }), { numRuns: 100, seed: 54 }).map((insns) => ({ insns, stackDepth: 0 })),
  ];
  let steps = 0;
  let insns = 0;
  for (const p of progs) {
    const b = buffer(p.insns);
    const byDefault = outcome(jit.compile(b, p.stackDepth, true, facts));
    const path = jit.lastPath;
    // keepLayout takes the per-insn passes
    const perInsn = outcome(jit.compile(b, p.stackDepth, true, facts, true));
    t.is(jit.lastPath, 'insns');
    t.deepEqual(byDefault, perInsn);
    if (path === 'steps') steps++;
    else insns++;
    // a program with a backward jump is left to the per-insn passes
    const backward = p.insns.some((x) => ((x.code & 0x07) === 0x05 || (x.code & 0x07) === 0x06) && (x.code & 0xf0) !== 0x80 && (x.code & 0xf0) !== 0x90 && (x.code === 0x06 ? x.imm : x.off) < -1);
    if (backward) t.is(path, 'insns');
  }
  t.true(steps > 450, `only ${steps} programs by steps`);
  t.true(insns > 0, 'no program took the per-insn passes');
});

for (const [name, facts] of [FACTS[0]!, FACTS[3]!]) {
  test(`engine JIT == model/jit on random eBPF programs, every modelled insn, jumps both ways (${name})`, (t) => {
    const jit = new EngineJit();
    let refused = 0;
    for (const backward of [false, true])
      for (const p of fc.sample(ebpfForJit({ backward, maxLength: 120 }), { numRuns: 300, seed: backward ? 61 : 62 })) if (!compare(t, jit, p, 16, false, facts, name).jited) refused++;
    t.log(`${name}: 600 programs, ${refused} refused`);
  });
}

test('padding failures in pass 15 (jmp-padding, jmp-cond-padding): the engine fails where the model does', (t) => {
  const facts = FACTS[0]![1];
  const jit = new EngineJit();
  const reasons = new Set<string>();
  const progs = PADDING_FAILURES.map((p) => p.map(([code, jt, jf, k]) => ({ code, jt, jf, k })));
  for (const c of migrated(progs)) {
    const r = compare(t, jit, c.insns, c.stackDepth, true, facts, 'v6.6.0');
    t.false(r.jited);
    if (!r.jited) {
      t.is(r.pass, 15);
      reasons.add(r.reason);
    }
  }
  t.deepEqual([...reasons].sort(), ['jmp-cond-padding', 'jmp-padding']);
});

test("the 'jit' flavour's programs aimed at many jump limits: the engine == the model, refusals included", (t) => {
  const facts = FACTS[0]![1];
  const jit = new EngineJit();
  const reasons = new Map<string, number>();
  for (const c of migrated(fc.sample(jitBoundaryProgram({ facts, maxLength: 120, maxAims: 6 }), { numRuns: 300, seed: 7 }))) {
    const r = compare(t, jit, c.insns, c.stackDepth, true, facts, 'v6.6.0');
    const k = r.jited ? 'jited' : r.reason;
    reasons.set(k, (reasons.get(k) ?? 0) + 1);
  }
  t.log([...reasons].map(([k, n]) => `${k} ${n}`).join(', '));
  t.true(reasons.size > 1, 'no program refused');
});

test('the fixed-bytes cache key: two instructions with the same key have the same fixed bytes', (t) => {
  const facts = FACTS[3]![1];
  let same = 0;
  fc.assert(
    fc.property(fc.nat({ max: 255 }), fc.nat({ max: 15 }), fc.nat({ max: 15 }), OFFS, IMMS, OFFS, IMMS, (c, d, r, o1, x1, o2, x2) => {
      if (fixedKey(c, d, r, o1, x1) !== fixedKey(c, d, r, o2, x2)) return;
      same++;
      t.is(fixedBytes(c, d, r, o1, x1, facts), fixedBytes(c, d, r, o2, x2, facts), `code 0x${c.toString(16)} dst ${d} src ${r}: off ${o1}/${o2}, imm ${x1}/${x2}`);
    }),
    { numRuns: 20000, seed: 71 },
  );
  t.true(same > 1000, `only ${same} pairs shared a key`);
});
