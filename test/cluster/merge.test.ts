// corpus merge --summaries (#15): the shards' fuzz --json summaries merged into one campaign summary.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mergeSummaries, readSummary } from '../../cli/commands/merge-summary.js';
import { projectRoot } from '../_shared.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

const sig = (signature: string, count: number, chunk: number, insns: number, bytes = 0): Record<string, unknown> => ({
  id: signature.slice(0, 12),
  signature,
  count,
  property: 'equivalence',
  message: `m${chunk}`,
  seed: chunk * 7,
  path: `${chunk}:0`,
  chunk,
  first_chunk: chunk,
  insns,
  bytes,
  file: null,
});
const shard = (index: number, count: number, o: Record<string, unknown> = {}): Record<string, unknown> => ({
  seed: 5,
  shard: `${index}/${count}`,
  workers: 1,
  packets_per_program: 4,
  elapsed_s: 1 + index,
  interrupted: false,
  cases: 100,
  programs: 90,
  invalid: 10,
  pairs: 360,
  divergences: { 'dev-null-exit-a': index },
  invalid_rules: { 'bad-code': 2 },
  findings: [],
  signatures: [],
  max_findings_reached: false,
  ...o,
});

function write(dir: string, name: string, v: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v));
  return p;
}

test('mergeSummaries: counts add up, signatures merge keeping the smallest case, findings by chunk', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sum-'));
  const a = write(dir, 'a.json', shard(0, 2, { findings: [{ property: 'equivalence', message: 'm2', seed: 14, path: '2:0', chunk: 2, signature: 'S', file: null }], signatures: [sig('S', 3, 2, 5)] }));
  const b = write(dir, 'b.json', shard(1, 2, { findings: [{ property: 'equivalence', message: 'm1', seed: 7, path: '1:0', chunk: 1, signature: 'S', file: null }], signatures: [sig('S', 2, 1, 4), sig('T', 1, 3, 9)] }));
  const m = mergeSummaries([a, b], [readSummary(a), readSummary(b)]);
  t.like(m, { seed: 5, shards: ['0/2', '1/2'], missing_shards: [], cases: 200, programs: 180, invalid: 20, pairs: 720, elapsed_s: 2, workers: 2 });
  t.deepEqual({ ...m.divergences }, { 'dev-null-exit-a': 1 });
  t.deepEqual({ ...m.invalid_rules }, { 'bad-code': 4 });
  t.deepEqual(m.findings.map((f) => f.chunk), [1, 2]);
  t.deepEqual(m.signatures.map((s) => [s.signature, s.count, s.chunk, s.insns, s.first_chunk]), [['S', 5, 1, 4, 1], ['T', 1, 3, 9, 3]]);
  // a tie in size goes to the earlier chunk, whatever the order of the files
  const c = write(dir, 'c.json', shard(0, 2, { signatures: [sig('S', 1, 6, 4)] }));
  const d = write(dir, 'd.json', shard(1, 2, { signatures: [sig('S', 1, 3, 4)] }));
  for (const order of [[c, d], [d, c]]) t.is(mergeSummaries(order, order.map(readSummary)).signatures[0]!.chunk, 3);
  t.deepEqual(mergeSummaries([a], [readSummary(a)]).missing_shards, [1]);
});

test('corpus merge --summaries: shards of different campaigns, a shard twice, hostile files: one bpfspec: line, exit 2, nothing written', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sum-'));
  const corpus = join(dir, 'c');
  mkdirSync(corpus);
  const out = join(dir, 'out');
  const cases: [unknown, RegExp][] = [
    [shard(0, 2, { seed: 6 }), /has seed 6, .* seed 5: not shards of one campaign/],
    [shard(0, 3), /is shard 0\/3, .* of 2 shards/],
    [shard(1, 2), /are both shard 1\/2/],
    ['{"seed": 5', /not JSON/],
    ['[1]', /not a bpfspec fuzz --json summary/],
    [shard(0, 2, { cases: -1 }), /"cases" is not a count/],
    [shard(0, 2, { signatures: undefined }), /"signatures" is not a list/],
    [shard(0, 2, { divergences: { __proto__: 1, x: 'y' } }), /"divergences"."x" is not a count/],
    [shard(5, 2), /"shard" 5\/2 is not i\/N/],
  ];
  const base = write(dir, 'base.json', shard(1, 2));
  for (const [v, re] of cases) {
    const f = write(dir, 'x.json', v);
    const r = run(['corpus', 'merge', corpus, '-o', out, '--summaries', base, f]);
    t.is(r.code, 2, `${JSON.stringify(v)}: ${r.stderr}`);
    t.regex(r.stderr, /^bpfspec: [^\n]+\n$/);
    t.regex(r.stderr, re);
  }
  t.regex(run(['corpus', 'merge', corpus, '-o', out, '--summaries', dir]).stderr, /^bpfspec: --summaries .*: not a regular file\n$/);
  t.regex(run(['corpus', 'merge', corpus, '-o', out, '--summaries', join(dir, 'nope.json')]).stderr, /^bpfspec: --summaries .*: no such file\n$/);
  t.throws(() => readdirSync(out));
});

test('fuzz --shard i/2 twice, merged with their summaries, equals the whole campaign on one machine', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-sum-'));
  const args = ['fuzz', '--seed', '3', '--runs', '1200', '--workers', '1', '--json'];
  const sums: string[] = [];
  for (const i of [0, 1]) {
    mkdirSync(join(dir, `c${i}`));
    const r = run([...args, '--shard', `${i}/2`, '--corpus', join(dir, `c${i}`)]);
    t.is(r.code, 0, r.stderr);
    sums.push(write(dir, `s${i}.json`, r.stdout));
  }
  const whole = run([...args, '--corpus', join(dir, 'one')]);
  t.is(whole.code, 0, whole.stderr);
  const m = run(['corpus', 'merge', join(dir, 'c0'), join(dir, 'c1'), '-o', join(dir, 'merged'), '--summaries', ...sums, '--json']);
  t.is(m.code, 0, m.stderr);
  const merged = JSON.parse(m.stdout).summary as Record<string, unknown>;
  const one = JSON.parse(whole.stdout) as Record<string, unknown>;
  for (const k of ['seed', 'cases', 'programs', 'invalid', 'pairs', 'invalid_rules', 'findings', 'signatures']) t.deepEqual(merged[k], one[k], k);
  t.deepEqual(Object.entries(merged.divergences as object).filter(([, v]) => v > 0), Object.entries(one.divergences as object).filter(([, v]) => v > 0));
  const text = run(['corpus', 'merge', join(dir, 'c0'), join(dir, 'c1'), '-o', join(dir, 'merged'), '--summaries', ...sums]);
  t.regex(text.stdout, /^0 entries read, 0 written to .*, 0 duplicates, 0 superseded by a smaller case of their signature, 0 invalid\ncampaign seed 3: shards 2 of 2\n1,200 cases /);
});
