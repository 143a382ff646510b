// The running kernel's socket-filter options, asked directly: sequences of SO_ATTACH_FILTER,
// SO_DETACH_FILTER and SO_LOCK_FILTER on fresh sockets (oracle/kernel/sockopt.c) come back with each
// call's errno and the socket's sk_omem_alloc after it (SO_MEMINFO): the charge of the filters, so the
// length of the program the kernel kept (bpf_prog_size = sizeof(struct bpf_prog) + 8 * fp->len). A
// script may run in a child without capabilities, and a request may set net.core.bpf_jit_harden for
// the duration of its calls (restored at once; see the C file for the lock the seccomp oracle shares).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { encodeProgram } from '../../model/cbpf/insn.js';
import type { SockOpt } from '../../model/attach.js';
import { ensureCBinary, type BuildResult } from '../build.js';
import { HELPER_HEADERS } from './build.js';
import { FramedProcess } from './framed.js';

/** The lock file the bpf_jit_harden window and the other helpers' program loads share (flock; oracle/kernel/harden_lock.h). */
export const JIT_HARDEN_LOCK = process.env.BPFSPEC_JIT_HARDEN_LOCK ?? '/tmp/bpfspec-jit-harden.lock';
const HARDEN = '/proc/sys/net/core/bpf_jit_harden';

/** One socket's calls, in a process with capabilities (root) or in a child without any. */
export interface SockScript {
  readonly unprivileged: boolean;
  readonly ops: readonly SockOpt[];
}

/** What one call returned: 0 or a negative errno, and sk_omem_alloc after it (null: SO_MEMINFO failed). */
export interface SockStep {
  readonly ret: number;
  readonly omem: number | null;
}

/** Compile the helper unless the cached binary for this exact source exists. Never throws. */
export function ensureSockoptBinary(env: NodeJS.ProcessEnv = process.env): BuildResult {
  return ensureCBinary({ name: 'bpfspec-sockopt', sources: ['oracle/kernel/sockopt.c'], headers: HELPER_HEADERS }, env);
}

/** Encode one request frame (u32 payload length first). */
export function encodeSockoptRequest(scripts: readonly SockScript[], harden: number | null): Uint8Array {
  const bytes: Uint8Array[] = [];
  const u32 = (v: number): void => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    bytes.push(b);
  };
  u32(harden === null ? 0 : 1);
  if (harden !== null) u32(harden);
  u32(scripts.length);
  for (const s of scripts) {
    u32(s.unprivileged ? 1 : 0);
    u32(s.ops.length);
    for (const op of s.ops) {
      if (op.name === 'SO_ATTACH_FILTER') {
        if (op.prog === null) throw new Error('sockopt oracle: a NULL filter pointer cannot be sent');
        u32(1);
        u32(op.prog.length);
        bytes.push(encodeProgram(op.prog, 'little'));
      } else if (op.name === 'SO_DETACH_FILTER') u32(2);
      else {
        u32(3);
        u32(op.val);
      }
    }
  }
  const size = bytes.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(4 + size);
  new DataView(out.buffer).setUint32(0, size, true);
  let o = 4;
  for (const b of bytes) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/** The reply: the request's status (0 or -errno), bpf_jit_harden before it, and per script per call a step. */
export interface SockoptReply {
  readonly status: number;
  readonly hardenBefore: number;
  /** how long bpf_jit_harden was set, in microseconds (0 without a window) */
  readonly windowUs: number;
  readonly steps: SockStep[][];
}

/** Decode one reply payload (without its length word) for the scripts it answers. */
export function decodeSockoptReply(payload: Uint8Array, scripts: readonly SockScript[]): SockoptReply {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let o = 0;
  const i32 = (): number => {
    if (o + 4 > payload.length) throw new Error(`sockopt reply truncated at byte ${o}`);
    const v = dv.getInt32(o, true);
    o += 4;
    return v;
  };
  const status = i32();
  const hardenBefore = i32();
  const windowUs = i32() >>> 0;
  const steps = status !== 0 ? [] : scripts.map((s) => s.ops.map(() => ({ ret: i32(), omem: ((v) => (v === -1 ? null : v >>> 0))(i32()) })));
  if (o !== payload.length) throw new Error(`sockopt reply has ${payload.length - o} extra bytes`);
  return { status, hardenBefore, windowUs, steps };
}

/** net.core.bpf_jit_harden now (null: unreadable). */
export function readJitHarden(): number | null {
  try {
    return Number(readFileSync(HARDEN, 'utf8').trim());
  } catch {
    return null;
  }
}

/**
 * After a helper that opens harden_lock.h windows (setting bpf_jit_harden to `set`) died in one:
 * write `before` back when the sysctl still holds `set` (the helper restores it itself on every way
 * out it has; a SIGKILL leaves it to this). Never throws.
 */
export function restoreJitHardenAfterDeath(before: number | null, set: number): void {
  if (before === null || before === set || readJitHarden() !== set) return;
  try {
    writeFileSync(HARDEN, `${before}\n`);
  } catch {
    // not writable: it was not changed either
  }
}

/**
 * net.core.bpf_jit_harden as the machine has it: read under the harden lock held shared (flock(1)),
 * so never inside another process's window (a sockopt request, a JIT-facts probe, a kdiff
 * --jit-harden attach), which would show its transient value. Without flock(1) (or when the lock
 * cannot be had within 60 s), a plain read. null: unreadable.
 */
export function readSettledJitHarden(): number | null {
  const r = spawnSync('flock', ['-s', '-w', '60', JIT_HARDEN_LOCK, 'cat', HARDEN], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (r.status === 0 && /^\d+\s*$/.test(r.stdout)) return Number(r.stdout.trim());
  return readJitHarden();
}

/** One helper process, answering one request at a time. */
export class SockoptOracle {
  private constructor(private readonly proc: FramedProcess) {}

  /** Build (on first use) and start the helper; `missing` names what is not there (no compiler, not Linux). */
  static async open(): Promise<SockoptOracle | { missing: string }> {
    if (process.platform !== 'linux') return { missing: 'Linux (SO_ATTACH_FILTER, SO_MEMINFO)' };
    const b = ensureSockoptBinary();
    if (!b.ok) return { missing: b.missing };
    const o = new SockoptOracle(new FramedProcess('sockopt process', b.path));
    let missing: string | null = null;
    try {
      const r = await o.run([{ unprivileged: false, ops: [{ name: 'SO_ATTACH_FILTER', prog: [{ code: 0x06, jt: 0, jf: 0, k: 1 }] }] }]);
      if (r.steps[0]![0]!.ret !== 0) missing = `SO_ATTACH_FILTER (a one-instruction filter failed with errno ${-r.steps[0]![0]!.ret})`;
      else if (r.steps[0]![0]!.omem === null) missing = 'getsockopt(SO_MEMINFO) (Linux 4.12+)';
    } catch (e) {
      missing = `a running sockopt process: ${(e as Error).message}`;
    }
    if (missing === null) return o;
    await o.close();
    return { missing };
  }

  /**
   * Run the scripts, each on a fresh socket. With `harden`, net.core.bpf_jit_harden is that value for
   * the duration of the calls only (under the lock), and is written back here too if the helper dies
   * before it could restore it. Calls are serialised.
   */
  run(scripts: readonly SockScript[], harden: number | null = null): Promise<SockoptReply> {
    return this.proc.serial(async () => {
      // the machine's value, read under the lock (a plain read may see another window's)
      const before = harden === null ? null : readSettledJitHarden();
      try {
        return await this.proc.exchangeNow(encodeSockoptRequest(scripts, harden), (frame) => decodeSockoptReply(frame, scripts));
      } catch (e) {
        // the helper restores the sysctl itself; should it have died inside the window, do it here
        // (only then: after a reply, a different value is another process's window, not a leak)
        if (harden !== null) restoreJitHardenAfterDeath(before, harden);
        throw e;
      }
    });
  }

  close(): Promise<void> {
    return this.proc.close();
  }
}
