import { createCanvas, GlobalFonts } from '@napi-rs/canvas';

import { writePart10 } from '../../../plugin/annotate/results/part10-writer';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

export interface PlantedStudy {
  readonly patientId: string;
  readonly patientName: string;
  readonly accession: string;
  readonly studyUid: string;
  /** Free text written into StudyDescription (cleaned under Clean Descriptors) and burned into the pixels. */
  readonly header: string;
  readonly burned: readonly string[];
}

/**
 * A Secondary Capture (Modality OT, cleaned under CleanPixels 'auto') whose
 * StudyDescription and pixels carry text that names people and IDs: the
 * identifiers planted only in the report must be found there. Synthetic: no
 * patient's data.
 */
export function plantedReportImage(study: PlantedStudy, index: number): Buffer {
  if (GlobalFonts.registerFromPath(FONT, 'DejaVu Sans') === null) throw new Error(`cannot register ${FONT}`);
  const width = 640;
  const height = 480;
  const canvas = createCanvas(width, height);
  const context = canvas.getContext('2d');
  context.fillStyle = '#000';
  context.fillRect(0, 0, width, height);
  // Some anatomy-like grey in the middle, so the frame is not text alone.
  context.fillStyle = '#555';
  context.beginPath();
  context.ellipse(320, 260, 180, 130, 0, 0, Math.PI * 2);
  context.fill();
  context.fillStyle = '#fff';
  context.font = '28px "DejaVu Sans"';
  study.burned.forEach((line, i) => { context.fillText(line, 20, 40 + i * 40); });
  const rgba = context.getImageData(0, 0, width, height).data;
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = rgba[i * 4] ?? 0;
  const sop = `${study.studyUid}.${String(index + 1)}.1`;
  return writePart10({
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
    SOPInstanceUID: sop,
    StudyInstanceUID: study.studyUid,
    SeriesInstanceUID: `${study.studyUid}.${String(index + 1)}`,
    PatientID: study.patientId,
    PatientName: study.patientName,
    PatientBirthDate: '19600101',
    AccessionNumber: study.accession,
    StudyDescription: study.header,
    StudyDate: '20240105',
    Modality: 'OT',
    ConversionType: 'WSD',
    SeriesNumber: 1,
    InstanceNumber: 1,
    Rows: height,
    Columns: width,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 8,
    BitsStored: 8,
    HighBit: 7,
    PixelRepresentation: 0,
    PixelData: [grey.buffer],
    _vrMap: { PixelData: 'OB' },
  });
}
