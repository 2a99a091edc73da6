/**
 * The package a training job publishes: manifest (honest performance on the
 * held-out site's data, the commissioning case), model.onnx, the commissioning
 * input, and the trainer key's signature, as a PackageArchive.
 */
import type { PackageArchive, ScanCategoryRef } from '../../plugin/core/central-api';
import { sha256Hex, signatureFileText, type ModelManifest } from '../../plugin/core/model-package';
import { INPUT_SIZE } from './scan-features';
import { INPUT_TENSOR, OUTPUT_TENSOR } from './classifier-graph';

// SNOMED CT body structures for the finding; other body parts fall back to "Body part structure".
const FINDING: Readonly<Record<string, { value: string; meaning: string }>> = {
  HEAD: { value: '69536005', meaning: 'Head structure' },
  CHEST: { value: '51185008', meaning: 'Thoracic structure' },
  ABDOMEN: { value: '113345001', meaning: 'Abdominal structure' },
  PELVIS: { value: '12921003', meaning: 'Pelvic structure' },
};
const REGION = 'scan-region';
const COMMISSIONING_INPUT = 'commissioning/held-out-1.dcm';

export interface TrainedClassifier {
  readonly jobId: string;
  readonly modelId: string;
  readonly version: string;
  readonly category: ScanCategoryRef;
  readonly onnx: Uint8Array;
  readonly trainSites: readonly string[];
  readonly evaluationSites: readonly string[];
  readonly heldOut: readonly string[];
  readonly metrics: Readonly<Record<string, number>>;
  readonly commissioning: { readonly bytes: Buffer; readonly areaMm2: number; readonly uploadId: string; readonly siteId: string };
}

export function classifierManifest(t: TrainedClassifier): ModelManifest {
  const { modality, bodyPart } = t.category;
  const label = `${modality} ${bodyPart}`;
  const m = t.metrics;
  const pct = (v: number | undefined): string => `${((v ?? 0) * 100).toFixed(1)}%`;
  const keyword = bodyPart.toLowerCase().replace(/[^a-z0-9]/g, '');
  return {
    schemaVersion: 1,
    id: t.modelId,
    version: t.version,
    name: `${label} scan classifier`.slice(0, 64),
    manufacturer: 'orthanc-ai-bridge central training',
    description: `Tells ${label} scans from other ${modality} scans by logistic regression over the fractions of the image in six Hounsfield bands (${String(INPUT_SIZE)}x${String(INPUT_SIZE)} input), trained by training job ${t.jobId} on de-identified uploads of sites ${t.trainSites.join(', ')}; outlines the body where the scan is classified ${label}. It is a scan-category classifier, not a diagnostic model.`,
    performance: {
      statement: `Held-out evaluation on ${String(m.evaluationInstances ?? 0)} de-identified instances from sites ${t.evaluationSites.join(', ')} only (no training data from them): accuracy ${pct(m.accuracy)}, sensitivity ${pct(m.sensitivity)}, specificity ${pct(m.specificity)}. Labels are the body part the instances' headers state; few subjects and scanners, so this says little about other sites.`,
      reference: 'Body Part Examined (or the Study/Series Description) of each de-identified instance, as read by the central server',
      heldOut: [...t.heldOut],
      metrics: Object.entries(m).map(([name, value]) => ({ name, value, unit: name.endsWith('Instances') ? '1' : 'ratio' })),
    },
    category: { modalities: [modality], bodyParts: [bodyPart], descriptionKeywords: keyword === '' ? [] : [keyword], seriesLevel: false },
    input: { tensorName: INPUT_TENSOR, rows: INPUT_SIZE, columns: INPUT_SIZE, frames: 'first', resize: 'area', normalisation: { kind: 'none' } },
    output: {
      tensorName: OUTPUT_TENSOR, kind: 'segmentation',
      channels: [{ index: 0, key: 'category', meaning: `probability that the scan is ${label}, times a soft body mask (HU above -500)` }],
    },
    regions: [{
      key: REGION, channel: 'category', select: 'largest', fillHoles: true, dropBorderTouching: false, minimumAreaMm2: 500,
      report: {
        trackingIdentifier: `${bodyPart.toLowerCase()} scan region`, label: `${label} (classified)`.slice(0, 64),
        finding: { scheme: 'SCT', ...(FINDING[bodyPart] ?? { value: '38866009', meaning: 'Body part structure' }) },
        measurements: ['area', 'mean'],
      },
    }],
    postProcessing: { threshold: 0.5, maxPolygonPoints: 64, reportSlice: REGION },
    report: {
      finding: '{label}: body outline {area} mm2, mean {mean} HU',
      summary: `Scan classified as ${label}. {findings}. Not a diagnostic finding.`,
      noFinding: `Not classified as ${label}.`,
    },
    commissioning: {
      cases: [{
        input: COMMISSIONING_INPUT,
        sha256: sha256Hex(t.commissioning.bytes),
        source: `de-identified upload ${t.commissioning.uploadId} of site ${t.commissioning.siteId} (held out from training)`,
        expected: [{
          trackingIdentifier: `${bodyPart.toLowerCase()} scan region`, measurement: 'area',
          min: Math.round(t.commissioning.areaMm2 * 0.8), max: Math.round(t.commissioning.areaMm2 * 1.25),
        }],
      }],
      passMark: 1,
    },
  };
}

/** The signed package as an archive, ready for ModelRegistry.publish. */
export function classifierArchive(t: TrainedClassifier, trainerPrivateKeyPem: string): PackageArchive {
  const manifest = Buffer.from(`${JSON.stringify(classifierManifest(t), null, 2)}\n`);
  const model = Buffer.from(t.onnx);
  const files = new Map<string, Buffer>([
    ['manifest.json', manifest],
    ['model.onnx', model],
    [COMMISSIONING_INPUT, t.commissioning.bytes],
    ['signature.ed25519', Buffer.from(signatureFileText(manifest, model, trainerPrivateKeyPem))],
  ]);
  return { files: [...files].map(([path, bytes]) => ({ path, sha256: sha256Hex(bytes), base64: bytes.toString('base64') })) };
}
