// Diffusion-DPO (paper section 3.3, eqs. 6-7) in the form of the public implementations
// (SalesforceAIResearch/DiffusionDPO train.py, diffusers' train_diffusion_dpo_sdxl.py).
import * as tf from '@tensorflow/tfjs';
import { assertBatch, assertFiniteNumbers, assertFiniteScalar, isTensor } from './tensor-checks';

// ||eps - eps_theta(x_t, t)||^2 as the references use it: mean over all non-batch dims, one value per sample
export function noisePredictionMse(pred: tf.Tensor, target: tf.Tensor): tf.Tensor1D {
  const fn = 'noisePredictionMse';
  if (!isTensor(pred) || !isTensor(target)) throw new Error(`${fn}: pred and target must be tf.Tensors`);
  if (pred.rank < 2) throw new Error(`${fn}: pred must be batched (rank >= 2), got shape [${pred.shape.join(', ')}]`);
  if (pred.shape.join() !== target.shape.join()) throw new Error(`${fn}: pred shape [${pred.shape.join(', ')}] != target shape [${target.shape.join(', ')}]`);
  if (pred.shape[0] === 0) throw new Error(`${fn}: empty batch`);
  assertFiniteNumbers(fn, 'pred', pred.dataSync());
  assertFiniteNumbers(fn, 'target', target.dataSync());
  // Per-element means (not eq. 6's sums) keep beta independent of the latent size, as in the references.
  return tf.tidy(() => tf.mean(tf.squaredDifference(pred, target), [...Array(pred.rank).keys()].slice(1)) as tf.Tensor1D);
}

export interface DiffusionDpoLoss {
  /** Scalar, mean over pairs; differentiable. */
  loss: tf.Scalar;
  /** Share of pairs where the model beats the reference margin (strict: ties count 0, as in Salesforce). */
  implicitAccuracy: number;
}

// eq. 6: L = mean softplus((beta/2) * ((m_w - ref_w) - (m_l - ref_l))), m = per-sample noise-prediction MSE, shared t and eps per pair
export function diffusionDpoLoss(modelWin: tf.Tensor1D, modelLose: tf.Tensor1D, refWin: tf.Tensor1D, refLose: tf.Tensor1D, beta = 5000): DiffusionDpoLoss {
  const fn = 'diffusionDpoLoss';
  assertBatch(fn, { modelWin, modelLose, refWin, refLose });
  assertFiniteScalar(fn, 'beta', beta);
  if (beta <= 0) throw new Error(`${fn}: beta must be > 0, got ${beta}`);
  return tf.tidy(() => {
    // Salesforce: inside = -0.5 * beta * (model_diff - ref_diff); loss = -log sigma(inside) = softplus(-inside).
    // The 0.5 with beta = 5000 equals diffusers' SD1.5 script with beta = 2500 and no 0.5.
    const modelDiff = tf.sub(modelWin, modelLose);
    const refDiff = tf.sub(refWin, refLose);
    const inside = tf.mul(-0.5 * beta, tf.sub(modelDiff, refDiff));
    const loss = tf.mean(tf.softplus(tf.neg(inside))) as tf.Scalar;
    const wins = inside.dataSync().filter((v) => v > 0).length;
    return { loss, implicitAccuracy: wins / modelWin.shape[0] };
  });
}

// eqs. 7/10 NLL term: E_D[-log p_theta(y|x)] as the plain diffusion loss, the mean of the per-sample MSEs
export function diffusionNllLoss(perSampleMse: tf.Tensor1D): tf.Scalar {
  assertBatch('diffusionNllLoss', { perSampleMse });
  return tf.mean(perSampleMse) as tf.Scalar;
}

/** Adds lambda * diffusionNllLoss(mse); lambda = 0 skips the term, so `mse` may then be absent. Call inside tf.tidy. */
export function addNllTerm(fn: string, name: string, loss: tf.Scalar, mse: tf.Tensor1D | undefined, lambda: number): tf.Scalar {
  assertFiniteScalar(fn, `lambda for ${name}`, lambda);
  if (lambda < 0) throw new Error(`${fn}: lambda for ${name} must be >= 0, got ${lambda}`);
  if (lambda === 0) return loss;
  if (!mse) throw new Error(`${fn}: ${name} is required when its lambda is ${lambda}`);
  assertBatch(fn, { [name]: mse });
  return tf.add(loss, tf.mul(lambda, tf.mean(mse)));
}

/** Checks a scalar loss argument of the eq. 7/10 totals. */
export function assertScalarLoss(fn: string, name: string, loss: tf.Scalar): void {
  if (!isTensor(loss) || loss.rank !== 0) throw new Error(`${fn}: ${name} must be a tf.Scalar`);
  assertFiniteNumbers(fn, name, loss.dataSync());
}

// eq. 7: L_total^DPO = L_dpo + lambda1 * E_sample[-log p(y_w|x)] + lambda2 * E_real[-log p(y|x)], each NLL a diffusion MSE
export function diffusionDpoTotalLoss(
  lDpo: tf.Scalar,
  preferredMse: tf.Tensor1D | undefined,
  realMse: tf.Tensor1D | undefined,
  lambdas: { lambda1: number; lambda2: number },
): tf.Scalar {
  const fn = 'diffusionDpoTotalLoss';
  assertScalarLoss(fn, 'lDpo', lDpo);
  // The paper gives no lambda values, so there are no defaults: the config must choose them.
  return tf.tidy(() => addNllTerm(fn, 'realMse', addNllTerm(fn, 'preferredMse', lDpo, preferredMse, lambdas.lambda1), realMse, lambdas.lambda2));
}
