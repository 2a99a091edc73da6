import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The clone's top directory, found by walking up from this file: the same code
 * runs from plugin/cli/ (ts sources) and from dist/plugin/cli/ (compiled).
 */
export function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const parsed: unknown = JSON.parse(fs.readFileSync(manifest, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && (parsed as { name?: unknown }).name === 'orthanc-ai-bridge') {
        return dir;
      }
    }
    if (path.dirname(dir) === dir) throw new Error(`no orthanc-ai-bridge package.json above ${__dirname}`);
  }
}
