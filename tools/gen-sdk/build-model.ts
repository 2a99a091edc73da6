import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { type AstNode, childrenOf, dumpHeaderDeclarations, isNode, kindOf, nameOf, offsetOf, qualTypeOf } from './clang-ast';
import type { CodeModel, EnumMember, EnumModel, FunctionModel, ParamModel, TypeKind, TypeModel } from './code-model';
import { readDocComment, readMemberDoc, trailingDocIn } from './doc-comment';
import { GenSdkError } from './gen-sdk-error';
import { baseTypeName } from './c-types';

function sdkVersionOf(text: string): string {
  const part = (which: string): string => {
    const m = new RegExp(`^\\s*#\\s*define\\s+ORTHANC_PLUGINS_MINIMAL_${which}_NUMBER\\s+(\\d+)\\s*$`, 'm').exec(text);
    if (m?.[1] === undefined) throw new GenSdkError(`header defines no ORTHANC_PLUGINS_MINIMAL_${which}_NUMBER`);
    return m[1];
  };
  return `${part('MAJOR')}.${part('MINOR')}.${part('REVISION')}`;
}

function ownedTagOf(typedef: AstNode): AstNode | undefined {
  const [elaborated] = childrenOf(typedef);
  if (elaborated === undefined || kindOf(elaborated) !== 'ElaboratedType') return undefined;
  return isNode(elaborated.ownedTagDecl) ? elaborated.ownedTagDecl : undefined;
}

function readMembers(enumDecl: AstNode, headerBytes: Buffer, where: string): EnumMember[] {
  const decls = childrenOf(enumDecl).filter((c) => kindOf(c) !== 'FullComment');
  const members: EnumMember[] = [];
  let next = 0;
  decls.forEach((m, i) => {
    if (kindOf(m) !== 'EnumConstantDecl') throw new GenSdkError(`${where}: unexpected ${kindOf(m)} among enum members`);
    const name = nameOf(m);
    const constant = childrenOf(m).find((c) => kindOf(c) === 'ConstantExpr');
    let value = next;
    if (constant !== undefined) {
      if (typeof constant.value !== 'string' || !/^-?\d+$/.test(constant.value)) {
        throw new GenSdkError(`${where}: member ${name} has no integer value`);
      }
      value = Number.parseInt(constant.value, 10);
    }
    next = value + 1;
    let doc = readMemberDoc(m, `${where}.${name}`);
    if (doc === undefined) {
      // clang attaches `/*!< ... */` only when it sits on the member's own
      // line; the header sometimes puts it on the next line, so read the text
      // between this member and the next one.
      const range = isNode(m.range) ? m.range : {};
      const from = offsetOf(range.end);
      const following = decls[i + 1];
      const enumRange = isNode(enumDecl.range) ? enumDecl.range : {};
      const to = following === undefined ? offsetOf(enumRange.end) : offsetOf(following.loc);
      doc = from >= 0 && to > from ? trailingDocIn(headerBytes.subarray(from, to).toString('utf8')) : '';
    }
    members.push({ name, value, doc });
  });
  if (members.length === 0) throw new GenSdkError(`${where}: enumeration without members`);
  return members;
}

function readFunction(decl: AstNode, where: string): FunctionModel {
  const name = nameOf(decl);
  if (decl.variadic === true) throw new GenSdkError(`${where}: variadic functions are not understood`);
  let inline: boolean;
  if (decl.storageClass === 'static' && decl.inline === true) inline = true;
  else if (decl.storageClass === undefined && decl.inline !== true && !childrenOf(decl).some((c) => kindOf(c) === 'CompoundStmt')) inline = false;
  else throw new GenSdkError(`${where}: neither an ORTHANC_PLUGIN_INLINE function nor an entry-point declaration`);

  const params: ParamModel[] = childrenOf(decl)
    .filter((c) => kindOf(c) === 'ParmVarDecl')
    .map((p, i) => {
      const pname = nameOf(p);
      if (pname === '') throw new GenSdkError(`${where}: parameter ${i} has no name`);
      return { name: pname, type: qualTypeOf(p) };
    });
  const signature = qualTypeOf(decl);
  const open = signature.indexOf('(');
  const returnType = open > 0 ? signature.slice(0, open).trim() : '';
  const expected = `(${params.map((p) => p.type).join(', ')})`;
  if (returnType === '' || signature.slice(open) !== expected) {
    throw new GenSdkError(`${where}: signature "${signature}" does not read as <return type>${expected}`);
  }
  const doc = readDocComment(decl, where);
  if (doc === undefined || doc.brief === '') throw new GenSdkError(`${where}: function without documentation`);
  return { name, inline, returnType, params, doc };
}

/** Walks clang's AST of OrthancCPlugin.h into the code model. */
export function buildModel(clang: string, header: string): CodeModel {
  const headerBytes = readFileSync(header);
  const headerText = headerBytes.toString('utf8');
  const decls = dumpHeaderDeclarations(clang, header);

  const enumDecls = new Map<string, AstNode>();
  const completeRecords = new Set<string>();
  for (const d of decls) {
    if (kindOf(d) === 'EnumDecl' && typeof d.id === 'string') enumDecls.set(d.id, d);
    if (kindOf(d) === 'RecordDecl' && d.completeDefinition === true) {
      if (typeof d.id === 'string') completeRecords.add(d.id);
      if (nameOf(d) !== '') completeRecords.add(`struct ${nameOf(d)}`);
    }
  }

  const enums: EnumModel[] = [];
  const internalEnums: string[] = [];
  const typeKinds = new Map<string, TypeKind>();
  const usedEnumDecls = new Set<string>();
  const functions: FunctionModel[] = [];

  for (const d of decls) {
    const kind = kindOf(d);
    const name = nameOf(d);
    if (kind === 'TypedefDecl') {
      const owned = ownedTagOf(d);
      const [inner] = childrenOf(d);
      if (owned !== undefined && kindOf(owned) === 'EnumDecl') {
        const id = typeof owned.id === 'string' ? owned.id : '';
        const enumDecl = enumDecls.get(id);
        if (enumDecl === undefined) throw new GenSdkError(`typedef ${name}: its enum is not declared in the header`);
        usedEnumDecls.add(id);
        typeKinds.set(name, 'enum');
        const doc = readDocComment(enumDecl, name);
        if (name.startsWith('_')) {
          // `_OrthancPluginService` and `_OrthancPluginProperty`: the header's
          // own plumbing behind the inline functions, not part of the API.
          internalEnums.push(name);
          continue;
        }
        if (doc === undefined || doc.brief === '') throw new GenSdkError(`Enumeration without documentation: ${name}`);
        enums.push({ name, doc, members: readMembers(enumDecl, headerBytes, name) });
      } else if (owned !== undefined && kindOf(owned) === 'RecordDecl') {
        const id = typeof owned.id === 'string' ? owned.id : '';
        const tag = qualTypeOf(d);
        typeKinds.set(name, completeRecords.has(id) || completeRecords.has(tag) ? 'struct' : 'opaque');
      } else if (inner !== undefined && kindOf(inner) === 'PointerType' && qualTypeOf(d).includes('(*)')) {
        typeKinds.set(name, 'callback');
      }
      // Any other typedef (none today) gets no kind; it fails below only if a
      // function signature uses it.
    } else if (kind === 'FunctionDecl') {
      functions.push(readFunction(d, name));
    } else if (kind !== 'EnumDecl' && kind !== 'RecordDecl') {
      throw new GenSdkError(`unknown top-level declaration ${kind} ${name} in ${header}`);
    }
  }
  for (const id of enumDecls.keys()) {
    if (!usedEnumDecls.has(id)) throw new GenSdkError(`an enum in ${header} is not declared as "typedef enum { ... } Name;"`);
  }

  const types = new Map<string, TypeModel>();
  for (const f of functions) {
    for (const t of [f.returnType, ...f.params.map((p) => p.type)]) {
      const base = baseTypeName(t);
      if (!base.startsWith('OrthancPlugin')) continue;
      const k = typeKinds.get(base);
      if (k === undefined) throw new GenSdkError(`${f.name}: type ${t} has a declaration shape gen-sdk does not understand`);
      types.set(base, { name: base, kind: k });
    }
  }

  return {
    header: {
      path: header,
      sha256: createHash('sha256').update(headerBytes).digest('hex'),
      sdkVersion: sdkVersionOf(headerText),
    },
    enums,
    internalEnums,
    types: [...types.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    functions,
  };
}
