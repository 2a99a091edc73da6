import { DeidentificationMethod, type CodedConcept } from '../../core/codes';
import type { OptionField } from './table-format';

/** Each Table E.1-1 option column → its PS3.16 CID 7050 code (PS3.15 E.1: recorded in (0012,0064)). */
export const OPTION_CODES: Readonly<Record<OptionField, CodedConcept>> = {
  retainSafePrivate: DeidentificationMethod.RetainSafePrivateOption,
  retainUids: DeidentificationMethod.RetainUIDsOption,
  retainDeviceIdentity: DeidentificationMethod.RetainDeviceIdentityOption,
  retainInstitutionIdentity: DeidentificationMethod.RetainInstitutionIdentityOption,
  retainPatientCharacteristics: DeidentificationMethod.RetainPatientCharacteristicsOption,
  retainLongitudinalFullDates: DeidentificationMethod.RetainLongitudinalTemporalInformationFullDatesOption,
  retainLongitudinalModifiedDates: DeidentificationMethod.RetainLongitudinalTemporalInformationModifiedDatesOption,
  cleanDescriptors: DeidentificationMethod.CleanDescriptorsOption,
  cleanStructuredContent: DeidentificationMethod.CleanStructuredContentOption,
  cleanGraphics: DeidentificationMethod.CleanGraphicsOption,
};
