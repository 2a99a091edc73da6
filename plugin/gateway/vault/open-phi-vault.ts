import { ConfigError } from '../gateway-errors';
import type { DatabaseConfig } from '../work-queue/open-work-queue';
import type { PhiVault } from './phi-vault';
import { PostgresPhiVault } from './postgres-phi-vault';
import { SqlitePhiVault } from './sqlite-phi-vault';

/** AiBridge.Database.PhiSchema's default (config/aibridge.schema.json). */
export const DEFAULT_PHI_SCHEMA = 'aibridge_phi';

/** The vault on the backend AiBridge.Database names: phi/vault.sqlite, or the PHI schema of the shared PostgreSQL database. */
export async function openPhiVault(database: DatabaseConfig, vaultDb: string): Promise<PhiVault> {
  if (database.Backend === 'sqlite') return new SqlitePhiVault(vaultDb);
  const schema = database.PhiSchema ?? DEFAULT_PHI_SCHEMA;
  if (schema === database.Schema) {
    throw new ConfigError('AIB_CONFIG_BAD_VALUE', `AiBridge.Database.PhiSchema must differ from Schema ("${database.Schema}"): PHI keeps a schema of its own`, { key: 'AiBridge.Database.PhiSchema' });
  }
  return PostgresPhiVault.open({ connectionUri: database.ConnectionUri, schema });
}
