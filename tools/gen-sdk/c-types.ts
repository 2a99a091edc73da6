/** The identifier a C type is built on: `const OrthancPluginImage *` → `OrthancPluginImage`. */
export function baseTypeName(t: string): string {
  return t.replace(/\bconst\b/g, ' ').replace(/\*/g, ' ').trim().replace(/\s+/g, ' ');
}

export interface NumericType {
  readonly cType: string;
  readonly integer: boolean;
}

// Scalar C types that cross the socket as a JSON number. 64-bit integers are
// included: they are exact up to 2^53 in JSON, and the dispatcher range-checks.
const NUMERIC: readonly NumericType[] = [
  { cType: 'int', integer: true },
  { cType: 'int8_t', integer: true },
  { cType: 'int16_t', integer: true },
  { cType: 'int32_t', integer: true },
  { cType: 'int64_t', integer: true },
  { cType: 'uint8_t', integer: true },
  { cType: 'uint16_t', integer: true },
  { cType: 'uint32_t', integer: true },
  { cType: 'uint64_t', integer: true },
  { cType: 'float', integer: false },
  { cType: 'double', integer: false },
];

export function numericType(t: string): NumericType | undefined {
  return NUMERIC.find((n) => n.cType === t);
}

export const SDK_PREFIX = 'OrthancPlugin';

/** `OrthancPluginRestApiGet` → `RestApiGet` (the wire name of the call). */
export function wireName(cName: string): string {
  return cName.startsWith(SDK_PREFIX) ? cName.slice(SDK_PREFIX.length) : cName;
}

/** `OrthancPluginRestApiGet` → `restApiGet` (the client method). */
export function methodName(cName: string): string {
  const w = wireName(cName);
  return w.charAt(0).toLowerCase() + w.slice(1);
}

/** `OrthancPluginChangeType` → `ChangeType`. */
export function enumTypeName(cName: string): string {
  return wireName(cName);
}

/** `OrthancPluginChangeType_NewInstance` in `OrthancPluginChangeType` → `NewInstance`. */
export function enumMemberName(enumName: string, member: string): string {
  const prefix = `${enumName}_`;
  return member.startsWith(prefix) ? member.slice(prefix.length) : member;
}
