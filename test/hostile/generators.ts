// Hostile inputs for every entry point of the bpfspec command: random bytes, and near-valid inputs
// (a valid program, capture, corpus entry, eval line or flag set with a few hostile mutations).
// Used by the CI suite (test/hostile/fuzz.test.ts, bounded) and the long run (test/hostile/longrun.ts).
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORMAT_NAMES, printProgram, type FormatName } from '../../cli/formats/index.js';
import type { SockFilter } from '../../model/cbpf/insn.js';
import { projectRoot } from '../_shared.js';

/** Strings that have broken parsers and lookups before, or could. */
export const HOSTILE_TOKENS: readonly string[] = [
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', '__defineGetter__',
  '\r', '\r\n', '\n', '\u2028', '\u2029', '\0', '\uFFFD', '\uD800', '\t', '\f', '\v', '\x1b[2J',
  '-1', '-0', '0', '4294967295', '4294967296', '18446744073709551616', '12345678901234567890', '99999999999999999999999',
  '1e308', '1e-7', 'NaN', 'Infinity', '-Infinity', '0x', '0xffffffffffffffff', '0b', '0777', '08', '1.5',
  '#', '/*', '*/', '//', ';', '[', ']', '{', '}', '(', ')', '"', "'", ',', ':', '\\', '\\u0000', '%', '&', '*', '+', '-',
  'jt', 'jf', 'ld', 'ldx', 'ret', '(000)', '.insn', 'M[', 'x', 'a', '#len', '4*([14]&0xf)', 'unimp',
  'null', 'true', 'false', '[]', '{}', '{"__proto__":1}', '[[[[[[[[', ']]]]]]]]', 'af_unix', 'ethernet',
  'x86_64', 'EN10MB', 'tcp port 80', '\u00e9', '\u{1F600}', ' '.repeat(200), '\t'.repeat(50),
];

export const hostileToken = fc.constantFrom(...HOSTILE_TOKENS);

/** A random string: hostile tokens, random code points, or a long run of one character. */
export const hostileString = (maxLength = 64): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: hostileToken },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(' ', '0', '9', '[', '(', 'a', '/', '*', '#', '-', '\r', '"', '\\', 'x'), fc.integer({ min: 1, max: 4096 })).map(([c, n]) => c.repeat(n)) },
    { weight: 1, arbitrary: fc.tuple(fc.array(hostileToken, { maxLength: 8 }), fc.constantFrom('', ' ', ',')).map(([a, sep]) => a.join(sep)) },
  );

type Mutation = { kind: 'insert'; at: number; text: string } | { kind: 'delete'; at: number; len: number } | { kind: 'dup'; at: number; len: number; times: number } | { kind: 'truncate'; at: number } | { kind: 'replace'; at: number; text: string };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: hostileString() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: hostileString(8) }),
);

function applyText(s: string, m: Mutation): string {
  const at = s.length === 0 ? 0 : m.at % (s.length + 1);
  switch (m.kind) {
    case 'insert':
      return s.slice(0, at) + m.text + s.slice(at);
    case 'delete':
      return s.slice(0, at) + s.slice(at + m.len);
    case 'dup':
      return s.slice(0, at) + s.slice(at, at + m.len).repeat(m.times) + s.slice(at);
    case 'truncate':
      return s.slice(0, at);
    case 'replace':
      return s.slice(0, at) + m.text + s.slice(at + m.text.length);
  }
}

/** A near-valid string: `base` with one to four mutations. */
export const mutateText = (base: string): fc.Arbitrary<string> => fc.array(mutationArb, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce(applyText, base));

type ByteMutation = { kind: 'flip'; at: number; bit: number } | { kind: 'set'; at: number; value: number } | { kind: 'u32'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'splice'; at: number; bytes: Uint8Array };

const byteMutationArb: fc.Arbitrary<ByteMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 3, 8, 12, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 65535, 65536, 262144, 262145) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }) }),
);

function applyBytes(b: Uint8Array, m: ByteMutation): Uint8Array {
  const at = b.length === 0 ? 0 : m.at % b.length;
  const c = Uint8Array.from(b);
  switch (m.kind) {
    case 'flip':
      if (c.length > 0) c[at] = c[at]! ^ (1 << m.bit);
      return c;
    case 'set':
      if (c.length > 0) c[at] = m.value;
      return c;
    case 'u32': {
      const pos = Math.max(0, Math.min(at & ~3, c.length - 4));
      if (c.length >= 4) new DataView(c.buffer).setUint32(pos, m.value, (m.at & 1) === 0);
      return c;
    }
    case 'cut':
      return c.subarray(0, at);
    case 'splice': {
      const out = new Uint8Array(c.length + m.bytes.length);
      out.set(c.subarray(0, at));
      out.set(m.bytes, at);
      out.set(c.subarray(at), at + m.bytes.length);
      return out;
    }
  }
}

/** Near-valid bytes: `base` with one to six byte-level mutations. */
export const mutateBytes = (base: Uint8Array): fc.Arbitrary<Uint8Array> => fc.array(byteMutationArb, { minLength: 1, maxLength: 6 }).map((ms) => ms.reduce(applyBytes, base));

// ---------------------------------------------------------------------------------------------
// Programs in every format

const CODES = [
  0x06, 0x16, 0x0e, 0x20, 0x28, 0x30, 0x80, 0x81, 0x40, 0x48, 0x50, 0x00, 0x01, 0xb1, 0x60, 0x61, 0x02, 0x03, 0x05, 0x25, 0x35, 0x15, 0x45, 0x2d,
  0x3d, 0x1d, 0x4d, 0x0c, 0x1c, 0x2c, 0x3c, 0x9c, 0x5c, 0x4c, 0xac, 0x6c, 0x7c, 0x04, 0x14, 0x24, 0x34, 0x94, 0x54, 0x44, 0xa4, 0x64, 0x74, 0x84, 0x07, 0x87,
];
const insnArb: fc.Arbitrary<SockFilter> = fc.record({
  code: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...CODES) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
  jt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  jf: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 255 })),
  k: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0xfffff000, max: 0xfffff040 }), fc.integer({ min: 0, max: 0xffffffff })),
});
/** A program ending in `ret #0xffff`, so that many are accepted. */
export const programArb: fc.Arbitrary<SockFilter[]> = fc.array(insnArb, { maxLength: 24 }).map((p) => [...p, { code: 0x06, jt: 0, jf: 0, k: 0xffff }]);

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export interface FormatInput {
  /** the --format given, or 'auto' for detection */
  readonly format: FormatName | 'auto';
  readonly bytes: Uint8Array;
}

/** A program file: random bytes, a printed program with mutations, or token soup. */
export const formatInputArb: fc.Arbitrary<FormatInput> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ format: fc.constantFrom<FormatName | 'auto'>('auto', ...FORMAT_NAMES), bytes: fc.uint8Array({ maxLength: 512 }) }) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(programArb, fc.constantFrom(...FORMAT_NAMES), fc.boolean(), fc.constantFrom('little' as const, 'big' as const))
      .chain(([p, f, named, endian]) => {
        let out: string | Uint8Array;
        try {
          out = printProgram(p, f, { endian });
        } catch {
          out = printProgram([{ code: 6, jt: 0, jf: 0, k: 0 }], f);
        }
        const format = named ? f : ('auto' as const);
        return typeof out === 'string'
          ? mutateText(out).map((s) => ({ format, bytes: enc(s) }))
          : mutateBytes(out).map((bytes) => ({ format, bytes }));
      }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      format: fc.constantFrom<FormatName | 'auto'>('auto', ...FORMAT_NAMES),
      bytes: fc.array(fc.oneof(hostileToken, fc.constantFrom('ld', 'ret', '#1', '[12]', 'jeq', ',', '\n', ' ', '{', '}', '0x28', '(000)')), { maxLength: 64 }).map((a) => enc(a.join(' '))),
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// Captures

function pcapFile(packets: readonly { data: Uint8Array; orig: number }[], linktype: number, snaplen: number, big: boolean, nano: boolean): Uint8Array {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  const w32 = (b: Buffer, v: number, off: number): void => void (big ? b.writeUInt32BE(v >>> 0, off) : b.writeUInt32LE(v >>> 0, off));
  const w16 = (b: Buffer, v: number, off: number): void => void (big ? b.writeUInt16BE(v, off) : b.writeUInt16LE(v, off));
  w32(h, nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(h, 2, 4);
  w16(h, 4, 6);
  w32(h, snaplen, 16);
  w32(h, linktype, 20);
  parts.push(h);
  for (const p of packets) {
    const r = Buffer.alloc(16);
    w32(r, 1, 0);
    w32(r, 2, 4);
    w32(r, p.data.length, 8);
    w32(r, p.orig, 12);
    parts.push(r, Buffer.from(p.data));
  }
  return new Uint8Array(Buffer.concat(parts));
}

function pcapngFile(packets: readonly { data: Uint8Array; orig: number }[], linktype: number, snaplen: number): Uint8Array {
  const block = (type: number, body: Buffer): Buffer => {
    const padded = Buffer.alloc(Math.ceil(body.length / 4) * 4);
    body.copy(padded);
    const b = Buffer.alloc(12 + padded.length);
    b.writeUInt32LE(type, 0);
    b.writeUInt32LE(b.length, 4);
    padded.copy(b, 8);
    b.writeUInt32LE(b.length, b.length - 4);
    return b;
  };
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeBigInt64LE(-1n, 8);
  const idb = Buffer.alloc(8);
  idb.writeUInt16LE(linktype, 0);
  idb.writeUInt32LE(snaplen, 4);
  const parts = [block(0x0a0d0d0a, shb), block(1, idb)];
  for (const p of packets) {
    const epb = Buffer.alloc(20 + p.data.length);
    epb.writeUInt32LE(0, 0);
    epb.writeUInt32LE(p.data.length, 12);
    epb.writeUInt32LE(p.orig, 16);
    Buffer.from(p.data).copy(epb, 20);
    parts.push(block(6, epb));
  }
  return new Uint8Array(Buffer.concat(parts));
}

const packetArb = fc.uint8Array({ maxLength: 128 }).chain((data) => fc.oneof(fc.constant(data.length), fc.integer({ min: data.length, max: 70000 })).map((orig) => ({ data, orig })));

/** A capture: random bytes, or a valid pcap/pcapng with byte mutations. */
export const captureArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.array(packetArb, { maxLength: 6 }), fc.constantFrom(1, 1, 101, 113, 0, 65535), fc.constantFrom(262144, 65535, 0, 64), fc.boolean(), fc.boolean(), fc.boolean(), fc.boolean())
      .chain(([pkts, lt, snap, ng, big, nano, mutate]) => {
        const file = ng ? pcapngFile(pkts, lt, snap) : pcapFile(pkts, lt, snap, big, nano);
        return mutate ? mutateBytes(file) : fc.constant(file);
      }),
  },
);

// ---------------------------------------------------------------------------------------------
// JSON values, corpus entries, eval lines

/** A marker replaced, after JSON.stringify, by deeply nested JSON text (building it as a value would overflow the stack). */
const DEEP = '@@DEEP@@';

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, -0.5, 1.5, 2 ** 32, 2 ** 53 + 2, -(2 ** 31) - 1, 1e300, '', [], {}, DEEP, '__proto__', 'toString', 'constructor'),
  hostileString(32),
  fc.integer(),
  fc.array(fc.oneof(fc.integer(), fc.constant(null), hostileToken), { maxLength: 4 }),
  fc.dictionary(fc.oneof(hostileToken, fc.constantFrom('preset', 'dev', 'ifindex', 'type', 'mark')), fc.oneof(fc.integer(), hostileToken, fc.constant(null)), { maxKeys: 3 }),
);

/** JSON text of a value, with every DEEP marker replaced by `depth` levels of nested arrays or objects. */
export function withDeep(text: string, depth: number): string {
  const deep = depth % 2 === 0 ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  return text.split(`"${DEEP}"`).join(deep);
}

/** Mutate one field at a JSON path of `obj` (a fresh copy): replace, delete, or add a hostile member. */
function mutateJson(obj: unknown, path: number[], value: unknown, op: number, key: string): unknown {
  const copy = JSON.parse(JSON.stringify(obj)) as unknown;
  let cur: unknown = copy;
  let parent: Record<string, unknown> | unknown[] | null = null;
  let parentKey: string | number | null = null;
  for (const step of path) {
    if (cur === null || typeof cur !== 'object') break;
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    const k = keys[step % keys.length]!;
    parent = cur as Record<string, unknown>;
    parentKey = Array.isArray(cur) ? Number(k) : k;
    cur = (cur as Record<string, unknown>)[k];
  }
  if (parent === null) return op % 3 === 0 ? value : copy;
  if (op % 3 === 0) (parent as Record<string | number, unknown>)[parentKey!] = value;
  else if (op % 3 === 1) {
    if (Array.isArray(parent)) parent.splice(Number(parentKey), 1);
    else delete (parent as Record<string, unknown>)[parentKey as string];
  } else if (!Array.isArray(parent)) Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  else parent.push(value);
  return copy;
}

/** A JSON document: `base` with field-level mutations (serialized), or its text with text mutations. */
export const mutateJsonDoc = (base: unknown): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.array(fc.nat(), { maxLength: 5 }), hostileValue, fc.nat(), fc.oneof(hostileToken, fc.constantFrom('extra', 'id', 'skb', 'preset')), fc.integer({ min: 1000, max: 100000 }))
        .map(([path, value, op, key, depth]) => withDeep(JSON.stringify(mutateJson(base, path, value, op, key)), depth)),
    },
    { weight: 1, arbitrary: mutateText(JSON.stringify(base)) },
  );

/** The corpus entries shipped in corpus/ (bases for mutation). */
export function corpusEntries(): unknown[] {
  const out: unknown[] = [];
  for (const dir of ['divergences', 'historical', 'findings']) {
    const d = join(projectRoot, 'corpus', dir);
    for (const f of readdirSync(d).filter((n) => n.endsWith('.json')).sort()) out.push(JSON.parse(readFileSync(join(d, f), 'utf8')));
  }
  return out;
}

export const corpusEntryArb = (entries: readonly unknown[]): fc.Arbitrary<string> =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...entries).chain(mutateJsonDoc) }, { weight: 1, arbitrary: hostileString(256) });

const PROG_HEX = '00000000070000001600000000000000'; // ld #7; ret a
const EVAL_BASES: readonly Record<string, unknown>[] = [
  { id: 1, prog: PROG_HEX, packet: '00' },
  { id: 'x', prog: '00000000070000002000000008f0ffff1600000000000000', packet: '0102', skb: { preset: 'ethernet', mark: 5 } },
  { id: [1, { a: 2 }], prog: PROG_HEX, packet: '', skb: { dev: { ifindex: 3, type: 1 }, headlen: 0 } },
  { id: 12345678901234567890, prog: PROG_HEX, packet: 'aabbccdd', skb: { headroom: '0011', mac_header: -2, network_header: 0 } },
];

/** One eval input line (no newline inside unless a mutation put a CR or U+2028 there). */
export const evalLineArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...EVAL_BASES).chain(mutateJsonDoc) },
  { weight: 1, arbitrary: hostileString(256) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\r', '{}', '[]', 'null', '{"id":1}', `{"id":99999999999999999999999999,"prog":"${PROG_HEX}","packet":""}`) },
).map((l) => l.replace(/\n/g, ' '));

/** A JSON-lines file for corpus import. */
export const importJsonlArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom({ insns: [{ code: 6, jt: 0, jf: 0, k: 1 }], expr: 'x' }, { id: 3, insns: [] }, { _meta: {} }).chain(mutateJsonDoc),
      fc.constantFrom('null', '{"insns":[null]}', '[]', '"a"', '{"insns":{}}', '{"insns":[{"code":-1}]}', ''),
      hostileString(64),
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((lines) => lines.map((l) => l.replace(/\n/g, ' ')).join('\n'));

// ---------------------------------------------------------------------------------------------
// Flags

/** Values for a flag: hostile strings, plausible values, numbers at the edges. */
export const flagValueArb: fc.Arbitrary<string> = fc.oneof(
  hostileString(40),
  fc.constantFrom('0', '1', '-1', '60s', '0.0001ms', '1e3', '99999999999999999999/99999999999999999999999', '0/1', '1/1', '2/3', 'x86_64', 'arm64', 'backport', 'v6.6.0', 'big', 'little', 'json', 'bpf_asm', 'raw', 'classic', 'kernel', 'both', '4294967296', '-0', ' 1', '1 ', ''),
);
