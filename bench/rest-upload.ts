import * as http from 'node:http';

/** Plain HTTP to Orthanc's REST API from the benches: keep-alive connections, no client library in the way. */

export interface Reply { readonly status: number; readonly body: Buffer }

export function post(agent: http.Agent, port: number, urlPath: string, body: Buffer, type: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: urlPath, agent,
      headers: { 'Content-Type': type, 'Content-Length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }); });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `count` lanes take items 0..items-1 in order, each lane one item at a time: `count` requests in flight. */
export async function lanes(count: number, items: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: count }, async () => {
    while (next < items) await work(next++);
  }));
}
