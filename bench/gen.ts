// Case generation alone (#11 section 3): the CPU time of drawing a campaign case from a genome
// (fuzz/genome.ts makeGenome, then decodeCase, which decodes the program and, for a valid case, its
// inputs through decodeInputs), with no checking at all. Two rows per packet count:
// - `decode`: makeGenome on the campaign's word source (SplitMix32), then decodeCase (the builders' cost);
// - `fast-check`: the same cases drawn as a campaign chunk draws them (fc.check of a property on
//   fuzz/genome.ts genomeCases: GenomeArbitrary with its bias, the map to a case, fast-check's runner),
//   with a property that checks nothing, in chunks of the campaign's default size.
// Usage: node dist/bench/gen.js [--cases N] [--repeat R] [--packets 1,16] [--seed S] [--json]
// (each row: the best of R timed runs of N cases after a warm-up)
// Run it under `nice -n 10` on a shared machine; the numbers are CPU time (process.cpuUsage).
import fc from 'fast-check';
import { X86_64 } from '../model/config.js';
import { chunkSeed, DEFAULT_CHUNK as CHUNK } from '../fuzz/campaign.js';
import { decodeCase, genomeCases, genomeClass, makeGenome, SplitMix32, wordSource } from '../fuzz/genome.js';

interface Row {
  readonly packets: number;
  readonly how: 'decode' | 'fast-check';
  readonly cases: number;
  /** µs of CPU (user + system) per case */
  readonly usPerCase: number;
  /** cases per CPU second */
  readonly casesPerCpuS: number;
}

const cpuUs = (u: NodeJS.CpuUsage): number => u.user + u.system;

/**
 * makeGenome + decodeCase on `n` consecutive seeds, on the word source GenomeArbitrary draws from
 * (SplitMix32); returns a checksum so nothing is optimised away.
 */
function decodeRun(n: number, packets: number, seed: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const c = decodeCase(makeGenome(new SplitMix32(seed + i), packets), X86_64);
    sum += 'valid' in c ? c.valid.prog.length + c.valid.inputs.length : c.invalid.prog.length;
  }
  return sum;
}

/** The campaign's arbitrary run by fast-check as a campaign chunk runs it (fc.check), with a property that checks nothing. */
function fastCheckRun(n: number, packets: number, seed: number): number {
  let sum = 0;
  const prop = fc.property(genomeCases(packets, X86_64), (c) => {
    sum += 'valid' in c ? c.valid.prog.length : c.invalid.prog.length;
    return true;
  });
  // in chunks of the campaign's size (fast-check's bias depends on the run's index in its chunk)
  for (let done = 0, chunk = 0; done < n; done += CHUNK, chunk++) fc.check(prop, { seed: chunkSeed(seed, chunk), numRuns: Math.min(CHUNK, n - done) });
  return sum;
}

/** The best of `repeat` timed runs of `n` cases (the machine is shared: the least disturbed run). */
function measure(how: Row['how'], n: number, packets: number, seed: number, repeat: number): Row {
  const run = how === 'decode' ? decodeRun : fastCheckRun;
  run(Math.max(1000, n >>> 3), packets, seed ^ 0x5a5a5a5a); // warm up
  let us = Infinity;
  for (let r = 0; r < repeat; r++) {
    const u0 = process.cpuUsage();
    run(n, packets, seed);
    us = Math.min(us, cpuUs(process.cpuUsage(u0)));
  }
  return { packets, how, cases: n, usPerCase: us / n, casesPerCpuS: Math.round((n * 1e6) / us) };
}

/** The share of each class among `n` genomes (a check that the mix is the campaign's). */
function classMix(n: number, seed: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const c = genomeClass(makeGenome(wordSource(seed + i), 1).prog[0]!);
    const k = 'valid' in c ? c.valid : 'invalid';
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

function main(argv: readonly string[]): void {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const n = Number(arg('--cases') ?? 100_000);
  const repeat = Number(arg('--repeat') ?? 3);
  const seed = Number(arg('--seed') ?? 1);
  const packets = (arg('--packets') ?? '1,16').split(',').map(Number);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(repeat) || repeat < 1 || !Number.isInteger(seed) || packets.some((p) => !Number.isInteger(p) || p < 1)) {
    process.stderr.write('bpfspec: bench/gen: --cases, --repeat, --seed and --packets take positive integers\n');
    process.exit(2);
  }
  const rows: Row[] = [];
  for (const p of packets) for (const how of ['decode', 'fast-check'] as const) rows.push(measure(how, n, p, seed, repeat));
  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ rows, mix: Object.fromEntries(classMix(20_000, seed)) }, null, 2) + '\n');
    return;
  }
  for (const r of rows) process.stdout.write(`${String(r.packets).padStart(2)} pkt  ${r.how.padEnd(10)}  ${r.usPerCase.toFixed(2).padStart(7)} µs CPU/case  ${String(r.casesPerCpuS).padStart(8)} cases/CPU s  (${r.cases} cases)\n`);
  const mix = classMix(20_000, seed);
  process.stdout.write(`mix of 20000: ${[...mix].map(([k, v]) => `${k} ${((100 * v) / 20_000).toFixed(1)}%`).join(', ')}\n`);
}

main(process.argv.slice(2));
