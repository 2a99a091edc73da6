/**
 * tools/gen-sdk: OrthancCPlugin.h → code model → typed SDK on both ends of the socket.
 *
 *   node dist/tools/gen-sdk/main.js                  render from the committed model
 *                                                    (derives it first if it is missing)
 *   node dist/tools/gen-sdk/main.js --from-header    re-derive the model with clang, then render
 *   node dist/tools/gen-sdk/main.js --model-out F    derive the model into F only (no render);
 *                                                    scripts/generate-check.sh compares F to the committed one
 *
 * Options: --clang PATH (default: clang), --header PATH (default: /usr/include/orthanc/OrthancCPlugin.h).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { buildModel } from './build-model';
import { clangAvailable } from './clang-ast';
import { classifyAll } from './classify';
import { parseModel, serializeModel } from './code-model';
import { loadCustomList } from './custom-list';
import { GenSdkError } from './gen-sdk-error';
import { countCoverage, renderCoverageJson, renderCoverageMarkdown } from './render-coverage';
import { renderDispatch } from './render-dispatch';
import { renderEnums } from './render-enums';
import { renderFunctions } from './render-functions';
import { MODEL_PATH } from './render-text';

const DEFAULT_HEADER = '/usr/include/orthanc/OrthancCPlugin.h';

interface Options {
  readonly fromHeader: boolean;
  readonly modelOut: string | undefined;
  readonly clang: string;
  readonly header: string;
}

function parseArgs(argv: readonly string[]): Options {
  let fromHeader = false;
  let modelOut: string | undefined;
  let clang = 'clang';
  let header = DEFAULT_HEADER;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[i + 1];
      if (v === undefined) throw new GenSdkError(`${a ?? ''} needs a value`);
      i++;
      return v;
    };
    if (a === '--from-header') fromHeader = true;
    else if (a === '--model-out') modelOut = value();
    else if (a === '--clang') clang = value();
    else if (a === '--header') header = value();
    else throw new GenSdkError(`unknown option ${a ?? ''}`);
  }
  return { fromHeader, modelOut, clang, header };
}

/** Writes only when the content differs, so an unchanged tree keeps its timestamps. */
function writeIfChanged(file: string, content: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return true;
}

function deriveModel(opts: Options): string {
  if (!clangAvailable(opts.clang)) throw new GenSdkError(`${opts.clang} is not available: cannot derive the model from ${opts.header}`);
  return serializeModel(buildModel(opts.clang, opts.header));
}

function main(argv: readonly string[]): void {
  const opts = parseArgs(argv);
  // dist/tools/gen-sdk/main.js → repository root.
  const root = resolve(__dirname, '..', '..', '..');
  const modelFile = join(root, MODEL_PATH);

  if (opts.modelOut !== undefined) {
    writeIfChanged(resolve(opts.modelOut), deriveModel(opts));
    console.log(`gen-sdk: model derived from ${opts.header} into ${opts.modelOut}`);
    return;
  }
  if (opts.fromHeader || !existsSync(modelFile)) {
    if (writeIfChanged(modelFile, deriveModel(opts))) console.log(`gen-sdk: wrote ${MODEL_PATH}`);
  }

  const modelText = readFileSync(modelFile, 'utf8');
  const model = parseModel(modelText, MODEL_PATH);
  const modelSha = createHash('sha256').update(modelText).digest('hex');
  const classified = classifyAll(model, loadCustomList(join(root, 'plugin/sdk/model/custom.json')));

  const outputs: readonly (readonly [string, string])[] = [
    ['plugin/sdk/generated/enums.ts', renderEnums(model, modelSha)],
    ['plugin/sdk/generated/functions.ts', renderFunctions(model, classified, modelSha)],
    ['plugin/sdk/generated/coverage.json', renderCoverageJson(model, classified, modelSha)],
    ['plugin/sdk/generated/coverage.md', renderCoverageMarkdown(model, classified, modelSha)],
    ['native/orthanc/generated/dispatch.cpp', renderDispatch(model, classified, modelSha)],
  ];
  for (const [rel, content] of outputs) {
    if (writeIfChanged(join(root, rel), content)) console.log(`gen-sdk: wrote ${rel}`);
  }
  const c = countCoverage(classified);
  console.log(
    `gen-sdk: OrthancCPlugin.h ${model.header.sdkVersion}: ${model.enums.length} enums, ${classified.length} functions ` +
      `(${c.generated} generated, ${c.custom} custom, ${c.unsupported} unsupported)`,
  );
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
}
