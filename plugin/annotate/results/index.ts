// The result objects the annotator builds from an AnnotationResult, and the checks the lead's
// pipeline can run on them after relink (the structure check takes the series as stored).
export { GrayscaleSoftcopyPresentationState, GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, type PresentationStateOptions } from './grayscale-softcopy-presentation-state';
export { Tid1500MeasurementReport, COMPREHENSIVE_SR_STORAGE, type MeasurementReportOptions } from './tid1500-measurement-report';
export { checkTid1500Structure, type StructureProblem } from './tid1500-structure-check';
export { InvalidResultObjectError, type InvalidResultObjectCode } from './invalid-result-object-error';
export type { ResultInstanceIdentity, SourceStudy } from './source-study';
export { readPart10, writePart10, EXPLICIT_VR_LITTLE_ENDIAN, type NaturalDataset } from './part10-writer';
export { trackingUniqueIdentifier } from './derived-uids';
