// The engine's kernel path (engine/kernel.ts: engine checker, converter, and the migrated program run
// on the skb itself, engine/ebpf/skbprog.ts) against the spec (model/attach.ts skAttachFilter,
// KernelRunner.run): the same verdict, and on every skb the same result, or BAIL exactly where the
// spec faults. The converter's own analysis of its plain programs (skbProgramOfConverted) against
// analyzeSkbProgram on every reachable pc.
import test from 'ava';
import { testProp } from '@fast-check/ava';
import { KernelRunner, skAttachFilter } from '../../model/attach.js';
import { STRICT_ALIGN_64, PROFILE_V6_6_Y, X86_64, type KernelConfig } from '../../model/kernel.js';
import { variantConfig } from '../../model/variants.js';
import { afUnixSkb, DEFAULT_ENV } from '../../model/skb.js';
import { ClassicColumns } from '../../engine/cbpf/program.js';
import { BAIL, EngineKernelPath } from '../../engine/kernel.js';
import { analyzeSkbProgram, OP_BAIL, OP_LD_CTX, OP_LD_DATA, OP_LD_DEV, OP_LD_STACK, OP_ST_STACK, SkbProgramBuffer, skbProgramOfConverted } from '../../engine/ebpf/skbprog.js';
import { EngineChecker } from '../../engine/cbpf/check.js';
import { EngineConverter } from '../../engine/migrate/convert.js';
import { campaignArbitrary } from '../../fuzz/campaign.js';
import { fuzzCase } from '../../fuzz/arb/index.js';

const CONFIGS: readonly (readonly [string, KernelConfig])[] = [
  ['x86-64 v6.6.0', X86_64],
  ['v6.6.y', PROFILE_V6_6_Y],
  ['strict-align', STRICT_ALIGN_64],
  ['big-endian bit-fields', { ...X86_64, littleEndian: false }],
  ['div-x-no-zero-guard', variantConfig(X86_64, 'div-x-no-zero-guard')],
  ['ld-abs-s16-offset', variantConfig(X86_64, 'ld-abs-s16-offset')],
  ['nlattr-nest-unsigned-len', variantConfig(X86_64, 'nlattr-nest-unsigned-len')],
  ['no-check-load-and-stores', variantConfig(X86_64, 'no-check-load-and-stores')],
];

for (const [name, config] of CONFIGS) {
  const engine = new EngineKernelPath(config);
  const spec = new KernelRunner(config);
  const cols = new ClassicColumns();
  const tally = { programs: 0, unsupported: 0, runs: 0, bails: 0 };
  testProp(
    `engine kernel path == spec (${name})`,
    [fuzzCase({ packetsPerProgram: 3, config })],
    (t, c) => {
      const want = skAttachFilter(c.prog, config);
      const got = engine.load(cols.load(c.prog));
      if (!('ok' in want)) return void t.deepEqual(got, want);
      t.is(got, null);
      tally.programs++;
      if (engine.unsupported !== null) tally.unsupported++;
      const compiled = engine.compile();
      if (engine.unsupported === null) t.not(compiled, null, 'every program the engine follows compiles');
      for (const input of c.inputs) {
        const w = spec.run(want, input.skb, input.env);
        const r = engine.run(input.skb, input.env);
        if (compiled !== null) t.is(engine.runCompiled(compiled, input.skb, input.env), r, 'compiled == SkbVm');
        tally.runs++;
        if (r === BAIL) {
          tally.bails++;
          if (engine.unsupported === null) t.not(spec.fault, null, `BAIL where the spec does not fault (spec ${w})`);
        } else {
          t.is(spec.fault, null, `the spec faults (${spec.fault?.kind}) where the engine answered ${r}`);
          t.is(r, w);
        }
      }
    },
    { numRuns: 400 },
  );
  test.after(`tally (${name})`, (t) => {
    t.log(`${name}: ${JSON.stringify(tally)}`);
    if (name === 'x86-64 v6.6.0') t.true(tally.unsupported <= tally.programs / 100, 'the engine takes the migrated programs of valid classic ones');
  });
}

test('BAIL on a NULL dev read, out-of-bucket stack reads and helper faults; the engine answers the rest', (t) => {
  const engine = new EngineKernelPath(X86_64);
  const cols = new ClassicColumns();
  // ld #7; ld [ifindex]; ret a: dev NULL exits with A (7) in the converted program (no fault)
  t.is(engine.load(cols.load([{ code: 0x00, jt: 0, jf: 0, k: 7 }, { code: 0x20, jt: 0, jf: 0, k: 0xfffff008 }, { code: 0x16, jt: 0, jf: 0, k: 0 }])), null);
  t.is(engine.unsupported, null);
  t.is(engine.run(afUnixSkb(new Uint8Array(4)), DEFAULT_ENV), 7);
  t.is(engine.run(afUnixSkb(new Uint8Array(4), { dev: { ifindex: 9, type: 1 } }), DEFAULT_ENV), 9);
  // a program that reads M[15] without writing it (the H1 variant's checker accepts it): outside the bucket
  const h1 = variantConfig(X86_64, 'no-check-load-and-stores');
  const e1 = new EngineKernelPath(h1);
  t.is(e1.load(cols.load([{ code: 0x02, jt: 0, jf: 0, k: 0 }, { code: 0x60, jt: 0, jf: 0, k: 15 }, { code: 0x16, jt: 0, jf: 0, k: 0 }])), null);
  t.is(e1.run(afUnixSkb(new Uint8Array(4)), DEFAULT_ENV), BAIL);
  // M[1] read before write inside the bucket: the stack poison, as the spec
  t.is(e1.load(cols.load([{ code: 0x02, jt: 0, jf: 0, k: 3 }, { code: 0x60, jt: 0, jf: 0, k: 1 }, { code: 0x16, jt: 0, jf: 0, k: 0 }])), null);
  t.is(e1.run(afUnixSkb(new Uint8Array(4)), DEFAULT_ENV), 0xcccccccc);
});

// skbProgramOfConverted == analyzeSkbProgram on the converter's plain programs: the analysis takes
// them, and on every pc it reaches the same opcode (pseudo-opcode) and aux; the same helpers and bucket.
for (const [name, config] of CONFIGS) {
  const checker = new EngineChecker();
  const conv = new EngineConverter(config);
  const cols = new ClassicColumns();
  const generic = new SkbProgramBuffer();
  const fused = new SkbProgramBuffer();
  const tally = { plain: 0, pcs: 0 };
  const compare = (t: { is(a: unknown, b: unknown, m?: string): void; true(a: boolean, m?: string): void; pass(): void; fail(m: string): void }, prog: Parameters<ClassicColumns['load']>[0]): void => {
    cols.load(prog);
    t.pass(); // the programs that are not plain, or not accepted, are not compared (the tally counts the others)
    if (checker.check(cols, config) !== null) return;
    const a = conv.attach(cols);
    if ('errno' in a || !conv.plain || conv.maxLoadWord * 4 > a.stackSize) return;
    const g = analyzeSkbProgram(a.insns, a.stackSize, generic);
    if (typeof g === 'string') return void t.fail(`the analysis does not take a plain program: ${g}`);
    const f = skbProgramOfConverted(a.insns, conv.fixes, conv.nfix, a.stackSize, conv.helperMask, fused);
    tally.plain++;
    t.is(f.len, g.len);
    t.is(f.stackWords, g.stackWords);
    // the helpers of every call (the analysis: of the calls it reaches; an unreachable call of
    // bpf_user_rnd_u32 only has the runs seed the prandom state for nothing)
    t.true(g.helpers.every((h) => f.helpers.includes(h)), 'helpers');
    for (let pc = 0; pc < g.len; pc++) {
      const gc = g.code[pc]!;
      if (gc === OP_BAIL && generic.states[pc] === -1) continue; // unreachable
      tally.pcs++;
      if (f.code[pc] !== gc) return void t.fail(`pc ${pc}: code ${f.code[pc]} != ${gc}`);
      const pseudo = gc === OP_LD_CTX || gc === OP_LD_DATA || gc === OP_LD_DEV || gc === OP_LD_STACK || gc === OP_ST_STACK;
      if (pseudo && f.aux[pc] !== g.aux[pc]) return void t.fail(`pc ${pc}: aux ${f.aux[pc]} != ${g.aux[pc]}`);
      if (f.dst[pc] !== g.dst[pc] || f.src[pc] !== g.src[pc] || f.off[pc] !== g.off[pc] || f.imm[pc] !== g.imm[pc]) return void t.fail(`pc ${pc}: fields differ`);
    }
  };
  testProp(`skbProgramOfConverted == analyzeSkbProgram on plain programs (${name})`, [fuzzCase({ packetsPerProgram: 1, config })], (t, c) => compare(t, c.prog), { numRuns: 300 });
  testProp(`skbProgramOfConverted == analyzeSkbProgram on campaign programs (${name})`, [campaignArbitrary(1, config)], (t, c) => compare(t, 'valid' in c ? c.valid.prog : c.invalid.prog), { numRuns: 300 });
  test.after(`plain tally (${name})`, (t) => {
    t.log(`${name}: ${JSON.stringify(tally)}`);
    t.true(tally.plain >= 100, 'most programs are plain');
  });
}
