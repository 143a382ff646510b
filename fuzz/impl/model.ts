// The outside implementations as models: one classic interpreter whose decision points are switched
// to what libpcap, DPDK or golang.org/x/net/bpf does where it departs from Linux. Each catalogue
// entry (fuzz/impl/<name>.ts) owns one event bit; a run records the bit when the implementation's
// decision gives a different outcome from Linux's at that instruction, and its result is the
// catalogue's exact prediction of what the implementation returns. With every decision at Linux's
// (LINUX_SEMANTICS) it gives the kernel path's result on the programs the outside judges support
// (no SKF_AD_* loads): tested against the spec in test/oracle/outside-catalogue.test.ts.
//
// This is a model of other implementations, written from their source (cited per decision), not of
// Linux: Linux's loads come from the spec (model/ebpf/helpers.ts bpfSkbLoadHelper).
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/config.js';
import { bpfSkbLoadHelper, type HelperEnv } from '../../model/ebpf/helpers.js';
import type { SkBuff } from '../../model/skb.js';

/** Where an implementation departs from Linux. */
export interface ImplSemantics {
  /** LSH/RSH by X >= 32: Linux shifts by X & 31 (kernel/bpf/core.c ALU_LSH_X); libpcap and Go give 0 */
  readonly shiftX: 'mask' | 'zero';
  /**
   * How a packet load forms and checks its offset:
   * 'linux': (base + k) as an int, negative offsets through SKF_NET_OFF / SKF_LL_OFF (the spec);
   * 'exact': base + k without wrap, as an unsigned offset, ok when offset + size <= len (libpcap's
   *   BSD checks, x/net/bpf's int arithmetic);
   * 'dpdk': (base + k) mod 2^32, ok when offset + size <= len; offset + size past 2^32 wraps in
   *   rte_pktmbuf_read and reads out of bounds (DPDK 22.11 rte_mbuf.h:1739);
   * 'dpdk-jit': base + (s32)k in 64 bits; negative reads before the packet (out of bounds), within the
   *   first segment reads there, else as 'dpdk' (the x86 JIT's fast path, bpf_jit_x86.c:1043-1086).
   */
  readonly loads: 'linux' | 'exact' | 'dpdk' | 'dpdk-jit';
  /**
   * the register LD IND adds k to: X (Linux); or 'dpdk': A for LD IND W and B, X for LD IND H (DPDK's
   * converter takes src_reg from BPF_SRC(code), and only the H size bit 0x08 is also BPF_X,
   * bpf_convert.c:336-337)
   */
  readonly indIndex: 'x' | 'dpdk';
  /** where LDX LEN puts the length: X (Linux), or A (x/net/bpf's Disassemble, instructions.go:66-70) */
  readonly ldxLen: 'x' | 'a';
  /**
   * JSET K with 0 <= k <= 127 ('broken': DPDK's x86 JIT encodes TEST r/m64, imm32 with an 8-bit
   * immediate, bpf_jit_x86.c:893-902 with imm_size at :126-131, so the CPU decodes three bytes of
   * the next instruction as immediate: whatever runs next is undefined)
   */
  readonly jsetImm8?: 'ok' | 'broken';
}

export const LINUX_SEMANTICS: ImplSemantics = Object.freeze({ shiftX: 'mask', loads: 'linux', indIndex: 'x', ldxLen: 'x' });

/** The event bits the model can record (one per kind of decision), named by the catalogue entries. */
export const EV_SHIFT_X = 1 << 0;
/** an IND load whose X + k passes 2^32: Linux wraps, the implementation does not */
export const EV_IND_WRAP = 1 << 1;
/** a load at an offset Linux takes as negative (SKF_NET_OFF / SKF_LL_OFF) and resolves */
export const EV_NEG_OFFSET = 1 << 2;
/** LD IND W or B indexed by A instead of X (DPDK; with A != X and a different outcome) */
export const EV_IND_INDEX_A = 1 << 3;
/** LDX LEN loaded into A */
export const EV_LDX_LEN_A = 1 << 4;
/** rte_pktmbuf_read's offset + length wrapped past 2^32: an out-of-bounds read */
export const EV_READ_WRAP = 1 << 5;
/** the JIT's fast path took a negative offset: a read before the packet */
export const EV_JIT_NEGATIVE = 1 << 6;
/** a load whose outcome differs from Linux's for a reason the model does not name (a model gap) */
export const EV_UNNAMED = 1 << 7;
/** DPDK's JIT ran a JSET K with an 8-bit immediate (mis-encoded: undefined from there on) */
export const EV_JIT_JSET_IMM8 = 1 << 8;

/** The model's prediction for one run. */
export type Prediction =
  | { readonly kind: 'value'; readonly value: number }
  /** the implementation reads outside the packet: any value, or a fatal signal */
  | { readonly kind: 'oob'; readonly detail: string };

export interface ModelRun {
  readonly prediction: Prediction;
  /** EV_* bits of the decisions where the implementation's outcome differed from Linux's */
  readonly events: number;
}

const MASK32 = 0x100000000;

/** A loaded value, a failed load (the filter returns 0), or an out-of-bounds read. */
type Load = { ok: true; v: number } | { ok: false; oob: false } | { ok: false; oob: true; detail: string };
const FAIL: Load = { ok: false, oob: false };

function readBe(data: Uint8Array, off: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + data[off + i]!;
  return v;
}

/** Linux's packet load (ABS, IND, MSH) at an int offset: the spec's bpf_skb_load_helper_{8,16,32}. */
export function linuxLoad(skb: SkBuff, config: KernelConfig, offset: number, size: number): number | null {
  const env: HelperEnv = { skb, config, cpu: 0, rnd: new Uint32Array(4) };
  const v = bpfSkbLoadHelper(env, skb.headlen, offset | 0, size);
  return v < 0 ? null : v;
}

/** The implementation's load at base + k (base: X, A, or 0 for ABS and MSH). */
function implLoad(mode: ImplSemantics['loads'], skb: SkBuff, config: KernelConfig, base: number, k: number, size: number): Load {
  const len = skb.data.length;
  switch (mode) {
    case 'linux': {
      const v = linuxLoad(skb, config, (base + k) | 0, size);
      return v === null ? FAIL : { ok: true, v };
    }
    case 'exact': {
      const off = base + k; // < 2^33, exact in a double
      return off + size <= len ? { ok: true, v: readBe(skb.data, off, size) } : FAIL;
    }
    case 'dpdk': {
      const off = (base + k) % MASK32;
      if (off + size > 0xffffffff) return { ok: false, oob: true, detail: `rte_pktmbuf_read(off ${off}, len ${size}): off + len wraps past 2^32` };
      return off + size <= len ? { ok: true, v: readBe(skb.data, off, size) } : FAIL;
    }
    default: {
      const r2 = base + (k | 0);
      if (r2 < 0) return { ok: false, oob: true, detail: `the JIT's fast path reads ${-r2} bytes before the packet` };
      if (r2 + size <= skb.headlen) return { ok: true, v: readBe(skb.data, r2, size) };
      return implLoad('dpdk', skb, config, r2 % MASK32, 0, size);
    }
  }
}

/** Which event explains a load whose outcome differs from Linux's (same index register). */
function loadEvent(mode: ImplSemantics['loads'], got: Load, base: number, k: number, linuxOk: boolean): number {
  if (!got.ok && got.oob) return mode === 'dpdk-jit' && base + (k | 0) < 0 ? EV_JIT_NEGATIVE : EV_READ_WRAP;
  const sum = base + k;
  if (mode === 'exact' && sum >= MASK32) return EV_IND_WRAP;
  if (linuxOk && (sum % MASK32) >= 0x80000000) return EV_NEG_OFFSET;
  return EV_UNNAMED;
}

const sameLoad = (a: Load, b: number | null): boolean => (a.ok ? b !== null && a.v === b : !a.oob && b === null);

/** Classic codes the model runs (the 49 Linux accepts; SKF_AD_* loads are not supported by the outside judges). */
export class ImplModel {
  /** executions per classic code over the model's life (the coverage report) */
  readonly executed = new Float64Array(256);

  constructor(
    readonly sem: ImplSemantics,
    readonly config: KernelConfig,
  ) {}

  /** Run a (checker-valid, SKF_AD-free) program on an skb. */
  run(prog: Program, skb: SkBuff): ModelRun {
    const sem = this.sem;
    const len = skb.data.length;
    const mem = new Uint32Array(16);
    let A = 0;
    let X = 0;
    let events = 0;
    const executed = this.executed;
    for (let pc = 0, steps = 0; pc < prog.length && steps <= prog.length; pc++, steps++) {
      const { code, jt, jf } = prog[pc]!;
      const K = prog[pc]!.k >>> 0;
      executed[code & 0xff]!++;
      // a packet load: base register (0 for ABS/MSH), size, and whether X receives it (MSH)
      let load: { base: number; size: number; msh: boolean } | null = null;
      switch (code) {
        case 0x04: A = (A + K) >>> 0; break;
        case 0x0c: A = (A + X) >>> 0; break;
        case 0x14: A = (A - K) >>> 0; break;
        case 0x1c: A = (A - X) >>> 0; break;
        case 0x24: A = Math.imul(A, K) >>> 0; break;
        case 0x2c: A = Math.imul(A, X) >>> 0; break;
        case 0x34: A = Math.floor(A / K) >>> 0; break;
        case 0x3c:
          if (X === 0) return { prediction: { kind: 'value', value: 0 }, events };
          A = Math.floor(A / X) >>> 0;
          break;
        case 0x94: A = A % K; break;
        case 0x9c:
          if (X === 0) return { prediction: { kind: 'value', value: 0 }, events };
          A = A % X;
          break;
        case 0x54: A = (A & K) >>> 0; break;
        case 0x5c: A = (A & X) >>> 0; break;
        case 0x44: A = (A | K) >>> 0; break;
        case 0x4c: A = (A | X) >>> 0; break;
        case 0xa4: A = (A ^ K) >>> 0; break;
        case 0xac: A = (A ^ X) >>> 0; break;
        case 0x64: A = (A << (K & 31)) >>> 0; break;
        case 0x74: A = A >>> (K & 31); break;
        case 0x6c:
        case 0x7c: {
          const linux = code === 0x6c ? (A << (X & 31)) >>> 0 : A >>> (X & 31);
          const got = sem.shiftX === 'zero' && X >= 32 ? 0 : linux;
          if (got !== linux) events |= EV_SHIFT_X;
          A = got;
          break;
        }
        case 0x84: A = -A >>> 0; break;
        case 0x05: pc += K; break;
        case 0x15: pc += A === K ? jt : jf; break;
        case 0x1d: pc += A === X ? jt : jf; break;
        case 0x25: pc += A > K ? jt : jf; break;
        case 0x2d: pc += A > X ? jt : jf; break;
        case 0x35: pc += A >= K ? jt : jf; break;
        case 0x3d: pc += A >= X ? jt : jf; break;
        case 0x45:
          if (sem.jsetImm8 === 'broken' && K <= 127)
            return { prediction: { kind: 'oob', detail: `jset #${K}: the JIT's TEST imm32 carries an 8-bit immediate (mis-encoded code)` }, events: events | EV_JIT_JSET_IMM8 };
          pc += (A & K) !== 0 ? jt : jf;
          break;
        case 0x4d: pc += (A & X) !== 0 ? jt : jf; break;
        case 0x20: load = { base: 0, size: 4, msh: false }; break;
        case 0x28: load = { base: 0, size: 2, msh: false }; break;
        case 0x30: load = { base: 0, size: 1, msh: false }; break;
        case 0x40: load = { base: -1, size: 4, msh: false }; break;
        case 0x48: load = { base: -1, size: 2, msh: false }; break;
        case 0x50: load = { base: -1, size: 1, msh: false }; break;
        case 0xb1: load = { base: 0, size: 1, msh: true }; break;
        case 0x80: A = len; break;
        case 0x81:
          if (sem.ldxLen === 'a') {
            if (A !== len || X !== len) events |= EV_LDX_LEN_A;
            A = len;
          } else X = len;
          break;
        case 0x00: A = K; break;
        case 0x01: X = K; break;
        case 0x60: A = mem[K & 15]!; break;
        case 0x61: X = mem[K & 15]!; break;
        case 0x02: mem[K & 15] = A; break;
        case 0x03: mem[K & 15] = X; break;
        case 0x07: X = A; break;
        case 0x87: A = X; break;
        case 0x06: return { prediction: { kind: 'value', value: K }, events };
        case 0x16: return { prediction: { kind: 'value', value: A }, events };
        default:
          throw new RangeError(`ImplModel: code 0x${code.toString(16)} at pc ${pc} is not one the outside judges run`);
      }
      if (load === null) continue;
      // LD IND: the index register; the implementation's may differ from Linux's X
      const isInd = load.base < 0;
      const linuxBase = isInd ? X : 0;
      const base = isInd ? (sem.indIndex === 'dpdk' && code !== 0x48 ? A : X) : 0;
      const got = implLoad(sem.loads, skb, this.config, base, K, load.size);
      const linux = linuxLoad(skb, this.config, (linuxBase + K) | 0, load.size);
      if (!sameLoad(got, linux)) {
        // a different index register (DPDK) explains the difference; an out-of-bounds read is named too
        if (isInd && base !== linuxBase) events |= EV_IND_INDEX_A | (!got.ok && got.oob ? loadEvent(sem.loads, got, base, K, false) : 0);
        else events |= loadEvent(sem.loads, got, base, K, linux !== null);
      }
      if (!got.ok) {
        if (got.oob) return { prediction: { kind: 'oob', detail: got.detail }, events };
        return { prediction: { kind: 'value', value: 0 }, events };
      }
      if (load.msh) X = (got.v & 0xf) << 2;
      else A = got.v;
    }
    // a checker-valid program always ends in RET
    throw new RangeError('ImplModel: the program ran off its end (not a checker-valid program)');
  }
}
