/**
 * PS3.15 E.1.1 action resolution: a Table E.1-1 row + the profile's options →
 * one of X Z D K C U. This is the only place that knows what the combined
 * forms mean (STYLE.md "Policy is data": the table is data, the letters are code).
 */
import type { ResolvedAction } from './policy-table';
import type { DeidTableRow, OptionField, TableAction } from './table-format';

/**
 * Combined actions (PS3.15 E.1.1): "X/Z: X unless Z is required to maintain
 * IOD conformance (Type 3 versus Type 2)", "X/D: X unless D is required (Type 3
 * versus Type 1)", "Z/D: Z unless D is required (Type 2 versus Type 1)",
 * "X/Z/D" likewise, "X/Z/U*: X unless Z or replacement of contained instance
 * UIDs (U) is required (Type 3 versus Type 2 versus Type 1 sequences)".
 *
 * Which form is required depends on the IOD, and the native code has no IOD
 * knowledge. We therefore take the right-most form, the one that conforms in
 * every IOD that contains the attribute:
 *
 *   X/Z → Z    X/D → D    Z/D → D    X/Z/D → D    X/Z/U* → U
 *
 * This costs no privacy: Z leaves an empty value, D a dummy value (or a keyed
 * pseudonym for Patient ID), U a keyed remapped UID; no original value of the
 * element survives any of them, exactly as with X. What a D or U sequence
 * keeps inside its items is decided item by item with the same table.
 */
const COMBINED: Readonly<Record<TableAction, ResolvedAction>> = {
  X: 'X',
  Z: 'Z',
  D: 'D',
  K: 'K',
  C: 'C',
  U: 'U',
  'X/Z': 'Z',
  'X/D': 'D',
  'Z/D': 'D',
  'X/Z/D': 'D',
  'X/Z/U*': 'U',
};

export function resolveCombined(action: TableAction): ResolvedAction {
  return COMBINED[action];
}

/**
 * The row's action under `options` (PS3.15 E.3: an option's column, when it
 * has an entry for the row, replaces the Basic Profile action).
 *
 * When several selected options have an entry for the same row (e.g. Allergies:
 * Retain Patient Characteristics C and Clean Descriptors C; Beam Hold
 * Transition DateTime: Retain Device Identity K and Modified Dates C), C wins
 * over K: keeping a value that another selected option says must be cleaned
 * (a date that must be shifted, a text that must be scrubbed) would defeat that
 * option. Rows where no selected option has an entry take the Basic action,
 * resolved by `resolveCombined`.
 */
export function resolveRowAction(row: DeidTableRow, options: readonly OptionField[]): ResolvedAction {
  let fromOptions: 'K' | 'C' | null = null;
  for (const option of options) {
    const v = row.options[option];
    if (v === 'C') return 'C';
    if (v === 'K') fromOptions = 'K';
  }
  return fromOptions ?? resolveCombined(row.basic);
}
