import { OrthancSdkError } from '../../sdk';
import { GatewayError } from '../gateway-errors';
import type { StageResult } from './stage';

/** Orthanc's OrthancPluginErrorCode_UnknownResource. */
const UNKNOWN_RESOURCE = 17;

/**
 * The outcome of a job whose instance was deleted from Orthanc before we got
 * to it: nothing left to process, and nothing lost by us.
 */
export const DELETED_BEFORE_PROCESSING: StageResult = { outcome: 'instance deleted from Orthanc before processing', final: true };

/**
 * Runs an SDK call about a job's instance, the one way stages read it.
 * `undefined`: the instance is gone from Orthanc (end the job with
 * DELETED_BEFORE_PROCESSING). Any other SDK error is transient
 * AIB_INGEST_UNREADABLE naming the instance; anything else is rethrown.
 */
export async function callForInstance<T>(instanceId: string, call: () => Promise<T>): Promise<{ readonly value: T } | undefined> {
  try {
    return { value: await call() };
  } catch (error) {
    if (error instanceof OrthancSdkError && error.orthancCode === UNKNOWN_RESOURCE) return undefined;
    if (error instanceof OrthancSdkError) {
      throw new GatewayError('AIB_INGEST_UNREADABLE', `instance ${instanceId}: ${error.message}`, { instanceId }, true);
    }
    throw error;
  }
}
