/**
 * config/deid/burned-in-text.json: OCR settings and the text that may stay
 * visible, validated against burned-in-text.schema.json. A defect is an
 * OcrError (AIB_DEID_BURNED_IN_CONFIG) naming the file and the key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { schemaValidator } from '../../core/schema-validator';

import { defaultDeidConfigDir } from '../policy/load-policy';
import type { DetectionOptions, RecognitionOptions } from './ocr/ocr-engine';
import { OcrError } from './ocr/ocr-error';

export const BURNED_IN_TEXT_FILE = 'burned-in-text.json';
export const BURNED_IN_TEXT_SCHEMA_FILE = 'burned-in-text.schema.json';

export interface KeepPattern {
  readonly name: string;
  readonly regex: RegExp;
}

export interface BurnedInTextConfig {
  readonly detection: DetectionOptions & { readonly maxSideByModality: Readonly<Record<string, number>> };
  readonly recognition: RecognitionOptions & {
    readonly minConfidence: number;
    readonly readEveryRegion: boolean;
    readonly confirmBelowAspect: number;
    readonly emptyReadingIsText: boolean;
  };
  readonly cover: { readonly padPixels: number; readonly padFraction: number };
  readonly identifiers: { readonly idMinDigits: number; readonly labels: ReadonlySet<string> };
  readonly keep: {
    readonly enabled: boolean;
    readonly minConfidence: number;
    readonly maxCharacters: number;
    readonly words: ReadonlySet<string>;
    readonly patterns: readonly KeepPattern[];
  };
}

interface FileShape {
  detection: BurnedInTextConfig['detection'];
  recognition: BurnedInTextConfig['recognition'];
  cover: BurnedInTextConfig['cover'];
  identifiers: { idMinDigits: number; labels: string[] };
  keep: { enabled: boolean; minConfidence: number; maxCharacters: number; words: string[]; patterns: { name: string; regex: string }[] };
}

function bad(file: string, key: string, what: string): OcrError {
  return new OcrError('AIB_DEID_BURNED_IN_CONFIG', `${file}: ${key}: ${what}`, { file, key });
}

/** Validates the parsed file; `file` names it in errors. */
export function parseBurnedInTextConfig(json: unknown, schema: unknown, file: string): BurnedInTextConfig {
  const validate = schemaValidator(schema as object);
  if (!validate(json)) {
    const first = validate.errors?.[0];
    const extra = first?.keyword === 'additionalProperties' ? ` "${String((first.params as { additionalProperty?: unknown }).additionalProperty)}"` : '';
    const key = (first?.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || '(top level)';
    throw bad(file, key, `does not match ${BURNED_IN_TEXT_SCHEMA_FILE}: ${first?.message ?? 'invalid'}${extra}`);
  }
  const data = json as FileShape;
  const patterns = data.keep.patterns.map((p, i) => {
    try {
      return { name: p.name, regex: new RegExp(p.regex, 'u') };
    } catch (e) {
      throw bad(file, `keep.patterns[${String(i)}].regex`, `not a valid regular expression (${e instanceof Error ? e.message : String(e)})`);
    }
  });
  return {
    detection: data.detection,
    recognition: data.recognition,
    cover: data.cover,
    identifiers: { idMinDigits: data.identifiers.idMinDigits, labels: new Set(data.identifiers.labels.map((l) => l.toLowerCase())) },
    keep: { enabled: data.keep.enabled, minConfidence: data.keep.minConfidence, maxCharacters: data.keep.maxCharacters, words: new Set(data.keep.words), patterns },
  };
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OcrError('AIB_DEID_BURNED_IN_CONFIG', `${file}: cannot be read (${e instanceof Error ? e.message : String(e)})`, { file });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new OcrError('AIB_DEID_BURNED_IN_CONFIG', `${file}: not JSON (${e instanceof Error ? e.message : String(e)})`, { file });
  }
}

/** Reads and validates `file` (default: config/deid/burned-in-text.json) against the committed schema. */
export function loadBurnedInTextConfig(file?: string): BurnedInTextConfig {
  const dir = defaultDeidConfigDir();
  const path = file ?? join(dir, BURNED_IN_TEXT_FILE);
  return parseBurnedInTextConfig(readJson(path), readJson(join(dir, BURNED_IN_TEXT_SCHEMA_FILE)), path);
}
