/**
 * The header every state-changing request to /ai-bridge/ must carry
 * (POST, PUT, PATCH, DELETE): the admin UI sends it, and so do the command
 * line and any script. A page on another origin cannot: a form or a
 * `no-cors` fetch sends no custom header, and a CORS request with one needs
 * a preflight that Orthanc never approves. The gateway also refuses such a
 * request whose Origin (or Referer) names another host (api/same-origin.ts).
 */
export const API_WRITE_HEADER = 'x-requested-by';
export const API_WRITE_HEADER_VALUE = 'orthanc-ai-bridge';
