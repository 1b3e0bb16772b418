// The generator: conditional latent video diffusion (the analogue of CogVideoX).
//
//   prompt -> tokens -> text encoder -> cond                         (text.ts)
//   noise x_T -> DDIM over the denoiser eps(x_t, t, cond) -> x_0       (this file, diffusion.ts)
//   x_0 (normalised latent) -> frozen autoencoder decoder -> video     (autoencoder.ts)
//
// The denoiser is a residual MLP over the flattened latent: each block adds a projection of the
// (timestep + text) conditioning to its normalised input, then a two-layer SiLU MLP, zero-initialised
// on the way out so every block starts as the identity (as DiT's adaLN-zero does). It predicts the
// noise (epsilon) and is trained with the plain DDPM loss; classifier-free guidance comes from
// dropping the prompt 10% of the time in pretraining (Ho & Salimans 2022).
//
// The prediction is eps = sqrt(1 - abar_t) x_t + F(x_t, t, prompt): for unit-variance latents,
// sqrt(1 - abar_t) x_t is the best linear guess of the noise, so the network only learns what the
// prompt and the data add to it (EDM's skip connection, Karras et al. 2022, in epsilon form). Without
// it a small MLP must copy x_t through its layers near-exactly at high noise, where DDIM divides its
// error by sqrt(abar_t) ~ 0.07, and its samples fall apart.
import * as tf from '@tensorflow/tfjs';
import { autoencoderParamShapes, decodeLatents, latentSize, type AutoencoderConfig } from './autoencoder';
import { alphaBars, ddimSteps, noised, timestepEmbedding, type ScheduleConfig } from './diffusion';
import { dense, norm, type Ops } from './nn/ops';
import { initParams, pickParams, type ParamSet, type ParamShapes } from './nn/params';
import { Random } from './nn/random';
import { TfOps, disposeTensors, readTensor, tensorsOf } from './nn/tf-ops';
import { Trainer, cosineSchedule } from './nn/train';
import { encodeText, PAD, textParamShapes, type TextConfig } from './text';
import { tubeletCount, tubeletSize } from './video';

export interface DenoiserConfig {
  hidden: number;
  blocks: number;
  /** Width of the sinusoidal timestep embedding. */
  timeEmbed: number;
}

export interface SamplerConfig {
  steps: number;
  /** Classifier-free guidance scale (1 = no guidance). */
  guidance: number;
  /** DDIM's predicted x_0 is clipped to +-this (normalised latents have unit variance). */
  clipLatent: number;
}

export interface GeneratorConfig {
  autoencoder: AutoencoderConfig;
  text: TextConfig;
  denoiser: DenoiserConfig;
  schedule: ScheduleConfig;
  sampler: SamplerConfig;
}

export const GENERATOR_KIND = 'generator';

export function generatorParamShapes(c: GeneratorConfig): ParamShapes {
  const D = latentSize(c.autoencoder);
  const { hidden: H, blocks, timeEmbed: E } = c.denoiser;
  const C = c.text.out;
  const shapes: ParamShapes = {
    ...autoencoderParamShapes(c.autoencoder),
    ...textParamShapes('gtext', c.text),
    'den.t1.w': [E, C],
    'den.t1.b': [C],
    'den.t2.w': [C, C],
    'den.t2.b': [C],
    'den.in.w': [D, H],
    'den.in.b': [H],
    'den.out.n.g': [H],
    'den.out.n.b': [H],
    'den.out.w': [H, D],
    'den.out.b': [D],
  };
  for (let i = 0; i < blocks; i++) {
    Object.assign(shapes, {
      [`den.b${i}.n.g`]: [H],
      [`den.b${i}.n.b`]: [H],
      [`den.b${i}.c.w`]: [C, H],
      [`den.b${i}.c.b`]: [H],
      [`den.b${i}.fc1.w`]: [H, H],
      [`den.b${i}.fc1.b`]: [H],
      [`den.b${i}.fc2.w`]: [H, H],
      [`den.b${i}.fc2.b`]: [H],
    });
  }
  return shapes;
}

/** Fresh text encoder and denoiser around a fitted autoencoder. */
export function initGenerator(c: GeneratorConfig, autoencoder: ParamSet, seed: number | string): ParamSet {
  const shapes = generatorParamShapes(c);
  const fresh = initParams(
    Object.fromEntries(Object.entries(shapes).filter(([k]) => !k.startsWith('ae.'))),
    `${seed}/generator`,
    // Residual branches and the output start at zero: identity blocks, eps prediction 0.
    (name) => /^den\.(b\d+\.fc2|out)\.w$/.test(name),
  );
  return { ...pickParams(autoencoder, ['ae.']), ...fresh };
}

/** eps_theta(x_t, t, cond): x [B, D], timeEmbedding [B or 1, E], cond [B, C], skip = sqrt(1 - abar_t) [B or 1, 1] -> [B, D]. */
export function denoise<T>(o: Ops<T>, x: T, timeEmbedding: T, cond: T, skip: T, c: DenoiserConfig): T {
  const conditioning = o.silu(o.add(dense(o, o.silu(dense(o, timeEmbedding, 'den.t1')), 'den.t2'), cond));
  let h = dense(o, x, 'den.in');
  for (let i = 0; i < c.blocks; i++) {
    const u = o.add(norm(o, h, `den.b${i}.n`), dense(o, conditioning, `den.b${i}.c`));
    h = o.add(h, dense(o, o.silu(dense(o, u, `den.b${i}.fc1`)), `den.b${i}.fc2`));
  }
  return o.add(o.mul(x, skip), dense(o, norm(o, h, 'den.out.n'), 'den.out'));
}

/** The text encoder's output for the empty prompt (all padding): the unconditional branch of guidance. */
export function nullCondition(c: GeneratorConfig, params: ParamSet): Float32Array {
  const tensors = tensorsOf(pickParams(params, ['gtext.']));
  try {
    return readTensor(() => encodeText(new TfOps(tensors), tf.tensor(new Int32Array(c.text.maxTokens).fill(PAD), [1, c.text.maxTokens], 'int32'), 'gtext', c.text));
  } finally {
    disposeTensors(tensors);
  }
}

/**
 * The whole sampler as one program: text encoding, `steps` DDIM steps with classifier-free guidance
 * (unrolled: every step is a copy of the denoiser sharing its weights), then the decoder. Run with
 * TfOps it samples in tfjs; run with OnnxOps it becomes the ONNX graph that onnxruntime serves, so
 * one session call turns a batch of (tokens, noise) into videos.
 *
 * tokens int32 [B, L], noise [B, D] -> latent [B, D] (normalised x_0) and tubelets [B, N, 3 P P F].
 */
export function sampler<T>(o: Ops<T>, tokens: T, noise: T, c: GeneratorConfig, nullCond: Float32Array, sampling: SamplerConfig = c.sampler): { latent: T; tubelets: T } {
  const cond = encodeText(o, tokens, 'gtext', c.text);
  const guided = sampling.guidance !== 1;
  // [B, C]: the null condition broadcast to the batch (0 * cond keeps the batch dimension).
  const uncond = guided ? o.add(o.scale(cond, 0), o.constant(nullCond, [1, c.text.out])) : cond;
  let x = noise;
  for (const step of ddimSteps(c.schedule, sampling.steps)) {
    const temb = o.constant(timestepEmbedding([step.t], c.denoiser.timeEmbed), [1, c.denoiser.timeEmbed]);
    const skip = o.constant([Math.sqrt(1 - step.abar)], [1, 1]);
    let eps = denoise(o, x, temb, cond, skip, c.denoiser);
    if (guided) {
      const epsUncond = denoise(o, x, temb, uncond, skip, c.denoiser);
      eps = o.add(epsUncond, o.scale(o.sub(eps, epsUncond), sampling.guidance));
    }
    // DDIM, eta = 0: predict x_0, clip it, and move to the previous timestep along the same noise.
    const x0 = o.clip(o.scale(o.sub(x, o.scale(eps, Math.sqrt(1 - step.abar))), 1 / Math.sqrt(step.abar)), -sampling.clipLatent, sampling.clipLatent);
    x = step.abarPrev === 1 ? x0 : o.add(o.scale(x0, Math.sqrt(step.abarPrev)), o.scale(eps, Math.sqrt(1 - step.abarPrev)));
  }
  const tubelets = decodeLatents(o, o.reshape(x, [-1, tubeletCount(c.autoencoder), c.autoencoder.channels]));
  return { latent: x, tubelets };
}

// ---------------------------------------------------------------------------------------------
// Training

/** What the diffusion losses need per sample: the clean latent and the prompt's tokens. */
export interface LatentBatchSource {
  latents: Float32Array;
  tokens: Int32Array;
  count: number;
}

interface NoisedBatch {
  xt: tf.Tensor2D;
  eps: tf.Tensor2D;
  temb: tf.Tensor2D;
  skip: tf.Tensor2D;
  tokens: tf.Tensor2D;
}

/** Noised latents at timesteps `ts` with noise `eps` (both drawn by the caller: pairs share them). */
export function noiseBatch(c: GeneratorConfig, x0: Float32Array, eps: Float32Array, ts: number[], tokens: Int32Array, abar: Float64Array): NoisedBatch {
  const D = latentSize(c.autoencoder);
  const B = ts.length;
  return {
    xt: tf.tensor2d(noised(x0, eps, ts, abar, D), [B, D]),
    eps: tf.tensor2d(eps, [B, D]),
    temb: tf.tensor2d(timestepEmbedding(ts, c.denoiser.timeEmbed), [B, c.denoiser.timeEmbed]),
    skip: tf.tensor2d(ts.map((t) => Math.sqrt(1 - abar[t]!)), [B, 1]),
    tokens: tf.tensor2d(tokens, [B, c.text.maxTokens], 'int32'),
  };
}

/** Per-sample noise-prediction MSE of one model (mean over the latent), [B]. */
export function predictionMse(o: Ops<tf.Tensor>, c: GeneratorConfig, batch: NoisedBatch): tf.Tensor1D {
  const pred = denoise(o, batch.xt, batch.temb, encodeText(o, batch.tokens, 'gtext', c.text), batch.skip, c.denoiser);
  return tf.mean(tf.squaredDifference(pred, batch.eps), 1) as tf.Tensor1D;
}

/** Gathers rows of a [count, width] array. */
export function rows<A extends Float32Array | Int32Array>(data: A, width: number, indices: readonly number[]): A {
  const out = new (data.constructor as new (n: number) => A)(indices.length * width);
  indices.forEach((i, k) => out.set(data.subarray(i * width, (i + 1) * width), k * width));
  return out;
}

export interface PretrainOptions {
  steps: number;
  batch: number;
  learningRate: number;
  seed: number | string;
  /** Probability of training on the empty prompt (for classifier-free guidance). */
  dropPrompt?: number;
  emaDecay?: number;
  /** Min-SNR-gamma loss weighting (Hang et al. 2023); 0 = plain DDPM loss. */
  minSnrGamma?: number;
  resume?: { params: ParamSet; state: ParamSet; step: number };
  onStep?: (step: number, loss: number, trainer: Trainer) => Promise<void> | void;
  signal?: AbortSignal;
}

/** Min-SNR-gamma weights for epsilon prediction: min(SNR_t, gamma) / SNR_t. */
export function minSnrWeights(ts: readonly number[], abar: Float64Array, gamma: number): Float32Array {
  return Float32Array.from(ts, (t) => {
    const snr = abar[t]! / (1 - abar[t]!);
    return gamma > 0 ? Math.min(snr, gamma) / snr : 1;
  });
}

/**
 * Supervised pretraining on the real videos (the base model): the DDPM epsilon loss at uniform
 * timesteps, weighted by Min-SNR-gamma so that the easy, low-noise timesteps (where predicting the
 * noise means knowing the video to the pixel) do not crowd out the ones that shape the video. The
 * autoencoder stays frozen; text encoder and denoiser learn. Returns the EMA weights.
 */
export async function pretrainGenerator(c: GeneratorConfig, init: ParamSet, data: LatentBatchSource, opts: PretrainOptions): Promise<ParamSet> {
  const D = latentSize(c.autoencoder);
  const L = c.text.maxTokens;
  const abar = alphaBars(c.schedule);
  const trainable = (n: string) => n.startsWith('den.') || n.startsWith('gtext.');
  const trainer = new Trainer(opts.resume?.params ?? init, trainable, { clipNorm: 1, emaDecay: opts.emaDecay ?? 0.995 }, opts.resume?.state, opts.resume?.step ?? 0);
  const drop = opts.dropPrompt ?? 0.1;
  try {
    for (let step = opts.resume?.step ?? 0; step < opts.steps; step++) {
      if (opts.signal?.aborted) throw new Error('cancelled');
      // One stream per step: a resumed run draws exactly what the interrupted one would have.
      const rng = new Random(opts.seed, 'pretrain', step);
      const idx = Array.from({ length: opts.batch }, () => rng.int(data.count));
      const ts = idx.map(() => rng.int(c.schedule.timesteps));
      const eps = rng.normals(opts.batch * D);
      const tokens = rows(data.tokens, L, idx);
      for (let b = 0; b < opts.batch; b++) if (rng.next() < drop) tokens.fill(PAD, b * L, (b + 1) * L);
      const lr = cosineSchedule(step, opts.steps, opts.learningRate, Math.min(100, opts.steps / 10));
      const batch = noiseBatch(c, rows(data.latents, D, idx), eps, ts, tokens, abar);
      const weights = tf.tensor1d(minSnrWeights(ts, abar, opts.minSnrGamma ?? 5));
      const { loss } = trainer.step(() => tf.tidy(() => tf.mean(tf.mul(predictionMse(trainer.ops, c, batch), weights)) as tf.Scalar), lr);
      weights.dispose();
      tf.dispose(Object.values(batch));
      await opts.onStep?.(step + 1, loss, trainer);
    }
    return trainer.params('ema');
  } finally {
    trainer.dispose();
  }
}


// ---------------------------------------------------------------------------------------------
// Cost model (multiply-accumulates per sample), for throughput-vs-peak figures.

/** MACs of one denoiser evaluation on one sample (the matmuls; elementwise work is negligible). */
export function denoiserMacs(c: GeneratorConfig): number {
  const D = latentSize(c.autoencoder);
  const { hidden: H, blocks, timeEmbed: E } = c.denoiser;
  const C = c.text.out;
  return E * C + C * C + D * H + blocks * (C * H + 2 * H * H) + H * D;
}

/** MACs of the whole sampler for one video: text encoder, every DDIM step (x2 with guidance), decoder. */
export function samplerMacs(c: GeneratorConfig, sampling: SamplerConfig = c.sampler): number {
  const t = c.text;
  const text = t.maxTokens * t.embed * t.hidden + t.embed * t.hidden + t.hidden * t.out;
  const ae = c.autoencoder;
  const decoder = tubeletCount(ae) * (ae.channels * ae.hidden + ae.hidden * ae.hidden + ae.hidden * tubeletSize(ae));
  return text + sampling.steps * (sampling.guidance !== 1 ? 2 : 1) * denoiserMacs(c) + decoder;
}
