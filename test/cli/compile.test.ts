// `bpfspec compile` and --expr: the system libpcap's pcap_compile through cli/compile/pcap_compile.c,
// checked byte for byte against tcpdump itself (`tcpdump -d/-dd/-ddd -r` an Ethernet capture whose
// header carries the snaplen and link type), and against the 54 real filters libpcap compiled for
// ../shared/corpus-seeds (snaplen 65535).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compileExpression, compileMissing, compileOptions, DEFAULT_COMPILE } from '../../cli/compile/index.js';
import { printProgram } from '../../cli/formats/index.js';
import { projectRoot, sharedDir } from '../_shared.js';
import { requires, sharedMissing } from '../_skip.js';
import { runCli, spawnCli } from './_run.js';

// in this process (main with captured streams): one Node start-up for all the runs below
const run = runCli;

const libpcapMissing = compileMissing();
const tcpdumpMissing = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0 ? null : 'tcpdump (Debian: tcpdump)';
const bothMissing = libpcapMissing ?? tcpdumpMissing;

const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-compile-'));

/** An empty pcap savefile with this snaplen and LINKTYPE_* (tcpdump -r compiles for them). */
function emptyPcap(snaplen: number, linktype: number): string {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  b.writeUInt32LE(snaplen, 16);
  b.writeUInt32LE(linktype, 20);
  const p = join(scratch, `empty-${snaplen}-${linktype}.pcap`);
  writeFileSync(p, b);
  return p;
}

/** tcpdump's own dump of an expression, reading a capture of that snaplen and link type. */
function tcpdump(flag: '-d' | '-dd' | '-ddd', expr: string, snaplen = 262144, linktype = 1, optimize = true): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('tcpdump', [flag, ...(optimize ? [] : ['-O']), '-r', emptyPcap(snaplen, linktype), expr], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const EXPRESSIONS = [
  'tcp',
  'tcp port 80',
  'ip and udp and dst port 53',
  'icmp or arp',
  'portrange 1000-2000',
  'not (tcp or udp or icmp)',
  'ether host 01:02:03:04:05:06',
  'net 10.0.0.0/8 and not port 22',
  'ip[2:2] > 576',
  'greater 1000',
  'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0',
  'tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420',
  'ip[2:2] % 7 == 3',
  'vlan 100 and ip',
  'ip6 protochain 6',
  'ip broadcast',
  '',
];

/** The expressions of ../shared/corpus-seeds/tcpdump_filters.jsonl with libpcap's programs (snaplen 65535). */
const seeds: { expr: string; insns: { code: number; jt: number; jf: number; k: number }[] }[] =
  sharedDir === null
    ? []
    : readFileSync(join(sharedDir, 'corpus-seeds/tcpdump_filters.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as { expr?: string; insns?: { code: number; jt: number; jf: number; k: number }[] })
        .filter((o): o is { expr: string; insns: { code: number; jt: number; jf: number; k: number }[] } => typeof o.expr === 'string' && Array.isArray(o.insns));

requires(bothMissing, 'compile prints exactly what tcpdump -ddd, -dd and -d print on an Ethernet capture (defaults: EN10MB, snaplen 262144, optimized)', async (t) => {
  const all = [...EXPRESSIONS, ...seeds.map((s) => s.expr)];
  for (const expr of all) {
    const ours = await run(['compile', expr]);
    const theirs = tcpdump('-ddd', expr);
    t.is(ours.code, 0, `${expr}: ${ours.stderr}`);
    t.is(theirs.code, 0, `${expr}: ${theirs.stderr}`);
    t.is(ours.stdout, theirs.stdout, expr);
  }
  // and once as a real process
  const spawned = spawnCli(['compile', 'tcp port 80']);
  t.is(spawned.code, 0, spawned.stderr);
  t.is(spawned.stdout, tcpdump('-ddd', 'tcp port 80').stdout);
  for (const expr of EXPRESSIONS) {
    t.is((await run(['compile', expr, '--to', 'tcpdump-dd'])).stdout, tcpdump('-dd', expr).stdout, `-dd ${expr}`);
    t.is((await run(['compile', expr, '--to', 'tcpdump-d'])).stdout, tcpdump('-d', expr).stdout, `-d ${expr}`);
  }
});

requires(bothMissing, '--snaplen, --no-optimize and --linktype match tcpdump -ddd on captures of that snaplen and link type', async (t) => {
  for (const expr of ['tcp port 80', 'ip and udp', 'host 10.0.0.1']) {
    t.is((await run(['compile', expr, '--snaplen', '65535'])).stdout, tcpdump('-ddd', expr, 65535).stdout, `snaplen ${expr}`);
    t.is((await run(['compile', expr, '--no-optimize'])).stdout, tcpdump('-ddd', expr, 262144, 1, false).stdout, `-O ${expr}`);
    // LINKTYPE_RAW is 101 in a file, DLT_RAW (12 on Linux) in pcap_compile; LINKTYPE_LINUX_SLL 113
    t.is((await run(['compile', expr, '--linktype', 'RAW'])).stdout, tcpdump('-ddd', expr, 262144, 101).stdout, `RAW ${expr}`);
    t.is((await run(['compile', expr, '--linktype', 'LINUX_SLL'])).stdout, tcpdump('-ddd', expr, 262144, 113).stdout, `LINUX_SLL ${expr}`);
  }
});

requires(libpcapMissing ?? sharedMissing, "compileExpression with snaplen 65535 gives libpcap's programs of ../shared/corpus-seeds", async (t) => {
  t.true(seeds.length >= 50);
  const opts = { ...DEFAULT_COMPILE, snaplen: 65535 };
  for (const s of seeds) {
    const c = compileExpression(s.expr, opts);
    // the seeds were compiled with PCAP_NETMASK_UNKNOWN; no seed expression depends on the netmask
    t.true(c.ok, s.expr);
    if (c.ok) t.deepEqual(c.prog, s.insns, s.expr);
  }
});

requires(bothMissing, "a bad expression: libpcap's own error text, one line, exit 2 (as tcpdump reports it)", async (t) => {
  for (const expr of ['tcp port', 'host 999.1.1.1', 'ether proto nosuch', 'ip6 and tcp[tcpflags] & tcp-syn != 0', 'tcp[', 'port 99999']) {
    const ours = await run(['compile', expr]);
    const theirs = tcpdump('-ddd', expr);
    t.is(ours.code, 2, expr);
    t.is(ours.stdout, '');
    t.is(ours.stderr.split('\n').length, 2, `${expr}: ${ours.stderr}`);
    // tcpdump: "tcpdump: can't parse filter expression: syntax error"
    const libpcapText = theirs.stderr.trim().split('\n').pop()!.replace(/^tcpdump: /, '');
    t.is(ours.stderr, `bpfspec: compile ${JSON.stringify(expr)}: ${libpcapText}\n`, expr);
  }
  const bad = await run(['compile', 'ip', '--linktype', 'NOSUCH']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^bpfspec: compile "ip": unknown link type 'NOSUCH'/);
  t.is((await run(['compile', 'ip', '--snaplen', '0'])).code, 2);
  t.is((await run(['compile', 'ip', '--linktype', 'EN 10MB'])).code, 2);
});

requires(libpcapMissing, '--expr wherever a program is read: check, run, migrate, fmt, corpus import, and "expr" in eval lines', async (t) => {
  const tcp80 = compileExpression('tcp port 80');
  t.true(tcp80.ok);
  if (!tcp80.ok) return;
  const c = await run(['check', '--expr', 'tcp port 80', '--json']);
  t.is(c.code, 0, c.stderr);
  t.like(JSON.parse(c.stdout), { expr: 'tcp port 80', insns: tcp80.prog.length, attach: { errno: 0 } });
  const r = await run(['run', '--expr', 'tcp port 80', '--pcap', resolve(projectRoot, 'examples/http.pcap'), '--json']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(
    (JSON.parse(r.stdout) as { packets: { kernel: number }[] }).packets.map((p) => p.kernel),
    [262144, 0, 0, 262144, 0],
  );
  t.is((await run(['migrate', '-e', 'tcp port 80'])).code, 0);
  t.is((await run(['fmt', '--expr', 'tcp port 80', '--to', 'bpf_asm'])).stdout, String(printProgram(tcp80.prog, 'bpf_asm')));
  const dir = mkdtempSync(join(scratch, 'import-'));
  const imp = await run(['corpus', 'import', '--expr', 'tcp port 80', '--pcap', resolve(projectRoot, 'examples/http.pcap'), '-o', dir, '--json']);
  t.is(imp.code, 0, imp.stderr);
  t.like(JSON.parse(imp.stdout), { programs: 1, packets: 5, created: 1 });
  const e = await run(['eval'], `${JSON.stringify({ id: 1, expr: 'tcp port 80', packet: '00' })}\n${JSON.stringify({ id: 2, expr: 'tcp port', packet: '00' })}\n${JSON.stringify({ id: 3, expr: 'ip', linktype: 'RAW', packet: '45' })}\n`);
  const lines = e.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(lines.length, 3);
  t.like(lines[0], { id: 1, classic: 0, kernel: 0, attach: { errno: 0 } });
  t.like(lines[1], { id: 2, error: '"expr": can\'t parse filter expression: syntax error' });
  t.like(lines[2], { id: 3, classic: 262144, kernel: 262144 });
  // a bad expression: libpcap's text, exit 2; FILE and --expr together, or expression options without --expr: exit 2
  const bad = await run(['check', '--expr', 'tcp port']);
  t.is(bad.code, 2);
  t.is(bad.stderr, 'bpfspec: --expr "tcp port": can\'t parse filter expression: syntax error\n');
  t.is((await run(['check', 'x.bpf', '--expr', 'tcp'])).code, 2);
  t.is((await run(['check', resolve(projectRoot, 'examples/tcp-port-80.dd'), '--linktype', 'RAW'])).code, 2);
});

test('compile options are validated before libpcap runs', (t) => {
  t.deepEqual(compileOptions({}), DEFAULT_COMPILE);
  t.deepEqual(compileOptions({ linktype: 'RAW', snaplen: '96', optimize: false }), { linktype: 'RAW', snaplen: 96, optimize: false, netmask: 0 });
  for (const bad of [{ snaplen: '0' }, { snaplen: '-1' }, { snaplen: '1e5' }, { snaplen: '99999999999' }, { linktype: '' }, { linktype: 'a b' }, { linktype: '__proto__'.repeat(10) }])
    t.throws(() => compileOptions(bad), { message: /^--(snaplen|linktype) / });
});
