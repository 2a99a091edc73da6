import type { AnnotationResult, CodedConcept, ImageReference } from '../../core/findings';
import { requireFinite, requireText, requireUid } from './dicom-value-format';
import { InvalidResultObjectError } from './invalid-result-object-error';
import { regionProblem } from './region-geometry';

/** Code Sequence Macro limits (PS3.3 8.8): LongCodeValue (UC) past 16 characters, SH scheme, LO meaning. */
export function checkConcept(field: string, concept: CodedConcept): void {
  requireText(`${field}.value`, concept.value, 64);
  requireText(`${field}.scheme`, concept.scheme, 16);
  requireText(`${field}.meaning`, concept.meaning, 64);
}

export function imageKey(image: Pick<ImageReference, 'sopInstanceUid' | 'frameNumber'>): string {
  return `${image.sopInstanceUid}#${image.frameNumber ?? 0}`;
}

function checkImage(field: string, image: ImageReference): void {
  requireUid(`${field}.sopClassUid`, image.sopClassUid);
  requireUid(`${field}.sopInstanceUid`, image.sopInstanceUid);
  if (!Number.isInteger(image.rows) || image.rows < 1) throw new InvalidResultObjectError(`${field}.rows`, 'must be a positive integer');
  if (!Number.isInteger(image.columns) || image.columns < 1) throw new InvalidResultObjectError(`${field}.columns`, 'must be a positive integer');
  if (image.frameNumber !== undefined && (!Number.isInteger(image.frameNumber) || image.frameNumber < 1)) {
    throw new InvalidResultObjectError(`${field}.frameNumber`, 'must be a positive integer');
  }
  if (image.rescale !== undefined) {
    requireFinite(`${field}.rescale.intercept`, image.rescale.intercept);
    requireFinite(`${field}.rescale.slope`, image.rescale.slope);
    requireText(`${field}.rescale.type`, image.rescale.type, 64);
  }
  if (image.window !== undefined) {
    requireFinite(`${field}.window.center`, image.window.center);
    if (!(image.window.width >= 1)) throw new InvalidResultObjectError(`${field}.window.width`, 'must be at least 1 (PS3.3 C.11.2.1.2)');
  }
}

/**
 * Everything both builders rely on: UIDs well formed, every finding on an
 * image of the annotated series, with the same size, and its region inside
 * that image; measurements finite with UCUM units; tracking identifiers unique.
 */
export function checkAnnotationResult(result: AnnotationResult): void {
  const model = result.model;
  requireText('result.model.id', model.id, 64);
  requireText('result.model.version', model.version, 64);
  requireText('result.model.name', model.name, 64);
  requireText('result.model.manufacturer', model.manufacturer, 64);
  requireUid('result.series.studyInstanceUid', result.series.studyInstanceUid);
  requireUid('result.series.seriesInstanceUid', result.series.seriesInstanceUid);
  requireText('result.series.modality', result.series.modality, 16);
  if (result.series.images.length === 0) throw new InvalidResultObjectError('result.series.images', 'must list at least one image');
  const images = new Map<string, ImageReference>();
  result.series.images.forEach((image, i) => {
    checkImage(`result.series.images[${i}]`, image);
    if (images.has(imageKey(image))) throw new InvalidResultObjectError(`result.series.images[${i}]`, 'lists the same image twice');
    images.set(imageKey(image), image);
  });
  requireText('result.summary', result.summary, 10_240, true);
  const trackingIdentifiers = new Set<string>();
  result.findings.forEach((finding, i) => {
    const field = `result.findings[${i}]`;
    requireText(`${field}.trackingIdentifier`, finding.trackingIdentifier, 64);
    if (trackingIdentifiers.has(finding.trackingIdentifier)) throw new InvalidResultObjectError(`${field}.trackingIdentifier`, 'is used by an earlier finding');
    trackingIdentifiers.add(finding.trackingIdentifier);
    requireText(`${field}.label`, finding.label, 64);
    checkConcept(`${field}.finding`, finding.finding);
    if (finding.findingSite !== undefined) checkConcept(`${field}.findingSite`, finding.findingSite);
    if (finding.confidence !== undefined && !(finding.confidence >= 0 && finding.confidence <= 1)) {
      throw new InvalidResultObjectError(`${field}.confidence`, 'must be between 0 and 1');
    }
    const image = images.get(imageKey(finding.image));
    if (image === undefined) throw new InvalidResultObjectError(`${field}.image`, 'is not among result.series.images');
    if (image.sopClassUid !== finding.image.sopClassUid || image.rows !== finding.image.rows || image.columns !== finding.image.columns) {
      throw new InvalidResultObjectError(`${field}.image`, 'differs from the same image in result.series.images');
    }
    const problem = regionProblem(finding.region, image.rows, image.columns);
    if (problem !== undefined) throw new InvalidResultObjectError(`${field}.region`, problem);
    finding.measurements.forEach((measurement, m) => {
      checkConcept(`${field}.measurements[${m}].concept`, measurement.concept);
      checkConcept(`${field}.measurements[${m}].unit`, measurement.unit);
      if (measurement.unit.scheme !== 'UCUM') throw new InvalidResultObjectError(`${field}.measurements[${m}].unit`, 'must be a UCUM unit (CID 82)');
      requireFinite(`${field}.measurements[${m}].value`, measurement.value);
    });
  });
}
