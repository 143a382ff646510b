// Campaigns on a cluster (#15), for real: examples/slurm run on a single-node Slurm started for this
// test (test/cluster/slurm.ts): a 4-shard array of one seed and the merge job that depends on it.
// The merged result must be what one machine running the same seed over the same four shards gives:
// the same case counts, divergences and findings (by signature), and the same corpus files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { requiresSerial } from '../_skip.js';
import { projectRoot } from '../_shared.js';
import { slurmMissing, startSlurm } from './slurm.js';

const SEED = '11';
const RUNS = '6000';
const ARGS = ['--variant', 'reciprocal-divide'];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The parts of a campaign summary that must not depend on how it was split. */
function campaignView(s: Record<string, any>): unknown {
  return {
    seed: s.seed,
    cases: s.cases,
    programs: s.programs,
    invalid: s.invalid,
    pairs: s.pairs,
    divergences: Object.fromEntries(Object.entries(s.divergences as Record<string, number>).filter(([, v]) => v > 0)),
    invalid_rules: s.invalid_rules,
    findings: (s.findings as Record<string, unknown>[]).map((f) => [f.chunk, f.seed, f.path, f.signature, f.message]),
    signatures: (s.signatures as Record<string, unknown>[]).map((g) => [g.id, g.signature, g.count, g.chunk, g.first_chunk, g.insns, g.bytes, g.seed, g.path]),
  };
}

const corpusFiles = (dir: string): Map<string, string> => new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));

requiresSerial(slurmMissing(), 'examples/slurm on a single-node Slurm: the merged 4-shard array equals one machine running the same seed', async (t) => {
  const started = Date.now();
  const cluster = await startSlurm();
  t.teardown(() => cluster.stop());
  const up = Date.now();
  // `bpfspec` on the jobs' PATH: this checkout's bin/bpfspec.js, and node beside it
  const bin = join(cluster.dir, 'bin');
  mkdirSync(bin);
  symlinkSync(resolve(projectRoot, 'bin/bpfspec.js'), join(bin, 'bpfspec'));
  const out = join(cluster.dir, 'campaign');
  const env = {
    ...cluster.env,
    PATH: [bin, dirname(process.execPath), cluster.env.PATH].join(delimiter),
    BPFSPEC_SEED: SEED,
    BPFSPEC_RUNS: RUNS,
    BPFSPEC_OUT: out,
    BPFSPEC_ARGS: ARGS.join(' '),
  };
  const submit = cluster.run(resolve(projectRoot, 'examples/slurm/submit.sh'), ['4'], { env });
  t.is(submit.code, 0, submit.stderr + cluster.logs());
  t.regex(submit.stdout, /^array job \d+ \(4 shards\), merge job \d+\n$/);
  const merged = join(out, 'merged.json');
  // the merge job ends the campaign: wait for it (or for the queue to empty without it), at most 3 minutes
  for (let i = 0; i < 720 && !existsSync(merged); i++) {
    if (i % 10 === 9 && cluster.run('squeue', ['-h']).stdout.trim() === '') break;
    await sleep(250);
  }
  const ranJobs = Date.now();
  const jobLogs = (): string => readdirSync(cluster.dir).filter((f) => f.endsWith('.out')).map((f) => `--- ${f}\n${readFileSync(join(cluster.dir, f), 'utf8').slice(-2000)}`).join('\n');
  if (!existsSync(merged)) return void t.fail(`no merged.json\n${cluster.run('squeue', ['-h']).stdout}${jobLogs()}${cluster.logs()}`);
  const report = JSON.parse(readFileSync(merged, 'utf8')) as Record<string, any>;
  t.deepEqual(report.summary.shards, ['0/4', '1/4', '2/4', '3/4']);
  t.deepEqual(report.summary.missing_shards, []);
  t.deepEqual(report.invalid, []);
  // each shard's summary says which shard --shard auto made it
  for (let i = 0; i < 4; i++) t.is(JSON.parse(readFileSync(join(out, 'summaries', `shard-${i}.json`), 'utf8')).shard, `${i}/4`);

  // one machine, the same seed over the same four shards (the whole campaign)
  const oneDir = mkdtempSync(join(tmpdir(), 'bpfspec-one-'));
  t.teardown(() => rmSync(oneDir, { recursive: true, force: true }));
  const one = spawnSync(process.execPath, [resolve(projectRoot, 'dist/cli/main.js'), 'fuzz', '--seed', SEED, '--runs', RUNS, ...ARGS, '--workers', '2', '--corpus', oneDir, '--json'], { encoding: 'utf8' });
  t.is(one.status, 1, one.stderr);
  const single = JSON.parse(one.stdout) as Record<string, any>;
  t.true(single.findings.length > 0, 'the campaign has findings to merge');
  t.deepEqual(campaignView(report.summary), campaignView(single));
  // the same corpus: the smallest case of each signature, byte for byte
  t.deepEqual(corpusFiles(join(out, 'merged')), corpusFiles(oneDir));
  t.log(`slurm up in ${((up - started) / 1000).toFixed(1)}s; array + merge jobs ${((ranJobs - up) / 1000).toFixed(1)}s; one machine ${((Date.now() - ranJobs) / 1000).toFixed(1)}s; total ${((Date.now() - started) / 1000).toFixed(1)}s`);
  t.log(`${single.cases} cases, ${single.findings.length} findings in ${single.signatures.length} signature(s); merged corpus ${readdirSync(join(out, 'merged')).length} file(s) from ${report.read} shard entries (${report.superseded} superseded)`);
});
