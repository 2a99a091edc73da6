/**
 * CT chest: body outline and lung fields from Hounsfield thresholds with
 * smoothing and morphology, as an ONNX graph of explicit operations.
 *
 *   smoothed = 3x3 mean of HU
 *   body     = closing(5x5) of sigmoid((smoothed + 500) / 50)   tissue denser than -500 HU
 *   air      = opening(3x3) of sigmoid(-(smoothed + 400) / 50)  lung parenchyma and air below -400 HU
 *
 * Post-processing (manifest.regions, in TypeScript): the largest tissue
 * component with its holes filled is the body; air inside it, not touching
 * the image edge and at least 1000 mm² (so the trachea and bowel gas drop
 * out), split at the body's centre line, gives the right and left lung fields.
 */
import type { ModelManifest } from '../../plugin/annotate/models/model-manifest';
import { enclosedAir } from './reference-segmentation';
import { seriesFiles, type ModelDefinition } from './model-definition';
import { OnnxGraph } from './onnx-graph';

const SIZE = 256;
const SERIES = 'tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f';
const COMMISSIONING = `${SERIES}/1-15.dcm`;
const LUNG = { value: '39607008', scheme: 'SCT', meaning: 'Lung structure' } as const;

export const ctChestLungFields: ModelDefinition = {
  id: 'ct-chest-lung-fields',
  graph(): Uint8Array {
    const g = new OnnxGraph('hu', SIZE, SIZE);
    const smoothed = g.smooth('hu', 3);
    const body = g.close(g.step(smoothed, -500, 50, 'up'), 5);
    const air = g.open(g.step(smoothed, -400, 50, 'down'), 3);
    return g.toBytes([body, air], 'probabilities', 'CT chest: body (>-500 HU, closed) and air (<-400 HU, opened) probability maps', '1.0.0');
  },
  manifest(performance, commissioning): ModelManifest {
    return {
      schemaVersion: 1,
      id: 'ct-chest-lung-fields',
      version: '1.0.0',
      name: 'CT chest lung fields',
      manufacturer: 'orthanc-ai-bridge project',
      description: 'Outlines the body and the right and left lung fields on axial CT chest slices by Hounsfield thresholds, smoothing and morphology (an ONNX graph of explicit operations, no learned weights), and measures area, mean attenuation and long axis on the slice with the largest lung area, plus lung volumes over the series. It does not detect or characterise disease.',
      performance,
      category: { modalities: ['CT'], bodyParts: ['CHEST', 'THORAX', 'LUNG'], descriptionKeywords: ['chest', 'thorax', 'lung', 'pulmonary'], seriesLevel: true },
      input: { tensorName: 'hu', rows: SIZE, columns: SIZE, frames: 'each', resize: 'area', normalisation: { kind: 'none' } },
      output: {
        tensorName: 'probabilities',
        kind: 'segmentation',
        channels: [
          { index: 0, key: 'tissue', meaning: 'probability that the pixel is body tissue (above -500 HU), closed 5x5' },
          { index: 1, key: 'air', meaning: 'probability that the pixel is air or aerated lung (below -400 HU), opened 3x3' },
        ],
      },
      regions: [
        { key: 'body', channel: 'tissue', select: 'largest', fillHoles: true, dropBorderTouching: false, minimumAreaMm2: 5000, report: false },
        {
          key: 'lung', channel: 'air', within: 'body', select: 'all', fillHoles: true, dropBorderTouching: true, minimumAreaMm2: 1000,
          report: {
            finding: LUNG,
            measurements: ['area', 'mean', 'longAxis', 'volume'],
            lateralise: {
              right: { trackingIdentifier: 'right lung field', label: 'Right lung', findingSite: { value: '3341006', scheme: 'SCT', meaning: 'Right lung structure' } },
              left: { trackingIdentifier: 'left lung field', label: 'Left lung', findingSite: { value: '44029006', scheme: 'SCT', meaning: 'Left lung structure' } },
            },
          },
        },
      ],
      postProcessing: { threshold: 0.5, maxPolygonPoints: 64, reportSlice: 'lung' },
      report: {
        finding: '{label}: {area} mm2 on this slice, mean {mean} HU, long axis {longAxis} mm, volume over the series {volume} mL',
        summary: 'Lung fields outlined by threshold segmentation on {slices} slices. {findings}. Not a diagnostic finding.',
        noFinding: 'No lung field of at least 1000 mm2 was found on any slice.',
      },
      commissioning,
    };
  },
  commissioning: [{
    file: COMMISSIONING,
    source: 'TCIA Lung-PET-CT-Dx, Lung_Dx-A0002, slice 1-15 (CC BY 4.0, doi:10.7937/TCIA.2020.NNC20461)',
    // Ranges around what version 1.0.0 measures on this slice (right 6689 mm2, left 9435 mm2, mean -837 / -748 HU,
    // right long axis 161 mm), wide enough for a faithful re-implementation, narrow enough to catch a broken one.
    expected: [
      { trackingIdentifier: 'right lung field', measurement: 'area', min: 5500, max: 8000 },
      { trackingIdentifier: 'left lung field', measurement: 'area', min: 8000, max: 11000 },
      { trackingIdentifier: 'right lung field', measurement: 'mean', min: -900, max: -780 },
      { trackingIdentifier: 'left lung field', measurement: 'mean', min: -820, max: -680 },
      { trackingIdentifier: 'right lung field', measurement: 'longAxis', min: 140, max: 180 },
    ],
  }],
  passMark: 1,
  heldOut: seriesFiles(SERIES, 30, (i) => `1-${String(i).padStart(2, '0')}.dcm`).filter((f) => f !== COMMISSIONING),
  evaluatedRegion: 'lung',
  reference: (values, rows, columns, spacing) => enclosedAir(values, rows, columns, spacing, -400, 1000),
  referenceDescription: 'a conventional threshold segmentation at full 512x512 resolution: pixels below -400 HU not 8-connected to the image edge, in components of at least 1000 mm2 (tools/build-models/reference-segmentation.ts); not an expert contour',
  statement: (m) =>
    `Measured on the ${String(m.slices)} held-out slices of TCIA Lung-PET-CT-Dx Lung_Dx-A0002 (one patient, one scanner, B40f kernel, 8 mm spacing) against a conventional full-resolution threshold segmentation: ` +
    `mean Dice ${String(m.meanDice)} (lowest ${String(m.minDice)}) on the ${String(m.slicesWithRegion)} slices where the reference has lung. ` +
    `Lung volume over the series: ${String(m.volumeMl)} mL (right ${String(m.rightMl)} mL, left ${String(m.leftMl)} mL; the series covers the chest at 8 mm spacing). ` +
    'It reproduces thresholding; it has not been compared with expert contours, and dense lung disease (consolidation, effusion, tumour above -400 HU) is left outside the lung field by design.',
};
