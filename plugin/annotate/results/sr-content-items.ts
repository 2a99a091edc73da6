import type { CodedConcept, ImageReference } from '../../core/findings';
import { decimalString } from './dicom-value-format';
import type { NaturalDataset } from './part10-writer';
import type { RegionGraphic } from './region-geometry';

/** PS3.3 C.17.3.2.4 relationship types used by TID 1500. */
export type RelationshipType = 'CONTAINS' | 'HAS CONCEPT MOD' | 'HAS OBS CONTEXT' | 'INFERRED FROM' | 'SELECTED FROM';

export type ContentItem = NaturalDataset;

/** PS3.3 Table 8.8-1: Code Value up to 16 characters, Long Code Value (UC) beyond. */
export function codeSequenceItem(concept: CodedConcept): NaturalDataset {
  const value = concept.value.length > 16 ? { LongCodeValue: concept.value } : { CodeValue: concept.value };
  return { ...value, CodingSchemeDesignator: concept.scheme, CodeMeaning: concept.meaning };
}

function item(relationship: RelationshipType | undefined, valueType: string, concept: CodedConcept | undefined): ContentItem {
  return {
    ...(relationship === undefined ? {} : { RelationshipType: relationship }),
    ValueType: valueType,
    ...(concept === undefined ? {} : { ConceptNameCodeSequence: [codeSequenceItem(concept)] }),
  };
}

function withChildren(content: ContentItem, children: readonly ContentItem[]): ContentItem {
  return children.length === 0 ? content : { ...content, ContentSequence: [...children] };
}

export function containerItem(relationship: RelationshipType | undefined, concept: CodedConcept, children: readonly ContentItem[]): ContentItem {
  return withChildren({ ...item(relationship, 'CONTAINER', concept), ContinuityOfContent: 'SEPARATE' }, children);
}

export function codeItem(relationship: RelationshipType, concept: CodedConcept, value: CodedConcept): ContentItem {
  return { ...item(relationship, 'CODE', concept), ConceptCodeSequence: [codeSequenceItem(value)] };
}

export function textItem(relationship: RelationshipType, concept: CodedConcept, text: string): ContentItem {
  return { ...item(relationship, 'TEXT', concept), TextValue: text };
}

export function uidrefItem(relationship: RelationshipType, concept: CodedConcept, uid: string): ContentItem {
  return { ...item(relationship, 'UIDREF', concept), UID: uid };
}

/** PS3.3 C.18.1: a NUM's value and UCUM unit go in one Measured Value Sequence item. */
export function numItem(relationship: RelationshipType, concept: CodedConcept, value: number, unit: CodedConcept, children: readonly ContentItem[]): ContentItem {
  const measured = { MeasurementUnitsCodeSequence: [codeSequenceItem(unit)], NumericValue: decimalString(value) };
  return withChildren({ ...item(relationship, 'NUM', concept), MeasuredValueSequence: [measured] }, children);
}

/** PS3.3 C.18.6: image coordinates; the SELECTED FROM IMAGE child says which image (PS3.3 C.18.6.1.1). */
export function scoordItem(relationship: RelationshipType, concept: CodedConcept | undefined, graphic: RegionGraphic, image: ImageReference): ContentItem {
  const content = { ...item(relationship, 'SCOORD', concept), GraphicType: graphic.graphicType, GraphicData: [...graphic.graphicData] };
  return withChildren(content, [imageItem('SELECTED FROM', image)]);
}

/** Frame number only for a multi-frame image (PS3.3 C.18.4: Referenced Frame Number is Type 1C). */
export function referencedSopItem(image: ImageReference): NaturalDataset {
  return {
    ReferencedSOPClassUID: image.sopClassUid,
    ReferencedSOPInstanceUID: image.sopInstanceUid,
    ...(image.frameNumber === undefined ? {} : { ReferencedFrameNumber: image.frameNumber }),
  };
}

export function imageItem(relationship: RelationshipType, image: ImageReference): ContentItem {
  return { ...item(relationship, 'IMAGE', undefined), ReferencedSOPSequence: [referencedSopItem(image)] };
}
