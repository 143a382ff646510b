// Loaders and adapters for the outside conformance vectors in ../shared/conformance (see its README
// and each file's header). Everything here turns a vector into the model's inputs; the expected
// values are the vectors' own.
import { bpfCheckBasicsOk, bpfCheckClassic } from '../../model/cbpf/check.js';
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { afUnixSkb, type SkBuff } from '../../model/skb.js';
import type { Rejection } from '../../model/verdict.js';
import { hex, readSharedJson } from '../_shared.js';

// ---------------------------------------------------------------------------------------------
// lib/test_bpf.c (test_bpf_classic.json)

export interface TestBpfCase {
  readonly name: string;
  readonly order: number;
  readonly flags: readonly string[];
  readonly data_hex: string;
  readonly data_hex_big_endian_host?: string;
  readonly frag_hex?: string;
  readonly results: readonly { readonly len: number; readonly ret: number }[];
  readonly expected_errcode?: number;
  readonly rejection_stage_annotation?: string;
  readonly insns: readonly SockFilter[];
}

export interface TestBpfDefaults {
  readonly SKB_TYPE_pkt_type: number;
  readonly SKB_MARK: number;
  readonly SKB_HASH: number;
  readonly SKB_QUEUE_MAP_queue_mapping: number;
  readonly SKB_VLAN_TCI: number;
  readonly SKB_VLAN_PRESENT: number;
  readonly vlan_proto: number;
  readonly protocol: number;
  readonly SKB_DEV_IFINDEX: number;
  readonly SKB_DEV_TYPE_hatype: number;
  readonly MAX_DATA: number;
}

export interface TestBpfFile {
  readonly header: { readonly skb_defaults: TestBpfDefaults };
  readonly tests: readonly TestBpfCase[];
}

export const loadTestBpf = (): TestBpfFile => readSharedJson<TestBpfFile>('conformance/test_bpf_classic.json');

/** `bytes` zero-extended (or cut) to n bytes. */
export function zeroExtend(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(bytes.subarray(0, n));
  return out;
}

/**
 * The skb that lib/test_bpf.c populate_skb(data, len) builds for one {len, ret} subtest:
 * alloc_skb(MAX_DATA) (no headroom), `len` bytes of the test data, mac header at 0, network header at
 * min(len, ETH_HLEN), the SKB_* metadata, dev {577, 588}; FLAG_SKB_FRAG appends one MAX_DATA-byte
 * page fragment (skb_add_rx_frag), so skb->len = len + 128 and skb_headlen = len.
 * `bigEndianHost` picks data_hex_big_endian_host (the nlattr tests' #ifdef __BIG_ENDIAN data).
 */
export function testBpfSkb(tc: TestBpfCase, d: TestBpfDefaults, len: number, bigEndianHost = false): SkBuff {
  const src = hex(bigEndianHost && tc.data_hex_big_endian_host !== undefined ? tc.data_hex_big_endian_host : tc.data_hex);
  const head = zeroExtend(src, len);
  let data = head;
  if (tc.frag_hex !== undefined) {
    data = new Uint8Array(len + d.MAX_DATA);
    data.set(head);
    data.set(zeroExtend(hex(tc.frag_hex), d.MAX_DATA), len);
  }
  return afUnixSkb(data, {
    headlen: len,
    macHeader: 0,
    networkHeader: Math.min(len, 14),
    protocol: d.protocol,
    pktType: d.SKB_TYPE_pkt_type,
    dev: { ifindex: d.SKB_DEV_IFINDEX, type: d.SKB_DEV_TYPE_hatype },
    mark: d.SKB_MARK,
    queueMapping: d.SKB_QUEUE_MAP_queue_mapping,
    hash: d.SKB_HASH,
    vlanTci: d.SKB_VLAN_TCI,
    vlanProto: d.vlan_proto,
    vlanPresent: d.SKB_VLAN_PRESENT !== 0,
  });
}

// ---------------------------------------------------------------------------------------------
// FreeBSD tools/regression/bpf/bpf_filter (freebsd_bpf_filter.json)

export interface FreebsdCase {
  readonly name: string;
  readonly description: string;
  readonly valid: boolean;
  readonly expected: number;
  readonly pkt_hex: string;
  readonly wirelen: number;
  readonly buflen: number;
  readonly insns: readonly SockFilter[];
  readonly linux_divergence_annotation?: string;
}

export const loadFreebsd = (): { readonly tests: readonly FreebsdCase[] } =>
  readSharedJson('conformance/freebsd_bpf_filter.json');

// ---------------------------------------------------------------------------------------------
// alnsn/bpfjit (NetBSD libbpfjit) tests (netbsd_bpfjit.json)

export interface NetbsdRun {
  readonly pkt_hex: string;
  readonly wirelen: number;
  readonly buflen: number;
  readonly ret: number;
  readonly linux_model_ret_if_skb_len_eq_buflen_annotation?: number;
}

export interface NetbsdProgram {
  readonly name: string;
  readonly insns: readonly SockFilter[];
  readonly runs: readonly NetbsdRun[];
  readonly bpf_validate_expected?: boolean;
  readonly linux_v6_6_checker_accepts_annotation: boolean;
}

export const loadNetbsd = (): { readonly programs: readonly NetbsdProgram[] } =>
  readSharedJson('conformance/netbsd_bpfjit.json');

/** The BSD packet as a Linux skb: the buflen readable bytes (BSD loads outside [0, buflen) fail). */
export const bsdSkb = (pktHex: string, buflen: number): SkBuff => afUnixSkb(zeroExtend(hex(pktHex), buflen));

// ---------------------------------------------------------------------------------------------
// golang.org/x/net/bpf VM tests (go_x_net_bpf.json)

export interface GoRun {
  readonly in_hex: string;
  readonly harness_out: number;
  readonly go_vm_raw_ret: number;
  readonly run_error?: string;
}

export interface GoCase {
  readonly name: string;
  readonly insns: readonly SockFilter[];
  readonly runs: readonly GoRun[];
  readonly newvm_error?: string;
  readonly assemble_error?: string;
  readonly linux_checker_accepts_annotation: boolean;
}

export const loadGo = (): { readonly tests: readonly GoCase[] } => readSharedJson('conformance/go_x_net_bpf.json');

/**
 * The Go harness's transformation of a filter result (header harness_semantics): the input starts
 * with 8 bytes standing in for a UDP header; out = ret - 8 if ret >= 8, then min(out, len(in) - 8).
 */
export function goHarnessOut(ret: number, inLen: number): number {
  const out = ret >= 8 ? ret - 8 : ret;
  return Math.min(out, inLen - 8);
}

// ---------------------------------------------------------------------------------------------

/** What the attach path's checks say of a program: bpf_check_basics_ok, then bpf_check_classic. */
export const attachCheck = (prog: Program): Rejection | null => bpfCheckBasicsOk(prog) ?? bpfCheckClassic(prog);
