// End-to-end tests of the bpfspec command, run as a user would run it.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { projectRoot } from '../_shared.js';

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
