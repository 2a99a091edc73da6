import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { data as dcmjsData } from 'dcmjs';

import { startCentral, type RunningCentral } from '../../central/central-server';
import { REGISTRY_PUB_FILE } from '../../central/central-store';
import { centralPaths, type IssuedSite } from '../../plugin/core/central-api';
import { keygen } from '../../plugin/core/model-package';
import { eventually, startBridgeOrthanc, tempDir, uploadFile } from '../harness/bridge-orthanc';
import { RecordingProxy } from '../harness/recording-proxy';
import { oruR01 } from '../gateway/reports/hl7-peer-process';
import { plantedChestStudy, searchForms, type PlantedStudy } from './planted-study';

type Bridge = Awaited<ReturnType<typeof startBridgeOrthanc>>;

// Named only by the report: a referring physician, a second patient ID, an address and a telephone number.
const REPORT_ONLY = ['Thaddeus', 'Wolkenstein', 'MRN-X-660318', '42 Larkspur Crescent', '555-0143'];

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function header(file: string): Record<string, unknown> {
  const bytes = readFileSync(file);
  const dict = dcmjsData.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { untilTag: '7FE00010' });
  return dcmjsData.DicomMetaDictionary.naturalizeDataset(dict.dict);
}

function report(study: PlantedStudy): string {
  const id = study.identity;
  return oruR01({
    controlId: 'RPT-UP-1', patientId: `${id.patientId}~${REPORT_ONLY[2] ?? ''}`, patientName: `${id.familyName}^${id.givenName}`, accession: id.accession,
    studyUid: study.uids[0] ?? '', referring: `7781^${REPORT_ONLY[1] ?? ''}^${REPORT_ONLY[0] ?? ''}`,
    body: [
      `Patient ${id.givenName} ${id.familyName}, MRN ${id.patientId}, second MRN ${REPORT_ONLY[2] ?? ''}.`,
      `Address: ${REPORT_ONLY[3] ?? ''}`,
      `Phone: ${REPORT_ONLY[4] ?? ''}`,
      `Referred by Dr. ${REPORT_ONLY[0] ?? ''} ${REPORT_ONLY[1] ?? ''} of ${id.institution}.`,
      'Findings: lungs are clear, no nodule.',
    ],
  }).replace('19600101', id.birthDate);
}

describe('report link: the de-identified report goes with its study to the central server (real Orthanc, real central server)', function () {
  this.timeout(300_000);
  const temp = tempDir('report-upload');
  const proxy = new RecordingProxy();
  let central: RunningCentral | undefined;
  let site: Bridge | undefined;
  let token = '';
  let study: PlantedStudy | undefined;

  before(async () => {
    const centralDir = join(temp.path, 'central');
    central = await startCentral({ dataDir: centralDir, port: 0, host: '127.0.0.1', trustedKeys: [{ publicKeyPem: keygen().publicKeyPem, modelIds: [] }] });
    const adminToken = readFileSync(join(centralDir, 'admin.token'), 'utf8').trim();
    const proxyUrl = await proxy.start(central.url);
    const issued = await fetch(`${central.url}${centralPaths.adminSites}`, {
      method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ siteId: 'site-r', name: 'Hospital R' }),
    });
    assert.equal(issued.status, 201);
    token = (await issued.json() as IssuedSite).token;
    writeFileSync(join(temp.path, 'site.token'), token, { mode: 0o600 });
    site = await startBridgeOrthanc({
      aiBridge: {
        ChangesPollSeconds: 1, Annotate: true, YieldToIngestMilliseconds: 0,
        Reports: { Enabled: true },
        Central: { Url: proxyUrl, SiteId: 'site-r', SiteTokenFile: join(temp.path, 'site.token'), RegistryPublicKeyFile: join(centralDir, REGISTRY_PUB_FILE), PollSeconds: 2, UploadForTraining: true },
      },
      extraConfig: { StableAge: 3600 },
    });
    mkdirSync(join(temp.path, 'study'));
    study = plantedChestStudy(join(temp.path, 'study'), {
      familyName: 'Quenneville', givenName: 'Ottoline', patientId: 'MRN-R-318842', accession: 'ACCR77120', birthDate: '19480214', studyDate: '20230927',
      institution: 'Saint Ursula Hospital', studyDescription: 'Chest Ursula protocol',
    }, 2);
  });
  after(async () => {
    await site?.cleanup();
    await proxy.stop();
    await central?.close();
    temp.remove();
  });

  it('uploads the report beside its study\'s instances; no identifier of the study or the report is stored centrally or crossed the wire', async () => {
    const s = site ?? assert.fail();
    const planted = study ?? assert.fail();
    const posted = await s.request('POST', '/ai-bridge/reports', report(planted));
    assert.equal(posted.status, 200, posted.body.toString());
    for (const file of planted.files) assert.equal((await uploadFile(s, file)).status, 200);

    const uploadsDir = join(temp.path, 'central', 'uploads', 'site-r');
    const stored = await eventually(async () => {
      await Promise.resolve();
      if (!existsSync(uploadsDir)) return undefined;
      const all = files(uploadsDir);
      const instances = all.filter((f) => f.endsWith('.dcm'));
      const reports = all.filter((f) => f.endsWith('report.txt'));
      return instances.length >= planted.files.length && reports.length === 1 ? { instances, report: reports[0] ?? '' } : undefined;
    }, 'the study\'s instances and its report stored by the central server', 500).catch((e: unknown) => {
      const sent = proxy.requests.map((r) => `${r.method} ${r.path} ${String(r.status)}`).join('\n');
      throw new Error(`${String(e)}\nsent:\n${sent}\nlog:\n${s.logText().split('\n').filter((l) => /central|report|upload/i.test(l)).slice(-30).join('\n')}`);
    });

    // Beside its study: the folder is the pseudonymous Study Instance UID the stored instances carry; one pseudonymous patient.
    const headers = stored.instances.map(header);
    const first = headers[0]?.['StudyInstanceUID'];
    const studyUid = typeof first === 'string' ? first : '';
    assert.match(studyUid, /^2\.25\./);
    assert.ok(headers.every((h) => h['StudyInstanceUID'] === studyUid));
    assert.equal(stored.report, join(uploadsDir, 'studies', studyUid, 'report.txt'));
    const text = readFileSync(stored.report, 'utf8');
    const pid = (text.split(/\r\n|\r|\n/).find((l) => l.startsWith('PID|')) ?? '').split('|');
    assert.equal(pid[3], headers[0]?.['PatientID'], 'PID-3 is the stored instances\' Patient ID');
    const name = headers[0]?.['PatientName'];
    assert.equal(pid[5], typeof name === 'string' ? name : (name as { Alphabetic?: string } | undefined)?.Alphabetic, 'PID-5 is their Patient\'s Name');
    assert.match(text, /lungs are clear, no nodule/, 'the findings travel');
    assert.match(text, /% PERSON NAME %/, 'names are typed fiducials');

    // The egress checks of the two-sites test, on every file the central server stored and every byte the site sent.
    const forms = [
      ...searchForms(planted),
      ...REPORT_ONLY.flatMap((v) => [...new Set([v, v.toUpperCase(), v.toLowerCase()])].flatMap((form) => [
        { label: form, bytes: Buffer.from(form, 'utf8') }, { label: `${form} (UTF-16LE)`, bytes: Buffer.from(form, 'utf16le') },
      ])),
    ];
    const centralBytes = Buffer.concat(files(join(temp.path, 'central')).filter((f) => !f.endsWith('.key') && !f.endsWith('.pem')).map((f) => readFileSync(f)));
    assert.deepEqual(forms.filter((f) => centralBytes.includes(f.bytes)).map((f) => f.label), [], 'identifiers in the central server\'s files');
    const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.path === centralPaths.studyReport(studyUid));
    assert.equal(puts[0]?.status, 201, 'the report went as its own typed part (PUT text/plain)');
    const capture = proxy.capture();
    assert.deepEqual(forms.filter((f) => capture.includes(f.bytes)).map((f) => f.label), [], 'identifiers in the bytes sent');
  });

  it('a study uploaded before its report: the copies de-identified again with the report\'s names replace the stored ones', async () => {
    const s = site ?? assert.fail();
    mkdirSync(join(temp.path, 'study-early'));
    // The referring physician only the report names, also written in the header's free text (Study Description).
    const early = plantedChestStudy(join(temp.path, 'study-early'), {
      familyName: 'Abernathy-Quist', givenName: 'Leocadia', patientId: 'MRN-R-904417', accession: 'ACCR77121', birthDate: '19520630', studyDate: '20230114',
      institution: 'Saint Ursula Hospital', studyDescription: `Chest for Dr ${REPORT_ONLY[1] ?? ''}`,
    }, 2);
    const uploadsDir = join(temp.path, 'central', 'uploads', 'site-r');
    const named = (): string[] => files(uploadsDir).filter((f) => readFileSync(f).toString('latin1').toUpperCase().includes((REPORT_ONLY[1] ?? '').toUpperCase()));
    for (const file of early.files) assert.equal((await uploadFile(s, file)).status, 200);
    // Without its report the name is not known to be one: the first copies carry it (what this test shows is then replaced).
    await eventually(async () => { await Promise.resolve(); return named().length === early.files.length ? true : undefined; }, 'the first copies stored', 500)
      .catch((e: unknown) => {
        const seen = files(uploadsDir).filter((f) => f.endsWith('.dcm')).map((f) => String(header(f)['StudyDescription']));
        throw new Error(`${String(e)}; stored descriptions: ${seen.join(' | ')}; log: ${s.logText().split('\n').filter((l) => /central|upload/i.test(l)).slice(-10).join('\n')}`);
      });
    const posted = await s.request('POST', '/ai-bridge/reports', report(early).replace('RPT-UP-1', 'RPT-UP-2'));
    assert.equal(posted.status, 200, posted.body.toString());
    await eventually(async () => {
      await Promise.resolve();
      return named().length === 0 && files(uploadsDir).filter((f) => f.endsWith('report.txt')).length === 2 ? true : undefined;
    }, 'the copies replaced and the report stored', 500);
    const forms = [...searchForms(early), ...REPORT_ONLY.map((v) => ({ label: v, bytes: Buffer.from(v, 'utf8') }))];
    const centralBytes = Buffer.concat(files(join(temp.path, 'central')).filter((f) => !f.endsWith('.key') && !f.endsWith('.pem')).map((f) => readFileSync(f)));
    assert.deepEqual(forms.filter((f) => centralBytes.includes(f.bytes)).map((f) => f.label), []);
  });

  it('the central server refuses a report that is not de-identified and stores nothing of it', async () => {
    const target = central ?? assert.fail();
    const planted = study ?? assert.fail();
    const studyUid = '2.25.123456789012345678901234567890';
    const refused = await fetch(`${target.url}${centralPaths.studyReport(studyUid)}`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain; charset=utf-8' }, body: report(planted),
    });
    assert.equal(refused.status, 422);
    const body = await refused.json() as { error: { code: string; reasons: string[] } };
    assert.equal(body.error.code, 'CENTRAL_NOT_DEIDENTIFIED');
    assert.ok(body.error.reasons.some((r) => r.startsWith('PID-3')), body.error.reasons.join('; '));
    assert.ok(body.error.reasons.some((r) => r.includes('not a 2.25. UID')), body.error.reasons.join('; '));
    assert.ok(!existsSync(join(temp.path, 'central', 'uploads', 'site-r', 'studies', studyUid)));
    const wrongType = await fetch(`${target.url}${centralPaths.studyReport(studyUid)}`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: 'x',
    });
    assert.equal(wrongType.status, 415);
  });
});
