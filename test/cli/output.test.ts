// Issue #15, "Output that says what happened", checked from the command line: every command the
// README's table lists takes --json (and prints JSON), the summary tables stay aligned whatever the
// divergence names, kdiff writes confirmations only with --confirmed DIR (nothing into the
// directory the user stands in) and, without root, says it falls back to one packet at a time.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { countTable } from '../../cli/commands/fuzz.js';
import { compileMissing } from '../../cli/compile/index.js';
import { DIVERGENCES } from '../../fuzz/divergences.js';
import { KernelOracle } from '../../oracle/kernel/judge.js';
import { readSettledJitHarden } from '../../oracle/kernel/sockopt.js';
import { projectRoot } from '../_shared.js';
import { requires } from '../_skip.js';
import { cliPath, runCli, spawnCli } from './_run.js';

const probe = await KernelOracle.open(0);
const liveMissing = 'missing' in probe ? `the live kernel oracle: ${probe.missing}` : null;
if (!('missing' in probe)) await probe.close();
// kdiff's live profile takes the machine's bpf_jit_harden: at 1 or 2 its model blinds every program
// (about 2 cases/s, O(n x patches) as in the kernel), too slow for a campaign of thousands of cases
const harden = liveMissing === null ? readSettledJitHarden() : 0;
const hardenMissing = harden === 0 ? null : `net.core.bpf_jit_harden 0 (this machine is at ${harden === null ? 'an unreadable value' : harden}: the model blinds every program)`;
const libpcapMissing = compileMissing();

const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-output-'));
chmodSync(scratch, 0o755);
let n = 0;
const file = (name: string, body: string): string => {
  const p = join(scratch, `${n++}-${name}`);
  writeFileSync(p, body);
  return p;
};
const fresh = (name: string): string => join(scratch, `${n++}-${name}`);
const ex = (f: string): string => resolve(projectRoot, 'examples', f);
const PROG = 'ld #7\nret a\n';

/** The commands of the README's command table, as `bpfspec WORD [WORD]` (corpus and seccomp take a subcommand). */
function readmeCommands(): string[] {
  const readme = readFileSync(resolve(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Commands'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| command |')));
  const names = [...table.matchAll(/^\| `bpfspec ([a-z-]+)(?: ([a-z-]+))?/gm)].map((m) => (m[1] === 'corpus' || m[1] === 'seccomp' ? `${m[1]} ${m[2]}` : m[1]!));
  return [...new Set(names)];
}

/** What the README says of --json: every command of its table but those it names as exceptions. */
const JSON_EXCEPTIONS = ['web'];

/** A small run of each command (the test fails on a README command missing here). */
function sample(cmd: string): { args: string[]; stdin?: string; needs?: string | null } | undefined {
  const prog = file('p.asm', PROG);
  const table: Record<string, { args: string[]; stdin?: string; needs?: string | null }> = {
    check: { args: ['check', prog] },
    run: { args: ['run', prog, '--packet', '00'] },
    migrate: { args: ['migrate', prog] },
    fmt: { args: ['fmt', prog, '--to', 'hex'] },
    compile: { args: ['compile', 'tcp port 80'], needs: libpcapMissing },
    eval: { args: ['eval'], stdin: `{"id":1,"prog":"00000000070000001600000000000000","packet":"00"}\n{"id":2,"prog":"zz"}\n` },
    fuzz: { args: ['fuzz', '--runs', '20', '--workers', '1', '--seed', '5', '--corpus', fresh('findings')] },
    kdiff: { args: ['kdiff', '--runs', '4', '--workers', '1', '--seed', '5', '--corpus', fresh('kfindings')], needs: liveMissing },
    variants: { args: ['variants'] },
    judges: { args: ['judges'] },
    replay: { args: ['replay', resolve(projectRoot, 'corpus/divergences')] },
    'corpus merge': { args: ['corpus', 'merge', resolve(projectRoot, 'corpus/divergences'), '-o', fresh('merged')] },
    'corpus import': { args: ['corpus', 'import', ex('tcp-port-80.dd'), '--pcap', ex('http.pcap'), '-o', fresh('imported')] },
  };
  return Object.hasOwn(table, cmd) ? table[cmd] : undefined;
}

test('every command of the README table but web takes --json and prints JSON lines; the README says which do not', async (t) => {
  const readme = readFileSync(resolve(projectRoot, 'README.md'), 'utf8');
  t.regex(readme, /`--json` gives machine-readable output \(every command below but `web`, which prints its address, takes it\)/);
  const commands = readmeCommands();
  t.true(commands.length >= 13, commands.join(', '));
  const missing: string[] = [];
  for (const cmd of commands) {
    if (JSON_EXCEPTIONS.includes(cmd)) {
      const r = await runCli([...cmd.split(' '), '--json']);
      t.is(r.code, 2, `${cmd} --json`);
      t.regex(r.stderr, /^bpfspec: web: unknown option '--json'\n$/);
      continue;
    }
    const s = sample(cmd);
    if (s === undefined) {
      t.fail(`README command ${cmd} has no sample run here`);
      continue;
    }
    if (s.needs) {
      missing.push(`${cmd} (${s.needs})`);
      continue;
    }
    const r = await runCli([...s.args, '--json'], s.stdin ?? '');
    t.true(r.code === 0 || r.code === 1, `${cmd} --json: exit ${r.code}: ${r.stderr}`);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    t.true(lines.length >= 1, `${cmd} --json printed nothing`);
    for (const l of lines) t.notThrows(() => JSON.parse(l) as unknown, `${cmd} --json: ${l.slice(0, 200)}`);
  }
  if (missing.length > 0) t.log(`not run here: ${missing.join(', ')}`);
});

requires(libpcapMissing, 'compile --json prints the program as JSON', async (t) => {
  const r = await runCli(['compile', 'tcp port 80', '--json']);
  t.is(r.code, 0, r.stderr);
  t.like(JSON.parse(r.stdout), { expr: 'tcp port 80', linktype: 'EN10MB', snaplen: 262144, optimize: true });
});

test('countTable keeps the count column aligned whatever the names', (t) => {
  const long = `${DIVERGENCES.map((d) => d.id).join('+')}`;
  const rows = [...DIVERGENCES.map((d) => [d.id, 3, d.title] as const), [long, 1234567, '(several at once)'] as const, ['x', 0, ''] as const];
  const lines = countTable(rows);
  t.is(lines.length, rows.length);
  // the count column ends at the same offset on every line (the longest name sets the width)
  const countEnd = (l: string, name: string): number => {
    const after = l.slice(2 + name.length);
    const m = /^ +([\d,]+)/.exec(after)!;
    return 2 + name.length + m[0].length;
  };
  const e = lines.map((l, i) => countEnd(l, rows[i]![0]));
  t.deepEqual(new Set(e).size, 1, lines.join('\n'));
  t.true(lines.at(-2)!.includes(long));
  t.true(lines.at(-2)!.includes('1,234,567'));
  for (const [i, l] of lines.entries()) t.true(l.startsWith(`  ${rows[i]![0]} `), l);
});

test('the fuzz summary: the divergence table is aligned and names every catalogued divergence', async (t) => {
  const r = await runCli(['fuzz', '--runs', '200', '--workers', '1', '--seed', '11', '--corpus', fresh('findings')]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('divergences (predicted exactly by the catalogue):'));
  const end = lines.findIndex((l) => l.startsWith('findings:'));
  t.true(start > 0 && end > start, r.stdout);
  const rows = lines.slice(start + 1, end);
  t.true(rows.length >= DIVERGENCES.length);
  for (const d of DIVERGENCES) t.true(rows.some((l) => l.startsWith(`  ${d.id} `)), d.id);
  const ends = rows.map((l) => /^ {2}\S+ +[\d,]+/.exec(l)![0].length);
  t.is(new Set(ends).size, 1, rows.join('\n'));
});

const kdiffIn = (cwd: string, args: readonly string[], uid?: number): { code: number; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [cliPath, 'kdiff', '--runs', '8', '--workers', '1', '--seed', '3', ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, HOME: uid === undefined ? process.env.HOME : cwd },
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};

requires(liveMissing, 'kdiff writes nothing into the directory it runs in; --confirmed DIR records the confirmations in DIR/<release>.json', (t) => {
  const cwd = fresh('cwd');
  mkdirSync(cwd);
  const plain = kdiffIn(cwd, ['--json']);
  t.is(plain.code, 0, plain.stderr);
  const j = JSON.parse(plain.stdout) as { confirmed: Record<string, number>; confirmed_file: string | null; kernel: { release: string } };
  t.is(j.confirmed_file, null);
  t.deepEqual(readdirSync(cwd), [], 'nothing written into the current directory');
  const dir = fresh('confirmed');
  const asked = kdiffIn(cwd, ['--confirmed', dir, '--json']);
  t.is(asked.code, 0, asked.stderr);
  const k = JSON.parse(asked.stdout) as typeof j;
  t.deepEqual(readdirSync(cwd), []);
  if (Object.keys(k.confirmed).length === 0) {
    // nothing confirmed in these cases: nothing to record, and nothing is written
    t.is(k.confirmed_file, null);
  } else {
    t.is(k.confirmed_file, join(dir, `${k.kernel.release}.json`));
    const rec = JSON.parse(readFileSync(k.confirmed_file!, 'utf8')) as { kernel: { release: string }; divergences: Record<string, number> };
    t.is(rec.kernel.release, k.kernel.release);
    t.deepEqual(rec.divergences, k.confirmed);
  }
  // the text output says where it recorded them
  const text = kdiffIn(cwd, ['--confirmed', dir]);
  t.is(text.code, 0, text.stderr);
  if (k.confirmed_file !== null) t.regex(text.stdout, new RegExp(`recorded in ${k.confirmed_file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

const rootMissing = process.getuid?.() === 0 ? null : 'root (to run kdiff as the unprivileged user nobody)';
requires(liveMissing ?? rootMissing, 'kdiff without root says it falls back to one packet at a time, and the summary counts those lanes', (t) => {
  const cwd = fresh('nobody');
  mkdirSync(cwd);
  chmodSync(cwd, 0o777);
  const r = kdiffIn(cwd, [], 65534);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /^bpfspec kdiff: 1 of 1 oracle cannot batch \(no CAP_SETUID for SCM_CREDENTIALS tagging; run as root\): falling back to one packet at a time, which is much slower$/m);
  t.regex(r.stdout, /cases\/s on 1 lane \(1 one packet at a time\)/);
});

requires(liveMissing, 'kdiff without --workers runs one lane per two cores (a lane keeps its campaign thread and its oracle busy)', (t) => {
  const r = spawnCli(['kdiff', '--runs', '8', '--seed', '3', '--corpus', fresh('klanes')]);
  t.is(r.code, 0, r.stderr);
  const lanes = Math.max(1, Math.floor(availableParallelism() / 2));
  t.regex(r.stdout, new RegExp(`cases/s on ${lanes} lanes?\\b`));
});

test('--max-findings where a campaign cannot honour it is refused with one line, not ignored', (t) => {
  for (const args of [
    ['fuzz', '--path', 'seccomp', '--max-findings', '1', '--runs', '10'],
    ['kdiff', '--path', 'seccomp', '--max-findings', '1', '--runs', '10'],
    ['fuzz', '--coverage', '--max-findings', '1', '--runs', '10'],
  ]) {
    const r = spawnCli(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /^bpfspec: --max-findings: not with --(path seccomp|coverage)/, args.join(' '));
    t.is(r.stderr.trim().split('\n').length, 1, args.join(' '));
  }
});

requires(liveMissing ?? hardenMissing, 'kdiff keeps one corpus file per finding signature: the smallest case, a smaller one replacing the larger file', (t) => {
  // the model told a smaller optmem_max than the kernel's: programs between the two limits are refused by
  // the model and attached by the kernel, mismatches of one signature over and over (seed 6 offers
  // smaller cases twice after the first)
  const dir = fresh('kdiff-signatures');
  const r = spawnCli(['kdiff', '--optmem-max', '20480', '--runs', '3000', '--seed', '6', '--corpus', dir, '--json']);
  t.is(r.code, 1, r.stderr);
  const j = JSON.parse(r.stdout) as { findings: unknown[]; signatures: { signature: string; insns: number }[] };
  t.true(j.findings.length > j.signatures.length, `${j.findings.length} findings in ${j.signatures.length} signatures`);
  const files = readdirSync(dir).filter((n) => n.endsWith('.json'));
  t.is(files.length, j.signatures.length, files.join(' '));
  // each file names its signature and chunk, as fuzz's findings do, so that corpus merge keeps the smallest case
  const named = files.map((n) => (JSON.parse(readFileSync(join(dir, n), 'utf8')) as { origin: { signature?: string; chunk?: number } }).origin);
  t.deepEqual(named.map((o) => o.signature).sort(), j.signatures.map((s) => s.signature).sort());
  for (const o of named) t.true(Number.isSafeInteger(o.chunk), JSON.stringify(o));
});
