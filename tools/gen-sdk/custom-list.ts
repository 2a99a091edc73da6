import { readFileSync } from 'node:fs';

import { GenSdkError } from './gen-sdk-error';

export interface CustomEntry {
  readonly name: string;
  /** The hand-written file that replaces the binding. */
  readonly where: string;
  readonly why: string;
}

export interface ExcludedEntry {
  readonly name: string;
  readonly why: string;
}

/**
 * plugin/sdk/model/custom.json: the functions written by hand (`custom`) and
 * the ones that fit the generated shape but must not be callable from the
 * gateway (`excluded`), each with its reason.
 */
export interface CustomList {
  readonly custom: ReadonlyMap<string, CustomEntry>;
  readonly excluded: ReadonlyMap<string, ExcludedEntry>;
}

function entries(root: Record<string, unknown>, key: string, file: string): Record<string, unknown>[] {
  const v = root[key];
  if (!Array.isArray(v)) throw new GenSdkError(`${file}: "${key}" must be an array`);
  return (v as unknown[]).map((e, i) => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new GenSdkError(`${file}: ${key}[${i}] must be an object`);
    return e as Record<string, unknown>;
  });
}

function field(e: Record<string, unknown>, key: string, where: string): string {
  const v = e[key];
  if (typeof v !== 'string' || v.trim() === '') throw new GenSdkError(`${where}: "${key}" must be a non-empty string`);
  return v;
}

export function loadCustomList(file: string): CustomList {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new GenSdkError(`${file}: must be a JSON object`);
  const root = raw as Record<string, unknown>;
  const custom = new Map<string, CustomEntry>();
  const excluded = new Map<string, ExcludedEntry>();
  entries(root, 'custom', file).forEach((e, i) => {
    const where = `${file}: custom[${i}]`;
    const name = field(e, 'name', where);
    if (custom.has(name)) throw new GenSdkError(`${where}: ${name} is listed twice`);
    custom.set(name, { name, where: field(e, 'where', where), why: field(e, 'why', where) });
  });
  entries(root, 'excluded', file).forEach((e, i) => {
    const where = `${file}: excluded[${i}]`;
    const name = field(e, 'name', where);
    if (excluded.has(name) || custom.has(name)) throw new GenSdkError(`${where}: ${name} is listed twice`);
    excluded.set(name, { name, why: field(e, 'why', where) });
  });
  return { custom, excluded };
}
