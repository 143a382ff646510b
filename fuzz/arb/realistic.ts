// Programs shaped like tcpdump / libpcap output (`tcpdump -d` of common expressions), plus the
// filters that use Linux extensions (ancillary loads, SKF_NET_OFF, netlink attributes). Constants
// (ports, hosts, snap lengths) vary; the control-flow shapes are the real ones. Every template is
// checker-valid.
import fc from 'fast-check';
import type { SockFilter } from '../../model/cbpf/insn.js';
import {
  SKF_AD_ALU_XOR_X,
  SKF_AD_NLATTR,
  SKF_AD_NLATTR_NEST,
  SKF_AD_VLAN_TAG,
  SKF_AD_VLAN_TAG_PRESENT,
  SKF_NET_OFF,
  ancillaryK,
} from '../../model/uapi.js';
import { ANCILLARY_K, RET_K, pick } from './constants.js';

/** One assembler line: code, k, and for conditional jumps the ABSOLUTE true/false targets. */
type Line = readonly [code: number, k: number, jt?: number, jf?: number];

/** Turn absolute jump targets into the relative jt/jf (and JA k) of struct sock_filter. */
// code, jt and jf are written `| 0`: read out of lines that also hold k values above 2^31, they come
// as doubles, and an instruction object holding a double code makes V8 box the fields of every
// {code, jt, jf, k} object in the process (same values, allocation on each read).
export function asm(lines: readonly Line[]): SockFilter[] {
  return lines.map(([code, k, jt, jf], pc) => {
    const c = code | 0;
    if (c === 0x05) return { code: c, jt: 0, jf: 0, k: (k - pc - 1) >>> 0 }; // JA: k is the absolute target
    if (jt === undefined) return { code: c, jt: 0, jf: 0, k: k >>> 0 };
    return { code: c, jt: (jt - pc - 1) | 0, jf: ((jf ?? pc + 1) - pc - 1) | 0, k: k >>> 0 };
  });
}

const LDH = 0x28;
const LDB = 0x30;
const LDW = 0x20;
const LDH_IND = 0x48;
const LDB_IND = 0x50;
const LDW_IND = 0x40;
const MSH = 0xb1;
const JEQ = 0x15;
const JGT = 0x25;
const JGE = 0x35;
const JSET = 0x45;
const RETK = 0x06;
const RETA = 0x16;

const PORTS: readonly number[] = [80, 53, 443, 22, 0, 1, 0x7fff, 0x8000, 0xffff];
const ETHERTYPES: readonly number[] = [0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x8035, 0x0001];

/** Parameters every template draws from (four raw u32s). */
interface P {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly d: number;
}

const port = (v: number): number => ((v & 3) === 3 ? v >>> 16 : PORTS[(v >>> 2) % PORTS.length]!);
/** the non-zero snap lengths (made once) */
const SNAP_K: readonly number[] = RET_K.filter((k) => k !== 0);
const snap = (v: number): number => SNAP_K[v % SNAP_K.length]!;

/** The templates, each a name and a builder. */
export const TEMPLATES: readonly { readonly name: string; readonly build: (p: P) => SockFilter[] }[] = [
  {
    // `ip` / `arp` / `ip6` ...: ldh [12]; jeq #type
    name: 'ethertype',
    build: ({ a, b }) => asm([[LDH, 12], [JEQ, pick(ETHERTYPES, a), 2, 3], [RETK, snap(b)], [RETK, 0]]),
  },
  {
    // `tcp port 80` / `udp port 53` over IPv6 and IPv4 (tcpdump -d, libpcap 1.10)
    name: 'l4-port',
    build: ({ a, b, c }) => {
      const proto = (c & 1) === 0 ? 6 : 17;
      const pt = port(a);
      return asm([
        [LDH, 12],
        [JEQ, 0x86dd, 2, 8],
        [LDB, 20],
        [JEQ, proto, 4, 19],
        [LDH, 54],
        [JEQ, pt, 18, 6],
        [LDH, 56],
        [JEQ, pt, 18, 19],
        [JEQ, 0x800, 9, 19],
        [LDB, 23],
        [JEQ, proto, 11, 19],
        [LDH, 20],
        [JSET, 0x1fff, 19, 13],
        [MSH, 14],
        [LDH_IND, 14],
        [JEQ, pt, 18, 16],
        [LDH_IND, 16],
        [JEQ, pt, 18, 19],
        [RETK, snap(b)],
        [RETK, 0],
      ]);
    },
  },
  {
    // `ip host A`
    name: 'ip-host',
    build: ({ a, b }) =>
      asm([[LDH, 12], [JEQ, 0x800, 2, 7], [LDW, 26], [JEQ, a, 6, 4], [LDW, 30], [JEQ, a, 6, 7], [RETK, snap(b)], [RETK, 0]]),
  },
  {
    // `net A/len`
    name: 'ip-net',
    build: ({ a, b, c }) => {
      const mask = (0xffffffff << (32 - (1 + (c % 32)))) >>> 0;
      return asm([
        [LDH, 12],
        [JEQ, 0x800, 2, 9],
        [LDW, 26],
        [0x54, mask],
        [JEQ, (a & mask) >>> 0, 8, 5],
        [LDW, 30],
        [0x54, mask],
        [JEQ, (a & mask) >>> 0, 8, 9],
        [RETK, snap(b)],
        [RETK, 0],
      ]);
    },
  },
  {
    // `vlan` (libpcap with the Linux VLAN ancillary loads)
    name: 'vlan',
    build: ({ b }) =>
      asm([
        [LDB, ancillaryK(SKF_AD_VLAN_TAG_PRESENT)],
        [JEQ, 1, 6, 2],
        [LDH, 12],
        [JEQ, 0x8100, 6, 4],
        [JEQ, 0x88a8, 6, 5],
        [JEQ, 0x9100, 6, 7],
        [RETK, snap(b)],
        [RETK, 0],
      ]),
  },
  {
    // `vlan ID`: accelerated tag via SKF_AD_VLAN_TAG, else the in-band 802.1Q header
    name: 'vlan-id',
    build: ({ a, b }) =>
      asm([
        [LDB, ancillaryK(SKF_AD_VLAN_TAG_PRESENT)],
        [JEQ, 1, 2, 4],
        [LDH, ancillaryK(SKF_AD_VLAN_TAG)],
        [0x05, 7],
        [LDH, 12],
        [JEQ, 0x8100, 6, 10],
        [LDH, 14],
        [0x54, 0xfff],
        [JEQ, a & 0xfff, 9, 10],
        [RETK, snap(b)],
        [RETK, 0],
      ]),
  },
  {
    // `icmp[icmptype] == T` / `tcp[tcpflags] & F != 0`: fragment check, ldxb 4*([14]&0xf), [x+off]
    name: 'l4-field',
    build: ({ a, b, c }) => {
      const tcp = (c & 1) === 1;
      return asm([
        [LDH, 12],
        [JEQ, 0x800, 2, 10],
        [LDB, 23],
        [JEQ, tcp ? 6 : 1, 4, 10],
        [LDH, 20],
        [JSET, 0x1fff, 10, 6],
        [MSH, 14],
        [LDB_IND, tcp ? 27 : 14],
        tcp ? [JSET, 1 << (a % 8), 9, 10] : [JEQ, a % 20, 9, 10],
        [RETK, snap(b)],
        [RETK, 0],
      ]);
    },
  },
  {
    // `greater N` / `less N`: ld #pktlen
    name: 'length',
    build: ({ a, b, c }) =>
      (c & 1) === 0
        ? asm([[0x80, 0], [JGE, a % 2000, 2, 3], [RETK, snap(b)], [RETK, 0]])
        : asm([[0x80, 0], [JGT, a % 2000, 3, 2], [RETK, snap(b)], [RETK, 0]]),
  },
  {
    // `ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) != 0`: tcpdump's scratch-memory shape
    name: 'tcp-payload',
    build: ({ b }) =>
      asm([
        [LDH, 12],
        [JEQ, 0x800, 2, 22],
        [LDB, 23],
        [JEQ, 6, 4, 22],
        [LDH, 16],
        [0x02, 1],
        [LDB, 14],
        [0x54, 0xf],
        [0x64, 2],
        [0x07, 0],
        [0x60, 1],
        [0x1c, 0],
        [0x02, 5],
        [MSH, 14],
        [LDB_IND, 26],
        [0x54, 0xf0],
        [0x74, 2],
        [0x07, 0],
        [0x60, 5],
        [0x1c, 0],
        [JEQ, 0, 22, 21],
        [RETK, snap(b)],
        [RETK, 0],
      ]),
  },
  {
    // A SOCK_DGRAM / L3 filter: `ldb [SKF_NET_OFF+9]` protocol, header length, UDP dst port
    name: 'net-off-udp',
    build: ({ a, b }) =>
      asm([
        [LDB, (SKF_NET_OFF + 9) >>> 0],
        [JEQ, 17, 2, 6],
        [MSH, 0],
        [LDH_IND, 2],
        [JEQ, port(a), 5, 6],
        [RETK, snap(b)],
        [RETK, 0],
      ]),
  },
  {
    // The IPv6 UDP port filter of the d4bac0288a2b report: ldb [net+6]; ldh [net+40+2]
    name: 'net-off-ipv6',
    build: ({ a, b }) =>
      asm([
        [LDB, (SKF_NET_OFF + 6) >>> 0],
        [JEQ, 17, 2, 5],
        [LDH, (SKF_NET_OFF + 42) >>> 0],
        [JEQ, port(a), 4, 5],
        [RETK, snap(b)],
        [RETK, 0],
      ]),
  },
  {
    // One ancillary predicate: [ldx #k;] ld[b|h] [SKF_AD_*]; jeq/jset/jgt #k; ret
    name: 'ancillary',
    build: ({ a, b, c, d }) => {
      const k = pick(ANCILLARY_K, a);
      const size = pick([LDW, LDH, LDB], a >>> 4);
      const jop = pick([JEQ, JSET, JGT, JGE], c);
      const x = k === ancillaryK(SKF_AD_ALU_XOR_X) || k === ancillaryK(SKF_AD_NLATTR) || k === ancillaryK(SKF_AD_NLATTR_NEST);
      const body: Line[] = x ? [[0x01, d % 8], [0x00, c % 24]] : [[0x00, d % 4]];
      const n = body.length;
      return asm([...body, [size, k], [jop, (c >>> 2) % 8, n + 2, n + 3], [RETK, snap(b)], (d & 1) === 0 ? [RETK, 0] : [RETA, 0]]);
    },
  },
  {
    // Netlink: find attribute t1 after the headers, then nested attribute t2 in it, test a byte
    name: 'netlink',
    build: ({ a, b, c }) =>
      asm([
        [0x00, pick([16, 20, 32, 0, 4], c)],
        [0x01, 1 + (a % 8)],
        [LDB, ancillaryK(SKF_AD_NLATTR)],
        [JEQ, 0, 11, 4],
        [0x01, 1 + ((a >>> 3) % 8)],
        [LDB, ancillaryK(SKF_AD_NLATTR_NEST)],
        [JEQ, 0, 11, 7],
        [0x07, 0],
        [LDB_IND, 4],
        [JEQ, (a >>> 6) & 0xff, 10, 11],
        [RETK, snap(b)],
        [RETK, 0],
      ]),
  },
  {
    // `ether broadcast`: ld [2]; jeq; ldh [0]; jeq
    name: 'ether-broadcast',
    build: ({ b }) => asm([[LDW, 2], [JEQ, 0xffffffff, 2, 5], [LDH, 0], [JEQ, 0xffff, 4, 5], [RETK, snap(b)], [RETK, 0]]),
  },
  {
    // `ip[K:4] = V` via ld [x + k] after ldx #14 (DGRAM-agnostic indirect)
    name: 'indirect-word',
    build: ({ a, b, c }) => asm([[0x01, pick([0, 14, 18], c)], [LDW_IND, a % 40], [JEQ, b, 3, 4], [RETA, 0], [RETK, 0]]),
  },
];

const U32N = fc.noBias(fc.integer({ min: 0, max: 0xffffffff }));

/** A tcpdump-shaped program and the template it came from. */
export const realisticProgram = (): fc.Arbitrary<{ readonly name: string; readonly prog: readonly SockFilter[] }> =>
  fc
    .tuple(fc.nat(TEMPLATES.length - 1), U32N, U32N, U32N, U32N)
    .map(([i, a, b, c, d]) => {
      const t = TEMPLATES[i]!;
      return { name: t.name, prog: t.build({ a, b, c, d }) };
    });

/**
 * Programs from a corpus (e.g. shared/corpus-seeds/tcpdump_filters.jsonl, loaded by the caller),
 * with the k of some `jeq/jgt/jge/jset #k` and `ret #k` replaced: the control flow stays the
 * real one, so checker-valid input stays checker-valid. Pass only programs the checker accepts
 * (libpcap's `protochain` output loops backward and is refused by bpf_check_classic).
 */
export const fromCorpus = (progs: readonly (readonly SockFilter[])[]): fc.Arbitrary<SockFilter[]> => {
  if (progs.length === 0) throw new RangeError('fromCorpus: empty corpus');
  return fc
    .tuple(fc.nat(progs.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 3 }))
    .map(([i, muts]) => {
      const prog = progs[i]!.map((x) => ({ ...x }));
      for (const [at, k] of muts) {
        const p = at % prog.length;
        const c = prog[p]!.code;
        if (c === 0x15 || c === 0x25 || c === 0x35 || c === 0x45 || c === 0x06) prog[p]!.k = k;
      }
      return prog;
    });
};
