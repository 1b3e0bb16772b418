// Realistic defects of generated videos, applied to ground-truth renders: what imperfect generators
// produce (shaky, flickering, blurry, noisy frames; wrong colours, wrong motions, missing objects).
// They give the annotators pairs with real preferences and the evaluator its tests.
import { gaussianBlur } from './perception';
import { background, DEFAULT_FRAMES, DEFAULT_SIZE, renderVideo } from './render';
import { Rng, type Seed } from './rng';
import { cloneSpec, type PromptSpec, type Video } from './spec';
import { ACTION_INFO, COLOUR_RGB, COLOURS, MIN_CONTRAST, SCENE_INFO, colourDistance } from './vocabulary';

export const CORRUPTIONS = ['jitter', 'flicker', 'wrong_colour', 'wrong_direction', 'missing_object', 'blur', 'noise'] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

export interface CorruptionOptions {
  seed: Seed;
  /** 0 (barely visible) to 1 (blatant); default 0.6. */
  severity?: number;
  frames?: number;
  size?: number;
}

export interface CorruptedVideo {
  video: Video;
  corruption: Corruption;
  severity: number;
  /** What was done, in words (for logs and rationales' ground truth). */
  description: string;
}

function copy(video: Video): Video {
  return { ...video, data: new Float32Array(video.data) };
}

/** Camera shake: every frame moved by its own random offset of up to 1-3 px (edges repeat). */
export function shake(video: Video, rng: Rng, severity: number): Video {
  const { frames, height: H, width: W } = video;
  const out = copy(video);
  const amplitude = Math.max(1, Math.round((1 + 2 * severity) * (W / 32)));
  const frameLength = H * W * 3;
  for (let t = 1; t < frames; t++) {
    const dx = rng.int(2 * amplitude + 1) - amplitude;
    const dy = rng.int(2 * amplitude + 1) - amplitude;
    for (let y = 0; y < H; y++) {
      const sy = Math.min(H - 1, Math.max(0, y - dy));
      for (let x = 0; x < W; x++) {
        const sx = Math.min(W - 1, Math.max(0, x - dx));
        const o = t * frameLength + (y * W + x) * 3;
        const q = t * frameLength + (sy * W + sx) * 3;
        out.data[o] = video.data[q]!;
        out.data[o + 1] = video.data[q + 1]!;
        out.data[o + 2] = video.data[q + 2]!;
      }
    }
  }
  return out;
}

/** Brightness flicker: each frame scaled by its own gain, alternating up and down. */
export function flicker(video: Video, rng: Rng, severity: number): Video {
  const out = copy(video);
  const frameLength = video.height * video.width * 3;
  const amplitude = 0.08 + 0.22 * severity;
  for (let t = 0; t < video.frames; t++) {
    const gain = 1 + (t % 2 ? 1 : -1) * amplitude * rng.uniform(0.6, 1);
    for (let i = t * frameLength; i < (t + 1) * frameLength; i++) out.data[i] = Math.min(1, video.data[i]! * gain);
  }
  return out;
}

export function blur(video: Video, severity: number): Video {
  const out = copy(video);
  const frameLength = video.height * video.width * 3;
  const sigma = (0.5 + 0.9 * severity) * (video.width / 32);
  for (let t = 0; t < video.frames; t++) {
    out.data.set(gaussianBlur(video.data.subarray(t * frameLength, (t + 1) * frameLength), video.width, sigma), t * frameLength);
  }
  return out;
}

export function addNoise(video: Video, rng: Rng, severity: number): Video {
  const out = copy(video);
  const sigma = 0.02 + 0.08 * severity;
  for (let i = 0; i < out.data.length; i++) out.data[i] = Math.min(1, Math.max(0, video.data[i]! + sigma * rng.normal()));
  return out;
}

/** Renders a spec with one defect. The clean render with the same seed is `renderVideo(spec, {seed})`. */
export function renderCorrupted(spec: PromptSpec, corruption: Corruption, options: CorruptionOptions): CorruptedVideo {
  const severity = Math.min(1, Math.max(0, options.severity ?? 0.6));
  const render = { seed: options.seed, frames: options.frames ?? DEFAULT_FRAMES, size: options.size ?? DEFAULT_SIZE };
  const rng = new Rng(options.seed, 'corruption', corruption);
  const which = rng.int(spec.subjects.length);
  const subject = spec.subjects[which]!;
  const done = (video: Video, description: string): CorruptedVideo => ({ video, corruption, severity, description });
  switch (corruption) {
    case 'jitter':
      return done(shake(renderVideo(spec, render), rng, severity), 'camera shake');
    case 'flicker':
      return done(flicker(renderVideo(spec, render), rng, severity), 'brightness flicker');
    case 'blur':
      return done(blur(renderVideo(spec, render), severity), 'blur');
    case 'noise':
      return done(addNoise(renderVideo(spec, render), rng, severity), 'noise');
    case 'wrong_colour': {
      // A colour the scene still shows and the other subject does not have: a clean but wrong video.
      const taken = new Set(spec.subjects.map((s) => s.color));
      const options = COLOURS.filter((c) => !taken.has(c) && SCENE_INFO[spec.scene].palette.every((p) => colourDistance(COLOUR_RGB[c], p) >= MIN_CONTRAST));
      const wrong = cloneSpec(spec);
      wrong.subjects[which]!.color = rng.pick(options.length ? options : COLOURS.filter((c) => c !== subject.color));
      return done(renderVideo(wrong, render), `the ${subject.color} ${subject.kind} is ${wrong.subjects[which]!.color}`);
    }
    case 'wrong_direction': {
      const motions = spec.subjects.map(() => undefined) as (ReturnType<typeof wrongMotion> | undefined)[];
      motions[which] = wrongMotion(subject.action);
      return done(renderVideo(spec, { ...render, motions }), `the ${subject.kind} moves the wrong way (${motions[which]})`);
    }
    case 'missing_object': {
      if (spec.subjects.length > 1) return done(renderVideo(spec, { ...render, omit: [which] }), `the ${subject.color} ${subject.kind} is missing`);
      // One subject: it vanishes for a stretch of the clip.
      const video = renderVideo(spec, render);
      const span = Math.max(2, Math.round(video.frames * (0.3 + 0.5 * severity)));
      const start = rng.int(video.frames - span + 1);
      const plate = background(spec.scene, video.width);
      const frameLength = video.width * video.height * 3;
      for (let t = start; t < start + span; t++) video.data.set(plate, t * frameLength);
      return done(video, `the ${subject.kind} vanishes in frames ${start}-${start + span - 1}`);
    }
  }
}

function wrongMotion(action: PromptSpec['subjects'][number]['action']) {
  return ACTION_INFO[action].wrongDirection;
}

/** The dimensions each defect should lower, and ones it should leave alone (the evaluator's tests). */
export const CORRUPTION_EFFECTS: Readonly<Record<Corruption, { hurts: readonly string[]; spares: readonly string[] }>> = {
  jitter: { hurts: ['motion_smoothness', 'temporal_flickering', 'background_consistency'], spares: ['color', 'scene'] },
  flicker: { hurts: ['temporal_flickering', 'background_consistency', 'motion_smoothness', 'imaging_quality'], spares: ['object_class', 'color', 'scene'] },
  wrong_colour: { hurts: ['color', 'overall_consistency'], spares: ['subject_consistency', 'background_consistency', 'temporal_flickering', 'motion_smoothness', 'imaging_quality', 'object_class', 'scene', 'human_action'] },
  wrong_direction: { hurts: ['human_action', 'overall_consistency'], spares: ['color', 'object_class', 'scene', 'imaging_quality', 'temporal_flickering', 'background_consistency'] },
  missing_object: { hurts: ['object_class', 'multiple_objects', 'spatial_relationship', 'overall_consistency', 'subject_consistency'], spares: ['scene', 'imaging_quality', 'temporal_flickering'] },
  blur: { hurts: ['imaging_quality', 'aesthetic_quality'], spares: ['scene', 'temporal_flickering', 'color'] },
  noise: { hurts: ['imaging_quality', 'aesthetic_quality', 'temporal_flickering'], spares: ['scene', 'color', 'spatial_relationship'] },
};
