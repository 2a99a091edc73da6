import { strict as assert } from 'node:assert';

import { encodeFrame, FrameDecoder, FrameProtocolError, MAX_HEADER_BYTES } from '../../plugin/core/frame-codec';

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
