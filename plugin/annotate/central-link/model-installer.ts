import { AiBridgeError } from '../../core/ai-bridge-error';
import type { ModelRegistry } from '../models/model-registry';

/** The author key the verified catalogue lists for a package. */
export interface PackageAuthor {
  readonly keyId: string;
  readonly publicKeyPem: string;
}

/**
 * What the central link needs from the model registry. The uplink runs the
 * link but may not write models/: its installer asks the annotator, through
 * the gateway, to install what it staged (uplink-main.ts). Inside one
 * process (tests, or a registry at hand) it is the registry itself.
 */
export interface ModelInstaller {
  /** The installed versions of a model, none when it is not installed. */
  versions(modelId: string): Promise<readonly string[]>;
  /**
   * Installs the package staged at `stagingDir` (inside central/staging/):
   * signature, commissioning, atomic activation. Throws AiBridgeError
   * (transient or not) when it is refused.
   */
  install(stagingDir: string, author: PackageAuthor): Promise<{ readonly commissioningFraction: number }>;
}

export function registryInstaller(registry: ModelRegistry): ModelInstaller {
  return {
    versions: (modelId) => Promise.resolve(registry.list().find((m) => m.id === modelId)?.versions ?? []),
    install: async (stagingDir, author) => {
      const { commissioning } = await registry.install(stagingDir, {
        source: 'central', authorKey: { name: `author-${author.keyId}`, publicKeyPem: author.publicKeyPem },
      });
      return { commissioningFraction: commissioning.fraction };
    },
  };
}

/** An installer's refusal as it crosses processes: code, message, transient. */
export function installError(code: string, message: string, transient: boolean): AiBridgeError {
  return new AiBridgeError(code, message, {}, transient);
}
