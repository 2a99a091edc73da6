import { baseTypeName, methodName, numericType, wireName } from './c-types';
import type { CodeModel, EnumModel, FunctionModel, TypeKind } from './code-model';
import type { CustomList } from './custom-list';
import { GenSdkError } from './gen-sdk-error';

/** How one C parameter is filled by the dispatcher. */
export type ParamRole =
  | { readonly role: 'context'; readonly name: string }
  | { readonly role: 'target'; readonly name: string }
  | { readonly role: 'string'; readonly name: string; readonly nullable: boolean; readonly doc: string }
  | { readonly role: 'number'; readonly name: string; readonly cType: string; readonly integer: boolean; readonly doc: string }
  | { readonly role: 'enum'; readonly name: string; readonly enumModel: EnumModel; readonly flags: boolean; readonly doc: string }
  | { readonly role: 'body'; readonly name: string; readonly doc: string }
  | { readonly role: 'bodySize'; readonly name: string; readonly cType: string };

/** How the C return value (and target buffer) becomes the `result` frame. */
export type ResultRole =
  | { readonly role: 'void' }
  | { readonly role: 'errorCode' }
  | { readonly role: 'buffer' }
  | { readonly role: 'ownedString' }
  | { readonly role: 'constString' }
  | { readonly role: 'number'; readonly cType: string }
  | { readonly role: 'enum'; readonly enumModel: EnumModel };

export interface GeneratedCall {
  readonly fn: FunctionModel;
  /** Wire name: `RestApiGet`. */
  readonly wire: string;
  /** Client method: `restApiGet`. */
  readonly method: string;
  readonly params: readonly ParamRole[];
  readonly result: ResultRole;
}

export type Classification =
  | { readonly status: 'generated'; readonly call: GeneratedCall }
  | { readonly status: 'custom'; readonly where: string; readonly why: string }
  | { readonly status: 'unsupported'; readonly reason: string };

export interface ClassifiedFunction {
  readonly fn: FunctionModel;
  readonly classification: Classification;
}

const TS_RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super',
  'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static',
  'implements', 'interface', 'package', 'private', 'protected', 'public', 'await', 'arguments', 'eval',
]);

/** Thrown inside the classifier only: the first rule a signature breaks. */
class Unsupported extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function paramDoc(fn: FunctionModel, name: string): string {
  return fn.doc.params.find((p) => p.name === name)?.text ?? '';
}

function describePointer(name: string, type: string, kinds: ReadonlyMap<string, TypeKind>): string {
  const base = baseTypeName(type);
  const kind = kinds.get(base);
  if (type.includes('*const *') || type === 'const char **' || type === 'char **') return `string array parameter \`${name}\` (${type})`;
  if (kind === 'opaque') return `parameter \`${name}\` is an opaque handle ${base}*`;
  if (kind === 'struct') return `parameter \`${name}\` points to the struct ${base}`;
  if (base === 'void') return `untyped pointer parameter \`${name}\` (${type})`;
  if (base === 'char') return `writable string parameter \`${name}\` (${type})`;
  if (numericType(base) !== undefined) return `output pointer parameter \`${name}\` (${type})`;
  return `parameter \`${name}\` has the unsupported type ${type}`;
}

function classifyParams(fn: FunctionModel, model: CodeModel, kinds: ReadonlyMap<string, TypeKind>): ParamRole[] {
  const [first, ...rest] = fn.params;
  if (first?.type !== 'OrthancPluginContext *') throw new Unsupported('no `OrthancPluginContext*` first parameter: not a call into Orthanc');
  const roles: ParamRole[] = [{ role: 'context', name: first.name }];
  let bodyName = '';
  for (let i = 0; i < rest.length; i++) {
    const p = rest[i];
    if (p === undefined) break;
    const base = baseTypeName(p.type);
    const kind = kinds.get(base);
    const doc = paramDoc(fn, p.name);
    if (TS_RESERVED.has(p.name)) throw new GenSdkError(`${fn.name}: parameter name \`${p.name}\` is a reserved word in TypeScript`);
    if (p.type === 'OrthancPluginMemoryBuffer *') {
      if (i !== 0) throw new Unsupported(`memory buffer output \`${p.name}\` is not the second parameter`);
      if (fn.returnType !== 'OrthancPluginErrorCode') throw new Unsupported(`memory buffer output \`${p.name}\` without an OrthancPluginErrorCode return`);
      roles.push({ role: 'target', name: p.name });
    } else if (p.type === 'const char *') {
      // NULL is only sent where the header says the parameter may be NULL;
      // elsewhere Orthanc would dereference it.
      roles.push({ role: 'string', name: p.name, nullable: /\bNULL\b/.test(doc), doc });
    } else if (p.type === 'const void *') {
      const size = rest[i + 1];
      const sizeType = size === undefined ? undefined : numericType(size.type);
      if (bodyName !== '') throw new Unsupported(`more than one \`const void*\` buffer (\`${bodyName}\`, \`${p.name}\`)`);
      // The size must be the very next parameter and be named as one
      // (`size`, `bodySize`): CompressJpegImage's `buffer` is followed by
      // `quality`, and its length comes from width/height/pitch instead.
      if (size === undefined || sizeType?.integer !== true || !/(^s|S)ize$/.test(size.name)) {
        throw new Unsupported(`\`const void*\` parameter \`${p.name}\` is not followed by its size parameter`);
      }
      bodyName = p.name;
      roles.push({ role: 'body', name: p.name, doc }, { role: 'bodySize', name: size.name, cType: size.type });
      i++;
    } else if (kind === 'enum' && p.type === base) {
      const enumModel = model.enums.find((e) => e.name === base);
      if (enumModel === undefined) throw new Unsupported(`parameter \`${p.name}\` uses the internal enum ${base}`);
      roles.push({ role: 'enum', name: p.name, enumModel, flags: base.endsWith('Flags'), doc });
    } else if (kind === 'callback') {
      throw new Unsupported(`parameter \`${p.name}\` is a callback (${p.type})`);
    } else if (numericType(p.type) !== undefined) {
      const n = numericType(p.type);
      roles.push({ role: 'number', name: p.name, cType: p.type, integer: n?.integer ?? false, doc });
    } else if (p.type.includes('*')) {
      throw new Unsupported(describePointer(p.name, p.type, kinds));
    } else {
      throw new Unsupported(`parameter \`${p.name}\` has the unsupported type ${p.type}`);
    }
  }
  return roles;
}

function classifyResult(fn: FunctionModel, model: CodeModel, kinds: ReadonlyMap<string, TypeKind>, hasTarget: boolean): ResultRole {
  const t = fn.returnType;
  const base = baseTypeName(t);
  if (t === 'OrthancPluginErrorCode') return hasTarget ? { role: 'buffer' } : { role: 'errorCode' };
  if (t === 'void') return { role: 'void' };
  if (t === 'char *') return { role: 'ownedString' };
  if (t === 'const char *') return { role: 'constString' };
  const n = numericType(t);
  if (n !== undefined) return { role: 'number', cType: t };
  if (kinds.get(base) === 'enum' && t === base) {
    const enumModel = model.enums.find((e) => e.name === base);
    if (enumModel !== undefined) return { role: 'enum', enumModel };
  }
  if (kinds.get(base) === 'opaque') throw new Unsupported(`returns an opaque handle ${base}*`);
  if (base === 'void') throw new Unsupported(`returns a raw pointer (${t}) without a size`);
  throw new Unsupported(`unsupported return type ${t}`);
}

function classifyOne(fn: FunctionModel, model: CodeModel, custom: CustomList, kinds: ReadonlyMap<string, TypeKind>): Classification {
  const c = custom.custom.get(fn.name);
  if (c !== undefined) return { status: 'custom', where: c.where, why: c.why };
  const x = custom.excluded.get(fn.name);
  if (x !== undefined) return { status: 'unsupported', reason: x.why };
  if (!fn.inline) return { status: 'unsupported', reason: 'entry point the plugin exports to Orthanc, not an SDK call' };
  if (fn.name.startsWith('OrthancPluginRegister')) {
    const callback = fn.params.some((p) => kinds.get(baseTypeName(p.type)) === 'callback');
    return {
      status: 'unsupported',
      reason: callback
        ? 'callback registration: lives in native/orthanc (the gateway receives events over the socket)'
        : 'registration of a plugin-wide declaration: done once by native/orthanc at load, not from the gateway',
    };
  }
  try {
    const params = classifyParams(fn, model, kinds);
    const result = classifyResult(fn, model, kinds, params.some((p) => p.role === 'target'));
    return { status: 'generated', call: { fn, wire: wireName(fn.name), method: methodName(fn.name), params, result } };
  } catch (e) {
    if (e instanceof Unsupported) return { status: 'unsupported', reason: e.reason };
    throw e;
  }
}

/** Classifies every header function; fails on a stale custom.json entry. */
export function classifyAll(model: CodeModel, custom: CustomList): ClassifiedFunction[] {
  const names = new Set(model.functions.map((f) => f.name));
  for (const name of [...custom.custom.keys(), ...custom.excluded.keys()]) {
    if (!names.has(name)) throw new GenSdkError(`custom.json names ${name}, which the header does not declare`);
  }
  const kinds = new Map(model.types.map((t) => [t.name, t.kind] as const));
  const out = model.functions.map((fn) => ({ fn, classification: classifyOne(fn, model, custom, kinds) }));
  const statuses = new Set(['generated', 'custom', 'unsupported']);
  for (const c of out) {
    if (!statuses.has(c.classification.status)) throw new GenSdkError(`${c.fn.name} is neither generated, custom nor unsupported`);
    if (c.classification.status === 'unsupported' && c.classification.reason.trim() === '') {
      throw new GenSdkError(`${c.fn.name} is unsupported without a reason`);
    }
  }
  const wires = new Set<string>();
  for (const c of out) {
    if (c.classification.status !== 'generated') continue;
    if (wires.has(c.classification.call.wire)) throw new GenSdkError(`two functions share the wire name ${c.classification.call.wire}`);
    wires.add(c.classification.call.wire);
  }
  return out;
}
