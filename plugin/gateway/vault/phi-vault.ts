import type { VaultEntry } from '../../core/deid-messages';

/** What relinking needs to put a result back on the original study. */
export interface LinkRecord {
  readonly linkToken: string;
  readonly instanceId: string;
  readonly patientId: string;
  readonly sopInstanceUid: { readonly original: string; readonly deid: string };
  readonly studyInstanceUid: { readonly original: string; readonly deid: string };
  readonly seriesInstanceUid: { readonly original: string; readonly deid: string };
}

/** A patient row of a version-1 vault (keyed by Patient ID alone). */
export interface LegacyPatient {
  readonly originalId: string;
  readonly pseudonymId: string;
  readonly pseudonymName: string;
  readonly dateShiftDays: number;
}

/** One pseudonymous patient recorded under an issuer + Patient ID. */
export interface VaultPatient {
  readonly pseudonymId: string;
  readonly nameKey: string;
  readonly birthDate: string;
}

export interface VaultCounts {
  readonly patients: number;
  readonly legacyPatients: number;
  readonly uids: number;
  readonly linkTokens: number;
}

/**
 * The PHI vault: pseudonym mapping (patients, accessions, UIDs) and link
 * tokens, written by the gateway alone (workers hand their mappings back). A
 * mapping, once written, never changes: a different pseudonym for a known
 * original (a changed site key, a bug) is refused with AIB_VAULT_CONFLICT
 * rather than allowed to fork a patient's identity.
 *
 * Two backends (AiBridge.Database): phi/vault.sqlite of one gateway
 * (sqlite-phi-vault.ts), or the PHI schema of the PostgreSQL database that
 * several nodes share (postgres-phi-vault.ts), where the site key is shared
 * too, so a patient gets the same pseudonym whichever node sees it first.
 */
export interface PhiVault {
  readonly backend: 'sqlite' | 'postgresql';
  /** Records one instance's mapping and its link token, all or nothing. */
  record(instanceId: string, entry: VaultEntry): Promise<void>;
  resolve(linkToken: string): Promise<LinkRecord | undefined>;
  /** The originals of UIDs the de-identification made; a UID it never made is absent from the map. */
  originalUids(deidUids: readonly string[]): Promise<ReadonlyMap<string, string>>;
  /** A version-1 row for this Patient ID (pseudonyms derived from the ID alone), if the vault predates identity keys. */
  legacyPatient(originalId: string): Promise<LegacyPatient | undefined>;
  /**
   * The pseudonymous patients recorded under one issuer + Patient ID: more
   * than one means the ID is shared by different people, or one person's name
   * or birth date was spelt differently (README, "Patient identity").
   */
  pseudonymsForId(issuer: string, originalId: string): Promise<VaultPatient[]>;
  counts(): Promise<VaultCounts>;
  /**
   * Makes `siteKeyFile` (phi/site.key, which the de-identification workers
   * read) hold the key every node shares, before any worker starts. SQLite:
   * nothing to share.
   */
  shareSiteKey(siteKeyFile: string): Promise<void>;
  close(): Promise<void>;
}

/** A `link_tokens` row (the same columns on both backends) as the record it stands for. */
export function linkRecordOf(linkToken: string, row: Readonly<Record<string, string | undefined>>): LinkRecord {
  const get = (column: string): string => row[column] ?? '';
  return {
    linkToken, instanceId: get('instance_id'), patientId: get('patient_id'),
    sopInstanceUid: { original: get('original_sop_uid'), deid: get('deid_sop_uid') },
    studyInstanceUid: { original: get('original_study_uid'), deid: get('deid_study_uid') },
    seriesInstanceUid: { original: get('original_series_uid'), deid: get('deid_series_uid') },
  };
}
