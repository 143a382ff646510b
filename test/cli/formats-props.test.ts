// Property tests for cli/formats: parse(print(p)) == p for every lossless format, the exact loss of
// tcpdump -d (from libpcap bpf_image.c), and totality of parsing on arbitrary input.
import { fc, testProp } from '@fast-check/ava';
import { FORMAT_NAMES, parseProgram, printProgram, type FormatName } from '../../cli/formats/index.js';
import type { SockFilter } from '../../model/cbpf/insn.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytesOf = (out: string | Uint8Array): Uint8Array => (typeof out === 'string' ? enc(out) : out);

/** Every opcode bpf_image (libpcap bpf_image.c) and bpf_exp.y name, plus a few it does not. */
const KNOWN = [
  0x06, 0x16, 0x0e, 0x20, 0x28, 0x30, 0x80, 0x81, 0x40, 0x48, 0x50, 0x00, 0x01, 0xb1, 0x60, 0x61, 0x02, 0x03, 0x05, 0x25, 0x35, 0x15, 0x45, 0x2d,
  0x3d, 0x1d, 0x4d, 0x0c, 0x1c, 0x2c, 0x3c, 0x9c, 0x5c, 0x4c, 0xac, 0x6c, 0x7c, 0x04, 0x14, 0x24, 0x34, 0x94, 0x54, 0x44, 0xa4, 0x64, 0x74, 0x84,
  0x07, 0x87,
];
const code = fc.oneof(fc.constantFrom(...KNOWN), fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0xffff }));
const u8 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }));
const k = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 64 }),
  fc.integer({ min: 0xfffff000, max: 0xfffff040 }), // ancillary offsets
  fc.integer({ min: 0xfffffff0, max: 0xffffffff }),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const insn: fc.Arbitrary<SockFilter> = fc.record({ code, jt: u8, jf: u8, k });
const program = fc.array(insn, { maxLength: 40 });

const LOSSLESS = FORMAT_NAMES.filter((f) => f !== 'tcpdump-d');

testProp('parse(print(p)) == p for every lossless format, both byte orders', [program, fc.constantFrom(...LOSSLESS), fc.constantFrom('little' as const, 'big' as const)], (t, p, f, endian) => {
  const out = printProgram(p, f, { endian });
  t.deepEqual(parseProgram(bytesOf(out), f, { endian }), { ok: true, prog: p, format: f });
});

testProp('printed programs are detected as their own format (non-empty)', [fc.array(insn, { minLength: 1, maxLength: 20 }), fc.constantFrom(...FORMAT_NAMES)], (t, p, f) => {
  const out = bytesOf(printProgram(p, f));
  const r = parseProgram(out);
  // Every text format must be recognised; a raw image is, unless all its bytes happen to be printable text.
  const printable = out.every((b) => (b >= 0x20 && b < 0x7f) || b === 9 || b === 10 || b === 13);
  if (f === 'raw' && printable) t.pass();
  else t.deepEqual(r.ok && r.format, f);
});

/**
 * What tcpdump -d keeps, worked out from bpf_image.c: the code always; jt/jf only on lines that print
 * "jt %d\tjf %d" (BPF_CLASS == BPF_JMP && BPF_OP != BPF_JA); k only where fmt uses it (no k for
 * `ret`/`neg`/`tax`/`txa`, `#pktlen`, the `x` forms and `unimp`).
 */
const K_SHOWN = new Set([0x06, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x00, 0x01, 0xb1, 0x60, 0x61, 0x02, 0x03, 0x05, 0x25, 0x35, 0x15, 0x45, 0x04, 0x14, 0x24, 0x34, 0x94, 0x54, 0x44, 0xa4, 0x64, 0x74]);
const imageKeeps = (i: SockFilter): SockFilter => {
  const targets = (i.code & 7) === 5 && (i.code & 0xf0) !== 0;
  return { code: i.code, jt: targets ? i.jt : 0, jf: targets ? i.jf : 0, k: K_SHOWN.has(i.code) ? i.k : 0 };
};
/** Conditional jumps whose targets lie past the end read back fine; -d prints targets as numbers. */
testProp('tcpdump -d keeps exactly the fields bpf_image prints', [program], (t, p) => {
  const text = printProgram(p, 'tcpdump-d') as string;
  t.deepEqual(parseProgram(enc(text), 'tcpdump-d'), { ok: true, prog: p.map(imageKeeps), format: 'tcpdump-d' });
  t.is(printProgram(p.map(imageKeeps), 'tcpdump-d'), text);
});

/** Programs bpf_asm can write: known codes, unused fields zero, jumps inside the program. */
const asmable: fc.Arbitrary<SockFilter[]> = fc.integer({ min: 1, max: 30 }).chain((n) =>
  fc.array(
    fc.tuple(fc.constantFrom(...KNOWN), fc.nat(), fc.nat(), k).map(([c, a, b, kk]): ((pc: number) => SockFilter) => (pc) => {
      const room = n - pc - 1;
      if (c === 0x05) return { code: c, jt: 0, jf: 0, k: (((a % n) - pc - 1) >>> 0) };
      if ((c & 7) === 5) {
        if (room < 1) return { code: 0x06, jt: 0, jf: 0, k: kk };
        return { code: c, jt: a % Math.min(room, 256), jf: b % Math.min(room, 256), k: c & 8 ? 0 : kk };
      }
      return imageKeeps({ code: c, jt: 0, jf: 0, k: kk });
    }),
    { minLength: n, maxLength: n },
  ).map((fs) => fs.map((f, pc) => f(pc))),
);

testProp('bpf_asm writes every well-formed program without the .insn escape', [asmable], (t, p) => {
  const text = printProgram(p, 'bpf_asm') as string;
  t.false(text.includes('.insn'), text);
  t.deepEqual(parseProgram(enc(text), 'bpf_asm'), { ok: true, prog: p, format: 'bpf_asm' });
});

const noThrow = (t: { true: (v: boolean, m?: string) => void }, input: Uint8Array, f: FormatName | undefined): void => {
  const r = parseProgram(input, f);
  if (!r.ok) {
    t.true(typeof r.error.message === 'string' && r.error.message.length > 0 && !r.error.message.startsWith('internal error'), r.error.message);
    t.true(!r.error.message.includes('\n'), 'one line');
  } else t.true(Array.isArray(r.prog));
};
const fmt = fc.option(fc.constantFrom(...FORMAT_NAMES), { nil: undefined });

testProp('parsing is total on arbitrary bytes', [fc.uint8Array({ maxLength: 200 }), fmt], (t, b, f) => noThrow(t, b, f));

testProp('parsing is total on arbitrary strings', [fc.string({ maxLength: 200, unit: 'binary' }), fmt], (t, s, f) => noThrow(t, enc(s), f));

/** Strings built from the tokens of every text format, to reach deep into the parsers. */
const tokenSoup = fc
  .array(
    fc.constantFrom(
      'ld', 'ldh', 'ldb', 'ldx', 'ldxb', 'ldi', 'st', 'jeq', 'jneq', 'jlt', 'ja', 'jmp', 'jset', 'ret', 'add', 'neg', 'tax', '.insn', 'lbl', 'lbl:',
      '#', '#len', '#proto', '%', 'x', 'a', 'M', '[', ']', '(', ')', '+', '*', '&', ',', ':', '4', '0xf', '-1', '255', '256', '4294967296', '0b1',
      '017', ';c\n', '/*', '*/', '\n', ' ', '\t', '{', '}', '(000)', '(001)', 'jt', 'jf', 'unimp', '0x6', '#pktlen', '[proto]', '"code"', '"k"',
      '"jt"', '"jf"', '"insns"', 'null', '1.5',
    ),
    { maxLength: 40 },
  )
  .map((ts) => ts.join(' '));

testProp('parsing is total on token soup', [tokenSoup, fmt], (t, s, f) => noThrow(t, enc(s), f), { numRuns: 500 });
