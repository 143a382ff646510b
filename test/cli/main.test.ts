// End-to-end tests of the bpfspec command, run as a user would run it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../_shared.js';
import { runFailed, runJson, runPackets, runText } from '../../cli/commands/run.js';
import { DEFAULT_CONFIG } from '../../model/config.js';
import { variantConfig } from '../../model/variants.js';
import { runCli } from './_run.js';

const cli = resolve(projectRoot, 'dist/cli/main.js');
const ex = (f: string): string => resolve(projectRoot, 'examples', f);

function run(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { input, encoding: 'utf8', cwd: projectRoot });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const scratch = mkdtempSync(join(tmpdir(), 'bpfspec-cli-'));
const file = (name: string, body: string | Uint8Array): string => {
  const p = join(scratch, name);
  writeFileSync(p, body);
  return p;
};

// "tcp port 80" as libpcap compiled it: accepts TCP to or from port 80 over IPv4 or IPv6 with 0xffff.
// examples/http.pcap holds, in order: IPv4 TCP to port 80 (54 bytes), IPv4 TCP to 22, IPv4 UDP to 53,
// IPv6 TCP from port 80 (74 bytes), an ARP request.
test('run: tcp port 80 over the example capture', (t) => {
  const r = run(['run', ex('tcp-port-80.dd'), '--pcap', ex('http.pcap'), '--json']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { attach: { errno: number }; packets: { len: number; classic: number; kernel: number; agree: boolean }[] };
  t.is(j.attach.errno, 0);
  const want = [
    [54, 0xffff],
    [54, 0],
    [54, 0],
    [74, 0xffff],
    [42, 0],
  ];
  t.deepEqual(
    j.packets.map((p) => [p.len, p.classic]),
    want,
  );
  t.deepEqual(
    j.packets.map((p) => [p.len, p.kernel]),
    want,
  );
  t.true(j.packets.every((p) => p.agree));
});

test('run: text output says what the socket does with each packet', (t) => {
  const r = run(['run', ex('tcp-port-80.dd'), '--pcap', ex('http.pcap')]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(lines.length, 6);
  t.is(lines[5], "5 packets: 2 accepted (0 of them truncated to the filter's snaplen), 3 dropped (by the kernel path, as the socket runs it)");
  t.regex(lines[0]!, /#1 \(54 bytes\): classic 65535 .*kernel 65535 .*agree; accepted, 54 of 54 bytes kept/);
  t.regex(lines[1]!, /#2 .*classic 0 .*dropped/);
  const k = run(['run', ex('tcp-port-80.dd'), '--pcap', ex('http.pcap'), '--path', 'kernel']);
  t.regex(k.stdout.split('\n')[0]!, /#1 \(54 bytes\): kernel 65535 .*accepted/);
  t.notRegex(k.stdout, /classic/);
});

test('run --trace prints one row per executed instruction', (t) => {
  // ld #7; ret a  — two steps, A = 7 after the first
  const prog = file('seven.asm', 'ld #7\nret a\n');
  const r = run(['run', prog, '--packet', '00', '--trace', '--json']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { packets: { classic: number; trace: { pc: number; A: number }[] }[] };
  t.is(j.packets[0]!.classic, 7);
  t.deepEqual(
    j.packets[0]!.trace.map((s) => s.pc),
    [0, 1],
  );
});

test('run --set reaches the skb: ld #ifidx with and without a device', (t) => {
  const prog = file('ifidx.asm', 'ld #7\nld #ifidx\nret a\n');
  const withDev = run(['run', prog, '--packet', '00', '--set', 'dev=5:1', '--json']);
  t.like((JSON.parse(withDev.stdout) as { packets: unknown[] }).packets[0], { classic: 5, kernel: 5, agree: true });
  // No device: classic semantics return 0 (old sk_run_filter); the v6.6 migrated program exits
  // with the current A, 7 (net/core/filter.c:377-386, kernel-spec R1).
  const noDev = run(['run', prog, '--packet', '00']);
  t.regex(noDev.stdout, /classic 0 .*kernel 7 .*DIFFER/);
});

test('migrate prints each classic instruction with its eBPF expansion and the verdict', (t) => {
  // ret #1 -> prologue (w0 ^= w0; w7 ^= w7; r6 = r1) + w0 = 1; exit (net/core/filter.c:595-627, 815-823)
  const r = run(['migrate', file('ret1.asm', 'ret #1\n')]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').map((l) => l.trim());
  t.deepEqual(lines.slice(0, 6), ['0: (ac) w0 ^= w0', '1: (ac) w7 ^= w7', '2: (bf) r6 = r1', '(000) ret      #1', '3: (b4) w0 = 1', '4: (95) exit']);
  t.true(lines.some((l) => /stack depth: 0 bytes; interpreter: __bpf_prog_run32/.test(l)));
  t.true(lines.some((l) => /attach \(optmem_max 20480\): accepted/.test(l)));
  const j = JSON.parse(run(['migrate', ex('tcp-port-80.dd'), '--json']).stdout) as { ebpf_len: number; attach: { errno: number } };
  t.is(j.attach.errno, 0);
  t.true(j.ebpf_len > 20);
});

test('check: accepted, rejected and the exit codes', (t) => {
  const ok = run(['check', ex('tcp-port-80.dd')]);
  t.is(ok.code, 0);
  t.regex(ok.stdout, /accepted \(20 instructions\)/);
  // div #0 is rejected by bpf_check_classic (net/core/filter.c: DIV_K with k == 0)
  const bad = run(['check', file('div0.asm', 'ld #1\ndiv #0\nret a\n'), '--json']);
  t.is(bad.code, 1);
  const j = JSON.parse(bad.stdout) as { attach: { errno: number; name: string; rule: string; pc: number } };
  t.deepEqual([j.attach.errno, j.attach.name, j.attach.rule, j.attach.pc], [22, 'EINVAL', 'div-by-zero-k', 1]);
});

test('fmt converts between formats and writes files atomically', (t) => {
  const r = run(['fmt', ex('tcp-port-80.dd'), '--to', 'bytecode']);
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.startsWith('20,40 0 0 12,'));
  const outPath = join(scratch, 'out.json');
  const w = run(['fmt', ex('tcp-port-80.dd'), '--to', 'json', '-o', outPath]);
  t.is(w.code, 0, w.stderr);
  const prog = JSON.parse(readFileSync(outPath, 'utf8')) as { code: number }[];
  t.is(prog.length, 20);
  t.is(prog[0]!.code, 0x28);
});

test('bad input: one line naming the problem, exit code 2, no stack trace', (t) => {
  const cases: [string[], RegExp][] = [
    [['check', join(scratch, 'missing.bpf')], /missing\.bpf: no such file/],
    [['check', file('bad.asm', 'ld #1\nfrobnicate\n')], /bad\.asm:2/],
    [['check', ex('tcp-port-80.dd'), '--format', 'yaml'], /yaml/],
    [['run', ex('tcp-port-80.dd'), '--packet', 'zz'], /--packet 1/],
    [['run', ex('tcp-port-80.dd')], /--packet/],
    [['run', ex('tcp-port-80.dd'), '--pcap', file('corrupt.pcap', Uint8Array.of(1, 2, 3))], /corrupt\.pcap/],
    [['run', ex('tcp-port-80.dd'), '--packet', '00', '--set', 'colour=1'], /colour/],
    [['run', ex('tcp-port-80.dd'), '--packet', '00', '--skb', 'wifi'], /preset/],
    [['eval', '--arch', 'vax'], /--arch vax/],
    [['eval', '--optmem-max', 'lots'], /--optmem-max/],
    [['check', ex('tcp-port-80.dd'), '--bogus'], /unknown option/],
    [['frobnicate'], /unknown command/],
    [['fmt', ex('tcp-port-80.dd'), '--to', 'xml'], /xml/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re, args.join(' '));
    t.is(r.stderr.trim().split('\n').length, 1, `${args.join(' ')} printed more than one line: ${r.stderr}`);
    t.notRegex(r.stderr, /\n\s+at /);
  }
});

test('eval: one output line per input line, in order; bad lines give error objects', (t) => {
  // ld #7; ret a  as a little-endian image: 00 00 00 00 07 00 00 00 | 16 00 00 00 00 00 00 00
  const prog = '0000000007000000' + '1600000000000000';
  const div0 = '0000000001000000' + '3400000000000000' + '1600000000000000';
  const input = [
    JSON.stringify({ id: 1, prog, packet: '' }),
    'not json',
    JSON.stringify({ id: 'x', prog: '00', packet: '' }),
    JSON.stringify({ id: 3, prog: div0, packet: '00' }),
    JSON.stringify({ id: 4, prog, packet: '00', skb: { mark: -1 } }),
    JSON.stringify({ id: 5, prog, packet: 'abcd', skb: { preset: 'ethernet', cpu: 1 } }),
  ].join('\n');
  const r = run(['eval'], `${input}\n`);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(lines.length, 6);
  t.deepEqual(lines[0], { id: 1, attach: { errno: 0, name: null, stage: null, rule: null, pc: null, at: null }, classic: 7, kernel: 7, agree: true });
  t.regex(String(lines[1]!.error), /not JSON/);
  t.is(lines[2]!.id, 'x');
  t.regex(String(lines[2]!.error), /multiple of 8/);
  t.is((lines[3]!.attach as { errno: number }).errno, 22);
  t.is(lines[3]!.classic, null);
  t.is(lines[3]!.kernel, null);
  t.is(lines[3]!.agree, null);
  t.regex(String(lines[4]!.error), /mark/);
  t.is(lines[5]!.classic, 7);
});

// Output that says what happened (#15) ----------------------------------------------------------

test('run: a difference names the catalogued divergence that explains it and says the socket uses the kernel path', async (t) => {
  const prog = file('ifidx2.asm', 'ld #7\nld #ifidx\nret a\n');
  const r = await runCli(['run', prog, '--packet', '00']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /classic 0 .*kernel 7 .*DIFFER \(catalogued divergence dev-null-exit-a explains it; the socket uses the kernel path's result\); accepted, 1 of 1 bytes kept/);
  const j = JSON.parse((await runCli(['run', prog, '--packet', '00', '--json'])).stdout) as { socket_uses: string; packets: { divergences: string[]; explained: boolean; predicted: number }[] };
  t.is(j.socket_uses, 'kernel');
  t.like(j.packets[0], { divergences: ['dev-null-exit-a'], explained: true, predicted: 7 });
});

test('run: an attach divergence is named; the kernel rejects, so the socket gets no filter (exit 1)', async (t) => {
  const entry = JSON.parse(readFileSync(resolve(projectRoot, 'corpus/divergences/optmem-exceeded.json'), 'utf8')) as { program: { hex: string } };
  const prog = file('optmem.hex', entry.program.hex);
  const r = await runCli(['run', prog, '--packet', '00']);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stdout, /^kernel path: rejected: -ENOMEM optmem-exceeded .*; catalogued divergence optmem-exceeded; SO_ATTACH_FILTER fails, so the socket gets no filter/);
  t.regex(r.stdout, /packet 1 \(1 bytes\): classic \d+ .*the socket has no filter/);
  const j = JSON.parse((await runCli(['run', prog, '--packet', '00', '--json'])).stdout) as Record<string, unknown>;
  t.like(j, { attach_divergence: 'optmem-exceeded', socket_uses: null, totals: null, attach: { errno: 12, rule: 'optmem-exceeded' } });
});

test('run: a difference no catalogue entry explains is reported as unexplained, exit 1', (t) => {
  // the reciprocal-divide variant (3.14's DIV_K) changes the classic evaluator only: no catalogue entry covers it
  const config = variantConfig(DEFAULT_CONFIG, 'reciprocal-divide');
  const prog = [
    // ld #5; div #1; ret a: reciprocal_value(1) is 0 (2^32 does not fit), so 3.14's A / 1 gives 0
    { code: 0x00, jt: 0, jf: 0, k: 5 },
    { code: 0x34, jt: 0, jf: 0, k: 1 },
    { code: 0x16, jt: 0, jf: 0, k: 0 },
  ];
  const res = runPackets(prog, [{ data: Uint8Array.of(0), label: 'packet 1', preset: 'af_unix' }], { config, skb: {}, trace: false, path: 'both' });
  const p = res.results[0]!;
  t.is(p.classic, 0);
  t.is(p.kernel, 5);
  t.deepEqual(p.explained?.divergences, []);
  t.true(runFailed(res, 'both'));
  t.regex(runText(prog, res, 'both'), /DIFFER \(no catalogued divergence applies: unexplained; the socket uses the kernel path's result\)/);
  t.like(runJson(res).packets, [{ explained: false, divergences: [] }]);
});

/** A pcap with these (captured bytes, wire length) records. */
function pcapOf(linktype: number, records: [Uint8Array, number][]): Uint8Array {
  const parts = [Buffer.alloc(24)];
  parts[0]!.writeUInt32LE(0xa1b2c3d4, 0);
  parts[0]!.writeUInt16LE(2, 4);
  parts[0]!.writeUInt16LE(4, 6);
  parts[0]!.writeUInt32LE(65535, 16);
  parts[0]!.writeUInt32LE(linktype, 20);
  for (const [data, len] of records) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(data.length, 8);
    h.writeUInt32LE(len, 12);
    parts.push(h, Buffer.from(data));
  }
  return new Uint8Array(Buffer.concat(parts));
}

test('run --pcap: totals at the end, warnings for cut captures and non-Ethernet link types, all of it in --json', async (t) => {
  // ret #10: accepts 10 bytes of each packet (the 4-byte one whole)
  const prog = file('ret10.asm', 'ret #10\n');
  const cap = file('mixed.pcap', pcapOf(101, [[new Uint8Array(4), 4], [new Uint8Array(20), 60], [new Uint8Array(30), 30]]));
  const r = await runCli(['run', prog, '--pcap', cap]);
  t.is(r.code, 0, r.stderr);
  const err = r.stderr.trim().split('\n');
  t.is(err.length, 2);
  t.regex(err[0]!, /^bpfspec: warning: .*mixed\.pcap: 1 of 3 packets were cut at capture time/);
  t.regex(err[1]!, /^bpfspec: warning: .*mixed\.pcap: link type 101 RAW \(IP\), not Ethernet/);
  t.regex(r.stdout, /#2 \(20 bytes of 60 on the wire\)/);
  t.regex(r.stdout.trim().split('\n').pop()!, /^3 packets: 3 accepted \(2 of them truncated to the filter's snaplen\), 0 dropped \(by the kernel path, as the socket runs it\)$/);
  const j = JSON.parse((await runCli(['run', prog, '--pcap', cap, '--json'])).stdout) as Record<string, unknown>;
  t.like(j, { totals: { packets: 3, accepted: 3, dropped: 0, truncated: 2 }, capture: { format: 'pcap', linktypes: [101], cut: 1 }, socket_uses: 'kernel' });
  t.is((j.warnings as string[]).length, 2);
  t.like((j.packets as unknown[])[1], { len: 20, orig_len: 60 });
  // an Ethernet capture with nothing cut: no warning
  const clean = await runCli(['run', prog, '--pcap', ex('http.pcap')]);
  t.is(clean.stderr, '');
});

test('a raw image of the wrong byte order and a capture given as a program get messages that say so', async (t) => {
  const tcp80 = resolve(projectRoot, 'examples/tcp-port-80.dd');
  const big = file('big.bin', Buffer.from((await runCli(['fmt', tcp80, '--to', 'raw', '--endian', 'big'])).stdout, 'latin1'));
  const r = await runCli(['check', big]);
  t.is(r.code, 2);
  t.regex(r.stderr, /^bpfspec: .*big\.bin: read little-endian, this raw image is a program the kernel rejects; read big-endian it is accepted: the image looks big-endian \(give --endian big, or --endian little to read it as it is\)\n$/);
  t.is((await runCli(['check', big, '--endian', 'big'])).code, 0);
  const asIs = await runCli(['check', big, '--endian', 'little']);
  t.is(asIs.code, 1);
  t.regex(asIs.stderr, /^bpfspec: warning: .*read little-endian/);
  for (const capture of [ex('http.pcap'), ex('http.pcapng')]) {
    const c = await runCli(['check', capture]);
    t.is(c.code, 2);
    t.regex(c.stderr, /this is a pcap(ng)? capture, not a program \(packets go to --pcap FILE/);
    t.notRegex(c.stderr, /multiple of 8/);
  }
});
