/**
 * orthanc-ai-bridge central: runs the central server in the foreground, and
 * the admin's calls to it (sites, category requests, training jobs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { startCentral } from '../../central/central-server.js';
import { ADMIN_TOKEN_FILE, REGISTRY_PUB_FILE } from '../../central/central-store.js';
import { centralPaths, type TrainingJobView } from '../core/central-api.js';
import { centralCall, type CentralTarget } from './central-client.js';
import { CliError } from './errors.js';

export const CENTRAL_USAGE = `  orthanc-ai-bridge central --data DIR [--port N] [--host 127.0.0.1] [--trust KEY.pub ...] [--cert F --key F]
  orthanc-ai-bridge central site add --central URL --token-file F --site ID --name NAME [--model ID ...]
  orthanc-ai-bridge central request add --central URL --token-file F --modality CT --body-part HEAD --studies N --reason TEXT
  orthanc-ai-bridge central train --central URL --token-file F --model ID --modality CT --body-part HEAD
                                  --train-site ID [...] --eval-site ID [...] [--wait]
`;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

type Values = Record<string, string | string[] | boolean | undefined>;

const TARGET = { central: { type: 'string' }, 'token-file': { type: 'string' } } as const;

function parse(args: readonly string[], options: NonNullable<Parameters<typeof parseArgs>[0]>['options']): Values {
  try {
    return parseArgs({ args: [...args], options: options ?? {}, allowPositionals: false, strict: true }).values as Values;
  } catch (e) {
    throw new CliError('AIB_CLI_UNKNOWN_OPTION', e instanceof Error ? e.message : String(e));
  }
}

function str(values: Values, name: string, fallback?: string): string {
  const v = values[name];
  if (typeof v === 'string' && v !== '') return v;
  if (fallback !== undefined) return fallback;
  throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `--${name} is required`, { option: `--${name}` });
}

function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : [];
}

function target(values: Values): CentralTarget {
  return { url: str(values, 'central'), tokenFile: str(values, 'token-file') };
}

function readKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new CliError('AIB_CLI_MISSING_FILE', `--trust ${file} cannot be read`, { file });
  }
}

async function serve(args: readonly string[]): Promise<number> {
  const v = parse(args, {
    data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, trust: { type: 'string', multiple: true },
    cert: { type: 'string' }, key: { type: 'string' },
  });
  const port = Number(str(v, 'port', '0'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError('AIB_CLI_BAD_OPTION_VALUE', '--port must be 0..65535', { option: '--port' });
  const cert = v.cert as string | undefined;
  const key = v.key as string | undefined;
  if ((cert === undefined) !== (key === undefined)) throw new CliError('AIB_CLI_BAD_OPTION_VALUE', '--cert and --key go together', { option: cert === undefined ? '--cert' : '--key' });
  const dataDir = str(v, 'data');
  const host = str(v, 'host', '127.0.0.1');
  if (cert === undefined && !LOOPBACK.has(host))
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `plain HTTP is served on loopback only; give --cert and --key to listen on ${host}`, { option: '--host' });
  const central = await startCentral({
    dataDir, port, host, trustedKeys: list(v, 'trust').map(readKey),
    ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
  });
  process.stdout.write(`central server at ${central.url}\nadmin token: ${join(dataDir, ADMIN_TOKEN_FILE)}\nregistry public key: ${join(dataDir, REGISTRY_PUB_FILE)}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await central.close();
  return 0;
}

async function train(args: readonly string[]): Promise<number> {
  const v = parse(args, {
    ...TARGET, model: { type: 'string' }, modality: { type: 'string' }, 'body-part': { type: 'string' },
    'train-site': { type: 'string', multiple: true }, 'eval-site': { type: 'string', multiple: true }, wait: { type: 'boolean' },
  });
  const t = target(v);
  let job = await centralCall(t, 'POST', centralPaths.adminTraining, {
    modelId: str(v, 'model'), category: { modality: str(v, 'modality'), bodyPart: str(v, 'body-part') },
    trainSites: list(v, 'train-site'), evaluationSites: list(v, 'eval-site'),
  }) as TrainingJobView;
  while (v.wait === true && (job.state === 'queued' || job.state === 'running')) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    job = await centralCall(t, 'GET', centralPaths.adminTrainingJob(job.id)) as TrainingJobView;
  }
  process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
  return job.state === 'failed' ? 1 : 0;
}

export async function runCentral(args: readonly string[]): Promise<number> {
  const [first, second, ...rest] = args;
  if (first === 'site' && second === 'add') {
    const v = parse(rest, { ...TARGET, site: { type: 'string' }, name: { type: 'string' }, model: { type: 'string', multiple: true } });
    const models = list(v, 'model');
    const issued = await centralCall(target(v), 'POST', centralPaths.adminSites, { siteId: str(v, 'site'), name: str(v, 'name'), ...(models.length > 0 ? { models } : {}) });
    process.stdout.write(`${JSON.stringify(issued)}\n`);
    return 0;
  }
  if (first === 'request' && second === 'add') {
    const v = parse(rest, { ...TARGET, modality: { type: 'string' }, 'body-part': { type: 'string' }, studies: { type: 'string' }, reason: { type: 'string' } });
    const request = await centralCall(target(v), 'POST', centralPaths.adminRequests, {
      category: { modality: str(v, 'modality'), bodyPart: str(v, 'body-part') }, studiesPerSite: Number(str(v, 'studies')), reason: str(v, 'reason'),
    });
    process.stdout.write(`${JSON.stringify(request)}\n`);
    return 0;
  }
  if (first === 'train') return train(second === undefined ? rest : [second, ...rest]);
  return serve(args);
}
