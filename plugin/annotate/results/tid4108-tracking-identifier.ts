import { MeasurementReportConcept as C } from '../../core/codes';
import { textItem, uidrefItem, type ContentItem } from './sr-content-items';

/**
 * PS3.16 TID 4108 Tracking Identifier. OHIF v3 needs both: without 112040 it
 * skips the group ("No Tracking Unique Identifier, skipping ambiguous
 * measurement"), and it uses the 112040 value as the drawn annotation's UID.
 */
export function tid4108TrackingIdentifier(identifier: string, uniqueIdentifier: string): ContentItem[] {
  return [
    textItem('HAS OBS CONTEXT', C.TrackingIdentifier, identifier),
    uidrefItem('HAS OBS CONTEXT', C.TrackingUniqueIdentifier, uniqueIdentifier),
  ];
}
