// Where each subject is in each frame: the layout of a scene into regions (one per subject, split
// along the relation's axis so relations hold in every frame and sprites never touch) and the path
// of every motion, with natural variation (start, speed, phase) drawn from the render seed.
import type { Rng } from './rng';
import type { PromptSpec, SubjectSpec } from './spec';
import { SHAPES } from './sprites';
import { ACTION_INFO, RELATION_AXIS, SIZE_FRACTION, SPEED_TRAVEL, type Motion, type Speed, type SubjectKind } from './vocabulary';

/** Pixel box a subject's sprite (with its 1 px outline band) must stay inside. */
export interface Region {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** One frame of a subject: box centre in pixels and a scale applied to its nominal size. */
export interface Pose {
  cx: number;
  cy: number;
  scale: number;
}

export const GROW_SCALE = 1.5;
export const SHRINK_SCALE = 0.6;
/** Random spread of speeds around their nominal value (x0.9 to x1.1). */
export const SPEED_JITTER = 0.1;

/** The world's length unit: 1 px of a 32 px frame. Every distance scales with the frame side. */
export function unit(frameSize: number): number {
  return frameSize / 32;
}

export function spritePx(subject: Pick<SubjectSpec, 'size'>, frameSize: number): number {
  return SIZE_FRACTION[subject.size] * frameSize;
}

/** Regions of the subjects: the whole frame for one subject, halves along the relation's axis for two. */
export function layoutRegions(spec: PromptSpec, frameSize: number): Region[] {
  const u = unit(frameSize);
  const margin = 1 * u;
  const whole: Region = { x0: margin, x1: frameSize - margin, y0: margin, y1: frameSize - margin };
  if (spec.subjects.length === 1 || !spec.relation) return spec.subjects.map(() => ({ ...whole }));
  const gap = 1 * u; // half the 2 px of background kept between the two regions
  const mid = frameSize / 2;
  const first: Region = { ...whole };
  const second: Region = { ...whole };
  if (RELATION_AXIS[spec.relation.type] === 'horizontal') {
    first.x1 = mid - gap;
    second.x0 = mid + gap;
  } else {
    first.y1 = mid - gap;
    second.y0 = mid + gap;
  }
  // "subject is left of / above object" puts the subject in the first half.
  const subjectFirst = spec.relation.type === 'left of' || spec.relation.type === 'above';
  const regions = spec.subjects.map(() => ({ ...whole }));
  regions[spec.relation.subject] = subjectFirst ? first : second;
  regions[spec.relation.object] = subjectFirst ? second : first;
  return regions;
}

/** Range the box centre can take in a region at a given scale: [lo, hi] per axis (hi < lo if it does not fit). */
function centreRange(kind: SubjectKind, sizePx: number, region: Region, scale: number, frameSize: number) {
  const shape = SHAPES[kind];
  const band = 1 * unit(frameSize);
  const hw = (shape.halfU * sizePx * scale) / 2 + band;
  const hh = (shape.halfV * sizePx * scale) / 2 + band;
  return { xlo: region.x0 + hw, xhi: region.x1 - hw, ylo: region.y0 + hh, yhi: region.y1 - hh };
}

type Need = { x: number; y: number; maxScale: number };

const DIRECTIONS: Partial<Record<Motion, [number, number]>> = {
  move_left: [-1, 0],
  move_right: [1, 0],
  move_up: [0, -1],
  move_down: [0, 1],
  move_up_right: [Math.SQRT1_2, -Math.SQRT1_2],
  move_up_left: [-Math.SQRT1_2, -Math.SQRT1_2],
  move_down_right: [Math.SQRT1_2, Math.SQRT1_2],
  move_down_left: [-Math.SQRT1_2, Math.SQRT1_2],
};

/** Preferred amplitudes of the non-travelling motions, as shares of the frame side. */
const PREFERRED = { bounce: 0.25, circleRadius: 0.2, zigzagTravel: 0.45, zigzagAmp: 0.12, backForth: 0.4, hopTravel: 0.45, lLeg: 0.35 } as const;
/** The least room each needs to stay recognisable (perception's thresholds sit below these). */
const MINIMUM = { bounce: 0.16, circleRadius: 0.1, zigzagTravel: 0.3, zigzagAmp: 0.07, backForth: 0.25, hopTravel: 0.3, lLeg: 0.22 } as const;

/** Room a motion needs in pixels (centre travel per axis) and the largest scale it reaches. */
function need(motion: Motion, speed: Speed, frameSize: number): Need {
  const S = frameSize;
  const dir = DIRECTIONS[motion];
  if (dir) {
    const travel = SPEED_TRAVEL[speed] * S * (1 + SPEED_JITTER);
    return { x: Math.abs(dir[0]) * travel, y: Math.abs(dir[1]) * travel, maxScale: 1 };
  }
  switch (motion) {
    case 'bounce':
    case 'bounce_inverted':
      return { x: 0, y: MINIMUM.bounce * S, maxScale: 1 };
    case 'grow':
      return { x: 0, y: 0, maxScale: GROW_SCALE };
    case 'circle':
    case 'circle_ccw':
      return { x: 2 * MINIMUM.circleRadius * S, y: 2 * MINIMUM.circleRadius * S, maxScale: 1 };
    case 'zigzag':
    case 'zigzag_left':
      return { x: MINIMUM.zigzagTravel * S, y: 2 * MINIMUM.zigzagAmp * S, maxScale: 1 };
    case 'back_and_forth':
    case 'back_and_forth_left':
      return { x: MINIMUM.backForth * S, y: 0, maxScale: 1 };
    case 'hop_right':
    case 'hop_left':
      return { x: MINIMUM.hopTravel * S, y: MINIMUM.bounce * S, maxScale: 1 };
    case 'right_then_down':
    case 'left_then_down':
      return { x: MINIMUM.lLeg * S, y: MINIMUM.lLeg * S, maxScale: 1 };
    default:
      return { x: 0, y: 0, maxScale: 1 };
  }
}

/** Does this subject's motion fit in its region at this speed? (The prompt filter repairs what does not.) */
export function motionFits(subject: SubjectSpec, region: Region, speed: Speed, frameSize = 32): boolean {
  const n = need(subject.action, ACTION_INFO[subject.action].translational ? speed : 'normal', frameSize);
  const r = centreRange(subject.kind, spritePx(subject, frameSize), region, n.maxScale, frameSize);
  return r.xhi - r.xlo >= n.x - 1e-9 && r.yhi - r.ylo >= n.y - 1e-9;
}

/**
 * The poses of one subject over `frames` frames. `motion` may be any motion perception knows (so
 * corruptions can render a wrong direction); a motion that does not fit its region is squeezed
 * rather than refused, so every spec renders.
 */
export function trajectory(kind: SubjectKind, sizePx: number, motion: Motion, speed: Speed, region: Region, frames: number, frameSize: number, rng: Rng): Pose[] {
  const n = need(motion, speed, frameSize);
  const r = centreRange(kind, sizePx, region, n.maxScale, frameSize);
  // A sprite larger than its region is centred there: nothing else can be done.
  if (r.xhi < r.xlo) r.xlo = r.xhi = (r.xlo + r.xhi) / 2;
  if (r.yhi < r.ylo) r.ylo = r.yhi = (r.ylo + r.yhi) / 2;
  const roomX = r.xhi - r.xlo;
  const roomY = r.yhi - r.ylo;
  const S = frameSize;
  const T = frames;
  const tau = (t: number) => (T === 1 ? 0 : t / (T - 1));
  const at = (lo: number, room: number, used: number) => lo + rng.next() * Math.max(0, room - used);
  const poses: Pose[] = [];
  const push = (f: (s: number) => [number, number, number?]) => {
    for (let t = 0; t < T; t++) {
      const [cx, cy, scale] = f(tau(t));
      poses.push({ cx, cy, scale: scale ?? 1 });
    }
    return poses;
  };

  const dir = DIRECTIONS[motion];
  if (dir) {
    const wanted = SPEED_TRAVEL[speed] * S * (1 + SPEED_JITTER * (2 * rng.next() - 1));
    const travel = Math.min(wanted, dir[0] ? roomX / Math.abs(dir[0]) : Infinity, dir[1] ? roomY / Math.abs(dir[1]) : Infinity);
    const dx = dir[0] * travel;
    const dy = dir[1] * travel;
    const sx = at(r.xlo, roomX, Math.abs(dx)) + (dx < 0 ? -dx : 0);
    const sy = at(r.ylo, roomY, Math.abs(dy)) + (dy < 0 ? -dy : 0);
    return push((s) => [sx + dx * s, sy + dy * s]);
  }
  switch (motion) {
    case 'grow':
    case 'shrink':
    case 'stay': {
      const cx = at(r.xlo, roomX, 0);
      const cy = at(r.ylo, roomY, 0);
      const end = motion === 'grow' ? GROW_SCALE : motion === 'shrink' ? SHRINK_SCALE : 1;
      return push((s) => [cx, cy, 1 + (end - 1) * s]);
    }
    case 'bounce':
    case 'bounce_inverted': {
      // Two hops off the ground (or, inverted, off the ceiling): |sin| has its cusp at the contact.
      const amp = Math.min(roomY, PREFERRED.bounce * S * rng.uniform(0.85, 1));
      const cx = at(r.xlo, roomX, 0);
      const base = motion === 'bounce' ? at(r.ylo, roomY, amp) + amp : at(r.ylo, roomY, amp);
      const sign = motion === 'bounce' ? -1 : 1;
      return push((s) => [cx, base + sign * amp * Math.abs(Math.sin(2 * Math.PI * s))]);
    }
    case 'circle':
    case 'circle_ccw': {
      // One full turn. With rows pointing down, increasing angle is clockwise on screen.
      const radius = Math.min(roomX / 2, roomY / 2, PREFERRED.circleRadius * S * rng.uniform(0.85, 1));
      const cx = at(r.xlo, roomX, 2 * radius) + radius;
      const cy = at(r.ylo, roomY, 2 * radius) + radius;
      const start = rng.uniform(0, 2 * Math.PI);
      const turn = motion === 'circle' ? 1 : -1;
      return push((s) => [cx + radius * Math.cos(start + turn * 2 * Math.PI * s), cy + radius * Math.sin(start + turn * 2 * Math.PI * s)]);
    }
    case 'zigzag':
    case 'zigzag_left': {
      const travel = Math.min(roomX, PREFERRED.zigzagTravel * S * rng.uniform(0.85, 1));
      const amp = Math.min(roomY / 2, PREFERRED.zigzagAmp * S * rng.uniform(0.85, 1));
      const sx = at(r.xlo, roomX, travel) + (motion === 'zigzag_left' ? travel : 0);
      const cy = at(r.ylo, roomY, 2 * amp) + amp;
      const sign = motion === 'zigzag' ? 1 : -1;
      // Triangle wave, two periods, starting on the centre line going up: four sharp turns.
      const tri = (s: number) => 1 - 4 * Math.abs(((s * 2 + 0.25) % 1) - 0.5);
      return push((s) => [sx + sign * travel * s, cy - amp * tri(s)]);
    }
    case 'back_and_forth':
    case 'back_and_forth_left': {
      const travel = Math.min(roomX, PREFERRED.backForth * S * rng.uniform(0.85, 1));
      const sx = at(r.xlo, roomX, travel) + (motion === 'back_and_forth_left' ? travel : 0);
      const cy = at(r.ylo, roomY, 0);
      const sign = motion === 'back_and_forth' ? 1 : -1;
      return push((s) => [sx + sign * travel * (1 - Math.abs(1 - 2 * s)), cy]);
    }
    case 'hop_right':
    case 'hop_left': {
      const travel = Math.min(roomX, PREFERRED.hopTravel * S * rng.uniform(0.85, 1));
      const amp = Math.min(roomY, PREFERRED.bounce * S * rng.uniform(0.85, 1));
      const sx = at(r.xlo, roomX, travel) + (motion === 'hop_left' ? travel : 0);
      const ground = at(r.ylo, roomY, amp) + amp;
      const sign = motion === 'hop_right' ? 1 : -1;
      return push((s) => [sx + sign * travel * s, ground - amp * Math.abs(Math.sin(2 * Math.PI * s))]);
    }
    case 'right_then_down':
    case 'left_then_down': {
      const leg = Math.min(roomX, roomY, PREFERRED.lLeg * S * rng.uniform(0.85, 1));
      const sx = at(r.xlo, roomX, leg) + (motion === 'left_then_down' ? leg : 0);
      const sy = at(r.ylo, roomY, leg);
      const sign = motion === 'right_then_down' ? 1 : -1;
      return push((s) => (s <= 0.5 ? [sx + sign * leg * (s / 0.5), sy] : [sx + sign * leg, sy + leg * ((s - 0.5) / 0.5)]));
    }
    default: {
      // 'unknown': wander (only corruptions ask for it).
      let x = at(r.xlo, roomX, 0);
      let y = at(r.ylo, roomY, 0);
      return push(() => {
        x = Math.min(r.xhi, Math.max(r.xlo, x + rng.uniform(-2, 2) * unit(S)));
        y = Math.min(r.yhi, Math.max(r.ylo, y + rng.uniform(-2, 2) * unit(S)));
        return [x, y];
      });
    }
  }
}
