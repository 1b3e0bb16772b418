// DPO (paper section 3.2, eq. 1 and L_DPO) in the form of TRL's DPOTrainer "sigmoid" loss.
import * as tf from '@tensorflow/tfjs';
import { assertBatch, assertFiniteScalar, detach } from './tensor-checks';

export interface DpoLoss {
  /** Scalar, mean over the batch; differentiable. */
  loss: tf.Scalar;
  /** Per-pair loss (Tensor1D); differentiable (SRPO weights it). */
  perSample: tf.Tensor1D;
  /** beta * (log pi_theta(y_w) - log pi_ref(y_w)), detached. */
  chosenReward: tf.Tensor1D;
  /** beta * (log pi_theta(y_l) - log pi_ref(y_l)), detached. */
  rejectedReward: tf.Tensor1D;
}

/** Checks shared with srpoLoss. */
export function checkDpoArgs(fn: string, args: Record<string, tf.Tensor1D>, beta: number, labelSmoothing: number): void {
  assertBatch(fn, args);
  assertFiniteScalar(fn, 'beta', beta);
  if (beta <= 0) throw new Error(`${fn}: beta must be > 0, got ${beta}`);
  assertFiniteScalar(fn, 'labelSmoothing', labelSmoothing);
  // At 0.5 the loss no longer depends on which side won; TRL's robust variant also stops there.
  if (labelSmoothing < 0 || labelSmoothing >= 0.5) throw new Error(`${fn}: labelSmoothing must be in [0, 0.5), got ${labelSmoothing}`);
}

// L_DPO,i = -(1-eps) log sigma(beta*h_i) - eps log sigma(-beta*h_i), h_i = (log pi_w - log ref_w) - (log pi_l - log ref_l)
export function dpoLoss(
  policyChosen: tf.Tensor1D,
  policyRejected: tf.Tensor1D,
  refChosen: tf.Tensor1D,
  refRejected: tf.Tensor1D,
  beta = 0.1,
  labelSmoothing = 0,
): DpoLoss {
  checkDpoArgs('dpoLoss', { policyChosen, policyRejected, refChosen, refRejected }, beta, labelSmoothing);
  return tf.tidy(() => {
    const chosenLogRatio = tf.sub<tf.Tensor1D>(policyChosen, refChosen);
    const rejectedLogRatio = tf.sub<tf.Tensor1D>(policyRejected, refRejected);
    const logits = tf.mul<tf.Tensor1D>(beta, tf.sub(chosenLogRatio, rejectedLogRatio));
    // -log sigma(x) = softplus(-x): stable for large |x|.
    let perSample: tf.Tensor1D = tf.softplus(tf.neg(logits));
    if (labelSmoothing > 0) {
      // cDPO (conservative DPO): the label is flipped with probability eps.
      perSample = tf.add<tf.Tensor1D>(tf.mul(1 - labelSmoothing, perSample), tf.mul(labelSmoothing, tf.softplus(logits)));
    }
    return {
      loss: tf.mean(perSample) as tf.Scalar,
      perSample,
      chosenReward: detach(tf.mul<tf.Tensor1D>(beta, chosenLogRatio)),
      rejectedReward: detach(tf.mul<tf.Tensor1D>(beta, rejectedLogRatio)),
    };
  });
}
