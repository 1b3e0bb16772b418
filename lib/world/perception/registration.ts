// Steps 1 and 2: the scene, then the camera. The scene is the plate nearest the frames; against it,
// each frame's offset (shake) and brightness gain (flicker), and one blur level for the clip, so
// that the plate matches every frame as well as it can.
import { background } from '../render';
import { SCENES, type Scene } from '../vocabulary';
import { BLURS, brightPixels, clippedDistance, medianLuminance, plate, plateLevel, samples } from './plates';

export interface Registration {
  scene: Scene;
  sceneScore: number;
  frameScenes: Scene[];
  gain: number[];
  shift: [number, number][];
  blur: number;
  plate: Float32Array;
}

type FrameAt = (t: number) => Float32Array;

export function register(data: Float32Array, frames: number, size: number): Registration {
  const frameLength = size * size * 3;
  const frame = (t: number) => data.subarray(t * frameLength, (t + 1) * frameLength);
  const { scene, sceneScore, frameScenes } = readScene(frame, frames, size);
  const base = background(scene, size);
  // A first brightness gain (flicker) read at no shift: flat patches barely change under a small shake.
  const bright = brightPixels(scene, size);
  const firstGain = Array.from({ length: frames }, (_, t) => readGain(frame(t), base, size, bright, [0, 0]));
  const shift = readShifts(frame, frames, size, scene, firstGain);
  // Gain again, now that the camera offsets are known.
  const gain = Array.from({ length: frames }, (_, t) => readGain(frame(t), base, size, bright, shift[t]!));
  const blur = readBlur(frame, frames, size, scene, gain, shift);
  return { scene, sceneScore, frameScenes, gain, shift, blur, plate: plate(scene, size, blur) };
}

/**
 * Scene: per frame, the plate at the least clipped distance; the clip's scene minimises the sum.
 * Each plate is also tried at the frame's overall brightness (median luminance), so a flickering
 * frame is not taken for a brighter or darker scene.
 */
function readScene(frame: FrameAt, frames: number, size: number): Pick<Registration, 'scene' | 'sceneScore' | 'frameScenes'> {
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
  // 1 when frames match the plate, 0 when they are as far from it as from a clearly different scene.
  const sceneScore = Math.max(0, Math.min(1, 1 - totals[sceneIndex]! / frames / 0.08));
  return { scene: SCENES[sceneIndex]!, sceneScore, frameScenes };
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

/**
 * Camera offsets, judged on the plate's edges: no shift if it is a clear minimum; otherwise every
 * offset up to 2 px, then a greedy walk outwards for larger shakes. Offsets are scored against the
 * plate and against a blurred plate (a sharp edge and a blurred one match nowhere), the better counting.
 */
function readShifts(frame: FrameAt, frames: number, size: number, scene: Scene, gain: number[]): [number, number][] {
  const plates: EdgePlates = { size, edges: samples(scene, size).edges, base: background(scene, size), soft: plate(scene, size, 1.2) };
  const maxShift = Math.max(2, Math.round((4 * size) / 32));
  const shift: [number, number][] = [];
  const weak: boolean[] = [];
  let clearFrames = 0;
  for (let t = 0; t < frames; t++) {
    const { sx, sy, d, d0 } = frameShift(frame(t), gain[t]!, plates, maxShift);
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
  return shift;
}

interface EdgePlates {
  size: number;
  edges: Int32Array;
  base: Float32Array;
  /** The plate blurred (sigma 1.2 px of a 32 px frame). */
  soft: Float32Array;
}

/** One frame's best offset (sx, sy), its distance d and the distance d0 at no offset. */
function frameShift(f: Float32Array, g: number, { size, edges, base, soft }: EdgePlates, maxShift: number): { sx: number; sy: number; d: number; d0: number } {
  // The first gain can be misled by the shake itself (a bright patch moved onto a dark one), so
  // offsets are scored both at that gain and at none, against the plate and a blurred plate.
  const score = (sx: number, sy: number) => {
    let d = Math.min(clippedDistance(f, base, size, g, sx, sy, edges), clippedDistance(f, soft, size, g, sx, sy, edges));
    if (g !== 1) d = Math.min(d, clippedDistance(f, base, size, 1, sx, sy, edges), clippedDistance(f, soft, size, 1, sx, sy, edges));
    return d;
  };
  let sx = 0;
  let sy = 0;
  const d0 = edges.length >= 8 ? score(0, 0) : 0;
  let d = d0;
  let clear = d0 < 1e-3;
  if (!clear) {
    // A clear minimum at no shift: each one-pixel step makes things clearly worse.
    clear = true;
    for (let k = 0; k < 4 && clear; k++) clear = score(NEIGHBOURS[k]![0], NEIGHBOURS[k]![1]) > 1.5 * d0;
  }
  if (clear) return { sx, sy, d, d0 };
  for (let ny = -2; ny <= 2; ny++) {
    for (let nx = -2; nx <= 2; nx++) {
      if (nx === 0 && ny === 0) continue;
      const nd = score(nx, ny);
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
      const nd = score(nx, ny);
      if (nd < d - 1e-4) {
        d = nd;
        sx = nx;
        sy = ny;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return { sx, sy, d, d0 };
}

/** Blur: the level whose blurred plate best matches a few frames at the edges (0 without a clear gain). */
function readBlur(frame: FrameAt, frames: number, size: number, scene: Scene, gain: number[], shift: [number, number][]): number {
  const { edges } = samples(scene, size);
  if (edges.length < 8) return 0;
  const probe = [0, frames >> 1, frames - 1];
  let blur = 0;
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
  // No clear gain: keep the sharp plate.
  return bestD > 0.9 * sharpD ? 0 : blur;
}
