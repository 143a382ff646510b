// The engine of model/jit/x86.ts bpfIntJitCompile (arch/x86/net/bpf_jit_comp.c:3645): the x86-64
// JIT's passes as lengths, on the converter's instruction buffer (engine/migrate/convert.ts
// EbpfBuffer) instead of records, with its arrays reused from program to program. Same outcome:
// jited or not, the failure (reason, message, pass, eBPF insn) and the image length; the passes
// themselves are not recorded (`passes` is empty).
//
// How it is fast: each instruction's bytes that do not depend on addrs[] (everything but the jumps
// and the exits, and the compare before a conditional jump) are computed once, with model/jit/emit.ts's
// own length functions; a pass then only adds them up and sizes the jumps, as do_jit does.
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
import { cfiGetOffset, MAX_PASSES, PADDING_PASSES, type JitFailure, type JitResult } from '../../model/jit/x86.js';
import { EFAULT, EINVAL, ENOMEM } from '../../model/uapi.js';
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
    default:
      // the calls (the only jump-class insns with fixed bytes)
      if (src === 1) unmodelled(code, k); // BPF_PSEUDO_CALL
      return x86CallDepthEmitAccounting(facts) + emitCall();
  }
}

/** the conditional jump ops (0x10..0x70, 0xa0..0xd0) as a bit per op >> 4 */
const COND_OPS = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 0xa) | (1 << 0xb) | (1 << 0xc) | (1 << 0xd);

/** The engine's x86-64 JIT sizing, with buffers reused from program to program. */
export class EngineJit {
  private addrs = new Int32Array(0);
  private kind = new Uint8Array(0);
  /** STATIC: the insn's bytes; COND: the compare's bytes before the jcc */
  private bytes = new Int32Array(0);
  /** the program of the compile under way */
  private buf: EbpfBuffer | null = null;

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

  compile(p: EbpfBuffer, stackDepth: number, wasClassic: boolean, facts: X86JitFacts, keepLayout = false): JitResult {
    this.goodLen = -1;
    this.buf = p;
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
    if (!keepLayout) {
      const r = this.runs(len, prologue, exitBytes, facts);
      if (r !== null) return r;
    }
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
      if (failure !== null) return { jited: false, reason: failure, message: this.message, pass, insn: this.failedAt, passes: [], blinded: null, blindedFrom: null };
      if (keepLayout) {
        if (this.good.length < len + 1) this.good = new Int32Array(addrs.length);
        this.good.set(addrs.subarray(0, len + 1));
        this.goodLen = len;
      }
      if (image) {
        if (proglen !== oldproglen) return { jited: false, reason: 'proglen-mismatch', message: `bpf_jit: proglen=${proglen} != oldproglen=${oldproglen}`, pass, insn: null, passes: [], blinded: null, blindedFrom: null };
        return { jited: true, proglen, jitedLen: proglen - cfiGetOffset(facts), passes: [], blinded: null, blindedFrom: null };
      }
      if (proglen === oldproglen) image = true;
      oldproglen = proglen;
    }
    return { jited: false, reason: 'not-converged', message: null, pass: MAX_PASSES, insn: null, passes: [], blinded: null, blindedFrom: null };
  }

  // Steps: the passes of compile() below over steps instead of instructions, where a step is one jump
  // (a conditional jump, a JA, an exit) or a run of consecutive instructions with fixed bytes, summed
  // once. Exact because do_jit reads addrs[] only at a jump's two ends (addrs[i - 1], addrs[i]) and at
  // its target, and a run of fixed bytes ends where it starts plus its sum in every pass; inside a run
  // the image pass's checks hold whenever they hold at its start (the previous step's end). A program
  // with an instruction that fails by itself (too long, a call with imm 0) or a jump target outside
  // the program takes the per-instruction passes (null). Also: a pass that changes no address is a
  // fixed point, so the image pass it starts would repeat it exactly, with padding or without (every
  // jump's nops are then its previous bytes less its encoding, which the checks accept): it is not run.
  private mark = new Uint8Array(0);
  private slotOf = new Int32Array(0);
  private stepKind = new Uint8Array(0);
  private stepBytes = new Int32Array(0);
  private stepK = new Int32Array(0);
  private stepTarget = new Int32Array(0);
  /** addrs[] at the step boundaries (slot s: the end of step s; slot 0: the prologue's end) */
  private at = new Int32Array(0);

  // The steps of a program with forward jumps only, in one walk (a jump's target is marked before the
  // walk reaches it): the same boundaries, steps and first estimates as anySteps. The number of slots,
  // or -1 (an insn that fails by itself, a target outside the program: the per-insn passes), or -2 (a
  // backward jump: anySteps).
  private forwardSteps(len: number): number {
    const kind = this.kind;
    const bytes = this.bytes;
    const off = this.buf!.off;
    const imm = this.buf!.imm;
    const code = this.buf!.code;
    const mark = this.mark;
    mark.fill(0, 0, len + 1);
    const slotOf = this.slotOf;
    const at = this.at;
    const stepKind = this.stepKind;
    const stepBytes = this.stepBytes;
    const stepK = this.stepK;
    const stepTarget = this.stepTarget;
    slotOf[0] = 0;
    at[0] = 64; // :3726 the first estimate: 64 bytes per insn
    let s = 0;
    let sum = 0;
    let boundary = 0;
    for (let i = 1; i <= len; i++) {
      const k = i - 1;
      const kd = kind[k]!;
      if (kd === STATIC) {
        const b = bytes[k]!;
        if (b > BPF_MAX_INSN_SIZE) return -1;
        sum += b;
        if (mark[i] === 0 && i !== len) continue;
        s++;
        stepKind[s] = STATIC;
        stepBytes[s] = sum;
        stepK[s] = k;
        sum = 0;
        slotOf[i] = s;
        at[s] = 64 * (i + 1);
        boundary = i;
        continue;
      }
      if (kd === CALL_IMM_ZERO) return -1;
      if (boundary !== k) {
        // the run of fixed bytes before the jump ends at it
        s++;
        stepKind[s] = STATIC;
        stepBytes[s] = sum;
        stepK[s] = k - 1;
        sum = 0;
        slotOf[k] = s;
        at[s] = 64 * (k + 1);
      }
      s++;
      stepKind[s] = kd;
      stepBytes[s] = bytes[k]!;
      stepK[s] = k;
      if (kd !== EXIT) {
        const o = kd === COND || (code[k]! & 0x07) === 0x05 ? off[k]! : imm[k]! | 0;
        if (kd === JA && o === -1) stepTarget[s] = -1; // jmp_offset = -2, no target read
        else {
          const t = i + o;
          if (t < i) return -2;
          if (t > len) return -1;
          mark[t] = 1;
          stepTarget[s] = t;
        }
      }
      slotOf[i] = s;
      at[s] = 64 * (i + 1);
      boundary = i;
    }
    // the targets as slots (every target is a boundary: it was marked before the walk reached it)
    for (let j = 1; j <= s; j++) {
      const kd = stepKind[j]!;
      if ((kd === COND || kd === JA) && stepTarget[j]! >= 0) stepTarget[j] = slotOf[stepTarget[j]!]!;
    }
    return s + 1;
  }

  // The steps of any program: boundaries at 0, len, around each jump and at each target. The number of
  // slots, or -1 (an insn that fails by itself, a target outside the program: the per-insn passes).
  private anySteps(len: number): number {
    const kind = this.kind;
    const bytes = this.bytes;
    const off = this.buf!.off;
    const imm = this.buf!.imm;
    const code = this.buf!.code;
    const mark = this.mark;
    mark.fill(0, 0, len + 1);
    mark[0] = 1;
    mark[len] = 1;
    for (let k = 0; k < len; k++) {
      const kd = kind[k]!;
      if (kd === STATIC) {
        if (bytes[k]! > BPF_MAX_INSN_SIZE) return -1;
        continue;
      }
      if (kd === CALL_IMM_ZERO) return -1;
      const i = k + 1;
      mark[k] = 1;
      mark[i] = 1;
      let t: number;
      if (kd === COND) t = i + off[k]!;
      else if (kd === JA) {
        const o = (code[k]! & 0x07) === 0x05 ? off[k]! : imm[k]! | 0;
        if (o === -1) continue; // jmp_offset = -2, no target read
        t = i + o;
      } else continue; // EXIT
      if (t < 0 || t > len) return -1;
      mark[t] = 1;
    }
    const slotOf = this.slotOf;
    const at = this.at;
    let n = 0;
    for (let i = 0; i <= len; i++) {
      if (mark[i] === 0) continue;
      slotOf[i] = n;
      at[n++] = 64 * (i + 1); // :3726 the first estimate: 64 bytes per insn
    }
    const stepKind = this.stepKind;
    const stepBytes = this.stepBytes;
    const stepK = this.stepK;
    const stepTarget = this.stepTarget;
    let s = 0;
    let sum = 0;
    for (let i = 1; i <= len; i++) {
      const k = i - 1;
      const kd = kind[k]!;
      if (kd === STATIC) sum += bytes[k]!;
      if (mark[i] === 0) continue;
      s++;
      stepK[s] = k;
      if (kd === STATIC) {
        stepKind[s] = STATIC;
        stepBytes[s] = sum;
      } else {
        // mark[i - 1] is set: this step is the jump alone
        stepKind[s] = kd;
        stepBytes[s] = bytes[k]!;
        if (kd === COND) stepTarget[s] = slotOf[i + off[k]!]!;
        else if (kd === JA) {
          const o = (code[k]! & 0x07) === 0x05 ? off[k]! : imm[k]! | 0;
          stepTarget[s] = o === -1 ? -1 : slotOf[i + o]!;
        }
      }
      sum = 0;
    }
    return n;
  }

  private runs(len: number, prologue: number, exitBytes: number, facts: X86JitFacts): JitResult | null {
    if (this.mark.length < len + 1) {
      const cap = Math.max(len + 1, 2 * this.mark.length, 256);
      this.mark = new Uint8Array(cap);
      this.slotOf = new Int32Array(cap);
      this.stepKind = new Uint8Array(cap);
      this.stepBytes = new Int32Array(cap);
      this.stepK = new Int32Array(cap);
      this.stepTarget = new Int32Array(cap);
      this.at = new Int32Array(cap);
    }
    let n = this.forwardSteps(len);
    if (n === -1) return null;
    if (n === -2) n = this.anySteps(len);
    if (n < 0) return null;
    const stepKind = this.stepKind;
    const stepBytes = this.stepBytes;
    const stepK = this.stepK;
    const stepTarget = this.stepTarget;
    const at = this.at;
    let cleanup = 64 * (len + 1);
    let oldproglen = 0;
    let padding = false;
    let image = false;
    this.failedAt = -1;
    for (let pass = 0; pass < MAX_PASSES || image; pass++) {
      if (!padding && pass >= PADDING_PASSES) padding = true;
      // do_jit (:1622)
      let proglen = prologue;
      let changed = at[0] !== proglen;
      at[0] = proglen;
      let seenExit = false;
      let failure: JitFailure | null = null;
      for (let j = 1; j < n; j++) {
        let ilen: number;
        switch (stepKind[j]) {
          case STATIC:
            ilen = stepBytes[j]!;
            break;
          case COND: {
            const b = stepBytes[j]!;
            const jmpOffset = at[stepTarget[j]!]! - at[j]!;
            if (isImm8JmpOffset(jmpOffset, facts)) {
              let nops = 0;
              if (padding) {
                nops = at[j]! - at[j - 1]! - b - 2;
                if (nops !== 0 && nops !== 4) {
                  failure = this.fail('jmp-cond-padding', `unexpected jmp_cond padding: ${nops} bytes`, stepK[j]!);
                  break;
                }
              }
              ilen = b + nops + 2;
            } else if (isSimm32(jmpOffset)) ilen = b + 6;
            else {
              failure = this.fail('jmp-cond-padding', `cond_jmp gen bug ${jmpOffset.toString(16)}`, stepK[j]!);
              break;
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
            ilen = this.jmpAt(cleanup - at[j]!, at[j]! - at[j - 1]!, padding, facts);
            if (ilen < 0) failure = this.fail('jmp-padding', ilen === -1 ? `unexpected jump padding: ${at[j]! - at[j - 1]! - 2} bytes` : `jmp gen bug ${(cleanup - at[j]!).toString(16)}`, stepK[j]!);
            break;
          default: {
            // JA
            const t = stepTarget[j]!;
            const jmpOffset = t === -1 ? -2 : at[t]! - at[j]!;
            if (jmpOffset === 0) {
              if (!padding) ilen = 0;
              else {
                const nops = at[j]! - at[j - 1]!;
                if (nops !== 0 && nops !== 2 && nops !== 5) failure = this.fail('nop-jump-padding', `unexpected nop jump padding: ${nops} bytes`, stepK[j]!);
                ilen = Math.max(nops, 0);
              }
              break;
            }
            ilen = this.jmpAt(jmpOffset, at[j]! - at[j - 1]!, padding, facts);
            if (ilen < 0) failure = this.fail('jmp-padding', ilen === -1 ? `unexpected jump padding: ${at[j]! - at[j - 1]! - 2} bytes` : `jmp gen bug ${jmpOffset.toString(16)}`, stepK[j]!);
            break;
          }
        }
        if (failure !== null) break;
        if (stepKind[j] !== STATIC) {
          if (ilen! > BPF_MAX_INSN_SIZE) {
            failure = this.fail('insn-size', 'bpf_jit: fatal insn size error', stepK[j]!);
            break;
          }
          if (image && (proglen + ilen! > oldproglen || proglen + ilen! !== at[j]!)) {
            failure = this.fail('emit-mismatch', 'bpf_jit: fatal error', stepK[j]!);
            break;
          }
        }
        proglen += ilen!;
        if (at[j] !== proglen) changed = true;
        at[j] = proglen;
      }
      if (failure !== null) return { jited: false, reason: failure, message: this.message, pass, insn: this.failedAt, passes: [], blinded: null, blindedFrom: null };
      if (image) {
        if (proglen !== oldproglen) return { jited: false, reason: 'proglen-mismatch', message: `bpf_jit: proglen=${proglen} != oldproglen=${oldproglen}`, pass, insn: null, passes: [], blinded: null, blindedFrom: null };
        return { jited: true, proglen, jitedLen: proglen - cfiGetOffset(facts), passes: [], blinded: null, blindedFrom: null };
      }
      if (proglen === oldproglen) {
        // a fixed point: the image pass would repeat this pass exactly
        if (!changed) return { jited: true, proglen, jitedLen: proglen - cfiGetOffset(facts), passes: [], blinded: null, blindedFrom: null };
        image = true;
      }
      oldproglen = proglen;
    }
    return { jited: false, reason: 'not-converged', message: null, pass: MAX_PASSES, insn: null, passes: [], blinded: null, blindedFrom: null };
  }

  // emitJmp by the jump's previous bytes (end - start): the bytes, or -1 (bad padding), -2 (no encoding)
  private jmpAt(jmpOffset: number, prev: number, padding: boolean, facts: X86JitFacts): number {
    if (isImm8JmpOffset(jmpOffset, facts)) {
      if (!padding) return 2;
      const nops = prev - 2;
      if (nops !== 0 && nops !== 3) return -1;
      return Math.max(nops, 0) + 2;
    }
    if (isSimm32(jmpOffset)) return 5;
    return -2;
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

/** errno of each failure (do_jit's return), for completeness of the outcome. */
export const JIT_ERRNO: Readonly<Record<JitFailure, number>> = {
  'emit-mismatch': -EFAULT,
  'jmp-cond-padding': -EFAULT,
  'nop-jump-padding': -EFAULT,
  'jmp-padding': -EFAULT,
  'insn-size': -EFAULT,
  'call-imm-zero': -EINVAL,
  'proglen-mismatch': -EFAULT,
  'not-converged': -EFAULT,
  'blinding-failed': -ENOMEM,
  'not-requested': 0,
};
