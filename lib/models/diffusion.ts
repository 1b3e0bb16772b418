// The diffusion process: DDPM's forward noising over 1,000 steps (Ho et al. 2020) with the
// "scaled linear" beta schedule latent diffusion uses (Stable Diffusion, CogVideoX: betas linear in
// sqrt from 0.00085 to 0.012; DDPM's pixel-space linear 1e-4..0.02 is available too), epsilon
// prediction, and deterministic DDIM sampling (Song et al. 2020, eta = 0) on an evenly spaced
// ("trailing") subset of the timesteps. The same numbers drive training (tfjs) and the sampler graph
// (ONNX), which is why they are plain arrays here.

export interface ScheduleConfig {
  kind: 'linear' | 'scaled-linear';
  timesteps: number;
  betaStart: number;
  betaEnd: number;
}

export const DEFAULT_SCHEDULE: ScheduleConfig = { kind: 'scaled-linear', timesteps: 1000, betaStart: 0.00085, betaEnd: 0.012 };

/** alphaBar[t] = prod_{s <= t} (1 - beta_s), t = 0..T-1. */
export function alphaBars(c: ScheduleConfig): Float64Array {
  const out = new Float64Array(c.timesteps);
  let prod = 1;
  for (let t = 0; t < c.timesteps; t++) {
    const f = t / Math.max(1, c.timesteps - 1);
    const beta = c.kind === 'scaled-linear' ? (Math.sqrt(c.betaStart) + (Math.sqrt(c.betaEnd) - Math.sqrt(c.betaStart)) * f) ** 2 : c.betaStart + (c.betaEnd - c.betaStart) * f;
    prod *= 1 - beta;
    out[t] = prod;
  }
  return out;
}

/** x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, per sample (timesteps[b]) over rows of `dim` values. */
export function noised(x0: Float32Array, eps: Float32Array, timesteps: readonly number[], abar: Float64Array, dim: number): Float32Array {
  const out = new Float32Array(x0.length);
  timesteps.forEach((t, b) => {
    const a = Math.sqrt(abar[t]!);
    const s = Math.sqrt(1 - abar[t]!);
    for (let i = b * dim; i < (b + 1) * dim; i++) out[i] = a * x0[i]! + s * eps[i]!;
  });
  return out;
}

/** Sinusoidal embedding of timesteps (Transformer / DDPM style): [B, dim], half sines, half cosines. */
export function timestepEmbedding(timesteps: readonly number[], dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(timesteps.length * dim);
  timesteps.forEach((t, b) => {
    for (let i = 0; i < half; i++) {
      const freq = Math.exp((-Math.log(10_000) * i) / half);
      out[b * dim + i] = Math.sin(t * freq);
      out[b * dim + half + i] = Math.cos(t * freq);
    }
  });
  return out;
}

export interface DdimStep {
  t: number;
  /** abar at t and at the next (smaller) timestep; 1 after the last step. */
  abar: number;
  abarPrev: number;
}

/** The DDIM trajectory for `steps` steps: timesteps T-1, ..., evenly spaced ("trailing" spacing). */
export function ddimSteps(c: ScheduleConfig, steps: number): DdimStep[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > c.timesteps) throw new Error(`sampling steps must be an integer in 1..${c.timesteps}, got ${steps}`);
  const abar = alphaBars(c);
  const ts = Array.from({ length: steps }, (_, i) => Math.round(c.timesteps - (i * c.timesteps) / steps) - 1);
  return ts.map((t, i) => ({ t, abar: abar[t]!, abarPrev: i + 1 < steps ? abar[ts[i + 1]!]! : 1 }));
}
