import { createHmac } from 'node:crypto';
import dcmjs from 'dcmjs';

dcmjs.log.setLevel('silent');

/**
 * The baseline a team would write first: dcmjs read, naturalize, blank or
 * replace the PS3.15 Basic Profile's common identifiers, remap UIDs with a
 * keyed hash, drop private tags, denaturalize, write. No policy table, no
 * text pass: a lower bound on the work, not an equivalent of the engine.
 */

/** Keyword → what to do: '' blanks (Z), undefined removes (X), a string replaces (D). */
const IDENTIFIERS: Readonly<Record<string, string | undefined>> = {
  PatientName: 'ANONYMOUS',
  PatientID: 'ANON',
  PatientBirthDate: '',
  PatientSex: '',
  PatientAge: undefined,
  OtherPatientIDs: undefined,
  OtherPatientNames: undefined,
  PatientAddress: undefined,
  PatientTelephoneNumbers: undefined,
  PatientComments: undefined,
  AccessionNumber: '',
  StudyID: '',
  StudyDate: '',
  StudyTime: '',
  SeriesDate: undefined,
  SeriesTime: undefined,
  AcquisitionDate: undefined,
  AcquisitionTime: undefined,
  ContentDate: '',
  ContentTime: '',
  ReferringPhysicianName: '',
  PerformingPhysicianName: undefined,
  PhysiciansOfRecord: undefined,
  OperatorsName: undefined,
  InstitutionName: undefined,
  InstitutionAddress: undefined,
  InstitutionalDepartmentName: undefined,
  StationName: undefined,
  DeviceSerialNumber: undefined,
  StudyDescription: undefined,
  SeriesDescription: undefined,
  ProtocolName: undefined,
  ImageComments: undefined,
  RequestAttributesSequence: undefined,
};

const UID_KEYWORDS: ReadonlySet<string> = new Set([
  'SOPInstanceUID', 'StudyInstanceUID', 'SeriesInstanceUID', 'FrameOfReferenceUID', 'ReferencedSOPInstanceUID',
  'ReferencedFrameOfReferenceUID', 'IrradiationEventUID', 'SynchronizationFrameOfReferenceUID', 'StorageMediaFileSetUID',
]);

const PRIVATE_TAG = /^[0-9A-Fa-f]{3}[13579BbDdFf][0-9A-Fa-f]{4}$/;

export class DcmjsDeidentifier {
  readonly #key: Buffer;
  readonly #uids = new Map<string, string>();

  constructor(key: Buffer) {
    this.#key = key;
  }

  /** Same original, same replacement, within this run: 2.25 form from a keyed hash. */
  uid(original: string): string {
    let mapped = this.#uids.get(original);
    if (mapped === undefined) {
      const digest = createHmac('sha256', this.#key).update(original).digest().subarray(0, 16);
      mapped = `2.25.${BigInt(`0x${digest.toString('hex')}`).toString()}`;
      this.#uids.set(original, mapped);
    }
    return mapped;
  }

  deidentify(bytes: Buffer): Buffer {
    const dicom = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dicom.dict);
    this.#clean(dataset);
    dataset['PatientIdentityRemoved'] = 'YES';
    dataset['DeidentificationMethod'] = 'bench dcmjs baseline';
    dicom.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
    const sop = dataset['SOPInstanceUID'];
    if (typeof sop === 'string') dicom.meta['00020003'] = { vr: 'UI', Value: [sop] };
    return Buffer.from(dicom.write());
  }

  #clean(dataset: Record<string, unknown>): void {
    for (const keyword of Object.keys(dataset)) {
      if (PRIVATE_TAG.test(keyword)) {
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the dataset is a keyword map by design
        delete dataset[keyword];
        continue;
      }
      const value = dataset[keyword];
      if (keyword in IDENTIFIERS) {
        const replacement = IDENTIFIERS[keyword];
        // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the dataset is a keyword map by design
        if (replacement === undefined) delete dataset[keyword];
        else dataset[keyword] = replacement;
      } else if (UID_KEYWORDS.has(keyword) && typeof value === 'string') {
        dataset[keyword] = this.uid(value);
      } else if (Array.isArray(value)) {
        for (const item of value as unknown[]) {
          if (typeof item === 'object' && item !== null && !ArrayBuffer.isView(item) && !(item instanceof ArrayBuffer)) {
            this.#clean(item as Record<string, unknown>);
          }
        }
      }
    }
  }
}
