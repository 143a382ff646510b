// Part of the mutation test command (./run.ts): the model helpers of model/ebpf around the interpreter
// that neither the kernel path nor the differential check reach in full, checked against their
// documented contracts (expected values written out by hand from the doc comments and the kernel):
//   - memory.ts: region ids, hi/lo words (REGION_HI_BASE + id, REGION_LO_BASE, the stack ending at
//     STACK_END_LO), lookups, resize/rebind/setBytes, little-endian loads and stores of 1/2/4/8 bytes,
//     fault values, and the exceptions for API misuse;
//   - interp.ts: bpf_prog_select_func's stack sizes (kernel/bpf/core.c:2341: round_up(max(depth, 1),
//     32)), bpfProgRun, runArgs/enter misuse, the internal opcodes, CALL (unknown helper, a helper's
//     fault, R1..R5 kept), register fields >= MAX_BPF_EXT_REG, the step budget;
//   - skbmem.ts: the head-capacity guard of layOutSkb.
import { EbpfVm, bpfInterpreterStackSize, bpfProgRun, compileEbpf, regHi, regLo, type HelperCall, type HelperTable } from '../../model/ebpf/interp.js';
import type { BpfInsn } from '../../model/ebpf/insn.js';
import {
  MAX_REGIONS,
  MEM_OK,
  MEM_OUT_OF_BOUNDS,
  MEM_READ_ONLY,
  MEM_UNMAPPED,
  Memory,
  makeFault,
  ptr64,
  split64,
} from '../../model/ebpf/memory.js';
import { createSkbImage, layOutSkb } from '../../model/ebpf/skbmem.js';
import { X86_64 } from '../../model/config.js';
import { afUnixSkb } from '../../model/skb.js';

type Fail = (msg: string) => never;

const I = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });
const EXIT = I(0x95, 0, 0, 0, 0);

export function apiChecks(fail: Fail): number {
  let n = 0;
  const eq = (what: string, got: unknown, want: unknown): void => {
    if (got !== want) fail(`${what}: ${String(got)}, want ${String(want)}`);
    n++;
  };
  const throws = (what: string, f: () => unknown): void => {
    try {
      f();
    } catch {
      n++;
      return;
    }
    fail(`${what}: did not throw`);
  };

  // ---- memory.ts: layout
  const mem = new Memory(512);
  const st = mem.stack;
  eq('stack id', st.id, 0);
  eq('stack name', st.name, 'stack');
  eq('stack hi', st.hi, 0xffff8880);
  eq('stack size', st.size, 512);
  eq('stack start', st.start, 0x7ffff000 - 512);
  eq('stack end', st.endLo(), 0x7ffff000);
  mem.setStackSize(64);
  eq('stack start after setStackSize(64)', st.start, 0x7ffff000 - 64);
  eq('stack bufOff', st.bufOff, 512 - 64);
  eq('stack bytes', st.bytes().length, 64);
  const a = mem.addRegion('a', 100, true);
  const b = mem.addRegion('b', 8, false);
  eq('region a id', a.id, 1);
  eq('region a hi', a.hi, 0xffff8881);
  eq('region b hi', b.hi, 0xffff8882);
  eq('region a start', a.start, 0x40000000);
  eq('region a size', a.size, 0);
  eq('region lookup', mem.region('a'), a);
  eq('region lookup (none)', mem.region('zz'), undefined);
  eq('regionOf', mem.regionOf(0xffff8882), b);
  eq('regionOf (none)', mem.regionOf(0xffff8880 + MAX_REGIONS), undefined);
  eq('regionOf (low)', mem.regionOf(0x12345678), undefined);
  eq('regions()', mem.regions().map((r) => r.name).join(','), 'stack,a,b');
  throws('duplicate region', () => mem.addRegion('a', 1, true));
  throws('capacity -1', () => mem.addRegion('c', -1, true));
  throws('capacity 1.5', () => mem.addRegion('d', 1.5, true));
  throws('capacity over 1 GiB', () => mem.addRegion('e', 0x40000001, true));
  throws('resize past capacity', () => a.resize(101));
  throws('resize negative', () => a.resize(-1));
  throws('rebind the stack', () => st.rebind(new Uint8Array(8), new DataView(new ArrayBuffer(8)), 8));
  throws('rebind size past the buffer', () => b.rebind(new Uint8Array(4), new DataView(new ArrayBuffer(4)), 5));
  eq('capacity 0 is allowed', mem.addRegion('zero', 0, true).capacity, 0);
  throws('rebind to a negative size', () => b.rebind(new Uint8Array(4), new DataView(new ArrayBuffer(4)), -1));
  eq('store to a hi word with no region', mem.store(0xffff8880 + 10, 0x40000000, 1, 1, 0), MEM_UNMAPPED);
  const full = new Memory(8);
  for (let i = 1; i < MAX_REGIONS; i++) full.addRegion(`r${i}`, 1, true);
  throws('too many regions', () => full.addRegion('one-more', 1, true));
  // contents, little-endian
  a.setBytes(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  eq('setBytes size', a.size, 10);
  eq('lo(3)', a.lo(3), 0x40000003);
  eq('addr(3)', a.addr(3), 0xffff8881_40000003n);
  eq('endLo', a.endLo(), 0x4000000a);
  const ld = (lo: number, size: number): string => {
    const s = mem.load(a.hi, lo, size);
    return s === MEM_OK ? `${mem.valHi.toString(16)}:${mem.valLo.toString(16)}` : `status ${s}`;
  };
  eq('load 1', ld(0x40000001, 1), '0:2');
  eq('load 2', ld(0x40000001, 2), '0:302');
  eq('load 4', ld(0x40000001, 4), '0:5040302');
  eq('load 8', ld(0x40000001, 8), '9080706:5040302');
  eq('load 8 at the end', ld(0x40000002, 8), 'a090807:6050403');
  eq('load past the end', ld(0x40000003, 8), `status ${MEM_OUT_OF_BOUNDS}`);
  eq('load before the start', ld(0x3fffffff, 1), `status ${MEM_OUT_OF_BOUNDS}`);
  eq('load unmapped hi', mem.load(0xffff8880 + 10, 0x40000000, 1), MEM_UNMAPPED);
  eq('load far hi', mem.load(0x1234, 0x40000000, 1), MEM_UNMAPPED);
  eq('store', mem.store(a.hi, 0x40000000, 8, 0x44332211, 0x88776655), MEM_OK);
  eq('after store', [...a.bytes().slice(0, 9)].map((x) => x.toString(16)).join(' '), '11 22 33 44 55 66 77 88 9');
  eq('store 2', mem.store(a.hi, 0x40000000, 2, 0xabcd1234, 0), MEM_OK);
  eq('store 1', mem.store(a.hi, 0x40000002, 1, 0x1ff, 0), MEM_OK);
  eq('store 4', mem.store(a.hi, 0x40000004, 4, 0xdeadbeef, 0x99), MEM_OK);
  eq('after stores', [...a.bytes().slice(0, 9)].map((x) => x.toString(16)).join(' '), '34 12 ff 44 ef be ad de 9');
  eq('check + readAt 2', mem.check(a.hi, 0x40000004, 2, false), MEM_OK);
  mem.readAt(2);
  eq('readAt 2', mem.valLo, 0xbeef);
  mem.readAt(1);
  eq('readAt 1', mem.valLo, 0xef);
  mem.readAt(4);
  eq('readAt 4', mem.valLo, 0xdeadbeef);
  mem.readAt(8);
  eq('readAt 8', `${mem.valHi.toString(16)}:${mem.valLo.toString(16)}`, 'a09:deadbeef'); // bytes 4..11: ef be ad de 09 0a 00 00
  b.setBytes(new Uint8Array(8));
  eq('store read-only', mem.store(b.hi, 0x40000000, 1, 1, 0), MEM_READ_ONLY);
  eq('check read-only load', mem.check(b.hi, 0x40000000, 8, false), MEM_OK);
  eq('check read-only 9 bytes', mem.check(b.hi, 0x40000000, 9, false), MEM_OUT_OF_BOUNDS);
  // faults
  const f = mem.fault(MEM_READ_ONLY, 7, b.hi, 0x40000004, 2, true);
  eq('fault kind', f.kind, 'read-only');
  eq('fault pc', f.pc, 7);
  eq('fault addr', f.addr, 0xffff8882_40000004n);
  eq('fault size', f.size, 2);
  eq('fault region', f.region, 'b');
  eq('fault write', f.write, true);
  const u = mem.fault(MEM_UNMAPPED, 1, 0x1234, 5, 4, false);
  eq('unmapped kind', u.kind, 'unmapped');
  eq('unmapped region', u.region, null);
  eq('oob kind', mem.fault(MEM_OUT_OF_BOUNDS, 1, a.hi, 0, 4, false).kind, 'out-of-bounds');
  const mf = makeFault('bug', 3, 'x');
  eq('makeFault defaults', `${mf.addr}/${mf.size}/${mf.region}/${mf.write}`, 'null/0/null/false');
  eq('ptr64', ptr64(0xffff8880, 0x7ffff000), 0xffff8880_7ffff000n);
  eq('split64', JSON.stringify(split64(-1n)), '{"hi":4294967295,"lo":4294967295}');
  eq('split64 hi', split64(0x1_00000002n).hi, 1);
  // rebind a region to another buffer
  const other = Uint8Array.from([9, 8, 7, 6]);
  a.rebind(other, new DataView(other.buffer), 3);
  eq('rebind size', a.size, 3);
  eq('rebind capacity', a.capacity, 4);
  eq('rebind load', ld(0x40000002, 1), '0:7');
  eq('rebind bound', ld(0x40000003, 1), `status ${MEM_OUT_OF_BOUNDS}`);

  // ---- interp.ts
  for (const [depth, size] of [
    [0, 32],
    [1, 32],
    [32, 32],
    [33, 64],
    [100, 128],
    [480, 480],
    [481, 512],
    [512, 512],
  ] as const)
    eq(`bpfInterpreterStackSize(${depth})`, bpfInterpreterStackSize(depth), size);
  throws('bpfInterpreterStackSize(513)', () => bpfInterpreterStackSize(513));
  eq('regLo/regHi', `${regLo(3)}/${regHi(3)}`, '6/7');
  const vm = new EbpfVm(new Memory(512), new Map(), { stepBudget: 100 });
  const prog = compileEbpf([I(0xb7, 0, 0, 0, -2), I(0x7b, 10, 0, -8, 0), EXIT]);
  throws('runArgs with 6 arguments', () => vm.runArgs(prog, [1n, 2n, 3n, 4n, 5n, 6n], 512));
  throws('stack size 513', () => vm.runArgs(prog, [], 513));
  throws('stack size -1', () => vm.runArgs(prog, [], -1));
  throws('stack size 8.5', () => vm.runArgs(prog, [], 8.5));
  vm.runArgs(compileEbpf([EXIT]), [], 0);
  eq('stack size 0 is allowed', `${vm.fault}/${vm.mem.stack.size}`, 'null/0');
  const res = bpfProgRun(vm, prog, { hi: 0, lo: 0x1234 }, 8, true);
  eq('bpfProgRun result', res.result, 0xfffffffe);
  eq('bpfProgRun r0', res.r0, 0xfffffffffffffffen);
  eq('bpfProgRun fault', res.fault, null);
  eq('bpfProgRun steps', res.steps, 3);
  eq('bpfProgRun trace', res.trace?.map((s) => s.pc).join(','), '0,1,2');
  eq('bpfProgRun R1 = ctx', res.trace?.[0]?.regs[2], 0x1234);
  eq('bpfProgRun stack of 32 (depth 8)', vm.mem.stack.size, 32);
  eq('bpfProgRun without trace', bpfProgRun(vm, prog, { hi: 0, lo: 0 }, 8).trace, null);
  eq('run: R1 = ctx', (vm.run(compileEbpf([I(0xbf, 0, 1, 0, 0), EXIT]), 0x11, 0x22, 32), vm.r0()), 0x11_00000022n);
  eq('reg()', vm.reg(1), 0x11_00000022n);
  // the step budget and pc out of range
  vm.run(compileEbpf([I(0x05, 0, 0, -1, 0)]), 0, 0, 32);
  eq('step budget', `${vm.fault?.kind}/${vm.steps}`, 'step-budget/100');
  vm.run(compileEbpf([I(0x05, 0, 0, 3, 0), EXIT]), 0, 0, 32);
  eq('jump past the end', `${vm.fault?.kind}/${vm.fault?.pc}/${vm.steps}`, 'pc-out-of-range/4/1');
  vm.run(compileEbpf([I(0xb7, 0, 0, 0, 1)]), 0, 0, 32);
  eq('falling off the end', `${vm.fault?.kind}/${vm.fault?.pc}`, 'pc-out-of-range/1');
  // internal opcodes, CALL
  for (const code of [0xe5, 0xf5]) {
    vm.run(compileEbpf([I(code, 0, 0, 0, 0), EXIT]), 0, 0, 32);
    eq(`internal opcode 0x${code.toString(16)}`, vm.fault?.kind, 'unsupported');
  }
  vm.run(compileEbpf([I(0xc2, 0, 0, 0, 0), I(0xb7, 0, 0, 0, 5), EXIT]), 0, 0, 32);
  eq('ST_NOSPEC is a no-op', `${vm.fault}/${vm.r0()}`, 'null/5');
  vm.run(compileEbpf([I(0x85, 0, 0, 0, 42), EXIT]), 0, 0, 32);
  eq('CALL of an unknown helper', `${vm.fault?.kind}/${vm.fault?.pc}/${vm.steps}`, 'unknown-helper/0/1');
  const helpers: HelperTable = new Map<number, HelperCall>([
    [
      1,
      (r) => {
        r[0] = r[2]! + r[4]!;
        r[1] = 7;
        return null;
      },
    ],
    [2, (_r, _m, pc) => makeFault('helper', pc, 'helper fault')],
  ]);
  const hv = new EbpfVm(new Memory(512), helpers);
  hv.runArgs(compileEbpf([I(0x85, 0, 0, 0, 1), I(0xbf, 6, 0, 0, 0), I(0xbf, 0, 2, 0, 0), I(0x0f, 0, 6, 0, 0), EXIT]), [10n, 20n], 32);
  eq('CALL: R0 from the helper, R2 kept', hv.r0(), 7n * 0x1_00000000n + 30n + 20n);
  hv.runArgs(compileEbpf([I(0xb7, 0, 0, 0, 1), I(0x85, 0, 0, 0, 2), EXIT]), [], 32);
  eq('CALL: the helper fault', `${hv.fault?.kind}/${hv.fault?.pc}/${hv.steps}`, 'helper/1/2');
  // register fields >= 12: a fault when the instruction uses the field
  const badCases: [BpfInsn, string][] = [
    [I(0x07, 12, 0, 0, 1), 'bad-register'], // ALU64 ADD K: dst
    [I(0x0f, 0, 13, 0, 0), 'bad-register'], // ALU64 ADD X: src
    [I(0x07, 0, 13, 0, 1), 'null'], // ADD K ignores src
    [I(0x87, 14, 0, 0, 0), 'bad-register'], // NEG: dst
    [I(0x87, 0, 14, 0, 0), 'null'], // NEG ignores src
    [I(0xd4, 0, 15, 0, 16), 'null'], // END ignores src
    [I(0xd4, 15, 0, 0, 16), 'bad-register'],
    [I(0x05, 12, 12, 0, 0), 'null'], // JA uses none
    [I(0x15, 12, 0, 0, 0), 'bad-register'], // JEQ K: dst
    [I(0x15, 0, 12, 0, 0), 'null'],
    [I(0x1d, 0, 12, 0, 0), 'bad-register'], // JEQ X: src
    [I(0x16, 0, 12, 0, 0), 'null'], // JMP32 JEQ K
    [I(0x1e, 0, 12, 0, 0), 'bad-register'], // JMP32 JEQ X
    [I(0x61, 0, 12, 0, 0), 'bad-register'], // LDX: src
    [I(0x63, 12, 0, 0, 0), 'bad-register'], // STX: dst
    [I(0x62, 12, 0, 0, 0), 'bad-register'], // ST: dst
    [I(0x62, 10, 12, -8, 0), 'null'], // ST ignores src
    [I(0xc2, 12, 12, 0, 0), 'null'], // ST_NOSPEC uses none
    [I(0x18, 12, 0, 0, 0), 'bad-register'], // LD_IMM64: dst
    [I(0xdc, 0, 13, 0, 16), 'null'], // END TO_BE (the X bit) ignores src
    [I(0x8c, 0, 13, 0, 0), 'bug'], // NEG|X is not in the jumptable; src is not a register it uses
    [I(0x85, 12, 12, 0, 99), 'unknown-helper'], // CALL uses no register field
    [I(0x95, 12, 12, 0, 0), 'null'], // EXIT
    [I(0xe5, 12, 12, 0, 0), 'unsupported'], // CALL_ARGS
    [I(0x06, 12, 12, 0, 0), 'null'], // JMP32 JA
  ];
  for (const [insn, want] of badCases) {
    const p = insn.code === 0x18 ? [insn, I(0, 0, 0, 0, 0), EXIT] : [insn, EXIT];
    vm.run(compileEbpf(p), 0, 0, 32);
    eq(`register field >= 12 in 0x${insn.code.toString(16)} dst ${insn.dst} src ${insn.src}`, String(vm.fault?.kind ?? null), want);
  }
  // stack poison and a custom one
  const pv = new EbpfVm(new Memory(512), new Map(), { stackPoison: 0x5a });
  pv.run(compileEbpf([I(0x79, 0, 10, -8, 0), EXIT]), 0, 0, 64);
  eq('stack poison', pv.r0(), 0x5a5a5a5a_5a5a5a5an);
  vm.stackPoison = 0xcc;
  vm.run(compileEbpf([I(0x71, 0, 10, -1, 0), EXIT]), 0, 0, 32);
  eq('default stack poison', vm.r0(), 0xccn);

  // ---- skbmem.ts: the head capacity guard
  const img = createSkbImage(new Memory(), 16);
  throws('layOutSkb past the head capacity', () => layOutSkb(img, afUnixSkb(new Uint8Array(17)), X86_64));
  throws('layOutSkb past the head capacity (headroom counted)', () => layOutSkb(img, afUnixSkb(new Uint8Array(10), { headroom: new Uint8Array(7) }), X86_64));
  layOutSkb(img, afUnixSkb(new Uint8Array(10), { headroom: new Uint8Array(6) }), X86_64);
  n++;
  layOutSkb(img, afUnixSkb(new Uint8Array(16)), X86_64);
  eq('layOutSkb at the head capacity', img.headRegion.size, 16);
  return n;
}
