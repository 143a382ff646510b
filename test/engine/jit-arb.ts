// Random eBPF programs for the JIT's comparison (test/engine/jit.test.ts): every instruction do_jit's
// model covers, with fields drawn across the classes the engine's fixed-bytes cache keys on (imm and
// off near 0, 1, 8, 16, 32, 64, the imm8 limits and beyond), and jumps of every kind forward and
// backward (targets inside the program), so that jumps trade their short and near forms.
import fc from 'fast-check';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import type { JitResult } from '../../model/jit/x86.js';

/** the fixed instructions of the model: ALU and ALU64 (K and X), loads, stores, nospec, calls */
const FIXED: readonly number[] = [
  ...[0x04, 0x07].flatMap((cls) => [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0].flatMap((op) => [cls | op, cls | op | 0x08])),
  0xd4, 0xdc, 0xd7, // BPF_END: to_le, to_be (ALU), bswap (ALU64)
  0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, // LDX MEM, MEMSX
  0x62, 0x6a, 0x72, 0x7a, 0xc2, // ST MEM, NOSPEC
  0x63, 0x6b, 0x73, 0x7b, // STX MEM
  0x85, // call
];
/** conditional jumps (JMP and JMP32, K and X) */
const COND: readonly number[] = [0x05, 0x06].flatMap((cls) => [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0].flatMap((op) => [cls | op, cls | op | 0x08]));
/** imm values across the classes the fixed-bytes cache keys on */
export const IMMS = fc.oneof(
  fc.constantFrom(0, 1, 2, 8, 16, 32, 64, 127, 128, -1, -128, -129, 0x7fffffff, -0x80000000, 0xffff),
  fc.integer({ min: -200, max: 200 }),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);
/** off values across the classes the fixed-bytes cache keys on */
export const OFFS = fc.oneof(fc.constantFrom(0, 1, 8, 16, 32, 127, 128, -128, -129, 0x7fff, -0x8000), fc.integer({ min: -200, max: 200 }), fc.integer({ min: -0x8000, max: 0x7fff }));

/** One gene: a fixed insn, a conditional jump, a JA (JMP or JMP32), an exit; `t` picks the target. */
const gene = fc.record({
  kind: fc.constantFrom('fixed', 'fixed', 'fixed', 'fixed', 'cond', 'cond', 'ja', 'exit'),
  code: fc.nat(),
  dst: fc.nat({ max: 10 }),
  src: fc.nat({ max: 10 }),
  off: OFFS,
  imm: IMMS,
  t: fc.double({ min: 0, max: 1, noNaN: true }),
  back: fc.boolean(),
});

/** eBPF programs of 1..maxLength instructions and an exit; backward jumps with `backward`. */
export function ebpfForJit(opts: { readonly maxLength?: number; readonly backward?: boolean } = {}): fc.Arbitrary<BpfInsn[]> {
  return fc.array(gene, { minLength: 1, maxLength: opts.maxLength ?? 60 }).map((genes) => {
    const len = genes.length + 1;
    const prog: BpfInsn[] = genes.map((g, k): BpfInsn => {
      const i = k + 1;
      // a target in [i, len] forward, or [0, i - 1] backward
      const target = opts.backward === true && g.back && i > 1 ? Math.floor(g.t * i) : i + Math.floor(g.t * (len - i + 1));
      const rel = Math.min(target, len) - i;
      switch (g.kind) {
        case 'fixed': {
          const code = FIXED[g.code % FIXED.length]!;
          let off = g.off;
          if (code === 0xbf) off = [0, 8, 16, 32][g.code % 4]!; // ALU64 MOV X: movsx widths only
          if ((code & 0xf7) === 0x34 || (code & 0xf7) === 0x94) off = g.code % 2; // DIV/MOD: udiv, sdiv
          const imm = code === 0xd4 || code === 0xdc || code === 0xd7 ? [16, 32, 64][g.code % 3]! : code === 0x85 && g.imm === 0 && g.code % 8 !== 0 ? 1 : g.imm;
          return { code, dst: g.dst, src: code === 0x85 ? 0 : g.src, off, imm };
        }
        case 'cond':
          return { code: COND[g.code % COND.length]!, dst: g.dst, src: g.src, off: rel, imm: g.imm };
        case 'ja':
          return g.code % 4 === 0 ? { code: 0x06, dst: 0, src: 0, off: 0, imm: rel } : { code: 0x05, dst: 0, src: 0, off: rel, imm: 0 };
        default:
          return { code: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
      }
    });
    prog.push({ code: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
    return prog;
  });
}

/** The addrs[] of the model's last completed pass (as fuzz/arb/jit-boundary.ts lays programs out), or null. */
export function specLayout(r: JitResult, n: number): Int32Array | null {
  const last = [...r.passes].reverse().find((p) => p.proglen > 0);
  if (last === undefined) return null;
  const addrs = new Int32Array(n + 1);
  addrs[0] = last.prologue;
  for (let i = 0; i < n; i++) addrs[i + 1] = addrs[i]! + last.lengths[i]!;
  return addrs;
}
