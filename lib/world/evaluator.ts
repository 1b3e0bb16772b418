// The benchmark: VBench's 16 dimensions computed on pixels in this world, each following VBench's
// own definition as closely as the world allows (Vchitect/VBench, see docs/world.md for each one),
// aggregated with VBench's normalisation and weights (lib/core/vbench). It shares nothing trained
// with the critic: it reads videos through the world's perception and fixed formulas.
import { jackknifeGain, type PairedGain } from '../core/paired-gain';
import { VBENCH_DIMENSIONS, VBENCH_NORMALIZE, VBENCH_QUALITY_DIMENSIONS, VBENCH_SEMANTIC_DIMENSIONS, vbenchScores, type VBenchDimension } from '../core/vbench';
import { matchSubjects } from './accuracy';
import { assess } from './assessment';
import { perceive, type Detection, type PerceivedObject, type Perception } from './perception';
import { FPS } from './render';
import type { PromptSpec, Video } from './spec';
import { ACTION_INFO, RELATION_AXIS, SPEED_BOUNDS, SPEED_TRAVEL, SUBJECTS, colourDistance, SCENE_INFO, COLOUR_RGB } from './vocabulary';

export type { VBenchDimension } from '../core/vbench';
export { VBENCH_DIMENSIONS } from '../core/vbench';

export interface EvalItem {
  spec: PromptSpec;
  video: Video;
  /** Perception of the video, if already computed (it is the costly part). */
  perception?: Perception;
}

export interface EvalResult {
  /** Raw score per dimension in [0, 1]; NaN where no video in the set is concerned (see `missing`). */
  dimensions: Record<VBenchDimension, number>;
  /** VBench Total / Quality / Semantic on 0-100 (uncovered dimensions take their group's mean, see docs). */
  total: number;
  quality: number;
  semantic: number;
  /** Videos (or frames, items) each dimension was computed on. */
  coverage: Record<VBenchDimension, number>;
  missing: VBenchDimension[];
  perVideo?: Partial<Record<VBenchDimension, number>>[];
  /** With `perVideo`: the weight each video's value carries in the set's mean (frames, for some). */
  perVideoWeights?: Partial<Record<VBenchDimension, number>>[];
  /** With `perVideo`: each video's own Total, the Total it gets when evaluated alone. */
  videoTotals?: number[];
}

// ---------------------------------------------------------------------------------------------
// Accumulators: VBench averages some dimensions over frames, others over videos.

class Mean {
  sum = 0;
  n = 0;
  add(v: number, weight = 1): void {
    this.sum += v * weight;
    this.n += weight;
  }
  get value(): number {
    return this.n ? this.sum / this.n : NaN;
  }
}

function cosine(a: Float64Array, b: Float64Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : aa === bb ? 1 : 0;
}

/** VBench's consistency: per frame i >= 1, [max(0, cos(f_i-1, f_i)) + max(0, cos(f_0, f_i))] / 2. Returns the per-frame scores. */
function consistency(features: Float64Array[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < features.length; i++) out.push((Math.max(0, cosine(features[i - 1]!, features[i]!)) + Math.max(0, cosine(features[0]!, features[i]!))) / 2);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Features standing in for DINO (subjects) and CLIP (whole frames)

const GRID = 4;

/**
 * The subjects' appearance in one frame (DINO's role): per object, its measured colour and the
 * occupancy of its sprite over a 4x4 grid of its box; zeros when it is not seen. Where, in the
 * frame, it is does not enter (DINO's class token barely moves with position).
 */
function subjectFeature(objects: PerceivedObject[], t: number): Float64Array {
  const block = 3 + GRID * GRID;
  const f = new Float64Array(Math.max(1, objects.length) * block);
  objects.forEach((o, k) => {
    const d: Detection | undefined = o.detections[t];
    if (!d) return;
    const base = k * block;
    f[base] = d.rgb[0] - 0.5;
    f[base + 1] = d.rgb[1] - 0.5;
    f[base + 2] = d.rgb[2] - 0.5;
    const { x0, y0, w, h, alpha } = d.patch;
    const cells = new Float64Array(GRID * GRID);
    const counts = new Float64Array(GRID * GRID);
    const left = d.cx - d.width / 2 - x0;
    const top = d.cy - d.height / 2 - y0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const gx = Math.floor(((x + 0.5 - left) / Math.max(1e-6, d.width)) * GRID);
        const gy = Math.floor(((y + 0.5 - top) / Math.max(1e-6, d.height)) * GRID);
        if (gx < 0 || gy < 0 || gx >= GRID || gy >= GRID) continue;
        cells[gy * GRID + gx] = cells[gy * GRID + gx]! + alpha[y * w + x]!;
        counts[gy * GRID + gx] = counts[gy * GRID + gx]! + 1;
      }
    }
    for (let c = 0; c < GRID * GRID; c++) f[base + 3 + c] = (counts[c] ? cells[c]! / counts[c]! : 0) - 0.5;
  });
  return f;
}

/** A whole frame average-pooled to 8x8 RGB, centred (CLIP's role for the background). */
function frameFeature(video: Video, t: number): Float64Array {
  const P = 8;
  const { width: W, height: H } = video;
  const f = new Float64Array(P * P * 3);
  const n = new Float64Array(P * P);
  const base = t * W * H * 3;
  for (let y = 0; y < H; y++) {
    const py = Math.floor((y * P) / H);
    for (let x = 0; x < W; x++) {
      const px = Math.floor((x * P) / W);
      const o = base + (y * W + x) * 3;
      const k = py * P + px;
      for (let c = 0; c < 3; c++) f[k * 3 + c] = f[k * 3 + c]! + clamp01(video.data[o + c]!);
      n[k] = n[k]! + 1;
    }
  }
  for (let k = 0; k < P * P; k++) for (let c = 0; c < 3; c++) f[k * 3 + c] = f[k * 3 + c]! / n[k]! - 0.5;
  return f;
}

const clamp01 = (v: number) => (v > 0 ? (v < 1 ? v : 1) : 0);
const u8 = (v: number) => Math.round(clamp01(v) * 255);

// ---------------------------------------------------------------------------------------------
// Temporal dimensions on raw pixels

/** The video as uint8 (what VBench reads from disk), computed once per video. */
function toBytes(video: Video): Uint8Array {
  const out = new Uint8Array(video.data.length);
  const d = video.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    out[i] = v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
  }
  return out;
}

/** VBench temporal_flickering: (255 - mean MAE of consecutive uint8 frames) / 255. */
export function temporalFlickering(video: Video, bytes = toBytes(video)): number {
  const { frames, width: W, height: H } = video;
  const L = W * H * 3;
  let total = 0;
  for (let t = 1; t < frames; t++) {
    let mae = 0;
    const a = (t - 1) * L;
    const b = t * L;
    for (let i = 0; i < L; i++) mae += Math.abs(bytes[b + i]! - bytes[a + i]!);
    total += mae / L;
  }
  return (255 - total / Math.max(1, frames - 1)) / 255;
}

function bilinear(data: Float32Array, W: number, H: number, t: number, x: number, y: number, c: number): number {
  let cx = x - 0.5;
  let cy = y - 0.5;
  cx = cx < 0 ? 0 : cx > W - 1 ? W - 1 : cx;
  cy = cy < 0 ? 0 : cy > H - 1 ? H - 1 : cy;
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = x0 + 1 < W ? x0 + 1 : W - 1;
  const y1 = y0 + 1 < H ? y0 + 1 : H - 1;
  const fx = cx - x0;
  const fy = cy - y0;
  const base = t * H * W;
  const v00 = clamp01(data[(base + y0 * W + x0) * 3 + c]!);
  const v10 = clamp01(data[(base + y0 * W + x1) * 3 + c]!);
  const v01 = clamp01(data[(base + y1 * W + x0) * 3 + c]!);
  const v11 = clamp01(data[(base + y1 * W + x1) * 3 + c]!);
  return (v00 * (1 - fx) + v10 * fx) * (1 - fy) + (v01 * (1 - fx) + v11 * fx) * fy;
}

/**
 * VBench motion_smoothness: odd frames interpolated from their even neighbours, score
 * (255 - mean |frame - interpolation| in uint8) / 255. VBench interpolates with AMT; here a
 * motion-compensated midpoint: each pixel takes the best of a few candidate motions (none, the
 * camera's, each tracked object's) between the two even frames, as a flow-based interpolator would.
 */
export function motionSmoothness(video: Video, p: Perception, bytes = toBytes(video)): number {
  const { frames: T, width: W, height: H } = video;
  // Differences below what the noise explains are no motion.
  const still = Math.max(0.01, 8 * p.quality.noise);
  let total = 0;
  let count = 0;
  for (let t = 1; t + 1 < T; t += 2) {
    const candidates: [number, number][] = [[0, 0]];
    const cam = [(p.temporal.shift[t + 1]![0] - p.temporal.shift[t - 1]![0]) / 2, (p.temporal.shift[t + 1]![1] - p.temporal.shift[t - 1]![1]) / 2] as [number, number];
    if (cam[0] || cam[1]) candidates.push(cam);
    for (const o of p.objects) {
      const a = o.detections[t - 1];
      const b = o.detections[t + 1];
      if (a && b) candidates.push([(b.cx - a.cx) / 2, (b.cy - a.cy) / 2]);
    }
    const data = video.data;
    let err = 0;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const o = (y * W + x) * 3;
        const pa = ((t - 1) * H * W) * 3 + o;
        const pb = ((t + 1) * H * W) * 3 + o;
        // Most pixels do not change: no motion explains them exactly (and cheaply).
        let e0 = 0;
        for (let c = 0; c < 3; c++) e0 += Math.abs(clamp01(data[pa + c]!) - clamp01(data[pb + c]!));
        let bx = 0;
        let by = 0;
        if (e0 > still && candidates.length > 1) {
          let best = e0;
          for (let k = 1; k < candidates.length; k++) {
            const [dx, dy] = candidates[k]!;
            let e = 0;
            for (let c = 0; c < 3; c++) e += Math.abs(bilinear(data, W, H, t - 1, x + 0.5 - dx, y + 0.5 - dy, c) - bilinear(data, W, H, t + 1, x + 0.5 + dx, y + 0.5 + dy, c));
            if (e < best) {
              best = e;
              bx = dx;
              by = dy;
            }
          }
        }
        for (let c = 0; c < 3; c++) {
          const mid =
            bx === 0 && by === 0
              ? (clamp01(data[pa + c]!) + clamp01(data[pb + c]!)) / 2
              : (bilinear(data, W, H, t - 1, x + 0.5 - bx, y + 0.5 - by, c) + bilinear(data, W, H, t + 1, x + 0.5 + bx, y + 0.5 + by, c)) / 2;
          err += Math.abs(bytes[((t * H + y) * W + x) * 3 + c]! - u8(mid));
        }
      }
    }
    total += err / (W * H * 3);
    count++;
  }
  return count ? (255 - total / count) / 255 : 1;
}

/**
 * VBench dynamic_degree: flow between frames round(fps/8) apart; a pair's score is the mean of its
 * largest 5% flow magnitudes; a video is dynamic when at least round(4 N / 16) pairs exceed
 * 6 min(H, W) / 256. Flow here: each tracked sprite's displacement (plus its growth) over its pixels,
 * the camera's shift elsewhere.
 */
export function isDynamic(video: Video, p: Perception): boolean {
  const { frames: T, width: W, height: H } = video;
  const step = Math.max(1, Math.round(FPS / 8));
  const threshold = (6 * Math.min(H, W)) / 256;
  const top = Math.max(1, Math.round(0.05 * W * H));
  let moving = 0;
  let pairs = 0;
  for (let t = 0; t + step < T; t += step) {
    pairs++;
    const cam = Math.hypot(p.temporal.shift[t + step]![0] - p.temporal.shift[t]![0], p.temporal.shift[t + step]![1] - p.temporal.shift[t]![1]);
    // Flow magnitudes: each sprite's pixels move with it (plus its growth), the rest with the camera.
    const mags: number[] = [];
    for (const o of p.objects) {
      const a = o.detections[t];
      const b = o.detections[t + step];
      if (!a || !b) continue;
      const move = Math.hypot(b.cx - a.cx, b.cy - a.cy);
      const grow = Math.abs(Math.max(b.width, b.height) - Math.max(a.width, a.height)) / 2;
      const pixels = Math.round(a.area);
      for (let k = 0; k < pixels; k++) mags.push(move + grow * ((k + 0.5) / pixels));
    }
    mags.sort((x, y) => y - x);
    let sum = 0;
    let next = 0;
    let background = W * H - mags.length;
    for (let k = 0; k < top; k++) {
      if (next < mags.length && (mags[next]! >= cam || background <= 0)) sum += mags[next++]!;
      else if (background-- > 0) sum += cam;
    }
    if (sum / top > threshold) moving++;
  }
  return moving >= Math.round((4 * pairs) / 16);
}

// ---------------------------------------------------------------------------------------------
// Picture quality proxies (documented stand-ins for the LAION aesthetic predictor and MUSIQ)

function sharpness(p: Perception): number {
  const q = p.quality;
  const blur = Math.max(q.blur, q.edgeSoftness > 1.2 ? (q.edgeSoftness - 1) / 2 : 0);
  return 1 / (1 + (blur / 1.2) ** 2);
}

/** imaging_quality: technical quality from sharpness, noise, artefacts and exposure. */
export function imagingQuality(p: Perception): number {
  const q = p.quality;
  const clean = Math.exp(-q.noise / 0.05) / (1 + q.artefacts / 2);
  const exposure = 1 - Math.min(1, p.temporal.gain.reduce((s, g) => s + Math.abs(g - 1), 0) / p.temporal.gain.length);
  const distortion = 1 - Math.min(1, q.backgroundError / 0.2);
  return clamp01(sharpness(p) * clean * exposure * distortion);
}

/** aesthetic_quality: sharp, clean pictures of well-formed subjects that stand out from their scene. */
export function aestheticQuality(p: Perception): number {
  const scene = SCENE_INFO[p.scene];
  const contrast = p.objects.length
    ? p.objects.reduce((s, o) => s + Math.min(1, Math.min(...scene.palette.map((c) => colourDistance(COLOUR_RGB[o.colour], c))) / 0.4), 0) / p.objects.length
    : 0.3;
  const form = p.objects.length ? p.objects.reduce((s, o) => s + Math.min(1, o.kindScore / 0.8), 0) / p.objects.length : 0.3;
  const clean = Math.exp(-p.quality.noise / 0.06) / (1 + p.quality.artefacts / 3);
  return clamp01(0.35 * sharpness(p) + 0.25 * clean + 0.2 * form + 0.2 * contrast);
}

// ---------------------------------------------------------------------------------------------

/** Soft match of a measured travel (share of the frame per clip) to the speed band asked for. */
function speedMatch(travel: number, speed: keyof typeof SPEED_TRAVEL): number {
  const lo = speed === 'slow' ? 0 : speed === 'normal' ? SPEED_BOUNDS.slowNormal : SPEED_BOUNDS.normalFast;
  const hi = speed === 'slow' ? SPEED_BOUNDS.slowNormal : speed === 'normal' ? SPEED_BOUNDS.normalFast : Infinity;
  const out = travel < lo ? lo - travel : travel > hi ? travel - hi : 0;
  return Math.exp(-((out / 0.05) ** 2));
}

function boxOf(d: Detection): [number, number, number, number] {
  return [d.cx - d.width / 2, d.cy - d.height / 2, d.cx + d.width / 2, d.cy + d.height / 2];
}

function iou(a: [number, number, number, number], b: [number, number, number, number]): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

/** Scales a match in [0, 1] onto the raw range of a VBench dimension measured as a cosine (so VBench's normalisation maps it back). */
function onCosineScale(d: VBenchDimension, match: number): number {
  const { min, max } = VBENCH_NORMALIZE[d];
  return min + match * (max - min);
}

export interface EvalOptions {
  /** Keep per-video scores and Totals (default false). */
  perVideo?: boolean;
}

/** Scores a set of videos against their prompts on VBench's 16 dimensions. */
export function evaluateVideos(items: readonly EvalItem[], options: EvalOptions = {}): EvalResult {
  const acc = Object.fromEntries(VBENCH_DIMENSIONS.map((d) => [d, new Mean()])) as Record<VBenchDimension, Mean>;
  const perVideo: Partial<Record<VBenchDimension, number>>[] = [];
  const perVideoWeights: Partial<Record<VBenchDimension, number>>[] = [];
  for (const item of items) {
    const { spec, video } = item;
    const p = item.perception ?? perceive(video);
    const T = video.frames;
    const mine: Partial<Record<VBenchDimension, number>> = {};
    const myWeights: Partial<Record<VBenchDimension, number>> = {};
    const record = (d: VBenchDimension, value: number, weight = 1) => {
      acc[d].add(value, weight);
      mine[d] = value;
      myWeights[d] = weight;
    };

    // Quality dimensions.
    const subj = consistency(Array.from({ length: T }, (_, t) => subjectFeature(p.objects, t)));
    record('subject_consistency', subj.reduce((a, b) => a + b, 0) / subj.length, subj.length);
    const back = consistency(Array.from({ length: T }, (_, t) => frameFeature(video, t)));
    record('background_consistency', back.reduce((a, b) => a + b, 0) / back.length, back.length);
    const bytes = toBytes(video);
    record('temporal_flickering', temporalFlickering(video, bytes));
    record('motion_smoothness', motionSmoothness(video, p, bytes));
    record('dynamic_degree', isDynamic(video, p) ? 1 : 0);
    record('aesthetic_quality', aestheticQuality(p));
    record('imaging_quality', imagingQuality(p));

    // Semantic dimensions.
    const matched = matchSubjects(spec, p);
    let classHits = 0;
    spec.subjects.forEach((s) => {
      // VBench object_class: a frame is a hit if the class is among the detections.
      for (let t = 0; t < T; t++) if (p.objects.some((o) => o.kind === s.kind && o.present[t])) classHits++;
    });
    record('object_class', classHits / (T * spec.subjects.length), T * spec.subjects.length);
    if (spec.subjects.length > 1) {
      let both = 0;
      for (let t = 0; t < T; t++) if (spec.subjects.every((s) => p.objects.some((o) => o.kind === s.kind && o.present[t]))) both++;
      record('multiple_objects', both / T, T);
    }
    const figures = spec.subjects.map((s, i) => [s, matched[i]] as const).filter(([s]) => SUBJECTS[s.kind].category === 'figure');
    if (figures.length) record('human_action', figures.filter(([s, o]) => o && o.kind === s.kind && o.motion.motion === s.action).length / figures.length, figures.length);
    // VBench color: among frames where the object is detected, the share showing the asked colour.
    const colourScores: number[] = [];
    spec.subjects.forEach((s, i) => {
      const sameKind = p.objects.filter((o) => o.kind === s.kind);
      const own = matched[i] && matched[i]!.kind === s.kind ? matched[i]! : sameKind[0];
      if (!own) return;
      let seen = 0;
      let right = 0;
      for (let t = 0; t < T; t++) {
        const d = own.detections[t];
        if (!d) continue;
        seen++;
        if (d.colour === s.color) right++;
      }
      if (seen) colourScores.push(right / seen);
    });
    if (colourScores.length) record('color', colourScores.reduce((a, b) => a + b, 0) / colourScores.length, colourScores.length);
    if (spec.relation) {
      // VBench spatial_relationship: on the relation's axis, 1 if the boxes barely overlap (IoU < 0.1) else 0.1 / IoU; off-axis 0. Direction is not checked (as in VBench).
      const a = matched[spec.relation.subject];
      const b = matched[spec.relation.object];
      let sum = 0;
      for (let t = 0; t < T; t++) {
        const da = a?.kind === spec.subjects[spec.relation.subject]!.kind ? a.detections[t] : undefined;
        const db = b?.kind === spec.subjects[spec.relation.object]!.kind ? b.detections[t] : undefined;
        if (!da || !db) continue;
        const horizontal = Math.abs(da.cx - db.cx) >= Math.abs(da.cy - db.cy);
        if ((RELATION_AXIS[spec.relation.type] === 'horizontal') !== horizontal) continue;
        const overlap = iou(boxOf(da), boxOf(db));
        sum += overlap < 0.1 ? 1 : 0.1 / overlap;
      }
      record('spatial_relationship', sum / T);
    }
    record('scene', p.frameScenes.filter((s) => s === spec.scene).length / T, T);
    // Appearance style: per frame, how strongly the asked style shows (outline or halo evidence).
    let styleSum = 0;
    for (let t = 0; t < T; t++) {
      const ds = p.objects.map((o) => o.detections[t]).filter((d): d is Detection => d !== undefined);
      const ink = ds.length ? ds.reduce((s, d) => s + d.ink, 0) / ds.length : 0;
      const halo = ds.length ? ds.reduce((s, d) => s + d.halo, 0) / ds.length : 0;
      const m = !ds.length ? 0 : spec.style === 'cartoon' ? Math.min(1, ink / 0.45) * (1 - Math.min(1, halo / 0.45)) : spec.style === 'neon' ? Math.min(1, halo / 0.45) * (1 - Math.min(1, ink / 0.45)) : 1 - Math.min(1, Math.max(ink, halo) / 0.3);
      styleSum += onCosineScale('appearance_style', m);
    }
    record('appearance_style', styleSum / T, T);
    // Temporal style: the travelling subjects move at the asked speed.
    const travelling = spec.subjects.map((s, i) => [s, matched[i]] as const).filter(([s]) => ACTION_INFO[s.action].translational);
    if (travelling.length) {
      const m = travelling.reduce((sum, [, o]) => sum + (o ? speedMatch(o.motion.travel, spec.speed) : 0), 0) / travelling.length;
      record('temporal_style', onCosineScale('temporal_style', m));
    }
    // Overall consistency: the share of the prompt the video shows (ViCLIP's video-text similarity).
    const checks = assess(spec, p).checks;
    const m = checks.reduce((s, c) => s + (c.ok ? c.weight : 0), 0) / checks.reduce((s, c) => s + c.weight, 0);
    record('overall_consistency', onCosineScale('overall_consistency', m));
    if (options.perVideo) {
      perVideo.push(mine);
      perVideoWeights.push(myWeights);
    }
  }

  const dimensions = Object.fromEntries(VBENCH_DIMENSIONS.map((d) => [d, acc[d].value])) as Record<VBenchDimension, number>;
  const coverage = Object.fromEntries(VBENCH_DIMENSIONS.map((d) => [d, acc[d].n])) as Record<VBenchDimension, number>;
  const missing = VBENCH_DIMENSIONS.filter((d) => !Number.isFinite(dimensions[d]));
  const totals = items.length ? scoresOf(dimensions) : { total: NaN, quality: NaN, semantic: NaN };
  return { dimensions, ...totals, coverage, missing, ...(options.perVideo ? { perVideo, perVideoWeights, videoTotals: perVideo.map(videoTotal) } : {}) };
}

/** Per-video dimension values and weights, in VBENCH_DIMENSIONS order (null: the video does not concern it): what scores.json keeps. */
export interface VideoParts {
  values: (number | null)[][];
  weights: (number | null)[][];
}

export function videoParts(result: EvalResult): VideoParts {
  if (!result.perVideo || !result.perVideoWeights) throw new Error('videoParts: evaluate with { perVideo: true }');
  const row = (r: Partial<Record<VBenchDimension, number>>) => VBENCH_DIMENSIONS.map((d) => r[d] ?? null);
  return { values: result.perVideo.map(row), weights: result.perVideoWeights.map(row) };
}

/** The set's VBench Total from its videos' parts, leaving out the videos `skip` names: evaluateVideos' Total on the rest. */
export function totalOfParts(parts: VideoParts, skip?: (video: number) => boolean): number {
  const sums = VBENCH_DIMENSIONS.map(() => 0);
  const weights = VBENCH_DIMENSIONS.map(() => 0);
  parts.values.forEach((row, i) => {
    if (skip?.(i)) return;
    row.forEach((v, d) => {
      const w = parts.weights[i]![d];
      if (v === null || w === null || w === undefined) return;
      sums[d]! += v * w;
      weights[d]! += w;
    });
  });
  return scoresOf(Object.fromEntries(VBENCH_DIMENSIONS.map((d, k) => [d, weights[k] ? sums[k]! / weights[k]! : Number.NaN])) as Record<VBenchDimension, number>).total;
}

/**
 * evaluateVideos' aggregate figures from the videos' parts alone, summed in the same order with the
 * same arithmetic, so the parts of shards evaluated apart and joined give the very same figures.
 */
export function evaluationOfParts(parts: VideoParts): Omit<EvalResult, 'perVideo' | 'perVideoWeights' | 'videoTotals'> {
  const sums = VBENCH_DIMENSIONS.map(() => 0);
  const weights = VBENCH_DIMENSIONS.map(() => 0);
  parts.values.forEach((row, i) => {
    row.forEach((v, d) => {
      const w = parts.weights[i]![d];
      if (v === null || w === null || w === undefined) return;
      sums[d]! += v * w;
      weights[d]! += w;
    });
  });
  const dimensions = Object.fromEntries(VBENCH_DIMENSIONS.map((d, k) => [d, weights[k] ? sums[k]! / weights[k]! : Number.NaN])) as Record<VBenchDimension, number>;
  const coverage = Object.fromEntries(VBENCH_DIMENSIONS.map((d, k) => [d, weights[k]!])) as Record<VBenchDimension, number>;
  const missing = VBENCH_DIMENSIONS.filter((d) => !Number.isFinite(dimensions[d]));
  const totals = parts.values.length ? scoresOf(dimensions) : { total: NaN, quality: NaN, semantic: NaN };
  return { dimensions, ...totals, coverage, missing };
}

/**
 * The candidate's Total gain over the baseline on the same videos (same prompts and seeds, in the
 * same order), with its jackknife standard error over prompts: video i belongs to prompt `promptOf(i)`, numbered 0..P-1.
 */
export function pairedTotalGain(baseline: VideoParts, candidate: VideoParts, promptOf: (video: number) => number): PairedGain {
  if (baseline.values.length !== candidate.values.length) {
    throw new Error(`pairedTotalGain: the baseline scored ${baseline.values.length} videos, the candidate ${candidate.values.length}; both must score the same videos`);
  }
  const ids = new Set(baseline.values.map((_, i) => promptOf(i)));
  const prompts = ids.size;
  if (![...ids].every((p) => Number.isInteger(p) && p >= 0 && p < prompts)) throw new Error(`pairedTotalGain: promptOf must number the ${prompts} prompts 0..${prompts - 1}`);
  return jackknifeGain(prompts, (leftOut) => {
    const skip = leftOut === undefined ? undefined : (i: number) => promptOf(i) === leftOut;
    return totalOfParts(candidate, skip) - totalOfParts(baseline, skip);
  });
}

/** One video's Total from its own dimension scores (the ones that do not concern it are missing). */
function videoTotal(mine: Partial<Record<VBenchDimension, number>>): number {
  return scoresOf(Object.fromEntries(VBENCH_DIMENSIONS.map((d) => [d, mine[d] ?? NaN])) as Record<VBenchDimension, number>).total;
}

/** VBench's Total / Quality / Semantic of dimension scores, those that are not finite (no video concerns them) filled in. */
function scoresOf(dims: Record<VBenchDimension, number>): { total: number; quality: number; semantic: number } {
  return vbenchScores(fillMissing(dims, VBENCH_DIMENSIONS.filter((d) => !Number.isFinite(dims[d]))));
}

/**
 * A dimension no video concerns (no two-subject prompt for multiple_objects, ...) takes the raw
 * value that normalises to its group's mean, so it moves neither Quality nor Semantic: the scores
 * are then those of VBench restricted to the covered dimensions.
 */
function fillMissing(dims: Record<VBenchDimension, number>, missing: VBenchDimension[]): Record<VBenchDimension, number> {
  if (!missing.length) return dims;
  const out = { ...dims };
  for (const group of [VBENCH_QUALITY_DIMENSIONS, VBENCH_SEMANTIC_DIMENSIONS] as readonly (readonly VBenchDimension[])[]) {
    const covered = group.filter((d) => !missing.includes(d));
    const normalised = covered.map((d) => (dims[d] - VBENCH_NORMALIZE[d].min) / (VBENCH_NORMALIZE[d].max - VBENCH_NORMALIZE[d].min));
    const mean = normalised.length ? normalised.reduce((a, b) => a + b, 0) / normalised.length : 0;
    for (const d of group.filter((g) => missing.includes(g))) out[d] = clamp01(VBENCH_NORMALIZE[d].min + mean * (VBENCH_NORMALIZE[d].max - VBENCH_NORMALIZE[d].min));
  }
  return out;
}
