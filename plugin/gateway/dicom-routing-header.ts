import dcmjs from 'dcmjs';

import { GatewayError } from './gateway-errors';

// dcmjs reports recoverable oddities through its own logger, straight to
// stdout; the gateway reports through Orthanc's log and its job records.
dcmjs.log.setLevel('silent');

/** What the pipeline routes on, read from the stored Part 10 bytes. */
export interface RoutingHeader {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly modality: string;
  readonly transferSyntaxUid: string;
}

const PIXEL_DATA = '7FE00010';

/**
 * Parses the header (everything before Pixel Data) with dcmjs. A file that
 * does not parse, or lacks what routing needs, is a permanent error: the
 * job is quarantined with the reason, naming Orthanc's instance id.
 */
export function readRoutingHeader(bytes: Buffer, instanceId: string): RoutingHeader {
  const view = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let meta: Record<string, unknown>;
  let dataset: Record<string, unknown>;
  try {
    const parsed = dcmjs.data.DicomMessage.readFile(view, { untilTag: PIXEL_DATA, includeUntilTagValue: false });
    meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.meta);
    dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GatewayError('AIB_INGEST_NOT_DICOM', `instance ${instanceId} does not parse as DICOM Part 10: ${firstLine(reason)}`, { instanceId });
  }
  const need = (source: Record<string, unknown>, keyword: string): string => {
    const value = source[keyword];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new GatewayError('AIB_INGEST_MISSING_ATTRIBUTE', `instance ${instanceId} has no ${keyword}`, { instanceId, attribute: keyword });
    }
    return value.trim();
  };
  return {
    sopInstanceUid: need(dataset, 'SOPInstanceUID'),
    sopClassUid: need(dataset, 'SOPClassUID'),
    seriesInstanceUid: need(dataset, 'SeriesInstanceUID'),
    studyInstanceUid: need(dataset, 'StudyInstanceUID'),
    modality: need(dataset, 'Modality'),
    transferSyntaxUid: need(meta, 'TransferSyntaxUID'),
  };
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 200);
}
