// The package as a newcomer gets it: `npm pack` of a copy of this tree (prepack builds it from clean),
// the tarball installed into a scratch project (npm's registry for the dependencies, its cache first),
// then the installed `bpfspec` command (every command of the README, the quick start, a 3 s fuzz, fuzz
// --coverage, kdiff building its oracle from the shipped C source), every entry point imported from
// an .mjs file, a strict TypeScript consumer of every entry point's types, the README's API examples,
// and a toy classic evaluator property-tested with bpfspec/arbitraries (it must catch a planted bug).
// Each step logs how long it took; the whole file stays well inside CI's budget.
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { platform, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { projectRoot } from '../_shared.js';
import { requiresSerial } from '../_skip.js';
import { findCompiler } from '../../oracle/build.js';

const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'bpfspec-pack-'));
const src = join(work, 'src'); // a copy of the tree, packed as a clean checkout would be
const proj = join(work, 'consumer'); // the scratch project the tarball is installed into
const pkgDir = join(proj, 'node_modules', 'bpfspec');
const bin = join(proj, 'node_modules', '.bin', 'bpfspec');
const tsc = resolve(projectRoot, 'node_modules', '.bin', 'tsc');
const version = (JSON.parse(readFileSync(resolve(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
const fastCheckVersion = (JSON.parse(readFileSync(resolve(projectRoot, 'node_modules/fast-check/package.json'), 'utf8')) as { version: string }).version;

// npm run from `npm test` exports npm_* variables (npm_config_local_prefix names this project): the
// nested npm gets none of them but the cache, registry and user configuration.
const KEEP = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') || KEEP.has(k.toLowerCase())));

/** npm itself: the one running this test when there is one, else the one on PATH. */
function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const execpath = process.env.npm_execpath;
  const [cmd, pre] = execpath && execpath.endsWith('.js') ? [process.execPath, [execpath]] : ['npm', []];
  return spawnSync(cmd, [...pre, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The installed command itself (its bin link: the run bit and the shebang are part of what is tested). */
function bpfspec(args: readonly string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(bin, args, { cwd: opts.cwd ?? proj, input: opts.input, env: { ...env, ...opts.env }, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr || String(r.error ?? '') };
}

/** The exit code of a run of the command or of a spawn. */
const codeOf = (r: Run | SpawnSyncReturns<string>): number | null => ('code' in r ? r.code : r.status);

const ok = (t: ExecutionContext, r: Run | SpawnSyncReturns<string>, what: string): void => {
  t.is(codeOf(r), 0, `${what}: ${r.stderr}`);
};

const timed = <T>(t: ExecutionContext, what: string, fn: () => T): T => {
  const t0 = Date.now();
  const out = fn();
  t.log(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return out;
};

interface PackedFile {
  readonly path: string;
  readonly size: number;
  readonly mode: number;
}
let packed: { filename: string; size: number; unpackedSize: number; entryCount: number; files: PackedFile[] } | null = null;

const SKIP_COPY = new Set(['node_modules', 'dist', '.git', 'coverage', '.nyc_output', '.stryker-tmp', 'reports']);

test.before('npm pack a copy of the tree, install the tarball into a scratch project', (t) => {
  timed(t, 'copy', () =>
    cpSync(projectRoot, src, {
      recursive: true,
      filter: (p) => !SKIP_COPY.has(basename(p)) || relative(projectRoot, p).includes('/'),
    }),
  );
  symlinkSync(resolve(projectRoot, 'node_modules'), join(src, 'node_modules'), 'dir');
  const pack = timed(t, 'npm pack (prepack builds from clean)', () => npm(['pack', '--json', '--pack-destination', work], src));
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  packed = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as NonNullable<typeof packed>[])[0]!;
  t.log(`tarball ${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${packed.entryCount} files`);
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), `${JSON.stringify({ name: 'bpfspec-consumer', private: true, type: 'module' })}\n`);
  const install = timed(t, 'npm install of the tarball', () =>
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(work, packed!.filename), `fast-check@${fastCheckVersion}`], proj),
  );
  if (install.status !== 0) throw new Error(`npm install failed: ${install.stderr}`);
});

test.after.always('clean up', () => {
  rmSync(work, { recursive: true, force: true });
});

/** Files of the tree with one of these extensions, recursively, as paths from the root. */
function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (exts.some((e) => name.endsWith(e))) out.push(relative(projectRoot, p));
    }
  };
  walk(resolve(projectRoot, dir));
  return out;
}

test.serial('the tarball: the build, its declarations and maps, the shipped sources, examples and corpus; no tests; no install script', (t) => {
  const files = new Map(packed!.files.map((f) => [f.path, f]));
  const want = [
    'package.json',
    'README.md',
    'bin/bpfspec.js',
    'dist/cli/main.js',
    'dist/web/index.html',
    'corpus/schema.json',
    'corpus/README.md',
    ...['index', 'arbitraries', 'fuzz'].flatMap((e) => [`dist/api/${e}.js`, `dist/api/${e}.d.ts`, `dist/api/${e}.js.map`, `dist/api/${e}.d.ts.map`]),
    // what helpers build from source, and the TypeScript the source maps (and fuzz --coverage) point to
    ...filesUnder('oracle', ['.c', '.h', '.go']),
    ...filesUnder('cli', ['.c', '.h', '.go']),
    ...filesUnder('model', ['.ts']),
    ...filesUnder('api', ['.ts']),
    ...filesUnder('examples', ['']),
    ...filesUnder('corpus/divergences', ['.json']),
    ...filesUnder('corpus/historical', ['.json']),
  ];
  t.deepEqual(
    want.filter((f) => !files.has(f)),
    [],
  );
  t.true(filesUnder('oracle', ['.c']).length > 0);
  t.deepEqual(
    [...files.keys()].filter((f) => /^(dist\/(test|bench)|test|bench|corpus\/(findings|real-filters|confirmed)|node_modules)\//.test(f)),
    [],
  );
  t.true((files.get('bin/bpfspec.js')!.mode & 0o111) !== 0, 'bin/bpfspec.js keeps its run bit');
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };
  t.deepEqual(
    Object.keys(manifest.scripts).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s)),
    [],
  );
  t.truthy(manifest.dependencies['fast-check'], 'fast-check is needed at run time (bpfspec fuzz)');
  t.falsy(manifest.dependencies.typescript);
});

test.serial('in a clone, npx bpfspec works after a build (the launcher keeps its run bit)', (t) => {
  t.true((statSync(resolve(projectRoot, 'bin/bpfspec.js')).mode & 0o111) !== 0);
  const r = timed(t, 'npx bpfspec --version in the packed copy', () => npm(['exec', '--', 'bpfspec', '--version'], src));
  ok(t, r, 'npx bpfspec --version');
  t.is(r.stdout.trim(), version);
});

const ex = (f: string): string => join(pkgDir, 'examples', f);

test.serial('the installed command: every command of the README runs', (t) => {
  timed(t, 'commands', () => {
    const v = bpfspec(['--version']);
    ok(t, v, '--version');
    t.is(v.stdout.trim(), version);
    const check = bpfspec(['check', ex('tcp-port-80.dd')]);
    ok(t, check, 'check');
    t.regex(check.stdout, /accepted \(20 instructions\)/);
    const run = bpfspec(['run', ex('tcp-port-80.dd'), '--pcap', ex('http.pcap'), '--json']);
    ok(t, run, 'run');
    t.deepEqual(
      (JSON.parse(run.stdout) as { packets: { classic: number; kernel: number }[] }).packets.map((p) => [p.classic, p.kernel]),
      [
        [0xffff, 0xffff],
        [0, 0],
        [0, 0],
        [0xffff, 0xffff],
        [0, 0],
      ],
    );
    const mig = bpfspec(['migrate', ex('tcp-port-80.bpf')]);
    ok(t, mig, 'migrate');
    t.regex(mig.stdout, /call bpf_skb_load_helper_16#2/);
    const fmt = bpfspec(['fmt', ex('tcp-port-80.dd'), '--to', 'hex']);
    ok(t, fmt, 'fmt');
    const ev = bpfspec(['eval'], { input: `${JSON.stringify({ id: 1, prog: fmt.stdout.replace(/\s/g, ''), packet: '00' })}\n` });
    ok(t, ev, 'eval');
    t.is((JSON.parse(ev.stdout) as { classic: number }).classic, 0);
    ok(t, bpfspec(['variants']), 'variants');
    const replay = bpfspec(['replay']);
    ok(t, replay, 'replay');
    const shipped = filesUnder('corpus/divergences', ['.json']).length + filesUnder('corpus/historical', ['.json']).length;
    t.regex(replay.stdout, new RegExp(`^${shipped} of ${shipped} entries replay exactly`, 'm'));
    const imported = join(work, 'imported');
    ok(t, bpfspec(['corpus', 'import', ex('tcp-port-80.dd'), '--pcap', ex('http.pcap'), '-o', imported]), 'corpus import');
    ok(t, bpfspec(['corpus', 'merge', imported, '-o', join(work, 'merged')]), 'corpus merge');
    t.is(readdirSync(join(work, 'merged')).length, 1);
    const bad = bpfspec(['check', join(work, 'nope.dd')]);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /^bpfspec: /);
  });
  // every other command the README's command tables name answers --help (its modules load; those
  // above, fuzz, kdiff and web are run for real by the tests below)
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  const commands = [...new Set([...readme.matchAll(/^\| `bpfspec ([a-z-]+(?: [a-z-]+)?)/gm)].map((m) => m[1]!.split(' ').filter((w) => /^[a-z]/.test(w)).join(' ')))];
  t.true(commands.length >= 12, commands.join(', '));
  const RUN = new Set(['check', 'run', 'migrate', 'fmt', 'eval', 'variants', 'replay', 'corpus import', 'corpus merge', 'fuzz', 'kdiff', 'web']);
  t.deepEqual(
    [...RUN].filter((c) => !commands.includes(c)),
    [],
    'a command run here is no longer in the README',
  );
  for (const c of commands.filter((x) => !RUN.has(x))) ok(t, bpfspec([...c.split(' '), '--help']), `${c} --help`);
});

test.serial('bpfspec web in the installed package serves the page the package ships', async (t) => {
  // the server runs until interrupted: started here, asked for the page, then stopped by its pid
  const child = spawn(bin, ['web', '--port', '0'], { cwd: proj, env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolveP, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30000);
      const seen = (d: Buffer): void => {
        out += d.toString();
        const m = /http:\/\/[^\s]+\//.exec(out);
        if (m) {
          clearTimeout(timer);
          resolveP(m[0]);
        }
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.once('exit', (code) => reject(new Error(`bpfspec web exited (${code}): ${out}`)));
    });
    const res = await fetch(url);
    t.is(res.status, 200);
    t.regex(await res.text(), /<html/i);
  } finally {
    child.kill('SIGINT');
  }
});

test.serial("the README's quick start, in the installed package (fuzz for 3 s instead of 10)", (t) => {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  const lines = block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '');
  t.is(lines.length, 5);
  for (const line of lines) {
    const args = line.replace(/^npx bpfspec /, '').replace('--time 10s', `--time 3s --seed 1 --corpus ${join(work, 'quick-start-findings')}`).split(/\s+/);
    const r = timed(t, line, () => bpfspec(args, { cwd: pkgDir }));
    ok(t, r, line);
    if (args[0] === 'fuzz') t.regex(r.stdout, /findings: 0/);
  }
});

test.serial('fuzz --coverage in the installed package maps coverage to the shipped TypeScript', (t) => {
  const r = timed(t, 'fuzz --coverage --runs 1000', () => bpfspec(['fuzz', '--coverage', '--runs', '1000', '--seed', '1', '--json']));
  t.true(r.code === 0 || r.code === 1, r.stderr); // 1: features a short campaign does not reach
  t.notRegex(r.stderr, /ENOENT|internal error/);
  const report = JSON.parse(r.stdout) as { model: { file: string; branches: number; missed: { text: string }[] }[] };
  t.true(report.model.some((f) => f.file === 'model/cbpf/eval.ts' && f.branches > 0));
  // the source lines of the misses were read from the shipped sources
  t.true(report.model.some((f) => f.missed.some((m) => m.text !== '')));
});

const kdiffMissing = platform() !== 'linux' ? 'Linux (bpfspec kdiff attaches filters to a live kernel)' : findCompiler() === null ? 'a C compiler (cc, gcc or clang; Debian: gcc)' : null;

requiresSerial(kdiffMissing, 'kdiff in the installed package builds its oracle from the shipped C source', (t) => {
  const cache = join(work, 'cache'); // empty: the oracle must be built now, from the package's oracle/kernel/oracle.c
  const r = timed(t, 'kdiff --runs 256', () =>
    bpfspec(['kdiff', '--runs', '256', '--seed', '1', '--workers', '1', '--corpus', join(work, 'kfindings'), '--json'], { env: { BPFSPEC_CACHE: cache } }),
  );
  ok(t, r, 'kdiff');
  const s = JSON.parse(r.stdout) as { cases: number; findings: unknown[] };
  t.is(s.cases, 256);
  t.deepEqual(s.findings, []);
  t.true(readdirSync(cache).some((f) => f.startsWith('bpfspec-oracle-')));
});

test.serial('every entry point imports from an .mjs file; internal files are not exported', (t) => {
  writeFileSync(join(proj, 'entries.mjs'), readFileSync(resolve(projectRoot, 'test/package/fixtures/entries.mjs')));
  const r = spawnSync(process.execPath, ['entries.mjs'], { cwd: proj, env, encoding: 'utf8' });
  ok(t, r, 'entries.mjs');
  const e = JSON.parse(r.stdout) as { root: string[]; arbitraries: string[]; fuzz: string[]; deep: string; sameError: boolean };
  t.is(e.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  t.true(e.sameError);
  // The public API, by hand: a name added or removed is a decision (and a README change).
  const ROOT = [
    'ARCH_NAMES', 'ATTACH_DIVERGENCES', 'BpfspecInputError', 'DEFAULT_CONFIG', 'DEFAULT_ENV', 'DEFAULT_PROFILE', 'DIVERGENCES', 'FORMAT_NAMES', 'KERNEL_PROFILES', 'MAX_FPROG_LEN', 'NOT_MODELLED',
    'RUNTIME_DIVERGENCES', 'SKB_PRESETS', 'SOCK_FILTER_SIZE', 'VARIANTS', 'VARIANT_NAMES', 'X86_64', 'afUnixSkb', 'bpfCheckClassic', 'bpfCheckFilter',
    'bpfConvertFilter', 'bpfJump', 'bpfMigrateFilter', 'bpfStmt', 'checkExpressible', 'consistentResults', 'decodeProgram', 'detectFormat', 'disassemble',
    'ebpfRegister', 'encodeProgram', 'errnoName', 'ethernetSkb', 'isBpfspecInputError', 'isRejection', 'kernelConfig', 'loadFilter', 'makeSkb', 'migrate',
    'packetRcv', 'parseHexPacket', 'parseProgram', 'predictAttach', 'predictRun', 'printProgram', 'readCapture', 'runFilter', 'skAttachFilter',
    'skFilterTrimCap', 'skbForPacket', 'variantConfig',
  ];
  // ... and the constants of include/uapi (BPF_*, SKF_*, errnos), skbuff.h (PACKET_*, ETH_*) and if_arp.h
  t.deepEqual(
    e.root.filter((n) => !ROOT.includes(n) && !/^(BPF|SKF|PACKET|ETH|ARPHRD)_[A-Z0-9_]+$|^E[A-Z0-9]+$|^ANCILLARY$|^ERRNO_NAMES$/.test(n)),
    [],
  );
  t.deepEqual(
    ROOT.filter((n) => !e.root.includes(n)),
    [],
  );
  t.deepEqual(e.arbitraries, [
    'BpfspecInputError', 'CHECK_TARGETS', 'FLAVOURS', 'INVALID_RULES', 'MIGRATION_TARGETS', 'PACKET_KINDS', 'TEMPLATE_NAMES', 'campaignCase', 'fuzzCase',
    'invalidProgram', 'isBpfspecInputError', 'limitsProgram', 'longProgram', 'mediumProgram', 'packet', 'packetFor', 'realisticProgram', 'shortProgram',
    'skbCase', 'skbCaseFor', 'skbFields', 'validProgram',
  ]);
  t.deepEqual(e.fuzz, [
    'BpfspecInputError', 'JUDGE_NAMES', 'SCHEMA_ID', 'SHIPPED_CORPUS', 'VERSION', 'checkCase', 'createChecker', 'entryHash', 'findingEntry',
    'isBpfspecInputError', 'listEntries', 'makeEntry', 'openLiveKernel', 'readEntry', 'replayCampaignCase', 'replayCorpus', 'replayEntry', 'runCampaign', 'runJudgeCampaign',
    'skbFromJson', 'skbToJson', 'writeEntry',
  ]);
});

/** The README's API examples, each an .mts file of the consumer. */
function readmeExamples(): string[] {
  const readme = readFileSync(join(pkgDir, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Library API'), readme.indexOf('\n## ', readme.indexOf('## Library API') + 3));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

test.serial('a strict TypeScript consumer of every entry point, the README examples and the toy evaluator compile (tsc --strict) and run', (t) => {
  for (const f of ['consumer.mts', 'toy.mts']) writeFileSync(join(proj, f), readFileSync(resolve(projectRoot, 'test/package/fixtures', f)));
  mkdirSync(join(proj, 'browser'));
  const examples = readmeExamples();
  t.is(examples.length, 3, 'one example per entry point');
  examples.forEach((code, i) => writeFileSync(join(proj, `readme-${i + 1}.mts`), code));
  writeFileSync(
    join(proj, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        // the package's own declarations are checked too
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [resolve(projectRoot, 'node_modules/@types')],
        outDir: 'out',
      },
      include: ['*.mts'],
    }),
  );
  const compiled = timed(t, 'tsc (strict)', () => spawnSync(tsc, ['-p', proj], { cwd: proj, env, encoding: 'utf8' }));
  t.is(compiled.status, 0, compiled.stdout + compiled.stderr);
  // the browser side: the DOM library, no Node types; only the two Node-free entry points
  writeFileSync(join(proj, 'browser', 'browser.mts'), readFileSync(resolve(projectRoot, 'test/package/fixtures/browser.mts')));
  writeFileSync(
    join(proj, 'browser', 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022', 'dom'], strict: true, skipLibCheck: false, types: [], noEmit: true },
      include: ['*.mts'],
    }),
  );
  const browser = timed(t, 'tsc (strict, DOM, no Node types)', () => spawnSync(tsc, ['-p', join(proj, 'browser')], { cwd: proj, env, encoding: 'utf8' }));
  t.is(browser.status, 0, browser.stdout + browser.stderr);
  const consumer = timed(t, 'the consumer', () => spawnSync(process.execPath, [join(proj, 'out/consumer.mjs')], { cwd: pkgDir, env, encoding: 'utf8' }));
  ok(t, consumer, 'consumer');
  t.like(JSON.parse(consumer.stdout.trim().split('\n').pop()!), { ok: true, cases: 256 });
  examples.forEach((_, i) => {
    const r = timed(t, `README example ${i + 1}`, () => spawnSync(process.execPath, [join(proj, `out/readme-${i + 1}.mjs`)], { cwd: pkgDir, env, encoding: 'utf8' }));
    ok(t, r, `README example ${i + 1}`);
    t.not(r.stdout.trim(), '');
  });
});

test.serial('a toy classic evaluator property-tested with bpfspec/arbitraries: agrees without its planted bug, caught with it', (t) => {
  // compiled by the test above
  const r = timed(t, 'the toy property test (1,000 cases each way)', () => spawnSync(process.execPath, [join(proj, 'out/toy.mjs'), '7', '1000'], { cwd: proj, env, encoding: 'utf8' }));
  ok(t, r, 'toy');
  const out = JSON.parse(r.stdout) as { correct: { failed: boolean; compared: number }; planted: { failed: boolean; counterexample: string } };
  t.false(out.correct.failed, 'the toy without its bug agrees with the kernel path');
  t.true(out.correct.compared > 1000, `only ${out.correct.compared} runs compared`);
  t.true(out.planted.failed, 'the planted bug was not found');
  // the shrunk counterexample is a small program with a half-word load
  const prog = JSON.parse(out.planted.counterexample) as { code: number }[];
  t.true(prog.length <= 8 && prog.some((i) => i.code === 0x28 || i.code === 0x48), out.planted.counterexample);
  t.log(`whole file so far: ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
