// The memory image of an skb as the migrated classic program reads it: the struct sk_buff bytes at
// the offsets of ./layout.ts (the ctx the program gets in R1), the struct net_device skb->dev points
// to, and the packet buffer from skb->head: headroom then the linear data. Paged frags are not in
// any region: a load can only reach them through the load helpers (skb_copy_bits), as in the kernel,
// where they live in pages the program has no pointer to.
import type { SkBuff } from '../skb.js';
import type { KernelConfig } from '../config.js';
import { Memory, type Region } from './memory.js';
import { MAC_HEADER_UNSET, NET_DEVICE, NET_DEVICE_MODELLED_SIZE, PKT_TYPE_OFFSET, SIZEOF_SK_BUFF, SK_BUFF } from './layout.js';

/** Default capacity of the packet-buffer region (headroom + linear bytes). */
export const DEFAULT_HEAD_CAPACITY = 0x40000;

/** The regions of one laid-out skb and the ctx pointer (R1). */
export interface SkbImage {
  readonly mem: Memory;
  readonly skbRegion: Region;
  readonly devRegion: Region;
  readonly headRegion: Region;
  /** the struct sk_buff pointer (R1 of the program) */
  readonly ctx: { readonly hi: number; readonly lo: number };
}

/**
 * Create the three regions in `mem` (once; reuse the image for every skb with layOutSkb). The
 * regions are read-only: a classic program never writes to the skb.
 */
export function createSkbImage(mem: Memory = new Memory(), headCapacity = DEFAULT_HEAD_CAPACITY): SkbImage {
  const skbRegion = mem.addRegion('sk_buff', SIZEOF_SK_BUFF, false);
  const devRegion = mem.addRegion('net_device', NET_DEVICE_MODELLED_SIZE, false);
  const headRegion = mem.addRegion('skb_head', headCapacity, false);
  skbRegion.resize(SIZEOF_SK_BUFF);
  return { mem, skbRegion, devRegion, headRegion, ctx: { hi: skbRegion.hi, lo: skbRegion.lo(0) } };
}

const put16 = (dv: DataView, off: number, v: number): void => dv.setUint16(off, v, true);
const put32 = (dv: DataView, off: number, v: number): void => dv.setUint32(off, v >>> 0, true);
const putPtr = (dv: DataView, off: number, hi: number, lo: number): void => {
  dv.setUint32(off, lo >>> 0, true);
  dv.setUint32(off + 4, hi >>> 0, true);
};

/**
 * Write `skb` into the image (x86-64: little-endian). Multi-byte fields are host order except the
 * __be16 ones (protocol, vlan_proto), which hold network order; pkt_type occupies the low 3 bits of
 * byte PKT_TYPE_OFFSET with little-endian bit-fields and the high 3 with big-endian ones. Offsets
 * kept relative to skb->head (network_header, mac_header, tail, end) count the headroom; an unset
 * mac header is (u16)~0U. skb->dev is NULL when skb.dev is null.
 */
export function layOutSkb(img: SkbImage, skb: SkBuff, config: Pick<KernelConfig, 'littleEndian'>): void {
  const headroom = skb.headroom.length;
  const linear = headroom + skb.headlen;
  if (linear > img.headRegion.capacity) throw new RangeError(`skb head of ${linear} bytes exceeds the region capacity ${img.headRegion.capacity}`);
  // Written through the regions' buffers and DataViews (bufOff is 0 for these regions, which are
  // not end-anchored).
  const head = img.headRegion;
  head.resize(linear);
  writeHead(head.buf, skb);
  if (skb.dev) {
    img.devRegion.resize(NET_DEVICE_MODELLED_SIZE);
    writeDev(img.devRegion.buf, img.devRegion.dv, skb);
  } else {
    img.devRegion.resize(0);
  }
  writeSkb(img, img.skbRegion.buf, img.skbRegion.dv, skb, config);
}

/** The packet buffer from skb->head: headroom, then the linear bytes. */
export function writeHead(hb: Uint8Array, skb: SkBuff): void {
  const headroom = skb.headroom.length;
  if (headroom > 0) hb.set(skb.headroom, 0);
  hb.set(skb.headlen === skb.data.length ? skb.data : skb.data.subarray(0, skb.headlen), headroom);
}

/** The struct net_device fields a filter can read. */
export function writeDev(db: Uint8Array, ddv: DataView, skb: SkBuff): void {
  db.fill(0, 0, NET_DEVICE_MODELLED_SIZE);
  put32(ddv, NET_DEVICE.ifindex.offset, skb.dev!.ifindex);
  put16(ddv, NET_DEVICE.type.offset, skb.dev!.type);
}

/** The struct sk_buff bytes (pointers into img's head and dev regions). */
export function writeSkb(img: SkbImage, ctx: Uint8Array, dv: DataView, skb: SkBuff, config: Pick<KernelConfig, 'littleEndian'>): void {
  const headroom = skb.headroom.length;
  const linear = headroom + skb.headlen;
  const head = img.headRegion;
  ctx.fill(0, 0, SIZEOF_SK_BUFF);
  if (skb.dev) putPtr(dv, SK_BUFF.dev.offset, img.devRegion.hi, img.devRegion.lo(0));
  put32(dv, SK_BUFF.len.offset, skb.data.length);
  put32(dv, SK_BUFF.dataLen.offset, skb.data.length - skb.headlen);
  put16(dv, SK_BUFF.queueMapping.offset, skb.queueMapping);
  ctx[PKT_TYPE_OFFSET] = config.littleEndian ? skb.pktType & 7 : (skb.pktType & 7) << 5;
  put32(dv, SK_BUFF.hash.offset, skb.hash);
  dv.setUint16(SK_BUFF.vlanProto.offset, skb.vlanProto, false); // __be16
  put16(dv, SK_BUFF.vlanTci.offset, skb.vlanTci);
  put32(dv, SK_BUFF.mark.offset, skb.mark);
  dv.setUint16(SK_BUFF.protocol.offset, skb.protocol, false); // __be16
  put16(dv, SK_BUFF.networkHeader.offset, headroom + skb.networkHeader);
  put16(dv, SK_BUFF.macHeader.offset, skb.macHeader === null ? MAC_HEADER_UNSET : headroom + skb.macHeader);
  put32(dv, SK_BUFF.tail.offset, linear);
  put32(dv, SK_BUFF.end.offset, linear);
  putPtr(dv, SK_BUFF.head.offset, head.hi, head.lo(0));
  putPtr(dv, SK_BUFF.data.offset, head.hi, head.lo(headroom));
}
