import type { CodedConcept as FindingCodedConcept } from './findings';

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

function coded(value: string, scheme: string, meaning: string): SchemeCodedConcept {
  return Object.freeze({ value, scheme, meaning });
}

/** A concept from any coding scheme (DCM, SCT, UMLS, RFC5646), the shape findings.ts uses. */
export type SchemeCodedConcept = FindingCodedConcept;

/**
 * Concepts of the result objects (GSPS and SR TID 1500 Measurement Report),
 * each with the PS3.16 template or context group row it fills.
 */
export const MeasurementReportConcept = Object.freeze({
  /** TID 1500 row 1, CID 7021; OHIF recognises a measurement report by this root concept. */
  ImagingMeasurementReport: coded('126000', 'DCM', 'Imaging Measurement Report'),
  /** TID 1204 row 1 (TID 1500 row 2). */
  LanguageOfContentItemAndDescendants: coded('121049', 'DCM', 'Language of Content Item and Descendants'),
  /** CID 5000 (RFC 5646 tag). */
  EnglishUnitedStates: coded('en-US', 'RFC5646', 'English (United States)'),
  /** TID 1002 row 1. */
  ObserverType: coded('121005', 'DCM', 'Observer Type'),
  /** CID 270 Observer Type. */
  Device: coded('121007', 'DCM', 'Device'),
  /** TID 1004 rows 1–4: Device Observer Identifying Attributes. */
  DeviceObserverUid: coded('121012', 'DCM', 'Device Observer UID'),
  DeviceObserverName: coded('121013', 'DCM', 'Device Observer Name'),
  DeviceObserverManufacturer: coded('121014', 'DCM', 'Device Observer Manufacturer'),
  DeviceObserverModelName: coded('121015', 'DCM', 'Device Observer Model Name'),
  /** TID 1500 row 5. */
  ProcedureReported: coded('121058', 'DCM', 'Procedure reported'),
  /** CID 100 Quantitative Diagnostic Imaging Procedures. */
  ImagingProcedure: coded('363679005', 'SCT', 'Imaging procedure'),
  /** TID 1600 rows 1–2. */
  ImageLibrary: coded('111028', 'DCM', 'Image Library'),
  ImageLibraryGroup: coded('126200', 'DCM', 'Image Library Group'),
  /** TID 1500 row 6. */
  ImagingMeasurements: coded('126010', 'DCM', 'Imaging Measurements'),
  /** TID 1501 / TID 1410 row 1. */
  MeasurementGroup: coded('125007', 'DCM', 'Measurement Group'),
  /** TID 4108 rows 1–2; OHIF keys an annotation on the 112040 value. */
  TrackingIdentifier: coded('112039', 'DCM', 'Tracking Identifier'),
  TrackingUniqueIdentifier: coded('112040', 'DCM', 'Tracking Unique Identifier'),
  /** TID 1501 row 4. */
  Finding: coded('121071', 'DCM', 'Finding'),
  /** TID 1501 row 6. */
  FindingSite: coded('363698007', 'SCT', 'Finding Site'),
  /** TID 1410 row 7: the region of a group that has no measurement to hang it from. */
  ImageRegion: coded('111030', 'DCM', 'Image Region'),
  /** TID 4019 rows 1–2. */
  AlgorithmName: coded('111001', 'DCM', 'Algorithm Name'),
  AlgorithmVersion: coded('111003', 'DCM', 'Algorithm Version'),
  /** TID 1500 row 12 (Qualitative Evaluations) and the TEXT it holds. */
  QualitativeEvaluations: coded('C0034375', 'UMLS', 'Qualitative Evaluations'),
  Impression: coded('121073', 'DCM', 'Impression'),
  /** PS3.16 CID 7001 "Summary": the AI preliminary report, the text sent to the report system (issue 16). */
  PreliminaryReport: coded('121111', 'DCM', 'Summary'),
});
