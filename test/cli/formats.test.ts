// Tests for cli/formats: tcpdump -d/-dd/-ddd, bytecode, raw, hex, json, detection and error text.
// Expected texts are worked out by hand from libpcap's bpf_image.c / bpf_dump.c format strings
// (cited per test) or taken from outside vectors under ../shared.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { checkExpressible, detectFormat, FORMAT_NAMES, formatError, parseProgram, printProgram, type FormatName } from '../../cli/formats/index.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { hex, projectRoot, sharedDir } from '../_shared.js';
import { requires, sharedMissing } from '../_skip.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ins = (code: number, jt: number, jf: number, k: number): SockFilter => ({ code, jt, jf, k });
const parseText = (s: string, f?: FormatName) => parseProgram(enc(s), f);
const errOf = (s: string | Uint8Array, f?: FormatName) => {
  const r = parseProgram(typeof s === 'string' ? enc(s) : s, f);
  if (r.ok) throw new Error(`expected a parse error, got ${JSON.stringify(r.prog)}`);
  return r.error;
};

// The filter "tcp" as libpcap 1.10.3 compiles it (shared seed #0, shown in -dd form in the seed file).
const TCP: SockFilter[] = [
  ins(0x28, 0, 0, 12), ins(0x15, 0, 2, 0x800), ins(0x30, 0, 0, 23), ins(0x15, 6, 7, 6), ins(0x15, 0, 6, 0x86dd), ins(0x30, 0, 0, 20),
  ins(0x15, 3, 0, 6), ins(0x15, 0, 3, 0x2c), ins(0x30, 0, 0, 54), ins(0x15, 0, 1, 6), ins(0x6, 0, 0, 0xffff), ins(0x6, 0, 0, 0),
];
// bpf_image: "(%03d) %-8s %s" and, for conditional jumps, "(%03d) %-8s %-16s jt %d\tjf %d" with
// absolute targets n+1+jt / n+1+jf; jeq #k is "#0x%x", ret #k is "#%d", ld* [k] is "[%d]".
const TCP_D = [
  '(000) ldh      [12]',
  '(001) jeq      #0x800           jt 2\tjf 4',
  '(002) ldb      [23]',
  '(003) jeq      #0x6             jt 10\tjf 11',
  '(004) jeq      #0x86dd          jt 5\tjf 11',
  '(005) ldb      [20]',
  '(006) jeq      #0x6             jt 10\tjf 7',
  '(007) jeq      #0x2c            jt 8\tjf 11',
  '(008) ldb      [54]',
  '(009) jeq      #0x6             jt 10\tjf 11',
  '(010) ret      #65535',
  '(011) ret      #0',
  '',
].join('\n');
// bpf_dump option 2: "{ 0x%x, %d, %d, 0x%08x },\n" (the seed file's lines for #0).
const TCP_DD = `{ 0x28, 0, 0, 0x0000000c },
{ 0x15, 0, 2, 0x00000800 },
{ 0x30, 0, 0, 0x00000017 },
{ 0x15, 6, 7, 0x00000006 },
{ 0x15, 0, 6, 0x000086dd },
{ 0x30, 0, 0, 0x00000014 },
{ 0x15, 3, 0, 0x00000006 },
{ 0x15, 0, 3, 0x0000002c },
{ 0x30, 0, 0, 0x00000036 },
{ 0x15, 0, 1, 0x00000006 },
{ 0x6, 0, 0, 0x0000ffff },
{ 0x6, 0, 0, 0x00000000 },
`;
// bpf_dump option 3: "%d\n" then "%u %u %u %u\n".
const TCP_DDD = '12\n40 0 0 12\n21 0 2 2048\n48 0 0 23\n21 6 7 6\n21 0 6 34525\n48 0 0 20\n21 3 0 6\n21 0 3 44\n48 0 0 54\n21 0 1 6\n6 0 0 65535\n6 0 0 0\n';

test('tcpdump -d/-dd/-ddd of the "tcp" filter: print exactly, parse back exactly', (t) => {
  for (const [f, text] of [['tcpdump-d', TCP_D], ['tcpdump-dd', TCP_DD], ['tcpdump-ddd', TCP_DDD]] as const) {
    t.is(printProgram(TCP, f), text, f);
    t.deepEqual(parseText(text), { ok: true, prog: TCP, format: f }, f);
  }
});

test('tcpdump -d: the filter "ip" listing from the libpcap docs round-trips byte for byte', (t) => {
  // anchors.md 3.1: (000) ldh [12] / (001) jeq #0x800 jt 2 jf 3 / (002) ret #96 / (003) ret #0, padded as bpf_image pads.
  const text = '(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #96\n(003) ret      #0\n';
  const r = parseText(text);
  t.deepEqual(r, { ok: true, prog: [ins(0x28, 0, 0, 12), ins(0x15, 0, 1, 0x800), ins(6, 0, 0, 96), ins(6, 0, 0, 0)], format: 'tcpdump-d' });
  t.is(printProgram((r as { prog: SockFilter[] }).prog, 'tcpdump-d'), text);
});

test('tcpdump -d: every operand form of bpf_image', (t) => {
  const SKF_AD = 0xfffff000;
  const cases: [SockFilter, string][] = [
    [ins(0x16, 0, 0, 0), '(000) ret      '], // BPF_RET|BPF_A: fmt "" (trailing blanks from %-8s and the space)
    [ins(0x06, 0, 0, 0xffffffff), '(000) ret      #-1'], // "#%d" of a u32
    [ins(0x20, 0, 0, SKF_AD + 0), '(000) ld       [proto]'], // bpf_print_abs_load_operand offsets[]
    [ins(0x30, 0, 0, SKF_AD + 48), '(000) ldb      [vlanp]'],
    [ins(0x20, 0, 0, SKF_AD + 56), '(000) ld       [random]'],
    [ins(0x28, 0, 0, SKF_AD + 40), '(000) ldh      [xor_x]'],
    [ins(0x20, 0, 0, SKF_AD + 2), '(000) ld       [-4094]'], // not a multiple of 4: no name, "[%d]"
    [ins(0x20, 0, 0, SKF_AD + 64), '(000) ld       [-4032]'], // SKF_AD_MAX: past the table
    [ins(0x80, 0, 0, 0), '(000) ld       #pktlen'],
    [ins(0x81, 0, 0, 0), '(000) ldx      #pktlen'],
    [ins(0x50, 0, 0, 0xfffffffe), '(000) ldb      [x + -2]'],
    [ins(0x00, 0, 0, 0xdeadbeef), '(000) ld       #0xdeadbeef'],
    [ins(0x01, 0, 0, 0), '(000) ldx      #0x0'],
    [ins(0xb1, 0, 0, 14), '(000) ldxb     4*([14]&0xf)'],
    [ins(0x60, 0, 0, 15), '(000) ld       M[15]'],
    [ins(0x03, 0, 0, 1), '(000) stx      M[1]'],
    [ins(0x05, 0, 0, 0xffffffff), '(000) ja       0'], // n + 1 + k wraps to 0
    [ins(0x3d, 1, 255, 0), '(000) jge      x                jt 2\tjf 256'],
    [ins(0x45, 0, 0, 0x1fff), '(000) jset     #0x1fff          jt 1\tjf 1'],
    [ins(0x94, 0, 0, 7), '(000) mod      #7'],
    [ins(0xa4, 0, 0, 0x11), '(000) xor      #0x11'],
    [ins(0x74, 0, 0, 0x80000000), '(000) rsh      #-2147483648'],
    [ins(0x84, 0, 0, 0), '(000) neg      '],
    [ins(0x87, 0, 0, 0), '(000) txa      '],
    [ins(0x0e, 0, 0, 0), '(000) unimp    0xe'], // BPF_RET|BPF_X: not in bpf_image's switch
    [ins(0xffff, 0, 0, 0), '(000) unimp    0xffff'],
    [ins(0x55, 3, 4, 0), '(000) unimp    0x55             jt 4\tjf 5'], // class JMP, op != JA: jt/jf printed
  ];
  for (const [insn, line] of cases) {
    t.is(printProgram([insn], 'tcpdump-d'), `${line}\n`, line);
    t.deepEqual(parseText(`${line}\n`, 'tcpdump-d'), { ok: true, prog: [insn], format: 'tcpdump-d' }, line);
  }
  // Instruction numbers wider than %03d.
  const long = Array.from({ length: 1001 }, () => ins(0x87, 0, 0, 0));
  t.true((printProgram(long, 'tcpdump-d') as string).endsWith('(1000) txa      \n'));
});

test('tcpdump -d is lossy for fields bpf_image does not print; checkExpressible names the instruction', (t) => {
  const prog = [ins(0x0c, 0, 0, 5), ins(0x06, 0, 0, 0)];
  t.deepEqual(parseText(printProgram(prog, 'tcpdump-d') as string), { ok: true, prog: [ins(0x0c, 0, 0, 0), prog[1]!], format: 'tcpdump-d' });
  t.deepEqual(checkExpressible(prog, 'tcpdump-d'), { message: 'insn 0: tcpdump -d does not show k 5 of code 0xc', insn: 0 });
  t.is(checkExpressible([ins(0x28, 1, 0, 12)], 'tcpdump-d')?.insn, 0);
  t.is(checkExpressible(TCP, 'tcpdump-d'), null);
  for (const f of ['tcpdump-dd', 'tcpdump-ddd', 'bytecode', 'raw', 'hex', 'json'] as const) t.is(checkExpressible(prog, f), null);
});

test('tcpdump -d: older libpcap numeric ancillary offsets and lenient spacing parse', (t) => {
  // ntop/PF_RING#141: "ldb [-4048]" is SKF_AD_OFF + 48 (vlan tag present).
  t.deepEqual(parseText('(000) ldb [-4048]\r\n\n(001) ret #0\n', 'tcpdump-d'), { ok: true, prog: [ins(0x30, 0, 0, 0xfffff030), ins(6, 0, 0, 0)], format: 'tcpdump-d' });
  t.deepEqual(parseText('(000) jeq #42 jt 1 jf 2\n', 'tcpdump-d'), { ok: true, prog: [ins(0x15, 0, 1, 42)], format: 'tcpdump-d' });
});

test('tcpdump -d errors name line and column', (t) => {
  t.deepEqual(errOf('(000) ldh [12]\n(002) ret #0\n', 'tcpdump-d'), { message: 'instruction number (002) out of sequence: expected (001)', line: 2, column: 1, insn: 1 });
  t.deepEqual(errOf('(000) ldz [12]\n', 'tcpdump-d'), { message: "unknown mnemonic 'ldz'", line: 1, column: 7, insn: 0 });
  t.deepEqual(errOf('(000) ldh #12\n', 'tcpdump-d'), { message: "bad operand '#12' for 'ldh'", line: 1, column: 11, insn: 0 });
  t.deepEqual(errOf('(000) jeq #0x1 jt 0 jf 1\n', 'tcpdump-d'), { message: 'jt target 0 is -1 insns after insn 1; jt must be 0..255', line: 1, column: 16, insn: 0 });
  t.deepEqual(errOf('(000) jeq #0x1 jt 1 jf 300\n', 'tcpdump-d').message, 'jf target 300 is 299 insns after insn 1; jf must be 0..255');
  t.deepEqual(errOf('(000) jeq #0x1\n', 'tcpdump-d').message, "'jeq' needs 'jt <target> jf <target>'");
  t.deepEqual(errOf('(000) ret #0 jt 1 jf 1\n', 'tcpdump-d').message, "'ret' takes no jt/jf targets");
  t.deepEqual(errOf('(000) unimp 0x10000\n', 'tcpdump-d').message, "bad unimp operand '0x10000': expected the opcode as 0x<hex> (at most 0xffff)");
  t.deepEqual(errOf('(000) ret #4294967296\n', 'tcpdump-d').message, 'number 4294967296 does not fit in 32 bits');
  t.deepEqual(errOf('(000) ret #0x100000000\n', 'tcpdump-d').message, 'number 0x100000000 does not fit in 32 bits');
  t.deepEqual(errOf('(000) ld [12z]\n', 'tcpdump-d').message, "bad number '12z'");
  t.deepEqual(errOf('ldh [12]\n', 'tcpdump-d'), { message: "not a tcpdump -d line: expected '(000) <mnemonic> <operand>'", line: 1, column: 1, insn: 0 });
});

test('tcpdump -dd: C literals, comments and bpf_asm -c spacing', (t) => {
  // bpf_asm -c prints "{ %#04x, %2u, %2u, %#010x }," so a zero code is "0000" (C's %#x drops 0x for 0).
  const text = '/* c */ # hash comment\n{ 0000,  0,  0, 0000000000 }, // x\n{ 0x15, 1, 2, 010 }\n{0X6,0,0,4294967295u},';
  t.deepEqual(parseText(text, 'tcpdump-dd'), { ok: true, prog: [ins(0, 0, 0, 0), ins(0x15, 1, 2, 8), ins(6, 0, 0, 0xffffffff)], format: 'tcpdump-dd' });
  t.deepEqual(errOf('{ 0x10000, 0, 0, 0 },', 'tcpdump-dd'), { message: 'code 0x10000 is out of range (max 65535)', line: 1, column: 3, insn: 0 });
  t.deepEqual(errOf('{ 0x6, 256, 0, 0 },', 'tcpdump-dd').message, 'jt 256 is out of range (max 255)');
  t.deepEqual(errOf('{ 0x6, 0, 0, 0x100000000 },', 'tcpdump-dd').message, 'k 0x100000000 is out of range (max 4294967295)');
  t.deepEqual(errOf('{ 0x6, 0, 0 },', 'tcpdump-dd'), { message: "expected ',' after the jf field, found '}'", line: 1, column: 13, insn: 0 });
  t.deepEqual(errOf('{ 0x6, 0, 0, 0 ', 'tcpdump-dd').message, "expected '}' after the k field, found end of input");
  t.deepEqual(errOf('{ 0x6, 0, 0, 0 },\nret', 'tcpdump-dd'), { message: "expected '{' to start an instruction, found 'r'", line: 2, column: 1, insn: 1 });
  t.deepEqual(errOf('{ 0x6, , 0, 0 },', 'tcpdump-dd').message, "expected the jt field, found ','");
  t.deepEqual(errOf('{ 0x6, 09, 0, 0 },', 'tcpdump-dd').message, "bad jt '09': expected a C integer literal");
  t.deepEqual(errOf('{ 0x6, 0, 0, 99999999999999999 },', 'tcpdump-dd').message, 'k 99999999999999999 is out of range (max 4294967295)');
});

test('tcpdump -ddd errors', (t) => {
  t.deepEqual(errOf('2\n6 0 0 0\n', 'tcpdump-ddd'), { message: 'the count line says 2 instructions but 1 follow', line: 1, column: 1 });
  t.deepEqual(errOf('1\n6 0 0\n', 'tcpdump-ddd'), { message: "expected 'code jt jf k' (4 decimal numbers), found 3 field(s)", line: 2, column: 1, insn: 0 });
  t.deepEqual(errOf('1\n6 0 0 x\n', 'tcpdump-ddd'), { message: "bad k 'x': expected an unsigned decimal number", line: 2, column: 7, insn: 0 });
  t.deepEqual(errOf('1\n6 0 256 0\n', 'tcpdump-ddd'), { message: 'jf 256 is out of range (max 255)', line: 2, column: 5, insn: 0 });
  t.deepEqual(errOf('six\n', 'tcpdump-ddd').message, "expected the instruction count on the first line, found 'six'");
  t.deepEqual(errOf('\n\n', 'tcpdump-ddd').message, 'empty input: expected the instruction count');
  t.deepEqual(parseText('0\n', 'tcpdump-ddd'), { ok: true, prog: [], format: 'tcpdump-ddd' });
});

test('bytecode: the xt_bpf example, trailing comma, newline separators, errors', (t) => {
  // libxt_bpf.man: '4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0' matches "ip proto 6" on a raw IP link.
  const prog = [ins(48, 0, 0, 9), ins(21, 0, 1, 6), ins(6, 0, 0, 1), ins(6, 0, 0, 0)];
  t.deepEqual(parseText('4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0'), { ok: true, prog, format: 'bytecode' });
  t.is(printProgram(prog, 'bytecode'), '4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\n');
  // bpf_asm's own output ends every tuple with ',' (bpf_pretty_print); tc reads `tcpdump -ddd | tr '\n' ','`.
  t.deepEqual(parseText('4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0,\n', 'bytecode'), { ok: true, prog, format: 'bytecode' });
  t.deepEqual(parseText(TCP_DDD, 'bytecode'), { ok: true, prog: TCP, format: 'bytecode' });
  t.deepEqual(errOf('3,6 0 0 0,6 0 0 0'), { message: 'the count says 3 instructions but 2 follow', line: 1, column: 1 });
  t.deepEqual(errOf('1,6 0 0 0,6 0 0 0'), { message: 'more instructions than the count 1 says', line: 1, column: 11, insn: 1 });
  t.deepEqual(errOf('2,6 0 0 0,,6 0 0 0', 'bytecode'), { message: "expected 'code jt jf k' (4 decimal numbers), found ''", line: 1, column: 11, insn: 1 });
  t.deepEqual(errOf('1,6 0 0 -1', 'bytecode'), { message: "bad k '-1': expected an unsigned decimal number", line: 1, column: 9, insn: 0 });
  t.deepEqual(errOf('1,65536 0 0 0', 'bytecode').message, 'code 65536 is out of range (max 65535)');
  t.deepEqual(errOf('x,6 0 0 0', 'bytecode').message, "expected the instruction count first, found 'x'");
  t.deepEqual(errOf(',6 0 0 0\n', 'bytecode').message, "expected the instruction count first, found ''");
  t.deepEqual(errOf(',\n', 'bytecode').message, 'empty bytecode: expected the instruction count first');
  t.deepEqual(errOf('\n', 'bytecode').message, 'empty bytecode: expected the instruction count first');
});

test('raw and hex: both byte orders, errors at the offending byte', (t) => {
  const prog = [ins(0x28, 0, 0, 12), ins(6, 1, 2, 0xffff)];
  const le = hex('2800 00 00 0c000000  0600 01 02 ffff0000');
  const be = hex('0028 00 00 0000000c  0006 01 02 0000ffff');
  t.deepEqual(printProgram(prog, 'raw'), le);
  t.deepEqual(printProgram(prog, 'raw', { endian: 'big' }), be);
  t.deepEqual(parseProgram(le), { ok: true, prog, format: 'raw' });
  t.deepEqual(parseProgram(be, 'raw', { endian: 'big' }), { ok: true, prog, format: 'raw' });
  t.is(printProgram(prog, 'hex'), '280000000c000000\n06000102ffff0000\n');
  t.is(printProgram(prog, 'hex', { endian: 'big' }), '002800000000000c\n000601020000ffff\n');
  t.deepEqual(parseText('28:00:00:00:0c:00:00:00\n0x06000102 FFFF0000', 'hex'), { ok: true, prog, format: 'hex' });
  t.deepEqual(errOf(le.subarray(0, 11)), { message: 'program image is 11 bytes, not a multiple of 8: 3 trailing bytes at offset 8 (insn 1 is incomplete)', insn: 1 });
  t.deepEqual(errOf('2800000000000c0g', 'hex'), { message: "bad hex: unexpected 'g'", line: 1, column: 16, insn: 0 });
  t.deepEqual(errOf('280', 'hex').message, 'bad hex: odd number of hex digits (3)');
  t.deepEqual(errOf('28000000', 'hex').message, 'program image is 4 bytes, not a multiple of 8: 4 trailing bytes at offset 0 (insn 0 is incomplete)');
});

test('json: array or {insns}, fields validated', (t) => {
  const prog = [ins(40, 0, 0, 12), ins(6, 0, 0, 0)];
  const text = '[\n  {"code":40,"jt":0,"jf":0,"k":12},\n  {"code":6,"jt":0,"jf":0,"k":0}\n]\n';
  t.is(printProgram(prog, 'json'), text);
  t.is(printProgram([], 'json'), '[]\n');
  t.deepEqual(parseText(text), { ok: true, prog, format: 'json' });
  t.deepEqual(parseText('{"id":0,"expr":"x","insns":[{"code":40,"jt":0,"jf":0,"k":12},{"code":6,"jt":0,"jf":0,"k":0}]}'), { ok: true, prog, format: 'json' });
  t.deepEqual(errOf('[{"code":40,"jt":0,"jf":0}]', 'json'), { message: 'insn 0 has no "k"', insn: 0 });
  t.deepEqual(errOf('[{"code":40,"jt":0,"jf":0,"k":4294967296}]', 'json').message, 'insn 0: k 4294967296 is not an integer in 0..4294967295');
  t.deepEqual(errOf('[{"code":1.5,"jt":0,"jf":0,"k":0}]', 'json').message, 'insn 0: code 1.5 is not an integer in 0..65535');
  t.deepEqual(errOf('[{"code":"6","jt":0,"jf":0,"k":0}]', 'json').message, 'insn 0: code "6" is not an integer in 0..65535');
  t.deepEqual(errOf('[{"code":6,"jt":-1,"jf":0,"k":0}]', 'json').message, 'insn 0: jt -1 is not an integer in 0..255');
  t.deepEqual(errOf('[{"code":6,"jt":0,"jf":0,"k":0,"x":1}]', 'json').message, "insn 0 has unknown key 'x' (only code, jt, jf, k)");
  t.deepEqual(errOf('[6]', 'json').message, 'insn 0 is not an object {code, jt, jf, k}');
  t.deepEqual(errOf('{"prog":[]}', 'json').message, 'JSON object has no "insns" array');
  t.deepEqual(errOf('"x"', 'json').message, 'JSON program must be an array of {code, jt, jf, k} or an object with an "insns" array');
  const bad = errOf('[\n  {"code":6,}\n]', 'json');
  t.true(bad.message.startsWith('bad JSON: '));
});

test('detectFormat tells the formats apart', (t) => {
  const cases: [string | Uint8Array, FormatName | null][] = [
    [TCP_D, 'tcpdump-d'],
    [TCP_DD, 'tcpdump-dd'],
    [`# comment\n${TCP_DD}`, 'tcpdump-dd'],
    [`/* a C comment\n   over lines */\n${TCP_DD}`, 'tcpdump-dd'],
    [`; bpf_asm comment\n/* c */ ldh [12]\n`, 'bpf_asm'],
    [TCP_DDD, 'tcpdump-ddd'],
    ['0\n', 'tcpdump-ddd'],
    ['4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0', 'bytecode'],
    ['[]', 'json'],
    ['{"insns":[]}', 'json'],
    ['{\n  "insns": []\n}', 'json'],
    ['280000000c000000\n0600000000000000\n', 'hex'],
    ['0600000000000000', 'hex'],
    ['ldh [12]\nret #0\n', 'bpf_asm'],
    ['start: ret #0', 'bpf_asm'],
    ['.insn 0x6, 0, 0, 0', 'bpf_asm'],
    [hex('0600000000000000'), 'raw'],
    [Uint8Array.of(0xff, 0xfe, 0x41), 'raw'],
    ['', null],
    ['\n# only a comment\n', null],
    ['hello world', null],
    ['{ what', null],
    ['{\n  x', null],
    ['5\n1 2 3 4\n', null],
  ];
  for (const [input, want] of cases) t.is(detectFormat(typeof input === 'string' ? enc(input) : input), want, String(input));
  t.deepEqual(errOf('hello world'), { message: `cannot tell the program format; name it (one of ${FORMAT_NAMES.join(', ')})` });
  t.deepEqual(errOf(''), { message: 'empty input' });
  t.deepEqual(errOf('x', 'nope' as FormatName), { message: "unknown format 'nope'" });
  t.throws(() => printProgram([], 'nope' as FormatName), { instanceOf: TypeError });
  t.throws(() => printProgram([ins(0x10000, 0, 0, 0)], 'json'), { instanceOf: RangeError });
});

test('formatError reads like a compiler message', (t) => {
  t.is(formatError({ message: "unknown mnemonic 'ldz'", line: 3, column: 7, insn: 2 }, 'f.bpf'), "f.bpf:3:7: unknown mnemonic 'ldz'");
  t.is(formatError({ message: 'm', line: 3 }, 'f'), 'f:3: m');
  t.is(formatError({ message: 'm', insn: 4 }, 'f'), 'f: insn 4: m');
  t.is(formatError({ message: 'm', line: 1, column: 2 }), '1:2: m');
  t.is(formatError({ message: 'm' }), 'm');
});

// Outside judges: libpcap 1.10.3's own -dd output and its JSON twin (../shared/corpus-seeds).
const seeds = (): { id: number; expr: string; insns: SockFilter[] }[] | null => {
  if (sharedDir === null) return null;
  return readFileSync(resolve(sharedDir, 'corpus-seeds/tcpdump_filters.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { id: number; expr: string; insns: SockFilter[] })
    .filter((o) => Array.isArray(o.insns));
};

requires(sharedMissing, 'every libpcap seed: the -dd block and the JSON record parse to the same program, and every format round-trips it', (t) => {
  const all = seeds()!;
  const dd = readFileSync(resolve(sharedDir!, 'corpus-seeds/tcpdump_filters.dd.txt'), 'utf8');
  const blocks = dd.split(/^# (\d+) .*$/m);
  const byId = new Map<number, string>();
  for (let i = 1; i < blocks.length; i += 2) byId.set(Number(blocks[i]), blocks[i + 1]!);
  t.is(all.length, 54);
  t.is(byId.size, 54);
  for (const s of all) {
    const block = byId.get(s.id)!;
    t.deepEqual(parseText(block), { ok: true, prog: s.insns, format: 'tcpdump-dd' }, `seed ${s.id} -dd`);
    // The seed file's block is exactly what printProgram writes.
    t.is(printProgram(s.insns, 'tcpdump-dd'), block.replace(/^\n/, ''), `seed ${s.id} -dd text`);
    const line = JSON.stringify(s);
    t.deepEqual(parseText(line), { ok: true, prog: s.insns, format: 'json' }, `seed ${s.id} json`);
    // Seed 35 ("tcp port 80 and (((ip[2:2] - ...") has insn 17 = { 0x7, 0, 0, 5 }: libpcap leaves k = 5 in
    // a tax, which bpf_image does not print and bpf_asm cannot write. Every other seed has no such field.
    const lossy = s.id === 35;
    t.is(s.insns[17]?.code === 0x7 && s.insns[17]?.k === 5, lossy, `seed ${s.id} tax with k`);
    for (const f of FORMAT_NAMES) {
      if (f === 'tcpdump-d' && lossy) continue;
      const out = printProgram(s.insns, f);
      const bytes = typeof out === 'string' ? enc(out) : out;
      t.is(detectFormat(bytes), f, `seed ${s.id} detect ${f}`);
      t.deepEqual(parseProgram(bytes), { ok: true, prog: s.insns, format: f }, `seed ${s.id} ${f}`);
    }
    t.is(checkExpressible(s.insns, 'tcpdump-d')?.insn ?? null, lossy ? 17 : null, `seed ${s.id} -d loses a field`);
    t.is(checkExpressible(s.insns, 'bpf_asm')?.insn ?? null, lossy ? 17 : null, `seed ${s.id} needs an .insn escape`);
    if (lossy) t.true((printProgram(s.insns, 'bpf_asm') as string).includes('\n.insn 0x7, 0, 0, 0x5\n'));
  }
});

test('examples/tcp-port-80.bpf is the bpf_asm form of libpcap\'s "tcp port 80" (seed #1)', (t) => {
  const all = seeds();
  const r = parseProgram(Uint8Array.from(readFileSync(resolve(projectRoot, 'examples/tcp-port-80.bpf'))));
  t.true(r.ok && r.format === 'bpf_asm');
  if (all === null) return;
  t.deepEqual(r.ok && r.prog, all.find((s) => s.id === 1)!.insns);
});
