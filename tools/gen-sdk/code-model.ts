import { readFileSync } from 'node:fs';

import { GenSdkError } from './gen-sdk-error';

/** Documentation taken from the header's Doxygen comment of one declaration. */
export interface DocComment {
  /** `@brief`, or the first paragraph when there is none. */
  readonly brief: string;
  /** The other paragraphs, in header order. */
  readonly details: readonly string[];
  /** `@param name text`, in header order. */
  readonly params: readonly { readonly name: string; readonly text: string }[];
  /** `@return` / `@result`, empty when absent. */
  readonly returns: string;
  /** `@note`, `@warning`, `@remark`, in header order. */
  readonly notes: readonly string[];
  /** `@deprecated` text, empty when the declaration is not deprecated. */
  readonly deprecated: string;
}

export interface EnumMember {
  readonly name: string;
  readonly value: number;
  /** Empty when the header leaves the member undocumented. */
  readonly doc: string;
}

export interface EnumModel {
  readonly name: string;
  readonly doc: DocComment;
  readonly members: readonly EnumMember[];
}

export interface ParamModel {
  readonly name: string;
  /** The type as clang spells it, e.g. `const char *`, `OrthancPluginContext *`. */
  readonly type: string;
}

export interface FunctionModel {
  readonly name: string;
  /** true for `ORTHANC_PLUGIN_INLINE` SDK functions, false for entry points the plugin exports. */
  readonly inline: boolean;
  readonly returnType: string;
  readonly params: readonly ParamModel[];
  readonly doc: DocComment;
}

/** What a named header type is, as far as the classification rules care. */
export type TypeKind = 'enum' | 'struct' | 'opaque' | 'callback';

export interface TypeModel {
  readonly name: string;
  readonly kind: TypeKind;
}

export interface CodeModel {
  readonly header: {
    readonly path: string;
    readonly sha256: string;
    readonly sdkVersion: string;
  };
  readonly enums: readonly EnumModel[];
  /** Enums of the header's own plumbing (`_OrthancPluginService`), undocumented on purpose and never rendered. */
  readonly internalEnums: readonly string[];
  /** Every `OrthancPlugin*` type named in a function signature. */
  readonly types: readonly TypeModel[];
  readonly functions: readonly FunctionModel[];
}

export function serializeModel(model: CodeModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}

// The committed model is data read back from disk: check its shape field by
// field rather than trusting a cast, so a hand edit fails here and not in a
// renderer.

type Json = Record<string, unknown>;

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new GenSdkError(`model: ${where} must be an object`);
  return v as Json;
}

function str(o: Json, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new GenSdkError(`model: ${where}.${key} must be a string`);
  return v;
}

function num(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new GenSdkError(`model: ${where}.${key} must be an integer`);
  return v;
}

function arr(o: Json, key: string, where: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new GenSdkError(`model: ${where}.${key} must be an array`);
  return v as unknown[];
}

function strings(o: Json, key: string, where: string): string[] {
  return arr(o, key, where).map((v, i) => {
    if (typeof v !== 'string') throw new GenSdkError(`model: ${where}.${key}[${i}] must be a string`);
    return v;
  });
}

function readDoc(v: unknown, where: string): DocComment {
  const o = obj(v, where);
  return {
    brief: str(o, 'brief', where),
    details: strings(o, 'details', where),
    params: arr(o, 'params', where).map((p, i) => {
      const po = obj(p, `${where}.params[${i}]`);
      return { name: str(po, 'name', `${where}.params[${i}]`), text: str(po, 'text', `${where}.params[${i}]`) };
    }),
    returns: str(o, 'returns', where),
    notes: strings(o, 'notes', where),
    deprecated: str(o, 'deprecated', where),
  };
}

const TYPE_KINDS: readonly TypeKind[] = ['enum', 'struct', 'opaque', 'callback'];

export function parseModel(text: string, source: string): CodeModel {
  let raw: unknown;
  try {
    raw = JSON.parse(text) as unknown;
  } catch (e) {
    throw new GenSdkError(`${source} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const root = obj(raw, 'root');
  const header = obj(root.header, 'header');
  const enums = arr(root, 'enums', 'root').map((e, i): EnumModel => {
    const w = `enums[${i}]`;
    const o = obj(e, w);
    return {
      name: str(o, 'name', w),
      doc: readDoc(o.doc, `${w}.doc`),
      members: arr(o, 'members', w).map((m, j) => {
        const mw = `${w}.members[${j}]`;
        const mo = obj(m, mw);
        return { name: str(mo, 'name', mw), value: num(mo, 'value', mw), doc: str(mo, 'doc', mw) };
      }),
    };
  });
  const types = arr(root, 'types', 'root').map((t, i): TypeModel => {
    const o = obj(t, `types[${i}]`);
    const kind = str(o, 'kind', `types[${i}]`);
    const known = TYPE_KINDS.find((k) => k === kind);
    if (known === undefined) throw new GenSdkError(`model: types[${i}].kind "${kind}" is not one of ${TYPE_KINDS.join(', ')}`);
    return { name: str(o, 'name', `types[${i}]`), kind: known };
  });
  const functions = arr(root, 'functions', 'root').map((f, i): FunctionModel => {
    const w = `functions[${i}]`;
    const o = obj(f, w);
    if (typeof o.inline !== 'boolean') throw new GenSdkError(`model: ${w}.inline must be a boolean`);
    return {
      name: str(o, 'name', w),
      inline: o.inline,
      returnType: str(o, 'returnType', w),
      params: arr(o, 'params', w).map((p, j) => {
        const po = obj(p, `${w}.params[${j}]`);
        return { name: str(po, 'name', `${w}.params[${j}]`), type: str(po, 'type', `${w}.params[${j}]`) };
      }),
      doc: readDoc(o.doc, `${w}.doc`),
    };
  });
  return {
    header: {
      path: str(header, 'path', 'header'),
      sha256: str(header, 'sha256', 'header'),
      sdkVersion: str(header, 'sdkVersion', 'header'),
    },
    enums,
    internalEnums: strings(root, 'internalEnums', 'root'),
    types,
    functions,
  };
}

export function loadModel(file: string): CodeModel {
  return parseModel(readFileSync(file, 'utf8'), file);
}
