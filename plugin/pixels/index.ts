export { decodeImage } from './decode-image';
export type { DecodedImage, DecodedPixels, FrameGeometry, ImageHeader } from './decoded-image';
export { PixelError, PIXEL_ERROR_CODES, type PixelErrorCode } from './pixel-error';
