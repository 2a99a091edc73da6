import { DicomwebService } from '../../plugin/gateway/dicomweb/dicomweb-service';

/**
 * STOW-RS (PS3.18 10.5) of Part 10 files to `<root>/studies` on 127.0.0.1, through the gateway's
 * own DICOMweb client. Resolves with the status and the JSON answer (Referenced/Failed SOP
 * Sequences).
 */
export function stowRs(port: number, root: string, files: readonly Buffer[]): Promise<{ status: number; body: string }> {
  return new DicomwebService(`http://127.0.0.1:${String(port)}${root}`).storeInstances(undefined, files);
}
