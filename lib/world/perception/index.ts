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
// Steps 1-2 are in registration.ts, 3 in objects.ts, 4 in tracks.ts; plates.ts holds the helpers
// they share, types.ts what perception reports.
import type { Video } from '../spec';
import { SHAPES } from '../sprites';
import { SCENE_INFO, type Style } from '../vocabulary';
import { detectObjects, lift, registeredBackground, type FrameReading } from './objects';
import { CLIP, quantile, sanitize } from './plates';
import { register, type Registration } from './registration';
import { extentRatio, readTrack, styleOf, template, track } from './tracks';
import type { Detection, PerceivedObject, Perception } from './types';

export type { Detection, PerceivedObject, Perception } from './types';
export { gaussianBlur } from './plates';

/**
 * Bumped when perception reads the same pixels differently, so caches of what it read (human sets'
 * labels, detector features) are rebuilt. 2 (2026-11-27): a still camera stays still (registration).
 */
export const PERCEPTION_VERSION = 2;

type FrameAt = (t: number) => Float32Array;

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
  const { noise, backgroundError } = residuals(frameAt, backgroundOf, frames, size);

  const readings: FrameReading[] = [];
  for (let t = 0; t < frames; t++) readings.push(detectObjects({ frame: frameAt(t), bg: backgroundOf(t), size, noise, ink: lift(ink, reg.gain[t]!), gain: reg.gain[t]! }, t));

  // Objects are tracks seen in at least a quarter of the frames; shorter ones are artefacts.
  const tracks = track(readings, size, reg.shift);
  const solid = tracks.filter((tr) => tr.detections.filter(Boolean).length >= Math.max(2, frames / 4));
  const objects = solid.map((tr) => readTrack(tr, frames, size, (reg.blur * size) / 32, reg.shift)).sort((a, b) => b.presence - a.presence || b.sizePx - a.sizePx);
  const shortTracks = tracks.length - solid.length;
  const spurious = readings.reduce((s, r) => s + r.spurious, 0);

  return {
    frames,
    size,
    scene: reg.scene,
    sceneScore: reg.sceneScore,
    frameScenes: reg.frameScenes,
    objects,
    style: pooledStyle(objects),
    frameStyles: Array.from({ length: frames }, (_, t) => pooledStyle(objects.map((o) => o.detections[t]).filter((d): d is Detection => d !== undefined))),
    temporal: temporal(reg, objects, frames, size),
    quality: {
      noise,
      blur: reg.blur,
      edgeSoftness: edgeSoftness(objects),
      artefacts: (spurious + shortTracks) / frames,
      backgroundError,
    },
  };
}

/**
 * Noise: robust spread (median absolute residual) of the per-channel residual against the
 * registered plate; the background error: how far most pixels (70%, so sprites do not count) are
 * from it. Both from histograms over two frames.
 */
function residuals(frameAt: FrameAt, backgroundOf: FrameAt, frames: number, size: number): { noise: number; backgroundError: number } {
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
  return { noise, backgroundError };
}

/** Style is evidence pooled over objects: absence of an outline on one sprite does not outvote its presence on another. */
function pooledStyle(items: readonly { ink: number; halo: number }[]): Style {
  return items.length ? styleOf(items.reduce((s, d) => s + d.ink, 0) / items.length, items.reduce((s, d) => s + d.halo, 0) / items.length) : 'plain';
}

function temporal(reg: Registration, objects: PerceivedObject[], frames: number, size: number): Perception['temporal'] {
  const counts = Array.from({ length: frames }, (_, t) => objects.filter((o) => o.present[t]).length);
  let changes = 0;
  for (let t = 1; t < frames; t++) if (counts[t] !== counts[t - 1]) changes++;
  let flicker = 0;
  let shake = 0;
  for (let t = 1; t < frames; t++) {
    flicker += Math.abs(reg.gain[t]! - reg.gain[t - 1]!);
    shake += Math.hypot(reg.shift[t]![0] - reg.shift[t - 1]![0], reg.shift[t]![1] - reg.shift[t - 1]![1]);
  }
  return {
    gain: reg.gain,
    shift: reg.shift,
    flicker: flicker / Math.max(1, frames - 1),
    shake: (shake / Math.max(1, frames - 1)) * (32 / size),
    popping: changes / Math.max(1, frames - 1),
  };
}

/** Edge softness: sprites' partial-coverage mass relative to their template's (1 = crisp). */
function edgeSoftness(objects: PerceivedObject[]): number {
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
  return softTemplate > 0 ? softObserved / softTemplate : 1;
}
