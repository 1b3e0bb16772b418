// Aligning the generator with preference data (paper section 3.3): Diffusion-DPO on pairs (eqs. 6-7)
// or Diffusion-KTO on desirable / undesirable samples (eqs. 8-10), with the core's losses, against a
// frozen copy of the starting model (the reference), regularised by the plain diffusion loss on the
// preferred samples (lambda_1, DPO only) and on real videos (lambda_2 / lambda).
//
// As in the reference implementations, a pair shares one timestep and one noise draw between its
// preferred and rejected sample; KTO draws both per sample. Only the denoiser learns: the text
// encoder and the autoencoder stay as they are (Diffusion-DPO fine-tunes the UNet alone).
import * as tf from '@tensorflow/tfjs';
import { diffusionDpoLoss, diffusionDpoTotalLoss, diffusionKtoLoss, diffusionKtoTotalLoss } from '../core';
import { latentSize } from './autoencoder';
import { alphaBars } from './diffusion';
import { noiseBatch, predictionMse, rows, type GeneratorConfig, type LatentBatchSource } from './generator';
import type { GeneratorModel } from './generator-serving';
import { pickParams, type ParamSet } from './nn/params';
import { Random } from './nn/random';
import { TfOps, disposeTensors, readTensor, tensorsOf } from './nn/tf-ops';
import { Trainer } from './nn/train';
import { tokenize } from './text';

/** A preference pair: the prompt and the normalised latents of the preferred and rejected videos. */
export interface LatentPair {
  prompt: string;
  chosen: Float32Array;
  rejected: Float32Array;
}

/** A pointwise sample for Diffusion-KTO. */
export interface LatentPoint {
  prompt: string;
  latent: Float32Array;
  desirable: boolean;
}

export interface AlignOptions {
  /** 'real-sft': the ablation "only real data SFT" (paper Table 7): the real-data term alone, lambdaReal x its NLL, no preference term. */
  method: 'dpo' | 'kto' | 'real-sft';
  betaDpo: number;
  betaKto: number;
  /** Eq. 7's lambda_1 (preferred samples; DPO only). */
  lambdaPreferred: number;
  /** Eq. 7's lambda_2 / eq. 10's lambda (real videos). */
  lambdaReal: number;
  learningRate: number;
  steps: number;
  /** Pairs (DPO) or samples (KTO) per step. */
  batch?: number;
  /** Real videos per step for the regulariser. */
  realBatch?: number;
  seed: number | string;
  /** Timestep/noise draws per item when measuring implicit accuracy. */
  evalDraws?: number;
  /**
   * Low-rank adaptation of the denoiser's weight matrices (W + (alpha / rank) A B, B starting at 0),
   * as diffusers' train_diffusion_dpo.py trains: the update has few degrees of freedom, so a few
   * hundred preference pairs do not rewrite what pretraining learnt. Merged into W at the end.
   * Omitted: every denoiser weight is trained.
   */
  lora?: { rank: number; alpha?: number };
  resume?: { params: ParamSet; state: ParamSet; step: number; history: AlignRecord[] };
  onStep?: (step: number, record: AlignRecord, trainer: Trainer) => Promise<void> | void;
  signal?: AbortSignal;
}

export interface AlignRecord {
  step: number;
  /** The total loss (eq. 7 or eq. 10); NaN when the step diverged. */
  loss: number;
  /** The preference part alone (L_dpo or L_kto). */
  preference: number;
  /** Share of the batch where the policy beats the reference margin. */
  implicitAccuracy: number;
}

export interface AlignMetrics {
  lossFirst: number;
  lossFinal: number;
  lossMax: number;
  nanCount: number;
  /** Over all the training items (fixed draws): before training it is 0 (policy = reference, strict). */
  implicitAccuracyBefore: number;
  implicitAccuracy: number;
  steps: number;
}

interface Data {
  pairs?: readonly LatentPair[];
  points?: readonly LatentPoint[];
  real?: LatentBatchSource;
}

const stack = (items: readonly Float32Array[], D: number) => {
  const out = new Float32Array(items.length * D);
  items.forEach((x, i) => out.set(x, i * D));
  return out;
};

/**
 * Implicit accuracy over all items with fixed draws: DPO, the share of pairs whose inside term
 * -beta/2 ((m_w - ref_w) - (m_l - ref_l)) is > 0; KTO, the share with s (g - KL) > 0.
 */
export function implicitAccuracy(c: GeneratorConfig, policy: ParamSet, reference: ParamSet, data: Data, opts: Pick<AlignOptions, 'method' | 'seed' | 'evalDraws'>): number {
  const D = latentSize(c.autoencoder);
  const abar = alphaBars(c.schedule);
  const draws = opts.evalDraws ?? 4;
  const pt = tensorsOf(pickParams(policy, ['den.', 'gtext.']));
  const rt = tensorsOf(pickParams(reference, ['den.', 'gtext.']));
  try {
    const [po, ro] = [new TfOps(pt), new TfOps(rt)];
    const mse = (o: TfOps, x: Float32Array, eps: Float32Array, ts: number[], tokens: Int32Array) =>
      tf.tidy(() => {
        const b = noiseBatch(c, x, eps, ts, tokens, abar);
        return Array.from(predictionMse(o, c, b).dataSync());
      });
    let wins = 0;
    let total = 0;
    for (let d = 0; d < draws; d++) {
      const rng = new Random(opts.seed, 'implicit-accuracy', d);
      if (opts.method !== 'kto') {
        const pairs = data.pairs ?? [];
        if (!pairs.length) return Number.NaN;
        const ts = pairs.map(() => rng.int(c.schedule.timesteps));
        const eps = rng.normals(pairs.length * D);
        const tokens = tokenize(pairs.map((p) => p.prompt), c.text);
        const [xw, xl] = [stack(pairs.map((p) => p.chosen), D), stack(pairs.map((p) => p.rejected), D)];
        const [mw, ml, rw, rl] = [mse(po, xw, eps, ts, tokens), mse(po, xl, eps, ts, tokens), mse(ro, xw, eps, ts, tokens), mse(ro, xl, eps, ts, tokens)];
        pairs.forEach((_, i) => {
          total++;
          if (mw[i]! - rw[i]! - (ml[i]! - rl[i]!) < 0) wins++;
        });
      } else {
        const points = data.points ?? [];
        if (!points.length) return Number.NaN;
        const ts = points.map(() => rng.int(c.schedule.timesteps));
        const eps = rng.normals(points.length * D);
        const tokens = tokenize(points.map((p) => p.prompt), c.text);
        const x = stack(points.map((p) => p.latent), D);
        const [m, r] = [mse(po, x, eps, ts, tokens), mse(ro, x, eps, ts, tokens)];
        const g = m.map((v, i) => r[i]! - v);
        const kl = Math.max(0, g.reduce((a, b) => a + b, 0) / g.length);
        points.forEach((p, i) => {
          total++;
          if ((p.desirable ? 1 : -1) * (g[i]! - kl) > 0) wins++;
        });
      }
    }
    return wins / total;
  } finally {
    disposeTensors(pt);
    disposeTensors(rt);
  }
}

/** LoRA adapters for every denoiser weight matrix: A ~ N(0, 1/in), B = 0 (so training starts at the reference). */
function loraAdapters(params: ParamSet, rank: number, seed: number | string): { init: ParamSet; targets: string[] } {
  const targets = Object.keys(params).filter((n) => n.startsWith('den.') && n.endsWith('.w') && params[n]!.shape.length === 2);
  const init: ParamSet = {};
  for (const w of targets) {
    const [rows, cols] = params[w]!.shape as [number, number];
    init[`lora.a/${w}`] = { shape: [rows, rank], data: new Random(seed, 'lora', w).normals(rows * rank, 1 / Math.sqrt(rows)) };
    init[`lora.b/${w}`] = { shape: [rank, cols], data: new Float32Array(rank * cols) };
  }
  return { init, targets };
}

/** W + scale A B for every adapted matrix (the exported model has no adapters). */
function mergeLora(params: ParamSet, adapters: ParamSet, targets: readonly string[], scale: number): ParamSet {
  const out = { ...params };
  for (const w of targets) {
    const merged = readTensor(() => tf.add(tf.tensor(params[w]!.data, params[w]!.shape), tf.mul(tf.matMul(tf.tensor2d(adapters[`lora.a/${w}`]!.data, adapters[`lora.a/${w}`]!.shape as [number, number]), tf.tensor2d(adapters[`lora.b/${w}`]!.data, adapters[`lora.b/${w}`]!.shape as [number, number])), scale)));
    out[w] = { shape: [...params[w]!.shape], data: merged };
  }
  return out;
}

/** Runs Diffusion-DPO or Diffusion-KTO from `model` (also the frozen reference). */
export async function alignGenerator(model: GeneratorModel, data: Data, opts: AlignOptions): Promise<{ params: ParamSet; history: AlignRecord[]; metrics: AlignMetrics }> {
  const c = model.config;
  const D = latentSize(c.autoencoder);
  const L = c.text.maxTokens;
  const abar = alphaBars(c.schedule);
  const batch = opts.batch ?? 8;
  const realBatch = opts.realBatch ?? 8;
  const items = opts.method === 'kto' ? (data.points ?? []) : (data.pairs ?? []);
  if (!items.length && opts.method !== 'real-sft') throw new Error(`alignGenerator: no ${opts.method === 'dpo' ? 'preference pairs' : 'pointwise samples'} to train on`);
  if (opts.lambdaReal > 0 && !data.real?.count) throw new Error('alignGenerator: lambdaReal > 0 needs real videos');
  if (opts.method === 'real-sft' && !(opts.lambdaReal > 0)) throw new Error('alignGenerator: method real-sft trains on real videos only and needs lambdaReal > 0');
  const reference = tensorsOf(pickParams(model.params, ['den.', 'gtext.']));
  const refOps = new TfOps(reference);
  const start = opts.resume?.params ?? model.params;
  const lora = opts.lora ? loraAdapters(model.params, opts.lora.rank, opts.seed) : undefined;
  const trainer = lora
    ? new Trainer(opts.resume?.params ? pickParams(opts.resume.params, ['lora.']) : lora.init, () => true, { clipNorm: 1 }, opts.resume?.state, opts.resume?.step ?? 0)
    : new Trainer(pickParams(start, ['den.', 'gtext.']), (n) => n.startsWith('den.'), { clipNorm: 1 }, opts.resume?.state, opts.resume?.step ?? 0);
  const loraScale = opts.lora ? (opts.lora.alpha ?? opts.lora.rank) / opts.lora.rank : 1;
  // With LoRA the forward pass sees W + s A B, rebuilt from the adapters inside every step's tape.
  const policyOps = (): TfOps => (lora ? new TfOps({ ...reference, ...Object.fromEntries(lora.targets.map((w) => [w, tf.add(reference[w]!, tf.mul(tf.matMul(trainer.vars[`lora.a/${w}`]!, trainer.vars[`lora.b/${w}`]!), loraScale))])) }) : trainer.ops);
  const history: AlignRecord[] = [...(opts.resume?.history ?? [])];
  const implicitAccuracyBefore = implicitAccuracy(c, model.params, model.params, data, opts);
  try {
    for (let step = opts.resume?.step ?? 0; step < opts.steps; step++) {
      if (opts.signal?.aborted) throw new Error('cancelled');
      const rng = new Random(opts.seed, 'align', step);
      const idx = Array.from({ length: Math.min(batch, items.length) }, () => rng.int(items.length));
      if (opts.method === 'real-sft') idx.length = 0;
      const ts = idx.map(() => rng.int(c.schedule.timesteps));
      const eps = rng.normals(idx.length * D);
      const tokens = tokenize(idx.map((i) => items[i]!.prompt), c.text);
      let realTensors: ReturnType<typeof noiseBatch> | undefined;
      if (opts.lambdaReal > 0 && data.real) {
        const ridx = Array.from({ length: realBatch }, () => rng.int(data.real!.count));
        const rts = ridx.map(() => rng.int(c.schedule.timesteps));
        realTensors = noiseBatch(c, rows(data.real.latents, D, ridx), rng.normals(realBatch * D), rts, rows(data.real.tokens, L, ridx), abar);
      }
      let preference = Number.NaN;
      let accuracy = Number.NaN;
      let result;
      if (opts.method === 'real-sft') {
        result = trainer.step(() => tf.tidy(() => tf.mul(predictionMse(policyOps(), c, realTensors!).mean(), opts.lambdaReal) as tf.Scalar), opts.learningRate);
      } else if (opts.method === 'dpo') {
        const pairs = idx.map((i) => data.pairs![i]!);
        const bw = noiseBatch(c, stack(pairs.map((p) => p.chosen), D), eps, ts, tokens, abar);
        const bl = noiseBatch(c, stack(pairs.map((p) => p.rejected), D), eps, ts, tokens, abar);
        const [refW, refL] = tf.tidy(() => [predictionMse(refOps, c, bw), predictionMse(refOps, c, bl)]);
        result = trainer.step(
          () =>
            tf.tidy(() => {
              const o = policyOps();
              const mw = predictionMse(o, c, bw);
              const ml = predictionMse(o, c, bl);
              const dpo = diffusionDpoLoss(mw, ml, refW!, refL!, opts.betaDpo);
              preference = dpo.loss.dataSync()[0]!;
              accuracy = dpo.implicitAccuracy;
              const realMse = realTensors ? predictionMse(o, c, realTensors) : undefined;
              return diffusionDpoTotalLoss(dpo.loss, opts.lambdaPreferred > 0 ? mw : undefined, opts.lambdaReal > 0 ? realMse : undefined, { lambda1: opts.lambdaPreferred, lambda2: opts.lambdaReal });
            }),
          opts.learningRate,
        );
        tf.dispose([...Object.values(bw), ...Object.values(bl), refW!, refL!]);
      } else {
        const points = idx.map((i) => data.points![i]!);
        const b = noiseBatch(c, stack(points.map((p) => p.latent), D), eps, ts, tokens, abar);
        const refMse = tf.tidy(() => predictionMse(refOps, c, b));
        const desirable = points.map((p) => p.desirable);
        result = trainer.step(
          () =>
            tf.tidy(() => {
              const o = policyOps();
              const m = predictionMse(o, c, b);
              const kto = diffusionKtoLoss(m, refMse, desirable, opts.betaKto);
              preference = kto.loss.dataSync()[0]!;
              const [mv, rv] = [m.dataSync(), refMse.dataSync()];
              accuracy = desirable.filter((d, i) => (d ? 1 : -1) * (rv[i]! - mv[i]! - kto.kl) > 0).length / desirable.length;
              const realMse = realTensors ? predictionMse(o, c, realTensors) : undefined;
              return diffusionKtoTotalLoss(kto.loss, opts.lambdaReal > 0 ? realMse : undefined, opts.lambdaReal);
            }),
          opts.learningRate,
        );
        tf.dispose([...Object.values(b), refMse]);
      }
      if (realTensors) tf.dispose(Object.values(realTensors));
      const record: AlignRecord = { step: step + 1, loss: result.loss, preference, implicitAccuracy: accuracy };
      history.push(record);
      await opts.onStep?.(step + 1, record, trainer);
    }
    const params = lora ? mergeLora(model.params, trainer.params(), lora.targets, loraScale) : { ...model.params, ...trainer.params() };
    const losses = history.map((h) => h.loss);
    const finite = losses.filter(Number.isFinite);
    const tail = finite.slice(-Math.max(1, Math.floor(finite.length / 10)));
    return {
      params,
      history,
      metrics: {
        lossFirst: losses[0] ?? Number.NaN,
        // The last tenth of the run, averaged: one batch's loss is too noisy to compare rounds by.
        lossFinal: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : Number.NaN,
        lossMax: finite.length ? Math.max(...finite) : Number.NaN,
        nanCount: losses.length - finite.length,
        implicitAccuracyBefore,
        implicitAccuracy: implicitAccuracy(c, params, model.params, data, opts),
        steps: history.length,
      },
    };
  } finally {
    trainer.dispose();
    disposeTensors(reference);
  }
}
