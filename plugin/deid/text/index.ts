export { FIDUCIAL_KINDS, fiducial, type FiducialKind } from './fiducial';
export type { InspectIdentifiers } from './inspect-identifiers';
export { normalizeTerm } from './normalize';
export { personNameParts, type PersonNameParts } from './person-name';
export { reportIdentifiers, type ReportIdentifier } from './report-identifiers';
export { scrubReport } from './scrub-report';
export { scrubText, type ScrubHit, type ScrubResult } from './scrub-text';
export { buildTermSets, kindOfIdentifier, type BlacklistTerm, type GraylistTerm, type MatchMode, type TermSetOptions, type TermSets } from './term-sets';
export { loadWhitelist, parseWhitelist } from './whitelist';
