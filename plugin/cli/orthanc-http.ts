import * as http from 'node:http';

import { API_WRITE_HEADER, API_WRITE_HEADER_VALUE } from '../core/api-write-header.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface OrthancResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function encodeBody(body: Buffer | string | object | undefined): { data?: Buffer; type?: string } {
  if (body === undefined) return {};
  if (Buffer.isBuffer(body)) return { data: body, type: 'application/octet-stream' };
  if (typeof body === 'string') return { data: Buffer.from(body, 'utf8'), type: 'text/plain' };
  return { data: Buffer.from(JSON.stringify(body), 'utf8'), type: 'application/json' };
}

/** One request to Orthanc on 127.0.0.1; a Buffer goes raw (DICOM), an object as JSON. */
export function orthancRequest(
  port: number,
  method: HttpMethod,
  urlPath: string,
  body?: Buffer | string | object,
  timeoutMs = 120_000,
  extraHeaders: Readonly<Record<string, string>> = {},
): Promise<OrthancResponse> {
  const { data, type } = encodeBody(body);
  // The plugin's API refuses a state-changing request without its write header (CSRF defence); this client is not a browser page.
  const headers: Record<string, string | number> = {
    ...(method !== 'GET' && urlPath.startsWith('/ai-bridge/') ? { [API_WRITE_HEADER]: API_WRITE_HEADER_VALUE } : {}), ...extraHeaders,
  };
  if (data !== undefined) {
    headers['Content-Length'] = data.length;
    if (type !== undefined) headers['Content-Type'] = type;
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const flat: Record<string, string> = {};
        for (const [key, value] of Object.entries(res.headers)) {
          if (value !== undefined) flat[key] = Array.isArray(value) ? value.join(', ') : value;
        }
        resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks) });
      });
    });
    req.on('timeout', () => {
      req.destroy(new Error(`${method} ${urlPath}: no answer within ${timeoutMs} ms`));
    });
    req.on('error', reject);
    req.end(data);
  });
}
