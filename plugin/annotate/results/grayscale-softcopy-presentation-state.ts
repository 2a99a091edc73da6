import type { AnnotationResult, ImageReference, RescaleValues } from '../../core/findings';
import { checkAnnotationResult, imageKey } from './annotation-result-check';
import { decimalString, requireText } from './dicom-value-format';
import { AI_GRAPHIC_LAYER, graphicAnnotationItems } from './graphic-annotation';
import { InvalidResultObjectError } from './invalid-result-object-error';
import { OverlayBitmap } from './overlay-bitmap';
import { writePart10, type NaturalDataset } from './part10-writer';
import { annotatedImages, referencedSeriesItem } from './referenced-images';
import { checkInstanceIdentity, checkSourceStudy, patientAndStudyAttributes, type ResultInstanceIdentity, type SourceStudy } from './source-study';
import { referencedSopItem } from './sr-content-items';

export const GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE = '1.2.840.10008.5.1.4.1.1.11.1';

export interface PresentationStateOptions {
  readonly result: AnnotationResult;
  readonly source: SourceStudy;
  readonly instance: ResultInstanceIdentity;
  /** CS, at most 16 characters of A–Z, 0–9, space and underscore. Default "AI_FINDINGS". */
  readonly contentLabel?: string;
}

function groupBy<K, V>(values: readonly V[], key: (value: V) => K): Map<K, V[]> {
  const groups = new Map<K, V[]>();
  for (const value of values) {
    const k = key(value);
    const group = groups.get(k);
    if (group === undefined) groups.set(k, [value]);
    else group.push(value);
  }
  return groups;
}

/** Referenced Image Sequence (Type 1C) only when the item does not apply to every image of the state. */
function referencedImagesUnlessAll(group: readonly ImageReference[], all: readonly ImageReference[]): NaturalDataset {
  return group.length === all.length ? {} : { ReferencedImageSequence: group.map(referencedSopItem) };
}

/**
 * PS3.3 A.33.1 Grayscale Softcopy Presentation State, one per annotated
 * series: every finding's region as a graphic object and its caption as a
 * text object on graphic layer "AI", over the images the findings lie on. It
 * shows each image the way the source does (its Modality LUT and first
 * window), so only the annotations differ from a plain display. The
 * constructor checks every input and throws InvalidResultObjectError naming
 * the field; equal options give equal bytes.
 */
export class GrayscaleSoftcopyPresentationState {
  readonly options: PresentationStateOptions;
  readonly #images: readonly ImageReference[];
  readonly #rescale: RescaleValues | undefined;

  constructor(options: PresentationStateOptions) {
    checkAnnotationResult(options.result);
    checkSourceStudy(options.source);
    checkInstanceIdentity(options.instance);
    if (options.result.findings.length === 0) throw new InvalidResultObjectError('result.findings', 'a presentation state needs at least one finding to draw');
    const label = options.contentLabel ?? 'AI_FINDINGS';
    if (!/^[A-Z0-9_ ]{1,16}$/.test(label)) throw new InvalidResultObjectError('contentLabel', 'must be 1-16 characters of A-Z, 0-9, space and underscore (CS)');
    requireText('result.model', `${options.result.model.id} ${options.result.model.version}`, 64);
    this.#images = annotatedImages(options.result);
    // PS3.3 C.11.1: a presentation state has one Modality LUT for all its images.
    const rescales = new Set(this.#images.map((image) => JSON.stringify(image.rescale ?? null)));
    if (rescales.size > 1) throw new InvalidResultObjectError('result.series.images', 'annotated images differ in rescale (one Modality LUT per presentation state)');
    this.#rescale = this.#images[0]?.rescale;
    this.options = options;
  }

  toDataset(): NaturalDataset {
    const { result, source, instance } = this.options;
    const images = this.#images;
    const model = result.model;
    const rescale = this.#rescale;
    const bySize = groupBy(images, (image) => `${image.columns}x${image.rows}`);
    const windowed = images.filter((image) => image.window !== undefined);
    const byWindow = groupBy(windowed, (image) => JSON.stringify(image.window));
    return {
      SpecificCharacterSet: 'ISO_IR 192',
      SOPClassUID: GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
      SOPInstanceUID: instance.sopInstanceUid,
      InstanceCreationDate: instance.contentDate,
      InstanceCreationTime: instance.contentTime,
      ...patientAndStudyAttributes(source),
      Modality: 'PR',
      SeriesInstanceUID: instance.seriesInstanceUid,
      SeriesNumber: instance.seriesNumber,
      // PS3.3 C.7.3.1 Type 2C: a presentation state has no laterality of its own.
      Laterality: '',
      SeriesDescription: instance.seriesDescription ?? `AI annotations ${model.id} ${model.version}`.slice(0, 64),
      Manufacturer: model.manufacturer,
      ManufacturerModelName: model.id,
      SoftwareVersions: model.version,
      // Presentation State Identification (PS3.3 C.11.10).
      InstanceNumber: instance.instanceNumber,
      ContentLabel: this.options.contentLabel ?? 'AI_FINDINGS',
      ContentDescription: `${model.id} ${model.version}`,
      PresentationCreationDate: instance.contentDate,
      PresentationCreationTime: instance.contentTime,
      ContentCreatorName: '',
      // Presentation State Relationship (C.11.11): every image the state annotates.
      ReferencedSeriesSequence: [referencedSeriesItem(result.series.seriesInstanceUid, images, 'ReferencedImageSequence')],
      // Displayed Area (C.10.4): the whole image, scaled to fit, square pixels as acquired.
      DisplayedAreaSelectionSequence: [...bySize.values()].map((group) => ({
        ...referencedImagesUnlessAll(group, images),
        DisplayedAreaTopLeftHandCorner: [1, 1],
        DisplayedAreaBottomRightHandCorner: [group[0]?.columns ?? 1, group[0]?.rows ?? 1],
        PresentationSizeMode: 'SCALE TO FIT',
        PresentationPixelAspectRatio: [1, 1],
      })),
      // Graphic Annotation (C.10.5) and Graphic Layer (C.10.7).
      GraphicAnnotationSequence: graphicAnnotationItems(images, result.findings),
      GraphicLayerSequence: [{
        GraphicLayer: AI_GRAPHIC_LAYER,
        GraphicLayerOrder: 1,
        // Full white, so the outline shows over any window.
        GraphicLayerRecommendedDisplayGrayscaleValue: 0xffff,
        GraphicLayerDescription: `Findings of ${model.name}`.slice(0, 64),
      }],
      // Modality LUT (C.11.1), only when the source has one.
      ...(rescale === undefined ? {} : {
        RescaleIntercept: decimalString(rescale.intercept),
        RescaleSlope: decimalString(rescale.slope),
        RescaleType: rescale.type,
      }),
      // Softcopy VOI LUT (C.11.8): the source's own first window, per group of images that share it.
      ...(byWindow.size === 0 ? {} : {
        SoftcopyVOILUTSequence: [...byWindow.values()].map((group) => ({
          ...referencedImagesUnlessAll(group, images),
          WindowCenter: decimalString(group[0]?.window?.center ?? 0),
          WindowWidth: decimalString(group[0]?.window?.width ?? 1),
        })),
      }),
      PresentationLUTShape: 'IDENTITY',
      ...this.#outlineOverlay(),
    };
  }

  /**
   * The outlines again as an Overlay Plane activated on layer AI, for viewers
   * that show overlays but not graphic objects (dcmp2pgm is one). An overlay in
   * a presentation state applies to every image it references (PS3.3 C.9.2,
   * C.11.7), so it is written only when the state annotates a single image
   * (a CR/DX, or one slice); otherwise different slices' outlines would mix.
   */
  #outlineOverlay(): NaturalDataset {
    const image = this.#images[0];
    if (image === undefined || this.#images.length !== 1) return {};
    const bitmap = new OverlayBitmap(image.rows, image.columns);
    for (const finding of this.options.result.findings) bitmap.draw(finding.region);
    return {
      OverlayRows: image.rows,
      OverlayColumns: image.columns,
      OverlayType: 'G',
      OverlayOrigin: [1, 1],
      OverlayBitsAllocated: 1,
      OverlayBitPosition: 0,
      OverlayDescription: 'AI finding outlines',
      OverlayLabel: 'AI',
      OverlayActivationLayer: AI_GRAPHIC_LAYER,
      OverlayData: [bitmap.toOverlayData()],
      // OverlayData may be OB or OW (PS3.6); in a presentation state it is OW.
      _vrMap: { OverlayData: 'OW' },
    };
  }

  toPart10(): Buffer {
    return writePart10(this.toDataset());
  }

  /** The images this state annotates, in series order (for the caller's checks). */
  annotatedImageKeys(): string[] {
    return this.#images.map(imageKey);
  }
}
