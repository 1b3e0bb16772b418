// SRPO (paper section 3.2): implicit reward (eq. 2), the preference certainty estimator PCE (eqs.
// 3/4) and the PCE-weighted DPO loss (eq. 5). The paper gives no closed form for PCE; we read it as
// eq. 1's Bradley-Terry probability against a virtual "average" sample: PCE = sigma(beta (R - Q)).
// Then "PCE > 0.5" is exactly "R(y_w|x) above the dataset mean Q" (docs/algorithms.md, section 2).
import * as tf from '@tensorflow/tfjs';
import { checkDpoArgs, dpoLoss } from './dpo';
import { assertBatch, assertFiniteNumbers, assertFiniteScalar, detach, isTensor } from './tensor-checks';

// eq. 2: R(y|x) = log pi_theta(y|x) - log pi_ref(y|x)
export function implicitReward(policyLogp: tf.Tensor1D, refLogp: tf.Tensor1D): tf.Tensor1D {
  assertBatch('implicitReward', { policyLogp, refLogp });
  return tf.sub<tf.Tensor1D>(policyLogp, refLogp);
}

function plainMean(fn: string, rewards: tf.Tensor1D | readonly number[]): number {
  const values = isTensor(rewards) ? rewards.dataSync() : rewards;
  if (isTensor(rewards) && rewards.rank !== 1) throw new Error(`${fn}: rewards must be a Tensor1D, got shape [${rewards.shape.join(', ')}]`);
  if (values.length === 0) throw new Error(`${fn}: no rewards (Q is the mean over the dataset, which is empty)`);
  assertFiniteNumbers(fn, 'rewards', values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** The plain mean of some rewards, a number (detached). For PCE's Q use averageRewardQ. */
export function meanReward(rewards: tf.Tensor1D | readonly number[]): number {
  return plainMean('meanReward', rewards);
}

// Q of eqs. 3-4, "the average reward across all samples in the current dataset": the dataset is the
// labelled examples (x, y_w), so Q = mean_i R(y_w,i|x_i) over their chosen responses. A plain number
// (detached), computed once per dataset; the one definition for the PCE filter and eq. 5's weight.
// Not over the rejected (flipped) answers: for a binary verdict their rewards mirror the chosen ones,
// Q falls below nearly every chosen reward and "PCE > 0.5" keeps everything (docs/algorithms.md 2).
export function averageRewardQ(chosenRewards: tf.Tensor1D | readonly number[]): number {
  return plainMean('averageRewardQ', chosenRewards);
}

// eqs. 3/4: PCE(y_w|x) = P(R(y_w|x) > Q), read as sigma(beta * (R(y_w|x) - Q))
export function preferenceCertainty(reward: tf.Tensor1D, mean: number, beta: number): tf.Tensor1D {
  assertBatch('preferenceCertainty', { reward });
  assertFiniteScalar('preferenceCertainty', 'mean', mean);
  assertFiniteScalar('preferenceCertainty', 'beta', beta);
  if (beta <= 0) throw new Error(`preferenceCertainty: beta must be > 0, got ${beta}`);
  return tf.tidy(() => tf.sigmoid(tf.mul<tf.Tensor1D>(beta, tf.sub(reward, mean))));
}

// Section 3.2 filter: keep a pseudo-label iff PCE(y_w|x) > 0.5 (strict: at theta = ref every PCE is 0.5 and nothing passes).
export function pceFilter(pce: tf.Tensor1D | readonly number[]): boolean[] {
  const values = isTensor(pce) ? Array.from(pce.dataSync()) : pce;
  assertFiniteNumbers('pceFilter', 'pce', values);
  return values.map((p) => p > 0.5);
}

export interface SrpoLoss {
  /** Scalar: mean_i PCE_i * L_DPO,i; differentiable through L_DPO only. */
  loss: tf.Scalar;
  /** PCE_i * L_DPO,i. */
  perSample: tf.Tensor1D;
  /** The detached weights PCE_i. */
  pce: tf.Tensor1D;
  chosenReward: tf.Tensor1D;
  rejectedReward: tf.Tensor1D;
}

// eq. 5: L_SRPO = E[PCE(y_w|x) * L_DPO], PCE detached and not renormalised (as ScPO's vote-margin weight)
export function srpoLoss(
  policyChosen: tf.Tensor1D,
  policyRejected: tf.Tensor1D,
  refChosen: tf.Tensor1D,
  refRejected: tf.Tensor1D,
  mean: number,
  beta = 0.1,
  labelSmoothing = 0,
): SrpoLoss {
  checkDpoArgs('srpoLoss', { policyChosen, policyRejected, refChosen, refRejected }, beta, labelSmoothing);
  assertFiniteScalar('srpoLoss', 'mean', mean);
  return tf.tidy(() => {
    const dpo = dpoLoss(policyChosen, policyRejected, refChosen, refRejected, beta, labelSmoothing);
    // A weight, not a target: the gradient must not push rewards up just to raise their own weight.
    const pce = detach(preferenceCertainty(tf.sub<tf.Tensor1D>(policyChosen, refChosen), mean, beta));
    const perSample = tf.mul(pce, dpo.perSample) as tf.Tensor1D;
    return { loss: tf.mean(perSample) as tf.Scalar, perSample, pce, chosenReward: dpo.chosenReward, rejectedReward: dpo.rejectedReward };
  });
}
