import type { ConfigResponse } from '../api/api-types';
import { loadSchema, type AiBridgeConfig } from '../config-loader';

/** Keys whose value is a credential: shown as set or not, never as text. */
const SECRET_KEYS: ReadonlySet<string> = new Set(['DicomWebAuthorization']);
export const MASK = '••••••';

/**
 * The effective AiBridge section for the Settings page: every schema key,
 * its value after defaults, whether the site set it, and the schema's words.
 */
export function configView(config: AiBridgeConfig, raw: Readonly<Record<string, unknown>>): ConfigResponse {
  const schema = loadSchema();
  const effective = config as unknown as Readonly<Record<string, unknown>>;
  return {
    keys: Object.entries(schema.properties).map(([key, property]) => {
      const secret = SECRET_KEYS.has(key) || /authorization|password|secret|token/i.test(key);
      const value = effective[key] ?? null;
      return {
        key,
        value: secret && value !== '' && value !== null ? MASK : value,
        isDefault: !(key in raw),
        secret,
        description: property.description ?? '',
      };
    }),
  };
}
