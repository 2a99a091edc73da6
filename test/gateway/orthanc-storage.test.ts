import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { linkableOrthancStorage, storedFilePath } from '../../plugin/gateway/orthanc-storage';
import { tempDir } from '../harness/bridge-orthanc';

describe('linking originals from where Orthanc stores them (orthanc-storage.ts)', () => {
  const temp = tempDir('orthanc-storage');
  const storage = join(temp.path, 'storage');
  const uuid = '0a1b2c3d-1111-2222-3333-444455556666';
  const file = join(storage, '0a', '1b', uuid);

  before(() => {
    mkdirSync(join(storage, '0a', '1b'), { recursive: true });
    writeFileSync(file, Buffer.alloc(1000, 7));
  });
  after(() => { temp.remove(); });

  it('takes Orthanc\'s own uncompressed file storage, resolved against Orthanc\'s working directory', () => {
    assert.equal(linkableOrthancStorage({ StorageDirectory: 'storage' }, temp.path), storage);
    assert.equal(linkableOrthancStorage({ StorageDirectory: storage, StorageCompression: false }, '/'), storage);
    // The PostgreSQL plugin as an index only: files stay on Orthanc's storage.
    assert.equal(linkableOrthancStorage({ StorageDirectory: storage, PostgreSQL: { EnableIndex: true, EnableStorage: false } }), storage);
  });

  it('refuses compressed files, storage plugins and a folder that does not exist (the instance is spooled instead)', () => {
    assert.equal(linkableOrthancStorage({ StorageDirectory: storage, StorageCompression: true }), undefined);
    assert.equal(linkableOrthancStorage({ StorageDirectory: storage, PostgreSQL: { EnableIndex: true, EnableStorage: true } }), undefined);
    assert.equal(linkableOrthancStorage({ StorageDirectory: storage, AwsS3Storage: { BucketName: 'b' } }), undefined);
    assert.equal(linkableOrthancStorage({ StorageDirectory: join(temp.path, 'missing') }), undefined);
  });

  it('uses a stored file only when it is the whole, uncompressed attachment Orthanc records', () => {
    assert.equal(storedFilePath(storage, { uuid, compressedSize: 1000, uncompressedSize: 1000 }), file);
    assert.equal(storedFilePath(storage, { uuid, compressedSize: 600, uncompressedSize: 1000 }), undefined, 'compressed');
    assert.equal(storedFilePath(storage, { uuid, compressedSize: 999, uncompressedSize: 999 }), undefined, 'another size');
    assert.equal(storedFilePath(storage, { uuid: '0a1b2c3d-1111-2222-3333-444455556667', compressedSize: 1000, uncompressedSize: 1000 }), undefined, 'absent');
    assert.equal(storedFilePath(storage, { uuid: '../../etc/passwd', compressedSize: 1000, uncompressedSize: 1000 }), undefined, 'not a UUID');
  });
});
