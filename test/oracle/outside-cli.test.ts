// `bpfspec judges`, `bpfspec fuzz --judges classic,<outside>` and `bpfspec replay` of the external
// corpus, run as a user would run them. Tests that need an implementation are declared skipped,
// naming its Debian package, when it is not installed.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { outsideMissing, outsideSpec } from '../../oracle/outside/registry.js';
import { projectRoot } from '../_shared.js';
import { requiresSerial } from '../_skip.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const run = (args: string[]): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot, timeout: 600_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-judges-cli-'));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

const libpcapMissing = outsideMissing(outsideSpec('libpcap')!);
const xnetMissing = outsideMissing(outsideSpec('xnet')!);
const dpdkMissing = outsideMissing(outsideSpec('dpdk')!);

test('judges --json lists every judge, with what an unavailable one needs', (t) => {
  const r = run(['judges', '--json']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { judges: { name: string; kind: string; available: boolean; missing: string | null; version: string | null }[] };
  t.deepEqual(
    j.judges.map((x) => x.name),
    ['classic', 'kernel', 'compiled-classic', 'compiled-ebpf', 'engine-classic', 'engine-kernel', 'live', 'libpcap', 'dpdk', 'dpdk-jit', 'xnet'],
  );
  for (const x of j.judges) {
    t.is(x.available, x.missing === null, x.name);
    if (x.kind === 'outside' && x.available) t.truthy(x.version, x.name);
  }
  t.is(j.judges.find((x) => x.name === 'libpcap')!.available, libpcapMissing === null);
  const text = run(['judges']);
  t.is(text.code, 0);
  t.regex(text.stdout, /judges available/);
});

test('judges: bad flags and names are one line and exit 2', (t) => {
  for (const args of [
    ['judges', '--campaign', 'nosuch'],
    ['judges', '--runs', '5'],
    ['judges', '--campaign', 'libpcap', '--runs', '0'],
    ['judges', '--campaign', 'libpcap', '--time', 'soon'],
    ['fuzz', '--judges', 'classic,nosuch', '--runs', '5'],
  ]) {
    const r = run(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, /^bpfspec: |^error: /);
    t.is(r.stdout, '');
  }
});

requiresSerial(libpcapMissing, 'judges --campaign libpcap: a clean campaign, its report and coverage', (t) => {
  const r = run(['judges', '--campaign', 'libpcap', '--runs', '600', '--seed', '5', '--json', '--corpus', join(scratch, 'c1')]);
  t.is(r.code, 0, r.stderr + r.stdout);
  const j = JSON.parse(r.stdout) as { judge: string; cases: number; findings: unknown[]; coverage: Record<string, number>; stats: { pairs: number } };
  t.is(j.judge, 'libpcap');
  t.is(j.cases, 600);
  t.deepEqual(j.findings, []);
  t.is(Object.keys(j.coverage).length, 49);
  t.true(j.stats.pairs > 1000);
  const text = run(['judges', '--campaign', 'libpcap', '--runs', '300', '--seed', '5', '--corpus', join(scratch, 'c2')]);
  t.is(text.code, 0, text.stderr);
  t.regex(text.stdout, /differences by catalogue entry/);
  t.regex(text.stdout, /opcodes reached: \d+ of the 49 it supports/);
});

requiresSerial(xnetMissing, 'fuzz --judges classic,xnet: the campaign of judges settles x/net/bpf\'s differences through its catalogue', (t) => {
  const r = run(['fuzz', '--judges', 'classic,xnet', '--runs', '800', '--seed', '9', '--workers', '1', '--json', '--corpus', join(scratch, 'c3')]);
  t.is(r.code, 0, r.stderr + r.stdout.slice(0, 2000));
  t.regex(r.stdout, /xnet/);
});

requiresSerial(libpcapMissing ?? dpdkMissing ?? xnetMissing, 'replay re-runs the outside answers of corpus/external with the implementations', (t) => {
  const r = run(['replay', 'corpus/external', '--json']);
  t.is(r.code, 0, r.stdout.slice(0, 2000));
  const j = JSON.parse(r.stdout) as { files: number; passed: number; external: { checked: number; passed: number; changed: unknown[]; skipped: unknown[] } };
  const files = ['libpcap', 'dpdk', 'xnet'].reduce((n, d) => n + readdirSync(resolve(projectRoot, 'corpus/external', d)).length, 0);
  t.is(j.files, files);
  t.is(j.passed, files);
  t.is(j.external.checked, files);
  t.is(j.external.passed, files);
});
