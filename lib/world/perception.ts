// Perception: what a video shows, recovered from its pixels alone (never from the spec or from a
// generator's internals). It knows the world's vocabulary, as a detector trained on the world would:
// what the scenes look like, the sprite shapes, the palette. Steps:
//   1. scene: the background plate nearest to each frame (a clipped distance ignores the sprites);
//   2. registration: per-frame brightness gain (flicker) and shift (camera shake), and a blur level
//      for the whole clip, so the plate matches the frame as well as it can;
//   3. objects: connected regions that differ from the registered plate, each explained as a palette
//      colour mixed with the background (anti-aliasing, blur), with an ink outline or a neon halo;
//   4. tracks across frames, then per track: shape (template match), colour, size, path, motion.
// Imperfect videos (noise, blur, wrong colours, missing objects) give degraded readings, never errors.
import { classifyMotion, type MotionReading } from './motion-classifier';
import { background } from './render';
import type { Video } from './spec';
import { rasterize, SHAPES, type SpriteRaster } from './sprites';
import {
  COLOUR_RGB,
  COLOURS,
  SCENE_INFO,
  SCENES,
  SIZE_FRACTION,
  SUBJECT_KINDS,
  colourDistance,
  NEON_GLOW,
  type Colour,
  type Rgb,
  type Scene,
  type Size,
  type Style,
  type SubjectKind,
} from './vocabulary';

export interface Detection {
  frame: number;
  colour: Colour;
  /** Share of the region's coverage that the colour explains cleanly (1 for clean sprites). */
  purity: number;
  /** Coverage-weighted area in pixels. */
  area: number;
  /** Mean colour of the sprite's core pixels (coverage >= 0.5), as the frame shows it. */
  rgb: [number, number, number];
  cx: number;
  cy: number;
  /** Soft extents: sum over columns of the strongest coverage in the column (and rows). */
  width: number;
  height: number;
  /** Coverage of the sprite colour over a window (x0, y0, w, h). */
  patch: { x0: number; y0: number; w: number; h: number; alpha: Float32Array };
  /** Mean outline/halo strength over the sprite's border (0 = none, ~0.7 = a full 1 px band). */
  ink: number;
  halo: number;
}

export interface PerceivedObject {
  kind: SubjectKind;
  /** Soft IoU of the best template (1 = perfect sprite). */
  kindScore: number;
  /** Runner-up shape and its score (a small margin means an ambiguous, deformed sprite). */
  runnerUp: { kind: SubjectKind; score: number };
  colour: Colour;
  purity: number;
  size: Size;
  /** Largest extent at the start of the clip, in pixels. */
  sizePx: number;
  style: Style;
  /** Mean outline and halo evidence over the sightings (see Detection). */
  ink: number;
  halo: number;
  motion: MotionReading;
  /** Share of frames the object is seen in. */
  presence: number;
  present: boolean[];
  /** Path of the centre and size relative to the start (NaN where unseen). */
  x: number[];
  y: number[];
  scale: number[];
  /** Per frame: the style read on this object's border (undefined where unseen). */
  frameStyle: (Style | undefined)[];
  detections: (Detection | undefined)[];
}

export interface Perception {
  frames: number;
  size: number;
  scene: Scene;
  /** 1 when the plate fits the frames exactly, falling towards 0 as they differ. */
  sceneScore: number;
  frameScenes: Scene[];
  objects: PerceivedObject[];
  /** Style of the video: that of most objects (plain when there are none). */
  style: Style;
  frameStyles: Style[];
  temporal: {
    /** Per-frame brightness gain relative to the plate and camera shift in pixels. */
    gain: number[];
    shift: [number, number][];
    /** Mean absolute frame-to-frame change of gain (flicker) and of shift in pixels (shake). */
    flicker: number;
    shake: number;
    /** Share of frame transitions where the number of visible objects changes. */
    popping: number;
  };
  quality: {
    /** Estimated per-channel noise standard deviation. */
    noise: number;
    /** Blur (Gaussian sigma in pixels of a 32 px frame) that best explains the background. */
    blur: number;
    /** Sprite edges' softness relative to clean sprites (1 = crisp). */
    edgeSoftness: number;
    /** Spurious regions per frame (small blobs, short tracks, unexplained areas). */
    artefacts: number;
    /** Mean clipped distance between frames and the registered plate, sprites excluded. */
    backgroundError: number;
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const lum = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;
const CLIP = 0.3;
/** Blur levels tried for the whole clip (sigma in pixels of a 32 px frame). */
const BLURS = [0, 0.6, 0.9, 1.2, 1.6, 2.2];

function sanitize(video: Video): Float32Array {
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

function gaussianBlur(image: Float32Array, size: number, sigma: number): Float32Array {
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

export { gaussianBlur };

const plateCache = new Map<string, Float32Array>();
function plate(scene: Scene, size: number, blur: number): Float32Array {
  const key = `${scene}@${size}@${blur}`;
  let p = plateCache.get(key);
  if (!p) {
    p = gaussianBlur(background(scene, size), size, (blur * size) / 32);
    plateCache.set(key, p);
  }
  return p;
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Sample points of a plate: a regular grid (for the scene) and its edge pixels (for shift and blur). */
interface Samples {
  grid: Int32Array;
  edges: Int32Array;
}

const sampleCache = new Map<string, Samples>();
function samples(scene: Scene, size: number): Samples {
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
function brightPixels(scene: Scene, size: number): Int32Array {
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
function clippedDistance(frame: Float32Array, p: Float32Array, size: number, gain: number, sx: number, sy: number, at: Int32Array): number {
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
function medianLuminance(image: Float32Array, grid: Int32Array): number {
  const values = new Float64Array(grid.length);
  for (let k = 0; k < grid.length; k++) {
    const o = grid[k]! * 3;
    values[k] = lum(image[o]!, image[o + 1]!, image[o + 2]!);
  }
  values.sort();
  return values[values.length >> 1] ?? 0;
}

/** The same for a plate (plates are shared and never change, so it is kept). */
function plateLevel(plate: Float32Array, grid: Int32Array): number {
  let m = plateLevels.get(plate);
  if (m === undefined) {
    m = medianLuminance(plate, grid);
    plateLevels.set(plate, m);
  }
  return m;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Quantile of values in [0, CLIP) from a histogram (no sort: this runs over whole frames). */
function quantile(hist: Uint32Array, q: number, binWidth: number): number {
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

// ---------------------------------------------------------------------------------------------
// 1-2. Scene and registration

interface Registration {
  scene: Scene;
  sceneScore: number;
  frameScenes: Scene[];
  gain: number[];
  shift: [number, number][];
  blur: number;
  plate: Float32Array;
}

/**
 * Brightness gain of a frame against the plate: median luminance ratio over flat, bright plate
 * pixels (sprites are a minority there). Pixels pushed to full brightness no longer tell the gain
 * and are left out; with fewer than 8 usable pixels (a dark plate) the gain is unreadable, barely
 * shows, and stays 1.
 */
function readGain(f: Float32Array, base: Float32Array, size: number, bright: Int32Array, [sx, sy]: [number, number]): number {
  // Per channel: a saturated channel only says "at least this bright", a dim one says little.
  const ratios = new Float64Array(bright.length * 3);
  let n = 0;
  for (let k = 0; k < bright.length; k++) {
    const i = bright[k]!;
    const x = Math.min(size - 1, Math.max(0, (i % size) + sx));
    const y = Math.min(size - 1, Math.max(0, ((i / size) | 0) + sy));
    const o = (y * size + x) * 3;
    const q = i * 3;
    for (let c = 0; c < 3; c++) if (f[o + c]! < 0.985 && base[q + c]! > 0.15) ratios[n++] = f[o + c]! / base[q + c]!;
  }
  let g = 1;
  if (n >= 8) {
    const sorted = ratios.subarray(0, n).sort(); // typed arrays sort numerically, and fast
    g = n % 2 ? sorted[n >> 1]! : (sorted[(n >> 1) - 1]! + sorted[n >> 1]!) / 2;
  }
  return Math.abs(g - 1) < 0.01 || !Number.isFinite(g) ? 1 : Math.min(3, Math.max(0.3, g));
}

/** An offset is clear when the frame fits the plate at it within this share of the distance at none. */
const SHIFT_EVIDENCE = 0.7;

const NEIGHBOURS = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [1, 1],
  [1, -1],
  [-1, 1],
  [-1, -1],
] as const;

function register(data: Float32Array, frames: number, size: number): Registration {
  const frameLength = size * size * 3;
  const frame = (t: number) => data.subarray(t * frameLength, (t + 1) * frameLength);

  // Scene: per frame, the plate at the least clipped distance; the clip's scene minimises the sum.
  // Each plate is also tried at the frame's overall brightness (median luminance), so a
  // flickering frame is not taken for a brighter or darker scene.
  const totals = new Float64Array(SCENES.length);
  const frameScenes: Scene[] = [];
  const grid = samples(SCENES[0], size).grid;
  for (let t = 0; t < frames; t++) {
    const level = medianLuminance(frame(t), grid);
    let best = 0;
    let bestD = Infinity;
    for (let k = 0; k < SCENES.length; k++) {
      const scene = SCENES[k]!;
      const reference = plateLevel(background(scene, size), grid);
      // Large sprites move the median too: the plate as it is competes with the plate rescaled.
      const g = reference > 0.05 ? Math.min(2, Math.max(0.5, level / reference)) : 1;
      let d = clippedDistance(frame(t), background(scene, size), size, 1, 0, 0, grid);
      if (Math.abs(g - 1) >= 0.04) d = Math.min(d, clippedDistance(frame(t), background(scene, size), size, g, 0, 0, grid));
      totals[k] = totals[k]! + d;
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    frameScenes.push(SCENES[best]!);
  }
  let sceneIndex = 0;
  for (let k = 1; k < SCENES.length; k++) if (totals[k]! < totals[sceneIndex]!) sceneIndex = k;
  const scene = SCENES[sceneIndex]!;
  const { edges } = samples(scene, size);

  // Shift, judged on the plate's edges: no shift if it is a clear minimum; otherwise every offset
  // up to 2 px, then a greedy walk outwards for larger shakes. Offsets are scored against the plate
  // and against a blurred plate (a sharp edge and a blurred one match nowhere), the better counting.
  const base = background(scene, size);
  const soft = plate(scene, size, 1.2);
  // A first brightness gain (flicker) read at no shift: flat patches barely change under a small shake.
  const bright = brightPixels(scene, size);
  const gain = Array.from({ length: frames }, (_, t) => readGain(frame(t), base, size, bright, [0, 0]));
  let g = 1;
  // That first gain can be misled by the shake itself (a bright patch moved onto a dark one), so
  // offsets are scored both at that gain and at none, against the plate and a blurred plate.
  const score = (f: Float32Array, sx: number, sy: number) => {
    let d = Math.min(clippedDistance(f, base, size, g, sx, sy, edges), clippedDistance(f, soft, size, g, sx, sy, edges));
    if (g !== 1) d = Math.min(d, clippedDistance(f, base, size, 1, sx, sy, edges), clippedDistance(f, soft, size, 1, sx, sy, edges));
    return d;
  };
  const maxShift = Math.max(2, Math.round((4 * size) / 32));
  const shift: [number, number][] = [];
  const weak: boolean[] = [];
  let clearFrames = 0;
  for (let t = 0; t < frames; t++) {
    const f = frame(t);
    g = gain[t]!;
    let sx = 0;
    let sy = 0;
    const d0 = edges.length >= 8 ? score(f, 0, 0) : 0;
    let d = d0;
    let clear = d0 < 1e-3;
    if (!clear) {
      // A clear minimum at no shift: each one-pixel step makes things clearly worse.
      clear = true;
      for (let k = 0; k < 4 && clear; k++) clear = score(f, NEIGHBOURS[k]![0], NEIGHBOURS[k]![1]) > 1.5 * d0;
    }
    if (!clear) {
      for (let ny = -2; ny <= 2; ny++) {
        for (let nx = -2; nx <= 2; nx++) {
          if (nx === 0 && ny === 0) continue;
          const nd = score(f, nx, ny);
          if (nd < d - 1e-4) {
            d = nd;
            sx = nx;
            sy = ny;
          }
        }
      }
      for (let iter = 0; iter < 2 * maxShift && (Math.abs(sx) === 2 || Math.abs(sy) === 2); iter++) {
        let moved = false;
        for (const [ex, ey] of NEIGHBOURS) {
          const nx = sx + ex;
          const ny = sy + ey;
          if (Math.abs(nx) > maxShift || Math.abs(ny) > maxShift) continue;
          const nd = score(f, nx, ny);
          if (nd < d - 1e-4) {
            d = nd;
            sx = nx;
            sy = ny;
            moved = true;
          }
        }
        if (!moved) break;
      }
    }
    const offset = sx !== 0 || sy !== 0;
    weak.push(offset && d >= SHIFT_EVIDENCE * d0);
    if (offset && !weak[t]) clearFrames++;
    shift.push([sx, sy]);
  }

  // In a camera that does not shake, an offset has to explain its frame clearly better than none. A
  // warped, blurry plate (a weak generator's background) fits every offset about equally badly, and
  // taking the marginally best one made still frames jump by up to 4 px of a 32 px frame: camera
  // shake that no optical-flow model would see (consecutive frames do not move), read as a flaw by
  // the viewers and as motion by the evaluator. In a shaking camera most offsets are clear (in 95%
  // of shaken frames the offset's distance is under 0.64 of no offset's; on a generator's still
  // frames it is above 0.7 in 99%), and its few unclear frames keep their best offset.
  if (clearFrames < Math.max(2, frames / 4)) weak.forEach((w, t) => w && (shift[t] = [0, 0]));

  // Gain again, now that the camera offsets are known.
  for (let t = 0; t < frames; t++) gain[t] = readGain(frame(t), base, size, bright, shift[t]!);

  // Blur: the level whose blurred plate best matches a few frames at the edges.
  const probe = [0, frames >> 1, frames - 1];
  let blur = 0;
  if (edges.length >= 8) {
    let bestD = Infinity;
    let sharpD = Infinity;
    for (const b of BLURS) {
      const p = plate(scene, size, b);
      let d = 0;
      for (const t of probe) d += clippedDistance(frame(t), p, size, gain[t]!, shift[t]![0], shift[t]![1], edges);
      if (b === 0) sharpD = d;
      if (d < bestD - 1e-4) {
        bestD = d;
        blur = b;
      }
    }
    if (bestD > 0.9 * sharpD) blur = 0; // no clear gain: keep the sharp plate
  }
  // 1 when frames match the plate, 0 when they are as far from it as from a clearly different scene.
  const sceneScore = Math.max(0, Math.min(1, 1 - totals[sceneIndex]! / frames / 0.08));
  return { scene, sceneScore, frameScenes, gain, shift, blur, plate: plate(scene, size, blur) };
}

// ---------------------------------------------------------------------------------------------
// 3. Objects in one frame

interface FrameContext {
  frame: Float32Array;
  /** The registered background of this frame (plate shifted, scaled by the gain, blurred). */
  bg: Float32Array;
  size: number;
  noise: number;
  /** Outline ink as this frame shows it. */
  ink: Rgb;
  /** Brightness gain of the frame (flicker): palette colours appear scaled by it. */
  gain: number;
}

/** A colour as a frame with brightness gain g shows it. */
function lift(c: Rgb, g: number): Rgb {
  return g === 1 ? c : [Math.min(1, c[0] * g), Math.min(1, c[1] * g), Math.min(1, c[2] * g)];
}

/** The plate as this frame shows it: shifted by the camera and scaled by the brightness gain. */
function registeredBackground(p: Float32Array, size: number, gain: number, sx: number, sy: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    let py = y - sy;
    py = py < 0 ? 0 : py >= size ? size - 1 : py;
    for (let x = 0; x < size; x++) {
      let px = x - sx;
      px = px < 0 ? 0 : px >= size ? size - 1 : px;
      const o = (y * size + x) * 3;
      const q = (py * size + px) * 3;
      out[o] = Math.min(1, p[q]! * gain);
      out[o + 1] = Math.min(1, p[q + 1]! * gain);
      out[o + 2] = Math.min(1, p[q + 2]! * gain);
    }
  }
  return out;
}

/**
 * Least squares f - b = a (c - b) + k (e - b) with a, k in [0, 1]: a pixel as a mix of background,
 * fill colour c and outline colour e. Writes [a, k, residual] into `out`.
 */
function unmix2(f: Float64Array, b: Float64Array, c: Rgb, e: Rgb, out: Float64Array): void {
  const u0 = c[0] - b[0]!, u1 = c[1] - b[1]!, u2 = c[2] - b[2]!;
  const v0 = e[0] - b[0]!, v1 = e[1] - b[1]!, v2 = e[2] - b[2]!;
  const r0 = f[0]! - b[0]!, r1 = f[1]! - b[1]!, r2 = f[2]! - b[2]!;
  const uu = u0 * u0 + u1 * u1 + u2 * u2;
  const vv = v0 * v0 + v1 * v1 + v2 * v2;
  const uv = u0 * v0 + u1 * v1 + u2 * v2;
  const ur = u0 * r0 + u1 * r1 + u2 * r2;
  const vr = v0 * r0 + v1 * r1 + v2 * r2;
  const det = uu * vv - uv * uv;
  let a = 0;
  let k = 0;
  if (det > 1e-9) {
    a = (vv * ur - uv * vr) / det;
    k = (uu * vr - uv * ur) / det;
  }
  if (det > 1e-9 && a >= 0 && a <= 1 && k >= 0 && k <= 1) {
    out[0] = a;
    out[1] = k;
    out[2] = Math.sqrt((r0 - a * u0 - k * v0) ** 2 + (r1 - a * u1 - k * v1) ** 2 + (r2 - a * u2 - k * v2) ** 2);
    return;
  }
  // Constrained: the best of the one-colour fits and the clamped pair.
  const aOnly = uu > 0 ? clamp01(ur / uu) : 0;
  const kOnly = vv > 0 ? clamp01(vr / vv) : 0;
  const resA = (r0 - aOnly * u0) ** 2 + (r1 - aOnly * u1) ** 2 + (r2 - aOnly * u2) ** 2;
  const resK = (r0 - kOnly * v0) ** 2 + (r1 - kOnly * v1) ** 2 + (r2 - kOnly * v2) ** 2;
  const ca = clamp01(a);
  const ck = clamp01(k);
  const resBoth = det > 1e-9 ? (r0 - ca * u0 - ck * v0) ** 2 + (r1 - ca * u1 - ck * v1) ** 2 + (r2 - ca * u2 - ck * v2) ** 2 : Infinity;
  if (resA <= resK && resA <= resBoth) {
    out[0] = aOnly;
    out[1] = 0;
    out[2] = Math.sqrt(resA);
  } else if (resK <= resBoth) {
    out[0] = 0;
    out[1] = kOnly;
    out[2] = Math.sqrt(resK);
  } else {
    out[0] = ca;
    out[1] = ck;
    out[2] = Math.sqrt(resBoth);
  }
}

/** Components of the foreground mask (8-connected), as lists of pixel indices. */
function components(mask: Uint8Array, size: number): number[][] {
  const seen = new Uint8Array(mask.length);
  const out: number[][] = [];
  const queue = new Int32Array(mask.length);
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    seen[start] = 1;
    const pixels: number[] = [];
    while (head < tail) {
      const i = queue[head++]!;
      pixels.push(i);
      const x = i % size;
      const y = (i / size) | 0;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= size) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= size) continue;
          const j = ny * size + nx;
          if (mask[j] && !seen[j]) {
            seen[j] = 1;
            queue[tail++] = j;
          }
        }
      }
    }
    out.push(pixels);
  }
  return out;
}

/** Explains a set of pixels as one palette colour over the background (with outline or halo). */
function explain(ctx: FrameContext, pixels: number[], t: number, minArea: number, forced?: Colour): { detection?: Detection; unexplained: number[] } {
  const { frame, bg, size, noise } = ctx;
  const rho = Math.max(0.08, 2 * Math.sqrt(3) * noise);
  const rho2 = rho * rho;
  // Score each palette colour by the coverage it explains cleanly.
  let best: Colour = forced ?? COLOURS[0];
  let bestScore = -1;
  // A sample of the pixels is enough to rank the colours (the full pass below measures the winner).
  const stride = Math.max(1, Math.floor(pixels.length / 48));
  for (const colour of forced ? [forced] : COLOURS) {
    const c = lift(COLOUR_RGB[colour], ctx.gain);
    let score = 0;
    for (let n = 0; n < pixels.length; n += stride) {
      const o = pixels[n]! * 3;
      const b0 = bg[o]!, b1 = bg[o + 1]!, b2 = bg[o + 2]!;
      const e0 = c[0] - b0, e1 = c[1] - b1, e2 = c[2] - b2;
      const ee = e0 * e0 + e1 * e1 + e2 * e2;
      if (ee < 1e-6) continue;
      const f0 = frame[o]! - b0, f1 = frame[o + 1]! - b1, f2 = frame[o + 2]! - b2;
      const a = clamp01((f0 * e0 + f1 * e1 + f2 * e2) / ee);
      const res2 = (f0 - a * e0) ** 2 + (f1 - a * e1) ** 2 + (f2 - a * e2) ** 2;
      const q = 1 + res2 / rho2;
      score += a / (q * q); // a soft "explained cleanly" weight, cheaper than exp
    }
    if (score > bestScore) {
      bestScore = score;
      best = colour;
    }
  }
  const c = lift(COLOUR_RGB[best], ctx.gain);
  const halo: Rgb = lift(NEON_GLOW, ctx.gain);
  // Coverage map of the chosen colour over the region's box grown by one pixel.
  let x0 = size, y0 = size, x1 = -1, y1 = -1;
  for (let n = 0; n < pixels.length; n++) {
    const x = pixels[n]! % size;
    const y = (pixels[n]! / size) | 0;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  x0 = Math.max(0, x0 - 1);
  y0 = Math.max(0, y0 - 1);
  x1 = Math.min(size - 1, x1 + 1);
  y1 = Math.min(size - 1, y1 + 1);
  const w = x1 - x0 + 1;
  const h = y1 - y0 + 1;
  const alpha = new Float32Array(w * h);
  let area = 0, sx = 0, sy = 0, explainedMass = 0, ink = 0, glow = 0, core = 0, r = 0, g = 0, bl = 0;
  const unexplained: number[] = [];
  const f = new Float64Array(3);
  const b = new Float64Array(3);
  const fitInk = new Float64Array(3);
  const fitHalo = new Float64Array(3);
  for (let n = 0; n < pixels.length; n++) {
    const i = pixels[n]!;
    const o = i * 3;
    f[0] = frame[o]!;
    f[1] = frame[o + 1]!;
    f[2] = frame[o + 2]!;
    b[0] = bg[o]!;
    b[1] = bg[o + 1]!;
    b[2] = bg[o + 2]!;
    const e0 = c[0] - b[0], e1 = c[1] - b[1], e2 = c[2] - b[2];
    const ee = e0 * e0 + e1 * e1 + e2 * e2;
    let a = ee > 1e-6 ? clamp01(((f[0] - b[0]) * e0 + (f[1] - b[1]) * e1 + (f[2] - b[2]) * e2) / ee) : 0;
    let res = Math.sqrt((f[0] - b[0] - a * e0) ** 2 + (f[1] - b[1] - a * e1) ** 2 + (f[2] - b[2] - a * e2) ** 2);
    // Not pure fill: is it partly outline ink or neon halo? Only the fill's share belongs to the sprite.
    if (a < 0.98 || res > 0.02) {
      unmix2(f, b, c, ctx.ink, fitInk);
      unmix2(f, b, c, halo, fitHalo);
      if (fitInk[2]! < res - 0.02 && fitInk[2]! <= fitHalo[2]!) {
        a = fitInk[0]!;
        res = fitInk[2]!;
        ink += fitInk[1]!;
      } else if (fitHalo[2]! < res - 0.02) {
        a = fitHalo[0]!;
        res = fitHalo[2]!;
        glow += fitHalo[1]!;
      }
    }
    if (res >= 2 * rho) {
      unexplained.push(i);
      continue;
    }
    const x = i % size;
    const y = (i / size) | 0;
    alpha[(y - y0) * w + (x - x0)] = a;
    area += a;
    sx += a * (x + 0.5);
    sy += a * (y + 0.5);
    explainedMass += a * Math.exp(-(res * res) / rho2);
    if (a >= 0.5) {
      core++;
      r += f[0];
      g += f[1];
      bl += f[2];
    }
  }
  if (area < minArea) return { unexplained: pixels };
  // Outline and halo strength per border slot: pixels next to the core (coverage >= 0.5) that are not core.
  let slots = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (alpha[y * w + x]! >= 0.5) continue;
      let near = false;
      for (let dy = -1; dy <= 1 && !near; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1 && !near; dx++) {
          const nx = x + dx;
          if (nx >= 0 && nx < w && alpha[ny * w + nx]! >= 0.5) near = true;
        }
      }
      if (near) slots++;
    }
  }
  const { width, height } = softExtents(alpha, w, h);
  return {
    detection: {
      frame: t,
      colour: best,
      // Clean sprites are explained exactly; pixels nothing explains (not fill, outline or halo) count against.
      purity: explainedMass / (area + unexplained.length),
      area,
      rgb: core ? [r / core, g / core, bl / core] : [c[0], c[1], c[2]],
      cx: sx / area,
      cy: sy / area,
      width,
      height,
      patch: { x0, y0, w, h, alpha },
      ink: slots ? ink / slots : 0,
      halo: slots ? glow / slots : 0,
    },
    unexplained,
  };
}

interface FrameReading {
  detections: Detection[];
  spurious: number;
}

function detectObjects(ctx: FrameContext, t: number): FrameReading {
  const { frame, bg, size } = ctx;
  const u = size / 32;
  const minArea = 3 * u * u;
  const threshold = Math.max(0.12, 2.5 * Math.sqrt(3) * ctx.noise);
  const t2 = threshold * threshold;
  const mask = new Uint8Array(size * size);
  for (let i = 0; i < size * size; i++) {
    const o = i * 3;
    const d2 = (frame[o]! - bg[o]!) ** 2 + (frame[o + 1]! - bg[o + 1]!) ** 2 + (frame[o + 2]! - bg[o + 2]!) ** 2;
    if (d2 > t2) mask[i] = 1;
  }
  const detections: Detection[] = [];
  let spurious = 0;
  for (const pixels of components(mask, size)) {
    if (pixels.length < minArea || pixels.length > 0.4 * size * size) {
      spurious++;
      continue;
    }
    const first = explain(ctx, pixels, t, minArea);
    if (!first.detection) {
      spurious++;
      continue;
    }
    // Two touching objects make one region: what the first colour leaves may be a second object.
    const second = first.unexplained.length >= minArea ? explain(ctx, first.unexplained, t, minArea) : undefined;
    if (second?.detection && second.detection.colour !== first.detection.colour && colourDistance(COLOUR_RGB[first.detection.colour], ctx.ink) < 0.1) {
      // A small sprite's ink outline can outweigh its fill: the ink-coloured "object" around
      // another colour is that sprite's outline. Read the region again with the inner colour.
      const whole = explain(ctx, pixels, t, minArea, second.detection.colour);
      if (whole.detection) detections.push(whole.detection);
      continue;
    }
    detections.push(first.detection);
    if (second?.detection && second.detection.colour !== first.detection.colour) detections.push(second.detection);
    else if (first.unexplained.length >= minArea) spurious++;
  }
  return { detections, spurious };
}

// ---------------------------------------------------------------------------------------------
// 4. Tracks and their readings

interface Track {
  detections: (Detection | undefined)[];
  last: Detection;
}

function track(readings: FrameReading[], size: number, shift: [number, number][]): Track[] {
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
function template(kind: SubjectKind, n: number, cx: number, cy: number, blurPx = 0): SpriteRaster {
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
function extentRatio(kind: SubjectKind, blurPx = 0): number {
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

function softExtents(alpha: Float32Array, w: number, h: number): { width: number; height: number } {
  let width = 0;
  for (let x = 0; x < w; x++) {
    let m = 0;
    for (let y = 0; y < h; y++) m = Math.max(m, alpha[y * w + x]!);
    width += m;
  }
  let height = 0;
  for (let y = 0; y < h; y++) {
    let m = 0;
    for (let x = 0; x < w; x++) m = Math.max(m, alpha[y * w + x]!);
    height += m;
  }
  return { width, height };
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

function styleOf(ink: number, halo: number): Style {
  if (ink >= 0.3 && ink >= halo) return 'cartoon';
  if (halo >= 0.3) return 'neon';
  return 'plain';
}

function readTrack(tr: Track, frames: number, size: number, blurPx: number, shift: [number, number][]): PerceivedObject {
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

// ---------------------------------------------------------------------------------------------

/**
 * Bumped when perception reads the same pixels differently, so caches of what it read (human sets'
 * labels, detector features) are rebuilt. 2 (2026-11-27): a still camera stays still (registration).
 */
export const PERCEPTION_VERSION = 2;

/** Reads a video. Never throws on odd pixel values; a video of the wrong layout is an Error. */
export function perceive(video: Video): Perception {
  const { frames, height, width } = video;
  if (height !== width) throw new Error(`perceive: frames must be square, got ${height}x${width}`);
  if (video.data.length !== frames * height * width * 3) throw new Error(`perceive: data holds ${video.data.length} values, expected ${frames}x${height}x${width}x3`);
  const size = width;
  const data = sanitize(video);
  const reg = register(data, frames, size);
  const frameLength = size * size * 3;

  const ink = SCENE_INFO[reg.scene].ink;
  // The plate as each frame shows it: moved as the camera moved, scaled by the frame's brightness
  // gain (saturating at white, as the frame itself does). Sprite colours are scaled alike.
  const backgroundOf = (t: number) => registeredBackground(reg.plate, size, reg.gain[t]!, reg.shift[t]![0], reg.shift[t]![1]);
  const frameAt = (t: number) => data.subarray(t * frameLength, (t + 1) * frameLength);

  // Noise: robust spread (median absolute residual) of the per-channel residual against the
  // registered plate; the background error: how far most pixels (70%, so sprites do not count)
  // are from it. Both from histograms over two frames.
  const bins = 600;
  const binWidth = CLIP / bins;
  const channelHist = new Uint32Array(bins);
  const pixelHist = new Uint32Array(bins);
  for (const t of [0, frames >> 1]) {
    const f = frameAt(t);
    const bg = backgroundOf(t);
    for (let i = 0; i < size * size; i++) {
      let d = 0;
      for (let c = 0; c < 3; c++) {
        const r = Math.abs(f[i * 3 + c]! - bg[i * 3 + c]!);
        d += r;
        if (r < CLIP) channelHist[Math.floor(r / binWidth)]!++;
      }
      pixelHist[Math.min(bins - 1, Math.floor(d / 3 / binWidth))]!++;
    }
  }
  // Half a bin is the histogram's resolution, not noise: below it, call it none.
  const rawNoise = 1.4826 * quantile(channelHist, 0.5, binWidth);
  const noise = rawNoise <= 1.4826 * binWidth ? 0 : rawNoise;
  const backgroundError = quantile(pixelHist, 0.7, binWidth) <= binWidth ? 0 : quantile(pixelHist, 0.7, binWidth);

  const readings: FrameReading[] = [];
  for (let t = 0; t < frames; t++) readings.push(detectObjects({ frame: frameAt(t), bg: backgroundOf(t), size, noise, ink: lift(ink, reg.gain[t]!), gain: reg.gain[t]! }, t));

  // Objects are tracks seen in at least a quarter of the frames; shorter ones are artefacts.
  const tracks = track(readings, size, reg.shift);
  const solid = tracks.filter((tr) => tr.detections.filter(Boolean).length >= Math.max(2, frames / 4));
  const objects = solid.map((tr) => readTrack(tr, frames, size, (reg.blur * size) / 32, reg.shift)).sort((a, b) => b.presence - a.presence || b.sizePx - a.sizePx);
  const shortTracks = tracks.length - solid.length;

  // Style is evidence pooled over objects: absence of an outline on one sprite does not outvote its presence on another.
  const pooledStyle = (ds: Detection[]) => (ds.length ? styleOf(ds.reduce((s, d) => s + d.ink, 0) / ds.length, ds.reduce((s, d) => s + d.halo, 0) / ds.length) : 'plain');
  const frameStyles = Array.from({ length: frames }, (_, t) => pooledStyle(objects.map((o) => o.detections[t]).filter((d): d is Detection => d !== undefined)));
  const counts = Array.from({ length: frames }, (_, t) => objects.filter((o) => o.present[t]).length);
  let changes = 0;
  for (let t = 1; t < frames; t++) if (counts[t] !== counts[t - 1]) changes++;
  let flicker = 0;
  let shake = 0;
  for (let t = 1; t < frames; t++) {
    flicker += Math.abs(reg.gain[t]! - reg.gain[t - 1]!);
    shake += Math.hypot(reg.shift[t]![0] - reg.shift[t - 1]![0], reg.shift[t]![1] - reg.shift[t - 1]![1]);
  }

  // Edge softness: sprites' partial-coverage mass relative to their template's.
  let softObserved = 0;
  let softTemplate = 0;
  for (const o of objects) {
    for (const d of o.detections.filter((d): d is Detection => d !== undefined).slice(0, 3)) {
      for (const a of d.patch.alpha) softObserved += 4 * a * (1 - a);
      const n = Math.max(d.width, d.height) / extentRatio(o.kind);
      const shape = SHAPES[o.kind];
      const t = template(o.kind, n, d.cx - (shape.centroidU * n) / 2, d.cy - (shape.centroidV * n) / 2);
      for (const a of t.fill) softTemplate += 4 * a * (1 - a);
    }
  }
  const spurious = readings.reduce((s, r) => s + r.spurious, 0);

  return {
    frames,
    size,
    scene: reg.scene,
    sceneScore: reg.sceneScore,
    frameScenes: reg.frameScenes,
    objects,
    style: objects.length ? styleOf(objects.reduce((s, o) => s + o.ink, 0) / objects.length, objects.reduce((s, o) => s + o.halo, 0) / objects.length) : 'plain',
    frameStyles,
    temporal: {
      gain: reg.gain,
      shift: reg.shift,
      flicker: flicker / Math.max(1, frames - 1),
      shake: (shake / Math.max(1, frames - 1)) * (32 / size),
      popping: changes / Math.max(1, frames - 1),
    },
    quality: {
      noise,
      blur: reg.blur,
      edgeSoftness: softTemplate > 0 ? softObserved / softTemplate : 1,
      artefacts: (spurious + shortTracks) / frames,
      backgroundError,
    },
  };
}

