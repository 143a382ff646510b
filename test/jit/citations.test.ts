// Every model citation (`// net/core/filter.c:1465 __sk_attach_prog`) against pinned text of the cited
// tree: test/jit/data/kernel-lines-6.6.y.json (the 6.6.y tree) and kernel-lines-6.18.35.json (the
// x86-64 JIT of v6.18.35, which model/jit cites: model/jit/facts.ts), the lines the citations need,
// each file with its repository, commit and the way its text was obtained; written by
// test/jit/_pin-kernel-lines.ts. A citation is right when its line names what it gives, or, for a
// citation of a part of a function (`NAME: what part`), when its line lies inside that function's body
// (test/jit/_citations.ts). The citations that cannot be checked are listed below by name, with why.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractCitations, type ReferenceEntry } from '../../web/build/citations.js';
import { kernelLineUrl, LINE_SOURCES, TREE_COMMIT, TREE_REPO } from '../../web/app/kernel-tree.js';
import { projectRoot } from '../_shared.js';
import { checkCitation, citesPart, kernelNames } from './_citations.js';
import { commentLine, lineRefs, modelSources, otherTreeRefs, pinnedTreeOf, TREES, type PinnedTree } from './_pin-kernel-lines.js';

interface PinnedFile {
  readonly repo: string;
  readonly commit: string;
  readonly source: string;
  readonly upTo?: number;
  readonly lines: Readonly<Record<string, string>>;
}
const TREE_NAMES = Object.keys(TREES) as PinnedTree[];
const data = new Map(
  TREE_NAMES.map((tree) => [tree, JSON.parse(readFileSync(join(projectRoot, 'test', 'jit', 'data', `kernel-lines-${tree}.json`), 'utf8')) as { tree: string; files: Record<string, PinnedFile> }]),
);
const pinned = new Map(TREE_NAMES.map((tree) => [tree, new Map(Object.entries(data.get(tree)!.files))]));
const sources = modelSources();
const cites = extractCitations(sources, new Set(sources.map((s) => s.path)));
const named = cites.entries.filter((e) => e.kernelName !== '');

const lineOf =
  (f: PinnedFile): ((n: number) => string | undefined) =>
  (n) =>
    Object.hasOwn(f.lines, String(n)) ? f.lines[String(n)] : undefined;

const treeOf = (e: ReferenceEntry): PinnedTree | null => pinnedTreeOf(e.kernelFile.path, e.kernelFile.tree);
const fileOf = (e: ReferenceEntry): PinnedFile | undefined => {
  const tree = treeOf(e);
  return tree === null ? undefined : pinned.get(tree)!.get(e.kernelFile.path);
};
const isPinned = (e: ReferenceEntry): boolean => {
  const f = fileOf(e);
  return f !== undefined && e.kernelLine <= (f.upTo ?? Infinity);
};
const where = (e: ReferenceEntry): string => `${e.modelFile}:${e.citeLine} ${e.kernelFileAs}:${e.kernelLineAs} ${e.kernelName}`;

/**
 * The named citations no pinned text covers, each with why. The test fails when another one appears
 * (pin its file) or one of these becomes checkable (take it off the list).
 */
const UNCHECKED: ReadonlyMap<string, string> = new Map([
  [
    'model/attach.ts net/core/filter.c:11101 sk_detach_filter',
    'filter.c is pinned to line 1960: past it the cited commit (read_file) differs from v6.6.87 by hunks not reconstructed (+254 characters at offset 60000, +828 at 183000, +620 at 305700); sk_detach_filter\'s own text there is v6.6.87\'s (offsets 305700-321700 compared), its line number is not established',
  ],
  ['model/cbpf/eval.ts net/core/filter.c:123 sk_run_filter', 'the 3.14 tree ("3.14:N"): no text of it pinned'],
  ['model/cbpf/eval.ts net/core/filter.c:272 BPF_S_LD_W_IND', 'the 3.14 tree: no text of it pinned'],
  ['model/cbpf/eval.ts net/core/filter.c:61 load_pointer', 'the 3.14 tree: no text of it pinned'],
  ['model/cbpf/eval.ts net/core/filter.c:47 bpf_internal_load_pointer_neg_helper', 'the 3.14 tree: no text of it pinned'],
  ['model/cbpf/eval.ts net/core/filter.c:353 BPF_S_ANC_NLATTR', 'the 3.14 tree: no text of it pinned'],
]);
const uncheckedKey = (e: ReferenceEntry): string => `${e.modelFile} ${e.kernelFile.path}:${e.kernelLine} ${e.kernelName}`;

test('the pinned lines name their tree: repository, commit and how the text was obtained, as the script that wrote them says', (t) => {
  t.is(cites.errors.length, 0, cites.errors.map((e) => `${e.file}:${e.line} ${e.message}`).join('\n'));
  t.is(cites.treeId, TREE_COMMIT.slice(0, 12));
  for (const tree of TREE_NAMES) {
    t.is(data.get(tree)!.tree, tree);
    t.deepEqual([...pinned.get(tree)!.keys()].sort(), Object.keys(TREES[tree].files).sort(), `${tree}: every file of the script pinned`);
    for (const [path, f] of pinned.get(tree)!) {
      const p = TREES[tree].files[path]!;
      t.regex(f.commit, /^[0-9a-f]{40}$/, path);
      t.deepEqual({ repo: f.repo, commit: f.commit, source: f.source, upTo: f.upTo }, { repo: p.repo, commit: p.commit, source: p.source, upTo: p.upTo }, `${tree} ${path}: the data and the script that wrote it agree`);
      t.true(Object.keys(f.lines).length > 0, path);
    }
  }
  t.is(pinned.get('6.6.y')!.get('net/core/filter.c')?.commit, TREE_COMMIT);
  t.is(pinned.get('6.6.y')!.get('net/core/sock.c')?.commit, TREE_COMMIT);
});

test('every named citation names what is at its line (or cites a part of the function whose body holds it)', (t) => {
  const checked = named.filter(isPinned);
  for (const e of checked) {
    const part = citesPart(commentLine(sources, e.modelFile, e.citeLine), e.kernelName);
    const r = checkCitation(lineOf(fileOf(e)!), e.kernelLine, kernelNames(e.kernelName), part);
    t.true(r.ok, `${where(e)}: ${r.ok ? '' : r.why}${!r.ok && r.missing.length > 0 ? ` (lines ${r.missing.slice(0, 6).join(', ')} not pinned: re-run test/jit/_pin-kernel-lines.ts)` : ''}`);
  }
  // the rest is exactly the list above: nothing slips out of the check unnoticed
  const rest = named.filter((e) => !isPinned(e)).map(uncheckedKey);
  t.deepEqual(rest.sort(), [...UNCHECKED.keys()].sort(), 'the unchecked citations are the listed ones');
  // the check covers the model's core in both trees: it cannot go vacuous unnoticed
  const perTree = (tree: PinnedTree): number => checked.filter((e) => treeOf(e) === tree).length;
  t.true(perTree('6.6.y') >= 160, `${perTree('6.6.y')} 6.6.y citations checked`);
  t.true(perTree('6.18.35') >= 30, `${perTree('6.18.35')} v6.18.35 citations checked`);
  for (const f of ['model/attach.ts', 'model/migrate/charge.ts', 'model/jit/blind.ts', 'model/uapi.ts', 'model/cbpf/check.ts', 'model/migrate/convert.ts', 'model/ebpf/interp.ts', 'model/seccomp/check.ts', 'model/flow.ts', 'model/jit/emit.ts', 'model/jit/x86.ts'])
    t.true(
      checked.some((e) => e.modelFile === f),
      `${f} has checked citations`,
    );
  const viaLine = checked.filter((e) => checkCitation(lineOf(fileOf(e)!), e.kernelLine, kernelNames(e.kernelName)).ok).length;
  t.log(`${checked.length} of ${named.length} named citations checked (6.6.y ${perTree('6.6.y')}, v6.18.35 ${perTree('6.18.35')}; ${viaLine} on the named line itself, ${checked.length - viaLine} inside the named function); unchecked: ${[...UNCHECKED.keys()].join('; ')}`);
});

test('every other FILE:LINE the model writes out (inline comments, rejection sites) is a pinned, non-blank line', (t) => {
  let n = 0;
  for (const r of lineRefs(sources)) {
    const f = pinned.get(r.tree)!.get(r.path);
    if (f === undefined || r.line > (f.upTo ?? Infinity)) continue;
    n++;
    const s = lineOf(f)(r.line);
    t.true(s !== undefined && s.trim() !== '', `${r.model}: ${r.path}:${r.line} (${r.tree}) is ${s === undefined ? 'not pinned (re-run test/jit/_pin-kernel-lines.ts)' : 'a blank line'}`);
  }
  t.true(n >= 60, `${n} references checked`);
});

test('every line of 6.6.80 and 6.6.22 that model/jit names beside a v6.18.35 line says the same, and names what the citation names', (t) => {
  const jit = (tree: PinnedTree): ((n: number) => string | undefined) => lineOf(pinned.get(tree)!.get('arch/x86/net/bpf_jit_comp.c')!);
  const refs = otherTreeRefs(sources);
  let beside = 0;
  let names = 0;
  for (const r of refs) {
    const at = `${r.model}:${r.modelLine} ${r.tree}:${r.line}`;
    const s = jit(r.tree)(r.line);
    t.true(s !== undefined && s.trim() !== '', `${at} is ${s === undefined ? 'not pinned (re-run test/jit/_pin-kernel-lines.ts)' : 'a blank line'}`);
    if (r.beside !== null) {
      beside++;
      t.is(s?.trim(), jit('6.18.35')(r.beside)?.trim(), `${at}: not the line v6.18.35:${r.beside} reads`);
    }
    if (r.name !== null) {
      names++;
      const c = checkCitation(jit(r.tree), r.line, [r.name]);
      t.true(c.ok, `${at} ${r.name}: ${c.ok ? '' : c.why}`);
    }
  }
  t.true(refs.length >= 50 && beside >= 25 && names >= 20, `${refs.length} lines of the older trees, ${beside} beside a v6.18.35 line, ${names} named`);
});

test('the citations a review found off are where the tree has them', (t) => {
  const at = (file: string, name: string): number[] => named.filter((e) => e.kernelFile.path === file && e.kernelName.startsWith(name)).map((e) => e.kernelLine);
  t.deepEqual(at('include/uapi/linux/filter.h', 'BPF_MISCOP'), [41]);
  t.deepEqual(at('include/uapi/linux/filter.h', 'BPF_RVAL'), [37]);
  t.deepEqual(at('kernel/bpf/core.c', 'bpf_jit_compile'), [2898]);
  const text = (p: string): string => sources.find((s) => s.path === p)!.text;
  t.regex(text('model/ebpf/interp.ts'), /interpreters\[\] kernel\/bpf\/core\.c:2223/);
  t.regex(text('model/attach.ts'), /net\/core\/filter\.c:1350/, 'the bpf_jit_compile call in bpf_migrate_filter');
  t.regex(text('model/attach.ts'), /charge it \(net\/core\/filter\.c:1475;/, 'the __sk_filter_charge call in __sk_attach_prog');
  const f = lineOf(pinned.get('6.6.y')!.get('net/core/filter.c')!);
  t.regex(f(1350) ?? '', /bpf_jit_compile\(fp\)/);
  t.regex(f(1475) ?? '', /__sk_filter_charge\(sk, fp\)/);
  const c = lineOf(pinned.get('6.6.y')!.get('kernel/bpf/core.c')!);
  t.regex(c(2223) ?? '', /interpreters\[\]/);
  t.regex(c(2368) ?? '', /jit_needed = fp->jit_requested/);
});

test('the check fails a citation moved by one line, one outside the function it names, and a part citation in the head', (t) => {
  // a synthetic file: a function whose head takes two lines at line 10, another after it
  const text = ['/* header */', ...Array.from({ length: 8 }, () => ''), 'static int sk_thing(struct sock *sk,', '\t\t    int flags)', '{', ...Array.from({ length: 16 }, (_, i) => `\tstep(${i});`), '}', '', 'int other(void)', '{', '\treturn 0;', '}'];
  const f = (n: number): string | undefined => text[n - 1];
  t.like(checkCitation(f, 10, ['sk_thing']), { ok: true, via: 'line', at: 10 });
  t.false(checkCitation(f, 11, ['sk_thing']).ok, 'one line low: the head\'s second line');
  t.false(checkCitation(f, 9, ['sk_thing']).ok, 'one line high');
  t.false(checkCitation(f, 20, ['sk_thing']).ok, 'inside the body, but not cited as a part');
  t.like(checkCitation(f, 20, ['sk_thing'], true), { ok: true, via: 'body', at: 10 }, 'a part of the body');
  t.false(checkCitation(f, 11, ['sk_thing'], true).ok, 'a part citation in the head, not the body');
  t.false(checkCitation(f, 12, ['sk_thing'], true).ok, 'a part citation of the opening brace');
  t.false(checkCitation(f, 31, ['sk_thing'], true).ok, 'past the end of the function');
  t.false(checkCitation(f, 10, ['sk_other']).ok, 'another name');
  t.true(citesPart('// net/core/filter.c:721 bpf_convert_filter: the conditional jumps', 'bpf_convert_filter'));
  t.true(citesPart('// net/core/filter.c:174-181 bpf_skb_get_nlattr, bpf_skb_get_nlattr_nest: the guards', 'bpf_skb_get_nlattr'));
  t.false(citesPart('// arch/x86/net/bpf_jit_comp.c:115 is_imm8_jmp_offset (6.6.80:106): is_imm8 before', 'is_imm8_jmp_offset'));
  // against the pinned text: the real citations pass, moved by one line they do not
  for (const [tree, name] of [
    ['6.6.y', '__sk_attach_prog'],
    ['6.6.y', '__skb_get_poff'],
    ['6.18.35', 'bpf_int_jit_compile'],
    ['6.18.35', 'emit_cond_jmp'],
  ] as const) {
    const e = named.find((x) => x.kernelName === name)!;
    const pf = lineOf(pinned.get(tree)!.get(e.kernelFile.path)!);
    t.true(checkCitation(pf, e.kernelLine, [name]).ok, name);
    t.false(checkCitation(pf, e.kernelLine + 1, [name]).ok, `${name} one line low`);
    t.false(checkCitation(pf, e.kernelLine - 1, [name]).ok, `${name} one line high`);
  }
  t.deepEqual(kernelNames('ALU(64)_DIV/MOD_X/K').sort(), ['ALU64_DIV_K', 'ALU64_DIV_X', 'ALU64_MOD_K', 'ALU64_MOD_X', 'ALU_DIV_K', 'ALU_DIV_X', 'ALU_MOD_K', 'ALU_MOD_X']);
  t.deepEqual(kernelNames('bpf_skb_load_helper_{8,16,32}'), ['bpf_skb_load_helper_8', 'bpf_skb_load_helper_16', 'bpf_skb_load_helper_32']);
  t.deepEqual(kernelNames('ALU(ADD, +)'), ['ALU']);
  t.deepEqual(kernelNames('BPF_SIZE(code)'), ['BPF_SIZE']);
  t.deepEqual(kernelNames('__bpf_prog_run<stackSize>(ctx, insn)'), ['__bpf_prog_run']);
  t.deepEqual(kernelNames('struct sk_filter'), ['sk_filter']);
});

test('the page links every cited line where its pinned text was read (web/app/kernel-tree.ts LINE_SOURCES)', (t) => {
  for (const [path, at] of LINE_SOURCES) {
    const tree = pinnedTreeOf(path, '6.6.y')!;
    const f = data.get(tree)!.files[path];
    t.not(f, undefined, `${path}: pinned in ${tree}`);
    t.deepEqual({ repo: at.repo, commit: at.commit }, { repo: f!.repo, commit: f!.commit }, path);
    t.is(kernelLineUrl({ path, tree: '6.6.y' }, 10), `https://github.com/${f!.repo}/blob/${f!.commit}/${path}#L10`);
  }
  // every other pinned file of the cited tree links at the cited commit: its pinned lines are that commit's
  for (const path of Object.keys(data.get('6.6.y')!.files).filter((p) => !LINE_SOURCES.has(p)))
    t.is(kernelLineUrl({ path, tree: '6.6.y' }, 10), `https://github.com/${TREE_REPO}/blob/${TREE_COMMIT}/${path}#L10`, path);
  t.true(LINE_SOURCES.has('arch/x86/net/bpf_jit_comp.c'));
});
