import type { ConfigResponse } from '../../core/admin-api';
import { loadSchema, SECRET_KEYWORD, type AiBridgeConfig, type SchemaNode } from '../config-loader';

export const MASK = '••••••';

/**
 * A value with every credential replaced by MASK, at any depth: the schema
 * marks each secret key ("x-secret": true), so a new secret needs its mark,
 * not a change here. An empty secret stays empty (it shows "not set").
 */
export function maskSecrets(value: unknown, node: SchemaNode | undefined): unknown {
  if (node === undefined || value === null || value === undefined) return value;
  if (node[SECRET_KEYWORD] === true) return value === '' ? value : MASK;
  if (Array.isArray(value)) return value.map((item) => maskSecrets(item, node.items));
  if (typeof value === 'object' && node.properties !== undefined) {
    const properties = node.properties;
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, maskSecrets(inner, properties[key])]));
  }
  return value;
}

/** Whether the node or anything below it is marked secret. */
export function holdsSecret(node: SchemaNode): boolean {
  return node[SECRET_KEYWORD] === true || Object.values(node.properties ?? {}).some(holdsSecret) || (node.items !== undefined && holdsSecret(node.items));
}

/**
 * The effective AiBridge section for the Settings page: every schema key,
 * its value after defaults (secrets masked at any depth), whether the site
 * set it, and the schema's words.
 */
export function configView(config: AiBridgeConfig, raw: Readonly<Record<string, unknown>>): ConfigResponse {
  const schema = loadSchema();
  const effective = config as unknown as Readonly<Record<string, unknown>>;
  return {
    keys: Object.entries(schema.properties).map(([key, property]) => ({
      key,
      value: maskSecrets(effective[key] ?? null, property),
      isDefault: !(key in raw),
      secret: holdsSecret(property),
      description: property.description ?? '',
    })),
  };
}
