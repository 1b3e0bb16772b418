// Sprite shapes as signed distance functions. One definition serves the renderer (anti-aliased
// coverage from the distance at each pixel centre), cartoon outlines and neon halos (the band just
// outside the shape) and perception (templates to match what it sees against).
import { SUBJECT_KINDS, type SubjectKind } from './vocabulary';

type Sdf = (u: number, v: number) => number;

const len = (a: number, b: number) => Math.sqrt(a * a + b * b); // Math.hypot is several times slower

const circle = (cu: number, cv: number, r: number): Sdf => (u, v) => len(u - cu, v - cv) - r;

const box = (cu: number, cv: number, hu: number, hv: number): Sdf => (u, v) => {
  const qu = Math.abs(u - cu) - hu;
  const qv = Math.abs(v - cv) - hv;
  return len(Math.max(qu, 0), Math.max(qv, 0)) + Math.min(Math.max(qu, qv), 0);
};

const capsule = (au: number, av: number, bu: number, bv: number, r: number): Sdf => (u, v) => {
  const pu = u - au;
  const pv = v - av;
  const du = bu - au;
  const dv = bv - av;
  const h = Math.min(1, Math.max(0, (pu * du + pv * dv) / (du * du + dv * dv)));
  return len(pu - du * h, pv - dv * h) - r;
};

/** Exact triangle distance (Inigo Quilez's sdTriangle), edges precomputed (this runs per pixel). */
const triangle = (p0: [number, number], p1: [number, number], p2: [number, number]): Sdf => {
  const [ax, ay] = p0;
  const [bx, by] = p1;
  const [cx, cy] = p2;
  const e0x = bx - ax, e0y = by - ay, e1x = cx - bx, e1y = cy - by, e2x = ax - cx, e2y = ay - cy;
  const l0 = e0x * e0x + e0y * e0y, l1 = e1x * e1x + e1y * e1y, l2 = e2x * e2x + e2y * e2y;
  const s = Math.sign(e0x * e2y - e0y * e2x);
  return (u, v) => {
    const v0x = u - ax, v0y = v - ay, v1x = u - bx, v1y = v - by, v2x = u - cx, v2y = v - cy;
    const h0 = Math.min(1, Math.max(0, (v0x * e0x + v0y * e0y) / l0));
    const h1 = Math.min(1, Math.max(0, (v1x * e1x + v1y * e1y) / l1));
    const h2 = Math.min(1, Math.max(0, (v2x * e2x + v2y * e2y) / l2));
    const d0 = (v0x - e0x * h0) ** 2 + (v0y - e0y * h0) ** 2;
    const d1 = (v1x - e1x * h1) ** 2 + (v1y - e1y * h1) ** 2;
    const d2 = (v2x - e2x * h2) ** 2 + (v2y - e2y * h2) ** 2;
    const side = Math.min(s * (v0x * e0y - v0y * e0x), s * (v1x * e1y - v1y * e1x), s * (v2x * e2y - v2y * e2x));
    return -Math.sqrt(Math.min(d0, d1, d2)) * Math.sign(side);
  };
};

/** Exact rhombus distance (Inigo Quilez's sdRhombus), half-diagonals bu, bv. */
const rhombus = (bu: number, bv: number): Sdf => (u, v) => {
  const pu = Math.abs(u);
  const pv = Math.abs(v);
  const h = Math.min(1, Math.max(-1, ((bu - 2 * pu) * bu - (bv - 2 * pv) * bv) / (bu * bu + bv * bv)));
  const d = len(pu - 0.5 * bu * (1 - h), pv - 0.5 * bv * (1 + h));
  return d * Math.sign(pu * bv + pv * bu - bu * bv);
};

const ellipse = (cu: number, cv: number, ru: number, rv: number): Sdf => (u, v) => (len((u - cu) / ru, (v - cv) / rv) - 1) * Math.min(ru, rv);

/** Union. Parts overlap generously so that no seam of partial coverage shows where they join. */
const union = (...parts: Sdf[]): Sdf => (u, v) => {
  let d = Infinity;
  for (let i = 0; i < parts.length; i++) {
    const x = parts[i]!(u, v);
    if (x < d) d = x;
  }
  return d;
};

// Raw designs in a rough [-1, 1] square, v pointing down (image rows).
const RAW: Readonly<Record<SubjectKind, Sdf>> = {
  person: union(circle(0, -0.7, 0.3), box(0, -0.2, 0.18, 0.55), box(0, -0.24, 0.64, 0.13), capsule(0, 0.15, -0.42, 0.92, 0.16), capsule(0, 0.15, 0.42, 0.92, 0.16)),
  robot: union(box(0, -0.58, 0.3, 0.4), box(0, 0.04, 0.6, 0.46), box(-0.3, 0.635, 0.14, 0.385), box(0.3, 0.635, 0.14, 0.385)),
  snowman: union(circle(0, 0.42, 0.56), circle(0, -0.45, 0.42)),
  cat: union(circle(0, 0.22, 0.7), triangle([-0.6, 0], [-0.6, -0.95], [-0.05, -0.35]), triangle([0.6, 0], [0.05, -0.35], [0.6, -0.95])),
  fish: union(ellipse(-0.25, 0, 0.72, 0.42), triangle([0.25, 0], [0.95, -0.45], [0.95, 0.45])),
  bird: union(capsule(0, 0.12, -0.88, -0.38, 0.15), capsule(0, 0.12, 0.88, -0.38, 0.15), circle(0, 0.15, 0.24)),
  ball: circle(0, 0, 1),
  box: box(0, 0, 1, 1),
  kite: rhombus(0.62, 1),
  car: union(box(0, 0.12, 1, 0.3), box(0, -0.3, 0.5, 0.25), circle(-0.55, 0.45, 0.22), circle(0.55, 0.45, 0.22)),
  ring: (u, v) => Math.abs(len(u, v) - 0.72) - 0.28,
};

export interface Shape {
  kind: SubjectKind;
  /** Distance to the outline in "units": the sprite's longest side spans 2 units, its box is centred on 0. */
  sdf: Sdf;
  /** Half extents of the sprite's box in units (the larger one is 1). */
  halfU: number;
  halfV: number;
  /** Centroid of the filled area, in units from the box centre (perception aligns templates on it). */
  centroidU: number;
  centroidV: number;
}

/** Normalises a raw design: measure its box on a fine grid, centre it, scale its longest side to 2. */
function normalise(kind: SubjectKind, raw: Sdf): Shape {
  let u0 = Infinity;
  let u1 = -Infinity;
  let v0 = Infinity;
  let v1 = -Infinity;
  const step = 0.01;
  for (let v = -1.4; v <= 1.4; v += step) {
    for (let u = -1.4; u <= 1.4; u += step) {
      if (raw(u, v) <= 0) {
        if (u < u0) u0 = u;
        if (u > u1) u1 = u;
        if (v < v0) v0 = v;
        if (v > v1) v1 = v;
      }
    }
  }
  const cu = (u0 + u1) / 2;
  const cv = (v0 + v1) / 2;
  const k = Math.max(u1 - u0, v1 - v0) / 2;
  const sdf: Sdf = (u, v) => raw(cu + u * k, cv + v * k) / k;
  let n = 0;
  let su = 0;
  let sv = 0;
  for (let v = -1; v <= 1; v += 0.01) {
    for (let u = -1; u <= 1; u += 0.01) {
      if (sdf(u, v) <= 0) {
        n++;
        su += u;
        sv += v;
      }
    }
  }
  return { kind, sdf, halfU: (u1 - u0) / 2 / k, halfV: (v1 - v0) / 2 / k, centroidU: su / n, centroidV: sv / n };
}

export const SHAPES: Readonly<Record<SubjectKind, Shape>> = Object.fromEntries(SUBJECT_KINDS.map((k) => [k, normalise(k, RAW[k])])) as Record<SubjectKind, Shape>;

/** Coverage of one sprite over a pixel window: `fill` inside the shape, `band` in the 1 px band just outside it. */
export interface SpriteRaster {
  x0: number;
  y0: number;
  w: number;
  h: number;
  fill: Float32Array;
  band: Float32Array;
}

/**
 * Rasterises a sprite of largest extent `sizePx` centred at (cx, cy) (pixel units, pixel centres at
 * +0.5). Coverage is the signed distance at the pixel centre turned into a 1 px ramp, which is
 * exact for straight edges and close for curves, at one distance evaluation per pixel.
 */
export function rasterize(kind: SubjectKind, sizePx: number, cx: number, cy: number, withBand: boolean): SpriteRaster {
  const shape = SHAPES[kind];
  const half = sizePx / 2;
  const margin = withBand ? 2.5 : 1.5;
  const x0 = Math.floor(cx - shape.halfU * half - margin);
  const y0 = Math.floor(cy - shape.halfV * half - margin);
  const x1 = Math.ceil(cx + shape.halfU * half + margin);
  const y1 = Math.ceil(cy + shape.halfV * half + margin);
  const w = x1 - x0;
  const h = y1 - y0;
  const fill = new Float32Array(w * h);
  const band = new Float32Array(withBand ? w * h : 0);
  const unitsPerPx = 1 / half;
  for (let j = 0; j < h; j++) {
    const v = (y0 + j + 0.5 - cy) * unitsPerPx;
    for (let i = 0; i < w; i++) {
      const u = (x0 + i + 0.5 - cx) * unitsPerPx;
      const d = shape.sdf(u, v) * half; // distance in pixels
      const inside = Math.min(1, Math.max(0, 0.5 - d));
      fill[j * w + i] = inside;
      if (withBand) band[j * w + i] = Math.min(1, Math.max(0, 1.5 - d)) - inside;
    }
  }
  return { x0, y0, w, h, fill, band };
}
