import { strict as assert } from 'node:assert';

import { basicUser, orthancAuthenticates, phiAccess } from '../../../plugin/gateway/admin/phi-access';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('PHI view: identifiers only for AiBridge.PhiViewers that Orthanc authenticated', () => {
  it('reads the user of an HTTP Basic header', () => {
    assert.equal(basicUser(basic('alice', 'pw:with:colons')), 'alice');
    assert.equal(basicUser('Bearer abc'), null);
    assert.equal(basicUser(undefined), null);
    assert.equal(basicUser(`Basic ${Buffer.from('nocolon').toString('base64')}`), null);
  });

  it('allows a listed user only when Orthanc checks credentials', () => {
    const headers = { authorization: basic('alice', 'x') };
    assert.equal(phiAccess(headers, { viewers: ['alice'], orthancAuthenticates: true }).allowed, true);
    assert.equal(phiAccess(headers, { viewers: ['alice'], orthancAuthenticates: false }).allowed, false, 'a self-declared user proves nothing');
    assert.equal(phiAccess(headers, { viewers: ['bob'], orthancAuthenticates: true }).allowed, false);
    assert.equal(phiAccess({}, { viewers: ['alice'], orthancAuthenticates: true }).allowed, false);
    assert.match(phiAccess(headers, { viewers: [], orthancAuthenticates: true }).reason, /PhiViewers is empty/);
  });

  it("follows Orthanc's rule for when authentication is on", () => {
    assert.equal(orthancAuthenticates({ AuthenticationEnabled: true }), true);
    assert.equal(orthancAuthenticates({ RemoteAccessAllowed: true }), true);
    assert.equal(orthancAuthenticates({ RemoteAccessAllowed: true, AuthenticationEnabled: false }), false);
    assert.equal(orthancAuthenticates({}), false);
  });
});
