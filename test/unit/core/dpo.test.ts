// dpoLoss: TRL's "sigmoid" DPO loss with cDPO label smoothing.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { dpoLoss } from '../../../lib/core/dpo';
import { assertClose, checkGrads, useCpu } from './grad-check';

before(useCpu);

const t = (xs: number[]) => tf.tensor1d(xs);
// Hand vector: policyChosen [-1, -2], policyRejected [-3, -1], refs all -2, beta 0.5.
//   chosen log-ratio   = [-1+2, -2+2] = [1, 0];  rejected log-ratio = [-3+2, -1+2] = [-1, 1]
//   h = [1-(-1), 0-1] = [2, -1];  beta*h = [1, -0.5]
//   loss_i = -log sigma(beta h) = softplus(-beta h) = [log(1+e^-1), log(1+e^0.5)] = [0.3132617, 0.9740770]
//   mean = 0.6436693; chosenReward = 0.5*[1, 0] = [0.5, 0]; rejectedReward = 0.5*[-1, 1] = [-0.5, 0.5]
const vec = () => [t([-1, -2]), t([-3, -1]), t([-2, -2]), t([-2, -2])] as const;

describe('dpoLoss', () => {
  test('hand-computed vector', () => {
    const out = dpoLoss(...vec(), 0.5);
    assertClose(out.perSample.dataSync(), [0.3132617, 0.974077], 1e-6);
    assertClose(out.loss.dataSync(), 0.6436693, 1e-6);
    assertClose(out.chosenReward.dataSync(), [0.5, 0], 1e-6);
    assertClose(out.rejectedReward.dataSync(), [-0.5, 0.5], 1e-6);
  });

  test('label smoothing (cDPO): (1-eps)*softplus(-beta h) + eps*softplus(beta h)', () => {
    // eps = 0.1: [0.9*0.3132617 + 0.1*log(1+e^1), 0.9*0.9740770 + 0.1*log(1+e^-0.5)]
    //          = [0.9*0.3132617 + 0.1*1.3132617, 0.9*0.9740770 + 0.1*0.4740770] = [0.4132617, 0.9240770]
    const out = dpoLoss(...vec(), 0.5, 0.1);
    assertClose(out.perSample.dataSync(), [0.4132617, 0.924077], 1e-6);
    assertClose(out.loss.dataSync(), 0.6686693, 1e-6);
  });

  test('default beta is 0.1 (TRL): h = [2, -1] gives softplus([-0.2, 0.1])', () => {
    // log(1+e^-0.2) = 0.5981389, log(1+e^0.1) = 0.7443967
    assertClose(dpoLoss(...vec()).perSample.dataSync(), [0.5981389, 0.7443967], 1e-6);
  });

  test('at policy = reference every loss is log 2', () => {
    assertClose(dpoLoss(t([-5, -7, -9]), t([-4, -6, -8]), t([-5, -7, -9]), t([-4, -6, -8])).loss.dataSync(), Math.LN2, 1e-6);
  });

  test('stable for large logits (softplus, no overflow)', () => {
    const out = dpoLoss(t([0, -1000]), t([-1000, 0]), t([0, 0]), t([0, 0]), 1);
    // h = [0-(-1000), -1000-0] = [1000, -1000]: softplus(-1000) ~ 0, softplus(1000) = 1000
    assertClose(out.perSample.dataSync(), [0, 1000], 1e-6);
  });

  test('finite-difference gradients (also with label smoothing)', () => {
    const inputs = [[-1.3, -2.1, -0.4], [-3.2, -1.1, -0.9], [-2, -1.7, -0.5], [-2.4, -1.9, -1.5]];
    checkGrads((a, b, c, d) => dpoLoss(a, b, c, d, 0.5).loss, inputs);
    checkGrads((a, b, c, d) => dpoLoss(a, b, c, d, 0.5, 0.2).loss, inputs);
  });

  test('trains: tf.variableGrads through the loss, and an SGD step lowers it', () => {
    // Log-probs as a linear "policy" w * x: the usual training shape (variables inside, scalar out).
    const w = tf.variable(tf.scalar(1));
    const f = () => dpoLoss(tf.mul<tf.Tensor1D>(w, t([-1, -2])), tf.mul<tf.Tensor1D>(w, t([-3, -1])), t([-2, -2]), t([-2, -2]), 0.5).loss;
    const before = f().dataSync()[0]!;
    const { grads } = tf.variableGrads(f);
    // d/dw of mean softplus(-0.5 ((-w+2) - (-3w+2)), -0.5 ((-2w+2) - (-w+2))) = mean softplus([-w, 0.5 w])
    //   = mean(-sigma(-w), 0.5 sigma(0.5 w)) at w = 1: (-0.2689414 + 0.3112297)/2 = 0.0211441
    assertClose(grads[w.name]!.dataSync(), 0.0211441, 1e-6);
    w.assign(tf.sub(w, tf.mul(1, grads[w.name]!)));
    assert.ok(f().dataSync()[0]! < before);
    w.dispose();
  });

  test('rewards are detached: no gradient flows through them', () => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(dpoLoss(x as tf.Tensor1D, t([-1, -1]), t([0, 0]), t([0, 0])).chosenReward) as tf.Scalar)(t([1, 2]));
    assert.deepEqual(Array.from(g.dataSync()), [0, 0]);
  });

  test('rejects NaN / Infinity, naming the argument and index', () => {
    assert.throws(() => dpoLoss(t([0, 0, 0, 0]), t([0, 0, 0, NaN]), t([0, 0, 0, 0]), t([0, 0, 0, 0])), /dpoLoss: policyRejected contains NaN at index 3/);
    assert.throws(() => dpoLoss(t([0]), t([0]), t([Infinity]), t([0])), /dpoLoss: refChosen contains Infinity at index 0/);
  });

  test('rejects empty batches, shape mismatches and bad hyper-parameters', () => {
    assert.throws(() => dpoLoss(t([]), t([]), t([]), t([])), /dpoLoss: empty batch/);
    assert.throws(() => dpoLoss(t([0, 0]), t([0]), t([0, 0]), t([0, 0])), /dpoLoss: policyRejected has 1 samples but policyChosen has 2/);
    assert.throws(() => dpoLoss(tf.tensor2d([[0]]) as unknown as tf.Tensor1D, t([0]), t([0]), t([0])), /policyChosen must be a Tensor1D/);
    assert.throws(() => dpoLoss(t([0]), t([0]), t([0]), t([0]), 0), /beta must be > 0/);
    assert.throws(() => dpoLoss(t([0]), t([0]), t([0]), t([0]), NaN), /beta must be a finite number/);
    assert.throws(() => dpoLoss(t([0]), t([0]), t([0]), t([0]), 0.1, 0.5), /labelSmoothing must be in \[0, 0.5\)/);
  });

  test('leaks no tensors beyond its outputs', () => {
    const inputs = vec();
    const before = tf.memory().numTensors;
    const out = dpoLoss(...inputs, 0.5, 0.1);
    assert.equal(tf.memory().numTensors - before, 4);
    tf.dispose([out.loss, out.perSample, out.chosenReward, out.rejectedReward]);
  });
});
