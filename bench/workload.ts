// The benchmark workload: the real tcpdump filters (../shared/corpus-seeds/tcpdump_filters.jsonl), a
// seeded set of generated programs restricted to what libpcap's bpf_filter runs the same way, and a
// fixed, seeded set of Ethernet frames (bench/packets.ts).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { bpfCheckClassic } from '../model/cbpf/check.js';
import type { SockFilter } from '../model/cbpf/insn.js';
import { realisticProgram, shortProgram } from '../fuzz/arb/index.js';
import { benchFrames } from './packets.js';

export interface NamedProgram {
  readonly name: string;
  readonly prog: readonly SockFilter[];
}

/** The tcpdump corpus, or [] when ../shared is not there. */
export function tcpdumpCorpus(root: string): NamedProgram[] {
  const file = resolve(root, '..', 'shared', 'corpus-seeds', 'tcpdump_filters.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { _meta?: unknown; id: number; expr: string; insns: SockFilter[] })
    .filter((l) => l._meta === undefined)
    .map((l) => ({ name: `${l.id}: ${l.expr}`, prog: l.insns }));
}

/**
 * Classic codes libpcap's bpf_filter runs exactly as sk_run_filter does. Left out: LSH/RSH by X
 * (libpcap 1.10 gives 0 for X >= 32; sk_run_filter shifts by X & 31 on x86-64); LD ABS at
 * ancillary or other negative offsets (k >= 2^31) is left out (libpcap has no SKF_*_OFF space). LD IND is kept: its result is compared with libpcap's before timing.
 */
export const LIBPCAP_SAME_CODES: readonly number[] = Object.freeze([
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x14, 0x15, 0x16, 0x1c, 0x1d, 0x20, 0x24, 0x25, 0x28, 0x2c, 0x2d,
  0x30, 0x34, 0x35, 0x3c, 0x3d, 0x40, 0x44, 0x45, 0x48, 0x4c, 0x4d, 0x50, 0x54, 0x5c, 0x60, 0x61, 0x64, 0x74,
  0x80, 0x81, 0x84, 0x87, 0x94, 0x9c, 0xa4, 0xac, 0xb1,
]);

const isAbsLoad = (code: number): boolean => code === 0x20 || code === 0x28 || code === 0x30 || code === 0xb1;

/** Whether every instruction is one libpcap runs the same way (see LIBPCAP_SAME_CODES). */
export function libpcapComparable(prog: readonly SockFilter[]): boolean {
  return prog.every((i) => LIBPCAP_SAME_CODES.includes(i.code) && !(isAbsLoad(i.code) && (i.k | 0) < 0));
}

/** `count` generated programs (shortProgram and realisticProgram) that libpcap runs the same way. */
export function generatedPrograms(count: number, seed: number): NamedProgram[] {
  const arb = fc.oneof(
    { weight: 3, arbitrary: shortProgram() },
    { weight: 1, arbitrary: realisticProgram().map((r) => [...r.prog]) },
  );
  const out: NamedProgram[] = [];
  let s = seed;
  while (out.length < count) {
    for (const prog of fc.sample(arb, { seed: s++, numRuns: count })) {
      if (out.length >= count) break;
      if (libpcapComparable(prog) && bpfCheckClassic(prog) === null)
        out.push({ name: `gen${out.length}`, prog });
    }
  }
  return out;
}

/** The frames of the benchmark. */
export const benchPackets = (count: number, seed: number): Uint8Array[] => benchFrames(count, seed);

/** The input file of bench/pcap_bench.c (little-endian; see its header). */
export function pcapBenchInput(progs: readonly NamedProgram[], packets: readonly Uint8Array[]): Uint8Array {
  let size = 8;
  for (const p of progs) size += 4 + 8 * p.prog.length;
  for (const k of packets) size += 4 + k.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  dv.setUint32(o, progs.length, true);
  o += 4;
  for (const p of progs) {
    dv.setUint32(o, p.prog.length, true);
    o += 4;
    for (const i of p.prog) {
      dv.setUint16(o, i.code, true);
      dv.setUint8(o + 2, i.jt);
      dv.setUint8(o + 3, i.jf);
      dv.setUint32(o + 4, i.k >>> 0, true);
      o += 8;
    }
  }
  dv.setUint32(o, packets.length, true);
  o += 4;
  for (const k of packets) {
    dv.setUint32(o, k.length, true);
    o += 4;
    out.set(k, o);
    o += k.length;
  }
  return out;
}
