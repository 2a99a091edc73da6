import { randomBytes } from 'node:crypto';
import * as http from 'node:http';

/**
 * STOW-RS (PS3.18 10.5) of Part 10 files to `<root>/studies` on 127.0.0.1:
 * one multipart/related body, type application/dicom. Resolves with the
 * status and the JSON answer (Referenced/Failed SOP Sequences).
 */
export function stowRs(port: number, root: string, files: readonly Buffer[]): Promise<{ status: number; body: string }> {
  const boundary = `aib-${randomBytes(12).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\nContent-Length: ${file.length}\r\n\r\n`, 'latin1'), file, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  const body = Buffer.concat(parts);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1', port, method: 'POST', path: `${root.replace(/\/$/, '')}/studies`,
      headers: {
        'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        'Content-Length': body.length,
        Accept: 'application/dicom+json',
      },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}
