import { MeasurementReportConcept as C } from '../../core/codes';
import type { AnnotationResult } from '../../core/findings';
import { checkAnnotationResult } from './annotation-result-check';
import { preliminaryReportText } from './preliminary-report-text';
import { deviceObserverUid, trackingUniqueIdentifier } from './derived-uids';
import { writePart10, type NaturalDataset } from './part10-writer';
import { annotatedImages, hierarchicalReference } from './referenced-images';
import { checkInstanceIdentity, checkSourceStudy, patientAndStudyAttributes, type ResultInstanceIdentity, type SourceStudy } from './source-study';
import { codeItem, containerItem, imageItem, textItem, uidrefItem, type ContentItem } from './sr-content-items';
import { tid1501MeasurementGroup } from './tid1501-measurement-group';

/**
 * Comprehensive SR: dciodvfy accepts SCOORD content in it, and OHIF v3 reads
 * it like Enhanced SR (PS3.3 A.35.3).
 */
export const COMPREHENSIVE_SR_STORAGE = '1.2.840.10008.5.1.4.1.1.88.33';

export interface MeasurementReportOptions {
  readonly result: AnnotationResult;
  readonly source: SourceStudy;
  readonly instance: ResultInstanceIdentity;
}

/**
 * PS3.16 TID 1500 Measurement Report in a Comprehensive SR, laid out the way
 * OHIF v3 reads it: root 126000 (OHIF decides "measurement report" by this
 * code), 126010 Imaging Measurements holding one 125007 group per finding
 * (TID 1501), each NUM INFERRED FROM a SCOORD SELECTED FROM its image. The
 * constructor checks every input and throws InvalidResultObjectError naming
 * the field; UIDs, numbers and times come from the caller, so equal options
 * give equal bytes.
 */
export class Tid1500MeasurementReport {
  readonly options: MeasurementReportOptions;
  /** The 112040 UID of each finding, in findings order (OHIF's annotation UID). */
  readonly trackingUids: readonly string[];

  constructor(options: MeasurementReportOptions) {
    checkAnnotationResult(options.result);
    checkSourceStudy(options.source);
    checkInstanceIdentity(options.instance);
    this.options = options;
    this.trackingUids = options.result.findings.map((_, index) => trackingUniqueIdentifier(options.instance.sopInstanceUid, index));
  }

  toDataset(): NaturalDataset {
    const { result, source, instance } = this.options;
    const images = annotatedImages(result);
    const model = result.model;
    const content: ContentItem[] = [
      codeItem('HAS CONCEPT MOD', C.LanguageOfContentItemAndDescendants, C.EnglishUnitedStates),
      // TID 1002 / TID 1004: the observer is the model, a device.
      codeItem('HAS OBS CONTEXT', C.ObserverType, C.Device),
      uidrefItem('HAS OBS CONTEXT', C.DeviceObserverUid, deviceObserverUid(model)),
      textItem('HAS OBS CONTEXT', C.DeviceObserverName, model.name),
      textItem('HAS OBS CONTEXT', C.DeviceObserverManufacturer, model.manufacturer),
      textItem('HAS OBS CONTEXT', C.DeviceObserverModelName, `${model.id} ${model.version}`),
      codeItem('HAS CONCEPT MOD', C.ProcedureReported, C.ImagingProcedure),
    ];
    if (images.length > 0) {
      content.push(
        containerItem('CONTAINS', C.ImageLibrary, [
          containerItem('CONTAINS', C.ImageLibraryGroup, images.map((image) => imageItem('CONTAINS', image))),
        ]),
        containerItem('CONTAINS', C.ImagingMeasurements,
          result.findings.map((finding, index) => tid1501MeasurementGroup(finding, this.trackingUids[index] ?? '', model))),
      );
    }
    // The preliminary report is the text the report system receives (ORU^R01 OBX-5): the same words in both.
    content.push(containerItem('CONTAINS', C.QualitativeEvaluations, [
      ...(result.summary.trim() === '' ? [] : [textItem('CONTAINS', C.Impression, result.summary)]),
      textItem('CONTAINS', C.PreliminaryReport, preliminaryReportText(result)),
    ]));
    return {
      SpecificCharacterSet: 'ISO_IR 192',
      SOPClassUID: COMPREHENSIVE_SR_STORAGE,
      SOPInstanceUID: instance.sopInstanceUid,
      ...patientAndStudyAttributes(source),
      Modality: 'SR',
      SeriesInstanceUID: instance.seriesInstanceUid,
      SeriesNumber: instance.seriesNumber,
      SeriesDescription: instance.seriesDescription ?? `AI measurements ${model.id} ${model.version}`.slice(0, 64),
      // PS3.3 C.17.1: Type 2, empty when no MPPS is involved.
      ReferencedPerformedProcedureStepSequence: [],
      Manufacturer: model.manufacturer,
      ManufacturerModelName: model.id,
      SoftwareVersions: model.version,
      InstanceNumber: instance.instanceNumber,
      // An algorithm's report is complete but nobody has verified it (PS3.3 C.17.2.1).
      CompletionFlag: 'COMPLETE',
      VerificationFlag: 'UNVERIFIED',
      ContentDate: instance.contentDate,
      ContentTime: instance.contentTime,
      InstanceCreationDate: instance.contentDate,
      InstanceCreationTime: instance.contentTime,
      PerformedProcedureCodeSequence: [],
      ...(images.length === 0 ? {} : {
        CurrentRequestedProcedureEvidenceSequence: [hierarchicalReference(result.series.studyInstanceUid, result.series.seriesInstanceUid, images)],
      }),
      ValueType: 'CONTAINER',
      ConceptNameCodeSequence: [{ CodeValue: C.ImagingMeasurementReport.value, CodingSchemeDesignator: 'DCM', CodeMeaning: C.ImagingMeasurementReport.meaning }],
      ContinuityOfContent: 'SEPARATE',
      ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
      ContentSequence: content,
    };
  }

  toPart10(): Buffer {
    return writePart10(this.toDataset());
  }
}
