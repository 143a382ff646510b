// Generators of seccomp filters and seccomp_data. Valid filters are built in the shapes real tools
// emit (libseccomp: arch check, x32 guard, nr dispatch, 64-bit argument comparisons on the two halves;
// systemd: several architectures, an allow list and a default errno; Docker: default errno, allow list,
// masked flag tests; Chromium: a binary-search tree of numbers) and as random programs in seccomp's
// allowed set; invalid ones each break one named rule of seccomp_check_filter or bpf_check_classic.
// Each is decoded from one array of u32 (a genome), so fast-check draws, replays and shrinks one value.
import fc from 'fast-check';
import { bpfJump, bpfStmt, type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { type SeccompData, seccompData } from '../../model/seccomp/data.js';
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
  X32_SYSCALL_BIT,
} from '../../model/seccomp/uapi.js';

const LD_W_ABS = 0x20;
const JEQ = 0x15;
const JGE = 0x35;
const JGT = 0x25;
const JSET = 0x45;
const RET_K = 0x06;
const RET_A = 0x16;
const AND_K = 0x54;

/** A reader of the genome: each draw takes the next word (0 past the end). */
class Genome {
  private i = 0;
  constructor(private readonly g: readonly number[]) {}
  u32(): number {
    return (this.g[this.i++] ?? 0) >>> 0;
  }
  below(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  get done(): boolean {
    return this.i >= this.g.length;
  }
}

export const ARCH_VALUES: readonly number[] = [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64];

/** An action value with data bits, as filters use them (and now and then any u32). */
function action(g: Genome): number {
  const d = g.u32() & 0xffff;
  switch (g.below(12)) {
    case 0:
    case 1:
    case 2:
      return SECCOMP_RET_ALLOW;
    case 3:
    case 4:
      return (SECCOMP_RET_ERRNO | (g.below(3) === 0 ? d : g.below(134))) >>> 0;
    case 5:
      return (SECCOMP_RET_TRAP | d) >>> 0;
    case 6:
      return SECCOMP_RET_KILL_PROCESS >>> 0;
    case 7:
      return SECCOMP_RET_KILL_THREAD;
    case 8:
      return (SECCOMP_RET_LOG | (g.below(2) * d)) >>> 0;
    case 9:
      return (SECCOMP_RET_TRACE | d) >>> 0;
    case 10:
      return (SECCOMP_RET_USER_NOTIF | d) >>> 0;
    default:
      return g.u32();
  }
}

const ld = (k: number): SockFilter => bpfStmt(LD_W_ABS, k);
const ret = (k: number): SockFilter => bpfStmt(RET_K, k);
const argLo = (i: number): number => 16 + 8 * i;
const argHi = (i: number): number => 20 + 8 * i;

/** A comparison of one 64-bit argument as libseccomp emits it: the high half, then the low half (with a mask for JSET-like tests). */
function argCheck(g: Genome, consts: number[]): { insns: (SockFilter | { jump: number; code: number; k: number; t: 'next' | 'true'; f: 'next' | 'false' })[] } {
  const i = g.below(6);
  const hi = g.below(4) === 0 ? g.u32() : 0;
  const lo = g.below(3) === 0 ? g.u32() : g.below(64);
  consts.push(hi, lo);
  const op = g.below(4);
  if (op === 0) {
    // ==: hi == HI && lo == LO
    return {
      insns: [ld(argHi(i)), { jump: 1, code: JEQ, k: hi, t: 'next', f: 'false' }, ld(argLo(i)), { jump: 1, code: JEQ, k: lo, t: 'true', f: 'false' }],
    };
  }
  if (op === 1) {
    // masked ==: (lo & M) == V with hi == 0
    const m = g.u32() | 1;
    consts.push(m);
    return { insns: [ld(argHi(i)), { jump: 1, code: JEQ, k: 0, t: 'next', f: 'false' }, ld(argLo(i)), bpfStmt(AND_K, m), { jump: 1, code: JEQ, k: lo & m, t: 'true', f: 'false' }] };
  }
  if (op === 2) {
    // >=: hi > HI, or hi == HI and lo >= LO
    return { insns: [ld(argHi(i)), { jump: 1, code: JGT, k: hi, t: 'true', f: 'next' }, { jump: 1, code: JEQ, k: hi, t: 'next', f: 'false' }, ld(argLo(i)), { jump: 1, code: JGE, k: lo, t: 'true', f: 'false' }] };
  }
  // bit test on the low half
  return { insns: [ld(argLo(i)), { jump: 1, code: JSET, k: lo | 1, t: 'true', f: 'false' }] };
}

type Pending = SockFilter | { jump: 1; code: number; k: number; t: 'next' | 'true'; f: 'next' | 'false' };

/**
 * A libseccomp/systemd/Docker-shaped filter: per architecture an arch check, the x32 guard on x86-64,
 * then for each rule `ld nr; jeq NR` and optional argument checks leading to the rule's action;
 * finally the default action. Jumps longer than 255 are avoided by keeping rule blocks short and
 * chaining (each rule falls through to the next when it does not match).
 */
export function ruleListFilter(g: Genome, consts: number[]): Program {
  const out: SockFilter[] = [];
  const archs = g.below(4) === 0 ? [AUDIT_ARCH_X86_64, AUDIT_ARCH_I386] : [g.pick(ARCH_VALUES)];
  const deflt = g.pick([(SECCOMP_RET_ERRNO | 1) >>> 0, SECCOMP_RET_KILL_PROCESS >>> 0, SECCOMP_RET_KILL_THREAD, (SECCOMP_RET_ERRNO | 38) >>> 0, SECCOMP_RET_ALLOW, (SECCOMP_RET_TRAP | 1) >>> 0]);
  const badArch = g.pick([SECCOMP_RET_KILL_PROCESS >>> 0, SECCOMP_RET_KILL_THREAD, (SECCOMP_RET_ERRNO | 1) >>> 0, SECCOMP_RET_ALLOW]);
  // Emit per arch: [ld arch; jeq A, 0, skip-block] then the block ending in ret default.
  for (const arch of archs) {
    consts.push(arch);
    const block: SockFilter[] = [];
    block.push(ld(0));
    if (arch === AUDIT_ARCH_X86_64 && g.below(2) === 0) {
      // libseccomp's x32 guard: nr >= X32_SYSCALL_BIT -> bad arch action
      block.push(bpfJump(JGE, X32_SYSCALL_BIT, 0, 1), ret(badArch));
    }
    const nrules = 1 + g.below(12);
    for (let r = 0; r < nrules; r++) {
      const nr = g.below(4) === 0 ? g.u32() & 0x1ff : g.below(335);
      consts.push(nr);
      const act = action(g);
      const nargs = g.below(3) === 0 ? 1 + g.below(2) : 0;
      const checks = Array.from({ length: nargs }, () => argCheck(g, consts).insns as Pending[]);
      // layout: [jeq nr, 0, SKIP] checks... ret act, ld nr   (SKIP and every failed check go to `ld nr`)
      const starts: number[] = [];
      let p = 0;
      for (const c of checks) {
        starts.push(p);
        p += c.length;
      }
      const retPos = p;
      const reloadPos = p + 1;
      const resolved: SockFilter[] = [];
      const body: SockFilter[] = [];
      checks.forEach((c, ci) =>
        c.forEach((it, j) => {
          const x = starts[ci]! + j;
          if (!('jump' in it)) {
            resolved.push(it);
            return;
          }
          const next = ci + 1 < checks.length ? starts[ci + 1]! : retPos;
          const tTarget = it.t === 'next' ? x + 1 : next;
          const fTarget = it.f === 'next' ? x + 1 : reloadPos;
          resolved.push(bpfJump(it.code, it.k, tTarget - x - 1, fTarget - x - 1));
        }),
      );
      body.push(bpfJump(JEQ, nr, 0, resolved.length + 1), ...resolved, ret(act), ld(0));
      if (body.some((i) => i.jt > 255 || i.jf > 255)) continue;
      block.push(...body);
    }
    block.push(ret(deflt));
    out.push(ld(4), bpfJump(JEQ, arch, 0, block.length), ...block);
  }
  out.push(ret(badArch));
  if (out.some((i) => i.jt > 255 || i.jf > 255)) return [ld(4), bpfJump(JEQ, archs[0]!, 0, 1), ret(SECCOMP_RET_ALLOW), ret(badArch)];
  return out;
}

/** A Chromium-shaped filter: arch check, then a binary-search tree of numbers (jge/jgt) with leaves of actions. */
export function bstFilter(g: Genome, consts: number[]): Program {
  const arch = g.pick(ARCH_VALUES);
  consts.push(arch);
  const n = 2 + g.below(40);
  const nrs = [...new Set(Array.from({ length: n }, () => g.below(460)))].sort((a, b) => a - b);
  const acts = nrs.map(() => action(g));
  const deflt = action(g);
  nrs.forEach((x) => consts.push(x));
  // build recursively: emit code for range [lo, hi) of nrs; returns instructions
  const tree = (lo: number, hi: number): SockFilter[] => {
    if (hi - lo <= 2) {
      const out: SockFilter[] = [];
      for (let i = lo; i < hi; i++) out.push(bpfJump(JEQ, nrs[i]!, 0, 1), ret(acts[i]!));
      out.push(ret(deflt));
      return out;
    }
    const mid = (lo + hi) >> 1;
    const left = tree(lo, mid);
    const right = tree(mid, hi);
    if (left.length > 255) return [...tree(lo, lo + 2), ...[]];
    return [bpfJump(JGE, nrs[mid]!, left.length, 0), ...left, ...right];
  };
  const body = tree(0, nrs.length);
  if (body.some((i) => i.jt > 255 || i.jf > 255)) return [ld(4), bpfJump(JEQ, arch, 1, 0), ret(SECCOMP_RET_KILL_PROCESS >>> 0), ld(0), ...tree(0, 2)];
  return [ld(4), bpfJump(JEQ, arch, 1, 0), ret(g.pick([SECCOMP_RET_KILL_PROCESS >>> 0, (SECCOMP_RET_TRAP | 2) >>> 0])), ld(0), ...body];
}

/** The 38 codes seccomp lets through (plus the three it rewrites), with an operand class each. */
const RANDOM_CODES = [0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x54, 0x5c, 0x44, 0x4c, 0xa4, 0xac, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x00, 0x01, 0x07, 0x87, 0x60, 0x61, 0x02, 0x03, 0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d, 0x20, 0x20, 0x20, 0x80, 0x81, 0x06, 0x16];

/**
 * A random program in seccomp's allowed set, valid by construction: loads at aligned offsets below
 * 64, shifts below 32, DIV K non-zero, forward jumps in range, every scratch cell read only after a
 * straight-line store (stores are emitted at the start), a RET last.
 */
export function randomFilter(g: Genome, consts: number[]): Program {
  const len = 1 + g.below(g.below(8) === 0 ? 200 : 24);
  const out: SockFilter[] = [];
  const stored = new Set<number>();
  const nst = g.below(3);
  for (let i = 0; i < nst; i++) {
    const cell = g.below(16);
    stored.add(cell);
    out.push(bpfStmt(g.below(2) === 0 ? 0x02 : 0x03, cell));
  }
  while (out.length < len) {
    const pc = out.length;
    const code = g.pick(RANDOM_CODES);
    const remaining = len - pc - 1; // instructions after this one before the final RET
    let k = g.below(3) === 0 ? g.u32() : g.below(4) === 0 ? g.pick(consts.length > 0 ? consts : [0]) : g.below(64);
    switch (code) {
      case 0x20:
        k = 4 * g.below(16);
        break;
      case 0x34:
        k = k === 0 ? 1 : k;
        break;
      case 0x64:
      case 0x74:
        k &= 31;
        break;
      case 0x60:
      case 0x61: {
        if (stored.size === 0) continue;
        k = [...stored][g.below(stored.size)]!;
        break;
      }
      case 0x02:
      case 0x03:
        continue; // stores only in the prologue (keeps every read after a write on all paths)
      case 0x05:
        if (remaining <= 0) continue;
        k = g.below(remaining);
        break;
      case 0x06:
        k = action(g);
        break;
      default:
        break;
    }
    if (code >= 0x15 && code <= 0x4d && (code & 7) === 5 && code !== 0x05) {
      if (remaining <= 0) continue;
      out.push(bpfJump(code, k, g.below(Math.min(remaining, 256)), g.below(Math.min(remaining, 256))));
      continue;
    }
    out.push(bpfStmt(code, k));
  }
  out.push(g.below(3) === 0 ? bpfStmt(RET_A, 0) : ret(action(g)));
  return out;
}

/** A valid filter of one of the shapes, with the constants it compares against (for data generation). */
export interface SeccompFilterCase {
  /** the generator's shape, or 'real' for a filter a tool made (corpus/real-filters/seccomp) */
  readonly shape: 'rules' | 'bst' | 'random' | 'real';
  readonly prog: Program;
  readonly consts: readonly number[];
}

export function decodeFilter(genome: readonly number[]): SeccompFilterCase {
  const g = new Genome(genome);
  const consts: number[] = [];
  const s = g.below(10);
  if (s < 4) return { shape: 'rules', prog: ruleListFilter(g, consts), consts };
  if (s < 6) return { shape: 'bst', prog: bstFilter(g, consts), consts };
  return { shape: 'random', prog: randomFilter(g, consts), consts };
}

/** seccomp_data near a filter's constants: arch and nr from them or random, argument halves likewise. */
export function decodeData(genome: readonly number[], consts: readonly number[]): SeccompData {
  const g = new Genome(genome);
  const c = (): number => (consts.length > 0 && g.below(3) !== 0 ? g.pick(consts) : g.below(2) === 0 ? g.below(512) : g.u32());
  const arch = g.below(5) === 0 ? g.u32() : g.below(3) === 0 ? g.pick(ARCH_VALUES) : (consts.find((x) => ARCH_VALUES.includes(x)) ?? AUDIT_ARCH_X86_64);
  const nr = g.below(8) === 0 ? (c() | X32_SYSCALL_BIT) >>> 0 : c();
  const half = (): number => (g.below(2) === 0 ? 0 : c());
  const args = Array.from({ length: 6 }, () => (BigInt(half()) << 32n) | BigInt(c()));
  const ip = (BigInt(half()) << 32n) | BigInt(c());
  return seccompData(nr | 0, arch, args, ip);
}

const genome = (max: number): fc.Arbitrary<number[]> => fc.array(fc.nat({ max: 0xffffffff }), { minLength: 0, maxLength: max });

/** One valid case: a stack of 1..3 filters (index 0 the most recent) and the seccomp_data it runs on. */
export interface SeccompValidCase {
  readonly filters: readonly SeccompFilterCase[];
  readonly inputs: readonly SeccompData[];
}

export function seccompValidCase(inputsPerCase = 4): fc.Arbitrary<SeccompValidCase> {
  return fc
    .record({
      filters: fc.array(genome(400), { minLength: 1, maxLength: 3 }),
      inputs: fc.array(genome(24), { minLength: 1, maxLength: inputsPerCase }),
    })
    .map(({ filters, inputs }) => {
      const fs = filters.map(decodeFilter);
      const consts = fs.flatMap((f) => f.consts);
      return { filters: fs, inputs: inputs.map((d) => decodeData(d, consts)) };
    });
}

/** The rule an invalid case breaks, and where the model must say it fails. */
export interface SeccompInvalidCase {
  readonly prog: Program;
  readonly rule: string;
  readonly pc: number;
}

/**
 * A valid filter with one rule broken at one pc. Seccomp's own rules (a load outside or misaligned in
 * seccomp_data, a code bpf_check_classic allows and seccomp does not) and, to pin the order of the two
 * checkers, a classic rule placed after a seccomp violation (bpf_check_classic runs to the end first).
 */
export function seccompInvalidCase(): fc.Arbitrary<SeccompInvalidCase> {
  return fc.record({ base: genome(200), inj: genome(8) }).map(({ base, inj }) => {
    const prog = [...decodeFilter(base).prog];
    const g = new Genome(inj);
    const at = g.below(prog.length); // before the final RET
    const kind = g.below(5);
    if (kind === 0) {
      const k = g.below(2) === 0 ? 64 + 4 * g.below(0x3ffffbf0) : (0xfffff000 + 4 * g.below(16)) >>> 0;
      prog.splice(at, 0, bpfStmt(LD_W_ABS, k));
      return fixJumps(prog, at, 'seccomp-load-out-of-range');
    }
    if (kind === 1) {
      const k = 4 * g.below(16) + 1 + g.below(3);
      prog.splice(at, 0, bpfStmt(LD_W_ABS, k));
      return fixJumps(prog, at, 'seccomp-load-misaligned');
    }
    if (kind === 2) {
      const code = g.pick([0x28, 0x30, 0x40, 0x48, 0x50, 0xb1, 0x94, 0x9c]);
      prog.splice(at, 0, bpfStmt(code, code === 0x94 ? 1 + g.below(100) : g.below(64)));
      return fixJumps(prog, at, 'seccomp-code-not-allowed');
    }
    if (kind === 3) {
      // a seccomp violation first, then a classic one later: bpf_check_classic's wins
      prog.splice(at, 0, bpfStmt(0x28, 0));
      const r = fixJumps(prog, at, 'seccomp-code-not-allowed');
      const p2 = [...r.prog];
      const at2 = at + 1 + g.below(p2.length - at - 1);
      p2.splice(at2, 0, bpfStmt(0x64, 32 + g.below(100)));
      return fixJumps(p2, at2, 'shift-k-too-large');
    }
    // the last instruction is not a RET
    prog.push(bpfStmt(0x00, g.u32()));
    return { prog, rule: 'last-not-ret', pc: prog.length - 1 };
  });
}

/** After inserting one instruction at `at`, widen every jump over it (dropping the case to a valid no-jump form if a jump would overflow). */
function fixJumps(prog: SockFilter[], at: number, rule: string): SeccompInvalidCase {
  const out = prog.map((insn, pc) => {
    if (pc >= at) return insn;
    if (insn.code === 0x05) return pc + 1 + insn.k >= at ? { ...insn, k: insn.k + 1 } : insn;
    const cls = insn.code & 7;
    if (cls !== 5) return insn;
    const jt = pc + 1 + insn.jt >= at ? insn.jt + 1 : insn.jt;
    const jf = pc + 1 + insn.jf >= at ? insn.jf + 1 : insn.jf;
    return { ...insn, jt, jf };
  });
  if (out.some((i) => i.jt > 255 || i.jf > 255)) {
    // too far: put the broken instruction first of a two-instruction program instead
    return { prog: [prog[at]!, ret(SECCOMP_RET_ALLOW)], rule, pc: 0 };
  }
  return { prog: out, rule, pc: at };
}

export { Genome };
export const SECCOMP_RET_VALUES = { ALLOW: SECCOMP_RET_ALLOW, ERRNO: SECCOMP_RET_ERRNO, TRAP: SECCOMP_RET_TRAP, RET_A };
