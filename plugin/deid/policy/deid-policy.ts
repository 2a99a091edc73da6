import type { CodedConcept } from '../../core/codes';
import type { PolicyTable, ResolvedAction } from './policy-table';
import type { OptionField } from './table-format';

/** A public attribute outside Table E.1-1 that the profiles keep, with the reason of its group. */
export interface SafePublicAttribute {
  readonly tag: string;
  readonly keyword: string;
  readonly why: string;
  /** action inside the items of a D or Z sequence, where a code names a person or an institution; absent: as elsewhere */
  readonly insideIdentifyingSequences?: 'X' | 'D';
}

/**
 * A public attribute outside Table E.1-1 that holds free text an IOD requires
 * (Content Description, Segment Label, …): cleaned (C, the text second pass)
 * under the Clean Descriptors option, removed (X) otherwise, the way Table
 * E.1-1 itself treats descriptors.
 */
export type CleanedPublicAttribute = SafePublicAttribute;

/** The lists of profiles.json that add to Table E.1-1, as buildPolicy takes them. */
export interface PublicAttributeLists {
  readonly safePublic: readonly SafePublicAttribute[];
  readonly cleanedPublic: readonly CleanedPublicAttribute[];
  /** Overrides inside SR content trees, for profiles with Clean Structured Content. */
  readonly structuredContent: Readonly<Record<string, ResolvedAction>>;
}

/** One entry of config/deid/profiles.json, validated. */
export interface DeidProfile {
  readonly name: string;
  readonly description: string;
  readonly options: readonly OptionField[];
  readonly methodCodes: readonly CodedConcept[];
  readonly maxAgeYears: number;
  readonly privateCreatorsKept: readonly string[];
  readonly privateKept: readonly string[];
}

/** Everything the worker needs from policy: the table for the addon and the values of the output markers. */
export interface DeidPolicy {
  readonly profile: DeidProfile;
  readonly table: PolicyTable;
  /** (0012,0063) De-identification Method, LO (≤ 64 characters) */
  readonly deidentificationMethod: string;
  /** (0012,0064) items: 113100, then one per option, in the profile's order */
  readonly methodCodes: readonly CodedConcept[];
  /** (0028,0303) Longitudinal Temporal Information Modified */
  readonly longitudinalTemporalInformationModified: 'MODIFIED' | 'UNMODIFIED' | 'REMOVED';
  /** true when kept dates are shifted per patient (Modified Dates option): ApplyPlan.dateShiftDays ≠ 0 */
  readonly shiftDates: boolean;
}
