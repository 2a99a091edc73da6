import type { Context } from 'koa';

import { CentralError } from './central-error';

/** The raw body, refused past `limit` bytes before it is all read. */
export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > limit) throw new CentralError('CENTRAL_BODY_TOO_LARGE', 413, `body of ${String(declared)} bytes exceeds ${String(limit)}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new CentralError('CENTRAL_BODY_TOO_LARGE', 413, `body exceeds ${String(limit)} bytes`);
    chunks.push(buffer);
  }
  ctx.state.bytesIn = size;
  return Buffer.concat(chunks);
}

export async function readJson(ctx: Context, limit: number): Promise<unknown> {
  const body = await readBody(ctx, limit);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new CentralError('CENTRAL_BAD_REQUEST', 400, 'body is not JSON');
  }
}

/** A required string field of a JSON body; the error names the field. */
export function field(body: unknown, name: string, pattern?: RegExp): string {
  const value = (body as Record<string, unknown> | null)?.[name];
  if (typeof value !== 'string' || value === '' || (pattern !== undefined && !pattern.test(value)))
    throw new CentralError('CENTRAL_BAD_REQUEST', 400, `"${name}" must be a string${pattern ? ` matching ${String(pattern)}` : ''}`);
  return value;
}
