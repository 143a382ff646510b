// An independent reference for the eBPF interpreter model: kernel/bpf/core.c:1680 ___bpf_prog_run
// (v6.6) written again with BigInt, straight from the C (u64 registers as bigints taken mod 2^64), for
// differential checks of model/ebpf/interp.ts and model/ebpf/alu64.ts. It shares no code with the
// model: opcodes are decoded here from their class/op/source bits and the kernel's BPF_INSN_MAP
// (core.c:1508) plus the non-UAPI labels of the jumptable, and the ALU semantics use BigInt arithmetic.
//
// Where the C is undefined or machine-specific the reference follows the model's documented choices
// (header of model/ebpf/interp.ts), so the two can be compared exactly:
//   - immediate shift counts are masked as the x86-64 shift instructions do (& 63, & 31);
//   - a divide by zero and S64_MIN / -1 (div64_s64) trap: fault 'div-by-zero' / 'div-overflow';
//   - default_label (an opcode outside the jumptable, an unknown atomic imm): fault 'bug';
//   - memory is the stack [fp - stackSize, fp), filled with `poison` before the run, plus the regions the
//     caller gives; an access whose high 32 address bits are no object's is 'unmapped', one that does not
//     fit in an object with those high bits 'out-of-bounds', a store into a read-only one 'read-only';
//     LDX_PROBE_MEM* zero-fill instead (bpf_probe_read_kernel_common memsets on a fault);
//   - pc outside the program: 'pc-out-of-range'; a bound on executed instructions: 'step-budget'.
// CALL, JMP_CALL_ARGS and JMP_TAIL_CALL are not modelled (the caller does not generate them).
import type { BpfInsn } from '../../model/ebpf/insn.js';

const M64 = (1n << 64n) - 1n;
const M32 = 0xffffffffn;
const u64 = (x: bigint): bigint => x & M64;
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u32 = (x: bigint): bigint => x & M32;
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const s16 = (x: bigint): bigint => BigInt.asIntN(16, x);
const s8 = (x: bigint): bigint => BigInt.asIntN(8, x);
/** insn->imm (s32) as the C's u64 operand: sign-extended (`DST OP IMM` with u64 DST) */
const immU64 = (imm: number): bigint => u64(BigInt(imm | 0));

/** include/uapi/linux/swab.h __swab16/32/64 on a bigint of `bytes` bytes */
function swab(x: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((x >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** include/linux/math.h abs() of an int, then the int converted to u64 (abs(INT_MIN) stays INT_MIN) */
const absIntToU64 = (x: bigint): bigint => u64(x < 0n ? s32(-x) : x);

export interface RefInit {
  /** R1..R5 (others zero, R10 = fp) */
  readonly args: readonly bigint[];
  /** the frame pointer: one past the stack's last byte */
  readonly fp: bigint;
  readonly stackSize: number;
  /** the byte the stack holds before the run */
  readonly poison: number;
  readonly stepBudget: number;
  /** other memory the program may address (read-write), e.g. a packet; none by default */
  readonly regions?: readonly { readonly base: bigint; readonly bytes: Uint8Array; readonly name?: string; readonly readOnly?: boolean }[];
  /** record each executed step (pc, opcode byte, R0..R10 and AX before it) */
  readonly trace?: boolean;
}

export interface RefStep {
  readonly pc: number;
  readonly code: number;
  readonly regs: readonly bigint[];
}

export interface RefResult {
  /** null on BPF_EXIT */
  readonly fault: string | null;
  /** pc of the faulting instruction (or of the exit) */
  readonly pc: number;
  /** R0..R10 and AX (regs[11]) after the run */
  readonly regs: readonly bigint[];
  readonly stack: Uint8Array;
  /** the bytes of init.regions after the run (copies) */
  readonly regions: readonly Uint8Array[];
  /** instructions executed (the faulting one included; not a jump out of the program) */
  readonly steps: number;
  /** for a memory fault: the address, size and direction of the access */
  readonly access: { readonly addr: bigint; readonly size: number; readonly write: boolean; readonly region: string | null } | null;
  readonly trace: readonly RefStep[] | null;
}

/** kernel/bpf/core.c:1680 ___bpf_prog_run, reference form (see the header for the modelled choices). */
export function refRun(insns: readonly BpfInsn[], init: RefInit): RefResult {
  const R: bigint[] = new Array<bigint>(12).fill(0n);
  init.args.forEach((v, i) => (R[i + 1] = u64(v)));
  R[10] = u64(init.fp);
  const stack = new Uint8Array(init.stackSize).fill(init.poison);
  // every addressable object: the stack, then init.regions (copied: the run writes into its copy)
  const objs = [
    { base: u64(init.fp) - BigInt(init.stackSize), bytes: stack, name: 'stack', readOnly: false },
    ...(init.regions ?? []).map((r) => ({ base: u64(r.base), bytes: r.bytes.slice(), name: r.name ?? 'mem', readOnly: r.readOnly === true })),
  ];
  let pc = 0;
  let steps = 0;
  let access: RefResult['access'] = null;
  const trace: RefStep[] | null = init.trace === true ? [] : null;
  const done = (fault: string | null): RefResult => ({ fault, pc, regs: R, stack, regions: objs.slice(1).map((o) => o.bytes), steps, access, trace });
  // a memory fault: remember the access
  const memFault = (kind: string, addr: bigint, size: number, write: boolean): RefResult => {
    const a = u64(addr);
    access = { addr: a, size, write, region: objs.find((o) => o.base >> 32n === a >> 32n)?.name ?? null };
    return done(kind);
  };

  // the memory model: the object and index of [addr, addr + size), or a fault kind
  let cur = stack;
  const locate = (addr: bigint, size: number, isWrite = false): number | string => {
    const a = u64(addr);
    let kind = 'unmapped';
    for (const o of objs) {
      if (a >> 32n !== o.base >> 32n) continue;
      if (a >= o.base && a + BigInt(size) <= o.base + BigInt(o.bytes.length)) {
        if (isWrite && o.readOnly) return 'read-only';
        cur = o.bytes;
        return Number(a - o.base);
      }
      kind = 'out-of-bounds';
    }
    return kind;
  };
  const read = (i: number, size: number): bigint => {
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(cur[i + k]!);
    return v;
  };
  const write = (i: number, size: number, v: bigint): void => {
    for (let k = 0; k < size; k++) cur[i + k] = Number((v >> BigInt(8 * k)) & 0xffn);
  };
  const SIZE = [4, 2, 1, 8]; // BPF_W, BPF_H, BPF_B, BPF_DW by (code >> 3) & 3

  for (;;) {
    if (pc < 0 || pc >= insns.length) return done('pc-out-of-range');
    if (steps >= init.stepBudget) return done('step-budget');
    steps++;
    const { code, dst, src, off, imm } = insns[pc]!;
    if (trace !== null) trace.push({ pc, code, regs: R.slice() });
    const cls = code & 0x07;
    const op = code & 0xf0;
    const isX = (code & 0x08) !== 0;
    if (cls === 0x07 || cls === 0x04) {
      // ---- ALU64 / ALU (core.c ALU(), SHT() and the labels after them)
      const is64 = cls === 0x07;
      const D = R[dst]!;
      const S = isX ? R[src]! : is64 ? immU64(imm) : u32(BigInt(imm));
      const a = is64 ? D : u32(D);
      const b = is64 ? S : u32(S);
      const fit = (v: bigint): bigint => (is64 ? u64(v) : u32(v));
      const w = is64 ? 64n : 32n;
      const cnt = isX ? S & (w - 1n) : BigInt(imm) & (w - 1n); // SRC & 63 / & 31 (C); IMM masked like x86
      switch (op) {
        case 0x00: R[dst] = fit(a + b); break; // prettier-ignore
        case 0x10: R[dst] = fit(a - b); break; // prettier-ignore
        case 0x20: R[dst] = fit(a * b); break; // prettier-ignore
        case 0x40: R[dst] = a | b; break; // prettier-ignore
        case 0x50: R[dst] = a & b; break; // prettier-ignore
        case 0xa0: R[dst] = a ^ b; break; // prettier-ignore
        case 0x60: R[dst] = fit(a << cnt); break; // prettier-ignore
        case 0x70: R[dst] = a >> cnt; break; // prettier-ignore
        case 0xc0: // ARSH: (s64) DST >>= n / (u64)(u32)((s32) DST >> n)
          R[dst] = is64 ? u64(s64(D) >> cnt) : u32(s32(D) >> cnt);
          break;
        case 0x80: // NEG (K form only in BPF_INSN_MAP)
          if (isX) return done('bug');
          R[dst] = fit(-D);
          break;
        case 0xb0: // MOV
          if (!isX) R[dst] = is64 ? immU64(imm) : u32(BigInt(imm));
          else if (is64) {
            if (off === 0) R[dst] = S;
            else if (off === 8) R[dst] = u64(s8(S));
            else if (off === 16) R[dst] = u64(s16(S));
            else if (off === 32) R[dst] = u64(s32(S));
          } else if (off === 0) R[dst] = u32(S);
          else if (off === 8) R[dst] = u32(s8(S));
          else if (off === 16) R[dst] = u32(s16(S));
          break;
        case 0x30: // DIV
        case 0x90: {
          // MOD. DST and SRC are read where the C reads them: after AX is written (dst or src may be AX).
          const isMod = op === 0x90;
          if (off !== 0 && off !== 1) break; // switch (OFF) without a default: nothing
          const Sx = (): bigint => (isX ? R[src]! : is64 ? immU64(imm) : u32(BigInt(imm)));
          if (is64) {
            // ALU64_DIV_X/K, ALU64_MOD_X/K: div64_u64 / div64_s64 (a zero divisor traps, S64_MIN / -1 too)
            const d0 = R[dst]!;
            const s0 = Sx();
            if (s0 === 0n) return done('div-by-zero');
            if (off === 0) {
              if (isMod) {
                R[11] = d0 % s0; // div64_u64_rem(DST, SRC, &AX); DST = AX
                R[dst] = R[11]!;
              } else R[dst] = d0 / s0; // DST = div64_u64(DST, SRC)
            } else {
              if (s64(d0) === -(1n << 63n) && s64(s0) === -1n) return done('div-overflow');
              const q = u64(s64(d0) / s64(s0)); // div64_s64: C truncation
              if (isMod) {
                R[11] = q; // AX = div64_s64(DST, SRC)
                R[dst] = u64(R[dst]! - R[11]! * Sx()); // DST = DST - AX * SRC
              } else R[dst] = q;
            }
            break;
          }
          if (off === 0) {
            R[11] = u32(R[dst]!); // AX = (u32) DST
            const d = u32(Sx()); // do_div(AX, (u32) SRC)
            if (d === 0n) return done('div-by-zero');
            const n = R[11]!;
            R[11] = n / d;
            if (isMod) R[dst] = n % d; // DST = do_div(...): the remainder
            else R[dst] = u32(R[11]!); // DST = (u32) AX
            break;
          }
          R[11] = absIntToU64(s32(R[dst]!)); // AX = abs((s32) DST)
          const d = u32(absIntToU64(s32(Sx()))); // do_div's uint32_t __base = abs((s32) SRC)
          if (d === 0n) return done('div-by-zero');
          const n = R[11]!;
          R[11] = n / d;
          if (isMod) {
            R[11] = n % d; // AX = do_div(AX, ...): the remainder
            R[dst] = s32(R[dst]!) < 0n ? u32(-R[11]!) : u32(R[11]!);
          } else R[dst] = s32(R[dst]!) < 0n === s32(Sx()) < 0n ? u32(R[11]!) : u32(-R[11]!);
          break;
        }
        case 0xd0: {
          // END: ALU TO_LE 0xd4 / TO_BE 0xdc (little-endian host), ALU64 TO_LE 0xd7 = bswap; 0xdf: not in the map
          if (is64 && isX) return done('bug');
          const swap = is64 || isX;
          if (imm === 16) R[dst] = swap ? swab(D & 0xffffn, 2) : D & 0xffffn;
          else if (imm === 32) R[dst] = swap ? swab(u32(D), 4) : u32(D);
          else if (imm === 64) R[dst] = swap ? swab(D, 8) : D;
          break;
        }
        default:
          return done('bug'); // 0xe0, 0xf0
      }
    } else if (cls === 0x05 || cls === 0x06) {
      // ---- JMP / JMP32
      const is32 = cls === 0x06;
      if (op === 0x00) {
        if (isX) return done('bug');
        pc += is32 ? imm : off; // JMP_JA: insn += off; JMP32_JA: insn += imm
      } else if (op === 0x90 && !is32 && !isX) return done(null); // JMP_EXIT
      else if (op === 0x80 || op === 0x90 || op === 0xe0 || op === 0xf0) return done('bug'); // CALL not modelled here
      else {
        const D = R[dst]!;
        const S = isX ? R[src]! : immU64(imm);
        const a = is32 ? u32(D) : D;
        const b = is32 ? u32(S) : S;
        const sa = is32 ? s32(D) : s64(D);
        const sb = is32 ? s32(S) : s64(S);
        let t: boolean;
        switch (op) {
          case 0x10: t = a === b; break; // prettier-ignore
          case 0x50: t = a !== b; break; // prettier-ignore
          case 0x20: t = a > b; break; // prettier-ignore
          case 0xa0: t = a < b; break; // prettier-ignore
          case 0x30: t = a >= b; break; // prettier-ignore
          case 0xb0: t = a <= b; break; // prettier-ignore
          case 0x40: t = (a & b) !== 0n; break; // prettier-ignore
          case 0x60: t = sa > sb; break; // prettier-ignore
          case 0xc0: t = sa < sb; break; // prettier-ignore
          case 0x70: t = sa >= sb; break; // prettier-ignore
          default: t = sa <= sb; // 0xd0 JSLE
        }
        if (t) pc += off;
      }
    } else if (cls === 0x01) {
      // ---- LDX: MEM (0x60), MEMSX (0x80, not DW), PROBE_MEM (0x20), PROBE_MEMSX (0x40, not DW)
      const mode = code & 0xe0;
      const size = SIZE[(code >> 3) & 3]!;
      const sx = mode === 0x80 || mode === 0x40;
      if (!(mode === 0x60 || mode === 0x20 || (sx && size !== 8))) return done('bug');
      const at = locate(R[src]! + BigInt(off), size);
      let v: bigint;
      if (typeof at === 'string') {
        if (mode === 0x60 || mode === 0x80) return memFault(at, R[src]! + BigInt(off), size, false);
        v = 0n; // bpf_probe_read_kernel_common zero-fills
      } else v = read(at, size);
      R[dst] = sx ? u64(BigInt.asIntN(size * 8, v)) : v;
    } else if (cls === 0x02 || cls === 0x03) {
      // ---- ST (imm) / STX (src): MEM, ST_NOSPEC, STX_ATOMIC W/DW
      const mode = code & 0xe0;
      const size = SIZE[(code >> 3) & 3]!;
      if (cls === 0x02 && code === 0xc2) {
        // ST_NOSPEC: barrier
      } else if (mode === 0x60) {
        const at = locate(R[dst]! + BigInt(off), size, true);
        if (typeof at === 'string') return memFault(at, R[dst]! + BigInt(off), size, true);
        write(at, size, cls === 0x02 ? immU64(imm) : R[src]!);
      } else if (cls === 0x03 && mode === 0xc0 && (size === 4 || size === 8)) {
        const fetch = (imm & 1) !== 0;
        const aop = imm & ~1;
        const alu = aop === 0x00 || aop === 0x40 || aop === 0x50 || aop === 0xa0;
        if (!alu && imm !== 0xe1 && imm !== 0xf1) return done('bug');
        const at = locate(R[dst]! + BigInt(off), size, true);
        if (typeof at === 'string') return memFault(at, R[dst]! + BigInt(off), size, true);
        const mask = size === 4 ? M32 : M64;
        const old = read(at, size);
        const sv = R[src]! & mask;
        if (imm === 0xf1) {
          // R0 = atomic_cmpxchg(ptr, (u32/u64) R0, SRC): the old value; written only when equal
          if (old === (R[0]! & mask)) write(at, size, sv);
          R[0] = old;
        } else if (imm === 0xe1) {
          write(at, size, sv);
          R[src] = old;
        } else {
          const nv = aop === 0x00 ? (old + sv) & mask : aop === 0x40 ? old | sv : aop === 0x50 ? old & sv : old ^ sv;
          write(at, size, nv);
          if (fetch) R[src] = old;
        }
      } else return done('bug');
    } else if (code === 0x18) {
      // LD_IMM_DW: DST = (u64)(u32) insn[0].imm | ((u64)(u32) insn[1].imm) << 32; insn++
      pc++;
      if (pc >= insns.length) return done('pc-out-of-range');
      R[dst] = u32(BigInt(imm)) | (u32(BigInt(insns[pc]!.imm)) << 32n);
    } else return done('bug');
    pc++;
  }
}
