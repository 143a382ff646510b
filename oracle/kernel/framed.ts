// One helper process of the kernel oracles (oracle.c, sockopt.c, jitimage.c): it reads requests on
// stdin and writes replies on stdout, each a frame (u32 little-endian payload length, then the
// payload), one reply per request, in order. exchange() waits for every exchange before it
// (serial()); exchangeNow sends at once, before earlier replies (they are answered in order, so the
// helper works on one while bpfspec prepares the next or reads the last). If the process exits, fails
// to start or stops reading, every pending exchange and every later one reject with what it said on
// stderr.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** How long an exited helper's failure waits for the end of its stderr. */
const EXIT_STDERR_MS = 200;

export class FramedProcess {
  private buf: Uint8Array = new Uint8Array(0);
  /** the exchanges sent and not yet answered, in the order of their requests */
  private readonly waiting: { readonly frame: (frame: Uint8Array) => void; readonly fail: (e: Error) => void }[] = [];
  private failed: Error | null = null;
  private stderr = '';
  private queue: Promise<unknown> = Promise.resolve();
  private readonly child: ChildProcessWithoutNullStreams;

  /** Start `binary`; `name` is how its errors are introduced (e.g. 'oracle process'). */
  constructor(
    name: string,
    binary: string,
    args: readonly string[] = [],
    opts: { readonly detached?: boolean } = {},
  ) {
    this.child = spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: opts.detached === true });
    this.child.stdout.on('data', (d: Buffer) => {
      this.buf = concat(this.buf, d);
      this.deliver();
    });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.child.on('error', (e) => this.fail(new Error(`${name}: ${e.message}`)));
    // a write to a process that has gone (EPIPE) fails the pending exchange instead of this process
    this.child.stdin.on('error', (e: Error) => this.fail(new Error(`${name} input: ${e.message}`)));
    // 'exit' can come before the last stderr bytes are read: the failure (with the stderr) is reported
    // when stderr ends, or after EXIT_STDERR_MS if something else still holds it open
    this.child.on('exit', (code, sig) => {
      let reported = false;
      const report = (): void => {
        if (reported) return;
        reported = true;
        this.fail(new Error(`${name} exited (${sig ?? code})${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
      };
      if (this.child.stderr.readableEnded) report();
      else {
        this.child.stderr.once('end', report);
        setTimeout(report, EXIT_STDERR_MS).unref();
      }
    });
  }

  private fail(e: Error): void {
    this.failed = e;
    for (const w of this.waiting.splice(0)) w.fail(e);
  }

  private deliver(): void {
    while (this.waiting.length > 0 && this.buf.length >= 4) {
      const n = new DataView(this.buf.buffer, this.buf.byteOffset, 4).getUint32(0, true);
      if (this.buf.length < 4 + n) return;
      const frame = this.buf.slice(4, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      this.waiting.shift()!.frame(frame);
    }
  }

  /** The process id (undefined when it never started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Run `fn` after every exchange or serial() called before it has settled. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Write `request` (a whole frame, length word included; null: write nothing, e.g. to read a hello)
   * and decode the next frame's payload. Exchanges are serialised.
   */
  exchange<T>(request: Uint8Array | null, decode: (payload: Uint8Array) => T): Promise<T> {
    return this.serial(() => this.exchangeNow(request, decode));
  }

  /**
   * exchange() without waiting for the others. Each reply goes to the exchange whose request it
   * answers (the helper answers in order, and a request is written as its exchange is queued), so
   * requests may be sent while earlier exchanges wait for theirs. A null request (reading a frame the
   * helper writes unasked) only inside serial().
   */
  exchangeNow<T>(request: Uint8Array | null, decode: (payload: Uint8Array) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.waiting.push({
        frame: (frame) => {
          try {
            resolve(decode(frame));
          } catch (e) {
            reject(e as Error);
          }
        },
        fail: reject,
      });
      if (request !== null) this.child.stdin.write(request);
      this.deliver();
    });
  }

  /** End the process (closing its stdin) and wait for it. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      // (no pid: it never started)
      if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return new Uint8Array(b);
  const c = new Uint8Array(a.length + b.length);
  c.set(a);
  c.set(b, a.length);
  return c;
}
