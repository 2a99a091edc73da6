/**
 * orthanc-ai-bridge central: runs the central server in the foreground, and
 * the admin's calls to it (sites, category requests, training jobs).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { DEFAULT_RATE_LIMITS } from '../../central/central-app.js';
import { startCentral } from '../../central/central-server.js';
import type { RateLimit } from '../../central/rate-limiter.js';
import type { TrustedAuthorKey } from '../../central/model-registry.js';
import { ADMIN_TOKEN_FILE, REGISTRY_PUB_FILE } from '../../central/central-store.js';
import { centralPaths, type TrainingJobView } from '../core/central-api.js';
import { centralCall, type CentralTarget } from './central-client.js';
import { CliError } from './errors.js';

export const CENTRAL_USAGE = `  orthanc-ai-bridge central --data DIR [--port N] [--host 127.0.0.1] [--trust KEY.pub=MODEL[,MODEL...] ...] [--cert F --key F]
                           [--rate-address PER_SECOND[/BURST]] [--rate-token PER_SECOND[/BURST]] [--catalogue-validity SECONDS]
  orthanc-ai-bridge central site add --central URL --token-file F --site ID --name NAME [--model ID ...]
  orthanc-ai-bridge central site revoke|rotate --central URL --token-file F --site ID
  orthanc-ai-bridge central site grant --central URL --token-file F --site ID [--model ID ...]
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

const MODEL_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** --trust KEY.pub=id[,id...]: an author key is trusted only for the model ids it names. */
function trustedKey(option: string): TrustedAuthorKey {
  const at = option.lastIndexOf('=');
  const file = at < 0 ? option : option.slice(0, at);
  const modelIds = at < 0 ? [] : option.slice(at + 1).split(',').filter((id) => id !== '');
  if (modelIds.length === 0 || !modelIds.every((id) => MODEL_ID.test(id)))
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `--trust ${option}: name the model ids the key may sign, e.g. --trust ${file}=ct-head-brain,ct-chest-lung-fields`, { option: '--trust' });
  try {
    return { publicKeyPem: readFileSync(file, 'utf8'), modelIds };
  } catch {
    throw new CliError('AIB_CLI_MISSING_FILE', `--trust ${file} cannot be read`, { file });
  }
}

/** PER_SECOND[/BURST]; the burst defaults to ten seconds' worth. */
function rateLimit(values: Values, name: string, fallback: RateLimit): RateLimit {
  const v = values[name];
  if (typeof v !== 'string') return fallback;
  const match = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(v);
  const ratePerSecond = Number(match?.[1]);
  const burst = match?.[2] === undefined ? Math.max(1, Math.ceil(ratePerSecond * 10)) : Number(match[2]);
  if (match === null || !(ratePerSecond > 0) || !(burst >= 1))
    throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `--${name} is PER_SECOND[/BURST], e.g. 20/200`, { option: `--${name}` });
  return { ratePerSecond, burst };
}

async function serve(args: readonly string[]): Promise<number> {
  const v = parse(args, {
    data: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, trust: { type: 'string', multiple: true },
    cert: { type: 'string' }, key: { type: 'string' }, 'rate-address': { type: 'string' }, 'rate-token': { type: 'string' },
    'catalogue-validity': { type: 'string' },
  });
  const validity = Number(str(v, 'catalogue-validity', '86400'));
  if (!Number.isInteger(validity) || validity < 60) throw new CliError('AIB_CLI_BAD_OPTION_VALUE', '--catalogue-validity is whole seconds, at least 60', { option: '--catalogue-validity' });
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
    dataDir, port, host, trustedKeys: list(v, 'trust').map(trustedKey),
    policy: {
      rateLimits: { perAddress: rateLimit(v, 'rate-address', DEFAULT_RATE_LIMITS.perAddress), perToken: rateLimit(v, 'rate-token', DEFAULT_RATE_LIMITS.perToken) },
      catalogueValiditySeconds: validity,
    },
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
  if (first === 'site' && (second === 'revoke' || second === 'rotate')) {
    const v = parse(rest, { ...TARGET, site: { type: 'string' } });
    const site = str(v, 'site');
    const answer = await centralCall(target(v), 'POST', second === 'revoke' ? centralPaths.adminSiteRevoke(site) : centralPaths.adminSiteRotate(site));
    process.stdout.write(`${JSON.stringify(answer)}\n`);
    return 0;
  }
  if (first === 'site' && second === 'grant') {
    const v = parse(rest, { ...TARGET, site: { type: 'string' }, model: { type: 'string', multiple: true } });
    const answer = await centralCall(target(v), 'PUT', centralPaths.adminSiteModels(str(v, 'site')), { models: list(v, 'model') });
    process.stdout.write(`${JSON.stringify(answer)}\n`);
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
