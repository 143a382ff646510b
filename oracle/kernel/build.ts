// Builds oracle/kernel/oracle.c on first use with the system C compiler into a cache directory
// keyed by a hash of the source (edits rebuild), and says precisely what is missing when it cannot.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir, platform, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The C source, next to this file in the source tree (dist/oracle/kernel -> oracle/kernel). */
export const ORACLE_SOURCE = new URL('../../../oracle/kernel/oracle.c', import.meta.url);

export type BuildResult = { readonly ok: true; readonly path: string; readonly built: boolean } | { readonly ok: false; readonly missing: string };

/** The cache directory: $BPFSPEC_CACHE, $XDG_CACHE_HOME/bpfspec, ~/.cache/bpfspec, else the temp dir. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BPFSPEC_CACHE) return env.BPFSPEC_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'bpfspec');
  const home = homedir();
  return home ? join(home, '.cache', 'bpfspec') : join(tmpdir(), 'bpfspec');
}

function findCompiler(env: NodeJS.ProcessEnv): string | null {
  const candidates = [env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => !!c);
  for (const c of candidates) {
    try {
      execFileSync(c, ['--version'], { stdio: 'ignore' });
      return c;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** Compile the oracle unless the cached binary for this exact source exists. Never throws. */
export function ensureOracleBinary(env: NodeJS.ProcessEnv = process.env): BuildResult {
  if (platform() !== 'linux') return { ok: false, missing: `Linux (this is ${platform()}): SO_ATTACH_FILTER on AF_UNIX sockets is Linux-only` };
  let source: Buffer;
  try {
    source = readFileSync(ORACLE_SOURCE);
  } catch {
    return { ok: false, missing: `the oracle's C source (${ORACLE_SOURCE.pathname}); it ships in the source tree, not in dist/` };
  }
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = cacheDir(env);
  const path = join(dir, `bpfspec-oracle-${hash}`);
  if (existsSync(path)) return { ok: true, path, built: false };
  const cc = findCompiler(env);
  if (cc === null) return { ok: false, missing: 'a C compiler (cc, gcc or clang on PATH, or $CC)' };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    return { ok: false, missing: `a writable cache directory (${dir}: ${(e as Error).message})` };
  }
  // unique per build: worker threads of one process share its pid
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    execFileSync(cc, ['-O2', '-Wall', '-o', tmp, ORACLE_SOURCE.pathname], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, path);
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return { ok: false, missing: `a working C build of oracle.c with ${cc}: ${(err.stderr?.toString() || err.message).trim().split('\n').slice(0, 5).join(' | ')}` };
  }
  return { ok: true, path, built: true };
}
