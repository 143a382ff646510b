// `npm run bench`: evaluator speed against libpcap's C bpf_filter, checker and converter cost,
// campaign throughput and scaling, the live kernel's throughput, memory growth, and the time to
// rediscover each historical variant, written to bench/results/latest.json (the keys of #11). Timings
// are measured here and never asserted in tests.
//
// Evaluators (same programs, same packets, interleaved rounds with a rotating order so machine
// drift cancels; each figure is the median over rounds of ns per evaluation, and each ratio the
// median of the per-round ratios to libpcap measured in that same round):
//   libpcap            bench/pcap_bench.c, built here with `cc -O2 ... -lpcap` (skipped, with a
//                      message, when libpcap-dev or cc is missing)
//   spec_classic       model/cbpf/eval.ts ClassicVm.run (the spec's classic evaluator)
//   spec_kernelpath    model/attach.ts KernelRunner.run (the spec's eBPF interpreter on the skb image)
//   engine_classic     engine/cbpf/jit.ts compileClassicJs (the compiled classic engine)
//   engine_kernelpath  engine/kernel.ts EngineKernelPath.compile / runCompiled (the migrated program
//                      compiled to JS on the skb itself, engine/ebpf/skbjit.ts)
// Checker and converter: engine/cbpf/check.ts EngineChecker and engine/migrate/convert.ts
// EngineConverter (what the campaigns run) on the programs' columns, ns per classic instruction;
// the spec's (model/cbpf/check.ts, model/migrate/convert.ts) in detail.
// Campaigns: fuzz/campaign.ts runWorker on one thread (1 and 16 packets per program) and
// fuzz/pool.ts startCampaign on every core; scaling = all cores / the mean of the one-worker runs just
// before and just after it. In detail, the pool with
// one worker too (a fresh thread warmed up like each of the pool's), and all cores over it.
// Usage: node dist/bench/run.js [--rounds N] [--packets N] [--fuzz-seconds S] [--warm-seconds S] [--memory-seconds S] [--quick] [--no-variants]
import writeFileAtomic from 'write-file-atomic';
import { benchVariants } from './variants.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { bpfCheckFilter, KernelRunner, skAttachFilter, type AttachedFilter } from '../model/attach.js';
import { bpfCheckClassic } from '../model/cbpf/check.js';
import { ClassicVm, compileClassic, type ClassicProgram } from '../model/cbpf/eval.js';
import { compileClassicJs, type ClassicJsFilter } from '../engine/cbpf/jit.js';
import { EngineChecker } from '../engine/cbpf/check.js';
import { ClassicColumns } from '../engine/cbpf/program.js';
import { BAIL, EngineKernelPath, type EngineFilter } from '../engine/kernel.js';
import { EngineConverter } from '../engine/migrate/convert.js';
import type { SockFilter } from '../model/cbpf/insn.js';
import { X86_64 } from '../model/config.js';
import { bpfConvertFilter } from '../model/migrate/convert.js';
import { DEFAULT_ENV, ethernetSkb, type SkBuff } from '../model/skb.js';
import { fuzzCase } from '../fuzz/arb/index.js';
import { runWorker, type CampaignOptions } from '../fuzz/campaign.js';
import { CAMPAIGN_V8_FLAGS, startCampaign } from '../fuzz/pool.js';
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
const FUZZ_SECONDS = opt('fuzz-seconds', quick ? 4 : 10);
// V8 goes on optimising a campaign's code for about 20 s (measured with --trace-opt on one worker: 3.8
// s of compile CPU in the first 2 s, 1.1 s between 8 and 12 s, under 0.1 s a second after 16 s); rates
// are measured after it: once on this thread before the one-worker rows, and in each pool of fresh
// workers before its rate is taken.
const WARM_UP_SECONDS = opt('warm-seconds', quick ? 8 : 20);
const MEMORY_SECONDS = opt('memory-seconds', quick ? 15 : 600);
const VARIANTS = !args.includes('--no-variants') && !quick;
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
  readonly engine: readonly EngineFilter[];
  readonly input: string;
}

type Row = 'libpcap' | 'spec_classic' | 'spec_kernelpath' | 'engine_classic' | 'engine_kernelpath';
const ROWS: readonly Row[] = ['libpcap', 'spec_classic', 'spec_kernelpath', 'engine_classic', 'engine_kernelpath'];
type JsRow = Exclude<Row, 'libpcap'>;

const vm = new ClassicVm(X86_64);
const kernelRunner = new KernelRunner(X86_64);
const enginePath = new EngineKernelPath(X86_64);
/** engine_kernelpath runs the spec answered (BAIL: the spec would fault) */
let engineBails = 0;

/** One pass over every (program, packet) pair; returns the sum of results (so nothing is dead code). */
function pass(w: Prepared, row: JsRow): number {
  let sum = 0;
  const env = DEFAULT_ENV;
  const skbs = w.skbs;
  const n = skbs.length;
  for (let i = 0; i < w.progs.length; i++) {
    switch (row) {
      case 'spec_classic': {
        const p = w.classic[i]!;
        for (let j = 0; j < n; j++) sum = (sum + vm.run(p, skbs[j]!, env)) >>> 0;
        break;
      }
      case 'spec_kernelpath': {
        const f = w.attached[i]!;
        for (let j = 0; j < n; j++) sum = (sum + kernelRunner.run(f, skbs[j]!, env)) >>> 0;
        break;
      }
      case 'engine_classic': {
        const fn = w.jit[i]!;
        for (let j = 0; j < n; j++) sum = (sum + fn(skbs[j]!, env)) >>> 0;
        break;
      }
      default: {
        const f = w.engine[i]!;
        for (let j = 0; j < n; j++) {
          let r = enginePath.runCompiled(f, skbs[j]!, env);
          if (r === BAIL) {
            engineBails++;
            r = kernelRunner.run(w.attached[i]!, skbs[j]!, env);
          }
          sum = (sum + r) >>> 0;
        }
      }
    }
  }
  return sum;
}

/** Per program: sum of results mod 2^32 (as the C harness reports). */
function sums(w: Prepared, row: JsRow): number[] {
  return w.progs.map((_, i) => {
    const one: Prepared = { ...w, progs: [w.progs[i]!], classic: [w.classic[i]!], attached: [w.attached[i]!], jit: [w.jit[i]!], engine: [w.engine[i]!] };
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
    engine: kept.map((p) => engineFilter(p)),
    input,
  };
}

/** The engine's compiled kernel path of a program the spec attaches. */
function engineFilter(p: NamedProgram): EngineFilter {
  const cols = new ClassicColumns().load(p.prog);
  const v = enginePath.load(cols);
  if (v !== null) throw new Error(`${p.name}: the engine rejects what the spec attaches (${v.rule})`);
  const f = enginePath.compile();
  if (f === null) throw new Error(`${p.name}: the engine does not compile it (${enginePath.unsupported ?? 'not analysed'})`);
  return f;
}

/** Keep only the programs whose per-packet results libpcap and the classic evaluator agree on. */
function agreeWithLibpcap(w: Prepared, bin: string | null, dir: string): { w: Prepared; dropped: string[] } {
  if (bin === null) return { w, dropped: [] };
  const c = runPcap(bin, w.input, 0);
  const mine = sums(w, 'spec_classic');
  const keep = w.progs.map((_, i) => c.sums[i] === mine[i]);
  const dropped = w.progs.filter((_, i) => !keep[i]).map((p) => p.name);
  if (dropped.length === 0) return { w, dropped };
  const pick = <T>(xs: readonly T[]): T[] => xs.filter((_, i) => keep[i]);
  const progs = pick(w.progs);
  const input = resolve(dir, `${w.name}.bin`);
  writeFileSync(input, pcapBenchInput(progs, w.skbs.map((s) => s.data)));
  return { w: { ...w, progs, classic: pick(w.classic), attached: pick(w.attached), jit: pick(w.jit), engine: pick(w.engine), input }, dropped };
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
  ratios: Record<JsRow, number | null>;
  programs: number;
  packets: number;
}

function measureEvaluators(w: Prepared, bin: string | null): EvalResult {
  const per: Record<Row, number[]> = { libpcap: [], spec_classic: [], spec_kernelpath: [], engine_classic: [], engine_kernelpath: [] };
  const ratio: Record<JsRow, number[]> = { spec_classic: [], spec_kernelpath: [], engine_classic: [], engine_kernelpath: [] };
  const passes = new Map<Row, number>();
  // one round first, not counted: the compiled rows' code (a JavaScript function per program, made
  // when the program is loaded) is optimised by V8 during it (the first timed round of a quick run
  // measured engine_kernelpath at 126 ns/eval, the third at 16)
  for (const row of ROWS) timeRow(w, row, bin, new Map<Row, number>());
  log(`  ${w.name}: one untimed round`);
  for (let r = 0; r < ROUNDS; r++) {
    const order = ROWS.map((_, i) => ROWS[(i + r) % ROWS.length]!);
    const got = new Map<Row, number | null>();
    for (const row of order) got.set(row, timeRow(w, row, bin, passes));
    for (const row of ROWS) if (got.get(row) != null) per[row].push(got.get(row)!);
    const base = got.get('libpcap');
    for (const row of ROWS.slice(1) as JsRow[]) if (base != null) ratio[row].push(got.get(row)! / base);
    log(`  ${w.name} round ${r + 1}/${ROUNDS}: ${ROWS.map((row) => `${row} ${got.get(row)?.toFixed(1) ?? '-'}`).join(', ')} ns/eval`);
  }
  const med = (xs: number[]): number | null => (xs.length === 0 ? null : round3(median(xs)));
  return {
    ns: { libpcap: med(per.libpcap), spec_classic: med(per.spec_classic), spec_kernelpath: med(per.spec_kernelpath), engine_classic: med(per.engine_classic), engine_kernelpath: med(per.engine_kernelpath) },
    ratios: { spec_classic: med(ratio.spec_classic), spec_kernelpath: med(ratio.spec_kernelpath), engine_classic: med(ratio.engine_classic), engine_kernelpath: med(ratio.engine_kernelpath) },
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

interface Pipeline {
  /** engine/cbpf/check.ts EngineChecker on loaded columns */
  check: number;
  /** engine/migrate/convert.ts EngineConverter.bpfConvertFilter on loaded columns */
  convert: number;
  /** engine/cbpf/program.ts ClassicColumns.load (shared by the checker, converter and classic evaluator) */
  load: number;
  /** the spec's: model/attach.ts bpfCheckFilter, model/migrate/convert.ts bpfConvertFilter */
  spec_check: number;
  spec_convert: number;
}

function measurePipeline(progs: readonly (readonly SockFilter[])[]): Pipeline {
  const accepted = progs.filter((p) => bpfCheckFilter(p) === null);
  const cols = accepted.map((p) => new ClassicColumns().load(p));
  const colsOf = new Map(accepted.map((p, i) => [p, cols[i]!] as const));
  const checker = new EngineChecker();
  const converter = new EngineConverter(X86_64);
  const scratch = new ClassicColumns();
  const out: Record<keyof Pipeline, number[]> = { check: [], convert: [], load: [], spec_check: [], spec_convert: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // the verdict cached in the columns is dropped each time (the judges of one case share it)
    out.check.push(
      perInsn(accepted, (p) => {
        const c = colsOf.get(p)!;
        c.checked = undefined;
        return checker.check(c);
      }),
    );
    out.convert.push(perInsn(accepted, (p) => converter.bpfConvertFilter(colsOf.get(p)!)));
    // a fresh copy each time (load skips the program it already holds)
    out.load.push(perInsn(accepted, (p) => scratch.load(p.slice())));
    out.spec_check.push(perInsn(accepted, (p) => bpfCheckFilter(p)));
    out.spec_convert.push(perInsn(accepted, (p) => bpfConvertFilter(p, X86_64)));
  }
  return { check: round3(median(out.check)), convert: round3(median(out.convert)), load: round3(median(out.load)), spec_check: round3(median(out.spec_check)), spec_convert: round3(median(out.spec_convert)) };
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
  /** cases per CPU second of the process (on a shared machine, what the rate would be with whole cores) */
  cases_per_cpu_s?: number;
}

function rate(programs: number, invalid: number, pairs: number, ms: number, cpu?: NodeJS.CpuUsage): CampaignRate {
  const s = ms / 1000;
  const r: CampaignRate = { cases_per_s: Math.round((programs + invalid) / s), programs_per_s: Math.round(programs / s), pairs_per_s: Math.round(pairs / s), seconds: round3(s) };
  return cpu === undefined ? r : { ...r, cpu_cores: round3((cpu.user + cpu.system) / 1e3 / ms) };
}

/** Seconds of each campaign measurement spent warming up, not counted (this thread: after WARM_UP_SECONDS of campaign before the first). */
const WARM_SECONDS = quick ? 1.5 : 3;

/** Cases and pairs counted from the first progress report after the warm-up to the end. */
class Steady {
  private at: { t: number; cases: number; pairs: number; programs: number } | null = null;
  private last = { t: 0, cases: 0, pairs: 0, programs: 0 };
  constructor(private readonly warmMs: number) {}
  see(t: number, programs: number, invalid: number, pairs: number): void {
    const x = { t, cases: programs + invalid, pairs, programs };
    if (this.at === null && t >= this.warmMs) this.at = x;
    this.last = x;
  }
  rate(cpu?: NodeJS.CpuUsage, wallMs?: number): CampaignRate {
    const a = this.at ?? { t: 0, cases: 0, pairs: 0, programs: 0 };
    const b = this.last;
    const r = rate(b.programs - a.programs, b.cases - b.programs - (a.cases - a.programs), b.pairs - a.pairs, Math.max(1, b.t - a.t));
    if (cpu === undefined || wallMs === undefined) return r;
    const cores = (cpu.user + cpu.system) / 1e3 / wallMs;
    return { ...r, cpu_cores: round3(cores), cases_per_cpu_s: Math.round(r.cases_per_s / Math.max(cores, 1e-3)) };
  }
}

function oneWorker(packetsPerProgram: number, seconds = FUZZ_SECONDS): CampaignRate {
  const t0 = Date.now();
  const u0 = process.cpuUsage();
  const steady = new Steady(WARM_SECONDS * 1000);
  const total = { programs: 0, invalid: 0, pairs: 0 };
  runWorker(campaignOpts(packetsPerProgram, 1, (WARM_SECONDS + seconds) * 1000), 0, {
    progress: (st) => {
      total.programs += st.programs;
      total.invalid += st.invalid;
      total.pairs += st.pairs;
      steady.see(Date.now() - t0, total.programs, total.invalid, total.pairs);
    },
    shouldStop: () => false,
  });
  return steady.rate(process.cpuUsage(u0), Date.now() - t0);
}

async function allWorkers(packetsPerProgram: number, workers: number): Promise<CampaignRate> {
  const u0 = process.cpuUsage();
  const t0 = Date.now();
  // fresh workers: their code is compiled as in a long campaign before the rate is taken
  const steady = new Steady(WARM_UP_SECONDS * 1000);
  await startCampaign(campaignOpts(packetsPerProgram, workers, (WARM_UP_SECONDS + FUZZ_SECONDS) * 1000), {
    progress: (st, ms) => steady.see(ms, st.programs, st.invalid, st.pairs),
  }).done;
  return steady.rate(process.cpuUsage(u0), Date.now() - t0);
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

// In a node process of its own (`node dist/bench/kernel.js 1024 16 SEED`), as kdiff runs: not in this
// one, whose heap the campaign rows above have grown.
function kernelRow(): { pairs_per_s: number | null; note: string; detail?: unknown } {
  const path = resolve(root, 'dist', 'bench', 'kernel.js');
  if (!existsSync(path)) return { pairs_per_s: null, note: 'skipped: bench/kernel.ts (measureKernelThroughput) is not built' };
  const p = spawnSync(process.execPath, [path, '1024', '16', String(SEED)], { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 24 });
  let r: { pairsPerSec: number } | { missing: string } | null = null;
  try {
    r = JSON.parse(p.stdout) as { pairsPerSec: number } | { missing: string };
  } catch {
    r = null;
  }
  if (r === null || typeof r !== 'object') {
    const why = p.error?.message ?? (p.stderr.trim().split('\n').pop() || `exit ${p.status ?? p.signal}`);
    return { pairs_per_s: null, note: `skipped: the kernel oracle failed: ${why}` };
  }
  if ('missing' in r) return { pairs_per_s: null, note: `skipped: the kernel oracle is unavailable: ${r.missing}` };
  return { pairs_per_s: Math.round(r.pairsPerSec), note: 'bench/kernel.ts measureKernelThroughput in a process of its own: 1024 generated cases, 16 packets per program, with the model results as expectations (confirmation copies, as kdiff runs); detail.measured.fieldCopies: the same cases read by field copies only', detail: r };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const results = resolve(root, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  // the harness binary and its input files live in a scratch directory, removed at the end
  const dir = mkdtempSync(resolve(os.tmpdir(), 'bpfspec-bench-'));
  const notes: string[] = [];
  const started = Date.now();
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
  // Same work: every row must give libpcap's per-program sums (or the spec's, without libpcap).
  for (const { w } of workloads) {
    const want = bin !== null ? runPcap(bin, w.input, 0).sums : sums(w, 'spec_classic');
    for (const row of ['spec_kernelpath', 'engine_classic', 'engine_kernelpath'] as const) {
      const s = sums(w, row);
      const bad = s.filter((v, i) => v !== want[i]).length;
      if (bad > 0) throw new Error(`${w.name}: ${row} disagrees with ${bin !== null ? 'libpcap' : 'the spec'} on ${bad} programs`);
    }
  }
  engineBails = 0;

  const evals: Record<string, EvalResult> = {};
  for (const { key, w } of workloads) {
    log(`evaluators on ${key} (${w.progs.length} programs x ${w.skbs.length} packets)`);
    evals[key] = measureEvaluators(w, bin);
  }
  log('checker and converter');
  const allProgs = [...corpus, ...generated].map((p) => p.prog);
  const pipe = measurePipeline(allProgs);
  log(`  ${JSON.stringify(pipe)} ns/insn`);

  log(`campaigns (${FUZZ_SECONDS} s each)`);
  const workers = os.availableParallelism();
  log(`  warm-up: ${WARM_UP_SECONDS} s of campaign on this thread, not counted`);
  oneWorker(1, WARM_UP_SECONDS);
  const c1 = oneWorker(1);
  log(`  1 worker, 1 packet: ${JSON.stringify(c1)}`);
  const call = await allWorkers(1, workers);
  log(`  ${workers} workers, 1 packet: ${JSON.stringify(call)}`);
  // the one-worker rate again right after the pool: fuzz_scaling_2w divides by the mean of the two
  // one-worker runs around it (this VM's speed drifts by up to 40% within minutes)
  const c1b = oneWorker(1);
  log(`  1 worker, 1 packet (again): ${JSON.stringify(c1b)}`);
  const c16 = oneWorker(16);
  log(`  1 worker, 16 packets: ${JSON.stringify(c16)}`);
  // One worker of the pool: a fresh worker thread warmed up exactly as each of the pool's (the rows
  // above run on this thread); detail only
  const cpool1 = await allWorkers(1, 1);
  log(`  1 worker of the pool, 1 packet: ${JSON.stringify(cpool1)}`);
  const t1 = corpus.length > 0 ? corpusCampaign(corpus, 1) : null;
  log(`  tcpdump corpus, 1 packet: ${JSON.stringify(t1)}`);
  const kernel = kernelRow();
  log(`  kernel oracle: ${kernel.note}`);
  if (kernel.pairs_per_s === null) notes.push(`kernel oracle row ${kernel.note}`);
  log(`memory: ${MEMORY_SECONDS} s of a 4-packet campaign`);
  const mem = MEMORY_SECONDS > 0 ? memoryGrowth(MEMORY_SECONDS) : null;
  let variants: ReturnType<typeof benchVariants> | null = null;
  if (VARIANTS) {
    log('historical variants: time to discovery on one core, seed 1');
    variants = benchVariants();
    for (const v of variants) log(`  ${v.variant}: ${v.found ? `found by ${v.property} after ${v.cases} cases in ${v.seconds.toFixed(2)} s` : `NOT found in ${v.cases} cases`}`);
  } else notes.push('variant discovery not measured (--quick or --no-variants)');
  if (MEMORY_SECONDS < 600) notes.push(`rss_growth_10min measured over ${MEMORY_SECONDS} s, not 10 minutes`);

  const main = evals.tcpdump ?? evals.generated!;
  const oneW = (c1.cases_per_s + c1b.cases_per_s) / 2;
  const result = {
    date: new Date().toISOString(),
    fuzz_cases_per_s_1w: c1.cases_per_s,
    fuzz_pairs_per_s_1w_16pkt: c16.pairs_per_s,
    fuzz_scaling_2w: round3(call.cases_per_s / oneW),
    engine_classic_vs_libpcap: main.ratios.engine_classic,
    engine_kernelpath_vs_libpcap: main.ratios.engine_kernelpath,
    spec_classic_vs_libpcap: main.ratios.spec_classic,
    spec_kernelpath_vs_libpcap: main.ratios.spec_kernelpath,
    check_ns_per_insn: pipe.check,
    convert_ns_per_insn: pipe.convert,
    kernel_pairs_per_s: kernel.pairs_per_s,
    rss_growth_10min: mem === null ? null : round3(mem.growth_pct / 100),
    variant_discovery_s: variants === null ? null : Object.fromEntries(variants.map((v) => [v.variant, v.found ? round3(v.seconds) : null])),
    detail: {
      targets: {
        fuzz_cases_per_s_1w: '>= 150000',
        fuzz_pairs_per_s_1w_16pkt: '>= 1000000',
        fuzz_scaling_2w: '>= 1.8',
        engine_classic_vs_libpcap: '<= 1.0',
        engine_kernelpath_vs_libpcap: '<= 2.0',
        check_ns_per_insn: '<= 25',
        convert_ns_per_insn: '<= 50',
        kernel_pairs_per_s: '>= 100000',
        rss_growth_10min: '< 0.10',
      },
      ratios_are: 'median over rounds of (row ns/eval) / (libpcap ns/eval in the same round), on the tcpdump corpus',
      evaluators: evals,
      engine_kernelpath_bails: engineBails,
      pipeline_ns_per_insn: pipe,
      pipeline_programs: 'the tcpdump corpus and the generated set, those bpf_check_filter accepts',
      generated_set: {
        programs: generated.length,
        left_out_disagreeing_with_libpcap: workloads.find((x) => x.key === 'generated')?.dropped ?? [],
        codes: 'all 49 classic codes except LSH|X and RSH|X; no LD ABS at k >= 2^31 (ancillary or SKF_NET_OFF/SKF_LL_OFF)',
      },
      campaign: {
        cases: 'cases = valid programs + targeted invalid programs checked (the 9:1 mix of fuzz/genome.ts), engines on every case, the spec on 1 in 64 (--spec-check 64)',
        one_worker_1pkt: c1,
        one_worker_1pkt_again: c1b,
        one_worker_16pkt: c16,
        all_workers: workers,
        all_workers_1pkt: call,
        pool_one_worker_1pkt: cpool1,
        scaling_vs_pool_one_worker: round3(call.cases_per_s / Math.max(1, cpool1.cases_per_s)),
        tcpdump_corpus_1pkt: t1,
      },
      kernel_oracle: { note: kernel.note, measured: kernel.detail ?? null },
      memory: mem ?? 'not measured (--memory-seconds 0)',
      seconds: round3((Date.now() - started) / 1000),
      rounds: ROUNDS,
      packets: { count: PACKETS, seed: SEED, mean_bytes: round3(packets.reduce((a, p) => a + p.length, 0) / packets.length) },
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg: os.loadavg().map(round3) },
      notes,
    },
  };
  writeFileAtomic.sync(resolve(results, 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

// The one-worker campaigns run on this thread: they get the young generation the pool's workers get
// (fuzz/pool.ts CAMPAIGN_V8_FLAGS), so that one worker and all workers are measured alike; started
// without those flags, the benchmark runs itself again under them.
const underCampaignFlags = CAMPAIGN_V8_FLAGS.every((f) => process.execArgv.includes(f));
if (!underCampaignFlags) {
  const r = spawnSync(process.execPath, [...process.execArgv, ...CAMPAIGN_V8_FLAGS, fileURLToPath(import.meta.url), ...args], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
