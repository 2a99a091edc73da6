import { data as dcmjsData } from 'dcmjs';

import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from './derived-uids';

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';

/** A dataset in dcmjs's naturalized form (keywords as keys). */
export type NaturalDataset = Record<string, unknown>;

/**
 * PS3.10 file: preamble, File Meta Information (group 0002) and the dataset in
 * Explicit VR Little Endian. Nothing time- or host-dependent is written, so
 * the same dataset always gives the same bytes.
 */
export function writePart10(dataset: NaturalDataset): Buffer {
  const sopClassUid = dataset['SOPClassUID'];
  const sopInstanceUid = dataset['SOPInstanceUID'];
  if (typeof sopClassUid !== 'string' || typeof sopInstanceUid !== 'string') {
    throw new TypeError('writePart10: the dataset has no SOPClassUID/SOPInstanceUID');
  }
  const meta = dcmjsData.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION_NAME,
  });
  const dict = new dcmjsData.DicomDict(meta);
  dict.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}

/** Reads a PS3.10 file back into the naturalized form (for checks and tests). */
export function readPart10(bytes: Buffer): { meta: NaturalDataset; dataset: NaturalDataset } {
  const arrayBuffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const dict = dcmjsData.DicomMessage.readFile(arrayBuffer as ArrayBuffer);
  return {
    meta: dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.meta),
    dataset: dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.dict),
  };
}
