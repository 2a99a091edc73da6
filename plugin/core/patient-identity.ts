// Who a patient is, for pseudonyms and the per-patient date shift (issue 13).
// Pure and zone-free: the sealed worker derives pseudonyms from the key, the
// gateway's vault stores rows under the same key, so both always agree.

/**
 * What identifies a patient in an instance. The key is all of it, always:
 * the worker is sealed and stateless, so it cannot know whether another
 * person already arrived under the same Patient ID; a key that always
 * includes the name and birth date separates two people who share an ID (or
 * have none) without asking anyone. The cost: a corrected spelling of the
 * name or birth date under the same ID becomes a second pseudonymous patient
 * (README, "Patient identity"). The name is reduced to family + given name,
 * letters and digits only, upper case, accents dropped, so "Smith^John",
 * "SMITH^JOHN^^^" and "SMITH^JOHN^A" stay one patient.
 */
export interface PatientIdentity {
  /** (0010,0021) Issuer of Patient ID, else the Universal Entity ID of (0010,0024); '' when absent. */
  readonly issuer: string;
  /** (0010,0020) without padding; '' when absent. */
  readonly id: string;
  /** Family + given name of the first non-empty component group, normalized (see above). */
  readonly name: string;
  /** (0010,0030), digits only; '' when absent. */
  readonly birthDate: string;
  /**
   * The Study Instance UID when nothing above identifies anyone (all empty):
   * such a study is its own patient, so unrelated anonymous studies never
   * share a pseudonym or a date shift. '' otherwise.
   */
  readonly anonymousStudy: string;
}

/** The attributes as read from the instance (text already decoded). */
export interface PatientAttributes {
  readonly issuer: string;
  readonly id: string;
  readonly name: string;
  readonly birthDate: string;
  readonly studyInstanceUid: string;
}

/** Family + given name, letters and digits only, upper case, without accents. */
export function normalizedName(personName: string): string {
  const groups = personName.split('=');
  const group = groups.find((g) => g.replace(/[\^\s]/g, '') !== '') ?? '';
  const [family = '', given = ''] = group.split('^');
  return `${family}${given}`.normalize('NFKD').replace(/\p{M}/gu, '').toUpperCase().replace(/[^\p{L}\p{N}]/gu, '');
}

export function patientIdentity(attributes: PatientAttributes): PatientIdentity {
  const identity = {
    issuer: attributes.issuer.trim(),
    id: attributes.id.trim(),
    name: normalizedName(attributes.name),
    birthDate: attributes.birthDate.replace(/[^0-9]/g, ''),
  };
  const nobody = identity.issuer === '' && identity.id === '' && identity.name === '' && identity.birthDate === '';
  return { ...identity, anonymousStudy: nobody ? attributes.studyInstanceUid.trim() : '' };
}

/** The canonical key: the vault's primary key and the input of every keyed HMAC of the patient. */
export function patientIdentityKey(identity: PatientIdentity): string {
  return JSON.stringify(['patient/v2', identity.issuer, identity.id, identity.name, identity.birthDate, identity.anonymousStudy]);
}
