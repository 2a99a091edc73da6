/**
 * The manifest of a model package (config/model-manifest.schema.json; the
 * schema is the authority, these types mirror it). docs/models.md explains
 * each part.
 */
import type { CodedConcept } from '../findings';

export type MeasurementKind = 'area' | 'mean' | 'longAxis' | 'volume';

export interface ManifestSide {
  readonly trackingIdentifier: string;
  readonly label: string;
  readonly findingSite: CodedConcept;
}

export interface RegionReport {
  readonly trackingIdentifier?: string;
  readonly label?: string;
  readonly finding: CodedConcept;
  readonly findingSite?: CodedConcept;
  readonly measurements: readonly MeasurementKind[];
  readonly lateralise?: { readonly right: ManifestSide; readonly left: ManifestSide };
}

export interface RegionRecipe {
  readonly key: string;
  readonly channel: string;
  readonly within?: string;
  readonly select: 'largest' | 'all';
  readonly fillHoles: boolean;
  readonly dropBorderTouching: boolean;
  readonly minimumAreaMm2: number;
  /** false: an intermediate region (e.g. the body that bounds the lungs), not reported. */
  readonly report: RegionReport | false;
}

export interface CommissioningExpectation {
  readonly trackingIdentifier: string;
  readonly measurement: MeasurementKind;
  readonly min: number;
  readonly max: number;
}

export interface CommissioningCase {
  readonly input: string;
  readonly sha256: string;
  readonly source: string;
  readonly expected: readonly CommissioningExpectation[];
}

export interface ModelManifest {
  readonly schemaVersion: 1;
  readonly id: string;
  readonly version: string;
  readonly name: string;
  readonly manufacturer: string;
  readonly description: string;
  readonly performance: {
    readonly statement: string;
    readonly reference: string;
    readonly heldOut: readonly string[];
    readonly metrics: readonly { readonly name: string; readonly value: number; readonly unit: string }[];
  };
  readonly category: {
    readonly modalities: readonly string[];
    readonly bodyParts: readonly string[];
    readonly descriptionKeywords: readonly string[];
    readonly excludedDescriptionKeywords?: readonly string[];
    readonly views?: readonly string[];
    readonly seriesLevel: boolean;
  };
  readonly input: {
    readonly tensorName: string;
    readonly rows: number;
    readonly columns: number;
    readonly frames: 'each' | 'first' | 'middle';
    readonly window?: { readonly center: number; readonly width: number };
    readonly resize: 'area' | 'bilinear' | 'nearest';
    readonly normalisation: { readonly kind: 'none' | 'linear' | 'minmax'; readonly offset?: number; readonly scale?: number };
  };
  readonly output: {
    readonly tensorName: string;
    readonly kind: 'segmentation' | 'boxes' | 'classScores';
    readonly channels: readonly { readonly index: number; readonly key: string; readonly meaning: string }[];
  };
  readonly regions: readonly RegionRecipe[];
  readonly postProcessing: {
    readonly threshold: number;
    readonly maxPolygonPoints: number;
    readonly reportSlice: string;
  };
  readonly report: { readonly finding: string; readonly summary: string; readonly noFinding: string };
  readonly commissioning: { readonly cases: readonly CommissioningCase[]; readonly passMark: number };
}
