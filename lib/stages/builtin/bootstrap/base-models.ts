// Steps 1-3: the real videos (the paper's D_real), the autoencoder fitted once on them and frozen,
// their latents, and the base generator pretrained on (latent, prompt) pairs. Each phase's result
// sits at a fixed key of the cache folder; training resumes from its last interim save.
import * as tf from '@tensorflow/tfjs';
import type { ArtifactRef } from '../../../artifacts';
import { renderVideo, samplePrompts, type Prompt, type Video } from '../../../world';
import { encodeVideos as encodeLatents, fitAutoencoder, latentSize, type AutoencoderConfig } from '../../../models/autoencoder';
import { decodeCheckpoint, encodeCheckpoint } from '../../../models/checkpoint';
import { promptRecord, putMatrix, putVideos, type RealVideoSet } from '../../../models/datasets';
import { initGenerator, pretrainGenerator } from '../../../models/generator';
import { loadGenerator, saveGenerator, weightsDigest, type GeneratorModel } from '../../../models/generator-serving';
import type { ParamSet } from '../../../models/nn/params';
import { baseGeneratorConfig } from '../../../models/sizes';
import { TfOps, disposeTensors, readTensor, tensorsOf } from '../../../models/nn/tf-ops';
import { tokenize } from '../../../models/text';
import { toTubelets, tubeletCount, tubeletSize } from '../../../models/video';
import { loadInterim, saveInterim } from '../common';
import type { BootstrapRun } from './run';

export interface RealVideos {
  prompts: Prompt[];
  videos: Video[];
  /** Tubelet-major pixels of every video, the autoencoder's input. */
  tubelets: Float32Array;
  aeConfig: AutoencoderConfig;
}

/** 1. Real videos: prompts from the world's sampler, rendered. */
export function renderRealVideos(run: BootstrapRun): Promise<RealVideos> {
  const { seed, sizes } = run;
  const aeConfig: AutoencoderConfig = { frames: 16, size: 32, tubeletFrames: 4, patch: 8, channels: sizes.autoencoderChannels, hidden: sizes.autoencoderHidden };
  const N = tubeletCount(aeConfig);
  const PD = tubeletSize(aeConfig);
  return run.phase('render', async () => {
    const prompts = samplePrompts({ count: sizes.realVideos, seed: `${seed}/real` });
    const videos: Video[] = [];
    const tubelets = new Float32Array(prompts.length * N * PD);
    prompts.forEach((pr, i) => {
      const v = renderVideo(pr.spec, { seed: `${seed}/real/${i}` });
      videos.push(v);
      toTubelets(v.data, aeConfig, tubelets, i * N * PD);
    });
    return { prompts, videos, tubelets, aeConfig };
  });
}

/** 2. The autoencoder, fitted on the real videos' tubelets. */
export function fitFrozenAutoencoder(run: BootstrapRun, real: RealVideos): Promise<ParamSet> {
  const { ctx, store, prefix, seed, sizes } = run;
  return run.phase('autoencoder', async () => {
    const done = await run.at('autoencoder.ckpt');
    if (done) return decodeCheckpoint(await store.get(done), done.uri, { kind: 'autoencoder' }).params;
    const interimKey = `${prefix}interim/autoencoder.ckpt`;
    const resume = await loadInterim(ctx, interimKey);
    const params = await fitAutoencoder(real.aeConfig, real.tubelets, {
      steps: sizes.autoencoderSteps,
      batch: sizes.autoencoderBatch,
      learningRate: 2e-3,
      seed,
      signal: ctx.signal,
      ...(resume ? { resume: { params: resume.params, state: resume.state, step: resume.step } } : {}),
      onStep: async (step, loss, trainer) => {
        if (step % 100 === 0 && step < sizes.autoencoderSteps) {
          const ref = await saveInterim(ctx, interimKey, { step, params: trainer.params(), state: trainer.optimizerState(), extra: { loss } });
          await run.progress(2 + Math.round((18 * step) / sizes.autoencoderSteps), `autoencoder step ${step}/${sizes.autoencoderSteps}, loss ${loss.toFixed(5)}`, ref);
        } else if (step % 20 === 0) await run.progress(2 + Math.round((18 * step) / sizes.autoencoderSteps), `autoencoder step ${step}/${sizes.autoencoderSteps}`);
      },
    });
    await store.put(`${prefix}autoencoder.ckpt`, encodeCheckpoint({ kind: 'autoencoder', config: real.aeConfig, meta: { seed }, params }));
    return params;
  });
}

/** 3a. The real videos' latents and the real-video dataset (generatorTrain's real-data term). */
export async function realVideoSet(run: BootstrapRun, real: RealVideos, aeParams: ParamSet): Promise<{ ref: ArtifactRef; latents: Float32Array }> {
  const { store, prefix, seed } = run;
  const latents = await run.phase('latents', async () => encodeAll(aeParams, real.aeConfig, real.tubelets, real.prompts.length));
  const ref = await run.phase('real-videos', async () => {
    const done = await run.at('real-videos.json');
    if (done) return done;
    const set: RealVideoSet = {
      format: 'dual-ipo/real-videos@1',
      prompts: real.prompts.map(promptRecord),
      renderSeeds: real.prompts.map((_, i) => `${seed}/real/${i}`),
      videos: await putVideos(store, `${prefix}real-videos/videos.dipv`, real.videos, real.prompts.map((pr) => pr.id)),
      latents: await putMatrix(store, `${prefix}real-videos/latents.bin`, latents, real.prompts.length, latentSize(real.aeConfig)),
      autoencoder: weightsDigest(aeParams),
    };
    return store.putJson(`${prefix}real-videos.json`, set, { summary: { videos: real.prompts.length } });
  });
  return { ref, latents };
}

/** 3b. The base generator, pretrained on (latent, prompt) pairs of the real videos. */
export function pretrainBaseGenerator(run: BootstrapRun, real: RealVideos, aeParams: ParamSet, latents: Float32Array, vocab: string[]): Promise<{ generatorRef: ArtifactRef; generator: GeneratorModel; pretrainLoss: number }> {
  const { ctx, store, prefix, seed, sizes } = run;
  const genConfig = baseGeneratorConfig(real.aeConfig, vocab, sizes);
  return run.phase('generator', async () => {
    const done = await run.at('generator.ckpt');
    if (done) return { generatorRef: done, generator: await loadGenerator(store, done), pretrainLoss: Number.NaN };
    const interimKey = `${prefix}interim/generator.ckpt`;
    const resume = await loadInterim(ctx, interimKey);
    const losses: number[] = [];
    const { prompts } = real;
    const params = await pretrainGenerator(genConfig, initGenerator(genConfig, aeParams, seed), { latents, tokens: tokenize(prompts.map((pr) => pr.text), genConfig.text), count: prompts.length }, {
      steps: sizes.pretrainSteps,
      batch: sizes.pretrainBatch,
      learningRate: sizes.pretrainLearningRate,
      seed,
      signal: ctx.signal,
      ...(resume ? { resume: { params: { ...aeParams, ...resume.params }, state: resume.state, step: resume.step } } : {}),
      onStep: async (step, loss, trainer) => {
        losses.push(loss);
        const pct = 25 + Math.round((35 * step) / sizes.pretrainSteps);
        if (step % 300 === 0 && step < sizes.pretrainSteps) {
          const ref = await saveInterim(ctx, interimKey, { step, params: withoutAutoencoder(trainer.params()), state: trainer.optimizerState(), extra: { loss } });
          await run.progress(pct, `base generator step ${step}/${sizes.pretrainSteps}, loss ${loss.toFixed(4)}`, ref);
        } else if (step % 20 === 0) await run.progress(pct, `base generator step ${step}/${sizes.pretrainSteps}`);
      },
    });
    const model: GeneratorModel = { config: genConfig, params, meta: { createdBy: 'bootstrap', seed } };
    const tail = losses.slice(-Math.max(1, Math.floor(losses.length / 10)));
    const pretrainLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
    const ref = await saveGenerator(store, `${prefix}generator.ckpt`, model, { version: 'g0' });
    return { generatorRef: ref, generator: model, pretrainLoss };
  });
}

function withoutAutoencoder(params: ParamSet): ParamSet {
  return Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith('ae.')));
}

/** Normalised latents of every video (tubelet-major data), in batches. */
function encodeAll(aeParams: ParamSet, c: AutoencoderConfig, tubelets: Float32Array, count: number): Float32Array {
  const N = tubeletCount(c);
  const PD = tubeletSize(c);
  const D = latentSize(c);
  const out = new Float32Array(count * D);
  const tensors = tensorsOf(aeParams);
  try {
    const o = new TfOps(tensors);
    for (let i = 0; i < count; i += 128) {
      const n = Math.min(128, count - i);
      out.set(readTensor(() => encodeLatents(o, tf.tensor(tubelets.subarray(i * N * PD, (i + n) * N * PD), [n, N, PD]))), i * D);
    }
  } finally {
    disposeTensors(tensors);
  }
  return out;
}
