import { execFileSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

import { sharedFile } from './bridge-orthanc';

/**
 * Writes an instance Orthanc stores but the bridge must quarantine: an
 * ultrasound (Clean Pixel Data applies by default) whose header promises 11
 * frames where the pixel data holds one. The worker cannot clean what it
 * cannot decode, so it refuses it (AIB_PIXELS_CORRUPT) rather than pass the
 * pixels on. Since issue 13 a missing Modality or a truncated file Orthanc
 * accepts flows, so they no longer serve as quarantine examples.
 * `sopInstanceUid` must differ per file so Orthanc stores a new instance.
 */
export function writeUncleanableInstance(folder: string, name: string, sopInstanceUid: string): string {
  const file = join(folder, name);
  copyFileSync(sharedFile('pydicom/test_files/MR_small.dcm'), file);
  execFileSync('dcmodify', ['-nb', '-m', '(0008,0060)=US', '-i', '(0028,0008)=11', '-m', `(0008,0018)=${sopInstanceUid}`, file]);
  return file;
}
