#!/usr/bin/env node
// The `bpfspec` command.
//
// Every failure is one line on stderr starting `bpfspec:` and an exit code: 2 for bad input (a
// missing or malformed file, an unknown name, a bad flag), 3 for an internal error (a bug of
// bpfspec), never a stack trace unless BPFSPEC_DEBUG is set. main() takes its streams as arguments
// so that tests run it in-process.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NOT_MODELLED, VARIANTS } from '../model/variants.js';
import { kernelConfig, kernelOptions, type KernelFlags } from './kernel.js';
import { checkVerdict, verdictJson, verdictText } from './commands/check.js';
import { checkOutputDir, clip, ensureOutputDir, InputError, readInput, writeOutput, CAPTURE_LIMIT } from './io.js';
import { campaignFlags, campaignOptions, parseJudges, runCoverage, runFuzz, summaryJson, summaryText, type FuzzFlags } from './commands/fuzz.js';
import { batchedJson, batchedText, kdiffJson, kdiffText, runBatched, runKdiff, type KdiffFlags } from './commands/kdiff.js';
import { mergeCorpora, readImportPrograms, replay, replayText } from './commands/replay.js';
import { mergedSummaryText, mergeSummaries, readSummary } from './commands/merge-summary.js';
import { CorpusError, makeEntry, SHIPPED_CORPUS_DIR, writeEntry } from '../fuzz/corpus.js';
import { registerJudgesCommand, replayExternal, replayExternalText } from './commands/judges.js';
import { runEval } from './commands/eval.js';
import { migrateJson, migrateText } from './commands/migrate.js';
import { runWeb, type WebFlags } from './commands/web.js';
import { PATH_NAMES, runFailed, runJson, runPackets, runText, type PathName, type RunPacket } from './commands/run.js';
import { compileExpression, compileOptions } from './compile/index.js';
import { checkExpressible, formatError, printProgram } from './formats/index.js';
import { parseHexPacket, readPackets } from './packets/index.js';
import { captureMagic, checkEndian, checkFormatName, FORMAT_NAMES, readProgram, type ProgramFlags } from './program.js';
import { buildSkb, parseSetting, SKB_FIELDS, SkbSpecError } from './skbspec.js';
import { registerSeccomp } from './commands/seccomp.js';
import { runSeccompFuzzCli, runSeccompKdiffCli } from './commands/seccomp-fuzz.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Where a run of the command reads and writes: the process's streams, or a test's. */
export interface CliIo {
  /** standard output (text or bytes) */
  readonly out: (s: string | Uint8Array) => void;
  /** standard error (one message per call) */
  readonly err: (s: string) => void;
  /** standard input, for `-` and `eval` */
  readonly stdin: AsyncIterable<Buffer | string>;
}

/** The exit code an action sets (0 unless it says otherwise). */
interface RunState {
  code: number;
}

/** `bpfspec variants`: the historical variants, then the bugs that get none. */
function variantsText(): string {
  const lines: string[] = [];
  for (const v of VARIANTS) {
    lines.push(`${v.name}  [${v.id}${v.notLinux ? ', not a Linux bug' : ''}]`);
    lines.push(`  commit:    ${v.title} (${v.year}${v.hash ? `, ${v.hash}` : ''})${v.verified ? '' : ' [UNVERIFIED]'}`);
    lines.push(`  affected:  ${v.affected}`);
    lines.push(`  decision:  ${v.decisionPoint}`);
    lines.push(`  model:     ${v.modelHook}`);
    lines.push(`  caught by: ${v.catchesBy}${v.needs ? ` (runs with ${Object.entries(v.needs).map(([k, x]) => `${k}=${String(x)}`).join(', ')})` : ''}`);
  }
  lines.push('', 'not modelled (nothing bpfspec observes can change):');
  for (const n of NOT_MODELLED) lines.push(`  ${n.id} ${n.title}: ${n.why}`);
  return `${lines.join('\n')}\n`;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** --path of fuzz and kdiff: the socket campaign (default) or the seccomp one. */
const CAMPAIGN_PATHS = ['socket', 'seccomp'];

/** The options of a tcpdump filter expression (compile, and --expr wherever a program is read). */
function exprOptions(cmd: Command): Command {
  return cmd
    .option('--linktype <name>', 'with --expr: the link type pcap_compile compiles for (EN10MB, RAW, LINUX_SLL, ... or a DLT number; default EN10MB)')
    .option('--snaplen <bytes>', 'with --expr: the snapshot length accepting returns (default 262144, as tcpdump)')
    .option('--no-optimize', "with --expr: turn libpcap's optimizer off (tcpdump -O)");
}

function programOptions(cmd: Command): Command {
  return exprOptions(
    cmd
      .addOption(new Option('-f, --format <format>', 'input format (detected when unambiguous)').choices(FORMAT_NAMES as string[]))
      .option('--endian <order>', 'byte order of raw program images: little (default) or big')
      .option('-e, --expr <expression>', 'a tcpdump filter expression instead of a FILE, compiled by the system libpcap (needs libpcap-dev)'),
  );
}

/** The short usage `bpfspec` alone prints: one line per command. */
function shortUsage(program: Command): string {
  const lines = ['Usage: bpfspec COMMAND [options]   (bpfspec help COMMAND for its options; bpfspec --help for all)', ''];
  for (const c of program.commands) {
    const summary = c.summary() || c.description().split(/[:(]/)[0]!.trim();
    lines.push(`  ${c.name().padEnd(9)} ${summary.length > 90 ? `${summary.slice(0, 87)}...` : summary}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The full name of a command for messages ("corpus merge"). */
function commandPath(c: Command): string {
  const names: string[] = [];
  for (let p: Command | null = c; p !== null && p.parent !== null; p = p.parent) names.unshift(p.name());
  return names.join(' ');
}

/**
 * --path seccomp runs the seccomp campaign (fuzz/seccomp), which takes none of the socket campaign's
 * kernel, architecture or packet flags: given on the command line, they are refused, not ignored.
 */
function refuseSocketOnly(cmd: Command, names: readonly string[]): void {
  for (const n of names)
    if (cmd.getOptionValueSource(n) === 'cli') {
      const flag = cmd.options.find((opt) => opt.attributeName() === n)?.long ?? n;
      throw new InputError(`${flag}: not with --path seccomp (the seccomp campaign takes --time, --runs, --seed, --workers, --corpus, --json${cmd.name() === 'fuzz' ? ', --judges' : ''})`);
    }
}

/** Commander quotes a whole argument in its messages: each quoted piece cut to 80 characters. */
const clipQuoted = (msg: string): string => msg.replace(/'([^']{81,})'/g, (_m, inner: string) => `'${clip(inner)}'`);

/** A message as one line: newlines joined, commander's "error: " dropped, cut when very long. */
export function oneLine(msg: string): string {
  const text = msg
    .replace(/^error: /, '')
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
  return clip(text, 600);
}

/** The packets of --packet and --pcap, labelled, with the preset their source implies. */
export interface CollectedPackets {
  readonly packets: RunPacket[];
  /** capture facts for the summary and warnings, when --pcap was given */
  readonly capture: null | {
    readonly file: string;
    readonly format: string;
    readonly linktypes: number[];
    /** packets whose captured length is below their length on the wire */
    readonly cut: number;
    readonly notes: string[];
  };
}

const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NULL (BSD loopback)'],
  [1, 'EN10MB (Ethernet)'],
  [101, 'RAW (IP)'],
  [113, 'LINUX_SLL (Linux cooked)'],
  [276, 'LINUX_SLL2 (Linux cooked v2)'],
  [105, 'IEEE802_11 (Wi-Fi)'],
  [127, 'IEEE802_11_RADIOTAP'],
  [253, 'NETLINK'],
]);

function collectPackets(hexes: readonly string[], pcap: string | undefined): CollectedPackets {
  const packets: RunPacket[] = [];
  hexes.forEach((h, i) => {
    const res = parseHexPacket(h);
    if (!res.ok) throw new InputError(`--packet ${i + 1}: ${res.error}`);
    packets.push({ data: res.data, label: `packet ${i + 1}`, preset: 'af_unix' });
  });
  if (pcap === undefined) return { packets, capture: null };
  const bytes = readInput(pcap, {
    limit: CAPTURE_LIMIT,
    what: 'a capture',
    check: (head) => (captureMagic(head) === null ? 'not a pcap or pcapng capture (bad magic number)' : null),
  });
  const res = readPackets(bytes);
  if (!res.ok) throw new InputError(`${pcap}: ${res.error}`);
  let cut = 0;
  const linktypes = new Set<number>();
  for (const p of res.packets) {
    packets.push({ data: p.data, label: `${pcap} #${p.index + 1}`, preset: p.linktype === 1 ? 'ethernet' : 'af_unix', origLen: p.origLen });
    if (p.data.length < p.origLen) cut++;
    linktypes.add(p.linktype);
  }
  return { packets, capture: { file: pcap, format: res.format, linktypes: [...linktypes].sort((a, b) => a - b), cut, notes: res.notes } };
}

/** The warnings a capture deserves: packets cut at capture time, link types other than Ethernet. */
function captureWarnings(c: NonNullable<CollectedPackets['capture']>, total: number): string[] {
  const w: string[] = [];
  if (c.cut > 0)
    w.push(`${c.file}: ${c.cut} of ${total} packets were cut at capture time (captured length below the length on the wire): the filter runs on the captured bytes only, and loads past them fail`);
  const other = c.linktypes.filter((l) => l !== 1);
  if (other.length > 0)
    w.push(
      `${c.file}: link type ${other.map((l) => `${l}${LINKTYPE_NAMES.has(l) ? ` ${LINKTYPE_NAMES.get(l)}` : ''}`).join(', ')}, not Ethernet: those packets run on the af_unix skb (no device, ` +
        'data from the first captured byte); a filter compiled for Ethernet reads the wrong offsets',
    );
  return w;
}

export function buildCli(io: CliIo, state: RunState): Command {
  const out = (s: string | Uint8Array): void => io.out(s);
  const warn = (line: string): void => io.err(`${oneLine(line)}\n`);
  /** A printed program (fmt, compile) to -o FILE or standard output; with --json, one line of `fields` and the file, or the output (binary as hex). */
  const emitProgram = (text: string | Uint8Array, o: { output?: string; json?: boolean }, fields: Record<string, unknown>): void => {
    if (o.output !== undefined) writeOutput(o.output, text);
    if (o.json) out(`${JSON.stringify({ ...fields, ...(o.output !== undefined ? { file: o.output } : { output: typeof text === 'string' ? text : Buffer.from(text).toString('hex') }) })}\n`);
    else if (o.output === undefined) out(text);
  };
  const program = new Command('bpfspec')
    .description('Executable specification and equivalence fuzzer of the Linux v6.6 classic BPF socket-filter path')
    .version(VERSION)
    .showHelpAfterError(false)
    .showSuggestionAfterError(false)
    .helpCommand(false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  kernelOptions(programOptions(program.command('check')))
    .summary("the kernel's verdict on a classic program")
    .description("the kernel's verdict on a classic program (exit 0 accepted, 1 rejected, 2 bad input)")
    .argument('[file]', "program file ('-' for stdin)")
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, o: ProgramFlags & { json?: boolean } & KernelFlags) => {
      const config = await kernelConfig(o);
      const { prog, label } = readProgram(file, o, warn);
      const v = checkVerdict(prog, config);
      out(o.json ? `${JSON.stringify({ ...(o.expr !== undefined ? { expr: o.expr } : { file }), insns: prog.length, attach: verdictJson(v) })}\n` : `${label}: ${verdictText(prog, v)}\n`);
      state.code = v === null ? 0 : 1;
    });

  kernelOptions(programOptions(program.command('run')))
    .summary("the filter's result per packet, classic and kernel path, and what the socket does")
    .description(
      "the filter's result for each packet by the classic evaluator and the kernel path, the catalogued divergence that explains any difference, " +
        'and what the socket does (exit 0; 1 if the kernel rejects the program or the paths differ with no catalogued divergence to explain it)',
    )
    .argument('[file]', "program file ('-' for stdin)")
    .option('-p, --packet <hex>', 'a packet in hex (repeatable)', collect, [])
    .option('--pcap <file>', 'every packet of a pcap or pcapng file')
    .option('--skb <preset>', 'skb preset: af_unix, or ethernet (default: ethernet for Ethernet captures, else af_unix)')
    .option('--set <field=value>', 'set an skb field (repeatable; see README)', collect, [])
    .addOption(new Option('--path <path>', 'which evaluator: the classic one, the kernel path (migration + eBPF interpreter), or both').choices(PATH_NAMES as string[]).default('both'))
    .option('--trace', 'print every step (classic: pc, A, X; kernel: eBPF pc, r0, r7)')
    .option('--json', 'print JSON')
    .addHelpText('after', `\nskb fields for --set:\n${SKB_FIELDS.map(([n, d]) => `  ${n.padEnd(15)} ${d}`).join('\n')}\n`)
    .action(async (file: string | undefined, o: ProgramFlags & { packet: string[]; pcap?: string; skb?: string; set: string[]; trace?: boolean; json?: boolean; path: PathName } & KernelFlags) => {
      const config = await kernelConfig(o);
      if (o.packet.length === 0 && o.pcap === undefined) throw new InputError('run: give at least one --packet HEX or a --pcap FILE');
      const skb: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      if (o.skb !== undefined) skb.preset = o.skb;
      for (const s of o.set) {
        const [k, v] = parseSetting(s);
        skb[k] = v;
      }
      const { prog } = readProgram(file, o, warn);
      const { packets, capture } = collectPackets(o.packet, o.pcap);
      const warnings = capture ? captureWarnings(capture, packets.length - o.packet.length) : [];
      for (const w of warnings) warn(`bpfspec: warning: ${w}`);
      const res = runPackets(prog, packets, { config, skb: { ...skb }, trace: o.trace === true, path: o.path });
      if (o.json) {
        const j = runJson(res);
        out(`${JSON.stringify({ ...j, ...(capture ? { capture: { file: capture.file, format: capture.format, linktypes: capture.linktypes, cut: capture.cut } } : {}), warnings })}\n`);
      } else out(runText(prog, res, o.path, { capture: capture !== null }));
      state.code = runFailed(res, o.path) ? 1 : 0;
    });

  kernelOptions(programOptions(program.command('migrate')))
    .summary('the eBPF program bpf_convert_filter makes, under each classic instruction')
    .description('the eBPF program bpf_convert_filter makes, under each classic instruction, with stack depth, interpreter and attach verdict')
    .argument('[file]', "program file ('-' for stdin)")
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, o: ProgramFlags & { json?: boolean } & KernelFlags) => {
      const config = await kernelConfig(o);
      const { prog } = readProgram(file, o, warn);
      out(o.json ? `${JSON.stringify(migrateJson(prog, config))}\n` : migrateText(prog, config));
    });

  programOptions(program.command('fmt'))
    .description('convert a program between formats')
    .argument('[file]', "program file ('-' for stdin)")
    .requiredOption('-t, --to <format>', `output format (${FORMAT_NAMES.join(', ')})`)
    .option('-o, --output <file>', 'write to a file (atomically; a device or FIFO is written directly) instead of stdout')
    .option('--json', 'print {"from", "to", "insns", "output"} (binary output as hex)')
    .action((file: string | undefined, o: ProgramFlags & { to: string; output?: string; json?: boolean }) => {
      const to = checkFormatName(o.to, '--to')!;
      const endian = checkEndian(o.endian);
      const { prog, format, label } = readProgram(file, o, warn);
      const problem = checkExpressible(prog, to);
      if (problem !== null) warn(`bpfspec: warning: ${formatError(problem, label)} (not exactly expressible in ${to})`);
      emitProgram(printProgram(prog, to, { endian }), o, { from: format, to, insns: prog.length });
    });

  exprOptions(program.command('compile'))
    .summary('compile a tcpdump filter expression with the system libpcap')
    .description("compile a tcpdump filter expression with the system libpcap's pcap_compile (as tcpdump -ddd prints it by default)")
    .argument('<expression>', "the filter expression, e.g. 'tcp port 80'")
    .option('-t, --to <format>', `output format (${FORMAT_NAMES.join(', ')})`, 'tcpdump-ddd')
    .option('--endian <order>', 'byte order of raw and hex output: little (default) or big')
    .option('-o, --output <file>', 'write to a file (atomically; a device or FIFO is written directly) instead of stdout')
    .option('--json', 'print {"expr", "linktype", "snaplen", "optimize", "insns", "program", "output"}')
    .action((expr: string, o: { to: string; endian?: string; output?: string; json?: boolean; linktype?: string; snaplen?: string; optimize?: boolean }) => {
      const to = checkFormatName(o.to, '--to')!;
      const endian = checkEndian(o.endian);
      const opts = compileOptions(o);
      const c = compileExpression(expr, opts);
      if (!c.ok) throw new InputError(`compile ${JSON.stringify(clip(expr))}: ${c.error}`);
      emitProgram(printProgram(c.prog, to, { endian }), o, { expr, linktype: opts.linktype, snaplen: opts.snaplen, optimize: opts.optimize, insns: c.prog.length, program: c.prog });
    });

  kernelOptions(program.command('eval'))
    .summary('batch oracle: JSON lines in, one JSON result line out per input line')
    .description('batch oracle: JSON lines {"id","prog"|"expr","packet","skb"} on stdin, exactly one JSON result line per input line on stdout')
    .option('--json', 'JSON lines out (the only output format; accepted for uniformity)')
    .action(async (o: KernelFlags) => {
      const config = await kernelConfig(o);
      await runEval({ config }, io.stdin, (line) => out(`${line}\n`));
    });

  campaignFlags(kernelOptions(program.command('fuzz')), { workers: 'worker threads (default: all cores)', corpus: 'where findings are written', packets: '4' })
    .summary('equivalence campaign: classic evaluator vs kernel path')
    .description('equivalence campaign: classic evaluator vs kernel path on generated programs and packets (exit 0 clean, 1 on a finding)')
    .option('--shard <i/N|auto>', 'run shard i of N (split one campaign over N machines by seed space); auto: from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, JOB_COMPLETIONS) or a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT)')
    .option('--max-findings <n>', 'stop after n distinct finding signatures (1: the first bug, for bisecting)')
    .option('--judges <list>', 'judges besides the spec judges classic,kernel (always run): compiled-classic, compiled-ebpf, compiled (both), live (the running kernel, as kdiff), libpcap, dpdk, dpdk-jit, xnet (outside implementations, see bpfspec judges)')
    .option('--spec-check <share>', 'the engines run every case; the spec also checks 1 case in N (default 64), or all')
    .option('--coverage', 'report what the campaign reached (features, divergences, rules, model branch coverage); runs in one thread')
    .option('--json', 'print the summary as JSON')
    .option('--variant <name>', 'run against a historical bug reintroduced into the model (see bpfspec variants)')
    .addOption(new Option('--path <path>', 'socket (default) or seccomp (the seccomp campaign, fuzz/seccomp)').choices(CAMPAIGN_PATHS))
    .action(async (o: FuzzFlags & KernelFlags & { coverage?: boolean; path?: string }, cmd: Command) => {
      if (o.path === 'seccomp') {
        refuseSocketOnly(cmd, ['kernel', 'arch', 'optmemMax', 'loadHelpers', 'bpfProgHeader', 'shard', 'packetsPerProgram', 'coverage', 'variant', 'maxFindings']);
        checkOutputDir(o.corpus, '--corpus');
        return void (state.code = await runSeccompFuzzCli(o, out));
      }
      const { batched, sync } = parseJudges(o.judges);
      if (batched.length > 0) {
        if (o.coverage) throw new InputError(`--coverage runs in one thread with the spec judges; drop --judges ${batched.join(',')}`);
        if (o.shard !== undefined) throw new InputError(`--shard: not with judges asked in batches (${batched.join(',')})`);
        checkOutputDir(o.corpus, '--corpus');
        const res = await runBatched('fuzz', batched, sync, o, o, VERSION);
        out(o.json ? `${JSON.stringify(batchedJson(res))}\n` : batchedText(res));
        state.code = res.summary.findings.length > 0 ? 1 : 0;
        return;
      }
      const config = await kernelConfig(o);
      const opts = campaignOptions(o, config);
      if (o.coverage) {
        // the coverage campaign measures what a whole budget reaches: it neither writes findings nor stops at them
        if (cmd.getOptionValueSource('maxFindings') === 'cli') throw new InputError('--max-findings: not with --coverage (the coverage campaign runs its whole budget)');
        const r = await runCoverage({ ...opts, workers: 1 }, o.json === true);
        out(r.text);
        state.code = r.missed > 0 ? 1 : 0;
        return;
      }
      checkOutputDir(o.corpus, '--corpus');
      const res = await runFuzz(opts, o, VERSION);
      out(o.json ? `${JSON.stringify(summaryJson(res))}\n` : summaryText(res, config));
      state.code = res.summary.findings.length > 0 ? 1 : 0;
    });

  program
    .command('variants')
    .description('list the historical variants: kernel bugs the model can reintroduce (fuzz --variant NAME)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      out(o.json ? `${JSON.stringify({ variants: VARIANTS, notModelled: NOT_MODELLED })}\n` : variantsText());
    });

  program
    .command('replay')
    .description('re-run corpus entries and compare with what they recorded (exit 1 on any change; 2 if an entry is invalid: corrupt, a dangling link, a special file)')
    .argument('[paths...]', 'entry files or directories (default: the corpus this installation ships)')
    .option('--json', 'print JSON')
    .action(async (paths: string[], o: { json?: boolean }) => {
      const dirs = paths.length > 0 ? paths : [SHIPPED_CORPUS_DIR];
      const r = replay(dirs);
      // corpus entries judged by an outside implementation (#13): its side too, when it is installed
      const ext = await replayExternal(dirs);
      out(o.json ? `${JSON.stringify({ ...r, external: ext })}\n` : replayText(r) + replayExternalText(ext));
      // an invalid entry is bad input: one line on stderr, exit 2 (the report lists each one)
      if (r.invalid.length > 0) warn(`bpfspec: ${r.invalid.length} of ${r.files} entries invalid${o.json ? '' : ' (INVALID above)'}: ${r.invalid[0]}`);
      state.code = r.invalid.length > 0 ? 2 : r.changed.length + ext.changed.length > 0 ? 1 : 0;
    });

  campaignFlags(kernelOptions(program.command('kdiff')), { workers: 'lanes, each a campaign thread and an oracle process on its own CPU (default: one per two cores)', corpus: 'where mismatches are written', packets: '16' })
    .summary('the live Linux kernel as judge')
    .description('the live Linux kernel as judge: generated programs and packets through the model and SO_ATTACH_FILTER on an AF_UNIX socket pair (exit 1 on a mismatch)')
    .option('--confirmed <dir>', 'record the divergences this kernel confirmed in DIR/<release>.json (nothing is written without it)')
    .option('--max-findings <n>', 'stop after n distinct finding signatures')
    .option('--spec-check <share>', 'the engines answer for the spec on every case and the spec answers every mismatch again; the spec also checks 1 case in N (default 64), or all')
    .option('--json', 'print the summary as JSON')
    .addOption(new Option('--path <path>', 'socket (default) or seccomp (seccomp(2) in sandboxed children, oracle/seccomp)').choices(CAMPAIGN_PATHS))
    .action(async (o: KdiffFlags & KernelFlags & { path?: string }, cmd: Command) => {
      if (o.path === 'seccomp') {
        refuseSocketOnly(cmd, ['kernel', 'arch', 'optmemMax', 'loadHelpers', 'bpfProgHeader', 'packetsPerProgram', 'confirmed', 'maxFindings', 'specCheck']);
        checkOutputDir(o.corpus, '--corpus');
        return void (state.code = await runSeccompKdiffCli(o, out));
      }
      checkOutputDir(o.corpus, '--corpus');
      if (o.confirmed !== undefined) checkOutputDir(o.confirmed, '--confirmed');
      const res = await runKdiff(o, o, VERSION);
      out(o.json ? `${JSON.stringify(kdiffJson(res))}\n` : kdiffText(res));
      state.code = res.summary.findings.length > 0 ? 1 : 0;
    });

  // bpfspec judges (#13): every judge and whether it runs here; --campaign NAME against an outside implementation
  registerJudgesCommand(program, { out, version: VERSION });

  program
    .command('web')
    .description('serve the browser page (npm run build:web) on localhost: the model run in the page, classic and eBPF stepped side by side')
    .option('--port <n>', 'port (0: any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--dir <dir>', 'directory of a page built elsewhere (npm run build:web -- --out DIR)')
    .action(async (o: WebFlags) => {
      await runWeb(o, (line) => out(`${line}\n`));
    });

  const corpus = program.command('corpus').description('corpus maintenance: merge shard outputs, import real filters');
  corpus
    .command('merge')
    .description('merge corpus directories (e.g. shard outputs) into one, deduplicated by content hash and keeping the smallest finding per signature; with --summaries, also the shards\' fuzz --json summaries into one campaign summary (exit 2 if an entry was invalid and skipped)')
    .argument('<dirs...>', 'corpus directories to read')
    .option('-o, --output <dir>', 'directory to write', 'corpus/findings')
    .option('--summaries <files...>', 'the shards\' bpfspec fuzz --json outputs: merged into one campaign summary (after the directories)')
    .option('--json', 'print {"read", "written", "duplicates", "superseded", "invalid", "summary"}')
    .action((dirs: string[], o: { output: string; json?: boolean; summaries?: string[] }) => {
      // the summaries first: a bad one is refused before anything is written
      const summary = o.summaries === undefined ? null : mergeSummaries(o.summaries, o.summaries.map(readSummary));
      const r = mergeCorpora(dirs, o.output);
      if (o.json) out(`${JSON.stringify({ ...r, output: o.output, ...(summary ? { summary } : {}) })}\n`);
      else
        out(
          [...r.invalid.map((i) => `SKIPPED ${i}`), `${r.read} entries read, ${r.written} written to ${o.output}, ${r.duplicates} duplicates, ${r.superseded} superseded by a smaller case of their signature, ${r.invalid.length} invalid`].join('\n') +
            '\n' +
            (summary ? mergedSummaryText(summary) : ''),
        );
      // an invalid entry is bad input: one line on stderr, exit 2 (the valid ones are merged)
      if (r.invalid.length > 0) warn(`bpfspec: ${r.invalid.length} invalid entries skipped${o.json ? '' : ' (SKIPPED above)'}: ${r.invalid[0]}`);
      state.code = r.invalid.length > 0 ? 2 : 0;
    });

  kernelOptions(programOptions(corpus.command('import')))
    .description('turn programs (a program file, --expr, or a .jsonl of {"insns": [...]} lines) and packets into corpus entries')
    .argument('[file]', 'program file or .jsonl')
    .option('-p, --packet <hex>', 'a packet in hex (repeatable)', collect, [])
    .option('--pcap <file>', 'every packet of a pcap or pcapng file')
    .option('--skb <preset>', 'skb preset (default: ethernet for Ethernet captures, else af_unix)')
    .addOption(new Option('--kind <kind>', 'entry kind').choices(['real-filter', 'regression', 'historical']).default('real-filter'))
    .option('-o, --output <dir>', 'directory to write', 'corpus/real-filters')
    .option('--json', 'print {"programs", "packets", "created", "output", "files"}')
    .action(async (file: string | undefined, o: ProgramFlags & { packet: string[]; pcap?: string; skb?: string; kind: 'real-filter' | 'regression' | 'historical'; output: string; json?: boolean } & KernelFlags) => {
      const config = await kernelConfig(o);
      checkOutputDir(o.output, '-o');
      const progs =
        file !== undefined && file.endsWith('.jsonl') && o.expr === undefined
          ? readImportPrograms(file, Buffer.from(readInput(file, { what: 'a JSON-lines file', limit: CAPTURE_LIMIT })).toString('utf8'))
          : (() => {
              const p = readProgram(file, o, warn);
              return [{ title: p.format === 'expr' ? `tcpdump "${clip(o.expr!, 120)}"` : p.label, prog: p.prog }];
            })();
      const { packets } = collectPackets(o.packet, o.pcap);
      const inputs = packets.map((p) => {
        try {
          return buildSkb(p.data, { preset: o.skb ?? p.preset });
        } catch (e) {
          if (e instanceof SkbSpecError) throw new InputError(`${p.label}: ${e.message}`);
          throw e;
        }
      });
      ensureOutputDir(o.output, '-o');
      let created = 0;
      const files: string[] = [];
      for (const { title, prog } of progs) {
        const entry = makeEntry({
          kind: o.kind,
          title,
          prog,
          inputs,
          config,
          asm: String(printProgram(prog, checkExpressible(prog, 'bpf_asm') === null ? 'bpf_asm' : 'tcpdump-d')),
          origin: { bpfspec: VERSION, source: `bpfspec corpus import ${o.expr !== undefined ? `--expr ${JSON.stringify(clip(o.expr, 120))}` : file}` },
        });
        // a CorpusError (a special file in the way) is bad input: main() prints it as one line, exit 2
        const w = writeEntry(o.output, entry);
        files.push(w.path);
        if (w.created) created++;
      }
      out(
        o.json
          ? `${JSON.stringify({ programs: progs.length, packets: inputs.length, created, output: o.output, files })}\n`
          : `${progs.length} programs x ${inputs.length} packets: ${created} new entries in ${o.output}\n`,
      );
    });

  // seccomp (ws-seccomp): bpfspec seccomp check|run|explain|dump
  registerSeccomp(program, { out });

  program
    .command('help')
    .description('show the options of a command (bpfspec help COMMAND), or everything')
    .argument('[command...]', 'a command, e.g. run, or corpus merge')
    .action((names: string[]) => {
      let c: Command = program;
      for (const n of names) {
        const next = c.commands.find((x) => x.name() === n || x.aliases().includes(n));
        if (next === undefined) throw new InputError(`help: unknown command '${clip(names.join(' '))}' (bpfspec help lists them)`);
        c = next;
      }
      out(c.helpInformation());
    });

  // A command group (corpus, seccomp) without its subcommand, or with an unknown one: one line, not commander's help dump.
  const requireSubcommand = (c: Command): void => {
    for (const sub of c.commands) requireSubcommand(sub);
    if (c === program || c.commands.length === 0 || (c as unknown as { _actionHandler: unknown })._actionHandler) return;
    const name = commandPath(c);
    const names = c.commands.map((x) => x.name());
    c.argument('[subcommand]').action((sub: string | undefined) => {
      throw new InputError(
        sub === undefined ? `${name}: give a subcommand: ${names.join(', ')} (bpfspec help ${name})` : `${name}: unknown subcommand '${clip(sub)}' (${names.join(', ')})`,
      );
    });
  };
  requireSubcommand(program);

  // Commander's own errors (unknown option, missing argument, bad choice) as one line naming the command.
  const oneLineErrors = (c: Command): void => {
    const name = commandPath(c);
    c.configureOutput({ outputError: (s) => io.err(`bpfspec: ${name === '' ? '' : `${name}: `}${oneLine(clipQuoted(s))}\n`) });
    for (const sub of c.commands) oneLineErrors(sub);
  };
  oneLineErrors(program);
  return program;
}

/** Write errors of standard output (a full disk, /dev/full): one line and exit 2, not a stack. */
class OutputError extends Error {}

/** The process's streams, with write errors turned into OutputError. */
export const processIo: CliIo = {
  out: (s) => {
    try {
      process.stdout.write(s);
    } catch (e) {
      throw new OutputError(`standard output: ${(e as NodeJS.ErrnoException).code ?? ''} ${(e as Error).message}`.trim());
    }
  },
  err: (s) => {
    try {
      process.stderr.write(s);
    } catch {
      // nowhere left to report it
    }
  },
  stdin: process.stdin,
};

/** Run the command line `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const state: RunState = { code: 0 };
  const cli = buildCli(io, state);
  if (argv.length === 0) {
    io.out(shortUsage(cli));
    return 0;
  }
  // commands that set process.exitCode themselves (cli/commands/seccomp.ts) are honoured too
  const inherited = process.exitCode;
  process.exitCode = undefined;
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    const set = process.exitCode;
    return state.code !== 0 ? state.code : typeof set === 'number' ? set : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every usage error is exit 2 (outputError already printed one line)
      return e.exitCode === 0 ? 0 : 2;
    }
    // a corpus problem (CorpusError: a missing path, a corrupt entry) is bad input too
    if (e instanceof InputError || e instanceof SkbSpecError || e instanceof OutputError || e instanceof CorpusError) {
      io.err(`bpfspec: ${oneLine(e.message)}\n`);
      return 2;
    }
    const err = e as Error;
    io.err(`bpfspec: internal error: ${oneLine(String(err?.message ?? err))} (set BPFSPEC_DEBUG=1 for the stack)\n`);
    if (process.env.BPFSPEC_DEBUG) io.err(`${err?.stack}\n`);
    return 3;
  } finally {
    process.exitCode = inherited;
  }
}

/** Whether this module is the program node runs, directly or through the package's bin/bpfspec.js (not imported by a test). */
function isEntryPoint(): boolean {
  if (process.argv[1] === undefined) return false;
  let script: string;
  try {
    script = realpathSync(process.argv[1]);
  } catch {
    return false;
  }
  for (const own of [import.meta.url, new URL('../../bin/bpfspec.js', import.meta.url).href]) {
    try {
      if (script === realpathSync(fileURLToPath(own))) return true;
    } catch {
      // no such file (the bin shim outside a package)
    }
  }
  return false;
}

if (isEntryPoint()) {
  const codeOf = (e: NodeJS.ErrnoException): string => (e.code === 'ENOSPC' ? 'no space left on device' : `${e.code ?? ''} ${e.message}`.trim());
  // A closed pipe (`bpfspec ... | head`) ends the output quietly; any other write error is one line, exit 2.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    processIo.err(`bpfspec: standard output: ${codeOf(e)}\n`);
    process.exit(2);
  });
  process.stderr.on('error', () => process.exit(typeof process.exitCode === 'number' ? process.exitCode : 2));
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
