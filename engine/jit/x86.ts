// The engine of model/jit/x86.ts bpfIntJitCompile (arch/x86/net/bpf_jit_comp.c:3645): the x86-64
// JIT's passes as lengths, on the converter's instruction buffer (engine/migrate/convert.ts
// EbpfBuffer) instead of records, with its arrays reused from program to program. Same outcome:
// jited or not, the failure (reason, message, pass, eBPF insn) and the image length; the passes
// themselves are not recorded (`passes` is empty).
//
// How it is fast: each instruction's bytes that do not depend on addrs[] (everything but the jumps
// and the exits, and the compare before a conditional jump) come from model/jit/emit.ts's own length
// functions, cached by facts and by what they read of the instruction (FixedCache); one walk sums
// them into steps, each ending at a jump or a target, and a pass only sizes the jumps, as do_jit
// does (steps()); where the converter recorded a repeat (EbpfBuffer.reps), the walk takes the
// period before's bytes, and a period whose only boundaries are its own jumps a period at a time
// (its steps moved along). What the steps cannot take goes through the per-instruction passes (perInsn()).
import {
  AUX_REG,
  BPF_MAX_INSN_SIZE,
  emitCall,
  emitLdsx,
  emitLdx,
  emitMovImm32,
  emitMovReg,
  emitMovsxReg,
  emitPrologue,
  emitReturn,
  emitShiftx,
  emitSpectreBhbBarrier,
  emitStx,
  isEreg,
  isImm8,
  isImm8JmpOffset,
  isSimm32,
  maybeEmit1mod,
  maybeEmitMod,
  popCalleeRegs,
  pushCalleeRegs,
  x86CallDepthEmitAccounting,
} from '../../model/jit/emit.js';
import type { X86JitFacts } from '../../model/jit/facts.js';
import { cfiGetOffset, MAX_PASSES, PADDING_PASSES, type JitFailure, type JitPass, type JitResult } from '../../model/jit/x86.js';
import type { EbpfBuffer } from '../migrate/convert.js';

// What each instruction is to a pass: its bytes are fixed (STATIC), or computed each pass.
const STATIC = 0;
const EXIT = 1;
const JA = 2;
const COND = 3;
/** a call with imm 0: do_jit fails there (-EINVAL) */
const CALL_IMM_ZERO = 4;

function unmodelled(code: number, k: number): never {
  throw new Error(`model/jit: eBPF insn ${k} (code 0x${code.toString(16).padStart(2, '0')}) is outside the modelled instruction set`);
}

// model/jit/x86.ts insnLength, the arms that do not read addrs[] (ALU, loads, stores, calls)
/** The bytes of a non-jump insn, or -1 when do_jit would fail on it. */
function staticLength(code: number, dst: number, src: number, off: number, imm: number, facts: X86JitFacts, k: number): number {
  const cls = code & 0x07;
  const op = code & 0xf0;
  switch (cls) {
    case 0x04:
    case 0x07: {
      const is64 = cls === 0x07;
      const x = (code & 0x08) !== 0;
      switch (op) {
        case 0x00: // ADD
        case 0x10: // SUB
        case 0x50: // AND
        case 0x40: // OR
        case 0xa0: // XOR
          if (x) return maybeEmitMod(dst, src, is64) + 2;
          return maybeEmit1mod(dst, is64) + (isImm8(imm) ? 3 : dst === 0 ? 5 : 6);
        case 0xb0: // MOV
          if (x) {
            if (is64 && off !== 0 && off !== 8 && off !== 16 && off !== 32) unmodelled(code, k);
            return off === 0 ? emitMovReg(is64, dst, src) : emitMovsxReg(off, is64, dst, src);
          }
          return emitMovImm32(is64, dst, imm);
        case 0x80: // NEG
          return maybeEmit1mod(dst, is64) + 2;
        case 0x30: // DIV
        case 0x90: { // MOD
          let n = 0;
          let s = src;
          if (dst !== 0) n += 1;
          if (dst !== 3) n += 1;
          if (x) {
            if (src === 0 || src === 3) {
              n += 3;
              s = AUX_REG;
            }
          } else {
            n += 7;
            s = AUX_REG;
          }
          if (dst !== 0) n += emitMovReg(is64, 0, dst);
          if (off === 0) n += 2 + maybeEmit1mod(s, is64) + 2;
          else n += (is64 ? 2 : 1) + maybeEmit1mod(s, is64) + 2;
          if (op === 0x90 && dst !== 3) n += emitMovReg(is64, dst, 3);
          else if (op === 0x30 && dst !== 0) n += emitMovReg(is64, dst, 0);
          if (dst !== 3) n += 1;
          if (dst !== 0) n += 1;
          return n;
        }
        case 0x20: // MUL
          if (x) return maybeEmitMod(src, dst, is64) + 3;
          return maybeEmitMod(dst, dst, is64) + (isImm8(imm) ? 3 : 6);
        case 0x60: // LSH
        case 0x70: // RSH
        case 0xc0: { // ARSH
          if (!x) return maybeEmit1mod(dst, is64) + (imm === 1 ? 2 : 3);
          if (facts.bmi2 && src !== 4) return emitShiftx();
          let n = 0;
          let d = dst;
          if (src !== 4) {
            if (dst === 4) {
              n += 3;
              d = AUX_REG;
            } else n += 1;
            n += 3;
          }
          n += maybeEmit1mod(d, is64) + 2;
          if (src !== 4) n += dst === 4 ? 3 : 1;
          return n;
        }
        case 0xd0: { // END
          const e = isEreg(dst);
          const be = (code & 0x08) !== 0;
          if (cls === 0x04 && !be) {
            if (imm === 16) return (e ? 3 : 2) + 1;
            if (imm === 32) return (e ? 1 : 0) + 2;
            return 0;
          }
          if (cls === 0x07 && be) unmodelled(code, k);
          if (imm === 16) return 1 + (e ? 1 : 0) + 3 + (e ? 3 : 2) + 1;
          if (imm === 32) return (e ? 2 : 1) + 1;
          if (imm === 64) return 3;
          return 0;
        }
        default:
          return unmodelled(code, k);
      }
    }
    case 0x01: {
      const mode = code & 0xe0;
      if (mode === 0x60) return emitLdx(code & 0x18, dst, src, off);
      if (mode === 0x80) return emitLdsx(code & 0x18, off);
      return unmodelled(code, k);
    }
    case 0x02: {
      if (code === 0xc2) return 3; // BPF_ST | BPF_NOSPEC: lfence
      if ((code & 0xe0) !== 0x60) return unmodelled(code, k);
      const size = code & 0x18;
      const e = isEreg(dst);
      const opcode = size === 0x10 ? (e ? 2 : 1) : size === 0x08 ? (e ? 3 : 2) : size === 0x00 ? (e ? 2 : 1) : 2;
      const immBytes = size === 0x10 ? 1 : size === 0x08 ? 2 : 4;
      return opcode + (isImm8(off) ? 2 : 5) + immBytes;
    }
    case 0x03:
      if ((code & 0xe0) !== 0x60) return unmodelled(code, k);
      return emitStx(code & 0x18, dst, src, off);
    case 0x05:
    case 0x06:
      // the calls (the only jump-class insns with fixed bytes)
      if (src === 1) unmodelled(code, k); // BPF_PSEUDO_CALL
      return x86CallDepthEmitAccounting(facts) + emitCall();
    default:
      // BPF_LD (0x00): not a do_jit case here (model/jit/x86.ts insnLength's default)
      return unmodelled(code, k);
  }
}

/** the conditional jump ops (0x10..0x70, 0xa0..0xd0) as a bit per op >> 4 */
const COND_OPS = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 0xa) | (1 << 0xb) | (1 << 0xc) | (1 << 0xd);

/** the engine's results record no passes */
const NO_PASSES: readonly JitPass[] = Object.freeze([]);

// What an opcode is to the steps' walk: fixed bytes (K_FIXED: everything but the jumps and exits,
// the calls included), an exit, a JA, a conditional jump. Opcodes do_jit's model does not cover get
// no fixed bytes (fixedBytes -1): the per-insn passes throw as the model does.
const K_FIXED = 0;
const K_EXIT = 1;
const K_JA = 2;
const K_COND = 3;
const KIND_OF = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const cls = c & 0x07;
  const op = c & 0xf0;
  const is64 = cls === 0x05;
  if (cls !== 0x05 && cls !== 0x06) KIND_OF[c] = K_FIXED;
  else if (is64 && op === 0x80) KIND_OF[c] = K_FIXED; // a call
  else if (is64 && op === 0x90) KIND_OF[c] = K_EXIT;
  else if (op === 0x00) KIND_OF[c] = K_JA;
  else if (((COND_OPS >>> (op >> 4)) & 1) !== 0) KIND_OF[c] = K_COND;
  else KIND_OF[c] = K_FIXED; // not modelled: fixedBytes -1
}

// The fixed bytes of an insn read imm and off only through: == 0, == 1, == 16, == 32, == 64, < 0 and
// isImm8 (imm); == 0, == 8, == 16, == 32 and isImm8 (off). These classes refine every such question,
// so (code, dst, src, imm class, off class) determines the bytes under given facts
// (test/engine/jit.test.ts checks this on random instructions).
/** imm + 128 -> class for imm in [-128, 127]; 7: > 127; 8: < -128 */
const IMM_CLASS = new Uint8Array(256);
/** off + 128 -> class for off in [-128, 127]; 5 outside */
const OFF_CLASS = new Uint8Array(256);
for (let v = -128; v < 128; v++) {
  IMM_CLASS[v + 128] = v === 0 ? 0 : v === 1 ? 1 : v === 16 ? 2 : v === 32 ? 3 : v === 64 ? 4 : v > 0 ? 5 : 6;
  OFF_CLASS[v + 128] = v === 0 ? 0 : v === 8 ? 1 : v === 16 ? 2 : v === 32 ? 3 : 4;
}
/** a cached value for an insn that leaves the steps (not modelled, a call with imm 0, too long) */
const FIXED_SLOW = 255;
/** the fixed bytes' cache: FIXED_SLOTS slots, direct-mapped by a hash of the key */
const FIXED_BITS = 12;
/** the caches by facts */
const fixedCaches = new WeakMap<X86JitFacts, FixedCache>();

/** Fixed bytes by key (fixedKey): a small direct-mapped cache (a table of every key would be megabytes, slow to reach). */
class FixedCache {
  /** the key held by each slot (-1: none) */
  readonly keys = new Int32Array(1 << FIXED_BITS).fill(-1);
  /** the fixed bytes of that key, or FIXED_SLOW */
  readonly bytes = new Uint8Array(1 << FIXED_BITS);
  /** prologue + 1 and epilogue + 1 by frame (0: not yet known) */
  private readonly prologues = new Int32Array(64);
  private readonly epilogues = new Int32Array(64);
  private readonly used = [false, false, false, false];
  constructor(readonly facts: X86JitFacts) {}

  /** frame: (R6..R9 named, as 4 bits) << 2 | (stack depth not 0) << 1 | was classic */
  private frame(f: number): void {
    const facts = this.facts;
    const used = this.used;
    for (let b = 0; b < 4; b++) used[b] = ((f >>> (2 + b)) & 1) !== 0;
    const wasClassic = (f & 1) !== 0;
    // emit_prologue and push_callee_regs; the first exit: the BHB barrier, pop_callee_regs, leave, emit_return
    this.prologues[f] = emitPrologue(f & 2, wasClassic, facts) + pushCalleeRegs(used) + 1;
    this.epilogues[f] = (facts.bhbBarrier && wasClassic && !facts.capSysAdmin ? emitSpectreBhbBarrier(facts) : 0) + popCalleeRegs(used) + 1 + emitReturn(facts) + 1;
  }

  prologue(f: number): number {
    if (this.prologues[f] === 0) this.frame(f);
    return this.prologues[f]! - 1;
  }

  epilogue(f: number): number {
    if (this.epilogues[f] === 0) this.frame(f);
    return this.epilogues[f]! - 1;
  }

  /** an insn's fixed bytes (fixedBytes, FIXED_SLOW where the steps cannot take it), by its key (fixedKey) in the cache */
  bytesOf(c: number, d: number, r: number, o: number, x: number): number {
    const key = fixedKey(c, d, r, o, x);
    const h = Math.imul(key, 0x9e3779b1) >>> (32 - FIXED_BITS);
    return this.keys[h] === key ? this.bytes[h]! : this.fill(h, key, c, d, r, o, x);
  }

  /** the slot's value after filling it for this insn */
  private fill(h: number, key: number, c: number, d: number, r: number, o: number, x: number): number {
    const n = fixedBytes(c, d, r, o, x, this.facts);
    const v = n < 0 || n > BPF_MAX_INSN_SIZE ? FIXED_SLOW : n;
    this.keys[h] = key;
    this.bytes[h] = v;
    return v;
  }
}

function fixedCache(facts: X86JitFacts): FixedCache {
  let t = fixedCaches.get(facts);
  if (t === undefined) fixedCaches.set(facts, (t = new FixedCache(facts)));
  return t;
}

/** The key of an insn (its code, dst, src, imm class, off class): every insn of a key has the same fixed bytes under given facts. */
export function fixedKey(c: number, d: number, r: number, o: number, x: number): number {
  const xi = x + 128;
  const oi = o + 128;
  return (c << 16) | (d << 12) | (r << 8) | ((xi >>> 0 < 256 ? IMM_CLASS[xi]! : x > 0 ? 7 : 8) << 4) | (oi >>> 0 < 256 ? OFF_CLASS[oi]! : 5);
}

/**
 * The bytes of one insn that do not depend on addrs[]: a fixed insn's (staticLength), a conditional
 * jump's compare before the jcc, 0 for an exit and a JA; -1 where the steps cannot take it (not
 * modelled, BPF_PSEUDO_CALL, a call with imm 0: the per-insn passes give the model's outcome).
 */
export function fixedBytes(c: number, d: number, r: number, o: number, x: number, facts: X86JitFacts): number {
  const kd = KIND_OF[c]!;
  if (kd === K_EXIT || kd === K_JA) return 0;
  if (kd === K_COND) {
    const is64 = (c & 0x07) === 0x05;
    // :2449 cmp / :2475 test dst, src; :2483 test dst, imm32; :2514 test dst, dst; :2519 cmp dst, imm
    return (c & 0x08) !== 0 ? maybeEmitMod(d, r, is64) + 2 : (c & 0xf0) === 0x40 ? maybeEmit1mod(d, is64) + 6 : x === 0 ? maybeEmitMod(d, d, is64) + 2 : maybeEmit1mod(d, is64) + (isImm8(x) ? 3 : 6);
  }
  const cls = c & 0x07;
  if ((cls === 0x05 || cls === 0x06) && (c !== 0x85 || x === 0)) return -1; // not modelled, or a call with imm 0
  try {
    return staticLength(c, d, r, o, x, facts, 0);
  } catch {
    return -1;
  }
}

/** The engine's x86-64 JIT sizing, with buffers reused from program to program. */
export class EngineJit {
  private addrs = new Int32Array(0);
  private kind = new Uint8Array(0);
  /** STATIC: the insn's bytes; COND: the compare's bytes before the jcc */
  private bytes = new Int32Array(0);

  private reserve(n: number): void {
    if (n <= this.kind.length) return;
    const cap = Math.max(n, 2 * this.kind.length, 256);
    this.addrs = new Int32Array(cap + 1);
    this.kind = new Uint8Array(cap);
    this.bytes = new Int32Array(cap);
  }

  // model/jit/x86.ts bpfIntJitCompile (arch/x86/net/bpf_jit_comp.c:3645)
  /** The JIT's outcome for the `p.len` instructions of `p` (`passes` left empty). */
  /** addrs[] after the last pass that completed (keepLayout), and whether there was one */
  private good = new Int32Array(0);
  private goodLen = -1;

  /**
   * addrs[] of the last sizing or emitting pass that completed in the last compile(.., keepLayout):
   * [0] the prologue's end, [i] the end of insn i - 1 (what model/jit/x86.ts's passes record as
   * lengths); null when the first pass failed.
   */
  lastLayout(): Int32Array | null {
    return this.goodLen < 0 ? null : this.good.slice(0, this.goodLen + 1);
  }

  private layoutOutcome: JitResult | null = null;

  /** The JIT's outcome on the program of the last layout() (what compile() gives; `passes` empty). */
  get layoutResult(): JitResult {
    if (this.layoutOutcome === null) throw new Error('EngineJit.layoutResult: no layout yet');
    return this.layoutOutcome;
  }

  /** layout()'s addrs[] */
  private lay = new Int32Array(0);
  /** what the last steps() that ran its passes leaves for layout(): its number of steps, the prologue's bytes */
  private stSteps = 0;
  private stPrologue = 0;

  // model/jit/x86.ts bpfIntJitCompile (arch/x86/net/bpf_jit_comp.c:3645): addrs[] of its last completed pass
  /**
   * addrs[] of the last sizing or emitting pass that completed on `p` (what compile(p, .., true) then
   * lastLayout() give, and what the model's passes record as prologue and lengths), or null when
   * the first pass failed. Where the steps jit the program, from their passes: at a boundary, the
   * steps' address (`at`, the last pass's: a fixed point's image pass would repeat it); inside a step,
   * the boundary before plus the fixed bytes of the insns between (the same in every pass). Anything
   * else (a refusal, a program the steps leave) goes through the per-insn passes. The array is this
   * engine's, overwritten by the next layout().
   */
  layout(p: EbpfBuffer, stackDepth: number, wasClassic: boolean, facts: X86JitFacts): Int32Array | null {
    this.goodLen = -1;
    const r = this.steps(p, stackDepth, wasClassic, facts);
    this.layoutOutcome = r;
    if (r === null || !r.jited) {
      this.layoutOutcome = this.perInsn(p, stackDepth, wasClassic, facts, true);
      return this.goodLen < 0 ? null : this.good.subarray(0, this.goodLen + 1);
    }
    const len = p.len;
    if (this.lay.length < len + 1) this.lay = new Int32Array(Math.max(len + 1, 2 * this.lay.length, 256));
    const lay = this.lay;
    const cache = this.cache!;
    const at = this.at;
    const stEnd = this.stEnd;
    const code = p.code;
    const dst = p.dst;
    const src = p.src;
    const off = p.off;
    const imm = p.imm;
    let cur = this.stPrologue;
    lay[0] = cur;
    let j = 1;
    let next = this.stSteps >= 1 ? stEnd[1]! : -1;
    for (let k = 0; k < len; k++) {
      const i = k + 1;
      if (i === next) {
        cur = at[j]!;
        j++;
        next = j <= this.stSteps ? stEnd[j]! : -1;
      } else {
        // a fixed insn inside a step: its bytes by its key, as the steps' walk took them
        cur += cache.bytesOf(code[k]!, dst[k]!, src[k]!, off[k]!, imm[k]!);
      }
      lay[i] = cur;
    }
    return lay.subarray(0, len + 1);
  }

  compile(p: EbpfBuffer, stackDepth: number, wasClassic: boolean, facts: X86JitFacts, keepLayout = false): JitResult {
    this.goodLen = -1;
    if (!keepLayout) {
      const r = this.steps(p, stackDepth, wasClassic, facts);
      if (r !== null) return r;
    }
    return this.perInsn(p, stackDepth, wasClassic, facts, keepLayout);
  }

  // The per-instruction passes: every program steps() leaves (a backward jump, a target outside the
  // program, an instruction that fails by itself or is not modelled), and the layouts of lastLayout().
  private perInsn(p: EbpfBuffer, stackDepth: number, wasClassic: boolean, facts: X86JitFacts, keepLayout: boolean): JitResult {
    this.lastPath = 'insns';
    const len = p.len;
    this.reserve(len);
    const addrs = this.addrs;
    const kind = this.kind;
    const bytes = this.bytes;
    const code = p.code;
    const dst = p.dst;
    const src = p.src;
    const off = p.off;
    const imm = p.imm;
    // detect_reg_usage (R6..R9, as bits of the registers seen) in the same walk as the sizes
    let regs = 0;
    for (let k = 0; k < len; k++) {
      const rd = dst[k]!;
      const rs = src[k]!;
      regs |= (rd < 16 ? 1 << rd : 0) | (rs < 16 ? 1 << rs : 0);
      const c = code[k]!;
      const cls = c & 0x07;
      if (cls !== 0x05 && cls !== 0x06) {
        kind[k] = STATIC;
        bytes[k] = staticLength(c, dst[k]!, src[k]!, off[k]!, imm[k]! | 0, facts, k);
        continue;
      }
      const is64 = cls === 0x05;
      const op = c & 0xf0;
      if (is64 && op === 0x80) {
        if ((imm[k]! | 0) === 0 && src[k] !== 1) kind[k] = CALL_IMM_ZERO;
        else {
          kind[k] = STATIC;
          bytes[k] = staticLength(c, dst[k]!, src[k]!, off[k]!, imm[k]! | 0, facts, k);
        }
      } else if (is64 && op === 0x90) kind[k] = EXIT;
      else if (op === 0x00) kind[k] = JA;
      else {
        if (((COND_OPS >>> (op >> 4)) & 1) === 0) unmodelled(c, k);
        kind[k] = COND;
        const d = dst[k]!;
        const i = imm[k]! | 0;
        // :2449 cmp / :2475 test dst, src; :2483 test dst, imm32; :2514 test dst, dst; :2519 cmp dst, imm
        bytes[k] = (c & 0x08) !== 0 ? maybeEmitMod(d, src[k]!, is64) + 2 : op === 0x40 ? maybeEmit1mod(d, is64) + 6 : i === 0 ? maybeEmitMod(d, d, is64) + 2 : maybeEmit1mod(d, is64) + (isImm8(i) ? 3 : 6);
      }
    }
    const used = [(regs & (1 << 6)) !== 0, (regs & (1 << 7)) !== 0, (regs & (1 << 8)) !== 0, (regs & (1 << 9)) !== 0];
    const prologue = emitPrologue(stackDepth, wasClassic, facts) + pushCalleeRegs(used);
    const exitBytes = (facts.bhbBarrier && wasClassic && !facts.capSysAdmin ? emitSpectreBhbBarrier(facts) : 0) + popCalleeRegs(used) + 1 + emitReturn(facts);
    // :3726 the first estimate: 64 bytes per insn
    let proglen = 0;
    for (let i = 0; i <= len; i++) {
      proglen += 64;
      addrs[i] = proglen;
    }
    let cleanup = proglen;
    let oldproglen = 0;
    let padding = false;
    let image = false;
    let failure: JitFailure | null = null;
    this.failedAt = -1;
    for (let pass = 0; pass < MAX_PASSES || image; pass++) {
      if (!padding && pass >= PADDING_PASSES) padding = true;
      // do_jit (:1622)
      proglen = prologue;
      addrs[0] = proglen;
      let seenExit = false;
      for (let i = 1; i <= len && failure === null; i++) {
        const k = i - 1;
        let ilen: number;
        switch (kind[k]) {
          case STATIC:
            ilen = bytes[k]!;
            break;
          case COND: {
            const n = bytes[k]!;
            const jmpOffset = addrs[i + off[k]!]! - addrs[i]!;
            if (isImm8JmpOffset(jmpOffset, facts)) {
              let nops = 0;
              if (padding) {
                nops = addrs[i]! - addrs[i - 1]! - n - 2;
                if (nops !== 0 && nops !== 4) {
                  failure = this.fail('jmp-cond-padding', `unexpected jmp_cond padding: ${nops} bytes`, k);
                  continue;
                }
              }
              ilen = n + nops + 2;
            } else if (isSimm32(jmpOffset)) ilen = n + 6;
            else {
              failure = this.fail('jmp-cond-padding', `cond_jmp gen bug ${jmpOffset.toString(16)}`, k);
              continue;
            }
            break;
          }
          case EXIT:
            if (!seenExit) {
              seenExit = true;
              cleanup = proglen;
              ilen = exitBytes;
              break;
            }
            ilen = this.jmp(cleanup - addrs[i]!, i, padding, facts);
            if (ilen < 0) failure = this.fail('jmp-padding', ilen === -1 ? `unexpected jump padding: ${addrs[i]! - addrs[i - 1]! - 2} bytes` : `jmp gen bug ${(cleanup - addrs[i]!).toString(16)}`, k);
            break;
          case JA: {
            const o = (code[k]! & 0x07) === 0x05 ? off[k]! : imm[k]! | 0;
            const jmpOffset = o === -1 ? -2 : addrs[i + o]! - addrs[i]!;
            if (jmpOffset === 0) {
              if (!padding) ilen = 0;
              else {
                const nops = addrs[i]! - addrs[i - 1]!;
                if (nops !== 0 && nops !== 2 && nops !== 5) failure = this.fail('nop-jump-padding', `unexpected nop jump padding: ${nops} bytes`, k);
                ilen = Math.max(nops, 0);
              }
              break;
            }
            ilen = this.jmp(jmpOffset, i, padding, facts);
            if (ilen < 0) failure = this.fail('jmp-padding', ilen === -1 ? `unexpected jump padding: ${addrs[i]! - addrs[i - 1]! - 2} bytes` : `jmp gen bug ${jmpOffset.toString(16)}`, k);
            break;
          }
          default: // CALL_IMM_ZERO
            failure = this.fail('call-imm-zero', 'call with imm 0', k);
            continue;
        }
        if (failure !== null) break;
        if (ilen > BPF_MAX_INSN_SIZE) {
          failure = this.fail('insn-size', 'bpf_jit: fatal insn size error', k);
          break;
        }
        if (image && (proglen + ilen > oldproglen || proglen + ilen !== addrs[i]!)) {
          failure = this.fail('emit-mismatch', 'bpf_jit: fatal error', k);
          break;
        }
        proglen += ilen;
        addrs[i] = proglen;
      }
      if (failure !== null) return { jited: false, reason: failure, message: this.message, pass, insn: this.failedAt, passes: NO_PASSES, blinded: null, blindedFrom: null };
      if (keepLayout) {
        if (this.good.length < len + 1) this.good = new Int32Array(addrs.length);
        this.good.set(addrs.subarray(0, len + 1));
        this.goodLen = len;
      }
      if (image) {
        if (proglen !== oldproglen) return { jited: false, reason: 'proglen-mismatch', message: `bpf_jit: proglen=${proglen} != oldproglen=${oldproglen}`, pass, insn: null, passes: NO_PASSES, blinded: null, blindedFrom: null };
        return { jited: true, proglen, jitedLen: proglen - cfiGetOffset(facts), passes: NO_PASSES, blinded: null, blindedFrom: null };
      }
      if (proglen === oldproglen) image = true;
      oldproglen = proglen;
    }
    return { jited: false, reason: 'not-converged', message: null, pass: MAX_PASSES, insn: null, passes: NO_PASSES, blinded: null, blindedFrom: null };
  }

  // Steps: the passes over steps instead of instructions. A step is the segment between two
  // boundaries, where the boundaries are the program's end, the end of each jump (a conditional
  // jump, a JA, an exit) and each jump's target: a run of instructions with fixed bytes and at most
  // one jump, its last instruction. The step's prefix is the sum of the bytes that do not change from
  // pass to pass: its fixed instructions' and its conditional jump's compare (emitted before the jcc,
  // `sofar` in emit_cond_jmp). Exact because do_jit reads addrs[] only at a jump's two ends
  // (addrs[i - 1], this pass's, and addrs[i], the previous pass's) and at its target (a boundary),
  // and a run of fixed bytes ends where it starts plus its sum in every pass; in the emitting pass,
  // the checks of the prefix's instructions hold whenever they hold at its start (the previous step's
  // end, checked there, or the prologue), so do_jit fails at the jump if anywhere. The fatal insn
  // size check cannot fire at a jump (at most 7 bytes of compare and 6 of jcc and nops, or 5 of jmp)
  // and is made once for the first exit's epilogue. Also: a pass that changes no address is a fixed
  // point, so the image pass it starts would repeat it exactly, with padding or without (every
  // jump's nops are then its previous bytes less its encoding, which the checks accept): not run.
  //
  // The walk that builds the steps is the only walk over the instructions: the fixed bytes come from
  // the facts' cache (FixedCache), the targets are marked as the walk meets their jumps (a forward
  // jump's target lies ahead); pass 0, on the first estimates, runs in the loop that maps the
  // targets to steps. Before PADDING_PASSES and the emitting pass, a pass needs no nops and no checks.
  /** the step's boundary: the insn index i (1-based) whose addrs[i] ends it */
  private stEnd = new Int32Array(0);
  /** the step's bytes that do not change (its fixed instructions', its conditional jump's compare) */
  private stPrefix = new Int32Array(0);
  /** K_FIXED (no jump), K_EXIT, K_JA or K_COND */
  private stKind = new Uint8Array(0);
  /** K_COND, K_JA: the target's step (whose end is the target's addrs[]), or -1 (a JA with offset -1: jmp_offset -2, no target read) */
  private stTarget = new Int32Array(0);
  /** the step that ends at boundary i */
  private slotOf = new Int32Array(0);
  /** addrs[] at the boundaries, by step: at[j] = addrs[stEnd[j]] */
  private at = new Int32Array(0);
  /** mark[i] === gen: i is a boundary (a jump's target, the end) in the compile under way */
  private mark = new Int32Array(0);
  private gen = 0;
  /** a repeat's period: each insn's fixed bytes, kind and jump offset (the walk's) */
  private tBytes = new Int32Array(64);
  private tKind = new Uint8Array(64);
  private tJump = new Int32Array(64);
  /** a repeat's pattern: the period's own targets (pMark[t], t in 1..period), its steps' ends, prefixes and targets relative to the period's start */
  private pMark = new Uint8Array(65);
  private pEnd = new Int32Array(64);
  private pPrefix = new Int32Array(64);
  private pTarget = new Int32Array(64);
  /** the fixed bytes' cache of the last facts */
  private cache: FixedCache | null = null;
  /** which passes the last compile took: 'steps' or 'insns' (for the tests) */
  lastPath: 'steps' | 'insns' = 'steps';

  private failed(reason: JitFailure, message: string, pass: number, insn: number): JitResult {
    return { jited: false, reason, message, pass, insn, passes: NO_PASSES, blinded: null, blindedFrom: null };
  }

  /** The outcome by steps, or null (a program for the per-instruction passes). */
  private steps(p: EbpfBuffer, stackDepth: number, wasClassic: boolean, facts: X86JitFacts): JitResult | null {
    const len = p.len;
    // every address below stays in [0, 2^31): at most 64 bytes per insn at first, 128 after
    if (len > 1 << 22) return null;
    if (this.at.length < len + 1) {
      const cap = Math.max(len + 1, 2 * this.at.length, 256);
      this.stEnd = new Int32Array(cap);
      this.stPrefix = new Int32Array(cap);
      this.stKind = new Uint8Array(cap);
      this.stTarget = new Int32Array(cap);
      this.at = new Int32Array(cap);
      this.slotOf = new Int32Array(cap);
      this.mark = new Int32Array(cap);
      this.gen = 0;
    }
    if (this.cache === null || facts !== this.cache.facts) this.cache = fixedCache(facts);
    const cache = this.cache;
    let gen = this.gen + 1;
    if (gen > 0x3fffffff) {
      this.mark.fill(0);
      gen = 1;
    }
    this.gen = gen;
    const mark = this.mark;
    mark[len] = gen;
    const at = this.at;
    const stEnd = this.stEnd;
    const stPrefix = this.stPrefix;
    const stKind = this.stKind;
    const stTarget = this.stTarget;
    const slotOf = this.slotOf;
    // the walk into steps (the converter's repeats, EbpfBuffer.reps, a period at a time), and
    // detect_reg_usage (R6..R9, as bits of the registers seen) in the same walk
    const s = this.walk(p);
    if (s < 0) return null;
    const regs = this.wRegs;
    // detect_reg_usage: R6..R9 as 4 bits
    const frame = (((regs >>> 6) & 15) << 2) | (stackDepth !== 0 ? 2 : 0) | (wasClassic ? 1 : 0);
    const prologue = cache.prologue(frame);
    const exitBytes = cache.epilogue(frame);
    if (exitBytes > BPF_MAX_INSN_SIZE) return null;
    this.lastPath = 'steps';
    this.stSteps = s;
    this.stPrologue = prologue;
    // model/jit/emit.ts isImm8JmpOffset: [-128, facts.shortJumpMax]
    const shortMax = facts.shortJumpMax;
    // pass 0: do_jit on the first estimates (:3726, 64 bytes per insn: addrs[i] = 64 * (i + 1)), in the
    // loop that turns the targets into steps (each target is a boundary, marked before the walk
    // reached it). No failure is possible in it, and its total is never oldproglen (0).
    let cleanup = 0;
    let proglen0 = prologue;
    let seen0 = false;
    for (let j = 1; j <= s; j++) {
      const kd = stKind[j]!;
      const e = stEnd[j]!;
      proglen0 += stPrefix[j]!;
      if (kd === K_COND || kd === K_JA) {
        const t = stTarget[j]!;
        let jmpOffset = -2;
        if (t >= 0) {
          stTarget[j] = slotOf[t]!;
          jmpOffset = 64 * (t - e);
        }
        const short = jmpOffset <= shortMax && jmpOffset >= -128;
        proglen0 += kd === K_COND ? (short ? 2 : 6) : jmpOffset === 0 ? 0 : short ? 2 : 5;
      } else if (kd === K_EXIT) {
        if (!seen0) {
          seen0 = true;
          cleanup = proglen0;
          proglen0 += exitBytes;
        } else {
          const jmpOffset = cleanup - 64 * (e + 1);
          proglen0 += jmpOffset <= shortMax && jmpOffset >= -128 ? 2 : 5;
        }
      }
      at[j] = proglen0;
    }
    let oldproglen = proglen0;
    let padding = false;
    let image = false;
    for (let pass = 1; pass < MAX_PASSES || image; pass++) {
      if (pass >= PADDING_PASSES) padding = true;
      // do_jit (:1622)
      let proglen = prologue;
      // old ^ new of every address, or-ed: 0 when none changed
      let diff = 0;
      let seenExit = false;
      if (!padding && !image) {
        // a sizing pass before PADDING_PASSES: no nops, no emitting checks, and no "gen bug" (every
        // address is in [0, 2^31), so every displacement is an s32)
        for (let j = 1; j <= s; j++) {
          const old = at[j]!;
          proglen += stPrefix[j]!;
          const kd = stKind[j]!;
          if (kd === K_COND) {
            const jmpOffset = at[stTarget[j]!]! - old;
            proglen += jmpOffset <= shortMax && jmpOffset >= -128 ? 2 : 6;
          } else if (kd === K_JA) {
            const t = stTarget[j]!;
            const jmpOffset = t === -1 ? -2 : at[t]! - old;
            proglen += jmpOffset === 0 ? 0 : jmpOffset <= shortMax && jmpOffset >= -128 ? 2 : 5;
          } else if (kd === K_EXIT) {
            if (!seenExit) {
              seenExit = true;
              cleanup = proglen;
              proglen += exitBytes;
            } else {
              const jmpOffset = cleanup - old;
              proglen += jmpOffset <= shortMax && jmpOffset >= -128 ? 2 : 5;
            }
          }
          diff |= old ^ proglen;
          at[j] = proglen;
        }
      } else for (let j = 1; j <= s; j++) {
        const e = stEnd[j]!;
        // addrs[i] of the previous pass at the step's end
        const old = at[j]!;
        proglen += stPrefix[j]!;
        const kd = stKind[j]!;
        if (kd !== K_FIXED) {
          let ilen: number;
          if (kd === K_COND) {
            // emit_cond_jmp, after the compare (in the prefix)
            const jmpOffset = at[stTarget[j]!]! - old;
            if (jmpOffset <= shortMax && jmpOffset >= -128) {
              if (padding) {
                const nops = old - proglen - 2;
                if (nops !== 0 && nops !== 4) return this.failed('jmp-cond-padding', `unexpected jmp_cond padding: ${nops} bytes`, pass, e - 1);
                ilen = nops + 2;
              } else ilen = 2;
            } else if (jmpOffset === (jmpOffset | 0)) ilen = 6;
            else return this.failed('jmp-cond-padding', `cond_jmp gen bug ${jmpOffset.toString(16)}`, pass, e - 1);
          } else if (kd === K_EXIT && !seenExit) {
            seenExit = true;
            cleanup = proglen;
            ilen = exitBytes;
          } else {
            // emit_jmp: an exit after the first (to the first's epilogue), a JA
            let jmpOffset: number;
            let nop = false;
            if (kd === K_EXIT) jmpOffset = cleanup - old;
            else {
              const t = stTarget[j]!;
              jmpOffset = t === -1 ? -2 : at[t]! - old;
              nop = jmpOffset === 0;
            }
            if (nop) {
              // a JA to the next insn: nothing, padded to its last size from PADDING_PASSES on
              if (!padding) ilen = 0;
              else {
                const nops = old - proglen;
                if (nops !== 0 && nops !== 2 && nops !== 5) return this.failed('nop-jump-padding', `unexpected nop jump padding: ${nops} bytes`, pass, e - 1);
                ilen = nops;
              }
            } else if (jmpOffset <= shortMax && jmpOffset >= -128) {
              if (padding) {
                const nops = old - proglen - 2;
                if (nops !== 0 && nops !== 3) return this.failed('jmp-padding', `unexpected jump padding: ${nops} bytes`, pass, e - 1);
                ilen = nops + 2;
              } else ilen = 2;
            } else if (jmpOffset === (jmpOffset | 0)) ilen = 5;
            else return this.failed('jmp-padding', `jmp gen bug ${jmpOffset.toString(16)}`, pass, e - 1);
          }
          if (image && (proglen + ilen > oldproglen || proglen + ilen !== old)) return this.failed('emit-mismatch', 'bpf_jit: fatal error', pass, e - 1);
          proglen += ilen;
        }
        diff |= old ^ proglen;
        at[j] = proglen;
      }
      if (image) {
        if (proglen !== oldproglen) return { jited: false, reason: 'proglen-mismatch', message: `bpf_jit: proglen=${proglen} != oldproglen=${oldproglen}`, pass, insn: null, passes: NO_PASSES, blinded: null, blindedFrom: null };
        return { jited: true, proglen, jitedLen: proglen - cfiGetOffset(facts), passes: NO_PASSES, blinded: null, blindedFrom: null };
      }
      if (proglen === oldproglen) {
        // a fixed point: the image pass would repeat this pass exactly
        if (diff === 0) return { jited: true, proglen, jitedLen: proglen - cfiGetOffset(facts), passes: NO_PASSES, blinded: null, blindedFrom: null };
        image = true;
      }
      oldproglen = proglen;
    }
    return { jited: false, reason: 'not-converged', message: null, pass: MAX_PASSES, insn: null, passes: NO_PASSES, blinded: null, blindedFrom: null };
  }

  /** what walk() leaves besides the steps: the registers seen (detect_reg_usage), as bits */
  private wRegs = 0;

  // steps()'s walk: each insn's fixed bytes by its key in the cache, summed into steps (a boundary at
  // each jump's end, each target, the end); each of the converter's repeats (EbpfBuffer.reps) by
  // walkRepeat. The number of steps, or -1 (a program for the per-instruction passes).
  private walk(p: EbpfBuffer): number {
    const len = p.len;
    const cache = this.cache!;
    const mark = this.mark;
    const gen = this.gen;
    const stEnd = this.stEnd;
    const stPrefix = this.stPrefix;
    const stKind = this.stKind;
    const stTarget = this.stTarget;
    const slotOf = this.slotOf;
    const code = p.code;
    const dst = p.dst;
    const src = p.src;
    const off = p.off;
    const imm = p.imm;
    let s = 0;
    let sum = 0;
    let regs = 0;
    // the converter's repeats (EbpfBuffer.reps): insn e equals insn e - period on [start, end)
    const nrep = p.nrep;
    const reps = p.reps;
    let k = 0;
    for (let ri = 0; ; ri++) {
      // the insns up to the next repeat, each by its key in the cache
      const stop = ri < nrep ? reps[3 * ri]! : len;
      if (stop < k || stop > len) return -1;
      for (; k < stop; k++) {
        const c = code[k]!;
        const d = dst[k]!;
        const r = src[k]!;
        if ((d | r) > 15) return -1;
        regs |= (1 << d) | (1 << r);
        const x = imm[k]!;
        const o = off[k]!;
        const v = cache.bytesOf(c, d, r, o, x);
        if (v === FIXED_SLOW) return -1;
        sum += v;
        const kd = KIND_OF[c]!;
        const i = k + 1;
        if (kd === K_FIXED && mark[i] !== gen) continue;
        // a boundary: the end of a jump, a target, the end
        s++;
        stEnd[s] = i;
        slotOf[i] = s;
        stPrefix[s] = sum;
        stKind[s] = kd;
        sum = 0;
        if (kd < K_JA) continue;
        const jo = kd === K_COND || (c & 0x07) === 0x05 ? o : x;
        if (kd === K_JA && jo === -1) stTarget[s] = -1;
        else {
          const t = i + jo;
          if (t < i || t > len) return -1; // a backward jump, a target outside the program
          mark[t] = gen;
          stTarget[s] = t;
        }
      }
      if (ri >= nrep) break;
      // a repeat (EbpfBuffer.reps) from k on
      const end = reps[3 * ri + 1]!;
      const period = reps[3 * ri + 2]!;
      if (end > len || period <= 0 || period > k || (end - k) % period !== 0) return -1;
      if (!this.walkRepeat(p, k, end, period, s, sum)) return -1;
      s = this.wSteps;
      sum = this.wSum;
      k = end;
    }
    this.wRegs = regs;
    return s;
  }

  /** no boundary of the compile under way marked in [from, to) */
  private unmarked(from: number, to: number): boolean {
    const mark = this.mark;
    const gen = this.gen;
    for (let i = from; i < to; i++) if (mark[i] === gen) return false;
    return true;
  }

  /** what walkRepeat leaves: the steps, the bytes since the last boundary */
  private wSteps = 0;
  private wSum = 0;

  // steps() on a repeat: insns k..end - 1, each equal to the insn a period before (already walked),
  // so its fixed bytes, kind and jump offset are those of the period before, without the key and the
  // cache; its registers are already seen. False: a program for the per-instruction passes.
  private walkRepeat(p: EbpfBuffer, k: number, end: number, period: number, s: number, sum: number): boolean {
    const len = p.len;
    const code = p.code;
    const dst = p.dst;
    const src = p.src;
    const off = p.off;
    const imm = p.imm;
    const cache = this.cache!;
    const mark = this.mark;
    const gen = this.gen;
    const stEnd = this.stEnd;
    const stPrefix = this.stPrefix;
    const stKind = this.stKind;
    const stTarget = this.stTarget;
    const slotOf = this.slotOf;
    if (this.tBytes.length < period) {
      this.tBytes = new Int32Array(2 * period);
      this.tKind = new Uint8Array(2 * period);
      this.tJump = new Int32Array(2 * period);
    }
    const tBytes = this.tBytes;
    const tKind = this.tKind;
    const tJump = this.tJump;
    for (let q = 0, e = k - period; q < period; q++, e++) {
      const c = code[e]!;
      const d = dst[e]!;
      const r = src[e]!;
      const x = imm[e]!;
      const o = off[e]!;
      tBytes[q] = cache.bytesOf(c, d, r, o, x);
      const kd = KIND_OF[c]!;
      tKind[q] = kd;
      tJump[q] = kd === K_COND || (c & 0x07) === 0x05 ? o : x;
    }
    // The period's steps when its only boundaries are its own jumps' ends and targets: every jump
    // forward to within the period (its end included), no target of an earlier jump in it (none
    // marked there yet), and not the program's end (marked from the start). Then each period's steps
    // are the pattern's, moved along, and the walk takes a period at a time.
    let np = 0;
    let tail = 0;
    let pattern = true;
    const pMark = this.pMark.length > period ? this.pMark : (this.pMark = new Uint8Array(2 * period + 1));
    pMark.fill(0, 0, period + 1);
    for (let q = 0; q < period; q++) {
      const kd = tKind[q]!;
      if (kd < K_JA || (kd === K_JA && tJump[q] === -1)) continue;
      const t = q + 1 + tJump[q]!;
      if (t < q + 1 || t > period) {
        pattern = false;
        break;
      }
      pMark[t] = 1;
    }
    if (this.pEnd.length < period) {
      this.pEnd = new Int32Array(2 * period);
      this.pPrefix = new Int32Array(2 * period);
      this.pTarget = new Int32Array(2 * period);
    }
    const pEnd = this.pEnd;
    const pPrefix = this.pPrefix;
    const pTarget = this.pTarget;
    if (pattern) {
      for (let q = 0; q < period; q++) {
        tail += tBytes[q]!;
        const kd = tKind[q]!;
        if (kd === K_FIXED && pMark[q + 1] === 0) continue;
        pEnd[np] = q + 1;
        pPrefix[np] = tail;
        pTarget[np] = kd < K_JA ? 0 : kd === K_JA && tJump[q] === -1 ? -1 : q + 1 + tJump[q]!;
        np++;
        tail = 0;
      }
    }
    while (k < end) {
      if (pattern && k + period < len && this.unmarked(k + 1, k + period + 1)) {
        // a period by the pattern
        for (let x = 0; x < np; x++) {
          const q = pEnd[x]! - 1;
          const kd = tKind[q]!;
          const i = k + q + 1;
          s++;
          stEnd[s] = i;
          slotOf[i] = s;
          stPrefix[s] = sum + pPrefix[x]!;
          stKind[s] = kd;
          sum = 0;
          if (kd >= K_JA) {
            const t = pTarget[x]!;
            stTarget[s] = t === -1 ? -1 : k + t;
          }
        }
        sum += tail;
        k += period;
        continue;
      }
      // a period insn by insn
      for (let q = 0; q < period; q++, k++) {
        const v = tBytes[q]!;
        const kd = tKind[q]!;
        sum += v;
        const i = k + 1;
        if (kd === K_FIXED && mark[i] !== gen) continue;
        s++;
        stEnd[s] = i;
        slotOf[i] = s;
        stPrefix[s] = sum;
        stKind[s] = kd;
        sum = 0;
        if (kd < K_JA) continue;
        const jo = tJump[q]!;
        if (kd === K_JA && jo === -1) stTarget[s] = -1;
        else {
          const t = i + jo;
          if (t < i || t > len) return false;
          mark[t] = gen;
          stTarget[s] = t;
        }
      }
    }
    this.wSteps = s;
    this.wSum = sum;
    return true;
  }

  /** the failure's message and eBPF insn (set by fail) */
  private message = '';
  private failedAt = -1;

  private fail(reason: JitFailure, message: string, k: number): JitFailure {
    this.message = message;
    this.failedAt = k;
    return reason;
  }

  // model/jit/x86.ts emitJmp (:2654 emit_jmp): the bytes, or -1 (bad padding), -2 (no encoding)
  private jmp(jmpOffset: number, i: number, padding: boolean, facts: X86JitFacts): number {
    const addrs = this.addrs;
    if (isImm8JmpOffset(jmpOffset, facts)) {
      if (!padding) return 2;
      const nops = addrs[i]! - addrs[i - 1]! - 2;
      if (nops !== 0 && nops !== 3) return -1;
      return Math.max(nops, 0) + 2;
    }
    if (isSimm32(jmpOffset)) return 5;
    return -2;
  }
}
