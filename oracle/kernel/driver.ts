// The pipe protocol to the oracle process (oracle/kernel/oracle.c): encode batches of jobs, decode
// the replies, and run one child process per CPU. The encoding and decoding are pure functions
// (tested without a kernel); KernelProcess owns the child (through oracle/kernel/framed.ts).
import { assertInsn, type Program } from '../../model/cbpf/insn.js';
import { endianness } from 'node:os';
import { FramedProcess } from './framed.js';

/** One job: every program is attached in turn and every packet is sent through each. */
export interface Job {
  readonly progs: readonly Program[];
  readonly packets: readonly Uint8Array[];
}

/** What happened to one program of a job: the attach errno (0: attached) and one observation per packet. */
export interface ProgOutcome {
  /** positive errno of setsockopt(SO_ATTACH_FILTER), 0 when attached */
  readonly errno: number;
  /** per packet: >= 0 bytes received, -1 dropped, <= -1000 sendmsg failed with errno -1000 - obs */
  readonly obs: Int32Array | null;
}

export const OBS_DROPPED = -1;
export const OBS_SEND_ERROR_BASE = -1000;

/** Whether typed arrays are little-endian here (then instructions are laid out as two u32 words at once). */
const LITTLE = endianness() === 'LE';
let scratch = new Uint32Array(512);

/** Encode one request frame (u32 payload length first). */
export function encodeRequest(jobs: readonly Job[]): Uint8Array {
  let size = 8;
  for (const j of jobs) {
    size += 8 + 4 * j.progs.length;
    for (const p of j.progs) size += 8 * p.length;
    for (const p of j.packets) size += 4 + p.length;
  }
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  let o = 0;
  const u32 = (v: number): void => {
    dv.setUint32(o, v >>> 0, true);
    o += 4;
  };
  u32(size - 4);
  u32(jobs.length);
  for (const j of jobs) {
    u32(j.progs.length);
    for (const prog of j.progs) {
      u32(prog.length);
      // struct sock_filter, little-endian (encodeProgram's layout; assertInsn names a field that does not fit)
      if (scratch.length < 2 * prog.length) scratch = new Uint32Array(Math.max(2 * prog.length, 2 * scratch.length));
      for (let pc = 0; pc < prog.length; pc++) {
        const insn = prog[pc]!;
        const { code, jt, jf, k } = insn;
        if (code !== (code & 0xffff) || jt !== (jt & 0xff) || jf !== (jf & 0xff) || k !== k >>> 0) assertInsn(insn, pc);
        if (LITTLE) {
          scratch[2 * pc] = code | (jt << 16) | (jf << 24);
          scratch[2 * pc + 1] = k;
        } else {
          dv.setUint16(o + 8 * pc, code, true);
          buf[o + 8 * pc + 2] = jt;
          buf[o + 8 * pc + 3] = jf;
          dv.setUint32(o + 8 * pc + 4, k, true);
        }
      }
      if (LITTLE) buf.set(new Uint8Array(scratch.buffer, 0, 8 * prog.length), o);
      o += 8 * prog.length;
    }
    u32(j.packets.length);
    for (const p of j.packets) {
      u32(p.length);
      buf.set(p, o);
      o += p.length;
    }
  }
  return buf;
}

/** Decode one reply payload (without its length word) for the jobs it answers. */
export function decodeReply(payload: Uint8Array, jobs: readonly Job[]): ProgOutcome[][] {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let o = 0;
  const i32 = (): number => {
    if (o + 4 > payload.length) throw new Error(`oracle reply truncated at byte ${o}`);
    const v = dv.getInt32(o, true);
    o += 4;
    return v;
  };
  const out = jobs.map((j) =>
    j.progs.map((): ProgOutcome => {
      const errno = i32();
      if (errno !== 0) return { errno, obs: null };
      const obs = new Int32Array(j.packets.length);
      for (let k = 0; k < obs.length; k++) obs[k] = i32();
      return { errno: 0, obs };
    }),
  );
  if (o !== payload.length) throw new Error(`oracle reply has ${payload.length - o} extra bytes`);
  return out;
}

/** The hello the process writes first: the CPU it runs on and whether it batches with sendmmsg. */
export interface Hello {
  readonly cpu: number;
  readonly batched: boolean;
}

/** One oracle child process, pinned to one CPU, answering one request at a time. */
export class KernelProcess {
  private constructor(private readonly proc: FramedProcess, readonly hello: Hello) {}

  /**
   * Start the binary pinned to `cpu` (-1: not pinned); `mode` 'single' disables batching. With
   * `harden` (0, 1, 2) every attach runs with net.core.bpf_jit_harden at that value (oracle.c: the
   * harden lock held exclusively and the sysctl set for the one setsockopt, restored at once).
   */
  static async start(binary: string, cpu: number, mode: 'auto' | 'single' = 'auto', harden: number | null = null): Promise<KernelProcess> {
    // In a process group of its own: a Ctrl-C at the terminal (SIGINT to the foreground group) reaches
    // bpfspec, which stops cleanly and closes the oracles, not the oracles mid-batch.
    const proc = new FramedProcess('oracle process', binary, [String(cpu), mode, harden === null ? '-' : String(harden)], { detached: true });
    try {
      const hello = await proc.exchange(null, (h): Hello => {
        if (h.length !== 8) throw new Error(`oracle process: a ${h.length}-byte hello (8 expected)`);
        const dv = new DataView(h.buffer, h.byteOffset, h.byteLength);
        return { cpu: dv.getInt32(0, true), batched: dv.getInt32(4, true) !== 0 };
      });
      return new KernelProcess(proc, hello);
    } catch (e) {
      await proc.close();
      throw e;
    }
  }

  /** The process id (undefined when it never started). */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Send one batch of jobs and wait for the reply (calls are serialised). */
  run(jobs: readonly Job[]): Promise<ProgOutcome[][]> {
    return this.proc.exchange(encodeRequest(jobs), (frame) => decodeReply(frame, jobs));
  }

  /** Run `fn` after every run() or serial() called before it has settled. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.proc.serial(fn);
  }

  /**
   * Send one batch of jobs now, without waiting for earlier exchanges: the process answers in order
   * and each reply goes to its request (framed.ts exchangeNow), so a batch sent while another is
   * answered waits in the pipe, and the process works on it while bpfspec reads the other.
   */
  send(jobs: readonly Job[]): Promise<ProgOutcome[][]> {
    return this.proc.exchangeNow(encodeRequest(jobs), (frame) => decodeReply(frame, jobs));
  }

  /** End the process (closing its stdin) and wait for it. */
  close(): Promise<void> {
    return this.proc.close();
  }
}
