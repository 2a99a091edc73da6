import type { RunningOrthanc } from './orthanc-launcher.js';

/** What to open once Orthanc is up: printed by run and demo. */
export function describeOrthanc(orthanc: RunningOrthanc, withPlugin: boolean): string {
  const lines = [
    `Orthanc ${orthanc.baseUrl} (pid ${String(orthanc.pid())}), DICOM ${orthanc.aet}@127.0.0.1:${orthanc.dicomPort}`,
    `  Orthanc Explorer  ${orthanc.baseUrl}/app/explorer.html`,
  ];
  if (withPlugin) {
    lines.push(`  AI bridge health  ${orthanc.baseUrl}/ai-bridge/health`);
    lines.push(`  AI bridge jobs    ${orthanc.baseUrl}/ai-bridge/jobs`);
  }
  lines.push(`  DICOMweb root     ${orthanc.baseUrl}/dicom-web/`);
  lines.push(`  data              ${orthanc.dataDir}`);
  lines.push(`  configuration     ${orthanc.configPath}`);
  lines.push(`  Orthanc log       ${orthanc.logPath}`);
  lines.push(`  send DICOM        storescu -aec ${orthanc.aet} 127.0.0.1 ${orthanc.dicomPort} FILE...`);
  return lines.join('\n');
}
