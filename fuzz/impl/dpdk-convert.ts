// DPDK's converted program against the kernel's: rte_bpf_convert is a port of bpf_convert_filter
// (DPDK v22.11.11 lib/bpf/bpf_convert.c), so instruction by instruction most expansions should be
// the kernel's (net/core/filter.c:569 bpf_convert_filter, the spec's model/migrate/convert.ts).
// Where DPDK departs by design the check holds DPDK to its own documented form instead:
//   - the prologue is 64-bit XORs (the kernel's are 32-bit, F:602) and no skb data/headlen loads;
//   - LD ABS / LD IND stay single eBPF LD_ABS / LD_IND instructions (the kernel calls helpers);
//   - LDX MSH is 6 instructions through TMP (the kernel's 7 go through X);
//   - BPF_LEN reads mbuf->pkt_len at offset 36 (the kernel: skb->len);
//   - M[k] lives at FP - (16 - k) * 4 (the kernel: FP - (4k + 4));
//   - JGT/JGE with jt == 0 stay Jxx + JA (the kernel inverts them to JLE/JLT, F:755);
//   - unused src fields of K-form ALU and NEG are 0 (the kernel puts X there, F:690).
// Jumps are compared by what they mean: the condition, its operand, and the classic pcs they reach.
import type { Program } from '../../model/cbpf/insn.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';

const R0 = 0; // A
const R6 = 6; // ctx
const R7 = 7; // X
const R8 = 8; // TMP
const R10 = 10; // FP
/** the kernel's BPF_REG_TMP (include/linux/filter.h: BPF_REG_2); DPDK's is R8 (bpf_convert.c:77) */
const KERNEL_TMP = 2;
const MBUF_PKT_LEN = 36; // offsetof(struct rte_mbuf, pkt_len), x86-64, DPDK 22.11

const isJcond = (code: number): boolean => (code & 0x07) === 0x05 && code !== 0x05;

/** DPDK's expansion length of one classic instruction (bpf_convert.c:292-491). */
export function dpdkExpansionLen(code: number, jt: number, jf: number, k: number): number {
  switch (code) {
    case 0x3c:
    case 0x9c:
      return 5; // :303-310 MOV32 X,X; JNE X,0,+2; XOR32 A,A; EXIT; then the op
    case 0xb1:
      return 6; // :416-429
    case 0x06:
      return 2; // :436-440 MOV32 R0,k; EXIT
    default:
      if (isJcond(code)) {
        const tmp = (code & 0x08) === 0 && k >>> 0 >= 0x80000000 ? 1 : 0; // :371-377
        if (jf === 0) return tmp + 1;
        if (jt === 0 && (code & 0xf0) === 0x10) return tmp + 1; // JEQ -> JNE
        return tmp + 2;
      }
      return 1;
  }
}

/** The eBPF index where each classic instruction's expansion starts (and, at [len], the total). */
export function dpdkLayout(prog: Program): Int32Array {
  const at = new Int32Array(prog.length + 1);
  let n = 3; // the prologue, :273-280
  for (let i = 0; i < prog.length; i++) {
    at[i] = n;
    const { code, jt, jf, k } = prog[i]!;
    n += dpdkExpansionLen(code, jt, jf, k);
  }
  at[prog.length] = n;
  return at;
}

export interface ConvertMismatch {
  /** classic pc (-1: the prologue or the whole program) */
  readonly pc: number;
  readonly what: string;
  /** the catalogue entry that explains it, or null (a finding) */
  readonly entry: string | null;
}

/** A jump's meaning: the condition (or 'ja'), its operand, and the classic pcs it continues at. */
interface Branch {
  readonly op: string;
  readonly operand: string;
  readonly ifTrue: number;
  readonly ifFalse: number;
}

const OPS: Record<number, string> = { 0x10: 'jeq', 0x50: 'jne', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset', 0xa0: 'jlt', 0xb0: 'jle' };
const NEGATE: Record<string, string> = { jne: 'jeq', jlt: 'jge', jle: 'jgt' };

/** Read a jump expansion (Jxx alone, Jxx + JA, with an optional MOV32 TMP first) as a Branch. */
function branchOf(slice: readonly BpfInsn[], base: number, pcOf: (ebpf: number) => number, next: number, tmp: number): Branch | string {
  let i = 0;
  let operand: string | null = null;
  if (slice[0] && slice[0].code === 0xb4 && slice[0].dst === tmp) {
    operand = `tmp=${slice[0].imm >>> 0}`;
    i = 1;
  }
  const j = slice[i];
  if (j === undefined) return 'empty jump expansion';
  if (j.code === 0x05) return { op: 'ja', operand: '', ifTrue: pcOf(base + i + 1 + j.off), ifFalse: pcOf(base + i + 1 + j.off) };
  let op = OPS[j.code & 0xf0];
  if (op === undefined || (j.code & 0x07) !== 0x05) return `unexpected jump code 0x${j.code.toString(16)}`;
  if (operand === null) operand = (j.code & 0x08) !== 0 ? 'x' : `k=${j.imm >>> 0}`;
  else if ((j.code & 0x08) === 0 || j.src !== tmp) return 'MOV32 TMP not followed by a jump on TMP';
  const taken = pcOf(base + i + 1 + j.off);
  let fall = next;
  const ja = slice[i + 1];
  if (ja !== undefined) {
    if (ja.code !== 0x05) return `second jump insn 0x${ja.code.toString(16)} is not a JA`;
    fall = pcOf(base + i + 2 + ja.off);
  }
  const neg = NEGATE[op];
  if (neg !== undefined) {
    op = neg;
    return { op, operand, ifTrue: fall, ifFalse: taken };
  }
  return { op, operand, ifTrue: taken, ifFalse: fall };
}

const fieldsText = (i: BpfInsn): string => `{code 0x${i.code.toString(16)}, dst r${i.dst}, src r${i.src}, off ${i.off}, imm ${i.imm}}`;

/**
 * Check DPDK's converted program against the kernel's (both for the same classic program). `kernel`
 * is the spec's converted program and its classic-to-eBPF map (null when the kernel refused to
 * convert it: then only DPDK's own form is checked).
 */
export function checkDpdkConversion(prog: Program, dpdk: readonly BpfInsn[], kernel: { readonly insns: readonly BpfInsn[]; readonly map: Int32Array } | null): ConvertMismatch[] {
  const out: ConvertMismatch[] = [];
  const at = dpdkLayout(prog);
  if (at[prog.length] !== dpdk.length) return [{ pc: -1, what: `DPDK emitted ${dpdk.length} insns, its documented expansion gives ${at[prog.length]}`, entry: null }];
  const p = dpdk;
  if (!(p[0]!.code === 0xaf && p[0]!.dst === R0 && p[0]!.src === R0 && p[1]!.code === 0xaf && p[1]!.dst === R7 && p[1]!.src === R7 && p[2]!.code === 0xbf && p[2]!.dst === R6 && p[2]!.src === 1))
    out.push({ pc: -1, what: 'prologue is not A ^= A; X ^= X; R6 = R1 (64-bit)', entry: null });
  // eBPF index -> classic pc whose expansion starts there (jump targets), else -1
  const dpdkPc = (e: number): number => {
    let lo = 0;
    let hi = prog.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid]! < e) lo = mid + 1;
      else hi = mid;
    }
    return lo < prog.length && at[lo] === e ? lo : -1;
  };
  const kStart = kernel ? new Map<number, number>() : null;
  if (kernel) for (let i = 0; i < prog.length; i++) kStart!.set(kernel.map[2 * i]!, i);
  const kernelPc = (e: number): number => kStart!.get(e) ?? -1;
  for (let pc = 0; pc < prog.length; pc++) {
    const { code, k } = prog[pc]!;
    const d = p.slice(at[pc]!, at[pc + 1]!);
    const kk = kernel ? kernel.insns.slice(kernel.map[2 * pc]!, kernel.map[2 * pc + 1]!) : null;
    const bad = (what: string, entry: string | null = null): void => {
      out.push({ pc, what, entry });
    };
    const same = (a: BpfInsn, b: BpfInsn, src: boolean): boolean => a.code === b.code && a.dst === b.dst && a.off === b.off && a.imm === b.imm && (!src || a.src === b.src);
    switch (code) {
      case 0x20:
      case 0x28:
      case 0x30: // LD ABS: one eBPF LD_ABS (:300)
        if (!(d[0]!.code === code && d[0]!.dst === 0 && d[0]!.src === 0 && d[0]!.imm >>> 0 === k >>> 0)) bad(`LD ABS as ${fieldsText(d[0]!)}`);
        break;
      case 0x40:
      case 0x48:
      case 0x50: // LD IND: one eBPF LD_IND; classic indexes X, so src should be R7
        if (!(d[0]!.code === code && d[0]!.dst === R0 && d[0]!.imm >>> 0 === k >>> 0)) bad(`LD IND as ${fieldsText(d[0]!)}`);
        else if (d[0]!.src !== R7) bad(`LD IND [x + ${k >>> 0}] indexed by r${d[0]!.src}, not X (r7)`, code === 0x48 ? null : 'dpdk-ld-ind-index-a');
        break;
      case 0xb1: {
        const ok =
          d[0]!.code === 0xbf && d[0]!.dst === R8 && d[0]!.src === R0 &&
          d[1]!.code === 0x30 && d[1]!.imm >>> 0 === k >>> 0 &&
          d[2]!.code === 0x54 && d[2]!.dst === R0 && d[2]!.imm === 0xf &&
          d[3]!.code === 0x64 && d[3]!.dst === R0 && d[3]!.imm === 2 &&
          d[4]!.code === 0xbf && d[4]!.dst === R7 && d[4]!.src === R0 &&
          d[5]!.code === 0xbf && d[5]!.dst === R0 && d[5]!.src === R8;
        if (!ok) bad(`LDX MSH as ${d.map(fieldsText).join(' ')}`);
        break;
      }
      case 0x80:
      case 0x81: {
        const dst = code === 0x80 ? R0 : R7;
        if (!(d[0]!.code === 0x61 && d[0]!.dst === dst && d[0]!.src === R6 && d[0]!.off === MBUF_PKT_LEN)) bad(`BPF_LEN as ${fieldsText(d[0]!)}`);
        break;
      }
      case 0x02:
      case 0x03:
      case 0x60:
      case 0x61: {
        const isStore = code === 0x02 || code === 0x03;
        const reg = code === 0x02 || code === 0x60 ? R0 : R7;
        const want = -(16 - (k >>> 0)) * 4;
        const x = d[0]!;
        const ok = isStore ? x.code === 0x63 && x.dst === R10 && x.src === reg && x.off === want : x.code === 0x61 && x.dst === reg && x.src === R10 && x.off === want;
        if (!ok) bad(`M[${k >>> 0}] access as ${fieldsText(x)}`);
        if (kk && !(kk[0]!.code === x.code && kk[0]!.dst === x.dst && kk[0]!.src === x.src)) bad(`M[${k >>> 0}] access ${fieldsText(x)} differs from the kernel's ${fieldsText(kk[0]!)} beyond the stack offset`);
        break;
      }
      default: {
        if (code === 0x05 || isJcond(code)) {
          const db = branchOf(d, at[pc]!, dpdkPc, pc + 1, R8);
          if (typeof db === 'string') {
            bad(`jump: ${db}`);
            break;
          }
          if (kk) {
            const kb = branchOf(kk, kernel!.map[2 * pc]!, kernelPc, pc + 1, KERNEL_TMP);
            if (typeof kb === 'string') bad(`kernel jump: ${kb}`);
            else if (db.op !== kb.op || db.operand !== kb.operand || db.ifTrue !== kb.ifTrue || db.ifFalse !== kb.ifFalse)
              bad(`jump means ${JSON.stringify(db)}, the kernel's ${JSON.stringify(kb)}`);
          }
          break;
        }
        // ALU, NEG, IMM loads, TAX/TXA, RET: the kernel's instructions (src only where it is read)
        if (!kk) break;
        if (kk.length !== d.length) {
          bad(`${d.length} insns where the kernel emits ${kk.length}`);
          break;
        }
        for (let j = 0; j < d.length; j++) {
          const a = d[j]!;
          const b = kk[j]!;
          const cls = a.code & 0x07;
          const readsSrc = (cls === 0x04 || cls === 0x07 || cls === 0x05) && (a.code & 0x08) !== 0 && (a.code & 0xf0) !== 0x80;
          if (!same(a, b, readsSrc)) bad(`${fieldsText(a)} where the kernel emits ${fieldsText(b)}`);
        }
      }
    }
  }
  return out;
}
