// Seeded randomness for the reference world. Everything in the world (prompts, renders,
// corruptions, annotators) draws from streams derived from one seed plus a path of labels, so any
// single item can be regenerated on its own (prompt 9137 of seed 7 does not depend on prompts 0-9136).

/** A seed as users and configs give it: a number or any string. */
export type Seed = number | string;

/** 32-bit FNV-1a over the UTF-16 code units, then a murmur3 finaliser to spread close inputs. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit seed from a seed and a path of labels: deriveSeed(7, 'prompt', 12). */
export function deriveSeed(seed: Seed, ...path: (string | number)[]): number {
  return hashString([typeof seed === 'number' ? `n${seed}` : `s${seed}`, ...path.map(String)].join('\u001f'));
}

/** A small, fast generator (mulberry32) with the draws the world needs. */
export class Rng {
  private state: number;

  constructor(seed: Seed, ...path: (string | number)[]) {
    this.state = deriveSeed(seed, ...path);
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)]!;
  }

  /** A key drawn with probability proportional to its weight (weights need not sum to 1). */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const keys = Object.keys(weights) as K[];
    let total = 0;
    for (const k of keys) total += Math.max(0, weights[k]);
    if (!(total > 0)) throw new Error(`Rng.weighted: no positive weight among ${keys.join(', ')}`);
    let r = this.next() * total;
    for (const k of keys) {
      r -= Math.max(0, weights[k]);
      if (r < 0) return k;
    }
    return keys[keys.length - 1]!;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A fresh independent stream labelled by `path`, leaving this one untouched. */
  fork(...path: (string | number)[]): Rng {
    return new Rng(this.state >>> 0, ...path);
  }
}
