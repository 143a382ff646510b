// The outside implementations' own validators, as models: what they accept of the programs Linux's
// bpf_check_classic rejects (catalogue entries of kind 'linux-rejects' predict the verdict with them).
// Written from each implementation's source, cited per rule; not Linux's checker.
import type { Program } from '../../model/cbpf/insn.js';
import { ALLOWED_CODES } from '../arb/program.js';

const LIBPCAP = 'libpcap-1.10.3 bpf_filter.c';
const ALLOWED: ReadonlySet<number> = new Set(ALLOWED_CODES);

// libpcap-1.10.3 bpf_filter.c:408 pcap_validate_filter (bpf_validate)
/** Whether libpcap's bpf_validate accepts the program. */
export function pcapValidateFilter(prog: Program): boolean {
  const len = prog.length;
  if (len < 1) return false; // :414
  for (let i = 0; i < len; i++) {
    const { code, jt, jf } = prog[i]!;
    const k = prog[i]!.k >>> 0;
    switch (code & 0x07) {
      case 0x00: // :423 BPF_LD, BPF_LDX: the mode only
      case 0x01:
        switch (code & 0xe0) {
          case 0x00: // IMM
          case 0x20: // ABS
          case 0x40: // IND
          case 0xa0: // MSH
          case 0x80: // LEN
            break;
          case 0x60: // MEM (:437)
            if (k >= 16) return false;
            break;
          default:
            return false;
        }
        break;
      case 0x02: // :447 BPF_ST, BPF_STX
      case 0x03:
        if (k >= 16) return false;
        break;
      case 0x04: // :452 BPF_ALU: the operation only
        switch (code & 0xf0) {
          case 0x00: case 0x10: case 0x20: case 0x40: case 0x50: case 0xa0: case 0x60: case 0x70: case 0x80:
            break;
          case 0x30: // DIV, MOD: a constant 0 divisor (:464-472)
          case 0x90:
            if ((code & 0x08) === 0 && k === 0) return false;
            break;
          default:
            return false;
        }
        break;
      case 0x05: {
        // :477 BPF_JMP: from + k in u_int arithmetic, so a k >= 2^32 - from wraps to a backward jump (:494-502)
        const from = i + 1;
        switch (code & 0xf0) {
          case 0x00:
            if ((from + k) % 0x100000000 >= len) return false;
            break;
          case 0x10: case 0x20: case 0x30: case 0x40:
            if (from + jt >= len || from + jf >= len) return false;
            break;
          default:
            return false;
        }
        break;
      }
      default: // :521 BPF_RET, BPF_MISC: anything
        break;
    }
  }
  return (prog[len - 1]!.code & 0x07) === 0x06; // :529
}

/**
 * An instruction bpf_validate accepts that bpf_filter's switch has no case for (its `default:
 * abort();`, libpcap-1.10.3 bpf_filter.c:113-114): every code but the 49 Linux accepts.
 */
export const pcapUnimplementedPc = (prog: Program): number => prog.findIndex((i) => !ALLOWED.has(i.code));

/** A JA whose k, taken as the int bpf_filter adds to pc (:242), jumps backward (or to itself). */
export const pcapBackwardJaPc = (prog: Program): number => prog.findIndex((i) => i.code === 0x05 && (i.k | 0) < 0);

export const LIBPCAP_VALIDATE_AT = [`${LIBPCAP}:408-530`];

const XNET = 'golang.org/x/net v0.7.0 bpf';

type XnetInsn =
  | { t: 'jump'; skip: number }
  | { t: 'jumpif'; skipTrue: number; skipFalse: number }
  | { t: 'aluk'; op: number; val: number }
  | { t: 'ext'; num: number }
  | { t: 'reta' }
  | { t: 'retk' }
  | { t: 'other' }
  | { t: 'raw' };

// golang.org/x/net v0.7.0 bpf/instructions.go:33 RawInstruction.Disassemble, reduced to what NewVM checks
function xnetDisassemble(code: number, jt: number, jf: number, k: number): XnetInsn {
  switch (code & 0x07) {
    case 0x00:
    case 0x01: {
      const width = code & 0x18;
      if (width === 0x18) return { t: 'raw' };
      const sz = width === 0x00 ? 4 : width === 0x08 ? 2 : 1;
      switch (code & 0xe0) {
        case 0x00:
          return sz === 4 ? { t: 'other' } : { t: 'raw' };
        case 0x60:
          return sz === 4 && k <= 15 ? { t: 'other' } : { t: 'raw' };
        case 0x20:
          return k > 0xffffefff ? { t: 'ext', num: (k - 0xfffff000) >>> 0 } : { t: 'other' };
        case 0x40:
        case 0xa0:
          return { t: 'other' };
        case 0x80:
          return sz === 4 ? { t: 'ext', num: 1 } : { t: 'raw' };
        default:
          return { t: 'raw' };
      }
    }
    case 0x02:
      return code === 0x02 && k <= 15 ? { t: 'other' } : { t: 'raw' };
    case 0x03:
      return code === 0x03 && k <= 15 ? { t: 'other' } : { t: 'raw' };
    case 0x04: {
      const op = code & 0xf0;
      if (op === 0x80) return { t: 'other' }; // NegateA
      if (op > 0xa0) return { t: 'raw' };
      return (code & 0x08) !== 0 ? { t: 'other' } : { t: 'aluk', op, val: k };
    }
    case 0x05: {
      const op = code & 0xf0;
      if (op === 0x00) return { t: 'jump', skip: k };
      if (op > 0x40) return { t: 'raw' };
      // :149 jumpOpToTest: jt == 0 turns the test around, skipping jf when true and nothing when false
      return jt === 0 ? { t: 'jumpif', skipTrue: jf, skipFalse: 0 } : { t: 'jumpif', skipTrue: jt, skipFalse: jf };
    }
    case 0x06:
      return code === 0x16 ? { t: 'reta' } : code === 0x06 ? { t: 'retk' } : { t: 'raw' };
    default:
      return code === 0x07 || code === 0x87 ? { t: 'other' } : { t: 'raw' };
  }
}

// golang.org/x/net v0.7.0 bpf/vm.go:18 NewVM (on the Disassemble of the raw program)
/** Whether bpf.NewVM accepts the disassembled program. */
export function xnetNewVm(prog: Program): boolean {
  if (prog.length === 0) return false; // vm.go:19
  for (let i = 0; i < prog.length; i++) {
    const p = prog[i]!;
    const ins = xnetDisassemble(p.code, p.jt, p.jf, p.k >>> 0);
    const check = prog.length - (i + 1);
    switch (ins.t) {
      case 'jump': // vm.go:27
        if (check <= ins.skip) return false;
        break;
      case 'jumpif': // vm.go:31-44
        if (check <= ins.skipTrue || check <= ins.skipFalse) return false;
        break;
      case 'aluk': // vm.go:46-54: division or modulus by a constant 0
        if (ins.val === 0 && (ins.op === 0x30 || ins.op === 0x90)) return false;
        break;
      case 'ext': // vm.go:56-61: only ExtLen
        if (ins.num !== 1) return false;
        break;
      default:
        break;
    }
  }
  const last = xnetDisassemble(prog[prog.length - 1]!.code, 0, 0, 0).t;
  return last === 'reta' || last === 'retk'; // vm.go:66-70
}

export const XNET_NEWVM_AT = [`${XNET}/vm.go:18-80`, `${XNET}/instructions.go:33-147`];
