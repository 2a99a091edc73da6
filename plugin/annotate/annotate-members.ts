import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

import type { AnnotateRequest, AnnotateSuccess, AnnotationOutput } from '../core/annotate-messages';
import { AiBridgeError } from '../core/ai-bridge-error';
import type { AnnotationResult } from '../core/findings';
import { writeLogEvent } from '../core/log-event';
import { resultUid } from '../core/uid';
import { runInference } from '../inference/run-inference';
import { decodeImage, type DecodedImage } from '../pixels';
import { readDeidHeader, type DeidHeader } from './deid-header';
import type { ModelRegistry } from './models/model-registry';
import {
  COMPREHENSIVE_SR_STORAGE, GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE, GrayscaleSoftcopyPresentationState, Tid1500MeasurementReport,
  type ResultInstanceIdentity, type SourceStudy,
} from './results';

/** Series numbers of the result series (one SR series, one GSPS series per study and model). */
const SR_SERIES_NUMBER = 9901;
const GSPS_SERIES_NUMBER = 9902;

/** The annotator's stores: de-identified copies are read from the first, results written to the second. */
export interface AnnotateStores {
  readonly deidDirectory: string;
  readonly outboxDirectory: string;
}

/** A path the gateway names must stay inside the de-identified store. */
export function insideStore(deidDirectory: string, relative: string): string {
  const path = resolve(deidDirectory, relative);
  if (!path.startsWith(`${deidDirectory}${sep}`)) throw new AiBridgeError('AIB_ANNOTATE_BAD_REQUEST', 'a path outside the de-identified store', {}, false);
  return path;
}

/**
 * Runs the model of an annotation over its de-identified members and writes
 * the GSPS and TID 1500 SR it builds to outbox/<key>/. onnxruntime's Node
 * binding runs a session synchronously on the annotator's one thread: nothing
 * an instance job needs waits for it (the gateway chooses models itself), and
 * a second thread would cost a second V8 isolate and onnxruntime (~45 MB).
 */
export async function annotateMembers(registry: ModelRegistry, stores: AnnotateStores, request: AnnotateRequest): Promise<AnnotateSuccess> {
  const deidFile = (relative: string): string => insideStore(stores.deidDirectory, relative);
  const outboxDirectory = stores.outboxDirectory;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(request.key)) throw new AiBridgeError('AIB_ANNOTATE_BAD_REQUEST', 'the annotation key is not a plain name', {}, false);
  const model = registry.load(request.model.id);
  if (model.manifest.version !== request.model.version) {
    // The active version changed since the instance was classified: the result says which version made it.
    writeLogEvent('annotator', 'info', 'model-version-changed', { stage: 'annotator', model: request.model.id, version: model.manifest.version,
      message: `${request.model.id}: ${request.model.version} requested, ${model.manifest.version} is active; using it` });
  }
  const firstMember = request.members[0];
  if (firstMember === undefined) throw new AiBridgeError('AIB_ANNOTATE_BAD_REQUEST', 'no instances to annotate', {}, false);
  // Each file is read and parsed once (decodeImage carries the header inference needs);
  // the patient and study attributes the results repeat come from the first member alone.
  const first = readDeidHeader(deidFile(firstMember.deidPath));
  const tokenBySop = new Map<string, string>();
  // Decoded when inference asks for the next one: one slice's samples in memory at a time.
  function* images(): Generator<DecodedImage> {
    for (const member of request.members) {
      const image = decodeImage(readFileSync(deidFile(member.deidPath)));
      tokenBySop.set(image.header.sopInstanceUid, member.linkToken);
      yield image;
    }
  }
  const result = await runInference(model, images());
  const folder = join(outboxDirectory, request.key);
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const outputs: AnnotationOutput[] = [];
  if (result.findings.length > 0) {
    const source = sourceStudy(first);
    const modelKey = `${result.model.id}@${result.model.version}`;
    const identity = (kind: 'sr' | 'gsps', seriesNumber: number): ResultInstanceIdentity => {
      const now = new Date().toISOString();
      return {
        seriesInstanceUid: resultUid('deid-result-series', first.studyInstanceUid, modelKey, kind),
        sopInstanceUid: resultUid('deid-result-instance', first.seriesInstanceUid, request.key, modelKey, kind),
        seriesNumber, instanceNumber: 1,
        contentDate: now.slice(0, 10).replace(/-/g, ''), contentTime: now.slice(11, 19).replace(/:/g, ''),
      };
    };
    const sr = new Tid1500MeasurementReport({ result, source, instance: identity('sr', SR_SERIES_NUMBER) });
    outputs.push(writeOutput(outboxDirectory, request.key, 'sr.dcm', sr.toPart10(), 'sr', COMPREHENSIVE_SR_STORAGE));
    const gsps = new GrayscaleSoftcopyPresentationState({ result, source, instance: identity('gsps', GSPS_SERIES_NUMBER) });
    outputs.push(writeOutput(outboxDirectory, request.key, 'gsps.dcm', gsps.toPart10(), 'gsps', GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE));
  }
  return {
    k: 'annotated', ok: true, outputs, findings: result.findings.length, summary: result.summary,
    referencedTokens: referencedTokens(result, tokenBySop),
  };
}

function referencedTokens(result: AnnotationResult, tokenBySop: ReadonlyMap<string, string>): string[] {
  const tokens = new Set<string>();
  for (const finding of result.findings) {
    const token = tokenBySop.get(finding.image.sopInstanceUid);
    if (token !== undefined) tokens.add(token);
  }
  return [...tokens];
}

/** The de-identified study as the copy states it; the gateway swaps in the original when it relinks. */
function sourceStudy(header: DeidHeader): SourceStudy {
  const sex = header.patientSex.toUpperCase();
  return {
    PatientName: header.patientName, PatientID: header.patientId, PatientBirthDate: header.patientBirthDate,
    PatientSex: sex === 'M' || sex === 'F' || sex === 'O' ? sex : '',
    StudyInstanceUID: header.studyInstanceUid, StudyDate: header.studyDate, StudyTime: header.studyTime,
    StudyID: header.studyId.slice(0, 16), AccessionNumber: header.accessionNumber.slice(0, 16), ReferringPhysicianName: header.referringPhysicianName,
  };
}

function writeOutput(outboxDirectory: string, key: string, name: string, bytes: Buffer, kind: 'sr' | 'gsps', sopClassUid: string): AnnotationOutput {
  const relative = join(key, name);
  const path = join(outboxDirectory, relative);
  writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return { kind, path: relative, sopClassUid };
}
