/**
 * CT head: intracranial soft tissue (brain and CSF spaces) enclosed by the
 * skull, as an ONNX graph of explicit operations.
 *
 *   smoothed = 3x3 mean of HU
 *   bone     = closing(5x5) of sigmoid((smoothed - 300) / 40)                 skull above 300 HU, small gaps bridged
 *   soft     = opening(3x3) of sigmoid(smoothed / 10) * sigmoid((80 - smoothed) / 10)   0..80 HU
 *
 * Post-processing (manifest.regions): the largest bone component with its
 * holes filled is the cranium; soft tissue inside it, not touching the image
 * edge, the largest component of at least 500 mm², is the intracranial region.
 */
import type { ModelManifest } from '../../plugin/annotate/models/model-manifest';
import { enclosedByBone } from './reference-segmentation';
import { seriesFiles, type ModelDefinition } from './model-definition';
import { OnnxGraph } from './onnx-graph';

const SIZE = 256;
const SERIES = 'dcm_qa_ct/GE_head';
const COMMISSIONING = `${SERIES}/20.dcm`;

export const ctHeadBrain: ModelDefinition = {
  id: 'ct-head-brain',
  graph(): Uint8Array {
    const g = new OnnxGraph('hu', SIZE, SIZE);
    const smoothed = g.smooth('hu', 3);
    const bone = g.close(g.step(smoothed, 300, 40, 'up'), 5);
    const soft = g.open(g.multiply(g.step(smoothed, 0, 10, 'up'), g.step(smoothed, 80, 10, 'down')), 3);
    return g.toBytes([bone, soft], 'probabilities', 'CT head: bone (>300 HU, closed) and soft tissue (0..80 HU, opened) probability maps', '1.0.0');
  },
  manifest(performance, commissioning): ModelManifest {
    return {
      schemaVersion: 1,
      id: 'ct-head-brain',
      version: '1.0.0',
      name: 'CT head intracranial region',
      manufacturer: 'orthanc-ai-bridge project',
      description: 'Outlines the intracranial soft tissue (brain parenchyma and CSF spaces between 0 and 80 HU) enclosed by the skull on axial CT head slices, by Hounsfield thresholds, smoothing and morphology (an ONNX graph of explicit operations, no learned weights), and measures area, mean attenuation and long axis on the slice where it is largest, plus its volume over the series. It does not detect haemorrhage, infarct or any other disease.',
      performance,
      category: { modalities: ['CT'], bodyParts: ['HEAD', 'BRAIN', 'SKULL'], descriptionKeywords: ['head', 'brain', 'cranial', 'skull'], seriesLevel: true },
      input: { tensorName: 'hu', rows: SIZE, columns: SIZE, frames: 'each', resize: 'area', normalisation: { kind: 'none' } },
      output: {
        tensorName: 'probabilities',
        kind: 'segmentation',
        channels: [
          { index: 0, key: 'bone', meaning: 'probability that the pixel is bone (above 300 HU), closed 5x5' },
          { index: 1, key: 'soft', meaning: 'probability that the pixel is soft tissue between 0 and 80 HU, opened 3x3' },
        ],
      },
      regions: [
        { key: 'cranium', channel: 'bone', select: 'largest', fillHoles: true, dropBorderTouching: false, minimumAreaMm2: 1000, report: false },
        {
          key: 'intracranial', channel: 'soft', within: 'cranium', select: 'largest', fillHoles: false, dropBorderTouching: true, minimumAreaMm2: 500,
          report: {
            trackingIdentifier: 'intracranial soft tissue',
            label: 'Intracranial soft tissue',
            finding: { value: '12738006', scheme: 'SCT', meaning: 'Brain structure' },
            measurements: ['area', 'mean', 'longAxis', 'volume'],
          },
        },
      ],
      postProcessing: { threshold: 0.5, maxPolygonPoints: 64, reportSlice: 'intracranial' },
      report: {
        finding: '{label}: {area} mm2 on this slice, mean {mean} HU, long axis {longAxis} mm, volume over the series {volume} mL',
        summary: 'Intracranial soft tissue outlined by threshold segmentation on {slices} slices. {findings}. Not a diagnostic finding.',
        noFinding: 'No skull-enclosed soft tissue region of at least 500 mm2 was found on any slice.',
      },
      commissioning,
    };
  },
  commissioning: [{
    file: COMMISSIONING,
    source: 'neurolabusc/dcm_qa_ct, GE head series, slice 20 (BSD-2-Clause)',
    // Around what version 1.0.0 measures on this slice: 16339 mm2, mean 27 HU, long axis 151 mm.
    expected: [
      { trackingIdentifier: 'intracranial soft tissue', measurement: 'area', min: 14000, max: 19000 },
      { trackingIdentifier: 'intracranial soft tissue', measurement: 'mean', min: 20, max: 35 },
      { trackingIdentifier: 'intracranial soft tissue', measurement: 'longAxis', min: 135, max: 170 },
    ],
  }],
  passMark: 1,
  heldOut: seriesFiles(SERIES, 28, (i) => `${String(i).padStart(2, '0')}.dcm`).filter((f) => f !== COMMISSIONING),
  evaluatedRegion: 'intracranial',
  reference: (values, rows, columns, spacing) => enclosedByBone(values, rows, columns, spacing, 300, 0, 80, 500),
  referenceDescription: 'a conventional threshold segmentation at full 512x512 resolution: pixels between 0 and 80 HU that no path of pixels below 300 HU connects to the image edge (8-connected), in components of at least 500 mm2 (tools/build-models/reference-segmentation.ts); not an expert contour',
  statement: (m) =>
    `Measured on the ${String(m.slices)} held-out slices of the dcm_qa_ct GE head series (one subject, one scanner, gantry tilt, variable spacing) against a conventional full-resolution threshold segmentation: ` +
    `mean Dice ${String(m.meanDice)} (lowest ${String(m.minDice)}) on the ${String(m.slicesWithRegion)} slices where the reference has a region. ` +
    `Volume over the series: ${String(m.volumeMl)} mL (the series need not cover the whole head). ` +
    'It reproduces thresholding; it has not been compared with expert contours. Slices where the skull ring is open (skull base, vertex) give no region, and blood or calcification above 80 HU is left out by design.',
};
