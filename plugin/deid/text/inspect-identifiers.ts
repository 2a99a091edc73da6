/**
 * The part of InspectResult (docs/deid-engine.md) the term sets are built
 * from. Structural, so the addon's InspectResult is accepted as it is.
 */
export interface InspectIdentifiers {
  readonly patient: {
    readonly id: string;
    readonly name: string;
    readonly birthDate: string;
    readonly otherIds: readonly string[];
  };
  readonly accessionNumber: string;
  readonly identifiers: readonly { readonly path: string; readonly keyword: string; readonly vr: string; readonly value: string }[];
}
