import { deidUid } from '../../core/uid';
import type { ModelIdentity } from '../../core/findings';

// These UIDs derive from values that are already result UIDs or model names,
// never from a patient's UIDs, so the key needs no secrecy; it only has to be
// fixed, so that the same result gives the same UIDs on every retry.
const RESULT_UID_KEY = Buffer.from('orthanc-ai-bridge result object UIDs', 'utf8');

/** TID 4108 Tracking Unique Identifier of finding `index` (0-based) in the result object `resultSopInstanceUid`. */
export function trackingUniqueIdentifier(resultSopInstanceUid: string, index: number): string {
  return deidUid(RESULT_UID_KEY, 'tid4108-tracking', `${resultSopInstanceUid}#${index}`);
}

/** TID 1004 Device Observer UID: one per model version, the same in every report it makes. */
export function deviceObserverUid(model: ModelIdentity): string {
  return deidUid(RESULT_UID_KEY, 'tid1004-device', `${model.id}\0${model.version}`);
}

/** PS3.10 7.1 Implementation Class UID of the files this project writes. */
export const IMPLEMENTATION_CLASS_UID = deidUid(RESULT_UID_KEY, 'implementation-class', 'orthanc-ai-bridge');
/** SH, at most 16 characters. */
export const IMPLEMENTATION_VERSION_NAME = 'AIBRIDGE_0_1';
