import { type AstNode, childrenOf, kindOf, nameOf } from './clang-ast';
import type { DocComment } from './code-model';
import { GenSdkError } from './gen-sdk-error';

export const EMPTY_DOC: DocComment = { brief: '', details: [], params: [], returns: '', notes: [], deprecated: '' };

function clean(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Text of a ParagraphComment; `<tt>x</tt>` becomes `` `x` ``. */
function paragraphText(p: AstNode, where: string): string {
  let text = '';
  for (const c of childrenOf(p)) {
    const kind = kindOf(c);
    if (kind === 'TextComment') {
      text += typeof c.text === 'string' ? c.text : '';
    } else if ((kind === 'HTMLStartTagComment' || kind === 'HTMLEndTagComment') && nameOf(c) === 'tt') {
      text += '`';
    } else {
      throw new GenSdkError(`${where}: unknown comment node ${kind} ${nameOf(c)} inside a paragraph`);
    }
  }
  return clean(text);
}

/** Concatenated paragraphs under a block or param command. */
function blockText(b: AstNode, where: string): string {
  return clean(
    childrenOf(b)
      .map((p) => {
        if (kindOf(p) !== 'ParagraphComment') throw new GenSdkError(`${where}: unexpected ${kindOf(p)} in a block command`);
        return paragraphText(p, where);
      })
      .join(' '),
  );
}

/**
 * Reads the FullComment clang attached to a declaration (via
 * -fparse-all-comments). Any comment construct not listed here stops the
 * generator, so a new Doxygen command in a future header is noticed.
 */
export function readDocComment(decl: AstNode, where: string): DocComment | undefined {
  const full = childrenOf(decl).find((c) => kindOf(c) === 'FullComment');
  if (full === undefined) return undefined;
  let brief = '';
  const details: string[] = [];
  const params: { name: string; text: string }[] = [];
  let returns = '';
  const notes: string[] = [];
  let deprecated = '';
  for (const c of childrenOf(full)) {
    const kind = kindOf(c);
    if (kind === 'ParagraphComment') {
      const t = paragraphText(c, where);
      if (t !== '') details.push(t);
    } else if (kind === 'BlockCommandComment') {
      const name = nameOf(c);
      const t = blockText(c, where);
      if (name === 'brief') brief = t;
      else if (name === 'return' || name === 'result') returns = t;
      else if (name === 'note' || name === 'warning' || name === 'remark') notes.push(`${name === 'warning' ? 'Warning' : 'Note'}: ${t}`);
      else if (name === 'deprecated') deprecated = t === '' ? 'deprecated' : t;
      else if (name === 'see') continue; // cross-references to other C functions; meaningless in the bindings
      else throw new GenSdkError(`${where}: unknown Doxygen command @${name}`);
    } else if (kind === 'ParamCommandComment') {
      const name = typeof c.param === 'string' ? c.param : '';
      if (name === '') throw new GenSdkError(`${where}: @param without a name`);
      params.push({ name, text: blockText(c, where) });
    } else if (kind === 'VerbatimLineComment') {
      continue; // @ingroup: Doxygen grouping only
    } else {
      throw new GenSdkError(`${where}: unknown comment node ${kind}`);
    }
  }
  if (brief === '') brief = details.shift() ?? '';
  return { brief, details, params, returns, notes, deprecated };
}

/** Plain text of a member's comment (`/*!< ... *\/`). */
export function readMemberDoc(decl: AstNode, where: string): string | undefined {
  const doc = readDocComment(decl, where);
  if (doc === undefined) return undefined;
  return clean([doc.brief, ...doc.details].join(' '));
}

/** A trailing `/*!< ... *\/` comment in raw header text, for members clang did not attach one to. */
export function trailingDocIn(text: string): string {
  const m = /\/\*!<([\s\S]*?)\*\//.exec(text);
  if (m === null) return '';
  return clean((m[1] ?? '').replace(/^\s*\*/gm, ' '));
}
