// The eBPF-level differential check: random programs over the whole v6.6 interpreter instruction set
// (ALU64/ALU32 with K and X operands, MOVSX, SDIV/SMOD and the off variants, BSWAP/END, JMP/JMP32,
// LD_IMM64, ST/STX/LDX/LDXSX/PROBE loads and atomics on the stack, stray opcodes), run by the model
// (model/ebpf/interp.ts, whose arithmetic is model/ebpf/alu64.ts) and by the BigInt reference of
// ./ref_ebpf.ts; registers R0..R10 and AX, the stack bytes and the fault must agree exactly.
// Used by ./run.ts (fixed seed, part of the mutation command) and test/ebpf/ref.test.ts.
import fc from 'fast-check';
import { EbpfVm, compileEbpf, type EbpfStep } from '../../model/ebpf/interp.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { Memory } from '../../model/ebpf/memory.js';
import { refRun } from './ref_ebpf.js';

const M64 = (1n << 64n) - 1n;
export const STACK_SIZE = 512;
const POISON = 0xcc;
const BUDGET = 1 << 12;

/** 64-bit values at the edges of the u64/s64/u32/s32 ranges, and any u64. */
export const val64 = (): fc.Arbitrary<bigint> =>
  fc.oneof(
    fc.constantFrom(0n, 1n, 2n, 3n, 7n, 31n, 32n, 33n, 63n, 64n, M64, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x100000000n, 0x100000002n, 0x80000000n, 0x7fffffffn),
    fc.constantFrom(0xffffffff80000000n, 0xffffffff7fffffffn, 0x1ffffffffn, 0xffffn, 0x8000n, 0x80n, 0xffffffff00000000n, 0x80000000_00000001n, 0xfffffffen, 0x1_80000000n, 0xffffffff_fffffff9n),
    fc.bigInt({ min: 0n, max: M64 }),
    fc.bigInt({ min: 0n, max: 0xffffffffn }),
    fc.integer({ min: -300, max: 300 }).map((v) => BigInt.asUintN(64, BigInt(v))),
  );

/** s32 immediates at the edges, shift counts and byte-swap widths, and any s32. */
export const imm32 = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.constantFrom(0, 1, -1, 2, -2, 3, 7, 8, 16, 31, 32, 33, 63, 64, 65, 0x7fffffff, -0x80000000, 0x80, 0xff, 0xffff, -0x8000, 0x7fff, 0x10000, -7),
    fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    fc.integer({ min: -100, max: 100 }),
  );

// registers an instruction may name: R0, R3..R9 and AX; R1 and R2 (the region pointers) and R10 (the
// frame pointer) rarely, so that most loads and stores through them stay in their regions (writing
// R10 moves the frame pointer, which the converter never does but the interpreter allows)
const reg = (): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 100, arbitrary: fc.constantFrom(0, 3, 4, 5, 6, 7, 8, 9) },
    { weight: 10, arbitrary: fc.constant(11) },
    { weight: 4, arbitrary: fc.constantFrom(1, 2) },
    { weight: 1, arbitrary: fc.constant(10) },
  );

/** One generated instruction before jump offsets are resolved: `target` in [0, 1) picks a later slot. */
export type Gen = { readonly kind: 'insn'; readonly insn: BpfInsn } | { readonly kind: 'jmp'; readonly insn: BpfInsn; readonly target: number } | { readonly kind: 'lddw'; readonly dst: number; readonly v: bigint };

const insn = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

// ALU operations in BPF_INSN_MAP (NEG has the K form only); 0xe0, 0xf0 and NEG|X come from strayGen
const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0];
// the off field: 0, the MOVSX widths, the SDIV/SMOD selector, and values every switch (OFF) ignores
const aluOff = (): fc.Arbitrary<number> => fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.constantFrom(1, 8, 16, 32) }, { weight: 1, arbitrary: fc.constantFrom(2, 24, -1, 64) });

// DIV and MOD (off 0 unsigned, 1 signed) drawn as often as all other operations together
const divOff = (): fc.Arbitrary<number> => fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constantFrom(2, -1, 8) });
const aluGen = (): fc.Arbitrary<Gen> =>
  fc
    .oneof(
      fc.tuple(fc.constantFrom(...ALU_OPS), aluOff()),
      fc.tuple(fc.constantFrom(0x30, 0x90), divOff()),
    )
    .chain(([op, off]) =>
      fc.tuple(
        fc.constantFrom(0x04, 0x07),
        fc.constant(op),
        fc.boolean(),
        reg(),
        reg(),
        fc.constant(off),
        op === 0x30 || op === 0x90 ? fc.oneof({ weight: 100, arbitrary: imm32().filter((v) => v !== 0) }, { weight: 1, arbitrary: fc.constant(0) }) : imm32(),
      ),
    )
    .map(([cls, op, x, dst, src, off, imm]) => ({ kind: 'insn', insn: insn(cls | op | (x && op !== 0x80 ? 0x08 : 0), dst, src, off, imm) }));

// shifts by the counts at the edges of the two halves (K and X forms; X counts are masked by the C)
const shiftGen = (): fc.Arbitrary<Gen> =>
  fc
    .tuple(fc.constantFrom(0x04, 0x07), fc.constantFrom(0x60, 0x70, 0xc0), fc.boolean(), reg(), fc.constantFrom(0, 1, 8, 16, 31, 32, 33, 48, 63, 64, 95))
    .map(([cls, op, x, dst, n]): Gen =>
      x ? { kind: 'insn', insn: insn(cls | op | 0x08, dst, 11, 0, 0) } : { kind: 'insn', insn: insn(cls | op, dst, 0, 0, n) },
    );

const endGen = (): fc.Arbitrary<Gen> =>
  fc
    .tuple(fc.constantFrom(0xd4, 0xdc, 0xd7), reg(), fc.oneof({ weight: 6, arbitrary: fc.constantFrom(16, 32, 64) }, { weight: 1, arbitrary: fc.constantFrom(0, 8, 48) }))
    .map(([code, dst, imm]) => ({ kind: 'insn', insn: insn(code, dst, 0, 0, imm) }));

const JMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];

const jmpGen = (): fc.Arbitrary<Gen> =>
  fc
    .tuple(fc.constantFrom(0x05, 0x06), fc.constantFrom(...JMP_OPS, 0x00), fc.boolean(), reg(), reg(), imm32(), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }))
    .map(([cls, op, x, dst, src, imm, target]) => ({ kind: 'jmp', insn: insn(cls | op | (op !== 0 && x ? 0x08 : 0), dst, src, 0, imm), target }));

const lddwGen = (): fc.Arbitrary<Gen> => fc.tuple(reg(), val64()).map(([dst, v]) => ({ kind: 'lddw', dst, v }));

// offsets: from R10 mostly inside [-512, -size], sometimes at or past the edges; from R1/R2 (pointers
// to the 'pkt' and 'ro' regions, see DiffRunner) around those; from any other register, anything
const stackOff = (): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 30, arbitrary: fc.integer({ min: -STACK_SIZE, max: -8 }) },
    { weight: 30, arbitrary: fc.integer({ min: -64, max: -8 }) },
    { weight: 1, arbitrary: fc.integer({ min: -STACK_SIZE - 8, max: 8 }) },
  );
const baseAndOff = (): fc.Arbitrary<readonly [number, number]> =>
  fc.oneof(
    { weight: 30, arbitrary: fc.tuple(fc.constant(10), stackOff()) },
    { weight: 10, arbitrary: fc.tuple(fc.constantFrom(1, 2), fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 12 }) }, { weight: 1, arbitrary: fc.integer({ min: -4, max: 36 }) })) },
    { weight: 1, arbitrary: fc.tuple(reg(), fc.integer({ min: -0x8000, max: 0x7fff })) },
  );
const SIZES = [0x00, 0x08, 0x10, 0x18]; // W H B DW

const memGen = (): fc.Arbitrary<Gen> =>
  fc
    .tuple(
      fc.constantFrom('ldx', 'ldxsx', 'probe', 'probesx', 'st', 'stx', 'atomic', 'nospec'),
      fc.constantFrom(...SIZES),
      reg(),
      baseAndOff(),
      imm32(),
      fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1) }, { weight: 1, arbitrary: fc.constantFrom(0xe0, 0xf0, 0x10, 0x02, 0xf3) }),
    )
    .map(([k, sz, r, [base, off], imm, aop]): Gen => {
      switch (k) {
        case 'ldx':
          return { kind: 'insn', insn: insn(0x61 | sz, r, base, off, 0) };
        case 'ldxsx': // no DW form
          return { kind: 'insn', insn: insn(0x81 | (sz === 0x18 ? 0x10 : sz), r, base, off, 0) };
        case 'probe':
          return { kind: 'insn', insn: insn(0x21 | sz, r, base, off, 0) };
        case 'probesx':
          return { kind: 'insn', insn: insn(0x41 | (sz === 0x18 ? 0x08 : sz), r, base, off, 0) };
        case 'st':
          return { kind: 'insn', insn: insn(0x62 | sz, base, 0, off, imm) };
        case 'stx':
          return { kind: 'insn', insn: insn(0x63 | sz, base, r, off, 0) };
        case 'atomic':
          return { kind: 'insn', insn: insn(sz === 0x18 || sz === 0x10 ? 0xdb : 0xc3, base, r, off, aop) }; // W, DW only
        default:
          return { kind: 'insn', insn: insn(0xc2, 0, 0, 0, 0) };
      }
    });

// any opcode byte, mostly ones outside the jumptable (default_label); CALL, CALL_ARGS, TAIL_CALL excluded
const strayGen = (): fc.Arbitrary<Gen> =>
  fc
    .tuple(
      fc.oneof(fc.constantFrom(0x8c, 0x8f, 0xdf, 0xe4, 0xec, 0xf7, 0xff, 0x0d, 0x0e, 0x86, 0x96, 0x99, 0xcb, 0xd3, 0xca, 0xd2, 0x59, 0x00, 0x20, 0x9d), fc.integer({ min: 0, max: 255 })).filter((c) => c !== 0x85 && c !== 0xe5 && c !== 0xf5 && c !== 0x18),
      reg(),
      reg(),
      imm32(),
    )
    .map(([code, dst, src, imm]) => ({ kind: 'insn', insn: insn(code, dst, src, 0, imm) }));

// two 64-bit values whose high halves and low halves order differently (or are equal in one half),
// loaded and compared: each 64-bit and 32-bit comparison then depends on the half it must look at
const cmpGen = (): fc.Arbitrary<Gen[]> =>
  fc
    .tuple(
      fc.constantFrom(0x05, 0x06),
      fc.constantFrom(...JMP_OPS),
      fc.boolean(),
      fc.constantFrom(0, 3, 4, 5, 6, 7, 8, 9),
      fc.constantFrom(0, 3, 4, 5, 6, 7, 8, 9),
      fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xfffffffen),
      fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xfffffffen),
      fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xfffffffen),
      fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xfffffffen),
      imm32(),
      fc.double({ min: 0, max: 0.75, maxExcluded: true, noNaN: true }),
    )
    .map(([cls, op, x, a, b, ah, al, bh, bl, imm, target]): Gen[] => [
      { kind: 'lddw', dst: a, v: (ah << 32n) | al },
      ...(x && a !== b ? [{ kind: 'lddw', dst: b, v: (bh << 32n) | bl } as const] : []),
      { kind: 'jmp', insn: insn(cls | op | (x ? 0x08 : 0), a, b, 0, imm), target },
    ]);

const genInsn = (): fc.Arbitrary<Gen[]> =>
  fc.oneof(
    { weight: 20, arbitrary: cmpGen() },
    { weight: 280, arbitrary: genOne().map((g) => [g]) },
  );

const genOne = (): fc.Arbitrary<Gen> =>
  fc.oneof(
    { weight: 48, arbitrary: aluGen() },
    { weight: 6, arbitrary: shiftGen() },
    { weight: 8, arbitrary: endGen() },
    { weight: 20, arbitrary: jmpGen() },
    { weight: 8, arbitrary: lddwGen() },
    { weight: 24, arbitrary: memGen() },
    { weight: 1, arbitrary: fc.oneof({ weight: 1, arbitrary: strayGen() }, { weight: 3, arbitrary: aluGen() }) },
  );

/** Lay the generated instructions out (LD_IMM64 as two slots), resolve jump targets, end with EXIT. */
export function assembleGen(gens: readonly Gen[]): BpfInsn[] {
  const out: BpfInsn[] = [];
  const starts: number[] = [];
  const pending: { at: number; target: number; is32: boolean }[] = [];
  for (const g of gens) {
    starts.push(out.length);
    if (g.kind === 'lddw') {
      out.push(insn(0x18, g.dst, 0, 0, Number(BigInt.asIntN(32, g.v & 0xffffffffn))));
      out.push(insn(0x00, 0, 0, 0, Number(BigInt.asIntN(32, g.v >> 32n))));
    } else {
      if (g.kind === 'jmp') pending.push({ at: out.length, target: g.target, is32: g.insn.code === 0x06 });
      out.push(g.insn);
    }
  }
  const exit = out.length;
  starts.push(exit);
  out.push(insn(0x95, 0, 0, 0, 0));
  for (const p of pending) {
    // target < 0.75: skip one, two or three instructions (a short skip); else any later instruction
    const later = starts.filter((s) => s > p.at);
    const t = p.target < 0.75 ? later[Math.min(later.length - 1, 1 + Math.floor(p.target * 4))]! : later[Math.floor(((p.target - 0.75) / 0.25) * later.length)]!;
    const j = out[p.at]!;
    const delta = t - p.at - 1;
    out[p.at] = p.is32 ? { ...j, imm: delta } : { ...j, off: delta };
  }
  return out;
}

export interface DiffCase {
  readonly insns: BpfInsn[];
  readonly args: readonly bigint[];
  /** R1 = a pointer into the writable 'pkt' region, R2 = the read-only 'ro' region (see DiffRunner) */
  readonly ptrArgs?: boolean;
}

// R0, R6..R9 and AX start with a value (R1..R5 are the run's arguments), so that few divisors are 0
const prologue = (): fc.Arbitrary<Gen[]> =>
  fc.tuple(val64(), val64(), val64(), val64(), val64(), val64()).map((vs) => [0, 6, 7, 8, 9, 11].map((dst, i): Gen => ({ kind: 'lddw', dst, v: vs[i]! })));

/** A program: LD_IMM64 of interesting values into the registers, then random instructions, then EXIT. */
export const diffCase = (maxLen = 40): fc.Arbitrary<DiffCase> =>
  fc
    .tuple(prologue(), fc.array(genInsn(), { minLength: 4, maxLength: maxLen, size: 'max' }), fc.array(val64(), { minLength: 5, maxLength: 5 }), fc.oneof({ weight: 15, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }))
    .map(([pre, body, args, ptrArgs]) => ({ insns: assembleGen([...pre, ...body.flat()]), args, ptrArgs }));

const PKT = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 5) & 0xff);
const RO = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 - i);

/** One model VM reused for every case: the stack, a writable 'pkt' and a read-only 'ro' region, no helpers. */
export class DiffRunner {
  readonly mem = new Memory(STACK_SIZE);
  readonly vm = new EbpfVm(this.mem, new Map(), { stepBudget: BUDGET, stackPoison: POISON });
  private readonly fp: bigint;
  private readonly pkt = this.mem.addRegion('pkt', 64, true);
  private readonly ro = this.mem.addRegion('ro', 64, false);

  constructor() {
    this.mem.setStackSize(STACK_SIZE);
    this.fp = this.mem.stack.addr(STACK_SIZE);
  }

  /**
   * null when model and reference agree, else what differs: the fault (kind, pc, and for a memory
   * fault the address, size and direction), the executed-step count, R0..R10 and AX, the stack, and
   * with `trace` every step's pc, opcode and registers.
   */
  check(c: DiffCase, trace = false): string | null {
    this.pkt.setBytes(PKT);
    this.ro.setBytes(RO);
    const args = c.ptrArgs === true ? [this.pkt.addr(0), this.ro.addr(0), ...c.args.slice(2)] : c.args;
    const regions = [
      { base: this.pkt.addr(0), bytes: PKT, name: 'pkt' },
      { base: this.ro.addr(0), bytes: RO, name: 'ro', readOnly: true },
    ];
    const ref = refRun(c.insns, { args, fp: this.fp, stackSize: STACK_SIZE, poison: POISON, stepBudget: BUDGET, trace, regions });
    const vm = this.vm;
    const steps: EbpfStep[] | null = trace ? [] : null;
    const got = vm.runArgs(compileEbpf(c.insns), args, STACK_SIZE, steps);
    const f = vm.fault;
    const fault = f?.kind ?? null;
    if (fault !== ref.fault) return `fault ${fault} at ${f?.pc ?? '-'}, reference ${ref.fault} at ${ref.pc}`;
    if (f !== null && f.pc !== ref.pc) return `fault ${fault} at pc ${f.pc}, reference at pc ${ref.pc}`;
    if (f !== null) {
      const a = ref.access;
      if ((f.addr ?? null) !== (a?.addr ?? null) || f.size !== (a?.size ?? 0) || f.write !== (a?.write ?? false) || f.region !== (a?.region ?? null))
        return `fault access ${f.addr?.toString(16)}/${f.size}/${f.write}/${f.region}, reference ${a?.addr.toString(16)}/${a?.size}/${a?.write}/${a?.region}`;
    }
    if (fault === null && got !== Number(ref.regs[0]! & 0xffffffffn)) return `result ${got}, reference R0 0x${ref.regs[0]!.toString(16)}`;
    if (fault !== null && got !== 0) return `result ${got} after a fault`;
    if (vm.steps !== ref.steps) return `steps ${vm.steps}, reference ${ref.steps}`;
    for (let r = 0; r < 12; r++) {
      const m = vm.reg(r);
      if (m !== ref.regs[r]) return `R${r} 0x${m.toString(16)}, reference 0x${ref.regs[r]!.toString(16)}`;
    }
    const st = this.mem.stack.bytes();
    for (let i = 0; i < STACK_SIZE; i++) if (st[i] !== ref.stack[i]) return `stack[${i}] 0x${st[i]!.toString(16)}, reference 0x${ref.stack[i]!.toString(16)}`;
    const pk = this.pkt.bytes();
    if (pk.length !== PKT.length) return `pkt region of ${pk.length} bytes`;
    for (let i = 0; i < PKT.length; i++) if (pk[i] !== ref.regions[0]![i]) return `pkt[${i}] 0x${pk[i]!.toString(16)}, reference 0x${ref.regions[0]![i]!.toString(16)}`;
    const rb = this.ro.bytes();
    for (let i = 0; i < RO.length; i++) if (rb[i] !== RO[i]) return `ro[${i}] written`;
    if (steps !== null) {
      const rt = ref.trace!;
      if (steps.length !== rt.length) return `trace of ${steps.length} steps, reference ${rt.length}`;
      for (let i = 0; i < rt.length; i++) {
        const a = steps[i]!;
        const b = rt[i]!;
        if (a.pc !== b.pc || a.code !== b.code) return `trace step ${i}: pc ${a.pc} code 0x${a.code.toString(16)}, reference pc ${b.pc} code 0x${b.code.toString(16)}`;
        if (a.regs.length !== 24) return `trace step ${i}: ${a.regs.length} register words`;
        for (let r = 0; r < 12; r++) {
          const v = (BigInt(a.regs[2 * r + 1]!) << 32n) | BigInt(a.regs[2 * r]!);
          if (v !== b.regs[r]) return `trace step ${i}: R${r} 0x${v.toString(16)}, reference 0x${b.regs[r]!.toString(16)}`;
        }
      }
    }
    return null;
  }
}

/** Program text for failure reports. */
export const showInsns = (insns: readonly BpfInsn[]): string =>
  insns.map((i, pc) => `${pc}: code 0x${i.code.toString(16)} dst ${i.dst} src ${i.src} off ${i.off} imm ${i.imm}`).join('\n');

const lddw2 = (dst: number, v: bigint): BpfInsn[] => [
  insn(0x18, dst, 0, 0, Number(BigInt.asIntN(32, v & 0xffffffffn))),
  insn(0x00, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
];
const EXIT = insn(0x95, 0, 0, 0, 0);
const NO_ARGS: readonly bigint[] = [0n, 0n, 0n, 0n, 0n];

/**
 * Hand-made programs at the edges random ones reach rarely (the reference gives their expected state):
 * a low-half carry of exactly 0xffffffff, shifts by 32, signed 32-bit division of INT_MIN with R10
 * rewritten (do_div's slow path), 64-bit compares whose halves disagree.
 */
export const EDGE_CASES: readonly DiffCase[] = [
  // add64: low halves summing to exactly 0xffffffff (no carry) and to 0x100000000 (carry)
  { insns: [...lddw2(0, 0x1_fffffffen), insn(0x07, 0, 0, 0, 1), insn(0x0f, 0, 1, 0, 0), EXIT], args: [1n, 0n, 0n, 0n, 0n] },
  // lsh64/rsh64/arsh64 by 32 (K and X)
  { insns: [...lddw2(0, 0x80000001_80000001n), insn(0xc7, 0, 0, 0, 32), ...lddw2(1, 0x80000001_80000001n), insn(0x67, 1, 0, 0, 32), ...lddw2(2, 0x80000001_80000001n), insn(0x77, 2, 0, 0, 32), insn(0xb7, 3, 0, 0, 32), ...lddw2(4, 0x80000001_80000001n), insn(0xcf, 4, 3, 0, 0), EXIT], args: NO_ARGS },
  // sdiv32 / smod32 of INT_MIN by 2 and by INT_MIN after R10's high half was cleared (mov32 r10, r10)
  { insns: [insn(0xbc, 10, 10, 0, 0), insn(0xb4, 0, 0, 0, -0x80000000), insn(0x34, 0, 0, 1, 2), insn(0xb4, 1, 0, 0, -0x80000000), insn(0x94, 1, 0, 1, -0x80000000), insn(0xb4, 2, 0, 0, -0x80000000), insn(0x34, 2, 0, 1, -0x80000000), EXIT], args: NO_ARGS },
  { insns: [insn(0xb4, 0, 0, 0, -0x80000000), insn(0x34, 0, 0, 1, 2), insn(0xb4, 1, 0, 0, -0x80000000), insn(0x94, 1, 0, 1, 3), insn(0xb4, 2, 0, 0, -0x80000000), insn(0x3c, 2, 2, 1, 0), EXIT], args: NO_ARGS },
  // a jump before the first instruction; LD_IMM64 in the last slot (its second slot missing)
  { insns: [insn(0x05, 0, 0, -2, 0), EXIT], args: NO_ARGS },
  { insns: [insn(0xb7, 3, 0, 0, 7), insn(0x18, 3, 0, 0, 9)], args: NO_ARGS },
  // JEQ K on equal low halves and different high halves
  { insns: [...lddw2(1, 0x1_00000005n), insn(0xb7, 0, 0, 0, 0), insn(0x15, 1, 0, 1, 5), insn(0x07, 0, 0, 0, 1), EXIT], args: NO_ARGS },
  // cmpxchg64 whose R0 matches only the low half; atomic add64 whose low halves sum to exactly 0xffffffff
  { insns: [...lddw2(1, 0x1_00000005n), insn(0x7b, 10, 1, -8, 0), insn(0xb7, 0, 0, 0, 5), insn(0xb7, 2, 0, 0, 9), insn(0xdb, 10, 2, -8, 0xf1), insn(0x79, 3, 10, -8, 0), EXIT], args: NO_ARGS },
  { insns: [insn(0xb7, 1, 0, 0, -2), insn(0x77, 1, 0, 0, 32), insn(0x67, 1, 0, 0, 0), ...lddw2(1, 0xfffffffen), insn(0x7b, 10, 1, -8, 0), insn(0xb7, 2, 0, 0, 1), insn(0xdb, 10, 2, -8, 0x00), insn(0x79, 0, 10, -8, 0), EXIT], args: NO_ARGS },
  // 64-bit compares: high halves order one way, low halves the other (unsigned and signed)
  ...[0x25, 0x35, 0xa5, 0xb5, 0x65, 0x75, 0xc5, 0xd5].map((op): DiffCase => ({
    insns: [...lddw2(1, 0x00000001_00000000n), ...lddw2(2, 0xffffffff_00000005n), insn(0xb7, 0, 0, 0, 0), insn(op | 0x08, 1, 2, 1, 0), insn(0x07, 0, 0, 0, 1), insn(op, 2, 0, 1, 5), insn(0x07, 0, 0, 0, 2), insn(op, 1, 0, 1, 5), insn(0x07, 0, 0, 0, 4), EXIT],
    args: NO_ARGS,
  })),
];
