// Small helpers of every step: the scene plates (sharp and blurred) and where to sample them, the
// clipped distance of a frame to a plate, and robust statistics.
import { background } from '../render';
import type { Video } from '../spec';
import type { Scene } from '../vocabulary';

const lum = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
export const CLIP = 0.3;
/** Blur levels tried for the whole clip (sigma in pixels of a 32 px frame). */
export const BLURS = [0, 0.6, 0.9, 1.2, 1.6, 2.2];

export function sanitize(video: Video): Float32Array {
  const src = video.data;
  let clean = true;
  for (let i = 0; i < src.length && clean; i++) {
    const v = src[i]!;
    if (!(v >= 0 && v <= 1)) clean = false; // NaN fails both comparisons
  }
  if (clean) return src;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    out[i] = v > 0 ? (v < 1 ? v : 1) : 0; // NaN lands on 0
  }
  return out;
}

export function gaussianBlur(image: Float32Array, size: number, sigma: number): Float32Array {
  if (sigma <= 0) return image;
  const radius = Math.ceil(3 * sigma);
  const kernel: number[] = [];
  let total = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel.push(w);
    total += w;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] = kernel[i]! / total;
  const tmp = new Float32Array(image.length);
  const out = new Float32Array(image.length);
  const clamp = (v: number) => (v < 0 ? 0 : v >= size ? size - 1 : v);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) s += kernel[k + radius]! * image[(y * size + clamp(x + k)) * 3 + c]!;
        tmp[(y * size + x) * 3 + c] = s;
      }
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) s += kernel[k + radius]! * tmp[(clamp(y + k) * size + x) * 3 + c]!;
        out[(y * size + x) * 3 + c] = s;
      }
    }
  }
  return out;
}

const plateCache = new Map<string, Float32Array>();
export function plate(scene: Scene, size: number, blur: number): Float32Array {
  const key = `${scene}@${size}@${blur}`;
  let p = plateCache.get(key);
  if (!p) {
    p = gaussianBlur(background(scene, size), size, (blur * size) / 32);
    plateCache.set(key, p);
  }
  return p;
}

export const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Sample points of a plate: a regular grid (for the scene) and its edge pixels (for shift and blur). */
export interface Samples {
  grid: Int32Array;
  edges: Int32Array;
}

const sampleCache = new Map<string, Samples>();
export function samples(scene: Scene, size: number): Samples {
  const key = `${scene}@${size}`;
  let s = sampleCache.get(key);
  if (!s) {
    const p = background(scene, size);
    const step = size >= 32 ? 4 : 2;
    const grid: number[] = [];
    for (let y = step >> 1; y < size; y += step) for (let x = step >> 1; x < size; x += step) grid.push(y * size + x);
    // Shifts and blur only show where the plate changes: sample the pixels next to an edge.
    const edges: number[] = [];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const o = (y * size + x) * 3;
        let edge = false;
        for (const [dx, dy] of [[1, 0], [0, 1], [-1, 0], [0, -1]]) {
          const nx = x + dx!;
          const ny = y + dy!;
          if (nx < 0 || ny < 0 || nx >= size || ny >= size) continue;
          const q = (ny * size + nx) * 3;
          if (Math.abs(p[o]! - p[q]!) + Math.abs(p[o + 1]! - p[q + 1]!) + Math.abs(p[o + 2]! - p[q + 2]!) > 0.06) edge = true;
        }
        if (edge) edges.push(y * size + x);
      }
    }
    const keep = Math.ceil(edges.length / 128);
    s = { grid: Int32Array.from(grid), edges: Int32Array.from(edges.filter((_, i) => i % keep === 0)) };
    sampleCache.set(key, s);
  }
  return s;
}

const brightCache = new Map<string, Int32Array>();
/**
 * Up to 256 plate pixels to read a brightness gain from: bright enough, and inside a flat patch, so
 * that neither a small shift nor blur changes them.
 */
export function brightPixels(scene: Scene, size: number): Int32Array {
  const key = `${scene}@${size}`;
  let out = brightCache.get(key);
  if (!out) {
    const p = background(scene, size);
    const all: number[] = [];
    const flat = (x: number, y: number) => {
      const o = (y * size + x) * 3;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = Math.min(size - 1, Math.max(0, x + dx));
          const ny = Math.min(size - 1, Math.max(0, y + dy));
          const q = (ny * size + nx) * 3;
          if (Math.abs(p[o]! - p[q]!) + Math.abs(p[o + 1]! - p[q + 1]!) + Math.abs(p[o + 2]! - p[q + 2]!) > 0.06) return false;
        }
      }
      return true;
    };
    for (let i = 0; i < size * size; i++) if (lum(p[i * 3]!, p[i * 3 + 1]!, p[i * 3 + 2]!) > 0.15 && flat(i % size, (i / size) | 0)) all.push(i);
    const keep = Math.ceil(all.length / 96);
    out = Int32Array.from(all.filter((_, k) => k % keep === 0));
    brightCache.set(key, out);
  }
  return out;
}

/** Mean over sample pixels of min(CLIP, |frame/gain - shifted plate|): sprites weigh at most CLIP per pixel. */
export function clippedDistance(frame: Float32Array, p: Float32Array, size: number, gain: number, sx: number, sy: number, at: Int32Array): number {
  if (at.length === 0) return 0;
  let total = 0;
  const inv = 1 / gain;
  for (let k = 0; k < at.length; k++) {
    const i = at[k]!;
    const x = i % size;
    const y = (i / size) | 0;
    let px = x - sx;
    let py = y - sy;
    px = px < 0 ? 0 : px >= size ? size - 1 : px;
    py = py < 0 ? 0 : py >= size ? size - 1 : py;
    const o = i * 3;
    const q = (py * size + px) * 3;
    const d = Math.abs(frame[o]! * inv - p[q]!) + Math.abs(frame[o + 1]! * inv - p[q + 1]!) + Math.abs(frame[o + 2]! * inv - p[q + 2]!);
    total += d < CLIP ? d : CLIP;
  }
  return total / at.length;
}

const plateLevels = new WeakMap<Float32Array, number>();
/** Median luminance over the sample grid. */
export function medianLuminance(image: Float32Array, grid: Int32Array): number {
  const values = new Float64Array(grid.length);
  for (let k = 0; k < grid.length; k++) {
    const o = grid[k]! * 3;
    values[k] = lum(image[o]!, image[o + 1]!, image[o + 2]!);
  }
  values.sort();
  return values[values.length >> 1] ?? 0;
}

/** The same for a plate (plates are shared and never change, so it is kept). */
export function plateLevel(plate: Float32Array, grid: Int32Array): number {
  let m = plateLevels.get(plate);
  if (m === undefined) {
    m = medianLuminance(plate, grid);
    plateLevels.set(plate, m);
  }
  return m;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Quantile of values in [0, CLIP) from a histogram (no sort: this runs over whole frames). */
export function quantile(hist: Uint32Array, q: number, binWidth: number): number {
  let total = 0;
  for (let i = 0; i < hist.length; i++) total += hist[i]!;
  if (total === 0) return 0;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= q * total) return (i + 0.5) * binWidth;
  }
  return hist.length * binWidth;
}
