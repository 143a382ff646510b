// The socket buffer a socket filter sees (include/linux/skbuff.h struct sk_buff), reduced to what
// bpf_check_classic's programs can observe, plus the environment the kernel takes from the machine.
// One plain object is read by the classic evaluator, the eBPF memory model and the helpers alike.

/** include/linux/netdevice.h struct net_device: the two fields a filter can read. */
export interface NetDevice {
  readonly ifindex: number; // int
  readonly type: number; // unsigned short (ARPHRD_*)
}

/** include/uapi/linux/if_packet.h:26 PACKET_HOST and the other pkt_type values. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;
export const PACKET_LOOPBACK = 5;
export const PACKET_USER = 6;
export const PACKET_KERNEL = 7;

/** include/uapi/linux/if_arp.h:30 */
export const ARPHRD_ETHER = 1;
/** include/uapi/linux/if_ether.h */
export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_802_3 = 0x0001;
export const ETH_P_802_2 = 0x0004;
export const ETH_P_802_3_MIN = 0x0600;
export const ETH_HLEN = 14;

/**
 * struct sk_buff as a filter sees it. Offsets (mac, network) are relative to skb->data, as
 * skb_mac_offset() and skb_network_offset() return them; negative values point into the headroom.
 */
export interface SkBuff {
  /** The skb->len bytes from skb->data on: first the linear part, then the paged frags. */
  readonly data: Uint8Array;
  /** skb_headlen() = len - data_len: how many of data's bytes are linear. 0 <= headlen <= data.length. */
  readonly headlen: number;
  /** The bytes between skb->head and skb->data (headroom), readable by negative-offset loads. */
  readonly headroom: Uint8Array;
  /** skb_mac_offset(), or null when the mac header was never set (skb_mac_header_was_set() false). */
  readonly macHeader: number | null;
  /** skb_network_offset() */
  readonly networkHeader: number;
  /** ntohs(skb->protocol): the host-order EtherType. */
  readonly protocol: number;
  /** skb->pkt_type, 3 bits */
  readonly pktType: number;
  /** skb->dev, or null (as for an AF_UNIX datagram) */
  readonly dev: NetDevice | null;
  readonly mark: number; // u32
  readonly queueMapping: number; // u16
  readonly hash: number; // u32 skb->hash
  /** skb->vlan_tci (host order, all 16 bits) */
  readonly vlanTci: number;
  /** ntohs(skb->vlan_proto) */
  readonly vlanProto: number;
  /**
   * Whether a VLAN tag was put on the skb (__vlan_hwaccel_put_tag). v6.6 has no such bit: it tests
   * skb->vlan_all != 0; classic kernels kept it as bit 12 of vlan_tci. Both readings are modelled.
   */
  readonly vlanPresent: boolean;
}

/** What the kernel takes from the machine while the filter runs. */
export interface Env {
  /** raw_smp_processor_id() */
  readonly cpu: number;
  /** Seed of the prandom state behind SKF_AD_RANDOM (the kernel seeds it at random). */
  readonly randomSeed: number;
}

export const DEFAULT_ENV: Env = { cpu: 0, randomSeed: 1 };

// include/linux/skbuff.h struct sk_buff::len
/** skb->len */
export const skbLen = (skb: SkBuff): number => skb.data.length;
// include/linux/skbuff.h struct sk_buff::data_len
/** skb->data_len: bytes in frags */
export const skbDataLen = (skb: SkBuff): number => skb.data.length - skb.headlen;
// include/linux/skbuff.h skb_is_nonlinear: skb->data_len != 0
/** skb_is_nonlinear() */
export const skbIsNonlinear = (skb: SkBuff): boolean => skb.headlen < skb.data.length;

/** The fields a caller may set on top of a preset. */
export type SkBuffFields = Partial<Omit<SkBuff, 'data'>>;

/** Throws a RangeError naming the field if an skb is inconsistent (misuse of the API). */
export function assertSkb(skb: SkBuff): void {
  const u = (name: string, v: number, bits: number): void => {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new RangeError(`skb.${name} = ${v} is not a u${bits}`);
  };
  if (!Number.isInteger(skb.headlen) || skb.headlen < 0 || skb.headlen > skb.data.length)
    throw new RangeError(`skb.headlen = ${skb.headlen} is outside 0..${skb.data.length}`);
  u('protocol', skb.protocol, 16);
  u('pktType', skb.pktType, 3);
  u('mark', skb.mark, 32);
  u('queueMapping', skb.queueMapping, 16);
  u('hash', skb.hash, 32);
  u('vlanTci', skb.vlanTci, 16);
  u('vlanProto', skb.vlanProto, 16);
  if (skb.dev) {
    if (!Number.isInteger(skb.dev.ifindex) || skb.dev.ifindex < -(2 ** 31) || skb.dev.ifindex >= 2 ** 31)
      throw new RangeError(`skb.dev.ifindex = ${skb.dev.ifindex} is not an int`);
    u('dev.type', skb.dev.type, 16);
  }
  const lo = -skb.headroom.length;
  if (!Number.isInteger(skb.networkHeader) || skb.networkHeader < lo || skb.networkHeader > 0xffff)
    throw new RangeError(`skb.networkHeader = ${skb.networkHeader} is outside ${lo}..65535`);
  if (skb.macHeader !== null && (!Number.isInteger(skb.macHeader) || skb.macHeader < lo || skb.macHeader > 0xffff))
    throw new RangeError(`skb.macHeader = ${skb.macHeader} is outside ${lo}..65535`);
}

const EMPTY = new Uint8Array(0);

/**
 * Preset `af_unix`: a datagram on an AF_UNIX socket (net/unix/af_unix.c unix_dgram_sendmsg runs the
 * receiver's filter through sk_filter): no dev, mac header unset, network header at 0 (skb->head ==
 * skb->data, no headroom), every metadata field 0. Large datagrams put the tail in frags: `headlen`.
 */
export function afUnixSkb(data: Uint8Array, fields: SkBuffFields = {}): SkBuff {
  return {
    data,
    headlen: data.length,
    headroom: EMPTY,
    macHeader: null,
    networkHeader: 0,
    protocol: 0,
    pktType: 0,
    dev: null,
    mark: 0,
    queueMapping: 0,
    hash: 0,
    vlanTci: 0,
    vlanProto: 0,
    vlanPresent: false,
    ...fields,
  };
}

/**
 * Preset `ethernet`: a frame received on an Ethernet device and seen by an AF_PACKET SOCK_RAW socket
 * (packet_rcv pushes skb->data back to the mac header): mac header at 0, network header after the
 * 14-byte header, protocol and pkt_type as eth_type_trans (net/ethernet/eth.c) derives them for a
 * device whose address is 02:00:00:00:00:01, dev { ifindex 2, type ARPHRD_ETHER }.
 */
export function ethernetSkb(data: Uint8Array, fields: SkBuffFields = {}): SkBuff {
  return afUnixSkb(data, {
    macHeader: 0,
    networkHeader: ETH_HLEN,
    protocol: ethTypeTransProtocol(data),
    pktType: ethTypeTransPktType(data),
    dev: { ifindex: 2, type: ARPHRD_ETHER },
    ...fields,
  });
}

export const ETHERNET_DEV_ADDR = Uint8Array.of(0x02, 0, 0, 0, 0, 0x01);

// net/ethernet/eth.c eth_type_trans (line not verified: a file outside the pinned ones; read in the 6.6 tree, lines 167-176): the pkt_type part
/**
 * skb->pkt_type as eth_type_trans sets it for a frame received by the `ethernet` preset's device: left
 * PACKET_HOST when the destination is the device's address (ether_addr_equal_64bits), else
 * PACKET_BROADCAST (the multicast bit and dev->broadcast, ff:ff:ff:ff:ff:ff), PACKET_MULTICAST (the
 * multicast bit) or PACKET_OTHERHOST. A frame shorter than the header (never given to
 * eth_type_trans) is left PACKET_HOST.
 */
export function ethTypeTransPktType(data: Uint8Array): number {
  if (data.length < ETH_HLEN) return PACKET_HOST;
  if (sameAddress(data, ETHERNET_DEV_ADDR)) return PACKET_HOST;
  // is_multicast_ether_addr_64bits: bit 0 of the first byte
  if ((data[0]! & 1) !== 0) return sameAddress(data, ETHERNET_BROADCAST) ? PACKET_BROADCAST : PACKET_MULTICAST;
  return PACKET_OTHERHOST;
}

/** ether_addr_equal_64bits(data, addr): the 6-byte destination address at data[0..6) is addr. */
function sameAddress(data: Uint8Array, addr: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (data[i] !== addr[i]) return false;
  return true;
}

/** dev->broadcast of an Ethernet device (ether_setup: eth_broadcast_addr) */
const ETHERNET_BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

// net/ethernet/eth.c eth_type_trans (line not verified: a file outside the pinned ones; read in the 6.6 tree, lines 188-204): the protocol part (no DSA, no hw-accel tag stripping)
/** ntohs(skb->protocol) as eth_type_trans sets it. */
export function ethTypeTransProtocol(data: Uint8Array): number {
  if (data.length < ETH_HLEN) return 0;
  const proto = (data[12]! << 8) | data[13]!;
  if (proto >= ETH_P_802_3_MIN) return proto;
  // Raw 802.3 (Novell) frames start their payload with 0xFFFF; everything else is 802.2 LLC.
  if (data.length >= ETH_HLEN + 2 && data[14] === 0xff && data[15] === 0xff) return ETH_P_802_3;
  return ETH_P_802_2;
}

export type PresetName = 'af_unix' | 'ethernet';
export const PRESETS: Readonly<Record<PresetName, (data: Uint8Array, fields?: SkBuffFields) => SkBuff>> = {
  af_unix: afUnixSkb,
  ethernet: ethernetSkb,
};
