// Training the critic (paper section 3.2 and appendix C).
//
// Warm start: supervised fine-tuning on the human seed set with its CoT rationales. Per video the
// loss is the cross-entropy of the rationale (every attribute group, the mismatches given the first
// reasoning step) plus that of the verdict given the rationale; per pair, the cross-entropy of the
// pairwise answer given both rationales. Each step is teacher-forced on the annotators' rationale,
// as a VLM is trained on CoT text followed by its answer, except for a share of videos
// (`selfSampling`) that use a rationale sampled from the critic itself: at inference the verdict
// always follows the critic's own rationale, and training only on perfect rationales would leave it
// unprepared for its own mistakes (exposure bias).
//
// SRPO: pseudo-labels voted by the critic on unlabelled (generated) videos, filtered by the
// preference certainty estimator and learnt with the PCE-weighted DPO loss (srpoLoss) against a
// frozen reference critic, mixed with seed data so the critic does not drift from human judgment.
// The "response" whose likelihood DPO compares is the pairwise answer on one dimension, given the
// rationale of the path that voted for it: chosen = the voted side, rejected = the other side.
import * as tf from '@tensorflow/tfjs';
import { averageRewardQ, dpoLoss, pceFilter, preferenceCertainty, srpoLoss, type Vote } from '../../core';
import { cloneParams } from '../nn/params';
import { Random } from '../nn/random';
import { disposeTensors, TfOps, tensorsOf } from '../nn/tf-ops';
import { Trainer, cosineSchedule } from '../nn/train';
import { tokenize } from '../text';
import { assertTrainableExamples, type CriticExample } from './data';
import { DIMENSIONS, isFrozen, pairLogp, pairSummary, rationaleLogits, refineMismatches, trunk, verdictLogp, type CriticConfig, type CriticModel } from './model';
import { MISMATCH_START, RATIONALE_GROUPS, RATIONALE_SHAPE, RATIONALE_SIZE, rationaleOneHot } from './rationale';

const D = DIMENSIONS.length;

/** A batch of videos as tensors: features [B, F] and tokens [B, L]. */
interface VideoBatch {
  features: tf.Tensor2D;
  tokens: tf.Tensor2D;
}

function videoBatch(c: CriticConfig, features: readonly Float32Array[], prompts: readonly string[]): VideoBatch {
  const flat = new Float32Array(features.length * c.features);
  features.forEach((f, i) => {
    if (f.length !== c.features) throw new Error(`critic: a feature vector has ${f.length} values, the config expects ${c.features}`);
    flat.set(f, i * c.features);
  });
  return {
    features: tf.tensor2d(flat, [features.length, c.features]),
    tokens: tf.tensor2d(tokenize(prompts, c.text), [prompts.length, c.text.maxTokens], 'int32'),
  };
}

/** Samples one class per group from rationale logits (Gumbel-max over the group's real classes). */
function sampleGroup(logits: Float32Array | Int32Array | Uint8Array, offset: number, group: number, rng: Random): number {
  const n = RATIONALE_GROUPS[group]!.classes.length;
  const g = rng.gumbels(n);
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < n; k++) {
    const v = logits[offset + k]! + g[k]!;
    if (v > bestValue) [best, bestValue] = [k, v];
  }
  return best;
}

export interface SupervisedWeights {
  /** Weight of the rationale loss (default 1). */
  rationaleWeight?: number;
  /** Share of videos whose verdict is trained on a rationale sampled from the critic (default 0.3). */
  selfSampling?: number;
  /** Dropout on the head state h where the verdict and pair heads read it (default 0.5). */
  headDropout?: number;
}

/**
 * Inverted dropout on h as the verdict and pair heads see it (training only). The rationale is
 * trained per video on 39 attribute groups and generalises; h is wide enough to memorise a seed
 * set of a few thousand pairs. Dropping it pushes the verdicts to lean on the rationale.
 */
function dropout(h: tf.Tensor, rate: number, rng: Random): tf.Tensor {
  if (rate <= 0) return h;
  const n = h.size;
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = rng.next() < rate ? 0 : 1 / (1 - rate);
  return tf.mul(h, tf.tensor(mask, h.shape));
}

/**
 * The warm-start loss on a batch of annotated pairs (rows 0..P-1 are the A videos, P..2P-1 the B
 * videos). Differentiable in the critic's weights; reads the rationale logits back after each
 * reasoning step to sample the self-generated rationales, which enter the next step as constants.
 */
function supervisedLoss(o: TfOps, c: CriticConfig, batch: VideoBatch, examples: readonly CriticExample[], rng: Random, w: SupervisedWeights): tf.Scalar {
  const P = examples.length;
  const B = 2 * P;
  const { groups: G, classes: C } = RATIONALE_SHAPE;
  const videos = [...examples.map((e) => e.a), ...examples.map((e) => e.b)];
  const ratTarget = new Float32Array(B * RATIONALE_SIZE);
  const gradeTarget = new Float32Array(B * D * 3);
  const pairTarget = new Float32Array(P * D * 3);
  let knownRat = 0;
  let knownGrades = 0;
  let knownPairs = 0;
  videos.forEach((v, i) => {
    rationaleOneHot(v.rationale, ratTarget, i * RATIONALE_SIZE);
    knownRat += v.rationale.filter((x) => x >= 0).length;
    v.grades.forEach((g, d) => {
      if (g >= 0) {
        gradeTarget[(i * D + d) * 3 + g] = 1;
        knownGrades++;
      }
    });
  });
  examples.forEach((e, i) =>
    e.pair.forEach((l, d) => {
      if (l >= 0) {
        pairTarget[(i * D + d) * 3 + l] = 1;
        knownPairs++;
      }
    }),
  );
  const state = trunk(o, batch.features, batch.tokens, c);
  const h = dropout(state.h, w.headDropout ?? 0.5, rng);
  const self = w.selfSampling ?? 0.3;
  const own = videos.map(() => rng.next() < self);
  // The rationale each next step is conditioned on: the annotators' (teacher forcing), or the
  // critic's own sample for a share of videos and for groups the annotation leaves unknown.
  const classes = new Int16Array(B * G);
  const choose = (values: Float32Array | Int32Array | Uint8Array, from: number, to: number) =>
    videos.forEach((v, i) => {
      for (let g = from; g < to; g++) {
        const target = v.rationale[g]!;
        classes[i * G + g] = !own[i] && target >= 0 ? target : sampleGroup(values, (i * G + g) * C, g, rng);
      }
    });
  const oneHot = () => {
    const out = new Float32Array(B * RATIONALE_SIZE);
    for (let i = 0; i < B; i++) rationaleOneHot(classes.subarray(i * G, (i + 1) * G), out, i * RATIONALE_SIZE);
    return tf.tensor2d(out, [B, RATIONALE_SIZE]);
  };
  const first = rationaleLogits(o, state);
  choose(first.dataSync(), 0, MISMATCH_START);
  // Mismatch classes stay 0 ('no') in the first step's one-hot: the second step does not read them.
  const logits = refineMismatches(o, first, oneHot());
  const lossR = tf.div(tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), tf.tensor3d(ratTarget, [B, G, C])))), Math.max(1, knownRat));
  choose(logits.dataSync(), MISMATCH_START, G);
  const r = oneHot();
  const lossV = tf.div(tf.neg(tf.sum(tf.mul(verdictLogp(o, h, r), tf.tensor3d(gradeTarget, [B, D, 3])))), Math.max(1, knownGrades));
  const q = pairSummary(o, h, r);
  const Q = q.shape[1]!;
  const pl = pairLogp(o, tf.slice(q, [0, 0], [P, Q]), tf.slice(q, [P, 0], [P, Q]));
  const lossP = tf.div(tf.neg(tf.sum(tf.mul(pl, tf.tensor3d(pairTarget, [P, D, 3])))), Math.max(1, knownPairs));
  return tf.addN([tf.mul(lossR, w.rationaleWeight ?? 1), lossV, lossP]) as tf.Scalar;
}

function pairBatch(c: CriticConfig, examples: readonly { prompt: string; a: Float32Array; b: Float32Array }[]): VideoBatch {
  return videoBatch(
    c,
    [...examples.map((e) => e.a), ...examples.map((e) => e.b)],
    [...examples.map((e) => e.prompt), ...examples.map((e) => e.prompt)],
  );
}

function seedBatch(c: CriticConfig, examples: readonly CriticExample[]): VideoBatch {
  return pairBatch(
    c,
    examples.map((e) => ({ prompt: e.prompt, a: e.a.features, b: e.b.features })),
  );
}

export interface WarmStartOptions extends SupervisedWeights {
  epochs?: number;
  /** Peak learning rate (cosine schedule with a short warm-up). */
  lr?: number;
  /** Pairs per step. */
  batch?: number;
  seed?: number | string;
  onProgress?: (p: { epoch: number; step: number; steps: number; loss: number }) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface TrainMetrics {
  steps: number;
  /** Mean loss of the first and of the last epoch. */
  lossFirst: number;
  lossFinal: number;
  seconds: number;
}

/** Default warm-start schedule (measured in docs/critic.md). */
export const WARM_START_DEFAULTS = { epochs: 8, lr: 2e-3, batch: 64 } as const;

/** Section 3.2 / appendix C: fine-tunes the critic on the human seed set (pairwise + pointwise, with rationales). */
export async function warmStartCritic(model: CriticModel, examples: readonly CriticExample[], opts: WarmStartOptions = {}): Promise<{ model: CriticModel; metrics: TrainMetrics }> {
  assertTrainableExamples(examples);
  if (examples.length === 0) throw new Error('warmStartCritic: no seed examples');
  const { epochs, lr, batch } = { ...WARM_START_DEFAULTS, ...opts };
  const seed = opts.seed ?? 0;
  const c = model.config;
  const started = performance.now();
  const stepsPerEpoch = Math.ceil(examples.length / batch);
  const total = epochs * stepsPerEpoch;
  const trainer = new Trainer(model.params, (n) => !isFrozen(n), { clipNorm: 1 });
  const epochLoss: number[] = [];
  try {
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = new Random(seed, 'warm-start-order', epoch).shuffle(examples.map((_, i) => i));
      let sum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (opts.signal?.aborted) throw new Error('cancelled');
        const chunk = order.slice(s * batch, (s + 1) * batch).map((i) => examples[i]!);
        const tensors = seedBatch(c, chunk);
        const rng = new Random(seed, 'warm-start-step', step);
        const lrNow = cosineSchedule(step, total, lr, Math.min(50, Math.floor(total / 10)));
        const { loss } = trainer.step(() => tf.tidy(() => supervisedLoss(trainer.ops, c, tensors, chunk, rng, opts)), lrNow);
        tf.dispose([tensors.features, tensors.tokens]);
        sum += loss;
        step++;
        await opts.onProgress?.({ epoch: epoch + 1, step, steps: total, loss });
      }
      epochLoss.push(sum / stepsPerEpoch);
    }
    return {
      model: { ...model, params: trainer.params() },
      metrics: { steps: step, lossFirst: epochLoss[0]!, lossFinal: epochLoss[epochLoss.length - 1]!, seconds: (performance.now() - started) / 1000 },
    };
  } finally {
    trainer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// SRPO

/** One pseudo-label: the critic's voted answer on one dimension of one pair of unlabelled videos. */
export interface PseudoLabel {
  id: string;
  prompt: string;
  /** Pixel statistics of videos A and B. */
  a: Float32Array;
  b: Float32Array;
  /** Index into DIMENSIONS. */
  dimension: number;
  /** The voted answer (y_w); the rejected answer y_l is the other side. */
  chosen: 'A' | 'B';
  /** Rationale classes of the path that voted for `chosen` (the rest of the response). */
  rationaleA: Int16Array;
  rationaleB: Int16Array;
  vote: Vote;
}

/**
 * Summed log-probabilities log pi(y|x) of the chosen and rejected answers, [E] each: the pair head
 * on the two videos with the label's own rationale (so policy and reference score the same response).
 */
function preferenceLogp(o: TfOps, c: CriticConfig, labels: readonly PseudoLabel[], batch: VideoBatch): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  const E = labels.length;
  const r = new Float32Array(2 * E * RATIONALE_SIZE);
  const chosenMask = new Float32Array(E * D * 3);
  const rejectedMask = new Float32Array(E * D * 3);
  labels.forEach((l, i) => {
    rationaleOneHot(l.rationaleA, r, i * RATIONALE_SIZE);
    rationaleOneHot(l.rationaleB, r, (E + i) * RATIONALE_SIZE);
    const w = l.chosen === 'A' ? 0 : 1;
    chosenMask[(i * D + l.dimension) * 3 + w] = 1;
    rejectedMask[(i * D + l.dimension) * 3 + (1 - w)] = 1;
  });
  const { h } = trunk(o, batch.features, batch.tokens, c);
  const q = pairSummary(o, h, tf.tensor2d(r, [2 * E, RATIONALE_SIZE]));
  const Q = q.shape[1]!;
  const pl = pairLogp(o, tf.slice(q, [0, 0], [E, Q]), tf.slice(q, [E, 0], [E, Q]));
  return {
    chosen: tf.sum(tf.mul(pl, tf.tensor3d(chosenMask, [E, D, 3])), [1, 2]) as tf.Tensor1D,
    rejected: tf.sum(tf.mul(pl, tf.tensor3d(rejectedMask, [E, D, 3])), [1, 2]) as tf.Tensor1D,
  };
}

/** log pi(y_w|x) and log pi(y_l|x) of every label under a fixed critic (no gradients), in chunks. */
export function pseudoLogProbs(model: CriticModel, labels: readonly PseudoLabel[], chunk = 256): { chosen: Float32Array; rejected: Float32Array } {
  const chosen = new Float32Array(labels.length);
  const rejected = new Float32Array(labels.length);
  const tensors = tensorsOf(model.params);
  try {
    const o = new TfOps(tensors);
    for (let s = 0; s < labels.length; s += chunk) {
      const part = labels.slice(s, s + chunk);
      tf.tidy(() => {
        const lp = preferenceLogp(o, model.config, part, pairBatch(model.config, part));
        chosen.set(lp.chosen.dataSync(), s);
        rejected.set(lp.rejected.dataSync(), s);
      });
    }
  } finally {
    disposeTensors(tensors);
  }
  return { chosen, rejected };
}

export interface SrpoOptions {
  /** DPO temperature (eq. 1), also PCE's (default 0.1, as TRL). */
  beta?: number;
  /** Keep only pseudo-labels with PCE > 0.5 (default true). */
  usePce?: boolean;
  /** 'srpo' = eq. 5 (PCE-weighted DPO); 'dpo' = plain DPO (Table 6 ablation). */
  loss?: 'srpo' | 'dpo';
  epochs?: number;
  lr?: number;
  /** Pseudo-labels per step. */
  batch?: number;
  /** Seed pairs mixed in per pseudo-label (default 1; 0 = none). */
  seedMix?: number;
  seed?: number | string;
  onProgress?: (p: { epoch: number; step: number; steps: number; loss: number }) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface SrpoMetrics {
  /** Pseudo-labels kept by the PCE filter, out of `total`. */
  kept: number;
  total: number;
  /** Q: the mean implicit reward the filter compares with. */
  q: number;
  /** The preference loss (eq. 5, or DPO) on the kept labels before and after training. */
  lossFirst: number;
  lossFinal: number;
  /** Mean implicit reward margin R(y_w|x) - R(y_l|x) on the kept labels, before and after. */
  marginBefore: number;
  marginAfter: number;
  steps: number;
  seconds: number;
}

/** Mean preference loss of fixed log-probabilities (for reporting; no gradients). */
function preferenceLossValue(kind: 'srpo' | 'dpo', pc: Float32Array, pr: Float32Array, rc: Float32Array, rr: Float32Array, q: number, beta: number): number {
  return tf.tidy(() => {
    const t = [pc, pr, rc, rr].map((a) => tf.tensor1d(a)) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    const out = kind === 'srpo' ? srpoLoss(...t, q, beta) : dpoLoss(...t, beta);
    return out.loss.dataSync()[0]!;
  });
}

const pick = (a: Float32Array, idx: readonly number[]) => Float32Array.from(idx, (i) => a[i]!);
const meanOf = (a: ArrayLike<number>) => (a.length ? Array.from(a).reduce((s, v) => s + v, 0) / a.length : Number.NaN);

/**
 * One SRPO iteration (section 3.2): PCE-filter the pseudo-labels (R = log pi_policy - log pi_ref
 * of the chosen answer against Q = averageRewardQ of the chosen answers, kept iff PCE > 0.5, strictly), then train the policy
 * on the kept labels with srpoLoss (or dpoLoss) against the frozen reference, mixed with seed data.
 *
 * The reference must differ from the policy for the filter to keep anything: at policy = reference
 * every R is 0 and every PCE exactly 0.5. Use the base critic (initCritic with the model's baseSeed,
 * see referenceCritic) as the paper's DPO reference: it answers uniformly, so R(y|x) = log pi(y|x) + log 3.
 */
export async function srpoTrainCritic(
  policy: CriticModel,
  reference: CriticModel,
  pseudo: readonly PseudoLabel[],
  seedData: readonly CriticExample[],
  opts: SrpoOptions = {},
): Promise<{ model: CriticModel; metrics: SrpoMetrics }> {
  assertTrainableExamples(seedData);
  if (pseudo.length === 0) throw new Error('srpoTrainCritic: no pseudo-labels');
  if (JSON.stringify(policy.config) !== JSON.stringify(reference.config)) throw new Error('srpoTrainCritic: policy and reference critics have different configs');
  const beta = opts.beta ?? 0.1;
  const kind = opts.loss ?? 'srpo';
  const epochs = opts.epochs ?? 2;
  const lr = opts.lr ?? 5e-4;
  const batch = opts.batch ?? 64;
  const seedMix = opts.seedMix ?? 1;
  const seed = opts.seed ?? 0;
  const c = policy.config;
  const started = performance.now();

  // The frozen reference is scored once; the policy's starting point gives R and the filter.
  const ref = pseudoLogProbs(reference, pseudo);
  const start = pseudoLogProbs(policy, pseudo);
  const rewardChosen = start.chosen.map((v, i) => v - ref.chosen[i]!);
  const rewardRejected = start.rejected.map((v, i) => v - ref.rejected[i]!);
  const q = averageRewardQ(Array.from(rewardChosen));
  const pceTensor = preferenceCertainty(tf.tensor1d(rewardChosen), q, beta);
  const keepMask = opts.usePce === false ? pseudo.map(() => true) : pceFilter(pceTensor);
  pceTensor.dispose();
  const kept = pseudo.map((_, i) => i).filter((i) => keepMask[i]);
  const marginBefore = meanOf(kept.map((i) => rewardChosen[i]! - rewardRejected[i]!));
  const lossFirst = kept.length ? preferenceLossValue(kind, pick(start.chosen, kept), pick(start.rejected, kept), pick(ref.chosen, kept), pick(ref.rejected, kept), q, beta) : Number.NaN;
  if (kept.length === 0) {
    return {
      model: { ...policy, params: cloneParams(policy.params) },
      metrics: { kept: 0, total: pseudo.length, q, lossFirst, lossFinal: Number.NaN, marginBefore, marginAfter: Number.NaN, steps: 0, seconds: (performance.now() - started) / 1000 },
    };
  }

  const stepsPerEpoch = Math.ceil(kept.length / batch);
  const total = epochs * stepsPerEpoch;
  const seedPerStep = seedData.length ? Math.round(batch * seedMix) : 0;
  // Without seed data only the pair head and what feeds it learn (the rest gets no gradient).
  const trainable = (n: string) => !isFrozen(n) && (seedPerStep > 0 || !/^(rat|mm|ver|m\.in)\./.test(n));
  const trainer = new Trainer(policy.params, trainable, { clipNorm: 1 });
  let params;
  try {
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = new Random(seed, 'srpo-order', epoch).shuffle([...kept]);
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (opts.signal?.aborted) throw new Error('cancelled');
        const idx = order.slice(s * batch, (s + 1) * batch);
        const labels = idx.map((i) => pseudo[i]!);
        const rng = new Random(seed, 'srpo-step', step);
        const seeds = Array.from({ length: seedPerStep }, () => seedData[rng.int(seedData.length)]!);
        const lrNow = cosineSchedule(step, total, lr, Math.min(20, Math.floor(total / 10)));
        const prefBatch = pairBatch(c, labels);
        const supBatch = seeds.length ? seedBatch(c, seeds) : undefined;
        const refChosen = tf.tensor1d(pick(ref.chosen, idx));
        const refRejected = tf.tensor1d(pick(ref.rejected, idx));
        const { loss } = trainer.step(
          () =>
            tf.tidy(() => {
              const lp = preferenceLogp(trainer.ops, c, labels, prefBatch);
              const pref = kind === 'srpo' ? srpoLoss(lp.chosen, lp.rejected, refChosen, refRejected, q, beta).loss : dpoLoss(lp.chosen, lp.rejected, refChosen, refRejected, beta).loss;
              return supBatch ? (tf.add(pref, supervisedLoss(trainer.ops, c, supBatch, seeds, rng, {})) as tf.Scalar) : pref;
            }),
          lrNow,
        );
        tf.dispose([prefBatch.features, prefBatch.tokens, refChosen, refRejected, ...(supBatch ? [supBatch.features, supBatch.tokens] : [])]);
        step++;
        await opts.onProgress?.({ epoch: epoch + 1, step, steps: total, loss });
      }
    }
    params = trainer.params();
  } finally {
    trainer.dispose();
  }
  const model: CriticModel = { ...policy, params };
  const after = pseudoLogProbs(model, kept.map((i) => pseudo[i]!));
  const refKept = { chosen: pick(ref.chosen, kept), rejected: pick(ref.rejected, kept) };
  const marginAfter = meanOf(after.chosen.map((v, j) => v - refKept.chosen[j]! - (after.rejected[j]! - refKept.rejected[j]!)));
  const lossFinal = preferenceLossValue(kind, after.chosen, after.rejected, refKept.chosen, refKept.rejected, q, beta);
  return {
    model,
    metrics: { kept: kept.length, total: pseudo.length, q, lossFirst, lossFinal, marginBefore, marginAfter, steps: total, seconds: (performance.now() - started) / 1000 },
  };
}
