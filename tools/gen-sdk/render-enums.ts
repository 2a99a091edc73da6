import { enumMemberName, enumTypeName } from './c-types';
import type { CodeModel, EnumModel } from './code-model';
import { GenSdkError } from './gen-sdk-error';
import { banner, docBlock } from './render-text';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Members named `_OrthancPluginX_INTERNAL` only force the C enum to 32 bits. */
export function publicMembers(e: EnumModel): EnumModel['members'] {
  return e.members.filter((m) => !m.name.startsWith('_'));
}

function renderEnum(e: EnumModel): string {
  const name = enumTypeName(e.name);
  const doc = [e.doc.brief, ...e.doc.details, ...e.doc.notes, `C type: \`${e.name}\`.`];
  if (e.doc.deprecated !== '') doc.push(`@deprecated ${e.doc.deprecated}`);
  let out = docBlock(doc, '');
  out += `export enum ${name} {\n`;
  for (const m of publicMembers(e)) {
    const member = enumMemberName(e.name, m.name);
    if (!IDENTIFIER.test(member)) throw new GenSdkError(`${e.name}: member ${m.name} does not make a TypeScript identifier`);
    out += docBlock([m.doc], '  ');
    out += `  ${member} = ${m.value},\n`;
  }
  out += '}\n';
  return out;
}

/** plugin/sdk/generated/enums.ts */
export function renderEnums(model: CodeModel, modelSha256: string): string {
  const parts = [
    `${banner(modelSha256)}\n// Enumerations of OrthancCPlugin.h ${model.header.sdkVersion}, values as in the header.\n`,
    ...model.enums.map(renderEnum),
  ];
  return parts.join('\n');
}
