// Diffusion-DPO (eq. 6 as in Salesforce DiffusionDPO / diffusers) and eq. 7's NLL terms.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { diffusionDpoLoss, diffusionDpoTotalLoss, diffusionNllLoss, noisePredictionMse } from '../../../lib/core/diffusion-dpo';
import { assertClose, checkGrads, useCpu } from './grad-check';

before(useCpu);

const t = (xs: number[]) => tf.tensor1d(xs);

describe('noisePredictionMse', () => {
  test('mean over every non-batch dim, one value per sample (5-D video latents too)', () => {
    // sample 0: diffs [1, 1, 1, 1] -> 4/4 = 1; sample 1: diffs [0, 2, 0, 2] -> (0+4+0+4)/4 = 2
    const pred = tf.tensor([[[1, 1], [1, 1]], [[0, 2], [0, 2]]]);
    assertClose(noisePredictionMse(pred, tf.zeros([2, 2, 2])).dataSync(), [1, 2]);
    // [B, C, F, H, W] = [2, 1, 2, 1, 2]: sample 0 all 3s -> 9; sample 1 zeros -> 0
    const video = tf.concat([tf.fill([1, 1, 2, 1, 2], 3), tf.zeros([1, 1, 2, 1, 2])]);
    assertClose(noisePredictionMse(video, tf.zeros([2, 1, 2, 1, 2])).dataSync(), [9, 0]);
  });

  test('rejects shape mismatch, unbatched input and NaN', () => {
    assert.throws(() => noisePredictionMse(tf.zeros([2, 3]), tf.zeros([2, 4])), /pred shape \[2, 3\] != target shape \[2, 4\]/);
    assert.throws(() => noisePredictionMse(tf.zeros([3]), tf.zeros([3])), /must be batched/);
    assert.throws(() => noisePredictionMse(tf.tensor2d([[0, NaN]]), tf.zeros([1, 2])), /noisePredictionMse: pred contains NaN at index 1/);
    assert.throws(() => noisePredictionMse(tf.zeros([0, 2]), tf.zeros([0, 2])), /empty batch/);
  });
});

describe('diffusionDpoLoss', () => {
  // Hand vector, default beta = 5000: refWin = refLose = [0.1, 0.2, 0.3], modelLose = refLose,
  // modelWin = [0.0996, 0.2, 0.3002]. (mW - rW) - (mL - rL) = [-0.0004, 0, 0.0002]
  // inside = -(5000/2) * that = [1, 0, -0.5]; loss_i = softplus(-inside) = [log(1+e^-1), log 2, log(1+e^0.5)]
  //        = [0.3132617, 0.6931472, 0.9740770]; mean = 0.6601620
  // implicit accuracy = #(inside > 0)/3 = 1/3 (the exact tie counts 0)
  const ref = [0.1, 0.2, 0.3];
  const vec = () => [t([0.0996, 0.2, 0.3002]), t(ref), t(ref), t(ref)] as const;

  test('hand-computed vector with the default beta 5000', () => {
    const out = diffusionDpoLoss(...vec());
    assertClose(out.loss.dataSync(), 0.660162, 1e-4);
    assert.equal(out.implicitAccuracy, 1 / 3);
  });

  test('equals the diffusers SD1.5 form: -log sigma(2500 ((rW - rL) - (mW - mL))), no 1/2', () => {
    // On the hand vector: (rW - rL) - (mW - mL) = [0.0004, 0, -0.0002]; x2500 = [1, 0, -0.5], as above.
    const [mW, mL, rW, rL] = [[0.0996, 0.2, 0.3002], ref, ref, ref];
    const diffusers = mW.map((_, i) => Math.log1p(Math.exp(-2500 * (rW[i]! - rL[i]! - (mW[i]! - mL[i]!))))).reduce((a, b) => a + b) / 3;
    assertClose(diffusionDpoLoss(...vec()).loss.dataSync(), diffusers, 1e-4);
    // A small beta: (0.3 - 0.4) - (0.5 - 0.4) = -0.2; inside = -(2/2)(-0.2) = 0.2; softplus(-0.2) = 0.5981389
    assertClose(diffusionDpoLoss(t([0.3]), t([0.5]), t([0.4]), t([0.4]), 2).loss.dataSync(), 0.5981389, 1e-6);
  });

  test('finite-difference gradients (beta 5000 on MSE-sized inputs, and beta 2)', () => {
    const inputs = [[0.1003, 0.0501, 0.2], [0.1, 0.0502, 0.1996], [0.1001, 0.05, 0.2], [0.0999, 0.05, 0.2001]];
    checkGrads((a, b, c, d) => diffusionDpoLoss(a, b, c, d).loss, inputs, { eps: 2e-5, tol: 2e-2 });
    checkGrads((a, b, c, d) => diffusionDpoLoss(a, b, c, d, 2).loss, [[0.3, 1.1], [0.5, 0.7], [0.4, 0.9], [0.2, 1.2]]);
  });

  test('winning by the reference margin lowers the loss below log 2', () => {
    const better = diffusionDpoLoss(t([0.09]), t([0.11]), t([0.1]), t([0.1])).loss.dataSync()[0]!;
    assert.ok(better < Math.LN2);
  });

  test('rejects NaN, empty batches, mismatched lengths and bad beta', () => {
    assert.throws(() => diffusionDpoLoss(t([0]), t([0]), t([0]), t([NaN])), /diffusionDpoLoss: refLose contains NaN at index 0/);
    assert.throws(() => diffusionDpoLoss(t([]), t([]), t([]), t([])), /diffusionDpoLoss: empty batch/);
    assert.throws(() => diffusionDpoLoss(t([0, 1]), t([0]), t([0]), t([0])), /modelLose has 1 samples but modelWin has 2/);
    assert.throws(() => diffusionDpoLoss(t([0]), t([0]), t([0]), t([0]), -1), /beta must be > 0/);
  });
});

describe('eq. 7 NLL terms', () => {
  test('diffusionNllLoss is the mean per-sample MSE', () => {
    assertClose(diffusionNllLoss(t([0.2, 0.4, 0.9])).dataSync(), 0.5);
    assert.throws(() => diffusionNllLoss(t([])), /empty batch/);
  });

  test('L_total = L_dpo + lambda1 mean(preferred MSE) + lambda2 mean(real MSE)', () => {
    // 0.7 + 0.5 * mean[0.2, 0.4] + 0.25 * mean[1, 3] = 0.7 + 0.15 + 0.5 = 1.35
    const total = diffusionDpoTotalLoss(tf.scalar(0.7), t([0.2, 0.4]), t([1, 3]), { lambda1: 0.5, lambda2: 0.25 });
    assertClose(total.dataSync(), 1.35, 1e-6);
    // lambda = 0 drops a term, whose MSE may then be absent
    assertClose(diffusionDpoTotalLoss(tf.scalar(0.7), undefined, t([1, 3]), { lambda1: 0, lambda2: 1 }).dataSync(), 2.7, 1e-6);
  });

  test('gradient: d/d preferredMse_i = lambda1 / n, checked by finite differences', () => {
    checkGrads((l, p, r) => diffusionDpoTotalLoss(tf.sum(l) as tf.Scalar, p, r, { lambda1: 0.5, lambda2: 2 }), [[0.7], [0.2, 0.4], [1, 3, 2]]);
  });

  test('errors: a missing term with lambda > 0, negative lambda, NaN, empty', () => {
    const l = tf.scalar(0.7);
    assert.throws(() => diffusionDpoTotalLoss(l, undefined, undefined, { lambda1: 0.1, lambda2: 0 }), /preferredMse is required when its lambda is 0.1/);
    assert.throws(() => diffusionDpoTotalLoss(l, t([1]), undefined, { lambda1: -1, lambda2: 0 }), /lambda for preferredMse must be >= 0/);
    assert.throws(() => diffusionDpoTotalLoss(tf.scalar(NaN), t([1]), t([1]), { lambda1: 1, lambda2: 1 }), /diffusionDpoTotalLoss: lDpo contains NaN/);
    assert.throws(() => diffusionDpoTotalLoss(l, t([1]), t([]), { lambda1: 1, lambda2: 1 }), /diffusionDpoTotalLoss: empty batch \(realMse/);
    assert.throws(() => diffusionDpoTotalLoss(l, t([1, NaN]), t([1]), { lambda1: 1, lambda2: 1 }), /preferredMse contains NaN at index 1/);
  });
});
