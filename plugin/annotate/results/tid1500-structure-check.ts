import { MeasurementReportConcept as C } from '../../core/codes';
import type { CodedConcept, ImageReference } from '../../core/findings';
import { isUid } from './dicom-value-format';
import type { NaturalDataset } from './part10-writer';

/** One thing wrong with a report, at a readable path such as `ImagingMeasurements[1].NUM[0].SCOORD`. */
export interface StructureProblem {
  readonly path: string;
  readonly problem: string;
}

const SR_WITH_SCOORD = new Set([
  '1.2.840.10008.5.1.4.1.1.88.22', // Enhanced SR
  '1.2.840.10008.5.1.4.1.1.88.33', // Comprehensive SR
  '1.2.840.10008.5.1.4.1.1.88.34', // Comprehensive 3D SR
]);

type Item = NaturalDataset;

function sequence(item: Item, key: string): Item[] {
  const value = item[key];
  return Array.isArray(value) ? value.filter((entry): entry is Item => typeof entry === 'object' && entry !== null) : [];
}

function single(item: Item, key: string): unknown {
  const value = item[key];
  return Array.isArray(value) ? value[0] : value;
}

function text(item: Item, key: string): string | undefined {
  const value = single(item, key);
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function numbers(item: Item, key: string): number[] {
  const value = item[key];
  const list: unknown[] = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map(Number);
}

function codeOf(item: Item, key: string): { value: string; scheme: string } | undefined {
  const code = sequence(item, key)[0];
  if (code === undefined) return undefined;
  return { value: text(code, 'CodeValue') ?? text(code, 'LongCodeValue') ?? '', scheme: text(code, 'CodingSchemeDesignator') ?? '' };
}

function isConcept(item: Item, concept: CodedConcept): boolean {
  const code = codeOf(item, 'ConceptNameCodeSequence');
  return code?.value === concept.value && code.scheme === concept.scheme;
}

function describe(concept: CodedConcept): string {
  return `(${concept.value}, ${concept.scheme}, "${concept.meaning}")`;
}

/**
 * Checks what dciodvfy and dcmpschk do not: that a TID 1500 Measurement
 * Report has the items OHIF v3 and PS3.16 need with the right value and
 * relationship types, that every SCOORD is SELECTED FROM one IMAGE, that every
 * referenced instance is one of `images` (the series the report is about,
 * with their sizes), that coordinates lie inside those images, and that the
 * evidence sequence lists every referenced instance. Returns every problem
 * found (an empty list for a good report), so a test can show which.
 */
export function checkTid1500Structure(dataset: NaturalDataset, images: readonly ImageReference[]): StructureProblem[] {
  const problems: StructureProblem[] = [];
  const report = (path: string, problem: string): void => {
    problems.push({ path, problem });
  };
  const byInstance = new Map<string, ImageReference[]>();
  for (const image of images) byInstance.set(image.sopInstanceUid, [...(byInstance.get(image.sopInstanceUid) ?? []), image]);
  const referenced = new Set<string>();

  const sopClass = text(dataset, 'SOPClassUID') ?? '';
  if (!SR_WITH_SCOORD.has(sopClass)) report('SOPClassUID', `${sopClass} is not an SR class that holds SCOORD (Enhanced, Comprehensive, Comprehensive 3D)`);
  if (text(dataset, 'ValueType') !== 'CONTAINER' || !isConcept(dataset, C.ImagingMeasurementReport)) {
    report('root', `must be a CONTAINER ${describe(C.ImagingMeasurementReport)}: OHIF recognises measurement reports by it`);
  }
  const template = sequence(dataset, 'ContentTemplateSequence')[0];
  if (template === undefined || text(template, 'TemplateIdentifier') !== '1500' || text(template, 'MappingResource') !== 'DCMR') {
    report('ContentTemplateSequence', 'must name TID 1500, DCMR');
  }

  /** Children of `parent` with this relationship, value type and concept; reports a wrong count. */
  const expect = (path: string, parent: Item, relationship: string, valueType: string, concept: CodedConcept, min: number, max: number): Item[] => {
    const found = sequence(parent, 'ContentSequence').filter((child) => isConcept(child, concept));
    for (const child of found) {
      if (text(child, 'RelationshipType') !== relationship) report(`${path}.${concept.meaning}`, `relationship must be ${relationship}, not ${text(child, 'RelationshipType') ?? 'absent'}`);
      if (text(child, 'ValueType') !== valueType) report(`${path}.${concept.meaning}`, `value type must be ${valueType}, not ${text(child, 'ValueType') ?? 'absent'}`);
    }
    if (found.length < min || found.length > max) {
      report(`${path}.${concept.meaning}`, `expected ${min === max ? String(min) : `${min} to ${max === Infinity ? 'any' : String(max)}`} ${relationship} ${valueType} ${describe(concept)}, found ${found.length}`);
    }
    return found;
  };

  const checkImageItem = (path: string, item: Item): ImageReference | undefined => {
    const refs = sequence(item, 'ReferencedSOPSequence');
    if (refs.length !== 1 || refs[0] === undefined) {
      report(path, `IMAGE needs exactly one ReferencedSOPSequence item, has ${refs.length}`);
      return undefined;
    }
    const uid = text(refs[0], 'ReferencedSOPInstanceUID') ?? '';
    const frame = refs[0]['ReferencedFrameNumber'] === undefined ? undefined : numbers(refs[0], 'ReferencedFrameNumber');
    referenced.add(uid);
    const candidates = byInstance.get(uid);
    if (candidates === undefined) {
      report(path, `references SOP instance ${uid}, which is not an image of the series`);
      return undefined;
    }
    const multiFrame = candidates.some((image) => image.frameNumber !== undefined);
    if (!multiFrame && frame !== undefined) report(path, `has ReferencedFrameNumber ${frame.join('\\')} for single-frame instance ${uid}`);
    if (multiFrame && frame?.length !== 1) report(path, `needs one ReferencedFrameNumber for multi-frame instance ${uid}`);
    const image = multiFrame ? candidates.find((candidate) => candidate.frameNumber === frame?.[0]) : candidates[0];
    if (image === undefined) {
      report(path, `frame ${frame?.join('\\') ?? '?'} of ${uid} is not among the series images`);
      return undefined;
    }
    if (text(refs[0], 'ReferencedSOPClassUID') !== image.sopClassUid) report(path, `ReferencedSOPClassUID differs from the class of ${uid}`);
    return image;
  };

  // PS3.3 C.18.6.1.2: how many values each graphic type takes.
  const checkScoord = (path: string, item: Item): void => {
    const type = text(item, 'GraphicType') ?? '';
    const data = numbers(item, 'GraphicData');
    const pairs = data.length / 2;
    const countOk = data.length % 2 === 0 && (
      (type === 'POINT' && pairs === 1) || (type === 'MULTIPOINT' && pairs >= 1) || (type === 'POLYLINE' && pairs >= 2) ||
      (type === 'CIRCLE' && pairs === 2) || (type === 'ELLIPSE' && pairs === 4));
    if (!countOk) report(path, `GraphicType ${type || 'absent'} with ${data.length} GraphicData values`);
    const selected = sequence(item, 'ContentSequence').filter((child) => text(child, 'ValueType') === 'IMAGE' && text(child, 'RelationshipType') === 'SELECTED FROM');
    if (selected.length !== 1 || selected[0] === undefined) {
      // OHIF draws nothing, silently, for a SCOORD without its image.
      report(path, `SCOORD needs exactly one SELECTED FROM IMAGE child, has ${selected.length}`);
      return;
    }
    const image = checkImageItem(`${path}.IMAGE`, selected[0]);
    if (image === undefined) return;
    for (let i = 0; i + 1 < data.length; i += 2) {
      const column = data[i] ?? NaN;
      const row = data[i + 1] ?? NaN;
      if (!(column >= 0 && column <= image.columns && row >= 0 && row <= image.rows)) {
        report(path, `point (${column},${row}) lies outside the ${image.columns}x${image.rows} image ${image.sopInstanceUid}`);
      }
    }
  };

  // Every content item: relationship type present below the root; every SCOORD and IMAGE checked wherever it is.
  const walk = (path: string, item: Item): void => {
    const parentIsScoord = text(item, 'ValueType') === 'SCOORD';
    sequence(item, 'ContentSequence').forEach((child, i) => {
      const valueType = text(child, 'ValueType') ?? '';
      const childPath = `${path}[${i}:${valueType}]`;
      if (text(child, 'RelationshipType') === undefined) report(childPath, 'has no RelationshipType');
      if (valueType === 'SCOORD') checkScoord(childPath, child);
      // A SCOORD's own image was checked with its coordinates.
      else if (valueType === 'IMAGE' && !parentIsScoord) checkImageItem(childPath, child);
      walk(childPath, child);
    });
  };
  walk('root', dataset);

  expect('root', dataset, 'HAS CONCEPT MOD', 'CODE', C.LanguageOfContentItemAndDescendants, 1, 1);
  expect('root', dataset, 'HAS CONCEPT MOD', 'CODE', C.ProcedureReported, 1, Infinity);
  const observerTypes = expect('root', dataset, 'HAS OBS CONTEXT', 'CODE', C.ObserverType, 0, Infinity);
  if (observerTypes.some((item) => codeOf(item, 'ConceptCodeSequence')?.value === C.Device.value)) {
    const uids = expect('root', dataset, 'HAS OBS CONTEXT', 'UIDREF', C.DeviceObserverUid, 1, 1);
    if (uids[0] !== undefined && !isUid(text(uids[0], 'UID'))) report('root.Device Observer UID', 'is not a valid UID');
  }
  const measurements = expect('root', dataset, 'CONTAINS', 'CONTAINER', C.ImagingMeasurements, 0, 1)[0];
  const library = expect('root', dataset, 'CONTAINS', 'CONTAINER', C.ImageLibrary, measurements === undefined ? 0 : 1, 1)[0];
  if (library !== undefined) {
    for (const group of expect('ImageLibrary', library, 'CONTAINS', 'CONTAINER', C.ImageLibraryGroup, 1, Infinity)) {
      const entries = sequence(group, 'ContentSequence').filter((child) => text(child, 'ValueType') === 'IMAGE');
      if (entries.length === 0) report('ImageLibrary.Image Library Group', 'lists no IMAGE');
    }
  }

  const trackingUids = new Set<string>();
  sequence(measurements ?? {}, 'ContentSequence').forEach((group, g) => {
    const path = `ImagingMeasurements[${g}]`;
    if (text(group, 'ValueType') !== 'CONTAINER' || !isConcept(group, C.MeasurementGroup) || text(group, 'RelationshipType') !== 'CONTAINS') {
      report(path, `must be a CONTAINS CONTAINER ${describe(C.MeasurementGroup)}`);
      return;
    }
    const identifier = expect(path, group, 'HAS OBS CONTEXT', 'TEXT', C.TrackingIdentifier, 1, 1)[0];
    if (identifier !== undefined && (text(identifier, 'TextValue') ?? '').trim() === '') report(`${path}.Tracking Identifier`, 'is empty');
    const unique = expect(path, group, 'HAS OBS CONTEXT', 'UIDREF', C.TrackingUniqueIdentifier, 1, 1)[0];
    if (unique !== undefined) {
      const uid = text(unique, 'UID');
      if (!isUid(uid)) report(`${path}.Tracking Unique Identifier`, 'is not a valid UID');
      else if (trackingUids.has(uid)) report(`${path}.Tracking Unique Identifier`, `${uid} is used by an earlier group`);
      else trackingUids.add(uid);
    }
    expect(path, group, 'CONTAINS', 'CODE', C.Finding, 1, 1);
    expect(path, group, 'HAS CONCEPT MOD', 'CODE', C.FindingSite, 0, 1);
    expect(path, group, 'HAS CONCEPT MOD', 'TEXT', C.AlgorithmName, 1, 1);
    expect(path, group, 'HAS CONCEPT MOD', 'TEXT', C.AlgorithmVersion, 1, 1);
    let regions = expect(path, group, 'CONTAINS', 'SCOORD', C.ImageRegion, 0, 1).length;
    sequence(group, 'ContentSequence').filter((child) => text(child, 'ValueType') === 'NUM').forEach((num, n) => {
      const numPath = `${path}.NUM[${n}]`;
      if (text(num, 'RelationshipType') !== 'CONTAINS') report(numPath, 'relationship must be CONTAINS');
      const measured = sequence(num, 'MeasuredValueSequence')[0];
      const unit = measured === undefined ? undefined : codeOf(measured, 'MeasurementUnitsCodeSequence');
      if (measured === undefined || !Number.isFinite(Number(single(measured, 'NumericValue')))) report(numPath, 'has no numeric value');
      if (unit?.scheme !== 'UCUM') report(numPath, 'unit must be a UCUM code');
      const sources = sequence(num, 'ContentSequence').filter((child) => text(child, 'ValueType') === 'SCOORD' && text(child, 'RelationshipType') === 'INFERRED FROM');
      if (sources.length !== 1) report(numPath, `needs exactly one INFERRED FROM SCOORD, has ${sources.length}`);
      regions += sources.length;
    });
    if (regions === 0) report(path, 'has no SCOORD region, so a viewer has nothing to draw');
  });

  const evidence = new Set<string>();
  for (const study of sequence(dataset, 'CurrentRequestedProcedureEvidenceSequence')) {
    for (const series of sequence(study, 'ReferencedSeriesSequence')) {
      for (const sop of sequence(series, 'ReferencedSOPSequence')) evidence.add(text(sop, 'ReferencedSOPInstanceUID') ?? '');
    }
  }
  for (const uid of referenced) {
    if (!evidence.has(uid)) report('CurrentRequestedProcedureEvidenceSequence', `does not list referenced instance ${uid}`);
  }
  return problems;
}
