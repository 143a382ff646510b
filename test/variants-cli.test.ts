// `bpfspec variants` and `bpfspec fuzz --variant NAME`, run as a user would run them.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NOT_MODELLED, VARIANT_NAMES } from '../model/variants.js';
import { projectRoot } from './_shared.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

test('variants lists every variant and the not-modelled bugs', (t) => {
  const r = run(['variants']);
  t.is(r.code, 0, r.stderr);
  for (const n of VARIANT_NAMES) t.true(r.stdout.includes(`${n}  [`), n);
  t.true(r.stdout.includes('reciprocal-divide  [H2]'));
  t.true(r.stdout.includes('impl-gvisor-tax-txa-swapped  [impl, not a Linux bug]'));
  t.true(r.stdout.includes('caught by: equivalence (runs with loadHelpers=backport)'));
  t.true(r.stdout.includes('[UNVERIFIED]'));
  for (const n of NOT_MODELLED) t.true(r.stdout.includes(`  ${n.id} `), n.id);
  const j = JSON.parse(run(['variants', '--json']).stdout) as { variants: { name: string }[]; notModelled: unknown[] };
  t.deepEqual(j.variants.map((v) => v.name), [...VARIANT_NAMES]);
  t.is(j.notModelled.length, NOT_MODELLED.length);
});

test('fuzz --variant: an unknown name is a one-line usage error (exit 2)', (t) => {
  const r = run(['fuzz', '--variant', 'nope', '--runs', '10']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^bpfspec: --variant nope: unknown variant \(one of no-check-load-and-stores, .*\)\n$/);
});

test('fuzz --variant finds the bug and writes a replayable entry that names it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-variant-'));
  const r = run(['fuzz', '--variant', 'div-x-no-zero-guard', '--runs', '512', '--seed', '1', '--workers', '1', '--corpus', dir, '--json']);
  t.is(r.code, 1, r.stderr);
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.true(files.length > 0);
  const e = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as { variant?: { name: string } };
  t.is(e.variant?.name, 'div-x-no-zero-guard');
  const rep = run(['replay', join(dir, files[0]!)]);
  t.is(rep.code, 0, rep.stdout + rep.stderr);
});
