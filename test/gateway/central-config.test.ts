import { strict as assert } from 'node:assert';

import { loadAiBridgeConfig } from '../../plugin/gateway/config-loader';
import { refusal } from './config-refusal';

const orthanc = (central: unknown): string => JSON.stringify({ AiBridge: { Central: central } });
const minimal = { Url: 'https://central.example', SiteId: 'site-a', SiteTokenFile: 'secrets/site.token', RegistryPublicKeyFile: '/etc/aib/registry.pub' };

describe('AiBridge.Central configuration', () => {
  it('applies the defaults and resolves the key files against the working directory', () => {
    const central = loadAiBridgeConfig(orthanc(minimal), '/srv/orthanc').Central ?? assert.fail('no Central');
    assert.equal(central.PollSeconds, 300);
    assert.equal(central.UploadForTraining, false);
    assert.equal(central.AnswerCategoryRequests, false, 'category requests are off unless the site turns them on');
    assert.deepEqual(central.CategoryRequestLimits, { Categories: [], StudiesPerRequest: 20, StudiesPerMonth: 100 });
    assert.equal(central.UploadAttempts, 8);
    assert.equal(central.SiteTokenFile, '/srv/orthanc/secrets/site.token');
    assert.equal(central.RegistryPublicKeyFile, '/etc/aib/registry.pub');
    assert.deepEqual(central.CategorySearch, { DicomWebUrl: '', DicomWebAuthorization: '' });
    assert.equal(loadAiBridgeConfig(JSON.stringify({ AiBridge: {} })).Central, undefined, 'absent: no link');
  });

  it('takes a DIMSE peer with its defaults', () => {
    const central = loadAiBridgeConfig(orthanc({ ...minimal, CategorySearch: { DimsePeer: { Aet: 'PACS', Host: 'pacs.local', Port: 104 } } })).Central;
    assert.deepEqual(central?.CategorySearch.DimsePeer, { Aet: 'PACS', Host: 'pacs.local', Port: 104, CallingAet: 'AIBRIDGE', MoveDestination: '' });
  });

  it('refuses an unknown nested key, a missing required key and a bad URL, naming each', () => {
    const unknown = refusal(() => loadAiBridgeConfig(orthanc({ ...minimal, PollSecond: 5 })));
    assert.equal(unknown.code, 'AIB_CONFIG_UNKNOWN_KEY');
    assert.equal(unknown.details['key'], 'AiBridge.Central.PollSecond');
    const deeper = refusal(() => loadAiBridgeConfig(orthanc({ ...minimal, CategorySearch: { DimsePeer: { Aet: 'P', Host: 'h', Port: 104, Aec: 'X' } } })));
    assert.equal(deeper.details['key'], 'AiBridge.Central.CategorySearch.DimsePeer.Aec');
    const missing = refusal(() => loadAiBridgeConfig(orthanc({ Url: 'https://central.example', SiteId: 'site-a' })));
    assert.equal(missing.code, 'AIB_CONFIG_BAD_VALUE');
    assert.match(missing.message, /AiBridge\.Central .*SiteTokenFile/);
    const noSite = refusal(() => loadAiBridgeConfig(orthanc({ Url: 'https://central.example', SiteTokenFile: 't', RegistryPublicKeyFile: 'k' })));
    assert.match(noSite.message, /AiBridge\.Central .*SiteId/);
    // A category with a wildcard (or lower case, or padding) is not a category this site can be limited to.
    for (const BodyPart of ['CH*', 'chest', ' CHEST', ''])
      assert.equal(refusal(() => loadAiBridgeConfig(orthanc({ ...minimal, CategoryRequestLimits: { Categories: [{ Modality: 'CT', BodyPart }] } }))).code, 'AIB_CONFIG_BAD_VALUE', BodyPart);
    const url = refusal(() => loadAiBridgeConfig(orthanc({ ...minimal, Url: 'ftp://central' })));
    assert.equal(url.details['key'], 'AiBridge.Central.Url');
  });
});
