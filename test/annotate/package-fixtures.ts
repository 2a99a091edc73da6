import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { ModelManifest } from '../../plugin/annotate/models/model-manifest';

/** model-packages/ in the repository (built by tools/build-models). */
export const BUILT_PACKAGES = join(__dirname, '..', '..', '..', 'model-packages');

/** Copies a built package into `dir`, optionally rewriting its manifest. */
export function copyBuilt(id: string, dir: string, edit?: (m: ModelManifest) => ModelManifest): string {
  cpSync(join(BUILT_PACKAGES, id), dir, { recursive: true });
  if (edit) {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(edit(manifest), null, 2)}\n`);
  }
  return dir;
}
