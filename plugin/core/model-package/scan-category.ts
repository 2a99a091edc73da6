/**
 * Does a model apply to a de-identified instance? Modality must match; then
 * Body Part Examined, or (since de-identification and many sources leave it
 * empty) a description keyword at the start of a word of the Study or Series
 * Description; and the view, when the model names views. The score prefers
 * a body part match over a keyword match.
 *
 * The gateway chooses with this, on the values the sealed worker read from the
 * de-identified dataset it wrote (DeidSuccess.scan), against the rules of the
 * annotator's active models (ModelSummary.category): no instance job waits for
 * the annotator (issue 14).
 */
import type { ModelManifest } from './model-manifest';

/** The header values selection looks at (de-identified instance); '' when absent. */
export interface ScanCategory {
  readonly modality: string;
  readonly bodyPartExamined?: string;
  readonly studyDescription?: string;
  readonly seriesDescription?: string;
  readonly viewPosition?: string;
}

/** What a model's manifest says about the scans it serves. */
export type CategoryRules = ModelManifest['category'];

function words(text: string | undefined): string[] {
  return (text ?? '').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 0);
}

/** 0: does not apply; 2: body part matches; 1: a description keyword matches. */
export function categoryScore(category: CategoryRules, scan: ScanCategory): number {
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

/**
 * The model for a scan among the active ones, or undefined: "no applicable
 * model" is an outcome for the caller to record, not an error. The best score
 * wins; ties go to the lexically first id, so the choice is stable whatever
 * order the models are listed in.
 */
export function selectModel<M extends { readonly id: string; readonly category: CategoryRules }>(models: readonly M[], scan: ScanCategory): M | undefined {
  let best: { score: number; model: M } | undefined;
  for (const model of models) {
    const score = categoryScore(model.category, scan);
    if (score === 0) continue;
    if (best === undefined || score > best.score || (score === best.score && model.id < best.model.id)) best = { score, model };
  }
  return best?.model;
}

/** Checked on arrival: it crosses a process boundary (sealed worker → gateway). */
export function isScanCategory(value: unknown): value is Required<ScanCategory> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['modality', 'bodyPartExamined', 'studyDescription', 'seriesDescription', 'viewPosition'].every((key) => typeof v[key] === 'string');
}
