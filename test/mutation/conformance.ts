// Part of the mutation test command (./run.ts): the bpf_conformance eBPF ISA suite
// (../shared/conformance/bpf_conformance/*.data) through the interpreter model, with the runner
// semantics of test/conformance/bpf_conformance.test.ts (r1 = the "-- mem" bytes, r2 = their length,
// a 512-byte stack, "-- result" = the full 64-bit r0) and its exclusion list (each excluded file must
// give the predicted fault). Uses the parser, assembler and exclusions of test/conformance/.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EbpfVm, compileEbpf, type CompiledEbpf } from '../../model/ebpf/interp.js';
import { Memory } from '../../model/ebpf/memory.js';
import { assemble, parseDataFile, type ConformanceCase } from '../conformance/bpf_conformance_asm.js';
import { EBPF_EXCLUSIONS } from '../conformance/ebpf_exclusions.js';

/** A directory under ../shared, looked up from `from` upwards (Stryker runs in .stryker-tmp/<sandbox>). */
export function findShared(rel: string, from: string = process.cwd()): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const f = join(dir, 'shared', rel);
    if (existsSync(f)) return f;
    if (dirname(dir) === dir) return null;
  }
}

interface Loaded {
  readonly c: ConformanceCase;
  readonly prog: CompiledEbpf;
}

/** Parse and assemble every .data file of the suite (once per process). */
export function loadConformance(dir: string): Loaded[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.data'))
    .sort()
    .map((f) => {
      const c = parseDataFile(f, readFileSync(join(dir, f), 'utf8'));
      return { c, prog: compileEbpf(assemble(c.asm)) };
    });
}

/**
 * Run every file; returns the number checked, or calls fail on the first mismatch. `fail` must not
 * return. Throws from the model (API misuse) count as failures too.
 */
export function conformance(fail: (msg: string) => never): number {
  const dir = findShared(join('conformance', 'bpf_conformance'));
  if (dir === null) {
    process.stderr.write('mutation check: ../shared/conformance/bpf_conformance not found: skipped\n');
    return 0;
  }
  const cases = loadConformance(dir);
  if (cases.length === 0) fail('bpf_conformance: no .data files');
  const excluded = new Map(EBPF_EXCLUSIONS.map((e) => [e.file, e.fault]));
  const mem = new Memory(512);
  const region = mem.addRegion('mem', 4096, true);
  const vm = new EbpfVm(mem, new Map(), { stepBudget: 1 << 16 });
  let n = 0;
  for (const { c, prog } of cases) {
    let fault: string | null;
    let r0: bigint;
    try {
      region.setBytes(c.mem);
      vm.runArgs(prog, [region.addr(0), BigInt(c.mem.length)], 512);
      fault = vm.fault?.kind ?? null;
      r0 = vm.r0();
    } catch (e) {
      return fail(`bpf_conformance ${c.name}: threw ${(e as Error).message}`);
    }
    const ex = excluded.get(c.name);
    if (ex !== undefined) {
      if (fault !== ex) fail(`bpf_conformance ${c.name}: fault ${fault}, want ${ex}`);
    } else if (c.result === null) fail(`bpf_conformance ${c.name}: no -- result`);
    else if (fault !== null || r0 !== c.result) fail(`bpf_conformance ${c.name}: fault ${fault} r0 0x${r0.toString(16)}, want 0x${c.result.toString(16)}`);
    n++;
  }
  return n;
}
