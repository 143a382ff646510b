// Every parser and reader stays linear on any input: a megabyte of each adversarial shape (long runs
// of whitespace, digits, brackets, unterminated comments, quotes, separators...) through every
// program format (named and detected), the capture readers, hex packets, skb settings, eval lines,
// corpus entries and the flag parsers, each within the suite's bound. A quadratic parser takes
// minutes on these inputs (the tcpdump -d pattern of #16: over a minute on 1 MB), a linear one
// milliseconds to a few hundred (the slowest, a megabyte of `0a:` as bpf_asm: about a million
// tokens, 350-770 ms on this 2-core VM while other processes ran); the bound (BOUND_MS, 2.5 s) sits
// far from both. A run over it is timed once more against a bound scaled to the machine's load at
// that moment, so that a busy machine does not fail the suite.
import test from 'ava';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FORMAT_NAMES, parseProgram } from '../../cli/formats/index.js';
import { lexBpfAsm } from '../../cli/formats/bpfasm.js';
import { parseDuration, parseSeed, parseShard, positiveInt } from '../../cli/commands/fuzz.js';
import { Evaluator, evalLine } from '../../cli/commands/eval.js';
import { parseHexPacket, readPackets } from '../../cli/packets/index.js';
import { readEntry } from '../../fuzz/corpus.js';
import { buildSkb, parseSetting } from '../../fuzz/skbjson.js';
import { DEFAULT_CONFIG } from '../../model/config.js';

const MB = 1 << 20;
/** The suite's bound for one megabyte on an unloaded machine (a 1 s bound failed once at 1,040 ms, the slowest shape on a loaded machine). */
const BOUND_MS = 2500;

/**
 * The suite's bound for one megabyte of input: BOUND_MS, or on a loaded machine 6 times what a linear
 * reference takes at that moment (V8's own JSON.parse of a megabyte of '[', one allocation per
 * character; the bpf_asm tokenizer on a megabyte of one-character tokens), whichever is larger. A
 * quadratic parser needs minutes here either way.
 */
function bound(): number {
  const deep = '['.repeat(MB);
  const commas = ', '.repeat(MB / 2);
  const best = (f: () => unknown): number => Math.min(timed(f).ms, timed(f).ms);
  const json = best(() => {
    try {
      JSON.parse(deep);
    } catch {
      // unterminated: the time is what is measured
    }
  });
  // and bpfspec's own tokenizer on a megabyte of one-character tokens, a linear reference of ours
  const lex = best(() => lexBpfAsm(commas));
  return Math.max(BOUND_MS, 6 * Math.max(json, lex));
}

const fill = (unit: string, prefix = '', suffix = ''): string => prefix + unit.repeat(Math.ceil((MB - prefix.length - suffix.length) / unit.length)) + suffix;

/** Adversarial one-megabyte texts. */
const SHAPES: Readonly<Record<string, string>> = {
  'spaces in a tcpdump -d operand': fill(' ', '(000) ldh      [12', ']   jt 1 jf 2'),
  'spaces after jt': fill(' ', '(000) jeq      #0x800           jt'),
  'a tcpdump -d line with U+2028': fill('a', '(000) ', '\u2028'),
  digits: fill('7'),
  'digits then x': fill('1', '', 'x'),
  'unterminated comments': fill('/*'),
  'comment openers and stars': fill('/**'),
  'open brackets': fill('['),
  'open braces': fill('{'),
  'braces with digits': fill('{ 0x6, 0, 0, '),
  quotes: fill('"'),
  backslashes: fill('\\'),
  'carriage returns': fill('\r'),
  'hash lines': fill('#'),
  'jt jf words': fill('jt 1 jf 2 '),
  'indexed loads': fill('ld [x + '),
  'hex with colons': fill('0a:'),
  'hex digits odd': fill('a', '', 'b'),
  'bytecode commas': fill('6 0 0 1,', '131072,'),
  'ddd lines': fill('6 0 0 1\n', '131072\n'),
  'json deep arrays': fill('['),
  'json keys': fill('{"code":', '['),
  'labels and colons': fill('ab: '),
  'long label': fill('a'),
  'spaces then digits': fill(' ', '', '1'),
  'commas': fill(','),
  'minus signs': fill('-'),
  'invalid utf-8 as text': fill('\uFFFD'),
};

function timed<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

/** The time of f, retried once (against a fresh bound) when over the bound. */
function within(t: import('ava').ExecutionContext, what: string, f: () => unknown): void {
  let limit = BOUND_MS;
  let ms = timed(f).ms;
  if (ms > limit) {
    limit = bound();
    ms = Math.min(ms, timed(f).ms);
  }
  t.true(ms < limit, `${what}: ${ms.toFixed(0)} ms for one megabyte (bound ${limit.toFixed(0)} ms)`);
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('every program format, named and detected, parses a megabyte of each adversarial shape within the bound', (t) => {
  for (const [name, text] of Object.entries(SHAPES)) {
    const bytes = enc(text);
    within(t, `${name} (detected)`, () => parseProgram(bytes));
    for (const f of FORMAT_NAMES) within(t, `${name} as ${f}`, () => parseProgram(bytes, f));
  }
});

test('capture readers, hex packets and skb settings stay linear on a megabyte', (t) => {
  // a pcap of many empty records, a pcapng of many tiny unknown blocks, and garbage after a valid header
  const pcap = Buffer.alloc(24 + MB);
  pcap.writeUInt32LE(0xa1b2c3d4, 0);
  pcap.writeUInt16LE(2, 4);
  pcap.writeUInt16LE(4, 6);
  pcap.writeUInt32LE(65535, 16);
  pcap.writeUInt32LE(1, 20);
  within(t, 'pcap of empty records', () => readPackets(pcap));
  const blocks: Buffer[] = [Buffer.from('0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000', 'hex'), Buffer.from('01000000140000000100000000000400140000', 'hex')];
  blocks[1] = Buffer.concat([Buffer.from('0100000014000000', 'hex'), Buffer.from('0100000000000400', 'hex'), Buffer.from('14000000', 'hex')]);
  const unknown = Buffer.from('0b0000000c0000000c000000', 'hex');
  const ng = Buffer.concat([...blocks, ...Array.from({ length: MB / 12 }, () => unknown)]);
  within(t, 'pcapng of unknown blocks', () => readPackets(ng));
  for (const [name, text] of Object.entries(SHAPES)) {
    within(t, `hex packet: ${name}`, () => parseHexPacket(text));
    within(t, `--set mark=${name}`, () => {
      try {
        parseSetting(`mark=${text}`);
      } catch {
        // a message is fine; the time is what is measured
      }
    });
    within(t, `--set dev=${name}`, () => {
      try {
        parseSetting(`dev=${text}`);
      } catch {
        // as above
      }
    });
    within(t, `skb headroom ${name}`, () => {
      try {
        buildSkb(new Uint8Array(1), { headroom: text });
      } catch {
        // as above
      }
    });
  }
});

test('eval lines, corpus entries and flag values of a megabyte stay within the bound', (t) => {
  const ev = new Evaluator(DEFAULT_CONFIG);
  const dir = mkdtempSync(join(tmpdir(), 'bpfspec-linear-'));
  for (const [name, text] of Object.entries(SHAPES)) {
    within(t, `eval line: ${name}`, () => evalLine(ev, text, 1));
    within(t, `eval line with the shape as a field: ${name}`, () => evalLine(ev, `{"id":1,"prog":${JSON.stringify(text)},"packet":"00"}`, 1));
    within(t, `eval line with the shape as the id: ${name}`, () => evalLine(ev, `{"id":${JSON.stringify(text)},"prog":"00","packet":"00"}`, 1));
    const entry = join(dir, 'e.json');
    writeFileSync(entry, `{"schema":"bpfspec-corpus-1","kind":"finding","title":"t","config":{"arch":"x86_64","optmem_max":1,"load_helpers":"v6.6.0"},"program":{"hex":${JSON.stringify(text)}},"inputs":[],"expect":{"check":{"errno":0,"stage":null,"rule":null,"pc":null},"attach":{"errno":0,"stage":null,"rule":null,"pc":null},"results":[]},"origin":{"bpfspec":"0"}}`);
    within(t, `corpus entry with the shape as program hex: ${name}`, () => readEntry(entry));
    writeFileSync(entry, text);
    within(t, `corpus entry of the shape: ${name}`, () => readEntry(entry));
    for (const [flag, f] of [
      ['--time', () => parseDuration(text)],
      ['--shard', () => parseShard(text)],
      ['--seed', () => parseSeed(text)],
      ['--runs', () => positiveInt('--runs', text)],
    ] as const)
      within(t, `${flag} ${name}`, () => {
        try {
          f();
        } catch {
          // as above
        }
      });
  }
});
