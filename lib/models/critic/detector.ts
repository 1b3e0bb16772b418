// The critic's frozen vision tower, detector part (feature version 2, critic vision 'detector'):
// what a detector trained on this world reads in a video. The scene and the style; per object its
// shape, colour, size, motion and how cleanly it is drawn; the camera's shake and flicker; blur,
// noise and stray blobs. It is the analogue of a VLM whose vision encoder was pretrained on
// captioned video of this world, and it is the world's own perception module
// (lib/world/perception/): the annotator panel and the evaluator read the same one, so a critic
// with this tower sees what they see. That is an optimistic assumption (a real VLM's encoder and
// VBench's detectors are different networks with different errors), and why 'statistics' (pixel
// statistics only) stays available; docs/critic.md measures both.
//
// Nothing here reads the prompt: matching what is seen with what is asked is the head's job, learnt
// from the human seed set like everything else.
import { ACTIONS, COLOURS, EXTRA_MOTIONS, SCENES, SIZES, SPEEDS, STYLES, SUBJECT_KINDS, perceive, type Motion, type PerceivedObject, type Perception, type Video } from '../../world';

const MOTIONS: readonly Motion[] = [...ACTIONS, ...EXTRA_MOTIONS, 'unknown'];
/** Objects read per video, most present first (the world draws at most two subjects; a third slot sees stray blobs). */
const SLOTS = 3;
const SLOT_SIZE = 1 + SUBJECT_KINDS.length + 2 + COLOURS.length + 1 + SIZES.length + MOTIONS.length + SPEEDS.length + 6;

/** Length of the detector readings. */
export const READINGS_SIZE = SCENES.length + 1 + STYLES.length + 4 + SLOTS * SLOT_SIZE + 3 + 5;

function oneHot<T>(out: Float32Array, at: number, list: readonly T[], value: T, weight = 1): number {
  const i = list.indexOf(value);
  if (i >= 0) out[at + i] = weight;
  return at + list.length;
}

function slot(out: Float32Array, at: number, o: PerceivedObject | undefined): number {
  if (!o) return at + SLOT_SIZE;
  out[at++] = 1;
  at = oneHot(out, at, SUBJECT_KINDS, o.kind, o.kindScore);
  out[at++] = o.kindScore;
  out[at++] = o.kindScore - o.runnerUp.score;
  at = oneHot(out, at, COLOURS, o.colour, o.purity);
  out[at++] = o.purity;
  at = oneHot(out, at, SIZES, o.size);
  at = oneHot(out, at, MOTIONS, o.motion.motion);
  at = oneHot(out, at, SPEEDS, o.motion.speed);
  out[at++] = Math.min(2, o.motion.travel * 2);
  out[at++] = Math.log1p(o.motion.pathLength) / 3;
  out[at++] = o.presence;
  out[at++] = o.ink;
  out[at++] = o.halo;
  out[at++] = Math.min(2, o.sizePx / 16);
  return at;
}

/** The readings of one perception, scaled to O(1). */
export function detectorReadings(p: Perception): Float32Array {
  const out = new Float32Array(READINGS_SIZE);
  let at = oneHot(out, 0, SCENES, p.scene, p.sceneScore);
  out[at++] = p.sceneScore;
  at = oneHot(out, at, STYLES, p.style);
  out[at + Math.min(3, p.objects.length)] = 1;
  at += 4;
  // Most present first; equal presence: the larger first (stable for a given video).
  const objects = [...p.objects].sort((a, b) => b.presence - a.presence || b.sizePx - a.sizePx);
  for (let s = 0; s < SLOTS; s++) at = slot(out, at, objects[s]);
  const { flicker, shake, popping } = p.temporal;
  out[at++] = Math.min(2, flicker / 0.2);
  out[at++] = Math.min(2, shake / 1.5);
  out[at++] = popping;
  const q = p.quality;
  out[at++] = Math.min(2, q.noise / 0.04);
  out[at++] = Math.min(2, q.blur / 1.2);
  out[at++] = Math.min(2, Math.max(0, q.edgeSoftness - 1));
  out[at++] = Math.min(2, q.artefacts);
  out[at++] = Math.min(2, q.backgroundError / 0.08);
  if (at !== READINGS_SIZE) throw new Error(`detectorReadings: wrote ${at} values, layout says ${READINGS_SIZE}`);
  return out;
}

/** The detector readings of a video's pixels. */
export function videoReadings(video: Video): Float32Array {
  return detectorReadings(perceive(video));
}

/**
 * The 'semantic' tower's eye (feature version 3): the same kind of detector, but looking at the video
 * as a VLM's encoder does, at reduced resolution and colour depth: each pixel half its own value and
 * half its 2 x 2 block's mean, each channel quantised to 32 levels. So its readings have errors of
 * their own (edges and small objects soften, close colours merge) where the panel and the evaluator
 * read the full-resolution pixels; bench/critic-probe.ts measures how often they differ.
 */
const LEVELS = 31;

export function criticView(video: Video): Video {
  const { frames, height: H, width: W, data } = video;
  const out = new Float32Array(data.length);
  for (let t = 0; t < frames; t++) {
    const f = t * H * W * 3;
    for (let y = 0; y < H; y += 2) {
      for (let x = 0; x < W; x += 2) {
        for (let c = 0; c < 3; c++) {
          let sum = 0;
          let n = 0;
          for (let dy = 0; dy < 2 && y + dy < H; dy++) for (let dx = 0; dx < 2 && x + dx < W; dx++, n++) sum += data[f + ((y + dy) * W + x + dx) * 3 + c]!;
          const block = sum / n;
          for (let dy = 0; dy < 2 && y + dy < H; dy++) {
            for (let dx = 0; dx < 2 && x + dx < W; dx++) {
              const i = f + ((y + dy) * W + x + dx) * 3 + c;
              out[i] = Math.round(Math.min(1, Math.max(0, (data[i]! + block) / 2)) * LEVELS) / LEVELS;
            }
          }
        }
      }
    }
  }
  return { frames, height: H, width: W, data: out };
}

/** The semantic tower's readings: the detector's, through the critic's own eye (criticView). */
export function semanticReadings(video: Video): Float32Array {
  return detectorReadings(perceive(criticView(video)));
}
