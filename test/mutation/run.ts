// The test command of `npm run mutate` (stryker.config.json): a fixed-seed, bounded check that exits
// 1 on the first failure. Stryker runs it once per mutant of dist/model/migrate and dist/model/ebpf.
//   1. golden: lib/test_bpf.c's classic vectors through the kernel path (bpf_prog_create + the eBPF
//      interpreter), expected errnos and results from the kernel's own test file (../shared), on a
//      little-endian x86-64, a big-endian host and a strict-alignment arch;
//   2. the corpus: every entry under corpus/ replays exactly (divergence examples, real filters,
//      findings, and corpus/historical on both the fixed and the buggy model);
//   3. the bpf_conformance eBPF ISA suite through the interpreter model (./conformance.ts);
//   4. the image-reuse path: EngineRunner({ reuseImages: true }) against the spec's runner on the golden
//      filters and the corpus, over a pool of skbs with and without skb->dev (./reuse.ts);
//   5. the attach-path edges a bounded campaign rarely reaches: the optmem charge with sk_omem_alloc > 0,
//      runtime selection without a JIT, the conversion limits exactly at their edges, the jump shapes
//      of bpf_convert_filter written out by hand, the LD ABS/IND expansion lengths (./migrate_edges.ts);
//   6. the load helpers at the ends of the frags and on negative offsets, SKF_AD_CPU/RANDOM, the helper
//      names (./helper_edges.ts);
//   7. the documented contracts of model/ebpf's memory, interpreter and skb-image helpers (./api_checks.ts);
//   8. the eBPF differential check: fixed-seed random programs over the whole interpreter instruction
//      set, model against the BigInt reference of ./ref_ebpf.ts (./ebpf_diff.ts), BPFSPEC_MUTATE_RUNS
//      programs;
//   9. the fuzz properties: fixed-seed campaigns (x86-64 v6.6.0; backport load helpers; a strict-
//      alignment 64-bit arch; a big-endian host), BPFSPEC_MUTATE_RUNS cases for the first (default
//      2048) and a quarter of that for each of the others.
// Not an ava test (no *.test.ts name): it runs as a plain node script, `node dist/test/mutation/run.js`.
import { bpfProgCreate, KernelRunner } from '../../model/attach.js';
import { STRICT_ALIGN_64, X86_64, type KernelConfig } from '../../model/config.js';
import { runWorker, DEFAULT_CHUNK } from '../../fuzz/campaign.js';
import { listEntries, readEntry, replayEntry } from '../../fuzz/corpus.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { testBpfSkb, type TestBpfFile } from '../conformance/vectors.js';
import { conformance } from './conformance.js';
import fc from 'fast-check';
import { DiffRunner, EDGE_CASES, diffCase, showInsns } from './ebpf_diff.js';
import { helperEdges } from './helper_edges.js';
import { apiChecks } from './api_checks.js';
import { chargeEdges, conversionShapes, ldAbsLengths, limitEdges, runtimeEdges } from './migrate_edges.js';
import { EngineRunner } from '../../engine/runner.js';
import { compareRebind, compareReuse, reusePool } from './reuse.js';
import { entryCase, type CorpusEntry } from '../../fuzz/corpus.js';
import type { SkBuff } from '../../model/skb.js';

const fail = (msg: string): never => {
  process.stderr.write(`mutation check failed: ${msg}\n`);
  process.exit(1);
};

// ../shared/conformance/test_bpf_classic.json, looked up from the working directory upwards (Stryker
// runs this in a sandbox under .stryker-tmp/, where test/_shared.ts's sharedDir does not point).
function findTestBpf(): string | null {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const f = join(dir, 'shared', 'conformance', 'test_bpf_classic.json');
    if (existsSync(f)) return f;
    if (dirname(dir) === dir) return null;
  }
}

const pool = reusePool();
let reuseRuns = 0;

// The hosts every vector runs on: lib/test_bpf.c's expected results hold on any architecture (the
// nlattr tests carry their own big-endian data), so the big-endian host (pkt_type bit-field, netlink
// headers) and the strict-alignment one (convert_bpf_ld_abs slow path) must give them too. The image-
// reuse comparison runs on the first two.
const GOLDEN_CONFIGS: readonly { readonly config: KernelConfig; readonly bigEndianHost: boolean; readonly reuse: boolean }[] = [
  { config: X86_64, bigEndianHost: false, reuse: true },
  { config: { ...X86_64, littleEndian: false }, bigEndianHost: true, reuse: true },
  { config: STRICT_ALIGN_64, bigEndianHost: false, reuse: false },
];

function golden(): number {
  const path = findTestBpf();
  if (path === null) {
    process.stderr.write('mutation check: ../shared/conformance/test_bpf_classic.json not found: golden vectors skipped\n');
    return 0;
  }
  const file = JSON.parse(readFileSync(path, 'utf8')) as TestBpfFile;
  const d = file.header.skb_defaults;
  const env = { cpu: 0, randomSeed: 1 };
  let runs = 0;
  for (const { config, bigEndianHost, reuse: withReuse } of GOLDEN_CONFIGS) {
    const host = `${config.arch}${bigEndianHost ? ' big-endian' : ''}`;
    // per host, for the whole file: a runner, and a reuse runner whose image cache sees every skb
    const runner = new KernelRunner(config);
    const reuse = new EngineRunner(config, { reuseImages: true });
    const dirty = new EngineRunner(config);
    let prev: SkBuff = pool[1]!;
    for (const tc of file.tests) {
      // the BPF_MAXINSNS tests (thousands of steps per run) on the first host only
      if (config !== X86_64 && tc.insns.length > 256) continue;
      const f = bpfProgCreate(tc.insns, config);
      if (tc.expected_errcode !== undefined) {
        if ('ok' in f || f.errno !== tc.expected_errcode) fail(`test_bpf ${tc.name} (${host}): expected errno ${tc.expected_errcode}`);
        continue;
      }
      if (!('ok' in f)) return fail(`test_bpf ${tc.name} (${host}): rejected ${f.rule}`);
      const skbs: SkBuff[] = [];
      for (const { len, ret } of tc.results) {
        const skb = testBpfSkb(tc, d, len, bigEndianHost);
        skbs.push(skb);
        const got = runner.run(f, skb, env);
        if (runner.fault !== null || got !== ret) fail(`test_bpf ${tc.name} len ${len} (${host}): got ${got}, want ${ret}`);
        runs++;
        if (!withReuse) continue;
        const again = reuse.run(f, skb, env);
        if (reuse.fault !== null || again !== ret) fail(`test_bpf ${tc.name} len ${len} (${host}, reuseImages): got ${again}, want ${ret}`);
      }
      if (!withReuse) continue;
      // the whole pool for every program but the BPF_MAXINSNS ones (thousands of steps per run): the
      // dev-NULL skb and the one with a device only
      const cross = tc.insns.length > 256 ? [pool[1]!, pool[0]!] : pool;
      reuseRuns += compareReuse(fail, `test_bpf ${tc.name} (${host})`, f, [...skbs, ...cross], runner, reuse);
      const skb = skbs[0] ?? pool[0]!;
      compareRebind(fail, `test_bpf ${tc.name} (${host})`, f, prev, skb, config, runner, dirty);
      prev = skb;
    }
  }
  return runs;
}

function corpus(): number {
  const files = listEntries([join(process.cwd(), 'corpus')]);
  for (const f of files) {
    const r = readEntry(f);
    if (!r.ok) fail(r.error);
    else {
      const diffs = replayEntry(r.entry);
      if (diffs.length > 0) fail(`${f}: ${diffs[0]}`);
      corpusReuse(f, r.entry);
    }
  }
  return files.length;
}

const corpusRunners = new Map<string, [KernelRunner, EngineRunner, EngineRunner]>();
// The entry's inputs and the skb pool through a reuse runner and a fresh one (fixed model only).
function corpusReuse(name: string, e: CorpusEntry): void {
  const { prog, inputs, config } = entryCase(e);
  const f = bpfProgCreate(prog, config);
  if (!('ok' in f)) return;
  const skbs = [...inputs.map((i) => i.skb), ...pool];
  const key = JSON.stringify(config);
  let rs = corpusRunners.get(key);
  if (rs === undefined) {
    rs = [new KernelRunner(config), new EngineRunner(config), new EngineRunner(config, { reuseImages: true })];
    corpusRunners.set(key, rs);
  }
  const [fresh, other, reuse] = rs;
  reuseRuns += compareReuse(fail, name, f, skbs, fresh, reuse);
  compareRebind(fail, name, f, pool[0]!, skbs[0]!, config, fresh, other);
  compareRebind(fail, name, f, pool[1]!, pool[0]!, config, fresh, other);
}

function ebpfDiff(runs: number, seed: number): number {
  const runner = new DiffRunner();
  for (const [i, c] of EDGE_CASES.entries()) {
    const d = runner.check(c, true);
    if (d !== null) fail(`eBPF edge case ${i}: ${d}\n${showInsns(c.insns)}`);
  }
  const r = fc.check(
    fc.property(diffCase(), fc.boolean(), (c, trace) => runner.check(c, trace) === null),
    { seed, numRuns: runs, endOnFailure: true },
  );
  if (r.failed) {
    const [c, trace] = r.counterexample!;
    fail(`eBPF differential (seed ${seed}): ${runner.check(c, trace)}\n${showInsns(c.insns)}\nargs ${c.args.map((a) => `0x${a.toString(16)}`).join(' ')}`);
  }
  return r.numRuns + EDGE_CASES.length;
}

function campaign(config: KernelConfig, runs: number, seed: number): number {
  const stats = runWorker(
    { seed, runs, timeMs: null, workers: 1, shard: { index: 0, count: 1 }, packetsPerProgram: 4, config, chunkSize: DEFAULT_CHUNK },
    0,
    {
      progress: (_s, f) => {
        if (f !== null) fail(`${config.arch}/${config.loadHelpers} seed ${seed}: ${f.finding.property}: ${f.finding.message}`);
      },
      shouldStop: () => false,
    },
  );
  return stats.programs + stats.invalid;
}

const runs = Number(process.env.BPFSPEC_MUTATE_RUNS ?? 2048);
const verbose = process.env.BPFSPEC_MUTATE_VERBOSE !== undefined;
const timed = <T>(name: string, f: () => T): T => {
  const t0 = performance.now();
  const v = f();
  if (verbose) process.stdout.write(`${name}: ${v} (${Math.round(performance.now() - t0)} ms)\n`);
  return v;
};
timed('golden runs', golden);
timed('corpus entries', corpus);
timed('reuse runs (golden + corpus)', () => reuseRuns);
timed('attach edges (charge, runtime, conversion limits, shapes, ld_abs lengths)', () => chargeEdges(fail) + runtimeEdges(fail) + limitEdges(fail) + conversionShapes(fail) + ldAbsLengths(fail));
timed('helper edges (frag ends, negative offsets, cpu, random, names)', () => helperEdges(fail));
timed('model/ebpf API checks (memory, interpreter, skb image)', () => apiChecks(fail));
timed('bpf_conformance files', () => conformance(fail));
timed('eBPF differential programs', () => ebpfDiff(runs * 2, 5));
timed('fuzz cases x86-64', () => campaign(X86_64, runs, 1));
timed('fuzz cases backport', () => campaign({ ...X86_64, loadHelpers: 'backport' }, Math.ceil(runs / 4), 2));
timed('fuzz cases strict-align', () => campaign(STRICT_ALIGN_64, Math.ceil(runs / 4), 3));
timed('fuzz cases big-endian', () => campaign({ ...X86_64, littleEndian: false }, Math.ceil(runs / 4), 4));
