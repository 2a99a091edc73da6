import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { isExactMatch } from '../../plugin/gateway/category-requests/pacs-search';
import { policyRefusal, studiesAllowed } from '../../plugin/gateway/category-requests/category-request-policy';
import type { CategoryRequest } from '../../plugin/core/central-api';
import { keygen } from '../../plugin/core/model-package';
import type { CategoryRequestsResponse, CategoryRequestView, JobListResponse } from '../../plugin/core/admin-api';
import { eventually, startBridgeOrthanc, tempDir, uploadFile } from '../harness/bridge-orthanc';
import { ContractServer } from './contract-server';
import { plantedChestStudy, type PlantedStudy } from './planted-study';

const LIMITS = { Categories: [{ Modality: 'CT', BodyPart: 'CHEST' }], StudiesPerRequest: 1, StudiesPerMonth: 1 };

function asked(id: string, modality: string, bodyPart: string, studiesPerSite: number): CategoryRequest {
  return { id, category: { modality, bodyPart }, studiesPerSite, reason: 'test', createdAt: new Date().toISOString(), state: 'open', progress: [] };
}

describe('the site decides what a category request takes (limits, approval, exact category)', function () {
  it('refuses wildcards, lists, ranges, empty values and unlisted categories; cuts the studies to the limits', function () {
    for (const bodyPart of ['CH*', 'CHEST\\HEAD', 'CHEST,HEAD', '?HEST', '', '  ', ' CHEST', 'chest'])
      assert.match(policyRefusal({ modality: 'CT', bodyPart, studiesWanted: 1 }, LIMITS) ?? '', /not an exact Modality and Body Part Examined/, JSON.stringify(bodyPart));
    assert.match(policyRefusal({ modality: 'MR', bodyPart: 'CHEST', studiesWanted: 1 }, LIMITS) ?? '', /MR CHEST is not in AiBridge\.Central\.CategoryRequestLimits\.Categories/);
    assert.equal(policyRefusal({ modality: 'CT', bodyPart: 'CHEST', studiesWanted: 5 }, LIMITS), null);
    assert.equal(studiesAllowed(5, { ...LIMITS, StudiesPerRequest: 3, StudiesPerMonth: 10 }, 0), 3);
    assert.equal(studiesAllowed(5, { ...LIMITS, StudiesPerRequest: 3, StudiesPerMonth: 10 }, 9), 1);
    assert.equal(studiesAllowed(5, { ...LIMITS, StudiesPerRequest: 3, StudiesPerMonth: 10 }, 10), 0);
    // A match must state both attributes and equal them (trailing padding aside); a PACS that matched loosely is filtered.
    const query = { modality: 'CT', bodyPart: 'CHEST' };
    assert.equal(isExactMatch('CT', 'CHEST ', query), true);
    for (const [m, b] of [['CT', 'chest'], ['CT', undefined], [undefined, 'CHEST'], ['CT', 'CHEST\\HEAD'], ['CT', 'CHESTX'], ['MR', 'CHEST']])
      assert.equal(isExactMatch(m, b, query), false, `${String(m)} ${String(b)}`);
  });

  describe('a real site (Orthanc + plugin + annotator) against a loopback central server', function () {
    const temp = tempDir('category-control');
    const registryKey = keygen();
    const token = 'site-token-category-control';
    const server = new ContractServer(token, registryKey.privateKeyPem);
    const studies: PlantedStudy[] = [];
    let site: Awaited<ReturnType<typeof startBridgeOrthanc>> | undefined;

    before(async function () {
      const url = await server.start();
      writeFileSync(join(temp.path, 'site.token'), token, { mode: 0o600 });
      writeFileSync(join(temp.path, 'registry.pub'), registryKey.publicKeyPem);
      for (const name of ['one', 'two']) {
        mkdirSync(join(temp.path, name));
        studies.push(plantedChestStudy(join(temp.path, name), {
          familyName: `Quillfeather${name}`, givenName: 'Ottoline', patientId: `MRN-${name}-3301`, accession: `ACC${name}77`, birthDate: '19500101',
          studyDate: '20240202', institution: 'Test Infirmary', studyDescription: 'Chest',
        }, 2));
      }
      site = await startBridgeOrthanc({
        aiBridge: {
          ChangesPollSeconds: 2, Annotate: true, DeidProfile: 'basic', RetryBackoffSeconds: 0.5,
          Central: {
            Url: url, SiteId: 'site-a', SiteTokenFile: join(temp.path, 'site.token'), RegistryPublicKeyFile: join(temp.path, 'registry.pub'),
            PollSeconds: 1, AnswerCategoryRequests: true, CategoryRequestLimits: LIMITS,
          },
        },
        extraConfig: { StableAge: 3600 },
      });
      for (const study of studies) for (const file of study.files) assert.equal((await uploadFile(site, file)).status, 200);
    });
    after(async function () {
      await site?.cleanup();
      await server.stop();
      temp.remove();
    });

    const listed = async (): Promise<CategoryRequestsResponse> => (site ?? assert.fail()).json<CategoryRequestsResponse>('GET', '/ai-bridge/central/requests');
    const lastProgress = (id: string): string | undefined => server.progress.filter((p) => p.requestId === id).at(-1)?.body.state;

    it('lists every request; refuses the wildcard and the unlisted one at once; searches nothing before approval', async function () {
      server.requests = [asked('req-wild', 'CT', 'CH*', 1), asked('req-head', 'CT', 'HEAD', 1), asked('req-chest', 'CT', 'CHEST', 5)];
      const view = await eventually(async () => {
        const r = await listed();
        // The link reports awaiting-approval until the gateway's decision reaches it; the refusals follow.
        const reported = lastProgress('req-wild') === 'declined' && lastProgress('req-head') === 'declined' && lastProgress('req-chest') === 'awaiting-approval';
        return r.requests.length === 3 && reported ? r : undefined;
      }, 'the three requests listed and reported', 500);
      const byId = (id: string): CategoryRequestView => view.requests.find((r) => r.id === id) ?? assert.fail(id);
      assert.equal(byId('req-wild').search.state, 'declined');
      assert.match(byId('req-wild').decision?.reason ?? '', /not an exact Modality and Body Part Examined/);
      assert.equal(byId('req-wild').decision?.by, 'policy');
      assert.equal(byId('req-head').search.state, 'declined');
      assert.match(byId('req-head').decision?.reason ?? '', /CT HEAD is not in AiBridge\.Central\.CategoryRequestLimits\.Categories/);
      assert.equal(byId('req-chest').search.state, 'awaiting-approval');
      assert.deepEqual(view.limits, { categories: [{ modality: 'CT', bodyPart: 'CHEST' }], studiesPerRequest: 1, studiesPerMonth: 1, studiesThisMonth: 0 });
      assert.equal(lastProgress('req-wild'), 'declined');
      assert.equal(lastProgress('req-chest'), 'awaiting-approval');
      // A few polls later still nothing was searched or tagged.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const jobs = (await (site ?? assert.fail()).json<JobListResponse>('GET', '/ai-bridge/jobs?limit=1000')).jobs;
      assert.equal(jobs.filter((j) => j.categoryRequest !== null).length, 0);
      assert.equal(server.uploads.length, 0);
      const refused = await (site ?? assert.fail()).request('POST', '/ai-bridge/central/requests/req-wild/approve');
      assert.equal(refused.status, 409);
      assert.match(refused.body.toString('utf8'), /AIB_CATEGORY_REQUEST_REFUSED/);
    });

    it('runs a request approved on the Models page (Chromium) for the studies the limits allow, and refuses the next approval once the month is used up', async function () {
      const s = site ?? assert.fail();
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
      try {
        const page = await browser.newPage();
        page.on('dialog', (dialog) => { void dialog.accept(); });
        await page.goto(`${s.baseUrl}/ai-bridge/ui/models`);
        await page.getByTestId('category-limits').waitFor({ timeout: 60_000 });
        assert.match(await page.getByTestId('category-limits').innerText(), /only CT CHEST, at most 1 studies per request and 1 per month/);
        await page.getByRole('button', { name: 'Approve CT CHEST request req-chest' }).click();
        await page.getByRole('status').filter({ hasText: 'Request req-chest approved for 1 CT CHEST studies' }).waitFor({ timeout: 60_000 });
      } finally {
        await browser.close();
      }
      const approved = (await listed()).requests.find((q) => q.id === 'req-chest') ?? assert.fail();
      assert.equal(approved.decision?.studiesGranted, 1, 'five asked, one allowed per request');
      const done = await eventually(async () => {
        const r = (await listed()).requests.find((q) => q.id === 'req-chest');
        return r?.search.state === 'done' && r.uploads.instancesUploaded === 2 ? r : undefined;
      }, 'the approved request searched, de-identified and uploaded', 500);
      assert.equal(done.search.studiesFound, 1);
      const tagged = (await s.json<JobListResponse>('GET', '/ai-bridge/jobs?limit=1000')).jobs.filter((j) => j.categoryRequest === 'req-chest');
      assert.equal(tagged.length, 2, 'the instances of one study only');
      assert.equal(server.uploads.filter((u) => u.requestId === 'req-chest').length, 2);
      await eventually(() => Promise.resolve(lastProgress('req-chest') === 'done' ? true : undefined), 'done reported', 500);

      server.requests = [...server.requests, asked('req-chest-2', 'CT', 'CHEST', 1)];
      await eventually(async () => ((await listed()).requests.find((q) => q.id === 'req-chest-2')?.search.state === 'awaiting-approval' ? true : undefined), 'the second request listed', 500);
      const over = await s.request('POST', '/ai-bridge/central/requests/req-chest-2/approve');
      assert.equal(over.status, 409);
      assert.match(over.body.toString('utf8'), /StudiesPerMonth \(1\) is used up this month/);
      const declined = await s.json<CategoryRequestView>('POST', '/ai-bridge/central/requests/req-chest-2/decline', { reason: 'not this month' });
      assert.equal(declined.search.state, 'declined');
      assert.equal(declined.decision?.reason, 'not this month');
      const reported = await eventually(() => Promise.resolve(server.progress.filter((p) => p.requestId === 'req-chest-2' && p.body.state === 'declined').at(-1)),
        'the decline reported', 500);
      // The administrator's own words stay at the site.
      assert.equal(reported.body.detail, "declined by the site's administrator");
    });
  });
});
