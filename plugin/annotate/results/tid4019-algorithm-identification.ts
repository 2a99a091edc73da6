import { MeasurementReportConcept as C } from '../../core/codes';
import type { ModelIdentity } from '../../core/findings';
import { textItem, type ContentItem } from './sr-content-items';

/** PS3.16 TID 4019 Algorithm Identification: which model, which version, made the measurements. */
export function tid4019AlgorithmIdentification(model: ModelIdentity): ContentItem[] {
  return [
    textItem('HAS CONCEPT MOD', C.AlgorithmName, model.name),
    textItem('HAS CONCEPT MOD', C.AlgorithmVersion, model.version),
  ];
}
