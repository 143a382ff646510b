// Where a campaign's CPU goes, by class of case (#11): the campaign's own cases (fuzz/genome.ts
// makeGenome on consecutive seeds, the case mix of every campaign), each decoded (decodeCase) and
// checked (fuzz/campaign.ts checkCase with the campaign's Checker: the engines on every case, the
// spec on one case in 64) and timed by itself. Per class of case (a valid program's flavour, or an
// invalid program): its share of the cases, the mean µs to decode one and to check one the spec does
// not check, and its share of all the time; then the share of all the time the spec's checks take
// (the sampled cases' time beyond an unsampled case's of their class).
// Usage: node dist/bench/classes.js [--cases N] [--packets P] [--seed S] [--json]
// Wall-clock time per case (process.hrtime): run it on a quiet machine, or under `nice -n 10` and
// trust the shares more than the µs. It runs under the campaign threads' V8 flags (fuzz/pool.ts
// CAMPAIGN_V8_FLAGS), as bench/run.ts does: started without them, it runs itself again under them.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { X86_64 } from '../model/config.js';
import { CAMPAIGN_V8_FLAGS } from '../fuzz/pool.js';
import { campaignChecker, checkCase } from '../fuzz/campaign.js';
import { decodeCase, genomeClass, makeGenome, SplitMix32 } from '../fuzz/genome.js';

interface ClassRow {
  readonly class: string;
  /** share of the cases (%) */
  readonly cases: number;
  /** µs per case: decodeCase, and checkCase on the cases the spec did not check */
  readonly decodeUs: number;
  readonly checkUs: number;
  /** share of all the time (decode and check, sampled cases included) (%) */
  readonly time: number;
  /** share of all the time the spec's checks of this class's sampled cases take beyond an unsampled case's (%) */
  readonly spec: number;
}

interface Acc {
  n: number;
  decodeNs: number;
  /** check time of the cases the spec did not check, and their count */
  plainNs: number;
  plain: number;
  /** check time of the cases the spec checked, and their count */
  sampledNs: number;
  sampled: number;
}

function run(n: number, packets: number, seed: number, warm: number): { rows: ClassRow[]; specShare: number; usPerCase: number } {
  const checker = campaignChecker({ config: X86_64, engine: true });
  const acc = new Map<string, Acc>();
  for (let i = -warm; i < n; i++) {
    const g = makeGenome(new SplitMix32(seed + i), packets);
    const cls = genomeClass(g.prog[0]!);
    const key = 'valid' in cls ? cls.valid : 'invalid';
    const t0 = process.hrtime.bigint();
    const c = decodeCase(g, X86_64);
    const t1 = process.hrtime.bigint();
    const before = checker.specChecked;
    const f = checkCase(checker, c);
    const t2 = process.hrtime.bigint();
    if (f !== null) throw new Error(`bench/classes: case ${seed + i} is a finding (${f.property}: ${f.message}); run it with bpfspec fuzz`);
    if (i < 0) continue;
    let a = acc.get(key);
    if (a === undefined) acc.set(key, (a = { n: 0, decodeNs: 0, plainNs: 0, plain: 0, sampledNs: 0, sampled: 0 }));
    a.n++;
    a.decodeNs += Number(t1 - t0);
    if (checker.specChecked !== before) {
      a.sampledNs += Number(t2 - t1);
      a.sampled++;
    } else {
      a.plainNs += Number(t2 - t1);
      a.plain++;
    }
  }
  let total = 0;
  let spec = 0;
  for (const a of acc.values()) {
    total += a.decodeNs + a.plainNs + a.sampledNs;
    spec += specNs(a);
  }
  const rows = [...acc]
    .map(([k, a]) => ({
      class: k,
      cases: round((100 * a.n) / n, 2),
      decodeUs: round(a.decodeNs / a.n / 1000, 2),
      checkUs: round(a.plain === 0 ? 0 : a.plainNs / a.plain / 1000, 2),
      time: round((100 * (a.decodeNs + a.plainNs + a.sampledNs)) / total, 1),
      spec: round((100 * specNs(a)) / total, 1),
    }))
    .sort((x, y) => y.time - x.time);
  return { rows, specShare: round((100 * spec) / total, 1), usPerCase: round(total / n / 1000, 2) };
}

/** what a class's sampled cases took beyond as many unsampled ones of the class */
const specNs = (a: Acc): number => (a.plain > 0 ? Math.max(0, a.sampledNs - (a.sampled * a.plainNs) / a.plain) : 0);

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

function main(argv: readonly string[]): void {
  const bad = (what: string): never => {
    process.stderr.write(`bpfspec: bench/classes: ${what} (usage: node dist/bench/classes.js [--cases N] [--packets P] [--seed S] [--json])\n`);
    process.exit(2);
  };
  const known = new Set(['--cases', '--packets', '--seed']);
  const opts = new Map<string, number>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') continue;
    if (!known.has(a)) bad(`unknown argument '${a}'`);
    const v = argv[++i];
    const x = Number(v);
    if (v === undefined || !/^[0-9]+$/.test(v) || !Number.isSafeInteger(x) || x < (a === '--seed' ? 0 : 1)) bad(`${a} takes a ${a === '--seed' ? 'non-negative' : 'positive'} integer`);
    opts.set(a, x);
  }
  const n = opts.get('--cases') ?? 200_000;
  const packets = opts.get('--packets') ?? 1;
  const seed = opts.get('--seed') ?? 1;
  const r = run(n, packets, seed, Math.min(50_000, n));
  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ cases: n, packets, seed, ...r }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${n} cases of the campaign's mix, ${packets} packet(s) per program: ${r.usPerCase} µs per case (decode and check)\n`);
  process.stdout.write('class       cases %  decode µs  check µs  time %  of it spec %\n');
  for (const x of r.rows) process.stdout.write(`${x.class.padEnd(10)} ${x.cases.toFixed(2).padStart(8)} ${x.decodeUs.toFixed(2).padStart(10)} ${x.checkUs.toFixed(2).padStart(9)} ${x.time.toFixed(1).padStart(7)} ${x.spec.toFixed(1).padStart(12)}\n`);
  process.stdout.write(`the spec's checks (1 case in 64): ${r.specShare}% of the time\n`);
}

if (CAMPAIGN_V8_FLAGS.every((f) => process.execArgv.includes(f))) main(process.argv.slice(2));
else {
  const r = spawnSync(process.execPath, [...process.execArgv, ...CAMPAIGN_V8_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
