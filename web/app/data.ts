// What the build puts into the page besides the code: the shipped examples, the corpus entries and the
// reference table read from the model's citations. Shared by the build (which writes it) and the page
// (which reads it from a JSON script element). Types only, plus the id scheme.

export interface ExampleProgram {
  /** file name under examples/ ("tcp-port-80.dd") */
  readonly name: string;
  readonly text: string;
}

export interface ExampleCapture {
  readonly name: string;
  readonly base64: string;
}

export interface EntryData {
  /** path under corpus/ without .json ("divergences/vlan-tag-dei") */
  readonly id: string;
  /** the folder: divergences, historical, findings */
  readonly group: string;
  readonly kind: string;
  readonly title: string;
  readonly divergence: string | null;
  readonly message: string | null;
  readonly notes: string | null;
  /** the little-endian struct sock_filter image */
  readonly hex: string;
  readonly asm: string | null;
  readonly config: { readonly arch: string; readonly optmem_max: number; readonly load_helpers: 'v6.6.0' | 'backport' };
  readonly inputs: readonly { readonly packet: string; readonly skb: Readonly<Record<string, unknown>> }[];
  /** the historical variant the entry reproduces, if any */
  readonly variant: string | null;
  /** what the entry recorded per input (fixed model), for the page to show beside its own run */
  readonly expect: readonly { readonly classic: number | null; readonly kernel: number | null }[];
}

export interface ReferenceRow {
  readonly modelFile: string;
  readonly modelLine: number;
  readonly modelName: string;
  readonly kind: string;
  readonly kernelPath: string;
  readonly kernelTree: string;
  readonly kernelLine: number;
  readonly kernelLineAs: string;
  readonly kernelName: string;
  readonly note: string;
}

export interface PageData {
  readonly examples: readonly ExampleProgram[];
  readonly captures: readonly ExampleCapture[];
  readonly entries: readonly EntryData[];
  readonly reference: { readonly rows: readonly ReferenceRow[]; readonly inline: number; readonly modelFiles: number };
}
