// Files that real archives hold and no test author wrote, made here with DCMTK (dcmodify) from
// a small shared MR slice, or byte by byte where DCMTK cannot write them (an unknown transfer
// syntax). Identities are invented. Issue 13.
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { SHARED_DATA } from '../../harness/bridge-orthanc';

const BASE = join(SHARED_DATA, 'pydicom', 'test_files', 'MR_small.dcm');
const ESC = '\x1b';

/** A made file and what identifies its patient, as the test expects it to be keyed. */
export interface RealWorldFile {
  readonly name: string;
  readonly path: string;
  /** Why it must be quarantined (and with which code), when it must; otherwise it must end done. */
  readonly quarantine?: { readonly code: string; readonly why: string };
}

/** Each output gets new Study, Series and SOP Instance UIDs (dcmodify -gst -gse -gin) unless `keep` says otherwise. */
function modify(target: string, edits: readonly string[], fromFiles: Readonly<Record<string, Buffer>> = {}, newUids = true): void {
  copyFileSync(BASE, target);
  const args = ['-nb', '-imt', ...(newUids ? ['-gst', '-gse', '-gin'] : []), ...edits];
  for (const [tag, bytes] of Object.entries(fromFiles)) {
    const valueFile = `${target}.${tag.replace(/[^0-9a-f]/gi, '')}.value`;
    // dcmodify takes even lengths only: pad with a space, as PS3.5 6.2 pads text.
    writeFileSync(valueFile, bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from(' ')]));
    args.push('-if', `${tag}=${valueFile}`);
  }
  execFileSync('dcmodify', [...args, target], { stdio: 'pipe' });
}

/** Bytes of `text` in `encoding`, by glibc's iconv(1). */
export function encode(text: string, encoding: string): Buffer {
  return execFileSync('iconv', ['-f', 'UTF-8', '-t', encoding], { input: text });
}

const patient = (id: string, name: string, birthDate: string, issuer?: string): string[] => [
  '-i', `(0010,0020)=${id}`, '-i', `(0010,0010)=${name}`, '-i', `(0010,0030)=${birthDate}`,
  ...(issuer === undefined ? ['-e', '(0010,0021)'] : ['-i', `(0010,0021)=${issuer}`]),
];

/** An explicit VR little endian Part 10 file whose pixel data is an encapsulated stream in `transferSyntax`. */
function encapsulated(target: string, transferSyntax: string, sopInstanceUid: string): void {
  const element = (group: number, elem: number, vr: string, value: Buffer | string): Buffer => {
    let v = Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1');
    if (v.length % 2 === 1) v = Buffer.concat([v, Buffer.from([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'UC'].includes(vr);
    const head = Buffer.alloc(long ? 12 : 8);
    head.writeUInt16LE(group, 0);
    head.writeUInt16LE(elem, 2);
    head.write(vr, 4, 'latin1');
    if (long) head.writeUInt32LE(v.length, 8);
    else head.writeUInt16LE(v.length, 6);
    return Buffer.concat([head, v]);
  };
  const us = (group: number, elem: number, n: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n);
    return element(group, elem, 'US', b);
  };
  const item = (data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0xfffe, 0);
    head.writeUInt16LE(0xe000, 2);
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, data]);
  };
  const sc = '1.2.840.10008.5.1.4.1.1.7';
  const meta = Buffer.concat([element(2, 1, 'OB', Buffer.from([0, 1])), element(2, 2, 'UI', sc), element(2, 3, 'UI', sopInstanceUid),
    element(2, 0x10, 'UI', transferSyntax), element(2, 0x12, 'UI', '1.2.826.0.1.3680043.10.1234')]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length);
  const pixelHead = Buffer.alloc(12);
  pixelHead.writeUInt16LE(0x7fe0, 0);
  pixelHead.writeUInt16LE(0x0010, 2);
  pixelHead.write('OB', 4, 'latin1');
  pixelHead.writeUInt32LE(0xffffffff, 8);
  // A JPEG XL codestream signature (FF 0A) and filler: the content is never decoded.
  const stream = Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.alloc(62, 7)]);
  const dataset = Buffer.concat([element(8, 5, 'CS', 'ISO_IR 100'), element(8, 0x16, 'UI', sc), element(8, 0x18, 'UI', sopInstanceUid),
    element(8, 0x60, 'CS', 'OT'), element(0x10, 0x10, 'PN', 'Xavier^Xena'), element(0x10, 0x20, 'LO', 'JXL-1'),
    element(0x20, 0x0d, 'UI', `${sopInstanceUid}.1`), element(0x20, 0x0e, 'UI', `${sopInstanceUid}.2`),
    us(0x28, 2, 1), element(0x28, 4, 'CS', 'MONOCHROME2'), us(0x28, 0x10, 8), us(0x28, 0x11, 8), us(0x28, 0x100, 8), us(0x28, 0x101, 8),
    us(0x28, 0x102, 7), us(0x28, 0x103, 0), pixelHead, item(Buffer.alloc(0)), item(stream), Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0])]);
  writeFileSync(target, Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(2, 0, 'UL', groupLength), meta, dataset]));
}

/**
 * The cases: patients with empty and shared IDs and issuers, one person under two spellings,
 * a SOP Instance UID Orthanc indexes although it is not a valid UID, text that is not valid
 * in its declared character set, GBK and ISO 2022 IR 58 (Chinese), and a JPEG XL instance.
 */
export function writeRealWorldFiles(dir: string): RealWorldFile[] {
  const files: RealWorldFile[] = [];
  const add = (name: string, edits: readonly string[], fromFiles?: Readonly<Record<string, Buffer>>, quarantine?: RealWorldFile['quarantine']): void => {
    const path = join(dir, `${name}.dcm`);
    modify(path, edits, fromFiles);
    files.push({ name, path, ...(quarantine ? { quarantine } : {}) });
  };
  add('empty-id-a', patient('', 'Able^Anna', '19600101'));
  add('empty-id-b', patient('', 'Baker^Bert', '19700202'));
  add('shared-id-a', patient('SHARED-1', 'Cole^Cara', '19800303'));
  add('shared-id-b', patient('SHARED-1', 'Dale^Dan', '19810404'));
  add('issuer-a', patient('SAME-9', 'Eve^Ella', '19900505', 'HOSP-A'));
  add('issuer-b', patient('SAME-9', 'Eve^Ella', '19900505', 'HOSP-B'));
  add('same-person-1', patient('P-77', 'Fox^Finn', '19500606'));
  add('same-person-2', patient('P-77', 'FOX^FINN^^^', '19500606'));
  add('bad-sop-uid', [...patient('P-88', 'Gale^Gus', '19400707'), '-m', '(0008,0018)=1.2.3.abc.4']);
  add('undecodable', ['-i', '(0008,0005)=ISO_IR 192', ...patient('P-99', 'Hale^Hugo', '19300808')], {
    // Latin-1 bytes where UTF-8 is declared: a description the research profile would clean, an institution it would dummy.
    '(0008,1030)': Buffer.from('Scan for J\xe9r\xf4me Hale', 'latin1'),
    '(0008,0080)': Buffer.from('H\xf4pital Saint-\xc9loi', 'latin1'),
  });
  add('gbk', ['-i', '(0008,0005)=GBK', '-i', '(0010,0020)=GBK-1', '-i', '(0010,0030)=19610101'], {
    '(0010,0010)': encode('Wang^XiaoDong=王^小东=', 'GBK'),
    '(0008,1030)': encode('胸部 CT', 'GBK'),
  });
  const ir58 = (text: string): Buffer => Buffer.concat([Buffer.from(`${ESC}$)A`, 'latin1'), encode(text, 'EUC-CN')]);
  add('ir58', ['-i', '(0008,0005)=\\ISO 2022 IR 58', '-i', '(0010,0020)=IR58-1', '-i', '(0010,0030)=19620202'], {
    '(0010,0010)': Buffer.concat([Buffer.from('Zhang^San=', 'latin1'), ir58('张'), Buffer.from('^', 'latin1'), ir58('三'), Buffer.from('=', 'latin1')]),
    '(0008,1030)': Buffer.concat([ir58('胸部'), Buffer.from(' CT', 'latin1')]),
  });
  const jxl = join(dir, 'jpeg-xl.dcm');
  encapsulated(jxl, '1.2.840.10008.1.2.4.110', '1.2.826.0.1.3680043.10.1234.13.1');
  files.push({ name: 'jpeg-xl', path: jxl, quarantine: {
    code: 'AIB_DEID_UNKNOWN_TRANSFER_SYNTAX',
    why: 'JPEG XL is newer than DCMTK 3.6.7: no copy can be written in it and Orthanc 1.10\'s own /anonymize refuses it too',
  } });
  return files;
}
