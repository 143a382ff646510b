// Drives oracle/seccomp/oracle.c (built on first use through oracle/build.ts): a line protocol on the
// child's stdin/stdout, one request at a time. See the C file for the protocol and the sandbox.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { ensureCBinary, type BuildResult } from '../build.js';
import { encodeProgram, type Program } from '../../model/cbpf/insn.js';

/** Build the seccomp oracle unless the cached binary exists. Never throws. */
export function ensureSeccompOracle(env: NodeJS.ProcessEnv = process.env): BuildResult {
  if (process.arch !== 'x64') return { ok: false, missing: `an x86-64 machine (this is ${process.arch})` };
  return ensureCBinary({ name: 'bpfspec-seccomp-oracle', sources: ['oracle/seccomp/oracle.c'], headers: ['oracle/kernel/harden_lock.h'], requires: [{ header: 'linux/seccomp.h', debian: 'linux-libc-dev' }] }, env);
}

/** What the oracle found about this machine. */
export interface OracleProbe {
  readonly uid: number;
  /** the sandbox (namespaces, uid 65534, chroot) is up: calls may run */
  readonly sandboxed: boolean;
  /** the user instruction pointer after the SYSCALL instruction (KSTK_EIP of a 64-bit call) */
  readonly ip64: bigint;
  /** the same after INT 0x80 */
  readonly ip80: bigint;
  /** INT 0x80 works from 64-bit code (IA-32 emulation on) */
  readonly int80: boolean;
  /** the address of the struct sock_fprog every attach passes (args[2] of the seccomp() call the filters already installed see) */
  readonly fprog: bigint;
}

/** One call: the entry (0 = SYSCALL, 1 = INT 0x80), the number register and six argument registers. */
export interface LiveCall {
  readonly abi: 0 | 1;
  readonly nr: bigint;
  readonly args: readonly bigint[];
}

/** What the oracle saw of one call. */
export interface LiveObservation {
  readonly state: 'ret' | 'trap' | 'thread' | 'timeout' | 'exit' | 'signal' | 'attach';
  /** the errno of each seccomp() attach, in order (0 = installed); empty when none was tried */
  readonly attach: readonly number[];
  /** rax after the call (state ret), as a signed 64-bit value */
  readonly ret: bigint;
  readonly signo: number;
  readonly code: number;
  readonly siErrno: number;
  readonly siSyscall: number;
  readonly siArch: number;
  readonly siCallAddr: bigint;
  /** the wait status of the child */
  readonly status: number;
}

export interface LiveFilter {
  readonly flags: number;
  readonly prog: Program;
}

const hex = (v: bigint): string => BigInt.asUintN(64, v).toString(16);

export class SeccompOracle {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Interface;
  private readonly queue: ((line: string | null) => void)[] = [];
  private readonly buffered: string[] = [];
  private closed = false;
  probe: OracleProbe | null = null;

  constructor(path: string, env: NodeJS.ProcessEnv = process.env) {
    this.proc = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.lines = createInterface({ input: this.proc.stdout });
    this.lines.on('line', (l) => {
      const w = this.queue.shift();
      if (w) w(l);
      else this.buffered.push(l);
    });
    this.proc.on('close', () => {
      this.closed = true;
      for (const w of this.queue.splice(0)) w(null);
    });
    this.proc.stderr.resume();
  }

  private next(): Promise<string> {
    const b = this.buffered.shift();
    if (b !== undefined) return Promise.resolve(b);
    if (this.closed) return Promise.reject(new Error('seccomp oracle exited'));
    return new Promise((resolve, reject) => this.queue.push((l) => (l === null ? reject(new Error('seccomp oracle exited')) : resolve(l))));
  }

  private async expect(prefix: string): Promise<string> {
    const l = await this.next();
    if (l.startsWith('X ')) throw new Error(`seccomp oracle: ${l.slice(2)}`);
    if (!l.startsWith(prefix)) throw new Error(`seccomp oracle: unexpected line ${JSON.stringify(l.slice(0, 80))}`);
    return l;
  }

  /** Probe the machine (once). */
  async start(): Promise<OracleProbe> {
    this.proc.stdin.write('P\n');
    const f = (await this.expect('P ')).split(' ');
    this.probe = { uid: Number(f[1]), sandboxed: f[2] === '1', ip64: BigInt(`0x${f[4]}`), ip80: BigInt(`0x${f[5]}`), int80: f[6] === '1', fprog: BigInt(`0x${f[7]}`) };
    return this.probe;
  }

  /**
   * Attach `filters` (in order: the last is the most recent) and make `calls`. Mode 'action': one
   * child per call, the call made by a second thread (it may run: sandbox needed); mode 'batch': one
   * child for all calls (every call must trap: instrumented copies).
   */
  async run(mode: 'action' | 'batch', filters: readonly LiveFilter[], calls: readonly LiveCall[]): Promise<LiveObservation[]> {
    const lines = [`${mode === 'action' ? 'A' : 'B'} ${filters.length} ${calls.length}`];
    for (const f of filters) lines.push(`F ${(f.flags >>> 0).toString(16)} ${Buffer.from(encodeProgram(f.prog)).toString('hex')}`);
    for (const c of calls) lines.push(`C ${c.abi} ${hex(c.nr)} ${[0, 1, 2, 3, 4, 5].map((i) => hex(c.args[i] ?? 0n)).join(' ')}`);
    this.proc.stdin.write(`${lines.join('\n')}\n`);
    const out: LiveObservation[] = [];
    for (let i = 0; i < calls.length; i++) {
      const f = (await this.expect('R ')).split(' ');
      out.push({
        state: f[1] as LiveObservation['state'],
        attach: f[2] === '-' ? [] : f[2]!.split(',').map(Number),
        ret: BigInt.asIntN(64, BigInt(`0x${f[3]}`)),
        signo: Number(f[4]),
        code: Number(f[5]),
        siErrno: Number(f[6]),
        siSyscall: Number(f[7]),
        siArch: Number.parseInt(f[8]!, 16) >>> 0,
        siCallAddr: BigInt(`0x${f[9]}`),
        status: Number.parseInt(f[10]!, 16),
      });
    }
    return out;
  }

  /** The filters of a running process (PTRACE_SECCOMP_GET_FILTER; root), most recent first, or a negative errno. */
  async dump(pid: number): Promise<Program[] | number> {
    this.proc.stdin.write(`D ${pid}\n`);
    const head = (await this.expect('D ')).split(' ');
    const n = Number(head[1]);
    if (n < 0) return n;
    const progs: Program[] = [];
    for (let i = 0; i < n; i++) {
      const l = await this.next();
      if (l.startsWith('E ')) return -Number(l.slice(2));
      const bytes = Buffer.from(l.slice(2), 'hex');
      const prog = [];
      for (let o = 0; o + 8 <= bytes.length; o += 8) prog.push({ code: bytes.readUInt16LE(o), jt: bytes[o + 2]!, jf: bytes[o + 3]!, k: bytes.readUInt32LE(o + 4) });
      progs.push(prog);
    }
    return progs;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.proc.stdin.end();
    await new Promise<void>((resolve) => {
      if (this.closed) resolve();
      else this.proc.on('close', () => resolve());
    });
  }
}
