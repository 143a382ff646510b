// One adapter process (oracle/libpcap, oracle/dpdk, oracle/xnet): started once, it says hello, then
// answers batches in order. Batches are pipelined: send() writes every frame at once and resolves
// when every answer has arrived. If the process dies, send() rejects with AdapterDied carrying the
// answers that did arrive, so the caller can restart it and go on after the batch that killed it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { decodeMessage, encodeBatch, FrameReader, FRAME_ANSWER, FRAME_HELLO, ProtocolError, type Answer, type Batch, type Hello } from './protocol.js';

/** The adapter exited (or broke the protocol) before answering every batch of a send(). */
export class AdapterDied extends Error {
  constructor(
    message: string,
    /** the answers that arrived, in order: answers[i] is the answer to batches[i] */
    readonly answered: readonly Answer[],
    /** the exit status, when it exited (128 + N: it caught signal N inside the implementation's load and quit) */
    readonly status: number | null = null,
    /** killed by the watchdog: it answered nothing for the answer timeout (a load that does not end: runs have a CPU budget) */
    readonly hung = false,
  ) {
    super(message);
  }
}

interface Pending {
  readonly ids: readonly number[];
  readonly answers: Answer[];
  resolve(a: Answer[]): void;
  reject(e: Error): void;
}

const HELLO_TIMEOUT_MS = 60_000;

/** The last three lines of what a process wrote on stderr, as one line. */
const lastLines = (s: string): string => s.trim().split('\n').slice(-3).join(' | ');
/**
 * With batches outstanding, an adapter that answers nothing for this long is stuck and killed: filter
 * runs have a CPU budget in the adapters, so it is the implementation's load that does not end.
 */
export const ANSWER_TIMEOUT_MS = 30_000;

export class OutsideProcess {
  private readonly reader = new FrameReader();
  private pending: Pending | null = null;
  private dead: string | null = null;
  private status: number | null = null;
  private hung = false;
  private stderr = '';
  private nextId = 1;
  private watchdog: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly hello: Hello,
    private readonly answerTimeoutMs: number,
  ) {}

  /** Start `binary` and wait for its hello. Rejects with a one-line reason when it cannot start. */
  static start(binary: string, args: readonly string[] = [], opts: { readonly env?: NodeJS.ProcessEnv; readonly answerTimeoutMs?: number } = {}): Promise<OutsideProcess> {
    const env = opts.env;
    return new Promise((resolve, reject) => {
      const child = spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
      let proc: OutsideProcess | null = null;
      let early = '';
      const reader = new FrameReader();
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${binary}: no hello within ${HELLO_TIMEOUT_MS / 1000} s${early.trim() ? `: ${lastLines(early)}` : ''}`));
      }, HELLO_TIMEOUT_MS);
      const onData = (d: Buffer): void => {
        if (proc !== null) return proc.data(d);
        try {
          reader.push(d);
          const f = reader.next();
          if (f === null) return;
          if (f.kind !== FRAME_HELLO) throw new ProtocolError(`first frame is kind ${f.kind}, not hello`);
          const hello = decodeMessage(f.kind, f.body) as Hello;
          clearTimeout(timer);
          proc = new OutsideProcess(child, hello, opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS);
          proc.stderr = early;
          // bytes after the hello (none expected before the first batch)
          const rest = reader.next();
          if (rest !== null) proc.fail(`unexpected frame kind ${rest.kind} after hello`);
          resolve(proc);
        } catch (e) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          reject(new Error(`${binary}: ${(e as Error).message}`));
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (d: Buffer) => {
        if (proc !== null) proc.stderr = (proc.stderr + d.toString()).slice(-4000);
        else early = (early + d.toString()).slice(-4000);
      });
      child.stdin.on('error', () => undefined); // EPIPE when it died: reported through 'exit'
      child.on('error', (e) => {
        clearTimeout(timer);
        if (proc === null) reject(new Error(`${binary}: ${e.message}`));
        else proc.fail(e.message);
      });
      child.on('exit', (code, sig) => {
        clearTimeout(timer);
        const how = sig ? `killed by ${sig}` : `exited with status ${code}`;
        if (proc === null) reject(new Error(`${binary} ${how} before its hello${early.trim() ? `: ${lastLines(early)}` : ''}`));
        else proc.fail(how, code);
      });
    });
  }

  /** Whether the process is gone (it must be restarted). */
  get alive(): boolean {
    return this.dead === null;
  }

  /** (Re)arm the watchdog while batches are outstanding; clear it when none is. */
  private arm(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog =
      this.pending === null
        ? null
        : setTimeout(() => {
            this.hung = true;
            this.fail(`answered nothing for ${this.answerTimeoutMs / 1000} s (killed)`);
          }, this.answerTimeoutMs);
  }

  private fail(why: string, status: number | null = null): void {
    if (this.dead === null) {
      this.status = status;
      this.dead = `${why}${this.stderr.trim() ? `: ${lastLines(this.stderr)}` : ''}`;
    }
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    const p = this.pending;
    this.pending = null;
    this.arm();
    p?.reject(new AdapterDied(`adapter ${this.dead}`, p.answers, this.status, this.hung));
  }

  private data(d: Buffer): void {
    try {
      this.reader.push(d);
      for (let f = this.reader.next(); f !== null; f = this.reader.next()) {
        const m = decodeMessage(f.kind, f.body);
        if (m.kind === 'error') throw new ProtocolError(`adapter reported: ${m.message}`);
        if (f.kind !== FRAME_ANSWER || m.kind !== 'answer') throw new ProtocolError(`unexpected frame kind ${f.kind}`);
        const p = this.pending;
        if (p === null) throw new ProtocolError(`answer ${m.id} with no batch outstanding`);
        const want = p.ids[p.answers.length];
        if (m.id !== want) throw new ProtocolError(`answer ${m.id} where ${want} was expected`);
        p.answers.push(m);
        if (p.answers.length === p.ids.length) {
          this.pending = null;
          p.resolve(p.answers);
        }
        this.arm();
      }
    } catch (e) {
      this.fail(e instanceof ProtocolError ? `broke the protocol: ${e.message}` : (e as Error).message);
    }
  }

  /** Send batches (their ids are assigned here) and wait for every answer. Calls are serialised. */
  send(batches: readonly Omit<Batch, 'id' | 'kind'>[]): Promise<Answer[]> {
    const p = this.queue.then(() => this.sendNow(batches));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private sendNow(batches: readonly Omit<Batch, 'id' | 'kind'>[]): Promise<Answer[]> {
    if (this.dead !== null) return Promise.reject(new AdapterDied(`adapter ${this.dead}`, [], this.status, this.hung));
    if (batches.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const frames = batches.map((b) => {
        const id = this.nextId;
        this.nextId = (this.nextId % 0xfffffffe) + 1;
        return { id, frame: encodeBatch({ kind: 'batch', id, flags: b.flags, program: b.program, packets: b.packets }) };
      });
      this.pending = { ids: frames.map((f) => f.id), answers: [], resolve, reject };
      this.arm();
      let size = 0;
      for (const f of frames) size += f.frame.length;
      const all = new Uint8Array(size);
      let o = 0;
      for (const f of frames) {
        all.set(f.frame, o);
        o += f.frame.length;
      }
      this.child.stdin.write(all);
    });
  }

  /** End the process (closing its stdin) and wait for it. */
  close(): Promise<void> {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      this.child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      this.dead ??= 'closed';
      this.child.stdin.end();
    });
  }
}
