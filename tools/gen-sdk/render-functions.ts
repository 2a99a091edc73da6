import { enumTypeName } from './c-types';
import type { ClassifiedFunction, GeneratedCall, ParamRole, ResultRole } from './classify';
import type { CodeModel } from './code-model';
import { banner, docBlock } from './render-text';

type ClientParam = Extract<ParamRole, { role: 'string' | 'number' | 'enum' | 'body' }>;

function clientParams(call: GeneratedCall): ClientParam[] {
  return call.params.filter((p): p is ClientParam => p.role === 'string' || p.role === 'number' || p.role === 'enum' || p.role === 'body');
}

function tsType(p: ClientParam): string {
  switch (p.role) {
    case 'string':
      return p.nullable ? 'string | null' : 'string';
    case 'number':
      return 'number';
    case 'enum':
      // A flags value is a bitwise OR of members, which TypeScript types as
      // number (and typescript-eslint refuses to pass as the enum).
      return p.flags ? 'number' : enumTypeName(p.enumModel.name);
    case 'body':
      return 'Buffer';
  }
}

function resultType(r: ResultRole): string {
  switch (r.role) {
    case 'void':
    case 'errorCode':
      return 'void';
    case 'buffer':
      return 'Buffer';
    case 'ownedString':
    case 'constString':
      return 'string';
    case 'number':
      return 'number';
    case 'enum':
      return enumTypeName(r.enumModel.name);
  }
}

function resultDoc(r: ResultRole): string {
  switch (r.role) {
    case 'void':
      return 'nothing (the C function returns void).';
    case 'errorCode':
      return 'nothing; success resolves the promise, an Orthanc error code rejects it.';
    case 'buffer':
      return 'the bytes Orthanc wrote into the OrthancPluginMemoryBuffer (the result frame body).';
    case 'ownedString':
    case 'constString':
      return 'the string Orthanc returned; a NULL return rejects the promise.';
    case 'number':
      return 'the number Orthanc returned.';
    case 'enum':
      return `the ${enumTypeName(r.enumModel.name)} value Orthanc returned.`;
  }
}

const READERS: Readonly<Record<string, string>> = {
  bufferOf: `/** The result frame body of a call whose C function fills an OrthancPluginMemoryBuffer. */
function bufferOf(fn: string, reply: SdkCallReply): Buffer {
  if (reply.body === undefined) throw new OrthancSdkError(fn, -1, 'the result frame has no body');
  return reply.body;
}
`,
  stringOf: `/** The \`value\` of a call whose C function returns a string. */
function stringOf(fn: string, reply: SdkCallReply): string {
  if (typeof reply.value !== 'string') throw new OrthancSdkError(fn, -1, 'the result value is not a string');
  return reply.value;
}
`,
  numberOf: `/** The \`value\` of a call whose C function returns a number. */
function numberOf(fn: string, reply: SdkCallReply): number {
  if (typeof reply.value !== 'number') throw new OrthancSdkError(fn, -1, 'the result value is not a number');
  return reply.value;
}
`,
};

function readerFor(r: ResultRole): string | undefined {
  switch (r.role) {
    case 'void':
    case 'errorCode':
      return undefined;
    case 'buffer':
      return 'bufferOf';
    case 'ownedString':
    case 'constString':
      return 'stringOf';
    case 'number':
    case 'enum':
      return 'numberOf';
  }
}

function paramDoc(p: ClientParam): string {
  return p.role === 'enum' && p.flags ? `${p.doc} A bitwise OR of \`${enumTypeName(p.enumModel.name)}\` values.` : p.doc;
}

function renderTypes(call: GeneratedCall): string {
  const params = clientParams(call);
  let out = docBlock([`Arguments of \`${call.fn.name}\` (the \`${call.wire}\` call).`], '');
  if (params.length === 0) {
    out += `export type ${call.wire}Args = Readonly<Record<string, never>>;\n`;
  } else {
    out += `export interface ${call.wire}Args {\n`;
    for (const p of params) {
      out += docBlock([paramDoc(p)], '  ');
      out += `  readonly ${p.name}: ${tsType(p)};\n`;
    }
    out += '}\n';
  }
  out += docBlock([`Result of \`${call.fn.name}\`: ${resultDoc(call.result)}`], '');
  // `void` is only valid as a return type; the alias says `undefined`.
  const alias = resultType(call.result);
  out += `export type ${call.wire}Result = ${alias === 'void' ? 'undefined' : alias};\n`;
  return out;
}

function renderMethod(call: GeneratedCall): string {
  const params = clientParams(call);
  const d = call.fn.doc;
  const doc = [d.brief, ...d.details, ...d.notes, `Calls \`${call.fn.name}\` through the plugin.`];
  for (const p of params) doc.push(`@param ${p.name} - ${paramDoc(p)}`);
  // The header's @return speaks C (status codes, who frees the string); only
  // a number's meaning carries over to the binding unchanged.
  const r = call.result.role;
  if (r === 'number' || r === 'enum') doc.push(`@returns ${d.returns !== '' ? d.returns : resultDoc(call.result)}`);
  else if (r !== 'void' && r !== 'errorCode') doc.push(`@returns ${resultDoc(call.result)}`);
  doc.push('@throws OrthancSdkError when Orthanc answers with an error or the call cannot reach it.');
  if (d.deprecated !== '') doc.push(`@deprecated ${d.deprecated}`);
  const signature = params.map((p) => `${p.name}: ${tsType(p)}`).join(', ');
  const args = params.filter((p) => p.role !== 'body').map((p) => p.name);
  const body = params.find((p) => p.role === 'body');
  const callArgs = [`'${call.wire}'`, args.length === 0 ? '{}' : `{ ${args.join(', ')} }`];
  if (body !== undefined) callArgs.push(body.name);
  const transportCall = `this.#transport.call(${callArgs.join(', ')})`;
  const ret = resultType(call.result);
  let out = docBlock(doc, '  ');
  out += `  async ${call.method}(${signature}): Promise<${ret}> {\n`;
  const reader = readerFor(call.result);
  if (reader === undefined) {
    out += `    await ${transportCall};\n`;
  } else if (call.result.role === 'enum') {
    out += `    return ${reader}('${call.wire}', await ${transportCall}) as ${ret};\n`;
  } else {
    out += `    return ${reader}('${call.wire}', await ${transportCall});\n`;
  }
  out += '  }\n';
  return out;
}

/** plugin/sdk/generated/functions.ts */
export function renderFunctions(model: CodeModel, classified: readonly ClassifiedFunction[], modelSha256: string): string {
  const calls = classified.flatMap((c) => (c.classification.status === 'generated' ? [c.classification.call] : []));
  const enumNames = new Set<string>();
  const readers = new Set<string>();
  for (const call of calls) {
    for (const p of call.params) if (p.role === 'enum' && !p.flags) enumNames.add(enumTypeName(p.enumModel.name));
    if (call.result.role === 'enum') enumNames.add(enumTypeName(call.result.enumModel.name));
    const r = readerFor(call.result);
    if (r !== undefined) readers.add(r);
  }
  let out = `${banner(modelSha256)}\n`;
  out += `// Typed calls into OrthancCPlugin.h ${model.header.sdkVersion}; plugin/sdk/generated/coverage.md lists the functions left out and why.\n\n`;
  out += "import type { SdkCallReply, SdkCallTransport } from '../call-transport';\n";
  out += "import { OrthancSdkError } from '../orthanc-sdk-error';\n";
  if (enumNames.size > 0) out += `import type { ${[...enumNames].sort().join(', ')} } from './enums';\n`;
  out += '\n';
  out += docBlock(['Wire names (`call.fn`) of every generated SDK call, in header order.'], '');
  out += `export const GENERATED_SDK_CALLS: readonly string[] = [\n${calls.map((c) => `  '${c.wire}',\n`).join('')}];\n\n`;
  out += calls.map(renderTypes).join('\n');
  out += '\n';
  for (const name of Object.keys(READERS).filter((r) => readers.has(r))) out += `${READERS[name] ?? ''}\n`;
  out += docBlock(
    [
      'Typed client for the Orthanc SDK functions the plugin executes on behalf of the gateway.',
      'Each method sends one `call` frame through the transport and decodes its `result` frame as docs/wire-protocol.md "SDK calls" describes.',
    ],
    '',
  );
  out += 'export class SdkClient {\n';
  out += '  readonly #transport: SdkCallTransport;\n\n';
  out += '  constructor(transport: SdkCallTransport) {\n    this.#transport = transport;\n  }\n';
  for (const call of calls) out += `\n${renderMethod(call)}`;
  out += '}\n';
  return out;
}
