/**
 * What a site will measure and check, run on the central server before a
 * trained version is published. It uses the sites' own inference and
 * commissioning code (plugin/inference, pure functions over a decoded image
 * that the annotator imports too; .dependency-cruiser.cjs keeps it free of any
 * zone), so the expected range in the manifest is the sites' number and a
 * package that sites would refuse is never published.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { PackageArchive } from '../../plugin/core/central-api';
import { MeasurementConcept } from '../../plugin/inference/measurement-codes';
import { analyseImages, findingsOf } from '../../plugin/inference/run-inference';
import { commissioningFailures, runCommissioning } from '../../plugin/inference/commissioning';
import { parseManifest, unpackArchive, writePackageFiles } from '../../plugin/core/model-package';
import { decodeImage } from '../../plugin/pixels';
import { classifierManifest, type TrainedClassifier } from './classifier-package';

/** The area a site measures for the commissioning input's region (mm²). */
export async function siteMeasuredArea(trained: TrainedClassifier): Promise<number> {
  const manifest = classifierManifest(trained);
  const expected = manifest.commissioning.cases[0]?.expected[0];
  const { findings } = findingsOf(manifest, await analyseImages({ manifest, model: trained.onnx }, [decodeImage(trained.commissioning.bytes)]));
  const area = findings.find((f) => f.trackingIdentifier === expected?.trackingIdentifier)
    ?.measurements.find((m) => m.concept.value === MeasurementConcept.Area.value)?.value;
  if (area === undefined || !(area > 0))
    throw new Error(`the site-side inference finds no ${expected?.trackingIdentifier ?? 'region'} area on the commissioning input: nothing to commission with, not published`);
  return area;
}

/** Unpacks the signed archive and runs the sites' commissioning on it; throws with the failed checks. */
export async function requireCommissioningPasses(archive: PackageArchive, label: string): Promise<void> {
  const files = unpackArchive(archive, label);
  const dir = mkdtempSync(join(tmpdir(), 'aib-commission-'));
  try {
    writePackageFiles(dir, files);
    const manifestBytes = files.get('manifest.json');
    const model = files.get('model.onnx');
    if (manifestBytes === undefined || model === undefined) throw new Error(`${label}: the package lacks manifest.json or model.onnx`);
    const manifest = parseManifest(manifestBytes.toString('utf8'), `${label} manifest.json`);
    const report = await runCommissioning(dir, { manifest, model });
    if (!report.passed) throw new Error(`${label}: the package fails the sites' commissioning (${commissioningFailures(report)}); not published`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
