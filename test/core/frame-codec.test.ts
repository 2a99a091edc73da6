import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';

import { encodeFrame, FrameDecoder, FrameProtocolError, INLINE_BODY_BYTES, MAX_HEADER_BYTES, writeFrame, type Frame } from '../../plugin/core/frame-codec';

describe('frame codec (docs/wire-protocol.md)', () => {
  it('round-trips a header and binary body, whatever the chunking', () => {
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 256));
    const wire = Buffer.concat([
      ...encodeFrame({ k: 'call', id: 1, fn: 'RestApiGet', args: { uri: '/system' } }),
      ...encodeFrame({ k: 'result', id: 1, ok: true, value: null }, body),
    ]);
    for (const chunkSize of [1, 7, 8, 100, wire.length]) {
      const decoder = new FrameDecoder();
      const frames = [];
      for (let i = 0; i < wire.length; i += chunkSize) frames.push(...decoder.push(wire.subarray(i, i + chunkSize)));
      assert.equal(frames.length, 2, `chunk size ${chunkSize}`);
      assert.deepEqual(frames[0]?.header, { k: 'call', id: 1, fn: 'RestApiGet', args: { uri: '/system' } });
      assert.equal(frames[0].body.length, 0);
      assert.ok(frames[1]?.body.equals(body), 'body bytes unchanged, no base64');
    }
  });

  it('writes lengths as uint32 little-endian', () => {
    const [prefix] = encodeFrame({ k: 'pong', id: 2 }, Buffer.from('abc'));
    assert.ok(prefix);
    assert.equal(prefix.readUInt32LE(0), Buffer.byteLength(JSON.stringify({ k: 'pong', id: 2 })));
    assert.equal(prefix.readUInt32LE(4), 3);
  });

  it('sends a small frame as one buffer and a large body as its own part, uncopied', () => {
    const small = Buffer.alloc(INLINE_BODY_BYTES, 7);
    const parts = encodeFrame({ k: 'call', id: 3 }, small);
    assert.equal(parts.length, 1, 'header and a body up to INLINE_BODY_BYTES leave in one write');
    assert.equal(encodeFrame({ k: 'pong', id: 4 }).length, 1);
    const large = Buffer.alloc(INLINE_BODY_BYTES + 1, 9);
    const [head, body] = encodeFrame({ k: 'result', id: 5, ok: true, note: 'é' }, large);
    assert.ok(head && body);
    assert.equal(body, large, 'the large body is the caller\'s buffer');
    assert.equal(head.readUInt32LE(0), Buffer.byteLength(JSON.stringify({ k: 'result', id: 5, ok: true, note: 'é' })), 'header length in bytes, not characters');
    const frames = new FrameDecoder().push(Buffer.concat([...parts, head, body]));
    assert.deepEqual(frames.map((f) => [f.header.k, f.body.length]), [['call', INLINE_BODY_BYTES], ['result', INLINE_BODY_BYTES + 1]]);
    assert.ok(frames[0]?.body.equals(small) && frames[1]?.body.equals(large));
    assert.equal(frames[1]?.header['note'], 'é');
  });

  it('writes frames of one and of two parts whole over a socket, in order', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    assert.ok(typeof address === 'object' && address !== null);
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect(address.port, '127.0.0.1');
    const [peer] = await accepted;
    try {
      const large = Buffer.alloc(3 * INLINE_BODY_BYTES, 1);
      const decoder = new FrameDecoder();
      const received: Frame[] = [];
      const all = new Promise<void>((resolve) => {
        peer.on('data', (chunk: Buffer) => { received.push(...decoder.push(chunk)); if (received.length === 3) resolve(); });
      });
      writeFrame(client, encodeFrame({ k: 'a' }));
      writeFrame(client, encodeFrame({ k: 'b' }, large));
      writeFrame(client, encodeFrame({ k: 'c' }, Buffer.from('xyz')));
      await all;
      assert.deepEqual(received.map((f) => [f.header.k, f.body.length]), [['a', 0], ['b', large.length], ['c', 3]]);
      assert.ok(received[1]?.body.equals(large));
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it('refuses a header over the limit, a non-object header and a missing kind', () => {
    const oversized = Buffer.alloc(8);
    oversized.writeUInt32LE(MAX_HEADER_BYTES + 1, 0);
    assert.throws(() => new FrameDecoder().push(oversized), FrameProtocolError);
    const raw = (json: string): Buffer => {
      const header = Buffer.from(json);
      const prefix = Buffer.alloc(8);
      prefix.writeUInt32LE(header.length, 0);
      return Buffer.concat([prefix, header]);
    };
    assert.throws(() => new FrameDecoder().push(raw('[1,2]')), /not a JSON object/);
    assert.throws(() => new FrameDecoder().push(raw('{"id":1}')), /no string "k"/);
    assert.throws(() => new FrameDecoder().push(raw('{oops')), /not valid JSON/);
  });
});
