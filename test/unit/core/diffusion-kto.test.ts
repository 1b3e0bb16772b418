// Diffusion-KTO (eqs. 8-9 as in jacklishufan/diffusion-kto) and eq. 10's real-data term.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { diffusionKtoLoss, diffusionKtoTotalLoss } from '../../../lib/core/diffusion-kto';
import { assertClose, checkGrads, useCpu } from './grad-check';

before(useCpu);

const t = (xs: number[]) => tf.tensor1d(xs);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The reference formula in float64 with KL held at a given constant, for finite differences. */
function ktoReference(model: number[], ref: number[], desirable: boolean[], beta: number, kl: number, wD = 1, wU = 1): number {
  const per = model.map((m, i) => (desirable[i] ? wD : wU) * (1 - sigmoid((desirable[i] ? 1 : -1) * beta * (ref[i]! - m - kl))));
  return per.reduce((a, b) => a + b, 0) / per.length;
}

describe('diffusionKtoLoss', () => {
  // Hand vector: refLoss = 0.3 everywhere, modelLoss = [0.15, 0.25, 0.3, 0.1]
  //   g = ref - model = [0.15, 0.05, 0, 0.2]; KL = max(0, mean g) = max(0, 0.4/4) = 0.1
  //   beta 20: beta (g - KL) = 20 * [0.05, -0.05, -0.1, 0.1] = [1, -1, -2, 2]
  //   desirable [T, T, F, F] -> s = [1, 1, -1, -1] -> z = [1, -1, 2, -2]
  //   weights lambda_D = 1, lambda_U = 2 -> loss_i = [1 - sigma(1), 1 - sigma(-1), 2(1 - sigma(2)), 2(1 - sigma(-2))]
  //        = [0.2689414, 0.7310586, 0.2384058, 1.7615942]; mean = (1 + 2)/4 = 0.75 (1 - sigma(x) + 1 - sigma(-x) = 1)
  const model = [0.15, 0.25, 0.3, 0.1];
  const ref = [0.3, 0.3, 0.3, 0.3];
  const desirable = [true, true, false, false];

  test('hand-computed vector', () => {
    const out = diffusionKtoLoss(t(model), t(ref), desirable, 20, { desirableWeight: 1, undesirableWeight: 2 });
    assertClose(out.kl, 0.1, 1e-6);
    assertClose(out.perSample.dataSync(), [0.2689414, 0.7310586, 0.2384058, 1.7615942], 1e-5);
    assertClose(out.loss.dataSync(), 0.75, 1e-5);
  });

  test('KL is clamped at 0 when the model is worse than the reference on average', () => {
    // g = 0.2 - [0.1, 0.3, 0.2, 0.4] = [0.1, -0.1, 0, -0.2]; mean -0.05 -> KL 0
    // default beta 1000: z = s * 1000 * g = [100, -100, -0, 200]: loss = [~0, ~1, 0.5, ~0]; mean 0.375
    const out = diffusionKtoLoss(t([0.1, 0.3, 0.2, 0.4]), t([0.2, 0.2, 0.2, 0.2]), desirable);
    assert.equal(out.kl, 0);
    assertClose(out.perSample.dataSync(), [0, 1, 0.5, 0], 1e-6);
    assertClose(out.loss.dataSync(), 0.375, 1e-6);
  });

  test('gradient with KL held fixed, by finite differences of the float64 reference', () => {
    const [m, r, beta] = [[0.12, 0.31, 0.22, 0.05], [0.2, 0.25, 0.3, 0.15], 10];
    const out = diffusionKtoLoss(t(m), t(r), desirable, beta, { undesirableWeight: 1.5 });
    // KL = max(0, mean([0.08, -0.06, 0.08, 0.1])) = 0.05
    assertClose(out.kl, 0.05, 1e-6);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => diffusionKtoLoss(a as tf.Tensor1D, b as tf.Tensor1D, desirable, beta, { undesirableWeight: 1.5 }).loss)([t(m), t(r)]);
    const eps = 1e-6;
    [m, r].forEach((x, k) =>
      x.forEach((_, j) => {
        const at = (d: number) => {
          const y = [m.slice(), r.slice()];
          y[k]![j]! += d;
          return ktoReference(y[0]!, y[1]!, desirable, beta, 0.05, 1, 1.5);
        };
        assertClose(g[k]!.dataSync()[j]!, (at(eps) - at(-eps)) / (2 * eps), 2e-4, `input ${k}[${j}]`);
      }),
    );
  });

  test('gradient where KL is clamped (then constant), by finite differences of the tf loss', () => {
    checkGrads((a, b) => diffusionKtoLoss(a, b, [true, false, true], 5).loss, [[0.3, 0.1, 0.4], [0.25, 0.2, 0.3]], { eps: 1e-3 });
  });

  test('rejects NaN, empty batches, label/sample count mismatch and bad weights', () => {
    assert.throws(() => diffusionKtoLoss(t([0, NaN]), t([0, 0]), [true, false]), /diffusionKtoLoss: modelLoss contains NaN at index 1/);
    assert.throws(() => diffusionKtoLoss(t([]), t([]), []), /diffusionKtoLoss: empty batch/);
    assert.throws(() => diffusionKtoLoss(t([0, 0]), t([0, 0]), [true]), /desirable has 1 labels but modelLoss has 2 samples/);
    assert.throws(() => diffusionKtoLoss(t([0]), t([0]), [1 as unknown as boolean]), /desirable\[0\] must be a boolean/);
    assert.throws(() => diffusionKtoLoss(t([0]), t([0]), [true], 1000, { undesirableWeight: 0 }), /undesirableWeight must be > 0/);
  });

  test('all desirable or all undesirable batches are fine', () => {
    // g = [0.1, 0.1] -> KL 0.1 -> z = 0 -> loss 0.5 each
    assertClose(diffusionKtoLoss(t([0.1, 0.1]), t([0.2, 0.2]), [true, true]).loss.dataSync(), 0.5, 1e-5);
    assertClose(diffusionKtoLoss(t([0.1, 0.1]), t([0.2, 0.2]), [false, false]).loss.dataSync(), 0.5, 1e-5);
  });
});

describe('diffusionKtoTotalLoss (eq. 10)', () => {
  test('L_kto + lambda mean(real MSE); lambda 0 drops it', () => {
    // 0.4 + 0.1 * mean[2, 4] = 0.7
    assertClose(diffusionKtoTotalLoss(tf.scalar(0.4), t([2, 4]), 0.1).dataSync(), 0.7, 1e-6);
    assertClose(diffusionKtoTotalLoss(tf.scalar(0.4), undefined, 0).dataSync(), 0.4, 1e-6);
    checkGrads((l, r) => diffusionKtoTotalLoss(tf.sum(l) as tf.Scalar, r, 0.3), [[0.4], [2, 4, 1]]);
  });

  test('errors', () => {
    assert.throws(() => diffusionKtoTotalLoss(tf.scalar(0.4), undefined, 0.1), /diffusionKtoTotalLoss: realMse is required/);
    assert.throws(() => diffusionKtoTotalLoss(tf.scalar(Infinity), t([1]), 0.1), /lKto contains Infinity/);
    assert.throws(() => diffusionKtoTotalLoss(t([1]) as unknown as tf.Scalar, t([1]), 0.1), /lKto must be a tf.Scalar/);
    assert.throws(() => diffusionKtoTotalLoss(tf.scalar(1), t([1]), NaN), /lambda for realMse must be a finite number/);
  });
});
