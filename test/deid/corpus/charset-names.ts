// The charset files of the shared data (pydicom/charset_files) with the names they carry, and
// every byte form a name could survive in: the leak check of issue 13 for ISO 2022 and others.
import { execFileSync } from 'node:child_process';

/**
 * The charset files of the shared data that Orthanc 1.10 stores, with the names they
 * carry (MANIFEST.md): every script, every form (Alphabetic, Ideographic, Phonetic).
 */
export const CHARSET_FILES: readonly { readonly file: string; readonly names: readonly string[] }[] = [
  { file: 'chrArab.dcm', names: ['قباني', 'لنزار'] },
  { file: 'chrFren.dcm', names: ['Buc', 'Jérôme'] },
  { file: 'chrFrenMulti.dcm', names: ['Buc', 'Jérôme'] },
  { file: 'chrGerm.dcm', names: ['Äneas', 'Rüdiger'] },
  { file: 'chrGreek.dcm', names: ['Διονυσιος'] },
  { file: 'chrH31.dcm', names: ['Yamada', 'Tarou', '山田', '太郎', 'やまだ', 'たろう'] },
  { file: 'chrH32.dcm', names: ['ﾔﾏﾀﾞ', 'ﾀﾛｳ', '山田', '太郎', 'やまだ', 'たろう'] },
  { file: 'chrHbrw.dcm', names: ['שרון', 'דבורה'] },
  { file: 'chrI2.dcm', names: ['Hong', 'Gildong', '洪', '吉洞', '홍', '길동'] },
  { file: 'chrJapMulti.dcm', names: ['やまだ', 'たろう'] },
  { file: 'chrJapMultiExplicitIR6.dcm', names: ['やまだ', 'たろう'] },
  { file: 'chrKoreanMulti.dcm', names: ['김희중'] },
  { file: 'chrRuss.dcm', names: ['Люкceмбypг'] },
  { file: 'chrX1.dcm', names: ['Wang', 'XiaoDong', '王', '小東'] },
  { file: 'chrX2.dcm', names: ['Wang', 'XiaoDong', '王', '小东'] },
];

/** Every way a name's bytes could survive: UTF-8, UTF-16, and each legacy encoding that can hold it (7-bit JIS as it sits between escapes). */
export function encodings(name: string): Buffer[] {
  const out: Buffer[] = [Buffer.from(name, 'utf8'), Buffer.from(name, 'utf16le')];
  for (const charset of ['ISO-8859-1', 'ISO-8859-5', 'ISO-8859-6', 'ISO-8859-7', 'ISO-8859-8', 'EUC-JP', 'SHIFT_JIS', 'EUC-KR', 'GB18030', 'BIG5']) {
    let bytes: Buffer;
    try {
      bytes = execFileSync('iconv', ['-f', 'UTF-8', '-t', charset], { input: name, stdio: ['pipe', 'pipe', 'ignore'] });
    } catch {
      continue;  // not representable in this charset
    }
    out.push(bytes);
    if (charset === 'EUC-JP' || charset === 'EUC-KR') out.push(Buffer.from(Array.from(bytes, (b) => b & 0x7f)));
  }
  return out.filter((b) => b.length >= 2);
}

