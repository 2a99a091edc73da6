import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ModelError } from '../../../plugin/annotate/models/model-error';
import { keygen, signPackage, verifyPackage } from '../../../plugin/annotate/models/package-signature';
import { tempDir } from '../../harness/bridge-orthanc';
import { copyBuilt } from '../package-fixtures';

function expectRefusal(fn: () => unknown, code: string, mentions?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ModelError, String(error));
    assert.equal(error.code, code);
    if (mentions !== undefined) assert.ok(error.message.includes(mentions), error.message);
    return true;
  });
}

function flipByte(file: string, at: (length: number) => number): void {
  const bytes = readFileSync(file);
  const i = at(bytes.length);
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  writeFileSync(file, bytes);
}

describe('model package signatures', () => {
  const author = keygen();
  const stranger = keygen();
  let tmp: { path: string; remove: () => void };
  let pkg: string;

  beforeEach(() => {
    tmp = tempDir('sig');
    pkg = copyBuilt('ct-chest-lung-fields', join(tmp.path, 'pkg'));
    signPackage(pkg, author.privateKeyPem);
  });
  afterEach(() => { tmp.remove(); });

  it('verifies an untouched package with the author key', () => {
    const verified = verifyPackage(pkg, [stranger.publicKeyPem, author.publicKeyPem]);
    assert.equal(verified.manifest.id, 'ct-chest-lung-fields');
    assert.equal(verified.model.length, readFileSync(join(pkg, 'model.onnx')).length);
  });

  for (const [file, where] of [['manifest.json', 'middle'], ['model.onnx', 'middle'], ['model.onnx', 'last']] as const) {
    it(`refuses a package with one byte changed in ${file} (${where})`, () => {
      flipByte(join(pkg, file), (n) => (where === 'last' ? n - 1 : Math.floor(n / 2)));
      expectRefusal(() => verifyPackage(pkg, [author.publicKeyPem]), 'AIB_MODEL_SIGNATURE_INVALID', pkg);
    });
  }

  it('refuses a changed commissioning input (bound through the signed manifest)', () => {
    flipByte(join(pkg, 'commissioning', '1-15.dcm'), (n) => n - 100);
    expectRefusal(() => verifyPackage(pkg, [author.publicKeyPem]), 'AIB_MODEL_SIGNATURE_INVALID', '1-15.dcm');
  });

  it('refuses a package signed by a key the site does not trust', () => {
    expectRefusal(() => verifyPackage(pkg, [stranger.publicKeyPem]), 'AIB_MODEL_UNTRUSTED_KEY');
  });

  it('refuses a package whose signature file is missing', () => {
    writeFileSync(join(pkg, 'signature.ed25519'), 'garbage');
    expectRefusal(() => verifyPackage(pkg, [author.publicKeyPem]), 'AIB_MODEL_SIGNATURE_INVALID');
  });

  it('refuses a correctly signed manifest that breaks the schema, naming the file and the key', () => {
    const bad = copyBuilt('ct-head-brain', join(tmp.path, 'bad'), (m) => ({ ...m, treshold: 0.5 } as typeof m));
    signPackage(bad, author.privateKeyPem);
    expectRefusal(() => verifyPackage(bad, [author.publicKeyPem]), 'AIB_MODEL_MANIFEST_INVALID', 'unknown key "treshold"');
    const badRef = copyBuilt('ct-head-brain', join(tmp.path, 'bad-ref'), (m) => ({ ...m, postProcessing: { ...m.postProcessing, reportSlice: 'lungs' } }));
    signPackage(badRef, author.privateKeyPem);
    expectRefusal(() => verifyPackage(badRef, [author.publicKeyPem]), 'AIB_MODEL_MANIFEST_INVALID', '/postProcessing/reportSlice');
  });
});
