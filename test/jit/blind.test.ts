// Tests for model/jit/blind.ts (constant blinding, kernel/bpf/core.c bpf_jit_blind_constants) and its
// effect on the attach path: the blinded clone is what the JIT compiles and what the socket is charged.
// Expected rewrites are written from the kernel's bpf_jit_blind_insn table (core.c:1251-1385), by hand.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import { KernelRunner, skAttachFilter, type AttachedFilter } from '../../model/attach.js';
import { type Program, type SockFilter } from '../../model/cbpf/insn.js';
import { PROFILE_V6_18, PROFILE_V6_6_Y, type KernelConfig } from '../../model/kernel.js';
import { BPF_REG_AX, type BpfInsn } from '../../model/ebpf/insn.js';
import { compileEbpf } from '../../model/ebpf/interp.js';
import { bpfJitBlindConstants, bpfJitBlindInsn, bpfJitBlindingEnabled, bpfPatchInsnSingle, blindedLength, blindingRandom } from '../../model/jit/blind.js';
import { bpfIntJitCompile } from '../../model/jit/x86.js';
import { bpfConvertFilter, bpfMigrateFilter } from '../../model/migrate/convert.js';
import { ethernetSkb } from '../../model/skb.js';
import { ENOMEM } from '../../model/uapi.js';
import { validProgram } from '../../fuzz/arb/index.js';

const I = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm: imm | 0 });
const S = (code: number, k: number, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k: k >>> 0 });
const AX = BPF_REG_AX;
const R = 0x12345678;

test('bpf_jit_blinding_enabled: the sysctl, the JIT request and bpf_capable()', (t) => {
  const e = (bpfJitHarden: number, bpfCapable: boolean, jitRequested = true) => bpfJitBlindingEnabled({ bpfJitHarden, bpfCapable, jitRequested });
  t.false(e(0, false));
  t.false(e(1, true), 'harden 1: a CAP_BPF / CAP_SYS_ADMIN caller is not blinded');
  t.true(e(1, false), 'harden 1: a caller without either is');
  t.true(e(2, true), 'harden 2: everyone');
  t.false(e(2, false, false), 'no JIT requested: nothing to blind');
  t.false(bpfJitBlindingEnabled({ ebpfJit: false, bpfJitHarden: 2, bpfCapable: false, jitRequested: true }));
});

test('bpf_jit_blind_insn: 32-bit ALU with an immediate becomes mov/xor/op through AX', (t) => {
  // add32 r0, 5 -> mov32 ax, R^5; xor32 ax, R; add32 r0, ax
  t.deepEqual(bpfJitBlindInsn(I(0x04, 0, 7, 0, 5), null, R), [I(0xb4, AX, 0, 0, R ^ 5), I(0xa4, AX, 0, 0, R), I(0x0c, 0, AX, 0, 0)]);
  // mov32 r0, 7 (classic `ld #7`) is blinded too; mov32 r0, 0 becomes xor64 r0, r0
  t.deepEqual(bpfJitBlindInsn(I(0xb4, 0, 0, 0, 7), null, R), [I(0xb4, AX, 0, 0, R ^ 7), I(0xa4, AX, 0, 0, R), I(0xbc, 0, AX, 0, 0)]);
  t.deepEqual(bpfJitBlindInsn(I(0xb4, 0, 0, 0, 0), null, R), [I(0xaf, 0, 0, 0, 0)]);
  t.deepEqual(bpfJitBlindInsn(I(0xb7, 3, 0, 0, 0), null, R), [I(0xaf, 3, 3, 0, 0)]);
  // div32 r0, 3 keeps its off (sdiv: 1)
  t.deepEqual(bpfJitBlindInsn(I(0x34, 0, 0, 1, 3), null, R)[2], I(0x3c, 0, AX, 1, 0));
  // shifts, NEG and END keep their immediates; AX is never touched; register forms are left alone
  for (const insn of [I(0x64, 0, 0, 0, 3), I(0x74, 0, 0, 0, 3), I(0xc4, 0, 0, 0, 3), I(0x84, 0, 0, 0, 0), I(0xd4, 0, 0, 0, 16), I(0x04, AX, 0, 0, 5), I(0x0c, 0, 7, 0, 0), I(0x61, 0, 6, 4, 0), I(0x95, 0, 0, 0, 0), I(0x85, 0, 0, 0, 9), I(0x05, 0, 0, 3, 0)])
    t.deepEqual(bpfJitBlindInsn(insn, null, R), [], `0x${insn.code.toString(16)}`);
});

test('bpf_jit_blind_insn: 64-bit ALU, jumps (a backward one moves 2 further back), stores, 64-bit immediates', (t) => {
  t.deepEqual(bpfJitBlindInsn(I(0x07, 2, 0, 0, -4), null, R), [I(0xb7, AX, 0, 0, R ^ -4), I(0xa7, AX, 0, 0, R), I(0x0f, 2, AX, 0, 0)]);
  t.deepEqual(bpfJitBlindInsn(I(0x15, 0, 0, 4, 0x800), null, R), [I(0xb7, AX, 0, 0, R ^ 0x800), I(0xa7, AX, 0, 0, R), I(0x1d, 0, AX, 4, 0)]);
  t.deepEqual(bpfJitBlindInsn(I(0x45, 0, 0, -3, 1), null, R)[2], I(0x4d, 0, AX, -5, 0));
  t.deepEqual(bpfJitBlindInsn(I(0x16, 1, 0, -1, 9), null, R), [I(0xb4, AX, 0, 0, R ^ 9), I(0xa4, AX, 0, 0, R), I(0x1e, 1, AX, -3, 0)]);
  t.deepEqual(bpfJitBlindInsn(I(0x62, 10, 0, -4, 77), null, R), [I(0xb7, AX, 0, 0, R ^ 77), I(0xa7, AX, 0, 0, R), I(0x63, 10, AX, -4, 0)]);
  const ld = [I(0x18, 3, 0, 0, 0x11), I(0x00, 0, 0, 0, 0x22)] as const;
  t.deepEqual(bpfJitBlindInsn(ld[0], ld, R), [I(0xb7, AX, 0, 0, R ^ 0x22), I(0xa7, AX, 0, 0, R), I(0x67, AX, 0, 0, 32), I(0xbf, 3, AX, 0, 0)]);
  t.deepEqual(bpfJitBlindInsn(ld[1], ld, R), [I(0xb4, AX, 0, 0, R ^ 0x11), I(0xa4, AX, 0, 0, R), I(0x4f, 3, AX, 0, 0)]);
  t.is(bpfJitBlindInsn(ld[1], ld, R, true).length, 4, 'with verifier_zext a zero extension of AX');
});

test('bpf_jit_blind_constants: patches in place, moves the jumps that cross a patch, and draws one number per insn', (t) => {
  // jeq r0, 1, +2; mov32 r0, 5; exit; mov32 r0, 0; exit
  const prog = [I(0x15, 0, 0, 2, 1), I(0xb4, 0, 0, 0, 5), I(0x95, 0, 0, 0, 0), I(0xb4, 0, 0, 0, 0), I(0x95, 0, 0, 0, 0)];
  let draws = 0;
  const r = bpfJitBlindConstants(prog, true, () => (draws++, R));
  if (!('insns' in r)) return void t.fail();
  t.is(draws, prog.length);
  t.is(r.insns.length, 3 + 3 + 1 + 1 + 1);
  // the jump's target (the second mov) moved by the 2 insns the first mov grew by
  t.deepEqual(r.insns[2], I(0x1d, 0, AX, 4, 0));
  t.deepEqual(r.insns[7], I(0xaf, 0, 0, 0, 0));
  t.deepEqual(Array.from(r.from!), [0, 0, 0, 1, 1, 1, 2, 3, 4]);
  const none = bpfJitBlindConstants(prog, false);
  t.true('insns' in none && none.insns === prog, 'not requested: the program itself');
  t.is(blindedLength(prog), 9);
});

test('bpf_patch_insn_single: a program growing past S16_MAX is probed, and a jump pushed out of range is -ERANGE', (t) => {
  // ja +32766 over 32766 filler insns, then exit: patching insn 1 into 3 pushes the target to +32768
  const fill = Array.from({ length: 32766 }, () => I(0xbc, 0, 7, 0, 0));
  const prog = [I(0x05, 0, 0, 32766, 0), ...fill, I(0x95, 0, 0, 0, 0)];
  t.is(bpfPatchInsnSingle(prog.slice(), 1, [I(0xbc, 0, 7, 0, 0), I(0xbc, 0, 7, 0, 0), I(0xbc, 0, 7, 0, 0)]), null);
  const ok = bpfPatchInsnSingle(prog.slice(), 1, [I(0xbc, 0, 7, 0, 0), I(0xbc, 0, 7, 0, 0)]);
  t.is(ok?.length, prog.length + 1);
  t.is(ok?.[0]!.off, 32767);
  // a backward jump across the patch moves too
  const back = bpfPatchInsnSingle([I(0xb4, 0, 0, 0, 1), I(0xb4, 0, 0, 0, 2), I(0x05, 0, 0, -3, 0)], 1, [I(0xbc, 0, 7, 0, 0), I(0xbc, 0, 7, 0, 0)]);
  t.is(back?.[3]!.off, -4);
  // the same through bpf_jit_blind_constants: insn 1, mov32 r0, 5, grows by 2 under the ja
  t.like(bpfJitBlindConstants([I(0x05, 0, 0, 32766, 0), I(0xb4, 0, 0, 0, 5), ...fill.slice(1), I(0x95, 0, 0, 0, 0)], true), { errno: -34 });
});

test('bpf_patch_insn_single: probing a patch of the last insn past S16_MAX (the kernel reads the zeroed slot after the program)', (t) => {
  // ja +32765 to the last insn of 32767, which becomes 3: the jump lands on the patch's first insn and stays
  const prog = [I(0x05, 0, 0, 32765, 0), ...Array.from({ length: 32765 }, () => I(0xbc, 0, 7, 0, 0)), I(0xb4, 0, 0, 0, 5)];
  const r = bpfPatchInsnSingle(prog.slice(), prog.length - 1, [I(0xb4, AX, 0, 0, R ^ 5), I(0xa4, AX, 0, 0, R), I(0xbc, 0, AX, 0, 0)]);
  t.is(r?.length, 32769);
  t.is(r?.[0]!.off, 32765);
  t.deepEqual(r?.[32768], I(0xbc, 0, AX, 0, 0));
});

test("bpf_jit_blind_insn: the backward jump's off is an s16, so -32767 - 2 wraps to 32767 (core.c `s16 off`)", (t) => {
  t.is(bpfJitBlindInsn(I(0x15, 0, 0, -32767, 1), null, R)[2]!.off, 32767);
  t.is(bpfJitBlindInsn(I(0x16, 0, 0, -32768, 1), null, R)[2]!.off, 32766);
  t.is(bpfJitBlindInsn(I(0x15, 0, 0, -32766, 1), null, R)[2]!.off, -32768);
});

// The blinded clone computes what the program computes. Checked on the model's interpreter, which
// the kernel never runs a blinded program on: it uses AX as its own temporary in DIV and MOD by a
// register (core.c ALU_DIV_X: `AX = (u32) DST; do_div(AX, (u32) SRC)`), so those programs are left out.
const noDivMod = (p: Program): boolean => !p.some((i) => (i.code & 0x07) === 0x04 && ((i.code & 0xf0) === 0x30 || (i.code & 0xf0) === 0x90));
testProp(
  'the blinded clone returns what the migrated program returns (interpreter, no DIV/MOD)',
  [validProgram({ weights: { short: 4, realistic: 1, medium: 0, long: 0, limits: 0, jit: 0 } }).filter(noDivMod), fc.uint8Array({ minLength: 0, maxLength: 80 }), fc.integer({ min: 1, max: 0xffffffff })],
  (t, prog, bytes, seed) => {
    const config: KernelConfig = { ...PROFILE_V6_18, bpfJitHarden: 2 };
    const m = bpfMigrateFilter(prog, config);
    if (!('ok' in m)) return void t.pass(); // refused: nothing runs
    const clone = bpfJitBlindConstants(m.converted.insns, true, blindingRandom(seed));
    if (!('insns' in clone)) return void t.fail('blinding failed');
    if (m.jited) t.deepEqual(m.blinded?.length, clone.insns.length);
    const runner = new KernelRunner(config);
    const f: AttachedFilter = { ok: true, prog, migrated: m, compiled: compileEbpf(m.converted.insns) };
    const g: AttachedFilter = { ...f, compiled: compileEbpf(clone.insns) };
    const skb = ethernetSkb(bytes);
    const env = { cpu: 0, randomSeed: 7 };
    t.is(runner.run(g, skb, env), runner.run(f, skb, env));
  },
  { numRuns: 200 },
);

test('the charge is the blinded length: bpf_jit_harden 2, or 1 without CAP_BPF, moves the -ENOMEM limit', (t) => {
  // n x `ld #i` (mov32 A, i: 1 insn, blinded 3) then `ret a` (exit: 1, never blinded)
  const prog = (n: number): Program => [...Array.from({ length: n }, (_, i) => S(0x00, i + 1)), S(0x16, 0)];
  const plain = PROFILE_V6_6_Y; // header 72, optmem_max 20480
  const hard: KernelConfig = { ...plain, bpfJitHarden: 1, bpfCapable: false };
  // unblinded: 3 (prologue) + n + 1 insns; 72 + 8 * (n + 4) < 20480 <=> n <= 2546
  // blinded: 3 + 3n + 1 (the prologue's xors and mov64 reg carry no constant): n <= 848
  const a = skAttachFilter(prog(848), hard);
  if (!('ok' in a)) return void t.fail(JSON.stringify(a));
  t.is(a.migrated.len, 4 + 3 * 848);
  t.is(a.migrated.converted.insns.length, 4 + 848);
  t.is(a.sk.omemAlloc, 72 + 8 * (4 + 3 * 848));
  t.like(skAttachFilter(prog(849), hard), { errno: -ENOMEM, rule: 'optmem-exceeded' });
  t.true('ok' in skAttachFilter(prog(849), plain), 'unblinded it fits');
  t.true('ok' in skAttachFilter(prog(2546), plain));
  t.true('ok' in skAttachFilter(prog(849), { ...hard, bpfCapable: true }), 'harden 1 spares a CAP_BPF caller');
  t.like(skAttachFilter(prog(849), { ...plain, bpfJitHarden: 2 }), { errno: -ENOMEM }, 'harden 2 blinds root too');
});

test('a JIT that fails leaves the program unblinded: without ALWAYS_ON the interpreter runs the original, charged as such', (t) => {
  const prog: Program = [S(0x00, 5), S(0x16, 0)];
  const cfg: KernelConfig = { ...PROFILE_V6_6_Y, jitAlwaysOn: false, jitNeeded: 'always-on', jitAvailable: false, bpfJitHarden: 2 };
  const m = bpfMigrateFilter(prog, cfg);
  if (!('ok' in m)) return void t.fail();
  t.false(m.jited);
  t.is(m.blinded, null);
  t.is(m.len, m.converted.insns.length);
});

test('the x86-64 JIT compiles the clone: lengths of the AX forms (mov r10d, imm32 6; xor r10d, imm32 7; cmp r0, r10 3)', (t) => {
  const c = bpfConvertFilter([S(0x15, 0x800, 0, 1), S(0x06, 1), S(0x06, 0)], PROFILE_V6_18);
  if (!('ok' in c)) return void t.fail();
  const r = bpfIntJitCompile({ insns: c.insns, stackDepth: 0, wasClassic: true, blindingRequested: true, rnd: () => 0x40000000 }, PROFILE_V6_18.x86Jit!);
  if (!r.jited || r.blinded === null) return void t.fail();
  const last = r.passes[r.passes.length - 1]!;
  // the clone: xor32 a,a; xor32 x,x; mov64 ctx,r1; mov64 ax,R^0x800 (7 bytes if negative as s32, else 6); xor64 ax,R; jne a,ax; ...
  t.is(r.blinded[3]!.code, 0xb7);
  t.is(last.lengths[3], 6); // 0x40000800 > 0: mov r10d, imm32 (41 ba imm32)
  t.is(last.lengths[4], 7); // xor r10, 0x40000000 (49 81 f2 imm32)
  t.is(last.lengths[5], 3 + 2); // cmp rax, r10 (4c 39 d0) + jne rel8
  const neg = bpfIntJitCompile({ insns: c.insns, stackDepth: 0, wasClassic: true, blindingRequested: true, rnd: () => 0x80000000 }, PROFILE_V6_18.x86Jit!);
  if (!neg.jited) return void t.fail();
  t.is(neg.passes[neg.passes.length - 1]!.lengths[3], 7, 'a negative s32: mov r10, imm32 sign-extended (49 c7 c2 imm32)');
});
