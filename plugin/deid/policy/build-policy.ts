/**
 * Table E.1-1 + a validated profile → the DeidPolicy (PolicyTable and output
 * markers). Pure; load-policy.ts reads and validates the files.
 */
import { DeidentificationMethod, type CodedConcept } from '../../core/codes';
import type { DeidPolicy, DeidProfile, PublicAttributeLists, SafePublicAttribute } from './deid-policy';
import { OPTION_CODES } from './option-codes';
import { DeidPolicyError } from './policy-error';
import type { PolicyMask, ResolvedAction } from './policy-table';
import { resolveCombined, resolveRowAction } from './resolve-action';
import type { DeidTableFile } from './table-format';

const EXACT_TAG = /^[0-9a-f]{8}$/;

/** The CID 7050 codes a profile must record: 113100, then one per option in the profile's order. */
export function expectedMethodCodes(profile: Pick<DeidProfile, 'options'>): CodedConcept[] {
  return [DeidentificationMethod.BasicApplicationConfidentialityProfile, ...profile.options.map((o) => OPTION_CODES[o])];
}

export function buildPolicy(table: DeidTableFile, profile: DeidProfile, lists: PublicAttributeLists): DeidPolicy {
  const actions: Record<string, ResolvedAction> = {};
  const strictActions: Record<string, ResolvedAction> = {};
  const masks: PolicyMask[] = [];
  for (const row of table.rows) {
    // The private-attributes row is carried by privateCreatorsKept/privateKept, not by a key.
    if (row.tag === 'private') continue;
    const action = resolveRowAction(row, profile.options);
    if (EXACT_TAG.test(row.tag)) {
      actions[row.tag] = action;
      strictActions[row.tag] = resolveCombined(row.basic);
    }
    else masks.push({ mask: row.tag, action });
  }
  const opts = new Set(profile.options);
  // Table E.1-1 gives descriptors X in the Basic Profile and C under Clean
  // Descriptors (e.g. Series Description, Derivation Description); the cleaned
  // list extends that rule to the free text of IODs the table does not name.
  const cleanedAction: ResolvedAction = opts.has('cleanDescriptors') ? 'C' : 'X';
  const identifyingItems: Record<string, ResolvedAction> = {};
  const listed: [string, readonly SafePublicAttribute[], ResolvedAction][] = [
    ['safePublicAttributes', lists.safePublic, 'K'],
    ['cleanedPublicAttributes', lists.cleanedPublic, cleanedAction],
  ];
  for (const [list, attributes, action] of listed) {
    for (const attr of attributes) {
      if (attr.tag in actions) {
        throw new DeidPolicyError('AIB_DEID_POLICY_INVALID', `${list}.${attr.keyword} (${attr.tag}) is also in Table E.1-1 or in the other list; the table decides`, {
          key: `${list}.${attr.keyword}`,
        });
      }
      actions[attr.tag] = action;
      if (attr.insideIdentifyingSequences !== undefined) identifyingItems[attr.tag] = attr.insideIdentifyingSequences;
    }
  }
  const sorted: Record<string, ResolvedAction> = {};
  for (const key of Object.keys(actions).sort()) sorted[key] = actions[key] ?? 'X';

  const shiftDates = opts.has('retainLongitudinalModifiedDates');
  const method = `orthanc-ai-bridge ${profile.name}: PS3.15 E.1 + ${profile.options.length} options`;
  return {
    profile,
    table: {
      actions: Object.freeze(sorted),
      masks: Object.freeze(masks),
      defaultPublic: 'X',
      privateCreatorsKept: opts.has('retainSafePrivate') ? profile.privateCreatorsKept : [],
      privateKept: opts.has('retainSafePrivate') ? profile.privateKept : [],
      maxAgeYears: profile.maxAgeYears,
      // Without Clean Structured Content the Content Sequence is removed (Table E.1-1), so there is no tree to keep.
      structuredContent: opts.has('cleanStructuredContent') ? Object.freeze({ ...lists.structuredContent }) : {},
      identifyingItems: Object.freeze(identifyingItems),
      strictActions: Object.freeze(strictActions),
    },
    deidentificationMethod: method.length <= 64 ? method : method.slice(0, 64),
    methodCodes: expectedMethodCodes(profile),
    longitudinalTemporalInformationModified: shiftDates ? 'MODIFIED' : opts.has('retainLongitudinalFullDates') ? 'UNMODIFIED' : 'REMOVED',
    shiftDates,
  };
}
