import { parentPort, workerData } from 'node:worker_threads';

import type { AnnotateRequest } from '../core/annotate-messages';
import { AiBridgeError } from '../core/ai-bridge-error';
import { annotateMembers } from './annotate-members';
import type { InferenceThreadReply, InferenceThreadStart } from './inference-thread';
import { ModelRegistry } from './models/model-registry';

/**
 * The annotator's inference thread (inference-thread.ts): runs one
 * annotation per message. Its own registry reads the active versions from
 * disk on every load, so an activation or rollback made on the main thread
 * applies from the next annotation on.
 */
const start = workerData as InferenceThreadStart;
const registry = new ModelRegistry(start.modelsDirectory);
const port = parentPort;
if (port === null) throw new Error('inference-thread-main runs as a worker thread');

port.on('message', (request: AnnotateRequest) => {
  void (async (): Promise<void> => {
    let reply: InferenceThreadReply;
    try {
      reply = { ok: true, result: await annotateMembers(registry, start.stores, request) };
    } catch (error) {
      reply = error instanceof AiBridgeError
        ? { ok: false, code: error.code, message: error.message, transient: error.transient }
        : { ok: false, code: 'AIB_ANNOTATE_FAILED', message: error instanceof Error ? error.message : String(error), transient: false };
    }
    port.postMessage(reply);
  })();
});
