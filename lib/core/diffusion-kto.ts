// Diffusion-KTO (paper section 3.3, eqs. 8-10) as in the reference code
// (jacklishufan/diffusion-kto train_kto_sd_v1.5.py, defaults: --halo sigmoid, --bce_offset none).
import * as tf from '@tensorflow/tfjs';
import { addNllTerm, assertScalarLoss } from './diffusion-dpo';
import { assertBatch, assertFiniteScalar } from './tensor-checks';

export interface DiffusionKtoLoss {
  /** Scalar, mean of perSample; differentiable. */
  loss: tf.Scalar;
  /** lambda_y * (1 - sigma(s * beta * (g - KL))). */
  perSample: tf.Tensor1D;
  /** The reference point KL = max(0, mean g) (so Q_ref = beta * KL): a detached constant, hence a number. */
  kl: number;
}

// eqs. 8-9: g = ref - model MSE; KL = max(0, mean_batch g) detached; L_i = lambda_y * (1 - sigma(s_i * beta * (g_i - KL))), s = +1 desirable / -1 undesirable
export function diffusionKtoLoss(
  modelLoss: tf.Tensor1D,
  refLoss: tf.Tensor1D,
  desirable: readonly boolean[],
  beta = 1000,
  { desirableWeight = 1, undesirableWeight = 1 }: { desirableWeight?: number; undesirableWeight?: number } = {},
): DiffusionKtoLoss {
  const fn = 'diffusionKtoLoss';
  const n = assertBatch(fn, { modelLoss, refLoss });
  if (desirable.length !== n) throw new Error(`${fn}: desirable has ${desirable.length} labels but modelLoss has ${n} samples`);
  desirable.forEach((d, i) => {
    if (typeof d !== 'boolean') throw new Error(`${fn}: desirable[${i}] must be a boolean, got ${String(d)}`);
  });
  for (const [name, v] of Object.entries({ beta, desirableWeight, undesirableWeight })) {
    assertFiniteScalar(fn, name, v);
    if (v <= 0) throw new Error(`${fn}: ${name} must be > 0, got ${v}`);
  }
  // KL over the whole batch (both classes, matched prompts), clamped at 0 and detached: read back as
  // a number, so no gradient flows through it (the reference's .detach()).
  const [m, r] = [modelLoss.dataSync(), refLoss.dataSync()];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += r[i]! - m[i]!;
  const kl = Math.max(0, sum / n);
  return tf.tidy(() => {
    // g = log-ratio proxy: lower MSE than the reference means higher likelihood under the model.
    const g = tf.sub(refLoss, modelLoss);
    const s = tf.tensor1d(desirable.map((d) => (d ? 1 : -1)));
    const lambda = tf.tensor1d(desirable.map((d) => (d ? desirableWeight : undesirableWeight)));
    // The paper's U is maximised; the code minimises 1 - U with U = sigmoid.
    const perSample = tf.mul(lambda, tf.sub(1, tf.sigmoid(tf.mul(s, tf.mul(beta, tf.sub(g, kl)))))) as tf.Tensor1D;
    return { loss: tf.mean(perSample) as tf.Scalar, perSample, kl };
  });
}

// eq. 10: L_total^KTO = L_kto + lambda * E_real[-log p(y|x)], the NLL as the plain diffusion MSE on real videos
export function diffusionKtoTotalLoss(lKto: tf.Scalar, realMse: tf.Tensor1D | undefined, lambda: number): tf.Scalar {
  const fn = 'diffusionKtoTotalLoss';
  assertScalarLoss(fn, 'lKto', lKto);
  return tf.tidy(() => addNllTerm(fn, 'realMse', lKto, realMse, lambda));
}
