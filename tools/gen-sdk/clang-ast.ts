import { spawnSync } from 'node:child_process';

import { GenSdkError } from './gen-sdk-error';

/** One node of clang's `-ast-dump=json` output, kept as untyped JSON and read through the helpers below. */
export type AstNode = Readonly<Record<string, unknown>>;

export function isNode(v: unknown): v is AstNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function kindOf(n: AstNode): string {
  return typeof n.kind === 'string' ? n.kind : '';
}

export function nameOf(n: AstNode): string {
  return typeof n.name === 'string' ? n.name : '';
}

export function childrenOf(n: AstNode): AstNode[] {
  return Array.isArray(n.inner) ? (n.inner as unknown[]).filter(isNode) : [];
}

/** `type.qualType` of a node, e.g. `const char *`. */
export function qualTypeOf(n: AstNode): string {
  const t = n.type;
  return isNode(t) && typeof t.qualType === 'string' ? t.qualType : '';
}

/** Byte offset of a bare source location object (`loc`, `range.begin`, ...), or -1. */
export function offsetOf(loc: unknown): number {
  return isNode(loc) && typeof loc.offset === 'number' ? loc.offset : -1;
}

export function clangAvailable(clang: string): boolean {
  const r = spawnSync(clang, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

// The full dump of OrthancCPlugin.h with its libc includes is about 20 MB.
const MAX_DUMP_BYTES = 512 * 1024 * 1024;

/**
 * Runs clang over the header and returns the top-level declarations that
 * clang located in that header itself (libc declarations pulled in by its
 * includes are dropped).
 */
export function dumpHeaderDeclarations(clang: string, header: string): AstNode[] {
  const r = spawnSync(
    clang,
    ['-x', 'c', '-fsyntax-only', '-fparse-all-comments', '-Wno-pragma-once-outside-header', '-Xclang', '-ast-dump=json', header],
    { encoding: 'utf8', maxBuffer: MAX_DUMP_BYTES },
  );
  if (r.error !== undefined) throw new GenSdkError(`cannot run ${clang}: ${r.error.message}`);
  if (r.status !== 0) throw new GenSdkError(`${clang} failed on ${header} (status ${String(r.status)}): ${r.stderr}`);
  const root = JSON.parse(r.stdout) as unknown;
  if (!isNode(root) || kindOf(root) !== 'TranslationUnitDecl') throw new GenSdkError('clang output is not a TranslationUnitDecl');

  // clang writes a location's "file" only when it differs from the previous
  // location it printed, in document order, nested nodes included. Replay that
  // order to know which file each top-level declaration comes from.
  let currentFile = '';
  const track = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v as unknown[]) track(x);
      return;
    }
    if (!isNode(v)) return;
    if (typeof v.offset === 'number' && typeof v.file === 'string') currentFile = v.file;
    for (const key of Object.keys(v)) track(v[key]);
  };

  const out: AstNode[] = [];
  for (const decl of childrenOf(root)) {
    track(decl.loc);
    const file = currentFile;
    track(decl.range);
    track(decl.inner);
    if (file === header && decl.isImplicit !== true) out.push(decl);
  }
  if (out.length === 0) throw new GenSdkError(`clang reported no declaration located in ${header}`);
  return out;
}
