// How a model citation (`// net/core/filter.c:1465 __sk_attach_prog`) is checked against the text of
// the cited tree, shared by test/jit/citations.test.ts and the script that pins the lines it needs
// (test/jit/_pin-kernel-lines.ts). The rule is exact: the cited line itself names what the citation
// gives (a function's or macro's definition line, a label, a `#define`, a struct), or, for a citation
// of a part of a function (`net/core/filter.c:721 bpf_convert_filter: the conditional jumps`: the name,
// then a colon), the cited line lies inside that function's body (after the line that opens it with
// `{`, before the `}` that closes it). The review's tolerance of five lines either side let an
// off-by-one through; none is needed.

/**
 * The identifiers a citation's kernel name stands for: `bpf_check_classic` -> itself;
 * `ALU(ADD, +)` -> ALU (a macro invocation); `ALU(64)_DIV/MOD_X/K` -> ALU64_DIV_X, ALU64_MOD_K, ...
 * and ALU_DIV_X, ... (a label pattern: (64) optional, a/b alternatives); `bpf_skb_load_helper_{8,16,32}`
 * -> bpf_skb_load_helper_8, _16, _32; `struct bpf_prog` -> bpf_prog; `__bpf_prog_run<stackSize>(...)`
 * -> __bpf_prog_run.
 */
export function kernelNames(name: string): string[] {
  let s = name.replace(/^struct\s+/, '').replace(/<[^>]*>/g, '');
  // a call's argument list (anything but a bare number inside) ends the name
  s = s.replace(/\((?!\d+\))[^)]*\)/, '').replace(/\(\)$/, '');
  const out = new Set<string>();
  const expand = (t: string): void => {
    const brace = /\{([^}]*)\}/.exec(t);
    if (brace) {
      for (const alt of brace[1]!.split(',')) expand(t.slice(0, brace.index) + alt.trim() + t.slice(brace.index + brace[0].length));
      return;
    }
    const opt = /\((\w+)\)/.exec(t);
    if (opt) {
      expand(t.slice(0, opt.index) + opt[1] + t.slice(opt.index + opt[0].length));
      expand(t.slice(0, opt.index) + t.slice(opt.index + opt[0].length));
      return;
    }
    // a/b alternatives inside an identifier: DIV/MOD_X/K
    const parts = t.split('_');
    const slash = parts.findIndex((p) => p.includes('/'));
    if (slash >= 0) {
      for (const alt of parts[slash]!.split('/')) expand([...parts.slice(0, slash), alt, ...parts.slice(slash + 1)].join('_'));
      return;
    }
    const id = /^[A-Za-z_]\w*/.exec(t);
    if (id) out.add(id[0]);
  };
  expand(s);
  return [...out];
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A line of the cited file (1-based), or undefined when it is not known (not pinned, or past the end). */
export type LineOf = (n: number) => string | undefined;

export type CitationCheck =
  | { readonly ok: true; readonly via: 'line' | 'body'; readonly at: number }
  | { readonly ok: false; readonly why: string; readonly missing: number[] };

/**
 * Whether a citation's comment line (`// FILE:LINE NAME: what part`) says it cites a part of the function
 * it names: the name (and any further names, `NAME, OTHER_NAME`) followed by a colon.
 */
export function citesPart(commentLine: string, kernelName: string): boolean {
  const at = commentLine.indexOf(kernelName);
  if (at < 0) return false;
  return /^(?:,\s*[A-Za-z_]\w*)*:/.test(commentLine.slice(at + kernelName.length));
}

/**
 * Check one citation: `names` at `line` of a file whose lines `lineOf` gives; `part` when the citation
 * says it cites a part of the named function (citesPart). `missing` lists the lines the check needed and
 * did not have (for a pinned copy: lines to add).
 */
export function checkCitation(lineOf: LineOf, line: number, names: readonly string[], part = false): CitationCheck {
  if (names.length === 0) return { ok: false, why: 'no kernel name', missing: [] };
  const res = names.map((n) => new RegExp(`(?<![\\w])${escape(n)}(?![\\w])`));
  const has = (s: string | undefined): boolean => s !== undefined && res.some((r) => r.test(s));
  const cited = lineOf(line);
  if (cited === undefined) return { ok: false, why: 'line not pinned', missing: [line] };
  if (has(cited)) return { ok: true, via: 'line', at: line };
  if (!part) return { ok: false, why: `line ${line} does not name ${names.join('/')} (it reads ${JSON.stringify(cited.trim())})`, missing: [] };
  // inside the body: the nearest definition above (the name at the start of an unindented line, or a
  // label `NAME:`), with no function end (`}` alone at column 0) between it and the cited line, and the
  // line that opens the body (`{` at its end) before the cited line
  let opened = false;
  for (let n = line - 1; n >= 1; n--) {
    const s = lineOf(n);
    if (s === undefined) return { ok: false, why: 'lines not pinned', missing: [n] };
    if (s === '}' || s === '};') return { ok: false, why: `line ${line} is not inside ${names[0]} (a function ends at line ${n})`, missing: [] };
    if (/\{\s*\\?$/.test(s)) opened = true;
    const def = /^[A-Za-z_#]/.test(s) || /^\t[A-Z][A-Z0-9_]*:/.test(s);
    if (def && has(s)) {
      if (/^\t[A-Z][A-Z0-9_]*:/.test(s) || opened) return { ok: true, via: 'body', at: n };
      return { ok: false, why: `line ${line} is in the head of ${names[0]} (line ${n}), not its body: cite line ${n}`, missing: [] };
    }
  }
  return { ok: false, why: `${names.join('/')} is not defined above line ${line}`, missing: [] };
}
