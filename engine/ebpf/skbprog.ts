// The engine's kernel path for socket filters: a migrated program run on the skb itself, without the
// memory image. It must equal model/attach.ts KernelRunner.run (the eBPF interpreter,
// kernel/bpf/core.c ___bpf_prog_run, on model/ebpf/skbmem.ts's image of the skb) in result.
//
// A static pass (analyzeSkbProgram) follows what each register holds along the program (every jump
// of a migrated program goes forward): a number, or a pointer to the ctx (struct sk_buff), the packet
// data (skb->data plus an offset), the stack (FP) or the net_device (skb->dev, maybe NULL). Each
// memory access then becomes what it reads, decided once: a field of the skb (the bytes
// model/ebpf/skbmem.ts lays out at that offset), packet bytes at data + offset, a stack word, or a
// net_device field. A program it cannot follow (a pointer used as a number, an access that is no
// field, a store that is no stack word, atomics, ...) is not taken; the caller runs the spec.
//
// At run time anything the spec would report as a fault (an access outside the packet, the stack
// bucket or a NULL dev; a division trap; a helper reading past the skb) ends the run with BAIL, and
// the caller asks the spec for the result and the fault: the engine only answers what it is sure of.
import { DIV_OK, type Regs } from '../../model/ebpf/alu64.js';
import { aluDivMod, STACK_POISON } from '../../model/ebpf/interp.js';
import { HELPER_FUNCS, HELPERS, type HelperEnv } from '../../model/ebpf/helpers.js';
import { NET_DEVICE, PKT_TYPE_OFFSET, SK_BUFF } from '../../model/ebpf/layout.js';
import { add64, arsh64, lsh64, mul64, neg64, rsh64, sub64, swab16, swab32, swab64, cmp64s } from '../../model/ebpf/alu64.js';
import { NLATTR_OOB } from '../../model/variants.js';
import type { SkBuff } from '../../model/skb.js';
import type { EbpfBuffer } from '../migrate/convert.js';
import { jmp32Cond, jmpCond } from './interp.js';

/** What a run returns when the spec must answer (a fault, or anything the engine does not take). */
export const BAIL = -1;

// Pseudo-opcodes (above any eBPF opcode byte) for the memory accesses the analysis resolved.
/** DST = a field of the skb (imm: the field) */
export const OP_LD_CTX = 0x100;
/** DST = `aux` bytes at data + (SRC's offset + off), little-endian */
export const OP_LD_DATA = 0x101;
/** DST = the stack word `aux` (FP - 4 * aux) */
export const OP_LD_STACK = 0x102;
/** the stack word `aux` = SRC's low word */
export const OP_ST_STACK = 0x103;
/** DST = a field of skb->dev (imm: the field); BAIL when dev is NULL */
export const OP_LD_DEV = 0x104;
/** the spec faults here (an access outside the stack bucket): BAIL */
export const OP_BAIL = 0x1ff;

// Fields (OP_LD_CTX / OP_LD_DEV imm): what model/ebpf/skbmem.ts writes at each offset.
export const F_LEN = 0;
export const F_DATA_LEN = 1;
export const F_QUEUE = 2;
export const F_PKT_TYPE = 3;
export const F_HASH = 4;
export const F_VLAN_ALL = 5;
export const F_VLAN_PROTO = 6;
export const F_VLAN_TCI = 7;
export const F_MARK = 8;
export const F_PROTOCOL = 9;
export const F_NET_HDR = 10;
export const F_MAC_HDR = 11;
export const F_TAIL = 12;
export const F_END = 13;
/** skb->data: the register becomes a data pointer */
export const F_DATA_PTR = 14;
/** skb->dev: the register becomes a dev pointer (1, or 0 for NULL) */
export const F_DEV_PTR = 15;
export const F_IFINDEX = 16;
export const F_DEV_TYPE = 17;

// Register kinds of the analysis, 3 bits per register: a state packs R0..R9 (R10 is always FP: the
// converter never writes it) into 30 bits of an int, so that comparing two states is one compare.
const SCALAR = 0;
const CTX = 1;
const DATA = 2;
const DEV = 4;
const MIXED = 5;
/** A state no path reaches yet. */
const UNREACHED = -1;
/** R1 = ctx, the others numbers: the state at pc 0. */
const ENTRY = CTX << 3;
const kindOf = (st: number, r: number): number => (r === 10 ? FP : (st >>> (3 * r)) & 7);
const FP = 3;
const withKind = (st: number, r: number, k: number): number => (st & ~(7 << (3 * r))) | (k << (3 * r));

/** Two states met at a pc: each register keeps its kind where both agree, else MIXED. */
function meet(a: number, b: number): number {
  let out = 0;
  for (let r = 0; r < 10; r++) {
    const x = (a >>> (3 * r)) & 7;
    out |= (x === ((b >>> (3 * r)) & 7) ? x : MIXED) << (3 * r);
  }
  return out;
}

/** (offset << 4 | size) -> field of struct sk_buff */
const CTX_FIELDS: ReadonlyMap<number, number> = new Map([
  [(SK_BUFF.len.offset << 4) | 4, F_LEN],
  [(SK_BUFF.dataLen.offset << 4) | 4, F_DATA_LEN],
  [(SK_BUFF.queueMapping.offset << 4) | 2, F_QUEUE],
  [(PKT_TYPE_OFFSET << 4) | 1, F_PKT_TYPE],
  [(SK_BUFF.hash.offset << 4) | 4, F_HASH],
  [(SK_BUFF.vlanAll.offset << 4) | 4, F_VLAN_ALL],
  [(SK_BUFF.vlanProto.offset << 4) | 2, F_VLAN_PROTO],
  [(SK_BUFF.vlanTci.offset << 4) | 2, F_VLAN_TCI],
  [(SK_BUFF.mark.offset << 4) | 4, F_MARK],
  [(SK_BUFF.protocol.offset << 4) | 2, F_PROTOCOL],
  [(SK_BUFF.networkHeader.offset << 4) | 2, F_NET_HDR],
  [(SK_BUFF.macHeader.offset << 4) | 2, F_MAC_HDR],
  [(SK_BUFF.tail.offset << 4) | 4, F_TAIL],
  [(SK_BUFF.end.offset << 4) | 4, F_END],
  [(SK_BUFF.data.offset << 4) | 8, F_DATA_PTR],
  [(SK_BUFF.dev.offset << 4) | 8, F_DEV_PTR],
]);
const DEV_FIELDS: ReadonlyMap<number, number> = new Map([
  [(NET_DEVICE.ifindex.offset << 4) | 4, F_IFINDEX],
  [(NET_DEVICE.type.offset << 4) | 2, F_DEV_TYPE],
]);

const sizeOf = (code: number): number => [4, 2, 1, 8][(code >> 3) & 3]!;

/** A migrated program with its memory accesses resolved (see the file header). */
export interface SkbProgram {
  readonly len: number;
  /** eBPF opcode, or an OP_* pseudo-opcode */
  readonly code: Uint16Array;
  /** the migrated program's dst_reg, src_reg, off and imm (its own buffers: read-only here) */
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
  /** access size (OP_LD_DATA), stack word (OP_LD_STACK / OP_ST_STACK) or field (OP_LD_CTX / OP_LD_DEV); unset elsewhere */
  readonly aux: Int32Array;
  /** the stack bucket in words (the interpreter's stack size / 4) */
  readonly stackWords: number;
  /** the helper ids called */
  readonly helpers: readonly number[];
}

/**
 * The buffers an analysis fills (reused from program to program: an SkbProgram lives until the next
 * analysis into them, and reads dst, src, off and imm from the analysed EbpfBuffer, which must not
 * change meanwhile).
 */
export class SkbProgramBuffer implements SkbProgram {
  len = 0;
  code = new Uint16Array(0);
  dst = new Uint8Array(0);
  src = new Uint8Array(0);
  off = new Int16Array(0);
  imm = new Int32Array(0);
  aux = new Int32Array(0);
  stackWords = 0;
  helpers: readonly number[] = [];
  /** the register state at each pc (UNREACHED until a path reaches it) */
  states = new Int32Array(0);

  reserve(n: number): void {
    if (n <= this.code.length) return;
    const cap = Math.max(n, 2 * this.code.length, 256);
    this.code = new Uint16Array(cap);
    this.aux = new Int32Array(cap);
    this.states = new Int32Array(cap + 1);
  }
}

const HELPER_IDS = new Set(HELPERS.map((h) => h.id));
// the argument registers each helper reads as numbers, as a mask of registers
const HELPER_ARGS: readonly number[] = (() => {
  const m: number[] = [];
  m[1] = m[2] = m[3] = (1 << 3) | (1 << 4); // load helpers: R3 = headlen, R4 = offset (R2 = data is not read)
  m[4] = m[7] = m[8] = 0;
  m[5] = m[6] = (1 << 2) | (1 << 3); // nlattr: R2 = A, R3 = X
  return m;
})();
/** helper ids as a mask -> the list (kept per mask: the lists are shared and never changed) */
const HELPER_LISTS = new Map<number, readonly number[]>();
const helperList = (mask: number): readonly number[] => {
  let out = HELPER_LISTS.get(mask);
  if (out === undefined) {
    const l: number[] = [];
    for (let i = 0; i < 32; i++) if ((mask & (1 << i)) !== 0) l.push(i);
    out = Object.freeze(l);
    HELPER_LISTS.set(mask, out);
  }
  return out;
};

/**
 * Resolve a migrated program's memory accesses (see the file header): the SkbProgram, or why the
 * engine does not take it. `stackSize` is the interpreter's stack size for the program. Into `into`
 * when given (then the result is `into`, valid until its next use), else into new buffers.
 */
export function analyzeSkbProgram(p: EbpfBuffer, stackSize: number, into: SkbProgramBuffer = new SkbProgramBuffer()): SkbProgram | string {
  const len = p.len;
  into.reserve(len);
  const code = into.code;
  const aux = into.aux;
  const states = into.states;
  states.fill(UNREACHED, 0, len + 1);
  states[0] = ENTRY;
  let helpers = 0;
  const pcode = p.code;
  const pdst = p.dst;
  const psrc = p.src;
  const poff = p.off;
  const pimm = p.imm;
  into.dst = pdst;
  into.src = psrc;
  into.off = poff;
  into.imm = pimm;
  for (let pc = 0; pc < len; pc++) {
    const c = pcode[pc]!;
    const d = pdst[pc]!;
    const s = psrc[pc]!;
    const o = poff[pc]!;
    code[pc] = c;
    let cur = states[pc]!;
    if (cur === UNREACHED) {
      code[pc] = OP_BAIL; // not reached by any path
      continue;
    }
    if (d > 10 || s > 10) return `register field above R10 at ${pc}`;
    const cls = c & 0x07;
    let fallsThrough = true;
    let target = -1;
    if (cls === 0x04 || cls === 0x07) {
      if (d === 10) return `write to R10 at ${pc}`;
      const op = c & 0xf0;
      const x = (c & 0x08) !== 0;
      const kd = kindOf(cur, d);
      const ks = kindOf(cur, s);
      if (op === 0xb0) {
        // MOV: MOV64 X (off 0) moves the kind with the value; MOVSX and MOV32 X need a number
        if (c === 0xbf && o === 0) cur = withKind(cur, d, ks);
        else if (x && ks !== SCALAR) return `MOV of a pointer at ${pc}`;
        else cur = withKind(cur, d, SCALAR);
      } else if (c === 0x07 || c === 0x17) {
        // ALU64 ADD/SUB K: a data pointer moves within the packet
        if (kd !== SCALAR && kd !== DATA) return `ALU on a pointer at ${pc}`;
      } else {
        if (kd !== SCALAR || (x && op !== 0x80 && op !== 0xd0 && ks !== SCALAR)) return `ALU on a pointer at ${pc}`;
        cur = withKind(cur, d, SCALAR);
      }
    } else if (cls === 0x05 || cls === 0x06) {
      const op = c & 0xf0;
      if (c === 0x95) {
        if (kindOf(cur, 0) !== SCALAR) return `EXIT with a pointer in R0 at ${pc}`;
        fallsThrough = false;
      } else if (c === 0x85) {
        const i = pimm[pc]!;
        if (!HELPER_IDS.has(i)) return `call of helper ${i} at ${pc}`;
        const args = HELPER_ARGS[i]!;
        for (let r = 1; r <= 5; r++) if ((args & (1 << r)) !== 0 && kindOf(cur, r) !== SCALAR) return `helper ${i} argument not a number at ${pc}`;
        helpers |= 1 << i;
        cur = withKind(cur, 0, SCALAR);
      } else if (c === 0x05) {
        target = pc + 1 + o;
        fallsThrough = false;
      } else if (c === 0x06) {
        target = pc + 1 + pimm[pc]!;
        fallsThrough = false;
      } else if (op === 0xe0 || op === 0xf0 || op === 0x80 || op === 0x90 || c > 0xff) {
        return `jump opcode 0x${c.toString(16)} at ${pc}`;
      } else {
        const x = (c & 0x08) !== 0;
        const kd = kindOf(cur, d);
        // a dev pointer compared with 0 (JEQ/JNE): 1 or 0 answers as the pointer does
        const devTest = kd === DEV && !x && pimm[pc] === 0 && cls === 0x05 && (op === 0x10 || op === 0x50);
        if (!devTest && (kd !== SCALAR || (x && kindOf(cur, s) !== SCALAR))) return `compare of a pointer at ${pc}`;
        target = pc + 1 + o;
      }
      if (target >= 0 && target <= pc) return `backward jump at ${pc}`;
    } else if (cls === 0x01) {
      if ((c & 0xe0) !== 0x60) return `load mode 0x${(c & 0xe0).toString(16)} at ${pc}`;
      if (d === 10) return `write to R10 at ${pc}`;
      const size = sizeOf(c);
      switch (kindOf(cur, s)) {
        case CTX: {
          const f = CTX_FIELDS.get((o << 4) | size);
          if (f === undefined) return `ctx load of ${size} bytes at offset ${o} at ${pc}`;
          code[pc] = OP_LD_CTX;
          aux[pc] = f;
          cur = withKind(cur, d, f === F_DATA_PTR ? DATA : f === F_DEV_PTR ? DEV : SCALAR);
          break;
        }
        case DATA:
          code[pc] = OP_LD_DATA;
          aux[pc] = size;
          cur = withKind(cur, d, SCALAR);
          break;
        case FP:
          if (size !== 4 || (o & 3) !== 0 || o >= 0) return `stack load of ${size} bytes at ${o} at ${pc}`;
          code[pc] = -o > stackSize ? OP_BAIL : OP_LD_STACK;
          aux[pc] = -o >> 2;
          cur = withKind(cur, d, SCALAR);
          break;
        case DEV: {
          const f = DEV_FIELDS.get((o << 4) | size);
          if (f === undefined) return `dev load of ${size} bytes at offset ${o} at ${pc}`;
          code[pc] = OP_LD_DEV;
          aux[pc] = f;
          cur = withKind(cur, d, SCALAR);
          break;
        }
        default:
          return `load through a number at ${pc}`;
      }
    } else if (cls === 0x03) {
      if (c !== 0x63 || kindOf(cur, d) !== FP || kindOf(cur, s) !== SCALAR || (o & 3) !== 0 || o >= 0) return `store 0x${c.toString(16)} at ${pc}`;
      code[pc] = -o > stackSize ? OP_BAIL : OP_ST_STACK;
      aux[pc] = -o >> 2;
    } else if (c === 0x18) {
      if (pc + 1 >= len) return `ld_imm64 without its second slot at ${pc}`;
      if (d === 10) return `write to R10 at ${pc}`;
      cur = withKind(cur, d, SCALAR);
      const to = pc + 2;
      states[to] = states[to] === UNREACHED ? cur : states[to] === cur ? cur : meet(states[to]!, cur);
      code[pc + 1] = pcode[pc + 1]!;
      pc++;
      continue;
    } else {
      return `opcode 0x${c.toString(16)} at ${pc}`;
    }
    if (fallsThrough) {
      const to = pc + 1;
      const st = states[to]!;
      states[to] = st === UNREACHED || st === cur ? cur : meet(st, cur);
    }
    if (target >= 0) {
      if (target >= len) return `jump past the end at ${pc}`;
      const st = states[target]!;
      states[target] = st === UNREACHED || st === cur ? cur : meet(st, cur);
    }
  }
  into.len = len;
  into.stackWords = stackSize >> 2;
  into.helpers = helperList(helpers);
  return into;
}

/** An instruction sequence in columns (an ancillary load's expansion). */
export interface InsnColumns {
  readonly n: number;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
}

/** What analyzeSkbProgram makes of a sequence wherever the converter puts it (analyzeExpansion). */
export interface ExpansionAnalysis {
  /** (index in the sequence, OP_*, aux) triples: its memory accesses */
  readonly fixes: Int32Array;
  /** the helpers it calls */
  readonly helperMask: number;
}

const MOV64_X_ = 0xbf;
const MOV64_K_ = 0xb7;
const JEQ_K_ = 0x15;

/**
 * analyzeSkbProgram on an instruction sequence the converter emits for one classic insn (an
 * ancillary load), made once for every place it is put: the sequence is analysed after R1..R5, R8
 * and R9 are made MIXED (a join of ctx and a number), with A (R0) and X (R7) numbers and R6 ctx,
 * then an EXIT. When that analysis takes it, the sequence reads none of those registers before it
 * writes them, so its accesses resolve the same after any state with R0, R7 numbers and R6 ctx; it
 * is kept (null otherwise) when it also leaves R0, R7 numbers, R6 ctx, R8 and R9 untouched, jumps
 * nowhere past its end, and touches no stack (whose bucket depends on the program).
 */
export function analyzeExpansion(e: InsnColumns): ExpansionAnalysis | null {
  const pre: [number, number, number, number, number][] = [[MOV64_X_, 6, 1, 0, 0]];
  for (const r of [1, 2, 3, 4, 5, 8, 9]) pre.push([MOV64_X_, r, 6, 0, 0], [JEQ_K_, 0, 0, 1, 0], [MOV64_K_, r, 0, 0, 0]);
  const P = pre.length;
  const len = P + e.n + 1;
  const cols = { len, code: new Uint8Array(len), dst: new Uint8Array(len), src: new Uint8Array(len), off: new Int16Array(len), imm: new Int32Array(len) };
  pre.forEach(([c, d, s, o, i], j) => {
    cols.code[j] = c;
    cols.dst[j] = d;
    cols.src[j] = s;
    cols.off[j] = o;
    cols.imm[j] = i;
  });
  cols.code.set(e.code.subarray(0, e.n), P);
  cols.dst.set(e.dst.subarray(0, e.n), P);
  cols.src.set(e.src.subarray(0, e.n), P);
  cols.off.set(e.off.subarray(0, e.n), P);
  cols.imm.set(e.imm.subarray(0, e.n), P);
  cols.code[len - 1] = 0x95;
  const buf = new SkbProgramBuffer();
  const a = analyzeSkbProgram(cols as unknown as EbpfBuffer, 512, buf);
  if (typeof a === 'string') return null;
  const exit = buf.states[len - 1]!;
  if (exit === UNREACHED) return null;
  const k = (r: number): number => (exit >>> (3 * r)) & 7;
  if (k(0) !== SCALAR || k(7) !== SCALAR || k(6) !== CTX || k(8) !== MIXED || k(9) !== MIXED) return null;
  const fixes: number[] = [];
  let helperMask = 0;
  for (let j = 0; j < e.n; j++) {
    const pc = P + j;
    const op = a.code[pc]!;
    if (e.code[j] === 0x85) helperMask |= 1 << e.imm[j]!;
    if (op === OP_BAIL) {
      if (buf.states[pc] !== UNREACHED) return null;
      continue;
    }
    if (op === OP_LD_STACK || op === OP_ST_STACK) return null;
    if (op === OP_LD_CTX || op === OP_LD_DATA || op === OP_LD_DEV) fixes.push(j, op, a.aux[pc]!);
    else if (op !== e.code[j]) return null;
    if (e.code[j] === 0x18) j++;
  }
  return { fixes: Int32Array.from(fixes), helperMask };
}

// analyzeSkbProgram, on a program engine/migrate/convert.ts emitted with `plain` set
/**
 * The SkbProgram of a migrated program the engine's converter emitted with `plain` set (no LDX W
 * ABS, scratch indices < BPF_MEMWORDS, only ancillary loads analyzeExpansion places), without the
 * analysis: such a program holds ctx in R6 (and R1), data in R8 (seen_ld_abs; R2 = TMP between a
 * MOV and its load), numbers in A, X, H and the helper arguments at every classic insn, so each
 * memory access is decided where the converter emits it (`fixes`: eBPF index, OP_*, aux triples). The caller checks that no stack load
 * lies outside the bucket (`maxLoadWord * 4 <= stackSize`, else analyzeSkbProgram). It equals
 * analyzeSkbProgram on every reachable pc (test/engine/kernel.test.ts); unreachable pcs keep their
 * access (the analysis makes them OP_BAIL: no run reaches them), and `helpers` also lists the
 * helpers of unreachable calls (of bpf_user_rnd_u32: EngineKernelPath then seeds the prandom state
 * for nothing).
 */
export function skbProgramOfConverted(p: EbpfBuffer, fixes: Int32Array, nfix: number, stackSize: number, helperMask: number, into: SkbProgramBuffer): SkbProgram {
  const len = p.len;
  into.reserve(len);
  const code = into.code;
  const aux = into.aux;
  code.set(p.code.subarray(0, len));
  for (let j = 0; j < nfix; j += 3) {
    const at = fixes[j]!;
    code[at] = fixes[j + 1]!;
    aux[at] = fixes[j + 2]!;
  }
  into.dst = p.dst;
  into.src = p.src;
  into.off = p.off;
  into.imm = p.imm;
  into.len = len;
  into.stackWords = stackSize >> 2;
  into.helpers = helperList(helperMask);
  return into;
}

/** The value of a field of the skb, as the ctx image holds it (little-endian bytes of model/ebpf/skbmem.ts). */
export function ctxField(skb: SkBuff, f: number, littleEndian: boolean): number {
  switch (f) {
    case F_LEN:
      return skb.data.length;
    case F_DATA_LEN:
      return skb.data.length - skb.headlen;
    case F_QUEUE:
      return skb.queueMapping & 0xffff;
    case F_PKT_TYPE:
      return littleEndian ? skb.pktType & 7 : (skb.pktType & 7) << 5;
    case F_HASH:
      return skb.hash >>> 0;
    case F_VLAN_ALL:
      return (swab16(skb.vlanProto & 0xffff) | ((skb.vlanTci & 0xffff) << 16)) >>> 0;
    case F_VLAN_PROTO:
      return swab16(skb.vlanProto & 0xffff);
    case F_VLAN_TCI:
      return skb.vlanTci & 0xffff;
    case F_MARK:
      return skb.mark >>> 0;
    case F_PROTOCOL:
      return swab16(skb.protocol & 0xffff);
    case F_NET_HDR:
      return (skb.headroom.length + skb.networkHeader) & 0xffff;
    case F_MAC_HDR:
      return skb.macHeader === null ? 0xffff : (skb.headroom.length + skb.macHeader) & 0xffff;
    case F_TAIL:
    case F_END:
      return skb.headroom.length + skb.headlen;
    case F_DATA_PTR:
      return 0; // offset 0 from skb->data
    case F_DEV_PTR:
      return skb.dev === null ? 0 : 1;
    case F_IFINDEX:
      return skb.dev!.ifindex >>> 0;
    default: // F_DEV_TYPE
      return skb.dev!.type & 0xffff;
  }
}

/** `size` bytes little-endian at data + pos (pos >= -headroom, pos + size <= headlen: checked by the caller). */
export function dataLoad(skb: SkBuff, pos: number, size: number): number {
  if (pos >= 0) {
    const d = skb.data;
    if (size === 1) return d[pos]!;
    if (size === 2) return d[pos]! | (d[pos + 1]! << 8);
    return (d[pos]! | (d[pos + 1]! << 8) | (d[pos + 2]! << 16) | (d[pos + 3]! << 24)) >>> 0;
  }
  let v = 0;
  const hr = skb.headroom;
  for (let j = size - 1; j >= 0; j--) {
    const at = pos + j;
    v = v * 256 + (at < 0 ? hr[hr.length + at]! : skb.data[at]!);
  }
  return v >>> 0;
}

/** The engine's interpreter of SkbPrograms, with its reusable state. */
export class SkbVm {
  readonly regs: Regs = new Uint32Array(32);
  private stack = new Uint32Array(129);
  private readonly poisonWord: number;

  constructor(
    /** the helpers' view: skb, config, cpu and prandom state, set by the caller before each run */
    readonly env: HelperEnv & { skb: SkBuff; cpu: number },
    stackPoison = STACK_POISON,
  ) {
    this.poisonWord = (stackPoison * 0x01010101) >>> 0;
  }

  // model/attach.ts KernelRunner.run (kernel/bpf/core.c ___bpf_prog_run on the skb image)
  /** The program's u32 result on `skb` (the env's skb), or BAIL. */
  run(p: SkbProgram, skb: SkBuff): number {
    const r = this.regs;
    // loops, not fill(): a builtin call costs more than these few stores (most runs are short)
    for (let i = 0; i < 32; i++) r[i] = 0;
    const stack = this.stack;
    const pw = this.poisonWord;
    for (let i = 0, n = p.stackWords + 1; i < n; i++) stack[i] = pw;
    const le = this.env.config.littleEndian;
    const codes = p.code;
    const dsts = p.dst;
    const srcs = p.src;
    const offs = p.off;
    const imms = p.imm;
    const auxs = p.aux;
    const len = p.len;
    const headlen = skb.headlen;
    const headroom = skb.headroom.length;
    let pc = 0;
    for (;;) {
      if (pc >= len) return BAIL;
      const c = codes[pc]!;
      const d = dsts[pc]! << 1;
      const s = srcs[pc]! << 1;
      const o = offs[pc]!;
      const imm = imms[pc]!;
      switch (c) {
        case OP_LD_DATA: {
          const hi = r[s + 1]!;
          if (hi !== 0 && hi !== 0xffffffff) return BAIL;
          const pos = (hi === 0 ? r[s]! : r[s]! - 0x100000000) + o;
          const size = auxs[pc]!;
          if (pos < -headroom || pos + size > headlen) return BAIL;
          r[d] = dataLoad(skb, pos, size);
          r[d + 1] = 0;
          break;
        }
        case OP_LD_CTX:
          r[d] = ctxField(skb, auxs[pc]!, le);
          r[d + 1] = 0;
          break;
        case OP_LD_STACK:
          r[d] = stack[auxs[pc]!]!;
          r[d + 1] = 0;
          break;
        case OP_ST_STACK:
          stack[auxs[pc]!] = r[s]!;
          break;
        case OP_LD_DEV:
          if (skb.dev === null) return BAIL;
          r[d] = ctxField(skb, auxs[pc]!, le);
          r[d + 1] = 0;
          break;
        case OP_BAIL:
          return BAIL;
        case 0xbf: // ALU64_MOV_X
          if (o === 0) {
            r[d + 1] = r[s + 1]!;
            r[d] = r[s]!;
          } else if (o === 8 || o === 16 || o === 32) {
            const v = o === 32 ? r[s]! | 0 : (r[s]! << (32 - o)) >> (32 - o);
            r[d] = v;
            r[d + 1] = v >> 31;
          }
          break;
        case 0xac: r[d] = r[d]! ^ r[s]!; r[d + 1] = 0; break; // prettier-ignore
        case 0x05: pc += o; break; // prettier-ignore
        case 0x06: pc += imm; break; // prettier-ignore
        case 0x18: r[d] = imm; r[d + 1] = imms[pc + 1]!; pc++; break; // prettier-ignore
        case 0x15: if (r[d] === imm >>> 0 && r[d + 1] === (imm >> 31) >>> 0) pc += o; break; // prettier-ignore
        case 0x55: if (r[d] !== imm >>> 0 || r[d + 1] !== (imm >> 31) >>> 0) pc += o; break; // prettier-ignore
        case 0x45: if ((r[d]! & imm) !== 0 || (r[d + 1]! & (imm >> 31)) !== 0) pc += o; break; // prettier-ignore
        case 0xc5: if ((r[d + 1]! | 0) < imm >> 31 || ((r[d + 1]! | 0) === imm >> 31 && r[d]! < imm >>> 0)) pc += o; break; // prettier-ignore
        case 0x75: if (cmp64s(r[d]!, r[d + 1]!, imm >>> 0, imm >> 31) >= 0) pc += o; break; // prettier-ignore
        case 0x17: sub64(r, d, imm, imm >> 31); break; // prettier-ignore
        case 0x07: add64(r, d, imm, imm >> 31); break; // prettier-ignore
        case 0xdc:
          if (imm === 16) {
            r[d] = swab16(r[d]! & 0xffff);
            r[d + 1] = 0;
          } else if (imm === 32) {
            r[d] = swab32(r[d]!);
            r[d + 1] = 0;
          } else if (imm === 64) swab64(r, d);
          break;
        case 0xb4: r[d] = imm; r[d + 1] = 0; break; // prettier-ignore
        case 0x95: return r[0]!; // prettier-ignore
        case 0x1c: r[d] = r[d]! - r[s]!; r[d + 1] = 0; break; // prettier-ignore
        case 0x0c: r[d] = r[d]! + r[s]!; r[d + 1] = 0; break; // prettier-ignore
        case 0x04: r[d] = r[d]! + imm; r[d + 1] = 0; break; // prettier-ignore
        case 0x14: r[d] = r[d]! - imm; r[d + 1] = 0; break; // prettier-ignore
        case 0x5c: r[d] = r[d]! & r[s]!; r[d + 1] = 0; break; // prettier-ignore
        case 0x54: r[d] = r[d]! & imm; r[d + 1] = 0; break; // prettier-ignore
        case 0x4c: r[d] = r[d]! | r[s]!; r[d + 1] = 0; break; // prettier-ignore
        case 0x44: r[d] = r[d]! | imm; r[d + 1] = 0; break; // prettier-ignore
        case 0xa4: r[d] = r[d]! ^ imm; r[d + 1] = 0; break; // prettier-ignore
        case 0x2c: r[d] = Math.imul(r[d]!, r[s]!); r[d + 1] = 0; break; // prettier-ignore
        case 0x24: r[d] = Math.imul(r[d]!, imm); r[d + 1] = 0; break; // prettier-ignore
        case 0x6c: r[d] = r[d]! << (r[s]! & 31); r[d + 1] = 0; break; // prettier-ignore
        case 0x64: r[d] = r[d]! << (imm & 31); r[d + 1] = 0; break; // prettier-ignore
        case 0x7c: r[d] = r[d]! >>> (r[s]! & 31); r[d + 1] = 0; break; // prettier-ignore
        case 0x74: r[d] = r[d]! >>> (imm & 31); r[d + 1] = 0; break; // prettier-ignore
        case 0x84: r[d] = -r[d]!; r[d + 1] = 0; break; // prettier-ignore
        case 0x85: {
          // bpf_skb_load_helper_{8,16,32} (model/ebpf/helpers.ts bpfSkbLoadHelper), its first branch
          // inline: a non-negative offset with `headlen - offset >= len` reads the linear data, big-endian
          if (imm >= 1 && imm <= 3) {
            const at = r[8]! | 0;
            const size = imm === 3 ? 4 : imm;
            if (at >= 0 && ((r[6]! - at) | 0) >= size) {
              const dd = skb.data;
              r[0] = size === 1 ? dd[at]! : size === 2 ? (dd[at]! << 8) | dd[at + 1]! : ((dd[at]! << 24) | (dd[at + 1]! << 16) | (dd[at + 2]! << 8) | dd[at + 3]!) >>> 0;
              r[1] = 0;
              break;
            }
          }
          const v = HELPER_FUNCS[imm]!(this.env, r[4]!, r[6]!, r[8]!);
          if (v === NLATTR_OOB) return BAIL;
          r[0] = v >>> 0;
          r[1] = v < 0 ? 0xffffffff : Math.floor(v / 0x100000000) >>> 0;
          break;
        }
        case 0x3c: case 0x34: case 0x9c: case 0x94: case 0x3f: case 0x37: case 0x9f: case 0x97: // prettier-ignore
          if (aluDivMod(r, c, d, s, o, imm) !== DIV_OK) return BAIL;
          break;
        default:
          if (!this.slow(c, d, s, o, imm)) {
            // conditional jumps not above
            const cls = c & 0x07;
            if (cls !== 0x05 && cls !== 0x06) return BAIL;
            const x = (c & 0x08) !== 0;
            const taken =
              cls === 0x05
                ? jmpCond(c & 0xf0, r[d]!, r[d + 1]!, x ? r[s]! : imm >>> 0, x ? r[s + 1]! : imm >> 31)
                : jmp32Cond(c & 0xf0, r[d]!, x ? r[s]! : imm >>> 0);
            if (taken) pc += o;
          }
      }
      pc++;
    }
  }

  // The ALU forms a migrated program rarely or never has (model/ebpf/interp.ts); false when c is not one.
  private slow(c: number, d: number, s: number, o: number, imm: number): boolean {
    const r = this.regs;
    switch (c) {
      case 0x0f: add64(r, d, r[s]!, r[s + 1]!); return true; // prettier-ignore
      case 0x1f: sub64(r, d, r[s]!, r[s + 1]!); return true; // prettier-ignore
      case 0x5f: r[d] = r[d]! & r[s]!; r[d + 1] = r[d + 1]! & r[s + 1]!; return true; // prettier-ignore
      case 0x57: r[d] = r[d]! & imm; r[d + 1] = r[d + 1]! & (imm >> 31); return true; // prettier-ignore
      case 0x4f: r[d] = r[d]! | r[s]!; r[d + 1] = r[d + 1]! | r[s + 1]!; return true; // prettier-ignore
      case 0x47: r[d] = r[d]! | imm; r[d + 1] = r[d + 1]! | (imm >> 31); return true; // prettier-ignore
      case 0xaf: r[d] = r[d]! ^ r[s]!; r[d + 1] = r[d + 1]! ^ r[s + 1]!; return true; // prettier-ignore
      case 0xa7: r[d] = r[d]! ^ imm; r[d + 1] = r[d + 1]! ^ (imm >> 31); return true; // prettier-ignore
      case 0x2f: mul64(r, d, r[s]!, r[s + 1]!); return true; // prettier-ignore
      case 0x27: mul64(r, d, imm, imm >> 31); return true; // prettier-ignore
      case 0x6f: lsh64(r, d, r[s]! & 63); return true; // prettier-ignore
      case 0x67: lsh64(r, d, imm & 63); return true; // prettier-ignore
      case 0x7f: rsh64(r, d, r[s]! & 63); return true; // prettier-ignore
      case 0x77: rsh64(r, d, imm & 63); return true; // prettier-ignore
      case 0xcf: arsh64(r, d, r[s]! & 63); return true; // prettier-ignore
      case 0xc7: arsh64(r, d, imm & 63); return true; // prettier-ignore
      case 0xcc: r[d] = (r[d]! | 0) >> (r[s]! & 31); r[d + 1] = 0; return true; // prettier-ignore
      case 0xc4: r[d] = (r[d]! | 0) >> (imm & 31); r[d + 1] = 0; return true; // prettier-ignore
      case 0x87: neg64(r, d); return true; // prettier-ignore
      case 0xbc:
        if (o === 0) r[d] = r[s]!;
        else if (o === 8) r[d] = (r[s]! << 24) >> 24;
        else if (o === 16) r[d] = (r[s]! << 16) >> 16;
        else return true;
        r[d + 1] = 0;
        return true;
      case 0xb7: r[d] = imm; r[d + 1] = imm >> 31; return true; // prettier-ignore
      case 0xd4:
        if (imm === 16) {
          r[d] = r[d]! & 0xffff;
          r[d + 1] = 0;
        } else if (imm === 32) r[d + 1] = 0;
        return true;
      case 0xd7:
        if (imm === 16) {
          r[d] = swab16(r[d]! & 0xffff);
          r[d + 1] = 0;
        } else if (imm === 32) {
          r[d] = swab32(r[d]!);
          r[d + 1] = 0;
        } else if (imm === 64) swab64(r, d);
        return true;
      default:
        return false;
    }
  }
}
