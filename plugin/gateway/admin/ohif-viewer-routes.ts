import type { Route } from '../api/api-router';
import { GatewayError } from '../gateway-errors';
import { ohifDistDirectory, OhifViewerSite, VIEWER_PREFIX } from './ohif-viewer-site';

/** The viewer opened on one study; the admin UI's job page links here when AiBridge.OhifViewer is on. */
export const OHIF_STUDY_URL = `${VIEWER_PREFIX}viewer?StudyInstanceUIDs={StudyInstanceUID}`;
/**
 * The study with an annotation's results: OHIF's hanging protocol puts the
 * display set holding one of these SOP Instance UIDs in the viewport, which
 * for an SR draws its measurements on the image they reference (the GSPS
 * among them is listed but has no OHIF handler).
 */
export const OHIF_RESULTS_URL = `${OHIF_STUDY_URL}&initialSOPInstanceUID={ResultSOPInstanceUIDs}`;

/**
 * GET /ai-bridge/viewer/... : the OHIF viewer when AiBridge.OhifViewer is
 * on; otherwise one answer saying which key turns it on, rather than a bare
 * "no route".
 */
export function ohifViewerRoutes(enabled: boolean, packageRoot: string, orthancConfiguration: unknown): Route[] {
  if (!enabled) {
    return [{ method: 'GET', pattern: /^viewer(\/.*)?$/, handler: () => {
      throw new GatewayError('AIB_VIEWER_DISABLED', 'the OHIF viewer is off: set AiBridge.OhifViewer to true and restart Orthanc', { key: 'AiBridge.OhifViewer' });
    } }];
  }
  const config = typeof orthancConfiguration === 'object' && orthancConfiguration !== null ? orthancConfiguration as Record<string, unknown> : {};
  const dicomWeb = typeof config['DicomWeb'] === 'object' && config['DicomWeb'] !== null ? config['DicomWeb'] as Record<string, unknown> : {};
  const site = new OhifViewerSite({ dist: ohifDistDirectory(packageRoot), dicomWeb });
  return [{ method: 'GET', pattern: /^viewer(\/.*)?$/, handler: (request) => site.serve(request.path.slice(VIEWER_PREFIX.length), request.headers) }];
}
