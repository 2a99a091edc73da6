/**
 * Does a model apply to a de-identified instance? Modality must match; then
 * Body Part Examined, or (since de-identification and many sources leave it
 * empty) a description keyword at the start of a word of the Study or Series
 * Description; and the view, when the model names views. The score prefers
 * a body part match over a keyword match.
 */
import type { ModelManifest } from './model-manifest';

/** The header values selection looks at (de-identified instance). */
export interface ScanCategory {
  readonly modality: string;
  readonly bodyPartExamined?: string;
  readonly studyDescription?: string;
  readonly seriesDescription?: string;
  readonly viewPosition?: string;
}

function words(text: string | undefined): string[] {
  return (text ?? '').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0);
}

/** 0: does not apply; 2: body part matches; 1: a description keyword matches. */
export function categoryScore(category: ModelManifest['category'], scan: ScanCategory): number {
  if (!category.modalities.includes(scan.modality.trim().toUpperCase())) return 0;
  const view = scan.viewPosition?.trim().toUpperCase() ?? '';
  if (category.views && !category.views.includes(view)) return 0;
  const descriptionWords = [...words(scan.studyDescription), ...words(scan.seriesDescription)];
  if ((category.excludedDescriptionKeywords ?? []).some((k) => descriptionWords.some((w) => w.startsWith(k)))) return 0;
  const bodyPart = scan.bodyPartExamined?.trim().toUpperCase() ?? '';
  if (bodyPart !== '' && category.bodyParts.includes(bodyPart)) return 2;
  if (category.descriptionKeywords.some((k) => descriptionWords.some((w) => w.startsWith(k)))) return 1;
  return 0;
}
