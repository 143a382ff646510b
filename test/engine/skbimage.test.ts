// The per-skb image reuse (engine/runner.ts EngineRunner reuseImages, engine/ebpf/skbimage.ts
// layOutSkbOwn / bindSkb, Region.rebind), EngineMemory's inlined loads, and the engine interpreter's
// inlined jump forms (on the spec's interpreter too). Expected values are worked out by hand from the frame
// bytes and from kernel/bpf/core.c COND_JMP (64-bit compares of DST with the sign-extended IMM).
import test from 'ava';
import { KernelRunner, skAttachFilter, type AttachedFilter } from '../../model/attach.js';
import { EngineRunner } from '../../engine/runner.js';
import { compileEbpfColumns, EbpfEngineVm } from '../../engine/ebpf/interp.js';
import { EngineMemory } from '../../engine/ebpf/memory.js';
import { bindSkb, createReusableSkbImage, layOutSkbFresh, layOutSkbOwn } from '../../engine/ebpf/skbimage.js';
import { bpfStmt as S, type Program } from '../../model/cbpf/insn.js';
import { X86_64 } from '../../model/config.js';
import { EbpfVm, compileEbpf } from '../../model/ebpf/interp.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import { Memory } from '../../model/ebpf/memory.js';
import { SIZEOF_SK_BUFF, SK_BUFF } from '../../model/ebpf/layout.js';
import { afUnixSkb, DEFAULT_ENV, ethernetSkb } from '../../model/skb.js';
import { ancillaryK, SKF_AD_IFINDEX } from '../../model/uapi.js';
import { hex } from '../_shared.js';

// Ethernet broadcast, IPv4 TCP 10.0.0.1 -> 10.0.0.2, ports 0x1234 -> 80 (54 bytes)
const TCP = hex('ffffffffffff 020000000002 0800' + '45000028 0000 4000 4006 0000 0a000001 0a000002' + '1234 0050 00000000 00000000 5000 0000 0000 0000');
// the same with EtherType 0x86dd and byte 23 = 0x11 (60 bytes, zero padded)
const OTHER = new Uint8Array(60);
OTHER.set(TCP);
OTHER[12] = 0x86;
OTHER[13] = 0xdd;
OTHER[23] = 0x11;

const attach = (p: Program): AttachedFilter => {
  const f = skAttachFilter(p, X86_64);
  if (!('ok' in f)) throw new Error(JSON.stringify(f));
  return f;
};
const RET_A = S(0x16, 0);
const LDH_12 = attach([S(0x28, 12), RET_A]); // ldh [12]; ret a
const LDB_23 = attach([S(0x30, 23), RET_A]); // ldb [23]; ret a
const LEN = attach([S(0x80, 0), RET_A]); // ld len; ret a
const LD_33 = attach([S(0x20, 33), RET_A]); // ld [33]: frame bytes 33..36
const IFINDEX = attach([S(0x00, 7), S(0x20, ancillaryK(SKF_AD_IFINDEX)), RET_A]);

test('reuseImages: results equal the hand-worked values on interleaved programs and skbs', (t) => {
  const a = ethernetSkb(TCP);
  const b = ethernetSkb(OTHER);
  const u = afUnixSkb(Uint8Array.of(1, 2, 3));
  const runner = new EngineRunner(X86_64, { reuseImages: true });
  const spec = new KernelRunner(X86_64);
  for (const f of [LDH_12, LDB_23, LEN, LD_33, IFINDEX]) for (const skb of [a, b, u]) t.is(spec.run(f, skb, DEFAULT_ENV), runner.run(f, skb, DEFAULT_ENV));
  for (let round = 0; round < 3; round++) {
    t.is(runner.run(LDH_12, a, DEFAULT_ENV), 0x0800);
    t.is(runner.run(LDH_12, b, DEFAULT_ENV), 0x86dd);
    t.is(runner.run(LDB_23, a, DEFAULT_ENV), 6);
    t.is(runner.run(LDB_23, b, DEFAULT_ENV), 0x11);
    t.is(runner.run(LEN, a, DEFAULT_ENV), 54);
    t.is(runner.run(LEN, b, DEFAULT_ENV), 60);
    t.is(runner.run(LEN, u, DEFAULT_ENV), 3);
    // ld [33] on TCP: bytes 33..36 = 02 12 34 00 (dst addr low byte, sport, dport high byte)
    t.is(runner.run(LD_33, a, DEFAULT_ENV), 0x02123400);
    // ethernetSkb has a dev (ifindex 2, kernel-spec R1); afUnixSkb has none: A (7) is returned
    t.is(runner.run(IFINDEX, a, DEFAULT_ENV), 2);
    t.is(runner.run(IFINDEX, u, DEFAULT_ENV), 7);
    t.is(runner.runCompiled(LDB_23, b, DEFAULT_ENV), 0x11);
    t.is(runner.runCompiled(IFINDEX, u, DEFAULT_ENV), 7);
    t.is(runner.fault, null);
  }
});

test('layOutSkb after bindSkb writes into the image’s own buffers, never into a kept image', (t) => {
  const img = createReusableSkbImage(new EngineMemory());
  const a = ethernetSkb(TCP);
  const kept = layOutSkbOwn(img, a, X86_64);
  const before = Uint8Array.from(kept.head);
  const ctxBefore = Uint8Array.from(kept.ctx);
  bindSkb(img, kept);
  t.is(img.headRegion.buf, kept.head);
  t.is(img.headRegion.size, 54);
  t.is(img.skbRegion.size, SIZEOF_SK_BUFF);
  layOutSkbFresh(img, ethernetSkb(OTHER), X86_64);
  t.is(img.headRegion.buf, img.own.head);
  t.is(img.headRegion.size, 60);
  t.deepEqual(kept.head, before);
  t.deepEqual(kept.ctx, ctxBefore);
  // skb->len in the kept ctx is still 54 (u32 at SK_BUFF.len)
  t.is(kept.ctxDv.getUint32(SK_BUFF.len.offset, true), 54);
  t.is(img.skbRegion.dv.getUint32(SK_BUFF.len.offset, true), 60);
  // an skb without a dev: the dev region is emptied by bindSkb
  bindSkb(img, layOutSkbOwn(img, afUnixSkb(Uint8Array.of(9)), X86_64));
  t.is(img.devRegion.size, 0);
  t.throws(() => layOutSkbOwn(createReusableSkbImage(new EngineMemory(), 16), afUnixSkb(new Uint8Array(17)), X86_64), { instanceOf: RangeError });
});

test('Region.rebind: not for the stack; the size must fit the new buffer', (t) => {
  const mem = new Memory();
  const r = mem.addRegion('x', 8, false);
  const buf = Uint8Array.of(1, 2, 3, 4);
  r.rebind(buf, new DataView(buf.buffer), 4);
  t.is(mem.load(r.hi, r.lo(0), 4), 0);
  t.is(mem.valLo, 0x04030201);
  t.is(r.capacity, 4);
  t.is(mem.load(r.hi, r.lo(1), 4), 2); // MEM_OUT_OF_BOUNDS: bytes 1..4 of 4
  t.throws(() => r.rebind(buf, new DataView(buf.buffer), 5), { instanceOf: RangeError });
  t.throws(() => r.rebind(buf, new DataView(buf.buffer), -1), { instanceOf: RangeError });
  t.throws(() => mem.stack.rebind(buf, new DataView(buf.buffer), 4), { instanceOf: RangeError });
});

for (const [name, make] of [['Memory', () => new Memory()], ['EngineMemory', () => new EngineMemory()]] as const)
test(`${name}.load: 1, 2, 4, 8 bytes little-endian at any alignment`, (t) => {
  const mem = make();
  const r = mem.addRegion('x', 16, false);
  r.setBytes(Uint8Array.of(0x01, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0xf8, 0x09));
  t.is(mem.load(r.hi, r.lo(1), 1), 0);
  t.deepEqual([mem.valLo, mem.valHi], [0x82, 0]);
  t.is(mem.load(r.hi, r.lo(1), 2), 0);
  t.deepEqual([mem.valLo, mem.valHi], [0x8382, 0]);
  t.is(mem.load(r.hi, r.lo(1), 4), 0);
  t.deepEqual([mem.valLo, mem.valHi], [0x85848382, 0]);
  t.is(mem.load(r.hi, r.lo(1), 8), 0);
  t.deepEqual([mem.valLo, mem.valHi], [0x85848382, 0x09f88786]);
  t.is(mem.load(r.hi, r.lo(2), 8), 2); // bytes 2..9 of 9
  t.is(mem.load(r.hi + 9, r.lo(0), 1), 1); // no region there
});

// COND_JMP with IMM (core.c:2020): the IMM is sign-extended to 64 bits and compared with DST.
const I = (code: number, dst: number, imm: number, off = 0): BpfInsn => ({ code, dst, src: 0, off, imm });
const EXIT = I(0x95, 0, 0);
function taken(setup: BpfInsn[], jmp: BpfInsn): boolean {
  // r0 = 1; setup; if (jmp) goto +1; r0 = 0 (not taken); exit
  const prog = [I(0xb7, 0, 1), ...setup, { ...jmp, off: 1 }, I(0xb7, 0, 0), EXIT];
  const vm = new EbpfVm(new Memory());
  const res = vm.run(compileEbpf(prog), 0, 0, 32);
  if (vm.fault) throw new Error(vm.fault.detail);
  const engine = new EbpfEngineVm(new EngineMemory());
  if (engine.run(compileEbpfColumns(prog), 0, 0, 32) !== res) throw new Error('the engine interpreter and the spec differ');
  return res === 1;
}
const MOV64 = (imm: number): BpfInsn => I(0xb7, 2, imm); // r2 = (s64) imm
const MOV32 = (imm: number): BpfInsn => I(0xb4, 2, imm); // r2 = (u32) imm

test('inlined JEQ/JNE/JSET/JSLT with IMM compare 64 bits against the sign-extended IMM', (t) => {
  t.true(taken([MOV64(-1)], I(0x15, 2, -1))); // 0xffff_ffff_ffff_ffff == (s64) -1
  t.false(taken([MOV32(-1)], I(0x15, 2, -1))); // 0x0000_0000_ffff_ffff != 0xffff_ffff_ffff_ffff
  t.true(taken([MOV32(7)], I(0x15, 2, 7)));
  t.true(taken([MOV32(-1)], I(0x55, 2, -1)));
  t.false(taken([MOV64(-1)], I(0x55, 2, -1)));
  t.true(taken([MOV32(5)], I(0x55, 2, 6)));
  t.true(taken([MOV64(-0x80000000)], I(0x45, 2, -0x80000000))); // 0xffffffff80000000 & 0xffffffff80000000
  t.false(taken([MOV32(0)], I(0x45, 2, -1)));
  // JSET: (u64) r2 = 0xffffffff_00000000 (mov64 -2^32 is not encodable; build it by lsh) & (s64) -1
  t.true(taken([MOV64(-1), I(0x67, 2, 32)], I(0x45, 2, -1)));
  t.false(taken([MOV64(-1), I(0x67, 2, 32)], I(0x45, 2, 0x7fffffff)));
  // JSLT (signed 64-bit)
  t.true(taken([MOV64(-1)], I(0xc5, 2, 0))); // -1 < 0
  t.false(taken([MOV32(-1)], I(0xc5, 2, 0))); // 4294967295 < 0 is false
  t.false(taken([MOV64(5)], I(0xc5, 2, -1)));
  t.true(taken([MOV64(-5)], I(0xc5, 2, -1)));
  t.false(taken([MOV64(-1)], I(0xc5, 2, -1)));
  t.true(taken([MOV64(2)], I(0xc5, 2, 3))); // same high word, low compare
  t.false(taken([MOV64(3)], I(0xc5, 2, 3)));
});
