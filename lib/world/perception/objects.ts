// Step 3: the objects in one frame. Pixels that differ from the registered plate form connected
// regions; each is explained as a palette colour mixed with the background (anti-aliasing, blur),
// with an ink outline or a neon halo, and a region two touching sprites share is read as both.
import { COLOUR_RGB, COLOURS, colourDistance, NEON_GLOW, type Colour, type Rgb } from '../vocabulary';
import { clamp01 } from './plates';
import type { Detection } from './types';

export interface FrameContext {
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
export function lift(c: Rgb, g: number): Rgb {
  return g === 1 ? c : [Math.min(1, c[0] * g), Math.min(1, c[1] * g), Math.min(1, c[2] * g)];
}

/** The plate as this frame shows it: shifted by the camera and scaled by the brightness gain. */
export function registeredBackground(p: Float32Array, size: number, gain: number, sx: number, sy: number): Float32Array {
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
  const best = bestColour(ctx, pixels, rho2, forced);
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
  const slots = borderSlots(alpha, w, h);
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

/** The palette colour that explains the most coverage cleanly (`forced`, when given). */
function bestColour(ctx: FrameContext, pixels: number[], rho2: number, forced?: Colour): Colour {
  const { frame, bg } = ctx;
  let best: Colour = forced ?? COLOURS[0];
  let bestScore = -1;
  // A sample of the pixels is enough to rank the colours (explain's full pass measures the winner).
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
  return best;
}

/** Outline and halo strength are per border slot: pixels next to the core (coverage >= 0.5) that are not core. */
function borderSlots(alpha: Float32Array, w: number, h: number): number {
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
  return slots;
}

export interface FrameReading {
  detections: Detection[];
  spurious: number;
}

export function detectObjects(ctx: FrameContext, t: number): FrameReading {
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

/** Soft extents of a coverage window: the sum over columns (rows) of the strongest coverage in each. */
export function softExtents(alpha: Float32Array, w: number, h: number): { width: number; height: number } {
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
