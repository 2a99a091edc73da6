/**
 * One onnxruntime session per loaded model version, reused for every run.
 * Single-threaded on purpose: the annotator shares the machine with Orthanc
 * and the de-identification workers, and parallelism comes from processes.
 */
import { env, InferenceSession, Tensor } from 'onnxruntime-node';

import { ModelError } from '../core/model-package/model-error';
import type { ModelManifest } from '../core/model-package/model-manifest';

// onnxruntime's process-wide logger starts at 'warning' and prints start-up notes (telemetry id,
// GPU discovery refused by the seal) to stderr, which is Orthanc's log or the CLI's own output;
// errors still surface as exceptions. Read once, when the first session is created.
env.logLevel = 'error';

const sessions = new Map<string, Promise<InferenceSession>>();

export interface LoadedModel {
  readonly manifest: ModelManifest;
  readonly model: Uint8Array;
}

function sessionKey(manifest: ModelManifest): string {
  return `${manifest.id}@${manifest.version}`;
}

export function modelSession(loaded: LoadedModel): Promise<InferenceSession> {
  const key = sessionKey(loaded.manifest);
  let session = sessions.get(key);
  if (session === undefined) {
    session = InferenceSession.create(loaded.model, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    sessions.set(key, session);
    // A model that does not load must not stay cached as a rejected promise.
    session.catch(() => sessions.delete(key));
  }
  return session;
}

/** Frees the session of a model version (after rollback or replacement). */
export async function releaseSession(manifest: ModelManifest): Promise<void> {
  const key = sessionKey(manifest);
  const session = sessions.get(key);
  sessions.delete(key);
  if (session) await (await session).release();
}

/** Runs one prepared plane; returns the output tensor's data ([1, channels, rows, columns]). */
export async function runPlane(loaded: LoadedModel, plane: Float32Array): Promise<Float32Array> {
  const { manifest } = loaded;
  let session: InferenceSession;
  try {
    session = await modelSession(loaded);
  } catch (error: unknown) {
    throw new ModelError('AIB_MODEL_INFERENCE_FAILED', `model ${manifest.id} ${manifest.version} does not load in onnxruntime: ${String(error)}`, { modelId: manifest.id, version: manifest.version });
  }
  const input = new Tensor('float32', plane, [1, 1, manifest.input.rows, manifest.input.columns]);
  const outputs = await session.run({ [manifest.input.tensorName]: input });
  const output = outputs[manifest.output.tensorName];
  const expected = manifest.output.channels.length * manifest.input.rows * manifest.input.columns;
  if (output?.data instanceof Float32Array && output.data.length === expected) return output.data;
  throw new ModelError('AIB_MODEL_INFERENCE_FAILED', `model ${manifest.id} ${manifest.version} output "${manifest.output.tensorName}" is not float32 [1, ${String(manifest.output.channels.length)}, ${String(manifest.input.rows)}, ${String(manifest.input.columns)}]`, { modelId: manifest.id, version: manifest.version });
}
