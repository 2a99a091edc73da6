import { createRequire } from 'node:module';

import { ADDON_PATH } from './seal-process';

/**
 * Puts the calling thread, and every thread it starts later, in Linux's
 * SCHED_IDLE class (native/addon/scheduling.cpp). The annotator calls it once
 * ready: its inference then takes only the CPU that Orthanc's store path and
 * de-identification (niceness 19, AiBridge.Niceness) leave, so a burst of
 * instances is de-identified at the pace it arrives and its annotations follow
 * (issue 14). Answers the error text, or '' when applied.
 */
export function idleScheduling(): string {
  const loaded: unknown = createRequire(__filename)(ADDON_PATH);
  const call = typeof loaded === 'object' && loaded !== null ? (loaded as Record<string, unknown>)['idleScheduling'] : undefined;
  if (typeof call !== 'function') return `${ADDON_PATH} does not export idleScheduling`;
  const result: unknown = Reflect.apply(call, loaded, []);
  return typeof result === 'string' ? result : 'idleScheduling answered no text';
}
