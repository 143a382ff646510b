// Packets for bpfspec: hex on the command line, pcap and pcapng capture files.
//
// pcap: the classic libpcap savefile (24-byte file header, 16-byte record headers), either byte
// order, microsecond (0xa1b2c3d4) or nanosecond (0xa1b23c4d) magic.
// pcapng: Section Header Blocks (either byte order, several sections), Interface Description Blocks
// (linktype, snaplen, if_tsresol), Enhanced and Simple Packet Blocks; other blocks are skipped.
// Every reader is total: corrupt input gives an error naming the byte offset, never an exception.

export interface Packet {
  /** The captured bytes (caplen of them). */
  readonly data: Uint8Array;
  /** The length on the wire; larger than data.length when the capture was cut at the snaplen. */
  readonly origLen: number;
  /** LINKTYPE_* of the packet's interface (1 = Ethernet). */
  readonly linktype: number;
  /** 0-based position in the file. */
  readonly index: number;
  /** Capture time, when the file records one. */
  readonly ts?: { readonly sec: number; readonly nsec: number };
  /** pcapng interface id (0 for pcap). */
  readonly iface: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

export type ReadResult =
  | { ok: true; packets: Packet[]; format: CaptureFormat; snaplen: number; notes: string[] }
  | { ok: false; error: string };

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

const err = (message: string): { ok: false; error: string } => ({ ok: false, error: message });
const at = (off: number): string => `at byte ${off} (0x${off.toString(16)})`;

/** Read a pcap or pcapng capture, chosen by its first four bytes. */
export function readPackets(bytes: Uint8Array): ReadResult {
  if (bytes.length < 4) return err(`not a capture file: ${bytes.length} bytes, too short for a magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = view.getUint32(0, false);
  if (m === PCAPNG_SHB) return readPcapng(bytes);
  const ml = view.getUint32(0, true);
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS || ml === PCAP_MAGIC_US || ml === PCAP_MAGIC_NS) return readPcap(bytes);
  return err(`not a pcap or pcapng file: magic 0x${m.toString(16).padStart(8, '0')} ${at(0)}`);
}

/** The classic libpcap savefile format. */
export function readPcap(bytes: Uint8Array): ReadResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 24) return err(`pcap file header truncated: ${bytes.length} of 24 bytes ${at(0)}`);
  const mBig = view.getUint32(0, false);
  const le = !(mBig === PCAP_MAGIC_US || mBig === PCAP_MAGIC_NS);
  const magic = view.getUint32(0, le);
  if (magic !== PCAP_MAGIC_US && magic !== PCAP_MAGIC_NS) return err(`not a pcap file: magic 0x${mBig.toString(16).padStart(8, '0')} ${at(0)}`);
  const nano = magic === PCAP_MAGIC_NS;
  const major = view.getUint16(4, le);
  const minor = view.getUint16(6, le);
  const notes: string[] = [];
  if (major !== 2) return err(`unsupported pcap version ${major}.${minor} ${at(4)}`);
  const snaplen = view.getUint32(16, le);
  const network = view.getUint32(20, le);
  // LINKTYPE and FCS bits (libpcap pcap-common.h LT_LINKTYPE: low 26 bits).
  const linktype = network & 0x03ffffff;
  if (network !== linktype) notes.push(`link-layer header field 0x${network.toString(16)} carries FCS information; linktype ${linktype}`);
  const packets: Packet[] = [];
  let off = 24;
  while (off < bytes.length) {
    const index = packets.length;
    if (bytes.length - off < 16) return err(`packet ${index + 1}: record header truncated (${bytes.length - off} of 16 bytes) ${at(off)}`);
    const sec = view.getUint32(off, le);
    const frac = view.getUint32(off + 4, le);
    const caplen = view.getUint32(off + 8, le);
    const origLen = view.getUint32(off + 12, le);
    if ((nano && frac >= 1e9) || (!nano && frac >= 1e6)) notes.push(`packet ${index + 1}: timestamp fraction ${frac} out of range ${at(off + 4)}`);
    const dataOff = off + 16;
    if (caplen > bytes.length - dataOff)
      return err(`packet ${index + 1}: captured length ${caplen} runs past the end of the file (${bytes.length - dataOff} bytes left) ${at(off + 8)}`);
    if (caplen > snaplen && snaplen !== 0) notes.push(`packet ${index + 1}: captured length ${caplen} exceeds the snaplen ${snaplen}`);
    if (caplen < origLen) notes.push(`packet ${index + 1}: truncated capture, ${caplen} of ${origLen} bytes`);
    if (caplen > origLen) notes.push(`packet ${index + 1}: captured length ${caplen} exceeds the original length ${origLen}`);
    packets.push({
      data: bytes.slice(dataOff, dataOff + caplen),
      origLen,
      linktype,
      index,
      ts: { sec, nsec: nano ? frac : frac * 1000 },
      iface: 0,
    });
    off = dataOff + caplen;
  }
  return { ok: true, packets, format: 'pcap', snaplen, notes };
}

interface Iface {
  readonly linktype: number;
  readonly snaplen: number;
  /** Timestamp units per second (if_tsresol), as a bigint. */
  readonly unitsPerSec: bigint;
}

/** pcapng (draft-ietf-opsawg-pcapng): SHB, IDB, EPB, SPB, the obsolete Packet Block; others skipped. */
export function readPcapng(bytes: Uint8Array): ReadResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: Packet[] = [];
  const notes: string[] = [];
  let ifaces: Iface[] = [];
  let le = true;
  let seenShb = false;
  let snaplen: number | null = null; // of the first interface
  let off = 0;
  while (off < bytes.length) {
    if (bytes.length - off < 12) return err(`block header truncated (${bytes.length - off} bytes left, a block has at least 12) ${at(off)}`);
    const typeBig = view.getUint32(off, false);
    if (typeBig === PCAPNG_SHB) {
      // The byte-order magic decides the endianness of this section.
      if (bytes.length - off < 28) return err(`section header block truncated ${at(off)}`);
      const bom = view.getUint32(off + 8, true);
      if (bom === PCAPNG_BOM) le = true;
      else if (view.getUint32(off + 8, false) === PCAPNG_BOM) le = false;
      else return err(`section header block: bad byte-order magic 0x${view.getUint32(off + 8, false).toString(16)} ${at(off + 8)}`);
      const major = view.getUint16(off + 12, le);
      if (major !== 1) return err(`unsupported pcapng version ${major}.${view.getUint16(off + 14, le)} ${at(off + 12)}`);
      seenShb = true;
      ifaces = [];
    } else if (!seenShb) {
      return err(`pcapng file does not start with a section header block ${at(off)}`);
    }
    const type = view.getUint32(off, le);
    const total = view.getUint32(off + 4, le);
    if (total < 12 || total % 4 !== 0) return err(`block type 0x${type.toString(16)}: bad total length ${total} (at least 12, a multiple of 4) ${at(off + 4)}`);
    if (total > bytes.length - off) return err(`block type 0x${type.toString(16)}: total length ${total} runs past the end of the file (${bytes.length - off} bytes left) ${at(off + 4)}`);
    const trailer = view.getUint32(off + total - 4, le);
    if (trailer !== total) return err(`block type 0x${type.toString(16)}: trailing length ${trailer} differs from the leading ${total} ${at(off + total - 4)}`);
    const body = off + 8;
    const bodyLen = total - 12;
    const index = packets.length;
    switch (type) {
      case PCAPNG_SHB:
        break;
      case 1: {
        // Interface Description Block: linktype u16, reserved u16, snaplen u32, options.
        if (bodyLen < 8) return err(`interface description block too short (${total} bytes) ${at(off)}`);
        const linktype = view.getUint16(body, le);
        const isnap = view.getUint32(body + 4, le);
        const opt = readOptions(view, body + 8, body + bodyLen, le);
        if (typeof opt === 'string') return err(`interface ${ifaces.length}: ${opt}`);
        let unitsPerSec = 1_000_000n;
        const tsresol = opt.get(9);
        if (tsresol !== undefined && tsresol.length >= 1) {
          const v = tsresol[0]!;
          const exp = BigInt(v & 0x7f);
          unitsPerSec = v & 0x80 ? 2n ** exp : 10n ** exp;
        }
        ifaces.push({ linktype, snaplen: isnap, unitsPerSec });
        snaplen ??= isnap;
        break;
      }
      case 6:
      case 2: {
        // Enhanced Packet Block (6): iface u32, ts hi, ts lo, caplen, origlen, data.
        // Obsolete Packet Block (2): iface u16, drops u16, then the same.
        if (bodyLen < 20) return err(`packet ${index + 1}: packet block too short (${total} bytes) ${at(off)}`);
        const ifId = type === 6 ? view.getUint32(body, le) : view.getUint16(body, le);
        const iface = ifaces[ifId];
        if (!iface) return err(`packet ${index + 1}: interface ${ifId} is not described in this section ${at(body)}`);
        const tsHi = view.getUint32(body + 4, le);
        const tsLo = view.getUint32(body + 8, le);
        const caplen = view.getUint32(body + 12, le);
        const origLen = view.getUint32(body + 16, le);
        const dataOff = body + 20;
        if (caplen > bodyLen - 20)
          return err(`packet ${index + 1}: captured length ${caplen} exceeds the block's ${bodyLen - 20} data bytes ${at(body + 12)}`);
        if (caplen < origLen) notes.push(`packet ${index + 1}: truncated capture, ${caplen} of ${origLen} bytes`);
        packets.push({
          data: bytes.slice(dataOff, dataOff + caplen),
          origLen,
          linktype: iface.linktype,
          index,
          ts: timestamp((BigInt(tsHi) << 32n) | BigInt(tsLo), iface.unitsPerSec),
          iface: ifId,
        });
        break;
      }
      case 3: {
        // Simple Packet Block: origlen, data; caplen = min(origlen, snaplen of interface 0, block room).
        if (bodyLen < 4) return err(`packet ${index + 1}: simple packet block too short (${total} bytes) ${at(off)}`);
        const iface = ifaces[0];
        if (!iface) return err(`packet ${index + 1}: simple packet block before any interface description ${at(off)}`);
        const origLen = view.getUint32(body, le);
        let caplen = Math.min(origLen, bodyLen - 4);
        if (iface.snaplen !== 0) caplen = Math.min(caplen, iface.snaplen);
        if (caplen < origLen) notes.push(`packet ${index + 1}: truncated capture, ${caplen} of ${origLen} bytes`);
        packets.push({ data: bytes.slice(body + 4, body + 4 + caplen), origLen, linktype: iface.linktype, index, iface: 0 });
        break;
      }
      default:
        break; // unknown or uninteresting block: skipped
    }
    off += total;
  }
  if (!seenShb) return err('empty pcapng file');
  return { ok: true, packets, format: 'pcapng', snaplen: snaplen ?? 0, notes };
}

/** pcapng options (code u16, length u16, value padded to 4) up to opt_endofopt or the end of the body. */
function readOptions(view: DataView, start: number, end: number, le: boolean): Map<number, Uint8Array> | string {
  const out = new Map<number, Uint8Array>();
  let p = start;
  while (p + 4 <= end) {
    const code = view.getUint16(p, le);
    const len = view.getUint16(p + 2, le);
    if (code === 0) break;
    if (p + 4 + len > end) return `option ${code} of length ${len} runs past its block ${at(p)}`;
    out.set(code, new Uint8Array(view.buffer, view.byteOffset + p + 4, len));
    p += 4 + Math.ceil(len / 4) * 4;
  }
  return out;
}

function timestamp(units: bigint, perSec: bigint): { sec: number; nsec: number } {
  const sec = units / perSec;
  const rem = units % perSec;
  return { sec: Number(sec), nsec: Number((rem * 1_000_000_000n) / perSec) };
}

/**
 * A packet written as hex on the command line: whitespace, ':', '-' and '.' separators allowed, an
 * optional 0x prefix. The error names the offending character's offset.
 */
export function parseHexPacket(text: string): { ok: true; data: Uint8Array } | { ok: false; error: string } {
  let s = text.trim();
  let base = text.length - text.trimStart().length;
  if (/^0x/i.test(s)) {
    s = s.slice(2);
    base += 2;
  }
  const digits: number[] = [];
  let pending = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (/[0-9a-fA-F]/.test(c)) {
      const v = parseInt(c, 16);
      if (pending < 0) pending = v;
      else {
        digits.push((pending << 4) | v);
        pending = -1;
      }
    } else if (/[\s:.-]/.test(c)) {
      if (pending >= 0) return err(`bad hex packet: a lone hex digit before offset ${base + i} (write each byte as two digits)`);
    } else {
      return err(`bad hex packet: unexpected '${c}' at offset ${base + i}`);
    }
  }
  if (pending >= 0) return err(`bad hex packet: odd number of hex digits (the last byte has one digit)`);
  return { ok: true, data: Uint8Array.from(digits) };
}
