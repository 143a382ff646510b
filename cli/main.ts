#!/usr/bin/env node
// The `bpfspec` command.
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { NOT_MODELLED, VARIANTS } from '../model/variants.js';
import { kernelConfig, kernelOptions, type KernelFlags } from './kernel.js';
import { checkVerdict, verdictJson, verdictText } from './commands/check.js';
import { campaignOptions, parseJudges, runCoverage, runFuzz, summaryJson, summaryText, type FuzzFlags } from './commands/fuzz.js';
import { batchedJson, batchedText, kdiffJson, kdiffText, runBatched, runKdiff, type KdiffFlags } from './commands/kdiff.js';
import { mergeCorpora, readImportPrograms, replay, replayText } from './commands/replay.js';
import { makeEntry, writeEntry } from '../fuzz/corpus.js';
import { mkdirSync } from 'node:fs';
import { runEval } from './commands/eval.js';
import { migrateJson, migrateText } from './commands/migrate.js';
import { runWeb, type WebFlags } from './commands/web.js';
import { PATH_NAMES, runJson, runPackets, runText, type PathName, type RunPacket } from './commands/run.js';
import { checkExpressible, formatError, printProgram } from './formats/index.js';
import { InputError, readInput, writeOutputAtomic } from './io.js';
import { parseHexPacket, readPackets } from './packets/index.js';
import { checkEndian, checkFormatName, FORMAT_NAMES, loadProgram } from './program.js';
import { buildSkb, parseSetting, SKB_FIELDS, SkbSpecError } from './skbspec.js';
import { registerSeccomp } from './commands/seccomp.js';
import { runSeccompFuzzCli, runSeccompKdiffCli } from './commands/seccomp-fuzz.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const out = (s: string): void => {
  process.stdout.write(s);
};

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

function programOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', 'input format (detected when unambiguous)').choices(FORMAT_NAMES as string[]))
    .option('--endian <order>', 'byte order of raw program images (little or big)', 'little');
}

export function buildCli(): Command {
  const program = new Command('bpfspec')
    .description('Executable specification and equivalence fuzzer of the Linux v6.6 classic BPF socket-filter path')
    .version(VERSION)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  kernelOptions(programOptions(program.command('check')))
    .description("the kernel's verdict on a classic program (exit 0 accepted, 1 rejected, 2 bad input)")
    .argument('<file>', "program file ('-' for stdin)")
    .option('--json', 'print JSON')
    .action(async (file: string, o: { format?: string; endian?: string; json?: boolean } & KernelFlags) => {
      const config = await kernelConfig(o);
      const { prog } = loadProgram(file, checkFormatName(o.format, '--format'), checkEndian(o.endian));
      const v = checkVerdict(prog, config);
      out(o.json ? `${JSON.stringify({ file, insns: prog.length, attach: verdictJson(v) })}\n` : `${file}: ${verdictText(prog, v)}\n`);
      process.exitCode = v === null ? 0 : 1;
    });

  kernelOptions(programOptions(program.command('run')))
    .description("the filter's result for each packet (exit 0, or 1 if the program is rejected)")
    .argument('<file>', "program file ('-' for stdin)")
    .option('-p, --packet <hex>', 'a packet in hex (repeatable)', collect, [])
    .option('--pcap <file>', 'every packet of a pcap or pcapng file')
    .option('--skb <preset>', "skb preset: af_unix, or ethernet (default: ethernet for Ethernet captures, else af_unix)")
    .option('--set <field=value>', 'set an skb field (repeatable; see README)', collect, [])
    .addOption(new Option('--path <path>', 'which evaluator: the classic one, the kernel path (migration + eBPF interpreter), or both').choices(PATH_NAMES as string[]).default('both'))
    .option('--trace', 'print every step (classic: pc, A, X; kernel: eBPF pc, r0, r7)')
    .option('--json', 'print JSON')
    .addHelpText('after', `\nskb fields for --set:\n${SKB_FIELDS.map(([n, d]) => `  ${n.padEnd(15)} ${d}`).join('\n')}\n`)
    .action(async (file: string, o: { format?: string; endian?: string; packet: string[]; pcap?: string; skb?: string; set: string[]; trace?: boolean; json?: boolean; path: PathName } & KernelFlags) => {
      const config = await kernelConfig(o);
      const { prog } = loadProgram(file, checkFormatName(o.format, '--format'), checkEndian(o.endian));
      if (o.packet.length === 0 && o.pcap === undefined) throw new InputError('run: give at least one --packet HEX or a --pcap FILE');
      const packets = collectPackets(o.packet, o.pcap);
      const skb: Record<string, unknown> = {};
      if (o.skb !== undefined) skb.preset = o.skb;
      for (const s of o.set) {
        const [k, v] = parseSetting(s);
        skb[k] = v;
      }
      const res = runPackets(prog, packets, { config, skb, trace: o.trace === true, path: o.path });
      out(o.json ? `${JSON.stringify(runJson(res))}\n` : runText(prog, res, o.path));
      process.exitCode = (o.path === 'kernel' ? res.attach : res.check) === null ? 0 : 1;
    });

  kernelOptions(programOptions(program.command('migrate')))
    .description('the eBPF program bpf_convert_filter makes, under each classic instruction, with stack depth, interpreter and attach verdict')
    .argument('<file>', "program file ('-' for stdin)")
    .option('--json', 'print JSON')
    .action(async (file: string, o: { format?: string; endian?: string; json?: boolean } & KernelFlags) => {
      const config = await kernelConfig(o);
      const { prog } = loadProgram(file, checkFormatName(o.format, '--format'), checkEndian(o.endian));
      out(o.json ? `${JSON.stringify(migrateJson(prog, config))}\n` : migrateText(prog, config));
    });

  programOptions(program.command('fmt'))
    .description('convert a program between formats')
    .argument('<file>', "program file ('-' for stdin)")
    .requiredOption('-t, --to <format>', `output format (${FORMAT_NAMES.join(', ')})`)
    .option('-o, --output <file>', 'write to a file (atomically) instead of stdout')
    .option('--json', 'print {"from", "to", "insns", "output"} (binary output as hex)')
    .action((file: string, o: { format?: string; endian?: string; to: string; output?: string; json?: boolean }) => {
      const to = checkFormatName(o.to, '--to')!;
      const endian = checkEndian(o.endian);
      const { prog, format } = loadProgram(file, checkFormatName(o.format, '--format'), endian);
      const problem = checkExpressible(prog, to);
      if (problem !== null) process.stderr.write(`bpfspec: warning: ${formatError(problem, file)} (not exactly expressible in ${to})\n`);
      const text = printProgram(prog, to, { endian });
      if (o.output !== undefined) writeOutputAtomic(o.output, text);
      if (o.json) out(`${JSON.stringify({ from: format, to, insns: prog.length, ...(o.output !== undefined ? { file: o.output } : { output: typeof text === 'string' ? text : Buffer.from(text).toString('hex') }) })}\n`);
      else if (o.output === undefined) {
        if (typeof text === 'string') out(text);
        else process.stdout.write(text);
      }
    });

  kernelOptions(program.command('eval'))
    .description('batch oracle: JSON lines {"id","prog","packet","skb"} on stdin, one JSON result line each on stdout')
    .action(async (o: KernelFlags) => {
      const config = await kernelConfig(o);
      await runEval({ config }, process.stdin, (line) => out(`${line}\n`));
    });

  kernelOptions(program.command('fuzz'))
    .description('equivalence campaign: classic evaluator vs kernel path on generated programs and packets (exit 0 clean, 1 on a finding)')
    .option('--time <duration>', 'wall-clock budget, e.g. 60s, 5m, 1h (default 60s)')
    .option('--runs <n>', 'number of cases instead of a time budget')
    .option('--seed <n>', 'campaign seed (default: random, printed); the same seed gives the same campaign')
    .option('--workers <n>', 'worker threads (default: all cores)')
    .option('--shard <i/N>', 'run shard i of N (split one campaign over N machines by seed space)')
    .option('--corpus <dir>', 'where findings are written', 'corpus/findings')
    .option('--packets-per-program <n>', 'skbs each program runs on', '4')
    .option('--judges <list>', 'judges besides the spec judges classic,kernel (always run): compiled-classic, compiled-ebpf, compiled (both), live (the running kernel, as kdiff)')
    .option('--spec-check <share>', 'the engines run every case; the spec also checks 1 case in N (default 64), or all')
    .option('--coverage', 'report what the campaign reached (features, divergences, rules, model branch coverage); runs in one thread')
    .option('--json', 'print the summary as JSON')
    .option('--variant <name>', 'run against a historical bug reintroduced into the model (see bpfspec variants)')
    .option('--path <path>', 'socket (default) or seccomp (the seccomp campaign, fuzz/seccomp)')
    .action(async (o: FuzzFlags & KernelFlags & { coverage?: boolean; path?: string }) => {
      if (o.path !== undefined && o.path !== 'socket' && o.path !== 'seccomp') throw new InputError(`--path ${o.path}: socket or seccomp`);
      if (o.path === 'seccomp') return void (process.exitCode = await runSeccompFuzzCli(o));
      const batched = parseJudges(o.judges).batched;
      if (batched.length > 0) {
        if (o.coverage) throw new InputError(`--coverage runs in one thread with the spec judges; drop --judges ${batched.join(',')}`);
        if (o.shard !== undefined) throw new InputError(`--shard: not with judges asked in batches (${batched.join(',')})`);
        const res = await runBatched('fuzz', batched, parseJudges(o.judges).sync, o, o, VERSION);
        out(o.json ? `${JSON.stringify(batchedJson(res))}\n` : batchedText(res));
        process.exitCode = res.summary.findings.length > 0 ? 1 : 0;
        return;
      }
      const config = await kernelConfig(o);
      const opts = campaignOptions(o, config);
      if (o.coverage) {
        const r = await runCoverage({ ...opts, workers: 1 }, o.json === true);
        out(r.text);
        process.exitCode = r.missed > 0 ? 1 : 0;
        return;
      }
      const res = await runFuzz(opts, o, VERSION);
      out(o.json ? `${JSON.stringify(summaryJson(res))}\n` : summaryText(res, config));
      process.exitCode = res.summary.findings.length > 0 ? 1 : 0;
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
    .description('re-run corpus entries and compare with what they recorded (exit 1 on any change or invalid entry)')
    .argument('[paths...]', 'entry files or directories', ['corpus'])
    .option('--json', 'print JSON')
    .action((paths: string[], o: { json?: boolean }) => {
      const r = replay(paths);
      out(o.json ? `${JSON.stringify(r)}\n` : replayText(r));
      process.exitCode = r.changed.length + r.invalid.length > 0 ? 1 : 0;
    });

  kernelOptions(program.command('kdiff'))
    .description('the live Linux kernel as judge: generated programs and packets through the model and SO_ATTACH_FILTER on an AF_UNIX socket pair (exit 1 on a mismatch)')
    .option('--time <duration>', 'wall-clock budget, e.g. 60s, 10m (default 60s)')
    .option('--runs <n>', 'number of cases instead of a time budget')
    .option('--seed <n>', 'campaign seed (default: random, printed)')
    .option('--workers <n>', 'oracle processes, one per CPU (default: all cores)')
    .option('--corpus <dir>', 'where mismatches are written', 'corpus/findings')
    .option('--confirmed <dir>', 'record the divergences this kernel confirmed in DIR/<release>.json (nothing is written without it)')
    .option('--packets-per-program <n>', 'packets each program runs on', '16')
    .option('--json', 'print the summary as JSON')
    .option('--path <path>', 'socket (default) or seccomp (seccomp(2) in sandboxed children, oracle/seccomp)')
    .action(async (o: KdiffFlags & KernelFlags & { path?: string }) => {
      if (o.path !== undefined && o.path !== 'socket' && o.path !== 'seccomp') throw new InputError(`--path ${o.path}: socket or seccomp`);
      if (o.path === 'seccomp') return void (process.exitCode = await runSeccompKdiffCli(o));
      const res = await runKdiff(o, o, VERSION);
      out(o.json ? `${JSON.stringify(kdiffJson(res))}\n` : kdiffText(res));
      process.exitCode = res.summary.findings.length > 0 ? 1 : 0;
    });

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
    .description('merge corpus directories (e.g. shard outputs) into one, deduplicated by content hash')
    .argument('<dirs...>', 'corpus directories to read')
    .option('-o, --output <dir>', 'directory to write', 'corpus/findings')
    .action((dirs: string[], o: { output: string }) => {
      const r = mergeCorpora(dirs, o.output);
      for (const i of r.invalid) process.stderr.write(`bpfspec: skipped ${i}\n`);
      out(`${r.read} entries read, ${r.written} written to ${o.output}, ${r.duplicates} duplicates, ${r.invalid.length} invalid\n`);
      process.exitCode = r.invalid.length > 0 ? 1 : 0;
    });

  kernelOptions(programOptions(corpus.command('import')))
    .description('turn programs (a program file, or a .jsonl of {"insns": [...]} lines) and packets into corpus entries')
    .argument('<file>', 'program file or .jsonl')
    .option('-p, --packet <hex>', 'a packet in hex (repeatable)', collect, [])
    .option('--pcap <file>', 'every packet of a pcap or pcapng file')
    .option('--skb <preset>', 'skb preset (default: ethernet for Ethernet captures, else af_unix)')
    .option('--kind <kind>', 'entry kind: real-filter, regression or historical', 'real-filter')
    .option('-o, --output <dir>', 'directory to write', 'corpus/real-filters')
    .action(async (file: string, o: { format?: string; endian?: string; packet: string[]; pcap?: string; skb?: string; kind: string; output: string } & KernelFlags) => {
      const config = await kernelConfig(o);
      if (!['real-filter', 'regression', 'historical'].includes(o.kind)) throw new InputError(`--kind ${o.kind}: expected real-filter, regression or historical`);
      const text = Buffer.from(readInput(file)).toString('utf8');
      const progs = readImportPrograms(file, text, () => loadProgram(file, checkFormatName(o.format, '--format'), checkEndian(o.endian)).prog);
      const packets = collectPackets(o.packet, o.pcap);
      const inputs = packets.map((p) => buildSkb(p.data, { preset: o.skb ?? p.preset }));
      mkdirSync(o.output, { recursive: true });
      let created = 0;
      for (const { title, prog } of progs) {
        const entry = makeEntry({
          kind: o.kind as 'real-filter',
          title,
          prog,
          inputs,
          config,
          asm: String(printProgram(prog, checkExpressible(prog, 'bpf_asm') === null ? 'bpf_asm' : 'tcpdump-d')),
          origin: { bpfspec: VERSION, source: `bpfspec corpus import ${file}` },
        });
        if (writeEntry(o.output, entry).created) created++;
      }
      out(`${progs.length} programs x ${inputs.length} packets: ${created} new entries in ${o.output}\n`);
    });

  // seccomp (ws-seccomp): bpfspec seccomp check|run|explain|dump
  registerSeccomp(program);

  return program;
}

/** The packets of --packet and --pcap, labelled, with the preset their source implies. */
function collectPackets(hexes: readonly string[], pcap: string | undefined): RunPacket[] {
  const packets: RunPacket[] = [];
  hexes.forEach((h, i) => {
    const res = parseHexPacket(h);
    if (!res.ok) throw new InputError(`--packet ${i + 1}: ${res.error}`);
    packets.push({ data: res.data, label: `packet ${i + 1}`, preset: 'af_unix' });
  });
  if (pcap !== undefined) {
    const res = readPackets(readInput(pcap));
    if (!res.ok) throw new InputError(`${pcap}: ${res.error}`);
    for (const p of res.packets) packets.push({ data: p.data, label: `${pcap} #${p.index + 1}`, preset: p.linktype === 1 ? 'ethernet' : 'af_unix' });
  }
  return packets;
}

export async function main(argv: string[]): Promise<number> {
  const cli = buildCli();
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every usage error is exit 2 (commander already printed one line)
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof InputError || e instanceof SkbSpecError) {
      process.stderr.write(`bpfspec: ${e.message}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`bpfspec: internal error: ${err.message} (set BPFSPEC_DEBUG=1 for the stack)\n`);
    if (process.env.BPFSPEC_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 3;
  }
}

// A closed pipe (`bpfspec ... | head`) ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
