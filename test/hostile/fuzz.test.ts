// The hostile-input suite (bounded, for CI): random and near-valid inputs for every entry point of the
// bpfspec command, run in this process through main(), and a sample run as real processes. Every
// outcome must keep the rules of test/hostile/harness.ts (exit 0, 1 or 2, never 3; one line on
// exit 2; no stack; eval answers every line; a bounded time). The long run of the same generators
// is test/hostile/longrun.ts (`npm run test:hostile`).
import test from 'ava';
import fc from 'fast-check';
import { compileMissing } from '../../cli/compile/index.js';
import { runCli } from '../cli/_run.js';
import { ENTRY_POINTS, runScenario, scenarioArb, spawnScenario, Workspace, type EntryPoint, type Scenario } from './harness.js';

/** Runs per entry point in CI (a fixed seed each, so that CI is deterministic). */
const RUNS: Readonly<Record<EntryPoint, number>> = {
  format: 300,
  capture: 200,
  'corpus-entry': 150,
  'corpus-import': 100,
  eval: 120,
  'packet-hex': 80,
  skb: 150,
  flags: 300,
  expr: 40,
};

const ws = new Workspace();
test.after.always(() => ws.dispose());

const exprMissing = compileMissing();

/**
 * `bpfspec judges` builds every outside implementation's helper on its first use (into the cache):
 * built once here, before the flags runs, so that the per-run bound measures the command, not the
 * build.
 */
async function warmUp(entry: EntryPoint): Promise<void> {
  if (entry === 'flags') await runCli(['judges']);
}

for (const [i, entry] of ENTRY_POINTS.entries()) {
  const title = `hostile inputs: ${entry} (${RUNS[entry]} runs in process)`;
  const body = async (t: import('ava').ExecutionContext): Promise<void> => {
    let runs = 0;
    await warmUp(entry);
    await fc.assert(
      fc.asyncProperty(scenarioArb(entry), async (s) => {
        runs++;
        const { violations, args, result } = await runScenario(ws, s);
        if (violations.length > 0) throw new Error(`${violations.join('; ')}\nargs: ${JSON.stringify(args).slice(0, 2000)}\nexit ${result.code}\nstderr: ${result.stderr.slice(0, 2000)}`);
      }),
      { numRuns: RUNS[entry], seed: 1000 + i, endOnFailure: true, includeErrorInReport: true },
    );
    t.true(runs >= RUNS[entry]);
  };
  if (entry === 'expr' && exprMissing !== null) test.skip(`${title} [skipped: needs ${exprMissing}]`, body);
  else test(title, body);
}

test('hostile inputs: a sample as real processes gives the same exit code and stderr as in process', async (t) => {
  const sample: Scenario[] = [];
  let checked = 0;
  for (const [i, entry] of ENTRY_POINTS.entries()) {
    if (entry === 'expr' && exprMissing !== null) continue;
    sample.push(...fc.sample(scenarioArb(entry), { numRuns: 2, seed: 2000 + i }));
  }
  // Linux refuses a single argument over 128 KiB (MAX_ARG_STRLEN): such scenarios run in process only
  for (const s of sample.filter((x) => x.args.every((a) => a.length < 100_000))) {
    const spawned = spawnScenario(ws, s);
    t.deepEqual(spawned.violations, [], `${JSON.stringify(spawned.args).slice(0, 300)}: ${spawned.result.stderr.slice(0, 500)}`);
    const inProcess = await runScenario(ws, s);
    // the scenario's directory differs between the runs: compare with it taken out
    const strip = (text: string, args: readonly string[]): string => {
      const dir = args.find((a) => a.includes('bpfspec-hostile-'))?.replace(/(\/s\d+).*$/, '$1');
      return dir ? text.split(dir).join('DIR') : text;
    };
    t.is(spawned.result.code, inProcess.result.code, JSON.stringify(s.args).slice(0, 300));
    t.is(strip(spawned.result.stderr, spawned.args), strip(inProcess.result.stderr, inProcess.args), JSON.stringify(s.args).slice(0, 300));
    checked++;
  }
  t.true(checked >= 12);
});
