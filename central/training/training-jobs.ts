/**
 * Training jobs: the admin names a model, a scan category, the sites whose
 * uploads train and the (other) sites whose uploads evaluate. A job decodes
 * the de-identified instances, fits the classifier, runs the exported ONNX
 * graph itself (onnxruntime) on the held-out site's instances for the
 * metrics, and publishes the signed result as the model's next version.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type Database from 'better-sqlite3';
import * as ort from 'onnxruntime-node';

import type { NewTrainingJob, TrainingJobView } from '../../plugin/core/central-api';
import { CentralError } from '../central-error';
import type { ModelRegistry } from '../model-registry';
import { SITE_ID } from '../site-directory';
import type { StoredUpload, TrainingIntake } from '../training-intake';
import { classifierGraph, INPUT_TENSOR, OUTPUT_TENSOR } from './classifier-graph';
import { classifierArchive } from './classifier-package';
import { requireCommissioningPasses, siteMeasuredArea } from './site-commissioning';
import { fitLogistic } from './logistic-regression';
import { features, INPUT_SIZE, scanPlane, type ScanPlane } from './scan-features';

const MODEL_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const UPPER = /^[A-Z0-9 _]{1,16}$/;

interface Example { readonly upload: StoredUpload; readonly scan: ScanPlane; readonly label: number }

function siteList(body: unknown, name: string): string[] {
  const v = (body as Record<string, unknown>)[name];
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && SITE_ID.test(s)))
    throw new CentralError('CENTRAL_BAD_REQUEST', 400, `"${name}" must be a non-empty list of site ids`);
  return v as string[];
}

export function parseTrainingJob(body: unknown): NewTrainingJob {
  const b = (body ?? {}) as { modelId?: unknown; category?: { modality?: unknown; bodyPart?: unknown } };
  if (typeof b.modelId !== 'string' || !MODEL_ID.test(b.modelId)) throw new CentralError('CENTRAL_BAD_REQUEST', 400, '"modelId" must be a model id (lower-case letters, digits, dashes)');
  const { modality, bodyPart } = b.category ?? {};
  if (typeof modality !== 'string' || !UPPER.test(modality) || typeof bodyPart !== 'string' || !UPPER.test(bodyPart))
    throw new CentralError('CENTRAL_BAD_REQUEST', 400, '"category" must be { modality, bodyPart } in upper case');
  const job = { modelId: b.modelId, category: { modality, bodyPart }, trainSites: siteList(body, 'trainSites'), evaluationSites: siteList(body, 'evaluationSites') };
  const overlap = job.evaluationSites.filter((s) => job.trainSites.includes(s));
  if (overlap.length > 0) throw new CentralError('CENTRAL_BAD_REQUEST', 400, `evaluation sites must differ from training sites (${overlap.join(', ')} in both)`);
  return job;
}

/** The next minor version after every published one (1.0.0 for a new model). */
export function nextVersion(existing: readonly string[]): string {
  const parsed = existing.map((v) => v.split(/[.-]/).slice(0, 3).map(Number)).filter((p) => p.length === 3 && p.every(Number.isFinite));
  if (parsed.length === 0) return '1.0.0';
  parsed.sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0) || (a[2] ?? 0) - (b[2] ?? 0));
  const top = parsed[parsed.length - 1] ?? [1, 0, 0];
  return `${String(top[0])}.${String((top[1] ?? 0) + 1)}.0`;
}

function requireBothClasses(examples: readonly Example[], what: string, job: NewTrainingJob): void {
  const positives = examples.filter((e) => e.label === 1).length;
  if (positives === 0 || positives === examples.length)
    throw new Error(`${what}: needs ${job.category.modality} ${job.category.bodyPart} instances and other ${job.category.modality} instances; has ${String(positives)} of ${String(examples.length)}`);
}

export class TrainingJobs {
  readonly #running = new Set<Promise<void>>();

  constructor(
    readonly db: Database.Database,
    readonly intake: TrainingIntake,
    readonly registry: ModelRegistry,
    readonly trainerPrivateKeyPem: string,
  ) {}

  #save(view: TrainingJobView): TrainingJobView {
    this.db.prepare('INSERT INTO training_jobs (id, view_json) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET view_json = excluded.view_json').run(view.id, JSON.stringify(view));
    return view;
  }

  get(id: string): TrainingJobView {
    const row = this.db.prepare('SELECT view_json FROM training_jobs WHERE id = ?').get(id) as { view_json: string } | undefined;
    if (row === undefined) throw new CentralError('CENTRAL_NOT_FOUND', 404, `no training job ${id}`);
    return JSON.parse(row.view_json) as TrainingJobView;
  }

  list(): TrainingJobView[] {
    return (this.db.prepare('SELECT view_json FROM training_jobs ORDER BY rowid').all() as { view_json: string }[]).map((r) => JSON.parse(r.view_json) as TrainingJobView);
  }

  start(job: NewTrainingJob): TrainingJobView {
    const view = this.#save({
      ...job, id: `train-${randomBytes(6).toString('hex')}`, state: 'queued', createdAt: new Date().toISOString(), finishedAt: null,
      trainingInstances: 0, evaluationInstances: 0, metrics: {}, published: null, error: null,
    });
    const run = this.#run(view).finally(() => { this.#running.delete(run); });
    this.#running.add(run);
    return view;
  }

  /** Resolves when every started job has finished (server shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.#running]);
  }

  async #run(queued: TrainingJobView): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    let view = this.#save({ ...queued, state: 'running' });
    try {
      view = await this.#train(view);
    } catch (e) {
      view = { ...view, state: 'failed', error: e instanceof Error ? e.message : String(e) };
    }
    this.#save({ ...view, finishedAt: new Date().toISOString() });
  }

  async #examples(sites: readonly string[], job: NewTrainingJob): Promise<Example[]> {
    const examples: Example[] = [];
    for (const upload of this.intake.uploadsOf(sites, job.category.modality)) {
      examples.push({ upload, scan: scanPlane(readFileSync(upload.path)), label: upload.category.bodyPart === job.category.bodyPart ? 1 : 0 });
      // One decode at a time, then back to the event loop: sites polling during a job wait tens of ms, not the whole job.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return examples;
  }

  async #train(view: TrainingJobView): Promise<TrainingJobView> {
    const training = await this.#examples(view.trainSites, view);
    const evaluation = await this.#examples(view.evaluationSites, view);
    requireBothClasses(training, `training sites ${view.trainSites.join(', ')}`, view);
    requireBothClasses(evaluation, `evaluation sites ${view.evaluationSites.join(', ')}`, view);
    const model = fitLogistic(training.map((e) => features(e.scan.plane)), training.map((e) => e.label));
    const version = nextVersion(this.registry.versions(view.modelId));
    const onnxBytes = classifierGraph(model, `${view.category.modality} ${view.category.bodyPart} classifier, training job ${view.id}`);
    // The exported graph, not the TypeScript model, is what sites run: measure that.
    const session = await ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    let tp = 0, tn = 0, fp = 0, fn = 0;
    let best: { example: Example; score: number; areaMm2: number } | undefined;
    for (const example of evaluation) {
      const output = await session.run({ [INPUT_TENSOR]: new ort.Tensor('float32', example.scan.plane, [1, 1, INPUT_SIZE, INPUT_SIZE]) });
      const map = output[OUTPUT_TENSOR]?.data as Float32Array;
      let max = 0;
      let inside = 0;
      for (const v of map) {
        if (v > max) max = v;
        if (v > 0.5) inside++;
      }
      const predicted = max > 0.5 ? 1 : 0;
      if (predicted === 1 && example.label === 1) tp++;
      else if (predicted === 0 && example.label === 0) tn++;
      else if (predicted === 1) fp++;
      else fn++;
      const [sr, sc] = example.scan.spacing ?? [0, 0];
      if (example.label === 1 && predicted === 1 && sr > 0 && (best === undefined || max > best.score)) best = { example, score: max, areaMm2: inside * sr * sc };
    }
    await session.release();
    const metrics = {
      accuracy: (tp + tn) / evaluation.length,
      sensitivity: tp + fn === 0 ? 0 : tp / (tp + fn),
      specificity: tn + fp === 0 ? 0 : tn / (tn + fp),
      trainingInstances: training.length,
      evaluationInstances: evaluation.length,
    };
    view = { ...view, trainingInstances: training.length, evaluationInstances: evaluation.length, metrics };
    if (best === undefined) throw new Error('no held-out instance of the category was classified correctly (or none states its pixel spacing): nothing to commission with, not published');
    const trained = {
      jobId: view.id, modelId: view.modelId, version, category: view.category, onnx: onnxBytes,
      trainSites: view.trainSites, evaluationSites: view.evaluationSites,
      heldOut: evaluation.map((e) => `upload ${e.upload.uploadId} (site ${e.upload.siteId}, ${e.upload.category.bodyPart})`),
      metrics,
      commissioning: { bytes: readFileSync(best.example.upload.path), areaMm2: best.areaMm2, uploadId: best.example.upload.uploadId, siteId: best.example.upload.siteId },
    };
    // The expected range comes from the sites' own measurement (their region
    // post-processing: holes filled, largest component, at the image's
    // resolution), not from the map above, and the package must pass the
    // commissioning a site will run before it is published.
    const siteArea = await siteMeasuredArea(trained);
    const archive = classifierArchive({ ...trained, commissioning: { ...trained.commissioning, areaMm2: siteArea } }, this.trainerPrivateKeyPem);
    await requireCommissioningPasses(archive, `training job ${view.id}`);
    const { receipt } = this.registry.publish(archive, { jobId: view.id, modelId: view.modelId });
    return { ...view, state: 'succeeded', published: receipt };
  }
}
