// Builds oracle/kernel/oracle.c on first use with the system C compiler (oracle/build.ts: cached by a
// hash of the source, edits rebuild) and says precisely what is missing when it cannot.
import { ensureCBinary, type BuildResult } from '../build.js';

export { cacheDir, type BuildResult } from '../build.js';

/** The headers the kernel oracle's helpers (oracle.c, sockopt.c, jitimage.c) include. */
export const HELPER_HEADERS: readonly string[] = ['oracle/kernel/harden_lock.h', 'oracle/kernel/pipe.h'];

/** Compile the oracle unless the cached binary for this exact source exists. Never throws. */
export function ensureOracleBinary(env: NodeJS.ProcessEnv = process.env): BuildResult {
  return ensureCBinary({ name: 'bpfspec-oracle', sources: ['oracle/kernel/oracle.c'], headers: HELPER_HEADERS }, env);
}
