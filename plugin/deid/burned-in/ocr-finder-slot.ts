/**
 * THE single place where the OCR text finder plugs into Clean Pixel Data.
 *
 * The de-id worker calls this once, before it seals (models are read from
 * node_modules then, nothing after). Return the OCR TextRegionFinder
 * (PP-OCR through onnxruntime-node, branch `ocr`) here; while this returns
 * undefined, only the per-device rules of config/deid/pixel-regions.json
 * search the pixels, and an image that needs cleaning but matches no rule is
 * quarantined (AIB_DEID_PIXELS_NOT_SEARCHED) rather than passed on.
 */
import type { TextRegionFinder } from './text-regions';

export function createOcrFinder(): Promise<TextRegionFinder | undefined> {
  return Promise.resolve(undefined);
}
