// The reference view's data: the model's citations, read at build time; the build refuses a citation
// that names no function or a file the model does not know.
import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KERNEL_FILES, kernelRef, resolveKernelFile, TREE_COMMIT } from '../../web/app/kernel-tree.js';
import { readCitations, WebBuildError } from '../../web/build/build.js';
import { extractCitations, splitName } from '../../web/build/citations.js';
import { projectRoot } from '../_shared.js';

const cite = (text: string, path = 'model/x.ts', known: readonly string[] = ['model/x.ts', 'model/flow.ts']) => extractCitations([{ path, text }], new Set(known));

test('the model: every citation resolves, and the main functions of the path are listed', (t) => {
  const c = readCitations(projectRoot);
  t.deepEqual(c.errors, []);
  t.is(c.treeId, TREE_COMMIT.slice(0, 12));
  const byModel = new Map(c.entries.map((e) => [e.modelName, e]));
  for (const [model, kernel, file] of [
    ['bpfCheckClassic', 'bpf_check_classic', 'net/core/filter.c'],
    ['checkLoadAndStores', 'check_load_and_stores', 'net/core/filter.c'],
    ['skAttachFilter', 'sk_attach_filter', 'net/core/filter.c'],
    ['bpfConvertFilterCall', 'bpf_convert_filter', 'net/core/filter.c'],
    ['convertBpfExtensions', 'convert_bpf_extensions', 'net/core/filter.c'],
    ['convertBpfLdAbs', 'convert_bpf_ld_abs', 'net/core/filter.c'],
    ['__skFilterCharge', '__sk_filter_charge', 'net/core/filter.c'],
    ['bpfInternalLoadPointerNegHelper', 'bpf_internal_load_pointer_neg_helper', 'kernel/bpf/core.c'],
    ['EbpfVm.bpfProgRunInsns', '___bpf_prog_run(regs, insn)', 'kernel/bpf/core.c'],
    ['ClassicVm.run', 'sk_run_filter', 'net/core/filter.c'],
  ] as const) {
    const e = byModel.get(model);
    t.truthy(e, `${model} is in the reference`);
    t.is(e!.kernelName, kernel, model);
    t.is(e!.kernelFile.path, file, model);
    t.true(e!.kernelLine > 0 && e!.modelLine > e!.citeLine, model);
  }
  // every function or method cited names its kernel function
  for (const e of c.entries) if (e.kind === 'function' || e.kind === 'method') t.not(e.kernelName, '', `${e.modelFile}:${e.citeLine}`);
  // the known files are exactly those the model cites (no dead entries)
  const cited = new Set(c.entries.map((e) => e.kernelFile.path).concat());
  for (const f of KERNEL_FILES) t.true(cited.has(f.path), `${f.path} is cited by some model declaration`);
});

test('citations: the declaration a citation heads, its names and lines', (t) => {
  const c = cite(
    [
      '// net/core/filter.c:1065 bpf_check_classic',
      '/** The checker. */',
      'export function bpfCheckClassic(prog: Program): null {',
      '  // F:1090 an inline note',
      '  return null;',
      '}',
      'export class Vm {',
      '  /** kernel/bpf/core.c:1680 ___bpf_prog_run(regs, insn) */',
      '  private exec(p: number): number {',
      '    return p;',
      '  }',
      '}',
      '/** include/linux/filter.h:90 */',
      'export const MAX_BPF_STACK = 512;',
      '// kernel/bpf/core.c:1816-1909 ALU(64)_DIV/MOD_X/K: bodies (see model/flow.ts)',
      'export const div = (a: number): number => a;',
    ].join('\n'),
  );
  t.deepEqual(c.errors, []);
  t.is(c.inline, 1);
  t.deepEqual(
    c.entries.map((e) => [e.modelName, e.kind, e.modelLine, e.kernelFile.path, e.kernelLine, e.kernelLineAs, e.kernelName]),
    [
      ['bpfCheckClassic', 'function', 3, 'net/core/filter.c', 1065, '1065', 'bpf_check_classic'],
      ['Vm.exec', 'method', 9, 'kernel/bpf/core.c', 1680, '1680', '___bpf_prog_run(regs, insn)'],
      ['MAX_BPF_STACK', 'constant', 14, 'include/linux/filter.h', 90, '90', ''],
      ['div', 'function', 16, 'kernel/bpf/core.c', 1816, '1816-1909', 'ALU(64)_DIV/MOD_X/K'],
    ],
  );
});

test('citations: the build refuses a file the model does not know, a function without a kernel name, a missing model file', (t) => {
  const unknownFile = cite('// net/core/dev.c:12 sk_alloc\nexport function skAlloc(): void {}\n');
  t.is(unknownFile.errors.length, 1);
  t.regex(unknownFile.errors[0]!.message, /net\/core\/dev\.c:12: a kernel file the model does not know/);
  const noName = cite('// net/core/filter.c:595 the prologue\nfunction prologue(): void {}\n');
  t.is(noName.errors.length, 1);
  t.regex(noName.errors[0]!.message, /heads prologue but names no kernel function/);
  t.is(noName.errors[0]!.line, 1);
  const badRef = cite('// net/core/filter.c:165 bpf_skb_get_pay_offset (model/nope.ts)\nexport const f = (): number => 0;\n');
  t.regex(badRef.errors[0]!.message, /model\/nope\.ts, which is not a model file/);
  // a constant may cite without a name; prose is not a name
  t.deepEqual(cite('// include/uapi/linux/filter.h:58 scratch memory words\nexport const BPF_MEMWORDS = 16;\n').errors, []);
  t.deepEqual(cite('// include/uapi/linux/audit.h:388-443 (as u32)\nexport const AUDIT_ARCH_X86_64 = (EM_X86_64 | AUDIT_ARCH_64BIT) >>> 0; // 0xc000003e\n').errors, [], 'a parenthesised constant is no function');
  const multi = cite('// kernel/bpf/core.c:2803 bpf_user_rnd_u32\nexport const rnd = (\n  env: Env,\n): number => 0;\n');
  t.is(multi.entries[0]!.kind, 'function', 'an arrow function over several lines');
  t.is(cite('// include/uapi/linux/filter.h:58 scratch memory words\nexport const BPF_MEMWORDS = 16;\n').entries[0]!.kernelName, '');

  // and the build itself fails on such a model, naming file and line
  const root = mkdtempSync(join(tmpdir(), 'bpfspec-cite-'));
  mkdirSync(join(root, 'model'));
  writeFileSync(join(root, 'model', 'a.ts'), '// kernel/bpf/verifier.c:100 do_check\nexport function doCheck(): void {}\n');
  const e = t.throws(() => readCitations(root), { instanceOf: WebBuildError });
  t.regex(e!.message, /model\/a\.ts:1: citation of kernel\/bpf\/verifier\.c:100: a kernel file the model does not know/);
  writeFileSync(join(root, 'model', 'a.ts'), '// 6.6.y tree eclipse-oniro-mirrors/kernel_linux_6.6\n// @ 0123456789ab; line numbers are that tree\'s\n');
  t.throws(() => readCitations(root), { instanceOf: WebBuildError, message: /kernel_linux_6\.6 @ 0123456789ab, but the page links/ });
  writeFileSync(join(root, 'model', 'a.ts'), '// nothing about the tree\n');
  t.throws(() => readCitations(root), { instanceOf: WebBuildError, message: /no header names the tree/ });
});

test('citations: kernel names and prose', (t) => {
  const name = (s: string): string => splitName(s).kernelName;
  t.is(name('bpf_check_classic'), 'bpf_check_classic');
  t.is(name('ALU(ADD, +) 64-bit: DST = DST + B'), 'ALU(ADD, +)');
  t.is(name('SHT(LSH, <<) 64-bit: DST = DST << n'), 'SHT(LSH, <<)');
  t.is(name('SHT(RSH, >>) 64-bit'), 'SHT(RSH, >>)');
  t.is(name('__bpf_prog_run<stackSize>(ctx, insn): zeroed registers'), '__bpf_prog_run<stackSize>(ctx, insn)');
  t.is(name('bpf_skb_load_helper_{8,16,32}, 6.6.y (backport) body'), 'bpf_skb_load_helper_{8,16,32}');
  t.is(name('struct sock_filter { __u16 code; }'), 'struct sock_filter');
  t.is(name('LDST: (unsigned long) (DST + insn->off)'), 'LDST');
  t.is(name('bpf_skb_get_nlattr_nest). Returns the new A'), 'bpf_skb_get_nlattr_nest');
  for (const prose of ['the conditional jumps', 'registers; include/linux/filter.h:46', 'eBPF-only classes', 'kernel-internal opcodes', '']) t.is(name(prose), '', prose);
});

test('kernel references: files, abbreviations, links at the cited commit', (t) => {
  t.is(resolveKernelFile('F')?.path, 'net/core/filter.c');
  t.is(resolveKernelFile('C')?.path, 'kernel/bpf/core.c');
  t.is(resolveKernelFile('3.14')?.tree, '3.14');
  t.is(resolveKernelFile('disasm.c')?.path, 'kernel/bpf/disasm.c');
  t.is(resolveKernelFile('filter.h'), null, 'ambiguous: include/linux or include/uapi/linux');
  t.is(resolveKernelFile('net/core/dev.c'), null);
  t.is(resolveKernelFile('__proto__'), null);
  const r = kernelRef('net/core/filter.c:1117');
  t.is(r.url, `https://github.com/eclipse-oniro-mirrors/kernel_linux_6.6/blob/${TREE_COMMIT}/net/core/filter.c#L1117`);
  t.is(kernelRef('3.14:123').url, null);
  t.is(kernelRef('net/core/filter.c:~1370').line, 1370);
  t.is(kernelRef('somewhere else').url, null);
});
