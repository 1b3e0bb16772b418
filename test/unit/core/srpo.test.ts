// SRPO: implicit reward (eq. 2), Q, PCE (eqs. 3/4), the PCE > 0.5 filter and the weighted loss (eq. 5).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { dpoLoss } from '../../../lib/core/dpo';
import { averageRewardQ, implicitReward, meanReward, pceFilter, preferenceCertainty, srpoLoss } from '../../../lib/core/srpo';
import { assertClose, numericGrads, useCpu } from './grad-check';

before(useCpu);

const t = (xs: number[]) => tf.tensor1d(xs);

describe('implicitReward and meanReward (Q)', () => {
  test('R = log pi_theta - log pi_ref; Q = plain mean', () => {
    // R = [-1-(-2), -2-(-2), -3-(-2), -1-(-2)] = [1, 0, -1, 1]; Q = (1+0-1+1)/4 = 0.25
    const R = implicitReward(t([-1, -2, -3, -1]), t([-2, -2, -2, -2]));
    assertClose(R.dataSync(), [1, 0, -1, 1]);
    assert.equal(meanReward(R), 0.25);
    assert.equal(meanReward([1, 0, -1, 1]), 0.25);
  });

  test('Q of nothing, of NaN, or of a matrix is an error', () => {
    assert.throws(() => meanReward([]), /meanReward: no rewards/);
    assert.throws(() => meanReward([1, NaN]), /meanReward: rewards contains NaN at index 1/);
    assert.throws(() => meanReward(tf.tensor2d([[1]]) as unknown as tf.Tensor1D), /must be a Tensor1D/);
    assert.throws(() => implicitReward(t([1, 2]), t([1])), /implicitReward: refLogp has 1 samples but policyLogp has 2/);
  });
});

describe('averageRewardQ (Q of eqs. 3-4) and the PCE filter', () => {
  // A critic answering A / B / tie against a reference that answers uniformly (1/3 each): it gives
  // its chosen answer probability p, so R(y_w|x) = log p + log 3 and the flipped answer gets
  // R(y_l|x) = log((1 - p) / 2) + log 3.
  const chosenReward = (p: number) => Math.log(p) + Math.log(3);
  const flippedReward = (p: number) => Math.log((1 - p) / 2) + Math.log(3);
  const keptShare = (certainty: number[], q: (chosen: number[]) => number) => {
    const R = certainty.map(chosenReward);
    const kept = pceFilter(preferenceCertainty(t(R), q(R), 0.1));
    return kept.filter(Boolean).length / kept.length;
  };
  const critic = (confident: number, of: number) => Array.from({ length: of }, (_, i) => (i < confident ? 0.95 : 0.45));

  test('Q is the mean reward of the chosen responses', () => {
    // (1 + 0 - 1 + 1) / 4 = 0.25
    assert.equal(averageRewardQ([1, 0, -1, 1]), 0.25);
    assert.equal(averageRewardQ(t([1, 0, -1, 1])), 0.25);
    assert.throws(() => averageRewardQ([]), /averageRewardQ: no rewards/);
    assert.throws(() => averageRewardQ([0, Infinity]), /averageRewardQ: rewards contains Infinity at index 1/);
  });

  test("the kept share follows the critic's certainty: the pairs it is surer of than on average pass", () => {
    // 3 of 10 pairs at p = 0.95, 7 at 0.45: Q lies between, the 3 certain pairs pass; and the other way round.
    assert.equal(keptShare(critic(3, 10), averageRewardQ), 0.3);
    assert.equal(keptShare(critic(7, 10), averageRewardQ), 0.7);
    // One pair's certainty rising past the rest of the dataset's makes it pass (and the others fail).
    const others = Array.from({ length: 9 }, () => 0.6);
    for (const [p, kept] of [[0.4, [false, true]], [0.9, [true, false]]] as const) {
      const R = [p, ...others].map(chosenReward);
      const filter = pceFilter(preferenceCertainty(t(R), averageRewardQ(R), 0.1));
      assert.deepEqual([filter[0], filter[1]], kept, `p = ${p}`);
    }
  });

  test('a Q over the chosen and the flipped answers lies below every chosen reward: the filter keeps everything', () => {
    const overAll = (certainty: number[]) => () => meanReward([...certainty.map(chosenReward), ...certainty.map(flippedReward)]);
    for (const c of [critic(3, 10), critic(7, 10), critic(0, 10)]) assert.equal(keptShare(c, overAll(c)), 1);
  });
});

describe('preferenceCertainty (PCE)', () => {
  test('hand vector: sigma(beta (R - Q))', () => {
    // beta 0.5, Q 0.25, R [1, 0, 0.25]: sigma(0.375) = 0.5926666, sigma(-0.125) = 0.4687906, sigma(0) = 0.5
    assertClose(preferenceCertainty(t([1, 0, 0.25]), 0.25, 0.5).dataSync(), [0.5926666, 0.4687906, 0.5], 1e-6);
  });

  test('the filter is strict: PCE > 0.5 iff R > Q, whatever beta', () => {
    for (const beta of [0.01, 0.1, 5]) {
      const pce = preferenceCertainty(t([1, 0, 0.25]), 0.25, beta);
      assert.deepEqual(pceFilter(pce), [true, false, false]);
    }
    assert.deepEqual(pceFilter([0.5, 0.5000001, 0.49, 1]), [false, true, false, true]);
    assert.deepEqual(pceFilter([]), []);
  });

  test('at theta = ref every R is 0, every PCE 0.5, and nothing passes', () => {
    const R = implicitReward(t([-3, -4]), t([-3, -4]));
    const pce = preferenceCertainty(R, meanReward(R), 0.1);
    assertClose(pce.dataSync(), [0.5, 0.5]);
    assert.deepEqual(pceFilter(pce), [false, false]);
  });

  test('rejects NaN reward, mean, beta and pce', () => {
    assert.throws(() => preferenceCertainty(t([0, NaN]), 0, 1), /preferenceCertainty: reward contains NaN at index 1/);
    assert.throws(() => preferenceCertainty(t([0]), NaN, 1), /preferenceCertainty: mean must be a finite number/);
    assert.throws(() => preferenceCertainty(t([0]), 0, -1), /beta must be > 0/);
    assert.throws(() => preferenceCertainty(t([]), 0, 1), /empty batch/);
    assert.throws(() => pceFilter([0.7, NaN]), /pceFilter: pce contains NaN at index 1/);
  });
});

describe('srpoLoss', () => {
  // Same pairs as the dpoLoss hand vector (beta 0.5): L_DPO = [0.3132617, 0.9740770].
  // R(y_w) = [1, 0]; with Q = 0.25: PCE = [sigma(0.375), sigma(-0.125)] = [0.5926666, 0.4687906]
  // L_SRPO,i = PCE_i L_DPO,i = [0.1856597, 0.4566382]; mean = 0.3211489 (no renormalisation by sum PCE)
  const vec = () => [t([-1, -2]), t([-3, -1]), t([-2, -2]), t([-2, -2])] as const;

  test('hand-computed vector', () => {
    const out = srpoLoss(...vec(), 0.25, 0.5);
    assertClose(out.pce.dataSync(), [0.5926666, 0.4687906], 1e-6);
    assertClose(out.perSample.dataSync(), [0.1856597, 0.4566382], 1e-6);
    assertClose(out.loss.dataSync(), 0.3211489, 1e-6);
    assertClose(out.chosenReward.dataSync(), [0.5, 0], 1e-6);
  });

  test('gradient = PCE (held fixed) times the DPO gradient, by finite differences', () => {
    const inputs = [[-1.3, -2.1, -0.4], [-3.2, -1.1, -0.9], [-2, -1.7, -0.5], [-2.4, -1.9, -1.5]];
    const [Q, beta] = [0.1, 0.5];
    // The PCE weights are constants of the loss, so the finite differences must hold them fixed:
    // compute them once, then difference mean(pce * L_DPO) in all four inputs.
    const pce = Array.from(preferenceCertainty(t(inputs[0]!.map((v, i) => v - inputs[2]![i]!)), Q, beta).dataSync());
    const frozen = (a: tf.Tensor1D, b: tf.Tensor1D, c: tf.Tensor1D, d: tf.Tensor1D) => tf.mean(tf.mul(t(pce), dpoLoss(a, b, c, d, beta).perSample)) as tf.Scalar;
    const srpo = (a: tf.Tensor1D, b: tf.Tensor1D, c: tf.Tensor1D, d: tf.Tensor1D) => srpoLoss(a, b, c, d, Q, beta).loss;
    const xs = inputs.map((x) => t(x));
    const analytic = tf.grads(srpo as (...ts: tf.Tensor[]) => tf.Tensor)(xs).map((g) => Array.from(g.dataSync()));
    numericGrads(frozen, inputs, 1e-2).forEach((g, k) => assertClose(analytic[k]!, g, 2e-3, `input ${k}`));
    // And the detach matters: differencing srpo itself (PCE moving with policyChosen) disagrees.
    const moving = numericGrads(srpo, inputs, 1e-2)[0]!;
    assert.ok(moving.some((g, i) => Math.abs(g - analytic[0]![i]!) > 1e-2), 'PCE should not be differentiated');
  });

  test('rejects NaN, empty batches and shape mismatches, naming srpoLoss', () => {
    assert.throws(() => srpoLoss(t([NaN]), t([0]), t([0]), t([0]), 0), /srpoLoss: policyChosen contains NaN at index 0/);
    assert.throws(() => srpoLoss(t([0]), t([0]), t([0]), t([0]), NaN), /srpoLoss: mean must be a finite number/);
    assert.throws(() => srpoLoss(t([]), t([]), t([]), t([]), 0), /srpoLoss: empty batch/);
    assert.throws(() => srpoLoss(t([0]), t([0]), t([0, 1]), t([0]), 0), /srpoLoss: refChosen has 2 samples/);
  });
});
