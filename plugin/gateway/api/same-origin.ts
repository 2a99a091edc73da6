import type { HttpRequestFrame } from '../../sdk';
import { API_WRITE_HEADER, API_WRITE_HEADER_VALUE } from '../../core/api-write-header';
import { GatewayError } from '../gateway-errors';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** host[:port] of an Origin or Referer value, or null when it is not a URL (e.g. Origin: null from a sandboxed page). */
function hostOf(value: string): string | null {
  try {
    return new URL(value).host.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * The CSRF defence of every state-changing route (OWASP: custom request
 * header + verifying the source origin). Refused with AIB_API_CROSS_ORIGIN
 * (403) before any handler runs:
 *  - a request without `x-requested-by: orthanc-ai-bridge` (a form post or a
 *    no-cors fetch from any page cannot add it);
 *  - a request whose Origin, or else Referer, names a host other than the
 *    Host it was sent to (a browser always sets Origin on a cross-origin
 *    POST, and the page cannot forge it).
 * Neither header present is a non-browser client (curl, the CLI): the custom
 * header is then enough, since no browser page could have sent it.
 */
export function requireSameOrigin(request: HttpRequestFrame): void {
  if (SAFE_METHODS.has(request.method)) return;
  const refuse = (why: string, details: Record<string, string>): never => {
    throw new GatewayError('AIB_API_CROSS_ORIGIN', `${request.method} ${request.path} refused: ${why}`, { path: request.path, ...details });
  };
  if (request.headers[API_WRITE_HEADER] !== API_WRITE_HEADER_VALUE)
    refuse(`state-changing requests must carry the header ${API_WRITE_HEADER}: ${API_WRITE_HEADER_VALUE} (the admin UI and the command line send it)`, { header: API_WRITE_HEADER });
  const host = (request.headers['host'] ?? '').toLowerCase();
  const origin = request.headers['origin'];
  const referer = request.headers['referer'];
  const source = origin ?? referer;
  if (source === undefined) return;
  const sourceHost = hostOf(source);
  if (sourceHost === null || host === '' || sourceHost !== host)
    refuse(`the request comes from ${origin === undefined ? 'a page' : 'origin'} ${JSON.stringify(source.slice(0, 200))}, not from ${host === '' ? 'this server' : host}`, { origin: source.slice(0, 200) });
}
