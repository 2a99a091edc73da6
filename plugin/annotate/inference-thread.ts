import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

import type { AnnotateRequest, AnnotateSuccess } from '../core/annotate-messages';
import { AiBridgeError } from '../core/ai-bridge-error';
import type { AnnotateStores } from './annotate-members';

/** What the inference thread posts back for one request (inference-thread-main.ts). */
export type InferenceThreadReply =
  | { readonly ok: true; readonly result: AnnotateSuccess }
  | { readonly ok: false; readonly code: string; readonly message: string; readonly transient: boolean };

/** What the annotator posts to the inference thread. */
export interface InferenceThreadStart {
  readonly modelsDirectory: string;
  readonly stores: AnnotateStores;
}

/**
 * The annotator's one inference thread. onnxruntime's Node binding runs a
 * session synchronously on the thread that calls it; run on the annotator's
 * main thread, each slice of a series annotation held the event loop for tens
 * of milliseconds, and every instance job's classify request (answered "at
 * once" on that loop) waited for it: measured ~19 ms of the ~25 ms the
 * queue-annotation stage took per job, more lane time than de-identification
 * itself. Here inference has its own thread and the main thread stays free for
 * classify. Started on the first annotation, after the seal (a thread started
 * later is inside the process's Landlock domain and seccomp filter); one
 * request at a time (the annotator's queue already serialises annotations).
 * A thread that dies fails its request as transient and is started again on
 * the next one.
 */
export class InferenceThread {
  readonly #start: InferenceThreadStart;
  #worker: Worker | undefined;

  constructor(start: InferenceThreadStart) {
    this.#start = start;
  }

  annotate(request: AnnotateRequest): Promise<AnnotateSuccess> {
    const worker = this.#worker ?? this.#spawn();
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (reply: InferenceThreadReply): void => {
        settle();
        if (reply.ok) resolve(reply.result);
        else reject(new AiBridgeError(reply.code, reply.message, {}, reply.transient));
      };
      const onError = (error: Error): void => {
        settle();
        this.#worker = undefined;
        reject(new AiBridgeError('AIB_ANNOTATE_FAILED', `the inference thread failed: ${error.message}`, {}, true));
      };
      const onExit = (code: number): void => {
        settle();
        this.#worker = undefined;
        reject(new AiBridgeError('AIB_ANNOTATE_FAILED', `the inference thread stopped (exit code ${String(code)})`, {}, true));
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage(request);
    });
  }

  #spawn(): Worker {
    const worker = new Worker(join(__dirname, 'inference-thread-main.js'), { workerData: this.#start });
    // The annotator exits when the gateway closes its channel; an idle thread must not keep it alive.
    worker.unref();
    this.#worker = worker;
    return worker;
  }
}
