// How a model citation (`// net/core/filter.c:1465 __sk_attach_prog`) is checked against the text of
// the cited tree, shared by test/jit/citations.test.ts and the script that pins the lines it needs
// (test/jit/_pin-kernel-lines.ts). A citation is right when a name it gives appears within five lines
// of the cited line (the review's tolerance), or when the cited line lies inside the body of the named
// function (`net/core/filter.c:721 bpf_convert_filter: the conditional jumps`).

/** The cited line's distance within which the name must appear. */
export const NEAR = 5;

/**
 * The identifiers a citation's kernel name stands for: `bpf_check_classic` -> itself;
 * `ALU(ADD, +)` -> ALU (a macro invocation); `ALU(64)_DIV/MOD_X/K` -> ALU64_DIV_X, ALU64_MOD_K, ...
 * and ALU_DIV_X, ... (a label pattern: (64) optional, a/b alternatives); `bpf_skb_load_helper_{8,16,32}`
 * -> bpf_skb_load_helper_8, _16, _32; `struct bpf_prog` -> bpf_prog; `__bpf_prog_run<stackSize>(...)`
 * -> __bpf_prog_run.
 */
export function kernelNames(name: string): string[] {
  let s = name.replace(/^struct\s+/, '').replace(/<[^>]*>/g, '');
  // a call's argument list (anything but a bare number or word inside) ends the name
  s = s.replace(/\((?!\w+\))[^)]*\)/, '').replace(/\(\)$/, '');
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
  | { readonly ok: true; readonly via: 'near' | 'body'; readonly at: number }
  | { readonly ok: false; readonly why: string; readonly missing: number[] };

/**
 * Check one citation: `names` at `line` of a file whose lines `lineOf` gives. `missing` lists the lines
 * the check needed and did not have (for a pinned copy: lines to add).
 */
export function checkCitation(lineOf: LineOf, line: number, names: readonly string[]): CitationCheck {
  if (names.length === 0) return { ok: false, why: 'no kernel name', missing: [] };
  const res = names.map((n) => new RegExp(`(?<![\\w])${escape(n)}(?![\\w])`));
  const has = (s: string | undefined): boolean => s !== undefined && res.some((r) => r.test(s));
  const missing: number[] = [];
  for (let d = 0; d <= NEAR; d++) {
    for (const n of d === 0 ? [line] : [line - d, line + d]) {
      if (n < 1) continue;
      const s = lineOf(n);
      if (s === undefined) missing.push(n);
      else if (has(s)) return { ok: true, via: 'near', at: n };
    }
  }
  // inside the body: the nearest definition above (the name at the start of an unindented line, or a
  // label `NAME:`), with no function end (`}` alone at column 0) between it and the cited line
  for (let n = line - NEAR - 1; n >= 1; n--) {
    const s = lineOf(n);
    if (s === undefined) {
      missing.push(n);
      break;
    }
    if (s === '}' || s === '};') return { ok: false, why: `line ${line} is not inside ${names[0]} (a function ends at line ${n}) nor within ${NEAR} lines of it`, missing };
    const def = /^[A-Za-z_#]/.test(s) || /^\t[A-Z][A-Z0-9_]*:/.test(s);
    if (def && has(s)) return missing.length > 0 ? { ok: false, why: 'lines not pinned', missing } : { ok: true, via: 'body', at: n };
  }
  return { ok: false, why: `${names.join('/')} not found within ${NEAR} lines of line ${line}, nor a definition above it`, missing };
}
