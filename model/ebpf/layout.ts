// The ONE table of structure offsets the migrated classic program reads, for Linux v6.6 on x86-64
// (LP64, little-endian) with a distribution configuration (Debian/Ubuntu/Fedora-like:
// CONFIG_NF_CONNTRACK, CONFIG_SKB_EXTENSIONS, CONFIG_NET_XGRESS, CONFIG_WIRELESS,
// CONFIG_IPV6_NDISC_NODETYPE, CONFIG_IP_VS, CONFIG_NF_TABLES, CONFIG_NET_SWITCHDEV,
// CONFIG_NET_REDIRECT, CONFIG_NETFILTER_SKIP_EGRESS, CONFIG_TLS_DEVICE, CONFIG_IP_SCTP,
// CONFIG_NET_SCHED, CONFIG_NET_RX_BUSY_POLL, CONFIG_NETWORK_SECMARK all on; CONFIG_KCOV off).
//
// Where the numbers come from: no pahole/BTF output of a v6.6 build was available. Every offset
// below is DERIVED by hand from the struct definitions (C layout rules: each member at the next
// multiple of its alignment; bit-fields packed into consecutive bytes of their __u8 unit), and
// the derivation is written next to each entry so that it can be re-checked line by line.
//   - struct sk_buff: include/linux/skbuff.h (v6.6.8 text, struct sk_buff; the 6.6 mirror used for
//     the rest of the model does not carry skbuff.h). UNVERIFIED against pahole.
//   - struct net_device: include/linux/netdevice.h (6.6.y mirror eclipse-oniro-mirrors/kernel_linux_6.6
//     @ 79226fb0ba80, struct net_device). No #ifdef precedes ifindex or type, so these two are
//     config-independent. UNVERIFIED against pahole.
//   - struct bpf_prog: include/linux/bpf.h (v6.2+ text: the struct moved from filter.h to bpf.h).
//     UNVERIFIED against pahole.
// The model never depends on the absolute numbers for its semantics (the converter emits them and
// the memory image puts the fields there), but they are what a kernel dump of the migrated program
// shows, so they are kept faithful.

/** One field of a kernel structure: byte offset and size (bytes). */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
  /** How the number was obtained. */
  readonly source: string;
}

const f = (offset: number, size: number, source: string): FieldLayout => ({ offset, size, source });

/**
 * struct sk_buff (include/linux/skbuff.h, v6.6) — the fields the converter reads.
 *
 *   0  union { struct { next 0, prev 8, union { dev 16 } }; rb_node rbnode (24); list; ll_node }  24 bytes
 *  24  union { struct sock *sk; int ip_defrag_offset; }
 *  32  union { ktime_t tstamp; u64 skb_mstamp_ns; }
 *  40  char cb[48] __aligned(8)                                            -> 88
 *  88  union { struct { _skb_refdst 88; destructor 96 }; tcp_tsorted_anchor; _sk_redir }  -> 104
 * 104  unsigned long _nfct                        (CONFIG_NF_CONNTRACK)      -> 112
 * 112  unsigned int len;  116  unsigned int data_len
 * 120  __u16 mac_len;  122  __u16 hdr_len;  124  __u16 queue_mapping
 * 126  __cloned_offset[0]: cloned:1 nohdr:1 fclone:2 peeked:1 head_frag:1 pfmemalloc:1 pp_recycle:1
 * 127  __u8 active_extensions                   (CONFIG_SKB_EXTENSIONS)
 *      struct_group(headers, ...) — alignment 4 (its widest member is a u32), starts at 128:
 * 128  __pkt_type_offset[0]: pkt_type:3 ignore_df:1 dst_pending_confirm:1 ip_summed:2 ooo_okay:1
 * 129  __mono_tc_offset[0]: mono_delivery_time:1 tc_at_ingress:1 tc_skip_classify:1 remcsum_offload:1
 *      csum_complete_sw:1 csum_level:2 inner_protocol_type:1
 * 130  l4_hash sw_hash wifi_acked_valid wifi_acked no_fcs encapsulation encap_hdr_csum csum_valid
 * 131  ndisc_nodetype:2 ipvs_property nf_trace offload_fwd_mark offload_l3_fwd_mark redirected from_ingress
 * 132  nf_skip_egress decrypted slow_gro csum_not_inet (4 bits; 36 bits in all, so a 5th byte)
 * 134  __u16 tc_index;  136  u16 alloc_cpu;  140  union { __wsum csum; { csum_start; csum_offset } }
 * 144  priority;  148  skb_iif;  152  hash;  156  union { u32 vlan_all; { __be16 vlan_proto 156; __u16 vlan_tci 158 } }
 * 160  union { napi_id; sender_cpu };  164  secmark;  168  union { mark; reserved_tailroom }
 * 172  union { inner_protocol; inner_ipproto };  174 inner_transport_header; 176 inner_network_header
 * 178  inner_mac_header;  180  __be16 protocol;  182 transport_header; 184 network_header; 186 mac_header
 *      end of headers group: 188
 * 188  sk_buff_data_t tail (u32 offset on 64-bit);  192  end;  200  unsigned char *head;  208  *data
 * 216  truesize;  220  users;  224  struct skb_ext *extensions;  sizeof = 232
 */
export const SK_BUFF = {
  dev: f(16, 8, 'derived: first union is 24 bytes (rb_node), dev follows next/prev'),
  len: f(112, 4, 'derived: after cb[48] at 40, the 16-byte dst/destructor union at 88, _nfct at 104'),
  dataLen: f(116, 4, 'derived: follows len'),
  queueMapping: f(124, 2, 'derived: after mac_len 120, hdr_len 122'),
  pktTypeOffset: f(128, 1, 'derived: PKT_TYPE_OFFSET = offsetof(__pkt_type_offset), first byte of the 4-aligned headers group'),
  hash: f(152, 4, 'derived: after csum 140, priority 144, skb_iif 148'),
  vlanAll: f(156, 4, 'derived: union after hash'),
  vlanProto: f(156, 2, 'derived: first member of the vlan_all union struct'),
  vlanTci: f(158, 2, 'derived: second member of the vlan_all union struct'),
  mark: f(168, 4, 'derived: after napi_id 160, secmark 164'),
  protocol: f(180, 2, 'derived: after the inner_* header offsets 172..179'),
  networkHeader: f(184, 2, 'derived'),
  macHeader: f(186, 2, 'derived'),
  tail: f(188, 4, 'derived: sk_buff_data_t is unsigned int when NET_SKBUFF_DATA_USES_OFFSET (64-bit)'),
  end: f(192, 4, 'derived'),
  head: f(200, 8, 'derived: pointer, 8-aligned after end'),
  data: f(208, 8, 'derived: pointer after head'),
} as const;

/** sizeof(struct sk_buff), derived (UNVERIFIED against pahole). */
export const SIZEOF_SK_BUFF = 232;

/** include/linux/skbuff.h PKT_TYPE_OFFSET = offsetof(struct sk_buff, __pkt_type_offset) */
export const PKT_TYPE_OFFSET = SK_BUFF.pktTypeOffset.offset;

/** include/linux/skbuff.h PKT_TYPE_MAX: 7 with __LITTLE_ENDIAN_BITFIELD, (7 << 5) with __BIG_ENDIAN_BITFIELD */
export const pktTypeMax = (littleEndianBitfield: boolean): number => (littleEndianBitfield ? 7 : 7 << 5);

/** (u16)~0U: skb->mac_header when it was never set (include/linux/skbuff.h skb_mac_header_was_set). */
export const MAC_HEADER_UNSET = 0xffff;

/**
 * struct net_device (include/linux/netdevice.h, 6.6.y) — the two fields a classic filter reads.
 *
 *   0 name[16]; 16 name_node; 24 ifalias; 32 mem_end; 40 mem_start; 48 base_addr; 56 state;
 *  64 dev_list; 80 napi_list; 96 unreg_list; 112 close_list; 128 ptype_all; 144 ptype_specific;
 * 160 adj_list { upper; lower } (32); 192 flags; 196 xdp_features; 200 priv_flags (u64);
 * 208 netdev_ops; 216 xdp_metadata_ops; 224 int ifindex; 228 gflags; 230 hard_header_len;
 * 232 mtu; 236 needed_headroom; 238 needed_tailroom; 240..295 seven netdev_features_t;
 * 296 min_mtu; 300 max_mtu; 304 unsigned short type; 306 min_header_len; 307 name_assign_type
 */
export const NET_DEVICE = {
  ifindex: f(224, 4, 'derived from the 6.6.y struct text; no #ifdef before it'),
  type: f(304, 2, 'derived from the 6.6.y struct text; no #ifdef before it'),
} as const;

/** Bytes of struct net_device the model lays out (up to and including type); the rest is unmodelled. */
export const NET_DEVICE_MODELLED_SIZE = 308;

/**
 * struct bpf_prog (include/linux/bpf.h, v6.6): u16 pages 0; u16 bit-fields 2; enum type 4;
 * enum expected_attach_type 8; u32 len 12; u32 jited_len 16; u8 tag[8] 20; stats 32 (8-aligned);
 * active 40; bpf_func 48; aux 56; orig_prog 64; union { insns[]; insnsi[] } 72.
 * Derived; UNVERIFIED against pahole (the digest's "~72 bytes").
 */
export const BPF_PROG = {
  insns: f(72, 0, 'derived: flexible array after orig_prog at 64'),
} as const;
/** sizeof(struct bpf_prog): the flexible array adds nothing, so 72 (derived). */
export const SIZEOF_BPF_PROG = 72;
/** sizeof(struct sock_filter) == sizeof(struct bpf_insn) == 8 (BUILD_BUG_ON at net/core/filter.c:1262). */
export const SIZEOF_INSN = 8;
