// File and stream helpers for the CLI: read a file or stdin, write atomically, fail with one line.
import { readFileSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';

/** A problem with the user's input: printed as one line, exit code 2. */
export class InputError extends Error {}

/** Read a file ('-' is stdin) as bytes, or throw InputError naming the file. */
export function readInput(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path === '-' ? 0 : path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new InputError(`${path}: ${why}`);
  }
}

/** Write a file atomically (temp file + rename): a reader never sees it half-written. */
export function writeOutputAtomic(path: string, data: string | Uint8Array): void {
  try {
    writeFileAtomic.sync(path, typeof data === 'string' ? data : Buffer.from(data));
  } catch (e) {
    throw new InputError(`${path}: cannot write: ${(e as Error).message}`);
  }
}
