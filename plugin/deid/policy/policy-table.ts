/**
 * What TS hands to the native addon once per worker (docs/deid-engine.md,
 * "PolicyTable"): every action already resolved for the profile's options, so
 * the native code never sees an option column or a combined action.
 */

/** PS3.15 E.1.1 action letters after resolution. */
export const RESOLVED_ACTIONS = ['X', 'Z', 'D', 'K', 'C', 'U'] as const;
export type ResolvedAction = (typeof RESOLVED_ACTIONS)[number];

export interface PolicyMask {
  /** 8 characters, lower-case hex or "x" (any hex digit): "60xx3000" (overlay data), "50xxxxxx" (curves) */
  readonly mask: string;
  readonly action: ResolvedAction;
}

export interface PolicyTable {
  /** key: "ggggeeee" (8 lower-case hex digits) of a public tag */
  readonly actions: Readonly<Record<string, ResolvedAction>>;
  /**
   * Repeating-group rows of Table E.1-1 (PS3.5 7.6): a public tag that is not
   * in `actions` and matches a mask takes the mask's action. Exact keys win
   * over masks; masks never apply to odd (private) groups.
   */
  readonly masks: readonly PolicyMask[];
  /** what happens to a public element that is in neither `actions` nor `masks` */
  readonly defaultPublic: 'X' | 'K';
  /** private creators (exact strings) whose blocks are kept, element by element per `privateKept` */
  readonly privateCreatorsKept: readonly string[];
  /** "gggg,CREATOR,ee" (hex lower-case): kept element of a kept private block; anything else in the block is removed */
  readonly privateKept: readonly string[];
  /** AS values over this many years become `${cap + 1}Y`, zero-padded ("090Y") */
  readonly maxAgeYears: number;
  /** "ggggeeee" → action inside SR content (document root and Content Sequence items); overrides `actions` there */
  readonly structuredContent: Readonly<Record<string, ResolvedAction>>;
  /**
   * "ggggeeee" → action inside the items of a sequence whose own action is D
   * or Z (the dummy value of an identifying sequence: Institution Code
   * Sequence, Person Identification Code Sequence, …), at any depth; overrides
   * `structuredContent` and `actions` there. Carries the
   * `insideIdentifyingSequences` action of the groups that set it.
   */
  readonly identifyingItems: Readonly<Record<string, ResolvedAction>>;
  /**
   * "ggggeeee" → the row's Basic Profile action, resolved (X, Z, D, U): the
   * strictest the table allows, applied to a text element whose bytes are not
   * valid in its declared character set (it cannot be kept or cleaned when it
   * cannot be read). A tag without a row is removed.
   */
  readonly strictActions: Readonly<Record<string, ResolvedAction>>;
}
