import type { ClassifiedFunction } from './classify';
import type { CodeModel } from './code-model';
import { markdownBanner } from './render-text';

export interface CoverageCounts {
  readonly generated: number;
  readonly custom: number;
  readonly unsupported: number;
}

export function countCoverage(classified: readonly ClassifiedFunction[]): CoverageCounts {
  const n = (s: string): number => classified.filter((c) => c.classification.status === s).length;
  return { generated: n('generated'), custom: n('custom'), unsupported: n('unsupported') };
}

interface CoverageRow {
  readonly name: string;
  readonly status: 'generated' | 'custom' | 'unsupported';
  readonly method?: string;
  readonly where?: string;
  readonly reason?: string;
}

function rows(classified: readonly ClassifiedFunction[]): CoverageRow[] {
  return classified.map(({ fn, classification: c }): CoverageRow => {
    switch (c.status) {
      case 'generated':
        return { name: fn.name, status: c.status, method: `SdkClient.${c.call.method}` };
      case 'custom':
        return { name: fn.name, status: c.status, where: c.where, reason: c.why };
      case 'unsupported':
        return { name: fn.name, status: c.status, reason: c.reason };
    }
  });
}

/** plugin/sdk/generated/coverage.json: one row per header function, header order. */
export function renderCoverageJson(model: CodeModel, classified: readonly ClassifiedFunction[], modelSha256: string): string {
  const doc = {
    generatedBy: 'tools/gen-sdk',
    model: 'plugin/sdk/model/OrthancPluginCodeModel.json',
    modelSha256,
    sdkVersion: model.header.sdkVersion,
    counts: countCoverage(classified),
    functions: rows(classified),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** plugin/sdk/generated/coverage.md */
export function renderCoverageMarkdown(model: CodeModel, classified: readonly ClassifiedFunction[], modelSha256: string): string {
  const counts = countCoverage(classified);
  let out = `${markdownBanner(modelSha256)}\n\n`;
  out += `# Orthanc SDK coverage (OrthancCPlugin.h ${model.header.sdkVersion})\n\n`;
  out += `${classified.length} functions: ${counts.generated} generated, ${counts.custom} custom (hand-written), ${counts.unsupported} unsupported.\n\n`;
  out += '- **generated**: callable from the gateway as the `SdkClient` method named; dispatched by `native/orthanc/generated/dispatch.cpp`.\n';
  out += '- **custom**: written by hand where named, listed in `plugin/sdk/model/custom.json`.\n';
  out += '- **unsupported**: not callable across the socket, for the reason given.\n\n';
  out += '| Function | Status | Binding / reason |\n| --- | --- | --- |\n';
  for (const r of rows(classified)) {
    const detail = r.status === 'generated' ? `\`${r.method ?? ''}\`` : r.status === 'custom' ? `\`${r.where ?? ''}\`: ${r.reason ?? ''}` : (r.reason ?? '');
    out += `| \`${r.name}\` | ${r.status} | ${cell(detail)} |\n`;
  }
  return out;
}
