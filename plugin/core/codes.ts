/**
 * Coded concepts the project writes, each once, with its PS3.16 source
 * (STYLE.md: "codes live in one codes module"). A concept is the triplet of
 * the Code Sequence Macro, PS3.3 Table 8.8-1: Code Value, Coding Scheme
 * Designator, Code Meaning.
 */
export interface CodedConcept {
  readonly value: string;
  readonly scheme: 'DCM';
  readonly meaning: string;
}

function dcm(value: string, meaning: string): CodedConcept {
  return Object.freeze({ value, scheme: 'DCM', meaning });
}

/**
 * PS3.16 CID 7050 "De-identification Method" (DCM codes 113100–113112), the
 * values of De-identification Method Code Sequence (0012,0064), PS3.15 E.1:
 * one item for the Basic Profile and one per option applied.
 */
export const DeidentificationMethod = Object.freeze({
  /** PS3.16 CID 7050, DCM 113100; PS3.15 E.2 */
  BasicApplicationConfidentialityProfile: dcm('113100', 'Basic Application Confidentiality Profile'),
  /** PS3.16 CID 7050, DCM 113101; PS3.15 E.3.1 */
  CleanPixelDataOption: dcm('113101', 'Clean Pixel Data Option'),
  /** PS3.16 CID 7050, DCM 113102; PS3.15 E.3.2 */
  CleanRecognizableVisualFeaturesOption: dcm('113102', 'Clean Recognizable Visual Features Option'),
  /** PS3.16 CID 7050, DCM 113103; PS3.15 E.3.3 */
  CleanGraphicsOption: dcm('113103', 'Clean Graphics Option'),
  /** PS3.16 CID 7050, DCM 113104; PS3.15 E.3.4 */
  CleanStructuredContentOption: dcm('113104', 'Clean Structured Content Option'),
  /** PS3.16 CID 7050, DCM 113105; PS3.15 E.3.5 */
  CleanDescriptorsOption: dcm('113105', 'Clean Descriptors Option'),
  /** PS3.16 CID 7050, DCM 113106; PS3.15 E.3.6 */
  RetainLongitudinalTemporalInformationFullDatesOption: dcm('113106', 'Retain Longitudinal Temporal Information Full Dates Option'),
  /** PS3.16 CID 7050, DCM 113107; PS3.15 E.3.6 */
  RetainLongitudinalTemporalInformationModifiedDatesOption: dcm('113107', 'Retain Longitudinal Temporal Information Modified Dates Option'),
  /** PS3.16 CID 7050, DCM 113108; PS3.15 E.3.7 */
  RetainPatientCharacteristicsOption: dcm('113108', 'Retain Patient Characteristics Option'),
  /** PS3.16 CID 7050, DCM 113109; PS3.15 E.3.8 */
  RetainDeviceIdentityOption: dcm('113109', 'Retain Device Identity Option'),
  /** PS3.16 CID 7050, DCM 113110; PS3.15 E.3.9 */
  RetainUIDsOption: dcm('113110', 'Retain UIDs Option'),
  /** PS3.16 CID 7050, DCM 113111; PS3.15 E.3.10 */
  RetainSafePrivateOption: dcm('113111', 'Retain Safe Private Option'),
  /** PS3.16 CID 7050, DCM 113112; PS3.15 E.3.11 */
  RetainInstitutionIdentityOption: dcm('113112', 'Retain Institution Identity Option'),
});

/** Every CID 7050 concept above, for lookup by code value. */
export const DEIDENTIFICATION_METHOD_CODES: readonly CodedConcept[] = Object.freeze(Object.values(DeidentificationMethod));
