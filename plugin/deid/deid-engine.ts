import type { CleanPixelsSettings } from '../core/deid-messages';
import type { PixelCleaner } from './burned-in/clean-pixel-data';
import { prepareJpeg2000 } from '../pixels/jpeg2000';
import { PixelRegionRules } from './burned-in/pixel-regions';
import { DeidPolicyError, loadPolicy, type DeidPolicy } from './policy';
import { compilePolicy, type CompiledPolicy } from './native-dicom';
import type { SiteKey } from './pseudonyms';
import { loadWhitelist, TermSetCache } from './text';

/** What a worker holds for its whole life: policy compiled once, the site key. */
export interface DeidEngine {
  readonly policy: DeidPolicy;
  readonly compiled: CompiledPolicy;
  readonly key: SiteKey;
  readonly whitelist: ReadonlySet<string>;
  readonly termSets: TermSetCache;
  /** Clean Pixel Data; absent: pixels pass through untouched. */
  readonly pixels?: PixelCleaner;
}

/**
 * The one way to turn a profile into a ready engine (worker, CLI, tests,
 * benchmarks). Every repeating-group mask of Table E.1-1 removes, which the
 * default for unlisted public elements already does; a profile that would
 * keep what a mask covers is refused until the native side applies masks.
 */
export function compileDeidPolicy(policy: DeidPolicy): CompiledPolicy {
  const { masks, ...table } = policy.table;
  if (table.defaultPublic !== 'X' || masks.some((m) => m.action !== 'X')) {
    throw new DeidPolicyError('AIB_DEID_POLICY_INVALID', `profile ${policy.profile.name} keeps repeating-group elements, which the native engine cannot apply`, {
      key: `profiles.${policy.profile.name}`,
    });
  }
  return compilePolicy(table);
}

export function createDeidEngine(profile: string, key: SiteKey, pixels?: PixelCleaner): DeidEngine {
  const policy = loadPolicy(profile);
  const whitelist = loadWhitelist();
  return { policy, compiled: compileDeidPolicy(policy), key, whitelist, termSets: new TermSetCache(whitelist), ...(pixels ? { pixels } : {}) };
}

/**
 * The pixel cleaner for `settings` ('never' → none): device rules loaded and
 * the OCR finder created now, before the worker seals. `withOcr` false (a
 * plain worker): nothing but the settings, so the worker can tell which
 * images need cleaning and hand them to the OCR worker.
 */
export async function createPixelCleaner(settings: CleanPixelsSettings | undefined, regionsFile?: string, withOcr = true): Promise<PixelCleaner | undefined> {
  if (settings === undefined || settings.apply === 'never') return undefined;
  const deviceRules = PixelRegionRules.load(regionsFile);
  if (!withOcr) return { settings, deviceRules, ocrElsewhere: true };
  prepareJpeg2000();
  // Imported here, not at the top: onnxruntime is loaded only by the one worker that runs OCR.
  const { createOcrFinder } = await import('./burned-in/ocr-finder-slot.js');
  const ocr = await createOcrFinder();
  return { settings, deviceRules, ...(ocr ? { ocr } : {}) };
}
