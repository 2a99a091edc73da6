import { readFileSync, rmSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

import type { AnnotationOutput } from '../../core/annotate-messages';
import { AiBridgeError } from '../../core/ai-bridge-error';
import { resultUid } from '../../core/uid';
import { originalStudyFromTags, relinkResult, uidValues, type OriginalStudy } from '../../relink/relink-result';
import type { OrthancRest } from '../../sdk';
import type { StowClient } from '../delivery/stow-rs';
import { GatewayError } from '../gateway-errors';
import type { PipelineStage, StageResult } from '../pipeline';
import type { PhiVault } from '../vault/phi-vault';
import type { Annotation, AnnotationFacts, AnnotationStore } from './annotation-store';
import type { AnnotatorPool } from './annotator-pool';
import type { SupersededResults } from './superseded-results';

/** Carried from stage to stage within one attempt of one annotation (in memory only). */
export interface AnnotationWork {
  outputs?: readonly AnnotationOutput[];
  findings?: number;
  relinked?: { readonly kind: 'sr' | 'gsps'; readonly bytes: Buffer; readonly sopInstanceUid: string }[];
}

export type AnnotationStage = PipelineStage<Annotation, AnnotationWork, AnnotationFacts>;

/** outbox/<key>: one folder per annotation; the key is made of the unit key, so it is stable across retries. */
export function outboxKey(annotation: Annotation): string {
  return `A${annotation.id}`;
}

/** Runs the model in the annotator (de-identified zone); the results land in outbox/. */
export class AnnotateStage implements AnnotationStage {
  readonly name = 'annotate';
  readonly #annotator: AnnotatorPool;
  readonly #store: AnnotationStore;

  constructor(annotator: AnnotatorPool, store: AnnotationStore) {
    this.#annotator = annotator;
    this.#store = store;
  }

  async run(annotation: Annotation, work: AnnotationWork): Promise<StageResult<AnnotationFacts>> {
    const members = (await this.#store.members(annotation.id)).map((m) => ({ deidPath: m.deidPath, linkToken: m.linkToken }));
    // Every member enrolled an instance; none left means Orthanc deleted them all since (deleted-instances.ts).
    if (members.length === 0) return { outcome: 'nothing to annotate: every instance of the series was deleted from Orthanc', final: true };
    const reply = await this.#annotator.annotate({
      key: outboxKey(annotation), model: { id: annotation.modelId, version: annotation.modelVersion }, members,
    });
    if (!reply.ok) {
      throw new GatewayError('AIB_ANNOTATE_FAILED', `annotation ${annotation.id}: ${reply.code}: ${reply.message}`, { annotationId: annotation.id }, reply.transient);
    }
    work.outputs = reply.outputs;
    work.findings = reply.findings;
    return { outcome: `${reply.findings} finding(s): ${reply.summary}` };
  }
}

/**
 * Puts each result back on the original study (PHI zone): de-identified
 * references become originals through the vault, the patient and study
 * modules are copied from the original in Orthanc, and the result gets UIDs
 * derived from the original series, the model version, its kind and, once a
 * late slice re-opened the series, its revision (so the corrected result is a
 * new object and the earlier one can be removed, not overwritten in place).
 */
export class RelinkStage implements AnnotationStage {
  readonly name = 'relink';
  readonly #orthanc: OrthancRest;
  readonly #vault: PhiVault;
  readonly #store: AnnotationStore;
  readonly #outbox: string;

  constructor(orthanc: OrthancRest, vault: PhiVault, store: AnnotationStore, outboxDirectory: string) {
    this.#orthanc = orthanc;
    this.#vault = vault;
    this.#store = store;
    this.#outbox = resolve(outboxDirectory);
  }

  async run(annotation: Annotation, work: AnnotationWork): Promise<StageResult<AnnotationFacts>> {
    const outputs = work.outputs ?? [];
    const study = await this.#originalStudy(annotation);
    const relinked: NonNullable<AnnotationWork['relinked']> = [];
    for (const output of outputs) {
      const path = resolve(this.#outbox, output.path);
      if (!path.startsWith(`${this.#outbox}${sep}`)) {
        throw new GatewayError('AIB_ANNOTATOR_PROTOCOL', `annotation ${annotation.id}: the annotator named a result outside outbox/`, { annotationId: annotation.id }, false);
      }
      const model = `${annotation.modelId}@${annotation.modelVersion}`;
      const source = annotation.unit === 'series' ? annotation.seriesInstanceUid : annotation.unitKey;
      try {
        const bytes = readFileSync(path);
        const originals = await this.#vault.originalUids(uidValues(bytes));
        const result = relinkResult(bytes, {
          originalUid: (uid) => originals.get(uid),
          study,
          seriesInstanceUid: resultUid('result-series', study.studyInstanceUid, model, output.kind),
          sopInstanceUid: resultSopInstanceUid(source, model, output.kind, annotation.revision),
        });
        if (result.referencesRelinked === 0) {
          throw new GatewayError('AIB_RELINK_FAILED', `annotation ${annotation.id}: the ${output.kind.toUpperCase()} references no de-identified instance the vault knows`,
            { annotationId: annotation.id }, false);
        }
        relinked.push({ kind: output.kind, bytes: result.bytes, sopInstanceUid: result.sopInstanceUid });
      } catch (error) {
        if (error instanceof AiBridgeError) throw error;
        throw new GatewayError('AIB_RELINK_FAILED', `annotation ${annotation.id}: ${error instanceof Error ? error.message : String(error)}`, { annotationId: annotation.id }, false);
      }
    }
    work.relinked = relinked;
    return {};
  }

  async #originalStudy(annotation: Annotation): Promise<OriginalStudy> {
    for (const member of await this.#store.members(annotation.id)) {
      const link = await this.#vault.resolve(member.linkToken);
      if (link === undefined) continue;
      const tags = await this.#orthanc.getJson(`/instances/${link.instanceId}/tags?short`);
      if (typeof tags === 'object' && tags !== null) return originalStudyFromTags(tags as Record<string, unknown>);
    }
    throw new GatewayError('AIB_RELINK_FAILED', `annotation ${annotation.id}: none of its instances has a vault entry`, { annotationId: annotation.id }, false);
  }
}

/** Revision 0 keeps the derivation results had before revisions existed, so they stay the same objects. */
export function resultSopInstanceUid(source: string, model: string, kind: 'sr' | 'gsps', revision: number): string {
  return revision === 0 ? resultUid('result-instance', source, model, kind) : resultUid('result-instance', source, model, kind, `revision ${revision}`);
}

/** What happens once an annotation's results are stored: `relinked` carry the original identifiers. */
export type AfterDelivery = (annotation: Annotation, relinked: NonNullable<AnnotationWork['relinked']>) => Promise<void>;

/**
 * STOW-RS of the relinked results into the original study; then the results
 * of an earlier revision are removed, then the outbox folder goes.
 */
export class DeliverStage implements AnnotationStage {
  readonly name = 'deliver';
  readonly #stow: StowClient;
  readonly #outbox: string;
  readonly #beforeStore: (annotation: Annotation, sopInstanceUids: readonly string[]) => Promise<void>;
  readonly #superseded: SupersededResults;
  readonly #afterDelivery: AfterDelivery | undefined;

  /**
   * `afterDelivery`: told what was stored, before the run ends (the report link queues the AI preliminary
   * report, issue 16); if it throws, the delivery is retried, and storing again the same UIDs changes nothing.
   * `beforeStore`: told which objects are about to be stored, so that they are
   * recognised when Orthanc reports them (not ingest to yield to, not
   * instances to de-identify).
   */
  constructor(stow: StowClient, outboxDirectory: string, beforeStore: (annotation: Annotation, sopInstanceUids: readonly string[]) => Promise<void>,
    superseded: SupersededResults, afterDelivery?: AfterDelivery) {
    this.#afterDelivery = afterDelivery;
    this.#stow = stow;
    this.#outbox = outboxDirectory;
    this.#beforeStore = beforeStore;
    this.#superseded = superseded;
  }

  async run(annotation: Annotation, work: AnnotationWork): Promise<StageResult<AnnotationFacts>> {
    const relinked = work.relinked ?? [];
    if (relinked.length === 0) {
      // A corrected run with nothing to say still withdraws what the earlier revision said.
      await this.#superseded.remove(annotation, annotation.results);
      return { facts: { results: [] }, outcome: `${work.findings ?? 0} finding(s); nothing to deliver` };
    }
    await this.#beforeStore(annotation, relinked.map((r) => r.sopInstanceUid));
    const outcome = await this.#stow.store(annotation.studyInstanceUid, relinked);
    // `annotation.results` are those of the last delivery (the claim's snapshot): what this revision replaces.
    const stored = new Set(relinked.map((r) => r.sopInstanceUid));
    await this.#superseded.remove(annotation, annotation.results.filter((uid) => !stored.has(uid)));
    await this.#afterDelivery?.(annotation, relinked);
    rmSync(join(this.#outbox, outboxKey(annotation)), { recursive: true, force: true });
    const kinds = relinked.map((r) => r.kind.toUpperCase()).join(' + ');
    const warned = outcome.warnings.length > 0 ? ` (${outcome.warnings.length} stored with warnings)` : '';
    return {
      facts: { results: relinked.map((r) => r.sopInstanceUid) },
      outcome: `${work.findings ?? 0} finding(s) by ${annotation.modelId}@${annotation.modelVersion}: ${kinds} delivered to ${this.#stow.describe()}${warned}`,
    };
  }
}
