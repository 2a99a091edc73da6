import { AiBridgeError } from '../core/ai-bridge-error';

export type PixelErrorCode =
  | 'AIB_PIXELS_CORRUPT'
  | 'AIB_PIXELS_UNSUPPORTED_SYNTAX'
  | 'AIB_PIXELS_UNSUPPORTED_LAYOUT'
  | 'AIB_PIXELS_NO_PIXEL_DATA'
  | 'AIB_PIXELS_ADDON';

export const PIXEL_ERROR_CODES: readonly PixelErrorCode[] = [
  'AIB_PIXELS_CORRUPT',
  'AIB_PIXELS_UNSUPPORTED_SYNTAX',
  'AIB_PIXELS_UNSUPPORTED_LAYOUT',
  'AIB_PIXELS_NO_PIXEL_DATA',
  'AIB_PIXELS_ADDON',
];

/**
 * The pixel data of an instance cannot be decoded. The message names the
 * transfer syntax and the attribute at fault, never a value. Never transient:
 * the same bytes fail the same way.
 */
export class PixelError extends AiBridgeError {
  declare readonly code: PixelErrorCode;

  constructor(code: PixelErrorCode, message: string, details: Readonly<Record<string, string | number>> = {}) {
    super(code, message, details, false);
  }
}

export function isPixelErrorCode(value: unknown): value is PixelErrorCode {
  return typeof value === 'string' && (PIXEL_ERROR_CODES as readonly string[]).includes(value);
}
