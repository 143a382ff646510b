// bpfspec's compiled backend for classic programs ("classic JIT"): a checked classic program is
// translated once into a JavaScript function (skb, env) => u32 with the semantics of the classic
// evaluator (model/cbpf/eval.ts ClassicVm.run, i.e. 3.14 sk_run_filter with the ClassicSemantics
// decision points). It is a faster engine beside the spec, not part of it: the fuzzer runs it as a
// third judge and checks it against ClassicVm on every case.
//
// The kernel's counterpart is the classic JIT hook bpf_jit_compile (net/core/filter.c:1341 in
// bpf_prepare_filter; a no-op on x86-64), which translated classic programs to machine code on the
// architectures that had one.
//
// Shape of the generated code: A, X and the used scratch cells M[i] are locals; every jump of a
// classic program goes forward, so each jump target t gets a labelled block that starts at the
// top of the function and ends just before instruction t, and a jump is `break Lt` (programs with
// more than MAX_LABELS targets use a `switch (pc)` dispatch loop instead). Loads at non-negative
// offsets read the packet inline; negative offsets, ancillary loads with a slow path (NLATTR,
// PAY_OFFSET) and RANDOM call the same code as the evaluator. What ClassicVm does with programs
// the checker would reject (unknown code, M[k >= 16], DIV/MOD by K = 0, jumps past the end,
// running off the end) is reproduced: the function returns 0.
import type { KernelConfig } from '../../model/kernel.js';
import { DEFAULT_CONFIG } from '../../model/kernel.js';
import { skbGetPoff } from '../../model/flow.js';
import { prandomSeedState, prandomU32State } from '../../model/prandom.js';
import type { Env, SkBuff } from '../../model/skb.js';
import { CLASSIC, ClassicVm, compileClassic, Op, type ClassicProgram, type ClassicSemantics } from '../../model/cbpf/eval.js';
import { reciprocalDivide, reciprocalValue } from '../../model/variants.js';
import type { Program } from '../../model/cbpf/insn.js';

/** A compiled classic filter: the u32 result of the program on one skb. */
export type ClassicJsFilter = (skb: SkBuff, env: Env) => number;

/** Above this many distinct jump targets the code uses a dispatch loop instead of nested blocks. */
export const MAX_LABELS = 512;

/** What the generated code calls for its slow paths. */
interface Runtime {
  /** ClassicVm.loadPointer: negative offsets and out-of-range loads (value or -1) */
  readonly vm: ClassicVm;
  readonly poff: (skb: SkBuff) => number;
  readonly seed: (state: Uint32Array, seed: number) => void;
  readonly rnd: (state: Uint32Array) => number;
  /** reciprocal_divide, for KernelConfig.classicDivK 'reciprocal' */
  readonly rdiv: (a: number, r: number) => number;
  readonly state: Uint32Array;
}

/** Big-endian read of `size` bytes at the JS expression `at` of the local `d` (bounds checked before). */
function readExpr(size: number, at: string): string {
  if (size === 4) return `((d[${at}] << 24) | (d[${at} + 1] << 16) | (d[${at} + 2] << 8) | d[${at} + 3]) >>> 0`;
  if (size === 2) return `((d[${at}] << 8) | d[${at} + 1])`;
  return `d[${at}]`;
}

const SIZE_OF: Partial<Record<Op, number>> = {
  [Op.LD_W_ABS]: 4, [Op.LD_H_ABS]: 2, [Op.LD_B_ABS]: 1, [Op.LD_W_IND]: 4, [Op.LD_H_IND]: 2, [Op.LD_B_IND]: 1,
};

// Model helper (no kernel counterpart): the JS statements of instruction `pc`; `jump(t)` gives the
// statement that continues at classic pc t (a break, a dispatch, or `return 0` past the end).
function emitInsn(p: ClassicProgram, pc: number, config: KernelConfig, sem: ClassicSemantics, jump: (t: number) => string): string {
  const K = p.k[pc]!;
  const op = p.ops[pc]! as Op;
  const cond = (c: string): string => {
    const t = jump(pc + 1 + p.jt[pc]!);
    const f = jump(pc + 1 + p.jf[pc]!);
    if (t === f) return t;
    return `if (${c}) { ${t} } else { ${f} }`;
  };
  const loadK = (size: number, dst: string): string => {
    const k = K | 0;
    if (k >= 0) return `if (${k} > dl - ${size}) return 0; ${dst} = ${readExpr(size, String(k))};`;
    return `v = rt.vm.loadPointer(skb, ${k}, ${size}); if (v < 0) return 0; ${dst} = v;`;
  };
  switch (op) {
    case Op.ADD_X: return 'A = (A + X) >>> 0;';
    case Op.ADD_K: return `A = (A + ${K}) >>> 0;`;
    case Op.SUB_X: return 'A = (A - X) >>> 0;';
    case Op.SUB_K: return `A = (A - ${K}) >>> 0;`;
    case Op.MUL_X: return 'A = Math.imul(A, X) >>> 0;';
    case Op.MUL_K: return `A = Math.imul(A, ${K}) >>> 0;`;
    case Op.DIV_X: return 'if (X === 0) return 0; A = (A / X) >>> 0;';
    // KernelConfig.classicDivK (model/cbpf/eval.ts Op.DIV_K)
    case Op.DIV_K: return config.classicDivK === 'reciprocal' ? `A = rt.rdiv(A, ${reciprocalValue(K)});` : `A = (A / ${K}) >>> 0;`;
    case Op.MOD_X: return 'if (X === 0) return 0; A = A % X;';
    case Op.MOD_K: return `A = A % ${K};`;
    case Op.AND_X: return 'A = (A & X) >>> 0;';
    case Op.AND_K: return `A = (A & ${K}) >>> 0;`;
    case Op.OR_X: return 'A = (A | X) >>> 0;';
    case Op.OR_K: return `A = (A | ${K}) >>> 0;`;
    case Op.XOR_X:
    case Op.ANC_ALU_XOR_X:
      return 'A = (A ^ X) >>> 0;';
    case Op.XOR_K: return `A = (A ^ ${K}) >>> 0;`;
    // KernelConfig.classicShiftX (model/cbpf/eval.ts Op.LSH_X, Op.RSH_X)
    case Op.LSH_X: return config.classicShiftX === 'zero' ? 'A = X >= 32 ? 0 : (A << X) >>> 0;' : 'A = (A << (X & 31)) >>> 0;';
    case Op.LSH_K: return `A = (A << ${K & 31}) >>> 0;`;
    case Op.RSH_X: return config.classicShiftX === 'zero' ? 'A = X >= 32 ? 0 : A >>> X;' : 'A = A >>> (X & 31);';
    case Op.RSH_K: return `A = A >>> ${K & 31};`;
    case Op.NEG: return 'A = -A >>> 0;';
    case Op.JA: return jump(pc + 1 + K);
    case Op.JGT_K: return cond(`A > ${K}`);
    case Op.JGE_K: return cond(`A >= ${K}`);
    case Op.JEQ_K: return cond(`A === ${K}`);
    case Op.JSET_K: return cond(`(A & ${K}) !== 0`);
    case Op.JGT_X: return cond('A > X');
    case Op.JGE_X: return cond('A >= X');
    case Op.JEQ_X: return cond('A === X');
    case Op.JSET_X: return cond('(A & X) !== 0');
    case Op.LD_W_ABS:
    case Op.LD_H_ABS:
    case Op.LD_B_ABS:
      return loadK(SIZE_OF[op]!, 'A');
    case Op.LD_W_IND:
    case Op.LD_H_IND:
    case Op.LD_B_IND: {
      const size = SIZE_OF[op]!;
      // KernelConfig.classicIndSum 'no-wrap' (ClassicVm.loadInd): a sum past 2^32 fails the load
      return (
        (config.classicIndSum === 'no-wrap' ? `if (X + ${K} > 0xffffffff) return 0; ` : '') +
        `k = (X + ${K}) | 0; ` +
        `if (k < 0 || k > dl - ${size}) { v = rt.vm.loadPointer(skb, k, ${size}); if (v < 0) return 0; A = v; } ` +
        `else A = ${readExpr(size, 'k')};`
      );
    }
    case Op.LD_W_LEN: return 'A = dl;';
    case Op.LDX_W_LEN: return 'X = dl;';
    case Op.LDX_B_MSH: return `${loadK(1, 'v')} X = (v & 0xf) << 2;`;
    case Op.LD_IMM: return `A = ${K};`;
    case Op.LDX_IMM: return `X = ${K};`;
    case Op.LD_MEM: return `A = m${K};`;
    case Op.LDX_MEM: return `X = m${K};`;
    case Op.ST: return `m${K} = A;`;
    case Op.STX: return `m${K} = X;`;
    case Op.TAX: return config.classicTax === 'a-from-x' ? 'A = X;' : 'X = A;'; // KernelConfig.classicTax
    case Op.TXA: return config.classicTxa === 'x-from-a' ? 'X = A;' : 'A = X;'; // KernelConfig.classicTxa
    case Op.RET_K: return `return ${K};`;
    case Op.RET_A: return 'return A;';
    case Op.ANC_PROTOCOL: return 'A = skb.protocol;';
    case Op.ANC_PKTTYPE: return 'A = skb.pktType;';
    case Op.ANC_IFINDEX:
    case Op.ANC_HATYPE: {
      const field = op === Op.ANC_IFINDEX ? 'ifindex' : 'type';
      return `if (skb.dev === null) return ${sem.devNull === 'returnA' ? 'A' : '0'}; A = skb.dev.${field} >>> 0;`;
    }
    case Op.ANC_MARK: return 'A = skb.mark >>> 0;';
    case Op.ANC_QUEUE: return 'A = skb.queueMapping;';
    case Op.ANC_RXHASH: return 'A = skb.hash >>> 0;';
    case Op.ANC_CPU: return 'A = env.cpu >>> 0;';
    case Op.ANC_VLAN_TAG: return sem.vlanTag === 'classic' ? 'A = skb.vlanTci & ~0x1000;' : 'A = skb.vlanTci;';
    case Op.ANC_VLAN_TAG_PRESENT:
      return sem.vlanTag === 'classic' ? 'A = skb.vlanPresent ? 1 : 0;' : 'A = (skb.vlanProto | skb.vlanTci) !== 0 ? 1 : 0;';
    case Op.ANC_PAY_OFFSET: return 'A = rt.poff(skb) >>> 0;';
    case Op.ANC_NLATTR:
    case Op.ANC_NLATTR_NEST:
      return `v = rt.vm.nlattr(skb, A, X, ${op === Op.ANC_NLATTR_NEST}); if (v < 0) return 0; A = v;`;
    case Op.ANC_RANDOM: return 'if (!seeded) { rt.seed(rt.state, env.randomSeed); seeded = true; } A = rt.rnd(rt.state);';
    case Op.ANC_VLAN_TPID: return 'A = skb.vlanProto;';
    default: // Op.INVALID: ClassicVm ends the run with 0 (3.14 sk_run_filter's default: branch)
      return 'return 0;';
  }
}

/** Model helper (no kernel counterpart): the function body for a decoded program. */
export function classicJsSource(p: ClassicProgram, sem: ClassicSemantics = CLASSIC, config: KernelConfig = DEFAULT_CONFIG): string {
  const len = p.len;
  const targets = new Set<number>();
  for (let pc = 0; pc < len; pc++) {
    const op = p.ops[pc]! as Op;
    if (op === Op.JA) targets.add(pc + 1 + p.k[pc]!);
    else if (op >= Op.JA && op <= Op.JSET_X) {
      targets.add(pc + 1 + p.jt[pc]!);
      targets.add(pc + 1 + p.jf[pc]!);
    }
  }
  const mem = new Set<number>();
  for (let pc = 0; pc < len; pc++) {
    const op = p.ops[pc]! as Op;
    if (op === Op.LD_MEM || op === Op.LDX_MEM || op === Op.ST || op === Op.STX) mem.add(p.k[pc]!);
  }
  const lines: string[] = ['let A = 0, X = 0, v = 0, k = 0, seeded = false;', 'const d = skb.data, dl = d.length;'];
  if (mem.size > 0) lines.push(`let ${[...mem].map((i) => `m${i} = 0`).join(', ')};`);
  const inside = [...targets].filter((t) => t < len);
  if (inside.length <= MAX_LABELS) {
    // Nested blocks: block Lt spans instructions 0 .. t-1, so `break Lt` continues at t.
    const labelled = inside.sort((a, b) => b - a).filter((t) => t > 0);
    const jump = (from: number) => (t: number): string => (t >= len ? 'return 0;' : t === from + 1 ? '' : `break L${t};`);
    lines.push(labelled.map((t) => `L${t}: {`).join(' '));
    const open = new Set(labelled);
    for (let pc = 0; pc < len; pc++) {
      if (open.has(pc)) lines.push(`} // L${pc}`);
      lines.push(emitInsn(p, pc, config, sem, jump(pc)));
    }
    lines.push('return 0;'); // ran off the end (ClassicVm EXIT_FELL_OFF)
  } else {
    const jump = (t: number): string => (t >= len ? 'return 0;' : `pc = ${t}; continue;`);
    lines.push('let pc = 0;', 'for (;;) {', 'switch (pc) {');
    for (let pc = 0; pc < len; pc++) lines.push(`case ${pc}:`, emitInsn(p, pc, config, sem, jump));
    lines.push('}', 'return 0;', '}');
  }
  return lines.join('\n');
}

/** Compile a decoded program (no cache). */
export function compileClassicProgramJs(p: ClassicProgram, config: KernelConfig = DEFAULT_CONFIG, sem: ClassicSemantics = CLASSIC): ClassicJsFilter {
  const rt: Runtime = {
    vm: new ClassicVm(config, sem),
    poff: (skb) => skbGetPoff(skb, config),
    seed: prandomSeedState,
    rnd: prandomU32State,
    rdiv: reciprocalDivide,
    state: new Uint32Array(4),
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('rt', `"use strict";\nreturn function classicJit(skb, env) {\n${classicJsSource(p, sem, config)}\n};`) as (rt: Runtime) => ClassicJsFilter;
  return make(rt);
}

/** Bound on cached compiled programs per (config, semantics); the cache is emptied when it is full. */
export const JIT_CACHE_LIMIT = 4096;
const caches = new WeakMap<KernelConfig, WeakMap<ClassicSemantics, Map<string, ClassicJsFilter>>>();

/** The cache key of a program: its fields in order. */
export const programKey = (prog: Program): string => {
  let s = '';
  for (const i of prog) s += `${i.code},${i.jt},${i.jf},${i.k >>> 0};`;
  return s;
};

/**
 * Compile a classic program to a JS function with ClassicVm's semantics, cached per program content
 * (and per config and semantics). Throws a RangeError on a field outside its C width (API misuse),
 * like compileClassic.
 */
export function compileClassicJs(prog: Program, config: KernelConfig = DEFAULT_CONFIG, sem: ClassicSemantics = CLASSIC): ClassicJsFilter {
  let bySem = caches.get(config);
  if (bySem === undefined) caches.set(config, (bySem = new WeakMap()));
  let cache = bySem.get(sem);
  if (cache === undefined) bySem.set(sem, (cache = new Map()));
  const key = programKey(prog);
  let fn = cache.get(key);
  if (fn === undefined) {
    fn = compileClassicProgramJs(compileClassic(prog), config, sem);
    if (cache.size >= JIT_CACHE_LIMIT) cache.clear();
    cache.set(key, fn);
  }
  return fn;
}
