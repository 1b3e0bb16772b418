// Seeded randomness for the models. Sampling noise is drawn here, in plain JS, rather than by tfjs
// or onnxruntime: both executors then see the very same noise, which makes their outputs comparable
// and every sample reproducible from (seed, path) alone, e.g. noiseFor(7, 'sample', round, prompt, candidate).

/** 32-bit FNV-1a of the joined path, finished with murmur3's mixer. */
export function seedFrom(...path: (string | number)[]): number {
  const text = path.map(String).join('\u001f');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for initialisation, noise and shuffling. */
export class Random {
  private state: number;
  constructor(...path: (string | number)[]) {
    this.state = seedFrom(...path);
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Standard normal (Box-Muller, one value per call: simple and exact enough). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  normals(n: number, std = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal() * std;
    return out;
  }
  /** Gumbel(0, 1) noise: argmax(logits + g) samples from softmax(logits). */
  gumbels(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = -Math.log(-Math.log(Math.min(1 - 1e-7, Math.max(1e-7, this.next()))));
    return out;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
