// `npm run bench`: evaluator speed against libpcap's C bpf_filter, checker and converter cost, and
// equivalence-campaign throughput, written to bench/results/latest.json. Timings are measured here
// and never asserted in tests.
//
// Evaluators (same programs, same packets, interleaved rounds with a rotating order so machine
// drift cancels; each figure is the median over rounds of ns per evaluation, and each ratio the
// median of the per-round ratios to libpcap measured in that same round):
//   libpcap   bench/pcap_bench.c, built here with `cc -O2 ... -lpcap` (skipped, with a message,
//             when libpcap-dev or cc is missing)
//   classic   model/cbpf/eval.ts ClassicVm.run
//   kernel    engine/runner.ts EngineRunner.run (skb memory image + the engine's eBPF interpreter on the migrated program)
//   compiled_classic  engine/cbpf/jit.ts compileClassicJs
//   compiled_ebpf     engine/runner.ts EngineRunner.runCompiled (engine/ebpf/jit.ts)
// Usage: node dist/bench/run.js [--rounds N] [--packets N] [--fuzz-seconds S] [--memory-seconds S] [--quick]
import writeFileAtomic from 'write-file-atomic';
import { benchVariants } from './variants.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { skAttachFilter, type AttachedFilter } from '../model/attach.js';
import { bpfCheckClassic } from '../model/cbpf/check.js';
import { ClassicVm, compileClassic, type ClassicProgram } from '../model/cbpf/eval.js';
import { compileClassicJs, type ClassicJsFilter } from '../engine/cbpf/jit.js';
import { EngineRunner } from '../engine/runner.js';
import type { SockFilter } from '../model/cbpf/insn.js';
import { X86_64 } from '../model/config.js';
import { bpfConvertFilter, bpfMigrateFilter } from '../model/migrate/convert.js';
import { DEFAULT_ENV, ethernetSkb, type SkBuff } from '../model/skb.js';
import { fuzzCase } from '../fuzz/arb/index.js';
import { runWorker, type CampaignOptions } from '../fuzz/campaign.js';
import { startCampaign } from '../fuzz/pool.js';
import { Checker } from '../fuzz/properties.js';
import { benchPackets, generatedPrograms, pcapBenchInput, tcpdumpCorpus, type NamedProgram } from './workload.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = (() => {
  let d = here;
  while (!existsSync(resolve(d, 'package.json'))) d = dirname(d);
  return d;
})();

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const quick = args.includes('--quick');
const ROUNDS = opt('rounds', quick ? 3 : 7);
const PACKETS = opt('packets', 1000);
const FUZZ_SECONDS = opt('fuzz-seconds', quick ? 2 : 8);
const MEMORY_SECONDS = opt('memory-seconds', quick ? 0 : 30);
const TARGET_MS = quick ? 80 : 200;
const SEED = 20251125;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const log = (s: string): void => void process.stderr.write(`${s}\n`);
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------------------------------------
// libpcap harness

interface PcapOut {
  ns: number;
  evals: number;
  sums: number[];
  accepts: number[];
  version: string;
}

function buildPcapHarness(scratch: string): { bin: string } | { skip: string } {
  if (!existsSync('/usr/include/pcap/pcap.h') && !existsSync('/usr/include/pcap.h'))
    return { skip: 'libpcap-dev is not installed (no pcap.h): apt-get install -y libpcap-dev' };
  const out = resolve(scratch, 'pcap_bench');
  const cc = spawnSync('cc', ['-O2', '-o', out, resolve(root, 'bench', 'pcap_bench.c'), '-lpcap'], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) return { skip: `cannot build bench/pcap_bench.c: ${cc.error?.message ?? cc.stderr}` };
  return { bin: out };
}

function runPcap(bin: string, input: string, passes: number): PcapOut {
  const r = spawnSync(bin, [input, String(passes)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`pcap_bench failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PcapOut;
}

// ---------------------------------------------------------------------------------------------
// JS evaluators over a workload

interface Prepared {
  readonly name: string;
  readonly progs: readonly NamedProgram[];
  readonly skbs: readonly SkBuff[];
  readonly classic: readonly ClassicProgram[];
  readonly attached: readonly AttachedFilter[];
  readonly jit: readonly ClassicJsFilter[];
  readonly input: string;
}

type Row = 'libpcap' | 'classic' | 'kernel' | 'compiled_classic' | 'compiled_ebpf';
const ROWS: readonly Row[] = ['libpcap', 'classic', 'kernel', 'compiled_classic', 'compiled_ebpf'];

const vm = new ClassicVm(X86_64);
const runner = new EngineRunner(X86_64, { reuseImages: true });

/** One pass over every (program, packet) pair; returns the sum of results (so nothing is dead code). */
function pass(w: Prepared, row: Exclude<Row, 'libpcap'>): number {
  let sum = 0;
  const env = DEFAULT_ENV;
  const skbs = w.skbs;
  const n = skbs.length;
  for (let i = 0; i < w.progs.length; i++) {
    switch (row) {
      case 'classic': {
        const p = w.classic[i]!;
        for (let j = 0; j < n; j++) sum = (sum + vm.run(p, skbs[j]!, env)) >>> 0;
        break;
      }
      case 'kernel': {
        const f = w.attached[i]!;
        for (let j = 0; j < n; j++) sum = (sum + runner.run(f, skbs[j]!, env)) >>> 0;
        break;
      }
      case 'compiled_classic': {
        const fn = w.jit[i]!;
        for (let j = 0; j < n; j++) sum = (sum + fn(skbs[j]!, env)) >>> 0;
        break;
      }
      default: {
        const f = w.attached[i]!;
        for (let j = 0; j < n; j++) sum = (sum + runner.runCompiled(f, skbs[j]!, env)) >>> 0;
      }
    }
  }
  return sum;
}

/** Per program: sum of results mod 2^32 (as the C harness reports). */
function sums(w: Prepared, row: Exclude<Row, 'libpcap'>): number[] {
  return w.progs.map((_, i) => {
    const one: Prepared = { ...w, progs: [w.progs[i]!], classic: [w.classic[i]!], attached: [w.attached[i]!], jit: [w.jit[i]!] };
    return pass(one, row);
  });
}

function prepare(name: string, progs: NamedProgram[], packets: Uint8Array[], dir: string): Prepared {
  const skbs = packets.map((p) => ethernetSkb(p));
  const attached: AttachedFilter[] = [];
  const kept: NamedProgram[] = [];
  for (const p of progs) {
    const a = skAttachFilter(p.prog, X86_64);
    if ('ok' in a) {
      attached.push(a);
      kept.push(p);
    } else log(`  ${name}: ${p.name} is rejected by the kernel path (${a.rule}); left out`);
  }
  const input = resolve(dir, `${name}.bin`);
  writeFileSync(input, pcapBenchInput(kept, packets));
  return {
    name,
    progs: kept,
    skbs,
    classic: kept.map((p) => compileClassic(p.prog)),
    attached,
    jit: kept.map((p) => compileClassicJs(p.prog)),
    input,
  };
}

/** Keep only the programs whose per-packet results libpcap and the classic evaluator agree on. */
function agreeWithLibpcap(w: Prepared, bin: string | null, dir: string): { w: Prepared; dropped: string[] } {
  if (bin === null) return { w, dropped: [] };
  const c = runPcap(bin, w.input, 0);
  const mine = sums(w, 'classic');
  const keep = w.progs.map((_, i) => c.sums[i] === mine[i]);
  const dropped = w.progs.filter((_, i) => !keep[i]).map((p) => p.name);
  if (dropped.length === 0) return { w, dropped };
  const pick = <T>(xs: readonly T[]): T[] => xs.filter((_, i) => keep[i]);
  const progs = pick(w.progs);
  const input = resolve(dir, `${w.name}.bin`);
  writeFileSync(input, pcapBenchInput(progs, w.skbs.map((s) => s.data)));
  return { w: { ...w, progs, classic: pick(w.classic), attached: pick(w.attached), jit: pick(w.jit), input }, dropped };
}

/** ns per evaluation of one row, timed over enough passes for about TARGET_MS. */
function timeRow(w: Prepared, row: Row, bin: string | null, passes: Map<Row, number>): number | null {
  const evals = w.progs.length * w.skbs.length;
  if (row === 'libpcap') {
    if (bin === null) return null;
    let n = passes.get(row);
    if (n === undefined) {
      const probe = runPcap(bin, w.input, 3);
      n = Math.max(1, Math.round((TARGET_MS * 1e6) / (probe.ns / 3)));
      passes.set(row, n);
    }
    const out = runPcap(bin, w.input, n);
    return out.ns / out.evals;
  }
  let n = passes.get(row);
  if (n === undefined) {
    for (let i = 0; i < 3; i++) pass(w, row); // warm up (and JIT-compile)
    const t0 = process.hrtime.bigint();
    pass(w, row);
    const one = Number(process.hrtime.bigint() - t0);
    n = Math.max(1, Math.round((TARGET_MS * 1e6) / one));
    passes.set(row, n);
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) pass(w, row);
  return Number(process.hrtime.bigint() - t0) / (n * evals);
}

interface EvalResult {
  ns: Record<Row, number | null>;
  ratios: Record<Exclude<Row, 'libpcap'>, number | null> & { kernel_vs_classic: number };
  programs: number;
  packets: number;
}

function measureEvaluators(w: Prepared, bin: string | null): EvalResult {
  const per: Record<Row, number[]> = { libpcap: [], classic: [], kernel: [], compiled_classic: [], compiled_ebpf: [] };
  const ratio: Record<string, number[]> = { classic: [], kernel: [], compiled_classic: [], compiled_ebpf: [], kernel_vs_classic: [] };
  const passes = new Map<Row, number>();
  for (let r = 0; r < ROUNDS; r++) {
    const order = ROWS.map((_, i) => ROWS[(i + r) % ROWS.length]!);
    const got = new Map<Row, number | null>();
    for (const row of order) got.set(row, timeRow(w, row, bin, passes));
    for (const row of ROWS) if (got.get(row) != null) per[row].push(got.get(row)!);
    const base = got.get('libpcap');
    for (const row of ROWS.slice(1)) if (base != null) ratio[row]!.push(got.get(row)! / base);
    ratio.kernel_vs_classic!.push(got.get('kernel')! / got.get('classic')!);
    log(`  ${w.name} round ${r + 1}/${ROUNDS}: ${ROWS.map((row) => `${row} ${got.get(row)?.toFixed(1) ?? '-'}`).join(', ')} ns/eval`);
  }
  const med = (xs: number[]): number | null => (xs.length === 0 ? null : round3(median(xs)));
  return {
    ns: { libpcap: med(per.libpcap), classic: med(per.classic), kernel: med(per.kernel), compiled_classic: med(per.compiled_classic), compiled_ebpf: med(per.compiled_ebpf) },
    ratios: {
      classic: med(ratio.classic!),
      kernel: med(ratio.kernel!),
      compiled_classic: med(ratio.compiled_classic!),
      compiled_ebpf: med(ratio.compiled_ebpf!),
      kernel_vs_classic: med(ratio.kernel_vs_classic!)!,
    },
    programs: w.progs.length,
    packets: w.skbs.length,
  };
}

// ---------------------------------------------------------------------------------------------
// checker and converter

function perInsn(progs: readonly (readonly SockFilter[])[], f: (p: readonly SockFilter[]) => unknown): number {
  const insns = progs.reduce((a, p) => a + p.length, 0);
  let reps = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < reps; r++) for (const p of progs) f(p);
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns > TARGET_MS * 1e6) return ns / (reps * insns);
    reps *= 2;
  }
}

function measurePipeline(progs: readonly (readonly SockFilter[])[]): { check: number; convert: number; migrate: number } {
  const c: number[] = [];
  const v: number[] = [];
  const m: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    c.push(perInsn(progs, (p) => bpfCheckClassic(p)));
    v.push(perInsn(progs, (p) => bpfConvertFilter(p, X86_64)));
    m.push(perInsn(progs, (p) => bpfMigrateFilter(p, X86_64)));
  }
  return { check: round3(median(c)), convert: round3(median(v)), migrate: round3(median(m)) };
}

// ---------------------------------------------------------------------------------------------
// campaigns

const campaignOpts = (packetsPerProgram: number, workers: number, timeMs: number): CampaignOptions => ({
  seed: SEED,
  runs: null,
  timeMs,
  workers,
  shard: { index: 0, count: 1 },
  packetsPerProgram,
  config: X86_64,
  chunkSize: 256,
});

interface CampaignRate {
  cases_per_s: number;
  programs_per_s: number;
  pairs_per_s: number;
  seconds: number;
  /** CPU time of the whole process (every thread: workers, main, V8's GC helpers) per wall second */
  cpu_cores?: number;
}

function rate(programs: number, invalid: number, pairs: number, ms: number, cpu?: NodeJS.CpuUsage): CampaignRate {
  const s = ms / 1000;
  const r: CampaignRate = { cases_per_s: Math.round((programs + invalid) / s), programs_per_s: Math.round(programs / s), pairs_per_s: Math.round(pairs / s), seconds: round3(s) };
  return cpu === undefined ? r : { ...r, cpu_cores: round3((cpu.user + cpu.system) / 1e3 / ms) };
}

function oneWorker(packetsPerProgram: number): CampaignRate {
  const t0 = Date.now();
  const u0 = process.cpuUsage();
  const s = runWorker(campaignOpts(packetsPerProgram, 1, FUZZ_SECONDS * 1000), 0, { progress: () => undefined, shouldStop: () => false });
  return rate(s.programs, s.invalid, s.pairs, Date.now() - t0, process.cpuUsage(u0));
}

async function allWorkers(packetsPerProgram: number, workers: number): Promise<CampaignRate> {
  const u0 = process.cpuUsage();
  const sum = await startCampaign(campaignOpts(packetsPerProgram, workers, FUZZ_SECONDS * 1000)).done;
  return rate(sum.stats.programs, sum.stats.invalid, sum.stats.pairs, sum.elapsedMs, process.cpuUsage(u0));
}

/** The campaign's valid-program property on the real tcpdump filters, with fuzzCase packets. */
function corpusCampaign(corpus: readonly NamedProgram[], packetsPerProgram: number): CampaignRate {
  const checker = new Checker(X86_64);
  const arb = fuzzCase({ packetsPerProgram, config: X86_64, program: fc.constantFrom(...corpus.filter((p) => bpfCheckClassic(p.prog) === null).map((p) => [...p.prog])) });
  const t0 = Date.now();
  let chunk = 0;
  while (Date.now() - t0 < FUZZ_SECONDS * 1000) {
    const out = fc.check(fc.property(arb, (c) => checker.checkValid(c.prog, c.inputs) === null), { seed: SEED + chunk++, numRuns: 256 });
    if (out.failed) throw new Error(`tcpdump corpus campaign found a failure: seed ${out.seed} path ${out.counterexamplePath}`);
  }
  return rate(checker.stats.programs, 0, checker.stats.pairs, Date.now() - t0);
}

function memoryGrowth(seconds: number): { rss_start_mb: number; rss_end_mb: number; growth_pct: number } {
  const opts = campaignOpts(4, 1, 5000);
  const samples: number[] = [];
  const t0 = Date.now();
  let chunk = 0;
  while (Date.now() - t0 < seconds * 1000) {
    runWorker({ ...opts, seed: SEED + chunk++ }, 0, { progress: () => undefined, shouldStop: () => false });
    samples.push(process.memoryUsage().rss);
  }
  // after warm-up (first 10% of samples), compare the median of the first and last fifths
  const warm = samples.slice(Math.floor(samples.length / 10));
  const fifth = Math.max(1, Math.floor(warm.length / 5));
  const a = median(warm.slice(0, fifth));
  const b = median(warm.slice(-fifth));
  return { rss_start_mb: round3(a / 2 ** 20), rss_end_mb: round3(b / 2 ** 20), growth_pct: round3((100 * (b - a)) / a) };
}

// ---------------------------------------------------------------------------------------------
// kernel oracle row (bench/kernel.ts measureKernelThroughput; skipped with a message when absent)

async function kernelRow(): Promise<{ pairs_per_s: number | null; note: string; detail?: unknown }> {
  const path = resolve(root, 'dist', 'bench', 'kernel.js');
  if (!existsSync(path)) return { pairs_per_s: null, note: 'skipped: bench/kernel.ts (measureKernelThroughput) is not built' };
  type Out = { pairsPerSec: number } | { missing: string };
  const mod = (await import(path)) as { measureKernelThroughput?: (o: { packetsPerProgram: number; cases: number; seed: number }) => Promise<Out> };
  if (typeof mod.measureKernelThroughput !== 'function') return { pairs_per_s: null, note: 'skipped: bench/kernel.js does not export measureKernelThroughput' };
  try {
    const r = await mod.measureKernelThroughput({ packetsPerProgram: 16, cases: 1024, seed: SEED });
    if ('missing' in r) return { pairs_per_s: null, note: `skipped: the kernel oracle is unavailable: ${r.missing}` };
    return { pairs_per_s: Math.round(r.pairsPerSec), note: 'bench/kernel.ts measureKernelThroughput: 1024 generated cases, 16 packets per program, with the model results as expectations (confirmation copies, as kdiff runs); detail.measured.fieldCopies: the same cases read by field copies only', detail: r };
  } catch (e) {
    return { pairs_per_s: null, note: `skipped: the kernel oracle failed: ${(e as Error).message}` };
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const results = resolve(root, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  // the harness binary and its input files live in a scratch directory, removed at the end
  const dir = mkdtempSync(resolve(os.tmpdir(), 'bpfspec-bench-'));
  const notes: string[] = [];
  const harness = buildPcapHarness(dir);
  const bin = 'bin' in harness ? harness.bin : null;
  if ('skip' in harness) {
    log(`libpcap row SKIPPED: ${harness.skip}`);
    notes.push(`libpcap row skipped: ${harness.skip}`);
  }
  const packets = benchPackets(PACKETS, SEED);
  const corpus = tcpdumpCorpus(root);
  if (corpus.length === 0) notes.push('../shared/corpus-seeds/tcpdump_filters.jsonl not found: the tcpdump rows are skipped');
  const generated = generatedPrograms(quick ? 40 : 100, SEED);

  const workloads: { key: string; w: Prepared; dropped: string[] }[] = [];
  for (const [key, progs] of [['tcpdump', corpus], ['generated', generated]] as const) {
    if (progs.length === 0) continue;
    const prepared = prepare(key, [...progs], packets, dir);
    const { w, dropped } = agreeWithLibpcap(prepared, bin, dir);
    if (dropped.length > 0) log(`  ${key}: ${dropped.length} programs disagree with libpcap and are left out: ${dropped.join('; ')}`);
    workloads.push({ key, w, dropped });
  }
  // Same work: every row must give libpcap's per-program sums.
  if (bin !== null)
    for (const { w } of workloads) {
      const c = runPcap(bin, w.input, 0);
      for (const row of ['kernel', 'compiled_classic', 'compiled_ebpf'] as const) {
        const s = sums(w, row);
        const bad = s.filter((v, i) => v !== c.sums[i]).length;
        if (bad > 0) throw new Error(`${w.name}: ${row} disagrees with libpcap on ${bad} programs`);
      }
    }

  const evals: Record<string, EvalResult> = {};
  for (const { key, w } of workloads) {
    log(`evaluators on ${key} (${w.progs.length} programs x ${w.skbs.length} packets)`);
    evals[key] = measureEvaluators(w, bin);
  }
  log('checker and converter');
  const allProgs = [...corpus, ...generated].map((p) => p.prog);
  const pipe = measurePipeline(allProgs);

  log(`campaigns (${FUZZ_SECONDS} s each)`);
  const workers = os.availableParallelism();
  const c1 = oneWorker(1);
  log(`  1 worker, 1 packet: ${JSON.stringify(c1)}`);
  const c16 = oneWorker(16);
  log(`  1 worker, 16 packets: ${JSON.stringify(c16)}`);
  const call = await allWorkers(1, workers);
  log(`  ${workers} workers, 1 packet: ${JSON.stringify(call)}`);
  const call16 = await allWorkers(16, workers);
  log(`  ${workers} workers, 16 packets: ${JSON.stringify(call16)}`);
  const t1 = corpus.length > 0 ? corpusCampaign(corpus, 1) : null;
  const t16 = corpus.length > 0 ? corpusCampaign(corpus, 16) : null;
  log(`  tcpdump corpus: 1 packet ${JSON.stringify(t1)}, 16 packets ${JSON.stringify(t16)}`);
  const kernel = await kernelRow();
  log(`  kernel oracle: ${kernel.note}`);
  if (kernel.pairs_per_s === null) notes.push(`kernel oracle row ${kernel.note}`);
  const mem = MEMORY_SECONDS > 0 ? memoryGrowth(MEMORY_SECONDS) : null;
  log('historical variants: time to discovery on one core, seed 1');
  const variants = benchVariants();
  for (const v of variants) log(`  ${v.variant}: ${v.found ? `found by ${v.property} after ${v.cases} cases in ${v.seconds.toFixed(2)} s` : `NOT found in ${v.cases} cases`}`);

  const main = evals.tcpdump ?? evals.generated!;
  const result = {
    date: new Date().toISOString(),
    classic_vs_libpcap: main.ratios.classic,
    kernelpath_vs_libpcap: main.ratios.kernel,
    compiled_classic_vs_libpcap: main.ratios.compiled_classic,
    compiled_ebpf_vs_libpcap: main.ratios.compiled_ebpf,
    fuzz_cases_per_s_1w: c1.cases_per_s,
    fuzz_pairs_per_s_1w_16pkt: c16.pairs_per_s,
    fuzz_cases_per_s_all: call.cases_per_s,
    kernel_pairs_per_s: kernel.pairs_per_s,
    check_ns_per_insn: pipe.check,
    convert_ns_per_insn: pipe.convert,
    variant_discovery_s: Object.fromEntries(variants.map((v) => [v.variant, v.found ? round3(v.seconds) : null])),
    detail: {
      ratios_are: 'median over rounds of (row ns/eval) / (libpcap ns/eval in the same round), on the tcpdump corpus',
      kernelpath_vs_classic: main.ratios.kernel_vs_classic,
      evaluators: evals,
      migrate_ns_per_insn: pipe.migrate,
      generated_set: {
        programs: generated.length,
        left_out_disagreeing_with_libpcap: workloads.find((x) => x.key === 'generated')?.dropped ?? [],
        codes: 'all 49 classic codes except LSH|X and RSH|X; no LD ABS at k >= 2^31 (ancillary or SKF_NET_OFF/SKF_LL_OFF)',
      },
      campaign: {
        cases: 'cases = valid programs + targeted invalid programs checked (9:1 mix of the campaign arbitrary)',
        one_worker_1pkt: c1,
        one_worker_16pkt: c16,
        all_workers: workers,
        all_workers_1pkt: call,
        all_workers_16pkt: call16,
        all_vs_one_1pkt: round3(call.cases_per_s / c1.cases_per_s),
        tcpdump_corpus_1pkt: t1,
        tcpdump_corpus_16pkt: t16,
      },
      kernel_oracle: { note: kernel.note, measured: kernel.detail ?? null },
      memory: mem ?? 'not measured (run with --memory-seconds S)',
      rounds: ROUNDS,
      packets: { count: PACKETS, seed: SEED, mean_bytes: round3(packets.reduce((a, p) => a + p.length, 0) / packets.length) },
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version, platform: `${os.platform()} ${os.release()}` },
      notes,
    },
  };
  writeFileAtomic.sync(resolve(results, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
