// Time to discovery of the historical variants (model/variants.ts): for each variant, a campaign from
// a fixed seed on one core, chunk after chunk, until the first finding. bench/run.ts calls
// benchVariants(); test/variants.test.ts uses discoverVariant() with a case budget.
import { X86_64, type KernelConfig } from '../model/config.js';
import { VARIANTS, variantConfig, variantInfo, type VariantName } from '../model/variants.js';
import { campaignArbitrary, campaignChecker, runChunk, type CampaignFinding } from '../fuzz/campaign.js';

export interface DiscoveryOptions {
  /** campaign seed (default 1) */
  readonly seed?: number;
  /** give up after this many cases (default 50,000) */
  readonly maxCases?: number;
  /** give up after this many milliseconds (default: no limit) */
  readonly maxMs?: number;
  /** cases per chunk (default 256, the campaign default) */
  readonly chunkSize?: number;
  /** skbs per program (default 4, the fuzz command's default) */
  readonly packetsPerProgram?: number;
  /** the configuration the variant is applied to (default x86-64 v6.6.0) */
  readonly base?: KernelConfig;
  /**
   * Only a finding of the variant's catching property (model/variants.ts catchesBy) counts (default
   * true); a chunk whose first finding is about another property is skipped and counted in `other`.
   */
  readonly sameProperty?: boolean;
}

export interface Discovery {
  readonly variant: VariantName;
  /** the first finding, or null when the budget ran out */
  readonly finding: CampaignFinding | null;
  /** cases run up to and including the failing one (or the whole budget) */
  readonly cases: number;
  readonly seconds: number;
  /** findings of other properties passed over on the way */
  readonly other: readonly CampaignFinding[];
}

/** Run a fixed-seed campaign against one variant until its first finding (or the budget). */
export function discoverVariant(variant: VariantName, opts: DiscoveryOptions = {}): Discovery {
  const config = variantConfig(opts.base ?? X86_64, variant);
  const seed = opts.seed ?? 1;
  const maxCases = opts.maxCases ?? 50_000;
  const chunkSize = opts.chunkSize ?? 256;
  const packetsPerProgram = opts.packetsPerProgram ?? 4;
  const deadline = opts.maxMs === undefined ? Infinity : Date.now() + opts.maxMs;
  const checker = campaignChecker({ config });
  const arb = campaignArbitrary(packetsPerProgram, config);
  const t0 = process.hrtime.bigint();
  const secs = (): number => Number(process.hrtime.bigint() - t0) / 1e9;
  const want = opts.sameProperty === false ? null : variantInfo(variant).catchesBy;
  const other: CampaignFinding[] = [];
  let cases = 0;
  for (let chunk = 0; cases < maxCases && Date.now() < deadline; chunk++) {
    const size = Math.min(chunkSize, maxCases - cases);
    const r = runChunk(checker, { seed, packetsPerProgram, config }, chunk, size, arb);
    if (r.finding !== null) {
      if (want === null || r.finding.finding.property === want) {
        const failIndex = Number(r.finding.path.split(':')[0]);
        return { variant, finding: r.finding, cases: cases + failIndex + 1, seconds: secs(), other };
      }
      other.push(r.finding);
    }
    cases += size;
  }
  return { variant, finding: null, cases, seconds: secs(), other };
}

export interface VariantBenchRow {
  readonly variant: VariantName;
  readonly found: boolean;
  readonly property: string | null;
  readonly cases: number;
  /** wall-clock seconds to the first finding (including its shrinking) */
  readonly seconds: number;
}

/** Time to discovery of every variant on one core, from seed 1; target: each under 60 s. */
export function benchVariants(opts: DiscoveryOptions = {}): VariantBenchRow[] {
  return VARIANTS.map((v) => {
    const d = discoverVariant(v.name, { maxMs: 60_000, maxCases: Infinity, ...opts });
    return { variant: v.name, found: d.finding !== null, property: d.finding?.finding.property ?? null, cases: d.cases, seconds: d.seconds };
  });
}
