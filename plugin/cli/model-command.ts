/**
 * orthanc-ai-bridge model keygen | sign | publish: an author's key pair, the
 * package signature, and publishing to a central server (admin token).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { centralPaths, type PublishReceipt } from '../core/central-api.js';
import { keygen, keyId, packFolder, signPackage } from '../core/model-package/index.js';
import { centralCall } from './central-client.js';
import { CliError } from './errors.js';

export const MODEL_USAGE = `  orthanc-ai-bridge model keygen --out KEY          writes KEY (0600) and KEY.pub (ed25519)
  orthanc-ai-bridge model sign --key KEY DIR         writes DIR/signature.ed25519
  orthanc-ai-bridge model publish --central URL --token-file F DIR
                                                     exit 1 with the server's reason when refused
`;

function parse(args: readonly string[], options: Record<string, { type: 'string' }>): { values: Record<string, string | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (e) {
    throw new CliError('AIB_CLI_UNKNOWN_OPTION', e instanceof Error ? e.message : String(e));
  }
}

function required(values: Record<string, string | undefined>, name: string): string {
  const v = values[name];
  if (v === undefined || v === '') throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `--${name} is required`, { option: `--${name}` });
  return v;
}

function oneDir(positionals: readonly string[]): string {
  const [dir, ...extra] = positionals;
  if (dir === undefined || extra.length > 0) throw new CliError('AIB_CLI_BAD_OPTION_VALUE', 'give exactly one package folder', { option: 'DIR' });
  return dir;
}

export async function runModel(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'keygen') {
    const out = required(parse(rest, { out: { type: 'string' } }).values, 'out');
    if (existsSync(out) || existsSync(`${out}.pub`)) throw new CliError('AIB_CLI_BAD_OPTION_VALUE', `${out} or ${out}.pub exists; keys are never overwritten`, { option: '--out' });
    const pair = keygen();
    writeFileSync(out, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
    writeFileSync(`${out}.pub`, pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
    process.stdout.write(`wrote ${out} (private, 0600) and ${out}.pub; key id ${keyId(pair.publicKeyPem)}\n`);
    return 0;
  }
  if (sub === 'sign') {
    const { values, positionals } = parse(rest, { key: { type: 'string' } });
    const keyFile = required(values, 'key');
    const dir = oneDir(positionals);
    let pem: string;
    try {
      pem = readFileSync(keyFile, 'utf8');
    } catch {
      throw new CliError('AIB_CLI_MISSING_FILE', `--key ${keyFile} cannot be read`, { file: keyFile });
    }
    signPackage(dir, pem);
    process.stdout.write(`signed ${dir}\n`);
    return 0;
  }
  if (sub === 'publish') {
    const { values, positionals } = parse(rest, { central: { type: 'string' }, 'token-file': { type: 'string' } });
    const target = { url: required(values, 'central'), tokenFile: required(values, 'token-file') };
    const receipt = await centralCall(target, 'POST', centralPaths.adminModels, packFolder(oneDir(positionals))) as PublishReceipt;
    process.stdout.write(`published ${receipt.id} ${receipt.version} (catalogue serial ${String(receipt.serial)})\n`);
    return 0;
  }
  throw new CliError('AIB_CLI_UNKNOWN_COMMAND', `unknown model command "${sub ?? ''}" (expected keygen, sign or publish)`, { command: `model ${sub ?? ''}` });
}
