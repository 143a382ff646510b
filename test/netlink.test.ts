// Tests for model/netlink.ts. Expected offsets are worked out by hand from lib/nlattr.c nla_find,
// include/net/netlink.h nla_ok / nla_next / nla_find_nested and net/core/filter.c:170-212, or come
// from lib/test_bpf.c (LD_NLATTR, LD_NLATTR_NEST) via ../shared.
import test from 'ava';
import { fc, testProp } from '@fast-check/ava';
import {
  bpfSkbGetNlattr,
  bpfSkbGetNlattrNest,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_HDRLEN,
  NLA_TYPE_MASK,
  nlaAlign,
  nlaFind,
  nlaFindNested,
  nlaOk,
} from '../model/netlink.js';
import { afUnixSkb } from '../model/skb.js';
import { hex, readSharedJson } from './_shared.js';
import { requires, sharedMissing } from './_skip.js';

/** One attribute: header (host-endian len, type) + payload + padding to 4. */
function attr(type: number, payload: number[], le = true, lenOverride?: number): number[] {
  const len = lenOverride ?? NLA_HDRLEN + payload.length;
  const u16 = (v: number): number[] => (le ? [v & 0xff, v >> 8] : [v >> 8, v & 0xff]);
  const out = [...u16(len), ...u16(type), ...payload];
  while (out.length % 4) out.push(0);
  return out;
}
const bytes = (...parts: number[][]): Uint8Array => Uint8Array.from(parts.flat());

test('constants: NLA_HDRLEN 4, NLA_TYPE_MASK = ~0xc000 as a C int', (t) => {
  t.is(NLA_HDRLEN, 4);
  t.is(NLA_F_NESTED, 0x8000);
  t.is(NLA_F_NET_BYTEORDER, 0x4000);
  t.is(NLA_TYPE_MASK, -49153);
  t.is(NLA_TYPE_MASK & 0xffff, 0x3fff);
  t.deepEqual([0, 1, 3, 4, 5, 8, 65535].map(nlaAlign), [0, 4, 4, 4, 8, 8, 65536]);
});

test('nla_ok: rem >= 4, nla_len >= 4, nla_len <= rem', (t) => {
  const b = bytes(attr(1, [9, 9, 9, 9]));
  t.true(nlaOk(b, 0, 8, true));
  t.true(nlaOk(b, 0, 100, true));
  t.false(nlaOk(b, 0, 7, true)); // nla_len 8 > rem 7
  t.false(nlaOk(b, 0, 3, true)); // rem < 4: the header is not even read
  t.false(nlaOk(new Uint8Array(0), 0, -5, true));
  t.false(nlaOk(bytes(attr(1, [], true, 3)), 0, 8, true)); // nla_len 3 < 4
  t.throws(() => nlaOk(new Uint8Array(2), 1, 4, true), { instanceOf: RangeError });
});

test('nla_find walks aligned attributes and masks the flag bits', (t) => {
  // attr 1: len 5 (1 payload byte) padded to 8; attr 2 at 8: type 0x8003 (NESTED | 3); attr 3 at 16
  const b = bytes(attr(1, [0xee]), attr(NLA_F_NESTED | 3, [1, 2, 3, 4]), attr(NLA_F_NET_BYTEORDER | 7, [0, 0]));
  t.is(nlaFind(b, 0, b.length, 1, true), 0);
  t.is(nlaFind(b, 0, b.length, 3, true), 8); // NLA_F_NESTED masked off
  t.is(nlaFind(b, 0, b.length, 7, true), 16); // NLA_F_NET_BYTEORDER masked off
  t.is(nlaFind(b, 0, b.length, 0x8003, true), -1); // the raw type never matches: > 0x3fff
  t.is(nlaFind(b, 0, b.length, 9, true), -1);
  t.is(nlaFind(b, 8, b.length - 8, 7, true), 16);
});

test('nla_find: type is a C int, so 0xffffffff is -1 and matches nothing', (t) => {
  const b = bytes(attr(0x3fff, []));
  t.is(nlaFind(b, 0, 4, 0x3fff, true), 0);
  t.is(nlaFind(b, 0, 4, 0xffffffff, true), -1);
  t.is(nlaFind(b, 0, 4, 0x13fff, true), -1);
});

test('nla_find stops at an attribute with nla_len < 4 or nla_len > rem', (t) => {
  const short = bytes(attr(1, [], true, 3), attr(2, []));
  t.is(nlaFind(short, 0, short.length, 2, true), -1);
  const long = bytes(attr(1, [0, 0, 0, 0], true, 12), attr(2, []));
  t.is(long.length, 12);
  t.is(nlaFind(long, 0, 8, 2, true), -1); // first nla_len 12 > rem 8
  t.is(nlaFind(long, 0, 12, 2, true), -1); // nla_len 12 fits; then rem 0
  t.is(nlaFind(long, 0, 12, 1, true), 0);
});

test('nla_next leaves rem negative after an unaligned last attribute: the walk ends (int rem)', (t) => {
  // len 5 within rem 6: NLA_ALIGN(5) = 8, rem 6 - 8 = -2 -> nla_ok false
  const b = bytes(attr(1, [0xee]), attr(2, []));
  t.is(nlaFind(b, 0, 6, 2, true), -1);
  t.is(nlaFind(b, 0, 12, 2, true), 8);
});

test('nla_find: len below 4 (or negative) finds nothing; misuse throws', (t) => {
  const b = bytes(attr(1, []));
  t.is(nlaFind(b, 0, 3, 1, true), -1);
  t.is(nlaFind(b, 0, -8, 1, true), -1);
  t.throws(() => nlaFind(b, 2, 4, 1, true), { instanceOf: RangeError });
  t.throws(() => nlaFind(b, -1, 4, 1, true), { instanceOf: RangeError });
});

test('big-endian hosts read nla_len / nla_type in big-endian order', (t) => {
  const be = bytes(attr(5, [1, 2, 3, 4], false), attr(6, [], false));
  t.is(nlaFind(be, 0, be.length, 6, false), 8);
  // the same bytes read little-endian: nla_len 0x0800 > rem -> nothing
  t.is(nlaFind(be, 0, be.length, 6, true), -1);
});

test('nla_find_nested: searches the payload; nla_len < 4 gives a negative length', (t) => {
  // outer at 0: len 4 + 8 + 4 = 16, payload: attr 2 (8 bytes) then attr 3 (4 bytes)
  const b = bytes(attr(NLA_F_NESTED | 1, [...attr(2, [7, 7, 7, 7]), ...attr(3, [])]));
  t.is(b.length, 16);
  t.is(nlaFindNested(b, 0, 3, true), 12);
  t.is(nlaFindNested(b, 0, 2, true), 4);
  t.is(nlaFindNested(b, 0, 1, true), -1); // the outer attribute itself is not searched
  t.is(nlaFindNested(bytes(attr(1, [], true, 2), attr(2, [])), 0, 2, true), -1);
  t.is(nlaFindNested(bytes(attr(1, []), attr(2, [])), 0, 2, true), -1); // empty payload
});

// ---- the helpers ----

const skbOf = (b: Uint8Array, headlen = b.length) => afUnixSkb(b, { headlen });

test('bpf_skb_get_nlattr: offset of the attribute from skb->data (:183-185)', (t) => {
  const b = bytes([0xff, 0xff, 0xff, 0xff], attr(1, [0, 0]), attr(2, []), attr(3, [1]));
  // attrs at 4 (len 6 -> 8), 12 (len 4), 16 (len 5)
  t.is(bpfSkbGetNlattr(skbOf(b), 4, 2, true), 12);
  t.is(bpfSkbGetNlattr(skbOf(b), 4, 3, true), 16);
  t.is(bpfSkbGetNlattr(skbOf(b), 12, 3, true), 16);
  t.is(bpfSkbGetNlattr(skbOf(b), 4, 9, true), 0);
  // a match at offset 0 is also 0
  t.is(bpfSkbGetNlattr(skbOf(bytes(attr(1, []))), 0, 1, true), 0);
});

test('bpf_skb_get_nlattr guards: nonlinear, len < 4, a > len - 4 (:174-181)', (t) => {
  const b = bytes(attr(7, [0, 0, 0, 0]), attr(5, []));
  t.is(bpfSkbGetNlattr(skbOf(b), 8, 5, true), 8); // a = len - 4: allowed
  t.is(bpfSkbGetNlattr(skbOf(b), 9, 5, true), 0); // a = len - 3
  t.is(bpfSkbGetNlattr(skbOf(b, b.length - 1), 8, 5, true), 0); // nonlinear
  t.is(bpfSkbGetNlattr(skbOf(Uint8Array.of(4, 0, 5)), 0, 5, true), 0); // len 3
  t.is(bpfSkbGetNlattr(skbOf(b), 0xffffffff, 5, true), 0);
});

test('bpf_skb_get_nlattr: a and x are the low 32 bits of the registers', (t) => {
  const b = bytes(attr(7, [0, 0, 0, 0]), attr(5, []));
  t.is(bpfSkbGetNlattr(skbOf(b), 2 ** 32 + 8, 5, true), 8);
  t.is(bpfSkbGetNlattr(skbOf(b), 8, 2 ** 32 + 5, true), 8);
  t.is(bpfSkbGetNlattr(skbOf(b), 0, 0x4005, true), 0); // x > 0x3fff never matches
});

test('bpf_skb_get_nlattr_nest: nested search from the attribute at a (:203-208)', (t) => {
  const nest = attr(NLA_F_NESTED | 1, [...attr(2, [7, 7, 7, 7]), ...attr(3, [])]);
  const b = bytes([0xff, 0xff], nest);
  // nest at 2 (len 16), inner attrs at 6 and 14
  t.is(bpfSkbGetNlattrNest(skbOf(b), 2, 3, true), 14);
  t.is(bpfSkbGetNlattrNest(skbOf(b), 2, 2, true), 6);
  t.is(bpfSkbGetNlattrNest(skbOf(b), 2, 1, true), 0);
  t.is(bpfSkbGetNlattrNest(skbOf(b, 4), 2, 3, true), 0); // nonlinear
  t.is(bpfSkbGetNlattrNest(skbOf(b), b.length - 3, 3, true), 0); // a > len - 4
  t.is(bpfSkbGetNlattrNest(skbOf(Uint8Array.of(1, 2, 3)), 0, 3, true), 0); // len < 4
});

test('bpf_skb_get_nlattr_nest: nla_len > skb->len - a is refused (:204)', (t) => {
  // outer claims 20 bytes but only 16 follow a
  const b = bytes(attr(1, [...attr(2, [7, 7, 7, 7]), ...attr(3, [])], true, 20));
  t.is(b.length, 16);
  t.is(bpfSkbGetNlattrNest(skbOf(b), 0, 3, true), 0);
  // claims exactly 16: accepted
  const ok = bytes(attr(1, [...attr(2, [7, 7, 7, 7]), ...attr(3, [])], true, 16));
  t.is(bpfSkbGetNlattrNest(skbOf(ok), 0, 3, true), 12);
});

test('bpf_skb_get_nlattr_nest: v6.6 lets nla_len < 4 through the guard, then finds nothing', (t) => {
  // outer nla_len 2 at a = 0, and a real attribute of type 2 right after its header
  const b = bytes(attr(1, [], true, 2), attr(2, []));
  t.is(bpfSkbGetNlattrNest(skbOf(b), 0, 2, true), 0);
});

// ---- outside vectors: lib/test_bpf.c ----

interface TestBpfCase {
  readonly name: string;
  readonly data_hex: string;
  readonly data_hex_big_endian_host?: string;
  readonly results: readonly { readonly len: number; readonly ret: number }[];
}

// LD_NLATTR:      X = 2; A = X; X = 3; A = nlattr(A, X); ret A
// LD_NLATTR_NEST: A = 2; X = 3; then (A = nest(A, X); A = 2) repeated; ret A = nest(2, 3)
const VECTORS: readonly { name: string; call: typeof bpfSkbGetNlattr }[] = [
  { name: 'LD_NLATTR', call: bpfSkbGetNlattr },
  { name: 'LD_NLATTR_NEST', call: bpfSkbGetNlattrNest },
];

requires(sharedMissing, 'lib/test_bpf.c LD_NLATTR / LD_NLATTR_NEST vectors (both host byte orders)', (t) => {
  const suite = readSharedJson<{ tests: readonly TestBpfCase[] }>('conformance/test_bpf_classic.json');
  let checked = 0;
  for (const { name, call } of VECTORS) {
    const tc = suite.tests.find((x) => x.name === name);
    if (!tc || !tc.data_hex_big_endian_host) {
      t.fail(`${name} not found`);
      return;
    }
    for (const [dataHex, le] of [
      [tc.data_hex, true],
      [tc.data_hex_big_endian_host, false],
    ] as const) {
      const src = hex(dataHex);
      for (const { len, ret } of tc.results) {
        const data = new Uint8Array(len);
        data.set(src.subarray(0, len));
        t.is(call(afUnixSkb(data), 2, 3, le), ret, `${name} ${le ? 'LE' : 'BE'} len ${len}`);
        checked++;
      }
    }
  }
  t.true(checked >= 8);
});

// ---- properties ----

testProp(
  'nlaFind never throws and returns -1 or an in-bounds attribute of the asked type',
  [fc.uint8Array({ maxLength: 128 }), fc.nat(), fc.nat(), fc.integer({ min: -10, max: 0x5000 }), fc.boolean()],
  (t, b, s, l, type, le) => {
    const start = b.length === 0 ? 0 : s % (b.length + 1);
    const len = l % (b.length - start + 1);
    const pos = nlaFind(b, start, len, type, le);
    if (pos === -1) {
      t.pass();
      return;
    }
    t.true(pos >= start && pos + NLA_HDRLEN <= start + len);
    const nlaLen = le ? b[pos]! | (b[pos + 1]! << 8) : (b[pos]! << 8) | b[pos + 1]!;
    const rawType = le ? b[pos + 2]! | (b[pos + 3]! << 8) : (b[pos + 2]! << 8) | b[pos + 3]!;
    t.true(nlaLen >= NLA_HDRLEN && pos + nlaLen <= start + len);
    t.is(rawType & 0x3fff, type);
    t.true((pos - start) % 4 === 0);
  },
);

testProp(
  'the helpers never throw on arbitrary skbs and return 0 or an offset of a full header',
  [fc.uint8Array({ maxLength: 96 }), fc.nat({ max: 100 }), fc.nat({ max: 0x5000 }), fc.boolean(), fc.boolean()],
  (t, b, a, x, le, paged) => {
    const skb = afUnixSkb(b, { headlen: paged && b.length > 0 ? b.length - 1 : b.length });
    for (const r of [bpfSkbGetNlattr(skb, a, x, le), bpfSkbGetNlattrNest(skb, a, x, le)]) {
      t.true(Number.isInteger(r) && r >= 0);
      if (r > 0) t.true(r >= a && r + NLA_HDRLEN <= b.length);
      if (paged && b.length > 0) t.is(r, 0);
    }
  },
);
