// Regression tests of issue #16's defects 1-11, each as it was reported (hostile or careless use of
// the bpfspec command). Special files are private copies made with mknod/mkfifo in a temporary
// directory, never the real /dev entries. Runs in this process through main() unless the defect
// is about the process itself (stdout on a full device, Commander's own output).
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseProgram } from '../../cli/formats/index.js';
import { parseDuration, parseSeed, parseShard, positiveInt } from '../../cli/commands/fuzz.js';
import { projectRoot } from '../_shared.js';
import { requires } from '../_skip.js';
import { cliPath, runCli, spawnCli, type CliResult } from '../cli/_run.js';

const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-regress-'));
let n = 0;
const file = (name: string, body: string | Uint8Array): string => {
  const p = join(scratch, `${n++}-${name}`);
  writeFileSync(p, body);
  return p;
};
const dir = (name: string): string => {
  const p = join(scratch, `${n++}-${name}`);
  mkdirSync(p);
  return p;
};
const ex = (f: string): string => resolve(projectRoot, 'examples', f);
const PROG = 'ld #7\nret a\n';
const PROG_HEX = '00000000070000001600000000000000';

/** One line on stderr starting `bpfspec:`, exit 2, nothing else. */
function badInput(t: import('ava').ExecutionContext, r: CliResult, re: RegExp, what: string): void {
  t.is(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`);
  const lines = r.stderr.split('\n');
  t.is(lines.length, 2, `${what}: ${r.stderr}`);
  t.true(lines[0]!.startsWith('bpfspec: '), what);
  t.regex(lines[0]!, re, what);
  t.true(lines[0]!.length < 600, `${what}: ${lines[0]!.length} characters`);
}

const mknod = (name: string, major: number, minor: number): string | null => {
  const p = join(scratch, `${n++}-${name}`);
  return spawnSync('mknod', [p, 'c', String(major), String(minor)], { stdio: 'ignore' }).status === 0 ? p : null;
};
const devNull = mknod('null', 1, 3);
const devFull = mknod('full', 1, 7);
const mknodMissing = devNull === null || devFull === null ? 'root (mknod of private /dev/null and /dev/full copies)' : null;
const isChar = (p: string): boolean => lstatSync(p).isCharacterDevice();

// 1 -------------------------------------------------------------------------------------------

requires(mknodMissing, '1. -o onto a character device writes to it directly, never renames over it; a full device is one line, exit 2', async (t) => {
  const r = await runCli(['fmt', ex('tcp-port-80.dd'), '--to', 'json', '-o', devNull!]);
  t.is(r.code, 0, r.stderr);
  t.true(isChar(devNull!), 'the device is still a device');
  badInput(t, await runCli(['fmt', ex('tcp-port-80.dd'), '--to', 'json', '-o', devFull!]), /full: cannot write: no space left on device/, 'fmt -o full');
  t.true(isChar(devFull!));
  t.is((await runCli(['compile', 'tcp', '-o', devNull!])).code === 2 || isChar(devNull!), true);
  t.true(isChar(devNull!));
  // a corpus directory that is a device: refused before anything starts
  badInput(t, await runCli(['corpus', 'merge', resolve(projectRoot, 'corpus/divergences'), '-o', devNull!]), /-o .*is a character device, not a directory/, 'merge -o device');
  badInput(t, await runCli(['fuzz', '--corpus', devNull!, '--runs', '10']), /--corpus .*is a character device, not a directory/, 'fuzz --corpus device');
  badInput(t, await runCli(['corpus', 'import', ex('tcp-port-80.dd'), '--packet', '00', '-o', devNull!]), /-o .*character device/, 'import -o device');
  t.true(isChar(devNull!));
});

test('1. -o onto a FIFO writes into it (a reader gets the bytes) and leaves the FIFO in place; a regular file is replaced atomically', async (t) => {
  const fifo = join(scratch, `${n++}-fifo`);
  t.is(spawnSync('mkfifo', [fifo]).status, 0);
  const reader = spawn('cat', [fifo]);
  let got = '';
  reader.stdout.on('data', (d: Buffer) => (got += d.toString()));
  const done = new Promise((ok) => reader.on('close', ok));
  const r = spawnCli(['fmt', ex('tcp-port-80.dd'), '--to', 'bytecode', '-o', fifo]);
  await done;
  t.is(r.code, 0, r.stderr);
  t.true(got.startsWith('20,40 0 0 12,'));
  t.true(lstatSync(fifo).isFIFO());
  const regular = file('out.txt', 'old');
  t.is((await runCli(['fmt', ex('tcp-port-80.dd'), '--to', 'bytecode', '-o', regular])).code, 0);
  t.true(readFileSync(regular, 'utf8').startsWith('20,'));
  badInput(t, await runCli(['fmt', ex('tcp-port-80.dd'), '--to', 'json', '-o', scratch]), /is a directory: refusing to write/, 'fmt -o directory');
});

// 2 -------------------------------------------------------------------------------------------

const PROTO_KEYS = ['__proto__', 'toString', 'constructor', 'valueOf', 'hasOwnProperty'];

test('2. prototype keys never select a preset, an arch, a format, a variant, a judge, a kernel profile or a system call', async (t) => {
  const prog = file('p.asm', PROG);
  const seccompProg = file('s.asm', 'ret #0x7fff0000\n');
  for (const k of PROTO_KEYS) {
    badInput(t, await runCli(['run', prog, '--packet', '00', '--skb', k]), /skb field preset: .* is not one of af_unix, ethernet/, `--skb ${k}`);
    badInput(t, await runCli(['run', prog, '--packet', '00', '--set', `preset=${k}`]), /is not one of af_unix, ethernet/, `--set preset=${k}`);
    badInput(t, await runCli(['run', prog, '--packet', '00', '--arch', k]), /--arch .*: unknown architecture/, `--arch ${k}`);
    badInput(t, await runCli(['migrate', prog, '--arch', k]), /unknown architecture/, `migrate --arch ${k}`);
    badInput(t, await runCli(['check', prog, '--format', k]), /--format/, `--format ${k}`);
    badInput(t, await runCli(['fmt', prog, '--to', k]), /--to .*unknown format/, `--to ${k}`);
    badInput(t, await runCli(['fuzz', '--variant', k, '--runs', '1']), /--variant .*unknown variant/, `--variant ${k}`);
    badInput(t, await runCli(['fuzz', '--judges', `classic,kernel,${k}`, '--runs', '1']), /--judges .*unknown judge/, `--judges ${k}`);
    badInput(t, await runCli(['run', prog, '--packet', '00', '--load-helpers', k]), /--load-helpers/, `--load-helpers ${k}`);
    badInput(t, await runCli(['run', prog, '--packet', '00', '--set', `${k}=1`]), /unknown skb field/, `--set ${k}=1`);
    badInput(t, await runCli(['check', file('p.json', `[{"code":6,"jt":0,"jf":0,"k":1,"${k}":1}]`)]), /unknown key/, `json program key ${k}`);
    badInput(t, await runCli(['run', prog, '--packet', '00', '--kernel', k]), /--kernel .*unknown kernel profile/, `--kernel ${k}`);
    badInput(t, await runCli(['judges', '--kernel', k]), /--kernel .*unknown kernel profile/, `judges --kernel ${k}`);
    badInput(t, await runCli(['seccomp', 'check', seccompProg, '--arch', k]), /--arch .*unknown \(one of x86_64/, `seccomp check --arch ${k}`);
    badInput(t, await runCli(['seccomp', 'run', seccompProg, '--syscall', k]), /--syscall .*no system call of that name/, `seccomp run --syscall ${k}`);
    // the seccomp campaign takes no --arch: refused, not ignored (it was accepted whatever its value)
    badInput(t, await runCli(['fuzz', '--path', 'seccomp', '--arch', k, '--runs', '1']), /--arch: not with --path seccomp/, `fuzz --path seccomp --arch ${k}`);
  }
  // eval: the line gets its error, the batch goes on
  const lines = PROTO_KEYS.map((k, i) => JSON.stringify({ id: i, prog: PROG_HEX, packet: '00', skb: { preset: k } }));
  const r = await runCli(['eval'], `${lines.join('\n')}\n${JSON.stringify({ id: 'last', prog: PROG_HEX, packet: '00' })}\n`);
  t.is(r.code, 0);
  const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; error?: string; classic?: number });
  t.is(out.length, PROTO_KEYS.length + 1);
  for (const [i, o] of out.slice(0, -1).entries()) t.regex(o.error!, /skb field preset: .* is not one of af_unix, ethernet/, PROTO_KEYS[i]);
  t.like(out.at(-1), { id: 'last', classic: 7 });
});

test('2. a corpus entry with a prototype key as skb preset or arch is reported invalid, exit 2, and the replay goes on', async (t) => {
  const base = JSON.parse(readFileSync(resolve(projectRoot, 'corpus/divergences/dev-null-exit-a.json'), 'utf8')) as { config: { arch: string }; inputs: { skb: { preset: string } }[] };
  const d = dir('corpus');
  copyFileSync(resolve(projectRoot, 'corpus/divergences/vlan-tag-dei.json'), join(d, 'good.json'));
  for (const k of PROTO_KEYS) {
    const bad = structuredClone(base);
    bad.inputs[0]!.skb.preset = k;
    writeFileSync(join(d, `preset-${k}.json`), JSON.stringify(bad));
    const arch = structuredClone(base);
    arch.config.arch = k;
    writeFileSync(join(d, `arch-${k}.json`), JSON.stringify(arch));
  }
  // seccomp entries: a prototype key as host or as arch (the arch was ignored: such entries replayed "exactly")
  const seccompDir = resolve(projectRoot, 'corpus/real-filters/seccomp');
  const seccompBase = JSON.parse(readFileSync(join(seccompDir, readdirSync(seccompDir).filter((f) => f.endsWith('.json')).sort()[0]!), 'utf8')) as { config: { arch: string }; seccomp: { host: string } };
  for (const k of PROTO_KEYS) {
    const host = structuredClone(seccompBase);
    host.seccomp.host = k;
    writeFileSync(join(d, `seccomp-host-${k}.json`), JSON.stringify(host));
    const arch = structuredClone(seccompBase);
    arch.config.arch = k;
    writeFileSync(join(d, `seccomp-arch-${k}.json`), JSON.stringify(arch));
  }
  const r = await runCli(['replay', d]);
  t.is(r.code, 2, r.stderr);
  t.is(r.stderr.split('\n').length, 2, r.stderr);
  t.regex(r.stdout, /1 of 21 entries replay exactly; 0 changed, 20 invalid/);
  for (const k of PROTO_KEYS) {
    t.regex(r.stdout, new RegExp(`INVALID .*preset-${k}\\.json: input 0: skb field preset`));
    t.regex(r.stdout, new RegExp(`INVALID .*/arch-${k}\\.json: unknown arch`));
    t.regex(r.stdout, new RegExp(`INVALID .*seccomp-host-${k}\\.json: seccomp\\.host: unknown host`));
    t.regex(r.stdout, new RegExp(`INVALID .*seccomp-arch-${k}\\.json: unknown arch`));
  }
});

// 3 -------------------------------------------------------------------------------------------

test('3. eval: a 262,145-byte packet and deeply nested JSON in any field each get their error line; the batch goes on', async (t) => {
  const deepA = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const deepO = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
  const lines = [
    JSON.stringify({ id: 1, prog: PROG_HEX, packet: 'ab'.repeat(262_145) }),
    `{"id":2,"prog":${deepA},"packet":"00"}`,
    `{"id":3,"prog":"${PROG_HEX}","packet":${deepO}}`,
    `{"id":4,"prog":"${PROG_HEX}","packet":"00","skb":${deepA}}`,
    `{"id":5,"prog":"${PROG_HEX}","packet":"00","skb":{"dev":${deepO}}}`,
    `{"id":6,"prog":"${PROG_HEX}","packet":"00","skb":{"mark":${deepA}}}`,
    `{"id":${deepA},"prog":"${PROG_HEX}","packet":"00"}`,
    `{"id":8,"prog":"${PROG_HEX}","packet":"00","skb":{"headroom":${deepO}}}`,
    JSON.stringify({ id: 9, prog: PROG_HEX, packet: 'ab'.repeat(300_000), skb: { headlen: 1000 } }),
    JSON.stringify({ id: 'last', prog: PROG_HEX, packet: '00' }),
  ];
  const r = await runCli(['eval'], `${lines.join('\n')}\n`);
  t.is(r.code, 0, r.stderr);
  const out = r.stdout.trim().split('\n');
  t.is(out.length, lines.length);
  const o = out.map((l) => JSON.parse(l) as { id: unknown; error?: string; classic?: number });
  t.regex(o[0]!.error!, /packet of 262145 bytes: .*exceed the model's skb head capacity of 262144 bytes \(a limit of the model, not of the kernel/);
  t.regex(o[1]!.error!, /"prog" must be a hex string/);
  t.regex(o[2]!.error!, /"packet" must be a hex string/);
  t.regex(o[3]!.error!, /skb must be a JSON object/);
  t.regex(o[4]!.error!, /skb field dev: unknown member 'a'/);
  t.regex(o[5]!.error!, /skb field mark: \[\[\[.*is not a u32/);
  t.true(out[5]!.length < 400);
  t.true(out[6]!.startsWith(`{"id":${deepA},"attach"`), 'a deeply nested id is echoed as given');
  t.regex(o[7]!.error!, /headroom/);
  t.like(o[8], { id: 9, classic: 7, kernel: 7 }, 'a large packet whose linear part fits runs, the rest in frags');
  t.like(o[9], { id: 'last', classic: 7, kernel: 7 });
});

test('3. the same oversized packet in run, replay and corpus import: one line naming the model limit, exit 2', async (t) => {
  const prog = file('p.asm', PROG);
  const big = 'ab'.repeat(262_145);
  badInput(t, await runCli(['run', prog, '--packet', big]), /packet 1: packet of 262145 bytes: .*a limit of the model, not of the kernel/, 'run');
  t.is((await runCli(['run', prog, '--packet', big, '--set', 'headlen=100'])).code, 0, 'frags lift it');
  badInput(t, await runCli(['corpus', 'import', prog, '--packet', big, '-o', dir('imp')]), /packet 1: packet of 262145 bytes/, 'corpus import');
  const entry = JSON.parse(readFileSync(resolve(projectRoot, 'corpus/divergences/dev-null-exit-a.json'), 'utf8')) as { inputs: { packet: string; skb: Record<string, unknown> }[] };
  entry.inputs[0]!.packet = big;
  entry.inputs[0]!.skb.headlen = 262_145;
  const r = await runCli(['replay', file('big.json', JSON.stringify(entry))]);
  t.is(r.code, 2);
  t.regex(r.stderr, /^bpfspec: 1 of 1 entries invalid .*input 0: packet of 262145 bytes/);
  t.is(r.stderr.split('\n').length, 2);
});

// 4 -------------------------------------------------------------------------------------------

test('4. corpus import of a .jsonl with a null line or a null instruction: one line naming the line, exit 2', async (t) => {
  const out = dir('imp4');
  badInput(t, await runCli(['corpus', 'import', file('a.jsonl', '{"insns":[{"code":6,"jt":0,"jf":0,"k":1}]}\nnull\n'), '--packet', '00', '-o', out]), /a\.jsonl:2: expected a JSON object/, 'null line');
  badInput(t, await runCli(['corpus', 'import', file('b.jsonl', '{"insns":[null]}\n'), '--packet', '00', '-o', out]), /b\.jsonl:1: insn 0 is not \{code u16, jt u8, jf u8, k u32\}/, 'null insn');
  badInput(t, await runCli(['corpus', 'import', file('c.jsonl', '{"insns":{}}\n'), '--packet', '00', '-o', out]), /c\.jsonl:1: "insns" is not an array/, 'insns object');
  badInput(t, await runCli(['corpus', 'import', file('d.jsonl', '{"insns":[{"code":6,"jt":0,"jf":0,"k":1}]}\n{oops\n'), '--packet', '00', '-o', out]), /d\.jsonl:2: not JSON/, 'bad JSON');
  t.deepEqual(readdirSync(out), [], 'nothing written');
});

// 5 -------------------------------------------------------------------------------------------

test('5. replay DIR with a dangling link, a link loop and a FIFO inside: each reported, the rest replayed', async (t) => {
  // in a directory of its own, so that the link to '..' leads nowhere new
  const d = join(dir('links'), 'd');
  mkdirSync(d);
  copyFileSync(resolve(projectRoot, 'corpus/divergences/vlan-tag-dei.json'), join(d, 'good.json'));
  symlinkSync(join(d, 'nowhere.json'), join(d, 'dangling.json'));
  symlinkSync(join(d, 'loop-b.json'), join(d, 'loop-a.json'));
  symlinkSync(join(d, 'loop-a.json'), join(d, 'loop-b.json'));
  symlinkSync('..', join(d, 'up'));
  t.is(spawnSync('mkfifo', [join(d, 'fifo.json')]).status, 0);
  const r = await runCli(['replay', d]);
  t.is(r.code, 2);
  t.regex(r.stdout, /INVALID .*dangling\.json: dangling symbolic link/);
  t.regex(r.stdout, /INVALID .*loop-a\.json: too many levels of symbolic links/);
  t.regex(r.stdout, /INVALID .*fifo\.json: a FIFO, not a regular file/);
  t.regex(r.stdout, /1 of 5 entries replay exactly; 0 changed, 4 invalid/);
  t.is(r.stderr.split('\n').length, 2);
});

test('5. -o EXISTING_FILE for corpus merge and import, --corpus EXISTING_FILE for fuzz: one line, exit 2, before anything runs', async (t) => {
  const f = file('existing', 'x');
  badInput(t, await runCli(['corpus', 'merge', resolve(projectRoot, 'corpus/divergences'), '-o', f]), /-o .*is a file, not a directory/, 'merge');
  badInput(t, await runCli(['corpus', 'import', ex('tcp-port-80.dd'), '--packet', '00', '-o', f]), /-o .*is a file, not a directory/, 'import');
  const r = spawnCli(['fuzz', '--corpus', f, '--runs', '100000']);
  badInput(t, r, /--corpus .*is a file, not a directory/, 'fuzz');
  t.notRegex(r.stderr, /seed/, 'the campaign never started');
  badInput(t, await runCli(['fuzz', '--corpus', join(f, 'sub'), '--runs', '1']), /--corpus .*existing is a file, not a directory/, 'fuzz --corpus FILE/sub');
  t.is(readFileSync(f, 'utf8'), 'x');
});

requires(mknodMissing, '5. stdout on a full device: one line, exit 2, no stack', (t) => {
  const fd = openSync(devFull!, 'w');
  try {
    for (const args of [['check', ex('tcp-port-80.dd')], ['variants'], ['fmt', ex('tcp-port-80.dd'), '--to', 'raw']]) {
      const r = spawnSync(process.execPath, [cliPath, ...args], { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
      t.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      t.is(r.stderr, 'bpfspec: standard output: no space left on device\n', args.join(' '));
    }
  } finally {
    closeSync(fd);
  }
});

test('5. check and run read a FIFO as a stream (a writer feeds it); stdin works the same', async (t) => {
  const fifo = join(scratch, `${n++}-prog.fifo`);
  t.is(spawnSync('mkfifo', [fifo]).status, 0);
  const writer = spawn('sh', ['-c', `cat ${JSON.stringify(ex('tcp-port-80.dd'))} > ${JSON.stringify(fifo)}`]);
  const r = spawnCli(['check', fifo]);
  await new Promise((ok) => writer.on('close', ok));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /accepted \(20 instructions\)/);
  const s = spawnCli(['check', '-'], readFileSync(ex('tcp-port-80.dd')));
  t.regex(s.stdout, /^-: accepted \(20 instructions\)/);
});

// 6 and 7 -----------------------------------------------------------------------------------

test('6. tcpdump -d with a megabyte of whitespace inside an operand parses in linear time (one line error, cut)', async (t) => {
  const line = `(000) ldh      [12${' '.repeat(1 << 20)}]   jt 1 jf 2\n`;
  const t0 = performance.now();
  const r = parseProgram(new TextEncoder().encode(line), 'tcpdump-d');
  const auto = parseProgram(new TextEncoder().encode(line));
  const ms = performance.now() - t0;
  t.false(r.ok);
  t.false(auto.ok);
  // before the fix: over a minute for this line (2.4 s at 80 KB, 8.8 s at 160 KB)
  t.true(ms < 5000, `${ms} ms`);
  const c = await runCli(['check', file('ws.d', line)]);
  t.is(c.code, 2);
  t.true(c.stderr.length < 400, `${c.stderr.length} characters`);
});

test('7. errors quote at most 80 characters of the offending token and say how long it was', async (t) => {
  const long = 'z'.repeat(1_100_000);
  const cases: [string[], RegExp][] = [
    [['check', file('t.asm', `${long}\n`), '--format', 'bpf_asm'], /unknown mnemonic 'z{77}\.\.\. \(1100000 characters\)'/],
    [['check', file('t.d', `(000) ${long}\n`)], /\(1100000 characters\)/],
    [['check', file('t.ddd', `1\n6 0 0 ${'9'.repeat(500_000)}\n`)], /\(500000 characters\)/],
    [['check', file('t.bc', `1,6 0 0 ${long}`)], /\(1100008 characters\)|characters\)/],
    [['check', file('t.json', `[{"code":6,"jt":0,"jf":0,"k":1,"${long}":1}]`)], /unknown key 'z{77}\.\.\. \(1100000 characters\)'/],
    [['check', ex('tcp-port-80.dd'), '--format', long], /argument 'z{77}\.\.\. \(1100000 characters\)/],
    [['run', file('p.asm', PROG), '--packet', `00${long}`], /unexpected 'z'/],
    [['run', file('p.asm', PROG), '--packet', '00', '--set', `${long}=1`], /\(1100000 characters\)/],
    [['run', file('p.asm', PROG), '--packet', '00', '--skb', long], /\(1100000 characters\)|\.\.\./],
    [['fuzz', '--time', long], /--time z{77}\.\.\. \(1100000 characters\)/],
    [['help', long], /\(1100000 characters\)/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    badInput(t, r, re, args.map((a) => a.slice(0, 20)).join(' '));
  }
});

// 8 -------------------------------------------------------------------------------------------

test('8. eval echoes ids exactly as their JSON text, and a CR inside a line never makes two output lines', async (t) => {
  const lines = [
    `{"id":12345678901234567890,"prog":"${PROG_HEX}","packet":"00"}`,
    `{"id": -0.000000000000000000001e-5 ,"prog":"${PROG_HEX}","packet":"00"}`,
    `{"id":"a\\u0000\\"b","prog":"${PROG_HEX}","packet":"00"}`,
    `{"id":{"x":[1, 2,\r3]},\r"prog":"${PROG_HEX}",\r"packet":"00"}`,
    `{"prog":"${PROG_HEX}","packet":"00","id":1,"id":2}`,
    `{"\\u0069d":7,"prog":"${PROG_HEX}","packet":"00"}`,
    `{"id":1,"prog":"${PROG_HEX}","packet":"00"}\r`,
    'not json\rstill the same line',
    '',
  ];
  const r = await runCli(['eval'], `${lines.join('\n')}\n`);
  t.is(r.code, 0);
  const out = r.stdout.split('\n');
  t.is(out.pop(), '');
  t.is(out.length, lines.length);
  t.false(r.stdout.includes('\r'));
  t.true(out[0]!.startsWith('{"id":12345678901234567890,"attach"'));
  t.true(out[1]!.startsWith('{"id":-0.000000000000000000001e-5,"attach"'));
  t.true(out[2]!.startsWith('{"id":"a\\u0000\\"b","attach"'));
  t.true(out[3]!.startsWith('{"id":{"x":[1,2,3]},"attach"'));
  t.true(out[4]!.startsWith('{"id":2,"attach"'));
  t.true(out[5]!.startsWith('{"id":7,"attach"'));
  t.true(out[6]!.startsWith('{"id":1,"attach"'));
  t.regex(out[7]!, /^\{"id":null,"error":"line 8: not JSON/);
  t.regex(out[8]!, /^\{"id":null,"error":"line 9: empty line"\}$/);
  // the same through a real process, the input split into odd chunks by the pipe
  const s = spawnCli(['eval'], `${lines.join('\n')}\n`);
  t.is(s.stdout, r.stdout);
  // a line past the limit is reported, the next one answered
  const huge = await runCli(['eval'], [`{"id":1,"packet":"${'0'.repeat(9 * 1024 * 1024)}`, `"}\n{"id":2,"prog":"${PROG_HEX}","packet":"00"}\n`]);
  const h = huge.stdout.trim().split('\n');
  t.is(h.length, 2);
  t.regex(h[0]!, /longer than the 8388608 bytes a line may have/);
  t.true(h[1]!.startsWith('{"id":2,"attach"'));
});

// 10 ------------------------------------------------------------------------------------------

test('10. numbers are validated as the integers and durations they are', async (t) => {
  t.is(parseDuration('60s'), 60_000);
  t.is(parseDuration('250ms'), 250);
  t.is(parseDuration('1.5m'), 90_000);
  t.is(parseDuration('2'), 2000);
  t.is(parseDuration('0.5ms'), 1);
  for (const bad of ['0', '0s', '0.0001ms', '0.4ms', '-1s', '1e3', '99999999h', '1.5.2s', 's', '', ' ', '60 s', '0x10', 'Infinity', '9'.repeat(30)]) t.throws(() => parseDuration(bad), { message: /^--time / }, bad);
  t.deepEqual(parseShard('3/4'), { index: 3, count: 4 });
  for (const bad of ['99999999999999999999/99999999999999999999999', '4/4', '0/0', '-1/4', '1/2147483648', '1/', '/2', '1.0/2', '0/1/2']) t.throws(() => parseShard(bad), { message: /^--shard / }, bad);
  t.is(parseSeed('-2147483647'), -2147483647);
  for (const bad of ['2147483648', '-2147483648', '1.5', '1e3', '0x10', '', '99999999999999999999']) t.throws(() => parseSeed(bad), { message: /^--seed / }, bad);
  t.is(positiveInt('--workers', '8', 256), 8);
  for (const bad of ['0', '257', '-1', '1.0', '1e2', ' 1', '99999999999999999999']) t.throws(() => positiveInt('--workers', bad, 256), { message: /^--workers / }, bad);
  for (const args of [
    ['fuzz', '--time', '0.0001ms'],
    ['fuzz', '--shard', '99999999999999999999/99999999999999999999999'],
    ['fuzz', '--runs', '0'],
    ['fuzz', '--runs', '9007199254740993'],
    ['fuzz', '--workers', '0'],
    ['fuzz', '--packets-per-program', '4097'],
    ['fuzz', '--seed', '2147483648'],
    ['kdiff', '--time', '0.0001ms'],
    ['kdiff', '--packets-per-program', '0'],
    ['kdiff', '--workers', '1000'],
    ['kdiff', '--spec-check', '0'],
    ['kdiff', '--spec-check', 'most'],
    ['eval', '--optmem-max', '99999999999'],
  ])
    badInput(t, await runCli(args), /^bpfspec: --/, args.join(' '));
});

// 11 ------------------------------------------------------------------------------------------

test('11. commander errors are one line starting bpfspec:, no suggestions; bpfspec alone prints a short usage', (t) => {
  const cases: [string[], RegExp][] = [
    [['fuzz', '--bogus'], /^bpfspec: fuzz: unknown option '--bogus'$/],
    [['corpus'], /^bpfspec: corpus: give a subcommand: merge, import \(bpfspec help corpus\)$/],
    [['corpus', 'frob'], /^bpfspec: corpus: unknown subcommand 'frob' \(merge, import\)$/],
    [['seccomp'], /^bpfspec: seccomp: give a subcommand: check, /],
    [['help', 'nosuch'], /^bpfspec: help: unknown command 'nosuch'/],
    [['nosuch'], /^bpfspec: unknown command 'nosuch'$/],
    [['check'], /^bpfspec: give a program FILE/],
    [['check', 'a', 'b'], /^bpfspec: check: too many arguments/],
    [['fmt', ex('tcp-port-80.dd')], /^bpfspec: fmt: required option '-t, --to <format>' not specified$/],
    [['fmt', ex('tcp-port-80.dd'), '--to'], /^bpfspec: fmt: option '-t, --to <format>' argument missing$/],
    [['run', ex('tcp-port-80.dd'), '--path', 'sideways', '--packet', '00'], /^bpfspec: run: option '--path <path>' argument 'sideways' is invalid/],
    [['corpus', 'merge'], /^bpfspec: corpus merge: missing required argument 'dirs'$/],
    [['--bogus'], /^bpfspec: unknown option '--bogus'$/],
  ];
  for (const [args, re] of cases) {
    const r = spawnCli(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.is(r.stdout, '', args.join(' '));
    const lines = r.stderr.split('\n');
    t.is(lines.length, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(lines[0]!, re, args.join(' '));
    t.notRegex(r.stderr, /Did you mean|Usage:/);
  }
  const usage = spawnCli([]);
  t.is(usage.code, 0);
  t.is(usage.stderr, '');
  t.regex(usage.stdout, /^Usage: bpfspec COMMAND/);
  const lines = usage.stdout.trim().split('\n');
  t.true(lines.length <= 20, `${lines.length} lines`);
  t.true(lines.every((l) => l.length <= 110));
  for (const c of ['check', 'run', 'migrate', 'fmt', 'compile', 'eval', 'fuzz', 'kdiff', 'replay', 'corpus', 'variants']) t.regex(usage.stdout, new RegExp(`^  ${c} `, 'm'));
  // help on request: the full text, exit 0
  for (const args of [['--help'], ['help'], ['help', 'run'], ['run', '--help'], ['help', 'corpus', 'merge']]) {
    const h = spawnCli(args);
    t.is(h.code, 0, args.join(' '));
    t.regex(h.stdout, /Usage: bpfspec/, args.join(' '));
    t.is(h.stderr, '');
  }
  t.is(spawnCli(['--version']).code, 0);
});

test('the eval, corpus merge and corpus import commands take --json, as the README says', async (t) => {
  const e = await runCli(['eval', '--json'], `{"id":1,"prog":"${PROG_HEX}","packet":"00"}\n`);
  t.is(e.code, 0);
  t.like(JSON.parse(e.stdout), { id: 1, classic: 7 });
  const out = dir('merged');
  const m = await runCli(['corpus', 'merge', resolve(projectRoot, 'corpus/divergences'), '-o', out, '--json']);
  t.is(m.code, 0, m.stderr);
  const entries = readdirSync(resolve(projectRoot, 'corpus/divergences')).filter((f) => f.endsWith('.json')).length;
  t.like(JSON.parse(m.stdout), { read: entries, written: entries, duplicates: 0, invalid: [] });
  const i = await runCli(['corpus', 'import', ex('tcp-port-80.dd'), '--pcap', ex('http.pcap'), '-o', dir('imported'), '--json']);
  t.is(i.code, 0, i.stderr);
  const j = JSON.parse(i.stdout) as { programs: number; packets: number; created: number; files: string[] };
  t.like(j, { programs: 1, packets: 5, created: 1 });
  t.true(statSync(j.files[0]!).isFile());
});

// found by the long run (seed 16): migrate converted programs the checker rejects ---------------

test('migrate never converts a program bpf_check_classic rejects (a scratch slot out of range crashed it)', async (t) => {
  // st M[4294967276]: bpf_check_classic rejects the slot; bpf_convert_filter must never see it
  for (const args of [[], ['--json']]) {
    const r = await runCli(['migrate', file('st.asm', 'ld #1\nst M[4294967276]\nret a\n'), ...args]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stderr, '');
    if (args.length === 0) {
      t.regex(r.stdout, /^\(000\) ld       #0x1\n\(001\) st       M\[-20\]\n\(002\) ret\s*\n\nattach \(optmem_max 20480\): rejected: -EINVAL /);
      t.notRegex(r.stdout, /eBPF|interpreter/);
    } else t.like(JSON.parse(r.stdout), { attach: { errno: 22 }, insns: [{ ebpf: [] }, { ebpf: [] }, { ebpf: [] }] });
  }
});

// found by the long run (seed 20261207): seccomp real on a file that is not a seccomp entry -------

test('seccomp real FILE that is not JSON, not an entry or not a seccomp entry: one line naming the file, exit 2', async (t) => {
  const notJson = file('cap', new Uint8Array([1, 2, 3]));
  badInput(t, await runCli(['seccomp', 'real', '--json', notJson]), /cap: not JSON/, 'not JSON');
  badInput(t, await runCli(['seccomp', 'real', file('e.json', '{}')]), /e\.json: not a corpus entry/, 'not an entry');
  const socketEntries = resolve(projectRoot, 'corpus/divergences');
  badInput(t, await runCli(['seccomp', 'real', socketEntries]), /divergences\/.*\.json: not a seccomp entry/, 'a socket entry');
});
