import { MeasurementReportConcept as C } from '../../core/codes';
import type { Finding, ModelIdentity } from '../../core/findings';
import { regionGraphic } from './region-geometry';
import { codeItem, containerItem, numItem, scoordItem, type ContentItem } from './sr-content-items';
import { tid4019AlgorithmIdentification } from './tid4019-algorithm-identification';
import { tid4108TrackingIdentifier } from './tid4108-tracking-identifier';

/**
 * PS3.16 TID 1501 Measurement and Qualitative Evaluation Group for one
 * finding. Each measurement is a TID 300 NUM INFERRED FROM the region's SCOORD
 * (which is SELECTED FROM the image): the shape OHIF v3 draws. A finding
 * without measurements carries its region as TID 1410's Image Region SCOORD.
 */
export function tid1501MeasurementGroup(finding: Finding, trackingUid: string, model: ModelIdentity): ContentItem {
  const graphic = regionGraphic(finding.region);
  const children: ContentItem[] = [
    ...tid4108TrackingIdentifier(finding.trackingIdentifier, trackingUid),
    codeItem('CONTAINS', C.Finding, finding.finding),
  ];
  if (finding.findingSite !== undefined) children.push(codeItem('HAS CONCEPT MOD', C.FindingSite, finding.findingSite));
  children.push(...tid4019AlgorithmIdentification(model));
  if (finding.measurements.length === 0) {
    children.push(scoordItem('CONTAINS', C.ImageRegion, graphic, finding.image));
  }
  for (const measurement of finding.measurements) {
    const region = scoordItem('INFERRED FROM', undefined, graphic, finding.image);
    children.push(numItem('CONTAINS', measurement.concept, measurement.value, measurement.unit, [region]));
  }
  return containerItem('CONTAINS', C.MeasurementGroup, children);
}
