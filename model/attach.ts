// The attach path and the per-packet run, end to end:
//   setsockopt(SOL_SOCKET, SO_ATTACH_FILTER) -> sk_setsockopt -> sk_attach_filter
//     -> __get_filter (SOCK_FILTER_LOCKED, bpf_check_basics_ok, bpf_prog_alloc: blinding_requested)
//        -> bpf_prepare_filter -> bpf_check_classic, bpf_jit_compile (classic JIT: none on x86-64),
//           bpf_migrate_filter (bpf_convert_filter x2, bpf_prog_select_runtime -> bpf_int_jit_compile)
//     -> __sk_attach_prog -> __sk_filter_charge (the new filter charged while the old one still counts),
//        then sk_filter_uncharge of the old one
//   SO_DETACH_FILTER -> sk_detach_filter; SO_LOCK_FILTER -> SOCK_FILTER_LOCKED
//   packet_rcv / tpacket_rcv / sk_filter_trim_cap -> run_filter -> bpf_prog_run -> ___bpf_prog_run
// Lines: net/core/filter.c and net/core/sock.c of the 6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6
// @ 79226fb0ba80; net/packet/af_packet.c of the same repository @ dda72fb05f8a (the snapshot that has
// it, 6.6.22). The copy from user space (-EFAULT, optlen -EINVAL) and allocation failures (-ENOMEM of
// kmalloc/vmalloc) are outside the model.
import { bpfCheckBasicsOk, bpfCheckClassic } from './cbpf/check.js';
import type { Program, SockFilter } from './cbpf/insn.js';
import type { KernelConfig } from './config.js';
import { skbHelperTable, type HelperEnv } from './ebpf/helpers.js';
import { compileEbpf, EbpfVm, type CompiledEbpf, type EbpfStep } from './ebpf/interp.js';
import type { Fault } from './ebpf/memory.js';
import { createSkbImage, layOutSkb, type SkbImage } from './ebpf/skbmem.js';
import { __skFilterCharge, chargeRejection, skFilterUncharge } from './migrate/charge.js';
import { blindingRequested, bpfMigrateFilter, type MigratedProgram } from './migrate/convert.js';
import { prandomSeedState, newRndState } from './prandom.js';
import type { Env, SkBuff } from './skb.js';
import { ENOENT, EPERM } from './uapi.js';
import { reject, type Rejection } from './verdict.js';

/** A filter the kernel accepted (struct bpf_prog): the classic program, its migration and the runnable form. */
export interface AttachedFilter {
  readonly ok: true;
  readonly prog: Program;
  readonly migrated: MigratedProgram;
  readonly compiled: CompiledEbpf;
}

/** struct sk_filter: the wrapper __sk_attach_prog puts around the program it attaches. */
export interface SkFilter {
  readonly prog: AttachedFilter;
}

/** struct sock, the fields the attach layer reads and writes. */
export interface Sock {
  /** sk->sk_filter */
  readonly filter: SkFilter | null;
  /** sk->sk_omem_alloc (atomic_t): what sock_kmalloc and the filters charged */
  readonly omemAlloc: number;
  /** sock_flag(sk, SOCK_FILTER_LOCKED), set by SO_LOCK_FILTER */
  readonly filterLocked: boolean;
}

/** A socket as socket(2) returns it: no filter, nothing charged, not locked. */
export const NEW_SOCK: Sock = Object.freeze({ filter: null, omemAlloc: 0, filterLocked: false });

/** sk_attach_filter's success: the program, and the socket it is now attached to. */
export interface Attached extends AttachedFilter {
  readonly sk: Sock;
}

/** The classic-program check bpf_prepare_filter takes from seccomp (bpf_aux_classic_check_t), or null. */
export type ClassicTrans = ((p: Program) => { prog: SockFilter[]; rejection: Rejection | null }) | null;

/**
 * Model helper (no kernel function of its own): the checks of the attach path before migration in the
 * kernel's order, bpf_check_basics_ok (in __get_filter) then bpf_check_classic (in bpf_prepare_filter),
 * under `config`'s historical variant, if any. What the classic evaluator needs.
 */
export function bpfCheckFilter(prog: Program | null, config?: KernelConfig): Rejection | null {
  return bpfCheckBasicsOk(prog) ?? bpfCheckClassic(prog!, config);
}

// kernel/bpf/core.c:2898 bpf_jit_compile
/**
 * The classic JIT: a __weak stub that compiles nothing on every architecture with an eBPF JIT
 * (x86-64, arm64, riscv64 among them), so fp->jited stays 0 and bpf_prepare_filter migrates.
 */
export function bpfJitCompile(_prog: Program): boolean {
  return false;
}

// net/core/filter.c:1322 bpf_prepare_filter
/**
 * bpf_check_classic (:1330), then `trans` on fp->insns (:1340, seccomp's check; null for sockets), then
 * the classic JIT (:1350) and, as it compiles nothing, bpf_migrate_filter (:1356). `blinding` is
 * fp->blinding_requested, set when the caller allocated the program (default: under `config`).
 */
export function bpfPrepareFilter(
  prog: Program,
  trans: ClassicTrans,
  config: KernelConfig,
  blinding: boolean = blindingRequested(config),
): { readonly insns: SockFilter[]; readonly migrated: MigratedProgram } | Rejection {
  const checked = bpfCheckClassic(prog, config);
  if (checked !== null) return checked;
  let insns: SockFilter[] = prog.slice();
  if (trans !== null) {
    const t = trans(prog);
    if (t.rejection !== null) return t.rejection;
    insns = t.prog;
  }
  // net/core/filter.c:1350 bpf_jit_compile(fp): the classic JIT, none on the architectures modelled
  if (bpfJitCompile(insns)) throw new Error('unreachable: no classic JIT');
  const migrated = bpfMigrateFilter(insns, config, blinding);
  if (!('ok' in migrated)) return migrated;
  return { insns, migrated };
}

const attached = (prog: Program, migrated: MigratedProgram): AttachedFilter => ({ ok: true, prog, migrated, compiled: compileEbpf(migrated.converted.insns) });

// net/core/filter.c:1371 bpf_prog_create
/** In-kernel users' path (lib/test_bpf.c, PTP classifiers): bpf_check_basics_ok, then bpf_prepare_filter. No socket, no charge. */
export function bpfProgCreate(prog: Program | null, config: KernelConfig): AttachedFilter | Rejection {
  const basics = bpfCheckBasicsOk(prog); // :1377
  if (basics !== null) return basics;
  // :1380 bpf_prog_alloc: fp->blinding_requested under the sysctl and the caller now
  const r = bpfPrepareFilter(prog!, null, config, blindingRequested(config));
  return 'errno' in r ? r : attached(prog!, r.migrated);
}

// net/core/filter.c:1492 __get_filter
/**
 * A locked socket refuses any new filter (-EPERM, :1498), before the program is even looked at; then
 * bpf_check_basics_ok (:1502; `prog === null` is a NULL filter pointer), bpf_prog_alloc (:1505, which
 * decides fp->blinding_requested) and bpf_prepare_filter (:1525).
 */
export function __getFilter(prog: Program | null, sk: Sock, config: KernelConfig): AttachedFilter | Rejection {
  if (sk.filterLocked) return reject(-EPERM, 'permission', 'filter-locked', null, 'net/core/filter.c:1499');
  const basics = bpfCheckBasicsOk(prog);
  if (basics !== null) return basics;
  const r = bpfPrepareFilter(prog!, null, config, blindingRequested(config));
  return 'errno' in r ? r : attached(prog!, r.migrated);
}

// net/core/filter.c:1465 __sk_attach_prog
/**
 * Wrap the program, charge it (net/core/filter.c:1475; -ENOMEM when __sk_filter_charge says no, and
 * the program is released by the caller), put it in sk->sk_filter, then uncharge and release the old
 * filter (:1486).
 * The old filter still counts while the new one is charged.
 */
export function __skAttachProg(prog: AttachedFilter, sk: Sock, config: KernelConfig): { readonly sk: Sock; readonly released: SkFilter | null } | Rejection {
  const fp: SkFilter = { prog };
  const charged = __skFilterCharge(sk, fp, config);
  if (charged === null) return chargeRejection();
  const oldFp = sk.filter;
  let next: Sock = { ...charged, filter: fp };
  if (oldFp !== null) next = skFilterUncharge(next, oldFp, config);
  return { sk: next, released: oldFp };
}

// net/core/filter.c:1538 sk_attach_filter
/**
 * SO_ATTACH_FILTER on socket `sk` (default: a fresh one): __get_filter, then __sk_attach_prog. The
 * checks run in the kernel's order and the first failure wins: the lock, the length rules,
 * bpf_check_classic, the conversion and runtime selection (the JIT), then the charge. The result is the
 * attached program with the socket after the attach (its filter, and sk_omem_alloc with the new
 * charge in and the old one out).
 */
export function skAttachFilter(prog: Program | null, config: KernelConfig, sk: Sock = NEW_SOCK): Attached | Rejection {
  const fp = __getFilter(prog, sk, config);
  if (!('ok' in fp)) return fp;
  const r = __skAttachProg(fp, sk, config);
  if (!('sk' in r)) return r;
  return { ...fp, sk: r.sk };
}

// net/core/filter.c:11101 sk_detach_filter (not among the pinned lines, which end at :1960; its -ENOENT
// and -EPERM lines are counted from this one: `int ret = -ENOENT;` :11103, `return -EPERM;` :11107)
/** SO_DETACH_FILTER: -EPERM on a locked socket, -ENOENT without a filter, else the filter uncharged and released. */
export function skDetachFilter(sk: Sock, config: KernelConfig): Sock | Rejection {
  if (sk.filterLocked) return reject(-EPERM, 'permission', 'filter-locked', null, 'net/core/filter.c:11107');
  const filter = sk.filter;
  if (filter === null) return reject(-ENOENT, 'attach', 'no-filter', null, 'net/core/filter.c:11103');
  return { ...skFilterUncharge(sk, filter, config), filter: null };
}

/** The SOL_SOCKET options of the attach layer, with their values (optval). */
export type SockOpt =
  /** SO_ATTACH_FILTER (26): struct sock_fprog; null stands for a NULL filter pointer */
  | { readonly name: 'SO_ATTACH_FILTER'; readonly prog: Program | null }
  /** SO_DETACH_FILTER (27): the int value is ignored */
  | { readonly name: 'SO_DETACH_FILTER' }
  /** SO_LOCK_FILTER (44): an int, any non-zero value locks */
  | { readonly name: 'SO_LOCK_FILTER'; readonly val: number };

/** What setsockopt(2) returned, and the socket after it. */
export interface SetsockoptResult {
  readonly sk: Sock;
  /** 0, or the rejection (its negative errno is setsockopt's -1/errno) */
  readonly ret: 0 | Rejection;
}

// net/core/sock.c:1097 sk_setsockopt
/**
 * The three filter options of sk_setsockopt (optlen and the copies from user space are outside the
 * model): SO_ATTACH_FILTER (:1311) -> sk_attach_filter; SO_DETACH_FILTER (:1357) -> sk_detach_filter;
 * SO_LOCK_FILTER (:1361): once locked, a socket cannot be unlocked (-EPERM for 0), and locking again is
 * allowed. The lock stops attach and detach, and SO_LOCK_FILTER itself, never the filter in place.
 */
export function skSetsockopt(sk: Sock, opt: SockOpt, config: KernelConfig): SetsockoptResult {
  switch (opt.name) {
    case 'SO_ATTACH_FILTER': {
      const r = skAttachFilter(opt.prog, config, sk);
      return 'ok' in r ? { sk: r.sk, ret: 0 } : { sk, ret: r };
    }
    case 'SO_DETACH_FILTER': {
      const r = skDetachFilter(sk, config);
      return 'errno' in r ? { sk, ret: r } : { sk: r, ret: 0 };
    }
    case 'SO_LOCK_FILTER': {
      const valbool = opt.val !== 0;
      if (sk.filterLocked && !valbool) return { sk, ret: reject(-EPERM, 'permission', 'filter-locked', null, 'net/core/sock.c:1363') };
      return { sk: { ...sk, filterLocked: valbool }, ret: 0 };
    }
    default:
      throw new Error(`skSetsockopt: unknown option ${(opt as { name: string }).name}`);
  }
}

/** Apply setsockopt calls in turn: each call's result, and the socket at the end. */
export function skSetsockopts(ops: readonly SockOpt[], config: KernelConfig, sk: Sock = NEW_SOCK): { readonly results: (0 | Rejection)[]; readonly sk: Sock } {
  const results: (0 | Rejection)[] = [];
  let cur = sk;
  for (const op of ops) {
    const r = skSetsockopt(cur, op, config);
    results.push(r.ret);
    cur = r.sk;
  }
  return { results, sk: cur };
}

/** Mutable helper environment, updated in place before each run (no allocation per packet). */
interface MutableHelperEnv {
  skb: SkBuff;
  config: KernelConfig;
  cpu: number;
  rnd: Uint32Array;
}

/**
 * Runs attached filters on skbs the way the kernel does, with one interpreter, one memory image and
 * one helper table for every run. (engine/runner.ts runs the same filters fast and must agree.)
 */
export class KernelRunner {
  readonly vm: EbpfVm;
  readonly image: SkbImage;
  private readonly env: MutableHelperEnv;

  constructor(readonly config: KernelConfig) {
    this.image = createSkbImage();
    this.env = { skb: null as unknown as SkBuff, config, cpu: 0, rnd: newRndState(1) };
    this.vm = new EbpfVm(this.image.mem, skbHelperTable(this.env as HelperEnv));
  }

  /** The fault of the last run, or null after a normal exit. */
  get fault(): Fault | null {
    return this.vm.fault;
  }

  // net/packet/af_packet.c run_filter -> include/linux/filter.h bpf_prog_run -> kernel/bpf/core.c:2176 __bpf_prog_runN
  /**
   * The filter's u32 result for one skb. The skb is laid out in memory (the kernel's skb already is),
   * the helpers see it, and the per-CPU prandom state behind SKF_AD_RANDOM is seeded from
   * env.randomSeed at the start of each run (the kernel seeds it once, at random), so the classic
   * evaluator and this path draw the same numbers. A model fault (see fault) gives 0.
   */
  run(f: AttachedFilter, skb: SkBuff, env: Env, trace: EbpfStep[] | null = null): number {
    layOutSkb(this.image, skb, this.config);
    this.env.skb = skb;
    this.env.cpu = env.cpu;
    prandomSeedState(this.env.rnd, env.randomSeed);
    const ctx = this.image.ctx;
    return this.vm.run(f.compiled, ctx.hi, ctx.lo, f.migrated.stackSize, trace);
  }
}

/** What the receive path does with a filter result. */
export interface Delivery {
  /** the packet is dropped (result 0) */
  readonly dropped: boolean;
  /** bytes of the packet that are kept (0 when dropped) */
  readonly snaplen: number;
}

// net/packet/af_packet.c:2121 packet_rcv
/**
 * AF_PACKET without a ring (recvmsg): `res = run_filter(skb, sk, snaplen)` (:2161) with snaplen =
 * skb->len; 0 drops (:2162), else snaplen = min(res, skb->len) (:2164) and the skb is trimmed to it
 * (:2200, pskb_trim): recvmsg sees snaplen bytes. Not modelled: the receive-buffer drop after the
 * filter (:2167, sk_rmem_alloc >= sk_rcvbuf) and the pkt_type test before it (6.6.22 drops only
 * PACKET_LOOPBACK there; later 6.6.y filter on po->pkt_type).
 */
export function packetRcv(result: number, len: number): Delivery {
  if (result === 0) return { dropped: true, snaplen: 0 };
  return { dropped: false, snaplen: Math.min(result >>> 0, len) };
}

/** include/uapi/linux/if_packet.h TPACKET_ALIGN(x): round up to TPACKET_ALIGNMENT (16). */
export const tpacketAlign = (x: number): number => (x + 15) & ~15;

/** include/uapi/linux/if_packet.h TPACKET3_HDRLEN: TPACKET_ALIGN(sizeof(struct tpacket3_hdr) = 48) + sizeof(struct sockaddr_ll) = 20. */
export const TPACKET3_HDRLEN = tpacketAlign(48) + 20;

/** The TPACKET_V3 ring of a packet socket, as tpacket_rcv reads it. */
export interface TpacketV3Ring {
  /** sk->sk_type: SOCK_RAW (the link-layer header is kept; tcpdump on Ethernet) or SOCK_DGRAM (cooked) */
  readonly sockType: 'raw' | 'dgram';
  /** po->tp_hdrlen: TPACKET3_HDRLEN (68) once PACKET_VERSION is TPACKET_V3 */
  readonly tpHdrlen: number;
  /** po->tp_reserve (PACKET_RESERVE); libpcap asks for VLAN_TAG_LEN, 4 */
  readonly tpReserve: number;
  /** po->vnet_hdr_sz (PACKET_VNET_HDR): 0 for libpcap */
  readonly vnetHdrSz: number;
  /**
   * max_frame_len of the ring (:642 init_prb_bdqc: kblk_size - BLK_PLUS_PRIV(blk_sizeof_priv), the
   * block header being 48 bytes): libpcap's blocks are MAXIMUM_SNAPLEN (262144) bytes with no private
   * area, so 262096
   */
  readonly maxFrameLen: number;
  /** __packet_rcv_has_room (:1275) for this packet: ROOM_NONE when the ring is full */
  readonly room: 'normal' | 'low' | 'none';
  /** whether packet_current_rx_frame finds a frame (false: the current block is full and the next one still belongs to user space) */
  readonly frameAvailable: boolean;
}

/** The ring libpcap 1.10 sets up for tcpdump on an Ethernet device (pcap-linux.c: TPACKET_V3, 256 KiB blocks, tp_reserve 4), with room. */
export const LIBPCAP_V3_RING: TpacketV3Ring = Object.freeze({ sockType: 'raw', tpHdrlen: TPACKET3_HDRLEN, tpReserve: 4, vnetHdrSz: 0, maxFrameLen: 262144 - 48, room: 'normal', frameAvailable: true });

/** What tpacket_rcv writes for one packet, or why it drops it. */
export interface TpacketDelivery extends Delivery {
  /** why the packet is not in the ring (null: delivered) */
  readonly drop: 'filter' | 'no-room' | 'netoff-too-large' | 'no-frame' | null;
  /** whether the drop is counted in po->tp_drops (a filter's 0 is not) */
  readonly counted: boolean;
  /** h.h3->tp_len: skb->len, the whole packet however much of it was copied */
  readonly tpLen: number;
  /** h.h3->tp_mac, tp_net: where the link-layer and network headers start in the frame */
  readonly macoff: number;
  readonly netoff: number;
}

// net/packet/af_packet.c:2237 tpacket_rcv
/**
 * The TPACKET_V3 ring (libpcap's, and so tcpdump's, default capture path): `res = run_filter(skb,
 * sk, snaplen)` (:2284) with snaplen = skb->len; 0 drops (:2285). Where it differs from packet_rcv:
 *  - a full ring drops the packet (ROOM_NONE, :2289, counted in tp_drops), where packet_rcv looks at
 *    sk_rcvbuf;
 *  - snaplen = min(res, skb->len) (:2302) is then clamped so that the frame fits the block:
 *    macoff + snaplen <= max_frame_len (:2344; below 0 it is 0 and macoff max_frame_len), with macoff
 *    and netoff computed from tp_hdrlen, the link-layer header length `maclen` (skb_network_offset:
 *    14 on Ethernet), tp_reserve and the vnet header (:2305-2317); netoff > USHRT_MAX drops (:2318);
 *  - nothing is trimmed: snaplen bytes are copied into the frame and tp_len is the packet's full
 *    length (:2446-2447), where recvmsg on packet_rcv's trimmed skb sees only snaplen bytes;
 *  - no frame in the ring (packet_current_rx_frame, :2359) drops it too (counted).
 * The filter's verdict and its snaplen are the same number in both paths; the V1/V2 rings (frame_size
 * and copy_thresh, :2322) are not modelled.
 */
export function tpacketRcv(result: number, len: number, maclen: number, ring: TpacketV3Ring = LIBPCAP_V3_RING): TpacketDelivery {
  const none = { dropped: true, snaplen: 0, tpLen: len, macoff: 0, netoff: 0 } as const;
  if (result === 0) return { ...none, drop: 'filter', counted: false };
  if (ring.room === 'none') return { ...none, drop: 'no-room', counted: true };
  let snaplen = Math.min(result >>> 0, len);
  let macoff: number;
  let netoff: number;
  if (ring.sockType === 'dgram') {
    netoff = tpacketAlign(ring.tpHdrlen) + 16 + ring.tpReserve;
    macoff = netoff & 0xffff;
  } else {
    netoff = tpacketAlign(ring.tpHdrlen + (maclen < 16 ? 16 : maclen)) + ring.tpReserve;
    netoff += ring.vnetHdrSz;
    macoff = (netoff - maclen) & 0xffff; // `unsigned short macoff`
  }
  if (netoff > 0xffff) return { ...none, drop: 'netoff-too-large', counted: true };
  if (macoff + snaplen > ring.maxFrameLen) {
    // :2348 clamped to what the block holds (u32 snaplen, tested as int)
    snaplen = (ring.maxFrameLen - macoff) >>> 0;
    if ((snaplen | 0) < 0) {
      snaplen = 0;
      macoff = ring.maxFrameLen & 0xffff; // :2354 into `unsigned short macoff`
    }
  }
  if (!ring.frameAvailable) return { ...none, drop: 'no-frame', counted: true };
  return { dropped: false, snaplen, drop: null, counted: false, tpLen: len, macoff, netoff };
}

// net/core/filter.c:157 sk_filter_trim_cap: `err = pkt_len ? pskb_trim(skb, max(cap, pkt_len)) : -EPERM`
/** Other sockets (sk_filter, cap 1; TCP and UDP pass their header length): drop on 0, else trim. */
export function skFilterTrimCap(result: number, len: number, cap = 1): Delivery {
  if (result === 0) return { dropped: true, snaplen: 0 };
  return { dropped: false, snaplen: Math.min(Math.max(cap, result >>> 0), len) };
}
