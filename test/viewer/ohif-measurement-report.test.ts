import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { repoRoot } from '../../plugin/cli/repo-root';
import { Tid1500MeasurementReport } from '../../plugin/annotate/results/tid1500-measurement-report';
import { readPart10 } from '../../plugin/annotate/results/part10-writer';
import { checkTid1500Structure } from '../../plugin/annotate/results/tid1500-structure-check';
import { lungAnnotationResult, lungCtSlices, resultIdentity, sourceStudyOf } from '../annotate/results/lung-ct-fixture';
import { startBridgeOrthanc, uploadFile } from '../harness/bridge-orthanc';
import { OHIF_ORTHANC_CONFIG, startOhifViewer, type OhifViewer } from '../harness/ohif-viewer';
import { stowRs } from '../harness/stow-rs';

const OUTPUT = join(repoRoot(), 'test-output', 'viewer');

describe('OHIF v3 draws our TID 1500 Measurement Report', function () {
  let orthanc: Awaited<ReturnType<typeof startBridgeOrthanc>> | undefined;
  let viewer: OhifViewer | undefined;

  before(async function () {
    // Orthanc with DICOMweb only: this checks the SR and the viewer, not the pipeline.
    orthanc = await startBridgeOrthanc({ aiBridge: false, extraConfig: OHIF_ORTHANC_CONFIG });
    viewer = await startOhifViewer({ orthancPort: orthanc.httpPort, outputDir: OUTPUT });
  });
  after(async function () {
    await viewer?.close();
    await orthanc?.cleanup();
  });

  it('shows the polygon of slice 3 in the SVG layer, keyed by its Tracking Unique Identifier', async function () {
    const running = orthanc ?? assert.fail('no Orthanc');
    const slices = lungCtSlices(5);
    for (const slice of slices) assert.equal((await uploadFile(running, slice.path)).status, 200);
    const source = sourceStudyOf(slices[0] ?? assert.fail());
    const seriesNumber = 9901;
    const report = new Tid1500MeasurementReport({
      result: lungAnnotationResult(slices, true),
      source,
      instance: resultIdentity({ seriesNumber }),
    });
    const bytes = report.toPart10();
    assert.deepEqual(checkTid1500Structure(readPart10(bytes).dataset, slices.map((slice) => slice.image)), []);
    const stored = await stowRs(running.httpPort, '/dicom-web', [bytes]);
    assert.equal(stored.status, 200, stored.body);
    assert.ok(stored.body.includes(report.options.instance.sopInstanceUid), stored.body);

    const trackingUid = report.trackingUids[0] ?? assert.fail();
    const drawn = await (viewer ?? assert.fail('no viewer')).expectSrDrawn(source.StudyInstanceUID, seriesNumber, trackingUid);
    // OHIF jumps to the referenced slice: the third of five.
    assert.match(drawn.overlay, /I:3 \(3\/5\)/);
    assert.ok(existsSync(drawn.screenshot) && statSync(drawn.screenshot).size > 10_000, drawn.screenshot);
    assert.ok(readFileSync(drawn.screenshot).subarray(1, 4).toString('latin1') === 'PNG');
  });

  it('draws an ellipse with two measurements on slice 4 and a bare point on slice 2', async function () {
    const running = orthanc ?? assert.fail('no Orthanc');
    const slices = lungCtSlices(5);
    // Storing the CT again is a no-op in Orthanc; it keeps this test independent of the one before.
    for (const slice of slices) assert.equal((await uploadFile(running, slice.path)).status, 200);
    const source = sourceStudyOf(slices[0] ?? assert.fail());
    const seriesNumber = 9902;
    const report = new Tid1500MeasurementReport({
      result: lungAnnotationResult(slices),
      source,
      instance: resultIdentity({ seriesNumber, seriesInstanceUid: '2.25.99020', sopInstanceUid: '2.25.99021' }),
    });
    const stored = await stowRs(running.httpPort, '/dicom-web', [report.toPart10()]);
    assert.equal(stored.status, 200, stored.body);
    const [polygon, ellipse, point] = report.trackingUids;
    const open = viewer ?? assert.fail('no viewer');
    // OHIF opens an SR at its first measurement: the polygon on slice 3.
    assert.match((await open.expectSrDrawn(source.StudyInstanceUID, seriesNumber, polygon ?? assert.fail())).overlay, /I:3 \(3\/5\)/);
    assert.match((await open.expectSrDrawn(source.StudyInstanceUID, seriesNumber, ellipse ?? assert.fail(), { scrollImages: 1 })).overlay, /I:4 \(4\/5\)/);
    assert.match((await open.expectSrDrawn(source.StudyInstanceUID, seriesNumber, point ?? assert.fail(), { scrollImages: -1 })).overlay, /I:2 \(2\/5\)/);
  });
});
