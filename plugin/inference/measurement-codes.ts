/**
 * Concepts of the measurements the segmentation functions report, with
 * their sources: SNOMED CT concepts as TID 1410/1419 use them (PS3.16 CID 7469
 * "Generic Intensity and Size Measurements"), units from UCUM (PS3.16 CID 7181
 * and friends). Kept here until plugin/core/codes.ts holds non-DCM schemes.
 */
import type { CodedConcept } from '../core/findings';

function sct(value: string, meaning: string): CodedConcept {
  return Object.freeze({ value, scheme: 'SCT', meaning });
}

function ucum(value: string, meaning: string): CodedConcept {
  return Object.freeze({ value, scheme: 'UCUM', meaning });
}

export const MeasurementConcept = Object.freeze({
  /** CID 7469: SCT 42798000 */
  Area: sct('42798000', 'Area'),
  /** CID 7469: SCT 103339001 */
  LongAxis: sct('103339001', 'Long Axis'),
  /** CID 7469: SCT 373098007 (mean of the modality values inside the region) */
  Mean: sct('373098007', 'Mean'),
  /** CID 7469: SCT 118565006 */
  Volume: sct('118565006', 'Volume'),
});

export const Unit = Object.freeze({
  SquareMillimeter: ucum('mm2', 'square millimeter'),
  Millimeter: ucum('mm', 'millimeter'),
  Milliliter: ucum('ml', 'milliliter'),
  HounsfieldUnit: ucum("[hnsf'U]", 'Hounsfield unit'),
  /** Modality values without a physical unit (e.g. MR signal). */
  NoUnits: ucum('1', 'no units'),
});
