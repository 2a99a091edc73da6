/**
 * The shape of config/deid/ps3.15-e1-1.json: written by tools/gen-deid-table,
 * read (and validated again) by load-policy.ts.
 */

/** Letters of PS3.15 E.1.1 as they appear in Table E.1-1, combined forms included. */
export const TABLE_ACTIONS = ['X', 'Z', 'D', 'K', 'C', 'U', 'X/Z', 'X/D', 'X/Z/D', 'Z/D', 'X/Z/U*'] as const;
export type TableAction = (typeof TABLE_ACTIONS)[number];

/**
 * Option columns: our field name ← the reference file's column, with the
 * PS3.15 E.3 option it stands for. Order here is the order in the output.
 */
export const OPTION_COLUMNS = [
  { field: 'retainSafePrivate', column: 'rtnSafePrivOpt', option: 'Retain Safe Private Option (E.3.10)' },
  { field: 'retainUids', column: 'rtnUIDsOpt', option: 'Retain UIDs Option (E.3.9)' },
  { field: 'retainDeviceIdentity', column: 'rtnDevIdOpt', option: 'Retain Device Identity Option (E.3.8)' },
  { field: 'retainInstitutionIdentity', column: 'rtnInstIdOpt', option: 'Retain Institution Identity Option (E.3.11)' },
  { field: 'retainPatientCharacteristics', column: 'rtnPatCharsOpt', option: 'Retain Patient Characteristics Option (E.3.7)' },
  { field: 'retainLongitudinalFullDates', column: 'rtnLongFullDatesOpt', option: 'Retain Longitudinal Temporal Information Full Dates Option (E.3.6)' },
  { field: 'retainLongitudinalModifiedDates', column: 'rtnLongModifDatesOpt', option: 'Retain Longitudinal Temporal Information Modified Dates Option (E.3.6)' },
  { field: 'cleanDescriptors', column: 'cleanDescOpt', option: 'Clean Descriptors Option (E.3.5)' },
  { field: 'cleanStructuredContent', column: 'cleanStructContOpt', option: 'Clean Structured Content Option (E.3.4)' },
  { field: 'cleanGraphics', column: 'cleanGraphOpt', option: 'Clean Graphics Option (E.3.3)' },
] as const;
export type OptionField = (typeof OPTION_COLUMNS)[number]['field'];

export interface DeidTableRow {
  /** "ggggeeee" (8 lower-case hex digits), a mask with "x" for any hex digit ("60xx4000"), or "private" */
  readonly tag: string;
  /** the tag as published, e.g. "(0008,0050)" */
  readonly tagText: string;
  readonly name: string;
  readonly keyword: string;
  /** where `keyword` came from: the PS3.6 data dictionary, or derived from `name` when the dictionary lacks the tag */
  readonly keywordFrom: 'ps3.6' | 'name';
  /** value representation from PS3.6, "" when unknown (masks, private) */
  readonly vr: string;
  /** Table E.1-1 column "In Std. Comp. IOD" */
  readonly inStdCompIod: boolean;
  readonly basic: TableAction;
  readonly options: Readonly<Record<OptionField, 'K' | 'C' | null>>;
}

export interface DeidTableHeader {
  readonly title: string;
  readonly attribution: string;
  readonly licence: string;
  readonly source: string;
  readonly sourceSha256: string;
  readonly edition: string | null;
  readonly editionNote: string;
  readonly generator: string;
  readonly keywordSource: string;
  readonly rowCount: number;
  readonly options: Readonly<Record<OptionField, string>>;
}

export interface DeidTableFile {
  readonly header: DeidTableHeader;
  readonly rows: readonly DeidTableRow[];
}
