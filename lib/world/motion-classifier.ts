// Names the motion of one tracked object from its path alone (centre and scale per frame). The rules
// follow the shapes of the world's motions: how far it goes, how straight, how often it turns back,
// whether the loop closes and which way round, where an oscillation dwells. Thresholds sit well
// below the smallest motion the renderer draws (see trajectories.ts MINIMUM) and above jitter.
import { SPEED_BOUNDS, type Motion, type Speed } from './vocabulary';

export interface Path {
  x: number[];
  y: number[];
  /** Size relative to the first frames' size. */
  scale: number[];
}

export interface MotionReading {
  motion: Motion;
  /** Net displacement over the clip as a share of the frame side. */
  travel: number;
  /** Speed band of the travel (meaningful for travelling motions). */
  speed: Speed;
  /** Path length in pixels of a 32 px frame. */
  pathLength: number;
}

/** Replaces NaN (frames where the object was not seen) by linear interpolation, holding the ends. */
export function fillGaps(values: number[]): number[] {
  const out = values.slice();
  const known = out.map((v, i) => (Number.isFinite(v) ? i : -1)).filter((i) => i >= 0);
  if (known.length === 0) return out.map(() => 0);
  for (let i = 0; i < out.length; i++) {
    if (Number.isFinite(out[i])) continue;
    const before = known.filter((k) => k < i).pop();
    const after = known.find((k) => k > i);
    if (before === undefined) out[i] = out[after!]!;
    else if (after === undefined) out[i] = out[before]!;
    else out[i] = out[before]! + ((out[after]! - out[before]!) * (i - before)) / (after - before);
  }
  return out;
}

/** Direction changes of a series, ignoring wiggles smaller than `hysteresis`. */
export function reversals(series: number[], hysteresis: number): number {
  let count = 0;
  let direction = 0;
  const first = series[0] ?? 0;
  let extreme = first;
  for (const v of series) {
    if (direction === 0) {
      if (Math.abs(v - first) > hysteresis) {
        direction = Math.sign(v - first);
        extreme = v;
      }
    } else if ((v - extreme) * direction > 0) {
      extreme = v; // still going the same way
    } else if ((extreme - v) * direction > hysteresis) {
      count++;
      direction = -direction;
      extreme = v;
    }
  }
  return count;
}

export function speedOf(travel: number): Speed {
  return travel < SPEED_BOUNDS.slowNormal ? 'slow' : travel < SPEED_BOUNDS.normalFast ? 'normal' : 'fast';
}

const range = (a: number[]) => Math.max(...a) - Math.min(...a);
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);

const SECTORS: Motion[] = ['move_right', 'move_down_right', 'move_down', 'move_down_left', 'move_left', 'move_up_left', 'move_up', 'move_up_right'];

export function classifyMotion(path: Path, frameSize: number): MotionReading {
  const u = frameSize / 32;
  const x = fillGaps(path.x);
  const y = fillGaps(path.y);
  const s = fillGaps(path.scale);
  const T = x.length;
  const dx = x[T - 1]! - x[0]!;
  const dy = y[T - 1]! - y[0]!;
  const net = Math.hypot(dx, dy);
  let length = 0;
  for (let t = 1; t < T; t++) length += Math.hypot(x[t]! - x[t - 1]!, y[t]! - y[t - 1]!);
  const reading = (motion: Motion): MotionReading => ({ motion, travel: net / frameSize, speed: speedOf(net / frameSize), pathLength: length / u });
  if (T < 3) return reading('unknown');

  const rx = range(x);
  const ry = range(y);
  const growth = mean(s.slice(-2)) / Math.max(1e-6, mean(s.slice(0, 2)));
  const hysteresis = 0.8 * u;
  const turnsX = reversals(x, hysteresis);
  const turnsY = reversals(y, hysteresis);

  if (Math.max(rx, ry) < 1.2 * u) return reading(growth > 1.25 ? 'grow' : growth < 0.8 ? 'shrink' : 'stay');

  // A closed loop that goes round: the signed (shoelace) area says which way.
  if (net < 0.35 * Math.max(rx, ry) && rx >= 2.5 * u && ry >= 2.5 * u) {
    let area = 0;
    for (let t = 0; t < T; t++) {
      const n = (t + 1) % T;
      area += x[t]! * y[n]! - x[n]! * y[t]!;
    }
    area /= 2;
    if (Math.abs(area) > 0.5 * Math.PI * (rx / 2) * (ry / 2)) return reading(area > 0 ? 'circle' : 'circle_ccw');
  }

  // Where an up-and-down oscillation dwells: near its top (a bounce off the ground hangs at the
  // apex), its middle (a zigzag), or its bottom (bouncing off the ceiling).
  const dwell = ry > 0 ? (mean(y) - Math.min(...y)) / ry : 0.5;
  if (turnsY >= 2 && ry >= 2.5 * u && rx < 1.5 * u) return reading(dwell < 0.5 ? 'bounce' : 'bounce_inverted');
  if (turnsY >= 2 && ry >= 1.5 * u && Math.abs(dx) >= 3 * u && turnsX === 0) {
    // Two hops turn three times and dwell high; a zigzag turns four times and dwells mid-way.
    const zigzag = turnsY >= 4 || (turnsY === 3 && dwell > 0.43);
    if (zigzag) return reading(dx > 0 ? 'zigzag' : 'zigzag_left');
    return reading(dx > 0 ? 'hop_right' : 'hop_left');
  }
  if (turnsX === 1 && rx >= 3 * u && Math.abs(dx) < 0.4 * rx && ry < 1.5 * u) {
    const firstRight = Math.max(...x) - x[0]! > x[0]! - Math.min(...x);
    return reading(firstRight ? 'back_and_forth' : 'back_and_forth_left');
  }
  // Straightness over every third frame, so that a sprite's sub-pixel wobble does not read as a bend.
  let coarse = 0;
  for (let t = 3; t < T + 2; t += 3) {
    const a = Math.min(t, T - 1);
    const b = t - 3;
    coarse += Math.hypot(x[a]! - x[b]!, y[a]! - y[b]!);
  }
  if (net >= 1.5 * u && net / Math.max(1e-6, coarse) >= 0.85) {
    const angle = Math.atan2(dy, dx); // rows point down: positive angles go down
    const sector = ((Math.round(angle / (Math.PI / 4)) % 8) + 8) % 8;
    return reading(SECTORS[sector]!);
  }
  // Two straight legs: sideways first, then down.
  for (let k = Math.floor(T / 4); k <= Math.ceil((3 * T) / 4); k++) {
    const h1x = x[k]! - x[0]!;
    const h1y = y[k]! - y[0]!;
    const v2x = x[T - 1]! - x[k]!;
    const v2y = y[T - 1]! - y[k]!;
    if (Math.abs(h1x) >= 3 * u && Math.abs(h1x) > 3 * Math.abs(h1y) && v2y >= 3 * u && v2y > 3 * Math.abs(v2x)) {
      return reading(h1x > 0 ? 'right_then_down' : 'left_then_down');
    }
  }
  return reading('unknown');
}
