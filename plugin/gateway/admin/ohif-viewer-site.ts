import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

import type { HttpReply } from '../../sdk';
import { GatewayError } from '../gateway-errors';

/** The OHIF release scripts/fetch-ohif.sh fetches and the Debian package ships. */
export const OHIF_VERSION = '3.13.2';
/** Where Orthanc serves the viewer: beside the API, so it shares Orthanc's port, TLS and authentication. */
export const VIEWER_PREFIX = '/ai-bridge/viewer/';

/** The media types of the files an OHIF build holds (the test harness serves the same build). */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  // Browsers compile WebAssembly by streaming only with this type (the image decoders are .wasm).
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
  '.map': 'application/json',
};

/**
 * The built OHIF viewer: in the installed package `<root>/ohif`, in a clone
 * the copy scripts/fetch-ohif.sh unpacked into `.cache/ohif/<version>/dist`.
 */
export function ohifDistDirectory(packageRoot: string): string {
  const installed = join(packageRoot, 'ohif');
  if (existsSync(join(installed, 'index.html'))) return installed;
  return join(packageRoot, '.cache', 'ohif', OHIF_VERSION, 'dist');
}

export interface OhifViewerSiteOptions {
  /** The OHIF dist folder (ohifDistDirectory). It is only read: the rewrites below happen in memory. */
  readonly dist: string;
  /** Orthanc's DicomWeb section (Root, WadoRoot), so the viewer reads this Orthanc on the same origin. */
  readonly dicomWeb: Readonly<Record<string, unknown>>;
}

/**
 * OHIF v3 under /ai-bridge/viewer/, like Orthanc's own OHIF plugin serves
 * /ohif/. The published build assumes it sits at the site root: index.html
 * names its files from "/", webpack's public path is the literal "/" in every
 * bundle that loads chunks, and its app-config.js points at a demo server
 * elsewhere. So index.html and those bundles are answered with the prefix
 * put in, and app-config.js is generated: one DICOMweb source, this
 * Orthanc's DICOMweb plugin, by absolute path on the same origin (no CORS, the
 * browser's Orthanc credentials go along). Bodies are not kept in memory (the
 * dist is 200 MB); the page cache serves repeat reads.
 */
export class OhifViewerSite {
  readonly #dist: string;
  readonly #appConfig: Buffer;

  constructor(options: OhifViewerSiteOptions) {
    this.#dist = normalize(options.dist);
    this.#appConfig = Buffer.from(ohifAppConfig(options.dicomWeb), 'utf8');
  }

  /** `relative`: the path below /ai-bridge/viewer/, '' for the root. */
  serve(relative: string, requestHeaders: Readonly<Record<string, string>>): HttpReply {
    const index = join(this.#dist, 'index.html');
    if (!existsSync(index)) {
      throw new GatewayError('AIB_VIEWER_NOT_INSTALLED',
        `the OHIF viewer is not installed (${index} is missing): run scripts/fetch-ohif.sh, or install the Debian package`, { path: index });
    }
    let clean: string;
    try {
      clean = decodeURIComponent(relative).replace(/^\/+/, '');
    } catch {
      throw new GatewayError('AIB_API_BAD_PARAMETER', 'the viewer path is not valid percent-encoding', { parameter: 'path' });
    }
    const ifNoneMatch = requestHeaders['if-none-match'];
    if (clean === 'app-config.js') return answer(this.#appConfig, CONTENT_TYPES['.js'] ?? '', 'no-cache', ifNoneMatch);
    // OHIF's routes (/viewer, /segmentation, the study list at the root) are client-side: dist/_redirects does the same.
    if (extname(clean) === '') return this.#file(index, ifNoneMatch);
    const file = normalize(join(this.#dist, clean));
    if (!file.startsWith(this.#dist + sep) || !existsSync(file) || !statSync(file).isFile()) {
      throw new GatewayError('AIB_API_NOT_FOUND', `no file ${clean} in the OHIF viewer`, { path: clean });
    }
    return this.#file(file, ifNoneMatch);
  }

  #file(file: string, ifNoneMatch: string | undefined): HttpReply {
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    const stat = statSync(file);
    const etag = `"${createHash('sha256').update(`${file}\0${String(stat.size)}\0${String(stat.mtimeMs)}\0${VIEWER_PREFIX}`).digest('base64url').slice(0, 22)}"`;
    // Bundles and decoders carry a content hash in their names; index.html and unhashed files are revalidated.
    const cache = /\.[0-9a-f]{16}\.(js|wasm)$|^[0-9a-f]{16}\.wasm$/.test(file.slice(file.lastIndexOf(sep) + 1)) ? 'public, max-age=31536000, immutable' : 'no-cache';
    if (ifNoneMatch === etag) return { status: 304, contentType: '', headers: { etag, 'cache-control': cache }, body: Buffer.alloc(0) };
    const body = readFileSync(file);
    const served = /^text\/(html|javascript|css)/.test(type) ? withPrefix(body, extname(file)) : body;
    return { status: 200, contentType: type, headers: { etag, 'cache-control': cache, 'x-content-type-options': 'nosniff' }, body: served };
  }
}

function answer(body: Buffer, contentType: string, cache: string, ifNoneMatch: string | undefined): HttpReply {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  if (ifNoneMatch === etag) return { status: 304, contentType: '', headers: { etag, 'cache-control': cache }, body: Buffer.alloc(0) };
  return { status: 200, contentType, headers: { etag, 'cache-control': cache, 'x-content-type-options': 'nosniff' }, body };
}

// webpack's runtime in each bundle that loads chunks or workers: `__webpack_require__.p = "/";`.
const PUBLIC_PATH = '__webpack_require__.p = "/";';

/** The build's root-relative references, moved below VIEWER_PREFIX. */
function withPrefix(body: Buffer, extension: string): Buffer {
  const text = body.toString('utf8');
  if (extension === '.html') {
    return Buffer.from(text
      .replace(/window\.PUBLIC_URL="\/"/g, `window.PUBLIC_URL="${VIEWER_PREFIX}"`)
      .replace(/(href|src|content)="\/(?!\/)/g, `$1="${VIEWER_PREFIX}`), 'utf8');
  }
  // The stylesheet names its font from the root: url(/<hash>.woff2).
  if (extension === '.css') return text.includes('url(/') ? Buffer.from(text.replace(/url\(\/(?!\/)/g, `url(${VIEWER_PREFIX}`), 'utf8') : body;
  return text.includes(PUBLIC_PATH) ? Buffer.from(text.split(PUBLIC_PATH).join(`__webpack_require__.p = "${VIEWER_PREFIX}";`), 'utf8') : body;
}

function rootOf(value: unknown, fallback: string): string {
  const root = typeof value === 'string' && value.startsWith('/') ? value : fallback;
  return root.length > 1 ? root.replace(/\/+$/, '') : root;
}

/**
 * window.config for OHIF 3.13: one DICOMweb data source on this Orthanc
 * (keys checked in ../shared/recipes/ohif-headless.md). `routerBasename`:
 * where the viewer's routes start (the test harness serves it at the root). `imageRendering`
 * 'wadors' fetches frames from WADO-RS; BulkDataURI values are followed
 * as Orthanc writes them.
 */
export function ohifAppConfig(dicomWeb: Readonly<Record<string, unknown>>, routerBasename = VIEWER_PREFIX.replace(/\/$/, '')): string {
  const root = rootOf(dicomWeb['Root'], '/dicom-web/');
  const config = {
    routerBasename,
    extensions: [],
    modes: [],
    showStudyList: true,
    showWarningMessageForCrossOrigin: false,
    showCPUFallbackMessage: false,
    investigationalUseDialog: { option: 'never' },
    defaultDataSourceName: 'orthanc',
    dataSources: [{
      namespace: '@ohif/extension-default.dataSourcesModule.dicomweb',
      sourceName: 'orthanc',
      configuration: {
        friendlyName: 'Orthanc',
        name: 'orthanc',
        qidoRoot: root,
        wadoRoot: root,
        wadoUriRoot: rootOf(dicomWeb['WadoRoot'], '/wado'),
        qidoSupportsIncludeField: false,
        imageRendering: 'wadors',
        thumbnailRendering: 'wadors',
        enableStudyLazyLoad: true,
        supportsFuzzyMatching: false,
        supportsWildcard: true,
        omitQuotationForMultipartRequest: true,
        bulkDataURI: { enabled: true },
      },
    }],
  };
  return `// Generated by orthanc-ai-bridge (plugin/gateway/admin/ohif-viewer-site.ts) for this Orthanc.\nwindow.config = ${JSON.stringify(config, null, 2)};\n`;
}
