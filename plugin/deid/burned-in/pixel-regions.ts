/**
 * Per-device burned-in text regions as data: config/deid/pixel-regions.json,
 * validated against pixel-regions.schema.json when the worker starts,
 * before it seals. A bad file is an error naming the file and the key.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { schemaValidator } from '../../core/schema-validator';

import { AiBridgeError } from '../../core/ai-bridge-error';
import { defaultDeidConfigDir } from '../policy';
import type { CoverBox } from './text-regions';

export const PIXEL_REGIONS_FILE = 'pixel-regions.json';
export const PIXEL_REGIONS_SCHEMA_FILE = 'pixel-regions.schema.json';

export interface PixelRegion {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface DeviceRule {
  readonly id: string;
  readonly manufacturer: string;
  readonly modelName: string;
  readonly rows: number;
  readonly columns: number;
  readonly regions: readonly PixelRegion[];
}

/** What a rule is matched on: header attributes of the original (device identity, not the patient's). */
export interface DeviceScreen {
  readonly manufacturer: string;
  readonly manufacturerModelName: string;
  readonly rows: number;
  readonly columns: number;
}

export class PixelRegionsError extends AiBridgeError {
  constructor(message: string, file: string, key: string) {
    super('AIB_DEID_PIXEL_REGIONS_INVALID', message, { file, key }, false);
  }
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PixelRegionsError(`${file}: cannot be read (${e instanceof Error ? e.message : String(e)})`, file, '');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new PixelRegionsError(`${file}: not JSON (${e instanceof Error ? e.message : String(e)})`, file, '');
  }
}

/** "/rules/0/regions/1/width" → "rules[0].regions[1].width". */
function keyOf(instancePath: string, property?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (property !== undefined) parts.push(property);
  return parts.reduce((key, p) => (/^\d+$/.test(p) ? `${key}[${p}]` : key === '' ? p : `${key}.${p}`), '');
}

export class PixelRegionRules {
  readonly rules: readonly DeviceRule[];

  constructor(rules: readonly DeviceRule[]) {
    this.rules = rules;
  }

  /** Loads and validates `file` (default: config/deid/pixel-regions.json). Throws PixelRegionsError. */
  static load(file: string = join(defaultDeidConfigDir(), PIXEL_REGIONS_FILE)): PixelRegionRules {
    const schemaFile = join(defaultDeidConfigDir(), PIXEL_REGIONS_SCHEMA_FILE);
    const schema = readJson(schemaFile) as Record<string, unknown>;
    const data = readJson(file);
    const validate = schemaValidator(schema);
    if (!validate(data)) {
      const first = validate.errors?.[0];
      const extra = first?.keyword === 'additionalProperties' ? (first.params as { additionalProperty: string }).additionalProperty : undefined;
      const required = first?.keyword === 'required' ? (first.params as { missingProperty: string }).missingProperty : undefined;
      const key = keyOf(first?.instancePath ?? '', extra ?? required);
      const what = extra !== undefined ? 'is not a known key' : (first?.message ?? 'is invalid');
      throw new PixelRegionsError(`${file}: ${key === '' ? '(top level)' : key} ${what}`, file, key);
    }
    const rules = (data as { rules: DeviceRule[] }).rules;
    const seen = new Set<string>();
    rules.forEach((rule, i) => {
      if (seen.has(rule.id)) throw new PixelRegionsError(`${file}: rules[${String(i)}].id "${rule.id}" is used twice`, file, `rules[${String(i)}].id`);
      seen.add(rule.id);
      rule.regions.forEach((r, j) => {
        if (r.x + r.width > rule.columns || r.y + r.height > rule.rows)
          throw new PixelRegionsError(`${file}: rules[${String(i)}].regions[${String(j)}] lies outside the ${String(rule.columns)}x${String(rule.rows)} image`, file, `rules[${String(i)}].regions[${String(j)}]`);
      });
    });
    return new PixelRegionRules(rules);
  }

  /** The boxes of every rule that matches the screen (empty when none does). */
  boxesFor(screen: DeviceScreen): CoverBox[] {
    const boxes: CoverBox[] = [];
    for (const rule of this.rules) {
      if (rule.manufacturer.trimEnd() !== screen.manufacturer.trimEnd() || rule.modelName.trimEnd() !== screen.manufacturerModelName.trimEnd()) continue;
      if (rule.rows !== screen.rows || rule.columns !== screen.columns) continue;
      for (const r of rule.regions) boxes.push({ x: r.x, y: r.y, width: r.width, height: r.height, reason: 'device-rule', rule: `device:${rule.id}/${r.id}` });
    }
    return boxes;
  }
}
