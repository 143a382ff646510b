// The DPDK adapter keeps one batch's damage out of the next (oracle/dpdk/adapter.c, suspect and
// reexec): a batch whose JIT code is known to be mis-encoded runs in a forked child, and after any
// other run that ended in a signal the adapter re-executes itself on the same pipes. Before that, the
// program below (from a 10-minute campaign, seed 1306) ran its stray code without crashing and the
// next program's rte_bpf_load crashed in its place. Skipped, naming the Debian package, where DPDK is
// not installed.
import { resolve } from 'node:path';
import { OutsideJudge, type OutsideCase } from '../../oracle/outside/judge.js';
import { outsideMissing, outsideSpec } from '../../oracle/outside/registry.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { entryCase, readEntry } from '../../fuzz/corpus.js';
import { projectRoot } from '../_shared.js';
import { requiresSerial } from '../_skip.js';

const P = (rows: readonly (readonly [number, number, number?, number?])[]): SockFilter[] => rows.map(([code, k, jt = 0, jf = 0]) => ({ code, jt, jf, k: k >>> 0 }));
const packet = (hex: string, headlen: number) => ({ data: Uint8Array.from(Buffer.from(hex, 'hex')), headlen });

// rsh #0x6a15fdf7 (4 bytes of immediate after `shr r32, imm8`), neg, sub x, lsh #24, ret #21
const STRAY: OutsideCase = {
  prog: P([[0x74, 0x6a15fdf7], [0x84, 0], [0x5c, 0], [0x64, 24], [0x06, 21]]),
  packets: [
    packet('50000000020001000100000000000000e0a742e0a742e0a742e0a742e0a742e01000080042e0a742e0a742e0a742e0a7200007c00e000600a742e0a742e0a742e0a700000c00050042e0a742e0a742e0', 80),
    packet('457e004d0d6400004006edc87f000001000000000000303937fd17a07c1d8d0080ff1ff2000000000402080ae6594c0a5d11bc89cd5ead3cbe1da431124dd572bc412b4030aebb1ff32e0ab674', 77),
    packet('ffffffffffffffffffffffff08004000000000000000400660f40a0000010a000001070304000050005000000000000000000002000000000000', 58),
    packet('c083688c0000001ace5708', 11),
  ],
};
// a program the validator refuses (an X-form jump with a non-zero k: "invalid imm field")
const NEXT: OutsideCase = {
  prog: P([
    [5, 0], [128, 0], [80, 66, 189, 4], [124, 2312849763, 73, 219], [2, 8], [52, 4293918740], [3, 2], [135, 1978731183, 10, 241], [60, 2208571155, 31, 164],
    [156, 826905701, 148, 73], [6, 3235668413], [61, 0, 0, 1], [0, 23], [72, 4176282470], [0, 4293918732], [129, 0], [21, 33, 2, 2], [5, 18, 95, 215], [45, 0, 0, 1],
    [135, 0], [80, 26], [97, 2, 17, 213], [2, 3], [0, 4293918719, 107, 233], [69, 2612701179, 1, 4], [40, 46], [135, 2222105725, 164, 114], [6, 65535], [172, 0],
    [92, 0], [40, 4292866048], [68, 1089593024], [135, 0], [40, 47, 95, 152], [100, 31], [7, 0], [68, 7], [2, 2], [6, 4294967294],
  ]),
  packets: [
    packet('4cff0034500d324201115fb5c0a80101ffffffff010101010101010101010101010101010101010101010101010101004e4d56a5', 52),
    packet('01005e0000fb01005e0000fb86dd62deafe200403b0120010db85eb0b4bd6ac72c16ae5308ddfe800000000000000000000000000013edde49748af6ec2cf1047a563a25a912ebc9266f436c438148b63838518bc368a098143dd236fbe44bc78239e9d79a836ea1a11e9fdcb9a6b53655945be5c674', 53),
    packet('02000000000152540012345608060001080006040001ffffffffffff0a00000101005e0000fb0a0000013738393a', 46),
    packet('3400000002', 0),
  ],
};

const dpdkMissing = outsideMissing(outsideSpec('dpdk-jit')!);

requiresSerial(dpdkMissing, 'dpdk-jit: a program whose stray JIT code runs without crashing leaves the next batch unharmed', async (t) => {
  const j = await OutsideJudge.open(outsideSpec('dpdk-jit')!);
  if ('missing' in j) throw new Error(j.missing);
  try {
    const [a, b] = await j.run([STRAY, NEXT], { jit: true, ebpf: true });
    t.is(a!.verdict.code, 0);
    t.is(b!.verdict.code, 22, b!.verdict.message);
    t.regex(b!.verdict.message, /invalid imm field/);
    t.is(j.restarts, 0);
  } finally {
    await j.close();
  }
});

requiresSerial(dpdkMissing, 'dpdk-jit: after a JIT run that crashed, the adapter starts afresh on the same pipes and answers the next batches', async (t) => {
  const read = readEntry(resolve(projectRoot, 'corpus/external/dpdk/dpdk-jit-backward-jump-disp8.json'));
  if (!read.ok) throw new Error(read.error);
  const c = entryCase(read.entry);
  const crash: OutsideCase = { prog: c.prog, packets: c.inputs.map((i) => ({ data: i.skb.data, headlen: i.skb.headlen })) };
  const ldb3: OutsideCase = { prog: P([[0x30, 3], [0x16, 0]]), packets: [packet('0102030405060708', 8)] };
  const j = await OutsideJudge.open(outsideSpec('dpdk-jit')!);
  if ('missing' in j) throw new Error(j.missing);
  try {
    const answers = await j.run([crash, ldb3, crash, ldb3], { jit: true });
    t.deepEqual(
      answers.map((a) => a.jit?.results[0]),
      [{ status: 'signal', signal: 11, message: 'Segmentation fault' }, { status: 'value', value: 4 }, { status: 'signal', signal: 11, message: 'Segmentation fault' }, { status: 'value', value: 4 }],
    );
    t.is(j.restarts, 0);
  } finally {
    await j.close();
  }
});
