// Where the outside test vectors live (../shared beside the project root), or null when absent.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (tests run from dist/test/..., sources live in test/...). */
export const projectRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(resolve(dir, 'package.json'))) dir = dirname(dir);
  return dir;
})();

/** ../shared next to the project root, or null when it is not there. */
export const sharedDir: string | null = (() => {
  const dir = resolve(projectRoot, '..', 'shared');
  return existsSync(dir) ? dir : null;
})();

/** Parse a JSON file under ../shared (callers skip their test when sharedDir is null). */
export const readSharedJson = <T>(rel: string): T => JSON.parse(readFileSync(resolve(sharedDir!, rel), 'utf8')) as T;

/** Hex string to bytes (whitespace ignored). */
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
