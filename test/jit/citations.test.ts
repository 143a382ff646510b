// Every model citation (`// net/core/filter.c:1465 __sk_attach_prog`) against pinned text of the cited
// 6.6.y tree (test/jit/data/kernel-lines-6.6.y.json: the lines the citations need, each file with the
// commit and the way its text was obtained; written by test/jit/_pin-kernel-lines.ts). A citation is
// right when a name it gives is within five lines of the cited line, or the line is inside the named
// function's body (test/jit/_citations.ts). Citations of files or lines not pinned are counted and
// named, not checked: the arch/x86 JIT's are of v6.18.35 (model/jit/facts.ts), and net/core/filter.c
// past line 1960, net/core/sock.c, net/core/flow_dissector.c, net/packet/af_packet.c and
// include/uapi/linux/bpf.h have no pinned text yet.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractCitations, type ReferenceEntry } from '../../web/build/citations.js';
import { TREE_COMMIT, TREE_REPO } from '../../web/app/kernel-tree.js';
import { projectRoot } from '../_shared.js';
import { checkCitation, kernelNames, NEAR } from './_citations.js';
import { lineRefs, modelSources, PROVENANCE } from './_pin-kernel-lines.js';

interface PinnedFile {
  readonly repo: string;
  readonly commit: string;
  readonly source: string;
  readonly upTo?: number;
  readonly lines: Readonly<Record<string, string>>;
}
const data = JSON.parse(readFileSync(join(projectRoot, 'test', 'jit', 'data', 'kernel-lines-6.6.y.json'), 'utf8')) as { near: number; files: Record<string, PinnedFile> };
const pinned = new Map(Object.entries(data.files));
const sources = modelSources();
const cites = extractCitations(sources, new Set(sources.map((s) => s.path)));
const named = cites.entries.filter((e) => e.kernelFile.tree === '6.6.y' && e.kernelName !== '');

const lineOf =
  (f: PinnedFile): ((n: number) => string | undefined) =>
  (n) =>
    Object.hasOwn(f.lines, String(n)) ? f.lines[String(n)] : undefined;

const isPinned = (e: ReferenceEntry): boolean => {
  const f = pinned.get(e.kernelFile.path);
  return f !== undefined && e.kernelLine <= (f.upTo ?? Infinity);
};

test('the pinned lines name the cited tree: its repository and, for the files read at it, the commit the model names', (t) => {
  t.is(data.near, NEAR);
  t.is(cites.errors.length, 0, cites.errors.map((e) => `${e.file}:${e.line} ${e.message}`).join('\n'));
  t.is(cites.treeId, TREE_COMMIT.slice(0, 12));
  for (const [path, f] of pinned) {
    t.is(f.repo, TREE_REPO, path);
    t.regex(f.commit, /^[0-9a-f]{40}$/, path);
    t.deepEqual({ repo: f.repo, commit: f.commit, source: f.source, upTo: f.upTo }, { ...PROVENANCE[path]!, upTo: PROVENANCE[path]!.upTo }, `${path}: the data and the script that wrote it agree`);
    t.true(Object.keys(f.lines).length > 0, path);
  }
  t.is(pinned.get('net/core/filter.c')?.commit, TREE_COMMIT);
});

test('every citation of a pinned file names what is at (or around, or encloses) its line', (t) => {
  const checked = named.filter(isPinned);
  for (const e of checked) {
    const r = checkCitation(lineOf(pinned.get(e.kernelFile.path)!), e.kernelLine, kernelNames(e.kernelName));
    t.true(
      r.ok,
      `${e.modelFile}:${e.citeLine} cites ${e.kernelFileAs}:${e.kernelLineAs} ${e.kernelName}: ${r.ok ? '' : r.why}${!r.ok && r.missing.length > 0 ? ` (lines ${r.missing.slice(0, 6).join(', ')} not pinned: re-run test/jit/_pin-kernel-lines.ts)` : ''}`,
    );
  }
  // the check covers the model's core: it cannot go vacuous unnoticed
  t.true(checked.length >= 140, `${checked.length} citations checked`);
  for (const f of ['model/attach.ts', 'model/migrate/charge.ts', 'model/jit/blind.ts', 'model/uapi.ts', 'model/cbpf/check.ts', 'model/migrate/convert.ts', 'model/ebpf/interp.ts', 'model/seccomp/check.ts'])
    t.true(
      checked.some((e) => e.modelFile === f),
      `${f} has checked citations`,
    );
  const unpinned = new Map<string, number>();
  for (const e of named.filter((x) => !isPinned(x))) unpinned.set(e.kernelFile.path, (unpinned.get(e.kernelFile.path) ?? 0) + 1);
  t.log(`${checked.length} of ${named.length} named citations checked against pinned text; not pinned: ${[...unpinned].map(([p, n]) => `${p} ${n}`).join(', ')}`);
});

test('every other FILE:LINE the model writes out (inline comments, rejection sites) is a pinned, non-blank line', (t) => {
  let n = 0;
  for (const r of lineRefs(sources)) {
    const f = pinned.get(r.path);
    if (f === undefined || r.line > (f.upTo ?? Infinity)) continue;
    n++;
    const s = lineOf(f)(r.line);
    t.true(s !== undefined && s.trim() !== '', `${r.model}: ${r.path}:${r.line} is ${s === undefined ? 'not pinned (re-run test/jit/_pin-kernel-lines.ts)' : 'a blank line'}`);
  }
  t.true(n >= 50, `${n} references checked`);
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
  const f = lineOf(pinned.get('net/core/filter.c')!);
  t.regex(f(1350) ?? '', /bpf_jit_compile\(fp\)/);
  t.regex(f(1475) ?? '', /__sk_filter_charge\(sk, fp\)/);
  const c = lineOf(pinned.get('kernel/bpf/core.c')!);
  t.regex(c(2223) ?? '', /interpreters\[\]/);
  t.regex(c(2368) ?? '', /jit_needed = fp->jit_requested/);
});

test('the check fails a citation moved by more than five lines, and one outside the function it names', (t) => {
  // a synthetic file: a 20-line function at line 10, another after it
  const text = ['/* header */', ...Array.from({ length: 8 }, () => ''), 'static int sk_thing(struct sock *sk)', '{', ...Array.from({ length: 17 }, (_, i) => `\tstep(${i});`), '}', '', 'int other(void)', '{', '\treturn 0;', '}'];
  const f = (n: number): string | undefined => text[n - 1];
  t.like(checkCitation(f, 10, ['sk_thing']), { ok: true, via: 'near', at: 10 });
  t.like(checkCitation(f, 14, ['sk_thing']), { ok: true, via: 'near' });
  t.like(checkCitation(f, 22, ['sk_thing']), { ok: true, via: 'body', at: 10 }, 'inside the body');
  t.false(checkCitation(f, 3, ['sk_thing']).ok, 'seven lines above the function');
  t.false(checkCitation(f, 32, ['sk_thing']).ok, 'past the end of the function');
  t.false(checkCitation(f, 10, ['sk_other']).ok, 'another name');
  // against the pinned text: the real citation passes, moved by eight lines it does not
  const pf = lineOf(pinned.get('net/core/filter.c')!);
  const e = named.find((x) => x.kernelName === '__sk_attach_prog')!;
  t.true(checkCitation(pf, e.kernelLine, ['__sk_attach_prog']).ok);
  t.false(checkCitation(pf, e.kernelLine - (NEAR + 3), ['__sk_attach_prog']).ok, 'above the function');
  t.deepEqual(kernelNames('ALU(64)_DIV/MOD_X/K').sort(), ['ALU64_DIV_K', 'ALU64_DIV_X', 'ALU64_MOD_K', 'ALU64_MOD_X', 'ALU_DIV_K', 'ALU_DIV_X', 'ALU_MOD_K', 'ALU_MOD_X']);
  t.deepEqual(kernelNames('bpf_skb_load_helper_{8,16,32}'), ['bpf_skb_load_helper_8', 'bpf_skb_load_helper_16', 'bpf_skb_load_helper_32']);
  t.deepEqual(kernelNames('ALU(ADD, +)'), ['ALU']);
  t.deepEqual(kernelNames('__bpf_prog_run<stackSize>(ctx, insn)'), ['__bpf_prog_run']);
  t.deepEqual(kernelNames('struct sk_filter'), ['sk_filter']);
});
