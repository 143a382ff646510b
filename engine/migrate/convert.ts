// The engine's converter and attach path: model/attach.ts skAttachFilter after the checks
// (bpf_migrate_filter = model/migrate/convert.ts bpfConvertFilter twice, bpfProgSelectRuntime, then
// the charge, skFilterCharge) on a program's columns, emitting straight into a typed instruction
// buffer. The same verdict (errno, stage, rule, pc) and the same eBPF instructions as the spec.
//
// How it is fast: a scan for seen_ld_abs fixes the prologue's length; then one pass over the classic
// program emits the prologue and every instruction's expansion straight into the buffer and records
// where each one starts (and which insns are jumps); the jumps are emitted with offset 0 and patched
// once every start is known. What the kernel's two calls and their passes would reject is found from
// those starts alone:
//   - first call: a jump target out of range, an unknown opcode (the first such pc);
//   - second call, first iteration: forward targets still read addrs[t] == 0, so a jump emitted at
//     eBPF index e fails when e + 1 > 32768 (the first such pc; F:701-711);
//   - second iteration: the real offset outside s16 (the first such pc).
// A run of equal classic insns that are no jumps (the campaign's long programs are runs of one
// gene) emits the first expansion, then copies it (repeat(): copyWithin on the columns, the fixes
// moved along) and records the repeat in the buffer (EbpfBuffer.reps) for the JIT's walk.
// Each expansion is the spec's (model/migrate/ldabs.ts convertBpfLdAbs, extensions.ts
// convertBpfExtensions, convert.ts convertInsn) written out field by field; the ancillary loads,
// 16 values of k, are the spec's own sequences, kept once per k.
import type { KernelConfig } from '../../model/kernel.js';
import {
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_K,
  BPF_LSH,
  BPF_MAXINSNS,
  BPF_SUB,
  BPF_W,
  BPF_X,
  BPF_XOR,
  EINVAL,
} from '../../model/uapi.js';
import { reject, type Rejection } from '../../model/verdict.js';
import {
  BPF_JLE,
  BPF_JLT,
  BPF_JNE,
  BPF_REG_0,
  BPF_REG_A,
  BPF_REG_ARG1,
  BPF_REG_ARG2,
  BPF_REG_ARG3,
  BPF_REG_ARG4,
  BPF_REG_CTX,
  BPF_REG_D,
  BPF_REG_FP,
  BPF_REG_H,
  BPF_REG_TMP,
  BPF_REG_X,
  type BpfInsn,
} from '../../model/ebpf/insn.js';
import { bpfInterpreterStackSize } from '../../model/ebpf/interp.js';
import { SK_BUFF } from '../../model/ebpf/layout.js';
import { bpfProgSize, chargeRejection } from '../../model/migrate/charge.js';
import { CONVERT_RULE_AT, blindingRequested, bpfProgSelectRuntime, type ConvertRule } from '../../model/migrate/convert.js';
import { jitRejection, type JitResult } from '../../model/jit/x86.js';
import { EngineJit } from '../jit/x86.js';
import { convertBpfExtensions } from '../../model/migrate/extensions.js';
import { HELPER_SKB_LOAD_8, HELPER_SKB_LOAD_16, HELPER_SKB_LOAD_32 } from '../../model/ebpf/helpers.js';
import { ENOTSUPP } from '../../model/uapi.js';
import type { ClassicColumns } from '../cbpf/program.js';
import { analyzeExpansion, F_DATA_LEN, F_DATA_PTR, F_LEN, OP_LD_CTX, OP_LD_DATA, OP_LD_STACK, OP_ST_STACK, type ExpansionAnalysis } from '../ebpf/skbprog.js';

const fail = (rule: ConvertRule, pc: number | null): Rejection => reject(-EINVAL, 'convert', rule, pc, CONVERT_RULE_AT[rule]);

/** An eBPF program in columns (struct bpf_insn's fields), in reusable buffers. */
export class EbpfBuffer {
  len = 0;
  /**
   * Repeats the converter found (a run of identical classic insns: each expansion a copy of the
   * one before): `nrep` triples (start, end, period) in `reps`, ascending, each saying insn e equals
   * insn e - period in all five fields for every e in [start, end), start >= period. The JIT's walk
   * reads them (engine/jit/x86.ts); whoever writes the columns otherwise than by a conversion must
   * leave nrep at 0 (push does not touch it).
   */
  nrep = 0;
  reps = new Int32Array(48);
  code = new Uint8Array(0);
  dst = new Uint8Array(0);
  src = new Uint8Array(0);
  off = new Int16Array(0);
  imm = new Int32Array(0);

  reserve(n: number): void {
    if (n <= this.code.length) return;
    const cap = Math.max(n, 2 * this.code.length, 64);
    const grow = <T extends Uint8Array | Int16Array | Int32Array>(old: T, make: (n: number) => T): T => {
      const a = make(cap);
      a.set(old as never);
      return a;
    };
    this.code = grow(this.code, (c) => new Uint8Array(c));
    this.dst = grow(this.dst, (c) => new Uint8Array(c));
    this.src = grow(this.src, (c) => new Uint8Array(c));
    this.off = grow(this.off, (c) => new Int16Array(c));
    this.imm = grow(this.imm, (c) => new Int32Array(c));
  }

  push(code: number, dst: number, src: number, off: number, imm: number): void {
    const i = this.len++;
    this.code[i] = code;
    this.dst[i] = dst;
    this.src[i] = src;
    this.off[i] = off;
    this.imm[i] = imm;
  }

  pushInsn(insn: BpfInsn): void {
    this.push(insn.code, insn.dst, insn.src, insn.off, insn.imm);
  }

  /** The instructions as records (for the spec, reports and tests). */
  toInsns(): BpfInsn[] {
    const out: BpfInsn[] = new Array(this.len);
    for (let i = 0; i < this.len; i++) out[i] = { code: this.code[i]!, dst: this.dst[i]!, src: this.src[i]!, off: this.off[i]!, imm: this.imm[i]! };
    return out;
  }
}

/** An ancillary load's sequence (the spec's convertBpfExtensions), packed. */
interface Expansion {
  readonly n: number;
  /** what the analysis makes of it (engine/ebpf/skbprog.ts analyzeExpansion), or null: a program with it is not plain */
  readonly fused: ExpansionAnalysis | null;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
}

function pack(insns: readonly BpfInsn[]): Expansion {
  const n = insns.length;
  const e = { n, code: new Uint8Array(n), dst: new Uint8Array(n), src: new Uint8Array(n), off: new Int16Array(n), imm: new Int32Array(n) };
  insns.forEach((x, i) => {
    e.code[i] = x.code;
    e.dst[i] = x.dst;
    e.src[i] = x.src;
    e.off[i] = x.off;
    e.imm[i] = x.imm;
  });
  return { ...e, fused: analyzeExpansion(e) };
}

// Opcodes of the instructions the expansions emit (include/uapi/linux/bpf.h encodings).
const MOV64_X = 0x07 | 0xb0 | BPF_X; // BPF_ALU64 | BPF_MOV | BPF_X
const MOV64_K = 0x07 | 0xb0 | BPF_K;
const MOV32_X = BPF_ALU | 0xb0 | BPF_X;
const MOV32_K = BPF_ALU | 0xb0 | BPF_K;
const ADD64_K = 0x07 | 0x00 | BPF_K;
const SUB64_K = 0x07 | BPF_SUB | BPF_K;
const AND32_K = BPF_ALU | BPF_AND | BPF_K;
const LSH32_K = BPF_ALU | BPF_LSH | BPF_K;
const XOR32_X = BPF_ALU | BPF_XOR | BPF_X;
const JSLT_K = BPF_JMP | 0xc0 | BPF_K;
const JSGE_K = BPF_JMP | 0x70 | BPF_K;
const JNE_K = BPF_JMP | BPF_JNE | BPF_K;
const JA = BPF_JMP | BPF_JA;
const END_BE = BPF_ALU | 0xd0 | 0x08; // BPF_END | BPF_TO_BE
const CALL = BPF_JMP | 0x80;
const EXIT = BPF_JMP | 0x90;
const LDX_MEM = 0x01 | 0x60; // BPF_LDX | BPF_MEM, | size
const STX_MEM_W = 0x03 | BPF_W | 0x60;
/** the load helper of each classic size field (B, H, W) */
const LOAD_HELPER: readonly number[] = (() => {
  const h: number[] = [];
  h[0x10] = HELPER_SKB_LOAD_8;
  h[0x08] = HELPER_SKB_LOAD_16;
  h[0x00] = HELPER_SKB_LOAD_32;
  return h;
})();

/**
 * The classic codes whose expansion is one eBPF insn that sets nothing else (insn(): the ALU ops, LD
 * and LDX IMM, TAX, TXA), as tables: its opcode (0: not one of them), dst, src and whether imm is k.
 * test/engine/convert*.test.ts compare the converter with the spec's on every code.
 */
const ONE_CODE = new Uint8Array(256);
const ONE_DST = new Uint8Array(256);
const ONE_SRC = new Uint8Array(256);
const ONE_K = new Uint8Array(256);
{
  const one = (c: number, code: number, dst: number, src: number, k: boolean): void => {
    ONE_CODE[c] = code;
    ONE_DST[c] = dst;
    ONE_SRC[c] = src;
    ONE_K[c] = k ? 1 : 0;
  };
  // F:632 the ALU ops: the classic code unchanged, dst = A and src = X even for the K forms and NEG
  for (const c of [0x0c, 0x04, 0x1c, 0x14, 0x5c, 0x54, 0x4c, 0x44, 0x6c, 0x64, 0x7c, 0x74, 0xac, 0xa4, 0x2c, 0x24, 0x34, 0x94, 0x84]) one(c, c, BPF_REG_A, BPF_REG_X, true);
  one(0x00, MOV32_K, BPF_REG_A, 0, true);
  one(0x01, MOV32_K, BPF_REG_X, 0, true);
  one(0x07, MOV64_X, BPF_REG_X, BPF_REG_A, false);
  one(0x87, MOV64_X, BPF_REG_A, BPF_REG_X, false);
}

/** Room for fixes kept beyond one per classic insn (the prologue's three). */
const PER_INSN_FIXES_ROOM = 3;
/** The longest prologue (seen_ld_abs: 7 instructions). */
const PROLOGUE_MAX = 7;
/** More than the longest expansion of one classic instruction (LDX MSH far: 21 on x86-64). */
const EXPANSION_MAX = 32;

/** What the engine's attach path leaves behind for an accepted program (the converter's one object: valid until the next attach). */
export interface EngineAttached {
  /** the migrated program (the converter's buffer: valid until the next attach) */
  readonly insns: EbpfBuffer;
  readonly stackDepth: number;
  /** the interpreter's stack size (bpf_prog_select_func's bucket) */
  readonly stackSize: number;
  readonly seenLdAbs: boolean;
}

/** The engine's converter for one kernel record; reuse it for every program. */
/** The x86-64 JIT's outcome for a converted program (engine/jit/x86.ts), with the classic pc of each eBPF insn. */
export interface EngineJitOutcome {
  readonly result: JitResult;
  pcOf(e: number): number | null;
}

export class EngineConverter {
  readonly out = new EbpfBuffer();
  /** the ancillary loads' sequences by k (convertBpfExtensions; null: not an ancillary load) */
  private readonly ext = new Map<number, Expansion | null>();
  private addrs = new Int32Array(BPF_MAXINSNS);
  stackDepth = 0;
  seenLdAbs = false;
  /** copy a run of equal classic insns' expansions (repeat()); false: insn by insn, the path the tests compare it with */
  repeats = true;

  constructor(readonly config: KernelConfig) {}

  private extension(k: number): Expansion | null {
    // every ancillary k is SKF_AD_OFF + x, in the last 4096 values of the u32 range
    if (k < 0xfffff000) return null;
    let e = this.ext.get(k);
    if (e === undefined) {
      const insns = convertBpfExtensions({ code: 0x20, jt: 0, jf: 0, k }, this.config);
      e = insns === null ? null : pack(insns);
      this.ext.set(k, e);
    }
    return e;
  }

  // model/migrate/ldabs.ts convertBpfLdAbs (net/core/filter.c:480), into `out`
  private ldAbs(code: number, k: number): void {
    const out = this.out;
    const config = this.config;
    const sizeField = code & 0x18;
    const size = sizeField === 0x10 ? 1 : sizeField === 0x08 ? 2 : 4;
    const endian = size > 1;
    const indirect = (code & 0xe0) === 0x40;
    const offset = k | 0;
    const ipAlign = config.netIpAlign;
    // F:491 the inline fast path, with the `offset + ip_align % size == 0` precedence slip (ldAbsFastPath)
    const fast = !indirect && offset >= 0 && (config.efficientUnalignedAccess || (((offset + ipAlign) | 0) >= 0 && ((offset + (ipAlign % size)) | 0) === 0));
    if (fast) {
      const ldxOffOk = offset <= 0x7fff || !config.ldxOffOk;
      out.push(MOV64_X, BPF_REG_TMP, BPF_REG_H, 0, 0);
      if (offset) out.push(SUB64_K, BPF_REG_TMP, 0, 0, offset);
      out.push(JSLT_K, BPF_REG_TMP, 0, 2 + (endian ? 1 : 0) + (ldxOffOk ? 0 : 2), size);
      if (ldxOffOk) {
        this.fix(out.len, OP_LD_DATA, size);
        out.push(LDX_MEM | sizeField, BPF_REG_A, BPF_REG_D, (offset << 16) >> 16, 0);
      } else {
        out.push(MOV64_X, BPF_REG_TMP, BPF_REG_D, 0, 0);
        out.push(ADD64_K, BPF_REG_TMP, 0, 0, offset);
        this.fix(out.len, OP_LD_DATA, size);
        out.push(LDX_MEM | sizeField, BPF_REG_A, BPF_REG_TMP, 0, 0);
      }
      if (endian) out.push(END_BE, BPF_REG_A, 0, 0, size * 8);
      out.push(JA, 0, 0, 8, 0);
    }
    // F:517 the slow path: A = bpf_skb_load_helper_N(skb, data, headlen, offset)
    out.push(MOV64_X, BPF_REG_ARG1, BPF_REG_CTX, 0, 0);
    out.push(MOV64_X, BPF_REG_ARG2, BPF_REG_D, 0, 0);
    out.push(MOV64_X, BPF_REG_ARG3, BPF_REG_H, 0, 0);
    if (!indirect) out.push(MOV64_K, BPF_REG_ARG4, 0, 0, offset);
    else {
      out.push(MOV64_X, BPF_REG_ARG4, BPF_REG_X, 0, 0);
      if (k) out.push(ADD64_K, BPF_REG_ARG4, 0, 0, offset);
    }
    out.push(CALL, 0, 0, 0, LOAD_HELPER[sizeField]!);
    this.helperMask |= 1 << LOAD_HELPER[sizeField]!;
    // F:542 a negative helper result ends the program with A = 0
    out.push(JSGE_K, BPF_REG_A, 0, 2, 0);
    out.push(XOR32_X, BPF_REG_A, BPF_REG_A, 0, 0);
    out.push(EXIT, 0, 0, 0, 0);
  }

  // model/migrate/convert.ts convertInsn for everything but the jumps: false for an unknown opcode
  private insn(c: number, k: number): boolean {
    const out = this.out;
    switch (c) {
      case 0x0c: case 0x04: case 0x1c: case 0x14: case 0x5c: case 0x54: case 0x4c: case 0x44: // prettier-ignore
      case 0x6c: case 0x64: case 0x7c: case 0x74: case 0xac: case 0xa4: case 0x2c: case 0x24: // prettier-ignore
      case 0x34: case 0x94: case 0x84: // prettier-ignore
        out.push(c, BPF_REG_A, BPF_REG_X, 0, k | 0);
        return true;
      case 0x3c:
      case 0x9c:
        // F:655 DIV/MOD X: X's upper half cleared, then (kernel record) the X == 0 guard
        out.push(MOV32_X, BPF_REG_X, BPF_REG_X, 0, 0);
        if (this.config.divXGuard) {
          out.push(JNE_K, BPF_REG_X, 0, 2, 0);
          out.push(XOR32_X, BPF_REG_A, BPF_REG_A, 0, 0);
          out.push(EXIT, 0, 0, 0, 0);
        }
        out.push(c, BPF_REG_A, BPF_REG_X, 0, k | 0);
        return true;
      case 0x20:
      case 0x28:
      case 0x30: {
        const e = this.extension(k >>> 0);
        if (e !== null) {
          const f = e.fused;
          if (f === null) this.plain = false;
          else {
            const fx = f.fixes;
            // room for these and for one per classic insn still to come
            const need = this.nfix + fx.length + 3 * (this.converting + PER_INSN_FIXES_ROOM);
            if (need > this.fixes.length) {
              // geometric growth: growing to `need` alone reallocates and copies at every later ancillary load
              const g = new Int32Array(Math.max(need, 2 * this.fixes.length));
              g.set(this.fixes);
              this.fixes = g;
            }
            for (let j = 0; j < fx.length; j += 3) this.fix(out.len + fx[j]!, fx[j + 1]!, fx[j + 2]!);
            this.helperMask |= f.helperMask;
          }
          const n = e.n;
          for (let j = 0; j < n; j++) out.push(e.code[j]!, e.dst[j]!, e.src[j]!, e.off[j]!, e.imm[j]!);
          return true;
        }
        this.ldAbs(c, k);
        return true;
      }
      case 0x40:
      case 0x48:
      case 0x50:
        this.ldAbs(c, k);
        return true;
      case 0xb1:
        // F:764 LDX MSH: X = 4 * (byte at k & 0xf), through A and TMP
        out.push(MOV64_X, BPF_REG_X, BPF_REG_A, 0, 0);
        this.ldAbs(0x30, k);
        out.push(AND32_K, BPF_REG_A, 0, 0, 0xf);
        out.push(LSH32_K, BPF_REG_A, 0, 0, 2);
        out.push(MOV64_X, BPF_REG_TMP, BPF_REG_X, 0, 0);
        out.push(MOV64_X, BPF_REG_X, BPF_REG_A, 0, 0);
        out.push(MOV64_X, BPF_REG_A, BPF_REG_TMP, 0, 0);
        return true;
      case 0x16:
        out.push(EXIT, 0, 0, 0, 0);
        return true;
      case 0x06:
        out.push(MOV32_K, BPF_REG_0, 0, 0, k | 0);
        out.push(EXIT, 0, 0, 0, 0);
        return true;
      case 0x02:
      case 0x03: {
        if (k < 16) this.fix(out.len, OP_ST_STACK, k + 1);
        else this.plain = false;
        out.push(STX_MEM_W, BPF_REG_FP, c === 0x02 ? BPF_REG_A : BPF_REG_X, -((k * 4 + 4) | 0), 0);
        const so = (k * 4 + 4) >>> 0;
        if (so > this.stackDepth) this.stackDepth = so;
        return true;
      }
      case 0x60:
      case 0x61:
        if (k < 16) {
          this.fix(out.len, OP_LD_STACK, k + 1);
          if (k + 1 > this.maxLoadWord) this.maxLoadWord = k + 1;
        } else this.plain = false;
        out.push(LDX_MEM | BPF_W, c === 0x60 ? BPF_REG_A : BPF_REG_X, BPF_REG_FP, -((k * 4 + 4) | 0), 0);
        return true;
      case 0x00:
      case 0x01:
        out.push(MOV32_K, c === 0x00 ? BPF_REG_A : BPF_REG_X, 0, 0, k | 0);
        return true;
      case 0x07:
        out.push(MOV64_X, BPF_REG_X, BPF_REG_A, 0, 0);
        return true;
      case 0x87:
        out.push(MOV64_X, BPF_REG_A, BPF_REG_X, 0, 0);
        return true;
      case 0x80:
      case 0x81:
        this.fix(out.len, OP_LD_CTX, F_LEN);
        out.push(LDX_MEM | BPF_W, c === 0x80 ? BPF_REG_A : BPF_REG_X, BPF_REG_CTX, SK_BUFF.len.offset, 0);
        return true;
      case 0x21:
        this.plain = false;
        // LDX W ABS: seccomp_data access, A = *(u32 *)(ctx + k)
        out.push(LDX_MEM | BPF_W, BPF_REG_A, BPF_REG_CTX, k | 0, 0);
        return true;
      default:
        return false;
    }
  }

  // model/attach.ts skAttachFilter after bpfCheckFilter: bpf_migrate_filter, then __sk_filter_charge
  /** Attach a checked program: the migrated program (in `out`), or the rejection. */
  attach(p: ClassicColumns, omemAlloc = 0): EngineAttached | Rejection {
    this.lastJit = null;
    const r = this.bpfConvertFilter(p);
    if (r !== null) return r;
    const c = this.config;
    // kernel/bpf/core.c:2373 bpf_prog_select_runtime (model/migrate/convert.ts bpfProgSelectRuntime):
    // fp->len after it is the blinded clone's length when the JIT compiled one
    let len = this.out.len;
    if (c.x86Jit !== null && c.arch === 'x86_64' && c.jitAvailable && c.jitRequested && !blindingRequested(c)) {
      // the fast path: the x86-64 JIT's passes sized on the buffer (engine/jit/x86.ts), no blinding
      const jit = this.jit();
      this.lastJit = jit;
      // C:2378-2383 jit_needed: fp->jit_requested in 6.6.y (false in v6.6.0), always under CONFIG_BPF_JIT_ALWAYS_ON
      const jitNeeded = c.jitAlwaysOn || (c.jitNeeded === 'jit-requested' && c.jitRequested);
      if (jitNeeded && !jit!.result.jited) return jitRejection(jit!.result, jit!.pcOf) ?? reject(-ENOTSUPP, 'runtime', 'jit-required', null, 'kernel/bpf/core.c:2393');
    } else {
      // blinding, another architecture or a record without the x86-64 JIT: the spec's runtime selection
      const sel = bpfProgSelectRuntime(
        { insns: this.out.toInsns(), stackDepth: this.stackDepth, jitRequested: c.jitRequested, blindingRequested: blindingRequested(c) },
        c,
        (e) => this.pcOf(e),
      );
      if ('errno' in sel) return sel;
      len = sel.len;
    }
    // net/core/filter.c:1226 __sk_filter_charge (model/migrate/charge.ts): size <= optmem_max && omem + size < optmem_max, unsigned
    const size = bpfProgSize(len, c.bpfProgHeaderSize);
    const optmemMax = c.optmemMax >>> 0;
    if (!(size <= optmemMax && ((omemAlloc + size) >>> 0) < optmemMax)) return chargeRejection();
    const at = this.attached;
    at.stackDepth = this.stackDepth;
    at.stackSize = bpfInterpreterStackSize(this.stackDepth);
    at.seenLdAbs = this.seenLdAbs;
    return at;
  }

  /** what attach returns for an accepted program (one object, valid until the next attach) */
  private readonly attached: { insns: EbpfBuffer; stackDepth: number; stackSize: number; seenLdAbs: boolean } = { insns: this.out, stackDepth: 0, stackSize: 0, seenLdAbs: false };
  /** pcOf bound once (the JIT outcome's) */
  private readonly pcOfBound = (e: number): number | null => this.pcOf(e);

  /** the x86-64 JIT's sizing (engine/jit/x86.ts) */
  private readonly x86 = new EngineJit();
  /** the JIT's outcome in the last attach (null: it did not convert, or the record does not model the JIT) */
  lastJit: EngineJitOutcome | null = null;
  /** insn i's expansion starts at out index addrs[i] (after a conversion) */
  private convertedLen = 0;

  /** Where each classic insn's expansion starts and ends in the last conversion (model/migrate/convert.ts ConvertResult.map). */
  map(): Int32Array {
    return this.mapInto(new Int32Array(2 * this.convertedLen));
  }

  /** map() into `out` (at least 2 * the program's length long), without allocating. */
  mapInto(out: Int32Array): Int32Array {
    const n = this.convertedLen;
    for (let pc = 0; pc < n; pc++) {
      out[2 * pc] = this.addrs[pc]!;
      out[2 * pc + 1] = this.addrs[pc + 1]!;
    }
    return out;
  }

  /** The classic pc whose expansion holds eBPF insn `e` of the last conversion (model/migrate/convert.ts x86Jit pcOf). */
  pcOf(e: number): number | null {
    const a = this.addrs;
    for (let pc = 0; pc < this.convertedLen; pc++) if (e >= a[pc]! && e < a[pc + 1]!) return pc;
    return null;
  }

  // model/migrate/convert.ts bpfMigrateFilter: x86Jit where the record models the JIT
  /** The x86-64 JIT's outcome for the last conversion (model/jit on its instructions), or null where the record does not model it. */
  jit(): EngineJitOutcome | null {
    const c = this.config;
    if (c.x86Jit === null || c.arch !== 'x86_64' || !c.jitRequested || !c.jitAvailable) return null;
    const result = this.x86.compile(this.out, this.stackDepth, true, c.x86Jit);
    return { result, pcOf: this.pcOfBound };
  }

  /**
   * The analysis of the last conversion, for engine/ebpf/skbprog.ts skbProgramOfConverted: with
   * `plain` (no LDX W ABS, every scratch index < BPF_MEMWORDS, every ancillary load one whose
   * sequence analyzeExpansion places) the converter knows
   * what each memory access of its output reads (see there); `fixes` holds (eBPF index, OP_*, aux)
   * triples for the first `nfix` entries, `helperMask` the helpers called, `maxLoadWord` the highest
   * stack word loaded.
   */
  plain = true;
  /** the length of the program being converted */
  private converting = 0;
  fixes = new Int32Array(3 * 67);
  nfix = 0;
  helperMask = 0;
  maxLoadWord = 0;

  // room: bpfConvertFilter reserves one triple per classic insn and the prologue's three; an
  // ancillary load's several make their own room
  private fix(at: number, op: number, aux: number): void {
    const n = this.nfix;
    const f = this.fixes;
    f[n] = at;
    f[n + 1] = op;
    f[n + 2] = aux;
    this.nfix = n + 3;
  }

  /**
   * Classic insns i..j - 1 equal insn i - 1, which is no jump and whose expansion ends the buffer
   * (from addrs[i - 1]) with its fixes from index `fix0`: append j - i copies of that expansion and
   * of its fixes (moved by the expansion's length each time), as insn() would emit them one by one
   * (it reads only code and k, and what it sets besides, stackDepth, plain, helperMask and
   * maxLoadWord, one more identical insn leaves as it is); record the repeat in `out`. Returns j.
   */
  private repeat(i: number, j: number, fix0: number): number {
    const out = this.out;
    const addrs = this.addrs;
    const s = addrs[i - 1]!;
    const e = out.len;
    const n = e - s;
    const copies = j - i;
    const total = copies * n;
    out.reserve(e + total + EXPANSION_MAX);
    for (let r = 0; r < copies; r++) addrs[i + r] = e + r * n;
    // the columns from s on are periodic (period n): a short copy insn by insn (forward, each read
    // written before), a long one by doubling the periodic part until it is long enough
    const { code, dst, src, off, imm } = out;
    if (total <= 64) {
      for (let x = 0; x < total; x++) {
        code[e + x] = code[s + x]!;
        dst[e + x] = dst[s + x]!;
        src[e + x] = src[s + x]!;
        off[e + x] = off[s + x]!;
        imm[e + x] = imm[s + x]!;
      }
    } else
      for (let w = n; w < n + total; ) {
        const c = Math.min(w, n + total - w);
        code.copyWithin(s + w, s, s + c);
        dst.copyWithin(s + w, s, s + c);
        src.copyWithin(s + w, s, s + c);
        off.copyWithin(s + w, s, s + c);
        imm.copyWithin(s + w, s, s + c);
        w += c;
      }
    out.len = e + total;
    const nr = out.nrep;
    if (3 * nr + 3 > out.reps.length) {
      const g = new Int32Array(2 * out.reps.length);
      g.set(out.reps);
      out.reps = g;
    }
    out.reps[3 * nr] = e;
    out.reps[3 * nr + 1] = e + total;
    out.reps[3 * nr + 2] = n;
    out.nrep = nr + 1;
    const nf = this.nfix - fix0;
    if (nf > 0) {
      const need = this.nfix + copies * nf + 3 * (this.converting + PER_INSN_FIXES_ROOM);
      if (need > this.fixes.length) {
        const g = new Int32Array(Math.max(need, 2 * this.fixes.length));
        g.set(this.fixes);
        this.fixes = g;
      }
      const f = this.fixes;
      let m = this.nfix;
      for (let r = 1; r <= copies; r++) {
        const d = r * n;
        for (let q = fix0; q < fix0 + nf; q += 3) {
          f[m] = f[q]! + d;
          f[m + 1] = f[q + 1]!;
          f[m + 2] = f[q + 2]!;
          m += 3;
        }
      }
      this.nfix = m;
    }
    return j;
  }

  /** the classic pcs of the jumps of the program being converted (the second call's checks and the patching read only them) */
  private jumps = new Int32Array(64);

  // model/migrate/convert.ts bpfConvertFilter (both calls); null = converted into `out`
  bpfConvertFilter(p: ClassicColumns): Rejection | null {
    const len = p.len;
    if (len <= 0 || len > BPF_MAXINSNS) return fail('bad-len', null);
    if (this.addrs.length < len + 1) this.addrs = new Int32Array(len + 1);
    if (this.jumps.length < len) this.jumps = new Int32Array(Math.max(len, 2 * this.jumps.length));
    const addrs = this.addrs;
    const jumps = this.jumps;
    let nj = 0;
    this.converting = len;
    this.plain = true;
    this.nfix = 0;
    this.helperMask = 0;
    this.maxLoadWord = 0;
    if (this.fixes.length < 3 * (len + PER_INSN_FIXES_ROOM)) this.fixes = new Int32Array(Math.max(3 * (len + PER_INSN_FIXES_ROOM), 2 * this.fixes.length));
    const code = p.code;
    const ks = p.k;
    const jts = p.jt;
    const jfs = p.jf;
    const out = this.out;
    // seen_ld_abs (an LD ABS/IND that is no ancillary load, or LDX MSH anywhere) decides the
    // prologue's length, so it is known before the body is emitted: a program that fails the first
    // call before such an insn is rejected whatever the prologue.
    let seen = false;
    for (let i = 0; i < len; i++) {
      const c = code[i]!;
      if (c === 0x40 || c === 0x48 || c === 0x50 || c === 0xb1 || ((c === 0x20 || c === 0x28 || c === 0x30) && this.extension(ks[i]! >>> 0) === null)) {
        seen = true;
        break;
      }
    }
    // The prologue (F:602-623), then the body; addrs[i] = where insn i's expansion starts.
    out.reserve(PROLOGUE_MAX + EXPANSION_MAX);
    out.len = 0;
    out.nrep = 0;
    out.push(XOR32_X, BPF_REG_A, BPF_REG_A, 0, 0);
    out.push(XOR32_X, BPF_REG_X, BPF_REG_X, 0, 0);
    out.push(MOV64_X, BPF_REG_CTX, BPF_REG_ARG1, 0, 0);
    if (seen) {
      this.fix(3, OP_LD_CTX, F_DATA_PTR);
      this.fix(4, OP_LD_CTX, F_LEN);
      this.fix(5, OP_LD_CTX, F_DATA_LEN);
      out.push(0x01 | 0x18 | 0x60, BPF_REG_D, BPF_REG_CTX, SK_BUFF.data.offset, 0);
      out.push(LDX_MEM | BPF_W, BPF_REG_H, BPF_REG_CTX, SK_BUFF.len.offset, 0);
      out.push(LDX_MEM | BPF_W, BPF_REG_TMP, BPF_REG_CTX, SK_BUFF.dataLen.offset, 0);
      out.push(BPF_ALU | BPF_SUB | BPF_X, BPF_REG_H, BPF_REG_TMP, 0, 0);
    }
    this.stackDepth = 0;
    // the classic insn before, when it was no jump (a run of equal ones repeats its expansion), and where its expansion and fixes start
    let prevC = -1;
    let prevK = 0;
    let prevFix = 0;
    for (let i = 0; i < len; i++) {
      if (out.len + EXPANSION_MAX > out.code.length) out.reserve(out.len + EXPANSION_MAX);
      const c = code[i]!;
      const k = ks[i]!;
      if (c === prevC && k === prevK && this.repeats) {
        // insns i..j - 1 equal insn i - 1 (no jump): each expansion is a copy of its, with its fixes moved along
        let j = i + 1;
        while (j < len && code[j] === c && ks[j] === k) j++;
        i = this.repeat(i, j, prevFix) - 1;
        continue;
      }
      addrs[i] = out.len;
      // (codes are u16: one above 0xff is no classic code the tables hold)
      const one = c < 256 ? ONE_CODE[c]! : 0;
      if (one !== 0) {
        // insn()'s one-instruction expansions (ALU, LD/LDX IMM, TAX, TXA), from the tables
        prevFix = this.nfix;
        out.push(one, ONE_DST[c]!, ONE_SRC[c]!, 0, ONE_K[c] === 1 ? k | 0 : 0);
        prevC = c;
        prevK = k;
        continue;
      }
      switch (c) {
        case 0x05: {
          // the first call's checks (F:694 jump target out of range), then JA with its offset to come
          const t = (i + k + 1) | 0;
          if (t >= len || t < 0) return fail('jump-target-out-of-range', i);
          out.push(JA, 0, 0, 0, 0);
          jumps[nj++] = i;
          prevC = -1;
          break;
        }
        case 0x15: case 0x1d: case 0x45: case 0x4d: case 0x25: case 0x2d: case 0x35: case 0x3d: { // prettier-ignore
          const jt = jts[i]!;
          const jf = jfs[i]!;
          const op = c & 0xf0;
          // convertCondJump: one jump to jt (jf == 0), one inverted jump to jf (jt == 0, not JSET), or both
          if (jf === 0 ? i + jt + 1 >= len : jt === 0 && op !== 0x40 ? i + jf + 1 >= len : i + jt + 1 >= len || i + jf + 1 >= len)
            return fail('jump-target-out-of-range', i);
          let src: number;
          let imm: number;
          let srcBit: number;
          if ((c & BPF_X) === 0 && (k | 0) < 0) {
            // F:740 a negative k is moved into TMP first (the jump compares with the sign-extended s32)
            out.push(MOV32_K, BPF_REG_TMP, 0, 0, k | 0);
            src = BPF_REG_TMP;
            imm = 0;
            srcBit = BPF_X;
          } else {
            imm = k | 0;
            srcBit = c & BPF_X;
            src = srcBit === BPF_X ? BPF_REG_X : 0;
          }
          if (jf === 0) out.push(BPF_JMP | op | srcBit, BPF_REG_A, src, 0, imm);
          else if (jt === 0 && op !== 0x40) {
            const inv = op === BPF_JEQ ? BPF_JNE : op === BPF_JGT ? BPF_JLE : op === BPF_JGE ? BPF_JLT : 0;
            out.push(BPF_JMP | inv | srcBit, BPF_REG_A, src, 0, imm);
          } else {
            out.push(BPF_JMP | op | srcBit, BPF_REG_A, src, 0, imm);
            out.push(JA, 0, 0, 0, 0);
          }
          jumps[nj++] = i;
          prevC = -1;
          break;
        }
        default:
          prevFix = this.nfix;
          if (!this.insn(c, k)) return fail('unknown-opcode', i);
          prevC = c;
          prevK = k;
      }
    }
    const end = out.len;
    addrs[len] = end;
    // The second call's checks, on the eBPF indices e = addrs[i] (the prologue is in place).
    let real: number | null = null;
    for (let j = 0; j < nj; j++) {
      const i = jumps[j]!;
      const c = code[i]!;
      const k = ks[i]!;
      const e = addrs[i]!;
      if (c === 0x05) {
        if (e + 1 > 0x8000) return fail('jump-offset-overflow', i);
        if (real === null && addrs[(i + k + 1) | 0]! - e - 1 > 0x7fff) real = i;
        continue;
      }
      const jt = jts[i]!;
      const jf = jfs[i]!;
      const slot0 = (c & BPF_X) === 0 && (k | 0) < 0 ? 1 : 0;
      const op = c & 0xf0;
      const single = jf === 0 ? i + jt + 1 : jt === 0 && op !== 0x40 ? i + jf + 1 : -1;
      if (single >= 0) {
        if (e + 1 + slot0 > 0x8000) return fail('jump-offset-overflow', i);
        if (real === null && addrs[single]! - e - 1 - slot0 > 0x7fff) real = i;
      } else {
        if (e + 1 + slot0 > 0x8000) return fail('jump-offset-overflow', i);
        if (e + 2 + slot0 > 0x8000) return fail('jump-offset-overflow', i);
        if (real === null && (addrs[i + jt + 1]! - e - 1 - slot0 > 0x7fff || addrs[i + jf + 1]! - e - 2 - slot0 > 0x7fff)) real = i;
      }
    }
    if (real !== null) return fail('jump-offset-overflow', real);
    // Patch the jumps' offsets.
    const off = out.off;
    for (let j = 0; j < nj; j++) {
      const i = jumps[j]!;
      const c = code[i]!;
      const e = addrs[i]!;
      if (c === 0x05) {
        off[e] = addrs[(i + ks[i]! + 1) | 0]! - e - 1;
        continue;
      }
      const jt = jts[i]!;
      const jf = jfs[i]!;
      const at = e + ((c & BPF_X) === 0 && (ks[i]! | 0) < 0 ? 1 : 0);
      const op = c & 0xf0;
      if (jf === 0) off[at] = addrs[i + jt + 1]! - at - 1;
      else if (jt === 0 && op !== 0x40) off[at] = addrs[i + jf + 1]! - at - 1;
      else {
        off[at] = addrs[i + jt + 1]! - at - 1;
        off[at + 1] = addrs[i + jf + 1]! - at - 2;
      }
    }
    this.convertedLen = len;
    this.seenLdAbs = seen;
    return null;
  }
}
