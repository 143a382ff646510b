// Tests for model/ebpf/jit.ts, eBPF programs compiled to JS. The compiled run must leave what the
// interpreter (model/ebpf/interp.ts) leaves: the result, every register, and the fault (kind, pc).
// Differential with fast-check on raw eBPF programs and on migrated classic programs, plus hand
// cases with values worked out from kernel/bpf/core.c (C:N) ___bpf_prog_run.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { KernelRunner, skAttachFilter } from '../../model/attach.js';
import { EngineRunner } from '../../engine/runner.js';
import { X86_64 } from '../../model/config.js';
import {
  BPF_DW,
  BPF_JNE,
  type BpfInsn,
  bpfAlu32Imm,
  bpfAlu64Imm,
  bpfAlu64Reg,
  bpfEmitCall,
  bpfExitInsn,
  bpfJmpA,
  bpfJmpImm,
  bpfLdImm64,
  bpfLdxMem,
  bpfMov64Imm,
  bpfRawInsn,
  bpfStxMem,
} from '../../model/ebpf/insn.js';
import { compileEbpfColumns, EbpfEngineVm, type HelperCall } from '../../engine/ebpf/interp.js';
import { compileEbpfJs, compileEbpfProgramJs, EbpfJitVm, ebpfJsSource, insnsKey, JIT_CACHE_LIMIT, MAX_LABELS } from '../../engine/ebpf/jit.js';
import { Memory } from '../../model/ebpf/memory.js';
import * as U from '../../model/uapi.js';
import { fuzzCase } from '../../fuzz/arb/index.js';

const helpers = new Map<number, HelperCall>([
  [1, (regs) => { regs[0] = (regs[4]! + regs[8]!) >>> 0; regs[1] = 7; return null; }], // prettier-ignore
]);

/** Run on both engines with fresh state; return [interp, jit] outcomes. */
function both(insns: readonly BpfInsn[], stack = 64): { i: unknown; j: unknown; supported: boolean } {
  const mi = new Memory();
  const mj = new Memory();
  const vm = new EbpfEngineVm(mi, helpers);
  const jit = new EbpfJitVm(mj, helpers);
  const ctx = { hi: 0, lo: 0 };
  const ri = vm.run(compileEbpfColumns(insns), ctx.hi, ctx.lo, stack);
  const p = compileEbpfJs(insns);
  const rj = jit.run(p, ctx.hi, ctx.lo, stack);
  const f = (x: typeof vm.fault) => (x === null ? null : { kind: x.kind, pc: x.pc, detail: x.detail, addr: x.addr });
  return {
    i: { r: ri, regs: Array.from(vm.regs.subarray(0, 24)), fault: f(vm.fault), stack: Array.from(mi.stack.bytes()) },
    j: { r: rj, regs: Array.from(jit.regs.subarray(0, 24)), fault: f(jit.fault), stack: Array.from(mj.stack.bytes()) },
    supported: p.supported,
  };
}

test('ALU64 and ALU32 arithmetic: r0 = ((5 + 3) * 7) - 1 = 55; 32-bit ops zero the high word (C:1736)', (t) => {
  const prog = [bpfMov64Imm(0, 5), bpfAlu64Imm(U.BPF_ADD, 0, 3), bpfAlu64Imm(U.BPF_MUL, 0, 7), bpfAlu64Imm(U.BPF_SUB, 0, 1), bpfExitInsn()];
  const jit = new EbpfJitVm(new Memory());
  t.is(jit.run(compileEbpfJs(prog), 0, 0, 32), 55);
  t.is(jit.fault, null);
  const neg = [bpfMov64Imm(0, -1), bpfAlu32Imm(U.BPF_ADD, 0, 0), bpfExitInsn()];
  t.is(jit.run(compileEbpfJs(neg), 0, 0, 32), 0xffffffff);
  t.is(jit.regs[1], 0); // (u32) DST + IMM zero-extends
});

test('stack store and load through FP, and ld_imm64 (C:2070 LDST)', (t) => {
  const [a, b] = bpfLdImm64(1, 0x1122334455667788n);
  const prog = [a, b, bpfStxMem(BPF_DW, 10, 1, -8), bpfLdxMem(U.BPF_W, 0, 10, -4), bpfExitInsn()];
  const r = both(prog);
  t.deepEqual(r.j, r.i);
  t.is((r.j as { r: number }).r, 0x11223344); // high half of the little-endian u64 at FP-8
});

test('faults are the interpreter\'s: div by zero, unmapped load, falling off, missing ld_imm64 slot, unknown helper', (t) => {
  const cases: BpfInsn[][] = [
    [bpfMov64Imm(0, 1), bpfMov64Imm(1, 0), bpfAlu64Reg(U.BPF_DIV, 0, 1), bpfExitInsn()],
    [bpfMov64Imm(1, 0), bpfLdxMem(U.BPF_W, 0, 1, 0), bpfExitInsn()],
    [bpfMov64Imm(0, 1)],
    [bpfLdImm64(0, 1n)[0]],
    [bpfEmitCall(99), bpfExitInsn()],
    [bpfMov64Imm(0, 1), bpfJmpA(5), bpfExitInsn()],
    [bpfMov64Imm(0, 1), bpfStxMem(U.BPF_W, 10, 0, -128), bpfExitInsn()],
  ];
  for (const prog of cases) {
    const r = both(prog, 64);
    t.true(r.supported);
    t.deepEqual(r.j, r.i);
    t.not((r.j as { fault: unknown }).fault, null);
  }
});

test('helper calls read R2..R4 and write R0 through the table', (t) => {
  const prog = [bpfMov64Imm(2, 40), bpfMov64Imm(4, 2), bpfEmitCall(1), bpfExitInsn()];
  const r = both(prog);
  t.deepEqual(r.j, r.i);
  t.is((r.j as { r: number }).r, 42);
});

test('unsupported programs (backward jump, atomics, bad register) run on the interpreter', (t) => {
  const loop = [bpfMov64Imm(0, 3), bpfAlu64Imm(U.BPF_SUB, 0, 1), bpfJmpImm(BPF_JNE, 0, 0, -2), bpfExitInsn()];
  const p = compileEbpfJs(loop);
  t.false(p.supported);
  t.regex(p.reason, /backward jump/);
  t.deepEqual(both(loop).j, both(loop).i);
  const atomic = [bpfMov64Imm(0, 1), bpfRawInsn(0xdb, 10, 0, -8, 0), bpfExitInsn()];
  t.false(compileEbpfJs(atomic).supported);
  t.deepEqual(both(atomic).j, both(atomic).i);
  const badReg = [bpfRawInsn(0xb7, 12, 0, 0, 1), bpfExitInsn()];
  t.false(compileEbpfJs(badReg).supported);
  const [lo, hi] = bpfLdImm64(0, 5n);
  const intoSlot = [bpfJmpA(1), lo, hi, bpfExitInsn()];
  t.regex((ebpfJsSource(compileEbpfColumns(intoSlot)) as { reason: string }).reason, /second slot/);
});

test('the cache returns the same compiled program for the same instructions, and empties when full', (t) => {
  const prog = [bpfMov64Imm(0, 0x5a5a0000), bpfExitInsn()];
  const a = compileEbpfJs(prog);
  t.is(compileEbpfJs([...prog]), a);
  t.is(insnsKey([bpfExitInsn()]), '149,0,0,0,0;');
  for (let i = 1; i <= JIT_CACHE_LIMIT; i++) compileEbpfJs([bpfMov64Imm(0, 0x5a5a0000 + i), bpfExitInsn()]);
  t.not(compileEbpfJs(prog), a);
});

test('programs with more than MAX_LABELS jump targets use the dispatch loop', (t) => {
  const n = MAX_LABELS + 4;
  const prog: BpfInsn[] = [bpfMov64Imm(0, 0)];
  for (let i = 0; i < n; i++) prog.push(bpfJmpImm(U.BPF_JEQ, 0, i, 0), bpfAlu64Imm(U.BPF_ADD, 0, 1));
  prog.push(bpfJmpImm(U.BPF_JEQ, 0, n, 100), bpfExitInsn());
  const p = compileEbpfProgramJs(compileEbpfColumns(prog));
  t.true(p.source.includes('switch (pc)'));
  const r = both(prog.slice(0, -2).concat([bpfExitInsn()]));
  t.deepEqual(r.j, r.i);
  t.is((r.j as { r: number }).r, n);
  const out = both(prog);
  t.deepEqual(out.j, out.i);
  t.is((out.j as { fault: { kind: string } }).fault.kind, 'pc-out-of-range');
});

// Raw programs: forward-only, every ALU/JMP/JMP32/LDX/STX/ST opcode the JIT compiles, registers
// R0..R10 (R10 = FP, so stack accesses hit), ending in EXIT.
const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0];
const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const reg = fc.nat(10);
const imm = fc.oneof(fc.integer({ min: -70, max: 70 }), fc.constantFrom(16, 32, 64, 0x7fffffff, -0x80000000), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
const off = fc.oneof(fc.constantFrom(0, 1, 8, 16, 32, -1), fc.integer({ min: -64, max: 8 }));
const rawInsn = fc.oneof(
  fc.tuple(fc.constantFrom(0x04, 0x07), fc.constantFrom(...ALU_OPS), fc.boolean(), reg, reg, off, imm).map(([cls, op, x, d, s, o, i]) => bpfRawInsn(cls | op | (x ? 8 : 0), d === 10 ? 0 : d, s, o, i)),
  fc.tuple(fc.constantFrom(0x05, 0x06), fc.constantFrom(...JMP_OPS), fc.boolean(), reg, reg, fc.nat(4), imm).map(([cls, op, x, d, s, o, i]) => bpfRawInsn(cls | op | (x ? 8 : 0), d, s, o, i)),
  fc.tuple(fc.constantFrom(0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91), reg, fc.integer({ min: -72, max: 4 })).map(([c, d, o]) => bpfRawInsn(c, d === 10 ? 0 : d, 10, o, 0)),
  fc.tuple(fc.constantFrom(0x63, 0x6b, 0x73, 0x7b, 0x62, 0x6a, 0x72, 0x7a), reg, fc.integer({ min: -72, max: 4 }), imm).map(([c, s, o, i]) => bpfRawInsn(c, 10, s, o, i)),
  fc.tuple(fc.constantFrom(0x05, 0x06), fc.nat(3)).map(([c, o]) => (c === 0x05 ? bpfRawInsn(c, 0, 0, o, 0) : bpfRawInsn(c, 0, 0, 0, o))),
  fc.constantFrom(bpfRawInsn(0xc2, 0, 0, 0, 0), bpfEmitCall(1)),
);
testProp(
  'compiled == interpreter on raw forward-only programs (result, registers, stack, fault)',
  [fc.array(rawInsn, { minLength: 1, maxLength: 24 }), fc.boolean()],
  (t, body, exit) => {
    const prog = exit ? [...body, bpfExitInsn()] : body;
    const r = both(prog, 64);
    t.deepEqual(r.j, r.i);
  },
  { numRuns: 1500 },
);

testProp(
  'engine interpreter == compiled == the spec (KernelRunner.run) on migrated classic programs and skbs',
  [fuzzCase({ packetsPerProgram: 3 })],
  (t, c) => {
    const f = skAttachFilter(c.prog, X86_64);
    if (!('ok' in f)) return void t.pass();
    const runner = new EngineRunner(X86_64);
    const spec = new KernelRunner(X86_64);
    for (const input of c.inputs) {
      const want = spec.run(f, input.skb, input.env);
      const wantFault = spec.fault;
      const a = runner.run(f, input.skb, input.env);
      t.is(a, want);
      t.deepEqual(runner.fault, wantFault);
      const b = runner.runCompiled(f, input.skb, input.env);
      t.is(b, want);
      t.deepEqual(runner.compiledFault, wantFault);
    }
  },
  { numRuns: 300 },
);
