/**
 * Finds the series of one scan category (modality + Body Part Examined) in
 * the site's PACS (PHI zone). Two ways, because a PACS may speak only one:
 *  - QIDO-RS (PS3.18 10.6) on a DICOMweb base, series level;
 *  - C-FIND (study root, series level) with DCMTK findscu against a DIMSE
 *    peer, then C-MOVE (movescu) of each matching series into this Orthanc.
 * What is found is original UIDs: they stay in the gateway.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import dcmjs from 'dcmjs';

import type { DimsePeerConfig } from '../config-loader';
import { DicomwebService } from '../dicomweb/dicomweb-service';
import { GatewayError } from '../gateway-errors';
import { EXACT_CS_VALUE } from './category-request-policy';

export interface SeriesMatch {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

export interface CategoryQuery {
  readonly modality: string;
  readonly bodyPart: string;
}

function searchFailed(message: string): GatewayError {
  return new GatewayError('AIB_CATEGORY_SEARCH_FAILED', message, {}, true);
}

/** DICOM JSON (PS3.18 F.2) string value of one tag. */
function jsonString(item: Record<string, unknown>, tag: string): string | undefined {
  const element = item[tag] as { Value?: unknown[] } | undefined;
  const value = element?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The last line of defence against a query that would match more than one
 * category: whatever let it through, no wildcard, list, range or empty value
 * reaches a PACS.
 */
function requireExactQuery(query: CategoryQuery): void {
  if (!EXACT_CS_VALUE.test(query.modality) || !EXACT_CS_VALUE.test(query.bodyPart))
    throw new GatewayError('AIB_CATEGORY_REQUEST_REFUSED', `not searched: ${JSON.stringify(query.modality)} / ${JSON.stringify(query.bodyPart)} is not an exact Modality and Body Part Examined`);
}

/** DICOM CS values carry trailing space padding (PS3.5 6.2); anything else must be equal, case included. */
function csValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value.replace(/ +$/, '') : undefined;
}

/** A match is used only when it states both attributes and both are exactly the category's: a PACS may match loosely. */
export function isExactMatch(modality: unknown, bodyPart: unknown, query: CategoryQuery): boolean {
  return csValue(modality) === query.modality && csValue(bodyPart) === query.bodyPart;
}

/** QIDO-RS series search; every answer is filtered again (a server may ignore a key, or match case-insensitively or by wildcard). */
export async function qidoSeries(base: string, authorization: string | undefined, query: CategoryQuery): Promise<SeriesMatch[]> {
  requireExactQuery(query);
  const answer = await new DicomwebService(base, authorization)
    .searchForSeries({ Modality: query.modality, BodyPartExamined: query.bodyPart, includefield: '00080060,00180015' });
  if (answer.status === 0) throw searchFailed(`QIDO-RS ${base}: no answer (connection refused, reset or unreachable)`);
  if (answer.status === 204) return [];
  if (answer.status !== 200) throw searchFailed(`QIDO-RS ${base} answered ${answer.status}`);
  const items = answer.body;
  if (!Array.isArray(items)) throw searchFailed(`QIDO-RS ${base} did not answer a list`);
  return (items as Record<string, unknown>[]).flatMap((item) => {
    const study = jsonString(item, '0020000D');
    const series = jsonString(item, '0020000E');
    if (study === undefined || series === undefined) return [];
    if (!isExactMatch(jsonString(item, '00080060'), jsonString(item, '00180015'), query)) return [];
    return [{ studyInstanceUid: study, seriesInstanceUid: series }];
  });
}

function run(command: string, args: readonly string[], cwd: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
    child.on('error', (error) => { resolve({ status: null, output: error.message }); });
    child.on('close', (status) => { resolve({ status, output }); });
  });
}

/** The last lines of a DCMTK tool's output, without the values it echoed (they may carry identifiers). */
function toolError(tool: string, status: number | null, output: string): GatewayError {
  const errors = output.split('\n').filter((l) => /^[EF]: /.test(l) && !l.includes('(')).slice(-3).join(' | ');
  return searchFailed(`${tool} exited with ${status === null ? 'an error starting it' : `status ${String(status)}`}${errors === '' ? '' : `: ${errors}`}`);
}

function peerArgs(peer: DimsePeerConfig): string[] {
  return ['-S', '-aet', peer.CallingAet, '-aec', peer.Aet, peer.Host, String(peer.Port)];
}

/** C-FIND at series level; each response is written by findscu (-X), read back with dcmjs and filtered again before any C-MOVE. */
export async function cfindSeries(peer: DimsePeerConfig, query: CategoryQuery): Promise<SeriesMatch[]> {
  requireExactQuery(query);
  const dir = mkdtempSync(join(tmpdir(), 'aib-cfind-'));
  try {
    const result = await run('findscu', [...peerArgs(peer), '-X', '-od', dir,
      '-k', 'QueryRetrieveLevel=SERIES', '-k', `Modality=${query.modality}`, '-k', `BodyPartExamined=${query.bodyPart}`,
      '-k', 'StudyInstanceUID', '-k', 'SeriesInstanceUID'], dir);
    if (result.status !== 0) throw toolError('findscu', result.status, result.output);
    return readdirSync(dir).filter((n) => n.endsWith('.dcm')).sort().flatMap((name) => {
      const bytes = readFileSync(join(dir, name));
      const parsed = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const data = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
      const study = data['StudyInstanceUID'];
      const series = data['SeriesInstanceUID'];
      if (typeof study !== 'string' || typeof series !== 'string') return [];
      if (!isExactMatch(data['Modality'], data['BodyPartExamined'], query)) return [];
      return [{ studyInstanceUid: study, seriesInstanceUid: series }];
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** C-MOVE of one series to `destination` (this Orthanc's AET): the instances arrive through Orthanc's own DICOM server. */
export async function cmoveSeries(peer: DimsePeerConfig, destination: string, match: SeriesMatch): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'aib-cmove-'));
  try {
    const result = await run('movescu', [...peerArgs(peer), '-aem', destination,
      '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${match.studyInstanceUid}`, '-k', `SeriesInstanceUID=${match.seriesInstanceUid}`], dir);
    if (result.status !== 0) throw toolError('movescu', result.status, result.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
