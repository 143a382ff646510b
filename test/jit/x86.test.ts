// Tests for model/jit (the x86-64 JIT's lengths and pass loop). Expected lengths are the x86-64
// encodings of what do_jit emits (arch/x86/net/bpf_jit_comp.c, v6.18.35 lines), written out by hand
// in each comment; the whole-image lengths were read off the running kernel's JIT images
// (oracle/kernel/jitimage.c, objdump of the bytes) where a comment says so.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { bpfConvertFilter } from '../../model/migrate/convert.js';
import { X86_64 } from '../../model/config.js';
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import {
  DEFAULT_JIT_FACTS,
  JIT_V6_6_0,
  JIT_V6_6_Y,
  MACHINE_AMD_EPYC_VM_ROOT,
  x86JitFacts,
  type X86JitFacts,
} from '../../model/jit/facts.js';
import { bpfIntJitCompile, cfiGetOffset, doJit, jitRejection, MAX_PASSES, PADDING_PASSES, type JitResult } from '../../model/jit/x86.js';
import { ENOTSUPP } from '../../model/uapi.js';

const I = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm: imm | 0 });
const S = (code: number, k: number, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });
const EXIT = I(0x95, 0, 0, 0, 0);
const F = DEFAULT_JIT_FACTS;
const with_ = (over: Partial<X86JitFacts>): X86JitFacts => ({ ...F, ...over });

/** The bytes do_jit emits for insns[0] (a sizing pass; the rest of the program only has to exist). */
function len1(insn: BpfInsn, facts: X86JitFacts = F, wasClassic = false): number {
  const prog = { insns: [insn, EXIT, EXIT], stackDepth: 0, wasClassic };
  const addrs = Int32Array.from({ length: 4 }, (_, i) => 64 * (i + 1));
  const r = doJit(prog, addrs, false, 0, { cleanupAddr: 0 }, false, facts);
  if (r.error !== null) throw new Error(r.error.message);
  return r.lengths[0]!;
}

const compile = (insns: BpfInsn[], facts: X86JitFacts = F, stackDepth = 0, wasClassic = true): JitResult => bpfIntJitCompile({ insns, stackDepth, wasClassic }, facts);

function jitClassic(prog: Program, facts: X86JitFacts = F): JitResult {
  const c = bpfConvertFilter(prog, X86_64);
  if (!('ok' in c)) throw new Error(`does not convert: ${c.rule}`);
  return compile(c.insns, facts, c.stackDepth, true);
}

test('ALU: register forms, immediates (imm8, imm32, the eax short form), moves', (t) => {
  t.is(len1(I(0xac, 0, 0, 0, 0)), 2); // w0 ^= w0: 31 c0
  t.is(len1(I(0xac, 7, 7, 0, 0)), 3); // w7 ^= w7: 45 31 ed
  t.is(len1(I(0x0f, 0, 2, 0, 0)), 3); // r0 += r2: 48 01 f0
  t.is(len1(I(0x04, 0, 0, 0, 1)), 3); // w0 += 1: 83 c0 01
  t.is(len1(I(0x04, 0, 0, 0, 0x1000)), 5); // w0 += 0x1000: 05 imm32
  t.is(len1(I(0x04, 7, 0, 0, 0x1000)), 7); // w7 += 0x1000: 41 81 c5 imm32
  t.is(len1(I(0x17, 2, 0, 0, 1)), 4); // r2 -= 1: 48 83 ee 01
  t.is(len1(I(0x17, 2, 0, 0, -129)), 7); // r2 -= -129: 48 81 ee imm32
  t.is(len1(I(0xbf, 6, 1, 0, 0)), 3); // r6 = r1: 48 89 fb
  t.is(len1(I(0xbf, 7, 7, 0, 0)), 0); // r7 = r7: EMIT_mov emits nothing for the same register
  t.is(len1(I(0xbc, 7, 7, 0, 0)), 3); // w7 = w7: 45 89 ed
  t.is(len1(I(0xbc, 0, 2, 0, 0)), 2); // w0 = w2: 89 f0
  t.is(len1(I(0xb4, 0, 0, 0, 0)), 2); // w0 = 0: 31 c0
  t.is(len1(I(0xb4, 7, 0, 0, 0)), 3); // w7 = 0: 45 31 ed
  t.is(len1(I(0xb4, 0, 0, 0, 5)), 5); // w0 = 5: b8 imm32
  t.is(len1(I(0xb4, 7, 0, 0, 5)), 6); // w7 = 5: 41 bd imm32
  t.is(len1(I(0xb7, 4, 0, 0, -1)), 7); // r4 = -1: 48 c7 c1 imm32 (sign-extending)
  t.is(len1(I(0xb7, 4, 0, 0, 1)), 5); // r4 = 1: b9 imm32 (zero-extending is enough)
  t.is(len1(I(0x84, 0, 0, 0, 0)), 2); // w0 = -w0: f7 d8
  t.is(len1(I(0x87, 7, 0, 0, 0)), 3); // r7 = -r7: 49 f7 dd
  t.is(len1(I(0xbf, 2, 7, 8, 0)), 4); // r2 = (s8)r7: 49 0f be f5
  t.is(len1(I(0xbf, 2, 7, 32, 0)), 3); // r2 = (s32)r7: 49 63 f5
  t.is(len1(I(0xbc, 2, 7, 8, 0)), 4); // w2 = (s8)w7: 41 0f be f5
  t.is(len1(I(0xbc, 2, 7, 16, 0)), 4); // w2 = (s16)w7: 41 0f bf f5
  t.is(len1(I(0xbc, 2, 3, 16, 0)), 3); // w2 = (s16)w3: 0f bf f2
});

test('ALU: multiply, divide and modulo through rax/rdx, shifts with and without BMI2', (t) => {
  t.is(len1(I(0x24, 0, 0, 0, 5)), 3); // w0 *= 5: 6b c0 05
  t.is(len1(I(0x24, 0, 0, 0, 0x12345)), 6); // 69 c0 imm32
  t.is(len1(I(0x2c, 0, 7, 0, 0)), 4); // w0 *= w7: 41 0f af c5
  // w0 /= w7: push rdx; xor edx, edx; div r13d; pop rdx (52 | 31 d2 | 41 f7 f5 | 5a)
  t.is(len1(I(0x3c, 0, 7, 0, 0)), 7);
  t.is(len1(I(0x9c, 0, 7, 0, 0)), 9); // ... and mov eax, edx (89 d0)
  // w0 /= 3: push rdx; mov r11, 3 (49 c7 c3 imm32); xor edx, edx; div r11d (41 f7 f3); pop rdx
  t.is(len1(I(0x34, 0, 0, 0, 3)), 14);
  t.is(len1(I(0x94, 0, 0, 0, 3)), 16);
  // w7 /= w0: push rax; push rdx; mov r11, rax; mov eax, r13d; xor; div r11d; mov r13d, eax; pop; pop
  t.is(len1(I(0x3c, 7, 0, 0, 0)), 1 + 1 + 3 + 3 + 2 + 3 + 3 + 1 + 1);
  // w3 %= w2 (dst rdx): push rax; mov eax, edx; xor; div esi; (no mov: the remainder is in rdx); pop rax
  t.is(len1(I(0x9c, 3, 2, 0, 0)), 1 + 2 + 2 + 2 + 1);
  // r0 s/= r2 (off 1): push rdx; cqo (48 99); idiv rsi (48 f7 fe); pop rdx
  t.is(len1(I(0x3f, 0, 2, 1, 0)), 1 + 2 + 3 + 1);
  t.is(len1(I(0x3c, 0, 2, 1, 0)), 1 + 1 + 2 + 1); // w0 s/= w2: cdq (99); idiv esi (f7 fe)
  t.is(len1(I(0x64, 0, 0, 0, 1)), 2); // w0 <<= 1: d1 e0
  t.is(len1(I(0x64, 0, 0, 0, 2)), 3); // w0 <<= 2: c1 e0 02
  t.is(len1(I(0x6c, 0, 7, 0, 0)), 5); // w0 <<= w7 with BMI2: shlx (3-byte VEX, f7, modrm)
  const noBmi2 = with_({ bmi2: false });
  t.is(len1(I(0x6c, 0, 7, 0, 0), noBmi2), 7); // push rcx; mov rcx, r13; shl eax, cl; pop rcx
  t.is(len1(I(0x6c, 4, 7, 0, 0), noBmi2), 3 + 3 + 3 + 3); // dst rcx: mov r11, rcx; mov rcx, r13; shl r11d, cl; mov rcx, r11
  t.is(len1(I(0x6c, 0, 4, 0, 0)), 2); // count already in rcx (even with BMI2): shl eax, cl
  t.is(len1(I(0x6f, 7, 4, 0, 0)), 3); // r7 <<= r4: 49 d3 e5
});

test('byte swaps (BPF_END): to big endian swaps, to little endian only zero-extends', (t) => {
  t.is(len1(I(0xdc, 0, 0, 0, 16)), 7); // be16: 66 c1 c8 08 (ror ax, 8); 0f b7 c0 (movzwl)
  t.is(len1(I(0xdc, 7, 0, 0, 16)), 9); // 66 41 c1 cd 08; 45 0f b7 ed
  t.is(len1(I(0xdc, 0, 0, 0, 32)), 2); // bswap eax: 0f c8
  t.is(len1(I(0xdc, 7, 0, 0, 32)), 3); // 41 0f cd
  t.is(len1(I(0xdc, 0, 0, 0, 64)), 3); // bswap rax: 48 0f c8
  t.is(len1(I(0xd7, 0, 0, 0, 64)), 3); // BPF_ALU64 | BPF_END | BPF_FROM_LE is the unconditional swap
  t.is(len1(I(0xdc, 0, 0, 0, 8)), 0); // a width the switch has no case for: nothing
  t.is(len1(I(0xd4, 0, 0, 0, 16)), 3); // le16: 0f b7 c0
  t.is(len1(I(0xd4, 7, 0, 0, 16)), 4);
  t.is(len1(I(0xd4, 0, 0, 0, 32)), 2); // mov eax, eax
  t.is(len1(I(0xd4, 7, 0, 0, 32)), 3);
  t.is(len1(I(0xd4, 0, 0, 0, 64)), 0);
  t.throws(() => len1(I(0xdf, 0, 0, 0, 16)), { message: /outside the modelled instruction set/ });
});

test('memory: loads, stores, immediates, disp8 and disp32', (t) => {
  t.is(len1(I(0x69, 0, 6, 156, 0)), 8); // r0 = *(u16 *)(r6 +156): 48 0f b7 83 disp32
  t.is(len1(I(0x61, 9, 6, 112, 0)), 4); // r9 = *(u32 *)(r6 +112): 44 8b 7b 70
  t.is(len1(I(0x61, 0, 6, 112, 0)), 3); // 8b 43 70
  t.is(len1(I(0x79, 8, 6, 208, 0)), 7); // r8 = *(u64 *)(r6 +208): 4c 8b 83 disp32
  t.is(len1(I(0x71, 0, 8, 1, 0)), 5); // r0 = *(u8 *)(r8 +1): 49 0f b6 40 01
  t.is(len1(I(0x91, 0, 8, 1, 0)), 5); // r0 = *(s8 *)(r8 +1): 49 0f be 40 01
  t.is(len1(I(0x81, 0, 8, 1, 0)), 4); // r0 = *(s32 *)(r8 +1): 49 63 40 01
  t.is(len1(I(0x63, 10, 0, -4, 0)), 3); // *(u32 *)(r10 -4) = r0: 89 45 fc
  t.is(len1(I(0x63, 10, 7, -4, 0)), 4); // 44 89 6d fc
  t.is(len1(I(0x73, 10, 2, -4, 0)), 4); // *(u8 *)(r10 -4) = r2 (sil needs REX): 40 88 75 fc
  t.is(len1(I(0x73, 10, 0, -4, 0)), 3); // 88 45 fc
  t.is(len1(I(0x6b, 10, 0, -4, 0)), 4); // 66 89 45 fc
  t.is(len1(I(0x6b, 10, 7, -4, 0)), 5); // 66 44 89 6d fc
  t.is(len1(I(0x7b, 10, 0, -8, 0)), 4); // 48 89 45 f8
  t.is(len1(I(0x7b, 10, 0, -200, 0)), 7); // 48 89 85 disp32
  t.is(len1(I(0x62, 10, 0, -4, 7)), 7); // *(u32 *)(r10 -4) = 7: c7 45 fc imm32
  t.is(len1(I(0x72, 10, 0, -4, 7)), 4); // c6 45 fc ib
  t.is(len1(I(0x6a, 10, 0, -4, 7)), 6); // 66 c7 45 fc iw
  t.is(len1(I(0x7a, 10, 0, -8, 7)), 8); // 48 c7 45 f8 imm32
  t.is(len1(I(0x62, 10, 0, -200, 7)), 10); // c7 85 disp32 imm32
  t.is(len1(I(0x62, 7, 0, 4, 7)), 8); // *(u32 *)(r7 +4) = 7: 41 c7 45 04 imm32
  t.is(len1(I(0x72, 7, 0, 4, 7)), 5);
  t.is(len1(I(0x6a, 7, 0, 4, 7)), 7);
  t.is(len1(I(0xc2, 0, 0, 0, 0)), 3); // BPF_ST | BPF_NOSPEC: lfence
  t.throws(() => len1(I(0xdb, 10, 0, -8, 0)), { message: /outside the modelled/ }); // atomics
  t.throws(() => len1(I(0xa1, 0, 6, 0, 0)), { message: /outside the modelled/ }); // PROBE_MEM32
  t.throws(() => len1(I(0x6a + 0x20, 10, 0, 0, 0)), { message: /outside the modelled/ }); // BPF_ST | BPF_PROBE_MEM32? (not MEM)
});

test('jumps: compare/test forms, short and near displacements, calls, the first exit', (t) => {
  // JMP JEQ K 0 with a target 0 bytes away: test rax, rax (48 85 c0) + je rel8
  t.is(len1(I(0x15, 0, 0, 0, 0)), 5);
  t.is(len1(I(0x45, 0, 0, 0, 0x3f)), 9); // test rax, imm32 (48 f7 c0 imm32) + jne rel8
  t.is(len1(I(0xc5, 2, 0, 0, 1)), 6); // if r2 s< 1: 48 83 fe 01 + jl rel8
  t.is(len1(I(0xc5, 2, 0, 0, 0x1000)), 9); // 48 81 fe imm32 + jl rel8
  t.is(len1(I(0x2d, 0, 7, 0, 0)), 5); // if r0 > r7: 4c 39 e8 + ja rel8
  t.is(len1(I(0x4d, 0, 7, 0, 0)), 5); // if r0 & r7: 4c 85 e8 + jne rel8
  t.is(len1(I(0x16, 0, 0, 0, 5)), 5); // if w0 == 5: 83 f8 05 + je rel8
  t.is(len1(I(0x16, 7, 0, 0, 5)), 6); // if w7 == 5: 41 83 fd 05 + je rel8
  t.is(len1(I(0x16, 0, 0, 0, 0)), 4); // if w0 == 0: 85 c0 + je rel8
  t.is(len1(I(0x85, 0, 0, 0, 7)), 5); // call: e8 rel32
  t.is(len1(I(0x85, 0, 0, 0, 7), with_({ callDepthAccounting: 10 })), 15);
  t.throws(() => len1(I(0x85, 0, 1, 0, 7)), { message: /outside the modelled/ }); // bpf-to-bpf call
  t.throws(() => len1(I(0xf5, 0, 0, 0, 0)), { message: /outside the modelled/ }); // tail call
  t.throws(() => len1(I(0x86, 0, 0, 0, 7)), { message: /outside the modelled/ }); // JMP32 | CALL
  t.throws(() => len1(I(0x18, 0, 0, 0, 7)), { message: /outside the modelled/ }); // ld_imm64
  t.throws(() => len1(I(0xbf, 1, 1, 1, 0x10000)), { message: /outside the modelled/ }); // addr_space_cast
  // JA to the next insn: left out
  t.is(len1(I(0x05, 0, 0, 0, 0)), 0);
  t.is(len1(I(0x06, 0, 0, 0, 0)), 0); // JMP32 JA (gotol) takes its offset from imm
  // the first exit: pop r13 (nothing else is used... r7 is not named here): leave; ret
  t.is(len1(EXIT), 2); // leave (c9); ret (c3)
  t.is(len1(EXIT, with_({ returnThunk: true })), 6); // leave; jmp __x86_return_thunk
  t.is(len1(EXIT, with_({ sls: true })), 3); // leave; ret; int3
  // the BHB barrier: classic programs, unprivileged callers, a kernel with the call
  const bhb = with_({ capSysAdmin: false, clearBhbLoop: true, hypervisor: true });
  t.is(len1(EXIT, bhb, true), 2 + 9 + 5); // push rax; push rcx; call clear_bhb_loop; pop rcx; pop rax; ibhf
  t.is(len1(EXIT, { ...bhb, hypervisor: false }, true), 2 + 9);
  t.is(len1(EXIT, with_({ capSysAdmin: false, clearBhbHw: true }), true), 2 + 5);
  t.is(len1(EXIT, { ...bhb, bhbBarrier: false }, true), 2); // 6.6.80: no barrier at all
  t.is(len1(EXIT, bhb, false), 2); // eBPF programs: none
  t.is(len1(EXIT, { ...bhb, capSysAdmin: true }, true), 2);
  t.is(len1(EXIT, { ...bhb, callDepthAccounting: 10 }, true), 2 + 9 + 10 + 5);
  // an unknown conditional opcode
  t.throws(() => len1(I(0xe5, 0, 0, 0, 0)), { message: /outside the modelled/ });
  t.throws(() => len1(I(0x00, 0, 0, 0, 0)), { message: /outside the modelled/ }); // BPF_LD | BPF_W | BPF_IMM
  t.throws(() => len1(I(0xe4, 0, 0, 0, 0)), { message: /outside the modelled/ }); // ALU op 0xe0
});

test('the prologue: nop5, push rbp; mov rbp,rsp, sub rsp, callee-saved pushes; IBT, kCFI and FineIBT preambles', (t) => {
  const trivial = [I(0xb7, 0, 0, 0, 0), EXIT]; // r0 = 0; exit
  // classic: nop5 (5), push rbp (1), mov rbp,rsp (3); r0 = 0 is xor eax,eax (2); leave; ret (2)
  t.is((compile(trivial) as { proglen: number }).proglen, 9 + 2 + 2);
  t.is((compile(trivial, F, 4) as { proglen: number }).proglen, 9 + 7 + 2 + 2); // sub rsp, 8: 48 81 ec imm32
  // eBPF (not classic): the tail-call nop, 3 bytes in v6.18, 2 in 6.6
  t.is((compile(trivial, F, 0, false) as { proglen: number }).proglen, 12 + 2 + 2);
  t.is((compile(trivial, x86JitFacts(JIT_V6_6_0, MACHINE_AMD_EPYC_VM_ROOT), 0, false) as { proglen: number }).proglen, 11 + 2 + 2);
  // IBT: endbr64 at the entry and at X86_TAIL_CALL_OFFSET
  t.is((compile(trivial, with_({ ibt: true })) as { proglen: number }).proglen, 13 + 8);
  // kCFI with CONFIG_CALL_PADDING: movl $hash, %eax; 11 nops; (endbr with IBT); bpf_func starts after the 16
  const kcfi = compile(trivial, with_({ cfi: 'kcfi', cfiPadding: 11 }));
  t.deepEqual(kcfi.jited && [kcfi.proglen, kcfi.jitedLen], [13 + 16, 13]);
  const fine = compile(trivial, with_({ cfi: 'fineibt', ibt: true }));
  // endbr; subl $hash,%eax; jne.d32,pn; poisoned endbr; then the usual prologue with its own endbr
  t.deepEqual(fine.jited && [fine.proglen, fine.jitedLen], [4 + 5 + 7 + 4 + 13 + 4, 4 + 5 + 7 + 4 + 13 + 4 - 16]);
  const fineBhi = compile(trivial, with_({ cfi: 'fineibt', ibt: true, cfiBhi: true }));
  t.is(fineBhi.jited && fineBhi.proglen, 4 + 5 + 2 + 5 + 4 + 13 + 4);
  t.is(cfiGetOffset(F), 0);
  // callee-saved registers: rbx 1 byte, r13..r15 2 each, pushed in the prologue and popped at the first exit
  const regs = [I(0xbf, 6, 1, 0, 0), I(0xbf, 7, 1, 0, 0), I(0xbf, 8, 1, 0, 0), I(0xbf, 9, 1, 0, 0), I(0xb7, 0, 0, 0, 0), EXIT];
  t.is((compile(regs) as { proglen: number }).proglen, 9 + 7 + 4 * 3 + 2 + 7 + 2);
});

test('a probe program as the running 6.18 kernel JIT-compiled it (32 bytes, read with BPF_OBJ_GET_INFO_BY_FD)', (t) => {
  // 0: nopl 0x0(%rax,%rax,1) | 5: nopl (%rax) | 8: push %rbp | 9: mov %rsp,%rbp | c: call
  // 11: cmp $0x5,%rax | 15: je 0x19 | 17: leave | 18: ret | 19: mov $0x1,%eax | 1e: jmp 0x17
  const prog = [I(0x85, 0, 0, 0, 7), I(0x15, 0, 0, 1, 5), EXIT, I(0xb7, 0, 0, 0, 1), EXIT];
  const r = compile(prog, F, 0, false);
  t.true(r.jited);
  t.is(r.jited && r.jitedLen, 32);
  t.deepEqual(Array.from(r.passes.at(-1)!.lengths), [5, 6, 2, 5, 2]);
});

// Programs of `n` fillers of 5 bytes (w0 = 5) after a jump over them, plus `extra` bytes of 2- and 3-byte fillers.
function over(n: number, extra: 0 | 2 | 3 | 4 | 5): BpfInsn[] {
  const fill = Array.from({ length: n }, () => I(0xb4, 0, 0, 0, 5));
  // w0 = 0 (31 c0, 2 bytes); r2 = r0 (48 89 c6, 3 bytes)
  const more = extra === 2 ? [I(0xb4, 0, 0, 0, 0)] : extra === 3 ? [I(0xbf, 2, 0, 0, 0)] : extra === 4 ? [I(0xb4, 0, 0, 0, 0), I(0xb4, 0, 0, 0, 0)] : extra === 5 ? [I(0xb4, 0, 0, 0, 5)] : [];
  return [I(0x05, 0, 0, fill.length + more.length, 0), ...fill, ...more, I(0xb7, 0, 0, 0, 0), EXIT];
}

test('the short forward limit is 123 bytes since c8831bdbfbab, 127 before', (t) => {
  const ja = (prog: BpfInsn[], facts: X86JitFacts): number => {
    const r = compile(prog, facts);
    if (!r.jited) throw new Error(r.reason);
    return r.passes.at(-1)!.lengths[0]!;
  };
  const f66 = x86JitFacts(JIT_V6_6_0, MACHINE_AMD_EPYC_VM_ROOT);
  t.is(ja(over(24, 3), F), 2); // 123 bytes: jmp rel8 in both
  t.is(ja(over(24, 3), f66), 2);
  t.is(ja(over(24, 4), F), 5); // 124: jmp rel32 from v6.12 (and 6.6.57+), still rel8 in v6.6.0
  t.is(ja(over(24, 4), f66), 2);
  t.is(ja(over(25, 2), f66), 2); // 127
  t.is(ja(over(25, 3), f66), 5); // 128
  t.is(ja(over(25, 2), x86JitFacts(JIT_V6_6_Y, MACHINE_AMD_EPYC_VM_ROOT)), 5);
});

test('a later exit is a jump back to the first exit epilogue, measured from its own end in the previous pass', (t) => {
  // [r0 = 0][exit: leave; ret (2)][fillers][exit]: the second exit jumps back to the first's start.
  // Its displacement is ctx->cleanup_addr (this pass) - addrs[i] (the end of this exit in the previous
  // pass), so it counts its own previous size: near (5 bytes) in the first pass, it only becomes short
  // when -(2 + fillers + 5) >= -128, and a short form would then be at most 125 bytes back.
  const back = (fillers: BpfInsn[]): number => {
    const r = compile([I(0xb7, 0, 0, 0, 0), EXIT, ...fillers, EXIT], F);
    if (!r.jited) throw new Error(r.reason);
    return r.passes.at(-1)!.lengths.at(-1)!;
  };
  const five = (n: number): BpfInsn[] => Array.from({ length: n }, () => I(0xb4, 0, 0, 0, 5));
  const two = I(0xb4, 0, 0, 0, 0);
  t.is(back([...five(23), two, two, two]), 2); // 121 bytes: 2 + 121 + 5 = 128, then -125 as jmp rel8
  t.is(back([...five(24), two]), 5); // 122 bytes: 2 + 122 + 5 = 129: stays jmp rel32 (-129)
  t.is(back([...five(24), two, two]), 5); // 124: a rel8 would reach (-128) but is never chosen
});

test('the finding 3bb647a51b63a690: two jumps trade sizes in a pass that keeps the total, and the emitting pass refuses', (t) => {
  const hex = '15000202000000001500000300000000450006083f000000160000000000000004000000feffffff9c00000000000000300000003cf0ffffb10000000100000080000000000000005c000000000000001600000000000000000000000000000000000000000000000600000000000000';
  const bytes = Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
  const prog: SockFilter[] = [];
  for (let o = 0; o < bytes.length; o += 8) {
    const dv = new DataView(bytes.buffer, o, 8);
    prog.push({ code: dv.getUint16(0, true), jt: dv.getUint8(2), jf: dv.getUint8(3), k: dv.getUint32(4, true) });
  }
  // the live 6.18.44 kernel refuses it with -ENOTSUPP and "bpf_jit: fatal error" (corpus/findings)
  const r = jitClassic(prog, F);
  t.false(r.jited);
  if (r.jited) return;
  t.is(r.reason, 'emit-mismatch');
  t.is(r.message, 'bpf_jit: fatal error');
  // the two sizing passes before the emitting one have the same total, with different insns
  const [a, b, emit] = r.passes.slice(-3);
  t.is(a!.proglen, b!.proglen);
  t.true(emit!.emitting);
  const moved = Array.from(a!.lengths).flatMap((l, i) => (l !== b!.lengths[i] ? [[i, l, b!.lengths[i]]] : []));
  t.is(moved.length, 2);
  t.is(moved[0]![1]! - moved[0]![2]!, -(moved[1]![1]! - moved[1]![2]!));
  t.is(r.insn, moved[0]![0]);
  t.deepEqual(jitRejection(r, () => 2), { errno: -ENOTSUPP, stage: 'runtime', rule: 'jit-emit-mismatch', pc: 2, at: 'arch/x86/net/bpf_jit_comp.c:2741' });
  // with v6.6.0's 127-byte limit the same program settles (the model; no v6.6.0 kernel here)
  t.true(jitClassic(prog, x86JitFacts(JIT_V6_6_0, MACHINE_AMD_EPYC_VM_ROOT)).jited);
});

test('the pass loop: MAX_PASSES 20, padding from pass 15, the emitting pass after two equal totals', (t) => {
  t.is(MAX_PASSES, 20);
  t.is(PADDING_PASSES, 15);
  const r = compile([I(0xb7, 0, 0, 0, 0), EXIT]);
  // pass 0 from the 64-byte estimates, pass 1 equal, pass 2 emits
  t.deepEqual(
    r.passes.map((p) => [p.pass, p.emitting, p.padding, p.proglen]),
    [
      [0, false, false, 13],
      [1, false, false, 13],
      [2, true, false, 13],
    ],
  );
  t.is(jitRejection(r), null);
});

test('do_jit padding: a shrinking jump keeps its size from PADDING_PASSES on; other sizes fail', (t) => {
  // [ja +1][w0 = 0][r0 = 0][exit] with addrs of a previous pass in which the ja took 5 bytes
  const prog = { insns: [I(0x05, 0, 0, 1, 0), I(0xb4, 0, 0, 0, 0), I(0xb7, 0, 0, 0, 0), EXIT], stackDepth: 0, wasClassic: true };
  const prevAddrs = (jaLen: number): Int32Array => Int32Array.from([9, 9 + jaLen, 11 + jaLen, 13 + jaLen, 15 + jaLen]);
  const ok = doJit(prog, prevAddrs(5), false, 0, { cleanupAddr: 0 }, true, F);
  t.is(ok.error, null);
  t.is(ok.lengths[0], 5); // 3 nops, then jmp rel8
  const bad = doJit(prog, prevAddrs(6), false, 0, { cleanupAddr: 0 }, true, F);
  t.is(bad.error?.reason, 'jmp-padding');
  t.is(bad.error?.message, 'unexpected jump padding: 4 bytes'); // 6 - 2
  // a conditional jump that took 6 bytes pads 4; any other difference fails
  const cprog = { insns: [I(0x15, 0, 0, 1, 5), I(0xb4, 0, 0, 0, 0), I(0xb7, 0, 0, 0, 0), EXIT], stackDepth: 0, wasClassic: true };
  const cAddrs = (jLen: number): Int32Array => Int32Array.from([9, 9 + jLen, 11 + jLen, 13 + jLen, 15 + jLen]);
  t.is(doJit(cprog, cAddrs(10), false, 0, { cleanupAddr: 0 }, true, F).lengths[0], 10); // cmp (4) + 4 nops + jcc rel8
  t.is(doJit(cprog, cAddrs(6), false, 0, { cleanupAddr: 0 }, true, F).lengths[0], 6);
  const cbad = doJit(cprog, cAddrs(9), false, 0, { cleanupAddr: 0 }, true, F);
  t.is(cbad.error?.message, 'unexpected jmp_cond padding: 3 bytes');
  // a JA to the next insn pads to its last size (0, 2 or 5)
  const nprog = { insns: [I(0x05, 0, 0, 0, 0), I(0xb7, 0, 0, 0, 0), EXIT], stackDepth: 0, wasClassic: true };
  const nAddrs = (jLen: number): Int32Array => Int32Array.from([9, 9 + jLen, 11 + jLen, 13 + jLen]);
  t.is(doJit(nprog, nAddrs(2), false, 0, { cleanupAddr: 0 }, true, F).lengths[0], 2);
  t.is(doJit(nprog, nAddrs(0), false, 0, { cleanupAddr: 0 }, true, F).lengths[0], 0);
  t.is(doJit(nprog, nAddrs(3), false, 0, { cleanupAddr: 0 }, true, F).error?.message, 'unexpected nop jump padding: 3 bytes');
  // JA -1 is always -2 bytes: jmp rel8
  t.is(len1(I(0x05, 0, 0, -1, 0)), 2);
  t.is(len1(I(0x06, 0, 0, 0, -1)), 2);
});

test('the emitting pass: an insn ending elsewhere than in the previous pass, or past oldproglen, is fatal', (t) => {
  const prog = { insns: [I(0xb7, 0, 0, 0, 0), EXIT], stackDepth: 0, wasClassic: true };
  const good = Int32Array.from([9, 11, 13]);
  t.is(doJit(prog, good.slice(), true, 13, { cleanupAddr: 0 }, false, F).proglen, 13);
  const moved = doJit(prog, Int32Array.from([9, 12, 14]), true, 14, { cleanupAddr: 0 }, false, F);
  t.deepEqual([moved.error?.reason, moved.error?.insn, moved.proglen], ['emit-mismatch', 0, -14]);
  const over = doJit(prog, good.slice(), true, 12, { cleanupAddr: 0 }, false, F);
  t.deepEqual([over.error?.reason, over.error?.insn], ['emit-mismatch', 1]);
  // one insn above BPF_MAX_INSN_SIZE (128) bytes: a 200-byte call-depth template stands in for it
  const huge = doJit({ insns: [I(0x85, 0, 0, 0, 7), EXIT], stackDepth: 0, wasClassic: true }, good.slice(), false, 0, { cleanupAddr: 0 }, false, with_({ callDepthAccounting: 200 }));
  t.deepEqual([huge.error?.reason, huge.error?.message], ['insn-size', 'bpf_jit: fatal insn size error']);
  const imm0 = compile([I(0x85, 0, 0, 0, 0), EXIT]);
  t.deepEqual(imm0.jited ? null : [imm0.reason, imm0.pass, imm0.insn], ['call-imm-zero', 0, 0]);
});

testProp(
  'every converted program of the attach path is inside the modelled instruction set, and lengths only depend on the facts',
  [fc.array(fc.record({ code: fc.constantFrom(0x00, 0x01, 0x04, 0x07, 0x0c, 0x14, 0x15, 0x16, 0x20, 0x24, 0x28, 0x30, 0x34, 0x3c, 0x40, 0x45, 0x50, 0x60, 0x61, 0x64, 0x6c, 0x84, 0x87, 0x94, 0x9c, 0xb1, 0x02, 0x03, 0x05, 0x1d, 0x4d), k: fc.nat({ max: 40 }) }), { minLength: 1, maxLength: 40 })],
  (t, raw) => {
    // jumps only forward within the program; scratch memory written first; RET last
    const prog: SockFilter[] = [S(0x02, 0), ...raw.map((r, i) => ((r.code & 7) === 5 ? S(r.code, r.k % (raw.length - i), (r.k * 7) % (raw.length - i), 0) : S(r.code, r.code === 0x34 || r.code === 0x94 ? r.k + 1 : r.code === 0x64 ? r.k % 32 : r.k))), S(0x06, 1)];
    const c = bpfConvertFilter(prog, X86_64);
    if (!('ok' in c)) {
      t.pass();
      return;
    }
    const a = compile(c.insns, F, c.stackDepth);
    const b = compile(c.insns, F, c.stackDepth);
    t.deepEqual(a, b);
    t.true(a.passes.length >= 2);
  },
  { numRuns: 200 },
);
