// The engine's converter and attach path: model/attach.ts skAttachFilter after the checks
// (bpf_migrate_filter = model/migrate/convert.ts bpfConvertFilter twice, bpfProgSelectRuntime, then
// the charge, skFilterCharge) on a program's columns, emitting straight into a typed instruction
// buffer. The same verdict (errno, stage, rule, pc) and the same eBPF instructions as the spec.
//
// How it is fast: each classic instruction that is not a jump or a store expands to a sequence
// that depends only on (code, k) and the kernel record, so it is expanded once (by the spec's own
// convertBpfLdAbs / convertBpfExtensions and instruction builders) and kept packed in a cache; the
// kernel's two calls and two passes become one pass for the lengths and checks and one that copies
// the cached expansions and writes the jumps with their final offsets. What the kernel's passes
// would reject is found from the lengths alone:
//   - first call: a jump target out of range, an unknown opcode (the first such pc);
//   - second call, first iteration: forward targets still read addrs[t] == 0, so a jump emitted at
//     eBPF index e fails when e + 1 > 32768 (the first such pc; F:701-711);
//   - second iteration: the real offset outside s16 (the first such pc).
import type { SockFilter } from '../../model/cbpf/insn.js';
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
  BPF_REG_CTX,
  BPF_REG_D,
  BPF_REG_FP,
  BPF_REG_H,
  BPF_REG_TMP,
  BPF_REG_X,
  bpfAlu32Imm,
  bpfAlu32Reg,
  bpfExitInsn,
  bpfJmpImm,
  bpfLdxMem,
  bpfMov32Imm,
  bpfMov32Reg,
  bpfMov64Reg,
  bpfRawInsn,
  type BpfInsn,
} from '../../model/ebpf/insn.js';
import { bpfInterpreterStackSize } from '../../model/ebpf/interp.js';
import { SK_BUFF } from '../../model/ebpf/layout.js';
import { skFilterCharge } from '../../model/migrate/charge.js';
import { CONVERT_RULE_AT, bpfProgSelectRuntime, type ConvertRule } from '../../model/migrate/convert.js';
import { convertBpfExtensions } from '../../model/migrate/extensions.js';
import { convertBpfLdAbs } from '../../model/migrate/ldabs.js';
import { ENOTSUPP } from '../../model/uapi.js';
import type { ClassicColumns } from '../cbpf/program.js';

const fail = (rule: ConvertRule, pc: number | null): Rejection => reject(-EINVAL, 'convert', rule, pc, CONVERT_RULE_AT[rule]);

/** An eBPF program in columns (struct bpf_insn's fields), in reusable buffers. */
export class EbpfBuffer {
  len = 0;
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

/** A cached expansion: packed instructions (code, dst, src, off, imm) and whether it set seen_ld_abs. */
interface Expansion {
  readonly n: number;
  readonly code: Uint8Array;
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly off: Int16Array;
  readonly imm: Int32Array;
  readonly ldAbs: boolean;
}

const UNKNOWN: Expansion = { n: -1, code: new Uint8Array(0), dst: new Uint8Array(0), src: new Uint8Array(0), off: new Int16Array(0), imm: new Int32Array(0), ldAbs: false };

function pack(insns: readonly BpfInsn[], ldAbs: boolean): Expansion {
  const n = insns.length;
  const e = { n, code: new Uint8Array(n), dst: new Uint8Array(n), src: new Uint8Array(n), off: new Int16Array(n), imm: new Int32Array(n), ldAbs };
  insns.forEach((x, i) => {
    e.code[i] = x.code;
    e.dst[i] = x.dst;
    e.src[i] = x.src;
    e.off[i] = x.off;
    e.imm[i] = x.imm;
  });
  return e;
}

// model/migrate/convert.ts convertInsn, for the classic codes whose expansion is a pure function of
// (code, k, config): everything but the jumps and ST/STX. UNKNOWN for a code the converter rejects.
function expandPure(code: number, k: number, config: KernelConfig): Expansion {
  const fp: SockFilter = { code, jt: 0, jf: 0, k };
  switch (code) {
    case 0x0c: case 0x04: case 0x1c: case 0x14: case 0x5c: case 0x54: case 0x4c: case 0x44: // prettier-ignore
    case 0x6c: case 0x64: case 0x7c: case 0x74: case 0xac: case 0xa4: case 0x2c: case 0x24: // prettier-ignore
    case 0x3c: case 0x34: case 0x9c: case 0x94: case 0x84: // prettier-ignore
    case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50: { // prettier-ignore
      if (code === 0x20 || code === 0x28 || code === 0x30) {
        const ext = convertBpfExtensions(fp, config);
        if (ext) return pack(ext, false);
      }
      if ((code & 0x07) === 0x00) {
        const ld = convertBpfLdAbs(fp, config);
        if (ld) return pack(ld, true);
      }
      const out: BpfInsn[] = [];
      if (code === 0x3c || code === 0x9c) {
        out.push(bpfMov32Reg(BPF_REG_X, BPF_REG_X));
        if (config.divXGuard) out.push(bpfJmpImm(BPF_JNE, BPF_REG_X, 0, 2), bpfAlu32Reg(BPF_XOR, BPF_REG_A, BPF_REG_A), bpfExitInsn());
      }
      out.push(bpfRawInsn(code, BPF_REG_A, BPF_REG_X, 0, k));
      return pack(out, false);
    }
    case 0xb1: {
      const ld = convertBpfLdAbs({ code: 0x30, jt: 0, jf: 0, k }, config)!;
      return pack(
        [
          bpfMov64Reg(BPF_REG_X, BPF_REG_A),
          ...ld,
          bpfAlu32Imm(BPF_AND, BPF_REG_A, 0xf),
          bpfAlu32Imm(BPF_LSH, BPF_REG_A, 2),
          bpfMov64Reg(BPF_REG_TMP, BPF_REG_X),
          bpfMov64Reg(BPF_REG_X, BPF_REG_A),
          bpfMov64Reg(BPF_REG_A, BPF_REG_TMP),
        ],
        true,
      );
    }
    case 0x16:
      return pack([bpfExitInsn()], false);
    case 0x06:
      return pack([bpfRawInsn(BPF_ALU | 0xb0 | BPF_K, BPF_REG_0, 0, 0, k), bpfExitInsn()], false);
    case 0x60:
    case 0x61:
      return pack([bpfLdxMem(BPF_W, code === 0x60 ? BPF_REG_A : BPF_REG_X, BPF_REG_FP, -((k * 4 + 4) | 0))], false);
    case 0x00:
    case 0x01:
      return pack([bpfMov32Imm(code === 0x00 ? BPF_REG_A : BPF_REG_X, k)], false);
    case 0x07:
      return pack([bpfMov64Reg(BPF_REG_X, BPF_REG_A)], false);
    case 0x87:
      return pack([bpfMov64Reg(BPF_REG_A, BPF_REG_X)], false);
    case 0x80:
    case 0x81:
      return pack([bpfLdxMem(BPF_W, code === 0x80 ? BPF_REG_A : BPF_REG_X, BPF_REG_CTX, SK_BUFF.len.offset)], false);
    case 0x21:
      return pack([bpfLdxMem(BPF_W, BPF_REG_A, BPF_REG_CTX, k)], false);
    default:
      return UNKNOWN;
  }
}

/** Bound on cached expansions per converter; the cache is emptied when it is full. */
export const EXPANSION_CACHE_LIMIT = 1 << 16;

/** What the engine's attach path leaves behind for an accepted program. */
export interface EngineAttached {
  /** the migrated program (the converter's buffer: valid until the next attach) */
  readonly insns: EbpfBuffer;
  readonly stackDepth: number;
  /** the interpreter's stack size (bpf_prog_select_func's bucket) */
  readonly stackSize: number;
  readonly seenLdAbs: boolean;
}

/** The engine's converter for one kernel record; reuse it for every program. */
export class EngineConverter {
  readonly out = new EbpfBuffer();
  /** per classic code, the expansions by k (as an int: small integer keys hash fast) */
  private readonly cache: (Map<number, Expansion> | undefined)[] = new Array(256).fill(undefined);
  private cached = 0;
  private lens = new Int32Array(BPF_MAXINSNS);
  private addrs = new Int32Array(BPF_MAXINSNS);
  stackDepth = 0;
  seenLdAbs = false;

  constructor(readonly config: KernelConfig) {}

  private expansion(code: number, k: number): Expansion {
    if (code > 0xff) return UNKNOWN;
    let m = this.cache[code];
    if (m === undefined) this.cache[code] = m = new Map();
    let e = m.get(k | 0);
    if (e === undefined) {
      e = expandPure(code, k, this.config);
      if (this.cached >= EXPANSION_CACHE_LIMIT) {
        this.cache.fill(undefined);
        this.cached = 0;
        this.cache[code] = m = new Map();
      }
      m.set(k | 0, e);
      this.cached++;
    }
    return e;
  }

  // model/attach.ts skAttachFilter after bpfCheckFilter: bpf_migrate_filter, then __sk_filter_charge
  /** Attach a checked program: the migrated program (in `out`), or the rejection. */
  attach(p: ClassicColumns, omemAlloc = 0): EngineAttached | Rejection {
    const r = this.bpfConvertFilter(p);
    if (r !== null) return r;
    // kernel/bpf/core.c:2363 bpf_prog_select_runtime
    if (bpfProgSelectRuntime(this.config) === null) return reject(-ENOTSUPP, 'runtime', 'jit-required', null, 'kernel/bpf/core.c:2392');
    const charged = skFilterCharge(this.out.len, this.config.optmemMax, omemAlloc, this.config.bpfProgHeaderSize);
    if (charged !== null) return charged;
    return { insns: this.out, stackDepth: this.stackDepth, stackSize: bpfInterpreterStackSize(this.stackDepth), seenLdAbs: this.seenLdAbs };
  }

  // model/migrate/convert.ts bpfConvertFilter (both calls); null = converted into `out`
  bpfConvertFilter(p: ClassicColumns): Rejection | null {
    const len = p.len;
    if (len <= 0 || len > BPF_MAXINSNS) return fail('bad-len', null);
    if (this.lens.length < len) {
      this.lens = new Int32Array(len);
      this.addrs = new Int32Array(len);
    }
    const lens = this.lens;
    const addrs = this.addrs;
    const code = p.code;
    const ks = p.k;
    const jts = p.jt;
    const jfs = p.jf;
    // The first call: lengths, seen_ld_abs, and its rejections (first pc wins).
    let seen = false;
    let stackDepth = 0;
    for (let i = 0; i < len; i++) {
      const c = code[i]!;
      const k = ks[i]!;
      switch (c) {
        case 0x05: {
          const t = (i + k + 1) | 0;
          if (t >= len || t < 0) return fail('jump-target-out-of-range', i);
          lens[i] = 1;
          break;
        }
        case 0x15: case 0x1d: case 0x45: case 0x4d: case 0x25: case 0x2d: case 0x35: case 0x3d: { // prettier-ignore
          const jt = jts[i]!;
          const jf = jfs[i]!;
          const tmp = (c & BPF_X) === 0 && (k | 0) < 0 ? 1 : 0;
          const op = c & 0xf0;
          // convertCondJump: one jump to jt (jf == 0), one inverted jump to jf (jt == 0, not JSET), or both
          if (jf === 0) {
            if (i + jt + 1 >= len) return fail('jump-target-out-of-range', i);
            lens[i] = tmp + 1;
          } else if (jt === 0 && op !== 0x40) {
            if (i + jf + 1 >= len) return fail('jump-target-out-of-range', i);
            lens[i] = tmp + 1;
          } else {
            if (i + jt + 1 >= len || i + jf + 1 >= len) return fail('jump-target-out-of-range', i);
            lens[i] = tmp + 2;
          }
          break;
        }
        case 0x02:
        case 0x03: {
          lens[i] = 1;
          const so = (k * 4 + 4) >>> 0;
          if (so > stackDepth) stackDepth = so;
          break;
        }
        default: {
          const e = this.expansion(c, k);
          if (e.n < 0) return fail('unknown-opcode', i);
          if (e.ldAbs) seen = true;
          lens[i] = e.n;
        }
      }
    }
    // The second call, first iteration (forward targets read addrs[t] == 0), then the second.
    const start = 3 + (seen ? 4 : 0);
    let at = start;
    let real: number | null = null;
    for (let i = 0; i < len; i++) {
      addrs[i] = at;
      at += lens[i]!;
    }
    for (let i = 0; i < len; i++) {
      const c = code[i]!;
      if (c !== 0x05 && (c & 0x07) !== BPF_JMP) continue;
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
      // the jumps this instruction emits: (slot, target)
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
    // Emit: the prologue (F:602-623), then each expansion with its final offsets.
    const out = this.out;
    out.len = 0;
    out.reserve(at);
    out.push(BPF_ALU | BPF_XOR | BPF_X, BPF_REG_A, BPF_REG_A, 0, 0);
    out.push(BPF_ALU | BPF_XOR | BPF_X, BPF_REG_X, BPF_REG_X, 0, 0);
    out.push(0x07 | 0xb0 | BPF_X, BPF_REG_CTX, BPF_REG_ARG1, 0, 0);
    if (seen) {
      out.push(0x01 | 0x18 | 0x60, BPF_REG_D, BPF_REG_CTX, SK_BUFF.data.offset, 0);
      out.push(0x01 | BPF_W | 0x60, BPF_REG_H, BPF_REG_CTX, SK_BUFF.len.offset, 0);
      out.push(0x01 | BPF_W | 0x60, BPF_REG_TMP, BPF_REG_CTX, SK_BUFF.dataLen.offset, 0);
      out.push(BPF_ALU | BPF_SUB | BPF_X, BPF_REG_H, BPF_REG_TMP, 0, 0);
    }
    for (let i = 0; i < len; i++) {
      const c = code[i]!;
      const k = ks[i]!;
      const e = addrs[i]!;
      switch (c) {
        case 0x05:
          out.push(BPF_JMP | BPF_JA, 0, 0, addrs[(i + k + 1) | 0]! - e - 1, 0);
          break;
        case 0x15: case 0x1d: case 0x45: case 0x4d: case 0x25: case 0x2d: case 0x35: case 0x3d: { // prettier-ignore
          const jt = jts[i]!;
          const jf = jfs[i]!;
          let src: number;
          let imm: number;
          let srcBit: number;
          let slot = 0;
          if ((c & BPF_X) === 0 && (k | 0) < 0) {
            out.push(BPF_ALU | 0xb0 | BPF_K, BPF_REG_TMP, 0, 0, k | 0);
            src = BPF_REG_TMP;
            imm = 0;
            srcBit = BPF_X;
            slot = 1;
          } else {
            imm = k | 0;
            srcBit = c & BPF_X;
            src = srcBit === BPF_X ? BPF_REG_X : 0;
          }
          const op = c & 0xf0;
          if (jf === 0) {
            out.push(BPF_JMP | op | srcBit, BPF_REG_A, src, addrs[i + jt + 1]! - e - 1 - slot, imm);
            break;
          }
          if (jt === 0 && op !== 0x40) {
            const inv = op === BPF_JEQ ? BPF_JNE : op === BPF_JGT ? BPF_JLE : op === BPF_JGE ? BPF_JLT : 0;
            out.push(BPF_JMP | inv | srcBit, BPF_REG_A, src, addrs[i + jf + 1]! - e - 1 - slot, imm);
            break;
          }
          out.push(BPF_JMP | op | srcBit, BPF_REG_A, src, addrs[i + jt + 1]! - e - 1 - slot, imm);
          out.push(BPF_JMP | BPF_JA, 0, 0, addrs[i + jf + 1]! - e - 2 - slot, 0);
          break;
        }
        case 0x02:
        case 0x03:
          out.push(0x03 | BPF_W | 0x60, BPF_REG_FP, c === 0x02 ? BPF_REG_A : BPF_REG_X, -((k * 4 + 4) | 0), 0);
          break;
        default: {
          const x = this.expansion(c, k);
          const n = x.n;
          const base = out.len;
          const oc = out.code;
          const od = out.dst;
          const os = out.src;
          const oo = out.off;
          const oi = out.imm;
          for (let j = 0; j < n; j++) {
            oc[base + j] = x.code[j]!;
            od[base + j] = x.dst[j]!;
            os[base + j] = x.src[j]!;
            oo[base + j] = x.off[j]!;
            oi[base + j] = x.imm[j]!;
          }
          out.len = base + n;
        }
      }
    }
    this.stackDepth = stackDepth;
    this.seenLdAbs = seen;
    return null;
  }
}
