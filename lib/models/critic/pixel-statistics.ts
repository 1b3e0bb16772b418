// The pixel statistics of the critic's frozen 'statistics' tower (features.ts describes the tower):
// the feature layout, then one function per group of statistics, each writing its slots of the vector.
import type { Video } from '../../world';

const HUES = 12; // hue bins of the colour palette (30 degrees each), x 2 brightness levels
const GREYS = 4; // grey levels for colourless pixels
const COLOUR_BINS = 2 * HUES + GREYS;
const COLOUR_BLOCKS = 8; // time blocks of the colour statistics
const BLOCKS = 4; // time blocks of the motion-energy map
const GRID = 4; // motion-energy grid (GRID x GRID cells per time block)
const TRACK_BINS = 8; // time bins of the moving-pixel centroid track
const MAX_SHIFT = 3; // px, global shift search range
const LOG_BINS = 12; // log-spaced magnitude histograms

/** Layout of the feature vector: name -> [offset, length]. */
export const FEATURE_LAYOUT = (() => {
  const parts: [string, number][] = [
    ['colour.global', COLOUR_BINS],
    ['colour.moving', COLOUR_BINS],
    ['colour.blocks', COLOUR_BLOCKS * COLOUR_BINS],
    ['colour.where', COLOUR_BLOCKS * COLOUR_BINS * 2],
    ['brightness', 6],
    ['diff.hist', LOG_BINS + 1],
    ['grad.hist', LOG_BINS + 1],
    ['lap.hist', LOG_BINS + 1],
    ['chroma.noise', 2],
    ['shift', 6],
    ['track', TRACK_BINS * 3 + 4],
    ['energy.map', BLOCKS * GRID * GRID],
  ];
  const layout: Record<string, [number, number]> = {};
  let offset = 0;
  for (const [name, n] of parts) {
    layout[name] = [offset, n];
    offset += n;
  }
  return { parts: layout, size: offset };
})();

export const FEATURE_SIZE = FEATURE_LAYOUT.size;
/** The colour palette's shape, for the head's prompt-guided pooling (model.ts). */
export const PALETTE = { bins: COLOUR_BINS, blocks: COLOUR_BLOCKS } as const;

/**
 * Soft assignment of an RGB value to the colour palette: coloured pixels to two neighbouring hue
 * bins (30 degrees apart) at two brightness levels, colourless ones to neighbouring grey levels,
 * with a ramp between the two by chroma. Up to 6 (bin, weight) pairs into `bins`/`weights`; returns
 * how many. Hue separates the colours a viewer names far better than an RGB grid of this size.
 */
function paletteBins(r: number, g: number, b: number, bins: Int32Array, weights: Float64Array): number {
  const max = r > g ? (r > b ? r : b) : g > b ? g : b;
  const min = r < g ? (r < b ? r : b) : g < b ? g : b;
  const chroma = max - min;
  const coloured = chroma <= 0.08 ? 0 : chroma >= 0.24 ? 1 : (chroma - 0.08) / 0.16;
  let n = 0;
  if (coloured > 0) {
    let hue: number; // in hue bins, [0, HUES)
    if (max === r) hue = (g - b) / chroma;
    else if (max === g) hue = (b - r) / chroma + 2;
    else hue = (r - g) / chroma + 4;
    hue = ((hue * HUES) / 6 + HUES) % HUES;
    const h0 = Math.floor(hue);
    const fh = hue - h0;
    const h1 = (h0 + 1) % HUES;
    const bright = max <= 0.4 ? 0 : max >= 0.6 ? 1 : (max - 0.4) / 0.2;
    const c0 = coloured * (1 - bright);
    const c1 = coloured * bright;
    bins[0] = h0;
    weights[0] = c0 * (1 - fh);
    bins[1] = h1;
    weights[1] = c0 * fh;
    bins[2] = HUES + h0;
    weights[2] = c1 * (1 - fh);
    bins[3] = HUES + h1;
    weights[3] = c1 * fh;
    n = 4;
  }
  if (coloured < 1) {
    const level = Math.min(GREYS - 1, Math.max(0, max * (GREYS - 1)));
    const l0 = Math.min(GREYS - 2, Math.floor(level));
    const fl = level - l0;
    bins[n] = 2 * HUES + l0;
    weights[n] = (1 - coloured) * (1 - fl);
    bins[n + 1] = 2 * HUES + l0 + 1;
    weights[n + 1] = (1 - coloured) * fl;
    n += 2;
  }
  return n;
}

/** Index of a magnitude in a log-spaced histogram: bin 0 = (almost) exactly zero, then octaves from 1/512. */
function logBin(v: number): number {
  if (v < 1 / 1024) return 0;
  return Math.min(LOG_BINS - 1, 1 + Math.max(0, Math.floor(Math.log2(v * 512))));
}

/** A video with what several statistics share: luminance and the per-pixel change to the previous frame. */
interface Frames {
  T: number;
  H: number;
  W: number;
  /** Pixels per frame. */
  P: number;
  data: Float32Array;
  lum: Float32Array;
  change: Float32Array;
}

const at = (name: string) => FEATURE_LAYOUT.parts[name]![0];

/**
 * The fixed statistics of one video ([T, H, W, 3] in [0, 1], any size with T >= 2): a Float32Array
 * of FEATURE_SIZE values. Deterministic and pure; about 1-2 ms for 16 x 32 x 32.
 */
export function pixelStatistics(video: Video): Float32Array {
  const { frames: T, height: H, width: W, data } = video;
  if (T < 2 || H < 4 || W < 4) throw new Error(`pixelStatistics: need at least 2 frames of 4x4 pixels, got ${T}x${H}x${W}`);
  if (data.length !== T * H * W * 3) throw new Error(`pixelStatistics: data has ${data.length} values, expected ${T}x${H}x${W}x3 = ${T * H * W * 3}`);
  const P = H * W;
  const frames: Frames = { T, H, W, P, data, lum: luminance(data, T * P), change: frameChange(data, T, P) };
  const out = new Float32Array(FEATURE_SIZE);
  colourStatistics(out, frames);
  brightness(out, frames);
  magnitudes(out, frames);
  globalShift(out, frames);
  changeTrack(out, frames);
  energyMap(out, frames);
  return out;
}

/** Luminance of every pixel (several statistics read it). */
function luminance(data: Float32Array, n: number): Float32Array {
  const lum = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = data[j]!;
    const g = data[j + 1]!;
    const b = data[j + 2]!;
    lum[i] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  return lum;
}

/** Per-pixel change to the previous frame (sum of |dRGB|), frame 0 gets frame 1's. */
function frameChange(data: Float32Array, T: number, P: number): Float32Array {
  const change = new Float32Array(T * P);
  for (let t = 1; t < T; t++) {
    for (let p = 0; p < P; p++) {
      const j = (t * P + p) * 3;
      const k = j - P * 3;
      change[t * P + p] = Math.abs(data[j]! - data[k]!) + Math.abs(data[j + 1]! - data[k + 1]!) + Math.abs(data[j + 2]! - data[k + 2]!);
    }
  }
  change.copyWithin(0, P, 2 * P);
  return change;
}

/**
 * Colours: over the whole video, among the pixels that change, per time block, and where each
 * palette colour sits per time block (its centroid, shrunk to 0 when there is little of it).
 */
function colourStatistics(out: Float32Array, { T, H, W, P, data, change }: Frames): void {
  const globalH = new Float64Array(COLOUR_BINS);
  const movingH = new Float64Array(COLOUR_BINS);
  const massXY = new Float64Array(COLOUR_BLOCKS * COLOUR_BINS * 3);
  const blockPixels = new Float64Array(COLOUR_BLOCKS);
  const bins = new Int32Array(6);
  const weights = new Float64Array(6);
  let movingMass = 0;
  // Every second frame: colours change slowly, and this is the costliest part.
  for (let t = 0; t < T; t += 2) {
    const blk = Math.min(COLOUR_BLOCKS - 1, Math.floor((t * COLOUR_BLOCKS) / T));
    blockPixels[blk] = blockPixels[blk]! + P;
    const blockBase = blk * COLOUR_BINS;
    for (let y = 0; y < H; y++) {
      const ny = (2 * y + 1) / H - 1;
      for (let x = 0; x < W; x++) {
        const p = y * W + x;
        const j = (t * P + p) * 3;
        const c = change[t * P + p]!;
        movingMass += c;
        const n = paletteBins(data[j]!, data[j + 1]!, data[j + 2]!, bins, weights);
        const nx = (2 * x + 1) / W - 1;
        for (let k = 0; k < n; k++) {
          const bin = bins[k]!;
          const w = weights[k]!;
          globalH[bin] += w;
          movingH[bin] += w * c;
          const m = (blockBase + bin) * 3;
          massXY[m] += w;
          massXY[m + 1] += w * nx;
          massXY[m + 2] += w * ny;
        }
      }
    }
  }
  const all = blockPixels.reduce((a, b) => a + b, 0);
  const global = at('colour.global');
  const moving = at('colour.moving');
  const blocks = at('colour.blocks');
  const where = at('colour.where');
  for (let i = 0; i < COLOUR_BINS; i++) {
    out[global + i] = Math.sqrt(globalH[i]! / all);
    // Normalised by the total change plus a floor, so a static video's moving histogram stays near 0.
    out[moving + i] = Math.sqrt(movingH[i]! / (movingMass + 0.01 * all));
  }
  for (let i = 0; i < COLOUR_BLOCKS * COLOUR_BINS; i++) {
    const m = massXY[i * 3]!;
    const pixels = blockPixels[Math.floor(i / COLOUR_BINS)]! || 1;
    out[blocks + i] = Math.sqrt(m / pixels);
    // A colour needs ~1% of the block's pixels before its position counts.
    out[where + 2 * i] = massXY[i * 3 + 1]! / (m + 0.01 * pixels);
    out[where + 2 * i + 1] = massXY[i * 3 + 2]! / (m + 0.01 * pixels);
  }
}

/** Brightness over time: level, flicker (relative frame-to-frame change), alternation. */
function brightness(out: Float32Array, { T, P, lum }: Frames): void {
  const meanL = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let s = 0;
    for (let p = 0; p < P; p++) s += lum[t * P + p]!;
    meanL[t] = s / P;
  }
  const avg = meanL.reduce((a, b) => a + b, 0) / T;
  let varSum = 0;
  let absStep = 0;
  let maxStep = 0;
  let flips = 0;
  for (let t = 0; t < T; t++) varSum += (meanL[t]! - avg) ** 2;
  for (let t = 1; t < T; t++) {
    const step = (meanL[t]! - meanL[t - 1]!) / (avg + 0.05);
    absStep += Math.abs(step);
    maxStep = Math.max(maxStep, Math.abs(step));
    if (t > 1 && step * (meanL[t - 1]! - meanL[t - 2]!) < 0 && Math.abs(step) > 0.005) flips++;
  }
  const o = at('brightness');
  out[o] = avg;
  out[o + 1] = Math.sqrt(Math.sqrt(varSum / T) / (avg + 0.05));
  out[o + 2] = Math.sqrt(absStep / (T - 1));
  out[o + 3] = Math.sqrt(maxStep);
  out[o + 4] = flips / Math.max(1, T - 2);
  out[o + 5] = Math.sqrt(meanL.reduce((m, v) => Math.max(m, v), 0) - meanL.reduce((m, v) => Math.min(m, v), 1));
}

/**
 * Magnitude histograms: temporal change, spatial gradient, Laplacian (sharpness and grain), each
 * with its log-mean as the last entry; and the chroma grain.
 */
function magnitudes(out: Float32Array, { T, H, W, P, data, lum }: Frames): void {
  const diff = at('diff.hist');
  const grad = at('grad.hist');
  const lap = at('lap.hist');
  let dSum = 0;
  let gSum = 0;
  let lSum = 0;
  let chromaHi = 0;
  let chromaCount = 0;
  for (let t = 0; t < T; t++) {
    for (let y = 1; y < H - 1; y++) {
      for (let x = 1; x < W - 1; x++) {
        const p = t * P + y * W + x;
        const v = lum[p]!;
        if (t > 0) {
          const d = Math.abs(v - lum[p - P]!);
          out[diff + logBin(d)] = out[diff + logBin(d)]! + 1;
          dSum += d;
        }
        const g = Math.abs(lum[p + 1]! - v) + Math.abs(lum[p + W]! - v);
        out[grad + logBin(g)] = out[grad + logBin(g)]! + 1;
        gSum += g;
        const l = Math.abs(4 * v - lum[p - 1]! - lum[p + 1]! - lum[p - W]! - lum[p + W]!);
        out[lap + logBin(l)] = out[lap + logBin(l)]! + 1;
        lSum += l;
        // Chroma grain: the colour minus its luminance, compared with the right-hand neighbour.
        const j = p * 3;
        const k = j + 3;
        const ch = Math.abs(data[j]! - v - data[k]! + lum[p + 1]!) + Math.abs(data[j + 2]! - v - data[k + 2]! + lum[p + 1]!);
        chromaHi += ch;
        chromaCount++;
      }
    }
  }
  const inner = T * (H - 2) * (W - 2);
  const innerDiff = (T - 1) * (H - 2) * (W - 2);
  for (let i = 0; i < LOG_BINS; i++) {
    out[diff + i] = Math.sqrt(out[diff + i]! / innerDiff);
    out[grad + i] = Math.sqrt(out[grad + i]! / inner);
    out[lap + i] = Math.sqrt(out[lap + i]! / inner);
  }
  // Bins 0..LOG_BINS-1 are shares (the last one open-ended); slot LOG_BINS is the log-mean.
  out[diff + LOG_BINS] = Math.log(dSum / innerDiff + 1e-4) / 5 + 1;
  out[grad + LOG_BINS] = Math.log(gSum / inner + 1e-4) / 5 + 1;
  out[lap + LOG_BINS] = Math.log(lSum / inner + 1e-4) / 5 + 1;
  const o = at('chroma.noise');
  out[o] = Math.log(chromaHi / chromaCount + 1e-4) / 5 + 1;
  out[o + 1] = Math.log((lSum + 1e-3) / (gSum + 1e-3));
}

/**
 * Global shift between consecutive frames (camera shake): row and column luminance profiles, the
 * integer shift in [-3, 3] that best aligns them, and how much better it is than no shift.
 */
function globalShift(out: Float32Array, frames: Frames): void {
  const { T, H, W } = frames;
  const { rowsP, colsP } = luminanceProfiles(frames);
  let absX = 0;
  let absY = 0;
  let moved = 0;
  let ratio = 0;
  let reversals = 0;
  let prev = [0, 0];
  for (let t = 1; t < T; t++) {
    const [sx, rx] = bestShift(colsP, W, t);
    const [sy, ry] = bestShift(rowsP, H, t);
    absX += Math.abs(sx);
    absY += Math.abs(sy);
    if (sx || sy) moved++;
    ratio += Math.min(rx, ry);
    if (sx * prev[0]! < 0 || sy * prev[1]! < 0) reversals++;
    prev = [sx, sy];
  }
  const o = at('shift');
  const n = T - 1;
  out[o] = Math.sqrt(absX / n);
  out[o + 1] = Math.sqrt(absY / n);
  out[o + 2] = moved / n;
  out[o + 3] = 1 - ratio / n;
  out[o + 4] = reversals / n;
  out[o + 5] = Math.sqrt((absX + absY) / (n * (W / 32)));
}

/**
 * Per frame, the mean luminance of each row and of each column, brightness-normalised (zero mean,
 * relative to the level): flicker must not read as a shift.
 */
function luminanceProfiles({ T, H, W, P, lum }: Frames): { rowsP: Float64Array; colsP: Float64Array } {
  const rowsP = new Float64Array(T * H);
  const colsP = new Float64Array(T * W);
  for (let t = 0; t < T; t++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = lum[t * P + y * W + x]!;
        rowsP[t * H + y] = rowsP[t * H + y]! + v / W;
        colsP[t * W + x] = colsP[t * W + x]! + v / H;
      }
    }
  }
  for (const [prof, n] of [[rowsP, H], [colsP, W]] as const) {
    for (let t = 0; t < T; t++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += prof[t * n + i]! / n;
      for (let i = 0; i < n; i++) prof[t * n + i] = (prof[t * n + i]! - m) / (m + 0.05);
    }
  }
  return { rowsP, colsP };
}

/** The shift of frame t's profile against frame t - 1's with the least error, and that error relative to no shift's. */
function bestShift(prof: Float64Array, n: number, t: number): [number, number] {
  let best = 0;
  let bestErr = Infinity;
  let zeroErr = 0;
  for (let s = -MAX_SHIFT; s <= MAX_SHIFT; s++) {
    let err = 0;
    let count = 0;
    for (let i = MAX_SHIFT; i < n - MAX_SHIFT; i++) {
      err += Math.abs(prof[t * n + i]! - prof[(t - 1) * n + i + s]!);
      count++;
    }
    err /= count;
    if (s === 0) zeroErr = err;
    if (err < bestErr - 1e-7) [best, bestErr] = [s, err];
  }
  return [best, zeroErr > 1e-6 ? bestErr / zeroErr : 1];
}

/**
 * The moving pixels' centroid over time (TRACK_BINS bins): position, amount of change, and the
 * net displacement, path length and spread of the track.
 */
function changeTrack(out: Float32Array, { T, H, W, P, change }: Frames): void {
  const o = at('track');
  const cx = new Float64Array(TRACK_BINS);
  const cy = new Float64Array(TRACK_BINS);
  const mass = new Float64Array(TRACK_BINS);
  const spread = [0, 0];
  for (let t = 1; t < T; t++) {
    const bin = Math.min(TRACK_BINS - 1, Math.floor(((t - 1) * TRACK_BINS) / (T - 1)));
    let m = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    for (let y = 0; y < H; y++) {
      const ny = (2 * y + 1) / H - 1;
      for (let x = 0; x < W; x++) {
        const c = change[t * P + y * W + x]!;
        // Squared: the sprite's strong edges dominate faint noise.
        const w = c * c;
        const nx = (2 * x + 1) / W - 1;
        m += w;
        sx += w * nx;
        sy += w * ny;
        sxx += w * nx * nx;
        syy += w * ny * ny;
      }
    }
    mass[bin] = mass[bin]! + m;
    cx[bin] = cx[bin]! + sx;
    cy[bin] = cy[bin]! + sy;
    spread[0] = spread[0]! + sxx;
    spread[1] = spread[1]! + syy;
  }
  const total = mass.reduce((a, b) => a + b, 0);
  const floor = 0.02 * P;
  const px: number[] = [];
  const py: number[] = [];
  for (let i = 0; i < TRACK_BINS; i++) {
    px.push(cx[i]! / (mass[i]! + floor));
    py.push(cy[i]! / (mass[i]! + floor));
    out[o + 3 * i] = px[i]!;
    out[o + 3 * i + 1] = py[i]!;
    out[o + 3 * i + 2] = Math.log(mass[i]! / P + 1e-4) / 5 + 1;
  }
  const k = Math.max(1, Math.floor(TRACK_BINS / 3));
  const avg = (xs: number[], from: number, to: number) => xs.slice(from, to).reduce((a, b) => a + b, 0) / (to - from);
  let path = 0;
  for (let i = 1; i < TRACK_BINS; i++) path += Math.hypot(px[i]! - px[i - 1]!, py[i]! - py[i - 1]!);
  const base = o + 3 * TRACK_BINS;
  out[base] = avg(px, TRACK_BINS - k, TRACK_BINS) - avg(px, 0, k);
  out[base + 1] = avg(py, TRACK_BINS - k, TRACK_BINS) - avg(py, 0, k);
  out[base + 2] = path;
  const mx = px.reduce((a, b) => a + b, 0) / TRACK_BINS;
  const my = py.reduce((a, b) => a + b, 0) / TRACK_BINS;
  out[base + 3] = Math.sqrt(Math.max(0, (spread[0]! + spread[1]!) / (total + floor * T) - mx * mx - my * my));
}

/** Where change happens: mean change per time block and cell of a GRID x GRID grid (sqrt). */
function energyMap(out: Float32Array, { T, H, W, P, change }: Frames): void {
  const o = at('energy.map');
  const counts = new Float64Array(BLOCKS * GRID * GRID);
  for (let t = 1; t < T; t++) {
    const blk = Math.min(BLOCKS - 1, Math.floor(((t - 1) * BLOCKS) / (T - 1)));
    for (let y = 0; y < H; y++) {
      const gy = Math.min(GRID - 1, Math.floor((y * GRID) / H));
      for (let x = 0; x < W; x++) {
        const cell = (blk * GRID + gy) * GRID + Math.min(GRID - 1, Math.floor((x * GRID) / W));
        out[o + cell] = out[o + cell]! + change[t * P + y * W + x]!;
        counts[cell] = counts[cell]! + 1;
      }
    }
  }
  for (let i = 0; i < counts.length; i++) out[o + i] = Math.sqrt(out[o + i]! / Math.max(1, counts[i]!));
}
