// Draws known strings into a rendered frame the way scanners burn them in:
// real fonts (Debian's DejaVu and Noto), several sizes, light or dark text
// chosen against the local background at two contrasts, in corners, along
// edges and over the anatomy. Test-only (the canvas is a devDependency).

import { createCanvas, GlobalFonts, ImageData } from '@napi-rs/canvas';

import type { PixelBox, RenderedFrame } from '../../../plugin/deid/burned-in/text-regions';

const FONT_FILES: Readonly<Record<string, string>> = {
  'DejaVu Sans': '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  'DejaVu Sans Mono': '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  'DejaVu Serif': '/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf',
  'Noto Mono': '/usr/share/fonts/truetype/noto/NotoMono-Regular.ttf',
};
export const FONTS = Object.keys(FONT_FILES);

let registered = false;
function registerFonts(): void {
  if (registered) return;
  for (const [family, file] of Object.entries(FONT_FILES)) {
    if (GlobalFonts.registerFromPath(file, family) === null) throw new Error(`cannot register font ${file}`);
  }
  registered = true;
}

export type Anchor = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right' | 'top-center' | 'left-middle' | 'center';

export interface Planting {
  readonly text: string;
  readonly font: string;
  /** Font size in pixels. */
  readonly size: number;
  readonly anchor: Anchor;
  /** 'high': white or black; 'medium', 'low': 110 or 60 grey levels from the local background. */
  readonly contrast: 'high' | 'medium' | 'low';
  /** Lines of text above this one at the same anchor (stacked screen text). */
  readonly line?: number;
}

export interface Planted extends Planting {
  /** Where the string's glyphs landed, in frame pixels. */
  readonly box: PixelBox;
}

function localMean(frame: RenderedFrame, box: PixelBox): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.max(0, Math.floor(box.y)); y < Math.min(frame.height, box.y + box.height); y++) {
    for (let x = Math.max(0, Math.floor(box.x)); x < Math.min(frame.width, box.x + box.width); x++) {
      const o = (y * frame.width + x) * frame.channels;
      sum += frame.data[o] ?? 0;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

function position(anchor: Anchor, w: number, h: number, frame: RenderedFrame, line: number): { x: number; y: number } {
  const m = Math.round(Math.min(frame.width, frame.height) * 0.02);
  const step = h * 1.35;
  const top = m + line * step;
  const bottom = frame.height - m - h - line * step;
  switch (anchor) {
    case 'top-left': return { x: m, y: top };
    case 'top-right': return { x: frame.width - m - w, y: top };
    case 'bottom-left': return { x: m, y: bottom };
    case 'bottom-right': return { x: frame.width - m - w, y: bottom };
    case 'top-center': return { x: (frame.width - w) / 2, y: top };
    case 'left-middle': return { x: m, y: frame.height / 2 + line * step };
    case 'center': return { x: (frame.width - w) / 2, y: frame.height * 0.45 + line * step };
  }
}

/** A copy of `frame` with every planting drawn in, and where each landed. */
export function plantText(frame: RenderedFrame, plantings: readonly Planting[]): { frame: RenderedFrame; planted: Planted[] } {
  registerFonts();
  const { width, height, channels } = frame;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = frame.data[i * channels + (channels === 3 ? c : 0)] ?? 0;
    rgba[i * 4 + 3] = 255;
  }
  ctx.putImageData(new ImageData(rgba, width, height), 0, 0);
  ctx.textBaseline = 'top';
  const planted: Planted[] = [];
  for (const p of plantings) {
    ctx.font = `${String(p.size)}px "${p.font}"`;
    const m = ctx.measureText(p.text);
    const w = Math.ceil(m.width);
    const h = Math.ceil(p.size * 1.2);
    const { x, y } = position(p.anchor, w, h, frame, p.line ?? 0);
    const box = { x: Math.round(x), y: Math.round(y), width: w, height: h };
    const bg = localMean(frame, box);
    const light = bg < 128;
    const step = p.contrast === 'medium' ? 110 : 60;
    const level = p.contrast === 'high' ? (light ? 255 : 0) : Math.round(light ? Math.min(255, bg + step) : Math.max(0, bg - step));
    ctx.fillStyle = `rgb(${String(level)},${String(level)},${String(level)})`;
    ctx.fillText(p.text, box.x, box.y);
    planted.push({ ...p, box });
  }
  const out = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) for (let c = 0; c < channels; c++) data[i * channels + c] = out[i * 4 + c] ?? 0;
  return { frame: { width, height, channels, data }, planted };
}
