// Draws the app icon (the same mark as public/favicon.svg) as a PNG of any size, with no image
// library: the shapes are simple enough to rasterise with 4x4 supersampling, and PNG is a zlib
// stream with a few chunks around it. The build writes the sizes the PWA manifest names.
import { deflateSync } from 'node:zlib';

const FROM = [0x5b, 0x5b, 0xd6] as const;
const TO = [0x8e, 0x4e, 0xc6] as const;
/** The mark on the favicon's 64-unit grid: strokes 6 units wide with round ends. */
const STROKES: ReadonlyArray<readonly [number, number, number, number]> = [
  [20, 46, 32, 17],
  [32, 17, 44, 46],
  [24.5, 36, 39.5, 36],
];
const STROKE_WIDTH = 6;
const SAMPLES = 4;

export interface IconOptions {
  readonly size: number;
  /** Maskable icons fill the square (the launcher crops it) and keep the mark in the safe zone. */
  readonly maskable?: boolean;
}

export function drawIconPng({ size, maskable = false }: IconOptions): Buffer {
  const pixels = Buffer.alloc(size * size * 4);
  const radius = maskable ? 0 : size * (14 / 64);
  // Maskable: the mark shrinks to 70% so it stays inside the 80% safe circle.
  const markScale = maskable ? 0.7 : 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let background = 0;
      let mark = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const px = x + (sx + 0.5) / SAMPLES;
          const py = y + (sy + 0.5) / SAMPLES;
          if (insideRoundedSquare(px, py, size, radius)) {
            background++;
            const gx = ((px / size - 0.5) / markScale + 0.5) * 64;
            const gy = ((py / size - 0.5) / markScale + 0.5) * 64;
            if (onMark(gx, gy)) mark++;
          }
        }
      }
      const total = SAMPLES * SAMPLES;
      const t = (x + y) / (2 * size);
      const offset = (y * size + x) * 4;
      for (let channel = 0; channel < 3; channel++) {
        const gradient = FROM[channel]! + (TO[channel]! - FROM[channel]!) * t;
        // White mark over the gradient, weighted by how much of the pixel each covers.
        const color = background === 0 ? 0 : (gradient * (background - mark) + 255 * mark) / background;
        pixels[offset + channel] = Math.round(color);
      }
      pixels[offset + 3] = Math.round((255 * background) / total);
    }
  }
  return encodePng(size, size, pixels);
}

function insideRoundedSquare(x: number, y: number, size: number, radius: number): boolean {
  if (radius === 0) return true;
  const cx = Math.min(Math.max(x, radius), size - radius);
  const cy = Math.min(Math.max(y, radius), size - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

function onMark(x: number, y: number): boolean {
  return STROKES.some(([x1, y1, x2, y2]) => distanceToSegment(x, y, x1, y1, x2, y2) <= STROKE_WIDTH / 2);
}

function distanceToSegment(px: number, py: number, x1: number, y1: number, x2: number, y2: number): number {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

/** An 8-bit RGBA PNG: signature, IHDR, one IDAT, IEND. */
export function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  // compression, filter and interlace methods stay 0
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    // Each row starts with its filter type; 0 (none) is enough for flat icons.
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length, 0);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed), 0);
  return Buffer.concat([length, typed, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, index) => {
  let c = index;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
