// The outside-judge protocol: how bpfspec talks to an adapter process that wraps another classic BPF
// implementation (libpcap, DPDK, golang.org/x/net/bpf). One process serves a whole campaign: it says
// hello once, then answers batches (one program and many packets each) in order, per batch its own
// verdict (accepted, or its error) and per packet its result. The logical messages are documented by
// protocol.schema.json (JSON Schema 2020-12); on the pipe they travel as the little-endian binary
// frames described in README.md, which encodeBatch / FrameReader / decode* implement here (pure
// functions, tested without any adapter).
import type { Program, SockFilter } from '../../model/cbpf/insn.js';
import { decodeInsns, type BpfInsn } from '../../model/ebpf/insn.js';

export const FRAME_HELLO = 1;
export const FRAME_BATCH = 2;
export const FRAME_ANSWER = 3;
export const FRAME_ERROR = 4;

export const SECTION_EBPF = 1;
export const SECTION_JIT = 2;
export const SECTION_LOG = 3;

export const FLAG_JIT = 1;
export const FLAG_EBPF = 2;
export const FLAG_LOG = 4;

/** The largest frame either side accepts (a 4096-instruction program with 64 packets of 64 KiB fits). */
export const MAX_FRAME = 16 << 20;

/** What the adapter says first: which implementation, which version, which engines it can run. */
export interface Hello {
  readonly kind: 'hello';
  readonly implementation: string;
  readonly version: string;
  readonly engines: readonly string[];
}

/** What an outside implementation sees of one skb: the bytes, and where its first segment ends. */
export interface OutsidePacket {
  /** skb->len bytes from skb->data on */
  readonly data: Uint8Array;
  /** bytes in the first segment (skb_headlen; DPDK builds an mbuf chain split there) */
  readonly headlen: number;
}

export interface BatchFlags {
  /** also run the implementation's JIT on every packet (DPDK) */
  readonly jit?: boolean;
  /** return the program the implementation converted the classic one into (DPDK: eBPF) */
  readonly ebpf?: boolean;
  /** return what the implementation logged while loading (DPDK's validator messages) */
  readonly log?: boolean;
}

/** One batch: a program and the packets it runs on. */
export interface Batch {
  readonly kind: 'batch';
  readonly id: number;
  readonly flags: BatchFlags;
  readonly program: Program;
  readonly packets: readonly OutsidePacket[];
}

/** One packet's outcome in the implementation's own terms. */
export type PacketResult =
  | { readonly status: 'value'; readonly value: number }
  /** the implementation returned an error for this run (x/net/bpf's Run error) */
  | { readonly status: 'error'; readonly message: string }
  /** the run was stopped by a signal the adapter caught (SIGSEGV, SIGABRT, ...) or a Go panic (signal 0) */
  | { readonly status: 'signal'; readonly signal: number; readonly message: string };

/** Whether the implementation took the program: code 0 is accepted, anything else its own error. */
export interface OutsideVerdict {
  readonly code: number;
  /** which call decided (bpf_validate, rte_bpf_convert, rte_bpf_load, NewVM, ...) */
  readonly stage: string;
  readonly message: string;
}

export interface Answer {
  readonly kind: 'answer';
  readonly id: number;
  readonly verdict: OutsideVerdict;
  /** one per packet when accepted, else empty */
  readonly results: readonly PacketResult[];
  /** the converted program (FLAG_EBPF), when the implementation converts */
  readonly ebpf?: readonly BpfInsn[];
  /** the JIT's verdict and results (FLAG_JIT) */
  readonly jit?: { readonly available: boolean; readonly results: readonly PacketResult[] };
  /** what the implementation logged for this batch (FLAG_LOG) */
  readonly log?: string;
}

export interface AdapterError {
  readonly kind: 'error';
  readonly message: string;
}

export type AdapterMessage = Hello | Answer | AdapterError;

export class ProtocolError extends Error {}

const pad4 = (n: number): number => (n + 3) & ~3;
const fromUtf8 = new TextDecoder('utf-8', { fatal: false });

/** Encode one batch frame. */
export function encodeBatch(b: Batch): Uint8Array {
  let size = 4 + 4 + 4 + 4 + 8 * b.program.length + 4;
  for (const p of b.packets) size += 8 + pad4(p.data.length);
  const buf = new Uint8Array(4 + size);
  const dv = new DataView(buf.buffer);
  let o = 0;
  const u32 = (v: number): void => {
    dv.setUint32(o, v >>> 0, true);
    o += 4;
  };
  u32(size);
  u32(FRAME_BATCH);
  u32(b.id);
  u32((b.flags.jit ? FLAG_JIT : 0) | (b.flags.ebpf ? FLAG_EBPF : 0) | (b.flags.log ? FLAG_LOG : 0));
  u32(b.program.length);
  for (const insn of b.program) {
    dv.setUint16(o, insn.code, true);
    dv.setUint8(o + 2, insn.jt);
    dv.setUint8(o + 3, insn.jf);
    dv.setUint32(o + 4, insn.k >>> 0, true);
    o += 8;
  }
  u32(b.packets.length);
  for (const p of b.packets) {
    if (!Number.isInteger(p.headlen) || p.headlen < 0 || p.headlen > p.data.length) throw new RangeError(`packet headlen ${p.headlen} outside 0..${p.data.length}`);
    u32(p.headlen);
    u32(p.data.length);
    buf.set(p.data, o);
    o += pad4(p.data.length);
  }
  if (size + 4 > MAX_FRAME) throw new RangeError(`batch ${b.id} is ${size} bytes, above the ${MAX_FRAME}-byte frame limit`);
  return buf;
}

/** A cursor over one frame body; every read checks the bounds and names what it was reading. */
class Body {
  private o = 0;
  private readonly dv: DataView;
  constructor(private readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number, what: string): void {
    if (this.o + n > this.b.length) throw new ProtocolError(`frame truncated reading ${what} at byte ${this.o} (body is ${this.b.length} bytes)`);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.dv.getUint32(this.o, true);
    this.o += 4;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.dv.getInt32(this.o, true);
    this.o += 4;
    return v;
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(pad4(n), what);
    const v = this.b.subarray(this.o, this.o + n);
    this.o += pad4(n);
    return v;
  }
  str(what: string): string {
    const n = this.u32(`${what} length`);
    if (n > this.b.length) throw new ProtocolError(`${what} length ${n} exceeds the frame`);
    return fromUtf8.decode(this.bytes(n, what));
  }
  count(what: string, each: number): number {
    const n = this.u32(what);
    if (n * each > this.b.length - this.o) throw new ProtocolError(`${what} ${n} exceeds the frame`);
    return n;
  }
  end(what: string): void {
    if (this.o !== this.b.length) throw new ProtocolError(`${this.b.length - this.o} trailing bytes after ${what}`);
  }
}

function readResults(r: Body, what: string): PacketResult[] {
  const n = r.count(`${what} count`, 8);
  const out: PacketResult[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const status = r.u32(`${what} ${i} status`);
    const value = r.u32(`${what} ${i} value`);
    if (status === 0) out[i] = { status: 'value', value };
    else if (status === 1) out[i] = { status: 'error', message: r.str(`${what} ${i} message`) };
    else if (status === 2) out[i] = { status: 'signal', signal: value, message: r.str(`${what} ${i} message`) };
    else throw new ProtocolError(`${what} ${i}: unknown status ${status}`);
  }
  return out;
}

/** Decode one frame body of the given kind (an adapter's message). Throws ProtocolError. */
export function decodeMessage(kind: number, body: Uint8Array): AdapterMessage {
  const r = new Body(body);
  switch (kind) {
    case FRAME_HELLO: {
      const implementation = r.str('implementation');
      const version = r.str('version');
      const n = r.count('engine count', 4);
      const engines: string[] = [];
      for (let i = 0; i < n; i++) engines.push(r.str(`engine ${i}`));
      r.end('hello');
      return { kind: 'hello', implementation, version, engines };
    }
    case FRAME_ANSWER: {
      const id = r.u32('batch id');
      const code = r.i32('verdict code');
      const stage = r.str('verdict stage');
      const message = r.str('verdict message');
      const results = readResults(r, 'result');
      const sections = r.count('section count', 8);
      let ebpf: BpfInsn[] | undefined;
      let jit: Answer['jit'];
      let log: string | undefined;
      for (let s = 0; s < sections; s++) {
        const tag = r.u32(`section ${s} tag`);
        const size = r.u32(`section ${s} size`);
        const sub = new Body(r.bytes(size, `section ${s}`));
        if (tag === SECTION_EBPF) {
          const n = sub.count('ebpf insn count', 8);
          const dec = decodeInsns(sub.bytes(8 * n, 'ebpf insns'));
          if (!dec.ok) throw new ProtocolError(`ebpf section: ${dec.error.message}`);
          ebpf = dec.insns;
        } else if (tag === SECTION_JIT) {
          const available = sub.u32('jit available') !== 0;
          jit = { available, results: readResults(sub, 'jit result') };
        } else if (tag === SECTION_LOG) {
          log = sub.str('log');
        } else throw new ProtocolError(`unknown section tag ${tag}`);
        sub.end(`section ${s}`);
      }
      r.end('answer');
      return { kind: 'answer', id, verdict: { code, stage, message }, results, ...(ebpf ? { ebpf } : {}), ...(jit ? { jit } : {}), ...(log !== undefined ? { log } : {}) };
    }
    case FRAME_ERROR: {
      const message = r.str('error message');
      r.end('error');
      return { kind: 'error', message };
    }
    default:
      throw new ProtocolError(`unknown frame kind ${kind}`);
  }
}

/** Splits a byte stream into frames (u32 size, then size bytes starting with the u32 kind). */
export class FrameReader {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;

  push(chunk: Uint8Array): void {
    const rest = this.buf.subarray(this.start);
    const next = new Uint8Array(rest.length + chunk.length);
    next.set(rest);
    next.set(chunk, rest.length);
    this.buf = next;
    this.start = 0;
  }

  /** The next complete frame as {kind, body}, or null when more bytes are needed. Throws on a bad size. */
  next(): { kind: number; body: Uint8Array } | null {
    const avail = this.buf.length - this.start;
    if (avail < 4) return null;
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.start, 4);
    const size = dv.getUint32(0, true);
    if (size < 4 || size > MAX_FRAME) throw new ProtocolError(`frame size ${size} outside 4..${MAX_FRAME}`);
    if (avail < 4 + size) return null;
    const frame = this.buf.subarray(this.start + 4, this.start + 4 + size);
    this.start += 4 + size;
    const kind = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, true);
    return { kind, body: frame.subarray(4) };
  }
}

// --- the logical messages as JSON (protocol.schema.json) ---------------------------------------

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const insnJson = (i: SockFilter): { code: number; jt: number; jf: number; k: number } => ({ code: i.code, jt: i.jt, jf: i.jf, k: i.k >>> 0 });

/** A batch as the JSON the schema describes (packets as hex). */
export function batchToJson(b: Batch): unknown {
  return {
    kind: 'batch',
    id: b.id,
    flags: { jit: b.flags.jit === true, ebpf: b.flags.ebpf === true, log: b.flags.log === true },
    program: b.program.map(insnJson),
    packets: b.packets.map((p) => ({ data: hex(p.data), headlen: p.headlen })),
  };
}

/** An adapter message as the JSON the schema describes. */
export function messageToJson(m: AdapterMessage): unknown {
  if (m.kind !== 'answer') return m;
  return {
    ...m,
    ...(m.ebpf ? { ebpf: m.ebpf.map((i) => ({ code: i.code, dst: i.dst, src: i.src, off: i.off, imm: i.imm })) } : {}),
  };
}

/** Decode a batch frame (the adapter's side; used to test encodeBatch against the schema). */
export function decodeBatch(kind: number, body: Uint8Array): Batch {
  if (kind !== FRAME_BATCH) throw new ProtocolError(`expected a batch frame, got kind ${kind}`);
  const r = new Body(body);
  const id = r.u32('batch id');
  const f = r.u32('flags');
  const n = r.count('insn count', 8);
  const program: SockFilter[] = [];
  for (let i = 0; i < n; i++) {
    const w0 = r.u32(`insn ${i}`);
    const k = r.u32(`insn ${i} k`);
    program.push({ code: w0 & 0xffff, jt: (w0 >>> 16) & 0xff, jf: w0 >>> 24, k });
  }
  const np = r.count('packet count', 8);
  const packets: OutsidePacket[] = [];
  for (let i = 0; i < np; i++) {
    const headlen = r.u32(`packet ${i} headlen`);
    const len = r.u32(`packet ${i} length`);
    const data = new Uint8Array(r.bytes(len, `packet ${i}`));
    if (headlen > len) throw new ProtocolError(`packet ${i}: headlen ${headlen} > length ${len}`);
    packets.push({ data, headlen });
  }
  r.end('batch');
  return { kind: 'batch', id, flags: { jit: (f & FLAG_JIT) !== 0, ebpf: (f & FLAG_EBPF) !== 0, log: (f & FLAG_LOG) !== 0 }, program, packets };
}
