// Builds a helper program from sources shipped in the package (C with cc, Go with go) on first use,
// into a cache directory keyed by a hash of the sources and flags (edits rebuild), and says in one
// line what is missing when it cannot: the toolchain, or the Debian package of a library. Every
// judge and helper process (the kernel oracle, seccomp, libpcap, DPDK, x/net/bpf, pcap_compile)
// is built through here. Never throws.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type BuildResult = { readonly ok: true; readonly path: string; readonly built: boolean } | { readonly ok: false; readonly missing: string };

/** The cache directory: $BPFSPEC_CACHE, $XDG_CACHE_HOME/bpfspec, ~/.cache/bpfspec, else the temp dir. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BPFSPEC_CACHE) return env.BPFSPEC_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'bpfspec');
  const home = homedir();
  return home ? join(home, '.cache', 'bpfspec') : join(tmpdir(), 'bpfspec');
}

/** A source file shipped in the package, by its path from the package root (e.g. 'oracle/kernel/oracle.c'). */
export const shippedSource = (rel: string): URL => new URL(`../../${rel}`, import.meta.url);

/** The first C compiler that answers (--version): $CC, cc, gcc, clang; or null. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): string | null {
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

export interface CBuild {
  /** the name of the cached binary (a hash of sources and flags is appended) */
  readonly name: string;
  /** sources, paths from the package root */
  readonly sources: readonly string[];
  /**
   * Headers of the package that the sources include (`#include "name.h"`), paths from the package
   * root: hashed with the sources (an edit rebuilds), their directories passed as -I.
   */
  readonly headers?: readonly string[];
  /** extra compiler flags before the sources */
  readonly cflags?: readonly string[];
  /** linker flags after the sources (e.g. -lpcap) */
  readonly libs?: readonly string[];
  /**
   * A header the sources include from a library, and the Debian package that ships it: checked
   * first so that a missing library is named as such ("needs libpcap-dev (pcap/pcap.h)").
   */
  readonly requires?: readonly { readonly header: string; readonly debian: string }[];
  /** pkg-config packages whose --cflags/--libs are added (e.g. 'libdpdk'); missing -> `debian` named */
  readonly pkgConfig?: readonly { readonly name: string; readonly debian: string }[];
  /** the platform the helper needs (default linux) */
  readonly platform?: NodeJS.Platform;
}

function readSources(sources: readonly string[]): { ok: true; paths: string[]; hash: ReturnType<typeof createHash> } | { ok: false; missing: string } {
  const hash = createHash('sha256');
  const paths: string[] = [];
  for (const rel of sources) {
    const url = shippedSource(rel);
    try {
      hash.update(rel).update('\0').update(readFileSync(url)).update('\0');
    } catch {
      return { ok: false, missing: `the source ${rel} (it ships in the package beside dist/)` };
    }
    paths.push(fileURLToPath(url));
  }
  return { ok: true, paths, hash };
}

function headerPresent(cc: string, header: string): boolean {
  const r = spawnSync(cc, ['-E', '-x', 'c', '-'], { input: `#include <${header}>\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  return r.status === 0;
}

function pkgConfig(name: string): { cflags: string[]; libs: string[] } | null {
  const c = spawnSync('pkg-config', ['--cflags', name], { encoding: 'utf8' });
  const l = spawnSync('pkg-config', ['--libs', name], { encoding: 'utf8' });
  if (c.status !== 0 || l.status !== 0) return null;
  const split = (s: string): string[] => s.trim().split(/\s+/).filter((x) => x !== '');
  return { cflags: split(c.stdout), libs: split(l.stdout) };
}

const firstLines = (s: string): string => s.trim().split('\n').slice(0, 5).join(' | ');

/** Compile a C helper unless the cached binary for these exact sources and flags exists. */
export function ensureCBinary(spec: CBuild, env: NodeJS.ProcessEnv = process.env): BuildResult {
  const want = spec.platform ?? 'linux';
  if (platform() !== want) return { ok: false, missing: `${want} (this is ${platform()})` };
  const src = readSources(spec.sources);
  if (!src.ok) return src;
  const cflags = [...(spec.cflags ?? [])];
  const libs = [...(spec.libs ?? [])];
  const cc = findCompiler(env);
  for (const p of spec.pkgConfig ?? []) {
    const flags = pkgConfig(p.name);
    if (flags === null) return { ok: false, missing: `${p.debian} (pkg-config finds no ${p.name})` };
    cflags.push(...flags.cflags);
    libs.push(...flags.libs);
  }
  src.hash.update(JSON.stringify([cflags, libs]));
  const headers = readSources(spec.headers ?? []);
  if (!headers.ok) return headers;
  src.hash.update(headers.hash.digest());
  // after the hash: where this copy of the package sits does not change the binary
  for (const dir of new Set(headers.paths.map((h) => dirname(h)))) cflags.push('-I', dir);
  const digest = src.hash.digest('hex').slice(0, 16);
  const dir = cacheDir(env);
  const path = join(dir, `${spec.name}-${digest}`);
  if (existsSync(path)) return { ok: true, path, built: false };
  if (cc === null) return { ok: false, missing: 'a C compiler (cc, gcc or clang on PATH, or $CC; Debian: gcc)' };
  for (const r of spec.requires ?? []) if (!headerPresent(cc, r.header)) return { ok: false, missing: `${r.debian} (${r.header} not found)` };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    return { ok: false, missing: `a writable cache directory (${dir}: ${(e as Error).message})` };
  }
  // unique per build: worker threads of one process share its pid
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    execFileSync(cc, ['-O2', '-Wall', ...cflags, '-o', tmp, ...src.paths, ...libs], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    const err = e as { stderr?: Buffer; message: string };
    return { ok: false, missing: `a working C build of ${spec.sources.join(' ')} with ${cc}: ${firstLines(err.stderr?.toString() || err.message)}` };
  }
  return { ok: true, path, built: true };
}

export interface GoBuild {
  readonly name: string;
  /** the main package's sources, paths from the package root */
  readonly sources: readonly string[];
  /** GOPATH holding the imported packages (Debian's golang-*-dev install into /usr/share/gocode) */
  readonly gopath?: string;
  /** a package import path that must be present under GOPATH, and the Debian package shipping it */
  readonly requires?: readonly { readonly importPath: string; readonly debian: string }[];
}

/** Build a Go helper offline in GOPATH mode (GO111MODULE=off) unless the cached binary exists. */
export function ensureGoBinary(spec: GoBuild, env: NodeJS.ProcessEnv = process.env): BuildResult {
  if (platform() !== 'linux') return { ok: false, missing: `linux (this is ${platform()})` };
  const src = readSources(spec.sources);
  if (!src.ok) return src;
  const gopath = spec.gopath ?? '/usr/share/gocode';
  const digest = src.hash.update(gopath).digest('hex').slice(0, 16);
  const dir = cacheDir(env);
  const path = join(dir, `${spec.name}-${digest}`);
  if (existsSync(path)) return { ok: true, path, built: false };
  const v = spawnSync('go', ['version'], { stdio: 'ignore' });
  if (v.error || v.status !== 0) return { ok: false, missing: 'the Go toolchain (Debian: golang-go)' };
  for (const r of spec.requires ?? []) if (!existsSync(join(gopath, 'src', r.importPath))) return { ok: false, missing: `${r.debian} (${r.importPath} not under ${gopath})` };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    return { ok: false, missing: `a writable cache directory (${dir}: ${(e as Error).message})` };
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const goCache = join(dir, 'go-build-cache');
  const r = spawnSync('go', ['build', '-o', tmp, ...src.paths], {
    env: { ...env, GO111MODULE: 'off', GOPATH: gopath, GOCACHE: env.GOCACHE ?? goCache, CGO_ENABLED: '0' },
    encoding: 'utf8',
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    return { ok: false, missing: `a working Go build of ${spec.sources.join(' ')}: ${firstLines(r.stderr || String(r.error))}` };
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    return { ok: false, missing: `a writable cache directory (${dir}: ${(e as Error).message})` };
  }
  return { ok: true, path, built: true };
}
