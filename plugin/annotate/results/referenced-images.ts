import type { AnnotationResult, ImageReference } from '../../core/findings';
import { imageKey } from './annotation-result-check';
import type { NaturalDataset } from './part10-writer';
import { referencedSopItem } from './sr-content-items';

/** The images the findings lie on, once each, in the order the series lists them (stable output). */
export function annotatedImages(result: AnnotationResult): ImageReference[] {
  const used = new Set(result.findings.map((finding) => imageKey(finding.image)));
  return result.series.images.filter((image) => used.has(imageKey(image)));
}

/**
 * A Referenced Series Sequence item for images of one series. The two macros
 * name the inner sequence differently: Referenced SOP Sequence in the SR's
 * Hierarchical SOP Instance Reference (PS3.3 C.17-3), Referenced Image
 * Sequence in the presentation state's Relationship module (C.11.11).
 */
export function referencedSeriesItem(seriesInstanceUid: string, images: readonly ImageReference[], inner: 'ReferencedSOPSequence' | 'ReferencedImageSequence'): NaturalDataset {
  return {
    SeriesInstanceUID: seriesInstanceUid,
    [inner]: images.map(referencedSopItem),
  };
}

/** PS3.3 Table C.17-3 Hierarchical SOP Instance Reference Macro, for one study and one series. */
export function hierarchicalReference(studyInstanceUid: string, seriesInstanceUid: string, images: readonly ImageReference[]): NaturalDataset {
  // This macro references whole instances: the frames of one image collapse into one item.
  const instances = new Map<string, ImageReference>();
  for (const image of images) {
    if (!instances.has(image.sopInstanceUid)) {
      instances.set(image.sopInstanceUid, { sopClassUid: image.sopClassUid, sopInstanceUid: image.sopInstanceUid, rows: image.rows, columns: image.columns });
    }
  }
  return {
    StudyInstanceUID: studyInstanceUid,
    ReferencedSeriesSequence: [referencedSeriesItem(seriesInstanceUid, [...instances.values()], 'ReferencedSOPSequence')],
  };
}
