// The renderer: a prompt spec becomes a ground-truth video (the paper's real videos, D_real). Scenes
// are fixed backgrounds, subjects are anti-aliased sprites moving along their trajectories; the seed
// varies start positions, speeds and phases, so one prompt has many natural renders.
import { Rng, type Seed } from './rng';
import { validateSpec, type PromptSpec, type Video } from './spec';
import { rasterize } from './sprites';
import { layoutRegions, spritePx, trajectory, type Pose } from './trajectories';
import { COLOUR_RGB, SCENE_INFO, NEON_GLOW, type Motion, type Rgb, type Scene } from './vocabulary';

export const DEFAULT_FRAMES = 16;
export const DEFAULT_SIZE = 32;
/** Frames per second the world's clips are meant to play at (GIFs, dynamic degree's frame interval). */
export const FPS = 8;

export interface RenderOptions {
  seed: Seed;
  frames?: number;
  /** Frame side in pixels (frames are square). */
  size?: number;
  /** Corruptions only: draw these motions instead of the spec's actions (per subject index). */
  motions?: (Motion | undefined)[];
  /** Corruptions only: leave these subjects out (the others keep their places). */
  omit?: number[];
}

export function emptyVideo(frames: number, height: number, width: number): Video {
  return { frames, height, width, data: new Float32Array(frames * height * width * 3) };
}

// ---------------------------------------------------------------------------------------------
// Backgrounds: functions of the normalised pixel centre (x, y in [0, 1)), cached per size.

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
const frac = (x: number) => x - Math.floor(x);

/** Bubble centres: a jittered 4x4 grid (fixed), so the scene has edges and flat patches everywhere. */
const BUBBLES: [number, number][] = (() => {
  const rng = new Rng('bubble void');
  return Array.from({ length: 16 }, (_, k) => [((k % 4) + 0.5 + rng.uniform(-0.2, 0.2)) / 4, (Math.floor(k / 4) + 0.5 + rng.uniform(-0.2, 0.2)) / 4] as [number, number]);
})();
const CITY_BUILDINGS = [0.45, 0.3, 0.55, 0.38, 0.5];

const BACKGROUNDS: Readonly<Record<Scene, (x: number, y: number) => Rgb>> = {
  forest: (x, y) => (y > 0.35 && frac(x * 4 + 0.1) < 0.22 ? [0.3, 0.2, 0.1] : mix([0.1, 0.26, 0.12], [0.16, 0.38, 0.16], y)),
  desert: (x, y) => (y < 0.3 ? [0.78, 0.86, 0.95] : y > 0.55 && y < 0.6 + 0.05 * Math.sin(2 * Math.PI * x) ? [0.76, 0.62, 0.38] : [0.86, 0.74, 0.48]),
  snowfield: (x, y) => (y < 0.35 + 0.05 * Math.sin(3 * Math.PI * x) ? [0.7, 0.78, 0.88] : [0.93, 0.94, 0.97]),
  'city street': (x, y) => {
    if (y >= 0.6) return [0.4, 0.4, 0.42];
    const h = CITY_BUILDINGS[Math.min(CITY_BUILDINGS.length - 1, Math.floor(x * CITY_BUILDINGS.length))]!;
    return y > 0.6 - h ? [0.28, 0.28, 0.32] : [0.55, 0.62, 0.72];
  },
  ocean: (_x, y) => (frac(y * 4) < 0.08 ? [0.1, 0.32, 0.55] : mix([0.05, 0.22, 0.45], [0.03, 0.12, 0.3], y)),
  kitchen: (x, y) => (y < 0.62 ? [0.82, 0.74, 0.6] : (Math.floor(x * 8) + Math.floor(y * 8)) % 2 === 0 ? [0.55, 0.45, 0.35] : [0.62, 0.52, 0.4]),
  'neon dreamscape': (x, y) => (frac((x + y) * 4) < 0.5 ? [0.3, 0.05, 0.35] : [0.15, 0.02, 0.25]),
  'checkerboard void': (x, y) => ((Math.floor(x * 4) + Math.floor(y * 4)) % 2 === 0 ? [0.12, 0.12, 0.12] : [0.22, 0.22, 0.22]),
  'bubble void': (x, y) => (BUBBLES.some(([bx, by]) => Math.hypot(x - bx, y - by) < 0.075) ? [0.3, 0.5, 0.55] : [0.04, 0.16, 0.2]),
  'pastel swirl': (x, y) => mix([0.75, 0.93, 0.9], [0.93, 0.8, 0.9], Math.min(1, Math.hypot(x - 0.5, y - 0.5) / 0.7)),
};

const backgroundCache = new Map<string, Float32Array>();

/** The scene's background plate, [H, W, 3] (shared: do not modify). */
export function background(scene: Scene, size: number): Float32Array {
  const key = `${scene}@${size}`;
  let plate = backgroundCache.get(key);
  if (!plate) {
    plate = new Float32Array(size * size * 3);
    const f = BACKGROUNDS[scene];
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) {
        const c = f((i + 0.5) / size, (j + 0.5) / size);
        plate.set(c, (j * size + i) * 3);
      }
    }
    backgroundCache.set(key, plate);
  }
  return plate;
}

// ---------------------------------------------------------------------------------------------

/** Composites `colour` with per-pixel coverage into one frame. */
function paint(frame: Float32Array, size: number, x0: number, y0: number, w: number, h: number, coverage: Float32Array, colour: Rgb): void {
  for (let j = 0; j < h; j++) {
    const y = y0 + j;
    if (y < 0 || y >= size) continue;
    for (let i = 0; i < w; i++) {
      const a = coverage[j * w + i]!;
      const x = x0 + i;
      if (a <= 0 || x < 0 || x >= size) continue;
      const o = (y * size + x) * 3;
      frame[o] = frame[o]! + (colour[0] - frame[o]!) * a;
      frame[o + 1] = frame[o + 1]! + (colour[1] - frame[o + 1]!) * a;
      frame[o + 2] = frame[o + 2]! + (colour[2] - frame[o + 2]!) * a;
    }
  }
}

/** The poses of every subject of a render (what the renderer draws; tests use it as ground truth). */
export function renderPoses(spec: PromptSpec, options: RenderOptions): Pose[][] {
  const frames = options.frames ?? DEFAULT_FRAMES;
  const size = options.size ?? DEFAULT_SIZE;
  const regions = layoutRegions(spec, size);
  return spec.subjects.map((subject, i) => {
    // One stream per subject, so a corruption that changes one subject leaves the other untouched.
    const rng = new Rng(options.seed, 'render', i);
    const motion = options.motions?.[i] ?? subject.action;
    return trajectory(subject.kind, spritePx(subject, size), motion, spec.speed, regions[i]!, frames, size, rng);
  });
}

/** Renders a spec to a video: `frames` (default 16) square frames of `size` (default 32) pixels, RGB in [0, 1]. */
export function renderVideo(spec: PromptSpec, options: RenderOptions): Video {
  validateSpec(spec);
  const frames = options.frames ?? DEFAULT_FRAMES;
  const size = options.size ?? DEFAULT_SIZE;
  if (!Number.isInteger(frames) || frames < 2) throw new Error(`renderVideo: frames must be an integer >= 2, got ${frames}`);
  if (!Number.isInteger(size) || size < 16) throw new Error(`renderVideo: size must be an integer >= 16, got ${size}`);
  const video = emptyVideo(frames, size, size);
  const plate = background(spec.scene, size);
  const poses = renderPoses(spec, options);
  const frameLength = size * size * 3;
  const omit = new Set(options.omit ?? []);
  for (let t = 0; t < frames; t++) {
    const frame = video.data.subarray(t * frameLength, (t + 1) * frameLength);
    frame.set(plate);
    spec.subjects.forEach((subject, i) => {
      if (omit.has(i)) return;
      const pose = poses[i]![t]!;
      const colour = COLOUR_RGB[subject.color];
      const withBand = spec.style !== 'plain';
      const r = rasterize(subject.kind, spritePx(subject, size) * pose.scale, pose.cx, pose.cy, withBand);
      if (withBand) paint(frame, size, r.x0, r.y0, r.w, r.h, r.band, spec.style === 'cartoon' ? SCENE_INFO[spec.scene].ink : NEON_GLOW);
      paint(frame, size, r.x0, r.y0, r.w, r.h, r.fill, colour);
    });
  }
  return video;
}
