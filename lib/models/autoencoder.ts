// The frozen video autoencoder (the analogue of CogVideoX's 3D VAE): fitted once on the real-video
// set, then it only maps videos to a compact latent and back. A video is cut into tubelets (4 frames
// x 8 x 8 pixels = 768 values, see video.ts); a small MLP shared by all tubelets encodes each to
// `channels` numbers, knowing where the tubelet sits (a learned per-position term: the backgrounds
// are fixed scenery, so position tells a lot), and a mirror-image MLP decodes them. With 64 tubelets
// of 8 channels a 16x32x32x3 video (49,152 values) becomes a 512-number latent: 96x compression
// (CogVideoX: 48x).
//
// The diffusion model works on normalised latents: per channel, zero mean and unit variance over the
// real set (CogVideoX's VAE scaling factor, per channel). The statistics are frozen parameters.
//
// Like a VAE, the decoder is trained on noisy latents (a fixed-variance posterior) and the encoder
// pays a small L2 price for its codes (the KL term's mean part), so the latent space is smooth: a
// generator's slightly-off latent decodes to a slightly-off video, not to a patchwork of unrelated
// tubelets (which is what a plain autoencoder's decoder makes of latents off its training codes).
import * as tf from '@tensorflow/tfjs';
import { dense, type Ops } from './nn/ops';
import { initParams, type ParamSet, type ParamShapes } from './nn/params';
import { Random } from './nn/random';
import { Trainer, cosineSchedule } from './nn/train';
import { TfOps, disposeTensors, readTensor, tensorsOf } from './nn/tf-ops';
import type { Video } from '../world';
import { checkLayout, decodedVideo, toTubelets, tubeletCount, tubeletSize, type TubeletLayout } from './video';

export interface AutoencoderConfig extends TubeletLayout {
  channels: number;
  hidden: number;
}

export const DEFAULT_AUTOENCODER: AutoencoderConfig = { frames: 16, size: 32, tubeletFrames: 4, patch: 8, channels: 8, hidden: 256 };

export function latentSize(c: AutoencoderConfig): number {
  return tubeletCount(c) * c.channels;
}

export function autoencoderParamShapes(c: AutoencoderConfig): ParamShapes {
  const N = tubeletCount(c);
  const D = tubeletSize(c);
  const { hidden: H, channels: C } = c;
  return {
    'ae.enc.in.w': [D, H],
    'ae.enc.in.b': [H],
    'ae.enc.pos.w': [N, H],
    'ae.enc.h.w': [H, H],
    'ae.enc.h.b': [H],
    'ae.enc.out.w': [H, C],
    'ae.enc.out.b': [C],
    'ae.dec.in.w': [C, H],
    'ae.dec.in.b': [H],
    'ae.dec.pos.w': [N, H],
    'ae.dec.h.w': [H, H],
    'ae.dec.h.b': [H],
    'ae.dec.out.w': [H, D],
    'ae.dec.out.b': [D],
    'ae.norm.mean': [C],
    'ae.norm.std': [C],
  };
}

/**
 * Tubelets [..., D] -> raw latent [..., C]. `pos` is the per-position term [..., H]: the parameter
 * itself for whole videos ([B, N, D] inputs broadcast over the batch), or one-hot rows times it when
 * training on tubelets sampled from anywhere.
 */
function encoderTrunk<T>(o: Ops<T>, x: T, pos: T): T {
  const h = o.silu(o.add(dense(o, x, 'ae.enc.in'), pos));
  return dense(o, o.silu(dense(o, h, 'ae.enc.h')), 'ae.enc.out');
}

function decoderTrunk<T>(o: Ops<T>, z: T, pos: T): T {
  const h = o.silu(o.add(dense(o, z, 'ae.dec.in'), pos));
  // Sigmoid: pixels live in [0, 1].
  return o.sigmoid(dense(o, o.silu(dense(o, h, 'ae.dec.h')), 'ae.dec.out'));
}

/** Videos as tubelets [B, N, D] -> normalised latents [B, N, C]. */
export function encodeVideos<T>(o: Ops<T>, tubelets: T): T {
  const z = encoderTrunk(o, tubelets, o.param('ae.enc.pos.w'));
  return o.div(o.sub(z, o.param('ae.norm.mean')), o.param('ae.norm.std'));
}

/** Normalised latents [B, N, C] -> tubelets [B, N, D] in [0, 1]. */
export function decodeLatents<T>(o: Ops<T>, latent: T): T {
  const z = o.add(o.mul(latent, o.param('ae.norm.std')), o.param('ae.norm.mean'));
  return decoderTrunk(o, z, o.param('ae.dec.pos.w'));
}

export interface FitOptions {
  steps: number;
  /** Tubelets per step. */
  batch: number;
  learningRate: number;
  seed: number | string;
  /** Share of each batch drawn from the busiest tubelets (those with the most pixel variance). */
  busyShare?: number;
  /** Std of the noise added to the codes before decoding, and the weight of the codes' L2 penalty. */
  latentNoise?: number;
  latentPenalty?: number;
  /** Resume from a previous attempt's interim state. */
  resume?: { params: ParamSet; state: ParamSet; step: number };
  onStep?: (step: number, loss: number, trainer: Trainer) => Promise<void> | void;
  signal?: AbortSignal;
}

/**
 * Fits the autoencoder on videos given as tubelets (`data`: videos x N x D, tubelet-major).
 * Batches are tubelets sampled from anywhere, half of them from the busiest ones (moving subjects,
 * edges): most tubelets are plain scenery, which is learnt quickly, and the subjects are what
 * matters. Returns the weights, with the latent statistics filled in.
 */
export async function fitAutoencoder(c: AutoencoderConfig, data: Float32Array, opts: FitOptions): Promise<ParamSet> {
  checkLayout(c);
  const N = tubeletCount(c);
  const D = tubeletSize(c);
  const total = data.length / D;
  if (!Number.isInteger(total) || total % N) throw new Error(`fitAutoencoder: data length ${data.length} is not a whole number of videos of ${N} tubelets x ${D}`);
  const busyShare = opts.busyShare ?? 0.5;
  const busy = busiestTubelets(data, D, 0.3);
  const init = opts.resume?.params ?? initParams(autoencoderParamShapes(c), `${opts.seed}/autoencoder`);
  const trainer = new Trainer(init, (n) => !n.startsWith('ae.norm.'), { clipNorm: 1 }, opts.resume?.state, opts.resume?.step ?? 0);
  const rng = new Random(opts.seed, 'autoencoder-batches', opts.resume?.step ?? 0);
  const x = new Float32Array(opts.batch * D);
  const pos = new Float32Array(opts.batch * N);
  try {
    for (let step = opts.resume?.step ?? 0; step < opts.steps; step++) {
      if (opts.signal?.aborted) throw new Error('cancelled');
      pos.fill(0);
      for (let b = 0; b < opts.batch; b++) {
        const i = rng.next() < busyShare ? busy[rng.int(busy.length)]! : rng.int(total);
        x.set(data.subarray(i * D, (i + 1) * D), b * D);
        pos[b * N + (i % N)] = 1;
      }
      const lr = cosineSchedule(step, opts.steps, opts.learningRate, Math.min(50, opts.steps / 10));
      const o = trainer.ops;
      const noise = rng.normals(opts.batch * c.channels, opts.latentNoise ?? 0.1);
      const { loss } = trainer.step(
        () =>
          tf.tidy(() => {
            const xt = tf.tensor(x, [opts.batch, D]);
            const pt = tf.tensor(pos, [opts.batch, N]);
            const z = encoderTrunk(o, xt, o.matmul(pt, o.param('ae.enc.pos.w')));
            const y = decoderTrunk(o, tf.add(z, tf.tensor(noise, [opts.batch, c.channels])), o.matmul(pt, o.param('ae.dec.pos.w')));
            return tf.add(tf.mean(tf.squaredDifference(y, xt)), tf.mul(opts.latentPenalty ?? 1e-3, tf.mean(tf.square(z)))) as tf.Scalar;
          }),
        lr,
      );
      await opts.onStep?.(step + 1, loss, trainer);
    }
    const params = trainer.params();
    const { mean, std } = latentStatistics(c, params, data);
    params['ae.norm.mean'] = { shape: [c.channels], data: mean };
    params['ae.norm.std'] = { shape: [c.channels], data: std };
    return params;
  } finally {
    trainer.dispose();
  }
}

/** Indices of the `share` of tubelets with the largest pixel variance. */
function busiestTubelets(data: Float32Array, D: number, share: number): number[] {
  const count = data.length / D;
  const variance = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    let s2 = 0;
    for (let j = i * D; j < (i + 1) * D; j++) {
      s += data[j]!;
      s2 += data[j]! * data[j]!;
    }
    variance[i] = s2 / D - (s / D) ** 2;
  }
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => variance[b]! - variance[a]!);
  return order.slice(0, Math.max(1, Math.floor(count * share)));
}

/** Per-channel mean and std of the raw latents of (up to 512 of) the videos. */
function latentStatistics(c: AutoencoderConfig, params: ParamSet, data: Float32Array): { mean: Float32Array; std: Float32Array } {
  const N = tubeletCount(c);
  const D = tubeletSize(c);
  const videos = Math.min(512, data.length / (N * D));
  const tensors = tensorsOf(params);
  try {
    const o = new TfOps(tensors);
    const z = readTensor(() => encoderTrunk(o, tf.tensor(data.subarray(0, videos * N * D), [videos * N, D]), tf.tile(o.param('ae.enc.pos.w'), [videos, 1])));
    const mean = new Float32Array(c.channels);
    const sq = new Float32Array(c.channels);
    const rows = videos * N;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < c.channels; k++) {
        const v = z[r * c.channels + k]!;
        mean[k] = mean[k]! + v / rows;
        sq[k] = sq[k]! + (v * v) / rows;
      }
    }
    const std = mean.map((m, k) => Math.sqrt(Math.max(1e-8, sq[k]! - m * m)));
    return { mean, std };
  } finally {
    disposeTensors(tensors);
  }
}

/** Videos through the frozen autoencoder and back (pixels in, pixels out): what the decoder makes of the real videos' own codes. */
export function reconstructVideos(c: AutoencoderConfig, params: ParamSet, videos: readonly Video[]): Video[] {
  const N = tubeletCount(c);
  const D = tubeletSize(c);
  const tubelets = new Float32Array(videos.length * N * D);
  videos.forEach((v, i) => toTubelets(v.data, c, tubelets, i * N * D));
  const tensors = tensorsOf(params);
  try {
    const o = new TfOps(tensors);
    const out = readTensor(() => decodeLatents(o, encodeVideos(o, tf.tensor(tubelets, [videos.length, N, D]))));
    return videos.map((_, i) => decodedVideo(out, c, i * N * D));
  } finally {
    disposeTensors(tensors);
  }
}
