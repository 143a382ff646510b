// Tests for cli/packets: hex packets, pcap (both byte orders, us and ns magic) and pcapng (SHB in
// both byte orders, IDB, EPB, SPB, unknown blocks, several interfaces and sections), built by hand
// here so every expected value is visible in the construction, plus corrupt variants.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseHexPacket, readPackets } from '../../cli/packets/index.js';
import { hex, projectRoot } from '../_shared.js';

/** Little builder: u8/u16/u32 in a chosen byte order. */
class W {
  private readonly parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(...v: number[]): this {
    this.parts.push(...v);
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v & 0xff, v >>> 8) : this.u8(v >>> 8, v & 0xff);
  }
  u32(v: number): this {
    const b = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    return this.u8(...(this.le ? b.reverse() : b));
  }
  bytes(b: Uint8Array): this {
    return this.u8(...b);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const pcapFile = (le: boolean, magic: number, linktype: number, snaplen: number, recs: [number, number, Uint8Array, number][]): Uint8Array => {
  const w = new W(le).u32(magic).u16(2).u16(4).u32(0).u32(0).u32(snaplen).u32(linktype);
  for (const [sec, frac, data, orig] of recs) w.u32(sec).u32(frac).u32(data.length).u32(orig).bytes(data);
  return w.done();
};

const P1 = hex('ffffffffffff 001122334455 0800 45');
const P2 = hex('0102030405');

test('pcap little-endian microseconds', (t) => {
  const f = pcapFile(true, 0xa1b2c3d4, 1, 65535, [
    [100, 250, P1, P1.length],
    [101, 999999, P2, 60],
  ]);
  const r = readPackets(f);
  t.deepEqual(r, {
    ok: true,
    format: 'pcap',
    snaplen: 65535,
    notes: ['packet 2: truncated capture, 5 of 60 bytes'],
    packets: [
      { data: P1, origLen: P1.length, linktype: 1, index: 0, ts: { sec: 100, nsec: 250000 }, iface: 0 },
      { data: P2, origLen: 60, linktype: 1, index: 1, ts: { sec: 101, nsec: 999999000 }, iface: 0 },
    ],
  });
});

test('pcap big-endian nanoseconds, FCS bits in the linktype field, odd records noted', (t) => {
  const f = pcapFile(false, 0xa1b23c4d, 0x14000065, 4, [[7, 5, P2, 3]]);
  const r = readPackets(f);
  t.deepEqual(r, {
    ok: true,
    format: 'pcap',
    snaplen: 4,
    notes: [
      'link-layer header field 0x14000065 carries FCS information; linktype 101',
      'packet 1: captured length 5 exceeds the snaplen 4',
      'packet 1: captured length 5 exceeds the original length 3',
    ],
    packets: [{ data: P2, origLen: 3, linktype: 101, index: 0, ts: { sec: 7, nsec: 5 }, iface: 0 }],
  });
  t.deepEqual(readPackets(pcapFile(true, 0xa1b2c3d4, 1, 0, [])), { ok: true, format: 'pcap', snaplen: 0, notes: [], packets: [] });
  const badFrac = readPackets(pcapFile(true, 0xa1b2c3d4, 1, 0, [[0, 1000000, P2, 5]]));
  t.deepEqual(badFrac.ok && badFrac.notes, ['packet 1: timestamp fraction 1000000 out of range at byte 28 (0x1c)']);
});

test('pcap corrupt variants name the byte offset', (t) => {
  const good = pcapFile(true, 0xa1b2c3d4, 1, 65535, [[1, 2, P1, P1.length]]);
  t.deepEqual(readPackets(good.subarray(0, 3)), { ok: false, error: 'not a capture file: 3 bytes, too short for a magic number' });
  t.deepEqual(readPackets(good.subarray(0, 20)), { ok: false, error: 'pcap file header truncated: 20 of 24 bytes at byte 0 (0x0)' });
  t.deepEqual(readPackets(good.subarray(0, 30)), { ok: false, error: 'packet 1: record header truncated (6 of 16 bytes) at byte 24 (0x18)' });
  t.deepEqual(readPackets(good.subarray(0, good.length - 1)), {
    ok: false,
    error: `packet 1: captured length ${P1.length} runs past the end of the file (${P1.length - 1} bytes left) at byte 32 (0x20)`,
  });
  t.deepEqual(readPackets(hex('00112233 00000000')), { ok: false, error: 'not a pcap or pcapng file: magic 0x00112233 at byte 0 (0x0)' });
  const v1 = good.slice();
  v1[4] = 1;
  t.deepEqual(readPackets(v1), { ok: false, error: 'unsupported pcap version 1.4 at byte 4 (0x4)' });
});

/** One pcapng block: type, total length, body (padded to 4), total length. */
const block = (le: boolean, type: number, body: Uint8Array): Uint8Array => {
  const pad = (4 - (body.length % 4)) % 4;
  const total = 12 + body.length + pad;
  return new W(le).u32(type).u32(total).bytes(body).u8(...new Array<number>(pad).fill(0)).u32(total).done();
};
const shb = (le: boolean): Uint8Array => block(le, 0x0a0d0d0a, new W(le).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff).done());
const idb = (le: boolean, linktype: number, snaplen: number, tsresol?: number): Uint8Array => {
  const w = new W(le).u16(linktype).u16(0).u32(snaplen);
  if (tsresol !== undefined) w.u16(9).u16(1).u8(tsresol, 0, 0, 0).u16(0).u16(0);
  return block(le, 1, w.done());
};
const epb = (le: boolean, iface: number, ts: bigint, data: Uint8Array, orig: number): Uint8Array =>
  block(le, 6, new W(le).u32(iface).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(orig).bytes(data).done());
const spb = (le: boolean, orig: number, data: Uint8Array): Uint8Array => block(le, 3, new W(le).u32(orig).bytes(data).done());
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

test('pcapng: two interfaces, EPB, SPB, an unknown block, then a big-endian section', (t) => {
  const file = cat(
    shb(true),
    idb(true, 1, 0), // default resolution: microseconds
    idb(true, 101, 3, 9), // if_tsresol 9: nanoseconds; snaplen 3
    block(true, 0x00000bad, hex('01020304')), // unknown block: skipped
    epb(true, 0, 1_500_000n, P1, P1.length), // 1.5 s in microseconds
    epb(true, 1, 2_000_000_007n, P2, 9), // 2 s + 7 ns
    spb(true, 5, P2), // interface 0, snaplen 0: caplen = origlen
    shb(false),
    idb(false, 1, 2, 0x80 | 10), // binary resolution 2^-10 s; snaplen 2
    spb(false, 5, P2), // caplen = min(5, snaplen 2)
    epb(false, 0, 1536n, P2, 5), // 1536 / 1024 = 1.5 s
  );
  const r = readPackets(file);
  t.deepEqual(r, {
    ok: true,
    format: 'pcapng',
    snaplen: 0,
    notes: ['packet 2: truncated capture, 5 of 9 bytes', 'packet 4: truncated capture, 2 of 5 bytes'],
    packets: [
      { data: P1, origLen: P1.length, linktype: 1, index: 0, ts: { sec: 1, nsec: 500000000 }, iface: 0 },
      { data: P2, origLen: 9, linktype: 101, index: 1, ts: { sec: 2, nsec: 7 }, iface: 1 },
      { data: P2, origLen: 5, linktype: 1, index: 2, iface: 0 },
      { data: P2.subarray(0, 2), origLen: 5, linktype: 1, index: 3, iface: 0 },
      { data: P2, origLen: 5, linktype: 1, index: 4, ts: { sec: 1, nsec: 500000000 }, iface: 0 },
    ],
  });
  // The obsolete Packet Block (type 2): iface u16, drops u16, then as an EPB.
  const opb = block(true, 2, new W(true).u16(0).u16(0).u32(0).u32(3).u32(P2.length).u32(P2.length).bytes(P2).done());
  const r2 = readPackets(cat(shb(true), idb(true, 1, 0), opb));
  t.deepEqual(r2.ok && r2.packets, [{ data: P2, origLen: 5, linktype: 1, index: 0, ts: { sec: 0, nsec: 3000 }, iface: 0 }]);
});

test('pcapng corrupt variants name the byte offset', (t) => {
  const head = cat(shb(true), idb(true, 1, 0)); // 28 + 20 = 48 bytes
  const e = (b: Uint8Array) => {
    const r = readPackets(b);
    return r.ok ? 'ok' : r.error;
  };
  t.is(e(shb(true).subarray(0, 20)), 'section header block truncated at byte 0 (0x0)');
  const badBom = shb(true);
  badBom[8] = 0;
  t.is(e(badBom), 'section header block: bad byte-order magic 0x3c2b1a at byte 8 (0x8)');
  const v2 = shb(true);
  v2[12] = 2;
  t.is(e(v2), 'unsupported pcapng version 2.0 at byte 12 (0xc)');
  t.is(e(cat(head, hex('0600000010'))), 'block header truncated (5 bytes left, a block has at least 12) at byte 48 (0x30)');
  t.is(e(cat(head, hex('06000000 0d000000 00000000 0d000000'))), 'block type 0x6: bad total length 13 (at least 12, a multiple of 4) at byte 52 (0x34)');
  t.is(e(cat(head, hex('06000000 40000000 00000000'))), 'block type 0x6: total length 64 runs past the end of the file (12 bytes left) at byte 52 (0x34)');
  t.is(e(cat(head, hex('06000000 0c000000 10000000'))), 'block type 0x6: trailing length 16 differs from the leading 12 at byte 56 (0x38)');
  t.is(e(cat(head, block(true, 6, hex('00000000')))), 'packet 1: packet block too short (16 bytes) at byte 48 (0x30)');
  t.is(e(cat(head, epb(true, 3, 0n, P2, 5))), 'packet 1: interface 3 is not described in this section at byte 56 (0x38)');
  const big = epb(true, 0, 0n, P2, 5);
  big[20] = 99; // caplen 99
  t.is(e(cat(head, big)), 'packet 1: captured length 99 exceeds the block\'s 8 data bytes at byte 68 (0x44)');
  t.is(e(cat(shb(true), block(true, 1, hex('0100')))), 'interface description block too short (16 bytes) at byte 28 (0x1c)');
  t.is(e(cat(shb(true), block(true, 1, new W(true).u16(1).u16(0).u32(0).u16(9).u16(40).done()))), 'interface 0: option 9 of length 40 runs past its block at byte 44 (0x2c)');
  t.is(e(cat(shb(true), spb(true, 5, P2))), 'packet 1: simple packet block before any interface description at byte 28 (0x1c)');
  t.is(e(cat(head, block(true, 3, new Uint8Array(0)))), 'packet 1: simple packet block too short (12 bytes) at byte 48 (0x30)');
  // A new section forgets the interfaces of the previous one.
  t.is(e(cat(head, shb(true), epb(true, 0, 0n, P2, 5))), 'packet 1: interface 0 is not described in this section at byte 84 (0x54)');
});

test('parseHexPacket: separators, 0x prefix, errors with offsets', (t) => {
  t.deepEqual(parseHexPacket(' 0x45:00-00.1c ff\n'), { ok: true, data: hex('4500001cff') });
  t.deepEqual(parseHexPacket(''), { ok: true, data: new Uint8Array(0) });
  t.deepEqual(parseHexPacket('4500zz'), { ok: false, error: "bad hex packet: unexpected 'z' at offset 4" });
  t.deepEqual(parseHexPacket('45 0 0'), { ok: false, error: 'bad hex packet: a lone hex digit before offset 4 (write each byte as two digits)' });
  t.deepEqual(parseHexPacket('450'), { ok: false, error: 'bad hex packet: odd number of hex digits (the last byte has one digit)' });
});

test('readPackets is total on arbitrary and truncated input', (t) => {
  const file = cat(shb(true), idb(true, 1, 0), epb(true, 0, 0n, P1, P1.length));
  for (let n = 0; n <= file.length; n++) {
    const r = readPackets(file.subarray(0, n));
    t.true(r.ok || r.error.length > 0);
  }
  const pc = pcapFile(false, 0xa1b2c3d4, 1, 100, [[0, 0, P1, P1.length]]);
  for (let n = 0; n <= pc.length; n++) t.notThrows(() => readPackets(pc.subarray(0, n)));
});

test('the example captures under examples/ read back', (t) => {
  for (const name of ['http.pcap', 'http.pcapng']) {
    const r = readPackets(Uint8Array.from(readFileSync(resolve(projectRoot, 'examples', name))));
    if (!r.ok) return t.fail(r.error);
    t.deepEqual(r.packets.map((p) => p.data.length), [54, 54, 54, 74, 42], name);
    t.true(r.packets.every((p) => p.linktype === 1 && p.data.length === p.origLen));
    // Packet 1 is Ethernet + IPv4 + TCP to port 80 (ethertype 0x0800 at 12, protocol 6 at 23, port 80 at 36).
    const p = r.packets[0]!.data;
    t.deepEqual([p[12], p[13], p[23], (p[36]! << 8) | p[37]!], [0x08, 0x00, 6, 80], name);
  }
  return undefined;
});
