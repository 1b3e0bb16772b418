// Step 4: tracks across frames, then per track what the object is: shape (template match), colour,
// size, style, path and motion.
import { classifyMotion } from '../motion-classifier';
import { rasterize, SHAPES, type SpriteRaster } from '../sprites';
import { SIZE_FRACTION, SUBJECT_KINDS, type Colour, type Size, type Style, type SubjectKind } from '../vocabulary';
import { softExtents, type FrameReading } from './objects';
import { median } from './plates';
import type { Detection, PerceivedObject } from './types';

export interface Track {
  detections: (Detection | undefined)[];
  last: Detection;
}

export function track(readings: FrameReading[], size: number, shift: [number, number][]): Track[] {
  const u = size / 32;
  // Compare positions in scene coordinates (camera shake taken out).
  const sx = (d: Detection) => d.cx - shift[d.frame]![0];
  const sy = (d: Detection) => d.cy - shift[d.frame]![1];
  const tracks: Track[] = [];
  readings.forEach((reading, t) => {
    const free = new Set(tracks.map((_, i) => i));
    // Cheapest pairs first: distance, plus a penalty when the colour differs.
    const pairs: [number, number, number][] = [];
    reading.detections.forEach((d, j) => {
      tracks.forEach((tr, i) => {
        const gap = t - tr.last.frame;
        const cost = Math.hypot(sx(d) - sx(tr.last), sy(d) - sy(tr.last)) / Math.max(1, gap) + (d.colour === tr.last.colour ? 0 : 6 * u);
        if (cost < 12 * u) pairs.push([cost, i, j]);
      });
    });
    pairs.sort((a, b) => a[0] - b[0]);
    const used = new Set<number>();
    for (const [, i, j] of pairs) {
      if (!free.has(i) || used.has(j)) continue;
      free.delete(i);
      used.add(j);
      tracks[i]!.detections[t] = reading.detections[j]!;
      tracks[i]!.last = reading.detections[j]!;
    }
    reading.detections.forEach((d, j) => {
      if (used.has(j)) return;
      const detections: (Detection | undefined)[] = new Array(readings.length).fill(undefined);
      detections[t] = d;
      tracks.push({ detections, last: d });
    });
  });
  return tracks;
}

const templateCache = new Map<string, SpriteRaster>();

/**
 * A template of a shape, cached by size (1/4 px), sub-pixel offset (1/4 px) and blur: compared with
 * a blurred video, a sharp template would call every blurred sprite deformed.
 */
export function template(kind: SubjectKind, n: number, cx: number, cy: number, blurPx = 0): SpriteRaster {
  const q = (v: number) => Math.round(v * 4) / 4;
  const ix = Math.floor(cx);
  const iy = Math.floor(cy);
  const nq = Math.round(n * 4) / 4;
  const key = `${kind}|${nq}|${q(cx - ix)}|${q(cy - iy)}|${blurPx}`;
  let r = templateCache.get(key);
  if (!r) {
    if (templateCache.size > 20000) templateCache.clear();
    r = rasterize(kind, nq, q(cx - ix), q(cy - iy), false);
    if (blurPx > 0) r = blurRaster(r, blurPx);
    templateCache.set(key, r);
  }
  return { ...r, x0: r.x0 + ix, y0: r.y0 + iy };
}

/** Gaussian blur of a coverage raster, its window grown to hold the spread. */
function blurRaster(r: SpriteRaster, sigma: number): SpriteRaster {
  const pad = Math.ceil(2.5 * sigma);
  const w = r.w + 2 * pad;
  const h = r.h + 2 * pad;
  const kernel: number[] = [];
  let total = 0;
  for (let i = -pad; i <= pad; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel.push(v);
    total += v;
  }
  const tmp = new Float32Array(w * h);
  for (let y = 0; y < r.h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -pad; k <= pad; k++) {
        const sx = x - pad + k;
        if (sx >= 0 && sx < r.w) acc += (kernel[k + pad]! / total) * r.fill[y * r.w + sx]!;
      }
      tmp[(y + pad) * w + x] = acc;
    }
  }
  const fill = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let k = -pad; k <= pad; k++) {
        const sy = y + k;
        if (sy >= 0 && sy < h) acc += (kernel[k + pad]! / total) * tmp[sy * w + x]!;
      }
      fill[y * w + x] = acc;
    }
  }
  return { x0: r.x0 - pad, y0: r.y0 - pad, w, h, fill, band: new Float32Array(0) };
}

/**
 * Ratio of measured soft extent to true size for each shape at a blur level: thin parts read a
 * little short, and under blur (faint tails fall below the foreground threshold) more so.
 */
const EXTENT_RATIO = new Map<string, number>();
export function extentRatio(kind: SubjectKind, blurPx = 0): number {
  const key = `${kind}|${blurPx}`;
  let r = EXTENT_RATIO.get(key);
  if (r === undefined) {
    let total = 0;
    let count = 0;
    for (const n of [7, 10, 13]) {
      for (const off of [0, 0.25, 0.5, 0.75]) {
        let raster = rasterize(kind, n, 16 + off, 16 + off * 0.7, false);
        if (blurPx > 0) {
          raster = blurRaster(raster, blurPx);
          for (let i = 0; i < raster.fill.length; i++) if (raster.fill[i]! < 0.2) raster.fill[i] = 0;
        }
        const ext = softExtents(raster.fill, raster.w, raster.h);
        total += Math.max(ext.width, ext.height) / n;
        count++;
      }
    }
    r = total / count;
    EXTENT_RATIO.set(key, r);
  }
  return r;
}

/** Soft IoU between a detection's coverage and a shape's template placed on the same centroid. */
function templateScore(d: Detection, kind: SubjectKind, blurPx: number): number {
  const shape = SHAPES[kind];
  const n = Math.max(d.width, d.height) / extentRatio(kind, blurPx);
  if (!(n > 1)) return 0;
  const t = template(kind, n, d.cx - (shape.centroidU * n) / 2, d.cy - (shape.centroidV * n) / 2, blurPx);
  const { x0, y0, w, h, alpha } = d.patch;
  let inter = 0;
  let sumA = 0;
  let sumT = 0;
  for (let i = 0; i < alpha.length; i++) sumA += alpha[i]!;
  for (let j = 0; j < t.h; j++) {
    const y = t.y0 + j - y0;
    for (let i = 0; i < t.w; i++) {
      const v = t.fill[j * t.w + i]!;
      if (v <= 0) continue;
      sumT += v;
      const x = t.x0 + i - x0;
      if (x >= 0 && x < w && y >= 0 && y < h) inter += Math.min(v, alpha[y * w + x]!);
    }
  }
  const union = sumA + sumT - inter;
  return union > 0 ? inter / union : 0;
}

function sizeOf(px: number, frameSize: number): Size {
  const f = px / frameSize;
  const mid1 = (SIZE_FRACTION.small + SIZE_FRACTION.medium) / 2;
  const mid2 = (SIZE_FRACTION.medium + SIZE_FRACTION.large) / 2;
  return f < mid1 ? 'small' : f < mid2 ? 'medium' : 'large';
}

export function styleOf(ink: number, halo: number): Style {
  if (ink >= 0.3 && ink >= halo) return 'cartoon';
  if (halo >= 0.3) return 'neon';
  return 'plain';
}

export function readTrack(tr: Track, frames: number, size: number, blurPx: number, shift: [number, number][]): PerceivedObject {
  const seen = tr.detections.filter((d): d is Detection => d !== undefined);
  // Shape: the best-scoring template over the (up to four) largest sightings.
  const largest = seen.slice().sort((a, b) => b.area - a.area);
  const rank = (sightings: Detection[]) =>
    SUBJECT_KINDS.map((kind) => ({ kind, score: sightings.reduce((s, d) => s + templateScore(d, kind, blurPx), 0) / sightings.length })).sort((a, b) => b.score - a.score);
  let scores = rank(largest.slice(0, 2));
  // Two clear sightings settle it; otherwise look at two more.
  if (largest.length > 2 && (scores[0]!.score < 0.8 || scores[0]!.score - scores[1]!.score < 0.08)) scores = rank(largest.slice(0, 4));
  const kind = scores[0]!.kind;
  // Colour by coverage-weighted vote; size from the first sightings (growing and shrinking start there).
  const colourVotes = new Map<Colour, number>();
  for (const d of seen) colourVotes.set(d.colour, (colourVotes.get(d.colour) ?? 0) + d.area);
  const colour = [...colourVotes.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  const ratio = extentRatio(kind, blurPx);
  const extentOf = (d: Detection) => Math.max(d.width, d.height) / ratio;
  const sizePx = median(seen.slice(0, 2).map(extentOf));
  // Paths in scene coordinates: the camera's shake is taken out, so it does not pass for motion.
  const x = tr.detections.map((d, t) => (d ? d.cx - shift[t]![0] : NaN));
  const y = tr.detections.map((d, t) => (d ? d.cy - shift[t]![1] : NaN));
  const scale = tr.detections.map((d) => (d ? extentOf(d) / sizePx : NaN));
  const frameStyle = tr.detections.map((d) => (d ? styleOf(d.ink, d.halo) : undefined));
  const present = tr.detections.map((d) => d !== undefined);
  const ink = seen.reduce((s, d) => s + d.ink, 0) / seen.length;
  const halo = seen.reduce((s, d) => s + d.halo, 0) / seen.length;
  return {
    kind,
    kindScore: scores[0]!.score,
    runnerUp: { kind: scores[1]!.kind, score: scores[1]!.score },
    colour,
    purity: seen.reduce((s, d) => s + d.purity, 0) / seen.length,
    size: sizeOf(sizePx, size),
    sizePx,
    style: styleOf(ink, halo),
    ink,
    halo,
    motion: classifyMotion({ x, y, scale }, size),
    presence: seen.length / frames,
    present,
    x,
    y,
    scale,
    frameStyle,
    detections: tr.detections,
  };
}
