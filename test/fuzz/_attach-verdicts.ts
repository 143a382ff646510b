// The two attach verdicts the prediction tests compare (test/fuzz/predict*.test.ts): the model's own,
// and the catalogue's prediction of it (fuzz/divergences.ts predictAttach), named alike.
import { skAttachFilter } from '../../model/attach.js';
import type { Program } from '../../model/cbpf/insn.js';
import type { KernelConfig } from '../../model/kernel.js';
import { predictAttach } from '../../fuzz/divergences.js';

/** The model's attach verdict as the catalogue names it (null: it attaches). */
export function actual(prog: Program, config: KernelConfig): string | null {
  const r = skAttachFilter(prog, config);
  return 'ok' in r ? null : `${r.stage}/${r.rule}`;
}

/** The catalogue's predicted verdict (null: it predicts the program attaches). */
export function predicted(prog: Program, config: KernelConfig): string | null {
  const p = predictAttach(prog, config);
  return p === null ? null : `${p.divergence.stage}/${p.rule ?? p.divergence.rule}`;
}
