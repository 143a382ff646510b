// The flow dissector path behind SKF_AD_PAY_OFFSET: net/core/filter.c:165 bpf_skb_get_pay_offset ->
// skb_get_poff -> skb_flow_dissect_flow_keys_basic -> __skb_flow_dissect (flow_keys_basic_dissector,
// flags 0) -> __skb_get_poff.
//
// Source and line numbers: net/core/flow_dissector.c is not in the 6.6.y mirror the rest of the model
// cites (eclipse-oniro-mirrors/kernel_linux_6.6). It was read from the Qualcomm 6.6 tree
// CodeLinaro-mirror/qsdk_oss_kernel_linux-ipq-6.6 @ 6f1f33de1761, and the lines below are that file's.
// That tree has one visible vendor change in __skb_flow_dissect (the __skb_flow_dissect_ports call,
// at line 1630, also runs for first fragments) which cannot change a payload offset, because the
// basic dissector has no PORTS key; upstream lines after it may be one lower.
//
// What the basic dissector is: only the CONTROL and BASIC keys (flow_keys_basic_dissector_keys, at the end of flow_dissector.c), so every
// per-protocol helper that exists only to fill another key (MPLS, ARP, CFM, TCP, ICMP, L2TP, ESP, AH,
// ports, IPv4/IPv6 tos/ttl, addresses, VLAN ids, PPPoE ids, TIPC keys) returns at once, and what is
// left is a walk that moves nhoff and ip_proto. skb_get_poff passes flags 0: no STOP_AT_ENCAP,
// STOP_BEFORE_ENCAP, STOP_AT_FLOW_LABEL or PARSE_1ST_FRAG.
//
// Modelled: every case of the proto and ip_proto switches in __skb_flow_dissect — IPv4 (options,
// fragments), IPv6 (hop-by-hop, routing, destination options, fragment header), 802.1Q / 802.1AD both
// accelerated (skb->vlan_all) and in band, PPPoE session, TIPC, MPLS, FCoE, ARP / RARP, batman-adv,
// PTP (1588), HSR / PRP, CFM, GRE v0 (incl. TEB) and v1 (PPTP), IPIP, IPv6-in-IP, MPLS-in-IP — and
// the MAX_FLOW_DISSECT_HDRS (15) limit. Any other EtherType reaches `default: OUT_BAD` and
// skb_get_poff returns 0, exactly as in the kernel.
//
// Out of scope (the model assumes they are absent, and then it is exact):
// - a BPF flow dissector attached to the skb's network namespace (flow_dissector.c:1106 run_array):
//   it would replace the whole walk with a program's result;
// - DSA tagging (CONFIG_NET_DSA, skb->dev using a DSA tagger with proto ETH_P_XDSA, :1049): the
//   model's NetDevice has no DSA ops;
// - reading before skb->head: nhoff never goes below skb_network_offset, which SkBuff keeps inside the
//   headroom, so this cannot happen with a valid SkBuff (such bytes would read as 0).

import { DEFAULT_CONFIG, type KernelConfig } from './config.js';
import { ETH_HLEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_ARP, ETH_P_IP, ETH_P_IPV6, skbLen, type SkBuff } from './skb.js';

// include/uapi/linux/if_ether.h EtherTypes not already in skb.ts
export const ETH_P_RARP = 0x8035;
export const ETH_P_PPP_SES = 0x8864;
export const ETH_P_MPLS_UC = 0x8847;
export const ETH_P_MPLS_MC = 0x8848;
export const ETH_P_TIPC = 0x88ca;
export const ETH_P_FCOE = 0x8906;
export const ETH_P_BATMAN = 0x4305;
export const ETH_P_1588 = 0x88f7;
export const ETH_P_PRP = 0x88fb;
export const ETH_P_HSR = 0x892f;
export const ETH_P_CFM = 0x8902;
export const ETH_P_TEB = 0x6558;

// include/uapi/linux/in.h, in6.h and include/net/ipv6.h NEXTHDR_*
export const IPPROTO_IP = 0; // == NEXTHDR_HOP
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_DCCP = 33;
export const IPPROTO_IPV6 = 41;
export const NEXTHDR_HOP = 0;
export const NEXTHDR_ROUTING = 43;
export const NEXTHDR_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;
export const NEXTHDR_DEST = 60;
export const IPPROTO_SCTP = 132;
export const IPPROTO_UDPLITE = 136;
export const IPPROTO_MPLS = 137;

/** include/net/flow_dissector.h FLOW_DIS_* (key_control->flags) */
export const FLOW_DIS_IS_FRAGMENT = 1 << 0;
export const FLOW_DIS_FIRST_FRAG = 1 << 1;
export const FLOW_DIS_ENCAPSULATION = 1 << 2;

/** include/net/flow_dissector.h FLOW_DISSECTOR_F_* (the `flags` argument) */
export const FLOW_DISSECTOR_F_PARSE_1ST_FRAG = 1 << 0;
export const FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL = 1 << 1;
export const FLOW_DISSECTOR_F_STOP_AT_ENCAP = 1 << 2;
export const FLOW_DISSECTOR_F_STOP_BEFORE_ENCAP = 1 << 3;

/** net/core/flow_dissector.c:890 MAX_FLOW_DISSECT_HDRS */
export const MAX_FLOW_DISSECT_HDRS = 15;

// Header sizes the walk steps over (the structs named in the kernel source).
const IPV6_HDR_LEN = 40; // struct ipv6hdr
const IPV4_HDR_LEN = 20; // struct iphdr
const VLAN_HLEN = 4; // struct vlan_hdr
const PPPOE_SES_HLEN = 8; // include/uapi/linux/if_pppox.h (struct pppoe_hdr + 2-byte PPP protocol)
const TIPC_BASIC_HDR_LEN = 16; // include/net/tipc.h struct tipc_basic_hdr { __be32 w[4]; }
const MPLS_LABEL_LEN = 4; // struct mpls_label
const FCOE_HEADER_LEN = 38; // include/scsi/fc/fc_fcoe.h
const BATADV_HDR_LEN = 10 + 14; // struct batadv_unicast_packet + struct ethhdr
const PTP_HEADER_LEN = 34; // include/linux/ptp_classify.h struct ptp_header (packed)
const HSR_HLEN = 6; // include/linux/if_hsr.h struct hsr_tag
const GRE_BASE_HDR_LEN = 4; // struct gre_base_hdr
const PPP_HDRLEN = 4; // include/uapi/linux/ppp_defs.h
const FRAG_HDR_LEN = 8; // struct frag_hdr

// include/uapi/linux/ppp_defs.h
const PPP_IP = 0x21;
const PPP_IPV6 = 0x57;
const PPP_MPLS_UC = 0x281;
const PPP_MPLS_MC = 0x283;
// include/net/gre.h, include/uapi/linux/if_tunnel.h (host-order values of the __be16 flags)
const GRE_CSUM = 0x8000;
const GRE_ROUTING = 0x4000;
const GRE_KEY = 0x2000;
const GRE_SEQ = 0x1000;
const GRE_ACK = 0x0080;
const GRE_VERSION = 0x0007;
const GRE_PROTO_PPP = 0x880b;
// include/uapi/linux/batadv_packet.h
const BATADV_COMPAT_VERSION = 15;
const BATADV_UNICAST = 0x40;
// include/net/ip.h, include/net/ipv6.h
const IP_MF = 0x2000;
const IP_OFFSET = 0x1fff;
const IP6_OFFSET = 0xfff8;

/** enum flow_dissect_ret (include/net/flow_dissector.h) */
const enum Ret {
  OUT_GOOD,
  OUT_BAD,
  PROTO_AGAIN,
  IPPROTO_AGAIN,
  CONTINUE,
}

/** What __skb_flow_dissect leaves in struct flow_keys_basic (control + basic keys), plus its result. */
export interface FlowKeysBasic {
  /** The bool __skb_flow_dissect returns. */
  readonly ok: boolean;
  /** key_control->thoff = min_t(u16, nhoff, skb->len) */
  readonly thoff: number;
  /** key_control->flags (FLOW_DIS_*) */
  readonly flags: number;
  /** key_basic->n_proto, host order */
  readonly nProto: number;
  /** key_basic->ip_proto */
  readonly ipProto: number;
}

/** One byte at offset `off` from skb->data; negative offsets read the headroom. */
function byteAt(skb: SkBuff, off: number): number {
  if (off >= 0) return skb.data[off] ?? 0;
  return skb.headroom[skb.headroom.length + off] ?? 0;
}

/** A big-endian u16 at offset `off` from skb->data. */
const be16At = (skb: SkBuff, off: number): number => (byteAt(skb, off) << 8) | byteAt(skb, off + 1);

/**
 * include/linux/skbuff.h __skb_header_pointer(skb, offset, len, data, hlen, buffer): can `len` bytes be
 * read at `offset`? Either hlen - offset >= len (a pointer into the linear data) or skb_copy_bits
 * (net/core/skbuff.c), which fails only when offset > skb->len - len and otherwise reads the linear
 * part and the frags alike. Both give the same bytes, so the answer is offset + len <= skb->len.
 */
const headerReadable = (skb: SkBuff, offset: number, len: number): boolean =>
  offset <= skbLen(skb) - len;

/** v6.6 skb_vlan_tag_present(skb): skb->vlan_all != 0 (vlan_proto and vlan_tci together). */
const skbVlanTagPresent = (skb: SkBuff): boolean => skb.vlanProto !== 0 || skb.vlanTci !== 0;

/** include/linux/ppp_defs.h ppp_proto_is_valid: odd, and bit 0 of the high octet clear (RFC 1661 §2). */
const pppProtoIsValid = (proto: number): boolean => (proto & 0x0101) === 0x0001;

/** net/core/flow_dissector.c:1000 is_pppoe_ses_hdr_valid: ver == 1 && type == 1 && code == 0 */
function isPppoeSesHdrValid(skb: SkBuff, off: number): boolean {
  // struct pppoe_hdr: ver is the high nibble of byte 0 and type the low one (on both bitfield orders)
  const verType = byteAt(skb, off);
  return verType >> 4 === 1 && (verType & 0x0f) === 1 && byteAt(skb, off + 1) === 0;
}

/** The walk's mutable state: the locals of __skb_flow_dissect that the GRE / batadv helpers update. */
interface Walk {
  proto: number;
  nhoff: number;
  hlen: number;
  controlFlags: number;
}

/**
 * net/core/flow_dissector.c:629 __skb_flow_dissect_gre, for a dissector without the GRE_KEYID key.
 * Updates w.proto, w.nhoff, w.hlen (with NET_IP_ALIGN after an Ethernet header) and the
 * ENCAPSULATION flag.
 */
function skbFlowDissectGre(skb: SkBuff, w: Walk, flags: number, netIpAlign: number): Ret {
  if (!headerReadable(skb, w.nhoff, GRE_BASE_HDR_LEN)) return Ret.OUT_BAD;
  const greFlags = be16At(skb, w.nhoff);
  // Only look inside GRE without routing (:643)
  if (greFlags & GRE_ROUTING) return Ret.OUT_GOOD;
  // Only look inside GRE for version 0 and 1 (:651)
  const greVer = greFlags & GRE_VERSION;
  if (greVer > 1) return Ret.OUT_GOOD;
  w.proto = be16At(skb, w.nhoff + 2);
  // Version 1 must be PPTP (:658)
  if (greVer !== 0 && !(w.proto === GRE_PROTO_PPP && greFlags & GRE_KEY)) return Ret.OUT_GOOD;
  let offset = GRE_BASE_HDR_LEN;
  if (greFlags & GRE_CSUM) offset += 4; // csum + reserved1
  if (greFlags & GRE_KEY) {
    if (!headerReadable(skb, w.nhoff + offset, 4)) return Ret.OUT_BAD;
    offset += 4;
  }
  if (greFlags & GRE_SEQ) offset += 4;
  if (greVer === 0) {
    if (w.proto === ETH_P_TEB) {
      if (!headerReadable(skb, w.nhoff + offset, ETH_HLEN)) return Ret.OUT_BAD;
      w.proto = be16At(skb, w.nhoff + offset + 12); // eth->h_proto
      offset += ETH_HLEN;
      // Cap headers accessed via pointers at the end of the Ethernet header (:711). Only the FCoE
      // length test below reads hlen as a bound; every other read goes through skb_copy_bits.
      if (netIpAlign) w.hlen = w.nhoff + offset;
    }
  } else {
    // version 1, must be PPTP (:714)
    if (greFlags & GRE_ACK) offset += 4;
    if (!headerReadable(skb, w.nhoff + offset, PPP_HDRLEN)) return Ret.OUT_BAD;
    const pppProto = be16At(skb, w.nhoff + offset + 2); // PPP_PROTOCOL(ppp_hdr)
    if (pppProto === PPP_IP) w.proto = ETH_P_IP;
    else if (pppProto === PPP_IPV6) w.proto = ETH_P_IPV6;
    // default: proto stays GRE_PROTO_PPP ("Could probably catch some more like MPLS")
    offset += PPP_HDRLEN;
  }
  w.nhoff += offset;
  w.controlFlags |= FLOW_DIS_ENCAPSULATION;
  if (flags & FLOW_DISSECTOR_F_STOP_AT_ENCAP) return Ret.OUT_GOOD;
  return Ret.PROTO_AGAIN;
}

/** net/core/flow_dissector.c:770 __skb_flow_dissect_batadv */
function skbFlowDissectBatadv(skb: SkBuff, w: Walk, flags: number): Ret {
  if (!headerReadable(skb, w.nhoff, BATADV_HDR_LEN)) return Ret.OUT_BAD;
  // struct batadv_unicast_packet { u8 packet_type; u8 version; ... }
  if (byteAt(skb, w.nhoff + 1) !== BATADV_COMPAT_VERSION) return Ret.OUT_BAD;
  if (byteAt(skb, w.nhoff) !== BATADV_UNICAST) return Ret.OUT_BAD;
  w.proto = be16At(skb, w.nhoff + 10 + 12); // the inner eth.h_proto
  w.nhoff += BATADV_HDR_LEN;
  w.controlFlags |= FLOW_DIS_ENCAPSULATION;
  if (flags & FLOW_DISSECTOR_F_STOP_AT_ENCAP) return Ret.OUT_GOOD;
  return Ret.PROTO_AGAIN;
}

/**
 * net/core/flow_dissector.c:1024 __skb_flow_dissect with flow_keys_basic_dissector and data == NULL
 * (the form skb_flow_dissect_flow_keys_basic calls it in; include/linux/skbuff.h). `netIpAlign` is
 * NET_IP_ALIGN (only GRE+TEB reads it).
 */
export function skbFlowDissectFlowKeysBasic(
  skb: SkBuff,
  flags = 0,
  cfg: Pick<KernelConfig, 'netIpAlign'> = DEFAULT_CONFIG,
): FlowKeysBasic {
  // :1043 data = skb->data; proto = vlan tag present ? skb->vlan_proto : skb->protocol; ...
  const w: Walk = {
    proto: skbVlanTagPresent(skb) ? skb.vlanProto : skb.protocol,
    nhoff: skb.networkHeader,
    hlen: skb.headlen,
    controlFlags: 0,
  };
  let ipProto = 0;
  let numHdrs = 0;
  // dissector_vlan: how many VLAN headers were seen (FLOW_DISSECTOR_KEY_MAX -> VLAN -> CVLAN)
  let vlanDepth = 0;
  let ret: boolean;
  // :892 skb_flow_dissect_allowed
  const allowed = (): boolean => ++numHdrs <= MAX_FLOW_DISSECT_HDRS;

  walk: for (;;) {
    // :1161 proto_again
    let fdret = Ret.CONTINUE;
    switch (w.proto) {
      case ETH_P_IP: {
        // :1165
        if (!headerReadable(skb, w.nhoff, IPV4_HDR_LEN)) {
          fdret = Ret.OUT_BAD;
          break;
        }
        const ihl = byteAt(skb, w.nhoff) & 0x0f;
        if (ihl < 5) {
          fdret = Ret.OUT_BAD;
          break;
        }
        // The version nibble is not checked, nor tot_len: the kernel does neither here.
        const fragOff = be16At(skb, w.nhoff + 6);
        ipProto = byteAt(skb, w.nhoff + 9);
        w.nhoff += ihl * 4;
        // :1195 ip_is_fragment
        if (fragOff & (IP_MF | IP_OFFSET)) {
          w.controlFlags |= FLOW_DIS_IS_FRAGMENT;
          if (fragOff & IP_OFFSET) {
            fdret = Ret.OUT_GOOD;
            break;
          }
          w.controlFlags |= FLOW_DIS_FIRST_FRAG;
          if (!(flags & FLOW_DISSECTOR_F_PARSE_1ST_FRAG)) {
            fdret = Ret.OUT_GOOD;
            break;
          }
        }
        break;
      }
      case ETH_P_IPV6: {
        // :1213
        if (!headerReadable(skb, w.nhoff, IPV6_HDR_LEN)) {
          fdret = Ret.OUT_BAD;
          break;
        }
        ipProto = byteAt(skb, w.nhoff + 6);
        const flowLabel = ((byteAt(skb, w.nhoff + 1) & 0x0f) << 16) | be16At(skb, w.nhoff + 2);
        w.nhoff += IPV6_HDR_LEN;
        // :1240 only with the FLOW_LABEL key (not in the basic dissector) or STOP_AT_FLOW_LABEL
        if (flags & FLOW_DISSECTOR_F_STOP_AT_FLOW_LABEL && flowLabel !== 0) fdret = Ret.OUT_GOOD;
        break;
      }
      case ETH_P_8021AD:
      case ETH_P_8021Q: {
        // :1263 the accelerated tag is consumed first, then in-band headers
        if (vlanDepth === 0 && skbVlanTagPresent(skb)) {
          w.proto = skb.protocol;
        } else {
          if (!headerReadable(skb, w.nhoff, VLAN_HLEN)) {
            fdret = Ret.OUT_BAD;
            break;
          }
          w.proto = be16At(skb, w.nhoff + 2); // h_vlan_encapsulated_proto
          w.nhoff += VLAN_HLEN;
        }
        // :1294 the third and later tags skip the (absent) VLAN keys; all paths go PROTO_AGAIN
        if (vlanDepth < 2) vlanDepth++;
        fdret = Ret.PROTO_AGAIN;
        break;
      }
      case ETH_P_PPP_SES: {
        // :1325
        if (!headerReadable(skb, w.nhoff, PPPOE_SES_HLEN) || !isPppoeSesHdrValid(skb, w.nhoff)) {
          fdret = Ret.OUT_BAD;
          break;
        }
        // :1346 the low bit of the high octet says the PPP protocol field was compressed
        let pppProto = be16At(skb, w.nhoff + 6);
        if (pppProto & 0x0100) {
          pppProto >>= 8;
          w.nhoff += PPPOE_SES_HLEN - 1;
        } else {
          w.nhoff += PPPOE_SES_HLEN;
        }
        if (pppProto === PPP_IP) {
          w.proto = ETH_P_IP;
          fdret = Ret.PROTO_AGAIN;
        } else if (pppProto === PPP_IPV6) {
          w.proto = ETH_P_IPV6;
          fdret = Ret.PROTO_AGAIN;
        } else if (pppProto === PPP_MPLS_UC) {
          w.proto = ETH_P_MPLS_UC;
          fdret = Ret.PROTO_AGAIN;
        } else if (pppProto === PPP_MPLS_MC) {
          w.proto = ETH_P_MPLS_MC;
          fdret = Ret.PROTO_AGAIN;
        } else if (pppProtoIsValid(pppProto)) {
          fdret = Ret.OUT_GOOD;
        } else {
          fdret = Ret.OUT_BAD;
        }
        break;
      }
      case ETH_P_TIPC:
        // :1386 the header must be there; nhoff does not move
        fdret = headerReadable(skb, w.nhoff, TIPC_BASIC_HDR_LEN) ? Ret.OUT_GOOD : Ret.OUT_BAD;
        break;
      case ETH_P_MPLS_UC:
      case ETH_P_MPLS_MC:
        // :1408 __skb_flow_dissect_mpls returns OUT_GOOD before reading (no MPLS keys, :502); the
        // label is skipped all the same
        fdret = Ret.OUT_GOOD;
        w.nhoff += MPLS_LABEL_LEN;
        break;
      case ETH_P_FCOE:
        // :1417 tested against hlen (the linear length), not skb->len
        if (w.hlen - w.nhoff < FCOE_HEADER_LEN) {
          fdret = Ret.OUT_BAD;
          break;
        }
        w.nhoff += FCOE_HEADER_LEN;
        fdret = Ret.OUT_GOOD;
        break;
      case ETH_P_ARP:
      case ETH_P_RARP:
      case ETH_P_CFM:
        // :1427 / :1471 __skb_flow_dissect_arp / _cfm return OUT_GOOD at once without the ARP / CFM key
        // (:565, :613): nothing is read, even a truncated header is fine
        fdret = Ret.OUT_GOOD;
        break;
      case ETH_P_BATMAN:
        fdret = skbFlowDissectBatadv(skb, w, flags);
        break;
      case ETH_P_1588:
        // :1439
        if (!headerReadable(skb, w.nhoff, PTP_HEADER_LEN)) {
          fdret = Ret.OUT_BAD;
          break;
        }
        w.nhoff += PTP_HEADER_LEN;
        fdret = Ret.OUT_GOOD;
        break;
      case ETH_P_PRP:
      case ETH_P_HSR:
        // :1454
        if (!headerReadable(skb, w.nhoff, HSR_HLEN)) {
          fdret = Ret.OUT_BAD;
          break;
        }
        w.proto = be16At(skb, w.nhoff + 4); // encap_proto
        w.nhoff += HSR_HLEN;
        fdret = Ret.PROTO_AGAIN;
        break;
      default:
        // :1477 an EtherType the dissector does not know
        fdret = Ret.OUT_BAD;
        break;
    }

    // :1483 process the result of proto processing
    if (fdret === Ret.OUT_GOOD) {
      ret = true;
      break walk;
    }
    if (fdret === Ret.PROTO_AGAIN) {
      if (allowed()) continue walk;
      ret = true;
      break walk;
    }
    if (fdret === Ret.OUT_BAD) {
      ret = false;
      break walk;
    }

    for (;;) {
      // :1498 ip_proto_again
      fdret = Ret.CONTINUE;
      switch (ipProto) {
        case IPPROTO_GRE:
          if (flags & FLOW_DISSECTOR_F_STOP_BEFORE_ENCAP) fdret = Ret.OUT_GOOD;
          else fdret = skbFlowDissectGre(skb, w, flags, cfg.netIpAlign);
          break;
        case NEXTHDR_HOP:
        case NEXTHDR_ROUTING:
        case NEXTHDR_DEST:
          // :1513 only under IPv6; for IPv4 (protocol 0, 43, 60) nothing happens
          if (w.proto !== ETH_P_IPV6) break;
          if (!headerReadable(skb, w.nhoff, 2)) {
            fdret = Ret.OUT_BAD;
            break;
          }
          ipProto = byteAt(skb, w.nhoff);
          w.nhoff += (byteAt(skb, w.nhoff + 1) + 1) << 3;
          fdret = Ret.IPPROTO_AGAIN;
          break;
        case NEXTHDR_FRAGMENT:
          // :1534
          if (w.proto !== ETH_P_IPV6) break;
          if (!headerReadable(skb, w.nhoff, FRAG_HDR_LEN)) {
            fdret = Ret.OUT_BAD;
            break;
          }
          w.controlFlags |= FLOW_DIS_IS_FRAGMENT;
          ipProto = byteAt(skb, w.nhoff);
          fdret = Ret.OUT_GOOD;
          if (!(be16At(skb, w.nhoff + 2) & IP6_OFFSET)) {
            w.controlFlags |= FLOW_DIS_FIRST_FRAG;
            if (flags & FLOW_DISSECTOR_F_PARSE_1ST_FRAG) fdret = Ret.IPPROTO_AGAIN;
          }
          w.nhoff += FRAG_HDR_LEN;
          break;
        case IPPROTO_IPIP:
        case IPPROTO_IPV6:
          // :1564 / :1581
          if (flags & FLOW_DISSECTOR_F_STOP_BEFORE_ENCAP) {
            fdret = Ret.OUT_GOOD;
            break;
          }
          w.proto = ipProto === IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6;
          w.controlFlags |= FLOW_DIS_ENCAPSULATION;
          fdret = flags & FLOW_DISSECTOR_F_STOP_AT_ENCAP ? Ret.OUT_GOOD : Ret.PROTO_AGAIN;
          break;
        case IPPROTO_MPLS:
          // :1599
          w.proto = ETH_P_MPLS_UC;
          fdret = Ret.PROTO_AGAIN;
          break;
        default:
          // TCP, ICMP, ICMPv6, L2TP, ESP, AH only fill keys the basic dissector lacks
          break;
      }

      // :1636 process the result of IP proto processing
      if (fdret === Ret.PROTO_AGAIN) {
        if (allowed()) continue walk;
      } else if (fdret === Ret.IPPROTO_AGAIN) {
        if (allowed()) continue;
      } else if (fdret === Ret.OUT_BAD) {
        ret = false;
        break walk;
      }
      ret = true;
      break walk;
    }
  }

  // :1657 out: key_control->thoff = min_t(u16, nhoff, skb->len) — both truncated to u16 first
  const thoff = Math.min(w.nhoff & 0xffff, skbLen(skb) & 0xffff);
  return { ok: ret, thoff, flags: w.controlFlags, nProto: w.proto, ipProto };
}

/**
 * net/core/flow_dissector.c:1872 __skb_get_poff: thoff plus the L4 header length, except for
 * fragments after the first. TCP reads doff at thoff + 12 (just thoff if that byte is beyond skb->len).
 */
export function skbGetPoffFromKeys(skb: SkBuff, keys: FlowKeysBasic): number {
  let poff = keys.thoff;
  // skip L4 headers for fragments after the first (:1878)
  if (keys.flags & FLOW_DIS_IS_FRAGMENT && !(keys.flags & FLOW_DIS_FIRST_FRAG)) return poff;
  switch (keys.ipProto) {
    case IPPROTO_TCP: {
      // :1888 doff read as a u8
      if (!headerReadable(skb, poff + 12, 1)) return poff;
      poff += Math.max(20, (byteAt(skb, poff + 12) & 0xf0) >> 2);
      break;
    }
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
      poff += 8; // struct udphdr
      break;
    case IPPROTO_ICMP:
      poff += 8; // struct icmphdr
      break;
    case IPPROTO_ICMPV6:
      poff += 8; // struct icmp6hdr
      break;
    case IPPROTO_IGMP:
      poff += 8; // struct igmphdr
      break;
    case IPPROTO_DCCP:
      poff += 16; // struct dccp_hdr
      break;
    case IPPROTO_SCTP:
      poff += 12; // struct sctphdr
      break;
  }
  return poff >>> 0;
}

/**
 * net/core/flow_dissector.c:1932 skb_get_poff: payload offset from skb->data, 0 if dissection fails.
 * This is what net/core/filter.c:165 bpf_skb_get_pay_offset returns for SKF_AD_PAY_OFFSET.
 * The offset can exceed skb->len (e.g. an IPv4 header whose ihl points past the end), as in the kernel.
 */
export function skbGetPoff(skb: SkBuff, cfg: Pick<KernelConfig, 'netIpAlign'> = DEFAULT_CONFIG): number {
  const keys = skbFlowDissectFlowKeysBasic(skb, 0, cfg);
  if (!keys.ok) return 0;
  return skbGetPoffFromKeys(skb, keys);
}
