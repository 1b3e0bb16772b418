// Golden values of lib/core's losses and statistics on fixed small inputs, for the PyTorch port
// (python/dual_ipo_jobs) to be checked against. test/unit/core/golden.test.ts recomputes them and
// compares with the committed fixture, so the fixture cannot drift from lib/core.
//   node --import tsx scripts/golden-losses.ts            writes python/tests/golden/losses.json
//   node --import tsx scripts/golden-losses.ts --check    exits 1 if the committed file differs
// Inputs are dyadic (exact in float32, tfjs' CPU precision); outputs carry float32 rounding.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { buildPreferencePairs, diffusionDpoLoss, diffusionDpoTotalLoss, diffusionKtoLoss, diffusionKtoTotalLoss, dpoLoss, jackknifeGain, meanReward, noisePredictionMse, pairwiseAgreement, pceFilter, pointwiseAgreement, preferenceCertainty, selfConsistencyVote, splitForKto, srpoLoss, vbenchScores, VBENCH_DIMENSIONS, type VBenchDimensionScores } from '../lib/core';
import { evaluationOfParts } from '../lib/world';

export const GOLDEN_PATH = join(import.meta.dirname, '..', 'python', 'tests', 'golden', 'losses.json');

const t = (xs: number[]) => tf.tensor1d(xs);
const arr = (x: tf.Tensor) => Array.from(x.dataSync());
const num = (x: tf.Tensor) => x.dataSync()[0]!;
/** d loss / d each input, by tf.grads (checks what is detached: PCE, KTO's KL). */
const grads = (f: (...xs: tf.Tensor1D[]) => tf.Scalar, inputs: number[][]) => tf.grads(f as (...xs: tf.Tensor[]) => tf.Tensor)(inputs.map(t)).map(arr);

// Four preference pairs of log-probabilities: the model ahead, behind, level, far ahead.
const LOGP = { policyChosen: [-1.25, -2.5, -0.5, -1], policyRejected: [-2, -1.75, -1.5, -3.5], refChosen: [-1.5, -2.25, -1, -3.25], refRejected: [-1.75, -2, -1.25, -3.25] };
// Per-sample noise-prediction MSEs (model and reference on the same t and eps).
const MSE = { modelWin: [0.125, 0.1328125, 0.25, 0.0625], modelLose: [0.1875, 0.125, 0.2578125, 0.0703125], refWin: [0.126953125, 0.130859375, 0.25, 0.0625], refLose: [0.1865234375, 0.126953125, 0.25, 0.0712890625] };

export async function goldenLosses() {
  await tf.setBackend('cpu');
  const L = [LOGP.policyChosen, LOGP.policyRejected, LOGP.refChosen, LOGP.refRejected];
  const M = [MSE.modelWin, MSE.modelLose, MSE.refWin, MSE.refLose];

  const pred = [[[0.5, -0.25, 1], [0, 0.75, -1.5]], [[1.25, 0.5, -0.5], [0.25, 0, 2]]];
  const target = [[[0.25, 0, 1], [0.5, 0.5, -1]], [[1, 1, -0.5], [0, -0.25, 1.25]]];

  const dpo = [{ beta: 0.1, labelSmoothing: 0 }, { beta: 1, labelSmoothing: 0.2 }].map(({ beta, labelSmoothing }) => {
    const r = dpoLoss(t(L[0]!), t(L[1]!), t(L[2]!), t(L[3]!), beta, labelSmoothing);
    return { ...LOGP, beta, labelSmoothing, out: { loss: num(r.loss), perSample: arr(r.perSample), chosenReward: arr(r.chosenReward), rejectedReward: arr(r.rejectedReward) }, grads: grads((a, b, c, d) => dpoLoss(a!, b!, c!, d!, beta, labelSmoothing).loss, L) };
  });

  // Q over a larger "dataset" of rewards than the batch, as an SRPO iteration computes it.
  const dataset = [0.25, -0.5, 0.75, 0, -0.25, 0.5, 1, -1];
  const mean = meanReward(dataset);
  const rewards = LOGP.policyChosen.map((p, i) => p - LOGP.refChosen[i]!);
  const pce = [0.5, 4].map((beta) => {
    const p = preferenceCertainty(t(rewards), mean, beta);
    return { reward: rewards, dataset, beta, out: { mean, pce: arr(p), keep: pceFilter(p) } };
  });
  const srpo = [{ beta: 0.1, labelSmoothing: 0 }, { beta: 2, labelSmoothing: 0.1 }].map(({ beta, labelSmoothing }) => {
    const r = srpoLoss(t(L[0]!), t(L[1]!), t(L[2]!), t(L[3]!), mean, beta, labelSmoothing);
    return { ...LOGP, mean, beta, labelSmoothing, out: { loss: num(r.loss), perSample: arr(r.perSample), pce: arr(r.pce), chosenReward: arr(r.chosenReward), rejectedReward: arr(r.rejectedReward) }, grads: grads((a, b, c, d) => srpoLoss(a!, b!, c!, d!, mean, beta, labelSmoothing).loss, L) };
  });

  const preferredMse = [0.125, 0.1875, 0.0625];
  const realMse = [0.25, 0.375];
  const diffusionDpo = [5000, 500].map((beta) => {
    const r = diffusionDpoLoss(t(M[0]!), t(M[1]!), t(M[2]!), t(M[3]!), beta);
    const totals = [{ lambda1: 0.5, lambda2: 0.25 }, { lambda1: 0, lambda2: 1 }].map((lambdas) => ({ ...lambdas, out: num(diffusionDpoTotalLoss(r.loss, t(preferredMse), t(realMse), lambdas)) }));
    return { ...MSE, beta, out: { loss: num(r.loss), implicitAccuracy: r.implicitAccuracy }, grads: grads((a, b, c, d) => diffusionDpoLoss(a!, b!, c!, d!, beta).loss, M), preferredMse, realMse, totals };
  });

  // KTO: a batch where the model mostly improves on the reference (KL > 0), and one where it does not (KL clamped to 0).
  const desirable = [true, false, true, true, false];
  const ktoCases = [
    { modelLoss: [0.125, 0.25, 0.1171875, 0.0625, 0.1875], refLoss: [0.1279296875, 0.2490234375, 0.119140625, 0.0634765625, 0.189453125], beta: 1000, desirableWeight: 1, undesirableWeight: 1 },
    { modelLoss: [0.125, 0.25, 0.1171875, 0.0625, 0.1875], refLoss: [0.1240234375, 0.2529296875, 0.1162109375, 0.0615234375, 0.185546875], beta: 500, desirableWeight: 1.5, undesirableWeight: 0.5 },
  ];
  const diffusionKto = ktoCases.map((c) => {
    const opts = { desirableWeight: c.desirableWeight, undesirableWeight: c.undesirableWeight };
    const r = diffusionKtoLoss(t(c.modelLoss), t(c.refLoss), desirable, c.beta, opts);
    const lambda = 0.5;
    return { ...c, desirable, out: { loss: num(r.loss), perSample: arr(r.perSample), kl: r.kl }, grads: grads((m, ref) => diffusionKtoLoss(m!, ref!, desirable, c.beta, opts).loss, [c.modelLoss, c.refLoss]), realMse, lambda, total: num(diffusionKtoTotalLoss(r.loss, t(realMse), lambda)) };
  });

  const vote = [['A', 'B', 'A', 'A', 'B'], ['B', 'A', 'A', 'B'], ['tie', 'A', 'B', 'A', 'B'], ['A', 'A', 'A'], ['C', 'B', 'A', 'B', 'C', 'C', 'B']].map((answers) => ({ answers, out: selfConsistencyVote(answers) }));

  // The paired gain of a weighted mean (as VBench averages some dimensions over frames), prompt clusters left out in turn.
  const jackknife = [
    { weights: [1, 3, 1, 3, 2], base: [0.5, 0.6, 0.4, 0.7, 0.5], cand: [0.6, 0.6, 0.5, 0.7, 0.9] },
    { weights: [1, 1, 1, 1, 1, 1], base: [50, 61, 47, 58, 66, 52], cand: [51, 61.5, 48, 57, 68, 52.5] },
  ].map((c) => {
    const wmean = (v: number[], leftOut?: number) => {
      let s = 0;
      let n = 0;
      v.forEach((x, i) => i !== leftOut && ((s += x * c.weights[i]!), (n += c.weights[i]!)));
      return s / n;
    };
    return { ...c, out: jackknifeGain(c.weights.length, (k) => wmean(c.cand, k) - wmean(c.base, k)) };
  });

  // VBench's Total / Quality / Semantic: scores of a plausible generator, and one with scores below Min.
  const dimsOf = (values: number[]) => Object.fromEntries(VBENCH_DIMENSIONS.map((d, i) => [d, values[i]!])) as VBenchDimensionScores;
  const vbench = [
    [0.9626, 0.9618, 0.9767, 0.9669, 0.6065, 0.6194, 0.5972, 0.8391, 0.4049, 0.9800, 0.7995, 0.6991, 0.5118, 0.2472, 0.2433, 0.2527],
    [0.1, 0.25, 0.625, 0.5, 0.5, 0.25, 0.75, 0.5, 0.125, 0.875, 0.5, 0.25, 0.875, 0, 0.375, 0.0625],
  ].map((values) => ({ dimensions: dimsOf(values), out: vbenchScores(dimsOf(values)) }));
  // Dimensions left unmeasured (null): each takes its group's mean normalised value, as lib/world's evaluator.
  const vbenchPartial = [
    [0.9, 0.875, 0.96875, 0.9375, null, null, 0.5, null, null, null, null, null, null, null, null, null],
    [0.9, null, 0.96875, null, 0.5, 0.625, null, 0.75, null, 0.5, null, null, 0.25, 0.125, null, 0.25],
  ].map((values) => {
    const r = evaluationOfParts({ values: [values], weights: [values.map((v) => (v === null ? null : 1))] });
    return { dimensions: Object.fromEntries(VBENCH_DIMENSIONS.map((d, i) => [d, values[i]])), out: { total: r.total, quality: r.quality, semantic: r.semantic } };
  });
  const groups = [
    { prompt: 'p0', candidates: [{ id: 'c1', score: 0.5 }, { id: 'c0', score: 0.75 }, { id: 'c2', score: 0.25 }] },
    { prompt: 'p1', candidates: [{ id: 'b', score: 0.5 }, { id: 'a', score: 0.5 }] },
    { prompt: 'p2', candidates: [{ id: 'x', score: 1 }] },
    { prompt: 'p3', candidates: [{ id: 'z', score: 0.625 }, { id: 'y', score: 0.5 }, { id: 'w', score: 0.625 }] },
  ];
  const preferencePairs = [0, 0.2].map((minGap) => ({ groups, minGap, out: buildPreferencePairs(groups, { minGap }) }));
  const ktoSamples = [{ id: 'a', prompt: 'p', score: 0.75 }, { id: 'b', prompt: 'p', score: 0.5 }, { id: 'c', prompt: 'q', score: 0.25 }, { id: 'd', prompt: 'q', score: 0.625 }];
  const ktoSplit = [{ threshold: 0.5, margin: 0 }, { threshold: 0.5, margin: 0.125 }].map((o) => ({ samples: ktoSamples, ...o, out: splitForKto(ktoSamples, o) }));
  const agreement = {
    pairwise: [{ critic: ['A', 'B', 'A', 'tie', 'B'], human: ['A', 'A', 'tie', 'B', 'B'] }, { critic: ['A'], human: ['tie'] }].map((c) => ({ ...c, out: pairwiseAgreement(c.critic as ('A' | 'B' | 'tie')[], c.human as ('A' | 'B' | 'tie')[]) })),
    pointwise: [{ critic: ['good', 'bad', 'normal', 'good'], human: ['good', 'normal', null, 'good'] }].map((c) => ({ ...c, out: pointwiseAgreement(c.critic, c.human) })),
  };

  return {
    note: 'Generated by scripts/golden-losses.ts from lib/core (tfjs CPU, float32). Do not edit; regenerate. Checked by test/unit/core/golden.test.ts and python/tests/test_losses.py.',
    tolerance: 1e-5,
    noisePredictionMse: [{ pred, target, out: arr(noisePredictionMse(tf.tensor3d(pred), tf.tensor3d(target))) }],
    dpo,
    pce,
    srpo,
    diffusionDpo,
    diffusionKto,
    vote,
    jackknife,
    vbench,
    vbenchPartial,
    preferencePairs,
    ktoSplit,
    agreement,
  };
}

/** JSON with each array of numbers or strings on one line. */
export function renderGolden(golden: unknown): string {
  let text = JSON.stringify(golden, null, 1);
  for (let prev = ''; prev !== text; ) [prev, text] = [text, text.replace(/\[\s*([^[\]{}]*?)\s*\]/g, (_, inner: string) => `[${inner.replace(/\s*\n\s*/g, ' ')}]`)];
  return `${text}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = renderGolden(await goldenLosses());
  if (process.argv.includes('--check')) {
    const same = readFileSync(GOLDEN_PATH, 'utf8') === text;
    console.log(same ? `${GOLDEN_PATH} is up to date` : `${GOLDEN_PATH} differs from lib/core: run node --import tsx scripts/golden-losses.ts`);
    process.exit(same ? 0 : 1);
  }
  writeFileSync(GOLDEN_PATH, text);
  console.log(`wrote ${GOLDEN_PATH}`);
}
