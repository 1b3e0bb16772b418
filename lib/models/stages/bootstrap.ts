// Round 0: the world's datasets and the base models.
//
//   1. real videos: prompts from the world's sampler, rendered (the paper's D_real)
//   2. the autoencoder, fitted once on them and frozen
//   3. their latents; the base generator pretrained on (latent, prompt) pairs
//   4. evaluation prompts (held out, fixed seeds) and the ground truth's evaluator score on them
//   5. the human seed and test sets (the simulated panel, a share on base-generator samples)
//   6. the critic, warm-started on the seed set with its rationales; its agreement on the test set
//
// Steps 5-6 need nothing from 2-3 unless the human sets include base-generator samples
// (generatorShare > 0): then they follow the generator; otherwise they run in a worker thread beside
// the autoencoder and generator training (bootstrap-critic.ts), one branch per core.
//
// Every phase writes its result at a fixed key under a cache folder named by the hash of everything
// that determines it (seed, sizes, code version; the evaluation prompts are cached per count below it): a new attempt after a crash
// skips finished phases and resumes training from the last interim save, and another campaign with
// the same settings reuses the whole bootstrap.
import * as tf from '@tensorflow/tfjs';
import type { StageContext, StageOutput } from '../../../activities/types';
import type { ArtifactRef } from '../../artifacts';
import { sha256Hex, stableStringify } from '../../artifacts/stable-json';
import { evaluateVideos, HUMAN_EVIDENCE, PERCEPTION_VERSION, renderVideo, samplePrompts, type Video } from '../../world';
import { encodeVideos as encodeLatents, fitAutoencoder, latentSize, type AutoencoderConfig } from '../autoencoder';
import { decodeCheckpoint, encodeCheckpoint } from '../checkpoint';
import { criticParamShapes, CRITIC_VISIONS, featureSize, FEATURE_VERSION, type CriticVision } from '../critic';
import { promptRecord, putMatrix, putVideos, type EvalPromptSet, type RealVideoSet } from '../datasets';
import { DEFAULT_SCHEDULE } from '../diffusion';
import { initGenerator, pretrainGenerator, type GeneratorConfig } from '../generator';
import { generatorOnnxBytes, loadGenerator, OnnxGenerator, saveGenerator, weightsDigest, type GeneratorModel } from '../generator-serving';
import type { ParamSet } from '../nn/params';
import { TfOps, disposeTensors, readTensor, tensorsOf } from '../nn/tf-ops';
import { SIZE_FIELDS, SIZE_PRESETS, type Sizes } from '../sizes';
import { fitVocabulary, tokenize } from '../text';
import { toTubelets, tubeletCount, tubeletSize } from '../video';
import { criticBranch, criticBranchInWorker, type CriticBranchArgs, type CriticBranchResult } from './bootstrap-critic';
import { ConfigError, finiteMetrics, loadInterim, paramsOf, prepare, runtimeOptions, saveInterim, throwIfCancelled, type Params } from './common';

/** Bumped when a change to the models makes cached bootstraps invalid. */
export const MODELS_VERSION = 1;

export const BOOTSTRAP_OUTPUTS = ['generator', 'critic', 'humanSeed', 'humanTest', 'realVideos', 'evalPrompts'] as const;

/** The preset named by param `size` (default quickstart), with any field overridden by a param of that name. */
export function resolveSizes(p: Params, raw: Record<string, unknown>): Sizes {
  const preset = p.oneOf('size', Object.keys(SIZE_PRESETS) as (keyof typeof SIZE_PRESETS)[], 'quickstart');
  const sizes: Sizes = { ...SIZE_PRESETS[preset] };
  for (const key of SIZE_FIELDS) {
    if (raw[key] === undefined) continue;
    const integer = !['pretrainLearningRate', 'guidance', 'generatorShare', 'criticLearningRate'].includes(key);
    (sizes as unknown as Record<string, number>)[key] = integer ? p.int(key, undefined, key === 'humanSeedPairs' || key === 'humanTestVideos' ? 2 : 1) : p.number(key, undefined, { min: 0 });
  }
  // The critic's frozen tower (docs/critic.md): pixel statistics alone, or with a detector's readings.
  const vision = p.oneOf('criticVision', Object.keys(CRITIC_VISIONS) as CriticVision[], 'statistics');
  const featureVersion = CRITIC_VISIONS[vision];
  if (featureVersion !== sizes.critic.featureVersion) sizes.critic = { ...sizes.critic, featureVersion, features: featureSize(featureVersion) };
  // How the panel of the human sets scores what it sees (lib/world assessment.ts); absent keeps old cache keys.
  if (p.oneOf('humanEvidence', HUMAN_EVIDENCE, 'clipped') === 'graded') sizes.humanEvidence = 'graded';
  if (sizes.humanTestVideos % 2) throw new ConfigError(`bootstrap: param "humanTestVideos" must be even (pairs of videos), got ${sizes.humanTestVideos}`);
  return sizes;
}

/**
 * The bootstrap cache's folder name: everything the cached models depend on, including the shapes of
 * the critic's parameters and its tower (another engineer's architecture change must not reuse old
 * files), and the version of the world's perception (the human sets' labels depend on it). Default
 * settings keep their id unless one of those versions changes, or every user's cache is silently
 * rebuilt (tested).
 */
export function bootstrapCacheId(seed: string, sizes: Sizes): string {
  return sha256Hex(stableStringify({ version: MODELS_VERSION, perception: PERCEPTION_VERSION, seed, sizes, critic: criticParamShapes({ ...sizes.critic, text: { ...sizes.critic.text, vocab: ['<pad>', '<unk>'] } }), features: FEATURE_VERSION })).slice(0, 20);
}

const evalSeeds = (seed: string, promptId: string, k: number) => `${seed}/eval/${promptId}/${k}`;

export async function bootstrapStage(ctx: StageContext): Promise<StageOutput> {
  await prepare(ctx);
  const p = paramsOf(ctx);
  const sizes = resolveSizes(p, ctx.request.params);
  const seed = p.seed();
  const evalCount = p.int('evalPrompts', 64, 1);
  const runtime = runtimeOptions(p);
  const store = ctx.store;
  const started = performance.now();
  const timings: Record<string, number> = {};
  const phase = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    throwIfCancelled(ctx);
    const t = performance.now();
    const out = await f();
    timings[`seconds_${name}`] = (performance.now() - t) / 1000;
    ctx.log(`bootstrap: ${name} done`, { seconds: timings[`seconds_${name}`] });
    return out;
  };

  // The evaluation prompts are not in the id: changing their number must not retrain the models.
  const cacheId = bootstrapCacheId(seed, sizes);
  const prefix = `cache/bootstrap/${cacheId}/`;
  const finishedKey = `${prefix}outputs.json`;
  // 4 (any time). The evaluation prompts and the ground truth's score on them, cached per count.
  const evaluationSet = async (): Promise<{ ref: ArtifactRef; metrics: Record<string, number> }> => {
    const key = `${prefix}eval-${evalCount}/`;
    const done = await store.head(`${key}ground-truth.json`);
    const setRef = await store.head(`${key}eval-prompts.json`);
    if (done && setRef) return { ref: setRef, metrics: await store.getJson<Record<string, number>>(done) };
    const evalPrompts = samplePrompts({ count: evalCount, seed: `${seed}/eval` });
    const evalSet: EvalPromptSet = { format: 'dual-ipo/eval-prompts@1', prompts: evalPrompts.map(promptRecord), samplesPerPrompt: sizes.evalSamplesPerPrompt, seed: `${seed}/eval` };
    const ref = await store.putJson(`${key}eval-prompts.json`, evalSet, { summary: { prompts: evalCount } });
    const groundTruth = await phase('ground-truth-eval', async () =>
      evaluateVideos(evalPrompts.flatMap((pr) => Array.from({ length: sizes.evalSamplesPerPrompt }, (_, k) => ({ spec: pr.spec, video: renderVideo(pr.spec, { seed: evalSeeds(seed, pr.id, k) }) })))),
    );
    const metrics = finiteMetrics({ groundTruthTotal: groundTruth.total, groundTruthQuality: groundTruth.quality, groundTruthSemantic: groundTruth.semantic });
    await store.putJson(`${key}ground-truth.json`, metrics);
    return { ref, metrics };
  };
  const finished = await store.head(finishedKey);
  if (finished) {
    const cached = await store.getJson<{ outputs: Record<string, ArtifactRef>; metrics: Record<string, number> }>(finished);
    const verified = await Promise.all(Object.values(cached.outputs).map(async (ref) => (await store.head(store.keyOf(ref.uri)))?.sha256 === ref.sha256));
    if (verified.every(Boolean)) {
      ctx.log('bootstrap: reusing a finished bootstrap with the same settings', { cache: prefix });
      const evaluation = await evaluationSet();
      return { outputs: { ...cached.outputs, evalPrompts: evaluation.ref }, metrics: { ...cached.metrics, ...evaluation.metrics, reusedCache: 1 } };
    }
  }
  const at = async (name: string) => store.head(`${prefix}${name}`);
  let criticStatus = '';
  const progress = (done: number, message: string, interim?: ArtifactRef) => ctx.progress(done, 100, { cache: prefix, ...(interim ? { interim } : {}) }, criticStatus ? `${message}; ${criticStatus}` : message);
  const reportCritic = (fraction: number, message: string) => {
    criticStatus = message;
    if (fraction === 1) ctx.log(`bootstrap: ${message}`);
  };

  // 1. Real videos.
  const aeConfig: AutoencoderConfig = { frames: 16, size: 32, tubeletFrames: 4, patch: 8, channels: sizes.autoencoderChannels, hidden: sizes.autoencoderHidden };
  const N = tubeletCount(aeConfig);
  const PD = tubeletSize(aeConfig);
  const D = latentSize(aeConfig);
  const { prompts, videos, tubelets } = await phase('render', async () => {
    const prompts = samplePrompts({ count: sizes.realVideos, seed: `${seed}/real` });
    const videos: Video[] = [];
    const tubelets = new Float32Array(prompts.length * N * PD);
    prompts.forEach((pr, i) => {
      const v = renderVideo(pr.spec, { seed: `${seed}/real/${i}` });
      videos.push(v);
      toTubelets(v.data, aeConfig, tubelets, i * N * PD);
    });
    return { prompts, videos, tubelets };
  });
  await progress(2, `rendered ${prompts.length} real videos`);
  const vocab = fitVocabulary(prompts.map((pr) => pr.text));
  const branchArgs: CriticBranchArgs = { prefix, seed, sizes, vocab, paths: p.int('paths', 8, 1), runtime };
  // The critic branch in parallel when it does not need the generator; its outcome is awaited at the end.
  const parallelCritic: Promise<{ result?: CriticBranchResult; error?: Error }> | undefined =
    sizes.generatorShare === 0 && !p.has('sequential')
      ? criticBranchInWorker(ctx.request.store, branchArgs, reportCritic, ctx.signal).then(
          (result) => ({ result }),
          (error: Error) => ({ error }),
        )
      : undefined;

  // 2. The autoencoder.
  const aeParams = await phase('autoencoder', async () => {
    const done = await at('autoencoder.ckpt');
    if (done) return decodeCheckpoint(await store.get(done), done.uri, { kind: 'autoencoder' }).params;
    const interimKey = `${prefix}interim/autoencoder.ckpt`;
    const resume = await loadInterim(ctx, interimKey);
    const params = await fitAutoencoder(aeConfig, tubelets, {
      steps: sizes.autoencoderSteps,
      batch: sizes.autoencoderBatch,
      learningRate: 2e-3,
      seed,
      signal: ctx.signal,
      ...(resume ? { resume: { params: resume.params, state: resume.state, step: resume.step } } : {}),
      onStep: async (step, loss, trainer) => {
        if (step % 100 === 0 && step < sizes.autoencoderSteps) {
          const ref = await saveInterim(ctx, interimKey, { step, params: trainer.params(), state: trainer.optimizerState(), extra: { loss } });
          await progress(2 + Math.round((18 * step) / sizes.autoencoderSteps), `autoencoder step ${step}/${sizes.autoencoderSteps}, loss ${loss.toFixed(5)}`, ref);
        } else if (step % 20 === 0) await progress(2 + Math.round((18 * step) / sizes.autoencoderSteps), `autoencoder step ${step}/${sizes.autoencoderSteps}`);
      },
    });
    await store.put(`${prefix}autoencoder.ckpt`, encodeCheckpoint({ kind: 'autoencoder', config: aeConfig, meta: { seed }, params }));
    return params;
  });

  // 3. Latents, the real-video dataset, and the base generator.
  const genConfig: GeneratorConfig = {
    autoencoder: aeConfig,
    text: { vocab, maxTokens: sizes.maxTokens, embed: sizes.textEmbed, hidden: sizes.textHidden, out: sizes.textOut },
    denoiser: { hidden: sizes.denoiserHidden, blocks: sizes.denoiserBlocks, timeEmbed: 128 },
    schedule: DEFAULT_SCHEDULE,
    sampler: { steps: sizes.samplerSteps, guidance: sizes.guidance, clipLatent: 4 },
  };
  const latents = await phase('latents', async () => encodeAll(aeParams, aeConfig, tubelets, prompts.length));
  const realVideos = await phase('real-videos', async () => {
    const done = await at('real-videos.json');
    if (done) return done;
    const set: RealVideoSet = {
      format: 'dual-ipo/real-videos@1',
      prompts: prompts.map(promptRecord),
      renderSeeds: prompts.map((_, i) => `${seed}/real/${i}`),
      videos: await putVideos(store, `${prefix}real-videos/videos.dipv`, videos, prompts.map((pr) => pr.id)),
      latents: await putMatrix(store, `${prefix}real-videos/latents.bin`, latents, prompts.length, D),
      autoencoder: weightsDigest(aeParams),
    };
    return store.putJson(`${prefix}real-videos.json`, set, { summary: { videos: prompts.length } });
  });
  await progress(25, 'real-video dataset written');

  const { generatorRef, generator, pretrainLoss } = await phase('generator', async () => {
    const done = await at('generator.ckpt');
    if (done) return { generatorRef: done, generator: await loadGenerator(store, done), pretrainLoss: Number.NaN };
    const interimKey = `${prefix}interim/generator.ckpt`;
    const resume = await loadInterim(ctx, interimKey);
    const losses: number[] = [];
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
          await progress(pct, `base generator step ${step}/${sizes.pretrainSteps}, loss ${loss.toFixed(4)}`, ref);
        } else if (step % 20 === 0) await progress(pct, `base generator step ${step}/${sizes.pretrainSteps}`);
      },
    });
    const model: GeneratorModel = { config: genConfig, params, meta: { createdBy: 'bootstrap', seed } };
    const tail = losses.slice(-Math.max(1, Math.floor(losses.length / 10)));
    const pretrainLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
    const ref = await saveGenerator(store, `${prefix}generator.ckpt`, model, { version: 'g0' });
    return { generatorRef: ref, generator: model, pretrainLoss };
  });
  await progress(60, 'base generator ready');

  // 4. The evaluation prompts and their ground truth, while the worker may still be busy.
  const evaluation = await evaluationSet();

  // 5-6. Human sets and the critic: from the worker, or now (in-process, with generator samples when asked).
  let critic: CriticBranchResult | undefined;
  let criticInWorker = 0;
  if (parallelCritic) {
    const outcome = await phase('critic-branch-wait', () => parallelCritic);
    if (outcome.error) {
      if (ctx.signal.aborted) throw outcome.error;
      // Finished phases are cached, so redoing the branch here only redoes what the worker did not finish.
      ctx.log('bootstrap: the critic worker failed; running the critic branch in-process', { error: outcome.error.message });
    }
    critic = outcome.result;
    if (critic) criticInWorker = 1;
  }
  if (!critic) {
    const onnxGenerator = sizes.generatorShare > 0 ? await OnnxGenerator.create(generator, await generatorOnnxBytes(store, generatorRef, generator), runtime) : undefined;
    try {
      critic = await phase('critic-branch', () => criticBranch(store, branchArgs, (f, m) => progress(62 + Math.round(36 * f), m), { generator: onnxGenerator, signal: ctx.signal }));
    } finally {
      await onnxGenerator?.release();
    }
  }

  const outputs: Record<string, ArtifactRef> = {
    generator: generatorRef,
    critic: critic.critic,
    humanSeed: critic.humanSeed,
    humanTest: critic.humanTest,
    realVideos,
  };
  const modelMetrics = {
    realVideos: prompts.length,
    pretrainLossFinal: pretrainLoss,
    ...critic.metrics,
    criticInWorker,
    ...timings,
    seconds: (performance.now() - started) / 1000,
  };
  // The models' record leaves out the evaluation set: a reuse adds the set of its own count.
  const { 'seconds_ground-truth-eval': _evalSeconds, ...modelTimings } = modelMetrics as Record<string, number>;
  await store.putJson(finishedKey, { outputs, metrics: finiteMetrics(modelTimings) });
  await progress(100, 'bootstrap finished');
  return { outputs: { ...outputs, evalPrompts: evaluation.ref }, metrics: finiteMetrics({ ...modelMetrics, ...evaluation.metrics }) };
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
