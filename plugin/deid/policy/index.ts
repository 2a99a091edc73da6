export { buildPolicy, expectedMethodCodes } from './build-policy';
export type { CleanedPublicAttribute, DeidPolicy, DeidProfile, PublicAttributeLists, SafePublicAttribute } from './deid-policy';
export {
  defaultDeidConfigDir,
  loadDeidConfig,
  loadPolicy,
  parseDeidTable,
  parseProfiles,
  policyFor,
  type DeidProfiles,
  type LoadedDeidConfig,
} from './load-policy';
export { OPTION_CODES } from './option-codes';
export { DeidPolicyError, type DeidPolicyErrorCode } from './policy-error';
export { RESOLVED_ACTIONS, type PolicyMask, type PolicyTable, type ResolvedAction } from './policy-table';
export { resolveCombined, resolveRowAction } from './resolve-action';
export { OPTION_COLUMNS, TABLE_ACTIONS, type DeidTableFile, type DeidTableRow, type OptionField, type TableAction } from './table-format';
