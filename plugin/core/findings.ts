// What an inference function found, in the de-identified zone's terms: the
// contract between the annotator (which produces findings and builds GSPS/SR
// from them) and the gateway (which re-links the built objects). Coordinates
// are image pixel coordinates (column, row), origin at the top-left corner of
// the top-left pixel, as in DICOM GraphicData with PIXEL units.

/** A coded concept (Code Sequence item): SNOMED CT ("SCT"), DICOM ("DCM"), UCUM ("UCUM"). */
export interface CodedConcept {
  readonly value: string;
  readonly scheme: string;
  readonly meaning: string;
}

/** One image (or one frame of a multi-frame image) a finding lies on. */
export interface ImageReference {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** 1-based; only for multi-frame images. */
  readonly frameNumber?: number;
  readonly rows: number;
  readonly columns: number;
  /** Modality LUT of the image (Rescale Intercept/Slope/Type), when it has one: the GSPS must repeat it. */
  readonly rescale?: RescaleValues;
  /** The image's first VOI window, when it has one: the GSPS presents the image with it. */
  readonly window?: WindowValues;
}

export interface RescaleValues {
  readonly intercept: number;
  readonly slope: number;
  /** e.g. "HU"; "US" (unspecified) when the image does not say. */
  readonly type: string;
}

export interface WindowValues {
  readonly center: number;
  readonly width: number;
}

/** Where on the image: closed polygon, open polyline, ellipse (four axis end points) or one point. */
export type ImageRegion =
  | { readonly kind: 'polygon'; readonly points: readonly (readonly [number, number])[] }
  | { readonly kind: 'polyline'; readonly points: readonly (readonly [number, number])[] }
  | { readonly kind: 'ellipse'; readonly majorAxis: readonly [readonly [number, number], readonly [number, number]]; readonly minorAxis: readonly [readonly [number, number], readonly [number, number]] }
  | { readonly kind: 'point'; readonly point: readonly [number, number] };

export interface Measurement {
  /** e.g. SCT 42798000 Area, SCT 103355008 Width/Long axis, SCT 373098007 Mean. */
  readonly concept: CodedConcept;
  readonly value: number;
  /** UCUM unit, e.g. { value: 'mm2', scheme: 'UCUM', meaning: 'square millimeter' }. */
  readonly unit: CodedConcept;
}

export interface Finding {
  /** Stable within one result: e.g. "right lung field". Becomes the 112039 Tracking Identifier. */
  readonly trackingIdentifier: string;
  /** What was found (e.g. SCT 39607008 Lung structure). */
  readonly finding: CodedConcept;
  /** Where in the body, when the model knows. */
  readonly findingSite?: CodedConcept;
  readonly image: ImageReference;
  readonly region: ImageRegion;
  readonly measurements: readonly Measurement[];
  /** 0..1, when the model gives one. */
  readonly confidence?: number;
  /** Short text drawn next to the region in the GSPS and used as the SR finding label. */
  readonly label: string;
}

/** The model a result came from; carried into every object built from it. */
export interface ModelIdentity {
  readonly id: string;
  readonly version: string;
  /** Human-readable algorithm name (SR 111001 Algorithm Name). */
  readonly name: string;
  readonly manufacturer: string;
}

/** The de-identified series an annotation is about (UIDs are de-identified ones). */
export interface AnnotatedSeries {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly modality: string;
  /** Every image the result covers (the GSPS references them all). */
  readonly images: readonly ImageReference[];
}

/** One run of one model over one de-identified instance or series. */
export interface AnnotationResult {
  readonly model: ModelIdentity;
  readonly series: AnnotatedSeries;
  readonly findings: readonly Finding[];
  /** One or two sentences in the manifest's report phrasing (SR TEXT "Impression"). */
  readonly summary: string;
}
