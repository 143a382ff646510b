// The long hostile-input run (not in CI): the generators of the CI suite, many more inputs, in this
// process. `npm run test:hostile -- --inputs 100000 --seed 7` runs at least 100,000 inputs (eval
// lines count one each), prints the counts per entry point (runs, inputs, exit codes, the slowest
// run) and exits 1 if any outcome broke a rule of test/hostile/harness.ts, printing the first ones.
// `--weights eval=16` changes an entry point's share of the runs (25 runs per unit per round).
import fc from 'fast-check';
import { compileMissing } from '../../cli/compile/index.js';
import { ENTRY_POINTS, inputsOf, runScenario, scenarioArb, Workspace, type EntryPoint } from './harness.js';

interface Counts {
  runs: number;
  inputs: number;
  exit: [number, number, number];
  violations: number;
  maxMs: number;
  totalMs: number;
}

/** Share of the runs per entry point (expr spawns libpcap's helper: fewer). */
const WEIGHT: Readonly<Record<EntryPoint, number>> = {
  format: 6,
  capture: 4,
  'corpus-entry': 3,
  'corpus-import': 2,
  eval: 1,
  'packet-hex': 2,
  skb: 3,
  flags: 6,
  expr: 1,
};

/** `--weights eval=16,flags=8`: the weights of the named entry points instead of WEIGHT's. */
function weights(): Readonly<Record<EntryPoint, number>> {
  const i = process.argv.indexOf('--weights');
  if (i < 0) return WEIGHT;
  const w: Record<EntryPoint, number> = { ...WEIGHT };
  for (const part of (process.argv[i + 1] ?? '').split(',')) {
    const [name, value] = part.split('=');
    if (!(ENTRY_POINTS as readonly string[]).includes(name ?? '') || !/^\d{1,4}$/.test(value ?? '')) throw new Error(`--weights: expected ENTRY=N,... with ENTRY one of ${ENTRY_POINTS.join(', ')}`);
    w[name as EntryPoint] = Number(value);
  }
  return w;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v)) throw new Error(`${name}: expected an integer`);
  return v;
}

async function main(): Promise<number> {
  const target = arg('--inputs', 100_000);
  const seed = arg('--seed', Date.now() % 2 ** 31);
  const weight = weights();
  const exprOk = compileMissing() === null;
  const entries = ENTRY_POINTS.filter((e) => e !== 'expr' || exprOk);
  const counts = new Map<EntryPoint, Counts>(entries.map((e) => [e, { runs: 0, inputs: 0, exit: [0, 0, 0], violations: 0, maxMs: 0, totalMs: 0 }]));
  const failures: string[] = [];
  const ws = new Workspace();
  const t0 = performance.now();
  let total = 0;
  let round = 0;
  process.stderr.write(`hostile long run: seed ${seed}, at least ${target} inputs, entry points ${entries.map((e) => `${e}x${weight[e]}`).join(', ')}${exprOk ? '' : ' (expr skipped: no libpcap-dev)'}\n`);
  try {
    while (total < target) {
      for (const [i, entry] of entries.entries()) {
        const batch = fc.sample(scenarioArb(entry), { numRuns: weight[entry] * 25, seed: seed + round * 1000 + i });
        for (const s of batch) {
          const { result, violations, args } = await runScenario(ws, s);
          const c = counts.get(entry)!;
          c.runs++;
          c.inputs += inputsOf(s);
          total += inputsOf(s);
          if (result.code >= 0 && result.code <= 2) c.exit[result.code as 0 | 1 | 2]++;
          c.maxMs = Math.max(c.maxMs, result.ms);
          c.totalMs += result.ms;
          if (violations.length > 0) {
            c.violations++;
            if (failures.length < 20) failures.push(`${entry}: ${violations.join('; ')}\n  args ${JSON.stringify(args).slice(0, 400)}\n  stderr ${JSON.stringify(result.stderr.slice(0, 400))}`);
          }
        }
      }
      round++;
      process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)}s] ${total} inputs, ${failures.length} failures\n`);
    }
  } finally {
    ws.dispose();
  }
  const secs = (performance.now() - t0) / 1000;
  const lines = [
    `seed ${seed}: ${total} inputs in ${secs.toFixed(0)} s`,
    `${'entry point'.padEnd(14)} ${'runs'.padStart(7)} ${'inputs'.padStart(7)} ${'exit 0'.padStart(7)} ${'exit 1'.padStart(7)} ${'exit 2'.padStart(7)} ${'broken'.padStart(7)} ${'mean ms'.padStart(8)} ${'max ms'.padStart(8)}`,
  ];
  for (const [e, c] of counts)
    lines.push(
      `${e.padEnd(14)} ${String(c.runs).padStart(7)} ${String(c.inputs).padStart(7)} ${String(c.exit[0]).padStart(7)} ${String(c.exit[1]).padStart(7)} ${String(c.exit[2]).padStart(7)} ${String(c.violations).padStart(7)} ${(c.totalMs / Math.max(c.runs, 1)).toFixed(1).padStart(8)} ${c.maxMs.toFixed(0).padStart(8)}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const f of failures) process.stdout.write(`BROKEN ${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`hostile long run: ${(e as Error).stack}\n`);
    process.exitCode = 3;
  },
);
