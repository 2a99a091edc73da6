import type { Finding, ImageReference } from '../../core/findings';
import { imageKey } from './annotation-result-check';
import type { NaturalDataset } from './part10-writer';
import { labelAnchor, regionGraphic } from './region-geometry';
import { referencedSopItem } from './sr-content-items';

export const AI_GRAPHIC_LAYER = 'AI';

/** What the text object next to a region says: the label, the first (key) measurement, the confidence. */
export function findingCaption(finding: Finding): string {
  const parts = [finding.label];
  const key = finding.measurements[0];
  if (key !== undefined) {
    const magnitude = Math.abs(key.value);
    const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2;
    parts.push(`${key.value.toFixed(digits)} ${key.unit.value}`);
  }
  if (finding.confidence !== undefined) parts.push(`(${Math.round(finding.confidence * 100)}%)`);
  return parts.join(' ');
}

// PS3.3 C.10.5.1.2: GraphicData in PIXEL units is (column,row) from the TLHC of the TLHC pixel.
function graphicObject(finding: Finding): NaturalDataset {
  const graphic = regionGraphic(finding.region);
  return {
    GraphicAnnotationUnits: 'PIXEL',
    GraphicDimensions: 2,
    NumberOfGraphicPoints: graphic.graphicData.length / 2,
    GraphicData: [...graphic.graphicData],
    GraphicType: graphic.graphicType,
    // Filling would hide the pixels the finding is about; only closed shapes may be filled anyway.
    GraphicFilled: 'N',
  };
}

// PS3.3 C.10.5.1.1: an anchored text object; the anchor is not drawn (the region already marks the place).
function textObject(finding: Finding): NaturalDataset {
  const [column, row] = labelAnchor(finding.region);
  return {
    AnchorPointAnnotationUnits: 'PIXEL',
    UnformattedTextValue: findingCaption(finding),
    AnchorPoint: [column, row],
    AnchorPointVisibility: 'N',
  };
}

/** One Graphic Annotation Sequence item per annotated image, in the order the images are given. */
export function graphicAnnotationItems(images: readonly ImageReference[], findings: readonly Finding[]): NaturalDataset[] {
  return images.map((image) => {
    const onImage = findings.filter((finding) => imageKey(finding.image) === imageKey(image));
    return {
      ReferencedImageSequence: [referencedSopItem(image)],
      GraphicLayer: AI_GRAPHIC_LAYER,
      TextObjectSequence: onImage.map(textObject),
      GraphicObjectSequence: onImage.map(graphicObject),
    };
  });
}
