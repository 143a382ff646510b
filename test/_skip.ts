// Tests that need something this machine may not have (../shared, a live kernel, a Debian package,
// root): declared through `requires`, so that when it is missing ava counts the test as skipped and
// its title says what was missing. A test never passes silently for want of its prerequisite.
import test, { type ExecutionContext } from 'ava';
import { sharedDir } from './_shared.js';

type Body = (t: ExecutionContext) => void | Promise<void>;

/** What is missing for tests that read ../shared, or null when it is there. */
export const sharedMissing: string | null = sharedDir === null ? '../shared (the outside test vectors) beside the project root' : null;

const skippedTitle = (title: string, missing: string): string => `${title} [skipped: needs ${missing.length > 160 ? `${missing.slice(0, 160)}...` : missing}]`;

/** A test that runs only when `missing` is null; otherwise it is declared skipped, naming what is missing. */
export function requires(missing: string | null, title: string, body: Body): void {
  if (missing === null) test(title, body);
  else test.skip(skippedTitle(title, missing), body);
}

/** As requires, for tests that must run serially (a shared live resource). */
export function requiresSerial(missing: string | null, title: string, body: Body): void {
  if (missing === null) test.serial(title, body);
  else test.serial.skip(skippedTitle(title, missing), body);
}
