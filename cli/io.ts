// File and stream helpers for the CLI: read a file or stdin, write atomically, fail with one line.
//
// Reading: a regular file is read whole (up to a size limit); a FIFO, a character device or stdin
// is read as a stream, chunk by chunk, up to the same limit (so `/dev/zero` ends with a message, not
// with the machine's memory). Writing: a regular file (or a path that does not exist yet) is
// replaced atomically (temp file + rename); a character device, FIFO or socket is written directly
// (never renamed over: that would turn /dev/null into a regular file); a block device or a directory
// is refused with one line.
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync, accessSync, constants, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { clip } from '../fuzz/skbjson.js';

export { clip };

/** A problem with the user's input: printed as one line, exit code 2. */
export class InputError extends Error {}

/** The largest program file read (a program has at most 4096 instructions: 16 MiB is far beyond any format's text). */
export const PROGRAM_LIMIT = 16 * 1024 * 1024;
/** The largest capture file read. */
export const CAPTURE_LIMIT = 1024 * 1024 * 1024;

/** What a system error code means, in the words a user expects. */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a component of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENOSPC':
      return 'no space left on device';
    case 'EROFS':
      return 'read-only file system';
    case 'ENXIO':
      return 'no such device or address (a socket or a device without a driver)';
    case 'EEXIST':
      return 'already exists';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EIO':
      return 'input/output error';
    default:
      return clip(String(err.message ?? e), 200);
  }
}

const kind = (st: Stats): string =>
  st.isDirectory() ? 'a directory' : st.isBlockDevice() ? 'a block device' : st.isCharacterDevice() ? 'a character device' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a special file';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Read an open descriptor as a stream until end of file, failing past `limit` bytes. */
function readStream(fd: number, name: string, limit: number, what: string, check?: (head: Uint8Array) => string | null): Uint8Array {
  const chunks: Buffer[] = [];
  let total = 0;
  let checked = check === undefined;
  const buf = Buffer.allocUnsafe(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      // stdin may be a non-blocking pipe or terminal: wait a little and read again
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(sleeper, 0, 0, 5);
        continue;
      }
      if ((e as NodeJS.ErrnoException).code === 'EOF') break;
      throw new InputError(`${name}: cannot read: ${errnoText(e)}`);
    }
    if (n === 0) break;
    total += n;
    if (total > limit) throw new InputError(`${name}: more than ${limit} bytes: too large for ${what}`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
    if (!checked && total >= 4) {
      checked = true;
      const problem = check!(Buffer.concat(chunks));
      if (problem !== null) throw new InputError(`${name}: ${problem}`);
    }
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}

export interface ReadOptions {
  /** the most bytes read (default PROGRAM_LIMIT) */
  readonly limit?: number;
  /** what the file is meant to be, for messages ("a program file") */
  readonly what?: string;
  /** a check of the first bytes of a stream (e.g. a capture's magic): a message ends the read early */
  readonly check?: (head: Uint8Array) => string | null;
}

/** Read a file ('-' is stdin) as bytes, or throw InputError naming the file. */
export function readInput(path: string, opts: ReadOptions = {}): Uint8Array {
  const limit = opts.limit ?? PROGRAM_LIMIT;
  const what = opts.what ?? 'a program file';
  if (path === '-') return readStream(0, 'standard input', limit, what, opts.check);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(`${path}: ${errnoText(e)}`);
  }
  if (st.isDirectory()) throw new InputError(`${path}: is a directory`);
  if (st.isFile()) {
    if (st.size > limit) throw new InputError(`${path}: ${st.size} bytes: too large for ${what} (at most ${limit})`);
    try {
      return new Uint8Array(readFileSync(path));
    } catch (e) {
      throw new InputError(`${path}: ${errnoText(e)}`);
    }
  }
  // a FIFO, a character device or a socket: read as a stream, like cat (a FIFO waits for its writer)
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(`${path}: cannot open ${kind(st)}: ${errnoText(e)}`);
  }
  try {
    return readStream(fd, path, limit, what, opts.check);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write an output file. A regular file, or a path that does not exist yet, is written atomically
 * (temp file + rename: a reader never sees it half-written); a character device, FIFO or socket is
 * written directly and never renamed over; a directory or a block device is refused.
 */
export function writeOutput(path: string, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let st: Stats | null = null;
  try {
    st = statSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new InputError(`${path}: cannot write: ${errnoText(e)}`);
  }
  try {
    if (st === null || st.isFile()) writeFileAtomic.sync(path, bytes);
    else if (st.isDirectory() || st.isBlockDevice()) throw new InputError(`${path}: is ${kind(st)}: refusing to write to it`);
    else writeFileSync(path, bytes);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${path}: cannot write: ${errnoText(e)}`);
  }
}

/**
 * Check, before any work starts, that `dir` can be used as an output directory: it is a directory,
 * or it does not exist and its nearest existing ancestor is a writable directory (it is created when
 * the first file is written). Throws InputError naming the flag.
 */
export function checkOutputDir(dir: string, flag: string): void {
  let p = resolve(dir);
  for (;;) {
    let st: Stats | null = null;
    try {
      st = statSync(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: a parent is a file; walking up names it
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new InputError(`${flag} ${clip(dir)}: ${errnoText(e)}`);
    }
    if (st !== null) {
      if (!st.isDirectory()) throw new InputError(`${flag} ${clip(dir)}: ${p === resolve(dir) ? '' : `${p} `}is ${st.isFile() ? 'a file' : kind(st)}, not a directory`);
      try {
        accessSync(p, constants.W_OK | constants.X_OK);
      } catch (e) {
        throw new InputError(`${flag} ${clip(dir)}: ${p}: ${errnoText(e)}`);
      }
      return;
    }
    const up = dirname(p);
    if (up === p) return;
    p = up;
  }
}

/** Create an output directory (and its parents), or throw InputError naming the flag. */
export function ensureOutputDir(dir: string, flag: string): void {
  checkOutputDir(dir, flag);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(`${flag} ${clip(dir)}: cannot create: ${errnoText(e)}`);
  }
}
