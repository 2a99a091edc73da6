import type { AnnotationResult, Finding } from '../../core/findings';

/** Said first and last, so no reader of a part of the text takes it for a radiologist's report. */
export const PRELIMINARY_NOTICE = 'AI PRELIMINARY RESULT, NOT A DIAGNOSIS.';
const CLOSING = 'Generated automatically by an AI model from the images alone; it has not been reviewed by a radiologist '
  + 'and must not be used as a diagnosis.';

/** "Area 1234 mm2, Long axis 56.7 mm": each measurement with its UCUM unit (mm2, mm, [hnsf'U], ml). */
function measurementsOf(finding: Finding): string {
  return finding.measurements.map((m) => `${m.concept.meaning} ${String(m.value)} ${m.unit.value}`).join(', ');
}

function findingLine(finding: Finding, index: number): string {
  const site = finding.findingSite === undefined ? '' : `, location: ${finding.findingSite.meaning}`;
  const measured = measurementsOf(finding);
  return `${String(index + 1)}. ${finding.finding.meaning} (${finding.label}${site})${measured === '' ? '' : `: ${measured}`}.`;
}

/**
 * The natural-language preliminary report of one annotation (seed claim 9):
 * the model's own phrasing of its findings (the manifest's `report` templates,
 * already in `summary`), then each finding with its location and sizes, the
 * model and version, and the statement that it is an AI preliminary result.
 * Pure: the same result gives the same text, so the SR's TEXT item and the
 * ORU^R01 sent to the report system carry the same words. De-identified zone:
 * no patient value is in a result.
 */
export function preliminaryReportText(result: AnnotationResult): string {
  const lines = [PRELIMINARY_NOTICE, result.summary.trim()];
  if (result.findings.length > 0) lines.push('Findings:', ...result.findings.map(findingLine));
  lines.push(`Model: ${result.model.name} (${result.model.id}), version ${result.model.version}, ${result.model.manufacturer}.`, CLOSING);
  return lines.filter((l) => l !== '').join('\n');
}
