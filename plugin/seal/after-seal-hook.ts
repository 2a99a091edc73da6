import { createRequire } from 'node:module';
import { join, resolve, sep } from 'node:path';

import { AiBridgeError } from '../core/ai-bridge-error';
import type { SealedRole } from '../core/seal-report';
import { PACKAGE_ROOT } from './runtime-paths';

/** Environment variable naming a test module to load after the seal (test/seal/ proof tests). */
export const AFTER_SEAL_MODULE_ENV = 'AIBRIDGE_TEST_AFTER_SEAL';
/** Environment variable with a JSON string handed to that module. */
export const AFTER_SEAL_ARGS_ENV = 'AIBRIDGE_TEST_AFTER_SEAL_ARGS';

export interface AfterSealContext {
  readonly role: SealedRole;
  /** The folder this process may write (where the test module leaves its findings). */
  readonly writable: string;
  /** The JSON string of AIBRIDGE_TEST_AFTER_SEAL_ARGS, or ''. */
  readonly args: string;
}

/**
 * Test-only: the proof tests run hostile code inside each sealed process,
 * started by the product's own entry point. The module is loaded after the
 * seal, so it can do nothing the seal allows not; it must lie beneath
 * dist/test/ of this package; and it is enabled only by an environment
 * variable, which no Orthanc or AiBridge configuration key can set (the
 * gateway passes exactly these two variables into the children's otherwise
 * empty environment).
 */
export async function runAfterSealHook(role: SealedRole, writable: string): Promise<void> {
  const module = process.env[AFTER_SEAL_MODULE_ENV];
  if (module === undefined || module === '') return;
  const path = resolve(module);
  const allowed = join(PACKAGE_ROOT, 'dist', 'test');
  if (!path.startsWith(`${allowed}${sep}`)) {
    throw new AiBridgeError('AIB_SEAL_TEST_HOOK_REFUSED', `${AFTER_SEAL_MODULE_ENV} names a module outside ${allowed}`);
  }
  const loaded = createRequire(__filename)(path) as { afterSeal?: unknown };
  if (typeof loaded.afterSeal !== 'function') throw new AiBridgeError('AIB_SEAL_TEST_HOOK_REFUSED', `${path} exports no afterSeal function`);
  const context: AfterSealContext = { role, writable, args: process.env[AFTER_SEAL_ARGS_ENV] ?? '' };
  await (loaded.afterSeal as (context: AfterSealContext) => Promise<void>)(context);
}
