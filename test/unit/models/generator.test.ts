// The generator learns: the autoencoder fits, pretraining lowers the diffusion loss and its samples
// score better on the world's evaluator than the untrained model's; Diffusion-DPO and Diffusion-KTO
// steps raise the implicit accuracy on a planted preference (real latents over noise).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initTf } from '../../../lib/models/backend';
import { encodeVideos, fitAutoencoder, latentSize } from '../../../lib/models/autoencoder';
import { alphaBars, ddimSteps, timestepEmbedding } from '../../../lib/models/diffusion';
import { initGenerator, pretrainGenerator, type GeneratorConfig } from '../../../lib/models/generator';
import { alignGenerator } from '../../../lib/models/generator-align';
import { exportGeneratorOnnx, OnnxGenerator, type GeneratorModel } from '../../../lib/models/generator-serving';
import type { ParamSet } from '../../../lib/models/nn/params';
import { Random } from '../../../lib/models/nn/random';
import { TfOps, disposeTensors, readTensor, tensorsOf } from '../../../lib/models/nn/tf-ops';
import { fitVocabulary, tokenize } from '../../../lib/models/text';
import { fromTubelets, toTubelets, tubeletCount, tubeletSize } from '../../../lib/models/video';
import { evaluateVideos, renderVideo, samplePrompts, type Prompt } from '../../../lib/world';
import { TINY_AE } from './fixtures';

// A tiny world: four prompts, eight natural renders of each.
const prompts: Prompt[] = samplePrompts({ count: 40, seed: 'tiny-world' })
  .filter((p) => p.spec.subjects.length === 1)
  .slice(0, 4);
const RENDERS = 8;
const N = tubeletCount(TINY_AE);
const PD = tubeletSize(TINY_AE);
const D = latentSize(TINY_AE);
const videos = prompts.flatMap((p, i) => Array.from({ length: RENDERS }, (_, k) => ({ prompt: p, video: renderVideo(p.spec, { seed: `tiny/${i}/${k}` }) })));
const tubelets = new Float32Array(videos.length * N * PD);
videos.forEach((v, i) => toTubelets(v.video.data, TINY_AE, tubelets, i * N * PD));

const config: GeneratorConfig = {
  autoencoder: TINY_AE,
  text: { vocab: fitVocabulary(prompts.map((p) => p.text)), maxTokens: 48, embed: 4, hidden: 32, out: 32 },
  denoiser: { hidden: 128, blocks: 1, timeEmbed: 32 },
  schedule: { kind: 'scaled-linear', timesteps: 1000, betaStart: 0.00085, betaEnd: 0.012 },
  sampler: { steps: 10, guidance: 1, clipLatent: 4 },
};

let autoencoder: ParamSet;
const aeLosses: number[] = [];
let latents: Float32Array;
let base: GeneratorModel;

before(async () => {
  await initTf(() => {});
  autoencoder = await fitAutoencoder(TINY_AE, tubelets, { steps: 150, batch: 256, learningRate: 3e-3, seed: 'tiny', onStep: (_, loss) => void aeLosses.push(loss) });
  const tensors = tensorsOf(autoencoder);
  latents = readTensor(() => encodeVideos(new TfOps(tensors), tf.tensor(tubelets, [videos.length, N, PD])));
  disposeTensors(tensors);
});

const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Evaluator Total of one sample per (prompt, seed) with the ONNX sampler. */
async function evalTotal(model: GeneratorModel): Promise<number> {
  const gen = await OnnxGenerator.create(model, exportGeneratorOnnx(model), { threads: 1 });
  const requests = prompts.flatMap((p) => [0, 1, 2].map((k) => ({ prompt: p.text, seed: `eval/${p.id}/${k}` })));
  const { videos: samples } = await gen.sample(requests);
  await gen.release();
  return evaluateVideos(samples.map((video, i) => ({ spec: prompts[Math.floor(i / 3)]!.spec, video }))).total;
}

describe('autoencoder and diffusion schedule', () => {
  test('the autoencoder fit lowers the reconstruction loss, and latents are normalised', () => {
    assert.ok(avg(aeLosses.slice(-15)) < 0.6 * avg(aeLosses.slice(0, 15)), `loss ${avg(aeLosses.slice(0, 15))} -> ${avg(aeLosses.slice(-15))}`);
    const mean = latents.reduce((a, b) => a + b, 0) / latents.length;
    const variance = latents.reduce((a, b) => a + (b - mean) ** 2, 0) / latents.length;
    assert.ok(Math.abs(mean) < 0.2 && Math.abs(variance - 1) < 0.3, `latent mean ${mean}, variance ${variance}`);
    // The decoder brings a video back (tubelet layout round trip included).
    const tensors = tensorsOf(autoencoder);
    const back = fromTubelets(tubelets, TINY_AE, 0);
    assert.deepEqual(Array.from(back.data.subarray(0, 30)), Array.from(videos[0]!.video.data.subarray(0, 30)));
    disposeTensors(tensors);
  });

  test('the DDIM trajectory runs down from T-1 and ends on a clean sample', () => {
    const steps = ddimSteps(config.schedule, 10);
    assert.equal(steps[0]!.t, 999);
    assert.equal(steps.length, 10);
    assert.equal(steps[9]!.abarPrev, 1);
    const abar = alphaBars(config.schedule);
    assert.ok(abar[0]! > 0.999 && abar[999]! < 0.01);
    assert.ok(steps.every((s, i) => i === 0 || s.t < steps[i - 1]!.t));
    assert.equal(timestepEmbedding([0, 500], 8).length, 16);
  });
});

describe('generator learns a tiny world', () => {
  test('pretraining lowers the diffusion loss and its samples score better on the evaluator', async () => {
    const init = initGenerator(config, autoencoder, 'tiny');
    const losses: number[] = [];
    const params = await pretrainGenerator(config, init, { latents, tokens: tokenize(videos.map((v) => v.prompt.text), config.text), count: videos.length }, {
      steps: 500,
      batch: 32,
      learningRate: 3e-3,
      seed: 'tiny',
      emaDecay: 0.98,
      onStep: (_, loss) => void losses.push(loss),
    });
    base = { config, params, meta: {} };
    assert.ok(avg(losses.slice(-50)) < 0.75 * avg(losses.slice(0, 50)), `loss ${avg(losses.slice(0, 50))} -> ${avg(losses.slice(-50))}`);
    const before = await evalTotal({ config, params: init, meta: {} });
    const after = await evalTotal(base);
    assert.ok(after > before + 5, `evaluator Total ${before.toFixed(2)} -> ${after.toFixed(2)}`);
  });
});

describe('preference alignment moves the implicit accuracy the right way', () => {
  // Planted preference: for each prompt, a real video's latent is preferred over noise.
  const planted = () => {
    const rng = new Random('planted');
    return videos.slice(0, 16).map((v, i) => ({ prompt: v.prompt.text, chosen: latents.subarray(i * D, (i + 1) * D), rejected: rng.normals(D) }));
  };

  test('Diffusion-DPO: 0 before (policy = reference), well above 1/2 after', async () => {
    const pairs = planted();
    const result = await alignGenerator(base, { pairs }, { method: 'dpo', betaDpo: 5000, betaKto: 1000, lambdaPreferred: 0, lambdaReal: 0, learningRate: 3e-4, steps: 40, batch: 8, seed: 'dpo' });
    assert.equal(result.metrics.implicitAccuracyBefore, 0);
    assert.ok(result.metrics.implicitAccuracy > 0.7, `implicit accuracy ${result.metrics.implicitAccuracy}`);
    assert.equal(result.metrics.nanCount, 0);
    // LoRA (diffusers' Diffusion-DPO trains adapters): the same direction, merged into plain weights.
    const lora = await alignGenerator(base, { pairs }, { method: 'dpo', betaDpo: 5000, betaKto: 1000, lambdaPreferred: 0, lambdaReal: 0, learningRate: 3e-3, steps: 40, batch: 8, seed: 'dpo', lora: { rank: 4 } });
    assert.ok(lora.metrics.implicitAccuracy > 0.6, `LoRA implicit accuracy ${lora.metrics.implicitAccuracy}`);
    assert.deepEqual(Object.keys(lora.params).sort(), Object.keys(base.params).sort());
    assert.equal(result.history.length, 40);
    // The reference is the starting model: its parameters are untouched, only the denoiser moved.
    assert.deepEqual(result.params['gtext.fc1.w']!.data, base.params['gtext.fc1.w']!.data);
    assert.notDeepEqual(result.params['den.in.w']!.data, base.params['den.in.w']!.data);
  });

  test('Diffusion-KTO: desirable real latents, undesirable noise', async () => {
    const points = planted().flatMap((p) => [
      { prompt: p.prompt, latent: p.chosen, desirable: true },
      { prompt: p.prompt, latent: p.rejected, desirable: false },
    ]);
    const real = { latents, tokens: tokenize(videos.map((v) => v.prompt.text), config.text), count: videos.length };
    const result = await alignGenerator(base, { points, real }, { method: 'kto', betaDpo: 5000, betaKto: 1000, lambdaPreferred: 0, lambdaReal: 0.5, learningRate: 1e-4, steps: 60, batch: 8, seed: 'kto' });
    assert.ok(result.metrics.implicitAccuracy > 0.6, `implicit accuracy ${result.metrics.implicitAccuracyBefore} -> ${result.metrics.implicitAccuracy}`);
    assert.ok(result.metrics.implicitAccuracy > result.metrics.implicitAccuracyBefore);
  });

  test('real-data SFT alone (Table 7 ablation): trains on real videos, ignores the preference', async () => {
    const pairs = planted();
    const real = { latents, tokens: tokenize(videos.map((v) => v.prompt.text), config.text), count: videos.length };
    await assert.rejects(alignGenerator(base, { pairs, real }, { method: 'real-sft', betaDpo: 5000, betaKto: 1000, lambdaPreferred: 0, lambdaReal: 0, learningRate: 1e-4, steps: 2, seed: 'sft' }), /real-sft .*needs lambdaReal > 0/);
    const result = await alignGenerator(base, { pairs, real }, { method: 'real-sft', betaDpo: 5000, betaKto: 1000, lambdaPreferred: 0, lambdaReal: 1, learningRate: 3e-4, steps: 40, batch: 8, realBatch: 16, seed: 'sft' });
    assert.equal(result.metrics.nanCount, 0);
    assert.ok(result.history.every((h) => Number.isNaN(h.preference)), 'no preference term');
    assert.notDeepEqual(result.params['den.in.w']!.data, base.params['den.in.w']!.data, 'the denoiser trained');
    assert.ok(Number.isFinite(result.metrics.implicitAccuracy), 'implicit accuracy is still measured on the pairs');
  });
});
