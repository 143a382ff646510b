// The page's whole state as a URL fragment: program, packets, skb fields, kernel parameters, the
// selected packet and the step, so that a link restores an exact moment. Pure (no DOM): parse and
// print a fragment. Unknown or malformed parameters fall back to defaults, with a note for each.

export type ProgramRef =
  | { readonly kind: 'example'; readonly name: string }
  | { readonly kind: 'entry'; readonly id: string }
  | { readonly kind: 'text'; readonly text: string; readonly format: string | null };

export type PacketsRef =
  /** the inputs of the corpus entry the program came from */
  | { readonly kind: 'entry' }
  /** a capture shipped in examples/ */
  | { readonly kind: 'capture'; readonly name: string }
  /** hex, one packet a line, with the preset each gets */
  | { readonly kind: 'hex'; readonly text: string; readonly preset: string };

export interface PageState {
  readonly program: ProgramRef;
  readonly packets: PacketsRef;
  /** skb field overrides (snake_case, as `bpfspec run --set`) */
  readonly skb: Readonly<Record<string, unknown>>;
  // Kernel parameters; null: the program source's own (a corpus entry's config, else the v6.6 defaults).
  readonly arch: string | null;
  readonly optmemMax: number | null;
  readonly loadHelpers: 'v6.6.0' | 'backport' | null;
  /** a historical variant's name, 'none', or null (a historical entry's own variant, else none) */
  readonly variant: string | null;
  /** selected packet (0-based) */
  readonly packet: number;
  /** stepper row (0-based) */
  readonly row: number;
  /** breakpoints: "c3" (classic pc 3), "e12" (eBPF pc 12) */
  readonly breakpoints: readonly string[];
  /** selected instruction in the migration view: "c3" or "e12" */
  readonly selected: string | null;
  readonly view: 'page' | 'reference';
}

export const DEFAULT_STATE: PageState = {
  program: { kind: 'example', name: 'tcp-port-80.dd' },
  packets: { kind: 'capture', name: 'http.pcap' },
  skb: {},
  arch: null,
  optmemMax: null,
  loadHelpers: null,
  variant: null,
  packet: 0,
  row: 0,
  breakpoints: [],
  selected: null,
  view: 'page',
};

const BP = /^[ce]\d{1,6}$/;

function nat(v: string | null, max: number): number | null {
  if (v === null || !/^\d{1,9}$/.test(v)) return null;
  const n = Number(v);
  return n <= max ? n : null;
}

/** Read a fragment ("#p=x:tcp-port-80.dd&r=4", with or without the '#'). */
export function parseState(fragment: string): { state: PageState; notes: string[] } {
  const q = new URLSearchParams(fragment.replace(/^#/, ''));
  const notes: string[] = [];
  const s: { -readonly [K in keyof PageState]: PageState[K] } = { ...DEFAULT_STATE };
  const p = q.get('p');
  if (p !== null) {
    if (p.startsWith('x:')) s.program = { kind: 'example', name: p.slice(2) };
    else if (p.startsWith('e:')) s.program = { kind: 'entry', id: p.slice(2) };
    else if (p === 't') s.program = { kind: 'text', text: q.get('t') ?? '', format: q.get('f') };
    else notes.push(`p=${p}: not a program reference (x:EXAMPLE, e:ENTRY or t)`);
  }
  const k = q.get('k');
  if (k !== null) {
    if (k === 'e') s.packets = { kind: 'entry' };
    else if (k.startsWith('x:')) s.packets = { kind: 'capture', name: k.slice(2) };
    else if (k === 'h') s.packets = { kind: 'hex', text: q.get('h') ?? '', preset: q.get('pre') ?? 'af_unix' };
    else notes.push(`k=${k}: not a packet reference (e, x:CAPTURE or h)`);
  } else if (s.program.kind === 'entry') s.packets = { kind: 'entry' };
  const skb = q.get('s');
  if (skb !== null) {
    try {
      const v: unknown = JSON.parse(skb);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) s.skb = v as Record<string, unknown>;
      else notes.push('s: the skb fields must be a JSON object');
    } catch {
      notes.push('s: the skb fields are not JSON');
    }
  }
  const a = q.get('a');
  if (a !== null) s.arch = a;
  const o = q.get('o');
  if (o !== null) {
    const n = nat(o, 2 ** 31 - 1);
    if (n === null) notes.push(`o=${o}: optmem_max must be a byte count`);
    else s.optmemMax = n;
  }
  const l = q.get('l');
  if (l !== null) {
    if (l === 'v6.6.0' || l === 'backport') s.loadHelpers = l;
    else notes.push(`l=${l}: load helpers must be v6.6.0 or backport`);
  }
  const v = q.get('v');
  if (v !== null && v !== '') s.variant = v;
  for (const [key, field] of [
    ['i', 'packet'],
    ['r', 'row'],
  ] as const) {
    const raw = q.get(key);
    if (raw === null) continue;
    const n = nat(raw, 1e9);
    if (n === null) notes.push(`${key}=${raw}: expected a number`);
    else s[field] = n;
  }
  const b = q.get('b');
  if (b !== null && b !== '') {
    const bps = b.split(',');
    s.breakpoints = bps.filter((x) => BP.test(x));
    if (s.breakpoints.length !== bps.length) notes.push(`b=${b}: breakpoints are c<pc> or e<pc>`);
  }
  const sel = q.get('sel');
  if (sel !== null) s.selected = BP.test(sel) ? sel : null;
  if (q.get('view') === 'reference') s.view = 'reference';
  return { state: s, notes };
}

/** Print a state as a fragment (without the '#'); defaults are left out, so links stay short. */
export function printState(s: PageState): string {
  const q = new URLSearchParams();
  if (s.program.kind === 'example') q.set('p', `x:${s.program.name}`);
  else if (s.program.kind === 'entry') q.set('p', `e:${s.program.id}`);
  else {
    q.set('p', 't');
    q.set('t', s.program.text);
    if (s.program.format !== null) q.set('f', s.program.format);
  }
  if (s.packets.kind === 'entry') {
    if (s.program.kind !== 'entry') q.set('k', 'e');
  } else if (s.packets.kind === 'capture') q.set('k', `x:${s.packets.name}`);
  else {
    q.set('k', 'h');
    q.set('h', s.packets.text);
    if (s.packets.preset !== 'af_unix') q.set('pre', s.packets.preset);
  }
  if (Object.keys(s.skb).length > 0) q.set('s', JSON.stringify(s.skb));
  if (s.arch !== null) q.set('a', s.arch);
  if (s.optmemMax !== null) q.set('o', String(s.optmemMax));
  if (s.loadHelpers !== null) q.set('l', s.loadHelpers);
  if (s.variant !== null) q.set('v', s.variant);
  if (s.packet !== 0) q.set('i', String(s.packet));
  if (s.row !== 0) q.set('r', String(s.row));
  if (s.breakpoints.length > 0) q.set('b', s.breakpoints.join(','));
  if (s.selected !== null) q.set('sel', s.selected);
  if (s.view !== 'page') q.set('view', s.view);
  return q.toString();
}
