// Tests for cli/formats/bpfasm.ts against the kernel's tools/bpf/bpf_exp.l and bpf_exp.y, the
// golang/net all_instructions vector (assembled by the real bpf_asm) and libpcap PR 353's example.
import test from 'ava';
import { checkExpressible, parseProgram, printProgram } from '../../cli/formats/index.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { readSharedJson } from '../_shared.js';
import { requires, sharedMissing } from '../_skip.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ins = (code: number, jt: number, jf: number, k: number): SockFilter => ({ code, jt, jf, k });
const asm = (s: string): SockFilter[] => {
  const r = parseProgram(enc(s), 'bpf_asm');
  if (!r.ok) throw new Error(`${r.error.line}:${r.error.column}: ${r.error.message}`);
  return r.prog;
};
const asmErr = (s: string) => {
  const r = parseProgram(enc(s), 'bpf_asm');
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.prog)}`);
  return r.error;
};

requires(sharedMissing, 'golang/net all_instructions.txt assembles to the bytes the real bpf_asm produced', (t) => {
  const v = readSharedJson<{ encoding_vectors: { bpf_asm_source: string; raw_insns: SockFilter[]; raw_insn_count: number } }>('conformance/go_x_net_bpf.json').encoding_vectors;
  const prog = asm(v.bpf_asm_source);
  t.is(prog.length, v.raw_insn_count);
  t.deepEqual(prog, v.raw_insns);
  const text = printProgram(prog, 'bpf_asm') as string;
  t.false(text.includes('.insn'));
  t.deepEqual(asm(text), v.raw_insns);
  t.is(checkExpressible(prog, 'bpf_asm'), null);
});

test('libpcap PR 353 example: jne/jneq put the label in jf (bpf_exp.y jneq rule)', (t) => {
  const prog = asm('ldh [12]\njne #0x800, drop\nldb [23]\njneq #1, drop\nret #-1\ndrop: ret #0\n');
  // The PR shows bpf_asm's output: 6,40 0 0 12,21 0 3 2048,48 0 0 23,21 0 1 1,6 0 0 4294967295,6 0 0 0,
  t.is(printProgram(prog, 'bytecode'), '6,40 0 0 12,21 0 3 2048,48 0 0 23,21 0 1 1,6 0 0 4294967295,6 0 0 0\n');
});

test('bpf_exp.y encodings of every addressing form and spelling', (t) => {
  const A = 0xfffff000; // SKF_AD_OFF as u32
  const cases: [string, SockFilter][] = [
    ['LDH [12]', ins(0x28, 0, 0, 12)], // %option caseless
    ['ldb [%x + 3]', ins(0x50, 0, 0, 3)],
    ['ld [x + -4]', ins(0x40, 0, 0, 0xfffffffc)], // '+' then number(-4)
    ['ld [x+4]', ins(0x40, 0, 0, 4)], // leniency: flex would lex "+4" as a number and fail
    ['ld proto', ins(0x20, 0, 0, A + 0)], // "#"?("proto")
    ['ldh #vlan_tci', ins(0x28, 0, 0, A + 44)],
    ['ldb #vlan_pr', ins(0x30, 0, 0, A + 48)],
    ['ld #vlan_avail', ins(0x20, 0, 0, A + 48)],
    ['ld #poff', ins(0x20, 0, 0, A + 52)],
    ['ld #rand', ins(0x20, 0, 0, A + 56)],
    ['ld #vlan_tpid', ins(0x20, 0, 0, A + 60)],
    ['ld #ifidx', ins(0x20, 0, 0, A + 8)],
    ['ld #nla', ins(0x20, 0, 0, A + 12)],
    ['ld #nlan', ins(0x20, 0, 0, A + 16)],
    ['ld #mark', ins(0x20, 0, 0, A + 20)],
    ['ld #queue', ins(0x20, 0, 0, A + 24)],
    ['ld #hatype', ins(0x20, 0, 0, A + 28)],
    ['ld #rxhash', ins(0x20, 0, 0, A + 32)],
    ['ld #cpu', ins(0x20, 0, 0, A + 36)],
    ['ld len', ins(0x80, 0, 0, 0)],
    ['ldx #len', ins(0x81, 0, 0, 0)],
    ['ld # 0b101', ins(0x00, 0, 0, 5)],
    ['ldi 017', ins(0x00, 0, 0, 0o17)], // ([0][0-7]+) octal
    ['ldxi #0X1F', ins(0x01, 0, 0, 0x1f)],
    ['ldxi 7', ins(0x01, 0, 0, 7)],
    ['ldx M[15]', ins(0x61, 0, 0, 15)],
    ['ld m[2]', ins(0x60, 0, 0, 2)], // caseless 'M'
    ['ldx 4*([14]&0xf)', ins(0xb1, 0, 0, 14)],
    ['ldxb 4 * ( [ 14 ] & 0xf )', ins(0xb1, 0, 0, 14)],
    ['st M[0]', ins(0x02, 0, 0, 0)],
    ['stx M[1]', ins(0x03, 0, 0, 1)],
    ['add %x', ins(0x0c, 0, 0, 0)],
    ['mod #-1', ins(0x94, 0, 0, 0xffffffff)],
    ['xor #+7', ins(0xa4, 0, 0, 7)],
    ['neg', ins(0x84, 0, 0, 0)],
    ['ret x', ins(0x0e, 0, 0, 0)], // BPF_RET|BPF_X: bpf_asm writes it, bpf_check_classic rejects it
    ['ret %a', ins(0x16, 0, 0, 0)],
    ['ret #4294967295', ins(0x06, 0, 0, 0xffffffff)],
    ['tax', ins(0x07, 0, 0, 0)],
    ['TXA', ins(0x87, 0, 0, 0)],
    ['.insn 0xffff, 255, 255, 0xffffffff', ins(0xffff, 255, 255, 0xffffffff)],
  ];
  for (const [src, want] of cases) t.deepEqual(asm(src), [want], src);
});

test('labels: one- and two-target jumps, pseudo jumps, backward ja, comments', (t) => {
  const src = [
    '# line comment (^#.* in bpf_exp.l)',
    'top: ldh [12] ; to the end of the line',
    '/* block',
    '   comment */ jeq #1, t1          ; jt = t1, jf = 0',
    'jgt x, t1, top_2',
    'jlt #5, t1                        ; jge with jf = t1',
    'jle %x, t1                        ; jgt with jf = t1',
    'jset #0x10, t1',
    'top_2: jmp top                    ; k = 0 - 6 - 1 as u32',
    't1: ja t1                         ; k = 7 - 7 - 1 = 0xffffffff',
  ].join('\n');
  t.deepEqual(asm(src), [
    ins(0x28, 0, 0, 12),
    ins(0x15, 5, 0, 1),
    ins(0x2d, 4, 3, 0),
    ins(0x35, 0, 3, 5),
    ins(0x2d, 0, 2, 0),
    ins(0x45, 1, 0, 0x10),
    ins(0x05, 0, 0, 0xfffffff9),
    ins(0x05, 0, 0, 0xffffffff),
  ]);
  // Labels are case-sensitive (strcmp), several labels may share an instruction.
  t.deepEqual(asm('a1: A1: ret #0\nja A1\nja a1'), [ins(6, 0, 0, 0), ins(5, 0, 0, 0xfffffffe), ins(5, 0, 0, 0xfffffffd)]);
});

test('the printer writes canonical bpf_asm that reads back', (t) => {
  const prog = [
    ins(0x28, 0, 0, 12), // 0
    ins(0x15, 0, 3, 0x800), // 1 jneq
    ins(0x30, 0, 0, 0xfffff030), // 2 #vlan_avail
    ins(0x35, 2, 0, 0x10), // 3 one label
    ins(0x4d, 0, 1, 0), // 4 jset has no pseudo form
    ins(0x16, 0, 0, 0), // 5
    ins(0x05, 0, 0, 0xfffffff9), // 6 ja 0
  ];
  const text = ['l0: ldh [12]', 'jneq #0x800, l5', 'ldb #vlan_avail', 'jge #0x10, l6', 'jset x, l5, l6', 'l5: ret a', 'l6: ja l0', ''].join('\n');
  t.is(printProgram(prog, 'bpf_asm'), text);
  t.deepEqual(asm(text), prog);
});

test('instructions bpf_asm cannot write use the .insn escape, named by checkExpressible', (t) => {
  const prog = [ins(0x15, 1, 0, 1), ins(0x0c, 0, 0, 9), ins(0x28, 1, 0, 4), ins(0x05, 0, 0, 10), ins(0x8c, 0, 0, 0), ins(0x06, 0, 0, 0)];
  t.is(
    printProgram(prog, 'bpf_asm'),
    'jeq #0x1, l2\n.insn 0xc, 0, 0, 0x9\nl2: .insn 0x28, 1, 0, 0x4\n.insn 0x5, 0, 0, 0xa\n.insn 0x8c, 0, 0, 0x0\nret #0\n',
  );
  t.deepEqual(checkExpressible(prog, 'bpf_asm'), {
    message: "insn 1 { code 0xc, jt 0, jf 0, k 0x9 } has no bpf_asm form (printed as '.insn 0xc, 0, 0, 0x9')",
    insn: 1,
  });
  // A conditional jump whose target is past the end cannot be labelled.
  t.is(printProgram([ins(0x15, 0, 1, 0)], 'bpf_asm'), '.insn 0x15, 0, 1, 0x0\n');
  t.is(printProgram([ins(0x1d, 0, 0, 1), ins(0x06, 0, 0, 0)], 'bpf_asm'), '.insn 0x1d, 0, 0, 0x1\nret #0\n');
});

test('bpf_asm errors name line, column and instruction', (t) => {
  t.deepEqual(asmErr('ldh [12]\n  ldz [1]'), { message: "unknown mnemonic 'ldz'", line: 2, column: 3, insn: 1 });
  t.deepEqual(asmErr('ldh #12'), { message: "bad operand '#' for 'ldh'", line: 1, column: 5, insn: 0 });
  t.deepEqual(asmErr('ret #0\njeq #1, nowhere'), { message: "no such label 'nowhere'", line: 2, column: 9, insn: 1 });
  t.deepEqual(asmErr('dup: ret #0\ndup: ret #1'), { message: "duplicate label 'dup' (first defined at line 1)", line: 2, column: 1, insn: 1 });
  t.deepEqual(asmErr('back: ret #0\njeq #1, back'), { message: "jt label 'back' is insn 0, -2 insns after insn 2: out of range (0..255)", line: 2, column: 9, insn: 1 });
  const far = `jeq #1, far\n${'ret #0\n'.repeat(256)}far: ret #1\n`;
  t.deepEqual(asmErr(far), { message: "jt label 'far' is insn 257, 256 insns after insn 1: out of range (0..255)", line: 1, column: 9, insn: 0 });
  t.deepEqual(asmErr('ret #4294967296'), { message: 'number 4294967296 does not fit in 32 bits', line: 1, column: 6 });
  t.deepEqual(asmErr('ret #-2147483649').message, 'number -2147483649 does not fit in 32 bits');
  t.deepEqual(asmErr('ldx 2*([14]&0xf)'), { message: 'ldxb offset not supported! (only 4*([k]&0xf))', line: 1, column: 5, insn: 0 });
  t.deepEqual(asmErr('ret @'), { message: "unknown character '@'", line: 1, column: 5 });
  t.deepEqual(asmErr('ja q'), { message: "unknown character 'q' (labels have at least 2 characters)", line: 1, column: 4 });
  t.deepEqual(asmErr('ret #0\nend:'), { message: 'expected an instruction after the label', line: 2, column: 1, insn: 1 });
  t.deepEqual(asmErr('ret #0 /* open'), { message: "unterminated comment '/*'", line: 1, column: 8 });
  t.deepEqual(asmErr('.insn 0x10000, 0, 0, 0'), { message: '.insn code 0x10000 is out of range (max 65535)', line: 1, column: 7, insn: 0 });
  t.deepEqual(asmErr('.insn 6 0'), { message: "expected ',' before jt, found '0'", line: 1, column: 9, insn: 0 });
  t.deepEqual(asmErr('jeq #1 l2'), { message: "expected ',' before the jump label, found 'l2'", line: 1, column: 8, insn: 0 });
  t.deepEqual(asmErr('jeq 1, l2').message, "bad operand '1' for 'jeq': expected '#k' or 'x'");
  t.deepEqual(asmErr('add M[1]').message, "bad operand 'M' for 'add': expected '#k' or 'x'");
  t.deepEqual(asmErr('ret M').message, "bad operand 'M' for 'ret': expected '#k', 'a' or 'x'");
  t.deepEqual(asmErr('ldx [1]').message, "bad operand '[' for 'ldx'");
  t.deepEqual(asmErr('ld [x 4]').message, "expected '+' after 'x', found '4'");
  t.deepEqual(asmErr('ld [x + ]').message, "expected an offset, found ']'");
  t.deepEqual(asmErr('st [1]').message, "expected 'M' ('M[k]'), found '['");
  t.deepEqual(asmErr('ja').message, 'expected a label, found end of input');
  t.deepEqual(asmErr('ret 5').message, "bad operand '5' for 'ret': expected '#k', 'a' or 'x'");
  t.deepEqual(asmErr('add 5').message, "bad operand '5' for 'add': expected '#k' or 'x'");
  t.deepEqual(asmErr('ld #').message, 'expected an immediate value, found end of input');
  t.deepEqual(asmErr(', ret #0').message, "expected an instruction, found ','");
  t.deepEqual(asmErr('ret #0\u0001').message, "unknown character '\\x01'");
  t.deepEqual(asmErr('ldh [1] 09').message, "expected an instruction, found '0'");
});
