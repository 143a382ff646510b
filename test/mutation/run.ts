// The test command of `npm run mutate` (stryker.config.json): a fixed-seed, bounded check that exits
// 1 on the first failure. Stryker runs it once per mutant of dist/model/migrate and dist/model/ebpf.
//   1. golden: lib/test_bpf.c's classic vectors through the kernel path (bpf_prog_create + the eBPF
//      interpreter), expected errnos and results from the kernel's own test file (../shared);
//   2. the corpus: every entry under corpus/ replays exactly (divergence examples, real filters,
//      findings, and corpus/historical on both the fixed and the buggy model);
//   3. the fuzz properties: fixed-seed campaigns (x86-64 v6.6.0; backport load helpers; a strict-
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
  for (const tc of file.tests) {
    const hosts = tc.data_hex_big_endian_host === undefined ? [false] : [false, true];
    for (const bigEndianHost of hosts) {
      const config = { ...X86_64, littleEndian: !bigEndianHost };
      const f = bpfProgCreate(tc.insns, config);
      if (tc.expected_errcode !== undefined) {
        if ('ok' in f || f.errno !== tc.expected_errcode) fail(`test_bpf ${tc.name}: expected errno ${tc.expected_errcode}`);
        continue;
      }
      if (!('ok' in f)) return fail(`test_bpf ${tc.name}: rejected ${f.rule}`);
      const runner = new KernelRunner(config);
      for (const { len, ret } of tc.results) {
        const got = runner.run(f, testBpfSkb(tc, d, len, bigEndianHost), env);
        if (runner.fault !== null || got !== ret) fail(`test_bpf ${tc.name} len ${len}: got ${got}, want ${ret}`);
        runs++;
      }
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
    }
  }
  return files.length;
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
const g = golden();
const e = corpus();
const c1 = campaign(X86_64, runs, 1);
const c2 = campaign({ ...X86_64, loadHelpers: 'backport' }, Math.ceil(runs / 4), 2);
const c3 = campaign(STRICT_ALIGN_64, Math.ceil(runs / 4), 3);
const c4 = campaign({ ...X86_64, littleEndian: false }, Math.ceil(runs / 4), 4);
if (process.env.BPFSPEC_MUTATE_VERBOSE) process.stdout.write(`golden runs ${g}, corpus entries ${e}, fuzz cases ${c1} + ${c2} + ${c3} + ${c4}\n`);
