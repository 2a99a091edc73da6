import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { JobView } from '../../../plugin/core/admin-api';
import { createOcrTextFinder } from '../../../plugin/deid/burned-in/ocr-text-finder';
import { renderFrame } from '../../../plugin/deid/burned-in/render-frame';
import { decodeImage } from '../../../plugin/pixels';
import { allJobs, eventually, health, startBridgeOrthanc, tempDir, uploadFile } from '../../harness/bridge-orthanc';
import { freePort, oruR01, peerSend } from './hl7-peer-process';
import { plantedReportImage, type PlantedStudy } from './planted-report-image';

type Bridge = Awaited<ReturnType<typeof startBridgeOrthanc>>;

// Identifiers the header's identifying attributes do not hold: the referring physician and a second patient ID
// are named only by the report, and also appear in a free-text header field and in the pixels.
const REFERRING = 'HOUSEMAN';
const SECOND_ID = '99887766';

function study(suffix: string): PlantedStudy {
  return {
    patientId: `PAT-7788${suffix}`, patientName: `DOE^JANE${suffix}`, accession: `ACC55${suffix}`, studyUid: `1.2.826.0.1.3680043.10.1137.16.${suffix}`,
    header: `Chest, referred by Dr Houseman, case ${SECOND_ID}`, burned: [`DR GREGORY ${REFERRING}`, `CASE ${SECOND_ID}`],
  };
}

function report(s: PlantedStudy, controlId: string, status = 'F'): string {
  return oruR01({
    controlId, patientId: `${s.patientId}~${SECOND_ID}`, patientName: s.patientName, accession: s.accession, studyUid: s.studyUid,
    referring: `4711^${REFERRING}^GREGORY`, status,
    body: [
      `Patient ${s.patientName.replace('^', ' ')} (MRN ${s.patientId}), referred by Dr. Gregory Houseman.`, 'Lungs are clear.',
      // The study's own date (StudyDate 20240105) in two written forms, and one that cannot be read as one day.
      'Compared with the CT of 05.01.2024 and the radiograph of January 5, 2024.', 'Prior film of 03/04/19 not available.',
    ],
  });
}

async function jobOf(orthanc: Bridge, instanceId: string, accept: (job: JobView) => boolean): Promise<JobView> {
  return eventually(async () => (await allJobs(orthanc)).find((j) => j.instanceId === instanceId && (j.state === 'done' || j.state === 'quarantined') && accept(j)),
    `job of ${instanceId}`);
}

function studyDescription(file: string): string {
  return /\(0008,1030\) LO \[([^\]]*)\]/.exec(execFileSync('dcmdump', ['+U8', file], { encoding: 'utf8' }))?.[1] ?? '';
}

describe('report link, claim 10: a report\'s identifiers are found in its study\'s header and pixels (real Orthanc, MLLP peer)', function () {
  this.timeout(300_000);
  const work = tempDir('report-deid');
  let orthanc: Bridge;
  let port = 0;
  const early = study('01');
  const late = study('02');

  before(async () => {
    port = await freePort();
    orthanc = await startBridgeOrthanc({
      aiBridge: {
        ChangesPollSeconds: 1, Annotate: false, YieldToIngestMilliseconds: 0, CleanPixelsMode: 'identifiers-only',
        Reports: { Enabled: true, ListenPort: port, AllowedPeers: ['127.0.0.1'] },
      },
    });
  });
  after(async () => {
    await orthanc.cleanup();
    work.remove();
  });

  it('report before its study, and study before its report: both copies lose what only the report names', async () => {
    const files = [early, late].map((s, i) => {
      const file = join(work.path, `study-${String(i)}.dcm`);
      writeFileSync(file, plantedReportImage(s, 0));
      return file;
    });
    // The study that comes first: de-identified without a report, the physician's name stays (it is no header identifier).
    const lateUpload = await uploadFile(orthanc, files[1] ?? '');
    assert.equal(lateUpload.status, 200);
    const lateId = lateUpload.id ?? '';
    const status = await health(orthanc);
    const firstRun = await jobOf(orthanc, lateId, () => true);
    assert.equal(firstRun.state, 'done', JSON.stringify(firstRun.error));
    assert.match(studyDescription(join(status.dataDirectory, 'deid', firstRun.deidPath ?? '')), /Houseman/i, 'without its report the name is not known to be one');

    // The reports, over MLLP from the peer process; the early study's report comes before its study.
    const acks = (await peerSend(port, [{ text: report(early, 'RPT-1') }, { text: report(late, 'RPT-2') }], work.path)).filter((e) => e.event === 'ack');
    assert.deepEqual(acks.map((a) => a.code), ['AA', 'AA']);
    const earlyUpload = await uploadFile(orthanc, files[0] ?? '');
    assert.equal(earlyUpload.status, 200);

    const ocr = await createOcrTextFinder();
    try {
      for (const [id, s] of [[earlyUpload.id ?? '', early], [lateId, late]] as const) {
        const job = await jobOf(orthanc, id, (j) => /report \d+ applied/.test(j.outcome ?? ''));
        assert.equal(job.state, 'done', JSON.stringify(job.error));
        const copy = join(status.dataDirectory, 'deid', job.deidPath ?? '');
        const description = studyDescription(copy);
        assert.doesNotMatch(description, /Houseman|99887766/i, `header free text still names them: ${description}`);
        assert.match(description, /% PERSON NAME %|% ID %/, 'replaced by typed fiducials');
        // The pixels: what the OCR reads in the original it must not read in the copy.
        const originalText = (await ocr.read(renderFrame(decodeImage(readFileSync(id === lateId ? files[1] ?? '' : files[0] ?? '')), 0))).map((l) => l.text).join(' | ');
        assert.match(originalText, /HOUSEMAN/i, `the OCR reads the planted name in the original: ${originalText}`);
        const copyText = (await ocr.read(renderFrame(decodeImage(readFileSync(copy)), 0))).map((l) => l.text).join(' | ');
        assert.doesNotMatch(copyText, /HOUSE|9988|7766/i, `still legible in the copy: ${copyText}`);
        // The report's de-identified copy beside the study: no original identifier of it left.
        const reportCopy = join(status.dataDirectory, 'deid', (job.deidPath ?? '').split('/')[0] ?? '', 'report.txt');
        assert.ok(existsSync(reportCopy), `no de-identified report at ${reportCopy}`);
        const text = readFileSync(reportCopy, 'utf8');
        for (const original of [s.patientId, 'JANE', 'DOE', s.accession, REFERRING, 'Houseman', 'GREGORY', SECOND_ID, '19600101']) {
          assert.ok(!text.toUpperCase().includes(original.toUpperCase()), `the de-identified report still holds ${original}`);
        }
        assert.match(text, /Lungs are clear\./, 'the findings stay');
        // One pseudonymous patient for the study's copies and its report's copy.
        const dump = execFileSync('dcmdump', ['+U8', copy], { encoding: 'utf8' });
        const pid = (text.split(/\r|\n/).find((l) => l.startsWith('PID|')) ?? '').split('|');
        assert.equal(pid[3], /\(0010,0020\) LO \[([^\]]*)\]/.exec(dump)?.[1], 'PID-3 is the copies\' Patient ID');
        assert.equal(pid[5], /\(0010,0010\) PN \[([^\]]*)\]/.exec(dump)?.[1], 'PID-5 is the copies\' Patient\'s Name');
        // Dates move with the images' dates: the report's study date is the copy's shifted StudyDate, in the report's own forms.
        const studyDate = /\(0008,0020\) DA \[(\d{4})(\d{2})(\d{2})\]/.exec(dump) ?? assert.fail('the copy has no StudyDate');
        const [, yyyy = '', mm = '', dd = ''] = studyDate;
        assert.notEqual(`${yyyy}${mm}${dd}`, '20240105', 'the copy\'s StudyDate is shifted');
        const obr = (text.split(/\r|\n/).find((l) => l.startsWith('OBR|')) ?? '').split('|');
        assert.equal(obr[7], `${yyyy}${mm}${dd}110000`, 'OBR-7 (observation date/time) moves by the same shift');
        assert.ok(text.includes(`the CT of ${dd}.${mm}.${yyyy}`), `the body's dotted date is the copy's StudyDate: ${text}`);
        const month = new Date(Date.UTC(Number(yyyy), Number(mm) - 1, 1)).toLocaleString('en-US', { month: 'long', timeZone: 'UTC' });
        assert.ok(text.includes(`radiograph of ${month} ${String(Number(dd))}, ${yyyy}`), `the written date is the copy's StudyDate: ${text}`);
        assert.ok(!text.includes('05.01.2024') && !text.includes('January 5, 2024'), 'no original date left');
        assert.match(text, /Prior film of % DATE % not available/, 'a date that names no one day stays a fiducial');
      }
    } finally {
      // The finder holds no process: nothing to stop.
    }
  });

  it('a corrected report (result status C) is applied to its study again', async () => {
    const corrected = report(early, 'RPT-3', 'C').replace(/HOUSEMAN\^GREGORY/g, 'WILSONIAN^JAMES').replace('Gregory Houseman', 'James Wilsonian');
    const acks = (await peerSend(port, [{ text: corrected }], work.path)).filter((e) => e.event === 'ack');
    assert.deepEqual(acks.map((a) => a.code), ['AA']);
    const overview = await orthanc.json<{ received: { resultStatus: string; state: string; outcome: string | null }[] }>('GET', '/ai-bridge/reports');
    assert.equal(overview.received.length, 3);
    const newest = await eventually(async () => {
      const o = await orthanc.json<{ received: { id: number; resultStatus: string; state: string; outcome: string | null }[] }>('GET', '/ai-bridge/reports');
      const r = o.received[0];
      return r?.state === 'done' ? r : undefined;
    }, 'the correction re-checked');
    assert.equal(newest.resultStatus, 'C');
    assert.match(newest.outcome ?? '', /1 instance\(s\) of its study queued/);
  });
  it('takes a report by POST /ai-bridge/reports (Orthanc\'s authentication) and refuses a malformed one there too', async () => {
    const posted = await orthanc.request('POST', '/ai-bridge/reports', report(study('03'), 'RPT-REST-1'));
    assert.equal(posted.status, 200, posted.body.toString());
    const accepted = JSON.parse(posted.body.toString()) as { ack: string; reportId: number; duplicate: boolean; hl7: string };
    assert.equal(accepted.ack, 'AA');
    assert.equal(accepted.duplicate, false);
    assert.match(accepted.hl7, /^MSH\|.*\rMSA\|AA\|RPT-REST-1/);
    const refused = await orthanc.request('POST', '/ai-bridge/reports', 'MSH|^~\\&|RIS|HOSP|||20240105||ADT^A01|RPT-REST-2|P|2.5\rPID|1||X');
    assert.equal(refused.status, 400);
    const body = JSON.parse(refused.body.toString()) as { ack: string; code: string };
    assert.deepEqual([body.ack, body.code], ['AR', 'AIB_REPORT_UNSUPPORTED_TYPE']);
    const overview = await orthanc.json<{ received: { id: number; via: string }[]; errors: { code: string; via: string }[] }>('GET', '/ai-bridge/reports');
    assert.equal(overview.received.find((r) => r.id === accepted.reportId)?.via, 'rest');
    const newest = overview.errors[0];
    assert.ok(newest);
    assert.deepEqual([newest.code, newest.via], ['AIB_REPORT_UNSUPPORTED_TYPE', 'rest']);
  });
});
