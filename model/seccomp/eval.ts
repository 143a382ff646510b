// The classic evaluator of seccomp filters: how Linux 3.5 .. 3.14 ran them, sk_run_filter (the
// classic interpreter, net/core/filter.c of 3.14) on the program seccomp_check_filter had rewritten,
// with its one seccomp operation BPF_S_ANC_SECCOMP_LD_W calling seccomp_bpf_load (kernel/seccomp.c
// of 3.14). It runs the user's program directly: LD|W|ABS k reads the u32 word at offset k of
// struct seccomp_data in memory order (3.14 get_u32: `((u32 *)&data)[index]`), LD|W|LEN and
// LDX|W|LEN give sizeof(struct seccomp_data) = 64, everything else is classic BPF.
//
// "3.14:N" lines are approximate (the 3.14 texts were read in copies of the file, not counted).
// What it assumes: a program seccomp accepted (model/seccomp/prepare.ts). On others it still ends
// without throwing: an instruction outside seccomp's set ends the run with 0 (sk_run_filter's default
// WARN, 3.14:397), as does running off the end or a scratch index >= 16.
// Citations: kernel/seccomp.c and the uapi/arch headers at the snapshot dda72fb05f8a, net/core/filter.c
// at 79226fb0ba80 (the socket model's); model/seccomp/README.md says which tree each file comes from.
import type { Program } from '../cbpf/insn.js';
import { assertInsn } from '../cbpf/insn.js';
import { type SeccompData, seccompDataWords } from './data.js';
import { SIZEOF_SECCOMP_DATA } from './uapi.js';

/** One executed instruction with A, X as they were before it (tracing only). */
export interface SeccompClassicStep {
  readonly pc: number;
  readonly code: number;
  readonly k: number;
  readonly A: number;
  readonly X: number;
}

/** How a classic run ended. */
export type SeccompClassicExit = 'ret' | 'div-by-zero' | 'invalid' | 'fell-off';

export interface SeccompClassicResult {
  /** the filter's u32 result (0 when it did not reach a RET) */
  readonly result: number;
  readonly exit: SeccompClassicExit;
  /** pc of the last instruction run */
  readonly pc: number;
  readonly steps: number;
}

// kernel/seccomp.c (3.14) seccomp_bpf_load
/**
 * The u32 at byte offset `off` of the struct (off a multiple of 4 below 64; seccomp_check_filter
 * guarantees it, and the kernel BUG()s otherwise: here a RangeError).
 */
export function seccompBpfLoad(words: Uint32Array, off: number): number {
  if (off < 0 || off >= SIZEOF_SECCOMP_DATA || (off & 3) !== 0) throw new RangeError(`seccomp_bpf_load: offset ${off} (kernel BUG)`);
  return words[off >> 2]!;
}

// 3.14 net/core/filter.c sk_run_filter, as seccomp_run_filters (3.14 kernel/seccomp.c) ran it
/**
 * Run a seccomp filter the classic way on one seccomp_data (laid out little-endian unless
 * `littleEndian` is false). `trace` collects every step.
 */
export function seccompRunClassic(prog: Program, sd: SeccompData, littleEndian = true, trace: SeccompClassicStep[] | null = null): SeccompClassicResult {
  const words = seccompDataWords(sd, littleEndian);
  const mem = new Uint32Array(16);
  let A = 0;
  let X = 0;
  let steps = 0;
  const len = prog.length;
  for (let pc = 0; pc < len; pc++) {
    const insn = prog[pc]!;
    assertInsn(insn, pc);
    const K = insn.k >>> 0;
    steps++;
    if (trace !== null) trace.push({ pc, code: insn.code, k: K, A, X });
    const end = (exit: SeccompClassicExit, result = 0): SeccompClassicResult => ({ result: result >>> 0, exit, pc, steps });
    switch (insn.code) {
      case 0x04: A = (A + K) >>> 0; break; // ADD K
      case 0x0c: A = (A + X) >>> 0; break; // ADD X
      case 0x14: A = (A - K) >>> 0; break; // SUB K
      case 0x1c: A = (A - X) >>> 0; break; // SUB X
      case 0x24: A = Math.imul(A, K) >>> 0; break; // MUL K
      case 0x2c: A = Math.imul(A, X) >>> 0; break; // MUL X
      case 0x34: // DIV K (bpf_check_classic rejects K == 0)
        if (K === 0) return end('invalid');
        A = Math.floor(A / K) >>> 0;
        break;
      case 0x3c: // DIV X: 3.14:162 X == 0 returns 0
        if (X === 0) return end('div-by-zero');
        A = Math.floor(A / X) >>> 0;
        break;
      case 0x54: A = (A & K) >>> 0; break;
      case 0x5c: A = (A & X) >>> 0; break;
      case 0x44: A = (A | K) >>> 0; break;
      case 0x4c: A = (A | X) >>> 0; break;
      case 0xa4: A = (A ^ K) >>> 0; break;
      case 0xac: A = (A ^ X) >>> 0; break;
      // shifts: the count & 31 as x86-64 does (bpf_check_classic rejects K >= 32; see model/cbpf/eval.ts)
      case 0x64: A = (A << (K & 31)) >>> 0; break;
      case 0x6c: A = (A << (X & 31)) >>> 0; break;
      case 0x74: A = A >>> (K & 31); break;
      case 0x7c: A = A >>> (X & 31); break;
      case 0x84: A = -A >>> 0; break; // NEG
      case 0x20: // LD W ABS: BPF_S_ANC_SECCOMP_LD_W (an offset seccomp_check_filter rejects ends the run)
        if (K >= SIZEOF_SECCOMP_DATA || (K & 3) !== 0) return end('invalid');
        A = seccompBpfLoad(words, K);
        break;
      case 0x80: A = SIZEOF_SECCOMP_DATA; break; // LD W LEN, rewritten to LD IMM 64
      case 0x81: X = SIZEOF_SECCOMP_DATA; break; // LDX W LEN, rewritten to LDX IMM 64
      case 0x00: A = K; break; // LD IMM
      case 0x01: X = K; break; // LDX IMM
      case 0x60: // LD MEM
        if (K >= 16) return end('invalid');
        A = mem[K]!;
        break;
      case 0x61: // LDX MEM
        if (K >= 16) return end('invalid');
        X = mem[K]!;
        break;
      case 0x02: // ST
        if (K >= 16) return end('invalid');
        mem[K] = A;
        break;
      case 0x03: // STX
        if (K >= 16) return end('invalid');
        mem[K] = X;
        break;
      case 0x07: X = A; break; // TAX
      case 0x87: A = X; break; // TXA
      case 0x06: return end('ret', K); // RET K
      case 0x16: return end('ret', A); // RET A
      case 0x05: pc += K; break; // JA
      case 0x15: pc += A === K ? insn.jt : insn.jf; break;
      case 0x1d: pc += A === X ? insn.jt : insn.jf; break;
      case 0x25: pc += A > K ? insn.jt : insn.jf; break;
      case 0x2d: pc += A > X ? insn.jt : insn.jf; break;
      case 0x35: pc += A >= K ? insn.jt : insn.jf; break;
      case 0x3d: pc += A >= X ? insn.jt : insn.jf; break;
      case 0x45: pc += (A & K) !== 0 ? insn.jt : insn.jf; break;
      case 0x4d: pc += (A & X) !== 0 ? insn.jt : insn.jf; break;
      default:
        return end('invalid'); // 3.14:397 unknown code: WARN, return 0
    }
  }
  return { result: 0, exit: 'fell-off', pc: len, steps };
}
